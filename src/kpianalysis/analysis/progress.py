"""Multi-year progress assessment of one indicator's series (``METHODS.md`` §2).

Four methods from SDG monitoring, adapted to fiscal years. Each takes the actual values observed up
to the fiscal year assessed, the baseline (当初値, optional) and — where the method needs one — a
target and its fiscal year, and returns an :class:`Assessment`: a value, an outcome class and,
where the method cannot apply, an explicit outcome with a reason code:

- ``"insufficient_data"`` (reason ``"insufficient_points"``, or ``"no_target"``, ...) — too few
  points or no target;
- ``"not_applicable_sign_change"`` (reason ``"sign_change"``) — growth rates are undefined for a
  series that changes sign or touches zero (net migration does);
- ``"negative_series_needs_level_measure"`` (reason ``"negative_values"``) — a growth rate of the
  magnitudes of a negative series points the wrong way (−468 → −127 is an improvement, yet its
  "CAGR" is −73 %); use a level-based measure (status index, miss share) instead.

The plan's trajectory (``plan=``, optional): the plan's target for each year of the series (its
interim targets). Where it gives the latest point's year a target, every method measures against
the plan's own path rather than a straight line from the base to the target (``METHODS.md`` §2):
"on track" is then meeting this year's target. No change at all is ``"no_progress"``; in or after
the target year a target not met is ``"target_missed"`` (nothing is left to accelerate).

Points: the baseline (when given, at its baseline year) counts as the first point of the series,
followed by the observed actuals of later years. The base value of the status index, anticipated
progress and CAGR is the baseline, or the first observed actual when there is no baseline
(``detail["base_source"]`` says which).

Methods
-------
:func:`current_status`
    ESCAP current status index CS = (A_now − b)/(T − b), capped at 1 once the target is met,
    compared with the expected share of the period elapsed. ≥ 2 points and a target.
:func:`anticipated_progress`
    ESCAP anticipated progress: weighted linear regression projected to the target year,
    AP = (Â_T − b)/(T − b). ≥ 3 points.
:func:`cagr_assessment`
    CAGR ratio R = CAGR_a / CAGR_r (Open SDG ``sdg/ProgressMeasure.py``, Statistics Canada,
    Eurostat-inspired), or d·CAGR_a alone without a target. ≥ 2 points.
:func:`miss_share_assessment`
    Destatis linear extrapolation of recent change: miss share (T − projection)/(T − current).
    ≥ 2 points.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kpianalysis import reasons
from kpianalysis.analysis.measures import (
    PRO_RATA_CLASSES,
    REASON_CODE,
    REASONS,
    direction_sign,
    pro_rata_class_core,
)
from kpianalysis.errors import ParameterError

__all__ = [
    "CAGR_NO_TARGET_THRESHOLDS",
    "CAGR_THRESHOLDS",
    "OUTCOMES",
    "OUTCOME_LABELS",
    "Assessment",
    "Points",
    "anticipated_core",
    "anticipated_progress",
    "assess_panel",
    "assess_series",
    "cagr_assessment",
    "cagr_core",
    "current_status",
    "factorize_runs",
    "key_codes",
    "miss_share_assessment",
    "miss_share_core",
    "panel_core",
    "points_core",
    "series_index",
    "status_core",
]

#: Outcome keys with Japanese and English labels: a view of :mod:`kpianalysis.reasons`.
OUTCOME_LABELS: dict[str, tuple[str, str]] = reasons.labels("assessment_outcome")

#: CAGR ratio bands with a target (Open SDG defaults): R ≥ 0.95 substantial, ≥ 0.6 moderate,
#: ≥ 0 limited, below deterioration.
CAGR_THRESHOLDS: tuple[float, float, float] = (0.95, 0.6, 0.0)
#: Bands on d·CAGR itself without a target (Open SDG defaults): 1.5 %, 0.5 %, 0.
CAGR_NO_TARGET_THRESHOLDS: tuple[float, float, float] = (0.015, 0.005, 0.0)


class Assessment(NamedTuple):
    """Result of one method: value (NaN when none), outcome key, reason code, details."""

    value: float
    outcome: str
    reason: str | None
    detail: dict[str, Any]


def _group_sum(x: np.ndarray, groups: np.ndarray | None = None, n_groups: int = 1) -> np.ndarray:
    """Per-group sums added in array order, starting from 0 (``np.bincount``).

    Always in array order, so that a series' sums do not depend on how many series are summed
    beside it (one, or a block of thousands); ``np.sum`` switches to pairwise summation from
    8 terms on.
    """
    if groups is None:
        groups = np.zeros(len(x), dtype=np.intp)
    return np.bincount(groups, weights=x, minlength=n_groups)


def _growth(ratio: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Compound yearly growth ratio^(1/years) − 1, elementwise on arrays.

    Always the array ufunc, never Python's ``**``: NumPy's vectorised ``power`` may differ from
    C ``pow`` in the last bit, and a borderline value must be classified alike wherever the
    rule is computed.
    """
    return np.power(ratio, 1.0 / years) - 1.0


def _scalar_array(x: Any) -> np.ndarray:
    """A one-series argument as a length-1 float array (``None``/NaN: NaN)."""
    return np.array([np.nan if x is None or pd.isna(x) else float(x)])


def _one_series(
    years: Any,
    values: Any,
    baseline: float | None,
    baseline_year: int | None,
    target: float | None,
    target_year: int | None,
    direction: str,
    plan: Any = None,
) -> tuple[Points, np.ndarray, np.ndarray, np.ndarray]:
    """One series as the kernels' arrays: a panel of one, so it takes the panel's code path."""
    y = np.asarray(years, dtype=int).ravel()
    v = np.asarray(values, dtype=float).ravel()
    pl = None if plan is None else pd.array(plan, dtype="Float64").to_numpy(float, na_value=np.nan)
    if y.shape != v.shape or (pl is not None and pl.shape != v.shape):
        raise ParameterError("years, values and plan must have the same length")
    d = np.array([float(direction_sign(direction))])
    p = points_core(
        np.zeros(len(y), dtype=np.intp),
        y.astype(float),
        v,
        _scalar_array(baseline),
        _scalar_array(baseline_year),
        pl,
    )
    return p, _scalar_array(target), _scalar_array(target_year), d


#: Per method: its value column and its details (kernel output → Assessment.detail key).
_METHOD_OUTPUTS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "status": ("status_index", (("expected_share", "expected_share"),)),
    "anticipated": (
        "anticipated_progress",
        (("anticipated_projection", "projection"), ("anticipated_rule", "rule")),
    ),
    "cagr": ("cagr_ratio", (("cagr_actual", "cagr_actual"), ("cagr_required", "cagr_required"))),
    "miss_share": (
        "miss_share",
        (("miss_projection", "projection"), ("slope_per_year", "slope_per_year")),
    ),
}
#: Outcomes where a method stops before its computation: no details beyond the points.
_NOT_COMPUTED = frozenset(
    {
        "insufficient_data",
        "target_achieved",
        "not_applicable_sign_change",
        "negative_series_needs_level_measure",
    }
)
_RULES: tuple[str, ...] = (
    "observed_at_target_year",
    "weighted_regression",
    "weighted_regression_on_plan",
)


def _assessment(out: dict[str, np.ndarray], prefix: str, p: Points) -> Assessment:
    """The first (only) series of a kernel's output as an :class:`Assessment`."""
    value_name, detail_names = _METHOD_OUTPUTS[prefix]
    outcome = OUTCOMES[int(out[f"{prefix}_class"][0])]
    code = int(out[f"{prefix}_reason"][0])
    n = int(p.n[0])
    detail: dict[str, Any] = {"n_points": n}
    if prefix != "miss_share":
        detail["base_year"] = None if n == 0 else int(p.base_year[0])
        detail["base_value"] = float(p.base_value[0])
        detail["base_source"] = None if n == 0 else _BASE_SOURCES[0 if p.has_base[0] else 1]
    if outcome not in _NOT_COMPUTED:
        for name, key in detail_names:
            x = out[name][0]
            if name == "anticipated_rule":
                detail[key] = _RULES[int(x)]
            elif not np.isnan(x):  # no cagr_required without a target
                detail[key] = float(x)
    return Assessment(
        float(out[value_name][0]), outcome, None if code < 0 else REASONS[code], detail
    )


