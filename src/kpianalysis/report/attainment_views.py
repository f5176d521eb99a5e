"""Sections of the attainment report (notebooks/attainment.ipynb): the year's rates and ratings.

These functions only *present* what :mod:`kpianalysis.analysis.tables` computed; every
data-derived string passes through :mod:`kpianalysis.report.present`, which escapes it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import pandas as pd

from kpianalysis.data.dataset import Dataset
from kpianalysis.report import present as P
from kpianalysis.report.embed import figure_html
from kpianalysis.report.figures import achievement_figure, in_panel_units, series_figure
from kpianalysis.report.labels import (
    ASSESSMENT_METHODS,
    as_written,
    fy_short,
    indicator_name,
    percent_text,
    reason_text,
    unit_text,
    written_units,
)
from kpianalysis.report.sections import headline_sentence

__all__ = [
    "VARIANT_NAMES",
    "achievement_chart",
    "attainment_methods",
    "attainment_narrative",
    "attainment_section",
    "kpi_table",
    "research_measures",
    "series_chart",
    "sheet_notes",
    "sheet_notes_view",
]


#: Achievement-rate variants for decrease-is-better KPIs, in plain words.
VARIANT_NAMES: dict[str, tuple[str, str]] = {
    "ratio": ("実績値÷目標値", "actual ÷ target"),
    "inverse": ("目標値÷実績値（減少が望ましい指標）", "target ÷ actual (lower is better)"),
    "complement": (
        "1＋(目標値−実績値)÷目標値（減少が望ましい指標）",
        "1 + (target − actual) ÷ target",
    ),
}


def attainment_section(
    ds: Dataset,
    table: pd.DataFrame,
    summary: pd.DataFrame,
    fiscal_year: int,
    language: str = "ja",
) -> P.Html:
    """Section "KPIs: actuals and targets": the sheet's table, the series and the rates."""
    return P.concat(
        P.section_heading("kpis", language),
        achievement_chart(table, fiscal_year, language),
        kpi_table(ds, table, fiscal_year, language),
        sheet_notes_view(table, language),
        series_chart(ds, table, fiscal_year, language),
    )


def achievement_chart(table: pd.DataFrame, fiscal_year: int, language: str = "ja") -> P.Html:
    """Bar chart of achievement per KPI against 100 %, embedded with a numbered caption."""
    data = pd.DataFrame(
        {
            # The circled number only: the names are in the table and the figure stays small.
            "label": table["indicator_label"].astype(str).tolist(),
            "achievement_rate": table["achievement_rate"].astype(float),
            "achieved": table["achieved"],
            "reason": [reason_text(r, language) for r in table["achievement_rate_reason"]],
        }
    )
    fig = achievement_figure(data, reason="reason", language=language, width=6.0).figure
    caption = P.pick(
        f"{fiscal_year}年度の達成率（実績値÷目標値）。破線は目標（100%）",
        f"Achievement rate in FY{fiscal_year} (actual ÷ target); the dashed line is the "
        "target (100 %)",
        language,
    )
    return figure_html(fig, caption, caption)


