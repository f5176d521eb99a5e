"""Tests of kpianalysis.analysis.progress (METHODS.md §2), with values computed by hand.

Seed series: Handa City FY2023 sheet (/work/shared/seed/000_b0c93ac26c5b58c3.txt):
① b 4 (FY2020), actuals 4, 7, 9 (FY2021–2023), final target 13 (FY2023);
② no baseline, actuals ▲468, ▲127, 83, final target 3,000.
CAGR bands: Open SDG ``sdg-build`` ``sdg/ProgressMeasure.py`` (0.95/0.6/0 with a target;
0.015/0.005/0 without).
"""

from __future__ import annotations

import math

import pytest

from kpianalysis.analysis.measures import classify_pro_rata, interim_progress
from kpianalysis.analysis.progress import (
    OUTCOME_LABELS,
    anticipated_progress,
    assess_series,
    cagr_assessment,
    current_status,
    miss_share_assessment,
)
from kpianalysis.errors import ParameterError
from kpianalysis.reasons import VERDICT_OF

YEARS = [2021, 2022, 2023]
ONE = {"baseline": 4.0, "baseline_year": 2020}


# --------------------------------------------------------------------------------------------
# CAGR ratio


def test_cagr_worked_check():
    # METHODS §2: b 4 (FY2020), actual 9 (FY2023), target 13 (FY2023)
    # CAGR_r = 3.25^(1/3) − 1 = 0.481248, CAGR_a = 2.25^(1/3) − 1 = 0.310371, R = 0.644929
    a = cagr_assessment(YEARS, [4, 7, 9], 13, 2023, **ONE)
    assert round(a.detail["cagr_required"], 6) == 0.481248
    assert round(a.detail["cagr_actual"], 6) == 0.310371
    assert round(a.value, 6) == 0.644929
    assert a.outcome == "moderate_progress" and a.reason is None
    assert a.detail["base_source"] == "baseline"


def test_cagr_decrease_direction():
    # b 100 (FY2020) → 81 (FY2022), target 50 (FY2025): CAGR_a = 0.9 − 1 = −0.1,
    # CAGR_r = 0.5^(1/5) − 1 = −0.129449, R = 0.1 / 0.129449 = 0.772502 → moderate
    a = cagr_assessment(
        [2021, 2022], [90, 81], 50, 2025, baseline=100, baseline_year=2020, direction="decrease"
    )
    assert round(a.value, 6) == 0.772502
    assert a.outcome == "moderate_progress"


def test_cagr_without_target_open_sdg_defaults():
    # 100 → 103 over two years: √1.03 − 1 = 1.4889 % (0.5 %–1.5 %) → moderate
    a = cagr_assessment([2022], [103], baseline=100, baseline_year=2020)
    assert round(a.value, 6) == 0.014889 and a.outcome == "moderate_progress"
    # 100 → 104: √1.04 − 1 = 1.9804 % → substantial
    assert cagr_assessment([2022], [104], **{"baseline": 100, "baseline_year": 2020}).outcome == (
        "substantial_progress"
    )
    assert cagr_assessment([2021], [100.2], baseline=100, baseline_year=2020).outcome == (
        "limited_progress"
    )
    assert cagr_assessment([2021], [99], baseline=100, baseline_year=2020).outcome == (
        "deterioration"
    )
    # less is better: falling 1 % a year is progress
    a = cagr_assessment([2021], [99], baseline=100, baseline_year=2020, direction="decrease")
    assert a.outcome == "moderate_progress" and round(a.value, 6) == 0.01


def test_cagr_not_applicable_outcomes():
    # ② ▲468 → ▲127 → 83 changes sign
    a = cagr_assessment(YEARS, [-468, -127, 83], 3000, 2023)
    assert a.outcome == "not_applicable_sign_change" and a.reason == "sign_change"
    assert math.isnan(a.value)
    # a negative series: the growth of the magnitudes (−73 %) would point the wrong way
    a = cagr_assessment([2021, 2022], [-468, -127])
    assert a.outcome == "negative_series_needs_level_measure" and a.reason == "negative_values"
    # touching zero is a sign change too
    assert cagr_assessment([2021, 2022], [0, 5]).outcome == "not_applicable_sign_change"
    # one point only
    a = cagr_assessment([2021], [4], 13, 2023)
    assert a.outcome == "insufficient_data" and a.reason == "insufficient_points"
    # already met: achieved, whatever the growth
    assert cagr_assessment(YEARS, [47, 56, 50], 50, 2023).outcome == "target_achieved"


