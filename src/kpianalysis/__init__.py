"""kpianalysis: reproducible analysis of municipal regional-revitalisation KPIs.

Layers, each importing only those before it (``tests/test_layers.py``):

- the shared base: :mod:`~kpianalysis.errors` (located errors), :mod:`~kpianalysis.fileio`
  (atomic writes, digests), :mod:`~kpianalysis.paths` (default locations, the project root),
  :mod:`~kpianalysis.reasons` (the one vocabulary of "why a value is missing"),
  :mod:`~kpianalysis.words` (English counts: "1 programme", "2 programmes");
- :mod:`~kpianalysis.data`: raw sheets as written → validated, tidy tables;
- :mod:`~kpianalysis.analysis`: pure functions of the tidy tables (attainment, progress, trends,
  the cross-programme panel);
- :mod:`~kpianalysis.report`: what a reader sees (escaped HTML sections, figures, the index);
- :mod:`~kpianalysis.build`: notebooks × fiscal years → executed, archived reports;
- :mod:`~kpianalysis.cli` (run as ``kpianalysis`` or :mod:`~kpianalysis.__main__`): validate,
  process, list, build, index.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