def kpi_table(ds: Dataset, table: pd.DataFrame, fiscal_year: int, language: str = "ja") -> P.Html:
    """The sheet's own table: per KPI the baseline and every year's actual (target), as written.

    Beside them the year's computed achievement and progress rates and the one rating of the
    main tables, the effect rating (issue 17: the rank, a second scheme that graded a met
    target like a missed one, is left to the data table). Years after
    ``fiscal_year`` show their targets only (the report does not see later actuals).
    """
    obs = ds.observations
    years = sorted(int(y) for y in obs["fiscal_year"].dropna().unique())
    by_key = {
        (r.programme_id, int(r.indicator_id), int(r.fiscal_year)): r for r in obs.itertuples()
    }
    ind = ds.indicators.set_index(["programme_id", "indicator_id"])
    t = table.copy()
    # In English the values are bare numbers and the unit, in English, stands under the name;
    # in Japanese the cells are as written, and the unit stands under the name only where a
    # cell was printed without it (1.49 in kg, a compound 171・3,620 in 回・人).
    bare = _units_not_written(ds, fiscal_year)
    t["indicator"] = P.html_column(
        [
            P.Html(
                P.esc(indicator_name(r, language))
                + (
                    f'<span class="sub">{P.esc("単位：" + unit)}</span>'
                    if (unit := bare.get((r["programme_id"], int(r["indicator_id"])), ""))
                    else ""
                )
                if language == "ja"
                else P.mark_japanese(indicator_name(r, language))
                + f'<span class="sub">{P.mark_japanese(unit_text(r["unit"], "en"))}</span>'
            )
            for r in t.to_dict("records")
        ],
        t.index,
    )
    base_years = sorted({int(y) for y in t["baseline_year"].dropna()})
    t["baseline_s"] = [
        _value_cell(
            ind.loc[(r["programme_id"], r["indicator_id"]), "baseline_text"],
            r["baseline"],
            language,
        )
        for r in t.to_dict("records")
    ]
    cols: dict[str, Any] = {
        "indicator": P.header("indicator", language),
        "baseline_s": P.Html(
            P.esc(P.term("baseline", language))
            + (
                f"<small>{P.esc(fy_short(base_years[0], language))}</small>"
                if len(base_years) == 1
                else ""
            )
        ),
    }
    for y in years:
        col = f"fy{y}"
        cells = []
        for r in t.to_dict("records"):
            o = by_key.get((r["programme_id"], int(r["indicator_id"]), y))
            seen = o is not None and y <= fiscal_year
            actual = _value_cell(o.actual_text, o.actual, language) if seen else ""
            target = (
                _value_cell(o.target_text, o.target, language, brackets=True)
                if o is not None
                else ""
            )
            cells.append(
                P.Html(
                    (actual or P.esc("—" if y <= fiscal_year else ""))
                    + (f'<span class="sub">{target}</span>' if target else "")
                )
            )
        t[col] = P.html_column(cells, t.index)
        cols[col] = P.Html(P.esc(fy_short(y, language)))
    t["rate_s"] = [
        percent_text(v, language) or reason_text(r, language)
        for v, r in zip(t["achievement_rate"], t["achievement_rate_reason"], strict=True)
    ]
    t["progress_s"] = [
        percent_text(v, language) or reason_text(r, language)
        for v, r in zip(t["progress_rate"], t["progress_rate_reason"], strict=True)
    ]
    t["effect_s"] = [
        _rating(r["effect_ja"], r["effect_en"], r["effect_reason"], language)
        for r in t.to_dict("records")
    ]
    cols["rate_s"] = P.header("achievement_rate", language)
    cols["progress_s"] = P.header("progress_rate", language)
    cols["effect_s"] = P.header("effect_rating", language)
    caption = P.pick(
        f"KPIの実績値と（目標値）: 評価シートの表記のまま。右の3列は{fiscal_year}年度の算出値",
        f"KPI actuals and (targets) from the sheet; the last three columns are computed for "
        f"FY{fiscal_year}",
        language,
    )
    numeric = ["baseline_s", *(f"fy{y}" for y in years), "rate_s", "progress_s"]
    return P.table(t, cols, na_rep="", caption=caption, numeric=numeric, css_class="kpi-sheet")


def _units_not_written(ds: Dataset, fiscal_year: int) -> dict[tuple[str, int], str]:
    """(programme_id, indicator_id) → the unit as the sheet prints it, for each KPI whose
    baseline, actual or target shown holds a number printed without that unit."""
    ind = ds.indicators
    measure = ind.get("measure_no", pd.Series(0, index=ind.index))
    unit_as_written = ind["unit_text"].fillna("").astype(str)
    written = unit_as_written.where(unit_as_written != "", ind["unit"].astype(str))
    # A compound cell's unit as printed (回・人): its measures' units in order.
    sheet_unit = {}
    parts = ind.assign(_u=written, _m=measure).groupby(["programme_id", "kpi_no"])
    for (pid, _kpi), group in parts:
        joined = "・".join(group.sort_values("_m")["_u"])
        sheet_unit.update({(pid, int(i)): joined for i in group["indicator_id"]})
    texts: dict[tuple[str, int], list[str]] = {
        (r.programme_id, int(r.indicator_id)): [str(r.baseline_text or "")]
        for r in ind.itertuples()
    }
    for r in ds.observations.itertuples():
        cells = texts.setdefault((r.programme_id, int(r.indicator_id)), [])
        cells.append(str(r.target_text or ""))
        if int(r.fiscal_year) <= fiscal_year:
            cells.append(str(r.actual_text or ""))
    return {
        key: sheet_unit.get(key, "")
        for key, cells in texts.items()
        if any(_DIGIT.search(c) and sheet_unit.get(key, "\0") not in _nfkc(c) for c in cells)
    }


