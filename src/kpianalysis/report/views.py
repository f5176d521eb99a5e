"""Report sections for the notebooks: each returns escaped :class:`~kpianalysis.report.present.Html`.

Notebooks stay thin: a cell calls one function here and displays what it returns. These functions
only *present* what :mod:`kpianalysis.analysis.measures`, :mod:`kpianalysis.analysis.projection` and friends
computed; every data-derived string passes through :mod:`kpianalysis.report.present`, which escapes it.
Figures are embedded as PNG data URIs, so an HTML report is one self-contained file.
"""

from __future__ import annotations

import base64
import io
import math
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from kpianalysis.analysis.measures import format_percent
from kpianalysis.data.dataset import Dataset, load_dataset
from kpianalysis.errors import ParameterError
from kpianalysis.paths import DEFAULT_RAW, project_root
from kpianalysis.reasons import reason_label
from kpianalysis.report import present as P


def load_report_data(
    fiscal_year: Any, raw_dir: str | Path = DEFAULT_RAW, programme_id: str = ""
) -> tuple[Dataset, Dataset]:
    """Load and validate the raw data; return ``(full, full.as_of(fiscal_year))``.

    The notebook's edge: the data is cut here, once; the analysis functions take the cut.

    Raises :class:`ParameterError` when ``fiscal_year`` has no data or the programme is unknown.
    """
    if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, int):
        raise ParameterError(f"fiscal_year must be an integer such as 2023, not {fiscal_year!r}")
    raw = Path(raw_dir)
    if not raw.is_absolute():
        raw = project_root() / raw
    full = load_dataset(raw)
    if programme_id:
        if programme_id not in set(full.programmes["programme_id"]):
            raise ParameterError(f"unknown programme_id {programme_id!r}")
        full = _only(full, programme_id)
    if fiscal_year not in full.fiscal_years:
        years = ", ".join(map(str, full.fiscal_years))
        raise ParameterError(f"no actual values for FY{fiscal_year}; the data has FY {years}")
    return full, full.as_of(fiscal_year)


def _only(ds: Dataset, programme_id: str) -> Dataset:
    from dataclasses import replace

    tables = {
        name: df.loc[df["programme_id"] == programme_id].reset_index(drop=True)
        for name, df in ds.tables().items()
    }
    return replace(ds, **tables)


# ------------------------------------------------------------------------------------------------
# Formatting helpers


def fiscal_year_label(year: Any) -> str:
    """``2023`` → ``"2023年度（令和5年度）"`` (平成 before 2019, 令和元年度 for 2019)."""
    y = int(year)
    era = f"令和{y - 2018}年度" if y >= 2019 else f"平成{y - 1988}年度"
    if y == 2019:
        era = "令和元年度"
    return f"{y}年度（{era}）"


def _pct(value: Any) -> str:
    text = format_percent(value, 1)
    return "" if text == "-" else str(text)


def _reason(code: Any, language: str) -> str:
    """A reason code or outcome key in words; every code has one meaning (kpianalysis.reasons)."""
    P.check_language(language)
    return reason_label(code, language)


def indicator_name(row: Any, language: str) -> str:
    """``"① 小学校区コミュニティの設立数"`` (or the English name first for ``"en"``)."""
    name = P.pick(row["name_ja"], row.get("name_en", ""), language)
    sub = row.get("sub_label_ja")
    if isinstance(sub, str) and sub and name == row["name_ja"]:
        name += sub
    return f"{row['indicator_label']} {name}"


