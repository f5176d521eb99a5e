"""The data layer: raw sheets as written → validated, tidy tables.

- :mod:`~kpianalysis.data.notation`: Japanese administrative notation → numbers, units, years
- :mod:`~kpianalysis.data.rawio`: raw CSV bytes (UTF-8, BOM, CP932) → cells kept as written
- :mod:`~kpianalysis.data.schema`: every raw and tidy table's columns, readers and dtypes
- :mod:`~kpianalysis.data.levels`: targets and actuals written as increments → levels
- :mod:`~kpianalysis.data.dataset`: located validation, provenance, tidy tables, ``as_of``

Imports nothing above it (only :mod:`kpianalysis.errors` and :mod:`kpianalysis.fileio`).
"""

__all__: list[str] = []