_DIGIT = re.compile(r"[0-9０-９]")


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _value_cell(written: Any, value: Any, language: str, *, brackets: bool = False) -> P.Html:
    """A value of the sheet's table: as written in Japanese (「累計 6団体」, 「▲468人」); in
    English the number (``6``, ``−468``; the unit stands under the KPI's name), or the sheet's
    text marked ``lang="ja"`` when it holds no number."""
    text = as_written(written)
    if language == "ja" or not text:
        return P.Html(P.esc(text))
    number = P.number(value, "", "en")
    if not number:
        return P.mark_japanese(text)
    return P.mark_japanese(f"({number})" if brackets else number)


def _rating(ja: Any, en: Any, reason: Any, language: str) -> str:
    if isinstance(ja, str) and ja:
        return P.pick(ja, en, language)
    return reason_text(reason, language)


def sheet_notes(table: pd.DataFrame) -> pd.DataFrame:
    """Per KPI of an attainment table, what the sheet itself adds: the component and sub-project
    it belongs to, its own printed achievement beside the computed rate (and whether they
    disagree beyond the printed rounding), and the reason given for a missing actual.

    Only KPIs with at least one of these are returned; columns a stand-in table lacks are blank.

    Examples
    --------
    >>> sheet_notes(attainment_table(ds.as_of(2015), 2015))  # doctest: +SKIP
    """
    cols = [
        "component_ja",
        "subproject_ja",
        "achievement_printed_text",
        "achievement_printed_disagrees",
        "missing_reason_ja",
    ]
    t = table.copy()
    for c in cols:
        if c not in t.columns:
            t[c] = pd.NA if c == "achievement_printed_disagrees" else ""
    text = t[[c for c in cols if c != "achievement_printed_disagrees"]].fillna("").astype(str)
    keep = text.apply(lambda col: col.str.strip().ne("")).any(axis=1)
    keys = ["programme_id", "indicator_id", "indicator_label", "name_ja", "name_en"]
    keys += ["sub_label_ja", "achievement_rate"]
    return t.loc[keep, [k for k in keys if k in t.columns] + cols].reset_index(drop=True)


def sheet_notes_view(table: pd.DataFrame, language: str = "ja") -> P.Html:
    """:func:`sheet_notes` as an escaped HTML table (empty when there is nothing to show)."""
    notes = sheet_notes(table)
    if notes.empty:
        return P.Html("")
    t = notes.copy()
    t["indicator"] = [indicator_name(r, language) for r in t.to_dict("records")]
    t["part_s"] = [
        " / ".join(x for x in (str(c or ""), str(s or "")) if x.strip())
        for c, s in zip(t["component_ja"].fillna(""), t["subproject_ja"].fillna(""), strict=True)
    ]
    t["computed_s"] = [percent_text(v, language) for v in t["achievement_rate"]]
    t["printed_s"] = [
        ""
        if not str(text or "").strip()
        else f"{text} ⚠ "
        + P.pick(
            "計算値と不一致（印字の丸めを超える差）",
            "differs from the computed rate beyond the printed rounding",
            language,
        )
        if d is True
        else str(text)
        for text, d in zip(
            t["achievement_printed_text"].fillna(""),
            t["achievement_printed_disagrees"]
            .astype(object)
            .where(t["achievement_printed_disagrees"].notna(), None),
            strict=True,
        )
    ]
    cols = {
        "indicator": P.label("indicator", language),
        "part_s": P.label("sheet_part", language),
        "printed_s": P.label("printed_achievement", language),
        "computed_s": P.label("achievement_rate", language),
        "missing_reason_ja": P.label("missing_reason", language),
    }
    return P.table(t, cols, na_rep="", language=language)