# --------------------------------------------------------------------------------------------
# Current status index


def test_current_status():
    # ① FY2023: CS = (9 − 4)/(13 − 4) = 5/9, expected share 1; the target year itself, so
    # not "behind" (no time is left) but missed
    a = current_status(YEARS, [4, 7, 9], 13, 2023, **ONE)
    assert a.value == 5 / 9 and a.outcome == "target_missed"
    # ① as of FY2022 without the plan's interim targets: CS = 3/9 after (2022 − 2020)/(2023 −
    # 2020) = 2/3 of the time: pro-rata rate (3/9)/(2/3) = 0.5 < 0.6 → needs improvement (the
    # bands of the attainment table's interim_class)
    a = current_status([2021, 2022], [4, 7], 13, 2023, **ONE)
    assert a.value == 3 / 9 and a.detail["expected_share"] == 2 / 3
    assert a.outcome == "needs_improvement"
    # ahead of schedule: 10 of 13 after two of three years → on track
    assert current_status([2021, 2022], [6, 10], 13, 2023, **ONE).outcome == "on_track"
    # fell below baseline
    assert current_status([2021], [3], 13, 2023, **ONE).outcome == "no_progress"
    # met: capped at 1
    a = current_status(YEARS, [4, 7, 14], 13, 2023, **ONE)
    assert a.value == 1.0 and a.outcome == "target_achieved"
    # ② is level-based, so the sign change does not matter: (83 + 468)/(3,000 + 468)
    a = current_status(YEARS, [-468, -127, 83], 3000, 2023)
    assert a.value == 551 / 3468 and a.detail["base_source"] == "first_actual"
    assert current_status([2021], [4], 13, 2023).outcome == "insufficient_data"
    assert current_status(YEARS, [4, 7, 9], float("nan"), None, **ONE).reason == "no_target"


# --------------------------------------------------------------------------------------------
# Anticipated progress


def test_anticipated_progress_weighted_regression():
    # ① as of FY2022, points (2020, 4), (2021, 4), (2022, 7); t* = 2023:
    # w = 3/3, 3/2, 3/1 = 1, 1.5, 3; weighted means t̄ = 2020 + 7.5/5.5, ȳ = 31/5.5;
    # slope = 5.727273/3.272727 = 1.75; Â(2023) = ȳ + 1.75·(2023 − t̄) = 8.5; AP = 4.5/9 = 0.5
    a = anticipated_progress([2021, 2022], [4, 7], 13, 2023, **ONE)
    assert a.value == pytest.approx(0.5, abs=1e-12)
    assert a.detail["projection"] == pytest.approx(8.5, abs=1e-12)
    assert a.outcome == "accelerate" and a.detail["rule"] == "weighted_regression"


def test_anticipated_progress_at_target_year_uses_observation():
    # w is infinite at t_i = t*: the limit passes through the observed point, Â = 9
    a = anticipated_progress(YEARS, [4, 7, 9], 13, 2023, **ONE)
    assert a.value == 5 / 9 and a.detail["rule"] == "observed_at_target_year"
    # points after the target year are left out (their weight would be negative)
    b = anticipated_progress([2021, 2022, 2023, 2024], [4, 7, 9, 20], 13, 2023, **ONE)
    assert b.value == 5 / 9
    # met in the target year itself: achieved, nothing left to "maintain"
    a = anticipated_progress(YEARS, [4, 8, 13], 13, 2023, **ONE)
    assert a.value == 1.0 and a.outcome == "target_achieved"
    # the target year not observed (a later year is): projected, and still no "accelerate"
    a = anticipated_progress([2021, 2022, 2024], [4, 7, 9], 13, 2023, **ONE)
    assert a.value == pytest.approx(0.5, abs=1e-12) and a.outcome == "target_missed"
    assert anticipated_progress([2021, 2022], [3, 2], 13, 2023, **ONE).outcome == "reverse_trend"
    a = anticipated_progress([2021], [4], 13, 2023, **ONE)  # two points < 3
    assert a.outcome == "insufficient_data" and a.reason == "insufficient_points"


# --------------------------------------------------------------------------------------------
# Miss share (linear extrapolation)


