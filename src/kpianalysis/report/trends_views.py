"""Sections of the trends report (notebooks/trends.ipynb): fitted trends and projections.

These functions only *present* what :mod:`kpianalysis.analysis.projection` computed; every
data-derived string passes through :mod:`kpianalysis.report.present`, which escapes it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from kpianalysis.analysis.projection import kpi_series, model_reason
from kpianalysis.data.dataset import Dataset
from kpianalysis.report import present as P
from kpianalysis.report.embed import figure_html
from kpianalysis.report.figures import trend_figure
from kpianalysis.report.labels import (
    indicator_name,
    percent_text,
    quantity,
    reason_text,
    unit_text,
)

__all__ = ["trend_chart", "trend_methods", "trend_view"]


def trend_chart(
    ds: Dataset,
    table: pd.DataFrame,
    predictions: pd.DataFrame,
    language: str = "ja",
    fiscal_year: int | None = None,
) -> P.Html:
    """Per KPI: actuals, baseline, the plan's targets as a path, the trend with both bands."""
    fy = fiscal_year if fiscal_year is not None else ds.as_of_year
    if fy is None:
        fy = int(ds.observations["fiscal_year"].max())
    plans = ds.programmes.set_index("programme_id")[["plan_start", "plan_end"]]
    names: dict[tuple[Any, Any], str] = {}
    frames = []
    for r in table.to_dict("records"):
        key = (r["programme_id"], r["indicator_id"])
        names[key] = indicator_name(r, language)
        ind = ds.indicators[
            (ds.indicators["programme_id"] == key[0]) & (ds.indicators["indicator_id"] == key[1])
        ]
        if ind.empty:
            continue
        row = {**ind.iloc[0].to_dict(), **plans.loc[key[0]].to_dict()}
        frames.append(kpi_series(ds, int(fy), row).assign(label=names[key]))
    obs = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["label"])
    pred = predictions.copy()
    pred["label"] = [
        names.get((p, i), "")
        for p, i in zip(pred["programme_id"], pred["indicator_id"], strict=True)
    ]
    units = {
        names[(r["programme_id"], r["indicator_id"])]: unit_text(r["unit"], language)
        for r in table.to_dict("records")
    }
    notes = {
        names[(r["programme_id"], r["indicator_id"])]: reason_text(r["reason"], language)
        for r in table.to_dict("records")
    }
    nonneg = {
        names[(r["programme_id"], r["indicator_id"])]: r["kind"] in ("cumulative", "stock")
        or r["model"] in ("poisson", "poisson_increments", "loglinear")
        for r in table.to_dict("records")
    }
    fig = trend_figure(obs, pred, units=units, notes=notes, nonnegative=nonneg, language=language)
    caption = P.pick(
        "KPIごとの傾向と予測（実績値、目標値、当てはめた傾向と95%区間）",
        "Trend and projection per KPI (actuals, targets, fitted trend with 95 % bands)",
        language,
    )
    return figure_html(fig, caption, caption)