def series_chart(ds: Dataset, table: pd.DataFrame, fiscal_year: int, language: str = "ja"):
    """Each KPI's full series: baseline, actuals up to the year, and the plan's targets."""
    names = {
        (r["programme_id"], int(r["indicator_id"])): indicator_name(r, language)
        for r in table.to_dict("records")
    }
    obs = ds.observations.copy()
    obs["label"] = [
        names.get((p, int(i)), "")
        for p, i in zip(obs["programme_id"], obs["indicator_id"], strict=True)
    ]
    obs.loc[obs["fiscal_year"] > fiscal_year, "actual"] = float("nan")
    base = table.assign(
        label=[names[(r["programme_id"], int(r["indicator_id"]))] for r in table.to_dict("records")]
    )
    # Each axis in the unit the sheet writes (1,262 under 千人, not 1,262,000 under 人).
    written = written_units(ds.indicators, language)
    axis = {}
    for r in table.to_dict("records"):
        key = (r["programme_id"], int(r["indicator_id"]))
        axis[names[key]] = written.get(key, (1.0, unit_text(r["unit"], language)))
    factors = {name: factor for name, (factor, _) in axis.items()}
    fig = series_figure(
        in_panel_units(obs[obs["label"] != ""], factors, ["actual", "target"]),
        in_panel_units(base[["label", "baseline_year", "baseline"]], factors, ["baseline"]),
        units={name: label for name, (_, label) in axis.items()},
        language=language,
    )
    caption = P.pick(
        "各KPIの推移: 当初値（□）、実績値（●）、計画の目標値（◇、点線）",
        "Each KPI over time: baseline (□), actuals (●) and the plan's targets (◇, dotted)",
        language,
    )
    return figure_html(fig, caption, caption)


def attainment_narrative(table: pd.DataFrame, summary: pd.DataFrame, language: str = "ja"):
    """A few sentences generated from the numbers (e.g. 「4指標中2指標が目標を達成」)."""
    sentences: list[str] = []
    for s in summary.to_dict("records"):
        mine = table[table["programme_id"] == s["programme_id"]]
        sentences.append(headline_sentence(s, language, mine))
        best = mine.dropna(subset=["achievement_rate"])
        if len(best):
            top = best.loc[best["achievement_rate"].idxmax()]
            low = best.loc[best["achievement_rate"].idxmin()]
            sentences.append(
                P.pick(
                    f"達成率が最も高いのは{indicator_name(top, 'ja')}（{percent_text(top['achievement_rate'])}）、"
                    f"最も低いのは{indicator_name(low, 'ja')}（{percent_text(low['achievement_rate'])}）です。",
                    f"Highest achievement: {indicator_name(top, 'en')} "
                    f"({percent_text(top['achievement_rate'], 'en')}); lowest: "
                    f"{indicator_name(low, 'en')} ({percent_text(low['achievement_rate'], 'en')}).",
                    language,
                )
            )
    return P.concat(*(P.paragraph(x) for x in sentences))


#: When a CAGR ratio rounds to zero, "limited progress" would contradict a zero status index.
_NO_GROWTH = ("伸びなし", "no growth")
#: Each research measure's columns in the attainment table: value, class, reason.
_MEASURE_COLUMNS: dict[str, tuple[str, str, str]] = {
    "status": ("status_index", "status_class", "status_reason"),
    "anticipated": ("anticipated_progress", "anticipated_class", "anticipated_reason"),
    "cagr": ("cagr_ratio", "cagr_class", "cagr_reason"),
    "miss_share": ("miss_share", "miss_share_class", "miss_share_reason"),
}


def _measure_cell(r: Mapping[str, Any], columns: tuple[str, str, str], language: str) -> P.Html:
    """「順調 31.6%」: the class in words and the value; where there is none, why
    (「データ点が不足」 rather than 「データ不足 データ点が不足」)."""
    value_col, class_col, reason_col = columns
    code, val = r[class_col], r[value_col]
    has = val is not None and not pd.isna(val)
    phrase = reason_text(code, language)
    if code == "limited_progress" and has and abs(float(val)) < 0.0005:
        phrase = P.pick(*_NO_GROWTH, language)
    detail = ""
    # After the plan's end the miss share is 100 % by construction (nothing is left to
    # extrapolate): beside a status of 55.6 % it would read as a second, harsher figure.
    if code == "target_missed" and value_col == "miss_share":
        has = False
    if has and code != "target_achieved":
        # the CAGR ratio is a multiple ("1 or more: as planned"), the others shares of the way
        detail = f"{float(val):.2f}" if value_col == "cagr_ratio" else percent_text(val, language)
    elif code == "insufficient_data" and not pd.isna(r[reason_col]):
        phrase = reason_text(r[reason_col], language)  # the more specific: "too few points"
    return P.Html(P.esc(phrase) + (f' <span class="val">{P.esc(detail)}</span>' if detail else ""))


