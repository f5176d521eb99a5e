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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from kpianalysis.analysis.measures import format_percent
from kpianalysis.data.dataset import Dataset, load_dataset, load_programme, programme_folders
from kpianalysis.errors import ParameterError
from kpianalysis.paths import DEFAULT_RAW, project_root
from kpianalysis.reasons import reason_label
from kpianalysis.report import present as P
from kpianalysis.report.headline import counts_text


def load_report_data(
    fiscal_year: Any, raw_dir: str | Path = DEFAULT_RAW, programme_id: str = ""
) -> tuple[Dataset, Dataset]:
    """Load and validate the raw data; return ``(full, full.as_of(fiscal_year))``.

    The notebook's edge: the data is cut here, once; the analysis functions take the cut.

    With a ``programme_id`` only that programme's folder is read and validated: its report
    depends on its own sheets alone (another programme's folder, even a broken one, cannot
    change it). A programme with targets but no actual yet has a *plan report* for any fiscal
    year of its plan period.

    Raises :class:`ParameterError` when ``fiscal_year`` has no data or the programme is unknown.
    """
    if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, int):
        raise ParameterError(f"fiscal_year must be an integer such as 2023, not {fiscal_year!r}")
    raw = Path(raw_dir)
    if not raw.is_absolute():
        raw = project_root() / raw
    if programme_id:
        folders = programme_folders(raw)
        if programme_id not in folders:
            known = ", ".join(folders) or "none"
            raise ParameterError(f"unknown programme_id {programme_id!r} (programmes: {known})")
        full = load_programme(folders[programme_id])
    else:
        full = load_dataset(raw)
    if fiscal_year not in full.fiscal_years and not _plan_year(full, programme_id, fiscal_year):
        years = ", ".join(map(str, full.fiscal_years))
        raise ParameterError(f"no actual values for FY{fiscal_year}; the data has FY {years}")
    return full, full.as_of(fiscal_year)


def _plan_year(full: Dataset, programme_id: str, fiscal_year: int) -> bool:
    """Whether a one-programme dataset without any actual has ``fiscal_year`` in its plan."""
    if not programme_id or full.fiscal_years or len(full.programmes) != 1:
        return False
    row = full.programmes.iloc[0]
    return int(row["plan_start"]) <= fiscal_year <= int(row["plan_end"])


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


#: Print resolution of embedded figures: crisp on A4 at the figure's physical size.
FIGURE_DPI = 200
#: Colours kept when a figure is stored (an adaptive palette; the PNG stays small).
FIGURE_COLOURS = 64

#: Report kinds: notebook name → (Japanese, English) title.
REPORT_KINDS: dict[str, tuple[str, str]] = {
    "attainment": ("KPI達成状況", "KPI attainment"),
    "trends": ("KPIの傾向と予測", "KPI trends and projections"),
}

#: Rank tables in plain words: code → (Japanese, English).
RANK_TABLE_NAMES: dict[str, tuple[str, str]] = {
    "osaka_library": (
        "達成率による4段階（A: 110%以上、B: 80%以上、C: 50%以上、D: 50%未満。大阪府立図書館の評価方式）",
        "four grades by achievement rate (A: 110 % or more, B: 80 %, C: 50 %, D: below 50 %; "
        "the scheme of the Osaka Prefectural Library)",
    ),
    "nagayo": (
        "当初値との比較による4段階（S: 目標値以上、A: 当初値を上回る、B: 当初値の±10%以内、C: 下回る。長与町の評価方式）",
        "four grades against the baseline (S: target met, A: above baseline, B: within ±10 % "
        "of it, C: below; the scheme of Nagayo Town)",
    ),
}

#: Achievement-rate variants for decrease-is-better KPIs, in plain words.
VARIANT_NAMES: dict[str, tuple[str, str]] = {
    "ratio": ("実績値÷目標値", "actual ÷ target"),
    "inverse": ("目標値÷実績値（減少が望ましい指標）", "target ÷ actual (lower is better)"),
    "complement": (
        "1＋(目標値−実績値)÷目標値（減少が望ましい指標）",
        "1 + (target − actual) ÷ target",
    ),
}


