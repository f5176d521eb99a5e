"""The build layer: notebooks × fiscal years → executed, rendered, archived reports.

- :mod:`~kpianalysis.build.parameters`: notebook parameters and their validation
- :mod:`~kpianalysis.build.processed`: ``data/processed`` and its inputs stamp
- :mod:`~kpianalysis.build.plan`: run specs and run keys (no kernel starts)
- :mod:`~kpianalysis.build.record`: what a run record says about its environment
- :mod:`~kpianalysis.build.execute`: one run: kernel, papermill, HTML rendering, into staging
- :mod:`~kpianalysis.build.archive`: atomic commits, records, the build lock, staging cleanup
- :mod:`~kpianalysis.build.commit`: staged run → archive (or ``failed/``), and the index
- :mod:`~kpianalysis.build.pipeline`: :func:`~kpianalysis.build.pipeline.build`, the above in order

The top layer: may import every other layer.
"""

__all__: list[str] = []
