"""Benchmark: vectorised batch OLS trends against a statsmodels loop, on a long panel.

Builds a seeded long DataFrame of ``--series`` series (default 100,000) of 3–10 fiscal years each
(random years, 10 % of values missing), times
:func:`kpianalysis.analysis.trends.fit_linear_trends` on all of them, and times a plain
statsmodels loop (``sm.OLS`` per series on the centred year, reading slope,
intercept, SEs, 95 % CI and residual SD) on a random subsample of ``--sample`` series. The loop's
total for all series is extrapolated from its per-series time, and the loop is given its series
already split (the grouping is not timed for it), so the ratio is conservative.

The batch path is :func:`kpianalysis.analysis.trends.linear_fit_core`, the one home of the OLS
arithmetic that ``fit_trend`` also calls (each series' reporting resolution and variance floor
included in the timing).

Run: ``.venv/bin/python benchmarks/bench_trends.py [--series N] [--sample M] [--seed S] [--quick]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd
import scipy
import statsmodels
import statsmodels.api as sm

from kpianalysis.analysis.trends import fit_linear_trends
from machine import cpu_model


def build_panel(n_series: int, seed: int) -> pd.DataFrame:
    """Long frame: city, indicator, fiscal_year, actual; 3–10 distinct years per series."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 11, size=n_series)
    sid = np.repeat(np.arange(n_series), lengths)
    # Distinct years per series: random offsets ranked within each series, from 2010 on.
    pos = np.arange(sid.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    years = 2010 + pos * 2 - rng.integers(0, 2, size=sid.size)  # gaps = missing years
    level = rng.normal(100, 30, size=n_series)[sid]
    slope = rng.normal(0, 5, size=n_series)[sid]
    y = level + slope * (years - 2015) + rng.normal(0, 8, size=sid.size)
    y[rng.random(sid.size) < 0.1] = np.nan
    df = pd.DataFrame(
        {"city": sid // 50, "indicator_id": sid % 50, "fiscal_year": years, "actual": y}
    )
    return df.sample(frac=1.0, random_state=seed, ignore_index=True)  # rows in no special order


def statsmodels_loop(parts: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[float, ...]]:
    out = []
    for x, y in parts:
        ok = ~np.isnan(y)
        x, y = x[ok], y[ok]
        if x.size < 3:  # no interval; the batch path reports these with a reason
            continue
        X = sm.add_constant(x - x.mean(), has_constant="add")
        res = sm.OLS(y, X).fit()
        ci = res.conf_int(0.05)
        out.append((*res.params, *res.bse, ci[1, 0], ci[1, 1], np.sqrt(res.scale)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=100_000, help="series in the panel")
    ap.add_argument("--sample", type=int, default=2_000, help="series timed in the loop")
    ap.add_argument("--seed", type=int, default=20240401)
    ap.add_argument("--repeat", type=int, default=3, help="batch timings (best is kept)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes (seconds): a smoke test")
    args = ap.parse_args()
    if args.quick:
        args.series, args.sample, args.repeat = 2_000, 50, 1

    print("machine:", platform.platform(), "|", cpu_model(), "|", os.cpu_count(), "cores")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"scipy {scipy.__version__}, statsmodels {statsmodels.__version__}"
    )
    t0 = time.perf_counter()
    df = build_panel(args.series, args.seed)
    t_build = time.perf_counter() - t0
    print(f"panel: {args.series:,} series, {len(df):,} rows (built in {t_build:.2f} s)")

    by = ("city", "indicator_id")
    batch_times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        out = fit_linear_trends(df, by=by)
        batch_times.append(time.perf_counter() - t0)
    t_batch = min(batch_times)
    assert len(out) == args.series

    # The loop gets its series pre-split (not timed), so its cost is the fitting alone.
    rng = np.random.default_rng(args.seed + 1)
    key = df["city"].to_numpy() * 50 + df["indicator_id"].to_numpy()
    chosen = rng.choice(args.series, size=min(args.sample, args.series), replace=False)
    sub = df[np.isin(key, chosen)]
    parts = [
        (g["fiscal_year"].to_numpy(float), g["actual"].to_numpy(float))
        for _, g in sub.groupby(list(by), sort=True)
    ]
    t0 = time.perf_counter()
    loop_rows = statsmodels_loop(parts)
    t_loop_sample = time.perf_counter() - t0
    per_series = t_loop_sample / len(parts)
    t_loop_all = per_series * args.series

    # Sanity: the loop's slopes equal the batch slopes on the subsample.
    sel = out.assign(_k=out["city"] * 50 + out["indicator_id"])
    sel = sel[sel["_k"].isin(chosen) & (sel["n"] >= 3)].sort_values(["city", "indicator_id"])
    np.testing.assert_allclose(sel["slope"], [r[1] for r in loop_rows], rtol=1e-9)

    print(
        f"batch fit_linear_trends, all {args.series:,} series: {t_batch:.3f} s "
        f"(best of {args.repeat}; {t_batch / args.series * 1e6:.2f} µs/series)"
    )
    print(
        f"statsmodels loop, measured on a random {len(parts):,}-series subsample: "
        f"{t_loop_sample:.2f} s = {per_series * 1e6:.0f} µs/series "
        f"→ extrapolated to {args.series:,} series: {t_loop_all:.1f} s "
        "(series split beforehand, untimed; series left with < 3 points are skipped)"
    )
    print(f"speed ratio (statsmodels loop / batch): {t_loop_all / t_batch:,.0f}×")


if __name__ == "__main__":
    main()