def figure_html(fig: Any, alt: str) -> P.Html:
    """Embed a matplotlib figure as a PNG data URI (no metadata, so output is reproducible)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    with warnings.catch_warnings():
        # Very long labels can defeat the layout engine; the figure is still drawn, and a
        # warning with a library path must not end up in the report.
        warnings.filterwarnings("ignore", message="constrained_layout not applied")
        fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return P.Html(
        f'<figure><img src="data:image/png;base64,{data}" alt="{P.esc(alt)}" '
        f'style="max-width:100%"></figure>'
    )


# ------------------------------------------------------------------------------------------------
# Sections shared by the reports


def report_title(ds: Dataset, fiscal_year: int, report_ja: str, report_en: str, language: str):
    """Title block: report name, fiscal year and the programme(s) covered."""
    names = [
        P.pick(r.name_ja, r.name_en, language) + f"（{r.municipality_ja}）"
        for r in ds.programmes.itertuples()
    ]
    title = P.pick(report_ja, report_en, language) + " — " + fiscal_year_label(fiscal_year)
    return P.concat(
        P.Html(P.STYLE),
        P.heading(title, 1),
        P.paragraph(" / ".join(names)),
        P.paragraph(
            P.pick(
                f"{fiscal_year}年度までの実績値・事業費・評価と、計画の全年度の目標値を用いています。",
                f"Actuals, costs and verdicts of fiscal years up to {fiscal_year} are used, "
                "with every target of the plan.",
                language,
            )
        ),
    )


def programme_overview(
    full: Dataset,
    ds: Dataset,
    fiscal_year: int,
    language: str = "ja",
    *,
    summary: pd.DataFrame | None = None,
):
    """Programme at a glance: names, type, plan, cost and grant, sub-projects, panel verdict.

    ``summary`` is the year's :func:`~kpianalysis.analysis.tables.programme_summary` when the
    notebook has it already (otherwise computed here from ``ds``, cut at ``fiscal_year``).
    """
    from kpianalysis.analysis.tables import programme_summary

    if summary is None:
        summary = programme_summary(ds, fiscal_year)
    summary = summary.set_index("programme_id")
    parts: list[str] = []
    for prog in ds.programmes.to_dict("records"):
        pid = prog["programme_id"]
        s = summary.loc[pid] if pid in summary.index else None
        pairs = [
            (P.label("programme", language), P.pick(prog["name_ja"], prog["name_en"], language)),
            (
                P.label("municipality", language),
                f"{prog['municipality_ja']} ({prog['municipality_en']}, {prog['municipality_code']})",
            ),
            (P.label("grant_type", language), prog["grant_type_ja"]),
            (P.label("strategy_goals", language), prog["strategy_goals_ja"]),
            (P.label("plan_period", language), f"FY{prog['plan_start']}–FY{prog['plan_end']}"),
            (P.label("overview", language), prog["overview_ja"]),
        ]
        fin = ds.finance[(ds.finance["programme_id"] == pid)]
        fin = fin[fin["fiscal_year"] == fiscal_year]
        if len(fin):
            f = fin.iloc[0]
            pairs += [
                (P.label("cost", language), P.yen(f["cost_yen"])),
                (P.label("grant", language), f"{P.yen(f['grant_yen'])}（{f['grant_rate_text']}）"),
            ]
            if s is not None and pd.notna(s["grant_gap_yen"]):
                note = P.pick(
                    f"事業費×交付率 = {P.yen(s['expected_grant_yen'])}、差異 {P.yen(s['grant_gap_yen'])}",
                    f"cost × rate = {P.yen(s['expected_grant_yen'])}, gap {P.yen(s['grant_gap_yen'])}",
                    language,
                )
                if f["remark_ja"]:
                    note += f"（{f['remark_ja']}）"
                pairs.append((P.label("grant_gap", language), note))
        else:
            pairs.append(
                (
                    P.label("cost", language),
                    P.pick("この年度の記録なし", "not recorded for this year", language),
                )
            )
        parts.append(P.definition_list(pairs))
        parts.append(P.heading(P.label("subproject", language), 3))
        parts.append(subprojects_table(full, pid, language))
        parts.append(P.heading(P.label("panel_verdict", language), 3))
        parts.append(verdicts_view(ds, pid, fiscal_year, language))
    return P.concat(*parts)


def subprojects_table(ds: Dataset, programme_id: str, language: str = "ja") -> P.Html:
    comps = ds.components.set_index(["programme_id", "component_no"])["component_ja"]
    sub = ds.subprojects[ds.subprojects["programme_id"] == programme_id].copy()
    sub["component"] = [
        f"{r.component_no}. {comps.get((programme_id, r.component_no), '')}"
        for r in sub.itertuples()
    ]
    sub["slot_text"] = "(" + sub["slot"].astype(str) + ")"
    cols = {
        "component": P.label("component", language),
        "slot_text": "No.",
        "name_ja": P.label("subproject", language),
        "department_ja": P.label("department", language),
        "strategy_code_ja": P.label("strategy_code", language),
        "ambiguity": P.label("ambiguity", language),
    }
    return P.table(sub, cols, na_rep="")


def verdicts_view(ds: Dataset, programme_id: str, fiscal_year: int, language: str = "ja"):
    v = ds.verdicts[(ds.verdicts["programme_id"] == programme_id)]
    v = v[v["fiscal_year"] == fiscal_year]
    if v.empty:
        return P.paragraph(
            P.pick(
                f"{fiscal_year}年度の効果検証の記録はありません。",
                f"No effect-verification verdict is recorded for FY{fiscal_year}.",
                language,
            )
        )
    rows = v.assign(
        who=[P.pick(r.evaluator_ja, r.evaluator, language) for r in v.itertuples()],
        option=[
            f"{'①②③④⑤'[r.option_no - 1] if r.option_no <= 5 else r.option_no} {r.option_ja}"
            for r in v.itertuples()
        ],
        count=["" if pd.isna(r.votes) else f"{r.votes}/{r.total}" for r in v.itertuples()],
        chosen=[P.pick("選択", "chosen", language) if r.selected else "" for r in v.itertuples()],
    )
    return P.table(
        rows,
        {"who": "", "option": "", "count": P.label("votes", language), "chosen": ""},
        na_rep="",
    )


# ------------------------------------------------------------------------------------------------
# Attainment report


def attainment_view(table: pd.DataFrame, language: str = "ja") -> P.Html:
    """The fiscal year's attainment table: values, rates, achievement, ratings, reasons."""
    t = table.copy()
    t["indicator"] = [indicator_name(r, language) for r in t.to_dict("records")]
    t["baseline_s"] = [P.number(v, u) for v, u in zip(t["baseline"], t["unit"], strict=True)]
    t["target_s"] = [P.number(v, u) for v, u in zip(t["target"], t["unit"], strict=True)]
    t["actual_s"] = [P.number(v, u) for v, u in zip(t["actual"], t["unit"], strict=True)]
    t["achieved_s"] = [
        ""
        if pd.isna(a)
        else P.pick("○ 達成", "achieved", language)
        if a
        else P.pick("× 未達成", "not achieved", language)
        for a in t["achieved"]
    ]
    t["rate_s"] = [
        _pct(v) or _reason(r, language)
        for v, r in zip(t["achievement_rate"], t["achievement_rate_reason"], strict=True)
    ]
    t["progress_s"] = [
        _pct(v) or _reason(r, language)
        for v, r in zip(t["progress_rate"], t["progress_rate_reason"], strict=True)
    ]
    t["effect_s"] = [
        P.pick(ja, en, language) if isinstance(ja, str) else _reason(r, language)
        for ja, en, r in zip(t["effect_ja"], t["effect_en"], t["effect_reason"], strict=True)
    ]
    t["rank_s"] = [
        P.pick(ja, en, language) if isinstance(ja, str) else _reason(r, language)
        for ja, en, r in zip(t["rank_ja"], t["rank_en"], t["rank_reason"], strict=True)
    ]
    cols = {
        "indicator": P.label("indicator", language),
        "baseline_s": P.label("baseline", language),
        "target_s": P.label("target", language),
        "actual_s": P.label("actual", language),
        "achieved_s": P.label("achieved", language),
        "rate_s": P.label("achievement_rate", language),
        "progress_s": P.label("progress_rate", language),
        "effect_s": P.label("effect_rating", language),
        "rank_s": P.label("rank", language),
    }
    return P.table(t, cols, na_rep="")


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
    t["computed_s"] = [_pct(v) for v in t["achievement_rate"]]
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
    return P.table(t, cols, na_rep="")