def current_status(
    years: Any,
    values: Any,
    target: float,
    target_year: int | None,
    *,
    baseline: float | None = None,
    baseline_year: int | None = None,
    direction: str = "increase",
    plan: Any = None,
    min_points: int = 2,
) -> Assessment:
    """ESCAP-style current status index, compared with the share of the period elapsed.

    CS = (A_now − b)/(T − b), capped at 1 once the target is met; expected share
    E = (t_now − t_0)/(t_T − t_0), or the plan's own share where ``plan`` gives the year a
    target. Outcomes: ``"target_achieved"``; with the plan's target, ``"on_track"`` (CS ≥ E) or
    ``"behind"``; without one, the pro-rata bands of CS/E shared with the attainment table's
    ``interim_class`` (``"on_track"`` ≥ 1, ``"roughly_on_track"`` ≥ 0.6, else
    ``"needs_improvement"``); ``"no_progress"`` (CS ≤ 0). Level-based, so it also works for
    series that change sign.

    Parameters
    ----------
    years, values
        Fiscal years and actual values (NaN = not known; dropped).
    target, target_year
        The target and its fiscal year.
    baseline, baseline_year
        当初値 and its year (the first point); optional.
    direction
        ``"increase"`` or ``"decrease"``.
    plan
        The plan's target for each of ``years`` (its interim targets; NaN: none), optional.
        The same keyword in the other methods: each measures against the plan's own
        trajectory where it has one (see the ``*_core`` kernels).
    min_points
        Minimum number of points including the baseline (default 2).

    Examples
    --------
    >>> a = current_status([2021, 2022], [4, 7], 13, 2023, baseline=4, baseline_year=2020)
    >>> round(a.value, 4), a.outcome     # 3/9 of the way after 2/3 of the time: 0.5 < 0.6
    (0.3333, 'needs_improvement')
    >>> current_status([2021, 2022], [4, 7], 13, 2023, baseline=4, baseline_year=2020,
    ...                plan=[6, 6]).outcome     # the plan asked only 6 by FY2022
    'on_track'
    """
    p, tgt, ty, d = _one_series(
        years, values, baseline, baseline_year, target, target_year, direction, plan
    )
    return _assessment(status_core(p, tgt, ty, d, min_points=min_points), "status", p)


