"""Empirical-Bayes moderated variances (Smyth 2004; limma squeezeVar/fitFDist), checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special, stats

from kpianalysis.analysis.shrinkage import (
    VariancePrior,
    fit_f_dist,
    fit_f_dist_ml,
    squeeze_var,
    trigamma_inverse,
)
from kpianalysis.analysis.trends import fit_linear_trends, fit_trend, fit_trends

pytestmark = pytest.mark.filterwarnings("error")
EULER = 0.5772156649015329


def test_fit_f_dist_by_hand_finite_prior_df() -> None:
    # s² = 0.01, 1, 100 on d = 2: e = log s² − ψ(1) + log 1 = log s² + γ, so mean(e) = γ and
    # var(e) = 2·ln(100)² / 2; subtract ψ′(1) = π²/6; d₀ = 2·ψ′⁻¹(that) (root found by brentq,
    # independently of the Newton iteration), s₀² = exp(γ + ψ(d₀/2) − log(d₀/2)).
    evar = math.log(100) ** 2 - math.pi**2 / 6
    y = optimize.brentq(lambda t: special.polygamma(1, t) - evar, 1e-6, 10)
    d0 = 2 * y
    s02 = math.exp(EULER + special.digamma(d0 / 2) - math.log(d0 / 2))
    prior = fit_f_dist([0.01, 1.0, 100.0], 2)
    assert prior.df == pytest.approx(d0, rel=1e-8)
    assert prior.scale == pytest.approx(s02, rel=1e-8)
    assert prior.n_series == 3


def test_fit_f_dist_limma_edge_cases() -> None:
    # Spread of log s² below what χ² sampling alone gives: d₀ = ∞, s₀² = exp(mean e) (limma).
    p = fit_f_dist([1.0, 2.0, 4.0], [2, 2, 2])
    assert math.isinf(p.df)
    assert p.scale == pytest.approx(2 * math.exp(EULER), rel=1e-12)  # geometric mean 2, + γ
    # Equal variances: infinite prior df, and every posterior is the prior.
    eq = fit_f_dist([3.0, 3.0, 3.0, 3.0], 1)
    assert math.isinf(eq.df)
    post, df = squeeze_var([3.0, 3.0], [1, 1], eq)
    assert np.allclose(post, eq.scale) and np.isinf(df).all()
    # One series: nothing to estimate (limma returns df2 = 0).
    assert fit_f_dist([2.5], 3).df == 0 and not fit_f_dist([2.5], 3).pools
    # Series without residual df carry no information.
    assert fit_f_dist([1.0, np.nan], [2, 0]).df == 0


def test_squeeze_var_by_hand() -> None:
    prior = VariancePrior(df=3.0, scale=2.0)
    post, df = squeeze_var([0.0, 4.0, np.nan], [1, 1, 0], prior)
    # (3·2 + 1·0)/4, (3·2 + 1·4)/4, and the prior for a series without its own variance.
    np.testing.assert_allclose(post, [1.5, 2.5, 2.0], rtol=1e-15)
    assert df.tolist() == [4.0, 4.0, 3.0]


def test_trigamma_inverse_round_trips() -> None:
    x = np.array([1e-3, 0.1, 1.0, 10.0, 1e3])
    np.testing.assert_allclose(special.polygamma(1, trigamma_inverse(x)), x, rtol=1e-8)


def test_fit_f_dist_recovers_a_known_prior() -> None:
    # Smyth's hierarchical model: 1/σ² ~ χ²(d₀)/(d₀ s₀²), s² | σ² ~ σ² χ²(d)/d.
    rng = np.random.default_rng(2004)
    d0, s02, d, g = 4.0, 2.0, 2, 40_000
    sigma2 = d0 * s02 / rng.chisquare(d0, g)
    s2 = sigma2 * rng.chisquare(d, g) / d
    p = fit_f_dist(s2, d)
    assert p.df == pytest.approx(d0, rel=0.1)
    assert p.scale == pytest.approx(s02, rel=0.05)


def test_fit_f_dist_ml_is_the_f_likelihood_maximum() -> None:
    # Smyth's model with d₀ = 8, s₀² = 2 on d = 1–4: the estimate maximises Σ log f_F(s²/s₀²;
    # d, d₀) − log s₀², computed here by scipy's F density and Nelder–Mead (independently of
    # the L-BFGS-B search on 1/d₀ with the density written out), and is near the truth.
    rng = np.random.default_rng(2003)
    g = 4000
    d = rng.integers(1, 5, g).astype(float)
    s2 = 8.0 * 2.0 / rng.chisquare(8.0, g) * rng.chisquare(d) / d
    p = fit_f_dist_ml(s2, d)

    def nll(theta: np.ndarray) -> float:
        d0, s0 = math.exp(theta[0]), math.exp(theta[1])
        return -float(np.sum(stats.f.logpdf(s2 / s0, d, d0) - math.log(s0)))

    ref = optimize.minimize(nll, [math.log(5.0), 0.0], method="Nelder-Mead",
                            options={"xatol": 1e-9, "fatol": 1e-9, "maxiter": 4000})  # fmt: skip
    assert p.df == pytest.approx(math.exp(ref.x[0]), rel=1e-4)
    assert p.scale == pytest.approx(math.exp(ref.x[1]), rel=1e-5)
    assert p.df == pytest.approx(8.0, rel=0.25) and p.scale == pytest.approx(2.0, rel=0.08)
    assert p.n_series == g


def test_fit_f_dist_ml_edge_cases() -> None:
    # No spread beyond sampling: the boundary d₀ = ∞, where the likelihood's maximum in s₀² is
    # the pooled variance Σd s²/Σd: (2·1 + 2·1 + 2·1)/6 = 1 and (1·2 + 3·4)/4 = 3.5.
    assert fit_f_dist_ml([1.0, 1.0, 1.0], 2) == VariancePrior(math.inf, 1.0, 3)
    p = fit_f_dist_ml([2.0, 4.0], [1, 3])
    assert p.df == math.inf and p.scale == pytest.approx(3.5, rel=1e-12)
    # Zeros (a count series with equal increments) carry no likelihood: skipped; one left is
    # nothing to pool (d₀ = 0), as fit_f_dist.
    assert fit_f_dist_ml([0.0, 2.5], 2) == VariancePrior(0.0, 2.5, 1)
    assert fit_f_dist_ml([], []).df == 0.0


def test_count_dispersions_need_the_likelihood_not_log_moments() -> None:
    # Running totals with negative-binomial increments (dispersion φ = max(1, 1.5·8/χ²₈), so
    # Var log φ ≈ 0.24: the dispersions really differ) and 2–5 increments: the Pearson
    # dispersion s² = Σ(x − x̄)²/x̄/(m − 1) is integer-valued data's, and its log lacks the left
    # tail of log χ²_d (d = 1: variance ≈ 1.7 against ψ′(½) = 4.93). limma's log moments then
    # see no spread beyond sampling (d₀ = ∞, every series gets one dispersion: the 80 % count
    # intervals over-covered, bench_calibration); the likelihood finds a finite d₀.
    rng = np.random.default_rng(18)
    s2, d = [], []
    for _ in range(6000):
        m = int(rng.integers(2, 6))
        rate = float(np.exp(rng.normal(math.log(4.0), 0.6)))
        phi = max(1.0, 1.5 * 8.0 / rng.chisquare(8.0))
        if phi > 1.0:
            x = rng.negative_binomial(rate / (phi - 1.0), 1.0 / phi, m)
        else:
            x = rng.poisson(rate, m)
        if x.sum() > 0 and np.ptp(x) > 0:  # a zero dispersion is left out (as family_priors)
            s2.append(float(np.sum((x - x.mean()) ** 2) / x.mean() / (m - 1)))
            d.append(m - 1)
    assert math.isinf(fit_f_dist(s2, d).df)
    p = fit_f_dist_ml(s2, d)
    assert 6.0 < p.df < 30.0 and 1.2 < p.scale < 2.0


def panel(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n):
        k = int(rng.integers(2, 7))
        years = np.arange(2018, 2018 + k)
        y = 1e12 * (i % 3 == 0) + rng.normal(50, 10) + 3 * (years - 2018) + rng.normal(0, 4, k)
        parts.append(pd.DataFrame({"kpi": i, "fiscal_year": years, "actual": y}))
    # An exact fit: zero own variance, moderated to a positive one.
    parts.append(
        pd.DataFrame({"kpi": n, "fiscal_year": [2009, 2011, 2012], "actual": [14.95, 17.45, 18.7]})
    )
    return pd.concat(parts, ignore_index=True)


def test_batch_moderated_equals_fit_trend_with_the_prior() -> None:
    df = panel(7, 120)
    batch = fit_linear_trends(df, by="kpi", prior="estimate")
    prior = VariancePrior(
        df=float(batch["prior_df"].iloc[0]), scale=float(batch["prior_scale"].iloc[0])
    )
    assert 0 < prior.df < math.inf
    loop = fit_trends(df, by="kpi", model="ols", prior=prior)
    for col in (
        "slope",
        "slope_se",
        "ci_low",
        "ci_high",
        "p_value",
        "intercept_se",
        "s2_post",
        "df_total",
    ):
        a = batch[col].to_numpy(dtype=float)
        b = loop[col].to_numpy(dtype=float, na_value=np.nan)
        assert (np.isnan(a) == np.isnan(b)).all(), col
        np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=1e-9, err_msg=col)
    # Two-point series have no variance of their own but an interval from the prior.
    two = batch[batch["n"] == 2]
    assert len(two) and two["reason"].isna().all() and (two["df_total"] == prior.df).all()
    exact = batch[batch["kpi"] == 120].iloc[0]
    assert exact["s2"] == 0.0 and exact["s2_post"] == pytest.approx(
        prior.df * prior.scale / (prior.df + 1)
    )


def test_pooling_narrows_a_three_point_interval() -> None:
    alone = fit_trend([2021, 2022, 2023], [4, 7, 9])
    pooled = fit_trend([2021, 2022, 2023], [4, 7, 9], prior=VariancePrior(df=10.0, scale=1 / 6))
    # s² = 1/6 on 1 df (residuals 1/6, −1/3, 1/6); with the same s₀² only the t quantile changes:
    # t(0.975, 1) = 12.706 → t(0.975, 11) = 2.201.
    assert pooled.s2_post == pytest.approx(1 / 6, rel=1e-12) and pooled.df_total == 11
    ratio = (pooled.ci_high - pooled.slope) / (alone.ci_high - alone.slope)
    assert ratio == pytest.approx(2.200985 / 12.706205, rel=1e-6)
