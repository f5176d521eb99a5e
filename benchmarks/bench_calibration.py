"""Calibration of the trend models: hold out the last year of synthetic series, predict it.

A seeded synthetic panel from known processes, in the shapes the sheets have (3–6 annual points,
the first one a baseline):

``cum_poisson``
    running totals whose yearly increments are Poisson with a constant rate (the total trends up);
``cum_overdispersed``
    the same with negative-binomial increments, variance 3 × mean;
``stock_loglinear``
    strictly positive stocks with log-linear growth and log-normal noise;
``flow_gaussian``
    flows (may be negative) on a straight line with Gaussian noise.

Within a process the residual variances vary across series as Smyth's (2004) model assumes
(σ² = σ₀² d₀ / χ²(d₀), d₀ = 8). The last year of each series is hidden, each method predicts it
from the rest, and this prints per method: coverage of the 95 % and 80 % prediction intervals,
the median width relative to the per-series interval (all series, and those fitted on three
points), and the Brier score of ``prob_reach`` (target = the true mean of the hidden year times a
random factor) beside the base-rate forecast. Methods:

``pooled``     the default models with the empirical-Bayes moderated variance (the shipped default);
``unpooled``   the default models, each series alone;
``per_series`` OLS on the levels, each series alone (t on n − 2 df): the naive baseline.

Intervals exist only for series whose fit has one (and, like the report, at least 2 residual df
after pooling for the Gaussian models); coverage counts those, and the share of series with an
interval is printed. Exact lines: ``coverage95 <method> <percent>`` and
``width_ratio <method> <ratio>``.

Run: ``.venv/bin/python benchmarks/bench_calibration.py [--series N] [--seed S]``
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pandas as pd

from kpianalysis.analysis.projection import estimate_priors, interval_shown
from kpianalysis.analysis.shrinkage import NO_PRIOR
from kpianalysis.analysis.trends import default_model, fit_trend, pool_key
from machine import describe

PROCESSES = ("cum_poisson", "cum_overdispersed", "stock_loglinear", "flow_gaussian")
KIND = {
    "cum_poisson": "cumulative",
    "cum_overdispersed": "cumulative",
    "stock_loglinear": "stock",
    "flow_gaussian": "flow",
}


def _scaled_inv_chi2(rng: np.random.Generator, s02: float, d0: float) -> float:
    return float(s02 * d0 / rng.chisquare(d0))


def simulate(process: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """Years, values (the last one hidden later) and the true mean of the last year."""
    n = int(rng.integers(3, 7))
    years = np.arange(2020, 2020 + n, dtype=float)
    t = np.arange(n, dtype=float)
    if process.startswith("cum"):
        rate = float(np.exp(rng.normal(math.log(4.0), 0.6)))
        level0 = float(rng.integers(0, 30))
        if process == "cum_poisson":
            inc = rng.poisson(rate, n - 1)
        else:
            phi = 3.0
            inc = rng.negative_binomial(rate / (phi - 1), 1 / phi, n - 1)
        values = level0 + np.concatenate([[0], np.cumsum(inc)])
        return years, values.astype(float), float(values[-2] + rate)
    if process == "stock_loglinear":
        sigma2 = _scaled_inv_chi2(rng, 0.15**2, 8.0)
        a, b = rng.normal(math.log(500), 0.8), rng.normal(0.05, 0.1)
        mu = a + b * t
        values = np.exp(mu + rng.normal(0, math.sqrt(sigma2), n))
        return years, values, float(np.exp(mu[-1]))
    sigma2 = _scaled_inv_chi2(rng, 30.0**2, 8.0)
    a, b = rng.normal(0, 200), rng.normal(0, 40)
    mu = a + b * t
    return years, mu + rng.normal(0, math.sqrt(sigma2), n), float(mu[-1])


def build_panel(n_per_process: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    panel = []
    for process in PROCESSES:
        for _ in range(n_per_process):
            years, values, true_last = simulate(process, rng)
            # The "plan-end target": the true mean of the hidden year, off by a random factor.
            target = true_last * float(np.exp(rng.normal(0, 0.15))) + rng.normal(0, 20) * (
                process == "flow_gaussian"
            )
            panel.append(
                {
                    "process": process,
                    "kind": KIND[process],
                    "years": years,
                    "values": values,
                    "target": target,
                }
            )
    return panel


def evaluate(panel: list[dict]) -> pd.DataFrame:
    """One row per (series, method): hidden value, interval bounds and prob_reach."""
    rows = []
    first = []
    for i, s in enumerate(panel):
        x, y = s["years"][:-1], s["values"][:-1]
        model = default_model(s["kind"], y)
        fit = fit_trend(x, y, model=model)
        first.append((i, model, fit, pool_key(model, "u", s["kind"])))
    priors = estimate_priors([(key, fit) for _, _, fit, key in first])
    for i, model, alone, key in first:
        s = panel[i]
        x, y = s["years"][:-1], s["values"][:-1]
        hidden_year, hidden = float(s["years"][-1]), float(s["values"][-1])
        prior = priors.get(key, NO_PRIOR)
        pooled = fit_trend(x, y, model=model, prior=prior) if prior.pools else alone
        naive = fit_trend(x, y, model="ols")
        for method, fit in (("pooled", pooled), ("unpooled", alone), ("per_series", naive)):
            row = {
                "series": i,
                "process": s["process"],
                "n_fit": len(x),
                "method": method,
                "hidden": hidden,
                "outcome": float(hidden >= s["target"]),
            }
            if interval_shown(fit) if method != "per_series" else fit.has_interval:
                p95 = fit.predict(hidden_year, alpha=0.05).iloc[0]
                p80 = fit.predict(hidden_year, alpha=0.20).iloc[0]
                row |= {
                    "lo95": p95["pi_low"],
                    "hi95": p95["pi_high"],
                    "lo80": p80["pi_low"],
                    "hi80": p80["pi_high"],
                    "prob": fit.prob_reach(s["target"], hidden_year),
                }
            rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["priors"] = priors
    return out


def summarise(res: pd.DataFrame) -> None:
    ok = res.dropna(subset=["lo95"]).copy()
    ok["in95"] = (ok["hidden"] >= ok["lo95"]) & (ok["hidden"] <= ok["hi95"])
    ok["in80"] = (ok["hidden"] >= ok["lo80"]) & (ok["hidden"] <= ok["hi80"])
    ok["w95"] = ok["hi95"] - ok["lo95"]
    ref = ok[ok["method"] == "per_series"].set_index("series")["w95"]
    ok["ratio"] = ok["w95"] / ok["series"].map(ref)
    n_series = res["series"].nunique()
    for method in ("pooled", "unpooled", "per_series"):
        m = ok[ok["method"] == method]
        both = m[np.isfinite(m["ratio"]) & (m["series"].map(ref) > 0)]
        three = both[both["n_fit"] == 3]
        base = m["outcome"].mean()
        brier = float(np.mean((m["prob"] - m["outcome"]) ** 2))
        brier_base = float(np.mean((base - m["outcome"]) ** 2))
        se95 = 100 * math.sqrt(0.05 * 0.95 / max(len(m), 1))
        print(f"coverage95 {method} {100 * m['in95'].mean():.1f}")
        print(f"coverage80 {method} {100 * m['in80'].mean():.1f}")
        print(f"width_ratio {method} {both['ratio'].median():.3f}")
        print(f"width_ratio_3pt {method} {three['ratio'].median():.3f}")
        print(
            f"  {method}: intervals for {len(m)}/{n_series} series (binomial SE of coverage95 "
            f"{se95:.1f} points); Brier {brier:.4f} vs base rate {brier_base:.4f}"
        )
        for process, g in m.groupby("process"):
            print(
                f"  {method} {process:18s} n={len(g):4d} cov95 {100 * g['in95'].mean():5.1f} "
                f"cov80 {100 * g['in80'].mean():5.1f}"
            )
    for key, p in sorted(res.attrs["priors"].items()):
        print(f"prior {key}: n_series={p.n_series} d0={p.df:.2f} s0^2={p.scale:.4g}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=150, help="series per process (default 150)")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    t0 = time.perf_counter()
    res = evaluate(build_panel(args.series, args.seed))
    summarise(res)
    print(f"series {4 * args.series}, seed {args.seed}, {time.perf_counter() - t0:.1f} s")
    print(f"machine {describe()}")


if __name__ == "__main__":
    main()