def test_miss_share():
    # ① as of FY2022: slope (7 − 4)/(2022 − 2020) = 1.5; projection 7 + 1.5 = 8.5;
    # miss share (13 − 8.5)/(13 − 7) = 0.75 → right direction, not enough
    a = miss_share_assessment([2021, 2022], [4, 7], 13, 2023, **ONE)
    assert a.value == 0.75 and a.outcome == "right_direction_insufficient"
    # b 0 (2020), 10 (2021), target 30 (2023): projection 30 → 0 % → on track
    on = miss_share_assessment([2021], [10], 30, 2023, baseline=0, baseline_year=2020)
    assert on.value == 0.0 and on.outcome == "on_track"
    # slope 9: projection 28 → (30 − 28)/(30 − 10) = 10 % → nearly on track
    near = miss_share_assessment([2021], [10], 30, 2023, baseline=1, baseline_year=2020)
    assert near.value == pytest.approx(0.1) and near.outcome == "nearly_on_track"
    wrong = miss_share_assessment([2021], [3], 13, 2023, **ONE)
    assert wrong.outcome == "wrong_direction"
    # ② level-based, works across the sign change: slope (83 + 468)/2, at target year → 100 %,
    # and in the target year a target not met is missed, not "not enough"
    a = miss_share_assessment(YEARS, [-468, -127, 83], 3000, 2023)
    assert a.value == 1.0 and a.outcome == "target_missed"
    assert miss_share_assessment(YEARS, [47, 56, 50], 50, 2023).outcome == "target_achieved"
    assert miss_share_assessment([2021], [4], 13, 2023).outcome == "insufficient_data"
    # window: only the last 5 years count (2012 lies outside)
    w = miss_share_assessment([2012, 2018, 2023], [100, 0, 10], 20, 2024)
    assert w.detail["slope_per_year"] == 2.0


# --------------------------------------------------------------------------------------------
# The plan's own trajectory (issue 17): the seed's interim targets
#   ① b 4 (FY2020), targets 6, 8, 13 (FY2021–2023); ④ b 225, targets 300, 400, 500


def test_interim_target_met_is_on_track_everywhere():
    # ④ FY2021: 312 against its FY2021 target 300 (met, 104 %), plan-end target 500 (FY2023)
    kw = {"baseline": 225, "baseline_year": 2020, "plan": [300]}
    # status: CS = (312 − 225)/(500 − 225) = 87/275 = 0.316364; the plan's expected share
    # (300 − 225)/(500 − 225) = 75/275 = 0.272727 (the straight line said 1/3) → on track
    a = current_status([2021], [312], 500, 2023, **kw)
    assert a.value == 87 / 275 and a.detail["expected_share"] == 75 / 275
    assert a.outcome == "on_track"
    # CAGR: actual 312/225 − 1 = 0.386667 against the plan's own 300/225 − 1 = 0.333333
    # (not the straight (500/225)^(1/3) − 1 = 0.304929): R = 1.16 → substantial (on track)
    c = cagr_assessment([2021], [312], 500, 2023, **kw)
    assert c.detail["cagr_required"] == pytest.approx(1 / 3, abs=1e-12)
    assert c.value == pytest.approx(1.16, abs=1e-12) and c.outcome == "substantial_progress"
    # miss share: 87 gained where the plan asked 75 (pace 1.16), kept along the rest of the
    # plan (300 → 500): P = 312 + 1.16·200 = 544; (500 − 544)/(500 − 312) = −44/188 → on track
    m = miss_share_assessment([2021], [312], 500, 2023, **kw)
    assert m.detail["projection"] == pytest.approx(544, abs=1e-9)
    assert m.value == pytest.approx(-44 / 188, abs=1e-12) and m.outcome == "on_track"
    # without the plan the status index reads 31.6 % after 1/3 of the time: rate 0.316/(1/3)
    # = 0.949 ≥ 0.6 → roughly on track (it said "behind" before the pro-rata bands were
    # shared with interim_class); the miss share said nearly on track 7.4 %
    assert current_status([2021], [312], 500, 2023, baseline=225, baseline_year=2020).outcome == (
        "roughly_on_track"
    )
    old = miss_share_assessment([2021], [312], 500, 2023, baseline=225, baseline_year=2020)
    assert round(old.value, 3) == 0.074 and old.outcome == "nearly_on_track"