def figure_html(fig: Any, alt: str, caption: str | None = None) -> P.Html:
    """Embed a matplotlib figure as a PNG data URI at print resolution, optionally captioned.

    The PNG is drawn at :data:`FIGURE_DPI` and stored with an adaptive palette of
    :data:`FIGURE_COLOURS` colours (no metadata, so output is reproducible); its display size is
    the figure's physical size, so it prints at 200 dpi and never wider than the page.
    """
    import matplotlib.pyplot as plt
    from PIL import Image

    buf = io.BytesIO()
    width_in, height_in = fig.get_size_inches()
    with warnings.catch_warnings():
        # Very long labels can defeat the layout engine; the figure is still drawn, and a
        # warning with a library path must not end up in the report.
        warnings.filterwarnings("ignore", message="constrained_layout not applied")
        fig.savefig(buf, format="png", dpi=FIGURE_DPI, metadata={"Software": None})
    plt.close(fig)
    buf.seek(0)
    image = Image.open(buf).convert("RGB").quantize(FIGURE_COLOURS, dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True, dpi=(FIGURE_DPI, FIGURE_DPI))
    data = base64.b64encode(out.getvalue()).decode("ascii")
    # CSS px are 1/96 in: the figure shows at its physical size, smaller on a narrow screen.
    img = P.Html(
        f'<img src="data:image/png;base64,{data}" alt="{P.esc(alt)}" '
        f'width="{round(width_in * 96)}" height="{round(height_in * 96)}">'
    )
    if caption is None:
        return P.Html(f"<figure>{img}</figure>")
    return P.figure(img, caption)


def _unparen(text: Any) -> str:
    """``"(累計 13団体)"`` → ``"累計 13団体"``: the sheet writes targets in parentheses."""
    t = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text).strip()
    for a, b in (("(", ")"), ("（", "）")):
        if t.startswith(a) and t.endswith(b):
            return t[1:-1].strip()
    return t


def _texts(ds: Dataset, fiscal_year: int) -> dict[tuple[str, int], tuple[str, str]]:
    """(programme_id, indicator_id) → (actual text, target text) of the year, as written."""
    obs = ds.observations[ds.observations["fiscal_year"] == fiscal_year]
    return {
        (r.programme_id, int(r.indicator_id)): (str(r.actual_text or ""), str(r.target_text or ""))
        for r in obs.itertuples()
    }


# ------------------------------------------------------------------------------------------------
# Title, summary box, table of contents


def report_header(
    ds: Dataset,
    fiscal_year: int,
    kind: str,
    language: str = "ja",
    *,
    table: pd.DataFrame | None = None,
    summary: pd.DataFrame | None = None,
) -> P.Html:
    """The top of a report: title, the answer in a box, and the table of contents.

    Parameters
    ----------
    ds
        The dataset as of ``fiscal_year``.
    kind
        A key of :data:`REPORT_KINDS` (``"attainment"``, ``"trends"``).
    table, summary
        The year's attainment table and programme summary; computed here when not given.

    The title names programme, municipality, fiscal year and report kind. The box holds the
    headline, one line per KPI (actual against target, achievement rate, achieved or not) and
    the panel verdict. The ``<nav class="kpi-toc">`` placeholder is filled at rendering from the
    report's section headings.
    """
    from kpianalysis.analysis.tables import attainment_table, programme_summary

    P.check_language(language)
    if table is None:
        table = attainment_table(ds, fiscal_year)
    if summary is None:
        summary = programme_summary(ds, fiscal_year, table=table)
    kind_ja, kind_en = REPORT_KINDS.get(kind, (kind, kind))
    progs = ds.programmes.to_dict("records")
    if language == "ja":
        names = "・".join(f"{p['municipality_ja']}「{p['name_ja']}」" for p in progs)
        title = f"{names} {kind_ja} {fiscal_year_label(fiscal_year)}"
        sub = f"{fiscal_year}年度までの実績値・事業費・評価と、計画のすべての目標値を用いています。"
    else:
        names = "; ".join(
            f"{P.pick(p['municipality_ja'], p['municipality_en'], 'en')}: "
            f"{P.pick(p['name_ja'], p['name_en'], 'en')}"
            for p in progs
        )
        title = f"{kind_en}, FY{fiscal_year} — {names}"
        sub = (
            f"Actuals, costs and verdicts up to fiscal year {fiscal_year} (April {fiscal_year} – "
            f"March {fiscal_year + 1}) and every target of the plan."
        )
    parts = [P.heading(title, 1), P.Html(f'<p class="kpi-subtitle">{P.esc(sub)}</p>')]
    parts.append(summary_box(ds, table, summary, fiscal_year, language))
    parts.append(P.Html('<nav class="kpi-toc"></nav>'))
    return P.concat(*parts)


