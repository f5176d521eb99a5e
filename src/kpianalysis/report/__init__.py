"""The report layer: what a reader sees, built from analysis results.

- :mod:`~kpianalysis.report.present`: escaped HTML builders and bilingual labels
- :mod:`~kpianalysis.report.figures`: seaborn figures with a Japanese font
- :mod:`~kpianalysis.report.views`: report sections the notebooks display
- :mod:`~kpianalysis.report.headline`: the one-line headline of a report, for the index
- :mod:`~kpianalysis.report.render`: executed notebook → self-contained HTML (code hidden)
- :mod:`~kpianalysis.report.index`: ``reports/index.html`` from run records

Imports the analysis and data layers and the shared base; never the build layer.
"""