def research_measures(table: pd.DataFrame, language: str = "ja") -> P.Html:
    """Appendix: the four research measures of multi-year progress, one row each.

    Name and source, one plain line (``labels.ASSESSMENT_METHODS``, the names the panel report
    uses too), then each KPI's class and value on a line of its own, led by its number (the
    names are in Table 1): three columns, which read on a phone and on A4 alike, however many
    KPIs a programme has. Measured against the plan's own interim targets where it has them
    (``METHODS.md`` §2), so they agree with the main table's verdict; they stay out of the
    main tables because they are research measures, not the verdict.
    """
    records = table.to_dict("records")
    rows: dict[str, list[Any]] = {"measure": [], "meaning": [], "results": []}
    for key, columns in _MEASURE_COLUMNS.items():
        m = ASSESSMENT_METHODS[key]
        name = P.pick(m.ja, m.en[:1].upper() + m.en[1:], language)
        source = P.pick(m.source_ja, m.source_en, language)
        rows["measure"].append(P.Html(f"{P.esc(name)}<br/><small>{P.esc(source)}</small>"))
        rows["meaning"].append(P.pick(m.meaning_ja, m.meaning_en, language))
        lines = [
            f"{P.esc(str(r['indicator_label']))} {_measure_cell(r, columns, language)}"
            for r in records
        ]
        rows["results"].append(P.Html("<br/>".join(lines)))
    t = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in rows.items()})
    cols = {
        "measure": P.pick("指標（出典）", "Measure (source)", language),
        "meaning": P.pick("意味", "What it says", language),
        "results": P.pick("各KPIの結果", "Result per KPI", language),
    }
    caption = P.pick(
        "複数年度の進捗を測る研究用の4指標（計画の各年度の目標値を道筋とする。判定は表1の「効果の評価」）",
        "Four research measures of multi-year progress (against the plan's yearly targets; "
        "the verdict is Table 1's effect rating)",
        language,
    )
    return P.concat(
        P.section_heading("research", language),
        P.table(t, cols, na_rep="", caption=caption, css_class="kpi-research", language=language),
    )


def attainment_methods(table: pd.DataFrame, language: str = "ja") -> P.Html:
    """Every rule and method the report used, each in one plain sentence (METHODS.md)."""
    variants = sorted(set(table["achievement_variant"].dropna().astype(str)))
    variant_text = "、".join(P.pick(*VARIANT_NAMES.get(v, (v, v)), language) for v in variants)
    bands = ", ".join(sorted({f"{float(b):.0%}" for b in table["effect_band"].dropna()}))
    items = [
        P.pick(
            f"達成率 = {variant_text}。進捗率 = (実績値 − 当初値) ÷ (目標値 − 当初値)、当初値がなければ算出しません。",
            f"Achievement rate = {variant_text}. Progress rate = (actual − baseline) ÷ (target − "
            "baseline); not computed without a baseline.",
            language,
        ),
        P.pick(
            f"効果の評価（4段階）: 目標を達成 → 非常に効果的、達成率{bands}以上 → 相当程度効果があった、当初値より改善 → 効果があった、それ以外 → 効果がなかった。",
            f"Effect rating (four levels): target met → very effective; at least {bands} of the "
            "target → considerably effective; better than the baseline → effective; otherwise "
            "not effective.",
            language,
        ),
        P.pick(
            "複数年度の進捗は、研究で使われる4つの指標（現状指数、見込み進捗、CAGR比、未達割合）で測り、付録の表にまとめています。計画が各年度の目標値を定めている場合は、その目標値をたどる道筋に対して測ります（その年度の目標値を達成していれば順調）。計画最終年度以降は今後の見込みではなく、達成・未達成を示します。",
            "Multi-year progress is measured by four research measures (status index, "
            "anticipated progress, CAGR ratio, miss share), listed in the appendix. Where the "
            "plan sets a target for each year they measure against that path (meeting the "
            "year's target is on track); from the plan's last year on they say achieved or "
            "missed, not what would be needed.",
            language,
        ),
        P.pick(
            "当初値がない指標は最初の実績値を起点とします。率は全精度で計算し、表示のみ小数第1位に四捨五入しています。",
            "A KPI without a baseline starts from its first actual. Rates are computed at full "
            "precision and rounded half-up to one decimal for display only.",
            language,
        ),
    ]
    return P.concat(P.section_heading("methods", language), P.bullet_list(items, "kpi-methods"))