def test_flat_is_no_progress():
    # ① FY2021: 4 → 4 (target 6): no change at all
    kw = {**ONE, "plan": [6]}
    assert current_status([2021], [4], 13, 2023, **kw).outcome == "no_progress"
    # CAGR_a = 0 → R = 0: no progress, not "limited progress"
    c = cagr_assessment([2021], [4], 13, 2023, **kw)
    assert c.value == 0.0 and c.outcome == "no_progress"
    # slope 0: the projection stays at 4, (13 − 4)/(13 − 4) = 100 % missed — no progress, not
    # the wrong direction (which falling to 3 still is)
    m = miss_share_assessment([2021], [4], 13, 2023, **kw)
    assert m.value == 1.0 and m.outcome == "no_progress"
    assert miss_share_assessment([2021], [3], 13, 2023, **kw).outcome == "wrong_direction"


def test_seed_plan_first_two_years():
    # ① FY2022, plan 4 (b, FY2020), 6, 8 (FY2021–2022), 13 (FY2023)
    kw = {**ONE, "plan": [6, 8]}
    # anticipated: the line of the actual on the plan's value, weights 1, 1.5, 3 (in years):
    # x = P − 13 = −9, −7, −5, y = 4, 4, 7; x̄ = −34.5/5.5, ȳ = 31/5.5; slope 11.4545/13.0909
    # = 0.875 (7/8 of the plan's pace); Â = ȳ − 0.875·x̄ = (31 + 30.1875)/5.5 = 11.125;
    # AP = (11.125 − 4)/(13 − 4) = 0.791667 → accelerate (it is behind: 7 < 8)
    a = anticipated_progress([2021, 2022], [4, 7], 13, 2023, **kw)
    assert a.detail["rule"] == "weighted_regression_on_plan"
    assert a.detail["projection"] == pytest.approx(11.125, abs=1e-12)
    assert a.value == pytest.approx(7.125 / 9, abs=1e-12) and a.outcome == "accelerate"
    # status: CS 3/9 against the plan's (8 − 4)/9 = 4/9 → behind
    s = current_status([2021, 2022], [4, 7], 13, 2023, **kw)
    assert s.detail["expected_share"] == 4 / 9 and s.outcome == "behind"
    # CAGR: √(7/4) − 1 = 0.322876 against the plan's √(8/4) − 1 = 0.414214 → R 0.779491
    c = cagr_assessment([2021, 2022], [4, 7], 13, 2023, **kw)
    assert round(c.value, 6) == 0.779491 and c.outcome == "moderate_progress"
    # miss share: 3 gained where the plan asked 4 (pace 0.75), over the plan's remaining 5:
    # P = 7 + 0.75·5 = 10.75; (13 − 10.75)/(13 − 7) = 0.375 → right direction, not enough
    m = miss_share_assessment([2021, 2022], [4, 7], 13, 2023, **kw)
    assert m.value == pytest.approx(0.375, abs=1e-12)
    assert m.outcome == "right_direction_insufficient"


def test_plan_on_a_straight_line_is_the_straight_line():
    # plan 4, 7, 10, 13 (FY2020–2023) is the straight line from baseline to target: the
    # plan's own measures equal the straight-line ones (to rounding)
    kw = {**ONE, "plan": [7, 10]}
    for method in (current_status, anticipated_progress, miss_share_assessment):
        on_plan = method([2021, 2022], [4, 7], 13, 2023, **kw)
        straight = method([2021, 2022], [4, 7], 13, 2023, **ONE)
        assert on_plan.value == pytest.approx(straight.value, abs=1e-12), method.__name__
        if method is current_status:
            # FY2022's own target 10 missed (7) is "behind"; the straight line's rate
            # (3/9)/(2/3) = 0.5 is "needs improvement": the same verdict in other words
            assert (on_plan.outcome, straight.outcome) == ("behind", "needs_improvement")
            assert VERDICT_OF[on_plan.outcome] == VERDICT_OF[straight.outcome] == "behind"
        else:
            assert on_plan.outcome == straight.outcome
    # e.g. the miss share: pace 3/(10 − 4) = 0.5, P = 7 + 0.5·3 = 8.5 = 7 + 1.5·1 (Destatis)
    assert miss_share_assessment([2021, 2022], [4, 7], 13, 2023, **kw).value == 0.75