def _weighted_projection(
    tau: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    groups: np.ndarray | None = None,
    n_groups: int = 1,
) -> np.ndarray:
    """Weighted least-squares line through (tau, y), evaluated at tau = 0, per group.

    ``tau`` is the year minus the target year, so the projection is the intercept itself:
    ȳ − slope·τ̄. With calendar years (ȳ − slope·t̄ + slope·t*) two numbers near slope·2000
    would cancel and lose about three digits.
    """
    sw = _group_sum(w, groups, n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):  # groups outside the fit: 0/0
        tm = _group_sum(w * tau, groups, n_groups) / sw
        ym = _group_sum(w * y, groups, n_groups) / sw
    g = np.zeros(len(tau), dtype=np.intp) if groups is None else groups
    dt = tau - tm[g]
    num = _group_sum(w * dt * (y - ym[g]), groups, n_groups)
    den = _group_sum(w * dt**2, groups, n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        return ym - (num / den) * tm


def anticipated_progress(
    years: Any,
    values: Any,
    target: float,
    target_year: int | None,
    *,
    baseline: float | None = None,
    baseline_year: int | None = None,
    direction: str = "increase",
    plan: Any = None,
    min_points: int = 3,
) -> Assessment:
    """ESCAP-style anticipated progress AP = (Â_T − b)/(T − b) from a weighted regression.

    The line is fitted by weighted least squares with w_i = (t* − t_min)/(t* − t_i) (more weight on
    recent years; t* = target year) and projected to t*. Outcomes: ``"maintain"`` (AP ≥ 1),
    ``"accelerate"`` (0 < AP < 1), ``"reverse_trend"`` (AP ≤ 0).

    The weight is infinite at t_i = t*. In the limit the fitted line is forced through that point,
    so the projection to t* is the value observed at t* itself — used exactly, no regression.
    Points after t* (w < 0) are left out. Because the weights are ratios, the base year and
    target year enter only through (t* − t_i).

    Examples
    --------
    >>> a = anticipated_progress([2021, 2022], [4, 7], 13, 2023, baseline=4, baseline_year=2020)
    >>> round(a.value, 6), a.outcome
    (0.5, 'accelerate')
    """
    p, tgt, ty, d = _one_series(
        years, values, baseline, baseline_year, target, target_year, direction, plan
    )
    return _assessment(anticipated_core(p, tgt, ty, d, min_points=min_points), "anticipated", p)


def cagr_assessment(
    years: Any,
    values: Any,
    target: float | None = None,
    target_year: int | None = None,
    *,
    baseline: float | None = None,
    baseline_year: int | None = None,
    direction: str = "increase",
    plan: Any = None,
    min_points: int = 2,
    thresholds: tuple[float, float, float] | None = None,
) -> Assessment:
    """CAGR-ratio classification, with a target or (``target=None``) on the CAGR alone.

    With a target: CAGR_a = (y_t / y_0)^(1/(t − t_0)) − 1, CAGR_r = (T / y_0)^(1/(t_T − t_0)) − 1,
    R = d·CAGR_a / |CAGR_r| (= CAGR_a / CAGR_r when the target lies in the desired direction, as in
    Open SDG), classified by :data:`CAGR_THRESHOLDS`; a target already met gives
    ``"target_achieved"``. Without a target: d·CAGR_a classified by
    :data:`CAGR_NO_TARGET_THRESHOLDS`.

    Undefined for a series (or target) that changes sign or touches zero, and for an all-negative
    series (see the module docstring) — explicit outcomes, never a patched value.

    Examples
    --------
    >>> a = cagr_assessment([2021, 2022, 2023], [4, 7, 9], 13, 2023, baseline=4, baseline_year=2020)
    >>> round(a.value, 6), a.outcome
    (0.644929, 'moderate_progress')
    """
    p, tgt, ty, d = _one_series(
        years, values, baseline, baseline_year, target, target_year, direction, plan
    )
    out = cagr_core(p, tgt, ty, d, min_points=min_points, thresholds=thresholds)
    return _assessment(out, "cagr", p)


def miss_share_assessment(
    years: Any,
    values: Any,
    target: float,
    target_year: int | None,
    *,
    baseline: float | None = None,
    baseline_year: int | None = None,
    direction: str = "increase",
    plan: Any = None,
    window: int = 5,
    min_points: int = 2,
    bands: tuple[float, float] = (0.05, 0.20),
) -> Assessment:
    """Destatis-style linear extrapolation of the recent change; share of the target missed.

    The average yearly change over the last ``window`` years (from the earliest point at or after
    t_now − window to the latest) is extrapolated to the target year: P = y_now + slope·(t_T −
    t_now). Miss share = (T − P)/(T − y_now). Outcomes: ``"on_track"`` (< 5 %),
    ``"nearly_on_track"`` (5–20 %), ``"right_direction_insufficient"`` (> 20 %, moving towards the
    target), ``"wrong_direction"`` (not moving towards it: d·slope ≤ 0), ``"target_achieved"``
    when the latest value already meets the target. Level-based, so sign changes are fine.

    Examples
    --------
    >>> a = miss_share_assessment([2021, 2022], [4, 7], 13, 2023, baseline=4, baseline_year=2020)
    >>> round(a.value, 6), a.outcome     # slope 1.5 a year → projection 8.5
    (0.75, 'right_direction_insufficient')
    """
    p, tgt, ty, d = _one_series(
        years, values, baseline, baseline_year, target, target_year, direction, plan
    )
    out = miss_share_core(p, tgt, ty, d, window=window, min_points=min_points, bands=bands)
    return _assessment(out, "miss_share", p)


def assess_series(
    years: Any,
    values: Any,
    *,
    target: float | None,
    target_year: int | None,
    baseline: float | None = None,
    baseline_year: int | None = None,
    direction: str = "increase",
    plan: Any = None,
) -> dict[str, Assessment]:
    """All four assessments of one series with default rules, keyed ``status``, ``anticipated``,
    ``cagr``, ``miss_share``.

    Examples
    --------
    >>> r = assess_series([2021, 2022, 2023], [4, 7, 9], target=13, target_year=2023,
    ...                   baseline=4, baseline_year=2020)
    >>> r["cagr"].outcome
    'moderate_progress'
    """
    kw = {
        "baseline": baseline,
        "baseline_year": baseline_year,
        "direction": direction,
        "plan": plan,
    }
    tgt = float("nan") if target is None else float(target)
    return {
        "status": current_status(years, values, tgt, target_year, **kw),
        "anticipated": anticipated_progress(years, values, tgt, target_year, **kw),
        "cagr": cagr_assessment(years, values, tgt, target_year, **kw),
        "miss_share": miss_share_assessment(years, values, tgt, target_year, **kw),
    }


# --------------------------------------------------------------------------------------------
# The kernels: one vectorised home per rule (status_core, anticipated_core, cagr_core,
# miss_share_core), over the points of many series at once, without a loop over series.
#
# Every branch of a rule is a mask over series, and every sum over a series' points a grouped
# sum (np.bincount) over the points in one order (the baseline first, then the actuals by
# year). The one-series functions above are a panel of one through the same kernels;
# tests/test_panel.py still compares assess_panel with them on random panels, which guards
# the panel's own plumbing (keys, blocks, unsorted and ragged input).

#: Outcome keys in a fixed order: the category order of the panel's class columns.
OUTCOMES: tuple[str, ...] = tuple(OUTCOME_LABELS)
_OUT = {name: np.int8(i) for i, name in enumerate(OUTCOMES)}
_BASE_SOURCES: tuple[str, ...] = ("baseline", "first_actual")
#: pro_rata_class_core's codes (0 no rate, then PRO_RATA_CLASSES worst first) as outcome codes;
#: no rate (elapsed 0 or undefined) stays "behind", as the plan-share rule would say.
_PRO_RATA_LUT = np.array([_OUT["behind"], *(_OUT[k] for k in PRO_RATA_CLASSES)], dtype=np.int8)
_MISS_WINDOW = 5
# Outcome codes by how many of a chain of ordered conditions hold (see _count).
_BANDS = ("deterioration", "limited_progress", "moderate_progress", "substantial_progress")
_BANDS_LUT = np.array([_OUT[k] for k in _BANDS], dtype=np.int8)
#: Series per block in panel_core (see there): 16,384 keeps each temporary near 128 kB.
_BLOCK = 16_384
_MISS_BANDS = (0.05, 0.20)


def _pick(mask: np.ndarray, a: Any, b: Any) -> np.ndarray:
    """``np.where(mask, a, b)`` (same values, same dtype) by positions.

    ``np.where`` branches on every element: on an irregular mask (which series have a
    baseline, a target, ...) the mispredictions cost more than the arithmetic around it.
    """
    out = np.empty(mask.shape, dtype=np.result_type(a, b))
    out[...] = b
    at = np.flatnonzero(mask)
    out[at] = a[at] if isinstance(a, np.ndarray) else a
    return out


def _blank(mask: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``np.where(mask, nan, x)`` in place, by positions: ``x`` is the caller's own new array."""
    x[np.flatnonzero(mask)] = np.nan
    return x


def _count(*masks: np.ndarray) -> np.ndarray:
    """How many of ``masks`` hold, per element (int8): with a table of codes, a chain of
    comparisons of one value against ordered thresholds without a branch per element."""
    total = masks[0].view(np.int8).copy()
    for mask in masks[1:]:
        total += mask.view(np.int8)
    return total


def _select(rules: list[tuple[np.ndarray, Any]], default: Any, n: int) -> np.ndarray:
    """Value of the first rule whose mask holds, in order (the one-series ``if`` chain)."""
    out = np.full(n, default)
    # The last rule first, so that the first one that holds writes last; by positions, as
    # boolean-mask assignment branches on every element (see _pick).
    for mask, value in reversed(rules):
        at = np.flatnonzero(mask)
        out[at] = value[at] if isinstance(value, np.ndarray) else value
    return out


def _bands_code(x: np.ndarray, bands: tuple[float, float, float]) -> np.ndarray:
    high, med, low = bands
    if high >= med >= low:  # the band is how many thresholds x reaches (NaN: none)
        return _BANDS_LUT[_count(x >= high, x >= med, x >= low)]
    return _pick(
        x >= high,
        _OUT["substantial_progress"],
        _pick(
            x >= med,
            _OUT["moderate_progress"],
            _pick(x >= low, _OUT["limited_progress"], _OUT["deterioration"]),
        ),
    ).astype(np.int8)


def _ranges(first: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``first[i] .. first[i] + count[i] − 1`` for every i, in order, and their i."""
    total = int(count.sum())
    owner = np.repeat(np.arange(len(count)), count)
    offset = np.cumsum(count) - count  # where each range starts in the output
    return np.arange(total) + (first - offset)[owner], owner


def _count_prefix(
    sel: np.ndarray, start: np.ndarray, k: np.ndarray, yr: np.ndarray, limit: np.ndarray, op: Any
) -> np.ndarray:
    """For the series ``sel`` (a mask), how many of their points have ``op(year, limit)``."""
    ids = np.flatnonzero(sel)
    pos, owner = _ranges(start[ids], k[ids])
    hit = op(yr[pos], limit[ids][owner])
    return np.bincount(owner[hit], minlength=len(ids))


def _sorted_points(
    g: np.ndarray, yr: np.ndarray, val: np.ndarray, pl: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Points (and their plan values) sorted by series and year; refuses two values of one
    series and year."""
    if len(g) > 1:
        step_g = np.diff(g)
        step_y = np.diff(yr)
        # The usual input is sorted with one value per series and year: strictly increasing
        # (group, year) settles both checks at once; anything else (NaN years too) goes the
        # long way.
        if np.any(step_g < 0) or np.any((step_g == 0) & ~(step_y > 0)):
            if not np.all((step_g > 0) | ((step_g == 0) & (step_y >= 0))):
                order = np.lexsort((yr, g))
                g, yr, val, pl = g[order], yr[order], val[order], pl[order]
                step_g, step_y = np.diff(g), np.diff(yr)
            if np.any((step_g == 0) & (step_y == 0)):
                raise ParameterError("one value per fiscal year is expected")
    return g, yr, val, pl


class Points(NamedTuple):
    """The points of a block of series, as every ``*_core`` kernel reads them.

    Per point — the actuals kept (known, after the baseline year), sorted by series then year;
    the baseline is not among them: ``g`` the series (intp, 0 .. n_series − 1), ``yr`` the
    fiscal year (float), ``val`` the actual, ``pl`` the plan's value for that year (its interim
    target; NaN: none). ``yr_s``/``val_s``/``pl_s`` are ``yr``/``val``/``pl`` with a NaN
    sentinel appended at position ``len(g)``, which stands for "no actual".

    Per series (length n_series): ``b``/``by`` the baseline and its year as given (NaN: none),
    ``has_base`` (both known), ``k`` the actuals kept, ``start`` the position of the first,
    ``first_obs``/``last_obs`` the positions of the first and last actual (the sentinel when
    ``k`` is 0), ``n`` the points with the baseline, ``base_year``/``base_value`` (the
    baseline, else the first actual), ``now_year``/``now`` (the latest point) and
    ``plan_now`` (the plan's value in the latest point's year: the baseline for the baseline
    itself, NaN where the plan sets no target that year).
    """

    g: np.ndarray
    yr: np.ndarray
    val: np.ndarray
    pl: np.ndarray
    yr_s: np.ndarray
    val_s: np.ndarray
    pl_s: np.ndarray
    b: np.ndarray
    by: np.ndarray
    has_base: np.ndarray
    k: np.ndarray
    start: np.ndarray
    first_obs: np.ndarray
    last_obs: np.ndarray
    n: np.ndarray
    base_year: np.ndarray
    base_value: np.ndarray
    now_year: np.ndarray
    now: np.ndarray
    plan_now: np.ndarray


def points_core(
    g: np.ndarray,
    yr: np.ndarray,
    val: np.ndarray,
    b: np.ndarray,
    by: np.ndarray,
    pl: np.ndarray | None = None,
) -> Points:
    """The series' points (``METHODS.md`` §2 "Points") for the kernels, from raw observations.

    ``g`` (intp) numbers each observation's series among the per-series ``b``/``by``
    (baseline and its year, NaN: none); ``yr`` (float) and ``val`` (NaN: not known) are the
    observations in any order within a series, but grouped by series (``g`` non-decreasing);
    ``pl`` the plan's value (interim target) of each observation's year, NaN or ``None``: none.
    Drops unknown actuals and those at or before the baseline year (the baseline stands for
    its own year), sorts each series by year and refuses two values of one series and year
    (:class:`ParameterError`).

    Every sum the kernels take over a series runs over these points in this order (the
    baseline first, then the actuals by year), one series or a million alike: one code path,
    the same floating-point operations, the same last bit.
    """
    n_series = len(b)
    has_base = ~np.isnan(b) & ~np.isnan(by)
    # NaN where there is no baseline: `yr <= by_known` compares False there.
    by_known = np.where(has_base, by, np.nan)
    if pl is None:
        pl = np.full(len(g), np.nan)
    keep = ~np.isnan(val)
    keep &= ~(yr <= by_known[g])
    if not keep.all():
        g, yr, val, pl = g[keep], yr[keep], val[keep], pl[keep]
    g, yr, val, pl = _sorted_points(g, yr, val, pl)
    m = len(g)
    k = np.bincount(g, minlength=n_series)  # actuals kept per series
    end = np.cumsum(k)
    start = end - k
    # A sentinel NaN at position m stands for "no actual" when k = 0.
    yr_s = np.append(yr, np.nan)
    val_s = np.append(val, np.nan)
    pl_s = np.append(pl, np.nan)
    first_obs = _pick(k > 0, start, m)
    last_obs = _pick(k > 0, end - 1, m)
    base_year = _pick(has_base, by, yr_s[first_obs])
    base_value = _pick(has_base, b, val_s[first_obs])
    now_year = _pick(k > 0, yr_s[last_obs], base_year)
    now = _pick(k > 0, val_s[last_obs], base_value)
    plan_now = _pick(k > 0, pl_s[last_obs], _pick(has_base, b, np.nan))
    n = k + has_base.astype(np.intp)
    return Points(
        g, yr, val, pl, yr_s, val_s, pl_s, b, by, has_base, k, start, first_obs, last_obs, n,
        base_year, base_value, now_year, now, plan_now,
    )  # fmt: skip


def _met(p: Points, tgt: np.ndarray, d: np.ndarray) -> np.ndarray:
    """The latest point meets the target: d·(A_now − T) ≥ 0 (NaN compares False)."""
    return d * (p.now - tgt) >= 0


def _first_rule(rules: list[tuple[np.ndarray, Any]], n_series: int) -> np.ndarray:
    """Where any of the rules' masks holds (the one-series ``if`` chain returned early)."""
    fired = np.zeros(n_series, dtype=bool)
    for mask, _ in rules:
        fired |= mask
    return fired


_INSUFFICIENT = _OUT["insufficient_data"]
_DEFINED = np.int8(-1)


def status_core(
    p: Points, tgt: np.ndarray, ty: np.ndarray, d: np.ndarray, *, min_points: int = 2
) -> dict[str, np.ndarray]:
    """Current status index CS = (A_now − b)/(T − b) against the expected share, per series.

    Arrays: ``tgt``, ``ty`` (target and its year, NaN: none) and ``d`` (±1) have one entry per
    series of ``p``. Returns per-series ``status_index`` (1 once the target is met, NaN where
    undefined), ``status_class`` (int8 codes of :data:`OUTCOMES`), ``status_reason`` (int8
    codes of ``measures.REASONS``, −1 = defined) and ``expected_share``: the plan's own share
    E = min((P_now − b)/(T − b), 1) where the plan sets a target P_now for the latest point's
    year — so "on track" is exactly "this year's target met" — else the share of the period
    elapsed, s = min((t_now − t_0)/(t_T − t_0), 1) (a plan with a plan-end target only). Such
    a year is classed by the pro-rata bands on CS/s (:func:`~kpianalysis.analysis.measures.\
pro_rata_class_core`: ``on_track``, ``roughly_on_track``, ``needs_improvement``), the very rate
    and bands of the attainment table's ``interim_class``, so the two cannot disagree. CS ≤ 0
    is ``"no_progress"``. In or after the target year a target not met is
    ``"target_missed"``: no time is left to be "behind".

    Written as masks, one per branch of the rule in order (:func:`_select` keeps the first that
    holds), so that one series and a panel of millions take the same path without a Python loop.
    """
    n_series = len(p.b)
    no_target = np.isnan(tgt) | np.isnan(ty)
    met = _met(p, tgt, d)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rules = [
            (p.n < min_points, (_INSUFFICIENT, REASON_CODE["insufficient_points"])),
            (no_target, (_INSUFFICIENT, REASON_CODE["no_target"])),
            (met, (_OUT["target_achieved"], _DEFINED)),
            (tgt == p.base_value, (_INSUFFICIENT, REASON_CODE["target_equals_baseline"])),
            (ty <= p.base_year, (_INSUFFICIENT, REASON_CODE["target_year_not_after_base"])),
        ]
        fired = _first_rule(rules, n_series)
        cs = np.minimum((p.now - p.base_value) / (tgt - p.base_value), 1.0)
        elapsed = (p.now_year - p.base_year) / (ty - p.base_year)
        planned = (p.plan_now - p.base_value) / (tgt - p.base_value)
        expected = np.minimum(_pick(np.isnan(p.plan_now), elapsed, planned), 1.0)
        # no progress when cs ≤ 0 (counted twice), else on track when cs ≥ expected
        cls = np.array(
            [_OUT["behind"], _OUT["on_track"], _OUT["no_progress"], _OUT["no_progress"]],
            dtype=np.int8,
        )[_count(cs >= expected, cs <= 0, cs <= 0)]
        # A year without a target of its own: the pro-rata bands of the attainment table's
        # interim_class on the same rate cs/elapsed (measures.interim_core), one kernel, so
        # the appendix cannot say 遅れ where the summary says 概ね順調.
        straight = np.isnan(p.plan_now) & (cs > 0)
        cls = _pick(straight, _PRO_RATA_LUT[pro_rata_class_core(cs / elapsed)], cls)
        cls = _pick(p.now_year >= ty, _OUT["target_missed"], cls)
        achieved = met & ~(p.n < min_points) & ~no_target
        return {
            "status_index": _pick(fired, _pick(achieved, 1.0, np.full(n_series, np.nan)), cs),
            "status_class": _select([(m_, v[0]) for m_, v in rules], cls, n_series),
            "status_reason": _select([(m_, v[1]) for m_, v in rules], _DEFINED, n_series),
            "expected_share": _blank(fired, expected),
        }


def anticipated_core(
    p: Points, tgt: np.ndarray, ty: np.ndarray, d: np.ndarray, *, min_points: int = 3
) -> dict[str, np.ndarray]:
    """Anticipated progress AP = (Â_T − b)/(T − b), per series, from the points up to t_T.

    Arrays as for :func:`status_core`; ``d`` is not read (the sign of T − b carries the
    direction) and is taken so that every kernel has the same signature. Returns per-series
    ``anticipated_progress``, ``anticipated_class``, ``anticipated_reason``,
    ``anticipated_projection`` (Â_T) and ``anticipated_rule`` (int8: 0 observed at the target
    year, 1 weighted regression on the year, 2 weighted regression on the plan, −1 none).

    Where the plan sets a target for every point used (and they are not all one value), the
    line is fitted against the plan's values instead of the years and read at the plan-end
    target: the plan's own trajectory is the clock, so a KPI keeping pace with a plan that
    speeds up later is not told to accelerate. For a plan on a straight line the two are the
    same line. In or after the target year nothing is anticipated any more: the class is
    ``"target_achieved"`` or ``"target_missed"`` by the value observed then (``"maintain"`` or
    ``"target_missed"`` when that year has no actual).

    The weighted regression runs only for the series that need one, renumbered 0..n_fit − 1,
    as grouped sums (:func:`_weighted_projection`) over their points in the order of
    :func:`points_core`; a series' points up to the target year are a prefix of its points,
    so only the few series with later points are counted point by point.
    """
    n_series = len(p.b)
    no_target = np.isnan(tgt) | np.isnan(ty)
    k, start, yr, val, m = p.k, p.start, p.yr, p.val, len(p.g)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        used_obs = k.copy()
        cut = (k > 0) & ~(p.yr_s[p.last_obs] <= ty)
        used_obs[cut] = _count_prefix(cut, start, k, yr, ty, np.less_equal)
        base_used = p.has_base & (p.by <= ty)
        n_use = used_obs + base_used
        last_used = _pick(used_obs > 0, start + used_obs - 1, m)
        last_year = _pick(used_obs > 0, p.yr_s[last_used], _pick(base_used, p.by, np.nan))
        last_value = _pick(used_obs > 0, p.val_s[last_used], _pick(base_used, p.b, np.nan))
        rules = [
            (no_target, REASON_CODE["no_target"]),
            (n_use < min_points, REASON_CODE["insufficient_points"]),
            (tgt == p.base_value, REASON_CODE["target_equals_baseline"]),
        ]
        fired = _first_rule(rules, n_series)
        at_target = last_year == ty
        fit = ~fired & ~at_target
        # Each fitted series' points (the baseline first, then the used actuals by year) in
        # the order the sums add them; the others' projection is NaN, as their empty sums give.
        fit_ids = np.flatnonzero(fit)
        fit_code = np.cumsum(fit) - 1
        fit_base = np.flatnonzero(fit & p.has_base)
        pos, owner = _ranges(start[fit_ids], used_obs[fit_ids])
        p_series = np.concatenate([fit_base, fit_ids[owner]])
        pg = np.concatenate([fit_code[fit_base], owner])
        p_year = np.concatenate([p.by[fit_base], yr[pos]])
        p_val = np.concatenate([p.b[fit_base], val[pos]])
        p_plan = np.concatenate([p.b[fit_base], p.pl[pos]])
        tau = p_year - ty[p_series]
        tau0 = p.base_year[p_series] - ty[p_series]
        on_plan = _on_plan(len(fit_ids), pg, p_plan)
        x = _pick(on_plan[pg], p_plan - tgt[p_series], tau)
        projection = np.full(n_series, np.nan)
        projection[fit_ids] = _weighted_projection(x, p_val, tau0 / tau, pg, len(fit_ids))
        projection = _pick(at_target, last_value, projection)
        ap = (projection - p.base_value) / (tgt - p.base_value)
        # reverse (ap < 0), no progress (ap = 0), accelerate (0 < ap < 1), maintain (ap ≥ 1)
        cls = np.array(
            [_OUT["reverse_trend"], _OUT["no_progress"], _OUT["accelerate"], _OUT["maintain"]],
            dtype=np.int8,
        )[_count(ap >= 0, ap > 0, ap >= 1)]
        over = cls != _OUT["maintain"]
        over &= p.now_year >= ty
        cls = _pick(over, _OUT["target_missed"], cls)
        cls = _pick(at_target & (ap >= 1), _OUT["target_achieved"], cls)
        rule = np.array([1, 0, -1, -1], dtype=np.int8)[_count(at_target, fired, fired)]
        rule[fit_ids[on_plan]] = 2
        return {
            "anticipated_progress": _blank(fired, ap),
            "anticipated_class": _pick(fired, _INSUFFICIENT, cls).astype(np.int8),
            "anticipated_reason": _select(rules, _DEFINED, n_series),
            "anticipated_projection": _blank(fired, projection),
            "anticipated_rule": rule,
        }


def _on_plan(n_fit: int, pg: np.ndarray, p_plan: np.ndarray) -> np.ndarray:
    """Per fitted series (numbered as ``pg``): does the plan give every point a value, and not
    one value for all? (Then :func:`anticipated_core` fits against the plan.)

    Judged on the last used point's plan value against the first's, so that a plan that is
    flat over the points falls back to the years rather than to a regression on one value.
    """
    missing = np.bincount(pg[np.isnan(p_plan)], minlength=n_fit)
    first = np.full(n_fit, np.nan)
    last = np.full(n_fit, np.nan)
    if len(pg):
        first[pg[::-1]] = p_plan[::-1]  # last write wins: the first point's value
        last[pg] = p_plan
    return (missing == 0) & (first != last)


def cagr_core(
    p: Points,
    tgt: np.ndarray,
    ty: np.ndarray,
    d: np.ndarray,
    *,
    min_points: int = 2,
    thresholds: tuple[float, float, float] | None = None,
) -> dict[str, np.ndarray]:
    """CAGR ratio R = d·CAGR_a/|CAGR_r| (with a target) or d·CAGR_a (without), per series.

    Arrays as for :func:`status_core`; ``tgt`` NaN means "no target" (the CAGR alone).
    ``thresholds`` replaces both :data:`CAGR_THRESHOLDS` and :data:`CAGR_NO_TARGET_THRESHOLDS`.
    Returns per-series ``cagr_ratio``, ``cagr_class``, ``cagr_reason``, ``cagr_actual`` and
    ``cagr_required`` (NaN without a target).

    The required growth is the plan's own up to the latest point where the plan sets a target
    P_now for that year, CAGR_r = (P_now / y_0)^(1/(t_now − t_0)) − 1 (R ≥ 1 exactly when this
    year's target is met); else the growth from the base to the target over its whole period
    (Open SDG). Both are the same in the target year. No growth at all (d·CAGR_a = 0) is
    ``"no_progress"``, not the least band of progress.

    The signs of all points (and the target) decide whether a growth rate exists: the
    smallest point is ≤ 0 when any is, the largest ≥ 0 when any is, and counting the
    non-positive actuals (a few) is much cheaper than a grouped min and max over all of them.
    The power is taken only where the rule reaches it (:func:`_growth`, always the ufunc).
    """
    n_series = len(p.b)
    g, val, has_base, b = p.g, p.val, p.has_base, p.b
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        has_tgt = ~np.isnan(tgt)
        nonpos = val <= 0
        g_nonpos = g[nonpos]
        n_nonpos = np.bincount(g_nonpos, minlength=n_series)
        n_neg = np.bincount(g_nonpos[val[nonpos] < 0], minlength=n_series)
        # the plan's value now counts as a point when the required growth is read from it
        planned = has_tgt & ~np.isnan(p.plan_now) & (p.now_year > p.base_year)
        planned &= p.plan_now != p.base_value
        any_le0 = (n_nonpos > 0) | (has_base & (b <= 0)) | (has_tgt & (tgt <= 0))
        any_le0 |= planned & (p.plan_now <= 0)
        any_ge0 = (p.k > n_neg) | (has_base & (b >= 0)) | (has_tgt & (tgt >= 0))
        any_ge0 |= planned & (p.plan_now >= 0)
        rules = [
            (p.n < max(min_points, 2), (_INSUFFICIENT, REASON_CODE["insufficient_points"])),
            (has_tgt & _met(p, tgt, d), (_OUT["target_achieved"], _DEFINED)),
            (any_le0 & any_ge0, (_OUT["not_applicable_sign_change"], REASON_CODE["sign_change"])),
            (
                ~any_ge0,
                (_OUT["negative_series_needs_level_measure"], REASON_CODE["negative_values"]),
            ),
        ]
        fired = _first_rule(rules, n_series)
        cagr_a = np.full(n_series, np.nan)
        live = np.flatnonzero(~fired)
        cagr_a[live] = _growth(
            p.now[live] / p.base_value[live], p.now_year[live] - p.base_year[live]
        )
        not_after = np.isnan(ty) | (ty <= p.base_year)
        reach = ~fired & has_tgt & ~not_after
        cagr_r = np.full(n_series, np.nan)
        at = np.flatnonzero(reach)
        cagr_r[at] = _growth(tgt[at] / p.base_value[at], ty[at] - p.base_year[at])
        at = np.flatnonzero(reach & planned)
        cagr_r[at] = _growth(p.plan_now[at] / p.base_value[at], p.now_year[at] - p.base_year[at])
        rules_t = [
            (not_after, (_INSUFFICIENT, REASON_CODE["target_year_not_after_base"])),
            (cagr_r == 0, (_INSUFFICIENT, REASON_CODE["target_equals_baseline"])),
        ]
        ratio = d * cagr_a / np.abs(cagr_r)
        plain = d * cagr_a
        cls = _pick(
            has_tgt,
            _bands_code(ratio, thresholds or CAGR_THRESHOLDS),
            _bands_code(plain, thresholds or CAGR_NO_TARGET_THRESHOLDS),
        ).astype(np.int8)
        cls = _pick(plain == 0, _OUT["no_progress"], cls)
        all_rules = [*rules, *[(mask & has_tgt, v) for mask, v in rules_t]]
        fired_all = _first_rule(all_rules, n_series)
        return {
            "cagr_ratio": _blank(fired_all, _pick(has_tgt, ratio, plain)),
            "cagr_class": _select([(m_, v[0]) for m_, v in all_rules], cls, n_series),
            "cagr_reason": _select([(m_, v[1]) for m_, v in all_rules], _DEFINED, n_series),
            "cagr_actual": _blank(fired_all, cagr_a),
            "cagr_required": _blank(fired_all, cagr_r),
        }


def miss_share_core(
    p: Points,
    tgt: np.ndarray,
    ty: np.ndarray,
    d: np.ndarray,
    *,
    window: int = _MISS_WINDOW,
    min_points: int = 2,
    bands: tuple[float, float] = _MISS_BANDS,
) -> dict[str, np.ndarray]:
    """Miss share (T − P)/(T − A_now) of the recent change extrapolated to t_T, per series.

    Arrays as for :func:`status_core`. The change runs from the first point at or after
    t_now − ``window`` to the latest; without interim targets it goes on at its yearly slope,
    P = A_now + slope·max(t_T − t_now, 0) (Destatis). Where the plan sets a target for both
    ends of the window (P_first, P_now, not equal), the change goes on at its pace relative to
    the plan's over the window, along the rest of the plan's own path:
    P = A_now + (A_now − A_first)/(P_now − P_first)·(T − P_now). For a plan on a straight line
    the two are the same. A change of exactly 0 is ``"no_progress"``, not the wrong direction;
    in or after the target year a target not met is ``"target_missed"``. Returns per-series
    ``miss_share``, ``miss_share_class``, ``miss_share_reason``, ``miss_projection`` (P) and
    ``slope_per_year``.

    The points before the window are a prefix of each series' points too: none when the
    first point is in it (the usual case), so only the other series are counted point by point.
    """
    n_series = len(p.b)
    k, start, yr_s, val_s = p.k, p.start, p.yr_s, p.val_s
    no_target = np.isnan(tgt) | np.isnan(ty)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        window_start = p.now_year - window
        before = np.zeros(n_series, dtype=np.intp)
        cut = (k > 0) & ~(yr_s[p.first_obs] >= window_start)
        before[cut] = _count_prefix(cut, start, k, p.yr, window_start, np.less)
        base_first = p.has_base & (p.by >= window_start)
        win_obs = _pick(before < k, start + before, len(p.g))
        first_year = _pick(base_first, p.by, yr_s[win_obs])
        first_value = _pick(base_first, p.b, val_s[win_obs])
        first_pos = _pick(base_first, 0, p.has_base.astype(np.intp) + before)
        rules = [
            (no_target, (_INSUFFICIENT, REASON_CODE["no_target"])),
            (p.n < max(min_points, 2), (_INSUFFICIENT, REASON_CODE["insufficient_points"])),
            (_met(p, tgt, d), (_OUT["target_achieved"], _DEFINED)),
            (first_pos == p.n - 1, (_INSUFFICIENT, REASON_CODE["insufficient_points"])),
        ]
        fired = _first_rule(rules, n_series)
        slope = (p.now - first_value) / (p.now_year - first_year)
        projection = p.now + slope * np.maximum(ty - p.now_year, 0)
        plan_first = _pick(base_first, p.b, p.pl_s[win_obs])
        plan_change = p.plan_now - plan_first
        on_plan = np.flatnonzero(~np.isnan(plan_change) & (plan_change != 0))
        pace = (p.now[on_plan] - first_value[on_plan]) / plan_change[on_plan]
        projection[on_plan] = p.now[on_plan] + pace * (tgt[on_plan] - p.plan_now[on_plan])
        share = (tgt - projection) / (tgt - p.now)
        lo_band, hi_band = bands
        # wrong direction when d·slope ≤ 0 (counted three times), else by the share's band
        wrong = d * slope <= 0
        cls = np.array(
            [_OUT["right_direction_insufficient"], _OUT["nearly_on_track"], _OUT["on_track"]]
            + [_OUT["wrong_direction"]] * 4,
            dtype=np.int8,
        )[_count(share <= hi_band, share < lo_band, wrong, wrong, wrong)]
        cls = _pick(slope == 0, _OUT["no_progress"], cls)
        cls = _pick(p.now_year >= ty, _OUT["target_missed"], cls)
        return {
            "miss_share": _blank(fired, share),
            "miss_share_class": _select([(m_, v[0]) for m_, v in rules], cls, n_series),
            "miss_share_reason": _select([(m_, v[1]) for m_, v in rules], _DEFINED, n_series),
            "miss_projection": _blank(fired, projection),
            "slope_per_year": _blank(fired, slope),
        }


#: Each kernel with the outputs it gives (panel_core runs only those asked for).
_KERNELS: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (status_core, ("status_index", "status_class", "status_reason", "expected_share")),
    (
        anticipated_core,
        (
            "anticipated_progress",
            "anticipated_class",
            "anticipated_reason",
            "anticipated_projection",
            "anticipated_rule",
        ),
    ),
    (cagr_core, ("cagr_ratio", "cagr_class", "cagr_reason", "cagr_actual", "cagr_required")),
    (
        miss_share_core,
        (
            "miss_share",
            "miss_share_class",
            "miss_share_reason",
            "miss_projection",
            "slope_per_year",
        ),
    ),
)


def _base_outputs(p: Points) -> dict[str, np.ndarray]:
    """What every method reports: points, base year and value, and where the base came from."""
    no_points = p.n == 0
    return {
        "n_points": p.n,
        "base_year": p.base_year,
        "base_value": p.base_value,
        # codes of _BASE_SOURCES: baseline 0, first actual 1, none −1
        "base_source": np.array([1, 0, -1, -1], dtype=np.int8)[
            _count(p.has_base, no_points, no_points)
        ],
    }


def panel_core(
    group: np.ndarray,
    year: np.ndarray,
    value: np.ndarray,
    baseline: np.ndarray,
    baseline_year: np.ndarray,
    target: np.ndarray,
    target_year: np.ndarray,
    d: np.ndarray,
    outputs: Collection[str] | None = None,
    plan: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The four assessments for every series; float arrays with NaN for missing.

    ``group`` (intp, one per observation) indexes the per-series arrays ``baseline`` ...
    ``d``; ``year`` may be integer (read as float); ``plan`` (optional, one per observation)
    is the plan's target for the observation's year, its trajectory (NaN: none). Returns
    per-series arrays: values, int8 outcome codes (:data:`OUTCOMES`), int8 reason codes
    (``measures.REASONS``, −1 = none) and the details; only those named in ``outputs`` when
    given (a caller that needs a few of the 23 arrays does not pay for the others, nor for a
    kernel none of them comes from).

    The kernels (:func:`status_core`, :func:`anticipated_core`, :func:`cagr_core`,
    :func:`miss_share_core`) run block by block of series, the observations of a block being a
    slice: a block's temporaries (a few hundred kB each) stay in the cache and in memory the
    allocator reuses, where whole-panel temporaries cost a page fault per 4 kB, each time.
    Series are independent, so the results are the same.
    """
    n_series = len(baseline)
    if len(group) > 1 and not np.all(group[1:] >= group[:-1]):
        # Observations grouped by series (stable: a series keeps its rows' order).
        order = np.argsort(group, kind="stable")
        group, year, value = group[order], year[order], value[order]
        plan = None if plan is None else plan[order]
    kernels = [
        kernel
        for kernel, names in _KERNELS
        if outputs is None or any(name in outputs for name in names)
    ]
    out: dict[str, np.ndarray] = {}
    for s0 in range(0, max(n_series, 1), _BLOCK):
        s1 = min(s0 + _BLOCK, n_series)
        o0, o1 = np.searchsorted(group, [s0, s1])
        p = points_core(
            group[o0:o1] - s0,
            np.asarray(year[o0:o1], dtype=float),
            value[o0:o1],
            baseline[s0:s1],
            baseline_year[s0:s1],
            None if plan is None else np.asarray(plan[o0:o1], dtype=float),
        )
        part = _base_outputs(p)
        tgt, ty, dd = target[s0:s1], target_year[s0:s1], d[s0:s1]
        for kernel in kernels:
            part.update(kernel(p, tgt, ty, dd))
        if not out:
            out = {
                name: np.empty(n_series, dtype=x.dtype)
                for name, x in part.items()
                if outputs is None or name in outputs
            }
        for name, x in out.items():
            x[s0:s1] = part[name]
    return out


def factorize_runs(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(values)`` (same codes, same uniques), faster on text in long runs.

    Observations usually come grouped by programme, so their ``programme_id`` is a few thousand
    runs of one value; comparing each value with the one before (Arrow) and factorizing the
    first of each run costs a fraction of hashing a million strings. Other columns, and text
    without long runs, go to :func:`pandas.factorize`.

    Examples
    --------
    >>> codes, uniques = factorize_runs(pd.Series(["b"] * 3 + ["a"] * 2 + ["b"], dtype="str"))
    >>> codes.tolist(), uniques.tolist()
    ([0, 0, 0, 1, 1, 0], ['b', 'a'])
    """
    n = len(values)
    dtype = values.dtype
    if n < 1024 or not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return pd.factorize(values)
    arr = pa.chunked_array(values.array.__arrow_array__())
    arr = arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
    # A missing value starts a run of its own (null compares null): pd.factorize codes it −1.
    new_run = pc.fill_null(pc.not_equal(arr[1:], arr[:-1]), True)
    starts = np.concatenate([[0], np.flatnonzero(new_run.to_numpy(zero_copy_only=False)) + 1])
    if len(starts) > n // 8:
        return pd.factorize(values)
    head_codes, uniques = pd.factorize(values.iloc[starts])
    return np.repeat(head_codes, np.diff(starts, append=n)), uniques


def key_codes(
    series_keys: list[pd.Series], obs_keys: list[pd.Series]
) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer codes of composite keys, comparable between the two tables, and their range.

    Each table's column is factorized on its own (fast on Arrow strings); only the few distinct
    values of the series table are then looked up among the observations'.
    """
    s_code = np.zeros(len(series_keys[0]) if series_keys else 0, dtype=np.int64)
    o_code: np.ndarray | None = None
    size = 1
    for sk, ok in zip(series_keys, obs_keys, strict=True):
        oc, offset, ou = _obs_key_codes(ok)
        sc, su = factorize_runs(sk)
        pos = pd.Index(ou).get_indexer(su)
        fresh = pos < 0  # values only the series table has
        pos[fresh] = len(ou) + np.arange(int(fresh.sum()))
        width = len(ou) + int(fresh.sum())
        s_code = s_code * width + np.where(sc < 0, 0, pos[np.maximum(sc, 0)])
        # The codes are oc − offset (oc itself, a new array, when offset is None); built in
        # place: no million-element temporaries.
        if o_code is None:
            o_code = (
                oc.astype(np.int64, copy=False)
                if offset is None
                else np.subtract(oc, offset, dtype=np.int64)
            )
        else:
            o_code *= width
            o_code += oc
            if offset is not None:
                o_code -= offset
        size *= max(width, 1)
    if o_code is None:
        o_code = np.zeros(len(obs_keys[0]) if obs_keys else 0, dtype=np.int64)
    return s_code, o_code, size


def _obs_key_codes(values: pd.Series) -> tuple[np.ndarray, int | None, Any]:
    """Codes of one key column of the observations, as ``codes − offset``, and the values the
    codes stand for.

    Integers in a narrow range are their own codes (the column itself, less the smallest, the
    offset): no hashing, no copy; the codes only need to be consistent within the column.
    Otherwise the codes of :func:`factorize_runs`, a new array (offset ``None``).
    """
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu" and np.can_cast(dtype, np.int64):
        v = values.to_numpy()
        lo, hi = (int(v.min()), int(v.max())) if len(v) else (0, -1)
        if hi - lo < 2 * len(v) + 1024:
            return v, lo, pd.RangeIndex(lo, hi + 1)
    codes, uniques = factorize_runs(values)
    return codes, None, uniques


def series_index(s_code: np.ndarray, o_code: np.ndarray, size: int) -> np.ndarray:
    """Position of each observation's series in the series table (−1: none).

    Raises :class:`ParameterError` when a key appears twice in the series table.
    """
    positions = np.arange(len(s_code))
    if size <= 8 * (len(s_code) + len(o_code)) + 1024:
        lookup = np.full(int(size), -1, dtype=np.intp)
        lookup[s_code] = positions
        if np.any(lookup[s_code] != positions):
            raise ParameterError("each series must appear once in the series table")
        return lookup[o_code]
    index = pd.Index(s_code)
    if not index.is_unique:
        raise ParameterError("each series must appear once in the series table")
    return index.get_indexer(o_code)


def _attribute(source: pd.DataFrame, spec: Any, name: str) -> np.ndarray:
    n = len(source)
    if spec is None:
        return np.full(n, np.nan)
    if isinstance(spec, str):
        if spec not in source.columns:
            raise ParameterError(f"{name}: no column {spec!r}")
        return source[spec].to_numpy(dtype=float, na_value=np.nan)
    return np.full(n, np.nan if pd.isna(spec) else float(spec))


def assess_panel(
    df: pd.DataFrame,
    series: pd.DataFrame | None = None,
    *,
    by: Sequence[str] = ("programme_id", "indicator_id"),
    x: str = "fiscal_year",
    y: str = "actual",
    baseline: str | float | None = None,
    baseline_year: str | int | None = None,
    target: str | float | None = None,
    target_year: str | int | None = None,
    direction: str = "increase",
    details: bool = False,
    plan: str | None = None,
) -> pd.DataFrame:
    """The four assessments of :func:`assess_series` for every series of a panel at once.

    Gives exactly what :func:`assess_series` gives series by series (same values to the last
    bit, same outcomes and reasons), computed with grouped sums instead of a loop over series.

    Parameters
    ----------
    df
        Observations in long form: the key columns ``by``, the fiscal year ``x`` and the actual
        ``y`` (NaN = not known). Rows need not be sorted.
    series
        One row per series with the key columns and the per-series columns named below; a
        series without observations still gets its row (``"insufficient_data"``). ``None``:
        the series are the groups of ``df`` (first appearance order) and the per-series columns
        are read from each group's first row.
    by
        Key columns identifying a series.
    x, y
        Year and value columns of ``df``.
    baseline, baseline_year, target, target_year
        Column names (of ``series``, else of ``df``), scalars applying to every series, or
        ``None`` (absent). The target is the one assessed against (for example the plan-end
        target) and ``target_year`` its fiscal year.
    direction
        A column of ``"increase"``/``"decrease"``, or one of these for every series.
    plan
        A column of ``df``: the plan's target for each observation's year (its interim
        targets, the trajectory the methods measure against; NaN: none). ``None``: no
        trajectory — the share of time elapsed and the methods' own extrapolations.
    details
        Also return the details of :class:`Assessment`: ``expected_share``,
        ``anticipated_projection``, ``anticipated_rule``, ``cagr_actual``, ``cagr_required``,
        ``miss_projection``, ``slope_per_year``.

    Returns
    -------
    pandas.DataFrame
        One row per series: the keys, ``n_points``, ``base_year``, ``base_value``,
        ``base_source``, then ``status_index``/``status_class``/``status_reason``,
        ``anticipated_progress``/``anticipated_class``/``anticipated_reason``,
        ``cagr_ratio``/``cagr_class``/``cagr_reason``, ``miss_share``/``miss_share_class``/
        ``miss_share_reason``. Classes are categorical over :data:`OUTCOMES`, reasons over
        ``measures.REASONS`` (missing where the value is defined).

    Raises
    ------
    ParameterError
        A missing column, an unknown direction, two values for one series and year, or a key
        repeated in ``series``.

    Examples
    --------
    >>> obs = pd.DataFrame({"kpi": [1, 1, 1], "fiscal_year": [2021, 2022, 2023],
    ...                     "actual": [4.0, 7.0, 9.0]})
    >>> r = assess_panel(obs, by=["kpi"], baseline=4, baseline_year=2020, target=13,
    ...                  target_year=2023)
    >>> round(float(r["cagr_ratio"].iloc[0]), 6), r["cagr_class"].iloc[0]
    (0.644929, 'moderate_progress')
    """
    by = [by] if isinstance(by, str) else list(by)
    for col in [*by, x, y, *([plan] if plan is not None else [])]:
        if col not in df.columns:
            raise ParameterError(f"no column {col!r} in the observations")
    obs_keys = [df[c] for c in by]
    if series is not None:
        missing = [c for c in by if c not in series.columns]
        if missing:
            raise ParameterError(f"no key column {missing[0]!r} in the series table")
        s_code, o_code, size = key_codes([series[c] for c in by], obs_keys)
        group = series_index(s_code, o_code, size)
        source = series.reset_index(drop=True)
    else:
        _, o_code, _ = key_codes([c[:0] for c in obs_keys], obs_keys)
        group, uniques = pd.factorize(o_code)
        first = np.empty(len(uniques), dtype=np.intp)
        first[group[::-1]] = np.arange(len(group))[::-1]  # last write wins: the first row
        source = df.iloc[first].reset_index(drop=True)
    if isinstance(direction, str) and direction in source.columns:
        d = direction_sign(source[direction])
    else:
        d = np.broadcast_to(direction_sign(direction), (len(source),))
    present = group >= 0
    # Numeric years go as they are (panel_core reads them as float block by block), and
    # nothing is copied when every observation belongs to a series.
    x_dtype = df[x].dtype
    if isinstance(x_dtype, np.dtype) and x_dtype.kind in "iuf":
        years = df[x].to_numpy()
    else:
        years = df[x].to_numpy(dtype=float)
    values = df[y].to_numpy(dtype=float, na_value=np.nan)
    planned = None if plan is None else df[plan].to_numpy(dtype=float, na_value=np.nan)
    if not present.all():
        group, years, values = group[present], years[present], values[present]
        planned = None if planned is None else planned[present]
    core = panel_core(
        np.asarray(group, dtype=np.intp),
        years,
        values,
        _attribute(source, baseline, "baseline"),
        _attribute(source, baseline_year, "baseline_year"),
        _attribute(source, target, "target"),
        _attribute(source, target_year, "target_year"),
        np.asarray(d, dtype=float),
        outputs=None if details else _FRAME_OUTPUTS,
        plan=planned,
    )
    return _panel_frame(source[by], core, list(REASONS), details)


#: What _panel_frame shows without the details.
_FRAME_OUTPUTS = frozenset(
    {
        *("n_points", "base_year", "base_value", "base_source"),
        *("status_index", "status_class", "status_reason"),
        *("anticipated_progress", "anticipated_class", "anticipated_reason"),
        *("cagr_ratio", "cagr_class", "cagr_reason"),
        *("miss_share", "miss_share_class", "miss_share_reason"),
    }
)


def _panel_frame(
    keys: pd.DataFrame, core: dict[str, np.ndarray], reasons: list[str], details: bool
) -> pd.DataFrame:
    out: dict[str, Any] = {c: keys[c].array for c in keys.columns}
    out["n_points"] = core["n_points"]
    base_year = core["base_year"]
    out["base_year"] = pd.arrays.IntegerArray(
        np.nan_to_num(base_year).astype(np.int64), np.isnan(base_year)
    )
    out["base_value"] = core["base_value"]
    out["base_source"] = pd.Categorical.from_codes(core["base_source"], list(_BASE_SOURCES))
    for value, prefix in (
        ("status_index", "status"),
        ("anticipated_progress", "anticipated"),
        ("cagr_ratio", "cagr"),
        ("miss_share", "miss_share"),
    ):
        out[value] = core[value]
        out[f"{prefix}_class"] = pd.Categorical.from_codes(core[f"{prefix}_class"], OUTCOMES)
        out[f"{prefix}_reason"] = pd.Categorical.from_codes(core[f"{prefix}_reason"], reasons)
    if details:
        for name in (
            "expected_share",
            "anticipated_projection",
            "cagr_actual",
            "cagr_required",
            "miss_projection",
            "slope_per_year",
        ):
            out[name] = core[name]
        out["anticipated_rule"] = pd.Categorical.from_codes(core["anticipated_rule"], _RULES)
    return pd.DataFrame(out, index=keys.index)
