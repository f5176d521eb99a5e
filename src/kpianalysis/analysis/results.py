"""Per-fiscal-year result tables written next to the tidy data in ``data/processed/``.

``attainment_fy<YEAR>`` (one row per KPI: rates, ratings, assessments, reason codes) and
``trends_fy<YEAR>`` (one row per KPI: fit, projection, probability of reaching the target), each
computed on the data as of that year — the same tables the notebooks display — as CSV (UTF-8
with BOM, for Excel) and Parquet.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kpianalysis.analysis.projection import trend_table
from kpianalysis.analysis.tables import attainment_table
from kpianalysis.data.dataset import Dataset, write_csv, write_parquet
from kpianalysis.paths import DEFAULT_PROCESSED


def result_tables(dataset: Dataset) -> dict[str, pd.DataFrame]:
    """Every fiscal year's attainment and trend tables, keyed by file stem."""
    out: dict[str, pd.DataFrame] = {}
    for fy in dataset.fiscal_years:
        as_of = dataset.as_of(fy)
        out[f"attainment_fy{fy}"] = attainment_table(as_of, fy)
        out[f"trends_fy{fy}"] = trend_table(as_of, fy)
    return out


def write_results(dataset: Dataset, out_dir: Path | str = DEFAULT_PROCESSED) -> list[Path]:
    """Write :func:`result_tables` as CSV and Parquet (atomically, file by file)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, df in result_tables(dataset).items():
        written.append(write_csv(df, out / f"{name}.csv"))
        written.append(write_parquet(df, out / f"{name}.parquet"))
    return written
