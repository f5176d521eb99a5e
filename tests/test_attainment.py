"""Tests of kpianalysis.analysis.measures with hand-computed reference values.

Seed values: Handa City (半田市) FY2023 effect-verification sheet, programme 「生きがいと社会貢献を
育む新地域コミュニティの構築事業」 (/work/shared/seed/000_b0c93ac26c5b58c3.txt), transcribed in the
fixture below. Worked checks: /work/shared/METHODS.md §1.
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpianalysis.analysis.measures import (
    REASONS,
    achieved,
    achieved_with_reason,
    achievement_rate,
    achievement_rate_with_reason,
    any_achieved,
    classify_pro_rata,
    cost_per_unit_change,
    format_percent,
    grant_check,
    increments_to_levels,
    levels_to_increments,
    pro_rata_expectation,
    pro_rata_rate,
    progress_rate,
    progress_rate_with_reason,
    round_half_up,
    share_achieved,
)
from kpianalysis.analysis.tables import attainment_core, attainment_table, programme_summary
from kpianalysis.data.dataset import Dataset
from kpianalysis.data.levels import observation_levels
from kpianalysis.errors import ParameterError
from kpianalysis.reasons import reason_label
from kpianalysis.report import attainment_views

PID = "23205-community"


def _stand_in(ind, obs, progs, fin, ver):
    """A kpianalysis Dataset of these tables (no components or sub-projects are needed here)."""
    empty = pd.DataFrame()
    return Dataset(
        programmes=progs,
        indicators=ind,
        observations=obs,
        finance=fin,
        components=empty,
        subprojects=empty,
        verdicts=ver,
    )


def _observations(pid, data):
    rows = []
    for ind_id, values in data.items():
        for fy, (target, actual) in values.items():
            rows.append(
                {
                    "programme_id": pid,
                    "indicator_id": ind_id,
                    "fiscal_year": fy,
                    "target": float(target),
                    "actual": float(actual),
                    "target_text": str(target),
                    "actual_text": str(actual),
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture
def seed_dataset():
    """Handa City FY2023 sheet (seed 000_b0c93ac26c5b58c3.txt): four KPIs, FY2021–2023."""
    ind = pd.DataFrame(
        {
            "programme_id": [PID] * 4,
            "indicator_id": [1, 2, 3, 4],
            "indicator_label": ["①", "②", "③", "④"],
            "name_ja": [
                "小学校区コミュニティの設立数",
                "若い世代（39歳以下）の転入者数ー転出者数",
                "コミュニティ・スクールの活動回数",
                "外国籍市民向けフェイスブック登録者数",
            ],
            "name_en": [
                "School-district communities established",
                "Net migration of residents aged 39 or under",
                "Community-school activities per school",
                "Facebook followers among foreign residents",
            ],
            "unit": ["団体", "人", "回", "人"],
            "kind": ["cumulative", "flow", "average", "stock"],
            "direction": ["increase"] * 4,
            "target_form": ["level"] * 4,
            "baseline_year": pd.array([2020, pd.NA, pd.NA, 2020], dtype="Int64"),
            "baseline": [4.0, np.nan, np.nan, 225.0],
            "trend_model": ["poisson", "ols", "ols", "poisson"],
        }
    )
    obs = _observations(
        PID,
        {
            1: {2021: (6, 4), 2022: (8, 7), 2023: (13, 9)},
            2: {2021: (500, -468), 2022: (1500, -127), 2023: (3000, 83)},
            3: {2021: (40, 47), 2022: (45, 56), 2023: (50, 50)},
            4: {2021: (300, 312), 2022: (400, 1019), 2023: (500, 1341)},
        },
    )
    progs = pd.DataFrame(
        {
            "programme_id": [PID],
            "name_ja": ["生きがいと社会貢献を育む新地域コミュニティの構築事業"],
            "name_en": ["Building new local communities"],
            "plan_start": [2021],
            "plan_end": [2023],
            "municipality_code": ["23205"],
        }
    )
    fin = pd.DataFrame(
        {
            "programme_id": [PID],
            "fiscal_year": [2023],
            "cost_yen": [19_272_695.0],
            "grant_yen": [9_636_346.0],
            "grant_rate": [0.5],
        }
    )
    ver = pd.DataFrame(
        {
            "programme_id": [PID, PID],
            "fiscal_year": [2023, 2023],
            "evaluator": ["panel", "panel"],
            "option_no": [1, 2],
            "option_ja": [
                "地方版総合戦略のKPI達成に有効であった",
                "地方版総合戦略のKPI達成に有効とは言えない",
            ],
            "votes": pd.array([7, 0], dtype="Int64"),
            "total": pd.array([7, 7], dtype="Int64"),
            "selected": [True, False],
        }
    )
    return _stand_in(ind, obs, progs, fin, ver)


# --------------------------------------------------------------------------------------------
# Done-when checks (issue 3)


def test_done_when_scalars():
    # ④ FY2023: 1,341 人 of 500 人; ① FY2023: (9 − 4)/(13 − 4)
    rate = achievement_rate(1341, 500)
    assert rate == 2.682 and type(rate) is float
    prog = progress_rate(9, 13, 4)
    assert prog == 5 / 9 and type(prog) is float


def test_methods_worked_checks():
    # METHODS §1 "sabcd" example: b 100, T 110, A 105 → 95.45 %, 50 %
    assert achievement_rate(105, 110) == 105 / 110
    assert format_percent(achievement_rate(105, 110), 2) == "95.45%"
    assert progress_rate(105, 110, 100) == 0.5
    # decrease-desired b 5, T 0, A 2 → progress 60 %
    assert progress_rate(2, 0, 5) == 0.6
    # negative actual: target 50, actual −10 → −20 %
    assert achievement_rate(-10, 50) == -0.2


# --------------------------------------------------------------------------------------------
# Per-KPI measures


def test_achieved_directions_and_missing():
    assert achieved(9, 13) is False
    assert achieved(50, 50) is True  # equality counts as reached: d·(A − T) ≥ 0
    assert achieved(2, 3, "decrease") is True
    assert achieved(4, 3, "decrease") is False
    assert achieved_with_reason(float("nan"), 3) == (None, "no_actual")
    assert achieved_with_reason(3, None) == (None, "no_target")


def test_decrease_variants():
    # T 100, A 110 (10 % worse than target) for a less-is-better KPI
    assert achievement_rate(110, 100, "decrease") == 0.9  # complement 1 − (110 − 100)/100
    assert achievement_rate(110, 100, "decrease", variant="complement") == 0.9
    assert achievement_rate(110, 100, "decrease", variant="inverse") == 100 / 110
    assert achievement_rate(110, 100, "decrease", variant="ratio") == 1.1
    # reaching zero, the best result of a reduction target
    assert achievement_rate(0, 100, "decrease") == 2.0
    assert achievement_rate_with_reason(0, 100, "decrease", variant="inverse") == (
        pytest.approx(float("nan"), nan_ok=True),
        "actual_zero",
    )
    # the variant does not touch increase KPIs
    assert achievement_rate(110, 100, "increase", variant="inverse") == 1.1
    with pytest.raises(ParameterError):
        achievement_rate(1, 2, "decrease", variant="nonsense")


def test_reason_codes():
    r = achievement_rate_with_reason(3, 0)
    assert math.isnan(r.value) and r.reason == "target_zero"
    r = progress_rate_with_reason(50, 50, float("nan"))
    assert math.isnan(r.value) and r.reason == "no_baseline"
    r = progress_rate_with_reason(7, 5, 5)
    assert math.isnan(r.value) and r.reason == "target_equals_baseline"
    r = progress_rate_with_reason(float("nan"), 5, 2)
    assert math.isnan(r.value) and r.reason == "no_actual"
    # precedence: a missing actual is reported before a missing baseline
    assert progress_rate_with_reason(None, 5, None).reason == "no_actual"
    assert achievement_rate_with_reason(4, 6) == (4 / 6, None)


def test_no_runtime_warning_on_degenerate_input():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        achievement_rate(np.array([0.0, 1.0, np.nan]), np.array([0.0, 0.0, 0.0]))
        achievement_rate(np.array([0.0, 1.0]), np.array([5.0, -5.0]), "decrease", "inverse")
        progress_rate(np.array([0.0, 1.0]), np.array([3.0, 3.0]), np.array([3.0, 3.0]))
        cost_per_unit_change(100.0, 4.0, 4.0)


def test_vectorised_series_and_arrays():
    idx = pd.Index(["①", "②", "③", "④"])
    a = pd.Series([9.0, 83.0, 50.0, 1341.0], index=idx)
    t = pd.Series([13.0, 3000.0, 50.0, 500.0], index=idx)
    b = pd.Series([4.0, np.nan, np.nan, 225.0], index=idx)
    m = progress_rate_with_reason(a, t, b)
    assert list(m.value.index) == list(idx)
    assert m.value["①"] == 5 / 9
    assert m.value["④"] == (1341 - 225) / (500 - 225)
    assert list(m.reason.astype(object).where(m.reason.notna(), None)) == [
        None,
        "no_baseline",
        "no_baseline",
        None,
    ]
    assert list(m.reason.cat.categories) == list(REASONS)
    ach = achieved(a, t)
    assert ach.dtype == "boolean" and list(ach) == [False, False, True, True]
    arr = achievement_rate_with_reason(np.array([1.0, 2.0]), np.array([0.0, 4.0]))
    assert isinstance(arr.value, np.ndarray)
    assert list(arr.reason) == ["target_zero", None]
    assert arr.value[1] == 0.5
    # per-element directions
    assert list(achieved([2.0, 2.0], [3.0, 3.0], ["increase", "decrease"])) == [False, True]
    with pytest.raises(ParameterError):
        achieved(1, 2, "up")
    with pytest.raises(ParameterError):
        progress_rate(a, t, b.reset_index(drop=True))


def test_pro_rata():
    # 3-year plan from b 4 to 13: expectations 7, 10, 13
    assert pro_rata_expectation(4, 13, 1, 3) == 7.0
    assert list(pro_rata_expectation(4, 13, np.array([1, 2, 3]), 3)) == [7.0, 10.0, 13.0]
    assert pro_rata_rate(7, 4, 13, 1, 3).value == 1.0
    # year 2 expects 10; actual 8 → achievement 0.8, progress (8 − 4)/(10 − 4) = 2/3
    assert pro_rata_rate(8, 4, 13, 2, 3).value == 0.8
    assert pro_rata_rate(8, 4, 13, 2, 3, measure="progress").value == 4 / 6
    # 多摩市 bands: ≥ 100 % on track, 60–100 % roughly, < 60 % needs improvement
    assert classify_pro_rata(1.0) == "on_track"
    assert classify_pro_rata(0.6) == "roughly_on_track"
    assert classify_pro_rata(0.5999) == "needs_improvement"
    assert classify_pro_rata(float("nan")) is None
    with pytest.raises(ParameterError):
        pro_rata_expectation(4, 13, 1, 0)


def test_increments():
    assert list(increments_to_levels(100, [5, 5, 10]).value) == [105.0, 110.0, 120.0]
    m = increments_to_levels(100, [5, np.nan, 10])
    assert m.value[0] == 105.0 and np.isnan(m.value[1:]).all()
    assert list(m.reason) == [None, "missing_increment", "missing_increment"]
    assert list(increments_to_levels(np.nan, [5]).reason) == ["no_baseline"]
    assert list(levels_to_increments(100, [105, 110, 120]).value) == [5.0, 5.0, 10.0]


# --------------------------------------------------------------------------------------------
# Display rounding


def test_round_half_up_differs_from_python_round():
    # Python rounds half to even; sheets (and Excel ROUND) round half away from zero
    assert round(0.5) == 0 and round_half_up(0.5) == 1.0
    assert round(2.5) == 2 and round_half_up(2.5) == 3.0
    assert round_half_up(1.5) == 2.0
    assert round_half_up(-2.5) == -3.0
    assert round_half_up(0.125, 2) == 0.13
    assert round_half_up(2.675, 2) == 2.68  # binary 2.67499999…; as written it is a half
    assert round_half_up(1234.5, -1) == 1230.0
    assert np.isnan(round_half_up(float("nan")))
    assert list(round_half_up(np.array([0.5, 1.5, 2.5]))) == [1.0, 2.0, 3.0]


def test_format_percent():
    # 15,876 / 6,000 = 264.6 % printed as 265 % (METHODS §1)
    assert format_percent(15876 / 6000, 0) == "265%"
    assert format_percent(0.285, 0) == "29%"  # 28.5 → 29; round(28.499999999999996) would be 28
    assert format_percent(0.005, 0) == "1%"
    assert format_percent(float("nan")) == "-"
    s = format_percent(pd.Series([9 / 13, 83 / 3000, 1.0, 1341 / 500]))
    assert list(s) == ["69.2%", "2.8%", "100.0%", "268.2%"]


# --------------------------------------------------------------------------------------------
# Programme level


def test_grant_check_seed():
    # 19,272,695 円 × 1/2 = 9,636,347.5 円 vs 交付額 9,636,346 円: −1.5 円
    # (端数処理, as the sheet itself says: 「端数処理のため数円の差異あり」)
    g = grant_check(19_272_695, 9_636_346, 0.5)
    assert g.expected_grant_yen == 9_636_347.5
    assert g.gap_yen == -1.5
    assert g.within_rounding is True
    assert grant_check(1000, 400, 0.5).within_rounding is False
    assert math.isnan(grant_check(float("nan"), 1, 0.5).gap_yen)


def test_cost_per_unit_change():
    # ① FY2023: 19,272,695 円 for 9 − 4 = 5 団体
    assert cost_per_unit_change(19_272_695, 9, 4).value == 19_272_695 / 5
    # decrease KPI that fell from 10 to 6: 4 units of improvement
    assert cost_per_unit_change(1000, 6, 10, "decrease").value == 250.0
    assert cost_per_unit_change(1000, 10, 10).reason == "no_improvement"
    assert cost_per_unit_change(1000, 12, 10, "decrease").reason == "no_improvement"
    assert cost_per_unit_change(1000, 12, None).reason == "no_baseline"
    assert cost_per_unit_change(float("nan"), 12, 10).reason == "no_cost"


def test_share_and_any_achieved():
    assert share_achieved([False, False, True, True]) == (0.5, None)
    assert share_achieved([None, True]) == (1.0, None)
    v = share_achieved([None])
    assert math.isnan(v.value) and v.reason == "no_actual"
    assert any_achieved([False, None, True]) == (True, None)
    assert any_achieved([False, None]) == (None, "no_actual")
    assert any_achieved([False, False]) == (False, None)


# --------------------------------------------------------------------------------------------
# The table


def _col(table, name):
    return list(table[name].astype(object).where(table[name].notna(), None))


def test_attainment_table_fy2023(seed_dataset):
    t = attainment_table(seed_dataset.as_of(2023), 2023, programme_id=PID)
    assert list(t["indicator_label"]) == ["①", "②", "③", "④"]
    # achievement rates, by hand from the sheet: 9/13, 83/3,000, 50/50, 1,341/500
    assert list(t["achievement_rate"]) == [9 / 13, 83 / 3000, 1.0, 1341 / 500]
    assert list(format_percent(t["achievement_rate"])) == ["69.2%", "2.8%", "100.0%", "268.2%"]
    assert _col(t, "achievement_variant") == ["ratio"] * 4
    # progress where a baseline exists: ① (9 − 4)/(13 − 4), ④ (1,341 − 225)/(500 − 225)
    assert t["progress_rate"][0] == 5 / 9
    assert t["progress_rate"][3] == 1116 / 275
    assert round(t["progress_rate"][3], 4) == 4.0582
    assert t["progress_rate"][[1, 2]].isna().all()
    assert _col(t, "progress_rate_reason") == [None, "no_baseline", "no_baseline", None]
    assert list(t["achieved"]) == [False, False, True, True]
    assert int(t["achieved"].sum()) == 2
    # ratings: ① 69 % < 70 % band but above baseline; ② below band, no baseline to compare
    assert _col(t, "effect_ja") == ["効果があった", None, "非常に効果的", "非常に効果的"]
    assert _col(t, "effect_en") == ["effective", None, "very effective", "very effective"]
    assert _col(t, "effect_reason") == [None, "no_baseline", None, None]
    assert _col(t, "rank") == ["C", "D", "B", "A"]  # 大阪府立図書館 bands 50/80/110 %
    assert set(t["rank_table"]) == {"osaka_library"}
    # cost per unit of change: FY2023 cost (the only year recorded) over 9 − 4 and 1,341 − 225
    assert t["cost_per_unit_change"][0] == 19_272_695 / 5
    assert t["cost_per_unit_change"][3] == 19_272_695 / 1116
    assert _col(t, "cost_per_unit_change_reason") == [None, "no_baseline", "no_baseline", None]
    # multi-year assessment against the plan-end target (FY2023)
    assert round(t["cagr_ratio"][0], 6) == 0.644929  # METHODS §2 worked check
    assert _col(t, "cagr_class") == [
        "moderate_progress",
        "not_applicable_sign_change",  # ②: ▲468 → ▲127 → 83
        "target_achieved",
        "target_achieved",
    ]
    assert _col(t, "cagr_reason") == [None, "sign_change", None, None]
    # ② status index is level-based, so it applies: (83 + 468)/(3,000 + 468)
    assert t["status_index"][1] == 551 / 3468
    # FY2023 is the plan-end year: a target not met is missed, no longer "behind"
    assert _col(t, "status_class") == [
        "target_missed",
        "target_missed",
        "target_achieved",
        "target_achieved",
    ]
    assert _col(t, "anticipated_class") == [
        "target_missed",
        "target_missed",
        "target_achieved",  # ③ 50 of 50: met, not "maintain"
        "target_achieved",
    ]
    assert list(t["assessment_target_year"]) == [2023] * 4


def test_attainment_table_fy2021_fy2022(seed_dataset):
    t21 = attainment_table(seed_dataset.as_of(2021), 2021)
    assert list(t21["achievement_rate"]) == [4 / 6, -468 / 500, 47 / 40, 312 / 300]
    assert t21["progress_rate"][0] == 0.0  # 4 → 4
    assert t21["progress_rate"][3] == 87 / 75
    assert list(t21["achieved"]) == [False, False, True, True]
    t22 = attainment_table(seed_dataset.as_of(2022), 2022)
    assert list(t22["achievement_rate"]) == [7 / 8, -127 / 1500, 56 / 45, 1019 / 400]
    assert list(t22["progress_rate"][[0, 3]]) == [3 / 4, 794 / 175]
    # ① FY2022 at 87.5 % is within the 相当程度 band
    assert t22["effect_ja"][0] == "相当程度効果があった"


def test_fy2021_one_verdict_per_kpi_consistent_with_the_plan(seed_dataset):
    # Issue 17: ④ met its FY2021 target (312 vs 300, 104 %), so every multi-year measure,
    # read against the plan's interim targets (225 → 300 → 400 → 500), says on track:
    t = attainment_table(seed_dataset.as_of(2021), 2021)
    assert bool(t["achieved"][3]) and t["effect_en"][3] == "very effective"
    # status (312 − 225)/(500 − 225) = 0.316 ≥ the plan's (300 − 225)/(500 − 225) = 0.273
    assert t["status_index"][3] == 87 / 275 and t["status_class"][3] == "on_track"
    # CAGR ratio (312/225 − 1)/(300/225 − 1) = 0.38667/0.33333 = 1.16 → substantial (on track)
    assert t["cagr_ratio"][3] == pytest.approx(1.16, abs=1e-12)
    assert t["cagr_class"][3] == "substantial_progress"
    assert reason_label("substantial_progress", "ja") == "大きく前進（順調）"
    # miss share: pace 87/75 of the plan's, P = 312 + 1.16·(500 − 300) = 544,
    # (500 − 544)/(500 − 312) = −0.234 → on track (before: 7.4 % "nearly on track")
    assert t["miss_share"][3] == pytest.approx(-44 / 188, abs=1e-12)
    assert t["miss_share_class"][3] == "on_track"
    assert t["anticipated_class"][3] == "insufficient_data"  # two points < 3
    # ① flat 4 → 4: no progress in every measure (before: miss share "wrong direction 100 %")
    assert t["status_class"][0] == "no_progress" and t["cagr_class"][0] == "no_progress"
    assert t["miss_share"][0] == 1.0 and t["miss_share_class"][0] == "no_progress"


def test_interim_year_is_assessed_against_the_plan_end_target(seed_dataset):
    # Issue 9: the FY2022 report sees the actuals of FY2021–2022 and every target of the plan,
    # so its multi-year assessment of ① uses the plan-end target 13 (FY2023), not FY2022's 8.
    # By hand (METHODS.md §2) on b 4 (FY2020), actuals 4 (FY2021), 7 (FY2022), T 13 (FY2023):
    t = attainment_table(seed_dataset.as_of(2022), 2022)
    assert t["assessment_target"][0] == 13.0 and t["assessment_target_year"][0] == 2023
    assert t["target"][0] == 8.0 and t["actual"][0] == 7.0  # the year's own figures
    # Against the plan's own path 4 → 6 → 8 → 13 (issue 17):
    # miss share: 3 gained from FY2020 where the plan asked 4 (pace 0.75), kept along the
    # plan's remaining 8 → 13: projection 7 + 0.75·5 = 10.75, (13 − 10.75)/(13 − 7) = 0.375
    # → more than 20 % missed, right direction.
    assert t["miss_share"][0] == pytest.approx(0.375, abs=1e-12)
    assert t["miss_share_class"][0] == "right_direction_insufficient"
    # status index: (7 − 4)/(13 − 4) = 1/3 against the plan's (8 − 4)/(13 − 4) = 4/9 → behind.
    assert t["status_index"][0] == pytest.approx(1 / 3, rel=1e-15)
    assert t["status_class"][0] == "behind"
    # CAGR ratio: ((7/4)^(1/2) − 1)/((8/4)^(1/2) − 1) = 0.322876/0.414214 = 0.779491 → moderate.
    assert t["cagr_ratio"][0] == pytest.approx(0.779491, abs=1e-6)
    assert t["cagr_class"][0] == "moderate_progress"
    # Before issue 9 the cut dropped FY2023's target: T 8 (FY2022) and a miss share of
    # (8 − 7)/(8 − 7) = 1.0 — in its own target year, missed. Still available on request.
    cur = attainment_table(seed_dataset.as_of(2022), 2022, assessment_target="current_year")
    assert cur["assessment_target"][0] == 8.0 and cur["miss_share"][0] == 1.0
    assert cur["miss_share_class"][0] == "target_missed"


def test_table_does_not_depend_on_the_observations_layout(seed_dataset):
    # The table looks each KPI's observations up by position: shuffled rows, a row of a KPI
    # the indicators do not list, and a repeated FY2023 row (a KPI with two rows for one year:
    # the lookup table is given up for a pass over the rows) give the FY2022 table of the
    # seed, with its hand values (test_interim_year_is_assessed_against_the_plan_end_target).
    ref = attainment_table(seed_dataset.as_of(2022), 2022)
    obs = seed_dataset.observations
    stray = obs.iloc[[0]].assign(indicator_id=99)
    repeated = obs.loc[obs["fiscal_year"] == 2023]
    for layout in (
        obs.sample(frac=1.0, random_state=7),
        pd.concat([obs, stray]),
        pd.concat([obs, repeated]).sample(frac=1.0, random_state=8),
    ):
        ds = dataclasses.replace(seed_dataset, observations=layout.reset_index(drop=True))
        t = attainment_table(ds.as_of(2022), 2022)
        pd.testing.assert_frame_equal(t, ref, check_exact=True)
        assert list(t["achievement_rate"]) == [7 / 8, -127 / 1500, 56 / 45, 1019 / 400]
        assert t["assessment_target"][0] == 13.0 and t["miss_share"][0] == ref["miss_share"][0]


def test_tables_refuse_a_dataset_not_cut_at_the_year(seed_dataset):
    # Cut once, at the edge: a table never reads a dataset cut at another year (later actuals
    # would leak in) nor an uncut one.
    with pytest.raises(
        ParameterError, match=r"cut at FY2023, not FY2022: pass dataset.as_of\(2022\)"
    ):
        attainment_table(seed_dataset.as_of(2023), 2022)
    with pytest.raises(ParameterError, match="not cut at a fiscal year"):
        programme_summary(seed_dataset, 2023)


def test_programme_summary(seed_dataset):
    s = programme_summary(seed_dataset.as_of(2023), 2023).iloc[0]
    assert s["n_kpis"] == 4 and s["n_achieved"] == 2 and s["share_achieved"] == 0.5
    assert bool(s["any_achieved"]) is True
    assert s["expected_grant_yen"] == 9_636_347.5 and s["grant_gap_yen"] == -1.5
    assert bool(s["grant_gap_within_rounding"]) is True
    assert s["panel_option_no"] == 1 and bool(s["panel_effective"]) is True
    assert s["panel_votes"] == 7 and s["panel_total"] == 7
    assert s["panel_option_en"] == "effective for achieving the KPIs"
    s22 = programme_summary(seed_dataset.as_of(2022), 2022).iloc[0]
    assert s22["grant_reason"] == "no_cost" and s22["panel_reason"] == "no_verdict"


def test_table_reads_levels_converted_once_in_the_data_layer():
    # Hypothetical plan written as yearly increments (増加分) over b 100: targets +5, +5.
    # KPI 1 writes its actuals as increments too (+4, +7 → levels 104, 111); KPI 2 writes them
    # as levels (104, 111), which must stay levels. kpianalysis.data.levels converts; the table
    # only reads levels.
    ind = pd.DataFrame(
        {
            "programme_id": ["p", "p"],
            "indicator_id": [1, 2],
            "indicator_label": ["①", "②"],
            "name_ja": ["a", "b"],
            "name_en": ["a", "b"],
            "unit": ["人", "人"],
            "kind": ["flow", "flow"],
            "direction": ["increase", "increase"],
            "target_form": ["increment", "increment"],
            "actual_form": ["increment", "level"],
            "baseline_year": pd.array([2020, 2020], dtype="Int64"),
            "baseline": [100.0, 100.0],
            "trend_model": ["ols", "ols"],
        }
    )
    written = _observations(
        "p", {1: {2021: (5, 4), 2022: (5, 7)}, 2: {2021: (5, 104), 2022: (5, 111)}}
    )
    obs = observation_levels(ind, written)
    assert obs["target"].tolist() == [105.0, 110.0, 105.0, 110.0]
    assert obs["actual"].tolist() == [104.0, 111.0, 104.0, 111.0]
    assert obs["actual_written"].tolist() == [4.0, 7.0, 104.0, 111.0]
    progs = pd.DataFrame({"programme_id": ["p"], "plan_start": [2021], "plan_end": [2022]})
    fin = pd.DataFrame(columns=["programme_id", "fiscal_year", "cost_yen", "grant_yen"])
    ver = pd.DataFrame(
        columns=["programme_id", "fiscal_year", "evaluator", "option_no", "option_ja", "votes"]
    )
    t = attainment_table(_stand_in(ind, obs, progs, fin, ver).as_of(2022), 2022)
    for i in (0, 1):
        assert t["target"][i] == 110.0 and t["actual"][i] == 111.0
        assert t["achievement_rate"][i] == 111 / 110
        assert t["progress_rate"][i] == 11 / 10
        assert bool(t["achieved"][i]) is True
    assert list(t["actual_form"]) == ["increment", "level"]


def test_attainment_core_matches_scalar_functions():
    a = np.array([9.0, 83.0, np.nan, 2.0, 110.0])
    t = np.array([13.0, 3000.0, 5.0, 0.0, 100.0])
    b = np.array([4.0, np.nan, 1.0, 5.0, 120.0])
    d = np.array([1.0, 1.0, 1.0, -1.0, -1.0])
    out = attainment_core(a, t, b, d)
    for i in range(len(a)):
        rate = achievement_rate(a[i], t[i], d[i])
        assert (math.isnan(rate) and math.isnan(out["achievement_rate"][i])) or rate == out[
            "achievement_rate"
        ][i]
    assert list(out["achievement_rate_reason"]) == [
        -1,
        -1,
        REASONS.index("no_actual"),
        REASONS.index("target_zero"),
        -1,
    ]
    assert out["progress_rate"][4] == (110 - 120) / (100 - 120)


# --------------------------------------------------------------------------------------------
# Properties (hypothesis)

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)


@given(finite, finite)
def test_progress_is_one_at_target_and_zero_at_baseline(target, baseline):
    if target == baseline:
        assert progress_rate_with_reason(target, target, baseline).reason == (
            "target_equals_baseline"
        )
        return
    assert progress_rate(target, target, baseline) == 1.0
    assert progress_rate(baseline, target, baseline) == 0.0


@given(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=8),
)
def test_increment_level_round_trip(baseline, increments):
    levels = increments_to_levels(baseline, increments).value
    back = levels_to_increments(baseline, levels).value
    np.testing.assert_allclose(back, increments, rtol=1e-9, atol=1e-6)
    again = increments_to_levels(baseline, back).value
    np.testing.assert_allclose(again, levels, rtol=1e-9, atol=1e-6)


@given(finite, finite, st.sampled_from(["increase", "decrease"]))
def test_mirror_keeps_achieved_and_rates(actual, target, direction):
    # flipping the direction and all signs together describes the same performance
    other = "decrease" if direction == "increase" else "increase"
    assert achieved(actual, target, direction) == achieved(-actual, -target, other)
    r1 = achievement_rate(actual, target, direction)
    r2 = achievement_rate(-actual, -target, other)
    assert (math.isnan(r1) and math.isnan(r2)) or r1 == r2


def test_research_appendix_fy2021_says_kpi4_is_on_track(seed_dataset):
    # Issue 17: the appendix's four measures agree with Table 1 (④ met its FY2021 target,
    # 312 vs 300): on track 31.6 %, CAGR ratio 1.16 (substantial, on track), miss share
    # −23.4 % on track (hand values: test_fy2021_one_verdict_per_kpi_consistent_with_the_plan)
    t = attainment_table(seed_dataset.as_of(2021), 2021)
    html = str(attainment_views.research_measures(t, "ja"))
    rows = re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)
    head, body = rows[0], rows[1:]
    assert re.findall(r"<th>(.*?)</th>", head) == ["指標（出典）", "意味", "各KPIの結果"]
    # each row's last cell: one line per KPI, led by its number
    results = [re.findall(r"<td>(.*?)</td>", r, flags=re.S)[-1].split("<br/>") for r in body]
    assert [lines[3] for lines in results] == [
        '④ 順調 <span class="val">31.6%</span>',
        "④ データ点が不足",  # two points: no regression
        '④ 大きく前進（順調） <span class="val">1.16</span>',
        '④ 順調 <span class="val">-23.4%</span>',
    ]
    # ① flat 4 → 4: no progress, never "wrong direction" (逆方向)
    flat = "① 進捗なし・後退"
    assert [lines[0].split(" <")[0] for lines in results] == [flat, "① データ点が不足", flat, flat]
    assert "逆方向" not in html and "遅れ" not in html and "ほぼ順調" not in html
    # one name, source and plain line per measure; the English report in English
    for name in ("現状指数", "見込み進捗", "CAGR比", "未達割合"):
        assert html.count(f"<td>{name}<br/><small>") == 1
    en = str(attainment_views.research_measures(t, "en"))
    assert "<td>Miss share<br/><small>Destatis (German Federal Statistical Office)" in en
    assert not re.search(r"<td>[^<]*[\u3040-\u30ff\u4e00-\u9fff]", en)


def test_research_appendix_escapes_labels_and_no_call_to_accelerate(seed_dataset):
    t = attainment_table(seed_dataset.as_of(2023), 2023)
    t["indicator_label"] = ["<b>①</b>", "②", "③", "④"]  # a label as hostile as any data
    html = str(attainment_views.research_measures(t, "ja"))
    assert "<b>" not in html and "&lt;b&gt;①&lt;/b&gt;" in html
    # FY2023 is the plan-end year: missed or achieved, nothing "to accelerate"
    assert "加速が必要" not in html and "期限までに目標未達成" in html
    # ① missed in the plan-end year: status and anticipated progress 5/9 = 55.6 % of the way;
    # the miss share, 100 % by construction then, is not printed beside them
    miss = re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)[4]
    assert "期限までに目標未達成<br/>② 期限までに目標未達成<br/>" in miss
    assert "100.0%" not in miss
    assert '&lt;/b&gt; 期限までに目標未達成 <span class="val">55.6%</span>' in html


def test_summary_line_says_on_track_in_an_interim_year(seed_dataset):
    from kpianalysis.report.sections import kpi_status_line

    # FY2021 ④ met its own FY2021 target (312 vs 300) before the plan's end (FY2023): on track
    row = attainment_table(seed_dataset.as_of(2021), 2021).iloc[3]
    ja = kpi_status_line(row, ("312人", "(300人)"))
    assert ja.endswith('<span class="kpi-ok">○ 達成（順調）</span>')
    en = kpi_status_line(row, ("312人", "(300人)"), "en")
    assert en.endswith('<span class="kpi-ok">achieved (on track)</span>')
    # FY2023 ③ 50 of 50 in the plan's last year: achieved, nothing left to be on track for
    row = attainment_table(seed_dataset.as_of(2023), 2023).iloc[2]
    assert kpi_status_line(row, ("50回", "(50回)")).endswith('<span class="kpi-ok">○ 達成</span>')


def test_english_writes_a_negative_rate_with_the_minus_sign_of_its_values(seed):
    from kpianalysis.report.attainment_views import kpi_table
    from kpianalysis.report.sections import kpi_status_line

    # FY2021 ②: ▲468人 against 500人 → −468 / 500 = −0.936: "−93.6%" (U+2212) in English
    # beside "−468 persons", not "-93.6%"; the Japanese line keeps its text as before.
    ds = seed.as_of(2021)
    table = attainment_table(ds, 2021)
    row = table.iloc[1]
    assert row["indicator_label"] == "②"
    en = str(kpi_status_line(row, ("▲468人", "(500人)"), "en"))
    assert "−468 persons" in en and "(−93.6%)" in en and "-93.6" not in en
    assert "-93.6%" in str(kpi_status_line(row, ("▲468人", "(500人)")))
    # The English KPI table's rate column likewise.
    cells = re.sub(r"<[^>]+>", " ", str(kpi_table(ds, table, 2021, "en")))
    assert "−93.6%" in cells and "-93.6%" not in cells
    # The research appendix: ④'s miss share −23.4 % (test_research_appendix_fy2021_…).
    measures = str(attainment_views.research_measures(table, "en"))
    assert '<span class="val">−23.4%</span>' in measures and "-23.4" not in measures
