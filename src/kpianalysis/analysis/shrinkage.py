"""Empirical-Bayes moderated residual variances across comparable series (Smyth 2004).

A trend through three points has one residual degree of freedom: its residual variance s² is so
uncertain that a t interval (t₀.₉₇₅ = 12.706) is nearly useless. When many series share a model
family, their variances on the model's scale are comparable, and each series can borrow strength
from the others. Following Smyth (2004, *Stat. Appl. Genet. Mol. Biol.* 3(1), art. 3) and limma's
``squeezeVar``/``fitFDist``, the residual variances are modelled as

    s²_g | σ²_g ~ σ²_g χ²_{d_g} / d_g,        1/σ²_g ~ χ²_{d₀} / (d₀ s₀²),

so that s²_g / s₀² follows an F distribution on (d_g, d₀) degrees of freedom. The prior (d₀, s₀²)
is estimated by matching the mean and variance of log s² (digamma and trigamma terms,
:func:`fit_f_dist`) or, for Pearson dispersions of counts, whose log lacks the left tail of
log χ²_d, by maximising the F likelihood (:func:`fit_f_dist_ml`); each series' posterior
variance is

    s̃²_g = (d₀ s₀² + d_g s²_g) / (d₀ + d_g)

and its intervals use t with d₀ + d_g degrees of freedom. When the observed spread of log s² is no
more than sampling alone explains, d₀ is infinite and every series uses s₀² (limma's behaviour);
with a single series nothing can be estimated and d₀ = 0 (no pooling).

Examples
--------
>>> prior = fit_f_dist([1.0, 2.0, 4.0], [2, 2, 2])
>>> prior.df, round(prior.scale, 4)   # spread no more than chance: infinite prior df
(inf, 3.5621)
>>> squeeze_var([1.0], [1], VariancePrior(df=4.0, scale=2.0))[0].round(6).tolist()
[1.8]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

__all__ = ["VariancePrior", "fit_f_dist", "fit_f_dist_ml", "squeeze_var", "trigamma_inverse"]


@dataclass(frozen=True)
class VariancePrior:
    """Prior of the residual variances of comparable series: ``scale`` s₀² on ``df`` d₀.

    ``df`` is 0 when nothing could be pooled (then ``scale`` is meaningless for the posterior) and
    ``inf`` when every series is given the prior variance. ``n_series`` is the number of series
    that entered the estimate.
    """

    df: float
    scale: float
    n_series: int = 0

    @property
    def pools(self) -> bool:
        """True when the prior carries information (d₀ > 0)."""
        return self.df > 0 and math.isfinite(self.scale) and self.scale > 0


NO_PRIOR = VariancePrior(df=0.0, scale=math.nan, n_series=0)


def trigamma_inverse(x: Any) -> np.ndarray:
    """Solve ψ′(y) = x for y > 0 (Newton's method, as limma's ``trigammaInverse``).

    Examples
    --------
    >>> float(trigamma_inverse(np.pi**2 / 6).round(10))   # ψ′(1) = π²/6
    1.0
    """
    x = np.asarray(x, dtype=float)
    y = 0.5 + 1.0 / x
    for _ in range(50):
        tri = special.polygamma(1, y)
        dif = tri * (1.0 - tri / x) / special.polygamma(2, y)
        y = y + dif
        if np.all(-dif / y < 1e-8):
            break
    # Asymptotes where Newton is unnecessary (ψ′(y) ≈ 1/y for large y, 1/y² for small y).
    y = np.where(x > 1e7, 1.0 / np.sqrt(x), y)
    return np.where(x < 1e-6, 1.0 / x, y)


def fit_f_dist(variances: Any, df: Any) -> VariancePrior:
    """Estimate the prior (d₀, s₀²) of residual variances by moments of log s² (limma ``fitFDist``).

    Parameters
    ----------
    variances
        Residual variance of each series on the model's scale.
    df
        Residual degrees of freedom of each (scalar or one per series). Series with df = 0 or a
        non-finite variance carry no information and are skipped.

    Returns
    -------
    VariancePrior
        ``df = inf`` when the spread of log s² is within what sampling explains; ``df = 0`` with one
        usable series (nothing to pool); zero variances (exact fits) are offset to 1e-5 × the
        median, as limma does.

    Examples
    --------
    >>> p = fit_f_dist([0.01, 1.0, 100.0], 2)
    >>> round(p.df, 4), round(p.scale, 4)
    (0.467, 0.0822)
    """
    s2 = np.atleast_1d(np.asarray(variances, dtype=float))
    d = np.broadcast_to(np.asarray(df, dtype=float), s2.shape)
    ok = np.isfinite(s2) & np.isfinite(d) & (d > 1e-15) & (s2 > -1e-15)
    s2, d = s2[ok], d[ok]
    n = int(s2.size)
    if n == 0:
        return NO_PRIOR
    if n == 1:
        return VariancePrior(df=0.0, scale=float(s2[0]), n_series=1)
    s2 = np.maximum(s2, 0.0)
    m = float(np.median(s2))
    if m == 0.0:
        m = 1.0  # limma: more than half exactly zero; the offset then uses 1
    s2 = np.maximum(s2, 1e-5 * m)
    e = np.log(s2) - special.digamma(d / 2) + np.log(d / 2)
    emean = float(e.mean())
    evar = float(np.sum((e - emean) ** 2) / (n - 1)) - float(np.mean(special.polygamma(1, d / 2)))
    if evar > 0:
        d0 = 2.0 * float(trigamma_inverse(evar))
        s02 = math.exp(emean + float(special.digamma(d0 / 2)) - math.log(d0 / 2))
        return VariancePrior(df=d0, scale=s02, n_series=n)
    return VariancePrior(df=math.inf, scale=math.exp(emean), n_series=n)


def _f_logpdf(x: np.ndarray, d: np.ndarray, inv_d0: float) -> np.ndarray:
    """log density of F(d, d₀) at x, with 1/d₀ as the parameter so that d₀ = ∞ (the χ²_d/d
    limit) is the boundary ``inv_d0 = 0``."""
    h = d / 2
    if inv_d0 == 0.0:
        return h * np.log(h) - special.gammaln(h) + (h - 1) * np.log(x) - h * x
    d0 = 1.0 / inv_d0
    return (
        special.gammaln(h + d0 / 2)
        - special.gammaln(h)
        - special.gammaln(d0 / 2)
        + h * np.log(d / d0)
        + (h - 1) * np.log(x)
        - (h + d0 / 2) * np.log1p(d * x / d0)
    )


def fit_f_dist_ml(variances: Any, df: Any) -> VariancePrior:
    """Estimate the prior (d₀, s₀²) by maximum likelihood of s²/s₀² ~ F(d, d₀).

    The model is that of :func:`fit_f_dist`; the estimator is the likelihood of the variances
    themselves (Wright & Simon 2003, *Bioinformatics* 19(18):2448–2455, fit their random-variance
    model this way), not the moments of log s². It is used for the count family, where the two
    differ: a Pearson dispersion of integer counts on 1–2 df lacks the long left tail of log χ²_d
    that the moment estimator subtracts (measured on simulated running totals, d = 1: variance of
    log s² 1.75 against ψ′(½) = 4.93), so moments attribute all spread to sampling and return
    d₀ = ∞ even when the true dispersions vary (docs/METHODS.md §3). Zero and non-finite variances,
    and df = 0, are skipped; d₀ is searched in [0.1, ∞] (∞: every series gets s₀² = Σd s²/Σd).

    Examples
    --------
    >>> p = fit_f_dist_ml([1.0, 1.0, 1.0], 2)   # no spread at all: infinite prior df
    >>> p.df, round(p.scale, 6)
    (inf, 1.0)
    """
    from scipy import optimize

    s2 = np.atleast_1d(np.asarray(variances, dtype=float))
    d = np.broadcast_to(np.asarray(df, dtype=float), s2.shape)
    ok = np.isfinite(s2) & np.isfinite(d) & (d > 1e-15) & (s2 > 0)
    s2, d = s2[ok], d[ok]
    n = int(s2.size)
    if n < 2:
        return VariancePrior(df=0.0, scale=float(s2[0]) if n else math.nan, n_series=n)

    def nll(theta: np.ndarray) -> float:
        log_s0, inv_d0 = float(theta[0]), float(theta[1])
        return -float(np.sum(_f_logpdf(s2 * math.exp(-log_s0), d, inv_d0) - log_s0))

    start = fit_f_dist(s2, d)
    pooled = float(np.sum(d * s2) / np.sum(d))
    x0 = [math.log(start.scale), min(1.0 / start.df, 10.0)]
    res = optimize.minimize(nll, x0, method="L-BFGS-B", bounds=[(None, None), (0.0, 10.0)])
    at_inf = nll(np.array([math.log(pooled), 0.0]))  # the boundary's own optimum, in closed form
    if res.x[1] <= 1e-6 or at_inf <= res.fun:  # d₀ beyond a million: ∞
        return VariancePrior(df=math.inf, scale=pooled, n_series=n)
    return VariancePrior(df=1.0 / float(res.x[1]), scale=math.exp(float(res.x[0])), n_series=n)


def squeeze_var(variances: Any, df: Any, prior: VariancePrior) -> tuple[np.ndarray, np.ndarray]:
    """Posterior variances s̃² = (d₀s₀² + d·s²)/(d₀ + d) and their degrees of freedom d₀ + d.

    A series with d = 0 (or a missing s²) gets the prior variance on d₀ df; with an infinite d₀
    every series gets s₀² (on infinite df); without a prior (d₀ = 0) s² is returned unchanged.

    Examples
    --------
    >>> v, d = squeeze_var([0.0, 4.0], [1, 1], VariancePrior(df=3.0, scale=2.0))
    >>> v.round(6).tolist(), d.tolist()
    ([1.5, 2.5], [4.0, 4.0])
    """
    s2 = np.atleast_1d(np.asarray(variances, dtype=float))
    d = np.broadcast_to(np.asarray(df, dtype=float), s2.shape).astype(float)
    if not prior.pools:
        return s2.copy(), d.copy()
    d_eff = np.where(np.isfinite(s2), d, 0.0)
    s2_eff = np.where(np.isfinite(s2) & (d_eff > 0), s2, 0.0)
    if math.isinf(prior.df):
        return np.full(s2.shape, prior.scale), np.full(s2.shape, math.inf)
    post = (prior.df * prior.scale + d_eff * s2_eff) / (prior.df + d_eff)
    return post, prior.df + d_eff
