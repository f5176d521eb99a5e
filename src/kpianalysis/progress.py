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

from typing import Any, NamedTuple

import numpy as np

from kpianalysis.attainment import _direction_sign
from kpianalysis.errors import ParameterError

__all__ = [
    "CAGR_NO_TARGET_THRESHOLDS",
    "CAGR_THRESHOLDS",
    "OUTCOME_LABELS",
    "Assessment",
    "anticipated_progress",
    "assess_series",
    "cagr_assessment",
    "current_status",
    "miss_share_assessment",
]

#: Outcome keys with Japanese and English labels.
OUTCOME_LABELS: dict[str, tuple[str, str]] = {
    "target_achieved": ("目標達成", "target achieved"),
    # current status index
    "on_track": ("順調", "on track"),
    "behind": ("遅れ", "behind schedule"),
    "no_progress": ("進捗なし・後退", "no progress or regression"),
    # anticipated progress
    "maintain": ("現状維持で達成見込み", "maintain: target expected to be met"),
    "accelerate": ("加速が必要", "accelerate"),
    "reverse_trend": ("傾向の反転が必要", "reverse the trend"),
    # CAGR ratio (Open SDG status names)
    "substantial_progress": ("大きく前進", "substantial progress"),
    "moderate_progress": ("ある程度前進", "moderate progress"),
    "limited_progress": ("わずかに前進", "limited progress"),
    "deterioration": ("悪化", "deterioration"),
    # miss share (Destatis weather symbols)
    "nearly_on_track": ("ほぼ順調", "nearly on track"),
    "right_direction_insufficient": ("方向は正しいが不十分", "right direction, not enough"),
    "wrong_direction": ("逆方向", "wrong direction"),
    # cannot apply
    "insufficient_data": ("データ不足", "insufficient data"),
    "not_applicable_sign_change": ("適用不可（符号の変化）", "not applicable (sign change)"),
    "negative_series_needs_level_measure": (
        "負の系列のため水準による指標が必要",
        "negative series: needs a level-based measure",
    ),
}

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


class _Series(NamedTuple):
    years: np.ndarray
    values: np.ndarray
    base_year: int | None
    base_value: float
    base_source: str | None


def _points(years: Any, values: Any, baseline: float | None, baseline_year: int | None) -> _Series:
    y = np.asarray(years, dtype=int).ravel()
    v = np.asarray(values, dtype=float).ravel()
    if y.shape != v.shape:
        raise ParameterError("years and values must have the same length")
    keep = ~np.isnan(v)
    y, v = y[keep], v[keep]
    has_base = baseline is not None and not np.isnan(baseline) and baseline_year is not None
    if has_base:
        later = y > baseline_year  # the baseline stands for its own year
        y = np.concatenate([[baseline_year], y[later]])
        v = np.concatenate([[float(baseline)], v[later]])
    order = np.argsort(y, kind="stable")
    y, v = y[order], v[order]
    if len(np.unique(y)) != len(y):
        raise ParameterError("one value per fiscal year is expected")
    if len(y) == 0:
        return _Series(y, v, None, float("nan"), None)
    return _Series(y, v, int(y[0]), float(v[0]), "baseline" if has_base else "first_actual")


def _na(outcome: str, reason: str, **detail: Any) -> Assessment:
    return Assessment(float("nan"), outcome, reason, detail)


def _met(d: float, current: float, target: float) -> bool:
    return bool(d * (current - target) >= 0)


