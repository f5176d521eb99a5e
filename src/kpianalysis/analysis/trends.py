"""Trend fits with honest uncertainty for short series (METHODS.md §3), one at a time or a panel.

Models (the default per KPI kind is :func:`default_model`):

``"ols"``
    Linear trend on the level, ``y = a + b (year - centre)`` (flows and averages).
``"loglinear"``
    OLS on ``log(y)`` for strictly positive stocks with growth; back-transformed predictions are
    medians; ``slope_pct_per_year`` is the annual growth ``exp(slope) - 1``.
``"poisson"``
    Poisson GLM with log link for counts; the Pearson dispersion φ̂ = χ²/df is always reported.
``"poisson_increments"``, ``"ols_increments"``
    A running total (cumulative KPI): the yearly *increments* are modelled as a constant expected
    increment per year — Poisson (quasi-Poisson when overdispersed) for counts, else Gaussian — and
    a future level is the last observed level plus the increments still to come, so a prediction
    interval never falls below the level already reached. ``slope`` is the expected increment
    per year in the KPI's unit.

Every fit is on the fiscal year centred at ``centre`` (the mean year; the last year for the
increment models). Uncertainty:

* The series' residual variance s² on d = df_resid degrees of freedom (σ̂² on the model's scale;
  the dispersion φ̂ for the Poisson models) can be moderated with an empirical-Bayes prior
  (d₀, s₀²) estimated over comparable series (:mod:`kpianalysis.analysis.shrinkage`, Smyth 2004):
  s̃² = (d₀s₀² + d s²)/(d₀ + d) and t quantiles on ``df_total`` = d₀ + d. ``fit_trend(...,
  prior=...)`` and :func:`fit_linear_trends` use the same arithmetic (equal to 1e-9).
* Poisson models use the moderated φ̃ as a quasi-Poisson scale when it is estimable on at least
  :data:`MIN_DF` degrees of freedom and exceeds 1; otherwise Poisson variation (φ = 1, normal
  quantiles) is assumed and ``dispersion_assumed`` says so.
* Prediction intervals are analytic for the Gaussian models (t on df_total). For counts they are
  quantiles of the predictive distribution — a Poisson (or negative-binomial, variance φ̃μ)
  count mixed over the uncertainty of its mean (normal on the log scale for a Poisson
  regression; for a running total's yearly rate the gamma of mean λ̂ that its counts'
  likelihood is, the conjugate Poisson–gamma form) and over the dispersion — computed by
  deterministic quadrature on :data:`QUAD_NODES` equal-probability nodes (no simulation, so no
  seed; the quadrature error of a probability is below :data:`QUAD_ERROR`, checked against
  adaptive quadrature in the tests). A prediction interval always
  contains the confidence interval of the mean.

With n = 2 a line has no residual degree of freedom: slope only, unless a prior supplies the
variance. With n < 2 nothing is estimated. A model that cannot apply gives a ``reason`` code (see
:data:`REASONS`) instead of an exception; only unusable input raises :class:`TrendInputError`.
No normality test is shown (invalid under 8 points); every statsmodels call runs inside
:func:`warnings.catch_warnings` so nothing leaks into notebook output.
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from kpianalysis import reasons
from kpianalysis.analysis.shrinkage import NO_PRIOR, VariancePrior, fit_f_dist, squeeze_var
from kpianalysis.errors import KpiAnalysisError
from kpianalysis.words import noun

__all__ = [
    "DISPERSION_NODES",
    "DISPERSION_NODES_1D",
    "INCREMENT_MODELS",
    "MIN_DF",
    "MODELS",
    "POISSON_MODELS",
    "P_MIN",
    "QUAD_ERROR",
    "QUAD_NODES",
    "REASONS",
    "TrendFit",
    "TrendInputError",
    "VariancePrior",
    "default_model",
    "dispersion_nodes",
    "fit_linear_trends",
    "fit_trend",
    "fit_trends",
    "linear_fit_core",
    "pool_key",
    "reporting_resolution",
]

Model = Literal["ols", "poisson", "loglinear", "logit", "ols_increments", "poisson_increments"]
MODELS: tuple[str, ...] = (
    "ols",
    "poisson",
    "loglinear",
    "logit",
    "ols_increments",
    "poisson_increments",
)
POISSON_MODELS: tuple[str, ...] = ("poisson", "poisson_increments")
INCREMENT_MODELS: tuple[str, ...] = ("ols_increments", "poisson_increments")

#: Fewest residual degrees of freedom (after pooling) for which a variance is treated as
#: estimated: below it a report shows no interval and no probability (METHODS.md §3).
MIN_DF = 2
#: Quadrature nodes of the count predictive distribution (midpoint rule in probability): normal
#: nodes of the linear predictor within each dispersion node.
QUAD_NODES = 1024
#: Bound on the quadrature error of a count probability (``prob_reach``), checked against scipy's
#: adaptive quadrature on a grid of cases in the tests: the midpoint rule in probability over the
#: normal nodes errs by at most 1/(2·QUAD_NODES) for a monotone integrand; the graded dispersion
#: nodes add the rest (largest with a heavy-tailed dispersion on 2 df: 5.6e-4 measured on twelve
#: cases, φ̃ = 5 on 2 df; 4.5e-4 for that running total with the gamma rate).
QUAD_ERROR = 1e-3
#: Nodes of the dispersion of a count model whose dispersion is estimated
#: (:func:`dispersion_nodes`).
DISPERSION_NODES = 24
#: Dispersion nodes of the one-dimensional mixtures (slope interval, p-value, Gaussian tails).
DISPERSION_NODES_1D = 512
#: Probabilities of an outcome not yet decided stay within [P_MIN, 1 − P_MIN]: values are printed
#: rounded, so no fit of a few points pins the outcome down more closely than that.
P_MIN = 1e-9

#: Reason codes with their Japanese label and English rendering (:mod:`kpianalysis.reasons`).
REASONS: dict[str, tuple[str, str]] = reasons.labels("trend_fit")


class TrendInputError(KpiAnalysisError, ValueError):
    """Input to a trend fit that is unusable (text for numbers, wrong lengths, bad option)."""


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


@contextmanager
def _quiet() -> Iterator[list[warnings.WarningMessage]]:
    """Record every warning raised by statsmodels/numpy instead of letting it reach the notebook.

    Known degenerate cases (n = 2, perfect fits, zero counts) are handled before statsmodels sees
    them; anything still recorded marks the result with reason ``"numerical_problem"``.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(all="warn"):
            yield caught


def _without_separation(caught: list[warnings.WarningMessage]) -> list[warnings.WarningMessage]:
    """Drop statsmodels' PerfectSeparationWarning (an exact Poisson fit is not a failure)."""
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    return [w for w in caught if not issubclass(w.category, PerfectSeparationWarning)]


def _as_float_array(values: Any, name: str) -> np.ndarray:
    """1-D float array from numbers (NaN/None/pd.NA → NaN); text or booleans raise."""
    if isinstance(values, pd.Series | pd.Index):
        if pd.api.types.is_bool_dtype(values.dtype):
            raise TrendInputError(f"{name} must be numeric, got booleans")
        if pd.api.types.is_numeric_dtype(values.dtype):
            return values.to_numpy(dtype=float, na_value=np.nan)
        values = values.to_numpy(dtype=object)
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise TrendInputError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind in "iuf":
        return arr.astype(float)
    if arr.dtype.kind == "O":
        out = np.empty(arr.shape[0], dtype=float)
        for i, v in enumerate(arr):
            if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                out[i] = np.nan
            elif isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_):
                out[i] = float(v)
            else:
                raise TrendInputError(f"{name} holds a non-numeric value {v!r} at position {i}")
        return out
    raise TrendInputError(f"{name} must be numeric, got dtype {arr.dtype} (e.g. {arr[:1]!r})")


def _check_model(model: str) -> str:
    if model not in MODELS:
        raise TrendInputError(f"unknown trend model {model!r}; choose one of {MODELS}")
    return model


def _check_alpha(alpha: float) -> float:
    if not 0.0 < float(alpha) < 1.0:
        raise TrendInputError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")
    return float(alpha)


def _is_count(y: np.ndarray) -> bool:
    return bool(np.all(y >= 0) and np.all(y == np.round(y)))


def _is_perfect(ssr: Any, syy: Any, n: Any) -> Any:
    # Residual sum of squares at the level of rounding error of the centred values: an exact fit.
    return ssr <= n * (64 * np.finfo(float).eps) ** 2 * syy


def _perfect_fit_p(slope: float) -> float:
    # Zero residual variance: the t statistic is ±inf (p = 0) for a non-zero slope; a flat line
    # through identical values is 0/0, reported as p = 1: the data agree exactly with no trend.
    return 0.0 if slope != 0.0 else 1.0


def _float_or_none(v: Any) -> float | None:
    return None if v is None else float(v)


# --------------------------------------------------------------------------------------------
# predictive distribution of counts (deterministic quadrature, no simulation)
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _standard_nodes(n_nodes: int) -> np.ndarray:
    """Standard normal values at the midpoints of ``n_nodes`` equal-probability slices."""
    z = stats.norm.ppf((np.arange(n_nodes) + 0.5) / n_nodes)
    z.setflags(write=False)
    return z


