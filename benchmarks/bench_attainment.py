"""Benchmark: the attainment table of a 1,000,000 indicator-year panel vs a bare NumPy pass.

Three timings, each beside the same floor, interleaved, minimum of several repeats:

- ``core``: :func:`kpianalysis.analysis.tables.attainment_core` on 1,000,000 aligned float arrays —
  achieved, achievement rate (with the decrease variant), progress rate, reason codes, effect
  rating and rank. Arrays in, arrays out.
- ``panel``: :func:`kpianalysis.analysis.progress.assess_panel` — the four multi-year assessments
  (status index, anticipated progress, CAGR ratio, miss share) of 250,000 series of 4 years
  (1,000,000 observations), from a long DataFrame and a series table to a DataFrame of
  250,000 rows with categorical classes and reasons.
- ``table``: :func:`kpianalysis.analysis.tables.attainment_table` for the last fiscal year on a
  :class:`kpianalysis.data.dataset.Dataset` of 5,000 synthetic programmes × 50 KPIs × 4 years
  (1,000,000 observations with the loader's column schema, ``dataset.TABLE_DTYPES``, text
  columns included; increment-form KPIs converted to levels by the data layer beforehand):
  ``as_of``, key lookups, the year's core, costs since the baseline, plan-end targets, the
  panel assessments of the whole 4-year history, and the assembly of the 56-column DataFrame
  of 250,000 rows (string and categorical labels).

The floor is a bare NumPy pass over the 1,000,000 indicator-years: A / T, (A − b)/(T − b)
and the achieved comparison, with no reasons. Run:
``.venv/bin/python benchmarks/bench_attainment.py`` (about 20 s; ``--quick``: tiny sizes, seconds,
for the tests).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from kpianalysis.analysis.progress import assess_panel
from kpianalysis.analysis.tables import attainment_core, attainment_table
from kpianalysis.data.dataset import TABLE_DTYPES, Dataset, empty_table
from kpianalysis.data.levels import observation_levels
from machine import describe

YEARS = (2020, 2021, 2022, 2023)


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


def synthetic_dataset(n_programmes: int, kpis_each: int, seed: int = 20231) -> Dataset:
    """Programmes × KPIs × the 4 fiscal years of YEARS, in the tidy schema of the loader."""
    rng = np.random.default_rng(seed)
    pids = np.array([f"{10000 + i:05d}-prog" for i in range(n_programmes)], dtype=object)
    n_kpi = n_programmes * kpis_each
    n_years = len(YEARS)
    programmes = pd.DataFrame(
        {
            "programme_id": pids,
            "municipality_code": [p[:5] for p in pids],
            "municipality_ja": "市",
            "municipality_en": "City",
            "name_ja": "事業",
            "name_en": "Programme",
            "grant_type_ja": "推進交付金",
            "strategy_goals_ja": "",
            "overview_ja": "",
            "plan_start": YEARS[0],
            "plan_end": YEARS[-1],
            "sheet_fiscal_year": YEARS[-1],
            "source_file": "synthetic",
            "source_sha256": "0" * 64,
            "note": "",
        }
    ).astype(dict(TABLE_DTYPES["programmes"]))
    kpi_pid = np.repeat(pids, kpis_each)
    kpi_id = np.tile(np.arange(1, kpis_each + 1), n_programmes)
    baseline = np.round(rng.gamma(2.0, 100.0, n_kpi))
    baseline[rng.random(n_kpi) < 0.10] = np.nan
    baseline_year = pd.array(np.full(n_kpi, YEARS[0] - 1), dtype="Int64")
    baseline_year[np.isnan(baseline)] = pd.NA
    decrease = rng.random(n_kpi) < 0.2
    increment = rng.random(n_kpi) < 0.05
    indicators = pd.DataFrame(
        {
            "programme_id": kpi_pid,
            "indicator_id": kpi_id,
            "kpi_no": kpi_id,  # one measure per KPI (no compound cell)
            "measure_no": 0,
            "indicator_label": "①",
            "name_ja": "指標",
            "sub_label_ja": "",
            "name_en": "indicator",
            "unit": "人",
            "unit_text": "人",
            "kind": "flow",
            "direction": np.where(decrease, "decrease", "increase"),
            "target_form": np.where(increment, "increment", "level"),
            "actual_form": np.where(increment, "increment", "level"),
            "baseline_year": baseline_year,
            "baseline": baseline,
            "baseline_text": pd.Series(baseline).astype(str).to_numpy(),
            "trend_model": "ols",
            "component_no": pd.array([pd.NA] * n_kpi, dtype="Int64"),
            "component_ja": "",
            "subproject_ja": "",
        }
    ).astype(dict(TABLE_DTYPES["indicators"]))
    # Levels drift from the baseline towards a target 0.5–2 times it; some actuals missing,
    # some series negative (net migration), some crossing zero.
    start = np.where(np.isnan(baseline), rng.gamma(2.0, 100.0, n_kpi), baseline)
    goal = start * rng.uniform(0.5, 2.0, n_kpi)
    step = np.arange(1, n_years + 1) / n_years
    target = np.round(start[:, None] + (goal - start)[:, None] * step[None, :])
    noise = rng.normal(0.8, 0.4, (n_kpi, n_years))
    actual = np.round(start[:, None] + (goal - start)[:, None] * step[None, :] * noise)
    neg = rng.random(n_kpi) < 0.05
    actual[neg] -= 2 * start[neg, None]
    actual[rng.random((n_kpi, n_years)) < 0.05] = np.nan
    inc = increment[:, None]
    target = np.where(inc, np.round(target / n_years), target)
    actual = np.where(inc, np.round(actual / n_years), actual)
    observations = pd.DataFrame(
        {
            "programme_id": np.repeat(kpi_pid, n_years),
            "indicator_id": np.repeat(kpi_id, n_years),
            "fiscal_year": np.tile(np.array(YEARS), n_kpi),
            "target": target.ravel(),
            "actual": actual.ravel(),
            "target_bound": "",  # plain targets: no ceiling (以下) or floor (以上)
            "target_text": "",
            "actual_text": "",
            "achievement_printed": np.nan,
            "achievement_printed_text": "",
            "achievement_printed_tolerance": np.nan,
            "missing_reason_ja": "",
        }
    )
    # As load_programme does: increments become levels once, in the data layer (not timed).
    observations = observation_levels(indicators, observations).astype(
        dict(TABLE_DTYPES["observations"])
    )
    cost = np.round(rng.uniform(1e6, 5e7, n_programmes * n_years))
    finance = pd.DataFrame(
        {
            "programme_id": np.repeat(pids, n_years),
            "fiscal_year": np.tile(np.array(YEARS), n_programmes),
            "cost_yen": cost,
            "grant_yen": np.floor(cost / 2),
            "grant_rate": 0.5,
            "grant_rate_text": "1/2",
            "remark_ja": "",
            "note": "",
        }
    ).astype(dict(TABLE_DTYPES["finance"]))
    return Dataset(
        programmes=programmes,
        indicators=indicators,
        observations=observations,
        finance=finance,
        components=empty_table("components"),
        subprojects=empty_table("subprojects"),
        verdicts=empty_table("verdicts"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programmes", type=int, default=5_000)
    parser.add_argument("--kpis", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--quick", action="store_true", help="seconds: 20 programmes × 5 KPIs, one repeat"
    )
    args = parser.parse_args()
    if args.quick:
        args.programmes, args.kpis, args.repeats = 20, 5, 1

    n = args.programmes * args.kpis * len(YEARS)
    p = synthetic_panel(n)
    a, t, b, d = p["actual"], p["target"], p["baseline"], p["direction"]
    ds = synthetic_dataset(args.programmes, args.kpis)
    series = ds.indicators.assign(
        target_year=YEARS[-1], target=ds.indicators["baseline"].fillna(100.0) * 1.5
    )

    def panel() -> pd.DataFrame:
        return assess_panel(
            ds.observations,
            series,
            baseline="baseline",
            baseline_year="baseline_year",
            target="target",
            target_year="target_year",
            direction="direction",
        )

    def table() -> pd.DataFrame:
        # The cut is made at the edge (the build, a notebook); timed here as before.
        return attainment_table(ds.as_of(YEARS[-1]), YEARS[-1])

    # warm-up: imports, first calls, and a check that the table has one row per KPI
    attainment_core(a[:10], t[:10], b[:10], d[:10])
    assert len(table()) == args.programmes * args.kpis
    panel()

    runs = {
        "floor": lambda: floor_pass(a, t, b, d),
        "core": lambda: attainment_core(a, t, b, d),
        "panel": panel,
        "table": table,
    }
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(args.repeats):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    best = {k: min(v) for k, v in times.items()}
    floor = best["floor"]
    print(f"machine : {describe()}")
    print(
        f"panel   : {n:,} indicator-years ({args.programmes:,} programmes × {args.kpis} KPIs × "
        f"{len(YEARS)} years), {args.repeats} interleaved repeats (min)"
    )
    print(f"floor   : {floor * 1e3:8.2f} ms  bare NumPy: A/T, (A−b)/(T−b), achieved comparison")
    print(
        f"core    : {best['core'] * 1e3:8.2f} ms  {best['core'] / floor:6.2f} x  "
        "attainment_core: rates, reasons, effect, rank (arrays in, arrays out)"
    )
    print(
        f"panel   : {best['panel'] * 1e3:8.2f} ms  {best['panel'] / floor:6.2f} x  "
        "assess_panel: 4 multi-year assessments of 250k series (DataFrames in and out)"
    )
    print(
        f"table   : {best['table'] * 1e3:8.2f} ms  {best['table'] / floor:6.2f} x  "
        "attainment_table(ds, last year): everything, incl. as_of and the 56-column DataFrame"
    )
    print("aim     : table ≤ 8x the floor (issue 10)")


if __name__ == "__main__":
    main()