def report_title(ds: Dataset, fiscal_year: int, report_ja: str, report_en: str, language: str):
    """Title block (kept for notebooks written before :func:`report_header`)."""
    kind = next((k for k, v in REPORT_KINDS.items() if v == (report_ja, report_en)), report_ja)
    return report_header(ds, fiscal_year, kind, language)


def headline_sentence(s: Any, language: str = "ja") -> str:
    """「2023年度：評価した4指標中2指標が目標を達成（50.0%）。」 from a summary row.

    One denominator (issue 10): KPIs achieved among those evaluated; the others are counted
    apart (see :func:`kpianalysis.report.headline.counts_text`).
    """
    n, m, k = int(s["n_kpis"]), int(s["n_known"]), int(s["n_achieved"])
    counts = {
        "n_kpis": n,
        "n_evaluated": m,
        "n_achieved": k,
        "n_without_actual": n - m,
        "n_not_evaluable": 0,
        "share_achieved": k / m if m else None,
        "plan_only": n > 0 and m == 0,
    }
    fy = int(s["fiscal_year"])
    if language == "ja":
        return f"{fy}年度：{counts_text(counts, 'ja')}。"
    return f"FY{fy}: {counts_text(counts, 'en')}."


def kpi_status_line(row: Any, texts: tuple[str, str], language: str = "ja") -> P.Html:
    """One KPI in one line: name, actual against target (as written), rate, achieved or not."""
    actual, target = (_unparen(t) for t in texts)
    rate = _pct(row["achievement_rate"]) or _reason(row["achievement_rate_reason"], language)
    if pd.isna(row["achieved"]):
        mark = ""
    elif bool(row["achieved"]):
        mark = f' <span class="kpi-ok">{P.esc(P.pick("○ 達成", "achieved", language))}</span>'
    else:
        mark = (
            f' <span class="kpi-miss">{P.esc(P.pick("× 未達成", "not achieved", language))}</span>'
        )
    if language == "ja":
        # The rate compares levels: a value the sheet writes as an increment is shown as the
        # level it was compared as, the sheet's text beside it.
        actual, target = (
            _as_level(row, kind, written)
            for kind, written in (("actual", actual), ("target", target))
        )
        text = f"{indicator_name(row, 'ja')} — {actual or '—'}／目標 {target or '—'}（{rate}）"
    else:
        unit = _unit(row["unit"], "en")
        actual_en = P.number(row["actual"]) + f" {unit}" if pd.notna(row["actual"]) else "—"
        target_en = P.number(row["target"]) + f" {unit}" if pd.notna(row["target"]) else "—"
        text = f"{indicator_name(row, 'en')} — {actual_en} against {target_en} ({rate})"
    return P.Html(P.esc(text) + mark)


def _as_level(row: Any, kind: str, written: str) -> str:
    """``written`` — or, for an ``actual``/``target`` written as an increment, its level with
    the sheet's text: ``1,438,801人（記載は前年度からの増加数 40,000人）``."""
    if row.get(f"{kind}_form") != "increment" or pd.isna(row[kind]):
        return written
    level = P.number(row[kind], _unit(row["unit"], "ja"))
    return f"{level}（記載は前年度からの増加数 {written}）" if written else level


def verdict_sentence(s: Any, language: str = "ja") -> str:
    """The panel's verdict in one sentence ("" when none is recorded)."""
    if pd.isna(s.get("panel_effective")):
        why = _reason(s.get("panel_reason"), language)
        return P.pick(
            f"有識者による効果検証: 記録なし{f'（{why}）' if why else ''}。",
            f"Expert panel: no verdict recorded{f' ({why})' if why else ''}.",
            language,
        )
    return P.pick(
        f"有識者による効果検証: 「{s['panel_option_ja']}」（評価委員{s['panel_votes']}名／{s['panel_total']}名中）。",
        f"Expert panel: “{s['panel_option_en']}” ({s['panel_votes']} of {s['panel_total']} members).",
        language,
    )


def summary_box(
    ds: Dataset,
    table: pd.DataFrame,
    summary: pd.DataFrame,
    fiscal_year: int,
    language: str = "ja",
) -> P.Html:
    """The answer first: headline, each KPI's status in one line, the panel verdict."""
    texts = _texts(ds, fiscal_year)
    # No anchor: the box sits above the table of contents and is not listed in it.
    ja_h, en_h = P.SECTIONS["summary"]
    parts: list[str] = [
        P.heading(ja_h, 2, english=en_h) if language == "ja" else P.heading(en_h, 2)
    ]
    for s in summary.to_dict("records"):
        parts.append(P.Html(f'<p class="kpi-headline">{P.esc(headline_sentence(s, language))}</p>'))
        rows = table[table["programme_id"] == s["programme_id"]].to_dict("records")
        parts.append(
            P.bullet_list(
                kpi_status_line(
                    r, texts.get((r["programme_id"], int(r["indicator_id"])), ("", "")), language
                )
                for r in rows
            )
        )
        parts.append(P.paragraph(verdict_sentence(s, language)))
    return P.Html(f'<section class="kpi-summary">{P.concat(*parts)}</section>')