def trend_view(table: pd.DataFrame, language: str = "ja") -> P.Html:
    """One row per KPI: model and why, fit, projection with both intervals, and either the
    probability of meeting the plan-end target or, once the plan has ended, the known outcome."""
    t = table.copy()
    recs = t.to_dict("records")
    t["indicator"] = [indicator_name(r, language) for r in recs]
    t["model_s"] = [_trend_model_text(r, language) for r in recs]

    def num(v: Any, digits: int = 3) -> str:
        return "" if v is None or pd.isna(v) else f"{float(v):,.{digits}g}"

    def slope_text(r: dict[str, Any]) -> str:
        if pd.isna(r["slope"]):
            return ""
        ci = f" [{num(r['ci_low'])}, {num(r['ci_high'])}]" if pd.notna(r["ci_low"]) else ""
        if pd.notna(r["slope_pct_per_year"]):
            pct = percent_text(r["slope_pct_per_year"])
            return P.pick(f"{pct}/年", f"{pct}/yr", language) + (
                f" [{percent_text(math.expm1(r['ci_low']))}, {percent_text(math.expm1(r['ci_high']))}]"
                if pd.notna(r["ci_low"])
                else ""
            )
        return (
            num(r["slope"])
            + P.pick(f"{r['unit']}/年", f" {unit_text(r['unit'], 'en')}/yr", language)
            + ci
        )

    def df_text(r: dict[str, Any]) -> str:
        d = "" if pd.isna(r["df_resid"]) else str(int(r["df_resid"]))
        if pd.notna(r["prior_df"]) and r["prior_df"] > 0:
            d0 = "∞" if math.isinf(r["prior_df"]) else f"{r['prior_df']:.1f}"
            d += P.pick(f"（統合 d₀={d0}）", f" (pooled d₀={d0})", language)
        return f"{int(r['n'])} / {d}"

    def projection_text(r: dict[str, Any]) -> str:
        if pd.isna(r["projected_mean"]):
            return ""
        count = r["model"] in ("poisson", "poisson_increments")
        head = f"FY{r['projection_year']}"
        if _flag(r.get("beyond_plan")):
            head += P.pick("（計画終了後の参考）", " (beyond the plan, for reference)", language)
        text = f"{head}: {_sig(r['projected_mean'], False)}"
        if pd.notna(r["projected_pi_low"]):
            text += P.pick(
                f" 平均の95%CI [{_sig(r['projected_ci_low'], False)}, "
                f"{_sig(r['projected_ci_high'], False)}]、95%予測区間 "
                f"[{_sig(r['projected_pi_low'], count)}, {_sig(r['projected_pi_high'], count)}]",
                f" 95% CI of mean [{_sig(r['projected_ci_low'], False)}, "
                f"{_sig(r['projected_ci_high'], False)}], 95% PI "
                f"[{_sig(r['projected_pi_low'], count)}, {_sig(r['projected_pi_high'], count)}]",
                language,
            )
        return text

    t["slope_s"] = [slope_text(r) for r in recs]
    t["df_s"] = [df_text(r) for r in recs]
    t["projection_s"] = [projection_text(r) for r in recs]
    t["target_s"] = [
        ""
        if pd.isna(r["final_target"])
        else f"FY{r['final_target_year']}: {quantity(r['final_target'], r['unit'], language)}"
        for r in recs
    ]
    t["prob_s"] = [_outcome_text(r, language) for r in recs]
    t["reason_s"] = [reason_text(r, language) for r in t["reason"]]
    cols = {
        "indicator": P.label("indicator", language),
        "model_s": P.pick("モデルと選択理由", "Model and why", language),
        "df_s": P.pick("点数 / 残差自由度", "n / df", language),
        "slope_s": P.pick("年あたりの変化 [95%CI]", "Change per year [95% CI]", language),
        "projection_s": P.pick("予測", "Projection", language),
        "target_s": P.pick("計画最終年度の目標", "Plan-end target", language),
        "prob_s": P.pick(
            "最終目標の達成確率／結果", "Probability of meeting it / outcome", language
        ),
        "reason_s": P.label("reason", language),
    }
    caption = P.pick("KPIごとの当てはめの結果", "Fitted trend per KPI", language)
    return P.table(t, cols, na_rep="", caption=caption, language=language)


def _flag(value: Any) -> bool:
    """A boolean table cell (NumPy, pandas' nullable or missing) as a plain bool."""
    return value is not None and not pd.isna(value) and bool(value)


def _trend_model_text(r: dict[str, Any], language: str) -> str:

    name = model_reason(r["model"], language)
    if _flag(r.get("quasi")):
        name += P.pick("・準ポアソン（過分散）", ", quasi-Poisson (overdispersed)", language)
    elif _flag(r.get("dispersion_assumed")) and not isinstance(r.get("reason"), str):
        name += P.pick(
            "・ポアソン分散を仮定（過分散は推定不能）",
            ", Poisson variation assumed (overdispersion not estimable)",
            language,
        )
    return name


