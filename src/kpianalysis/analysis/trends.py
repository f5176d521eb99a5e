"""Trend fits with honest uncertainty (METHODS.md §3), one series at a time or a whole panel.

Three models, all on the fiscal year centred at the series' mean year (``centre``) so that the
intercept is the level in the middle of the data and the slope is "per fiscal year":

``"ols"``
    Linear trend on the level, ``y = a + b (year - centre)``. Intervals from the t distribution with
    ``df_resid = n - 2`` (statsmodels ``get_prediction().summary_frame()``).
``"poisson"``
    Poisson GLM with log link for non-negative integer counts. The overdispersion statistic Pearson
    χ² / df_resid is always reported (``dispersion``); when it exceeds 1 the fit switches to the
    quasi-Poisson scale (standard errors times √dispersion, t quantiles with df_resid, no AIC, as
    R's ``quasipoisson`` does). ``slope_pct_per_year`` is ``exp(slope) - 1``.
``"loglinear"``
    OLS on ``log(y)`` for strictly positive growth series (constant growth, CAGR). Back-transformed
    predictions are medians (geometric means), not arithmetic means; ``slope_pct_per_year`` is the
    annual growth rate ``exp(slope) - 1``.

Few points are handled honestly: with n = 2 the line passes through both points, so a slope is
reported but no standard error, interval, p-value or probability (reason
``"no_interval_with_2_points"``); with n < 2 nothing is estimated (``"too_few_points"``). A model
that cannot apply to the data gives a result carrying a ``reason`` code (see :data:`REASONS`)
instead of an exception; only unusable input (text where numbers belong, mismatched lengths)
raises :class:`TrendInputError`. No ``summary()`` text is exposed, so no normality test is ever
shown (they are invalid under 8 points), and every statsmodels call runs inside
:func:`warnings.catch_warnings` so that nothing leaks into notebook output (see ``_quiet``).

Prediction intervals for a new observation under the Poisson model come from the predictive
distribution by seeded simulation: :data:`N_DRAWS` draws of the two coefficients from their normal
approximation (mixing parameter uncertainty) and, for each, one count drawn from a Poisson
distribution, or, when the quasi-Poisson scale φ > 1 is in use, from a gamma–Poisson (negative
binomial) mixture with the same mean μ and variance φ·μ — and then, since φ is estimated, the
coefficients are drawn from a multivariate t with df_resid, matching the t-based interval of the
mean. The seed is :data:`SIMULATION_SEED`, so
reports are reproducible; both ``predict`` and ``prob_reach`` accept another seed.

:func:`fit_linear_trends` fits the OLS trend of many series at once in closed form with NumPy
(grouped sums through :func:`numpy.bincount`), returning the same numbers as :func:`fit_trend` to
about 1e-12 relative.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from kpianalysis import reasons
from kpianalysis.errors import KpiAnalysisError

__all__ = [
    "MODELS",
    "N_DRAWS",
    "REASONS",
    "SIMULATION_SEED",
    "TrendFit",
    "TrendInputError",
    "default_model",
    "fit_linear_trends",
    "fit_trend",
    "fit_trends",
]

Model = Literal["ols", "poisson", "loglinear"]
MODELS: tuple[str, ...] = ("ols", "poisson", "loglinear")

#: Seed of the predictive simulation for Poisson models (fixed so reports are reproducible).
SIMULATION_SEED = 20240401
#: Number of simulated draws per predicted year (Monte Carlo SE of a probability ≤ 0.0016).
N_DRAWS = 100_000

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
# result object
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendFit:
    """The trend of one series, with its uncertainty, or the reason it could not be fitted.

    Attributes
    ----------
    model
        ``"ols"``, ``"poisson"`` or ``"loglinear"``.
    n, n_dropped
        Points used, and points dropped because the value was missing (NaN).
    df_resid
        ``n - 2`` (``None`` when n < 2).
    centre
        Fiscal year subtracted before fitting (mean year unless given).
    alpha
        1 - confidence level of every interval (0.05 → 95 %).
    intercept, intercept_se
        Level at ``centre`` (log scale for the log models) and its standard error.
    intercept_x0, intercept_x0_se
        The same at year 0 (for comparison with uncentred fits such as NIST StRD).
    slope, slope_se, ci_low, ci_high, p_value
        Change per fiscal year (log scale for the log models), SE, confidence interval and two-sided
        p-value of slope = 0 (t with df_resid; z for the plain Poisson model).
    slope_pct_per_year, slope_pct_ci_low, slope_pct_ci_high
        ``exp(slope) - 1`` and its interval, for the log models (``None`` for OLS).
    aic
        Akaike information criterion where defined: ``None`` for n = 2, perfect fits (−∞) and the
        quasi-Poisson model (no likelihood). For ``"loglinear"`` it is on the log scale and not
        comparable with the other models.
    scale
        Scale used for the standard errors: σ² for OLS and log-linear (log scale), 1 or the
        quasi-Poisson φ for Poisson.
    dispersion
        Pearson χ² / df_resid (Poisson only).
    quasi
        True when the quasi-Poisson scale (dispersion > 1) was used.
    residual_sd
        √σ² for OLS and log-linear (log scale).
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
    scale: float | None = None
    dispersion: float | None = None
    quasi: bool = False
    residual_sd: float | None = None
    reason: str | None = None
    _fit: Any = field(default=None, repr=False, compare=False)
    # OLS and log-linear fits regress y - mean(y) so that exact fits come out exactly; add it back.
    _shift: float = field(default=0.0, repr=False, compare=False)

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

    # -- prediction ----------------------------------------------------------------------------

    def _design(self, years: np.ndarray) -> np.ndarray:
        assert self.centre is not None
        return np.column_stack([np.ones_like(years), years - self.centre])

    def _point(self, years: np.ndarray) -> np.ndarray:
        assert self.intercept is not None and self.slope is not None and self.centre is not None
        return self.intercept + self.slope * (years - self.centre)

    def predict(
        self,
        years: Any,
        alpha: float | None = None,
        *,
        seed: int = SIMULATION_SEED,
        n_draws: int = N_DRAWS,
    ) -> pd.DataFrame:
        """Fitted mean with its confidence interval and a prediction interval for a new value.

        Parameters
        ----------
        years
            Fiscal years (scalar or sequence).
        alpha
            1 - level of the intervals; defaults to the fit's ``alpha``.
        seed, n_draws
            Simulation settings for the Poisson prediction interval (ignored otherwise).

        Returns
        -------
        DataFrame
            Columns ``year, mean, mean_ci_low, mean_ci_high, pi_low, pi_high, reason``. For the
            log-linear model ``mean`` is the back-transformed log-scale mean (the median). Intervals
            are NaN exactly when ``reason`` is not None; ``mean`` is NaN only without a slope.

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
        out = pd.DataFrame({"year": yrs})
        nan = np.full(yrs.shape, np.nan)
        for col in ("mean", "mean_ci_low", "mean_ci_high", "pi_low", "pi_high"):
            out[col] = nan
        out["reason"] = self.reason
        if self.slope is None:
            return out
        eta = self._point(yrs)
        if self.reason is not None:
            out["mean"] = eta if self.model == "ols" else np.exp(eta)
            return out
        if self.model in ("ols", "loglinear"):
            with _quiet():
                sf = self._fit.get_prediction(self._design(yrs)).summary_frame(alpha=a)
            cols = ["mean", "mean_ci_lower", "mean_ci_upper", "obs_ci_lower", "obs_ci_upper"]
            vals = sf[cols].to_numpy() + self._shift
            if self.scale == 0.0:  # exact fit: the model leaves no uncertainty at all
                vals[:, 1:] = vals[:, :1]
            if self.model == "loglinear":
                vals = np.exp(vals)
            out[["mean", "mean_ci_low", "mean_ci_high", "pi_low", "pi_high"]] = vals
            return out
        # Poisson: mean CI from the normal (quasi: t) approximation of the linear predictor.
        X = self._design(yrs)
        cov = np.asarray(self._fit.cov_params())
        se_eta = np.sqrt(np.einsum("ij,jk,ik->i", X, cov, X))
        q = self._quantile(a)
        out["mean"] = np.exp(eta)
        out["mean_ci_low"] = np.exp(eta - q * se_eta)
        out["mean_ci_high"] = np.exp(eta + q * se_eta)
        draws = self._simulate(yrs, seed=seed, n_draws=n_draws)
        lo, hi = np.quantile(draws, [a / 2, 1 - a / 2], axis=1, method="inverted_cdf")
        out["pi_low"] = lo
        out["pi_high"] = hi
        return out

    def _quantile(self, alpha: float) -> float:
        if self.model == "poisson" and not self.quasi:
            return float(stats.norm.ppf(1 - alpha / 2))
        assert self.df_resid is not None
        return float(stats.t.ppf(1 - alpha / 2, self.df_resid))

    def _simulate(self, years: np.ndarray, *, seed: int, n_draws: int) -> np.ndarray:
        """Draws (len(years) × n_draws) of a new count from the Poisson predictive distribution."""
        rng = np.random.default_rng(seed)
        params = np.array([self.intercept, self.slope], dtype=float)
        cov = np.asarray(self._fit.cov_params())
        beta = rng.multivariate_normal(params, cov, size=n_draws, method="cholesky")
        if self.quasi and self.df_resid:
            # The scale is estimated, so the coefficients follow a multivariate t with df_resid
            # (as the mean's interval does), not a normal: with df = 1 the tails are very heavy.
            w = np.sqrt(self.df_resid / rng.chisquare(self.df_resid, size=n_draws))
            beta = params + (beta - params) * w[:, None]
        eta = self._design(years) @ beta.T
        # exp(700) ≈ 1e304: a draw that far out is beyond any target; the cap only avoids overflow.
        mu = np.exp(np.minimum(eta, 700.0))
        phi = self.scale if self.quasi and self.scale is not None else 1.0
        if phi > 1.0:
            # Gamma–Poisson mixture: mean mu, variance phi * mu (the quasi-Poisson variance).
            mu = rng.gamma(shape=mu / (phi - 1.0), scale=phi - 1.0)
        # numpy's Poisson sampler refuses huge means; the normal limit is exact enough there.
        big = mu > 1e9
        counts = np.empty_like(mu)
        counts[~big] = rng.poisson(mu[~big])
        counts[big] = np.round(mu[big] + np.sqrt(mu[big]) * rng.standard_normal(int(big.sum())))
        return counts

    def prob_reach(
        self,
        target: float,
        year: float,
        direction: str = "increase",
        *,
        seed: int = SIMULATION_SEED,
        n_draws: int = N_DRAWS,
    ) -> float | None:
        """Probability that a new observation in ``year`` reaches ``target``.

        "Reaches" means ≥ target for ``direction="increase"`` and ≤ target for ``"decrease"``,
        under the predictive distribution: t with df_resid around the OLS fit (on the log scale for
        log-linear), seeded simulation for Poisson (see module docstring).

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
        if self.model == "poisson":
            draws = self._simulate(np.array([yr]), seed=seed, n_draws=n_draws)[0]
            return float(np.mean(draws >= t_val if up else draws <= t_val))
        if self.model == "loglinear":
            if t_val <= 0:  # every predicted value is positive
                return 1.0 if up else 0.0
            t_val = math.log(t_val)
        with _quiet():
            sf = self._fit.get_prediction(self._design(np.array([yr]))).summary_frame()
        mean = float(sf["mean"].iloc[0]) + self._shift
        sd_new = math.sqrt(float(self.scale or 0.0))  # noise of a new observation
        se_obs = 0.0 if sd_new == 0.0 else math.hypot(float(sf["mean_se"].iloc[0]), sd_new)
        if se_obs == 0.0:  # perfect fit: the predictive distribution is a point
            return float(mean >= t_val) if up else float(mean <= t_val)
        z = (t_val - mean) / se_obs
        assert self.df_resid is not None
        return float(stats.t.sf(z, self.df_resid) if up else stats.t.cdf(z, self.df_resid))


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
) -> TrendFit:
    """Fit the trend of one series through statsmodels.

    Parameters
    ----------
    x
        Fiscal years (numbers, no missing values).
    y
        Values; missing values (NaN/None) are dropped and counted in ``n_dropped``.
    model
        ``"ols"``, ``"poisson"`` or ``"loglinear"`` (see module docstring; :func:`default_model`).
    centre
        Year subtracted before fitting; the mean year of the used points by default.
    alpha
        1 - confidence level of the intervals.

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
    base: dict[str, Any] = {
        "model": model,
        "n": n,
        "n_dropped": int((~keep).sum()),
        "df_resid": n - 2 if n >= 2 else None,
        "centre": None,
        "alpha": alpha,
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
    if model == "poisson":
        if (ya < 0).any():
            return TrendFit(**base, reason="negative_counts")
        if not _is_count(ya):
            return TrendFit(**base, reason="non_integer_values")
    if n < 2:
        return TrendFit(**base, reason="too_few_points")
    if np.ptp(xa) == 0:
        return TrendFit(**base, reason="no_variation_in_year")
    dx = xa - c
    if model == "poisson":
        return _fit_poisson(dx, ya, base)
    return _fit_ols(dx, ya if model == "ols" else np.log(ya), base)


def _intercept_x0(b0: float, b1: float, c: float, cov: np.ndarray | None) -> tuple[float, Any]:
    a0 = b0 - b1 * c
    if cov is None:
        return a0, None
    var = cov[0, 0] + c * c * cov[1, 1] - 2 * c * cov[0, 1]
    return a0, math.sqrt(max(var, 0.0))


def _pct(v: float | None) -> float | None:
    return None if v is None else math.expm1(v)


def _fit_ols(dx: np.ndarray, y: np.ndarray, base: dict[str, Any]) -> TrendFit:
    import statsmodels.api as sm

    X = np.column_stack([np.ones_like(dx), dx])
    log_model = base["model"] == "loglinear"
    # Centring y as well as x (as the batch path does) makes a constant or exactly linear series
    # give exactly zero residuals instead of 1e-16 noise with a meaningless p-value and AIC.
    shift = float(y.mean())
    with _quiet() as caught:
        res = sm.OLS(y - shift, X).fit()
        b0, b1 = (float(v) for v in res.params)
    b0 += shift
    c = base["centre"]
    if base["df_resid"] == 0:
        a0, _ = _intercept_x0(b0, b1, c, None)
        return TrendFit(
            **base,
            intercept=b0,
            intercept_x0=a0,
            slope=b1,
            slope_pct_per_year=_pct(b1) if log_model else None,
            reason="no_interval_with_2_points",
            _fit=res,
            _shift=shift,
        )
    alpha = base["alpha"]
    with _quiet() as caught2:
        ssr = float(res.ssr)
        scale = float(res.scale)
        bse = np.asarray(res.bse, dtype=float)
        ci = np.asarray(res.conf_int(alpha=alpha), dtype=float)
        cov = np.asarray(res.cov_params(), dtype=float)
        perfect = _is_perfect(ssr, float(np.sum((y - shift) ** 2)), y.size)
        if not perfect:
            p = float(res.pvalues[1])
            aic = float(res.aic)
    caught = [*caught, *caught2]
    if perfect:
        # Zero residuals up to rounding: report exactly zero uncertainty instead of 1e-16 noise
        # (the batch path applies the same rule, so both give the same p-value and no AIC).
        p, aic, scale = _perfect_fit_p(b1), None, 0.0
        bse = np.zeros(2)
        cov = np.zeros((2, 2))
        ci = np.array([[b0, b0], [b1, b1]])
    return TrendFit(
        **base,
        **_estimates(b0, b1, bse, ci, p, c, cov, caught, log_scale=log_model, checked=(scale,)),
        aic=aic,
        scale=scale,
        residual_sd=math.sqrt(scale),
        _fit=res,
        _shift=shift,
    )


def _fit_poisson(dx: np.ndarray, y: np.ndarray, base: dict[str, Any]) -> TrendFit:
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
    fam = sm.families.Poisson()
    with _quiet() as caught:
        res = sm.GLM(y, X, family=fam).fit()
        b0, b1 = (float(v) for v in res.params)
    # statsmodels flags "perfect prediction" whenever the fitted means equal the counts (a constant
    # count, an exact doubling). The MLE exists there (checked above) and its standard error is
    # finite (5, 5, 5: slope se = 1/√(Σ μ dx²) = 1/√10), so that warning is not a failure.
    caught = _without_separation(caught)
    c = base["centre"]
    if base["df_resid"] == 0:
        # The Poisson model would give an SE even here, but with 2 points its variance assumption
        # cannot be checked at all: report the slope only, like the other models.
        a0, _ = _intercept_x0(b0, b1, c, None)
        return TrendFit(
            **base,
            intercept=b0,
            intercept_x0=a0,
            slope=b1,
            slope_pct_per_year=_pct(b1),
            reason="no_interval_with_2_points",
            _fit=res,
        )
    with _quiet() as caught2:
        dispersion = float(res.pearson_chi2 / res.df_resid)
        quasi = dispersion > 1.0
        if quasi:
            # Quasi-Poisson: same estimates, SEs scaled by sqrt(Pearson chi2/df), t quantiles.
            res = sm.GLM(y, X, family=fam).fit(scale="X2", use_t=True)
        alpha = base["alpha"]
        bse = np.asarray(res.bse, dtype=float)
        ci = np.asarray(res.conf_int(alpha=alpha), dtype=float)
        cov = np.asarray(res.cov_params(), dtype=float)
        p = float(res.pvalues[1])
        aic = None if quasi else float(res.aic)
        scale = float(res.scale)
    caught = _without_separation([*caught, *caught2])
    return TrendFit(
        **base,
        **_estimates(b0, b1, bse, ci, p, c, cov, caught, log_scale=True, checked=(dispersion,)),
        aic=aic,
        scale=scale,
        dispersion=dispersion,
        quasi=quasi,
        _fit=res,
    )


def _estimates(
    b0: float,
    b1: float,
    bse: np.ndarray,
    ci: np.ndarray,
    p: float,
    centre: float,
    cov: np.ndarray,
    caught: list[warnings.WarningMessage],
    *,
    log_scale: bool,
    checked: Sequence[float] = (),
) -> dict[str, Any]:
    """The coefficient fields every complete fit reports, and ``numerical_problem`` when the fit
    warned or any estimate (or a value in ``checked``) is not finite."""
    a0, a0_se = _intercept_x0(b0, b1, centre, cov)
    values = [b0, b1, *bse, *ci[1], p, a0, a0_se, *checked]
    finite = all(math.isfinite(v) for v in values)
    lo, hi = float(ci[1, 0]), float(ci[1, 1])
    return {
        "intercept": b0,
        "intercept_se": float(bse[0]),
        "intercept_x0": a0,
        "intercept_x0_se": a0_se,
        "slope": b1,
        "slope_se": float(bse[1]),
        "ci_low": lo,
        "ci_high": hi,
        "p_value": p,
        "slope_pct_per_year": _pct(b1) if log_scale else None,
        "slope_pct_ci_low": _pct(lo) if log_scale else None,
        "slope_pct_ci_high": _pct(hi) if log_scale else None,
        "reason": None if not caught and finite else "numerical_problem",
    }


# --------------------------------------------------------------------------------------------
# default model and many series through statsmodels
# --------------------------------------------------------------------------------------------

_KINDS = ("cumulative", "stock", "flow", "average")


def default_model(kind: str, values: Any = ()) -> str:
    """Default trend model for an indicator kind (overridable by passing ``model`` explicitly).

    ``"cumulative"`` and ``"stock"`` indicators are counts: ``"poisson"`` when every non-missing
    value is a non-negative integer, else ``"ols"``. ``"flow"`` (annual amounts, which may be
    negative such as net migration) and ``"average"`` use ``"ols"``.

    Examples
    --------
    >>> default_model("cumulative", [1, 4, 9])
    'poisson'
    >>> default_model("stock", [1.5, 2.0])
    'ols'
    >>> default_model("flow", [3, 5])
    'ols'
    """
    if kind not in _KINDS:
        raise TrendInputError(f"unknown indicator kind {kind!r}; choose one of {_KINDS}")
    if kind in ("flow", "average"):
        return "ols"
    v = _as_float_array(values, "values")
    v = v[~np.isnan(v)]
    return "poisson" if v.size and _is_count(v) else "ols"


def _by_list(by: str | Sequence[str]) -> list[str]:
    return [by] if isinstance(by, str) else list(by)


def _check_columns(df: pd.DataFrame, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise TrendInputError(f"column(s) {missing} not in the frame (has {list(df.columns)})")


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
) -> pd.DataFrame:
    """Fit one statsmodels trend per series of a long frame; one tidy row per series.

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
        fit = fit_trend(g[x], g[y], model=m, alpha=alpha)
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