@functools.lru_cache(maxsize=1024)
def dispersion_nodes(
    phi: float, df: float, n_nodes: int = 24
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """A count model's dispersion as :data:`DISPERSION_NODES` values floored at 1, and weights.

    Given the moderated Pearson dispersion φ̃ on ``df`` = d₀ + d degrees of freedom, the true
    dispersion is φ̃·df/χ²_df (the scaled inverse χ² that also gives a Gaussian model its t
    quantiles); a count never varies less than Poisson, so each value is ``max(1, ·)``. As φ̃
    moves the nodes move with it, so nearby data give nearby intervals (no switch between Poisson
    and quasi-Poisson). The ``n_nodes`` nodes are probability midpoints of slices whose edges
    (k/M)³ grade towards the heavy upper tail (with 24 nodes a t₂ quantile is 0.3 % short, where
    equal probabilities would make it 3 % short; the one-dimensional quantities — slope
    interval, p-value — use :data:`DISPERSION_NODES_1D`); the weights are the slices'
    probabilities. With an infinite ``df`` the one node is ``max(1, φ̃)``.

    Examples
    --------
    >>> dispersion_nodes(0.5, math.inf), dispersion_nodes(3.0, math.inf)
    (((1.0,), (1.0,)), ((3.0,), (1.0,)))
    >>> values, weights = dispersion_nodes(1.0, 4.0)
    >>> len(values), min(values), round(sum(weights), 12)
    (24, 1.0, 1.0)
    """
    if math.isinf(df):
        return (max(1.0, phi),), (1.0,)
    edges = (np.arange(n_nodes + 1) / n_nodes) ** 3
    u = (edges[:-1] + edges[1:]) / 2
    values = np.maximum(1.0, phi * df / stats.chi2.ppf(u, df))
    return tuple(float(v) for v in values), tuple(float(w) for w in np.diff(edges))


def _count_cdf(s: float, lam: np.ndarray, phi: np.ndarray, wts: np.ndarray) -> float:
    """P(S ≤ s) for S | Λ, Φ Poisson (Φ ≤ 1) or negative binomial with variance ΦΛ, averaged over
    the nodes (``lam``, ``phi`` and their weights ``wts`` of the same shape)."""
    if s < 0:
        return 0.0
    lam = np.minimum(lam, 1e300)
    nb = phi > 1.0
    k = math.floor(s)
    # The regularised incomplete gamma and beta functions directly (what stats.poisson.cdf and
    # stats.nbinom.cdf evaluate, without their per-call argument handling): Poisson
    # P(S ≤ k) = Q(k + 1, λ); negative binomial (r = λ/(φ − 1), p = 1/φ) I_p(r, k + 1).
    cdf = special.pdtr(k, lam)
    if nb.any():
        ph = np.where(nb, phi, 2.0)
        r = np.where(lam > 0, lam / (ph - 1.0), 1.0)
        cdf_nb = np.where(lam > 0, special.betainc(r, k + 1.0, 1.0 / ph), 1.0)
        cdf = np.where(nb, cdf_nb, cdf)
    return float(np.dot(wts, cdf))


def _count_quantiles(
    ps: Sequence[float], lam: np.ndarray, phi: np.ndarray, wts: np.ndarray
) -> list[float]:
    """Interval ends of the count mixture whose tail masses are nearest to ``ps``.

    For p < ½ (a lower end) the integer s whose mass below it, P(S ≤ s − 1), is nearest to p; for
    p ≥ ½ (an upper end) the s with P(S ≤ s) nearest to p. A count's exact quantiles give intervals
    that cover more than their level (an 80 % interval of a Poisson(4) count, [2, 7], covers
    85.7 %; [2, 6] covers 79.7 %): with these ends an interval covers as close to its level as
    the integers allow (``benchmarks/bench_calibration.py``). The CDF is evaluated on the whole
    integer range up to an upper bracket at once (one vectorised call) when that range is short,
    else by bisection on integers.
    """
    top = max(ps)
    # An upper bracket: a high quantile of the mixing means plus ten of its standard deviations;
    # checked on the grid (and doubled in the rare case it is short).
    order = np.argsort(lam)
    at = np.searchsorted(np.cumsum(wts[order]), 1.0 - (1.0 - top) / 10.0)
    j = order[min(int(at), lam.size - 1)]
    big = float(lam[j])
    hi = max(8, int(min(np.ceil(big + 10.0 * math.sqrt(max(float(phi[j]), 1.0) * big)), 2e18)) + 8)
    # The whole grid costs nodes × hi; beyond a few million terms bisection (about log₂ hi
    # CDF evaluations over the nodes) is cheaper.
    while hi * lam.size <= 1_500_000:
        cdf = _mixture_cdf_grid(hi, lam, phi, wts)
        if cdf[-1] >= top:
            below = np.concatenate([[0.0], cdf[:-1]])
            return [
                float(np.argmin(np.abs((below if p < 0.5 else cdf) - p))) for p in ps
            ]  # fmt: skip
        hi *= 2
    while _count_cdf(hi, lam, phi, wts) < top:
        hi *= 2
        if hi > 2**62:
            return [math.inf if p >= top else _count_quantiles([p], lam, phi, wts)[0] for p in ps]
    return [_nearest_end(p, lam, phi, wts, hi) for p in ps]


def _nearest_end(p: float, lam: np.ndarray, phi: np.ndarray, wts: np.ndarray, hi: int) -> float:
    """:func:`_count_quantiles` for one p by bisection: the exact quantile q, then q or its
    neighbour, whichever tail mass is nearer to p."""
    q = int(_count_quantile(p, lam, phi, wts, hi))  # F(q − 1) < p ≤ F(q)
    f_q, f_below = _count_cdf(q, lam, phi, wts), _count_cdf(q - 1, lam, phi, wts)
    if p < 0.5:  # lower end s: mass below s nearest p; F(q − 1) < p ≤ F(q)
        return float(q if p - f_below <= f_q - p else q + 1)
    return float(q if f_q - p <= p - f_below else q - 1)


def _mixture_cdf_grid(hi: int, lam: np.ndarray, phi: np.ndarray, wts: np.ndarray) -> np.ndarray:
    """P(S ≤ s) for s = 0..hi, averaged over the nodes: the pmf by its recursion in log space
    (pmf(s)/pmf(s−1) = λ/s for Poisson, (s − 1 + r)(1 − p)/s for the negative binomial with
    r = λ/(φ − 1), p = 1/φ), so no special function is evaluated per grid point."""
    s = np.arange(1, hi + 1, dtype=float)
    acc = np.zeros(hi + 1)
    step = max(1, 2_000_000 // (hi + 1))
    for k in range(0, lam.size, step):
        lk = np.minimum(lam[k : k + step], 1e300)[:, None]
        nb = (phi[k : k + step] > 1.0)[:, None]
        ph = np.where(nb, phi[k : k + step, None], 2.0)
        pos = lk > 0
        lk = np.where(pos, lk, 1.0)
        r = lk / (ph - 1.0)
        log0 = np.where(nb, r * np.log(1.0 / ph), -lk)
        ratio = (
            np.where(
                nb,
                np.log(s[None, :] - 1.0 + r) + np.log1p(-1.0 / ph),
                np.log(lk),
            )
            - np.log(s)[None, :]
        )
        logpmf = np.concatenate([log0, log0 + np.cumsum(ratio, axis=1)], axis=1)
        cdf = np.minimum(np.cumsum(np.exp(logpmf), axis=1), 1.0)
        cdf = np.where(pos, cdf, 1.0)  # Λ = 0: S = 0 surely
        acc += wts[k : k + step] @ cdf
    return acc


def _count_quantile(p: float, lam: np.ndarray, phi: np.ndarray, wts: np.ndarray, hi: int) -> float:
    """Bisection on integers in [0, hi] (``hi`` an upper bracket) for the exact quantile."""
    lo = -1
    while hi - lo > 1:  # invariant: cdf(lo) < p <= cdf(hi)
        mid = (lo + hi) // 2
        if _count_cdf(mid, lam, phi, wts) >= p:
            hi = mid
        else:
            lo = mid
    return float(hi)


def _mixture_quantile(p: float, w: np.ndarray, wts: np.ndarray) -> float:
    """The p quantile (p > 1/2) of W·Z, Z standard normal, W = w with probability wts: a scale
    mixture of normals (the t distribution when W² is a scaled inverse χ²)."""
    lo, hi = float(w.min() * stats.norm.ppf(p)), float(w.max() * stats.norm.ppf(p))
    if hi - lo <= 1e-12 * hi:
        return lo
    return float(optimize.brentq(lambda q: float(wts @ special.ndtr(q / w)) - p, lo, hi))


#: Back-transforms of the Gaussian line models from the fitted scale to the KPI's unit (monotone,
#: so interval ends map to interval ends; a share stays inside 0–100 %).
_BACK: dict[str, Any] = {
    "ols": lambda z: z,
    "loglinear": np.exp,
    "logit": lambda z: 100.0 * special.expit(z),
}


# --------------------------------------------------------------------------------------------
# result object
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendFit:
    """The trend of one series, with its uncertainty, or the reason it could not be fitted.

    Attributes
    ----------
    model
        One of :data:`MODELS`.
    n, n_dropped
        Points used (levels, baseline included when given), and points dropped as missing.
    df_resid
        Residual degrees of freedom d of the series alone: ``n - 2`` for a line, ``n - 2`` also
        for the increment models (n levels → n − 1 increments, one rate).
    centre
        Fiscal year subtracted before fitting (mean year unless given); for the increment models
        the last observed year (``intercept`` is then the last observed level).
    alpha
        1 - confidence level of every interval (0.05 → 95 %).
    intercept, intercept_se
        Level at ``centre`` (log scale for the log models) and its standard error.
    intercept_x0, intercept_x0_se
        The same at year 0 (for comparison with uncentred fits such as NIST StRD).
    slope, slope_se, ci_low, ci_high, p_value
        Change per fiscal year (log scale for ``poisson`` and ``loglinear``; for the increment
        models the expected increment per year, in the KPI's unit), SE, confidence interval
        and two-sided p-value of slope = 0 (t on ``df_total``; z for a known Poisson scale).
    slope_pct_per_year, slope_pct_ci_low, slope_pct_ci_high
        ``exp(slope) - 1`` and its interval, for the log models (``None`` otherwise).
    aic
        Akaike information criterion where defined (plain fits, no pooling, not exact).
    s2
        The series' own residual variance on the model's scale: σ̂² (OLS, log-linear on the log
        scale, OLS on increments) or the Pearson dispersion φ̂ (Poisson models); ``None`` with d = 0.
    prior_df, prior_scale
        The empirical-Bayes prior (d₀, s₀²) the variance was moderated with (0 and NaN: none).
    s2_post, df_total
        Moderated variance s̃² = (d₀s₀² + d·s²)/(d₀ + d) and the degrees of freedom d₀ + d of every
        t quantile. Without a prior they equal s² and d.
    scale
        Variance scale the standard errors use: s̃² for the Gaussian models; for Poisson models 1,
        or the moderated φ̃ when it exceeds 1 (quasi-Poisson).
    dispersion
        Pearson χ² / df_resid (Poisson models).
    quasi
        True when the quasi-Poisson scale φ̃ > 1 was used (t quantiles on ``df_total``).
    dispersion_assumed
        True for a Poisson model whose dispersion could not be estimated (d₀ + d < 2): Poisson
        variation (φ = 1) is assumed, which understates the uncertainty if the counts vary more.
    residual_sd
        √s² for the Gaussian models.
    last_year, last_level
        Increment models: the last observed year and level (predictions start from it).
    resolution
        The unit of the printed values (:func:`reporting_resolution`): the Gaussian models'
        variance is never below the rounding variance it implies.
    reason
        ``None`` when everything is estimated, else a code from :data:`REASONS`.
    """

    model: str
    n: int
    n_dropped: int
    df_resid: int | None
    centre: float | None
    alpha: float
    intercept: float | None = None
    intercept_se: float | None = None
    intercept_x0: float | None = None
    intercept_x0_se: float | None = None
    slope: float | None = None
    slope_se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    slope_pct_per_year: float | None = None
    slope_pct_ci_low: float | None = None
    slope_pct_ci_high: float | None = None
    aic: float | None = None
    s2: float | None = None
    prior_df: float = 0.0
    prior_scale: float = math.nan
    s2_post: float | None = None
    df_total: float | None = None
    scale: float | None = None
    dispersion: float | None = None
    quasi: bool = False
    dispersion_assumed: bool = False
    residual_sd: float | None = None
    last_year: float | None = None
    last_level: float | None = None
    resolution: float | None = None
    reason: str | None = None
    # Coefficients on the model's scale and their covariance at unit scale ((X'X)⁻¹ or (X'WX)⁻¹):
    # every interval is computed from these, the same way in both paths.
    _beta: Any = field(default=None, repr=False, compare=False)
    _cov_unit: Any = field(default=None, repr=False, compare=False)

    # -- tidy output ---------------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """One tidy row as a dict (public fields only).

        Examples
        --------
        >>> fit_trend([2021, 2022], [4, 7]).as_dict()["reason"]
        'no_interval_with_2_points'
        """
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}

    def to_frame(self) -> pd.DataFrame:
        """One tidy row as a DataFrame.

        Examples
        --------
        >>> row = fit_trend([2021, 2022, 2023], [4, 7, 9]).to_frame()
        >>> row[["n", "df_resid"]].values.tolist()
        [[3, 1]]
        """
        return pd.DataFrame([self.as_dict()])

    @property
    def has_interval(self) -> bool:
        """True when standard errors and intervals exist (reason is None)."""
        return self.reason is None

    @property
    def increments(self) -> bool:
        """True for the models of a running total (yearly increments)."""
        return self.model in INCREMENT_MODELS

    @property
    def cov(self) -> np.ndarray | None:
        """Covariance of the coefficients at the scale in use (None without an interval)."""
        if self._cov_unit is None or self.scale is None:
            return None
        return np.asarray(self._cov_unit) * self.scale

    def _quantile(self, alpha: float) -> float:
        """Two-sided quantile of the standardised estimate: normal (known scale), t on
        ``df_total``, or for counts the mixture over the dispersion's nodes."""
        if self.model in POISSON_MODELS:
            return _mixture_quantile(1 - alpha / 2, *self._mix())
        if self._normal_quantiles:
            return float(stats.norm.ppf(1 - alpha / 2))
        assert self.df_total is not None
        return float(stats.t.ppf(1 - alpha / 2, self.df_total))

    @property
    def _normal_quantiles(self) -> bool:
        return self.df_total is None or math.isinf(self.df_total)

    def _dispersions(self, n_nodes: int = DISPERSION_NODES) -> tuple[np.ndarray, np.ndarray]:
        """The count model's dispersion nodes and weights (:func:`dispersion_nodes`); Poisson
        (one node, 1) when the dispersion is assumed."""
        if self.dispersion_assumed or self.s2_post is None or self.df_total is None:
            return np.ones(1), np.ones(1)
        v, w = dispersion_nodes(float(self.s2_post), float(self.df_total), n_nodes)
        return np.asarray(v), np.asarray(w)

    def _mix(self, n_nodes: int = DISPERSION_NODES_1D) -> tuple[np.ndarray, np.ndarray]:
        """(Standard deviation factor of each dispersion node relative to the scale of ``cov``,
        weight)."""
        v, w = self._dispersions(n_nodes)
        return np.sqrt(v / float(self.scale or 1.0)), w

    def _count_nodes(self, eta: float, se: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(λ, φ, weight) at every quadrature node: the linear predictor η̂ + se·w·z over the
        equal-probability normal nodes z within each dispersion node (se at ``cov``'s scale)."""
        w, wts = self._mix(DISPERSION_NODES)
        # Within each of several dispersion nodes fewer normal nodes suffice (the error bound
        # QUAD_ERROR holds, tested); a single node (Poisson assumed, or d₀ = ∞) takes them all.
        z = _standard_nodes(QUAD_NODES if w.size == 1 else QUAD_NODES // 4)
        etas = eta + se * (w[:, None] * z[None, :]).ravel()
        lam = np.exp(np.minimum(etas, 690.0))
        phi = np.repeat(self._dispersions()[0], z.size)
        return lam, phi, np.repeat(wts / z.size, z.size)

    def _rate_nodes(self, rate: float, se: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(λ, φ, weight) of a running total's yearly rate: within each dispersion node Φ, a
        gamma with mean λ̂ and coefficient of variation se·√(Φ/scale) (se of log λ̂ at ``cov``'s
        scale), at equal-probability nodes.

        The increments' total S over Σk years makes the rate's likelihood a gamma in λ: with
        counts of variance Φλ, shape S/Φ and mean λ̂ = S/Σk, i.e. CV √(Φ/(λ̂Σk)) — the conjugate
        Poisson–gamma form, whose predictive count is negative binomial (METHODS.md §3). A
        log-normal with that spread centred on log λ̂ has its mean above λ̂ by exp(se²/2): large
        when the increments add to a few counts, and it over-covered (bench_calibration.py).
        """
        w, wts = self._mix(DISPERSION_NODES)
        n = QUAD_NODES if w.size == 1 else QUAD_NODES // 4
        shape = 1.0 / np.maximum(se * w, 1e-150) ** 2
        u = (np.arange(n) + 0.5) / n
        lam = rate * (special.gammaincinv(shape[:, None], u[None, :]) / shape[:, None]).ravel()
        phi = np.repeat(self._dispersions()[0], n)
        return lam, phi, np.repeat(wts / n, n)

    # -- prediction ----------------------------------------------------------------------------

    def predict(self, years: Any, alpha: float | None = None) -> pd.DataFrame:
        """Fitted mean with its confidence interval and a prediction interval for a new value.

        Parameters
        ----------
        years
            Fiscal years (scalar or sequence).
        alpha
            1 - level of the intervals; defaults to the fit's ``alpha``.

        Returns
        -------
        DataFrame
            Columns ``year, mean, mean_ci_low, mean_ci_high, pi_low, pi_high, reason``. For the
            log-linear model ``mean`` is the back-transformed log-scale mean (the median). For the
            increment models, years up to the last observed one get the fitted line through the
            last level without intervals; later years the last level plus predicted increments,
            never below the last level. Every prediction interval contains the mean's confidence
            interval. Intervals are NaN exactly when ``reason`` is not None.

        Examples
        --------
        >>> fit = fit_trend([2021, 2022, 2023], [4, 7, 9])
        >>> fit.predict(2024)[["mean", "pi_low", "pi_high"]].round(2).values.tolist()
        [[11.67, 2.2, 21.14]]
        """
        a = self.alpha if alpha is None else _check_alpha(alpha)
        yrs = _as_float_array(np.atleast_1d(years), "years")
        if np.isnan(yrs).any():
            raise TrendInputError("years must not be missing")
        cols = ("mean", "mean_ci_low", "mean_ci_high", "pi_low", "pi_high")
        # NumPy columns throughout, one DataFrame at the end (pandas item assignment is slow).
        v = {c: np.full(yrs.shape, np.nan) for c in cols}
        if self.slope is not None:
            if self.increments:
                self._predict_increments(v, yrs, a)
            else:
                self._predict_line(v, yrs, a)
        return pd.DataFrame({"year": yrs, **v, "reason": self.reason})

    def _predict_line(self, v: dict[str, np.ndarray], yrs: np.ndarray, a: float) -> None:
        eta = self._point(yrs)
        f = _BACK.get(self.model, np.exp)
        v["mean"][:] = f(eta)
        if self.reason is not None:
            return
        X = self._design(yrs)
        se_eta = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", X, self.cov, X), 0.0))
        q = self._quantile(a)
        lo, hi = eta - q * se_eta, eta + q * se_eta
        if self.model in _BACK:
            se_obs = np.sqrt(se_eta**2 + float(self.scale))
            v["mean_ci_low"][:], v["mean_ci_high"][:] = f(lo), f(hi)
            v["pi_low"][:], v["pi_high"][:] = f(eta - q * se_obs), f(eta + q * se_obs)
            return
        # Poisson: mean CI on the log scale; PI from the predictive mixture of counts.
        v["mean_ci_low"][:], v["mean_ci_high"][:] = np.exp(lo), np.exp(hi)
        for i, (e, s) in enumerate(zip(eta, se_eta, strict=True)):
            lam, phi, wts = self._count_nodes(float(e), float(s))
            q_lo, q_hi = _count_quantiles([a / 2, 1 - a / 2], lam, phi, wts)
            v["pi_low"][i] = min(q_lo, math.exp(lo[i]))
            v["pi_high"][i] = max(q_hi, math.exp(hi[i]))

    def _design(self, years: np.ndarray) -> np.ndarray:
        assert self.centre is not None
        return np.column_stack([np.ones_like(years), years - self.centre])

    def _point(self, years: np.ndarray) -> np.ndarray:
        assert self.intercept is not None and self.slope is not None and self.centre is not None
        return self.intercept + self.slope * (years - self.centre)

    def _predict_increments(self, v: dict[str, np.ndarray], yrs: np.ndarray, a: float) -> None:
        assert self.last_year is not None and self.last_level is not None
        rate = float(self.slope)
        k = yrs - self.last_year
        v["mean"][:] = self.last_level + rate * k
        # The observed years are known: the fitted line through the last level, no band; the
        # last observed year itself is known exactly.
        for col in ("mean_ci_low", "mean_ci_high", "pi_low", "pi_high"):
            v[col][k == 0] = self.last_level
        ahead = np.flatnonzero(k > 0)
        if self.reason is not None or not ahead.size:
            return
        q = self._quantile(a)
        lvl = self.last_level
        for i in ahead:
            ki = float(k[i])
            if self.model == "ols_increments":
                s2 = float(self.scale)
                se_mean = ki * math.sqrt(s2 * float(self._cov_unit[0, 0]))
                se_obs = math.sqrt(se_mean**2 + ki * s2)
                m = lvl + rate * ki
                # A running total cannot fall: the intervals stop at the level already reached.
                vals = (m - q * se_mean, m + q * se_mean, m - q * se_obs, m + q * se_obs)
                vals = tuple(max(x, lvl) for x in vals)
            else:
                se = float(self._log_rate_se)
                lr = math.log(rate)
                ci = (lvl + ki * math.exp(lr - q * se), lvl + ki * math.exp(lr + q * se))
                lam, phi, wts = self._rate_nodes(rate, se)
                q_lo, q_hi = _count_quantiles([a / 2, 1 - a / 2], ki * lam, phi, wts)
                vals = (*ci, lvl + min(q_lo, ci[0] - lvl), lvl + max(q_hi, ci[1] - lvl))
            for col, x in zip(
                ("mean_ci_low", "mean_ci_high", "pi_low", "pi_high"), vals, strict=True
            ):
                v[col][i] = x

    @property
    def _resolution(self) -> float:
        return 0.0 if self.resolution is None else float(self.resolution)

    @property
    def _log_rate_se(self) -> float:
        # se of log λ̂ for the Poisson increment model: √(φ / (λ̂ Σk)) = √(scale · cov_unit / λ̂²).
        assert self.cov is not None and self.slope
        return math.sqrt(float(self.cov[0, 0])) / float(self.slope)

    def prob_reach(self, target: float, year: float, direction: str = "increase") -> float | None:
        """Probability that the value in ``year`` reaches ``target``.

        "Reaches" means ≥ target for ``direction="increase"`` and ≤ target for ``"decrease"``,
        under the predictive distribution: t on ``df_total`` around the fit (on the log scale for
        log-linear); for counts the Poisson or negative-binomial mixture over the uncertainty of
        the linear predictor (deterministic quadrature). For the increment models the value is
        the last observed level plus the increments still to come, so the probability is
        conditional on the level already reached.

        Returns
        -------
        float or None
            ``None`` when the fit has no interval (``reason`` says why).

        Examples
        --------
        >>> fit = fit_trend([2021, 2022, 2023], [4, 7, 9])
        >>> round(fit.prob_reach(11.0, 2024), 3)
        0.732
        """
        if direction not in ("increase", "decrease"):
            raise TrendInputError(f"direction must be 'increase' or 'decrease', got {direction!r}")
        t_val = _as_float_array([target], "target")[0]
        yr = _as_float_array([year], "year")[0]
        if math.isnan(t_val) or math.isnan(yr):
            raise TrendInputError("target and year must not be missing")
        if self.reason is not None:
            return None
        up = direction == "increase"
        p, decided = self._reach(t_val, yr, up)
        # Rounded data never pin an open outcome down exactly: only a decided one is 0 or 1.
        return p if decided else min(max(p, P_MIN), 1.0 - P_MIN)

    def _reach(self, t_val: float, yr: float, up: bool) -> tuple[float, bool]:
        """(P(reach), whether the outcome is already decided by what is known)."""
        if self.increments:
            assert self.last_year is not None and self.last_level is not None
            k = yr - self.last_year
            need = t_val - self.last_level  # increments still needed
            if k <= 0:
                return (float(need <= 0) if up else float(need >= 0)), True
            if need <= 0 if up else need < 0:
                # The level reached already meets it (or already exceeds a ceiling) and a running
                # total cannot fall.
                return (1.0 if up else 0.0), True
            if self.model == "poisson_increments":
                lam, phi, wts = self._rate_nodes(float(self.slope), self._log_rate_se)
                lam = k * lam
                below = _count_cdf(math.ceil(need) - 1, lam, phi, wts)  # P(S < need)
                at_most = _count_cdf(math.floor(need), lam, phi, wts)  # P(S ≤ need)
                return (float(1.0 - below) if up else float(at_most)), False
            s2 = float(self.scale)
            mean = self.slope * k
            sd = math.sqrt(k * k * s2 * float(self._cov_unit[0, 0]) + k * s2)
            return self._t_tail(need, mean, sd, up), False
        if self.model in ("poisson", "loglinear", "logit"):
            # Outside the model's range the outcome is decided: counts are ≥ 0, a stock is > 0,
            # a share lies in [0, 100] %.
            low = 0.0
            high = 100.0 if self.model == "logit" else math.inf
            if (t_val <= low if up else t_val < low) or (t_val > high):
                return (float(t_val <= low) if up else float(t_val >= high)), True
        if self.model == "poisson":
            X = self._design(np.array([yr]))[0]
            se = math.sqrt(max(float(X @ self.cov @ X), 0.0))
            lam, phi, wts = self._count_nodes(float(self._point(np.array([yr]))[0]), se)
            if up:
                return float(1.0 - _count_cdf(math.ceil(t_val) - 1, lam, phi, wts)), False
            return float(_count_cdf(math.floor(t_val), lam, phi, wts)), False
        if self.model in ("loglinear", "logit"):
            # (A share target at 0 or 100 % is taken as within half a printed unit of it.)
            if self.model == "loglinear" and t_val <= 0:
                # A stock on a log scale never reaches 0, but a value printed as 0 (待機児童 0人)
                # is one below half a printed unit; without a known unit it cannot be reached.
                if self._resolution <= 0:
                    return 0.0, False
                t_val = 0.5 * self._resolution
            t_val = float(_model_scale(self.model, np.array([t_val]), self._resolution)[0])
        X = self._design(np.array([yr]))[0]
        mean = float(self._point(np.array([yr]))[0])
        sd = math.sqrt(max(float(X @ self.cov @ X), 0.0) + float(self.scale))
        return self._t_tail(t_val, mean, sd, up), False

    def _t_tail(self, t_val: float, mean: float, sd: float, up: bool) -> float:
        if sd == 0.0:  # exact fit: the predictive distribution is a point
            return float(mean >= t_val) if up else float(mean <= t_val)
        z = (t_val - mean) / sd
        if self.model in POISSON_MODELS:
            w, wts = self._mix()
            return float(wts @ (special.ndtr(-z / w) if up else special.ndtr(z / w)))
        if self._normal_quantiles:
            return float(stats.norm.sf(z) if up else stats.norm.cdf(z))
        return float(stats.t.sf(z, self.df_total) if up else stats.t.cdf(z, self.df_total))


# --------------------------------------------------------------------------------------------
# one series
# --------------------------------------------------------------------------------------------


def fit_trend(
    x: Any,
    y: Any,
    *,
    model: str = "ols",
    centre: float | None = None,
    alpha: float = 0.05,
    prior: VariancePrior | None = None,
    resolution: float | None = None,
) -> TrendFit:
    """Fit the trend of one series.

    Parameters
    ----------
    x
        Fiscal years (numbers, no missing values).
    y
        Values (levels, also for the increment models); missing values (NaN/None) are dropped
        and counted in ``n_dropped``.
    model
        One of :data:`MODELS` (see module docstring; :func:`default_model`).
    centre
        Year subtracted before fitting; the mean year of the used points by default (ignored by
        the increment models, which are centred on the last observed year).
    alpha
        1 - confidence level of the intervals.
    prior
        Empirical-Bayes prior (d₀, s₀²) of the residual variance on the model's scale
        (:func:`kpianalysis.analysis.shrinkage.fit_f_dist` over comparable series). ``None``: the
        series alone.
    resolution
        The unit of the printed values (``None``: inferred, :func:`reporting_resolution`; 0: no
        floor). A printed value is known to ±resolution/2, so the residual variance of the
        Gaussian models is never below the rounding variance (:func:`_rounding_floor`).

    Returns
    -------
    TrendFit
        Estimates with their uncertainty, or a ``reason`` when the model cannot apply.

    Raises
    ------
    TrendInputError
        Non-numeric input, different lengths, missing or infinite years, unknown model.

    Examples
    --------
    >>> fit = fit_trend([2021, 2022, 2023], [4, 7, 9])
    >>> round(fit.slope, 9), fit.df_resid, fit.centre
    (2.5, 1, 2022.0)
    >>> round(fit_trend([2021, 2022, 2023], [4, 7, 9], model="poisson").slope, 6)
    0.384156
    >>> cum = fit_trend([2020, 2021, 2022, 2023], [4, 4, 7, 9], model="poisson_increments")
    >>> round(cum.slope, 4), cum.df_resid, round(cum.dispersion, 4)   # (0 + 3 + 2) / 3 a year
    (1.6667, 2, 1.4)
    >>> fit_trend([2021, 2022], [4, 0], model="loglinear").reason
    'non_positive_values'
    """
    model = _check_model(model)
    alpha = _check_alpha(alpha)
    xa = _as_float_array(x, "x")
    ya = _as_float_array(y, "y")
    if xa.shape != ya.shape:
        raise TrendInputError(f"x and y differ in length ({xa.size} vs {ya.size})")
    if not np.isfinite(xa).all():
        raise TrendInputError("x (fiscal year) must be finite and not missing")
    if np.isinf(ya).any():
        raise TrendInputError("y must not be infinite")
    keep = ~np.isnan(ya)
    xa, ya = xa[keep], ya[keep]
    n = int(xa.size)
    prior = prior if prior is not None else NO_PRIOR
    res = reporting_resolution(ya) if resolution is None else float(resolution)
    base: dict[str, Any] = {
        "resolution": res,
        "model": model,
        "n": n,
        "n_dropped": int((~keep).sum()),
        "df_resid": n - 2 if n >= 2 else None,
        "centre": None,
        "alpha": alpha,
        "prior_df": float(prior.df) if prior.pools else 0.0,
        "prior_scale": float(prior.scale) if prior.pools else math.nan,
    }
    if centre is not None:
        c = float(centre)
        if not math.isfinite(c):
            raise TrendInputError(f"centre must be finite, got {centre!r}")
    else:
        c = float(xa.mean()) if n else math.nan
    if n:
        base["centre"] = c

    # Domain of the model first: it is a property of the data whatever the number of points.
    if model == "loglinear" and (ya <= 0).any():
        return TrendFit(**base, reason="non_positive_values")
    if model == "logit" and ((ya < 0) | (ya > 100)).any():
        return TrendFit(**base, reason="outside_percent_range")
    if model == "logit" and ((ya == 0) | (ya == 100)).any():
        # logit(0) = −∞. A printed 0 % says only "below half a printed unit", and whatever
        # stands in for it sets the slope alone: 群馬県 ③, 0 % → 34.0 % in five years, is 0.926
        # a year at 0.5 %, 1.39 at 0.05 %, 1.85 at 0.005 %. No line rather than an invented one.
        return TrendFit(**base, reason="share_at_bound")
    if model in POISSON_MODELS:
        if (ya < 0).any():
            return TrendFit(**base, reason="negative_counts")
        if not _is_count(ya):
            return TrendFit(**base, reason="non_integer_values")
    if n < 2:
        return TrendFit(**base, reason="too_few_points")
    if np.ptp(xa) == 0 or (model in INCREMENT_MODELS and np.unique(xa).size < xa.size):
        return TrendFit(**base, reason="no_variation_in_year")
    if model in INCREMENT_MODELS:
        return _fit_increments(xa, ya, base, prior, res)
    dx = xa - c
    if model == "poisson":
        return _fit_poisson(dx, ya, base, prior)
    return _fit_ols(dx, ya, base, prior, res)


def _intercept_x0(b0: float, b1: float, c: float, cov: np.ndarray | None) -> tuple[float, Any]:
    a0 = b0 - b1 * c
    if cov is None:
        return a0, None
    var = cov[0, 0] + c * c * cov[1, 1] - 2 * c * cov[0, 1]
    return a0, math.sqrt(max(var, 0.0))


def _pct(v: float | None) -> float | None:
    return None if v is None else math.expm1(v)


def _moderate(s2: float | None, d: int, prior: VariancePrior) -> tuple[float | None, float]:
    """(s̃², d₀ + d) of one series: the same arithmetic as the batch path (squeeze_var)."""
    v, df = squeeze_var([np.nan if s2 is None else s2], [d], prior)
    post = float(v[0])
    return (None if not math.isfinite(post) else post), float(df[0])


def _model_scale(model: str, y: np.ndarray, res: Any) -> np.ndarray:
    """Values on the scale the line is fitted on: level, log or logit of the share."""
    if model == "loglinear":
        return np.log(y)
    if model == "logit":
        p = _percent_share(y, res)
        return np.log(p) - np.log1p(-p)
    return y


def _fit_ols(
    dx: np.ndarray, y: np.ndarray, base: dict[str, Any], prior: VariancePrior, resolution: float
) -> TrendFit:
    model = base["model"]
    codes = np.zeros(y.size, dtype=np.int64)
    res = np.array([resolution])
    floor = _rounding_floor(model, codes, 1, y, res)
    ys = _model_scale(model, y, resolution)
    with _quiet() as caught:
        core = {k: v[0] for k, v in linear_fit_core(
            codes, 1, dx, ys, prior=prior, floor=floor, alpha=base["alpha"]
        ).items()}  # fmt: skip
    # dx is centred at ``centre``: the core's intercept at x = 0 is the level at the centre.
    b0, b1 = float(core["intercept_x0"]), float(core["slope"])
    n, cx, sxx = float(core["n"]), float(core["centre"]), float(core["sxx"])
    cov_unit = np.array([[1 / n + cx * cx / sxx, -cx / sxx], [-cx / sxx, 1 / sxx]])
    d = int(base["df_resid"])
    s2 = float(core["s2"]) if d > 0 else None
    log_model = model == "loglinear"
    common = {
        "s2": s2,
        "residual_sd": None if s2 is None else math.sqrt(s2),
        "_beta": np.array([b0, b1]),
        "_cov_unit": cov_unit,
    }
    if not core["se_ok"]:
        return TrendFit(
            **base,
            intercept=b0,
            intercept_x0=b0 - b1 * base["centre"],
            slope=b1,
            slope_pct_per_year=_pct(b1) if log_model else None,
            reason="no_interval_with_2_points",
            **common,
        )
    s2_post, ssr = float(core["s2_post"]), float(core["ssr"])
    aic = None
    if s2 and not prior.pools:
        # statsmodels' OLS AIC: −2 log L + 2·2, log L = −n/2 (log(2π·SSR/n) + 1).
        aic = n * (math.log(2 * math.pi * ssr / n) + 1) + 4
    fit = TrendFit(
        **base, s2_post=s2_post, df_total=float(core["df_post"]), scale=s2_post, **common
    )
    lo, hi = float(core["ci_low"]), float(core["ci_high"])
    a0, a0_se = _intercept_x0(b0, b1, base["centre"], fit.cov)
    values = [b0, b1, lo, hi, float(core["p_value"]), a0, a0_se, s2_post]
    return replace(
        fit,
        aic=aic,
        intercept=b0,
        intercept_se=float(core["intercept_x0_se"]),
        intercept_x0=a0,
        intercept_x0_se=a0_se,
        slope=b1,
        slope_se=float(core["slope_se"]),
        ci_low=lo,
        ci_high=hi,
        p_value=float(core["p_value"]),
        slope_pct_per_year=_pct(b1) if log_model else None,
        slope_pct_ci_low=_pct(lo) if log_model else None,
        slope_pct_ci_high=_pct(hi) if log_model else None,
        reason=None if not caught and all(map(math.isfinite, values)) else "numerical_problem",
    )


def _fit_poisson(
    dx: np.ndarray, y: np.ndarray, base: dict[str, Any], prior: VariancePrior
) -> TrendFit:
    import statsmodels.api as sm

    # The Poisson MLE with intercept and slope exists iff the count-weighted mean year lies strictly
    # inside the range of years (score equations); otherwise the slope runs off to ±infinity.
    total = y.sum()
    if total == 0:
        return TrendFit(**base, reason="no_finite_estimate")
    xbar_y = float((dx * y).sum() / total)
    if not dx.min() < xbar_y < dx.max():
        return TrendFit(**base, reason="no_finite_estimate")
    X = np.column_stack([np.ones_like(dx), dx])
    with _quiet() as caught:
        res = sm.GLM(y, X, family=sm.families.Poisson()).fit()
        b0, b1 = (float(v) for v in res.params)
        mu = np.asarray(res.mu, dtype=float)
        # Fisher information at the converged means (statsmodels' cov_params uses the weights of
        # the last IRLS step, which differ in the 7th digit).
        cov_unit = np.linalg.inv(X.T @ (mu[:, None] * X))
    # statsmodels flags "perfect prediction" whenever the fitted means equal the counts (a constant
    # count, an exact doubling). The MLE exists there (checked above) and its standard error is
    # finite (5, 5, 5: slope se = 1/√(Σ μ dx²) = 1/√10), so that warning is not a failure.
    caught = _without_separation(caught)
    d = int(base["df_resid"])
    dispersion = float(np.sum((y - mu) ** 2 / mu) / d) if d > 0 else None
    common = {"_beta": np.array([b0, b1]), "_cov_unit": cov_unit, "dispersion": dispersion}
    if d == 0 and not prior.pools:
        # The Poisson model would give an SE even here, but with 2 points its variance assumption
        # cannot be checked at all: report the slope only, like the other models.
        a0, _ = _intercept_x0(b0, b1, base["centre"], None)
        return TrendFit(
            **base,
            intercept=b0,
            intercept_x0=a0,
            slope=b1,
            slope_pct_per_year=_pct(b1),
            reason="no_interval_with_2_points",
            **common,
        )
    fit = TrendFit(**base, **common, **_poisson_scale(dispersion, d, prior))
    extra = {} if fit.quasi or fit.prior_df > 0 else {"aic": float(res.aic)}
    return replace(fit, **extra, **_estimates(fit, b0, b1, caught, log_scale=True))


def _poisson_scale(dispersion: float | None, d: int, prior: VariancePrior) -> dict[str, Any]:
    """Scale of a Poisson-family fit from its moderated dispersion φ̃ on d₀ + d df.

    When φ̃ is estimable (d₀ + d ≥ :data:`MIN_DF`) the dispersion is integrated over its
    distribution floored at 1 (:func:`dispersion_nodes`): one model whose spread grows
    continuously from Poisson as φ̃ grows. ``scale`` is the mean dispersion over the nodes (the
    standard errors shown); ``quasi`` says φ̃ > 1. Below MIN_DF df Poisson variation is assumed.
    """
    s2_post, df_total = _moderate(dispersion, d, prior)
    estimable = s2_post is not None and df_total >= MIN_DF
    scale = max(1.0, s2_post) if estimable else 1.0
    return {
        "s2": dispersion,
        "s2_post": s2_post,
        "df_total": df_total,
        "scale": scale,
        "quasi": bool(estimable and s2_post > 1.0),
        "dispersion_assumed": not estimable,
    }


def _fit_increments(
    years: np.ndarray,
    levels: np.ndarray,
    base: dict[str, Any],
    prior: VariancePrior,
    resolution: float,
) -> TrendFit:
    """A running total: a constant expected increment per year, estimated from its increments.

    With increments d_i over k_i years (k = 1 between consecutive years), the rate is
    Σd / Σk; the residual variance per year is s² = Σ (d_i − k_i·rate)² / k_i / (m − 1) (OLS) and
    the Pearson dispersion φ = s² / rate (Poisson). The level in a later year T is the last level
    plus T − last year increments, so a prediction never falls below the level already reached.
    """
    order = np.argsort(years)
    yrs, lv = years[order], levels[order]
    inc, k = np.diff(lv), np.diff(yrs)
    m = inc.size
    d = m - 1
    K = float(k.sum())
    rate = float(inc.sum() / K)
    base = {**base, "centre": float(yrs[-1])}
    last = {"last_year": float(yrs[-1]), "last_level": float(lv[-1])}
    poisson = base["model"] == "poisson_increments"
    if poisson and (inc < 0).any():
        return TrendFit(**base, **last, reason="decreasing_running_total")
    resid2 = (inc - k * rate) ** 2 / k
    ss = float(resid2.sum())
    if _is_perfect(ss, float(np.sum((inc - inc.mean()) ** 2)) + ss, m):
        ss = 0.0
    common = {
        "intercept": float(lv[-1]),
        "intercept_x0": float(lv[-1]) - rate * float(yrs[-1]),
        "slope": rate,
        "_beta": np.array([rate]),
        **last,
    }
    if poisson:
        if rate == 0.0:
            return TrendFit(**base, **common, reason="no_finite_estimate")
        dispersion = ss / rate / d if d > 0 else None
        sc = _poisson_scale(dispersion, d, prior)
        fit = TrendFit(
            **base, **common, dispersion=dispersion, _cov_unit=np.array([[rate / K]]), **sc
        )
        if d == 0 and not prior.pools:
            return replace(fit, reason="no_interval_with_2_points", s2_post=None, df_total=None)
        q = fit._quantile(base["alpha"])
        se_log = fit._log_rate_se
        return replace(
            fit,
            slope_se=rate * se_log,
            ci_low=rate * math.exp(-q * se_log),
            ci_high=rate * math.exp(q * se_log),
        )
    s2 = ss / d if d > 0 else None
    s2_post, df_total = _moderate(s2, d, prior)
    if s2_post is not None:
        # Each increment is the difference of two rounded levels: variance resolution²/6.
        s2_post = max(s2_post, resolution * resolution / 6.0)
    fit = TrendFit(
        **base,
        **common,
        s2=s2,
        residual_sd=None if s2 is None else math.sqrt(s2),
        _cov_unit=np.array([[1.0 / K]]),
    )
    if s2_post is None:
        return replace(fit, reason="no_interval_with_2_points")
    fit = replace(fit, s2_post=s2_post, df_total=df_total, scale=s2_post)
    se = math.sqrt(s2_post / K)
    q = fit._quantile(base["alpha"])
    p = _perfect_fit_p(rate) if se == 0 else 2 * float(fit._t_tail(abs(rate), 0.0, se, True))
    return replace(fit, slope_se=se, ci_low=rate - q * se, ci_high=rate + q * se, p_value=p)


def _estimates(
    fit: TrendFit,
    b0: float,
    b1: float,
    caught: list[warnings.WarningMessage],
    *,
    log_scale: bool,
    checked: Sequence[float] = (),
) -> dict[str, Any]:
    """The coefficient fields of a complete two-coefficient fit at the fit's scale and df, and
    ``numerical_problem`` when the fit warned or any estimate is not finite."""
    cov = fit.cov
    assert cov is not None
    bse = np.sqrt(np.maximum(np.diag(cov), 0.0))
    q = fit._quantile(fit.alpha)
    lo, hi = b1 - q * bse[1], b1 + q * bse[1]
    if bse[1] == 0.0:
        p = _perfect_fit_p(b1)
    else:
        p = 2.0 * fit._t_tail(abs(b1), 0.0, float(bse[1]), True)
    a0, a0_se = _intercept_x0(b0, b1, fit.centre, cov)
    values = [b0, b1, *bse, lo, hi, p, a0, a0_se, *checked]
    finite = all(math.isfinite(v) for v in values)
    return {
        "intercept": b0,
        "intercept_se": float(bse[0]),
        "intercept_x0": a0,
        "intercept_x0_se": a0_se,
        "slope": b1,
        "slope_se": float(bse[1]),
        "ci_low": float(lo),
        "ci_high": float(hi),
        "p_value": float(p),
        "slope_pct_per_year": _pct(b1) if log_scale else None,
        "slope_pct_ci_low": _pct(lo) if log_scale else None,
        "slope_pct_ci_high": _pct(hi) if log_scale else None,
        "reason": None if not caught and finite else "numerical_problem",
    }


# --------------------------------------------------------------------------------------------
# default model and many series through statsmodels
# --------------------------------------------------------------------------------------------

_KINDS = ("cumulative", "stock", "flow", "average")


def default_model(kind: str, values: Any = (), unit: str = "") -> str:
    """Default trend model for an indicator kind (overridable by passing ``model`` explicitly).

    ``"cumulative"`` (a running total): its increments — ``"poisson_increments"`` when every
    value is a non-negative integer, else ``"ols_increments"``. ``"stock"``: ``"loglinear"`` when
    every value is strictly positive (growth is multiplicative), else ``"poisson"`` for counts,
    else ``"ols"``. ``"flow"`` (annual amounts, possibly negative such as net migration) and
    ``"average"``: ``"ols"``. Whatever the kind but a running total, a percentage (``unit`` ``"%"``)
    with every value in [0, 100] is fitted on the logit scale (``"logit"``), so its intervals stay
    inside 0–100 %.

    Examples
    --------
    >>> default_model("cumulative", [4, 7, 9])
    'poisson_increments'
    >>> default_model("stock", [225, 312, 1019])
    'loglinear'
    >>> default_model("stock", [0, 2, 5])
    'poisson'
    >>> default_model("flow", [-468, -127, 83])
    'ols'
    >>> default_model("average", [35.5, 41.0, 47.2], unit="%")
    'logit'
    """
    if kind not in _KINDS:
        raise TrendInputError(f"unknown indicator kind {kind!r}; choose one of {_KINDS}")
    v = _as_float_array(values, "values")
    v = v[~np.isnan(v)]
    if unit == "%" and kind != "cumulative" and ((v >= 0) & (v <= 100)).all():
        return "logit"
    if kind in ("flow", "average"):
        return "ols"
    counts = bool(v.size) and _is_count(v)
    if kind == "cumulative":
        return "poisson_increments" if counts else "ols_increments"
    if v.size and (v > 0).all():
        return "loglinear"
    return "poisson" if counts else "ols"


#: Why each default model, in words (Japanese, English), for the report.
MODEL_REASONS: dict[str, tuple[str, str]] = {
    "poisson_increments": (
        "累計の件数: 各年度の増加数をポアソン（過分散なら準ポアソン）で推定し、"
        "到達済みの水準に加算",
        "running total of counts: yearly increments as Poisson (quasi-Poisson if overdispersed), "
        "added to the level already reached",
    ),
    "ols_increments": (
        "累計（件数でない）: 各年度の増加分の平均を推定し、到達済みの水準に加算",
        "running total (not counts): mean yearly increment, added to the level already reached",
    ),
    "loglinear": (
        "正の値のストック: 一定の伸び率（対数線形）",
        "strictly positive stock: constant growth rate (log-linear)",
    ),
    "poisson": ("件数: ポアソン回帰（対数リンク）", "counts: Poisson regression (log link)"),
    "logit": (
        "割合（%）: ロジット尺度の直線（区間は0〜100%の内側）",
        "percentage: straight line on the logit scale (intervals stay within 0–100 %)",
    ),
    "ols": (
        "フロー・平均（負にもなり得る）: 直線（OLS）",
        "flow or average (may be negative): straight line (OLS)",
    ),
}


def pool_key(model: str, unit: str = "", kind: str = "") -> str:
    """Which series share a variance prior: same model family, on the model's scale.

    The dispersion φ of the Poisson models and the log- and logit-scale variances of the
    log-linear and logit models are free of units, so all such series are comparable. The
    Gaussian models' variances are in the KPI's unit squared: only series of the same kind and
    unit are pooled (a judgement: units alone do not guarantee a common scale).

    Examples
    --------
    >>> pool_key("poisson_increments"), pool_key("ols", "人", "flow")
    ('poisson', 'ols|flow|人')
    """
    _check_model(model)
    if model in POISSON_MODELS:
        return "poisson"
    if model in ("loglinear", "logit"):
        return model
    return f"{model}|{kind}|{unit}"


def _by_list(by: str | Sequence[str]) -> list[str]:
    return [by] if isinstance(by, str) else list(by)


def _check_columns(df: pd.DataFrame, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise TrendInputError(
            f"{noun(len(missing), 'column')} {missing} not in the frame (has {list(df.columns)})"
        )


def _series_model(
    g: pd.DataFrame, model_col: str | None, kind_col: str | None, y: str, key: Any
) -> str:
    for col in (model_col, kind_col):
        if col is None or col not in g.columns:
            continue
        vals = g[col].dropna().unique()
        if len(vals) > 1:
            raise TrendInputError(f"series {key!r} has several values in {col!r}: {list(vals)}")
        if len(vals) == 1:
            if col == model_col:
                return _check_model(str(vals[0]))
            return default_model(str(vals[0]), g[y])
    return "ols"


def fit_trends(
    df: pd.DataFrame,
    *,
    x: str = "fiscal_year",
    y: str = "actual",
    by: str | Sequence[str] = ("programme_id", "indicator_id"),
    model: str | None = None,
    model_col: str | None = "trend_model",
    kind_col: str | None = "kind",
    alpha: float = 0.05,
    prior: VariancePrior | None = None,
) -> pd.DataFrame:
    """Fit one trend per series of a long frame (a loop over :func:`fit_trend`); one row each.

    ``prior`` moderates every series' variance (see :func:`fit_trend`).

    The model of a series is, in this order: ``model`` if given; else the series' value in
    ``model_col``; else :func:`default_model` of its value in ``kind_col``; else ``"ols"``.

    Returns
    -------
    DataFrame
        The ``by`` columns followed by the fields of :class:`TrendFit` (sorted by key);
        ``reason`` is a string column, missing (NaN) where the fit is complete.

    Examples
    --------
    >>> df = pd.DataFrame({"indicator_id": [1, 1, 1, 2, 2],
    ...                    "fiscal_year": [2021, 2022, 2023, 2022, 2023],
    ...                    "actual": [4, 7, 9, 10, 12]})
    >>> out = fit_trends(df, by="indicator_id")
    >>> out["slope"].round(9).tolist(), out["reason"].isna().tolist()
    ([2.5, 2.0], [True, False])
    """
    keys = _by_list(by)
    _check_columns(df, [*keys, x, y])
    if model is not None:
        _check_model(model)
    rows = []
    groups = df.groupby(keys, sort=True, dropna=False) if keys else [((), df)]
    for key, g in groups:
        m = model if model is not None else _series_model(g, model_col, kind_col, y, key)
        fit = fit_trend(g[x], g[y], model=m, alpha=alpha, prior=prior)
        key_t = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(keys, key_t, strict=True)), **fit.as_dict()})
    cols = [*keys, *(f.name for f in fields(TrendFit) if not f.name.startswith("_"))]
    out = pd.DataFrame(rows, columns=cols)
    out["reason"] = out["reason"].astype("str")  # missing (NaN) where the fit is complete
    return out


# --------------------------------------------------------------------------------------------
# batch path: many OLS trends in closed form
# --------------------------------------------------------------------------------------------


def _group_codes(df: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer group code per row and the sorted key table, without a Python loop over groups."""
    if not keys:
        return np.zeros(len(df), dtype=np.int64), pd.DataFrame(index=range(1 if len(df) else 0))
    codes_list, uniques_list = [], []
    for k in keys:
        codes, uniques = pd.factorize(df[k], sort=True, use_na_sentinel=False)
        codes_list.append(codes.astype(np.int64))
        uniques_list.append(uniques)
    cards = [max(len(u), 1) for u in uniques_list]
    if math.prod(cards) < 2**62:
        # Mixed-radix combination of the per-column codes keeps the key order of a sorted groupby.
        combined = np.zeros(len(df), dtype=np.int64)
        for codes, card in zip(codes_list, cards, strict=True):
            combined = combined * card + codes
        gcodes, gvals = pd.factorize(combined, sort=True)
        key_table = {}
        rest = np.asarray(gvals, dtype=np.int64)
        for k, u, card in reversed(list(zip(keys, uniques_list, cards, strict=True))):
            key_table[k] = u.take(rest % card)
            rest = rest // card
        return gcodes.astype(np.int64), pd.DataFrame({k: key_table[k] for k in keys})
    grouped = df.groupby(keys, sort=True, dropna=False)
    gcodes = grouped.ngroup().to_numpy(dtype=np.int64)
    return gcodes, grouped.size().index.to_frame(index=False)


def linear_fit_core(
    codes: np.ndarray,
    n_groups: int,
    x: np.ndarray,
    y: np.ndarray,
    *,
    prior: VariancePrior = NO_PRIOR,
    floor: np.ndarray | None = None,
    alpha: float = 0.05,
) -> dict[str, np.ndarray]:
    """Least-squares lines of many series at once: the one home of the OLS trend arithmetic.

    Array contract: ``codes`` (int, 0 ≤ code < ``n_groups``), ``x`` and ``y`` (float, no NaN) are
    rows of equal length; every output is an array of length ``n_groups``. :func:`fit_trend`
    (``ols``, ``loglinear``, ``logit``: one group) and :func:`fit_linear_trends` (a panel) both
    call it, so a single series and a panel get the same numbers by construction.

    Each series is centred on its own mean x and mean y, twice (the first-pass mean of values near
    1e12 carries a rounding error, so Σdy ≠ 0 and residuals dy − b·dx would absorb it); a residual
    sum of squares at rounding level is exactly 0 (:func:`_is_perfect`). The residual variance s²
    on d = n − 2 df is moderated with ``prior`` (:func:`squeeze_var`) and then floored at
    ``floor`` (the variance the reporting resolution alone implies, on the model's scale): an exact
    fit of rounded values is never certain. Outputs: ``n, centre, level`` (mean y at the centre),
    ``sxx, slope, df_resid, s2`` (own, NaN where d ≤ 0), ``s2_post, df_post``, ``fit`` (a slope
    exists), ``se_ok`` (standard errors exist), ``slope_se, intercept_x0, intercept_x0_se``
    (at x = 0), ``ci_low, ci_high, p_value`` (t on df_post, 1 − ``alpha``), ``ssr``.
    """
    G = n_groups
    n = np.bincount(codes, minlength=G).astype(np.int64)
    nf = np.where(n > 0, n, 1).astype(float)
    cx = np.bincount(codes, weights=x, minlength=G) / nf
    cy = np.bincount(codes, weights=y, minlength=G) / nf
    dx = x - cx[codes]
    dy = y - cy[codes]
    mx = np.bincount(codes, weights=dx, minlength=G) / nf
    my = np.bincount(codes, weights=dy, minlength=G) / nf
    cx, cy = cx + mx, cy + my
    dx = dx - mx[codes]
    dy = dy - my[codes]
    sxx = np.bincount(codes, weights=dx * dx, minlength=G)
    sxy = np.bincount(codes, weights=dx * dy, minlength=G)
    fit = (n >= 2) & (sxx > 0)
    sxx_f = np.where(fit, sxx, 1.0)
    slope = np.where(fit, sxy / sxx_f, np.nan)
    resid = dy - np.where(fit, slope, 0.0)[codes] * dx
    ssr = np.bincount(codes, weights=resid * resid, minlength=G)
    syy = np.bincount(codes, weights=dy * dy, minlength=G)
    ssr = np.where(_is_perfect(ssr, syy, n), 0.0, ssr)
    df_resid = np.where(n >= 2, n - 2, -1)
    own = fit & (df_resid > 0)
    s2_own = np.where(own, ssr / np.where(own, df_resid, 1), np.nan)
    s2_post, df_post = squeeze_var(s2_own, np.where(own, df_resid, 0), prior)
    if floor is not None:
        s2_post = np.where(np.isfinite(s2_post), np.maximum(s2_post, floor), s2_post)
    se_ok = fit & np.isfinite(s2_post) & (df_post > 0)
    dfr = np.where(se_ok, df_post, 1).astype(float)
    s = np.sqrt(np.where(se_ok, s2_post, np.nan))
    slope_se = np.where(se_ok, s / np.sqrt(sxx_f), np.nan)
    # The t quantile depends on df only: invert it once per distinct df (a handful), not per series.
    df_values, df_index = np.unique(dfr, return_inverse=True)
    q_values = np.where(
        np.isinf(df_values),
        stats.norm.ppf(1.0 - alpha / 2.0),
        special.stdtrit(np.where(np.isinf(df_values), 1.0, df_values), 1.0 - alpha / 2.0),
    )
    half = np.where(se_ok, q_values[df_index.reshape(-1)], np.nan) * slope_se
    pos = se_ok & (slope_se > 0)
    tstat = np.abs(np.where(pos, slope, 0.0)) / np.where(pos, slope_se, 1.0)
    tail = np.where(np.isinf(dfr), stats.norm.sf(tstat), special.stdtr(dfr, -tstat))
    p = np.where(pos, 2.0 * tail, np.nan)
    # Zero variance (only without a floor): t = ±inf gives p = 0; a flat line through identical
    # values is 0/0, reported as p = 1 (the data agree exactly with no trend).
    p = np.where(se_ok & (slope_se == 0), np.where(slope != 0, 0.0, 1.0), p)
    return {
        "n": n,
        "centre": cx,
        "level": cy,
        "sxx": sxx,
        "slope": slope,
        "ssr": ssr,
        "df_resid": df_resid,
        "s2": s2_own,
        "s2_post": np.where(se_ok, s2_post, np.nan),
        "df_post": np.where(se_ok, df_post, np.nan),
        "fit": fit,
        "se_ok": se_ok,
        "slope_se": slope_se,
        "intercept_se": np.where(se_ok, s / np.sqrt(nf), np.nan),
        "intercept_x0": np.where(fit, cy - np.where(fit, slope, 0.0) * cx, np.nan),
        "intercept_x0_se": np.where(se_ok, s * np.sqrt(1.0 / nf + cx * cx / sxx_f), np.nan),
        "ci_low": slope - half,
        "ci_high": slope + half,
        "p_value": p,
    }


def reporting_resolution(values: Any) -> float:
    """The unit of the last printed digit of ``values`` (1 for integers, 0.1 for 12.5, ...).

    A value printed to that unit is known to ±half of it: the smallest power of ten 10⁻ᵏ
    (k = 0..9) of which every value is a multiple; 0 when there is none (not printed values).

    Examples
    --------
    >>> reporting_resolution([4, 7, 9]), reporting_resolution([14.95, 17.45])
    (1.0, 0.01)
    >>> reporting_resolution([1200, 1500])   # trailing zeros may be significant: still 1
    1.0
    """
    v = _as_float_array(np.atleast_1d(values), "values")
    codes = np.zeros(v.size, dtype=np.int64)
    return float(_resolutions(codes, 1, v[~np.isnan(v)] if v.size else v)[0])


def _resolutions(codes: np.ndarray, n_groups: int, y: np.ndarray) -> np.ndarray:
    """:func:`reporting_resolution` of every group at once (rows ``codes``, values ``y``)."""
    digits = np.full(y.size, 10, dtype=np.int64)
    for k in range(9, -1, -1):
        scaled = y * 10.0**k
        # Whole at this digit, up to a few rounding errors of the product, and only where a
        # float still resolves that digit (beyond 2⁴³ every product looks whole).
        tol = np.maximum(1e-6, 4.0 * np.spacing(np.abs(scaled)))
        whole = (np.abs(scaled) < 2.0**43) & (np.abs(scaled - np.round(scaled)) <= tol)
        digits = np.where(whole, k, digits)
    most = np.zeros(n_groups, dtype=np.int64)
    np.maximum.at(most, codes, digits)
    return np.where(most > 9, 0.0, 10.0 ** -most.astype(float))


def _rounding_floor(
    model: str, codes: np.ndarray, n_groups: int, y: np.ndarray, res: np.ndarray
) -> np.ndarray:
    """Variance floor per group on the model's scale from the reporting resolution ``res``.

    A value rounded to ``res`` carries a uniform error of variance res²/12 (res²/6 for an
    increment, the difference of two rounded values); on the log scale (res/y)²/12 and on the
    logit scale (res/100)²/12 / (p(1 − p))², averaged over the series' points.
    """
    r2 = (res * res / 12.0)[codes]
    if model == "loglinear":
        r2 = r2 / (y * y)
    elif model == "logit":
        p = _percent_share(y, res[codes])
        r2 = r2 / 1e4 / (p * (1.0 - p)) ** 2
    elif model in INCREMENT_MODELS:
        r2 = 2.0 * r2
    nf = np.maximum(np.bincount(codes, minlength=n_groups), 1)
    return np.bincount(codes, weights=r2, minlength=n_groups) / nf


def _percent_share(y: np.ndarray, res: Any) -> np.ndarray:
    # A printed 0 % or 100 % means within half a printed unit of it: the share is kept inside.
    half = np.maximum(np.asarray(res, dtype=float) / 2.0, 1e-6)
    return np.clip(y, half, 100.0 - half) / 100.0


def fit_linear_trends(
    df: pd.DataFrame,
    *,
    x: str = "fiscal_year",
    y: str = "actual",
    by: str | Sequence[str] = ("programme_id", "indicator_id"),
    alpha: float = 0.05,
    prior: VariancePrior | Literal["estimate"] | None = None,
    resolution: float | None = None,
) -> pd.DataFrame:
    """OLS linear trends of every series of a long frame at once (:func:`linear_fit_core`).

    ``resolution``: the unit of the printed values (``None``: each series' own,
    :func:`reporting_resolution`; 0: no floor); the residual variance is never below the
    rounding variance resolution²/12.

    ``prior``: ``None`` for each series alone; a :class:`VariancePrior` to moderate every residual
    variance with it; ``"estimate"`` to estimate it from the series of this frame first
    (:func:`kpianalysis.analysis.shrinkage.fit_f_dist`). Moderated results equal
    ``fit_trend(..., prior=...)`` to 1e-9 (the prior used is in ``prior_df``, ``prior_scale``).

    Each series is centred on its own mean year (``centre``) and mean value before the sums of
    squares are formed, which keeps the arithmetic stable for fiscal years around 2000. Rows with a
    missing ``y`` are dropped (counted in ``n_dropped``); series of different lengths are fine.
    The numbers equal :func:`fit_trend` with ``model="ols"`` to about 1e-12 relative.

    Returns
    -------
    DataFrame
        One row per series, sorted by key: the ``by`` columns, ``n, n_dropped, df_resid, centre,
        intercept, intercept_se`` (at ``centre``), ``intercept_x0, intercept_x0_se`` (at year 0),
        ``slope, slope_se, ci_low, ci_high`` (t with df_resid), ``p_value, residual_sd, reason``.
        ``reason`` is a string column, missing where the fit is complete; standard errors and
        intervals are NaN exactly where ``reason`` is set (n = 2 without a prior:
        ``"no_interval_with_2_points"``; n < 2: ``"too_few_points"``, no slope either). Also
        ``s2`` (the series' own variance), ``s2_post`` and ``df_total`` (after moderation),
        ``prior_df`` and ``prior_scale``.

    Examples
    --------
    >>> df = pd.DataFrame({"indicator_id": [1, 1, 1, 2, 2],
    ...                    "fiscal_year": [2021, 2022, 2023, 2022, 2023],
    ...                    "actual": [4, 7, 9, 10, 12]})
    >>> out = fit_linear_trends(df, by="indicator_id")
    >>> out["slope"].tolist(), out["reason"].tolist()[1]
    ([2.5, 2.0], 'no_interval_with_2_points')
    """
    alpha = _check_alpha(alpha)
    keys = _by_list(by)
    _check_columns(df, [*keys, x, y])
    xa = _as_float_array(df[x], x)
    ya = _as_float_array(df[y], y)
    if not np.isfinite(xa).all():
        raise TrendInputError(f"column {x!r} (fiscal year) must be finite and not missing")
    if np.isinf(ya).any():
        raise TrendInputError(f"column {y!r} must not be infinite")
    codes, out = _group_codes(df, keys)
    G = len(out)
    valid = ~np.isnan(ya)
    cv, xv, yv = codes[valid], xa[valid], ya[valid]
    n_all = np.bincount(codes, minlength=G).astype(np.int64)
    if isinstance(prior, str):
        if prior != "estimate":
            raise TrendInputError(
                f"prior must be a VariancePrior, 'estimate' or None, not {prior!r}"
            )
        own = linear_fit_core(cv, G, xv, yv, alpha=alpha)
        ok = np.isfinite(own["s2"])
        prior = fit_f_dist(own["s2"][ok], own["df_resid"][ok])
    prior = prior if prior is not None else NO_PRIOR
    res = _resolutions(cv, G, yv) if resolution is None else np.full(G, float(resolution))
    floor = _rounding_floor("ols", cv, G, yv, res)
    core = linear_fit_core(cv, G, xv, yv, prior=prior, floor=floor, alpha=alpha)
    n, fit, se_ok = core["n"], core["fit"], core["se_ok"]

    reason = np.full(G, None, dtype=object)
    reason[(n >= 2) & ~fit] = "no_variation_in_year"
    reason[fit & ~se_ok] = "no_interval_with_2_points"
    reason[n < 2] = "too_few_points"

    out = out.reset_index(drop=True)
    out["n"] = n
    out["n_dropped"] = n_all - n
    out["df_resid"] = pd.array(np.where(n >= 2, core["df_resid"], 0), dtype="Int64")
    out.loc[n < 2, "df_resid"] = pd.NA
    out["centre"] = np.where(n > 0, core["centre"], np.nan)
    out["intercept"] = np.where(fit, core["level"], np.nan)
    for col in ("intercept_se", "intercept_x0", "intercept_x0_se", "slope", "slope_se"):
        out[col] = core[col]
    for col in ("ci_low", "ci_high", "p_value"):
        out[col] = core[col]
    out["residual_sd"] = np.sqrt(core["s2"])
    out["s2"] = core["s2"]
    out["s2_post"] = core["s2_post"]
    out["df_total"] = core["df_post"]
    out["prior_df"] = float(prior.df) if prior.pools else 0.0
    out["prior_scale"] = float(prior.scale) if prior.pools else np.nan
    out["reason"] = pd.array(reason, dtype="str")  # missing (NaN) where the fit is complete
    return out