def test_plan_that_speeds_up_later():
    # b 100 (FY2020), targets 110, 120 (FY2021–2022), 200 (FY2023); actuals 111, 122: each
    # year's target met. On the years the line 100, 111, 122 reaches 133 in FY2023 (AP 0.33,
    # "accelerate"); against the plan it is y = 100 + 1.1·(P − 100), at P = 200: 210,
    # AP = (210 − 100)/(200 − 100) = 1.1 → maintain, as on track as the status says
    kw = {"baseline": 100, "baseline_year": 2020}
    years, actual = [2021, 2022], [111, 122]
    a = anticipated_progress(years, actual, 200, 2023, **kw, plan=[110, 120])
    assert a.detail["projection"] == pytest.approx(210, abs=1e-9)
    assert a.value == pytest.approx(1.1, abs=1e-12) and a.outcome == "maintain"
    assert anticipated_progress(years, actual, 200, 2023, **kw).outcome == "accelerate"
    s = current_status(years, actual, 200, 2023, **kw, plan=[110, 120])
    assert s.value == pytest.approx(0.22) and s.outcome == "on_track"  # 22/100 ≥ 20/100


def test_no_call_to_accelerate_in_or_after_the_plan_end_year():
    # ① FY2023 with its plan: 9 against 13 in the plan-end year → missed in every method
    # that looks ahead; the CAGR ratio only describes the growth (0.644929, moderate)
    r = assess_series(YEARS, [4, 7, 9], target=13, target_year=2023, plan=[6, 8, 13], **ONE)
    assert r["status"].outcome == "target_missed"
    assert r["anticipated"].outcome == "target_missed" and r["anticipated"].value == 5 / 9
    assert r["miss_share"].outcome == "target_missed"
    assert round(r["cagr"].value, 6) == 0.644929 and r["cagr"].outcome == "moderate_progress"
    # ③ FY2023, 50 against 50: met, "target achieved" rather than "maintain"
    a = anticipated_progress(YEARS, [47, 56, 50], 50, 2023, plan=[40, 45, 50])
    assert a.outcome == "target_achieved"


def test_assess_series_and_labels():
    r = assess_series(YEARS, [4, 7, 9], target=13, target_year=2023, **ONE)
    assert set(r) == {"status", "anticipated", "cagr", "miss_share"}
    assert r["cagr"].outcome == "moderate_progress"
    for res in r.values():
        assert res.outcome in OUTCOME_LABELS
    ja, en = OUTCOME_LABELS["not_applicable_sign_change"]
    assert en == "not applicable (sign change)" and "符号" in ja


def test_bad_input():
    with pytest.raises(ParameterError):
        cagr_assessment([2021, 2022], [1.0])
    with pytest.raises(ParameterError):
        cagr_assessment([2021, 2021], [1.0, 2.0])
    with pytest.raises(ParameterError):
        current_status(YEARS, [4, 7, 9], 13, 2023, direction="up")


def test_year_without_target_uses_the_interim_bands():
    # 14100-mokuhyo ①'s case (issue 16.1): b 2 (FY2014), final target 10 due FY2019, actual 5
    # in FY2016, no target of its own: progress (5 − 2)/(10 − 2) = 3/8 after (2016 − 2014)/
    # (2019 − 2014) = 2/5 of the period, rate (3/8)/(2/5) = 0.9375 → 概ね順調 (0.6 ≤ r < 1).
    # The status index and interim_class go through one band kernel and say the same.
    kw = {"baseline": 2, "baseline_year": 2014}
    s = current_status([2016], [5], 10, 2019, **kw)
    assert s.value == 3 / 8 and s.detail["expected_share"] == 2 / 5
    assert s.outcome == "roughly_on_track"
    assert classify_pro_rata(interim_progress(5, 2, 10, 2016, 2014, 2019).value) == s.outcome
    # 2/8 after 2/5: 0.625 (still roughly); 1/8 after 2/5: 0.3125 → needs improvement;
    # 4/8 after 2/5: 1.25 → on track; 2 → 2: no progress (interim_class: needs improvement)
    assert current_status([2016], [4], 10, 2019, **kw).outcome == "roughly_on_track"
    assert current_status([2016], [3], 10, 2019, **kw).outcome == "needs_improvement"
    assert current_status([2016], [6], 10, 2019, **kw).outcome == "on_track"
    assert current_status([2016], [2], 10, 2019, **kw).outcome == "no_progress"
    # the same year with a target of its own (plan 5) keeps the plan's rule: 5 ≥ 5 → on track
    assert current_status([2016], [5], 10, 2019, plan=[5], **kw).outcome == "on_track"
    assert current_status([2016], [5], 10, 2019, plan=[6], **kw).outcome == "behind"
