"""Tests of kpianalysis.analysis.trends against hand computations and published certified values."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import special, stats

from kpianalysis.analysis.shrinkage import VariancePrior
from kpianalysis.analysis.trends import (
    QUAD_ERROR,
    REASONS,
    TrendFit,
    TrendInputError,
    default_model,
    fit_linear_trends,
    fit_trend,
    fit_trends,
)
from kpianalysis.errors import KpiAnalysisError

# Every warning is an error in this file: nothing may leak into notebook output.
pytestmark = pytest.mark.filterwarnings("error")

DATA = Path(__file__).parent / "data"
SEED_YEARS = [2021, 2022, 2023]
SEED_VALUES = [4, 7, 9]  # KPI ① of the seed programme (METHODS.md §3 worked check)
RTOL = 1e-9


def rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


# ------------------------------------------------------------------------------------------------
# seed KPI ①: 4, 7, 9 in FY2021–2023 (METHODS.md §3 / issue 4)
# ------------------------------------------------------------------------------------------------


def test_seed_ols_slope_prediction_and_interval() -> None:
    fit = fit_trend(SEED_YEARS, SEED_VALUES)
    # By hand: centred years -1, 0, 1 → slope (9 - 4)/2 = 2.5, intercept 20/3 at FY2022;
    # residuals -1/6, 1/3, -1/6 → SSR 1/6, df 1.
    assert fit.model == "ols" and fit.n == 3 and fit.df_resid == 1 and fit.centre == 2022.0
    assert fit.slope == pytest.approx(2.5, rel=1e-12)
    assert fit.intercept == pytest.approx(20 / 3, rel=1e-12)
    assert fit.scale == pytest.approx(1 / 6, rel=1e-12)
    assert fit.slope_se == pytest.approx(math.sqrt(1 / 6 / 2), rel=1e-12)
    assert fit.reason is None
    pred = fit.predict(2024).iloc[0]
    # FY2024 (x = 2): fit 20/3 + 5 = 11.667; var_pred = (1/6)(1 + 1/3 + 4/2) = 5/9;
    # 95 % PI = 11.667 ± t(0.975, 1) · √(5/9) with t = 12.706 → (2.20, 21.14).
    assert stats.t.ppf(0.975, 1) == pytest.approx(12.706, abs=5e-4)
    assert pred["mean"] == pytest.approx(35 / 3, rel=1e-12)
    half = stats.t.ppf(0.975, 1) * math.sqrt(5 / 9)
    assert pred["pi_low"] == pytest.approx(35 / 3 - half, rel=1e-12)
    assert pred["pi_high"] == pytest.approx(35 / 3 + half, rel=1e-12)
    assert round(pred["pi_low"], 2) == 2.20 and round(pred["pi_high"], 2) == 21.14
    # Mean CI uses var (1/6)(1/3 + 2) = 7/18 instead.
    half_mean = stats.t.ppf(0.975, 1) * math.sqrt(7 / 18)
    assert pred["mean_ci_low"] == pytest.approx(35 / 3 - half_mean, rel=1e-12)
    assert pred["reason"] is None


def test_seed_poisson_slope_and_se() -> None:
    fit = fit_trend(SEED_YEARS, SEED_VALUES, model="poisson")
    # Reference values from METHODS.md §3 (year centred on FY2022).
    assert fit.centre == 2022.0
    assert fit.slope == pytest.approx(0.384156, abs=5e-7)
    assert fit.slope_se == pytest.approx(0.283986, abs=5e-7)
    assert fit.slope_pct_per_year == pytest.approx(math.expm1(fit.slope), rel=1e-12)
    # Pearson chi2/df < 1 here, so the plain Poisson scale is kept and the AIC is defined.
    assert fit.dispersion is not None and fit.dispersion < 1
    assert not fit.quasi and fit.scale == 1.0 and fit.aic is not None
    # Wald z interval for the plain Poisson model.
    z = stats.norm.ppf(0.975)
    assert fit.ci_low == pytest.approx(fit.slope - z * fit.slope_se, rel=1e-9)


def test_prob_reach_is_half_at_predicted_mean_for_ols() -> None:
    fit = fit_trend(SEED_YEARS, SEED_VALUES)
    # The t predictive distribution is symmetric about the fitted value 35/3.
    assert fit.prob_reach(35 / 3, 2024) == pytest.approx(0.5, abs=1e-12)
    assert fit.prob_reach(35 / 3, 2024, direction="decrease") == pytest.approx(0.5, abs=1e-12)
    # At the upper 95 % prediction bound the probability of reaching it is 2.5 %.
    hi = fit.predict(2024)["pi_high"].iloc[0]
    assert fit.prob_reach(hi, 2024) == pytest.approx(0.025, rel=1e-9)
    assert fit.prob_reach(hi, 2024, direction="decrease") == pytest.approx(0.975, rel=1e-9)


# ------------------------------------------------------------------------------------------------
# NIST StRD "Norris" (https://www.itl.nist.gov/div898/strd/lls/data/Norris.shtml), certified values
# copied to tests/data/nist_norris_certified.json
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def norris() -> tuple[pd.DataFrame, dict]:
    data = pd.read_csv(DATA / "nist_norris.csv")
    cert = json.loads((DATA / "nist_norris_certified.json").read_text())["certified"]
    return data, cert


def test_norris_through_statsmodels_path(norris: tuple[pd.DataFrame, dict]) -> None:
    data, cert = norris
    b0, b0_sd = float(cert["B0"]["estimate"]), float(cert["B0"]["sd"])
    b1, b1_sd = float(cert["B1"]["estimate"]), float(cert["B1"]["sd"])
    res_sd = float(cert["residual_sd"])
    # Uncentred (centre=0): the intercept is NIST's B0 directly.
    raw = fit_trend(data["x"], data["y"], centre=0)
    assert raw.n == 36 and raw.df_resid == 34
    assert rel(raw.slope, b1) < RTOL and rel(raw.slope_se, b1_sd) < RTOL
    assert rel(raw.intercept, b0) < RTOL and rel(raw.intercept_se, b0_sd) < RTOL
    assert rel(raw.residual_sd, res_sd) < RTOL
    # Default centring on the mean x, converted back to x = 0.
    fit = fit_trend(data["x"], data["y"])
    assert fit.centre == pytest.approx(data["x"].mean(), rel=1e-15)
    assert rel(fit.slope, b1) < RTOL and rel(fit.slope_se, b1_sd) < RTOL
    assert rel(fit.intercept_x0, b0) < RTOL and rel(fit.intercept_x0_se, b0_sd) < RTOL
    assert rel(fit.residual_sd, res_sd) < RTOL


def test_norris_through_batch_path(norris: tuple[pd.DataFrame, dict]) -> None:
    data, cert = norris
    out = fit_linear_trends(data.assign(series="norris"), x="x", y="y", by="series")
    assert len(out) == 1
    row = out.iloc[0]
    assert row["n"] == 36 and row["df_resid"] == 34 and pd.isna(row["reason"])
    assert rel(row["slope"], float(cert["B1"]["estimate"])) < RTOL
    assert rel(row["slope_se"], float(cert["B1"]["sd"])) < RTOL
    assert rel(row["intercept_x0"], float(cert["B0"]["estimate"])) < RTOL
    assert rel(row["intercept_x0_se"], float(cert["B0"]["sd"])) < RTOL
    assert rel(row["residual_sd"], float(cert["residual_sd"])) < RTOL


# ------------------------------------------------------------------------------------------------
# few points, domains, reasons
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["ols", "poisson", "loglinear"])
def test_two_points_give_slope_without_interval(model: str) -> None:
    fit = fit_trend([2022, 2023], [4, 7], model=model)
    expected = 3.0 if model == "ols" else math.log(7 / 4)  # line through both points
    assert fit.slope == pytest.approx(expected, rel=1e-9)
    assert fit.reason == "no_interval_with_2_points" and fit.df_resid == 0
    for name in ("slope_se", "ci_low", "ci_high", "p_value", "intercept_se", "aic"):
        assert getattr(fit, name) is None
    assert fit.prob_reach(10, 2024) is None
    pred = fit.predict(2024).iloc[0]
    expected_mean = 10.0 if model == "ols" else 7 * 7 / 4
    assert pred["mean"] == pytest.approx(expected_mean, rel=1e-9)
    assert np.isnan(pred["pi_low"]) and pred["reason"] == "no_interval_with_2_points"


def test_too_few_points_and_dropped_nan() -> None:
    fit = fit_trend([2021, 2022, 2023], [5, np.nan, None])
    assert fit.reason == "too_few_points" and fit.n == 1 and fit.n_dropped == 2
    assert fit.slope is None and fit.df_resid is None
    assert fit.prob_reach(10, 2024) is None
    assert np.isnan(fit.predict([2024]).loc[0, "mean"])
    empty = fit_trend([], [])
    assert empty.reason == "too_few_points" and empty.centre is None


def test_nan_values_are_dropped_and_counted() -> None:
    fit = fit_trend([2020, 2021, 2022, 2023], [4, 7, np.nan, 9])
    ref = fit_trend([2020, 2021, 2023], [4, 7, 9])
    assert fit.n == 3 and fit.n_dropped == 1
    assert fit.slope == pytest.approx(ref.slope, rel=1e-12)
    assert fit.centre == pytest.approx(6064 / 3, rel=1e-15)  # mean of the used years only


@pytest.mark.parametrize(
    ("model", "values", "reason"),
    [
        ("loglinear", [3, 0, 5], "non_positive_values"),
        ("loglinear", [3, -1, 5], "non_positive_values"),
        ("poisson", [3, 2.5, 5], "non_integer_values"),
        ("poisson", [3, -1, 5], "negative_counts"),
        ("poisson", [0, 0, 0], "no_finite_estimate"),
        ("poisson", [0, 0, 5], "no_finite_estimate"),  # score equations have no finite root
    ],
)
def test_model_domain_gives_reason_not_exception(model: str, values: list, reason: str) -> None:
    fit = fit_trend(SEED_YEARS, values, model=model)
    assert fit.reason == reason and reason in REASONS
    assert fit.slope is None and fit.prob_reach(1, 2024) is None


def test_all_in_one_year_has_no_slope() -> None:
    assert fit_trend([2022, 2022, 2022], [1, 2, 3]).reason == "no_variation_in_year"


@pytest.mark.parametrize(
    ("x", "y"),
    [
        (SEED_YEARS, ["4", "7", "9"]),
        (SEED_YEARS, [4, "seven", 9]),
        (["2021年度", "2022年度", "2023年度"], SEED_VALUES),
        (SEED_YEARS, [4, 7]),
        ([2021, np.nan, 2023], SEED_VALUES),
        (SEED_YEARS, [True, False, True]),
    ],
)
def test_garbage_raises_clear_error(x: list, y: list) -> None:
    with pytest.raises(KpiAnalysisError):
        fit_trend(x, y)


def test_bad_options_raise() -> None:
    with pytest.raises(TrendInputError, match="unknown trend model"):
        fit_trend(SEED_YEARS, SEED_VALUES, model="spline")
    fit = fit_trend(SEED_YEARS, SEED_VALUES)
    with pytest.raises(TrendInputError, match="direction"):
        fit.prob_reach(10, 2024, direction="up")


def test_no_warnings_for_perfect_fit_with_three_points() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_trend(SEED_YEARS, [1, 2, 3])
        flat = fit_trend(SEED_YEARS, [5, 5, 5])
        pois = fit_trend(SEED_YEARS, [5, 5, 5], model="poisson")
        batch = fit_linear_trends(
            pd.DataFrame({"k": 1, "fiscal_year": SEED_YEARS, "actual": [1, 2, 3]}), by="k"
        )
        pred = fit.predict([2024, 2025])
        prob = fit.prob_reach(5.1, 2025)
    # Exact line of values printed to the unit: zero residuals, but each value is known to ±0.5
    # only, so the variance is floored at the rounding variance 1/12 (issue 18.3): slope SE
    # √(1/12 / 2) with Σdx² = 2, t on 1 df.
    assert fit.slope == pytest.approx(1.0, rel=1e-15) and fit.s2 == 0.0
    assert fit.scale == pytest.approx(1 / 12) and fit.slope_se == pytest.approx(math.sqrt(1 / 24))
    assert fit.p_value == pytest.approx(2 * stats.t.sf(1 / math.sqrt(1 / 24), 1), rel=1e-12)
    assert fit.aic is None and fit.reason is None  # AIC would be -inf
    # FY2025 (dx = 3): mean 5, predictive variance (1/12)(1 + 1/3 + 9/2) = 35/72.
    sd = math.sqrt(35 / 72)
    assert pred["pi_high"].iloc[1] == pytest.approx(5 + stats.t.ppf(0.975, 1) * sd, rel=1e-12)
    assert prob == pytest.approx(stats.t.sf(0.1 / sd, 1), rel=1e-12)
    assert 0 < fit.prob_reach(4.9, 2025) < 1
    assert flat.slope == 0.0 and flat.p_value == 1.0  # t = 0
    assert pois.slope == pytest.approx(0.0, abs=1e-12) and pois.dispersion == pytest.approx(0.0)
    assert batch.loc[0, "slope"] == 1.0
    assert batch.loc[0, "p_value"] == pytest.approx(fit.p_value, rel=1e-12)


def test_exact_lines_never_claim_certainty() -> None:
    years = [2020, 2021, 2022, 2023]
    # Issue 18.3: 3, 6, 9, 12 with target 15 gave P = 0, −10, −5, 0, 5 with target 10 gave
    # P = 1 (the fitted 15 and 10 were off by one rounding error). Now the predictive is a t on
    # 2 df around exactly 15 / 10: P = 1/2.
    assert fit_trend(years, [3, 6, 9, 12]).prob_reach(15, 2024) == pytest.approx(0.5, abs=1e-12)
    assert fit_trend(years, [-10, -5, 0, 5]).prob_reach(10, 2024) == pytest.approx(0.5, abs=1e-12)
    # A running total on an exact line: increments 3, 3, 3; the Gaussian increment model floors
    # s² at 1/6 (two rounded levels per increment), so P(one more increment ≥ 3) = 1/2.
    inc = fit_trend(years, [3, 6, 9, 12], model="ols_increments")
    assert inc.scale == pytest.approx(1 / 6)
    assert inc.prob_reach(15, 2024) == pytest.approx(0.5, abs=1e-12)
    counts = fit_trend(years, [3, 6, 9, 12], model="poisson_increments")
    assert 0.3 < counts.prob_reach(15, 2024) < 0.8
    assert counts.prob_reach(12, 2024) == 1.0  # decided: already reached, cannot fall
    assert counts.prob_reach(11, 2025, direction="decrease") == 0.0  # decided: already above
    # A flow on an exact line 1, 2, 3, 4 showed PI (5, 5): now 5 ± t(0.975, 2)·√((1/12)·2.5)
    # (predictive variance s²(1 + 1/n + dx²/Σdx²) = (1/12)(1 + 1/4 + 6.25/5)).
    row = fit_trend(years, [1, 2, 3, 4]).predict(2024).iloc[0]
    half = stats.t.ppf(0.975, 2) * math.sqrt(2.5 / 12)
    assert round(half, 3) == 1.964
    assert (row["pi_low"], row["pi_high"]) == pytest.approx((5 - half, 5 + half), rel=1e-12)
    # Far beyond any plausible value the probability is tiny, never exactly 0.
    assert 0 < fit_trend(years, [1, 2, 3, 4]).prob_reach(1e6, 2024) < 1e-6


def test_reporting_resolution_sets_the_floor() -> None:
    from kpianalysis.analysis.trends import reporting_resolution

    assert reporting_resolution([4, 7, 9]) == 1.0
    assert reporting_resolution([14.95, 17.45, 18.7]) == 0.01
    assert reporting_resolution([0.5, 1.25]) == 0.01
    # Printed to 0.01: floor 0.01²/12; an exact line 14.95, 17.45, 18.7 then has SE
    # √(1e-4/12 / Σdx²), Σdx² = (2009−2010.67)² + … = 4.6667.
    fit = fit_trend([2009, 2011, 2012], [14.95, 17.45, 18.7])
    assert fit.resolution == 0.01
    assert fit.slope_se == pytest.approx(math.sqrt(1e-4 / 12 / (14 / 3)), rel=1e-9)
    assert fit_trend([2009, 2011, 2012], [14.95, 17.45, 18.7], resolution=0).slope_se == 0.0


# ------------------------------------------------------------------------------------------------
# Poisson overdispersion and predictive distribution
# ------------------------------------------------------------------------------------------------


def test_poisson_overdispersion_by_hand() -> None:
    # Symmetric counts 2, 10, 10, 2 (FY2020–2023): the MLE is flat, mu = 6 everywhere.
    # Pearson chi2 = 4 · (4²/6) = 64/6, df = 2 → dispersion 16/3 > 1 → quasi-Poisson.
    # Poisson var(slope) = 1 / Σ mu (x - x̄)² = 1 / (6 · 5) → quasi se = √(16/3 / 30).
    y = np.array([2, 10, 10, 2])
    fit = fit_trend([2020, 2021, 2022, 2023], y, model="poisson")
    mu = np.exp(fit.intercept + fit.slope * (np.arange(2020, 2024) - fit.centre))
    pearson = float(np.sum((y - mu) ** 2 / mu)) / fit.df_resid
    assert pearson == pytest.approx(16 / 3, rel=1e-9)
    assert fit.dispersion == pytest.approx(16 / 3, rel=1e-9)
    assert fit.quasi and fit.scale == pytest.approx(16 / 3, rel=1e-9)
    assert fit.aic is None  # no likelihood under quasi-Poisson
    assert fit.intercept == pytest.approx(math.log(6), rel=1e-9)
    assert fit.slope == pytest.approx(0.0, abs=1e-9)
    assert fit.slope_se == pytest.approx(math.sqrt(16 / 3 / 30), rel=1e-9)
    # The dispersion is integrated over its distribution 2·(16/3)/χ²₂ floored at 1 (almost never
    # below 1 here: P(χ²₂ > 32/3) = e^(−16/3) = 0.5 %), so the interval is nearly the t₂ one.
    half = stats.t.ppf(0.975, 2) * fit.slope_se
    assert fit.ci_high == pytest.approx(fit.slope + half, rel=5e-3)


def _sf_given(lam: float, ph: float, need: int) -> float:
    """P(S ≥ need) for S | λ, Φ Poisson (Φ = 1) or negative binomial with variance Φλ."""
    # P(S > need − 1) by the regularised incomplete beta and gamma functions (what
    # stats.nbinom.sf and poisson.sf compute, without their per-call overhead):
    # NB(r, p): I_{1−p}(need, r) with r = λ/(Φ − 1), p = 1/Φ.
    if lam > 1e12:
        return 1.0  # far beyond any need tested here
    if ph > 1.0:
        return float(special.betainc(need, lam / (ph - 1.0), 1.0 - 1.0 / ph))
    return float(special.pdtrc(need - 1, lam))


def adaptive_reach(
    mult: float, eta: float, se1: float, phi: float, df: float, need: int, rate: str = "lognormal"
) -> float:
    """P(S ≥ need) by scipy's adaptive quadrature, independent of the library's nodes.

    S | λ, Φ is Poisson (Φ = 1) or negative binomial with variance ΦΛ; Φ = max(1, φ̃·df/X),
    X ~ χ²_df (integrated over its probability u, so the heavy upper tail of Φ sits in a bounded
    integrand); with an infinite df, Φ = max(1, φ̃). Given Φ, λ = mult·exp(η̂ + √Φ·se1·Z), Z
    standard normal (``rate="lognormal"``: a Poisson model's linear predictor), or for a running
    total's yearly rate (``rate="gamma"``) λ = mult·G with G gamma of mean exp(η̂) and CV √Φ·se1
    (shape a = 1/(Φ·se1²)): integrated over its density on the λ scale, not its quantiles. With
    Φ = 1 this is the negative binomial NB(a, a/(a + mult·exp(η̂))) (checked below).
    """
    from scipy import integrate

    def given(ph: float) -> float:
        if rate == "gamma":
            a = 1.0 / (ph * se1 * se1)
            g = stats.gamma(a, scale=mult * math.exp(eta) / a)
            lo, hi = g.ppf(1e-12), g.ppf(1 - 1e-12)
            return integrate.quad(
                lambda lam: _sf_given(lam, ph, need) * g.pdf(lam), lo, hi, limit=200, epsabs=1e-10
            )[0]

        def f(z: float) -> float:
            lam = mult * math.exp(min(eta + math.sqrt(ph) * se1 * z, 600.0))
            return _sf_given(lam, ph, need) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)

        return integrate.quad(f, -12, 12, limit=200, epsabs=1e-9)[0]

    if math.isinf(df):
        return given(max(1.0, phi))

    def outer(u: float) -> float:
        x = max(float(stats.chi2.ppf(u, df)), 1e-300)
        return given(min(1e8, max(1.0, phi * df / x)))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # quad's round-off notes on the flat tails
        return integrate.quad(outer, 0, 1, limit=200, epsabs=1e-7)[0]


def test_adaptive_gamma_reference_is_the_negative_binomial() -> None:
    # Φ = 1: a gamma rate (shape 3, mean 1.5) mixed into a Poisson count is NB(3, 3/(3 + 1.5)),
    # P(S ≥ 6) = 0.019662 (by hand in test_projection.py): the reference integrand checked.
    got = adaptive_reach(1.0, math.log(1.5), math.sqrt(1 / 3), 1.0, math.inf, 6, "gamma")
    assert got == pytest.approx(float(stats.nbinom.sf(5, 3, 2 / 3)), abs=1e-8)


def test_poisson_prob_reach_matches_quadrature() -> None:
    fit = fit_trend([2019, 2020, 2021, 2022, 2023], [3, 5, 4, 7, 8], model="poisson")
    assert not fit.quasi and fit.df_total == 3  # φ̃ < 1, yet its distribution reaches above 1
    x = np.array([1.0, 2024 - fit.centre])
    eta, se1 = fit.intercept + fit.slope * x[1], math.sqrt(x @ fit._cov_unit @ x)
    exact = adaptive_reach(1.0, eta, se1, fit.s2_post, fit.df_total, 10)
    p = fit.prob_reach(10, 2024)
    # Deterministic quadrature (no simulation), within the documented bound QUAD_ERROR.
    assert p == pytest.approx(exact, abs=QUAD_ERROR)
    pred = fit.predict([2024]).iloc[0]
    assert pred["mean"] == pytest.approx(math.exp(eta), rel=1e-12)
    assert pred["pi_low"] <= pred["mean"] <= pred["pi_high"]
    assert pred["pi_low"] == int(pred["pi_low"]) or pred["pi_low"] == pred["mean_ci_low"]


@pytest.mark.parametrize(
    ("levels", "prior", "need"),
    [
        ([4, 4, 7, 9], None, 4),  # the seed's KPI ①: φ̂ = 1.4 on 2 df
        ([4, 4, 7, 9], VariancePrior(df=4.0, scale=2.0), 2),
        ([10, 10, 10, 15], None, 6),  # φ̂ = 5 on 2 df: a heavy tail
        ([0, 3, 4, 10], VariancePrior(df=6.0, scale=1.5), 8),
        ([1, 1, 2, 2], VariancePrior(df=8.0, scale=1.2), 1),
        ([16, 17, 17, 17], None, 3),  # φ̂ = 1 exactly
    ],
)
def test_running_total_probability_within_the_documented_quadrature_error(
    levels: list[int], prior: VariancePrior | None, need: int
) -> None:
    years = np.arange(2020, 2020 + len(levels))
    fit = fit_trend(years, levels, model="poisson_increments", prior=prior)
    K = len(levels) - 1
    # se of log λ̂ at unit dispersion: √(1/(λ̂ Σk)).
    se1 = math.sqrt(1 / (fit.slope * K))
    exact = adaptive_reach(1.0, math.log(fit.slope), se1, fit.s2_post, fit.df_total, need, "gamma")
    assert fit.prob_reach(levels[-1] + need, years[-1] + 1) == pytest.approx(exact, abs=QUAD_ERROR)


def test_quasi_poisson_prediction_is_wider() -> None:
    years = [2019, 2020, 2021, 2022, 2023]
    calm = fit_trend(years, [10, 12, 14, 16, 18], model="poisson")
    wild = fit_trend(years, [2, 30, 4, 40, 18], model="poisson")
    assert not calm.quasi and wild.quasi
    pc, pw = calm.predict(2025).iloc[0], wild.predict(2025).iloc[0]
    assert pw["pi_high"] - pw["pi_low"] > pc["pi_high"] - pc["pi_low"]


# ------------------------------------------------------------------------------------------------
# log-linear
# ------------------------------------------------------------------------------------------------


def test_loglinear_growth_of_ten_percent() -> None:
    t = np.arange(2018, 2024)
    fit = fit_trend(t, 100 * 1.1 ** (t - 2018), model="loglinear")
    assert fit.slope == pytest.approx(math.log(1.1), rel=1e-12)
    assert fit.slope_pct_per_year == pytest.approx(0.10, rel=1e-12)
    # 100·1.1ᵏ for k ≤ 5 has at most 3 decimals (161.051): floor 0.001²/12 on the level, tiny
    # on the log scale, so the interval is narrow but not a point.
    assert fit.resolution == 0.001
    assert fit.slope_pct_ci_low == pytest.approx(0.10, rel=1e-4) and fit.slope_pct_ci_low < 0.1
    pred = fit.predict(2024).iloc[0]
    assert pred["mean"] == pytest.approx(100 * 1.1**6, rel=1e-9)


def test_loglinear_prediction_is_back_transformed() -> None:
    years, vals = [2019, 2020, 2021, 2022], [100, 120, 130, 170]
    fit = fit_trend(years, vals, model="loglinear")
    ref = fit_trend(years, np.log(vals))  # same regression on the log scale
    assert fit.slope == pytest.approx(ref.slope, rel=1e-12)
    p, r = fit.predict(2024).iloc[0], ref.predict(2024).iloc[0]
    for col in ("mean", "mean_ci_low", "mean_ci_high", "pi_low", "pi_high"):
        assert p[col] == pytest.approx(math.exp(r[col]), rel=1e-12)
    assert fit.prob_reach(p["pi_high"], 2024) == pytest.approx(0.025, rel=1e-9)
    assert fit.prob_reach(-5, 2024) == 1.0


# ------------------------------------------------------------------------------------------------
# tidy output, default model, many series
# ------------------------------------------------------------------------------------------------


def test_tidy_row() -> None:
    fit = fit_trend(SEED_YEARS, SEED_VALUES)
    row = fit.to_frame()
    assert len(row) == 1 and "_fit" not in row.columns
    assert list(row.columns) == list(fit.as_dict())
    assert row.loc[0, "slope"] == pytest.approx(2.5)
    assert isinstance(fit, TrendFit)


def test_default_model() -> None:
    assert default_model("cumulative", [1, 4, 9]) == "poisson_increments"
    assert default_model("cumulative", [1.5, 4, 9]) == "ols_increments"
    assert default_model("stock", [10, 12, np.nan]) == "loglinear"
    assert default_model("stock", [0, 12, 15]) == "poisson"
    assert default_model("stock", [-1.5, 2.0]) == "ols"
    assert default_model("flow", [3, 5]) == "ols"
    assert default_model("average", [3, 5]) == "ols"
    with pytest.raises(TrendInputError):
        default_model("ratio", [1])


def test_fit_trends_per_series_models() -> None:
    df = pd.DataFrame(
        {
            "programme_id": ["P1"] * 6 + ["P2"] * 2,
            "indicator_id": [1, 1, 1, 2, 2, 2, 1, 1],
            "fiscal_year": [2021, 2022, 2023] * 2 + [2022, 2023],
            "actual": [4, 7, 9, 4, 7, 9, 1.5, 2.5],
            "kind": ["cumulative"] * 3 + ["flow"] * 3 + ["cumulative"] * 2,
            "trend_model": [None] * 3 + ["loglinear"] * 3 + [None] * 2,
        }
    )
    out = fit_trends(df)
    # kind, column, non-integer running total
    assert out["model"].tolist() == ["poisson_increments", "loglinear", "ols_increments"]
    # Increments 3 and 2: rate 2.5 a year; Pearson χ² = (0.5² + 0.5²) / 2.5 = 0.2 on 1 df, too
    # few df to estimate the dispersion: Poisson variation assumed.
    assert out.loc[0, "slope"] == pytest.approx(2.5, rel=1e-12)
    assert out.loc[0, "dispersion"] == pytest.approx(0.2, rel=1e-12)
    assert bool(out.loc[0, "dispersion_assumed"])
    assert out["reason"].isna().tolist() == [True, True, False]
    assert out.loc[2, "reason"] == "no_interval_with_2_points"  # one increment: d = 0
    assert out.loc[2, "slope"] == pytest.approx(1.0)
    forced = fit_trends(df, model="ols")
    assert forced["slope"].iloc[0] == pytest.approx(2.5)
    assert list(out.columns[:2]) == ["programme_id", "indicator_id"]


def random_panel(seed: int, n_series: int) -> pd.DataFrame:
    """Ragged panel: 2–10 distinct years out of 2005–2024 per series, some values missing."""
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n_series):
        k = int(rng.integers(2, 11))
        years = np.sort(rng.choice(np.arange(2005, 2025), size=k, replace=False))
        y = rng.normal(100, 30) + rng.normal(0, 5) * (years - 2015) + rng.normal(0, 8, size=k)
        y[rng.random(k) < 0.1] = np.nan
        parts.append(pd.DataFrame({"city": i % 7, "kpi": i, "fiscal_year": years, "actual": y}))
    return pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=seed)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batch_equals_statsmodels_on_random_panels(seed: int) -> None:
    panel = random_panel(seed, 150)
    batch = fit_linear_trends(panel, by=("city", "kpi"))
    loop = fit_trends(panel, by=("city", "kpi"), model="ols")
    assert len(batch) == len(loop) == 150
    assert (batch[["city", "kpi"]].to_numpy() == loop[["city", "kpi"]].to_numpy()).all()
    assert batch["reason"].fillna("").tolist() == loop["reason"].fillna("").tolist()
    assert batch["n"].tolist() == loop["n"].tolist()
    assert batch["n_dropped"].tolist() == loop["n_dropped"].tolist()
    cols = [
        "centre", "intercept", "intercept_se", "intercept_x0", "intercept_x0_se",
        "slope", "slope_se", "ci_low", "ci_high", "p_value", "residual_sd",
    ]  # fmt: skip
    for col in cols:
        a = batch[col].to_numpy(dtype=float)
        b = loop[col].to_numpy(dtype=float, na_value=np.nan)
        assert (np.isnan(a) == np.isnan(b)).all(), col
        ok = ~np.isnan(a)
        np.testing.assert_allclose(a[ok], b[ok], rtol=RTOL, atol=1e-300, err_msg=col)
    # The panel really has all the awkward cases.
    assert {"no_interval_with_2_points", "too_few_points"} <= set(batch["reason"].dropna())
    assert (batch["n_dropped"] > 0).any()


def test_batch_reasons_and_grouping() -> None:
    df = pd.DataFrame(
        {
            "p": ["b", "b", "a", "a", "a", "c"],
            "i": [1, 1, 2, 2, 2, 1],
            "fiscal_year": [2022, 2023, 2021, 2022, 2023, 2023],
            "actual": [1.0, 3.0, 4, 7, 9, 5],
        }
    )
    out = fit_linear_trends(df, by=["p", "i"])
    assert out[["p", "i"]].values.tolist() == [["a", 2], ["b", 1], ["c", 1]]
    assert out["slope"].iloc[0] == pytest.approx(2.5)
    assert out["reason"].fillna("").tolist() == ["", "no_interval_with_2_points", "too_few_points"]
    assert out["slope"].iloc[1] == pytest.approx(2.0) and np.isnan(out["slope_se"].iloc[1])
    assert np.isnan(out["slope"].iloc[2]) and out["df_resid"].isna().iloc[2]
    # t(0.975, 1) interval for the seed series: 2.5 ± 12.706 · √(1/12).
    half = stats.t.ppf(0.975, 1) * math.sqrt(1 / 12)
    assert out["ci_high"].iloc[0] == pytest.approx(2.5 + half, rel=1e-12)


def test_batch_rejects_text() -> None:
    df = pd.DataFrame({"k": [1, 1, 1], "fiscal_year": SEED_YEARS, "actual": ["4", "7", "x"]})
    with pytest.raises(TrendInputError):
        fit_linear_trends(df, by="k")
    with pytest.raises(TrendInputError, match="not in the frame"):
        fit_linear_trends(df, by="missing")


# ------------------------------------------------------------------------------------------------
# issue 11 bugs: exact Poisson fits, batch centring
# ------------------------------------------------------------------------------------------------


def test_exact_poisson_fits_have_finite_se_and_an_interval() -> None:
    # Constant 5, 5, 5 on dx = -1, 0, 1: mu = 5, Fisher information of the slope Σ mu dx² = 10,
    # so se = 1/√10 = 0.316228 (statsmodels' PerfectSeparationWarning is not a failure here).
    flat = fit_trend(SEED_YEARS, [5, 5, 5], model="poisson")
    assert flat.reason is None
    assert flat.slope_se == pytest.approx(1 / math.sqrt(10), rel=1e-9)
    pred = flat.predict(2024).iloc[0]
    assert np.isfinite(pred["pi_low"]) and pred["pi_low"] <= 5 <= pred["pi_high"]
    # Exact doubling 2, 4, 8: mu = y, information [[14, 6], [6, 10]] → var(slope) = 14 / 104.
    dbl = fit_trend(SEED_YEARS, [2, 4, 8], model="poisson")
    assert dbl.reason is None
    assert dbl.slope == pytest.approx(math.log(2), rel=1e-9)
    # (statsmodels' IRLS stops at its deviance tolerance, so agreement is to ~1e-6, not 1e-12.)
    assert dbl.slope_se == pytest.approx(math.sqrt(14 / 104), rel=1e-5)


def test_batch_equals_fit_trend_near_1e12_and_for_exact_fits() -> None:
    rng = np.random.default_rng(11)
    parts = []
    for k in range(40):
        n = int(rng.integers(3, 7))
        years = np.arange(2015, 2015 + n)
        # Residuals of ~0.1 at 1e12: a once-centred batch was off by 2.6e-5 relative here.
        y = 1e12 + rng.normal(0, 0.1, n) + 1e2 * np.arange(n)
        parts.append(pd.DataFrame({"k": k, "fiscal_year": years, "actual": y}))
    # Exactly linear in decimal: 14.95 + 1.25 (year - 2009) → SE exactly 0 in both paths.
    parts.append(
        pd.DataFrame({"k": 99, "fiscal_year": [2009, 2011, 2012], "actual": [14.95, 17.45, 18.7]})
    )
    panel = pd.concat(parts, ignore_index=True)
    batch = fit_linear_trends(panel, by="k", resolution=0).set_index("k")
    loop = fit_trends(panel, by="k", model="ols").set_index("k")
    for col in ("slope", "slope_se", "intercept", "intercept_se", "residual_sd", "p_value"):
        np.testing.assert_allclose(batch[col][:-1], loop[col][:-1].astype(float), rtol=1e-9)
    # Without a floor (resolution=0) the exact line has SE exactly 0; with its own resolution
    # (0.01, as fit_trend infers) both paths floor it identically.
    assert batch.loc[99, "slope_se"] == 0.0
    floored = fit_linear_trends(panel, by="k").set_index("k")
    assert floored.loc[99, "slope_se"] == pytest.approx(loop.loc[99, "slope_se"], rel=1e-12)
    assert loop.loc[99, "slope_se"] > 0
    assert batch.loc[99, "slope"] == pytest.approx(1.25, rel=1e-12)


# ------------------------------------------------------------------------------------------------
# running totals: increments, level predictions that cannot fall, coherent intervals
# ------------------------------------------------------------------------------------------------

KPI1_YEARS = [2020, 2021, 2022, 2023]  # KPI ①: FY2020 baseline 4, then 4, 7, 9 (累計)
KPI1_LEVELS = [4, 4, 7, 9]


def test_kpi1_poisson_increments_by_hand() -> None:
    fit = fit_trend(KPI1_YEARS, KPI1_LEVELS, model="poisson_increments")
    # Increments 0, 3, 2: rate 5/3 a year; Pearson χ² = (25/9 + 16/9 + 1/9) / (5/3) = 2.8 on
    # 2 df → φ̂ = 1.4, the scale of the standard errors: se(log λ) = √(φ / (λ Σk)) = √(1.4 / 5).
    assert fit.slope == pytest.approx(5 / 3, rel=1e-12)
    assert fit.dispersion == pytest.approx(1.4, rel=1e-12)
    assert fit.quasi and fit.df_total == 2 and not fit.dispersion_assumed
    assert fit.scale == pytest.approx(1.4, rel=1e-12)
    se = math.sqrt(1.4 / 5)
    # The interval integrates the dispersion Φ = max(1, 1.4·2/X), X ~ χ²₂: the quantile q of
    # √(Φ/1.4)·Z solves E[Φ(q/√(Φ/1.4))] = 0.975 (adaptive quadrature here; t₂ = 4.303 if Φ
    # were never floored).
    from scipy import integrate, optimize

    def cdf(q: float) -> float:
        def f(u: float) -> float:
            ph = max(1.0, 2.8 / max(float(stats.chi2.ppf(u, 2)), 1e-300))
            return float(stats.norm.cdf(q / math.sqrt(ph / 1.4)))

        return integrate.quad(f, 0, 1, limit=200)[0]

    q = optimize.brentq(lambda t: cdf(t) - 0.975, 1.0, 10.0)
    # Flooring Φ at 1 only widens: q is at least the t₂ quantile (barely: the floored values
    # sit in the body, not in the tail that sets a 97.5 % point).
    assert stats.t.ppf(0.975, 2) - 1e-9 < q < 1.01 * stats.t.ppf(0.975, 2)
    assert fit.ci_low == pytest.approx(5 / 3 * math.exp(-q * se), rel=5e-3)
    pred = fit.predict([2023, 2024, 2026])
    assert pred["mean"].tolist() == pytest.approx([9, 9 + 5 / 3, 9 + 5])
    assert (pred[["mean_ci_low", "pi_low"]].to_numpy() >= 9).all()  # a running total cannot fall
    assert (pred["pi_low"] <= pred["mean_ci_low"]).all()
    assert (pred["pi_high"] >= pred["mean_ci_high"]).all()
    # P(FY2024 ≥ 13) = P(S ≥ 4): adaptive quadrature over Φ and the rate, a gamma of mean 5/3
    # and shape 5/Φ (S = 5 counts in Σk = 3 years at variance Φλ).
    exact = adaptive_reach(1.0, math.log(5 / 3), math.sqrt(1 / 5), 1.4, 2.0, 4, "gamma")
    assert fit.prob_reach(13, 2024) == pytest.approx(exact, abs=QUAD_ERROR)
    assert 0.09 < exact < 0.24  # issue 11: "0.09–0.24 when the yearly increments are modelled"
    assert fit.prob_reach(9, 2024) == 1.0  # already reached, cannot fall


def test_ols_increments_by_hand() -> None:
    fit = fit_trend([2020, 2021, 2022, 2023], [0.0, 2.0, 5.0, 6.0], model="ols_increments")
    # Increments 2, 3, 1: rate 2, s² = (0 + 1 + 1) / 2 = 1, se(rate) = √(1/3).
    assert fit.slope == pytest.approx(2.0) and fit.s2 == pytest.approx(1.0)
    assert fit.slope_se == pytest.approx(math.sqrt(1 / 3))
    # FY2025 (k = 2): mean 6 + 4; var = k²·s²/3 + k·s² = 4/3 + 2; lower limit floored at 6.
    q = stats.t.ppf(0.975, 2)
    row = fit.predict(2025).iloc[0]
    assert row["mean"] == pytest.approx(10.0)
    assert row["pi_high"] == pytest.approx(10 + q * math.sqrt(10 / 3), rel=1e-12)
    assert row["pi_low"] == 6.0


def test_flat_running_total_gives_a_finite_interval() -> None:
    fit = fit_trend([2020, 2021, 2022, 2023], [5, 5, 5, 5], model="poisson_increments")
    assert fit.reason == "no_finite_estimate"  # no increments at all: the rate is 0
    fit = fit_trend([2020, 2021, 2022, 2023], [5, 7, 9, 11], model="poisson_increments")
    assert fit.reason is None and fit.dispersion == 0.0 and not fit.quasi
    assert fit.slope_se == pytest.approx(2 * math.sqrt(1 / 6))  # λ √(1/(λ Σk)), λ = 2, Σk = 3


@pytest.mark.parametrize("model", ["ols", "loglinear", "poisson", "poisson_increments"])
def test_prediction_interval_contains_the_mean_interval(model: str) -> None:
    rng = np.random.default_rng(5)
    for _ in range(8):
        n = int(rng.integers(3, 6))
        years = np.arange(2019, 2019 + n)
        y = np.cumsum(rng.poisson(3, n)) + 1 if "increments" in model else rng.poisson(20, n) + 1
        fit = fit_trend(years, y, model=model, prior=VariancePrior(df=3.0, scale=1.5))
        if fit.reason:
            continue
        p = fit.predict(np.arange(2019, 2019 + n + 3)).dropna(subset=["pi_low"])
        assert len(p) >= 3
        assert (p["pi_low"] <= p["mean_ci_low"] + 1e-9).all()
        assert (p["pi_high"] >= p["mean_ci_high"] - 1e-9).all()


# ------------------------------------------------------------------------------------------------
# issue 18.2: one count model, continuous in the data
# ------------------------------------------------------------------------------------------------


# Upper ends: the mean's CI bound (the PI contains it; the negative-binomial predictive's
# integer end lies below it in both). [27, …]: increments 2, 2, 0, λ̂ = 4/3, se(log λ̂) =
# √(1/(λ̂·3)) = 1/2, so 31 + (4/3)·exp(q/2) with q the 97.5 % point of √Φ·Z, Φ = max(1, 2/χ²₂):
# t₂'s 4.3027 within 0.5 % (flooring Φ at 1 barely moves a 97.5 % point) → 42.46.
@pytest.mark.parametrize(
    ("levels", "upper", "rel"),
    [
        ([16, 17, 17, 17], 41.63763328308332, 1e-9),
        ([27, 29, 31, 31], 31 + 4 / 3 * math.exp(stats.t.ppf(0.975, 2) / 2), 5e-3),
    ],
)
def test_dispersion_of_exactly_one_is_not_decided_by_rounding(
    levels: list[int], upper: float, rel: float
) -> None:
    # Increments 1, 0, 0 (rate 1/3): Pearson χ² = ((2/3)² + 2·(1/3)²)/(1/3) = 2 on 2 df → φ̂ = 1,
    # computed as 1.0000000000000002; 2, 2, 0 likewise. The Poisson/quasi-Poisson switch made the
    # last bit decide the FY+1 upper bound (20 or 42; 36 or 43). Now the dispersion just below
    # and just above 1 give the same interval.
    from dataclasses import replace

    from kpianalysis.analysis.shrinkage import NO_PRIOR
    from kpianalysis.analysis.trends import _poisson_scale

    years = np.arange(2020, 2024)
    fit = fit_trend(years, levels, model="poisson_increments")
    assert fit.dispersion == pytest.approx(1.0, abs=1e-12)
    bounds = []
    for phi in (1 - 1e-9, fit.dispersion, 1 + 1e-9):
        other = replace(fit, **_poisson_scale(phi, 2, NO_PRIOR))
        row = other.predict(2024).iloc[0]
        bounds.append((row["pi_low"], row["pi_high"]))
    # (Equal to 1e-6: the mean's CI end moves continuously with φ, by 1e-9 here.)
    assert bounds[0] == pytest.approx(bounds[1], rel=1e-6) == bounds[2]
    assert bounds[1][0] == levels[-1] and bounds[1][1] == pytest.approx(upper, rel=rel)


@settings(max_examples=25, deadline=None)
@given(
    start=st.integers(0, 30),
    inc=st.lists(st.integers(0, 8), min_size=3, max_size=4),
    where=st.integers(0, 4),
    step=st.sampled_from([-1, 1]),
)
def test_one_unit_moves_a_pooled_count_bound_by_at_most_three(
    start: int, inc: list[int], where: int, step: int
) -> None:
    levels = np.concatenate([[start], start + np.cumsum(inc)])
    moved = levels.copy()
    moved[where % levels.size] += step
    assume((np.diff(moved) >= 0).all() and moved.min() >= 0 and np.diff(levels).sum() > 0)
    assume(np.diff(moved).sum() > 0)
    years = np.arange(2020, 2020 + levels.size)
    prior = VariancePrior(df=4.0, scale=1.5)  # a reference panel's dispersion prior
    a = fit_trend(years, levels, model="poisson_increments", prior=prior)
    b = fit_trend(years, moved, model="poisson_increments", prior=prior)
    pa = a.predict(years[-1] + 1).iloc[0]
    pb = b.predict(years[-1] + 1).iloc[0]
    assert abs(pa["pi_high"] - pb["pi_high"]) <= 3
    assert abs(pa["pi_low"] - pb["pi_low"]) <= 3


def test_a_falling_stock_reaches_a_target_of_zero_as_printed() -> None:
    # A stock (loglinear) falling 10 → 6 → 3 toward a target of 0 (less is better, as 待機児童 0人
    # in tests/fixtures/partners/14100-mokuhyo). On the log scale 0 is out of reach, but the
    # sheet prints whole units, so "0" is met by any value below 0.5: P(reach 0) is P(Y < 0.5).
    # Before, log(0) = -inf gave a RuntimeWarning and the clamped floor P_MIN (1e-9).
    fit = fit_trend([2020, 2021, 2022], [10, 6, 3], model="loglinear")
    p0 = fit.prob_reach(0.0, 2024, direction="decrease")
    assert p0 == fit.prob_reach(0.5, 2024, direction="decrease")
    # The trend (×0.55 a year) puts FY2024 near 3 × 0.30 ≈ 0.9, so reaching < 0.5 is open.
    assert 0.05 < p0 < 0.95
    # Without a printed unit a log-scale stock cannot reach 0: the floor, not a certainty.
    bare = fit_trend([2020, 2021, 2022], [10, 6, 3], model="loglinear", resolution=0)
    assert bare.prob_reach(0.0, 2024, direction="decrease") == pytest.approx(1e-9)
