"""Tests of ``progress.assess_panel``: the panel path equals the one-series functions.

Reference values: the seed series of the Handa City FY2023 sheet
(/work/shared/seed/000_b0c93ac26c5b58c3.txt) and the worked CAGR check of METHODS.md §2
(b 4 in FY2020, actual 9 in FY2023, target 13 in FY2023 → R 0.644929, moderate progress).
The randomized test compares every row of ragged random panels with
:func:`kpianalysis.analysis.progress.assess_series`: both run the same ``*_core`` kernels (one
home per rule), so the test guards the panel's plumbing — keys, blocks, unsorted and ragged
input — and keeps the two entry points from drifting apart again.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kpianalysis.analysis import progress
from kpianalysis.analysis.progress import OUTCOMES, assess_panel, assess_series
from kpianalysis.errors import ParameterError

METHODS = {
    "status": ("status_index", "status_class", "status_reason"),
    "anticipated": ("anticipated_progress", "anticipated_class", "anticipated_reason"),
    "cagr": ("cagr_ratio", "cagr_class", "cagr_reason"),
    "miss_share": ("miss_share", "miss_share_class", "miss_share_reason"),
}
DETAILS = {
    ("status", "expected_share"): "expected_share",
    ("anticipated", "projection"): "anticipated_projection",
    ("anticipated", "rule"): "anticipated_rule",
    ("cagr", "cagr_actual"): "cagr_actual",
    ("cagr", "cagr_required"): "cagr_required",
    ("miss_share", "projection"): "miss_projection",
    ("miss_share", "slope_per_year"): "slope_per_year",
}


def _seed_panel() -> tuple[pd.DataFrame, pd.DataFrame]:
    # ① b 4 (FY2020), actuals 4, 7, 9, target 13 (FY2023); ② no baseline, ▲468, ▲127, 83,
    # target 3,000 (FY2023)
    obs = pd.DataFrame(
        {
            "indicator_id": [1, 1, 1, 2, 2, 2],
            "fiscal_year": [2021, 2022, 2023] * 2,
            "actual": [4.0, 7.0, 9.0, -468.0, -127.0, 83.0],
        }
    )
    series = pd.DataFrame(
        {
            "indicator_id": [1, 2, 3],
            "baseline": [4.0, np.nan, np.nan],
            "baseline_year": pd.array([2020, pd.NA, pd.NA], dtype="Int64"),
            "target": [13.0, 3000.0, 5.0],
            "target_year": pd.array([2023, 2023, 2023], dtype="Int64"),
            "direction": ["increase"] * 3,
        }
    )
    return obs, series


def test_seed_series_hand_values():
    obs, series = _seed_panel()
    r = assess_panel(
        obs,
        series,
        by=["indicator_id"],
        baseline="baseline",
        baseline_year="baseline_year",
        target="target",
        target_year="target_year",
        direction="direction",
    )
    assert list(r["indicator_id"]) == [1, 2, 3]
    # ① CS = (9 − 4)/(13 − 4) = 5/9, in the target year: missed (no time left to be behind);
    # CAGR ratio 0.644929 (METHODS §2) moderate; AP observed at the target year = 5/9;
    # miss share (13 − 9)/(13 − 9) = 1 (no years left)
    assert r["status_index"][0] == 5 / 9 and r["status_class"][0] == "target_missed"
    assert round(r["cagr_ratio"][0], 6) == 0.644929
    assert r["cagr_class"][0] == "moderate_progress"
    assert r["anticipated_progress"][0] == 5 / 9
    assert r["miss_share"][0] == 1.0
    # ② level-based status (83 + 468)/(3,000 + 468); CAGR not applicable (sign change)
    assert r["status_index"][1] == 551 / 3468
    assert r["cagr_class"][1] == "not_applicable_sign_change"
    assert r["cagr_reason"][1] == "sign_change" and math.isnan(r["cagr_ratio"][1])
    assert r["base_source"][1] == "first_actual" and r["base_year"][1] == 2021
    # ③ has no observation at all: a row that says so
    assert r["n_points"][2] == 0
    assert set(r.loc[2, ["status_class", "cagr_class", "miss_share_class"]]) == {
        "insufficient_data"
    }
    assert r["status_reason"][2] == "insufficient_points"
    assert r["status_class"].cat.categories.tolist() == list(OUTCOMES)


def test_scalar_attributes_groups_from_observations_and_order():
    # METHODS §2 worked check again, rows shuffled and the series read from the observations
    obs = pd.DataFrame(
        {
            "kpi": ["b", "a", "a", "b", "a"],
            "fiscal_year": [2021, 2023, 2021, 2022, 2022],
            "actual": [1.0, 9.0, 4.0, 2.0, 7.0],
        }
    )
    r = assess_panel(obs, by="kpi", baseline=4, baseline_year=2020, target=13, target_year=2023)
    assert list(r["kpi"]) == ["b", "a"]  # first appearance
    assert round(r["cagr_ratio"][1], 6) == 0.644929
    # b: 1 → 2 with the baseline 4 (FY2020) first: 4, 1, 2 → CS (2 − 4)/(13 − 4) ≤ 0
    assert r["status_class"][0] == "no_progress"


def test_refusals():
    obs, series = _seed_panel()
    dup = pd.concat([obs, obs.iloc[[0]]], ignore_index=True)
    with pytest.raises(ParameterError, match="one value per fiscal year"):
        assess_panel(dup, by=["indicator_id"])
    with pytest.raises(ParameterError, match="no column"):
        assess_panel(obs, series, by=["indicator_id"], target="goal")
    with pytest.raises(ParameterError):
        assess_panel(obs, by=["indicator_id"], direction="up")
    with pytest.raises(ParameterError, match="once"):
        assess_panel(obs, pd.concat([series, series]), by=["indicator_id"])


def _random_panel(rng: np.random.Generator, n_series: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    attrs = []
    for i in range(n_series):
        n = int(rng.integers(0, 9))  # 0–8 observed years
        years = np.sort(rng.choice(np.arange(2012, 2028), size=n, replace=False))
        kind = rng.integers(0, 5)
        if kind == 0:  # positive, trending
            vals = 100 * rng.uniform(0.5, 1.5) + rng.normal(5, 10, n).cumsum()
        elif kind == 1:  # negative (net out-migration)
            vals = -rng.uniform(10, 500, n)
        elif kind == 2:  # sign-changing, sometimes touching zero
            vals = rng.integers(-3, 4, n).astype(float) * 10
        elif kind == 3:  # whole numbers, ties with targets likely
            vals = rng.integers(1, 20, n).astype(float)
        else:  # wide range of magnitudes
            vals = rng.uniform(0.1, 10, n) * 10.0 ** rng.integers(-3, 6)
        vals[rng.random(n) < 0.15] = np.nan
        if rng.random() < 0.5:  # unsorted rows
            perm = rng.permutation(n)
            years, vals = years[perm], vals[perm]
        # the plan's targets of those years (its trajectory): none, or a path with some gaps
        if rng.random() < 0.5:
            plan = np.full(n, np.nan)
        else:
            plan = np.sort(rng.uniform(-50, 300, n)) * rng.choice([1, -1]) + np.zeros(n)
            plan[rng.random(n) < 0.1] = np.nan
        rows += [
            (f"p{i % 7}", i, int(yr), float(v), float(pv))
            for yr, v, pv in zip(years, vals, plan, strict=True)
        ]
        first = float(vals[0]) if n else 10.0
        b = rng.choice([np.nan, first if not math.isnan(first) else 5.0, rng.uniform(-50, 200)])
        b_year = -1 if rng.random() < 0.25 else int(rng.integers(2010, 2026))
        if rng.random() < 0.3 and n:
            b_year = int(years.min()) - 1
        t_pick = rng.integers(0, 5)
        if t_pick == 0:
            tgt = np.nan
        elif t_pick == 1:
            tgt = b  # equal to the baseline
        elif t_pick == 2 and n and not np.isnan(vals).all():
            tgt = float(np.nanmax(vals))  # met or just met
        else:
            tgt = float(rng.choice([rng.uniform(-100, 300), rng.integers(-5, 30)]))
        t_year = -1 if rng.random() < 0.15 else int(rng.integers(2011, 2032))
        attrs.append(
            {
                "programme_id": f"p{i % 7}",
                "indicator_id": i,
                "baseline": b,
                "baseline_year": pd.NA if b_year < 0 else b_year,
                "target": tgt,
                "target_year": pd.NA if t_year < 0 else t_year,
                "direction": "decrease" if rng.random() < 0.35 else "increase",
            }
        )
    obs = pd.DataFrame(
        rows, columns=["programme_id", "indicator_id", "fiscal_year", "actual", "plan"]
    )
    obs = obs.sample(frac=1.0, random_state=int(rng.integers(1 << 30))).reset_index(drop=True)
    series = pd.DataFrame(attrs).astype({"baseline_year": "Int64", "target_year": "Int64"})
    return obs, series


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b  # the same operations in the same order: equal to the last bit


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_randomized_panel_equals_per_series(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    obs, series = _random_panel(rng, 600)
    columns = {
        "baseline": "baseline",
        "baseline_year": "baseline_year",
        "target": "target",
        "target_year": "target_year",
        "direction": "direction",
        "plan": "plan",
    }
    panel = assess_panel(obs, series, details=True, **columns)
    assert len(panel) == len(series)
    # The panel is computed block by block of series (16,384 a block); in blocks of 37 the
    # 600 series give the same frame, bit for bit.
    monkeypatch.setattr(progress, "_BLOCK", 37)
    pd.testing.assert_frame_equal(
        assess_panel(obs, series, details=True, **columns), panel, check_exact=True
    )
    seen = set()
    for i, s in series.iterrows():
        part = obs.loc[
            (obs["programme_id"] == s["programme_id"]) & (obs["indicator_id"] == s["indicator_id"])
        ]
        ty = None if pd.isna(s["target_year"]) else int(s["target_year"])
        by = None if pd.isna(s["baseline_year"]) else int(s["baseline_year"])
        ref = assess_series(
            part["fiscal_year"].to_numpy(),
            part["actual"].to_numpy(),
            target=s["target"],
            target_year=ty,
            baseline=s["baseline"],
            baseline_year=by,
            direction=s["direction"],
            plan=part["plan"].to_numpy(),
        )
        row = panel.iloc[i]
        for method, (value_col, class_col, reason_col) in METHODS.items():
            a = ref[method]
            where = f"series {i}, {method}: {a}"
            assert row[class_col] == a.outcome, where
            assert (None if pd.isna(row[reason_col]) else row[reason_col]) == a.reason, where
            assert _same(float(row[value_col]), a.value), where
            seen.add((method, a.outcome, a.reason))
            for (m, key), col in DETAILS.items():
                if m == method and key in a.detail:
                    got = row[col]
                    if isinstance(a.detail[key], str):
                        assert got == a.detail[key], where
                    else:
                        assert _same(float(got), float(a.detail[key])), where
        st = ref["status"].detail
        assert row["n_points"] == st["n_points"]
        assert _same(float(row["base_value"]), st["base_value"])
        assert (None if pd.isna(row["base_year"]) else int(row["base_year"])) == st["base_year"]
        assert (None if pd.isna(row["base_source"]) else row["base_source"]) == st["base_source"]
    # the random panels reach every branch that matters
    outcomes = {(m, o) for m, o, _ in seen}
    reasons = {r for _, _, r in seen}
    assert {"sign_change", "negative_values", "insufficient_points", "no_target"} <= reasons
    assert {"target_equals_baseline", "target_year_not_after_base"} <= reasons
    assert ("anticipated", "maintain") in outcomes and ("anticipated", "reverse_trend") in outcomes
    assert ("cagr", "target_achieved") in outcomes and ("miss_share", "wrong_direction") in outcomes
    assert ("status", "on_track") in outcomes and ("status", "behind") in outcomes
    assert ("cagr", "moderate_progress") in outcomes
    # the plan's trajectory and the end of the plan: missed, and flat is no progress
    assert ("status", "target_missed") in outcomes and ("anticipated", "target_missed") in outcomes
    assert ("miss_share", "target_missed") in outcomes and ("cagr", "no_progress") in outcomes