# ------------------------------------------------------------------------------------------------
# Programme overview, sub-projects, verdicts


def programme_overview(
    full: Dataset,
    ds: Dataset,
    fiscal_year: int,
    language: str = "ja",
    *,
    summary: pd.DataFrame | None = None,
):
    """Programme at a glance: names, type, plan, cost and grant, sub-projects, panel verdict."""
    from kpianalysis.analysis.tables import programme_summary

    if summary is None:
        summary = programme_summary(ds, fiscal_year)
    summary = summary.set_index("programme_id")
    parts: list[str] = [P.section_heading("programme", language)]
    for prog in ds.programmes.to_dict("records"):
        pid = prog["programme_id"]
        s = summary.loc[pid] if pid in summary.index else None
        pairs = [
            (P.header("programme", language), P.pick(prog["name_ja"], prog["name_en"], language)),
            (
                P.header("municipality", language),
                P.pick(
                    f"{prog['municipality_ja']}（{prog['municipality_code']}）",
                    f"{prog['municipality_en']} ({prog['municipality_ja']}, "
                    f"code {prog['municipality_code']})",
                    language,
                ),
            ),
            (
                P.header("grant_type", language),
                prog["grant_type_ja"]
                if language == "ja"
                else GRANT_TYPES_EN.get(prog["grant_type_ja"], prog["grant_type_ja"]),
            ),
            (P.header("strategy_goals", language), _goals(prog["strategy_goals_ja"], language)),
            (
                P.header("plan_period", language),
                P.pick(
                    f"{prog['plan_start']}年度〜{prog['plan_end']}年度",
                    f"FY{prog['plan_start']}–FY{prog['plan_end']}",
                    language,
                ),
            ),
            (
                P.header("overview", language),
                prog["overview_ja"] if language == "ja" else f"(in Japanese) {prog['overview_ja']}",
            ),
        ]
        fin = ds.finance[(ds.finance["programme_id"] == pid)]
        fin = fin[fin["fiscal_year"] == fiscal_year]
        if len(fin):
            f = fin.iloc[0]
            money = P.pick(
                f"事業費 {P.yen(f['cost_yen'])}、交付額 {P.yen(f['grant_yen'])}"
                f"（交付率 {f['grant_rate_text']}）",
                f"cost {_yen(f['cost_yen'], 'en')}, grant {_yen(f['grant_yen'], 'en')} "
                f"(grant rate {f['grant_rate_text']})",
                language,
            )
            if s is not None and pd.notna(s["grant_gap_yen"]):
                money += P.pick(
                    f"。事業費×交付率 = {P.yen(s['expected_grant_yen'])}、差異 {P.yen(s['grant_gap_yen'])}",
                    f"; cost × rate = {_yen(s['expected_grant_yen'], 'en')}, "
                    f"difference {_yen(s['grant_gap_yen'], 'en')}",
                    language,
                )
                if f["remark_ja"] and language == "ja":
                    money += f"（{f['remark_ja']}）"
                elif f["remark_ja"]:
                    money += f" (the sheet's remark, in Japanese: {f['remark_ja']})"
            cost_key = P.Html(
                "事業費・交付額<small>Cost and grant</small>"
                if language == "ja"
                else "Cost and grant"
            )
            pairs.append((cost_key, money))
        else:
            pairs.append(
                (
                    P.header("cost", language),
                    P.pick("この年度の記録なし", "not recorded for this year", language),
                )
            )
        parts.append(P.definition_list(pairs))
        parts.append(subprojects_table(full, pid, language))
        parts.append(verdicts_view(ds, pid, fiscal_year, language))
    return P.concat(*parts)


def _goals(text: Any, language: str) -> str:
    """「基本目標３・４」 → ``"basic goals 3, 4"`` in English (the sheet's text in Japanese)."""
    import unicodedata

    t = "" if not isinstance(text, str) else text
    if language == "ja" or "基本目標" not in t:
        return t
    t = unicodedata.normalize("NFKC", t).replace("・", ", ").replace("、", ", ")
    return t.replace("基本目標", "basic goals " if "," in t else "basic goal ")