def attainment_narrative(table: pd.DataFrame, summary: pd.DataFrame, language: str = "ja"):
    """A few sentences generated from the numbers (e.g. 「4指標中2指標が目標を達成」)."""
    sentences: list[str] = []
    for s in summary.to_dict("records"):
        n, k = int(s["n_kpis"]), int(s["n_achieved"])
        fy = int(s["fiscal_year"])
        sentences.append(
            P.pick(
                f"{fy}年度は{n}指標中{k}指標が目標を達成しました（達成割合 {_pct(s['share_achieved'])}）。",
                f"In FY{fy}, {k} of {n} KPIs reached their target ({_pct(s['share_achieved'])}).",
                language,
            )
        )
        best = table[table["programme_id"] == s["programme_id"]].dropna(subset=["achievement_rate"])
        if len(best):
            top = best.loc[best["achievement_rate"].idxmax()]
            low = best.loc[best["achievement_rate"].idxmin()]
            sentences.append(
                P.pick(
                    f"達成率が最も高いのは{indicator_name(top, 'ja')}（{_pct(top['achievement_rate'])}）、"
                    f"最も低いのは{indicator_name(low, 'ja')}（{_pct(low['achievement_rate'])}）です。",
                    f"Highest achievement: {indicator_name(top, 'en')} "
                    f"({_pct(top['achievement_rate'])}); lowest: {indicator_name(low, 'en')} "
                    f"({_pct(low['achievement_rate'])}).",
                    language,
                )
            )
        if pd.notna(s.get("panel_effective")):
            sentences.append(
                P.pick(
                    f"有識者の評価は「{s['panel_option_ja']}」（{s['panel_votes']}/{s['panel_total']}名）。",
                    f"Expert panel: “{s['panel_option_en']}” ({s['panel_votes']} of {s['panel_total']}).",
                    language,
                )
            )
    return P.concat(*(P.paragraph(x) for x in sentences))


