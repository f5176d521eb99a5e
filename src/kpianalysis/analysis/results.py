"""A fiscal year's result tables, computed once, and their files in ``data/processed/``.

:class:`YearResults` holds the tables of one year — the attainment table, the programme summary
and the trend table, each computed on first use and kept — for a dataset already cut at that
year. :class:`ResultsByYear` makes each year's cut (:meth:`~kpianalysis.data.dataset.Dataset.as_of`)
once and hands out its :class:`YearResults`, so the build computes a (programme, year) table
once and both the processed files and the index headline read it.

``attainment_fy<YEAR>`` (one row per KPI: rates, ratings, assessments, reason codes) and
``trends_fy<YEAR>`` (one row per KPI: fit, projection, probability of reaching the target) are
written as CSV (UTF-8 with BOM, for Excel) and Parquet — the same tables the notebooks display.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path

import pandas as pd

from kpianalysis.analysis.tables import attainment_table, programme_summary
from kpianalysis.data.dataset import Dataset, check_cut, write_csv, write_parquet
from kpianalysis.paths import DEFAULT_PROCESSED

__all__ = ["ResultsByYear", "YearResults", "result_tables", "write_results"]


class YearResults:
    """The result tables of one fiscal year, each computed at most once.

    Parameters
    ----------
    dataset
        A dataset cut at the year (``dataset.as_of(fiscal_year)``); the year is read from it.

    Examples
    --------
    >>> r = YearResults(load_dataset("data/raw").as_of(2022))  # doctest: +SKIP
    >>> r.attainment is r.attainment  # computed once  # doctest: +SKIP
    True
    """

    def __init__(self, dataset: Dataset) -> None:
        self.fiscal_year = check_cut(dataset)
        self.dataset = dataset

    @cached_property
    def attainment(self) -> pd.DataFrame:
        """:func:`kpianalysis.analysis.tables.attainment_table` of the year (default options)."""
        return attainment_table(self.dataset, self.fiscal_year)

    @cached_property
    def summary(self) -> pd.DataFrame:
        """:func:`kpianalysis.analysis.tables.programme_summary`, from :attr:`attainment`."""
        return programme_summary(self.dataset, self.fiscal_year, table=self.attainment)

    @cached_property
    def trends(self) -> pd.DataFrame:
        """:func:`kpianalysis.analysis.projection.trend_table` of the year."""
        # Imported here: scipy/statsmodels would double the start-up of every `kpianalysis`
        # command (the build imports this module for the headline, which needs no trend).
        from kpianalysis.analysis.projection import trend_table

        return trend_table(self.dataset, self.fiscal_year)


class ResultsByYear(Mapping[int, YearResults]):
    """Every fiscal year's :class:`YearResults` of one dataset, each year cut once, on first use.

    Keys are the years with actual values (``dataset.fiscal_years``).

    Examples
    --------
    >>> results = ResultsByYear(load_dataset("data/raw"))  # doctest: +SKIP
    >>> list(results), results[2022] is results[2022]  # doctest: +SKIP
    ([2021, 2022, 2023], True)
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._years: dict[int, YearResults] = {}

    def __getitem__(self, fiscal_year: int) -> YearResults:
        fy = int(fiscal_year)
        if fy not in self._years:
            if fy not in self.dataset.fiscal_years:
                raise KeyError(fiscal_year)
            self._years[fy] = YearResults(self.dataset.as_of(fy))
        return self._years[fy]

    def __iter__(self) -> Iterator[int]:
        return iter(self.dataset.fiscal_years)

    def __len__(self) -> int:
        return len(self.dataset.fiscal_years)


def result_tables(results: ResultsByYear | Dataset) -> dict[str, pd.DataFrame]:
    """Every fiscal year's attainment and trend tables, keyed by file stem."""
    if isinstance(results, Dataset):
        results = ResultsByYear(results)
    out: dict[str, pd.DataFrame] = {}
    for fy, year in results.items():
        out[f"attainment_fy{fy}"] = year.attainment
        out[f"trends_fy{fy}"] = year.trends
    return out


def write_results(
    results: ResultsByYear | Dataset, out_dir: Path | str = DEFAULT_PROCESSED
) -> list[Path]:
    """Write :func:`result_tables` as CSV and Parquet (atomically, file by file)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, df in result_tables(results).items():
        written.append(write_csv(df, out / f"{name}.csv"))
        written.append(write_parquet(df, out / f"{name}.parquet"))
    return written
