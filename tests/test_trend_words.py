"""The trends report in plain words (issue 17, point 2): one sentence per KPI.

The seed programme's plan runs FY2021–2023 (目標 ① 13団体, ② 3,000人, ③ 50回, ④ 500人 in FY2023).
In FY2022, an interim year, the report answers "will ① reach 13 in FY2023?" with the chance in
words; in FY2023, the plan's last year, it states the outcome and no probability.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from kpianalysis.analysis.projection import trend_table
from kpianalysis.report.trends_views import outlook_sentence, trend_methods, trend_outlook

SEED = "23205-community"


def _seed_table(seed, year: int) -> pd.DataFrame:
    """The seed programme's rows only: partners' programmes may sit beside it in data/raw."""
    table = trend_table(seed if seed.as_of_year == year else seed.as_of(year), year)
    return table[table["programme_id"] == SEED].reset_index(drop=True)


def test_fy2022_answers_will_it_reach_the_target_in_one_sentence(seed) -> None:
    rows = _seed_table(seed, 2022).to_dict("records")
    # ① running total 4 → 4 → 7 (increments 0 and 3, mean 1.5 a year): FY2023 ≈ 7 + 1.5 = 8.5;
    # P(FY2023 ≥ 13) = 2 % (test_projection.py checks it against the negative binomial). The
    # prediction interval's bounds are the trend model's (tests/test_trends.py); here only
    # how they are said.
    lo, hi = int(rows[0]["projected_pi_low"]), int(rows[0]["projected_pi_high"])
    assert lo == 7  # the level reached: a running total cannot fall
    assert outlook_sentence(rows[0], 2022) == (
        "① 小学校区コミュニティの設立数: 2023年度の目標（13団体）を達成する見込みは低い（約2%）。"
        f"2022年度までの傾向を延ばすと、2023年度は約8.5団体（95%予測区間 {lo}〜{hi}団体）です。"
    )
    assert outlook_sentence(rows[0], 2022, "en") == (
        "① Elementary-school-district communities established (cumulative): meeting the FY2023 "
        "target of 13 organisations is unlikely (about 2%). On the trend up to FY2022, FY2023 "
        f"would be about 8.5 organisations (95% prediction interval {lo} to {hi})."
    )
    # ② two actuals (▲468, ▲127): a line through them reaches 214 in FY2023
    # (−127 + 341), but two points give no interval, so no chance is stated and the value is
    # marked as a rough reference.
    assert outlook_sentence(rows[1], 2022) == (
        "② 若い世代（39歳以下）の転入者数ー転出者数: 2023年度の目標（3,000人）を達成する見込みは"
        "示せません（2点のみのため区間なし）。参考: 2022年度までの傾向をそのまま延ばすと"
        "2023年度は約214人（不確かさは評価できません）。"
    )


def test_fy2023_states_the_outcome_without_probability_or_forecast(seed) -> None:
    table = _seed_table(seed, 2023)
    sentences = [outlook_sentence(r, 2023) for r in table.to_dict("records")]
    # Actuals FY2023: ① 9 of 13, ② 83 of 3,000, ③ 50 of 50, ④ 1,341 of 500.
    assert sentences == [
        "① 小学校区コミュニティの設立数: 計画最終年度（2023年度）の目標 13団体に対し、"
        "実績は9団体で、目標に届きませんでした（差 ▲4団体）。",
        "② 若い世代（39歳以下）の転入者数ー転出者数: 計画最終年度（2023年度）の目標 3,000人に対し、"
        "実績は83人で、目標に届きませんでした（差 ▲2,917人）。",
        "③ コミュニティ・スクールの活動回数（1校あたりの平均回数／年）: 計画最終年度（2023年度）の"
        "目標 50回に対し、実績は50回で、目標を達成しました（差 0回）。",
        "④ 外国籍市民向けフェイスブック登録者数: 計画最終年度（2023年度）の目標 500人に対し、"
        "実績は1,341人で、目標を達成しました（差 +841人）。",
    ]
    text = str(trend_outlook(table, 2023)) + str(trend_outlook(table, 2023, "en"))
    # No probability and no FY2024 forecast for a plan that ended.
    assert "%" not in "".join(sentences) and "2024" not in text
    assert "確率は示しません" in text and "no probability" in text


def test_no_internal_codes_in_the_appendix(seed) -> None:
    from kpianalysis.analysis.projection import trend_priors

    ds = seed.as_of(2023)
    for language in ("ja", "en"):
        html = str(trend_methods(language, trend_priors(ds, 2023), _seed_table(seed, 2023)))
        # Issue 17 quoted these from the report: a pool code, a t quantile, a column of codes.
        for code in ("ols・", "|", "t(0.975)", "点数/残差自由度", "squeezeVar", "・単位回"):
            assert code not in html, (language, code)
        # Pools in words, and a glossary of the terms the report uses.
        assert ("直線（最小二乗法）・平均の指標・単位「回」" in html) == (language == "ja")
        for term in (
            ("予測区間", "信頼区間", "準ポアソン", "経験ベイズ")
            if language == "ja"
            else (
                "prediction interval",
                "confidence interval",
                "quasi-Poisson",
                "empirical Bayes",
            )
        ):
            assert term in html, term


def test_fy2021_figure_says_no_trend_where_none_is_drawn(seed, monkeypatch) -> None:
    # FY2021: ② and ③ have one actual each (their baselines are "-"): no trend line at all;
    # ① (baseline 4, FY2021 4) and ④ (225 → 312) have a line but too few points for a band.
    from kpianalysis.analysis.projection import trend_predictions
    from kpianalysis.report import trends_views

    seen: dict = {}

    class Drawn(Exception):  # the figure itself is not needed
        pass

    def keep(obs, pred, **kwargs):
        seen.update(kwargs["notes"])
        raise Drawn

    monkeypatch.setattr(trends_views, "trend_figure", keep)
    ds = seed.as_of(2021)
    preds = trend_predictions(ds, 2021)
    with pytest.raises(Drawn):
        trends_views.trend_chart(
            ds, _seed_table(seed, 2021), preds[preds["programme_id"] == SEED], "en", 2021
        )
    assert [(k[0], v) for k, v in sorted(seen.items())] == [
        ("①", "no interval (reason in the table)"),
        ("②", "no trend (reason in the table)"),
        ("③", "no trend (reason in the table)"),
        ("④", "no interval (reason in the table)"),
    ]


def _slope_row(slope: float, unit: str, ci: tuple[float, float] | None = None) -> dict:
    """A straight-line trend row as trend_table gives it (no log or logit scale)."""
    lo, hi = ci if ci else (float("nan"), float("nan"))
    return {
        "slope": slope,
        "slope_pct_per_year": float("nan"),
        "model": "ols",
        "unit": unit,
        "ci_low": lo,
        "ci_high": hi,
    }


def test_a_slope_of_a_unit_already_per_year_says_the_year_once() -> None:
    from kpianalysis.report.trends_views import _slope_text

    # 20201-shoten ② 創業相談件数 in 件/年: 45 → 52 → 59 件/年 rises 7 件/年 each year. "/年"
    # after its unit read "7件/年/年" and "7 cases per year/yr".
    row = _slope_row(7.0, "件/年", (2.0, 12.0))
    assert _slope_text(row, "ja") == "毎年 +7件/年（2〜12）"
    assert _slope_text(row, "en") == "+7 cases per year, each year (2 to 12)"
    # 人/日 falling 50 a year; a unit per month likewise (7.5 persons per month).
    assert _slope_text(_slope_row(-50.0, "人/日"), "ja") == "毎年 -50人/日"
    assert _slope_text(_slope_row(7.5, "人/月"), "en") == "+7.5 persons per month, each year"
    # A unit that is no rate keeps the plain "/年" (the seed's 団体, 人).
    assert _slope_text(_slope_row(1.5, "団体"), "ja") == "1.5団体/年"
    assert _slope_text(_slope_row(341.0, "人"), "en") == "341 persons/yr"


def test_english_trend_text_writes_negatives_with_the_minus_sign(seed) -> None:
    from kpianalysis.report.trends_views import trend_view

    # A falling line: ② as if −468 → −127 were reversed (−127 → −468) gives −341 a year
    # (least squares through two points); English writes "−341", as "−468 persons" elsewhere.
    table = _seed_table(seed, 2022)
    row = {**table.iloc[1].to_dict(), "slope": -341.0, "ci_low": -500.0, "ci_high": -100.0}
    en, ja = (
        re.sub(r"<[^>]+>", "", str(trend_view(pd.DataFrame([row]), lang))) for lang in ("en", "ja")
    )
    assert "−341 persons/yr (−500 to −100)" in en and "-341" not in en
    assert "-341人/年（-500〜-100）" in ja  # Japanese as before
