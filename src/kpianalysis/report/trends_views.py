"""Sections of the trends report (notebooks/trends.ipynb): fitted trends and projections.

These functions only *present* what :mod:`kpianalysis.analysis.projection` computed; every
data-derived string passes through :mod:`kpianalysis.report.present`, which escapes it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from kpianalysis.analysis.projection import kpi_series, model_reason
from kpianalysis.data.dataset import Dataset
from kpianalysis.report import present as P
from kpianalysis.report.embed import figure_html
from kpianalysis.report.figures import in_panel_units, trend_figure
from kpianalysis.report.labels import (
    english_unit,
    fy_short,
    indicator_name,
    minus_signs,
    percent_text,
    quantity,
    reason_text,
    unit_text,
    written_units,
)
from kpianalysis.report.likelihood import likelihood_words
from kpianalysis.words import counted

__all__ = [
    "keep_whole",
    "outlook_sentence",
    "trend_chart",
    "trend_glossary",
    "trend_methods",
    "trend_outlook",
    "trend_view",
    "with_written_units",
]


def _with_measures(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with each row's ``measure_no`` (0 for a plain KPI), so that the two measures of
    a compound cell (回・人) are named apart, as in the attainment report.

    The trend table does not carry the column; the indicator ids say it (``data.schema``:
    measure m of KPI n has id n + 1000·(m − 1)): an id of 1000 or more is measure id // 1000
    + 1, and an id n below it is measure 1 when n + 1000 is a KPI of the same programme.
    """
    if "measure_no" in table.columns or table.empty:
        return table
    ids = table["indicator_id"].astype("int64")
    keys = set(zip(table["programme_id"], ids, strict=True))
    second = [
        (pid, int(i) + 1000) in keys for pid, i in zip(table["programme_id"], ids, strict=True)
    ]
    measure = (ids // 1000 + 1).where(ids >= 1000, pd.Series(second, index=table.index).astype(int))
    return table.assign(measure_no=measure.astype("int64"))


def trend_chart(
    ds: Dataset,
    table: pd.DataFrame,
    predictions: pd.DataFrame,
    language: str = "ja",
    fiscal_year: int | None = None,
) -> P.Html:
    """Per KPI: actuals, baseline, the plan's targets as a path, the trend with both bands."""
    table = _with_measures(table)
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
    # Each axis in the unit the sheet writes (1,262 under 千人, not 1,262,000 under 人).
    units, factors = {}, {}
    for r in with_written_units(table, ds.indicators, language).to_dict("records"):
        key = names[(r["programme_id"], r["indicator_id"])]
        factors[key], units[key] = r["written_factor"], r["written_unit"]
    obs = in_panel_units(obs, factors, ["actual", "target"])
    pred = in_panel_units(pred, factors, _PREDICTED_VALUES)
    # Why a panel has no band (or no trend line at all) is said in the table beside the
    # figure; the panel says only which of the two.
    drawn = set(pred.loc[pred["mean"].notna(), "label"]) if "mean" in pred else set()
    notes = {
        names[(r["programme_id"], r["indicator_id"])]: P.pick(
            "区間なし（理由は表を参照）", "no interval (reason in the table)", language
        )
        if names[(r["programme_id"], r["indicator_id"])] in drawn
        else P.pick("傾向なし（理由は表を参照）", "no trend (reason in the table)", language)
        for r in table.to_dict("records")
        if reason_text(r["reason"], language)
    }
    nonneg = {
        names[(r["programme_id"], r["indicator_id"])]: r["kind"] in ("cumulative", "stock")
        or r["model"] in ("poisson", "poisson_increments", "loglinear", "logit")
        for r in table.to_dict("records")
    }
    ends = {
        names[(r["programme_id"], r["indicator_id"])]: int(plans.loc[r["programme_id"], "plan_end"])
        for r in table.to_dict("records")
    }
    fig = trend_figure(
        obs,
        pred,
        units=units,
        notes=notes,
        nonnegative=nonneg,
        plan_end=ends,
        language=language,
    )
    caption = P.pick(
        "KPIごとの傾向と予測（実績値、目標値、当てはめた傾向と95%区間）",
        "Trend and projection per KPI (actuals, targets, fitted trend with 95 % bands)",
        language,
    )
    if any(pred["fiscal_year"] > pred["label"].map(ends).fillna(float("inf"))):
        caption += P.pick(
            "。網掛けは計画終了後の参考値",
            "; shaded: after the plan's end, for reference only",
            language,
        )
    return figure_html(fig, caption, caption)


#: The columns of the predictions drawn as values of the KPI (scaled with its axis).
_PREDICTED_VALUES = ("mean", "mean_ci_low", "mean_ci_high", "pi_low", "pi_high")


def trend_view(
    table: pd.DataFrame, language: str = "ja", indicators: pd.DataFrame | None = None
) -> P.Html:
    """One row per KPI in a committee's words: the trend per year with its 95 % confidence
    interval, the value the trend gives for the plan's final year with its 95 % prediction
    interval (after the plan's end: for reference, marked so), the plan-end target, and the
    outlook or the known outcome. How each trend was fitted is in the appendix
    (:func:`trend_methods`). With the dataset's ``indicators``, values read in the unit the
    sheet writes (:func:`with_written_units`; Japanese only, see :func:`_text_units`)."""
    t = with_written_units(_with_measures(table), _text_units(indicators, language), language)
    recs = t.to_dict("records")
    t["indicator"] = [indicator_name(r, language) for r in recs]
    t["slope_s"] = P.html_column(
        (keep_whole(minus_signs(_slope_text(r, language), language)) for r in recs), t.index
    )
    t["projection_s"] = P.html_column(
        (keep_whole(minus_signs(_projection_text(r, language), language)) for r in recs),
        t.index,
    )
    t["target_s"] = P.html_column(
        (
            keep_whole(
                ""
                if pd.isna(r["final_target"])
                else f"{fy_short(int(r['final_target_year']), language)}: "
                f"{_value(r['final_target'], r, language)}"
            )
            for r in recs
        ),
        t.index,
    )
    t["prob_s"] = P.html_column((keep_whole(_outcome_text(r, language)) for r in recs), t.index)
    t["reason_s"] = [reason_text(r, language) for r in t["reason"]]
    cols = {
        "indicator": P.term("indicator", language),
        "slope_s": P.pick("年あたりの変化（95%信頼区間）", "Change per year (95% CI)", language),
        "projection_s": P.pick(
            "傾向を延ばした値（95%予測区間）", "Trend extended (95% prediction interval)", language
        ),
        "target_s": P.pick("計画最終年度の目標", "Plan-end target", language),
        "prob_s": P.pick("見込み／結果", "Outlook / outcome", language),
    }
    if any(t["reason_s"]):
        cols["reason_s"] = P.pick("区間・確率を示せない理由", "Why no interval", language)
    caption = P.pick(
        "KPIごとの傾向（方法と用語は付録）",
        "Trend per KPI (methods and terms in the appendix)",
        language,
    )
    return P.table(t, cols, na_rep="", caption=caption, language=language)


#: A number with its sign and unit, read as one word: "▲468人", "8.5団体", "2023年度", "4%".
_NUMBER_WITH_UNIT = re.compile(r"[▲+\-−]?\d[\d,]*(?:\.\d+)?(?:[%％]|[^\W\d_]{1,3})")


def keep_whole(text: str) -> P.Html:
    """``text`` escaped, each number with its unit in a ``<span class="nb">`` (no line break
    inside: a browser may otherwise break between a digit and an ideograph, "8.|5団体").

    Examples
    --------
    >>> print(keep_whole("2023年度: <8.5団体>"))
    <span class="nb">2023年度</span>: &lt;<span class="nb">8.5団体</span>&gt;
    """
    out, pos = [], 0
    for m in _NUMBER_WITH_UNIT.finditer(text):
        out.append(P.esc(text[pos : m.start()]))
        out.append(f'<span class="nb">{P.esc(m.group(0))}</span>')
        pos = m.end()
    out.append(P.esc(text[pos:]))
    return P.Html("".join(out))


def with_written_units(
    table: pd.DataFrame, indicators: pd.DataFrame | None, language: str
) -> pd.DataFrame:
    """``table`` with each KPI's ``written_factor`` and ``written_unit``
    (:func:`~kpianalysis.report.labels.written_unit`): the trend table holds values in the
    base unit (47,300,000人), the sheet writes 4,730万人, and a reader reads them as written.

    Without ``indicators`` every factor is 1 and the unit the base unit.
    """
    written = {} if indicators is None else written_units(indicators, language)
    pairs = [
        written.get((pid, int(iid)), (1.0, unit_text(unit, language)))
        for pid, iid, unit in zip(
            table["programme_id"], table["indicator_id"], table["unit"], strict=True
        )
    ]
    return table.assign(
        written_factor=[f for f, _ in pairs] if pairs else pd.Series(dtype=float),
        written_unit=[u for _, u in pairs] if pairs else pd.Series(dtype=object),
    )


def _text_units(indicators: pd.DataFrame | None, language: str) -> pd.DataFrame | None:
    """The indicators whose written units the report's *text* uses: the Japanese text reads
    as the sheet (4,730万人); English counts in its own words, 47,300,000 persons as the English
    attainment summary does, never "4,730 ten thousand persons" (its axes keep the scale)."""
    return indicators if language == "ja" else None


def _factor(r: Mapping[str, Any]) -> float:
    """What a row's values are divided by to read in the unit as written (1 when not known)."""
    f = r.get("written_factor")
    return 1.0 if f is None or pd.isna(f) else float(f)


def _scaled(v: Any, r: Mapping[str, Any]) -> Any:
    return v if v is None or pd.isna(v) else float(v) / _factor(r)


def _value(v: Any, r: Mapping[str, Any], language: str) -> str:
    """A KPI value with its unit as the sheet writes it: ``"▲468人"``, ``"4,730万人"``; in
    English ``"−468 persons"``."""
    if "written_unit" not in r:
        return quantity(v, r["unit"], language)
    v = _scaled(v, r)
    return P.number(v, english_unit(v, str(r["written_unit"]), language), language)


def _unit(r: Mapping[str, Any], language: str) -> str:
    written = r.get("written_unit")
    return written if isinstance(written, str) else unit_text(r["unit"], language)


def _slope_text(r: Mapping[str, Any], language: str) -> str:
    if pd.isna(r["slope"]):
        return ""
    per_year = P.pick("/年", "/yr", language)
    if pd.notna(r["slope_pct_per_year"]):
        text = percent_text(r["slope_pct_per_year"]) + per_year
        if pd.notna(r["ci_low"]):
            lo, hi = math.expm1(r["ci_low"]), math.expm1(r["ci_high"])
            text += (
                f"（{percent_text(lo)}〜{percent_text(hi)}）"
                if language == "ja"
                else (f" ({percent_text(lo)} to {percent_text(hi)})")
            )
        return text
    if r.get("model") == "logit":
        # A slope on the logit scale is not a change in the KPI's unit: 0.926 a year from 0 %
        # to 34.0 % (群馬県) is not "0.926%/年".
        scale = P.pick("（ロジット尺度）", " (logit scale)", language)
        text = f"{_num(r['slope'])}{per_year}{scale}"
        if pd.notna(r["ci_low"]):
            lo, hi = _num(r["ci_low"]), _num(r["ci_high"])
            text += f"（{lo}〜{hi}）" if language == "ja" else f" ({lo} to {hi})"
        return text
    unit = _unit(r, language)
    slope = _num(_scaled(r["slope"], r))
    if _PER_TIME.search(unit):
        # "/年" after a unit already per time read "7件/年/年": say the rate changes each year.
        signed = slope if slope.startswith(("-", "−")) else f"+{slope}"
        text = f"毎年 {signed}{unit}" if language == "ja" else f"{signed} {unit}, each year"
    else:
        text = slope + (unit + per_year if language == "ja" else f" {unit}{per_year}")
    if pd.notna(r["ci_low"]):
        lo, hi = _num(_scaled(r["ci_low"], r)), _num(_scaled(r["ci_high"], r))
        text += f"（{lo}〜{hi}）" if language == "ja" else f" ({lo} to {hi})"
    return text


#: A unit that is already a rate per time: "件/年", "人/日", "cases per year".
_PER_TIME = re.compile(r"[/／](?:年|年度|月|週|日)$| per (?:year|month|week|day)$")


def _num(v: Any, digits: int = 3) -> str:
    """``digits`` significant digits as a reader reads them: ``864,000``, never ``8.64e+05``
    (a slope of 群馬県's 4,481万人 → 4,913万人 read so)."""
    if v is None or pd.isna(v):
        return ""
    x = float(v)
    text = f"{x:,.{digits}g}"
    if "e" not in text or not math.isfinite(x):
        return text
    places = digits - 1 - math.floor(math.log10(abs(x)))
    return f"{round(x, places):,.{max(places, 0)}f}"


def _projection_text(r: Mapping[str, Any], language: str) -> str:
    """``"2023年度: 8.5団体（7〜13）"``; after the plan's end prefixed 「参考（計画終了後）」."""
    if pd.isna(r["projected_mean"]):
        return ""
    # A count scaled to 万人 is no whole number of its unit (4,730.4万人).
    count = r["model"] in ("poisson", "poisson_increments") and _factor(r) == 1
    unit = _unit(r, language)
    mean = _sig(_scaled(r["projected_mean"], r), False)
    text = f"{fy_short(int(r['projection_year']), language)}: " + (
        f"{mean}{unit}" if language == "ja" else f"{mean} {unit}".rstrip()
    )
    if pd.notna(r["projected_pi_low"]):
        lo = _sig(_scaled(r["projected_pi_low"], r), count)
        hi = _sig(_scaled(r["projected_pi_high"], r), count)
        text += f"（{lo}〜{hi}）" if language == "ja" else f" ({lo} to {hi})"
    if _flag(r.get("beyond_plan")):
        text = (
            P.pick("参考（計画終了後）", "For reference only (after the plan): ", language) + text
        )
    return text


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
    return _num(x)


def _outcome_text(r: Mapping[str, Any], language: str) -> str:
    """The outlook in words (「見込みは低い（約4%）」) or, once the plan has ended, the outcome."""
    code = r.get("outcome")
    if not isinstance(code, str):
        p = r["prob_reach"]
        return "" if p is None or pd.isna(p) else likelihood_words(float(p), language)
    word = reason_text(code, language)
    gap = float(r["final_gap"])
    sign = "+" if gap > 0 else ""
    detail = P.pick(
        f"（実績 {_value(r['final_actual'], r, language)}、目標 "
        f"{_value(r['final_target'], r, language)}、差 {sign}{_value(gap, r, language)}）",
        f" (actual {_value(r['final_actual'], r, language)}, target "
        f"{_value(r['final_target'], r, language)}, difference {sign}{_value(gap, r, language)})",
        language,
    )
    return word + detail


def outlook_sentence(r: Mapping[str, Any], fiscal_year: int, language: str = "ja") -> str:
    """One plain sentence per KPI: will it reach the plan-end target, or how did it end.

    In an interim year: the chance in words (:func:`likelihood_words`) and where the trend so
    far leads; after the plan's end: the outcome and no probability (a projection beyond the
    plan is no forecast for it and is not mentioned here).

    Parameters
    ----------
    r
        A row of :func:`kpianalysis.analysis.projection.trend_table`.
    fiscal_year
        The report's fiscal year.
    """
    name = indicator_name(r, language)
    if pd.isna(r["final_target"]):
        return name + P.pick(
            ": 計画最終年度の目標値がないため、見込みは示せません。",
            ": the plan gives no target for its final year, so there is no outlook.",
            language,
        )
    year = int(r["final_target_year"])
    target = _value(r["final_target"], r, language)
    if isinstance(r.get("outcome"), str):
        return name + P.pick(
            f": 計画最終年度（{year}年度）の目標 {target}に対し、実績は"
            f"{_value(r['final_actual'], r, language)}で、{_outcome_word(r, language)}。",
            f": the plan-end target for FY{year} was {target}; the actual was "
            f"{_value(r['final_actual'], r, language)}: {_outcome_word(r, language)}.",
            language,
        )
    if year <= fiscal_year:
        return name + P.pick(
            f": 計画最終年度（{year}年度）の実績がないため、結果は示せません。",
            f": no actual for the plan's final year (FY{year}), so no outcome can be given.",
            language,
        )
    p = r["prob_reach"]
    if p is not None and pd.notna(p):
        head = P.pick(
            f": {year}年度の目標（{target}）を達成する{likelihood_words(float(p))}。",
            f": meeting the FY{year} target of {target} is {likelihood_words(float(p), 'en')}.",
            language,
        )
    else:
        why = reason_text(r.get("reason"), language)
        head = P.pick(
            f": {year}年度の目標（{target}）を達成する見込みは示せません（{why}）。",
            f": whether the FY{year} target of {target} will be met cannot be assessed ({why}).",
            language,
        )
    return name + head + minus_signs(_trend_clause(r, fiscal_year, language), language)


def _outcome_word(r: Mapping[str, Any], language: str) -> str:
    gap = float(r["final_gap"])
    sign = "+" if gap > 0 else ""
    achieved = r["outcome"] == "final_achieved"
    if language == "ja":
        return ("目標を達成しました" if achieved else "目標に届きませんでした") + (
            f"（差 {sign}{_value(gap, r, language)}）"
        )
    return ("target met" if achieved else "target not met") + (
        f" (difference {sign}{_value(gap, r, language)})"
    )


def _trend_clause(r: Mapping[str, Any], fiscal_year: int, language: str) -> str:
    """Where the trend so far leads in the plan's final year, with its 95 % prediction interval
    or, when none can be given, marked as a rough reference."""
    if pd.isna(r["projected_mean"]) or _flag(r.get("beyond_plan")):
        return ""
    count = r["model"] in ("poisson", "poisson_increments") and _factor(r) == 1
    unit = _unit(r, language)
    year = int(r["projection_year"])
    mean = _sig(_scaled(r["projected_mean"], r), False)
    if pd.notna(r["projected_pi_low"]):
        lo = _sig(_scaled(r["projected_pi_low"], r), count)
        hi = _sig(_scaled(r["projected_pi_high"], r), count)
        return P.pick(
            f"{fiscal_year}年度までの傾向を延ばすと、{year}年度は約{mean}{unit}"
            f"（95%予測区間 {lo}〜{hi}{unit}）です。",
            f" On the trend up to FY{fiscal_year}, FY{year} would be about {mean} {unit} "
            f"(95% prediction interval {lo} to {hi}).",
            language,
        )
    return P.pick(
        f"参考: {fiscal_year}年度までの傾向をそのまま延ばすと{year}年度は約{mean}{unit}"
        "（不確かさは評価できません）。",
        f" For reference only: the trend up to FY{fiscal_year} extended gives about {mean} "
        f"{unit} in FY{year} (its uncertainty cannot be assessed).",
        language,
    )


def trend_outlook(
    table: pd.DataFrame,
    fiscal_year: int,
    language: str = "ja",
    indicators: pd.DataFrame | None = None,
) -> P.Html:
    """The answer first: one sentence per KPI (:func:`outlook_sentence`), in plain words; with
    the dataset's ``indicators``, in the unit the sheet writes (:func:`with_written_units`)."""
    rows = with_written_units(_with_measures(table), _text_units(indicators, language), language)
    items = [
        keep_whole(outlook_sentence(r, fiscal_year, language)) for r in rows.to_dict("records")
    ]
    ended = any(isinstance(o, str) for o in table["outcome"]) if len(table) else False
    note = P.pick(
        "計画期間が終わったため、結果を示します（確率は示しません）。計画終了後の傾向は表の参考値のみです。"
        if ended
        else "見込みは、報告年度までの実績から推定した傾向に基づく確率を言葉で表したものです"
        "（約33%以下「低い」、34〜66%「五分五分」、67%以上「高い」、1%未満・99%超は"
        "「極めて低い」「極めて高い」）。",
        "The plan has ended: the outcomes are shown, with no probability. Trends beyond the "
        "plan appear in the table for reference only."
        if ended
        else "The outlook puts into words the probability given by the trend estimated from "
        "the actuals so far (33% or less: unlikely; 34–66%: about as likely as not; 67% or "
        "more: likely; below 1% / above 99%: exceptionally unlikely / virtually certain).",
        language,
    )
    return P.concat(
        P.bullet_list(items, "kpi-outlook"), P.Html('<p class="kpi-note">'), note, P.Html("</p>")
    )


def trend_methods(
    language: str = "ja", priors: pd.DataFrame | None = None, table: pd.DataFrame | None = None
) -> P.Html:
    """Appendix: the model of each KPI, how trends and intervals were computed (with the
    formula of the variance pooling), the empirical-Bayes priors of each pool, and a short
    glossary (:func:`trend_glossary`)."""
    items = []
    if table is not None:
        for r in _with_measures(table).to_dict("records"):
            items.append(f"{indicator_name(r, language)}: {_model_in_words(r, language)}")
    items += [
        # The model of each kind is named in the KPI's line above; what they share is said once.
        P.pick(
            "累計は減らないため、各年度の増加数を推定し、到達済みの水準に今後の増加を加えて予測します"
            "（区間は到達済みの水準を下回りません）。当初値の年度が計画初年度より前なら、当初値も観測値として使います。",
            "A running total cannot fall: it is modelled on its yearly increments and projected "
            "as the level reached plus future increments, so its intervals never fall below that "
            "level. A baseline whose year precedes the plan counts as an observation.",
            language,
        ),
        P.pick(
            "3点では残差自由度が1しかなく、1系列だけから求めた95%区間は非常に広くなります（t分布の"
            "係数が約12.7）。そこで参照パネル（事前分布のファイル、下記）の同じモデル族の系列の残差分散から"
            "推定した経験ベイズの事前分布（Smyth 2004）により、各系列の分散を s̃² = (d₀s₀² + d·s²)/(d₀ + d) に縮小して、"
            "自由度 d₀ + d の t 分布で区間を計算します。統合後も自由度が2未満なら区間と確率は示しません。",
            "With 3 points there is 1 residual degree of freedom, and a 95% interval from one series "
            "alone is very wide (the t factor is about 12.7). Residual variances are therefore "
            "moderated towards an empirical-Bayes prior estimated from the same model family's "
            "series in a reference panel (the prior file, below; Smyth 2004): s̃² = (d₀s₀² + d·s²)/"
            "(d₀ + d), with t intervals on d₀ + d degrees of freedom. With fewer than 2 after "
            "pooling no interval and no probability are shown.",
            language,
        ),
        P.pick(
            "予測区間は常に平均の信頼区間を含みます。件数の予測区間と確率は予測分布（パラメータの"
            "不確実性を混合したポアソン／負の二項分布）を決定的な数値積分で計算（乱数なし、誤差1e-3未満）。"
            "確率は計画最終年度に目標を達成する確率（累計は到達済みの水準を条件とする。計画終了後は結果が確定"
            "するため示さない）で、整数パーセントで表示し、見通しの注記のとおり言葉に置き換えます（IPCC の"
            "不確実性の表現指針 Mastrandrea ほか 2010 による）。8点未満では正規性検定を示しません。",
            "A prediction interval always contains the confidence interval of the mean. Count "
            "intervals and probabilities come from the predictive distribution (Poisson or "
            "negative binomial mixed over parameter uncertainty) by deterministic quadrature "
            "(no simulation; error below 1e-3). A probability is that of meeting the plan-end "
            "target in the plan's final year (running totals: given the level reached; none "
            "once the plan has ended, when the outcome is known), rounded to whole percent and "
            "put into words as the note under the outlook says (after the IPCC's uncertainty "
            "guidance, Mastrandrea et al. 2010). No normality test under 8 points.",
            language,
        ),
    ]
    items += _prior_items(priors, language)
    return P.concat(P.bullet_list(items, "kpi-methods"), trend_glossary(language))


def _prior_items(priors: pd.DataFrame | None, language: str) -> list[str]:
    """One line per pooled variance family with its empirical-Bayes prior, and one line naming
    the families for which none could be estimated."""
    items, unpooled = [], []
    if priors is not None and priors.attrs.get("provenance", {}).get("missing"):
        # No prior file in the project: nothing pooled, said once for every family.
        return [
            P.pick(
                "分散の統合: 事前分布のファイルがないため統合せず、各系列をそれぞれ単独で推定。",
                "Variance pools: no prior file, so nothing is pooled and each series is fitted "
                "alone.",
                language,
            )
        ]
    for r in [] if priors is None else priors.to_dict("records"):
        d0 = float(r["prior_df"])
        name = _pool_name(r["pool"], language)
        if d0 > 0:
            d0s = "∞" if math.isinf(d0) else f"{d0:.2f}"
            items.append(
                P.pick(
                    f"分散の統合「{name}」: {int(r['n_series'])}系列、"
                    f"d₀ = {d0s}、s₀² = {float(r['prior_scale']):.4g}",
                    f"Variance pool '{name}': {int(r['n_series'])} "
                    f"series, d₀ = {d0s}, s₀² = {float(r['prior_scale']):.4g}",
                    language,
                )
            )
        elif r.get("status", "prior_too_few_series") != "prior_too_few_series":
            items.append(
                P.pick(
                    f"分散の統合「{name}」: {reason_text(r['status'], 'ja')}",
                    f"Variance pool '{name}': {reason_text(r['status'], 'en')}",
                    language,
                )
            )
        else:
            unpooled.append(
                P.pick(
                    f"「{name}」（{int(r['n_series'])}系列）",
                    f"'{name}' ({int(r['n_series'])} series)",
                    language,
                )
            )
    if unpooled:
        items.append(
            P.pick(
                "比較できる系列が少なく事前分布を推定できない分散の統合（d₀ = 0、区間は各系列単独の"
                "広いもの）: " + "、".join(unpooled) + "。",
                "Variance pools with too few comparable series for a prior (d₀ = 0: intervals "
                "stay as wide as one series alone gives): " + ", ".join(unpooled) + ".",
                language,
            )
        )
    provenance = priors.attrs.get("provenance") if priors is not None else None
    if provenance:
        items.append(_prior_provenance(provenance, language))
    return items


def _prior_provenance(provenance: Mapping[str, Any], language: str) -> str:
    """Where the priors came from: the reference panel's programmes, the date, the version."""
    ids = "、".join(str(p.get("programme_id", "")) for p in provenance.get("programmes", []))
    n = len(provenance.get("programmes", []))
    when = str(provenance.get("estimated_on", ""))
    version = str(provenance.get("library_version", ""))
    return P.pick(
        f"事前分布のファイル: {when}に参照パネル{n}事業（{ids}）から推定（kpianalysis {version}、"
        f"{int(provenance.get('min_series', 0))}系列未満の族は統合しない）。",
        f"Prior file: estimated on {when} from a reference panel of {counted(n, 'programme')} "
        f"({ids.replace('、', ', ')}; kpianalysis {version}; families with fewer than "
        f"{int(provenance.get('min_series', 0))} series are not pooled).",
        language,
    )


def _model_in_words(r: Mapping[str, Any], language: str) -> str:
    """``"累計の件数…（データ3点、残差自由度1）"``: the model and what it was fitted to."""
    n = int(r["n"])
    df = "" if pd.isna(r["df_resid"]) else int(r["df_resid"])
    fit = P.pick(f"データ{n}点", counted(n, "point"), language)
    if df != "":
        fit += P.pick(
            f"、残差自由度{df}",
            ", " + counted(df, "residual degree of freedom", "residual degrees of freedom"),
            language,
        )
    if pd.notna(r["prior_df"]) and r["prior_df"] > 0:
        fit += P.pick("、分散を統合", ", variance pooled", language)
    return f"{_trend_model_text(dict(r), language)}" + P.pick(f"（{fit}）", f" ({fit})", language)


#: Terms of the trends report, in plain words: (Japanese term, English term, ja, en).
GLOSSARY: tuple[tuple[str, str, str, str], ...] = (
    (
        "信頼区間（95%）",
        "confidence interval (95%)",
        "傾向（年あたりの変化や平均的な水準）がこの範囲にあると考えられる幅。",
        "the range within which the trend itself (change per year, average level) plausibly lies.",
    ),
    (
        "予測区間（95%）",
        "prediction interval (95%)",
        "その年の実際の値が20回に19回は収まると考えられる幅。年ごとのばらつきも含むため信頼区間より広い。",
        "the range in which the year's actual value would fall 19 times in 20; wider than the "
        "confidence interval because it includes year-to-year variation.",
    ),
    (
        "残差自由度",
        "residual degrees of freedom",
        "データ点の数から推定したパラメータの数を引いたもの。少ないほど区間は広くなる。",
        "the number of points less the number of estimated parameters; the fewer, the wider the "
        "intervals.",
    ),
    (
        "ポアソン・準ポアソン",
        "Poisson, quasi-Poisson",
        "件数のばらつきのモデル。準ポアソンはポアソンより大きいばらつき（過分散）を許す。",
        "models of how counts vary; quasi-Poisson allows more variation than Poisson "
        "(overdispersion).",
    ),
    (
        "対数線形",
        "log-linear",
        "毎年一定の割合で増減するとみなすモデル。",
        "a model in which the value changes by a constant percentage each year.",
    ),
    (
        "経験ベイズ（分散の統合）",
        "empirical Bayes (variance pooling)",
        "似た系列のばらつきを借りて、少ないデータ点でも区間を安定させる方法。",
        "borrowing the variation of similar series so that intervals from few points are stable.",
    ),
)


def trend_glossary(language: str = "ja") -> P.Html:
    """A short glossary of the terms the trends report uses (:data:`GLOSSARY`)."""
    title = P.pick("用語", "Terms", language)
    items = [
        P.Html(f"<b>{P.esc(P.pick(ja, en, language))}</b>: {P.esc(P.pick(tja, ten, language))}")
        for ja, en, tja, ten in GLOSSARY
    ]
    return P.concat(P.heading(title, 3), P.bullet_list(items, "kpi-methods kpi-glossary"))


#: Model families and KPI kinds in words, for the names of variance pools.
_MODEL_WORDS = {
    "ols": ("直線（最小二乗法）", "straight line (least squares)"),
    "loglinear": ("対数線形", "log-linear"),
    "poisson": ("ポアソン", "Poisson"),
    "poisson_increments": ("累計の増加数（ポアソン）", "running-total increments (Poisson)"),
    "ols_increments": ("累計の増加分の平均（最小二乗法）", "mean increment (least squares)"),
}
_KIND_WORDS = {
    "cumulative": ("累計の指標", "running totals"),
    "flow": ("フローの指標", "flows"),
    "stock": ("ストックの指標", "stocks"),
    "average": ("平均の指標", "averages"),
    "rate": ("率の指標", "rates"),
}


def _pool_name(key: str, language: str) -> str:
    """A variance pool in words: 「直線（最小二乗法）・平均の指標・単位「回」」, not a code."""
    if key == "poisson":
        return P.pick("件数モデルの過分散", "overdispersion of the count models", language)
    if key == "loglinear":
        return P.pick("対数線形の分散（対数尺度）", "log-linear variance (log scale)", language)
    model, kind, unit = [*key.split("|"), "", "", ""][:3]
    m = P.pick(*_MODEL_WORDS.get(model, (model, model)), language)
    k = P.pick(*_KIND_WORDS.get(kind, (kind, kind)), language)
    u = P.pick(f"単位「{unit}」", f"unit '{unit_text(unit, 'en')}'", language) if unit else ""
    return ("・" if language == "ja" else ", ").join(x for x in (m, k, u) if x)
