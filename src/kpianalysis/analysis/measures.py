"""Attainment of KPIs: achieved, achievement rate, progress rate, and the per-year result table.

Every measure follows ``METHODS.md`` §1. Let b be the baseline (当初値), T the target (目標値),
A the actual (実績値) and d = +1 when more is better, −1 when less is better.

- achieved (達成): d·(A − T) ≥ 0
- achievement rate (達成率): A / T; for decrease-desired KPIs the named variants
  ``"complement"`` 1 − (A − T)/T (the default) and ``"inverse"`` T / A, or ``"ratio"`` A / T
- progress rate (進捗率): (A − b) / (T − b)

Each function works on scalars (a Python ``float``/``bool`` comes back), NumPy arrays and pandas
Series (the index is kept). A measure that cannot apply is NaN **together with a reason code**
(:data:`REASONS`); the ``*_with_reason`` functions return both as a :class:`Measure`. No function
emits a division ``RuntimeWarning``.

Why the decrease variant is chosen by d·sign(T) rather than by d alone: the three formulas are
unchanged when A and T are both negated, so choosing by d·sign(T) makes a KPI and its mirror image
(direction flipped, all values negated, e.g. net out-migration vs net in-migration) get the same
rate. For the usual positive targets this is exactly "A / T when more is better, the variant when
less is better".
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from kpianalysis import reasons
from kpianalysis.errors import ParameterError

__all__ = [
    "DECREASE_VARIANTS",
    "DEFAULT_DECREASE_VARIANT",
    "PRO_RATA_CLASSES",
    "PRO_RATA_LABELS",
    "REASONS",
    "REASON_LABELS",
    "GrantCheck",
    "Measure",
    "achieved",
    "achieved_core",
    "achieved_with_reason",
    "achievement_core",
    "achievement_rate",
    "achievement_rate_with_reason",
    "any_achieved",
    "classify_pro_rata",
    "combine_codes",
    "cost_per_unit_change",
    "cost_per_unit_change_core",
    "direction_sign",
    "format_percent",
    "grant_check",
    "increments_to_levels",
    "interim_core",
    "interim_progress",
    "levels_to_increments",
    "prepare_with_direction",
    "pro_rata_class_core",
    "pro_rata_expectation",
    "pro_rata_rate",
    "progress_core",
    "progress_rate",
    "progress_rate_with_reason",
    "reason_categorical",
    "round_half_up",
    "share_achieved",
    "variant_code",
    "wrap_reason",
]

# --------------------------------------------------------------------------------------------
# Reason codes. The order is fixed: it is the category order of every reason column, so tables
# of different years concatenate without re-coding.

#: code → (Japanese, English), a view of :mod:`kpianalysis.reasons` (family ``"measure"``).
REASON_LABELS: dict[str, tuple[str, str]] = reasons.labels("measure")
REASONS: tuple[str, ...] = tuple(REASON_LABELS)
REASON_CODE = {name: np.int8(i) for i, name in enumerate(REASONS)}
DEFINED = np.int8(-1)

DECREASE_VARIANTS: tuple[str, ...] = ("complement", "inverse", "ratio")
#: Default for decrease-desired KPIs: 1 − (A − T)/T. Chosen because it is defined wherever the
#: increase rate is (T ≠ 0, including A = 0, the best outcome of a reduction target) and is linear
#: in A, so 10 % worse than target reads as 90 % just as for an increase KPI.
DEFAULT_DECREASE_VARIANT = "complement"

Direction = Literal["increase", "decrease"] | int | float


class Measure(NamedTuple):
    """A value together with why it is missing.

    ``reason`` is ``None`` (scalar), ``None`` entries (array) or ``NA`` (Series, categorical over
    :data:`REASONS`) wherever ``value`` is defined, and a reason code wherever it is not.
    """

    value: Any
    reason: Any


# --------------------------------------------------------------------------------------------
# Input handling


def _to_float(x: Any) -> np.ndarray:
    if isinstance(x, pd.Series | pd.Index):
        return x.to_numpy(dtype=float, na_value=np.nan)
    if x is None or x is pd.NA:
        return np.asarray(np.nan)
    try:
        return np.asarray(x, dtype=float)
    except TypeError:
        # pd.NA inside a list or object array: let pandas translate it.
        return (
            pd.array(np.asarray(x, dtype=object).ravel(), dtype="Float64")
            .to_numpy(dtype=float, na_value=np.nan)
            .reshape(np.shape(x))
        )


class _Shape(NamedTuple):
    kind: str  # "scalar" | "series" | "array"
    index: pd.Index | None


def _shape_of(*args: Any) -> _Shape:
    index: pd.Index | None = None
    kind = "scalar"
    for a in args:
        if isinstance(a, pd.Series):
            if index is None:
                index = a.index
            elif not a.index.equals(index):
                raise ParameterError("Series arguments must share the same index")
            kind = "series"
        elif kind == "scalar" and not isinstance(a, str) and np.ndim(a) > 0:
            kind = "array"
    return _Shape(kind, index)


def direction_sign(direction: Any) -> np.ndarray:
    """+1.0 for increase, −1.0 for decrease; accepts a string, ±1, or an array of either."""
    if isinstance(direction, str):
        if direction == "increase":
            return np.asarray(1.0)
        if direction == "decrease":
            return np.asarray(-1.0)
        raise ParameterError(f"direction must be 'increase' or 'decrease', not {direction!r}")
    if isinstance(direction, pd.Series) and direction.dtype.kind not in "iuf":
        # compared as a Series: Arrow-backed strings never become a Python object array
        inc_s, dec_s = direction.eq("increase"), direction.eq("decrease")
        if not bool((inc_s | dec_s).all()):
            bad = sorted({str(v) for v in direction[~(inc_s | dec_s)]})
            raise ParameterError(f"direction must be 'increase' or 'decrease', got {bad}")
        return np.where(dec_s.to_numpy(dtype=bool, na_value=False), -1.0, 1.0)
    arr = direction.to_numpy() if isinstance(direction, pd.Series) else np.asarray(direction)
    if arr.dtype.kind in "iuf":
        d = arr.astype(float)
        if not np.all((d == 1.0) | (d == -1.0)):
            raise ParameterError("numeric direction must be +1 or -1")
        return d
    inc = arr == "increase"
    dec = arr == "decrease"
    if not np.all(inc | dec):
        bad = sorted({str(v) for v in arr[~(inc | dec)]})
        raise ParameterError(f"direction must be 'increase' or 'decrease', got {bad}")
    return np.where(dec, -1.0, 1.0)


def _prepare(*args: Any) -> tuple[_Shape, list[np.ndarray]]:
    shape = _shape_of(*args)
    # At least 1-d: NumPy arithmetic on 0-d arrays returns scalars, which np.putmask cannot fill.
    arrays = np.broadcast_arrays(*[np.atleast_1d(_to_float(a)) for a in args])
    return shape, [np.asarray(a, dtype=float) for a in arrays]


def prepare_with_direction(direction: Any, *args: Any) -> tuple[_Shape, list[np.ndarray]]:
    """Like :func:`_prepare`, with the direction sign broadcast as the last array."""
    shape = _shape_of(*args, direction)
    d = direction_sign(direction)
    arrays = np.broadcast_arrays(*[np.atleast_1d(_to_float(a)) for a in args], np.atleast_1d(d))
    # Copies: the cores write into arrays derived from these, never into broadcast views.
    return shape, [np.array(a, dtype=float) for a in arrays]


def _wrap_float(values: np.ndarray, shape: _Shape, name: str | None = None) -> Any:
    if shape.kind == "scalar":
        return float(np.asarray(values).item())
    if shape.kind == "series":
        return pd.Series(values, index=shape.index, name=name, dtype=float)
    return values


def reason_categorical(codes: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes).ravel(), categories=list(REASONS))


def wrap_reason(codes: np.ndarray, shape: _Shape, name: str | None = None) -> Any:
    if shape.kind == "scalar":
        c = int(np.asarray(codes).item())
        return None if c < 0 else REASONS[c]
    if shape.kind == "series":
        return pd.Series(reason_categorical(codes), index=shape.index, name=name)
    names = np.array((*REASONS, None), dtype=object)
    return names[np.asarray(codes)]  # code −1 indexes the trailing None


def _wrap_bool(values: np.ndarray, codes: np.ndarray, shape: _Shape, name: str | None) -> Any:
    if shape.kind == "scalar":
        return None if int(np.asarray(codes).item()) >= 0 else bool(np.asarray(values).item())
    arr = pd.arrays.BooleanArray(np.asarray(values).ravel(), np.asarray(codes).ravel() >= 0)
    if shape.kind == "series":
        return pd.Series(arr, index=shape.index, name=name)
    return arr


def variant_code(variant: str | None) -> str:
    v = DEFAULT_DECREASE_VARIANT if variant is None else variant
    if v not in DECREASE_VARIANTS:
        raise ParameterError(f"variant must be one of {DECREASE_VARIANTS}, not {variant!r}")
    return v


# --------------------------------------------------------------------------------------------
# Vectorised cores on float arrays: values plus int8 reason codes (−1 = defined).


# Reason codes are combined with int8 arithmetic, c += mask·(code − c), applied in increasing
# priority: on a million rows this is ~10x cheaper than np.where / np.putmask with a scattered
# mask (branch mispredictions), which is what keeps the table core near the bare-NumPy floor.


def combine_codes(n_shape: tuple[int, ...], *rules: tuple[np.ndarray, np.int8]) -> np.ndarray:
    """Reason codes from (mask, code) rules, lowest priority first; −1 where none applies.

    Array contract: ``n_shape`` is the result's shape; each rule is a boolean mask that
    broadcasts to it and an int8 code of :data:`REASON_CODE`. Returns an int8 array of that shape
    holding, per element, the code of the *last* rule whose mask is set (so rules go in
    increasing priority), or :data:`DEFINED` (−1) where no mask is set.

    Why written this way: ``c += mask · (code − c)`` replaces ``c`` by ``code`` where the mask
    is 1 and adds 0 elsewhere — branch-free int8 arithmetic over the whole array. On a million
    rows with scattered masks this is about 10x cheaper than ``np.where``/``np.putmask`` (branch
    mispredictions), which keeps the attainment core near the bare-NumPy floor
    (``benchmarks/bench_attainment.py``).

    Examples
    --------
    >>> combine_codes((3,), (np.array([True, True, False]), np.int8(2)),
    ...               (np.array([False, True, False]), np.int8(5))).tolist()
    [2, 5, -1]
    """
    c = np.full(n_shape, DEFINED, dtype=np.int8)
    for mask, code in rules:
        c += mask * (code - c)
    return c


def _nan_where(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``values`` with NaN where ``mask`` (rare) is set."""
    if mask.any():
        values = np.where(mask, np.nan, values)
    return values


