"""The analysis layer: pure functions of an already-cut :class:`~kpianalysis.data.dataset.Dataset`.

- :mod:`~kpianalysis.analysis.measures`: achieved, achievement and progress rates, with reasons
- :mod:`~kpianalysis.analysis.ratings`: panel verdicts, effect rating, rank tables
- :mod:`~kpianalysis.analysis.progress`: multi-year assessment (ESCAP, Open SDG, Destatis)
- :mod:`~kpianalysis.analysis.tables`: the per-year attainment table and programme summary
- :mod:`~kpianalysis.analysis.panel`: the cross-programme panel of a year (its programmes, shares,
  distributions, grant categories)
- :mod:`~kpianalysis.analysis.trends`: statsmodels trend fits with honest uncertainty
- :mod:`~kpianalysis.analysis.shrinkage`: empirical-Bayes variance moderation (limma)
- :mod:`~kpianalysis.analysis.projection`: trend tables and predictions per KPI
- :mod:`~kpianalysis.analysis.reference_prior`: the versioned trend priors (estimate, read)
- :mod:`~kpianalysis.analysis.results`: the per-year result tables written to ``data/processed``

Imports the data layer and the shared base only.
"""

__all__: list[str] = []
