"""Trend table of the seed KPIs per fiscal year, with hand-computed reference values."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest
from scipy import stats

from kpianalysis.analysis.projection import (
    kpi_series,
    reason_text,
    trend_predictions,
    trend_priors,
    trend_table,
)
from kpianalysis.analysis.trends import QUAD_ERROR


def test_baseline_is_an_observation_when_it_precedes_the_plan(seed):
    ind = seed.indicators.join(
        seed.programmes.set_index("programme_id")[["plan_start", "plan_end"]], on="programme_id"
    )
    one = kpi_series(seed, 2023, ind.iloc[0].to_dict())  # ① baseline FY2020: 累計 4団体
    assert one["fiscal_year"].tolist() == [2020, 2021, 2022, 2023]
    assert one["actual"].tolist() == [4, 4, 7, 9] and one["is_baseline"].tolist()[0]
    two = kpi_series(seed, 2023, ind.iloc[1].to_dict())  # ② baseline "-": nothing to add
    assert two["fiscal_year"].tolist() == [2021, 2022, 2023]


def test_fy2021_has_too_little_and_says_so(seed):
    t = trend_table(seed.as_of(2021), 2021).set_index("indicator_id")
    assert t["n"].tolist() == [2, 1, 1, 2]  # baseline + FY2021 for ① and ④
    assert t.loc[1, "reason"] == "no_finite_estimate"  # increment 4 → 4 is 0: rate 0
    assert t.loc[4, "reason"] == "no_interval_with_2_points"
    assert t["prob_reach"].isna().all()


def test_fy2022_probability_of_reaching_13_in_fy2023(seed):
    t = trend_table(seed.as_of(2022), 2022).set_index("indicator_id")
    r = t.loc[1]
    assert r["model"] == "poisson_increments" and r["final_target"] == 13
    assert r["projection_year"] == 2023 and not r["beyond_plan"]
    # Increments 0 (4 → 4) and 3 (4 → 7): λ = 1.5 a year; Pearson χ² on 1 df only, so the
    # dispersion is not estimable and Poisson variation is assumed: se(log λ) = √(1 / (1.5·2)).
    # The rate's likelihood from S = 3 counts in Σk = 2 years is the gamma with shape 3 and
    # rate 2 (mean 1.5, CV 1/√3 = se(log λ)); one more year S' | λ ~ Poisson(λ) makes S'
    # negative binomial, r = 3, p = 2/(2 + 1) = 2/3 (Poisson–gamma mixture). P(FY2023 ≥ 13) =
    # P(S' ≥ 6) = 1 − (2/3)³·Σ_{s≤5} C(s+2, 2)/3^s
    #           = 1 − (8/27)·(1 + 1 + 2/3 + 10/27 + 15/81 + 21/243) = 1 − 0.980338 = 0.019662.
    assert r["slope"] == pytest.approx(1.5) and bool(r["dispersion_assumed"])
    exact = float(stats.nbinom.sf(5, 3, 2 / 3))
    assert exact == pytest.approx(0.019662, abs=1e-6)
    # Deterministic quadrature: 2.6e-5 off, within the documented bound.
    assert r["prob_reach"] == pytest.approx(exact, abs=QUAD_ERROR)
    assert round(100 * r["prob_reach"]) == 2
    assert r["projected_pi_low"] >= 7  # never below the level already reached
    # ② and ③ have 2 points and no comparable series: no interval, no probability.
    assert t.loc[2, "reason"] == "no_interval_with_2_points" and math.isnan(t.loc[2, "prob_reach"])
    # Without a plan-end target in the data, no probability is invented.
    obs = seed.observations.copy()
    obs.loc[obs["fiscal_year"] == 2023, "target"] = np.nan
    cut = dataclasses.replace(seed, observations=obs).as_of(2022)
    row = trend_table(cut, 2022).set_index("indicator_id").loc[1]
    assert row["reason"] == "no_final_target" and math.isnan(row["prob_reach"])


def test_fy2023_plan_ended_outcomes_and_coherent_intervals(seed):
    t = trend_table(seed.as_of(2023), 2023).set_index("indicator_id")
    assert t["n"].tolist() == [4, 3, 3, 4]  # baselines of ① and ④ are observations
    assert t["prob_reach"].isna().all()  # the plan ended in FY2023: outcomes, not probabilities
    assert t["outcome"].tolist() == [
        "final_missed",
        "final_missed",
        "final_achieved",
        "final_achieved",
    ]
    assert t["final_gap"].tolist() == [-4.0, -2917.0, 0.0, 841.0]
    assert t["beyond_plan"].all() and (t["projection_year"] == 2024).all()
    # ① quasi-Poisson increments (φ = 1.4 on 2 df): the FY2024 interval starts at the 9 reached.
    one = t.loc[1]
    assert one["model"] == "poisson_increments" and bool(one["quasi"])
    assert one["projected_pi_low"] >= 9 and one["projected_ci_low"] >= 9
    shown = t[t["projected_pi_low"].notna()]
    assert (shown["projected_pi_low"] <= shown["projected_ci_low"]).all()
    assert (shown["projected_pi_high"] >= shown["projected_ci_high"]).all()
    # ② OLS on 3 points, no comparable series: 1 df, so no interval is shown.
    assert t.loc[2, "reason"] == "too_few_df" and math.isnan(t.loc[2, "projected_pi_low"])
    assert t.loc[2, "slope"] == pytest.approx(275.5)
    # ④ log-linear on 225, 312, 1019, 1341 (FY2020–2023), 2 df.
    x = np.array([-1.5, -0.5, 0.5, 1.5])
    b = float(np.sum(x * np.log([225, 312, 1019, 1341])) / np.sum(x * x))
    assert t.loc[4, "slope"] == pytest.approx(b, rel=1e-12) and t.loc[4, "model"] == "loglinear"


def test_priors_table_lists_each_pool(seed):
    p = trend_priors(seed.as_of(2023), 2023).set_index("pool")
    # One series per pool in the seed: nothing to pool (d0 = 0).
    assert set(p.index) == {"poisson", "loglinear", "ols|flow|人", "ols|average|回"}
    assert (p["n_series"] == 1).all() and (p["prior_df"] == 0).all()


def test_pooling_across_programmes_gives_intervals(seed):
    # A second programme with the same KPIs, slightly different: the OLS flows and averages now
    # have comparable series, so ② and ③ get a prior and (if d0 + 1 ≥ 2) an interval.
    import pandas as pd

    other = seed.observations.copy()
    other["programme_id"] = "other"
    other["actual"] = other["actual"] * 1.1 + np.where(other["indicator_id"] == 2, 40.0, 1.0)
    ind = seed.indicators.copy()
    ind2 = ind.assign(programme_id="other")
    prog = pd.concat([seed.programmes, seed.programmes.assign(programme_id="other")])
    ds = dataclasses.replace(
        seed,
        observations=pd.concat([seed.observations, other], ignore_index=True),
        indicators=pd.concat([ind, ind2], ignore_index=True),
        programmes=prog.reset_index(drop=True),
    )
    t = trend_table(ds.as_of(2023), 2023, programme_id=seed.programmes["programme_id"].iloc[0])
    assert len(t) == 4 and (t["prior_df"] > 0).any()


def test_predictions_span_first_year_to_projection_year(seed):
    p = trend_predictions(seed.as_of(2023), 2023)
    one = p[p["indicator_id"] == 1]
    assert list(one["fiscal_year"]) == [2020, 2021, 2022, 2023, 2024]
    assert (one["pi_low"].dropna() >= 9).all()
    two = p[p["indicator_id"] == 2]
    assert list(two["fiscal_year"]) == [2021, 2022, 2023, 2024]
    assert two["mean"].iloc[0] == pytest.approx(-170.0 - 2 / 3 - 275.5)
    assert two["pi_low"].isna().all()  # 1 df: no band drawn


def test_reason_text_in_both_languages():
    assert reason_text("no_final_target", "en") == "the plan has no target for its final year"
    assert reason_text("too_few_points") == "データ点が2点未満"
    assert reason_text("too_few_df", "en").startswith("fewer than 2 residual degrees")
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
    tr = pd.read_parquet(tmp_path / "trends_fy2023.parquet")
    assert tr["outcome"].tolist() == [
        "final_missed",
        "final_missed",
        "final_achieved",
        "final_achieved",
    ]


def test_trend_view_states_outlook_and_outcome_in_words(seed):
    from kpianalysis.report.trends_views import trend_methods, trend_view

    t22 = trend_table(seed.as_of(2022), 2022)
    fy22 = str(trend_view(t22, "en"))
    # ① P(FY2023 ≥ 13) = 2 % (computed above): in words, then the whole percent.
    assert '<td>unlikely (about <span class="nb">2%</span>)</td>' in fy22
    # How each trend was fitted is in the appendix, once per KPI, not in the table.
    assert "Poisson variation assumed" not in fy22
    methods = str(trend_methods("en", None, t22))
    assert methods.count("Poisson variation assumed (overdispersion not estimable)") == 1
    # Numbers with units sit in <span class="nb"> (no line break inside): compare the text.
    fy23 = re.sub(r"<[^>]+>", "", str(trend_view(trend_table(seed.as_of(2023), 2023), "ja")))
    assert "最終目標は未達成（実績 9団体、目標 13団体、差 ▲4団体）" in fy23
    # FY2024 lies beyond the plan (FY2021–2023): a reference value, marked so, no probability.
    # (its upper bound is the trend model's, tested in test_trends.py; 9 is the level reached)
    assert re.search(r"参考（計画終了後）2024年度: 10\.7団体（9〜\d+）", fy23)
    assert "見込みは" not in fy23