def achievement_chart(table: pd.DataFrame, fiscal_year: int, language: str = "ja") -> P.Html:
    """Bar chart of achievement per KPI against 100 %, embedded."""
    from kpianalysis.report.figures import achievement_figure

    data = pd.DataFrame(
        {
            "label": [indicator_name(r, language) for r in table.to_dict("records")],
            "achievement_rate": table["achievement_rate"].astype(float),
            "achieved": table["achieved"],
            "reason": [_reason(r, language) for r in table["achievement_rate_reason"]],
        }
    )
    fig = achievement_figure(
        data,
        reason="reason",
        title=P.pick(f"{fiscal_year}年度 達成率", f"FY{fiscal_year} achievement", language),
    )
    return figure_html(fig, P.label("achievement_rate", language))


def assessment_view(table: pd.DataFrame, language: str = "ja") -> P.Html:
    """Multi-year progress assessment up to the fiscal year, with the reason where one is missing."""
    t = table.copy()
    t["indicator"] = [indicator_name(r, language) for r in t.to_dict("records")]

    def cell(value_col: str | None, class_col: str, reason_col: str) -> list[str]:
        out = []
        for r in t.to_dict("records"):
            cls = _reason(r[class_col], language)
            val = r[value_col] if value_col else None
            num = "" if val is None or pd.isna(val) else f"{float(val):.3f}"
            why = _reason(r[reason_col], language)
            out.append(
                " ".join(x for x in (num, cls, f"({why})" if why and why != cls else "") if x)
            )
        return out

    t["status_s"] = cell("status_index", "status_class", "status_reason")
    t["anticipated_s"] = cell("anticipated_progress", "anticipated_class", "anticipated_reason")
    t["cagr_s"] = cell("cagr_ratio", "cagr_class", "cagr_reason")
    t["miss_s"] = cell("miss_share", "miss_share_class", "miss_share_reason")
    cols = {
        "indicator": P.label("indicator", language),
        "status_s": P.label("status_index", language),
        "anticipated_s": P.pick("予測進捗（ESCAP）", "Anticipated progress (ESCAP)", language),
        "cagr_s": P.label("cagr_class", language),
        "miss_s": P.label("miss_share", language),
    }
    return P.table(t, cols, na_rep="")


