"""Calibration of what the trends reports run: hold out the last year of simulated series.

Two seeded simulated panels from known processes, in the shapes the sheets have (values rounded
to the printed unit):

* a **reference panel** (lengths 3–6) from which the priors are estimated per family with the
  function ``kpianalysis estimate-prior`` uses
  (:func:`kpianalysis.analysis.reference_prior.family_priors`) — as a report's prior is
  estimated from other programmes, never from its own;
* a **test panel**: per kind and per number of fitted points (3, 4, 5), series whose next year
  is hidden; each is fitted **alone** against the reference priors (the report path:
  default model for the kind and unit, its family's prior, the report's display rule) and by
  the alternatives on the same series: ``unpooled`` (the report's model, no prior) and
  ``per_series`` (OLS on the levels, t on n − 2 df).

Kinds: ``cumulative`` (running totals; increments Poisson or negative binomial, dispersion
max(1, 1.5·8/χ²₈) per series), ``stock`` (log-normal around log-linear growth), ``flow``
(Gaussian around a line, unit 人), ``average`` (Gaussian, printed to 0.1), ``percent``
(logit-normal, printed to 0.1 %); residual variances vary across series as Smyth's model has
it (σ² = σ₀²·8/χ²₈). The scenario ``flow_shift``: flows whose level jumps by 3σ in the last
fitted year (misspecified on purpose; not expected to be calibrated).

Coverage counts the series for which a method shows an interval (the share is printed): a
hidden value is inside the central 1 − α prediction interval when its predictive CDF lies within
[α/2, 1 − α/2] (for counts: between the ends whose tail masses are nearest α/2, as the report's
count intervals are; the report's PI adds the mean's CI, which can only widen it). Exact lines:
``coverage95 <method> <kind> <points> <percent>``, ``coverage80 ...``,
``width_ratio_3pt <method> <kind> <ratio>`` (median PI width at three points relative to the
per-series OLS interval, on series where both exist), ``brier <method> <kind> <score>
<base rate score>`` and ``mc_se <series> <se95> <se80>``: the binomial standard error of one
coverage figure at its nominal level. The default, 1,600 series per cell, puts it at 1.0 point
at 80 % (0.5 at 95 %), so "within 3 points of nominal" is a claim three standard errors wide; at
400 series (SE 2.0) a cell 3 points off is as likely noise as bias.

Run: ``.venv/bin/python benchmarks/bench_calibration.py [--series N] [--seed S] [--quick]``
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pandas as pd
from scipy import special

from kpianalysis.analysis.projection import interval_shown
from kpianalysis.analysis.reference_prior import (
    ReferencePrior,
    family_prior,
    family_priors,
)
from kpianalysis.analysis.trends import TrendFit, default_model, fit_trend, pool_key
from machine import describe

KINDS = ("cumulative", "stock", "flow", "average", "percent", "flow_shift")
UNIT = {"cumulative": "件", "stock": "人", "flow": "人", "average": "回", "percent": "%"}
POINTS = (3, 4, 5)
METHODS = ("report", "unpooled", "per_series")


def _sigma2(rng: np.random.Generator, s0: float) -> float:
    return float(s0 * s0 * 8.0 / rng.chisquare(8.0))


def simulate(kind: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """``n`` values in the printed unit (the last one is the one hidden) and the target."""
    t = np.arange(n, dtype=float)
    if kind == "cumulative":
        rate = float(np.exp(rng.normal(math.log(4.0), 0.6)))
        phi = max(1.0, 1.5 * 8.0 / rng.chisquare(8.0))
        if phi > 1.0:
            inc = rng.negative_binomial(rate / (phi - 1.0), 1.0 / phi, n - 1)
        else:
            inc = rng.poisson(rate, n - 1)
        values = int(rng.integers(0, 30)) + np.concatenate([[0], np.cumsum(inc)])
        return values.astype(float), float(values[-2] + rate * rng.uniform(0.5, 1.5))
    if kind == "stock":
        mu = rng.normal(math.log(500), 0.8) + rng.normal(0.05, 0.1) * t
        values = np.round(np.exp(mu + rng.normal(0, math.sqrt(_sigma2(rng, 0.15)), n)))
        return np.maximum(values, 1.0), float(np.exp(mu[-1] + rng.normal(0, 0.15)))
    if kind == "percent":
        mu = rng.normal(0.0, 1.0) + rng.normal(0.1, 0.1) * t
        e = rng.normal(0, math.sqrt(_sigma2(rng, 0.2)), n)
        values = np.round(100 * special.expit(mu + e), 1)
        return values, float(100 * special.expit(mu[-1] + rng.normal(0, 0.2)))
    scale, digits = (30.0, 0) if kind != "average" else (2.0, 1)
    sigma = math.sqrt(_sigma2(rng, scale))
    level = rng.normal(0, 200) if kind != "average" else rng.normal(20, 5)
    mu = level + rng.normal(0, scale) * t
    if kind == "flow_shift":
        mu[-2:] += 3.0 * sigma  # the level jumps in the last fitted year and stays
    values = np.round(mu + rng.normal(0, sigma, n), digits)
    return values, float(mu[-1] + rng.normal(0, scale))


def _model(kind: str, values: np.ndarray) -> tuple[str, str, str]:
    base = "flow" if kind == "flow_shift" else kind
    ind_kind = "average" if base == "percent" else base
    model = default_model(ind_kind, values, UNIT[base])
    return model, pool_key(model, UNIT[base], ind_kind), ind_kind


def reference_prior(n_per_kind: int, seed: int) -> ReferencePrior:
    """Priors from a separate simulated reference panel (lengths 3–6), as estimate-prior does."""
    rng = np.random.default_rng(seed)
    groups: dict[str, tuple[list[float], list[float]]] = {}
    for kind in KINDS[:-1]:
        for _ in range(n_per_kind):
            values, _ = simulate(kind, int(rng.integers(3, 7)), rng)
            model, key, _ = _model(kind, values)
            fit = fit_trend(np.arange(values.size), values, model=model)
            if fit.s2 is not None and fit.df_resid and math.isfinite(fit.s2):
                groups.setdefault(key, ([], []))[0].append(fit.s2)
                groups[key][1].append(float(fit.df_resid))
    return ReferencePrior(families=family_priors(groups), provenance={"simulated": seed})


def _inside(fit: TrendFit, hidden: float, year: float, counts: bool) -> tuple[bool, bool]:
    """Whether the hidden value lies inside the 95 % and the 80 % prediction interval."""

    def cdf(v: float) -> float:
        p = fit.prob_reach(v, year, direction="decrease")  # P(Y ≤ v)
        assert p is not None
        return p

    if counts:
        # The count PI's ends have tail masses nearest α/2 (trends._count_quantiles): the lower
        # end L minimises |F(s − 1) − α/2|, so h ≥ L ⇔ |F(h − 1) − α/2| ≤ |F(h) − α/2|; the
        # upper end U minimises |F(s) − (1 − α/2)|, so h ≤ U ⇔ |F(h − 1) − c| > |F(h) − c|.
        below, at = cdf(hidden - 1), cdf(hidden)

        def inside(a: float) -> bool:
            lo, c = a / 2, 1 - a / 2
            return abs(below - lo) <= abs(at - lo) and abs(below - c) > abs(at - c)

        return inside(0.05), inside(0.20)
    f_h = cdf(hidden)
    return 0.025 <= f_h <= 0.975, 0.1 <= f_h <= 0.9


def _width(fit: TrendFit, year: float) -> float:
    row = fit.predict(year, alpha=0.05).iloc[0]
    return float(row["pi_high"] - row["pi_low"])


def evaluate(
    series: int, seed: int, reference: ReferencePrior, widths: int, kinds: list[str]
) -> pd.DataFrame:
    """One row per (series, method) of the test panel: inside 95 %/80 %, width, prob, outcome."""
    rows = []
    for kind in kinds:
        # One stream per kind: a kind's series are the same whichever kinds are run.
        rng = np.random.default_rng([seed, KINDS.index(kind)])
        for points in POINTS:
            for i in range(series):
                values, target = simulate(kind, points + 1, rng)
                x, y = np.arange(points, dtype=float), values[:-1]
                hidden, year = float(values[-1]), float(points)
                model, key, _ = _model(kind, y)
                prior, _ = family_prior(reference, key)
                fits = {
                    "report": fit_trend(x, y, model=model, prior=prior),
                    "unpooled": fit_trend(x, y, model=model),
                    "per_series": fit_trend(x, y, model="ols"),
                }
                for method, fit in fits.items():
                    shown = fit.has_interval if method == "per_series" else interval_shown(fit)
                    row = {"kind": kind, "points": points, "series": i, "method": method}
                    if shown:
                        counts = fit.model in ("poisson", "poisson_increments")
                        in95, in80 = _inside(fit, hidden, year, counts)
                        row |= {
                            "in95": in95,
                            "in80": in80,
                            "prob": fit.prob_reach(target, year),
                            "outcome": float(hidden >= target),
                        }
                        if points == 3 and i < widths:
                            row["width"] = _width(fit, year)
                    rows.append(row)
    return pd.DataFrame(rows)


def summarise(res: pd.DataFrame, series: int) -> None:
    for method in METHODS:
        m = res[res["method"] == method]
        for (kind, points), g in m.groupby(["kind", "points"], sort=False):
            ok = g.dropna(subset=["in95"])
            if not len(ok):
                print(f"coverage95 {method} {kind} {points} none (no interval for {series})")
                continue
            print(f"coverage95 {method} {kind} {points} {100 * ok['in95'].mean():.1f}")
            print(f"coverage80 {method} {kind} {points} {100 * ok['in80'].mean():.1f}")
            if method == "report":
                print(f"  intervals for {len(ok)}/{len(g)} series")
    three = res[(res["method"] == "per_series") & (res["points"] == 3)]
    ref = three.set_index(["kind", "series"])["width"]
    for method in ("report", "unpooled"):
        m = res[(res["method"] == method) & (res["points"] == 3)].dropna(subset=["width"])
        for kind, g in m.groupby("kind", sort=False):
            base = ref.reindex(pd.MultiIndex.from_arrays([g["kind"], g["series"]])).to_numpy()
            ratio = g["width"].to_numpy() / base
            ratio = ratio[np.isfinite(ratio) & (base > 0)]
            if ratio.size:
                print(f"width_ratio_3pt {method} {kind} {np.median(ratio):.3f} (n={ratio.size})")
    for kind, g in res[res["method"] == "report"].dropna(subset=["prob"]).groupby("kind"):
        brier = float(np.mean((g["prob"] - g["outcome"]) ** 2))
        base = float(np.mean((g["outcome"].mean() - g["outcome"]) ** 2))
        print(f"brier report {kind} {brier:.4f} {base:.4f}")
    # Monte-Carlo error of one coverage figure: binomial at the nominal level.
    se95, se80 = (100 * math.sqrt(p * (1 - p) / series) for p in (0.95, 0.80))
    print(f"mc_se {series} {se95:.2f} {se80:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=1600, help="test series per kind and length")
    ap.add_argument("--reference", type=int, default=3000, help="reference series per kind")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    ap.add_argument("--quick", action="store_true", help="tiny sizes (seconds): a smoke test")
    args = ap.parse_args()
    if args.quick:
        args.series, args.reference = 4, 12
    t0 = time.perf_counter()
    reference = reference_prior(args.reference, args.seed + 1000)
    for key, fam in sorted(reference.families.items()):
        print(f"prior {key}: n_series={fam.n_series} d0={fam.df:.2f} s0^2={fam.scale:.4g}")
    res = evaluate(args.series, args.seed, reference, min(args.series, 150), args.kinds)
    summarise(res, args.series)
    print(
        f"series {args.series} per kind and length, reference {args.reference} per kind, "
        f"seed {args.seed}, {time.perf_counter() - t0:.1f} s"
    )
    print(f"machine {describe()}")


if __name__ == "__main__":
    main()
