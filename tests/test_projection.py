"""Trend table of the seed KPIs per fiscal year (as-of), with hand-computed reference values."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from kpianalysis.analysis.projection import reason_text, trend_predictions, trend_table


def test_fy2021_has_one_point_and_says_so(seed):
    t = trend_table(seed.as_of(2021), 2021)
    assert list(t["n"]) == [1, 1, 1, 1]
    assert set(t["reason"]) == {"too_few_points"}
    assert t["slope"].isna().all() and t["prob_reach"].isna().all()
    assert trend_predictions(seed.as_of(2021), 2021).empty


def test_fy2022_two_points_slope_without_interval(seed):
    t = trend_table(seed.as_of(2022), 2022).set_index("indicator_id")
    # ② OLS through (2021, -468) and (2022, -127): slope 341 a year, FY2023 at 214.
    assert t.loc[2, "slope"] == pytest.approx(341.0)
    assert t.loc[2, "projected_mean"] == pytest.approx(214.0)
    assert t.loc[2, "projection_year"] == 2023
    assert math.isnan(t.loc[2, "projected_pi_low"]) and math.isnan(t.loc[2, "prob_reach"])
    assert set(t["reason"]) == {"no_interval_with_2_points"}
    # ① Poisson through 4 and 7: log-slope ln(7/4) = 0.559616.
    assert t.loc[1, "model"] == "poisson"
    assert t.loc[1, "slope"] == pytest.approx(math.log(7 / 4))
    # As of FY2022 the plan's final (FY2023) targets are known — they are part of the plan —
    # but no FY2023 actual is used (two points each).
    assert list(t["final_target"]) == [13, 3000, 50, 500]
    assert set(t["final_target_year"]) == {2023} and list(t["n"]) == [2, 2, 2, 2]


def test_fy2023_fits_and_probability_of_reaching_the_final_target(seed):
    t = trend_table(seed.as_of(2023), 2023).set_index("indicator_id")
    assert list(t["n"]) == [3, 3, 3, 3] and list(t["df_resid"]) == [1, 1, 1, 1]
    assert list(t["projection_year"]) == [2024] * 4  # plan ended in FY2023: look one year on
    # ① Poisson (METHODS.md §3 worked check): slope 0.384156, se 0.283986.
    assert t.loc[1, "slope"] == pytest.approx(0.384156, abs=1e-6)
    assert t.loc[1, "slope_se"] == pytest.approx(0.283986, abs=1e-6)
    # ② OLS on x = -1, 0, 1 and y = -468, -127, 83, by hand: slope (83 + 468) / 2 = 275.5,
    # residuals (-21.83, 43.67, -21.83), s^2 = SSR / 1 = 2860.17; FY2024 (x = 2) mean
    # -170.667 + 2 * 275.5 = 380.333, se_pred = s * sqrt(1 + 1/3 + 4/2).
    s = math.sqrt((21.5 + 1 / 3) ** 2 * 2 + (43.5 + 1 / 6) ** 2)
    se_pred = s * math.sqrt(1 + 1 / 3 + 2)
    assert t.loc[2, "slope"] == pytest.approx(275.5)
    assert t.loc[2, "projected_mean"] == pytest.approx(380.0 + 1 / 3)
    assert t.loc[2, "projected_pi_high"] == pytest.approx(380 + 1 / 3 + 12.706205 * se_pred)
    expected = stats.t.sf((3000 - (380 + 1 / 3)) / se_pred, df=1)
    assert t.loc[2, "prob_reach"] == pytest.approx(expected, rel=1e-9)
    assert t.loc[2, "final_target"] == 3000
    # ④ is overdispersed (Pearson chi2/df > 1): the quasi-Poisson scale is used.
    assert bool(t.loc[4, "quasi"]) and t.loc[4, "dispersion"] > 1
    assert t["reason"].isna().all()


def test_predictions_span_first_year_to_projection_year(seed):
    p = trend_predictions(seed.as_of(2023), 2023)
    one = p[p["indicator_id"] == 2]
    assert list(one["fiscal_year"]) == [2021, 2022, 2023, 2024]
    assert one["mean"].iloc[0] == pytest.approx(-170.0 - 2 / 3 - 275.5)


def test_reason_text_in_both_languages():
    assert reason_text("no_final_target", "en") == "the plan has no target for its final year"
    assert reason_text("too_few_points") == "データ点が2点未満"
    assert reason_text(None) == ""


def test_result_tables_are_written_per_fiscal_year(seed, tmp_path):
    import pandas as pd

    from kpianalysis.analysis.results import write_results

    written = write_results(seed, tmp_path)
    assert sorted(p.name for p in written if p.suffix == ".csv") == [
        "attainment_fy2021.csv",
        "attainment_fy2022.csv",
        "attainment_fy2023.csv",
        "trends_fy2021.csv",
        "trends_fy2022.csv",
        "trends_fy2023.csv",
    ]
    att = pd.read_csv(tmp_path / "attainment_fy2023.csv", encoding="utf-8-sig")
    # 1341 / 500 (FY2023 sheet, KPI ④).
    assert att.loc[att.indicator_id == 4, "achievement_rate"].item() == pytest.approx(2.682)
    assert (tmp_path / "attainment_fy2023.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    tr = pd.read_parquet(tmp_path / "trends_fy2022.parquet")
    assert set(tr["reason"]) == {"no_interval_with_2_points"}
