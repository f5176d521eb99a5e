"""The report layer: what a reader sees, built from analysis results.

- :mod:`~kpianalysis.report.present`: escaped HTML builders, labels in the report's language
- :mod:`~kpianalysis.report.figures`: seaborn figures with a Japanese font
- :mod:`~kpianalysis.report.loading`: the notebooks' data edge (read, validate, cut at the year)
- :mod:`~kpianalysis.report.labels`: era labels, rates, units and yen in each language
- :mod:`~kpianalysis.report.embed`: figures embedded as PNG data URIs
- :mod:`~kpianalysis.report.sections`: sections every programme report shares (title, summary box)
- :mod:`~kpianalysis.report.attainment_views`: sections of the attainment report
- :mod:`~kpianalysis.report.trends_views`: sections of the trends report
- :mod:`~kpianalysis.report.likelihood`: a probability in the words a committee reads
- :mod:`~kpianalysis.report.panel_views`: sections of the cross-programme panel report
- :mod:`~kpianalysis.report.registry`: the reports: titles, data tables, sections
- :mod:`~kpianalysis.report.headline`: the one-line headline of a report, for the index
- :mod:`~kpianalysis.report.sanitize`: notebook HTML outputs cleaned by an allow-list
- :mod:`~kpianalysis.report.render`: executed notebook → self-contained HTML (code hidden)
- :mod:`~kpianalysis.report.index`: ``reports/index.html`` from run records

Imports the analysis and data layers and the shared base; never the build layer.
"""

__all__: list[str] = []