def attainment_methods(table: pd.DataFrame, language: str = "ja") -> P.Html:
    """Which rules and variants this report used (METHODS.md)."""
    variants = ", ".join(sorted(set(table["achievement_variant"].dropna().astype(str))))
    ranks = ", ".join(sorted(set(table["rank_table"].dropna().astype(str))))
    bands = ", ".join(sorted({f"{float(b):.0%}" for b in table["effect_band"].dropna()}))
    items = [
        P.pick(
            f"達成率 = 実績値 ÷ 目標値（減少が望ましい指標の方式: {variants}）。進捗率 = (実績値 − 当初値) ÷ (目標値 − 当初値)。",
            f"Achievement rate = actual ÷ target (variant: {variants}); progress rate = "
            "(actual − baseline) ÷ (target − baseline).",
            language,
        ),
        P.pick(
            f"効果の4段階評価: 目標達成→非常に効果的、達成率{bands}以上→相当程度効果があった、当初値より改善→効果があった、それ以外→効果がなかった。",
            f"Four-level effect rating: target met → very effective; ≥ {bands} of target → "
            "considerably effective; better than baseline → effective; else not effective.",
            language,
        ),
        P.pick(f"ランク表: {ranks}。", f"Rank table: {ranks}.", language),
        P.pick(
            "複数年度評価: 現状指数・予測進捗（ESCAP）、CAGR比（Open SDG）、線形外挿の未達割合（Destatis）。当初値がない指標は最初の実績値を起点とします。率は内部で全精度、表示のみ小数1桁に四捨五入。",
            "Multi-year assessment: current status index and anticipated progress (ESCAP), CAGR "
            "ratio (Open SDG), linear-extrapolation miss share (Destatis). A KPI without a "
            "baseline starts from its first actual. Rates are kept at full precision and rounded "
            "half-up to one decimal for display only.",
            language,
        ),
    ]
    return P.bullet_list(items)


# ------------------------------------------------------------------------------------------------
# Trends report


def _flag(value: Any) -> bool:
    """A boolean table cell (NumPy, pandas' nullable or missing) as a plain bool."""
    return value is not None and not pd.isna(value) and bool(value)


def _trend_model_text(r: dict[str, Any], language: str) -> str:
    from kpianalysis.analysis.projection import model_reason

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
    word = _reason(code, language)
    unit = r["unit"] if isinstance(r["unit"], str) else ""
    gap = float(r["final_gap"])
    detail = P.pick(
        f"（実績 {P.number(r['final_actual'], unit)}、目標 {P.number(r['final_target'], unit)}、"
        f"差 {'+' if gap > 0 else ''}{P.number(gap, unit)}）",
        f" (actual {P.number(r['final_actual'], unit)}, target "
        f"{P.number(r['final_target'], unit)}, difference {'+' if gap > 0 else ''}"
        f"{P.number(gap, unit)})",
        language,
    )
    return word + detail


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
            pct = _pct(r["slope_pct_per_year"])
            return P.pick(f"{pct}/年", f"{pct}/yr", language) + (
                f" [{_pct(math.expm1(r['ci_low']))}, {_pct(math.expm1(r['ci_high']))}]"
                if pd.notna(r["ci_low"])
                else ""
            )
        return num(r["slope"]) + P.pick(f"{r['unit']}/年", f" {r['unit']}/yr", language) + ci

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
        else f"FY{r['final_target_year']}: {P.number(r['final_target'], r['unit'])}"
        for r in recs
    ]
    t["prob_s"] = [_outcome_text(r, language) for r in recs]
    t["reason_s"] = [_reason(r, language) for r in t["reason"]]
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
    return P.table(t, cols, na_rep="")