def achieved_core(a: np.ndarray, t: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each target was reached, d·(A − T) ≥ 0, and why not where it cannot be told.

    Array contract: ``a`` (actuals), ``t`` (targets) and ``d`` (direction, +1 more is better,
    −1 less is better) are float arrays that broadcast together; NaN = missing. Returns
    ``(values, codes)`` of the broadcast shape: ``values`` bool, meaningful only where
    ``codes`` is −1; ``codes`` int8: ``no_target`` where T is NaN, ``no_actual`` where A is NaN
    (which wins when both are missing).

    Why written this way: one comparison and one :func:`combine_codes` pass over whole arrays,
    with no masking of the values — NaN compares False, and the codes say where a False means
    "unknown" — so the nullable result is built once by the caller
    (:func:`achieved_with_reason`, the attainment table) instead of per element.

    Examples
    --------
    >>> v, c = achieved_core(np.array([50.0, 9.0, np.nan]), np.array([50.0, 13.0, 5.0]),
    ...                      np.array([1.0, 1.0, 1.0]))
    >>> v.tolist(), c.tolist() == [-1, -1, REASON_CODE["no_actual"]]
    ([True, False, False], True)
    """
    # NaN compares False, so the values need no masking; the reasons say where they mean nothing.
    values = d * (a - t) >= 0
    codes = combine_codes(
        values.shape,
        (np.isnan(t), REASON_CODE["no_target"]),
        (np.isnan(a), REASON_CODE["no_actual"]),
    )
    return values, codes


def achievement_core(
    a: np.ndarray,
    t: np.ndarray,
    d: np.ndarray,
    variant: str,
    missing: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Achievement rates with reason codes, and where the decrease variant applied.

    What it computes: A / T where more is better; where less is better (or the target is
    negative: ``flip`` = (d < 0) XOR (T < 0)) the ``variant`` of :data:`DECREASE_VARIANTS` —
    ``"complement"`` 1 − (A − T)/T, ``"inverse"`` T / A, ``"ratio"`` A / T.

    Array contract: ``a``, ``t``, ``d`` as in :func:`achieved_core` (broadcasting float
    arrays); ``variant`` already checked (:func:`variant_code`); ``missing`` the codes of
    :func:`achieved_core` when the caller has them (they are not computed twice). Returns
    ``(rate, codes, flip)`` of the broadcast shape: ``rate`` float (NaN where the codes say
    ``target_zero``, or ``actual_zero`` for the inverse variant; NaN inputs give NaN), ``codes``
    int8 (−1 = defined; a missing actual or target outranks a zero), ``flip`` bool.

    Why written this way: every variant is one arithmetic pass over whole arrays with
    floating-point warnings silenced, then the undefined rows are named by codes and blanked
    once. The complement is computed as (A − 2(A − T)·flip) / T, not 2 − A/T, so it is exact
    for whole numbers (110 vs 100 gives 0.9, not 0.8999999999999999).

    Examples
    --------
    >>> rate, codes, flip = achievement_core(np.array([110.0, 9.0]), np.array([100.0, 13.0]),
    ...                                      np.array([-1.0, 1.0]), "complement")
    >>> rate.tolist(), codes.tolist(), flip.tolist()
    ([0.9, 0.6923076923076923], [-1, -1], [True, False])
    """
    if missing is None:
        missing = achieved_core(a, t, d)[1]
    flip = (d < 0) ^ (t < 0)
    t_zero = t == 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if variant == "complement":
            # numerator A, or 2T − A = A − 2(A − T) on flipped rows: exact for whole numbers
            # (110 vs 100 → 0.9, where 2 − A/T would give 0.8999999999999999)
            rate = (a - (flip * 2.0) * (a - t)) / t
        elif variant == "inverse":
            rate = np.where(flip, t / a, a / t)
        else:
            rate = a / t
    rules = [(t_zero, REASON_CODE["target_zero"])]
    if variant == "inverse":
        rules.append((flip & (a == 0), REASON_CODE["actual_zero"]))
    codes = combine_codes(rate.shape, *rules)
    codes += (missing >= 0) * (missing - codes)
    rate = _nan_where(rate, codes >= 0 if variant == "inverse" else t_zero)
    return rate, codes, flip


def progress_core(
    a: np.ndarray, t: np.ndarray, b: np.ndarray, missing: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Progress from baseline to target, (A − b)/(T − b), with reason codes.

    Array contract: ``a`` (actuals), ``t`` (targets), ``b`` (baselines) float arrays that
    broadcast together, NaN = missing; ``missing`` the codes of :func:`achieved_core` when the
    caller has them. The formula needs no direction: for a decrease-desired KPI numerator and
    denominator are both negative when it improves. Returns ``(rate, codes)``: ``rate`` float,
    NaN where T = b; ``codes`` int8 (−1 = defined): ``target_equals_baseline``,
    ``no_baseline``, then a missing actual or target, in increasing priority.

    Why written this way: one division over whole arrays (warnings silenced, the undefined rows
    named by :func:`combine_codes` and blanked once), so the single-KPI
    :func:`progress_rate` and the national attainment table run the same rule.

    Examples
    --------
    >>> rate, codes = progress_core(np.array([9.0, 5.0]), np.array([13.0, 4.0]),
    ...                             np.array([4.0, 4.0]))
    >>> rate.tolist()[0], bool(np.isnan(rate[1]))  # (9 − 4)/(13 − 4) = 5/9; T = b
    (0.5555555555555556, True)
    >>> codes.tolist() == [-1, REASON_CODE["target_equals_baseline"]]
    True
    """
    if missing is None:
        missing = achieved_core(a, t, np.ones_like(a))[1]
    den = t - b
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rate = (a - b) / den
    same = den == 0
    codes = combine_codes(
        rate.shape,
        (same, REASON_CODE["target_equals_baseline"]),
        (np.isnan(b), REASON_CODE["no_baseline"]),
    )
    codes += (missing >= 0) * (missing - codes)
    return _nan_where(rate, same), codes


# --------------------------------------------------------------------------------------------
# Per-KPI measures


def achieved_with_reason(actual: Any, target: Any, direction: Any = "increase") -> Measure:
    """Whether the target was reached, d·(A − T) ≥ 0, with the reason where it cannot be told.

    Parameters
    ----------
    actual, target
        Scalars, arrays or Series (broadcast together).
    direction
        ``"increase"``/``"decrease"`` (or +1/−1), scalar or one per element.

    Returns
    -------
    Measure
        ``value`` is ``bool``/``None`` for scalars, a nullable ``boolean`` array or Series
        otherwise; ``reason`` is ``"no_actual"`` or ``"no_target"`` where the value is missing.

    Examples
    --------
    >>> achieved_with_reason(50, 50)
    Measure(value=True, reason=None)
    >>> achieved_with_reason(float("nan"), 50)
    Measure(value=None, reason='no_actual')
    """
    shape, (a, t, d) = prepare_with_direction(direction, actual, target)
    values, codes = achieved_core(a, t, d)
    values, codes = np.broadcast_arrays(values, codes)
    return Measure(
        _wrap_bool(values, codes, shape, "achieved"), wrap_reason(codes, shape, "achieved_reason")
    )


def achieved(actual: Any, target: Any, direction: Any = "increase") -> Any:
    """Whether the target was reached (達成): d·(A − T) ≥ 0; missing where A or T is missing.

    See :func:`achieved_with_reason` for the reason codes.

    Examples
    --------
    >>> achieved(9, 13)
    False
    >>> achieved(2, 3, direction="decrease")
    True
    """
    return achieved_with_reason(actual, target, direction).value


def achievement_rate_with_reason(
    actual: Any, target: Any, direction: Any = "increase", variant: str | None = None
) -> Measure:
    """Achievement rate (達成率) with the reason where it is undefined.

    Parameters
    ----------
    actual, target
        Scalars, arrays or Series.
    direction
        ``"increase"`` (A / T) or ``"decrease"``; scalar or one per element.
    variant
        Formula for decrease-desired KPIs: ``"complement"`` 1 − (A − T)/T (default, see
        :data:`DEFAULT_DECREASE_VARIANT`), ``"inverse"`` T / A, or ``"ratio"`` A / T as for
        increase KPIs. Ignored where more is better (and the target positive).

    Returns
    -------
    Measure
        Rate as a fraction (1.0 = 100 %). Reasons: ``"no_actual"``, ``"no_target"``,
        ``"target_zero"``, ``"actual_zero"`` (inverse variant only).

    Examples
    --------
    >>> achievement_rate_with_reason(-10, 50)
    Measure(value=-0.2, reason=None)
    >>> achievement_rate_with_reason(3, 0)
    Measure(value=nan, reason='target_zero')
    """
    shape, (a, t, d) = prepare_with_direction(direction, actual, target)
    rate, codes, _ = achievement_core(a, t, d, variant_code(variant))
    rate, codes = np.broadcast_arrays(rate, codes)
    return Measure(
        _wrap_float(rate, shape, "achievement_rate"),
        wrap_reason(codes, shape, "achievement_rate_reason"),
    )


def achievement_rate(
    actual: Any, target: Any, direction: Any = "increase", variant: str | None = None
) -> Any:
    """Achievement rate (達成率): A / T, or a named variant for decrease-desired KPIs.

    NaN where undefined; :func:`achievement_rate_with_reason` says why.

    Examples
    --------
    >>> achievement_rate(1341, 500)
    2.682
    >>> achievement_rate(110, 100, direction="decrease")  # complement: 10 % worse than target
    0.9
    >>> round(achievement_rate(110, 100, direction="decrease", variant="inverse"), 6)
    0.909091
    """
    return achievement_rate_with_reason(actual, target, direction, variant).value


def progress_rate_with_reason(actual: Any, target: Any, baseline: Any) -> Measure:
    """Progress rate (進捗率) (A − b)/(T − b) with the reason where it is undefined.

    Works unchanged for decrease-desired KPIs and for T = 0. Reasons: ``"no_actual"``,
    ``"no_target"``, ``"no_baseline"``, ``"target_equals_baseline"``.

    Examples
    --------
    >>> progress_rate_with_reason(2, 0, 5)
    Measure(value=0.6, reason=None)
    >>> progress_rate_with_reason(50, 50, float("nan"))
    Measure(value=nan, reason='no_baseline')
    """
    shape, (a, t, b) = _prepare(actual, target, baseline)
    rate, codes = progress_core(a, t, b)
    return Measure(
        _wrap_float(rate, shape, "progress_rate"),
        wrap_reason(codes, shape, "progress_rate_reason"),
    )


def progress_rate(actual: Any, target: Any, baseline: Any) -> Any:
    """Progress rate (進捗率): (A − b)/(T − b); NaN without a baseline or when T = b.

    Examples
    --------
    >>> progress_rate(9, 13, 4) == 5 / 9
    True
    >>> progress_rate(105, 110, 100)
    0.5
    """
    return progress_rate_with_reason(actual, target, baseline).value


# --------------------------------------------------------------------------------------------
# Plans with only a final target


#: Classes of :func:`classify_pro_rata`, best first → (Japanese, English): a view of the reasons
#: registry's ``assessment_outcome`` family, whose codes the status index gives a year without
#: a target of its own (the same band kernel, :func:`pro_rata_class_core`).
PRO_RATA_LABELS: dict[str, tuple[str, str]] = {
    k: reasons.labels("assessment_outcome")[k]
    for k in ("on_track", "roughly_on_track", "needs_improvement")
}


def pro_rata_expectation(baseline: Any, final_target: Any, year_index: Any, n_years: Any) -> Any:
    """Value expected in year k of an n-year plan: b + (k/n)(T_final − b).

    Parameters
    ----------
    baseline, final_target
        b and the end-of-plan target.
    year_index
        k, the plan year (1 = first year of the plan, n = last).
    n_years
        n, the plan length in years (> 0).

    Examples
    --------
    >>> pro_rata_expectation(4, 13, 1, 3)
    7.0
    """
    shape, (b, t, k, n) = _prepare(baseline, final_target, year_index, n_years)
    if np.any(n <= 0):
        raise ParameterError("n_years must be positive")
    return _wrap_float(b + (k / n) * (t - b), shape, "pro_rata_expectation")


def pro_rata_rate(
    actual: Any,
    baseline: Any,
    final_target: Any,
    year_index: Any,
    n_years: Any,
    direction: Any = "increase",
    *,
    measure: Literal["achievement", "progress"] = "achievement",
    variant: str | None = None,
) -> Measure:
    """Actual against the pro-rata expectation E of :func:`pro_rata_expectation`.

    ``measure="achievement"`` (default, as cities print it) is the achievement rate of A against
    E; ``"progress"`` is (A − b)/(E − b). Missing values come with their reason.

    Examples
    --------
    >>> pro_rata_rate(7, 4, 13, 1, 3).value  # E = 7
    1.0
    """
    expected = pro_rata_expectation(baseline, final_target, year_index, n_years)
    if measure == "achievement":
        return achievement_rate_with_reason(actual, expected, direction, variant)
    if measure == "progress":
        return progress_rate_with_reason(actual, expected, baseline)
    raise ParameterError(f"measure must be 'achievement' or 'progress', not {measure!r}")


def interim_core(
    a: np.ndarray,
    b: np.ndarray,
    t: np.ndarray,
    year: np.ndarray,
    base_year: np.ndarray,
    target_year: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Progress against time elapsed, for a year the plan gives no target of its own.

    With the final target T due in year y_T over the baseline b of year y_0, a year y between
    them is an interim point: the share of the period elapsed is s = (y − y_0)/(y_T − y_0) and
    the rate is the progress made over that share, r = ((A − b)/(T − b)) / s — the actual
    against the pro-rata expectation E = b + s(T − b) of :func:`pro_rata_expectation`, as
    (A − b)/(E − b). 1 means exactly on the straight line to T; :func:`classify_pro_rata` bands
    it. Written on aligned float arrays (one pass, no Python loop) because the attainment table
    calls it on every KPI of a national panel at once.

    Returns
    -------
    tuple of ndarray
        ``(elapsed, rate, codes)``: s, r, and int8 reason codes (−1 = defined): ``no_actual``,
        ``no_target``, ``no_baseline`` (b or y_0 unknown), ``target_equals_baseline``,
        ``target_year_not_after_base``.
    """
    span = target_year - base_year
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        elapsed = (year - base_year) / span
        rate = (a - b) / (t - b) / elapsed
    codes = combine_codes(
        rate.shape,
        (span <= 0, REASON_CODE["target_year_not_after_base"]),
        (t == b, REASON_CODE["target_equals_baseline"]),
        (np.isnan(b) | np.isnan(base_year), REASON_CODE["no_baseline"]),
        (np.isnan(t) | np.isnan(target_year), REASON_CODE["no_target"]),
        (np.isnan(a), REASON_CODE["no_actual"]),
    )
    bad = codes >= 0
    return _nan_where(elapsed, bad), _nan_where(rate, bad), codes


def interim_progress(
    actual: Any,
    baseline: Any,
    final_target: Any,
    fiscal_year: Any,
    baseline_year: Any,
    target_year: Any,
) -> Measure:
    """Progress against time elapsed toward a final target (:func:`interim_core`), with reasons.

    Examples
    --------
    >>> m = interim_progress(5, 2, 10, 2016, 2014, 2019)  # (3/8) / (2/5)
    >>> m.value, m.reason
    (0.9375, None)
    """
    shape, (a, b, t, y, y0, yt) = _prepare(
        actual, baseline, final_target, fiscal_year, baseline_year, target_year
    )
    _elapsed, rate, codes = interim_core(a, b, t, y, y0, yt)
    return Measure(
        _wrap_float(rate, shape, "interim_rate"), wrap_reason(codes, shape, "interim_reason")
    )


#: The classes of :func:`pro_rata_class_core`, worst first (its codes 1, 2, 3; 0 = no rate).
PRO_RATA_CLASSES = ("needs_improvement", "roughly_on_track", "on_track")


def pro_rata_class_core(r: np.ndarray, bands: tuple[float, float] = (1.0, 0.6)) -> np.ndarray:
    """Codes of :data:`PRO_RATA_CLASSES` for rates ``r``: 0 where NaN, else 1 + the number of
    band bounds reached.

    Array contract: ``r`` a float array of pro-rata rates (1.0 = on the straight line to the
    target); ``bands`` (upper, lower), both inclusive. Returns an integer array of ``r``'s
    shape: 0 no rate, 1 ``needs_improvement`` (< lower), 2 ``roughly_on_track``, 3
    ``on_track`` (≥ upper) — the codes index ``(None, *PRO_RATA_CLASSES)``.

    Why written this way: two comparisons summed as integers over the whole array (no
    per-value branching), so a national table classifies every KPI in one pass and the labels
    are one indexing of a small object array (:func:`classify_pro_rata`).

    Examples
    --------
    >>> pro_rata_class_core(np.array([np.nan, 0.5, 0.6, 1.0, 1.2])).tolist()
    [0, 1, 2, 3, 3]
    """
    hi, lo = bands
    if not hi > lo:
        raise ParameterError("bands must be (upper, lower) with upper > lower")
    return np.where(np.isnan(r), 0, 1 + (r >= lo).astype(np.intp) + (r >= hi).astype(np.intp))


def classify_pro_rata(rate: Any, bands: tuple[float, float] = (1.0, 0.6)) -> Any:
    """Classify a pro-rata rate with 多摩市's bands: ≥ 100 % on track, 60–100 % roughly, < 60 %.

    Parameters
    ----------
    rate
        Rates as fractions (scalar, array or Series).
    bands
        (on-track lower bound, roughly-on-track lower bound), both inclusive.

    Returns
    -------
    str or None, or an object array / Series of keys of :data:`PRO_RATA_LABELS`
        ``None`` where the rate is NaN (its reason travels with the rate).

    Examples
    --------
    >>> classify_pro_rata(0.6)
    'roughly_on_track'
    """
    shape, (r,) = _prepare(rate)
    out = np.array([None, *PRO_RATA_CLASSES], dtype=object)[pro_rata_class_core(r, bands)]
    if shape.kind == "scalar":
        return out.item() if isinstance(out, np.ndarray) else out
    if shape.kind == "series":
        return pd.Series(out, index=shape.index, name="pro_rata_class")
    return out


# --------------------------------------------------------------------------------------------
# Increment-style targets (増加分)


def increments_to_levels(baseline: float, increments: Any) -> Measure:
    """Levels b + cumulative sum of yearly increments, in order.

    Parameters
    ----------
    baseline
        The value before the project (b).
    increments
        Yearly increments in fiscal-year order (array or Series).

    Returns
    -------
    Measure
        Levels, and reasons ``"no_baseline"`` or ``"missing_increment"`` (every level after a
        missing increment is unknown).

    Examples
    --------
    >>> increments_to_levels(100, [5, 5, 10]).value
    array([105., 110., 120.])
    """
    shape, (inc,) = _prepare(increments)
    inc = np.atleast_1d(inc)
    b = float(_to_float(baseline))
    levels = b + np.cumsum(inc)  # NaN propagates forward: later levels are unknown too
    missing = np.cumsum(np.isnan(inc)) > 0
    codes = np.where(
        np.isnan(b),
        REASON_CODE["no_baseline"],
        np.where(missing, REASON_CODE["missing_increment"], DEFINED),
    ).astype(np.int8)
    levels = np.where(codes < 0, levels, np.nan)
    shape = _Shape("array", None) if shape.kind == "scalar" else shape
    return Measure(_wrap_float(levels, shape, "level"), wrap_reason(codes, shape, "level_reason"))


def levels_to_increments(baseline: float, levels: Any) -> Measure:
    """Inverse of :func:`increments_to_levels`: the first increment is L₁ − b, then L_k − L_{k−1}.

    Examples
    --------
    >>> levels_to_increments(100, [105, 110, 120]).value
    array([ 5.,  5., 10.])
    """
    shape, (lev,) = _prepare(levels)
    lev = np.atleast_1d(lev)
    b = float(_to_float(baseline))
    inc = np.diff(lev, prepend=b)
    codes = np.where(
        np.isnan(b),
        REASON_CODE["no_baseline"],
        np.where(np.isnan(inc), REASON_CODE["missing_increment"], DEFINED),
    ).astype(np.int8)
    shape = _Shape("array", None) if shape.kind == "scalar" else shape
    return Measure(
        _wrap_float(inc, shape, "increment"), wrap_reason(codes, shape, "increment_reason")
    )


# --------------------------------------------------------------------------------------------
# Display rounding


def _decimal(x: float) -> Decimal:
    # repr gives the shortest text that round-trips, i.e. the number as the sheet wrote it, so
    # 2.675 rounds to 2.68 as a person expects (its binary value is 2.67499999...).
    return Decimal(repr(float(x)))


def round_half_up(x: Any, digits: int = 0) -> Any:
    """Round half away from zero, as Excel's ROUND and municipal sheets do.

    Python's :func:`round` rounds half to even (``round(0.5) == 0``); sheets print 0.5 as 1.
    NaN stays NaN.

    Parameters
    ----------
    x
        Scalar, array or Series.
    digits
        Decimal places to keep (may be negative).

    Examples
    --------
    >>> round_half_up(2.5), round(2.5)
    (3.0, 2)
    >>> round_half_up(2.675, 2)
    2.68
    """
    quantum = Decimal(1).scaleb(-digits)

    def one(v: float) -> float:
        if not math.isfinite(v):
            return v
        return float(_decimal(v).quantize(quantum, rounding=ROUND_HALF_UP))

    shape, (arr,) = _prepare(x)
    if shape.kind == "scalar":
        return one(float(arr.item()))
    out = np.fromiter((one(v) for v in arr.ravel()), dtype=float, count=arr.size).reshape(arr.shape)
    return _wrap_float(out, shape, getattr(x, "name", None))


def format_percent(rate: Any, digits: int = 1, *, na_rep: str = "-", suffix: str = "%") -> Any:
    """Format a rate (1.0 = 100 %) as a percentage string, rounded half-up for display.

    The rate is scaled by 100 in decimal arithmetic, so 0.285 prints as 28.5 and rounds to 29
    (binary 0.285 × 100 would give 28.499999999999996). Missing values print as ``na_rep``
    ("-", as the sheets do); the reason column says why.

    Examples
    --------
    >>> format_percent(15876 / 6000, 0)
    '265%'
    >>> format_percent(9 / 13)
    '69.2%'
    >>> format_percent(float("nan"))
    '-'
    """
    quantum = Decimal(1).scaleb(-digits)

    def one(v: float) -> str:
        if not math.isfinite(v):
            return na_rep
        try:
            p = (_decimal(v) * 100).quantize(quantum, rounding=ROUND_HALF_UP)
        except InvalidOperation:  # pragma: no cover - only for absurd magnitudes
            return na_rep
        return f"{p:f}{suffix}"

    shape, (arr,) = _prepare(rate)
    if shape.kind == "scalar":
        return one(float(arr.item()))
    out = np.array([one(v) for v in arr.ravel()], dtype=object).reshape(arr.shape)
    if shape.kind == "series":
        return pd.Series(out, index=shape.index, name=getattr(rate, "name", None))
    return out


# --------------------------------------------------------------------------------------------
# Programme level


def share_achieved(achieved_flags: Any) -> Measure:
    """Share of KPIs achieved among those whose achievement is known (the national headline).

    Examples
    --------
    >>> share_achieved([False, False, True, True])
    Measure(value=0.5, reason=None)
    """
    flags = pd.array(
        list(achieved_flags) if not isinstance(achieved_flags, pd.Series) else achieved_flags.array,
        dtype="boolean",
    )
    known = ~flags.isna()
    n = int(known.sum())
    if n == 0:
        return Measure(float("nan"), "no_actual")
    return Measure(float(flags[known].sum()) / n, None)


def any_achieved(achieved_flags: Any) -> Measure:
    """Whether at least one KPI was achieved (the share of projects with one is the headline).

    True as soon as one known KPI is achieved; ``None`` with ``"no_actual"`` only when none is
    achieved and some are unknown (the unknown ones might be).

    Examples
    --------
    >>> any_achieved([False, None, True])
    Measure(value=True, reason=None)
    """
    flags = pd.array(
        list(achieved_flags) if not isinstance(achieved_flags, pd.Series) else achieved_flags.array,
        dtype="boolean",
    )
    if bool(flags.fillna(False).any()):
        return Measure(True, None)
    if bool(flags.isna().any()):
        return Measure(None, "no_actual")
    return Measure(False, None)


class GrantCheck(NamedTuple):
    """Grant against cost × rate; ``gap_yen`` = grant − expected, so −1.5 means 1.5 円 less."""

    expected_grant_yen: float
    gap_yen: float
    relative_gap: float
    within_rounding: bool


def grant_check(
    cost_yen: float, grant_yen: float, rate: float, *, rounding_tolerance_yen: float = 10.0
) -> GrantCheck:
    """Compare a grant with cost × grant rate.

    Parameters
    ----------
    cost_yen, grant_yen
        事業費 and 交付額 in yen.
    rate
        交付率 (e.g. 0.5).
    rounding_tolerance_yen
        A gap at most this large (in absolute value) is flagged as rounding (端数処理); the sheets
        say "数円の差異あり" for such gaps.

    Examples
    --------
    >>> grant_check(19_272_695, 9_636_346, 0.5)
    GrantCheck(expected_grant_yen=9636347.5, gap_yen=-1.5, relative_gap=-1.556...e-07, \
within_rounding=True)
    """
    cost, grant, r = float(cost_yen), float(grant_yen), float(rate)
    if any(math.isnan(v) for v in (cost, grant, r)):
        return GrantCheck(float("nan"), float("nan"), float("nan"), False)
    expected = cost * r
    gap = grant - expected
    rel = gap / expected if expected != 0 else float("nan")
    return GrantCheck(expected, gap, rel, abs(gap) <= rounding_tolerance_yen)


def cost_per_unit_change_core(
    cost_yen: np.ndarray, actual: np.ndarray, baseline: np.ndarray, d: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`cost_per_unit_change` on float arrays (``d`` = ±1): values and int8 reason codes.

    What it computes: cost / (d·(A − b)), the cost per unit the KPI moved in the desired
    direction since its baseline, only where it did move that way (change > 0).

    Array contract: four float arrays that broadcast together (NaN = missing). Returns
    ``(value, codes)`` of the broadcast shape; ``value`` is NaN wherever ``codes`` is not −1.
    Codes index :data:`REASONS` (−1 = defined), so a table labels them with
    :func:`reason_categorical` instead of building one Python string per row; the first that
    applies wins: ``no_actual``, ``no_baseline``, ``no_cost``, ``no_improvement``.

    Why written this way: the rules are applied by position (``flatnonzero``) in reverse
    priority, each overwriting the last, because these masks are rare and nested ``np.where``
    would branch on every element.

    Examples
    --------
    >>> value, code = cost_per_unit_change_core(
    ...     np.array([19_272_695.0]), np.array([9.0]), np.array([4.0]), np.array([1.0]))
    >>> float(value[0]), int(code[0])
    (3854539.0, -1)
    """
    c, a, b = cost_yen, actual, baseline
    change = d * (a - b)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.array(c / change, dtype=float)  # kept only where change > 0, below
    codes = np.full(value.shape, DEFINED, dtype=np.int8)
    # The first reason that applies, by positions: the last rule is written first, and nested
    # np.where would branch on every element.
    rules = (
        (~(change > 0), REASON_CODE["no_improvement"]),
        (np.isnan(c), REASON_CODE["no_cost"]),
        (np.isnan(b), REASON_CODE["no_baseline"]),
        (np.isnan(a), REASON_CODE["no_actual"]),
    )
    flat = codes.reshape(-1)
    for mask, code in rules:
        flat[np.flatnonzero(np.broadcast_to(mask, value.shape))] = code
    value.reshape(-1)[np.flatnonzero(flat >= 0)] = np.nan
    return value, codes


def cost_per_unit_change(
    cost_yen: Any, actual: Any, baseline: Any, direction: Any = "increase"
) -> Measure:
    """Cost per unit of KPI change since the baseline: cost / (d·(A − b)).

    Only meaningful when the KPI moved in the desired direction; otherwise NaN with
    ``"no_improvement"`` (also ``"no_actual"``, ``"no_baseline"``, ``"no_cost"``).

    Examples
    --------
    >>> cost_per_unit_change(19_272_695, 9, 4).value
    3854539.0
    >>> cost_per_unit_change(1000, 3, 4).reason
    'no_improvement'
    """
    shape, (c, a, b, d) = prepare_with_direction(direction, cost_yen, actual, baseline)
    value, codes = cost_per_unit_change_core(c, a, b, d)
    value, codes = np.broadcast_arrays(value, codes)
    return Measure(
        _wrap_float(value, shape, "cost_per_unit_change"),
        wrap_reason(codes, shape, "cost_per_unit_change_reason"),
    )
