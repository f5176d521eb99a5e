"""The notebooks' data edge: read and validate the raw data, cut it at the report's year.

Every report notebook starts here; the analysis functions then take the cut dataset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kpianalysis.data.dataset import Dataset, load_dataset, load_programme, programme_folders
from kpianalysis.errors import ParameterError
from kpianalysis.paths import DEFAULT_RAW, project_root

__all__ = ["load_report_data"]


def load_report_data(
    fiscal_year: Any, raw_dir: str | Path = DEFAULT_RAW, programme_id: str = ""
) -> tuple[Dataset, Dataset]:
    """Load and validate the raw data; return ``(full, full.as_of(fiscal_year))``.

    The notebook's edge: the data is cut here, once; the analysis functions take the cut.

    With a ``programme_id`` only that programme's folder is read and validated: its report
    depends on its own sheets alone (another programme's folder, even a broken one, cannot
    change it). A programme with targets but no actual yet has a *plan report* for any fiscal
    year of its plan period.

    Raises :class:`ParameterError` when ``fiscal_year`` has no data or the programme is unknown.
    """
    if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, int):
        raise ParameterError(f"fiscal_year must be an integer such as 2023, not {fiscal_year!r}")
    raw = Path(raw_dir)
    if not raw.is_absolute():
        raw = project_root() / raw
    if programme_id:
        folders = programme_folders(raw)
        if programme_id not in folders:
            known = ", ".join(folders) or "none"
            raise ParameterError(f"unknown programme_id {programme_id!r} (programmes: {known})")
        full = load_programme(folders[programme_id])
    else:
        full = load_dataset(raw)
    if fiscal_year not in full.fiscal_years and not _plan_year(full, programme_id, fiscal_year):
        years = ", ".join(map(str, full.fiscal_years))
        raise ParameterError(f"no actual values for FY{fiscal_year}; the data has FY {years}")
    return full, full.as_of(fiscal_year)


def _plan_year(full: Dataset, programme_id: str, fiscal_year: int) -> bool:
    """Whether a one-programme dataset without any actual has ``fiscal_year`` in its plan."""
    if not programme_id or full.fiscal_years or len(full.programmes) != 1:
        return False
    row = full.programmes.iloc[0]
    return int(row["plan_start"]) <= fiscal_year <= int(row["plan_end"])
