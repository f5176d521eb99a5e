"""Targets and actuals as levels: the one place where values written as increments are converted.

A plan may write a KPI's targets, or its actuals, as year-over-year increments (増加分: "+40,000
visitors a year") instead of levels ("1,438,801 visitors in FY2018"), and the two independently:
``indicators.csv`` says which with ``target_form`` and ``actual_form`` (``level`` by default).
Every consumer — attainment, progress, trends, projections, figures, the processed CSV — reads
levels, so the conversion happens here, once, when the dataset is built
(:func:`kpianalysis.data.dataset.load_programme`): the observations' ``target`` and ``actual``
are levels, and ``target_written`` / ``actual_written`` keep the numbers as written.

The level of year k is the baseline plus the running total of the increments of the years up to
k, in fiscal-year order (METHODS §1, "Targets written as increments"). A missing increment (an
actual not yet reported) leaves that year's level and every later one missing, since the running
total is unknown from there on; a missing baseline leaves every level missing (the dataset
refuses an increment-form KPI without a baseline, so that only happens to stand-in data).

Worked check (the illustrative FY2016–2018 tourism plan in ``tests/fixtures/partners``): baseline
1,318,801 visitors (FY2015), target +40,000 a year → level targets 1,358,801, 1,398,801 and
1,438,801; the actuals are written as levels, so 1,400,000 stays 1,400,000 (achievement 97.3 %).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

__all__ = ["FORMS", "observation_levels", "running_levels"]

#: How a KPI's targets or actuals are written: as levels, or as year-over-year increments.
FORMS = ("level", "increment")

_KEYS = ["programme_id", "indicator_id"]


def running_levels(
    series: np.ndarray, year: np.ndarray, values: np.ndarray, baseline: np.ndarray
) -> np.ndarray:
    """Levels ``baseline[series] +`` running total of ``values`` per series, in year order.

    Parameters
    ----------
    series
        Integer position of each value's series (indexes ``baseline``).
    year
        Fiscal year of each value (the running total follows it, whatever the row order).
    values
        The increments; NaN where missing.
    baseline
        One baseline per series; NaN where unknown.

    Returns
    -------
    numpy.ndarray
        One level per value, in the input order. A plain running sum: after a missing increment
        every later level of the series is missing. The sum adds year by year as ``np.cumsum``
        does, one rank of years at a time, so there is no Python loop over series.

    Examples
    --------
    >>> running_levels(np.array([0, 0, 0]), np.array([2016, 2017, 2018]),
    ...                np.array([40_000.0, 40_000.0, 40_000.0]), np.array([1_318_801.0]))
    array([1358801., 1398801., 1438801.])
    >>> running_levels(np.array([0, 0]), np.array([2018, 2017]), np.array([5.0, np.nan]),
    ...                np.array([100.0]))
    array([nan, nan])
    """
    series = np.asarray(series, dtype=np.intp)
    year = np.asarray(year)
    values = np.asarray(values, dtype=float)
    baseline = np.asarray(baseline, dtype=float)
    order = np.lexsort((year, series))
    r, v = series[order], values[order]
    running = v.copy()
    if len(r):
        new = np.ones(len(r), dtype=bool)
        new[1:] = r[1:] != r[:-1]
        starts = np.flatnonzero(new)
        rank = np.arange(len(r)) - np.repeat(starts, np.diff(np.append(starts, len(r))))
        by_rank = np.argsort(rank, kind="stable")
        bounds = np.searchsorted(rank[by_rank], np.arange(1, int(rank.max()) + 2))
        for lo, hi in itertools.pairwise(bounds):
            idx = by_rank[lo:hi]
            running[idx] = running[idx - 1] + v[idx]
    out = np.empty(len(r))
    out[order] = baseline[r] + running
    return out


def observation_levels(indicators: pd.DataFrame, observations: pd.DataFrame) -> pd.DataFrame:
    """The observations with ``target`` and ``actual`` as levels and the written numbers kept.

    Parameters
    ----------
    indicators
        With ``programme_id``, ``indicator_id``, ``baseline`` and optionally ``target_form`` and
        ``actual_form`` (missing or blank = ``"level"``).
    observations
        With ``programme_id``, ``indicator_id``, ``fiscal_year``, and ``target`` / ``actual``
        as written (or ``target_written`` / ``actual_written`` when already converted: the
        function is idempotent).

    Returns
    -------
    pandas.DataFrame
        A copy with ``target_written`` and ``actual_written`` (the numbers as written) and
        ``target`` / ``actual`` as levels; for a level-form column the two are equal.

    Examples
    --------
    >>> ind = pd.DataFrame({"programme_id": ["p"], "indicator_id": [1],
    ...                     "baseline": [1_318_801.0], "target_form": ["increment"]})
    >>> obs = pd.DataFrame({"programme_id": "p", "indicator_id": 1,
    ...                     "fiscal_year": [2016, 2017, 2018], "target": 40_000.0,
    ...                     "actual": [1_352_410.0, 1_371_922.0, 1_400_000.0]})
    >>> out = observation_levels(ind, obs)
    >>> out["target"].tolist(), out["actual"].tolist()[-1]
    ([1358801.0, 1398801.0, 1438801.0], 1400000.0)
    """
    out = observations.copy()
    for column in ("target", "actual"):
        written = f"{column}_written"
        if written not in out.columns:
            out[written] = out[column].astype(float)
        values = out[written].to_numpy(dtype=float, na_value=np.nan)
        form = f"{column}_form"
        forms = indicators[form] if form in indicators.columns else None
        if forms is None or not forms.eq("increment").any():
            out[column] = values
            continue
        positions = pd.MultiIndex.from_frame(indicators[_KEYS]).get_indexer(
            pd.MultiIndex.from_frame(out[_KEYS])
        )
        is_inc = forms.eq("increment").to_numpy()
        known = positions >= 0
        sel = np.flatnonzero(known & np.append(is_inc, False)[positions])
        levels = values.copy()
        if len(sel):
            levels[sel] = running_levels(
                positions[sel],
                out["fiscal_year"].to_numpy()[sel],
                values[sel],
                indicators["baseline"].to_numpy(dtype=float, na_value=np.nan),
            )
        out[column] = levels
    return out