def _yen(value: Any, language: str) -> str:
    """``"19,272,695円"`` in Japanese, ``"¥19,272,695"`` (``"−¥1.5"``) in English."""
    text = P.yen(value)
    if language == "ja" or not text:
        return text
    sign = "−" if text.startswith("-") else ""
    return f"{sign}¥{text.lstrip('-').removesuffix('円')}"


def subprojects_table(ds: Dataset, programme_id: str, language: str = "ja") -> P.Html:
    """The numbered sub-projects with department and strategy code (notes go to the appendix)."""
    comps = ds.components.set_index(["programme_id", "component_no"])["component_ja"]
    sub = ds.subprojects[ds.subprojects["programme_id"] == programme_id].copy()
    sub["component"] = [
        f"{r.component_no}. {comps.get((programme_id, r.component_no), '')}"
        for r in sub.itertuples()
    ]
    # The component is shown once, on its first sub-project's row.
    sub["component"] = sub["component"].where(~sub["component"].duplicated(), "")
    sub["slot_text"] = "(" + sub["slot"].astype(str) + ")"
    cols = {
        "component": P.header("component", language),
        "slot_text": "No.",
        "name_ja": P.header("subproject", language),
        "department_ja": P.header("department", language),
        "strategy_code_ja": P.header("strategy_code", language),
    }
    caption = P.pick(
        "交付対象事業（事業区分ごと、評価シートの表記のまま）",
        "Sub-projects by component (names as the sheet writes them, in Japanese)",
        language,
    )
    return P.table(sub, cols, na_rep="", caption=caption, numeric=(), css_class="kpi-subprojects")


def _option_text(option_ja: str, language: str) -> str:
    """A panel option as the sheet writes it, or its English rendering for ``"en"``."""
    if language == "ja":
        return option_ja
    from kpianalysis.analysis.ratings import PANEL_OPTIONS

    # The sheets prefix the shared wording (「地方版総合戦略の…」); match on the option's core.
    for ja, en in PANEL_OPTIONS.values():
        if str(option_ja).endswith(ja):
            return en
    return option_ja


#: Grant types in English (the sheet's Japanese stays in the Japanese report).
GRANT_TYPES_EN: dict[str, str] = {
    "地方創生推進タイプ": "regional revitalisation promotion type",
    "先駆タイプ": "pioneering type",
    "横展開タイプ": "roll-out type",
    "Society5.0タイプ": "Society 5.0 type",
    "先行型": "early type (先行型)",
}


def verdicts_view(ds: Dataset, programme_id: str, fiscal_year: int, language: str = "ja"):
    """The verdicts of the year: evaluator (once), option, votes, and which option was chosen."""
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
    who = [
        P.pick(r.evaluator_ja, r.evaluator, language)
        if language == "ja"
        else {"panel": "Expert panel", "external": "External body"}.get(
            str(r.evaluator), str(r.evaluator)
        )
        + f" ({r.evaluator_ja})"
        for r in v.itertuples()
    ]
    rows = v.assign(
        who=who,
        option=[
            f"{'①②③④⑤'[r.option_no - 1] if r.option_no <= 5 else r.option_no} "
            + _option_text(r.option_ja, language)
            for r in v.itertuples()
        ],
        count=[
            ""
            if pd.isna(r.votes)
            else P.pick(f"{r.votes}名／{r.total}名", f"{r.votes} of {r.total}", language)
            for r in v.itertuples()
        ],
        chosen=[
            P.pick("○ 選ばれた評価", "✓ chosen", language) if r.selected else ""
            for r in v.itertuples()
        ],
    )
    rows["who"] = rows["who"].where(~rows["who"].duplicated(), "")
    return P.table(
        rows,
        {
            "who": P.Html(P.esc(P.pick("評価者", "Evaluator", language))),
            "option": P.Html(P.esc(P.pick("評価の選択肢", "Option", language))),
            "count": P.header("votes", language),
            "chosen": P.Html(P.esc(P.pick("結果", "Result", language))),
        },
        na_rep="",
        caption=P.pick(
            f"{fiscal_year}年度の効果検証（評価シートの選択肢のまま）",
            f"Effect verification of FY{fiscal_year} (options as the sheet writes them)",
            language,
        ),
    )


# ------------------------------------------------------------------------------------------------
# Attainment report


