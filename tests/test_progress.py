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

from kpianalysis.analysis.progress import (
    OUTCOME_LABELS,
    anticipated_progress,
    assess_series,
    cagr_assessment,
    current_status,
    miss_share_assessment,
)
from kpianalysis.errors import ParameterError

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
    # ① FY2023: CS = (9 − 4)/(13 − 4) = 5/9, expected share 1 → behind
    a = current_status(YEARS, [4, 7, 9], 13, 2023, **ONE)
    assert a.value == 5 / 9 and a.outcome == "behind"
    # ① as of FY2022: CS = 3/9, expected (2022 − 2020)/(2023 − 2020) = 2/3 → behind
    a = current_status([2021, 2022], [4, 7], 13, 2023, **ONE)
    assert a.value == 3 / 9 and a.detail["expected_share"] == 2 / 3 and a.outcome == "behind"
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
    assert anticipated_progress(YEARS, [4, 8, 13], 13, 2023, **ONE).outcome == "maintain"
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
    # ② level-based, works across the sign change: slope (83 + 468)/2, at target year → 100 %
    a = miss_share_assessment(YEARS, [-468, -127, 83], 3000, 2023)
    assert a.value == 1.0 and a.outcome == "right_direction_insufficient"
    assert miss_share_assessment(YEARS, [47, 56, 50], 50, 2023).outcome == "target_achieved"
    assert miss_share_assessment([2021], [4], 13, 2023).outcome == "insufficient_data"
    # window: only the last 5 years count (2012 lies outside)
    w = miss_share_assessment([2012, 2018, 2023], [100, 0, 10], 20, 2024)
    assert w.detail["slope_per_year"] == 2.0


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