def _whole_percent(p: Any) -> str:
    # Three annual points support no more than whole percent (METHODS.md §3).
    if p is None or pd.isna(p):
        return ""
    v = 100 * float(p)
    if v < 1:
        return "<1%"
    if v > 99:
        return ">99%"
    return f"{v:.0f}%"


def _sig(v: Any, count: bool) -> str:
    """A projected value: whole numbers for counts and large values, else 3 significant digits."""
    if v is None or pd.isna(v):
        return ""
    x = float(v)
    if count or abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.3g}"


def _outcome_text(r: dict[str, Any], language: str) -> str:
    code = r.get("outcome")
    if not isinstance(code, str):
        return _whole_percent(r["prob_reach"])
    word = reason_text(code, language)
    unit = r["unit"] if isinstance(r["unit"], str) else ""
    gap = float(r["final_gap"])
    detail = P.pick(
        f"（実績 {P.number(r['final_actual'], unit)}、目標 {P.number(r['final_target'], unit)}、"
        f"差 {'+' if gap > 0 else ''}{P.number(gap, unit)}）",
        f" (actual {quantity(r['final_actual'], unit, 'en')}, target "
        f"{quantity(r['final_target'], unit, 'en')}, difference {'+' if gap > 0 else ''}"
        f"{quantity(gap, unit, 'en')})",
        language,
    )
    return word + detail


def trend_methods(language: str = "ja", priors: pd.DataFrame | None = None) -> P.Html:
    """How the trends were fitted, with the empirical-Bayes priors (d₀, s₀²) of each pool."""
    items = [
        P.pick(
            "KPIの種類ごとにモデルを選択: 累計は各年度の増加数（件数なら過分散を含めた件数モデル、"
            "それ以外は増加分の平均）を推定し、到達済みの水準に今後の増加を加えて予測（累計は減らないため"
            "区間は到達済みの水準を下回りません）。正の値のストックは対数線形（一定の伸び率）、"
            "フロー・平均は直線（OLS）。当初値の年度が計画初年度より前なら、当初値も観測値として使います。",
            "Model by KPI kind: a running total is modelled on its yearly increments (a count "
            "model with its overdispersion for counts; else the mean increment) and projected "
            "as the level reached plus future increments, so its intervals never fall below that "
            "level. Strictly positive stocks: log-linear (constant growth). Flows and averages: "
            "straight line (OLS). A baseline whose year precedes the plan is an observation.",
            language,
        ),
        P.pick(
            "3点では残差自由度1（t(0.975)=12.706）で区間はほぼ役に立ちません。参照パネル（事前分布"
            "のファイル、下記）の同じモデル族の系列の残差分散から推定した経験ベイズの事前分布（Smyth 2004、"
            "limma squeezeVar）により、各系列の分散を s̃² = (d₀s₀² + d·s²)/(d₀ + d) に縮小、"
            "自由度 d₀ + d の t 分布で区間を計算します。統合後も自由度が2未満なら区間と確率は示しません。",
            "With 3 points df = 1 (t(0.975) = 12.706): an interval from one series is nearly "
            "useless. Residual variances are moderated towards an empirical-Bayes prior "
            "estimated from the same model family's series in a reference panel (the prior file, "
            "below; Smyth 2004, limma squeezeVar): s̃² = (d₀s₀² + d·s²)/"
            "(d₀ + d), t intervals on d₀ + d df. With fewer than 2 df after pooling no interval "
            "and no probability are shown.",
            language,
        ),
        P.pick(
            "予測区間は常に平均の信頼区間を含みます。件数の予測区間と確率は予測分布（パラメータの"
            "不確実性を混合したポアソン／負の二項分布）を決定的な数値積分で計算（乱数なし、誤差1e-3未満）。"
            "確率は整数パーセントで表示。8点未満では正規性検定を示しません。",
            "A prediction interval always contains the confidence interval of the mean. Count "
            "intervals and probabilities come from the predictive distribution (Poisson or "
            "negative binomial mixed over parameter uncertainty) by deterministic quadrature "
            "(no simulation; error below 1e-3). Probabilities in whole percent. No normality "
            "test under 8 points.",
            language,
        ),
        P.pick(
            "計画期間中は、計画最終年度の目標が最終年度に達成される確率（報告年度までのデータに基づく。"
            "累計は到達済みの水準を条件とする）。計画最終年度以降は結果が確定しているため確率ではなく"
            "達成・未達成と差を示し、翌年度の予測は参考として表示します。",
            "While the plan runs: the probability that the plan-end target is met in the plan's "
            "final year, given the data up to the report's year (running totals: conditional on "
            "the level reached). From the plan's final year on the outcome is known: achieved or "
            "missed and by how much; the next year's projection is shown for reference only.",
            language,
        ),
    ]
    if priors is not None and len(priors):
        for r in priors.to_dict("records"):
            d0 = float(r["prior_df"])
            if d0 > 0:
                d0s = "∞" if math.isinf(d0) else f"{d0:.2f}"
                text = P.pick(
                    f"分散の統合「{_pool_name(r['pool'], language)}」: {int(r['n_series'])}系列、"
                    f"d₀ = {d0s}、s₀² = {float(r['prior_scale']):.4g}",
                    f"Variance pool '{_pool_name(r['pool'], language)}': {int(r['n_series'])} "
                    f"series, d₀ = {d0s}, s₀² = {float(r['prior_scale']):.4g}",
                    language,
                )
            elif r.get("status", "prior_too_few_series") != "prior_too_few_series":
                text = P.pick(
                    f"分散の統合「{_pool_name(r['pool'], language)}」: "
                    f"{reason_text(r['status'], 'ja')}",
                    f"Variance pool '{_pool_name(r['pool'], language)}': "
                    f"{reason_text(r['status'], 'en')}",
                    language,
                )
            else:
                text = P.pick(
                    f"分散の統合「{_pool_name(r['pool'], language)}」: 比較できる系列が"
                    f"{int(r['n_series'])}系列のみで事前分布を推定できず（d₀ = 0）、区間は各系列単独の"
                    "広いものになります。",
                    f"Variance pool '{_pool_name(r['pool'], language)}': only "
                    f"{int(r['n_series'])} comparable series, so no prior can be estimated "
                    "(d₀ = 0) and intervals stay as wide as one series alone gives.",
                    language,
                )
            items.append(text)
    provenance = priors.attrs.get("provenance") if priors is not None else None
    if provenance:
        items.append(_prior_provenance(provenance, language))
    return P.bullet_list(items)


