"""Benchmark: vectorised core of the attainment table vs a bare NumPy pass over the same arrays.

A synthetic panel of 1,000,000 indicator-years (mixed directions, some missing actuals and
baselines, some zero targets and targets equal to the baseline, negative values) goes through
:func:`kpianalysis.attainment.attainment_core` — achieved, achievement rate (with the decrease
variant), progress rate, reason codes, effect rating and rank — and through the floor: just
A / T, (A − b)/(T − b) and the achieved comparison with no reasons. Runs are interleaved and the
minimum of several repeats is kept. Run: ``.venv/bin/python benchmarks/bench_attainment.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from kpianalysis.attainment import attainment_core
from machine import cpu_model


def synthetic_panel(n: int, seed: int = 20231) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    baseline = rng.gamma(2.0, 100.0, n)
    target = baseline * rng.uniform(0.5, 2.0, n)
    actual = baseline + (target - baseline) * rng.normal(0.8, 0.5, n)
    # Edge cases the reasons must catch, a few percent each.
    actual[rng.random(n) < 0.05] = np.nan
    baseline[rng.random(n) < 0.10] = np.nan
    target[rng.random(n) < 0.01] = 0.0
    same = rng.random(n) < 0.01
    target[same] = baseline[same]
    neg = rng.random(n) < 0.05
    actual[neg] = -actual[neg]
    direction = np.where(rng.random(n) < 0.2, -1.0, 1.0)
    return {"actual": actual, "target": target, "baseline": baseline, "direction": direction}


def floor_pass(a: np.ndarray, t: np.ndarray, b: np.ndarray, d: np.ndarray) -> tuple:
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = a / t
        prog = (a - b) / (t - b)
    ach = d * (a - t) >= 0
    return rate, prog, ach


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    p = synthetic_panel(args.n)
    a, t, b, d = p["actual"], p["target"], p["baseline"], p["direction"]
    attainment_core(a[:10], t[:10], b[:10], d[:10])  # warm-up: imports, first calls

    core_times, floor_times = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        floor_pass(a, t, b, d)
        floor_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        attainment_core(a, t, b, d)
        core_times.append(time.perf_counter() - t0)

    core, floor = min(core_times), min(floor_times)
    print(f"machine : {platform.platform()} | {cpu_model()} | {os.cpu_count()} cores")
    print(f"python  : {platform.python_version()} | numpy {np.__version__}")
    print(f"panel   : {args.n:,} indicator-years, {args.repeats} interleaved repeats (min)")
    print(f"floor   : {floor * 1e3:8.2f} ms  (A/T, (A−b)/(T−b), achieved comparison)")
    print(f"core    : {core * 1e3:8.2f} ms  (attainment_core: rates, reasons, effect, rank)")
    print(f"ratio   : {core / floor:8.2f} x  (aim ≤ 4x)")


if __name__ == "__main__":
    main()