def fit_linear_trends(
    df: pd.DataFrame,
    *,
    x: str = "fiscal_year",
    y: str = "actual",
    by: str | Sequence[str] = ("programme_id", "indicator_id"),
    alpha: float = 0.05,
) -> pd.DataFrame:
    """OLS linear trends of every series of a long frame at once (vectorised closed form).

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
        intervals are NaN exactly where ``reason`` is set (n = 2:
        ``"no_interval_with_2_points"``; n < 2: ``"too_few_points"``, no slope either).

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

    n = np.bincount(cv, minlength=G).astype(np.int64)
    n_all = np.bincount(codes, minlength=G).astype(np.int64)
    has = n > 0
    nf = np.where(has, n, 1).astype(float)
    cx = np.bincount(cv, weights=xv, minlength=G) / nf
    cy = np.bincount(cv, weights=yv, minlength=G) / nf
    # Two-pass centring within each series: the first-pass mean of values near 1e12 carries a
    # rounding error, so Σdy ≠ 0 and residuals dy − b·dx would absorb it (a relative error of 1e-3
    # in the SE). Subtracting the mean of the first-pass deviations makes both sums zero to
    # rounding of the deviations themselves, as statsmodels' intercept does in fit_trend.
    dx = xv - cx[cv]
    dy = yv - cy[cv]
    mx = np.bincount(cv, weights=dx, minlength=G) / nf
    my = np.bincount(cv, weights=dy, minlength=G) / nf
    cx, cy = cx + mx, cy + my
    dx = dx - mx[cv]
    dy = dy - my[cv]
    sxx = np.bincount(cv, weights=dx * dx, minlength=G)
    sxy = np.bincount(cv, weights=dx * dy, minlength=G)

    fit = (n >= 2) & (sxx > 0)
    sxx_f = np.where(fit, sxx, 1.0)
    slope = np.where(fit, sxy / sxx_f, np.nan)
    resid = dy - np.where(fit, slope, 0.0)[cv] * dx
    ssr = np.bincount(cv, weights=resid * resid, minlength=G)
    syy = np.bincount(cv, weights=dy * dy, minlength=G)
    ssr = np.where(_is_perfect(ssr, syy, n), 0.0, ssr)  # same exact-fit rule as fit_trend
    df_resid = np.where(n >= 2, n - 2, -1)
    se_ok = fit & (df_resid > 0)
    dfr = np.where(se_ok, df_resid, 1).astype(float)
    s2 = np.where(se_ok, ssr / dfr, np.nan)
    s = np.sqrt(s2)
    slope_se = np.where(se_ok, s / np.sqrt(sxx_f), np.nan)
    intercept = np.where(fit, cy, np.nan)
    intercept_se = np.where(se_ok, s / np.sqrt(nf), np.nan)
    intercept_x0 = np.where(fit, cy - np.where(fit, slope, 0.0) * cx, np.nan)
    intercept_x0_se = np.where(se_ok, s * np.sqrt(1.0 / nf + cx * cx / sxx_f), np.nan)

    # The t quantile depends on df only: invert it once per distinct df (a handful), not per series.
    df_values, df_index = np.unique(dfr, return_inverse=True)
    q = np.where(se_ok, special.stdtrit(df_values, 1.0 - alpha / 2.0)[df_index], np.nan)
    half = q * slope_se
    pos = se_ok & (slope_se > 0)
    tstat = np.abs(np.where(pos, slope, 0.0)) / np.where(pos, slope_se, 1.0)
    p = np.where(pos, 2.0 * special.stdtr(dfr, -tstat), np.nan)
    perfect = se_ok & (slope_se == 0)
    p = np.where(perfect, np.where(slope != 0, 0.0, 1.0), p)

    reason = np.full(G, None, dtype=object)
    reason[(n >= 2) & ~fit] = "no_variation_in_year"
    reason[(n == 2) & fit] = "no_interval_with_2_points"
    reason[n < 2] = "too_few_points"

    out = out.reset_index(drop=True)
    out["n"] = n
    out["n_dropped"] = n_all - n
    out["df_resid"] = pd.array(np.where(n >= 2, df_resid, 0), dtype="Int64")
    out.loc[n < 2, "df_resid"] = pd.NA
    out["centre"] = np.where(has, cx, np.nan)
    out["intercept"] = intercept
    out["intercept_se"] = intercept_se
    out["intercept_x0"] = intercept_x0
    out["intercept_x0_se"] = intercept_x0_se
    out["slope"] = slope
    out["slope_se"] = slope_se
    out["ci_low"] = slope - half
    out["ci_high"] = slope + half
    out["p_value"] = p
    out["residual_sd"] = s
    out["reason"] = pd.array(reason, dtype="str")  # missing (NaN) where the fit is complete
    return out