def _prior_provenance(provenance: Mapping[str, Any], language: str) -> str:
    """Where the priors came from: the reference panel's programmes, the date, the version."""
    ids = "、".join(str(p.get("programme_id", "")) for p in provenance.get("programmes", []))
    n = len(provenance.get("programmes", []))
    when = str(provenance.get("estimated_on", ""))
    version = str(provenance.get("library_version", ""))
    return P.pick(
        f"事前分布のファイル: {when}に参照パネル{n}事業（{ids}）から推定（kpianalysis {version}、"
        f"{int(provenance.get('min_series', 0))}系列未満の族は統合しない）。",
        f"Prior file: estimated on {when} from a reference panel of {n} programme(s) "
        f"({ids.replace('、', ', ')}; kpianalysis {version}; families with fewer than "
        f"{int(provenance.get('min_series', 0))} series are not pooled).",
        language,
    )


def _pool_name(key: str, language: str) -> str:
    if key == "poisson":
        return P.pick("件数モデルの過分散 φ", "dispersion φ of the count models", language)
    if key == "loglinear":
        return P.pick("対数線形の分散（対数尺度）", "log-linear variance (log scale)", language)
    model, kind, unit = [*key.split("|"), "", "", ""][:3]
    return P.pick(
        f"{model}・{kind}・単位{unit}", f"{model}, {kind}, unit {unit_text(unit, 'en')}", language
    )