def kpi_table(ds: Dataset, table: pd.DataFrame, fiscal_year: int, language: str = "ja") -> P.Html:
    """The sheet's own table: per KPI the baseline and every year's actual (target), as written.

    Beside them the year's computed achievement and progress rates and the ratings. Years after
    ``fiscal_year`` show their targets only (the report does not see later actuals).
    """
    obs = ds.observations
    years = sorted(int(y) for y in obs["fiscal_year"].dropna().unique())
    by_key = {
        (r.programme_id, int(r.indicator_id), int(r.fiscal_year)): r for r in obs.itertuples()
    }
    ind = ds.indicators.set_index(["programme_id", "indicator_id"])
    t = table.copy()
    t["indicator"] = [indicator_name(r, language) for r in t.to_dict("records")]
    base_years = sorted({int(y) for y in t["baseline_year"].dropna()})
    t["baseline_s"] = [
        _as_written(ind.loc[(r["programme_id"], r["indicator_id"]), "baseline_text"])
        for r in t.to_dict("records")
    ]
    cols: dict[str, Any] = {
        "indicator": P.header("indicator", language),
        "baseline_s": P.Html(
            P.esc(P.term("baseline", language))
            + (
                f"<small>{P.esc(_fy_short(base_years[0], language))}</small>"
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
            actual = _as_written(o.actual_text) if o is not None and y <= fiscal_year else ""
            target = _as_written(o.target_text) if o is not None else ""
            cells.append(
                P.Html(
                    P.esc(actual or ("—" if y <= fiscal_year else ""))
                    + (f'<span class="sub">{P.esc(target)}</span>' if target else "")
                )
            )
        t[col] = P.html_column(cells, t.index)
        cols[col] = P.Html(P.esc(_fy_short(y, language)))
    t["rate_s"] = [
        _pct(v) or _reason(r, language)
        for v, r in zip(t["achievement_rate"], t["achievement_rate_reason"], strict=True)
    ]
    t["progress_s"] = [
        _pct(v) or _reason(r, language)
        for v, r in zip(t["progress_rate"], t["progress_rate_reason"], strict=True)
    ]
    t["effect_s"] = [
        _rating(r["effect_ja"], r["effect_en"], r["effect_reason"], language)
        for r in t.to_dict("records")
    ]
    t["rank_s"] = [_rank(r, language) for r in t.to_dict("records")]
    cols["rate_s"] = P.header("achievement_rate", language)
    cols["progress_s"] = P.header("progress_rate", language)
    cols["effect_s"] = P.header("effect_rating", language)
    cols["rank_s"] = P.header("rank", language)
    caption = P.pick(
        f"KPIの実績値と（目標値）: 評価シートの表記のまま。右の4列は{fiscal_year}年度の算出値",
        f"KPI actuals and (targets) as the sheet writes them (Japanese units); the last four "
        f"columns are computed for FY{fiscal_year}",
        language,
    )
    numeric = ["baseline_s", *(f"fy{y}" for y in years), "rate_s", "progress_s"]
    return P.table(t, cols, na_rep="", caption=caption, numeric=numeric, css_class="kpi-sheet")


def _as_written(text: Any) -> str:
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return ""
    return str(text).strip()


def _fy_short(year: int, language: str) -> str:
    return f"{year}年度" if language == "ja" else f"FY{year}"


def _rating(ja: Any, en: Any, reason: Any, language: str) -> str:
    if isinstance(ja, str) and ja:
        return P.pick(ja, en, language)
    return _reason(reason, language)


def _rank(r: Mapping[str, Any], language: str) -> str:
    """``"C"``: the letter only; the methods section says what each letter means."""
    letter = r.get("rank")
    if isinstance(letter, str) and letter:
        return letter
    return _reason(r.get("rank_reason"), language)


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
        sentences.append(headline_sentence(s, language))
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
    return P.concat(*(P.paragraph(x) for x in sentences))


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


def series_chart(ds: Dataset, table: pd.DataFrame, fiscal_year: int, language: str = "ja"):
    """Each KPI's full series: baseline, actuals up to the year, and the plan's targets."""
    from kpianalysis.report.figures import series_figure

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
    units = {
        names[(r["programme_id"], int(r["indicator_id"]))]: _unit(r["unit"], language)
        for r in table.to_dict("records")
    }
    fig = series_figure(
        obs[obs["label"] != ""],
        base[["label", "baseline_year", "baseline"]],
        units=units,
        language=language,
    )
    caption = P.pick(
        "各KPIの推移: 当初値（□）、実績値（●）、計画の目標値（◇、点線）",
        "Each KPI over time: baseline (□), actuals (●) and the plan's targets (◇, dotted)",
        language,
    )
    return figure_html(fig, caption, caption)


def _unit(unit: Any, language: str) -> str:
    """The unit as a reader of the language understands it (the sheet's Japanese in ``ja``)."""
    text = "" if not isinstance(unit, str) else unit
    if language == "ja":
        return text
    return UNITS_EN.get(text, text)


#: Units the seed sheets use, in English (the sheet's Japanese is kept in the tables).
UNITS_EN: dict[str, str] = {
    "人": "persons",
    "団体": "organisations",
    "回": "times",
    "件": "cases",
    "円": "yen",
    "%": "%",
    "店舗": "shops",
    "番組": "programmes",
    "人/月": "persons per month",
}


def achievement_chart(table: pd.DataFrame, fiscal_year: int, language: str = "ja") -> P.Html:
    """Bar chart of achievement per KPI against 100 %, embedded with a numbered caption."""
    from kpianalysis.report.figures import achievement_figure

    data = pd.DataFrame(
        {
            # The circled number only: the names are in the table and the figure stays small.
            "label": table["indicator_label"].astype(str).tolist(),
            "achievement_rate": table["achievement_rate"].astype(float),
            "achieved": table["achieved"],
            "reason": [_reason(r, language) for r in table["achievement_rate_reason"]],
        }
    )
    fig = achievement_figure(data, reason="reason", language=language, width=6.0)
    caption = P.pick(
        f"{fiscal_year}年度の達成率（実績値÷目標値）。破線は目標（100%）",
        f"Achievement rate in FY{fiscal_year} (actual ÷ target); the dashed line is the "
        "target (100 %)",
        language,
    )
    return figure_html(fig, caption, caption)


#: When a CAGR ratio rounds to zero, "limited progress" would contradict a zero status index.
_NO_GROWTH = ("伸びなし", "no growth")


def assessment_view(table: pd.DataFrame, language: str = "ja") -> P.Html:
    """Multi-year progress assessment up to the fiscal year, every class as a phrase."""
    t = table.copy()
    t["indicator"] = [indicator_name(r, language) for r in t.to_dict("records")]

    def cell(value_col: str, class_col: str, reason_col: str, kind: str) -> pd.Series:
        out = []
        for r in t.to_dict("records"):
            code = r[class_col]
            val = r[value_col]
            has = val is not None and not pd.isna(val)
            phrase = _reason(code, language)
            if code == "limited_progress" and has and abs(float(val)) < 0.0005:
                phrase = P.pick(*_NO_GROWTH, language)
            why = _reason(r[reason_col], language)
            detail = ""
            if has and code != "target_achieved":
                detail = _pct(val) if kind == "pct" else f"{float(val):.2f}"
            elif why and why != phrase:
                detail = why
            out.append(
                P.Html(
                    P.esc(phrase) + (f' <span class="val">{P.esc(detail)}</span>' if detail else "")
                )
            )
        return P.html_column(out, t.index)

    t["status_s"] = cell("status_index", "status_class", "status_reason", "pct")
    t["anticipated_s"] = cell(
        "anticipated_progress", "anticipated_class", "anticipated_reason", "pct"
    )
    t["cagr_s"] = cell("cagr_ratio", "cagr_class", "cagr_reason", "pct")
    t["miss_s"] = cell("miss_share", "miss_share_class", "miss_share_reason", "pct")
    ja = language == "ja"
    cols = {
        "indicator": P.header("indicator", language),
        "status_s": P.Html(
            "現状（目標までの進み具合）<small>ESCAP</small>" if ja else "Status so far (ESCAP)"
        ),
        "anticipated_s": P.Html(
            "このペースでの見込み<small>ESCAP</small>" if ja else "Outlook at this pace (ESCAP)"
        ),
        "cagr_s": P.Html(
            "年平均伸び率の比<small>Open SDG</small>" if ja else "Growth-rate ratio (Open SDG)"
        ),
        "miss_s": P.Html(
            "傾向を延ばした未達の割合<small>Destatis</small>"
            if ja
            else "Share missed on trend (Destatis)"
        ),
    }
    caption = P.pick(
        "複数年度の進捗評価（各方法の説明は「方法」の節）",
        "Multi-year progress assessment (each method is explained under Methods)",
        language,
    )
    return P.keep_together(
        P.section_heading("assessment", language),
        P.table(t, cols, na_rep="", caption=caption, css_class="kpi-assessment"),
    )


def attainment_methods(table: pd.DataFrame, language: str = "ja") -> P.Html:
    """Every rule and method the report used, each in one plain sentence (METHODS.md)."""
    variants = sorted(set(table["achievement_variant"].dropna().astype(str)))
    variant_text = "、".join(P.pick(*VARIANT_NAMES.get(v, (v, v)), language) for v in variants)
    ranks = sorted(set(table["rank_table"].dropna().astype(str)))
    rank_text = "; ".join(P.pick(*RANK_TABLE_NAMES.get(r, (r, r)), language) for r in ranks)
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
            f"ランク: {rank_text}。",
            f"Rank: {rank_text}.",
            language,
        ),
        P.pick(
            "現状と見込み（国連アジア太平洋経済社会委員会 ESCAP の方法）: 当初値から目標値までの道のりのうち、いま何割進んだか、またこれまでの年平均のペースが続けば目標年度に達するかを見ます。",
            "Status and outlook (the method of the UN Economic and Social Commission for Asia "
            "and the Pacific, ESCAP): how much of the way from baseline to target has been "
            "covered, and whether the average pace so far would reach the target in time.",
            language,
        ),
        P.pick(
            "年平均伸び率の比（国連SDG指標の公開基盤 Open SDG の方法）: 実際の年平均伸び率を、目標に届くのに必要な年平均伸び率で割った値です（1以上なら十分）。",
            "Growth-rate ratio (the method of Open SDG, the open-source SDG reporting platform): "
            "the actual average annual growth rate divided by the rate needed to reach the "
            "target (1 or more is enough).",
            language,
        ),
        P.pick(
            "傾向を延ばした未達の割合（ドイツ連邦統計局 Destatis の方法）: 直近の値に直線を当てはめて目標年度まで延ばし、目標との差が必要な変化の何割にあたるかを見ます。",
            "Share missed on trend (the method of Destatis, the German Federal Statistical "
            "Office): a straight line through the recent values is extended to the target year, "
            "and the gap to the target is expressed as a share of the change needed.",
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


def _places(where: list[str], language: str) -> str:
    """Places a note applies to, each once, in order: 「事業区分 2 (1)、(2)、(3)」."""
    out: list[str] = []
    prefix = ""
    for w in dict.fromkeys(where):
        head, _, slot = w.rpartition(" (")
        if slot and head == prefix:
            out.append("(" + slot)
        else:
            out.append(w)
            prefix = head if slot else ""
    return ("、" if language == "ja" else ", ").join(out)


def transcription_notes(full: Dataset, ds: Dataset, language: str = "ja") -> P.Html:
    """Appendix: the transcription notes and layout ambiguities of the sheet, each once."""
    notes: dict[str, list[str]] = {}

    def add(where: str, text: Any) -> None:
        if isinstance(text, str) and text.strip():
            notes.setdefault(text.strip(), []).append(where)

    comps = full.components
    for r in comps.itertuples():
        add(
            P.pick(f"事業区分 {r.component_no}", f"Component {r.component_no}", language),
            r.ambiguity,
        )
    for r in full.subprojects.itertuples():
        add(
            P.pick(
                f"事業区分 {r.component_no} ({r.slot})",
                f"Component {r.component_no} ({r.slot})",
                language,
            ),
            r.ambiguity,
        )
    for r in ds.finance.itertuples():
        add(P.pick(f"{r.fiscal_year}年度の事業費", f"Cost of FY{r.fiscal_year}", language), r.note)
    intro = P.pick(
        "評価シートのPDFから転記した際に判断が必要だった点です（転記者の注記、英語）。",
        "Points that needed judgement when the sheet's PDF was transcribed (the transcriber's "
        "notes).",
        language,
    )
    if not notes:
        body: P.Html = P.paragraph(P.pick("注記はありません。", "No notes.", language))
    else:
        body = P.bullet_list(
            (P.Html(f"<b>{P.esc(_places(w, language))}</b>: {P.esc(n)}") for n, w in notes.items()),
            "kpi-notes",
        )
    return P.concat(P.section_heading("notes", language), P.paragraph(intro), body)


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
    caption = P.pick("KPIごとの当てはめの結果", "Fitted trend per KPI", language)
    return P.table(t, cols, na_rep="", caption=caption)


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
    caption = P.pick(
        "KPIごとの傾向と予測（実績値、目標値、当てはめた傾向と95%区間）",
        "Trend and projection per KPI (actuals, targets, fitted trend with 95 % bands)",
        language,
    )
    return figure_html(fig, caption, caption)


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


def section_heading(key: str, language: str = "ja") -> P.Html:
    """A report section's heading with its anchor (see :data:`present.SECTIONS`)."""
    return P.section_heading(key, language)