def current_status(
    years: Any,
    values: Any,
    target: float,
    target_year: int | None,
    *,
    baseline: float | None = None,
    baseline_year: int | None = None,
    direction: str = "increase",
    min_points: int = 2,
) -> Assessment:
    """ESCAP-style current status index, compared with the share of the period elapsed.

    CS = (A_now − b)/(T − b), capped at 1 once the target is met; expected share
    E = (t_now − t_0)/(t_T − t_0). Outcomes: ``"target_achieved"``, ``"on_track"`` (CS ≥ E),
    ``"behind"`` (0 < CS < E), ``"no_progress"`` (CS ≤ 0). Level-based, so it also works for
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
    min_points
        Minimum number of points including the baseline (default 2).

    Examples
    --------
    >>> a = current_status([2021, 2022, 2023], [4, 7, 9], 13, 2023, baseline=4, baseline_year=2020)
    >>> round(a.value, 4), a.outcome
    (0.5556, 'behind')
    """
    d = float(_direction_sign(direction))
    s = _points(years, values, baseline, baseline_year)
    n = len(s.years)
    base = {
        "n_points": n,
        "base_year": s.base_year,
        "base_value": s.base_value,
        "base_source": s.base_source,
    }
    if n < min_points:
        return _na("insufficient_data", "insufficient_points", **base)
    if target is None or np.isnan(target) or target_year is None:
        return _na("insufficient_data", "no_target", **base)
    now_year, now = int(s.years[-1]), float(s.values[-1])
    if _met(d, now, target):
        return Assessment(1.0, "target_achieved", None, base)
    if target == s.base_value:
        return _na("insufficient_data", "target_equals_baseline", **base)
    if target_year <= s.base_year:
        return _na("insufficient_data", "target_year_not_after_base", **base)
    cs = min((now - s.base_value) / (target - s.base_value), 1.0)
    expected = min((now_year - s.base_year) / (target_year - s.base_year), 1.0)
    if cs <= 0:
        outcome = "no_progress"
    elif cs >= expected:
        outcome = "on_track"
    else:
        outcome = "behind"
    return Assessment(cs, outcome, None, {**base, "expected_share": expected})