def trend_chart(
    ds: Dataset,
    table: pd.DataFrame,
    predictions: pd.DataFrame,
    language: str = "ja",
    fiscal_year: int | None = None,
) -> P.Html:
    """Per KPI: actuals, baseline, the plan's targets as a path, the trend with both bands."""
    from kpianalysis.analysis.projection import kpi_series
    from kpianalysis.report.figures import trend_figure

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
        names[(r["programme_id"], r["indicator_id"])]: r["unit"] for r in table.to_dict("records")
    }
    notes = {
        names[(r["programme_id"], r["indicator_id"])]: _reason(r["reason"], language)
        for r in table.to_dict("records")
    }
    nonneg = {
        names[(r["programme_id"], r["indicator_id"])]: r["kind"] in ("cumulative", "stock")
        or r["model"] in ("poisson", "poisson_increments", "loglinear")
        for r in table.to_dict("records")
    }
    fig = trend_figure(obs, pred, units=units, notes=notes, nonnegative=nonneg)
    return figure_html(fig, P.pick("傾向と予測", "Trends and projections", language))


def trend_methods(language: str = "ja", priors: pd.DataFrame | None = None) -> P.Html:
    """How the trends were fitted, with the empirical-Bayes priors (d₀, s₀²) of each pool."""
    items = [
        P.pick(
            "KPIの種類ごとにモデルを選択: 累計は各年度の増加数（件数ならポアソン・過分散なら準ポアソン、"
            "それ以外は増加分の平均）を推定し、到達済みの水準に今後の増加を加えて予測（累計は減らないため"
            "区間は到達済みの水準を下回りません）。正の値のストックは対数線形（一定の伸び率）、"
            "フロー・平均は直線（OLS）。当初値の年度が計画初年度より前なら、当初値も観測値として使います。",
            "Model by KPI kind: a running total is modelled on its yearly increments (Poisson, "
            "quasi-Poisson when overdispersed, for counts; else the mean increment) and projected "
            "as the level reached plus future increments, so its intervals never fall below that "
            "level. Strictly positive stocks: log-linear (constant growth). Flows and averages: "
            "straight line (OLS). A baseline whose year precedes the plan is an observation.",
            language,
        ),
        P.pick(
            "3点では残差自由度1（t(0.975)=12.706）で区間はほぼ役に立ちません。同じモデル族の系列"
            "（本事業の他の指標・パネルの他の事業）の残差分散から経験ベイズの事前分布（Smyth 2004、"
            "limma squeezeVar）を推定し、各系列の分散を s̃² = (d₀s₀² + d·s²)/(d₀ + d) に縮小、"
            "自由度 d₀ + d の t 分布で区間を計算します。統合後も自由度が2未満なら区間と確率は示しません。",
            "With 3 points df = 1 (t(0.975) = 12.706): an interval from one series is nearly "
            "useless. Residual variances are moderated towards an empirical-Bayes prior "
            "estimated from comparable series (same model family: this programme's other KPIs "
            "and the panel's programmes; Smyth 2004, limma squeezeVar): s̃² = (d₀s₀² + d·s²)/"
            "(d₀ + d), t intervals on d₀ + d df. With fewer than 2 df after pooling no interval "
            "and no probability are shown.",
            language,
        ),
        P.pick(
            "予測区間は常に平均の信頼区間を含みます。件数の予測区間と確率は予測分布（パラメータの"
            "不確実性を混合したポアソン／負の二項分布）を決定的な数値積分で計算（乱数なし、誤差2e-5未満）。"
            "確率は整数パーセントで表示。8点未満では正規性検定を示しません。",
            "A prediction interval always contains the confidence interval of the mean. Count "
            "intervals and probabilities come from the predictive distribution (Poisson or "
            "negative binomial mixed over parameter uncertainty) by deterministic quadrature "
            "(no simulation; error below 2e-5). Probabilities in whole percent. No normality "
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
    return P.bullet_list(items)


def _pool_name(key: str, language: str) -> str:
    if key == "poisson":
        return P.pick("件数モデルの過分散 φ", "dispersion φ of the count models", language)
    if key == "loglinear":
        return P.pick("対数線形の分散（対数尺度）", "log-linear variance (log scale)", language)
    model, kind, unit = [*key.split("|"), "", "", ""][:3]
    return P.pick(f"{model}・{kind}・単位{unit}", f"{model}, {kind}, unit {unit}", language)
