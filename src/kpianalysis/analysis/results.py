"""A fiscal year's result tables, computed once, and their files in ``data/processed/``.

:class:`YearResults` holds the tables of one year — the attainment table, the programme summary
and the trend table, each computed on first use and kept — for a dataset already cut at that
year. :class:`ResultsByYear` makes each year's cut (:meth:`~kpianalysis.data.dataset.Dataset.as_of`)
once and hands out its :class:`YearResults`, so the build computes a (programme, year) table
once and both the processed files and the index headline read it.

``attainment_fy<YEAR>`` (one row per KPI: rates, ratings, assessments, reason codes) and
``trends_fy<YEAR>`` (one row per KPI: fit, projection, probability of reaching the target) are
written as CSV (UTF-8 with BOM, for Excel) and Parquet — the same tables the notebooks display.
The trend rows are each programme's trends report's rows: every programme fitted alone against
the versioned prior (``data/reference/trend_prior.json``), so adding a programme changes no
other programme's rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from kpianalysis.analysis.tables import attainment_table, programme_summary
from kpianalysis.data.dataset import Dataset, check_cut, write_csv, write_parquet
from kpianalysis.paths import DEFAULT_PROCESSED

if TYPE_CHECKING:
    from kpianalysis.analysis.reference_prior import ReferencePrior

__all__ = ["ResultsByYear", "YearResults", "result_tables", "write_results"]


class YearResults:
    """The result tables of one fiscal year, each computed at most once.

    Parameters
    ----------
    dataset
        A dataset cut at the year (``dataset.as_of(fiscal_year)``); the year is read from it.
    reference
        The versioned trend prior the trends reports pool against, or its file (read, when the
        first trend table is computed, by
        :func:`kpianalysis.analysis.reference_prior.read_reference_prior`; a missing file: as a
        report without one, each series alone); ``None``: each programme's KPIs pooled among
        themselves (:func:`kpianalysis.analysis.projection.trend_table` without a reference).

    Examples
    --------
    >>> r = YearResults(load_dataset("data/raw").as_of(2022))  # doctest: +SKIP
    >>> r.attainment is r.attainment  # computed once  # doctest: +SKIP
    True
    """

    def __init__(self, dataset: Dataset, reference: ReferencePrior | Path | None = None) -> None:
        self.fiscal_year = check_cut(dataset)
        self.dataset = dataset
        self.reference = reference

    @cached_property
    def parts(self) -> dict[str, Dataset]:
        """The year's cut split by programme (:meth:`Dataset.by_programme`), split once."""
        return self.dataset.by_programme()

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
        """Each programme's :func:`kpianalysis.analysis.projection.trend_table` of the year, as
        its trends report computes it: the programme alone, against :attr:`reference`."""
        # Imported here: scipy/statsmodels would double the start-up of every `kpianalysis`
        # command (the build imports this module for the headline, which needs no trend).
        from kpianalysis.analysis.projection import trend_table
        from kpianalysis.analysis.reference_prior import read_reference_prior

        reference = self.reference
        if isinstance(reference, Path):
            reference = read_reference_prior(reference, missing_ok=True)
        # Per programme, not the whole cut: without a prior file a report pools within its own
        # programme only, and a row must not move when another programme is added.
        tables = [
            trend_table(part, self.fiscal_year, reference=reference) for part in self.parts.values()
        ]
        tables = [t for t in tables if len(t)]
        if not tables:
            return trend_table(self.dataset, self.fiscal_year, reference=reference)
        return pd.concat(tables, ignore_index=True)


class ResultsByYear(Mapping[int, YearResults]):
    """Every fiscal year's :class:`YearResults` of one dataset, each year cut once, on first use.

    Keys are the years with actual values (``dataset.fiscal_years``); ``reference`` is handed to
    every :class:`YearResults`.

    Examples
    --------
    >>> results = ResultsByYear(load_dataset("data/raw"))  # doctest: +SKIP
    >>> list(results), results[2022] is results[2022]  # doctest: +SKIP
    ([2021, 2022, 2023], True)
    """

    def __init__(self, dataset: Dataset, reference: ReferencePrior | Path | None = None) -> None:
        self.dataset = dataset
        self.reference = reference
        self._years: dict[int, YearResults] = {}

    def __getitem__(self, fiscal_year: int) -> YearResults:
        fy = int(fiscal_year)
        if fy not in self._years:
            if fy not in self.dataset.fiscal_years:
                raise KeyError(fiscal_year)
            self._years[fy] = YearResults(self.dataset.as_of(fy), self.reference)
        return self._years[fy]

    def __iter__(self) -> Iterator[int]:
        return iter(self.dataset.fiscal_years)

    def __len__(self) -> int:
        return len(self.dataset.fiscal_years)


def result_tables(results: ResultsByYear | Dataset) -> dict[str, pd.DataFrame]:
    """Every fiscal year's attainment and trend tables, keyed by file stem (a bare dataset:
    trends as without a prior file)."""
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