def _weighted_fit(t: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted least-squares line: (intercept at the weighted mean year, slope), and that year."""
    tm = float(np.sum(w * t) / np.sum(w))
    ym = float(np.sum(w * y) / np.sum(w))
    slope = float(np.sum(w * (t - tm) * (y - ym)) / np.sum(w * (t - tm) ** 2))
    return ym - slope * tm, slope


def anticipated_progress(
    years: Any,
    values: Any,
    target: float,
    target_year: int | None,
    *,
    baseline: float | None = None,
    baseline_year: int | None = None,
    direction: str = "increase",
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
    d = float(_direction_sign(direction))
    s = _points(years, values, baseline, baseline_year)
    base = {
        "n_points": len(s.years),
        "base_year": s.base_year,
        "base_value": s.base_value,
        "base_source": s.base_source,
    }
    if target is None or np.isnan(target) or target_year is None:
        return _na("insufficient_data", "no_target", **base)
    use = s.years <= target_year
    t, y = s.years[use].astype(float), s.values[use]
    if len(t) < min_points:
        return _na("insufficient_data", "insufficient_points", **base)
    if target == s.base_value:
        return _na("insufficient_data", "target_equals_baseline", **base)
    if t[-1] == target_year:
        projection = float(y[-1])
        rule = "observed_at_target_year"
    else:
        w = (target_year - t[0]) / (target_year - t)
        intercept, slope = _weighted_fit(t, y, w)
        projection = intercept + slope * target_year
        rule = "weighted_regression"
    ap = (projection - s.base_value) / (target - s.base_value)
    if ap >= 1:
        outcome = "maintain"
    elif ap > 0:
        outcome = "accelerate"
    else:
        outcome = "reverse_trend"
    del d  # AP is direction-free: (Â − b)/(T − b) already points towards the target
    return Assessment(float(ap), outcome, None, {**base, "projection": projection, "rule": rule})


def _classify_bands(x: float, bands: tuple[float, float, float]) -> str:
    high, med, low = bands
    if x >= high:
        return "substantial_progress"
    if x >= med:
        return "moderate_progress"
    if x >= low:
        return "limited_progress"
    return "deterioration"


def cagr_assessment(
    years: Any,
    values: Any,
    target: float | None = None,
    target_year: int | None = None,
    *,
    baseline: float | None = None,
    baseline_year: int | None = None,
    direction: str = "increase",
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
    d = float(_direction_sign(direction))
    s = _points(years, values, baseline, baseline_year)
    n = len(s.years)
    base = {
        "n_points": n,
        "base_year": s.base_year,
        "base_value": s.base_value,
        "base_source": s.base_source,
    }
    has_target = target is not None and not np.isnan(target)
    if n < min_points or n < 2:
        return _na("insufficient_data", "insufficient_points", **base)
    now_year, now = int(s.years[-1]), float(s.values[-1])
    if has_target and _met(d, now, float(target)):
        return Assessment(float("nan"), "target_achieved", None, base)
    checked = np.append(s.values, float(target)) if has_target else s.values
    if np.any(checked == 0) or (np.any(checked > 0) and np.any(checked < 0)):
        return _na("not_applicable_sign_change", "sign_change", **base)
    if np.all(checked < 0):
        return _na("negative_series_needs_level_measure", "negative_values", **base)
    cagr_a = (now / s.base_value) ** (1.0 / (now_year - s.base_year)) - 1.0
    if not has_target:
        value = d * cagr_a
        bands = thresholds or CAGR_NO_TARGET_THRESHOLDS
        return Assessment(
            value, _classify_bands(value, bands), None, {**base, "cagr_actual": cagr_a}
        )
    if target_year is None or target_year <= s.base_year:
        return _na("insufficient_data", "target_year_not_after_base", **base)
    cagr_r = (float(target) / s.base_value) ** (1.0 / (target_year - s.base_year)) - 1.0
    if cagr_r == 0:
        return _na("insufficient_data", "target_equals_baseline", **base)
    ratio = d * cagr_a / abs(cagr_r)
    bands = thresholds or CAGR_THRESHOLDS
    return Assessment(
        ratio,
        _classify_bands(ratio, bands),
        None,
        {**base, "cagr_actual": cagr_a, "cagr_required": cagr_r},
    )


def miss_share_assessment(
    years: Any,
    values: Any,
    target: float,
    target_year: int | None,
    *,
    baseline: float | None = None,
    baseline_year: int | None = None,
    direction: str = "increase",
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
    d = float(_direction_sign(direction))
    s = _points(years, values, baseline, baseline_year)
    n = len(s.years)
    base = {"n_points": n}
    if target is None or np.isnan(target) or target_year is None:
        return _na("insufficient_data", "no_target", **base)
    if n < min_points or n < 2:
        return _na("insufficient_data", "insufficient_points", **base)
    now_year, now = int(s.years[-1]), float(s.values[-1])
    if _met(d, now, target):
        return Assessment(float("nan"), "target_achieved", None, base)
    in_window = s.years >= now_year - window
    first = int(np.argmax(in_window))
    if first == n - 1:  # only the latest point lies in the window
        return _na("insufficient_data", "insufficient_points", **base)
    slope = (now - s.values[first]) / (now_year - s.years[first])
    projection = now + slope * max(target_year - now_year, 0)
    share = (target - projection) / (target - now)  # target not met, so target ≠ now
    lo, hi = bands
    if d * slope <= 0:
        outcome = "wrong_direction"
    elif share < lo:
        outcome = "on_track"
    elif share <= hi:
        outcome = "nearly_on_track"
    else:
        outcome = "right_direction_insufficient"
    return Assessment(
        float(share), outcome, None, {**base, "projection": projection, "slope_per_year": slope}
    )


def assess_series(
    years: Any,
    values: Any,
    *,
    target: float | None,
    target_year: int | None,
    baseline: float | None = None,
    baseline_year: int | None = None,
    direction: str = "increase",
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
    kw = {"baseline": baseline, "baseline_year": baseline_year, "direction": direction}
    tgt = float("nan") if target is None else float(target)
    return {
        "status": current_status(years, values, tgt, target_year, **kw),
        "anticipated": anticipated_progress(years, values, tgt, target_year, **kw),
        "cagr": cagr_assessment(years, values, tgt, target_year, **kw),
        "miss_share": miss_share_assessment(years, values, tgt, target_year, **kw),
    }
