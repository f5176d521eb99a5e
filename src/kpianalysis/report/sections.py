"""Sections every programme report shares: title, summary box, programme overview, notes.

A notebook cell calls one function here and displays what it returns (escaped
:class:`~kpianalysis.report.present.Html`). The report-specific sections are in
:mod:`~kpianalysis.report.attainment_views` and :mod:`~kpianalysis.report.trends_views`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pandas as pd

from kpianalysis.analysis.measures import PRO_RATA_LABELS
from kpianalysis.analysis.ratings import PANEL_OPTIONS
from kpianalysis.analysis.tables import attainment_table, programme_summary
from kpianalysis.data.dataset import TRANSCRIBER_MARKS, Dataset
from kpianalysis.data.notation import split_scale
from kpianalysis.report import present as P
from kpianalysis.report.headline import achievement_counts, counts_text
from kpianalysis.report.labels import (
    fiscal_year_label,
    grant_type_text,
    indicator_name,
    percent_text,
    quantity,
    reason_text,
    unit_text,
    unparen,
    yen_text,
)
from kpianalysis.report.registry import report_title

__all__ = [
    "headline_sentence",
    "kpi_status_line",
    "programme_overview",
    "report_header",
    "section_heading",
    "subprojects_table",
    "summary_box",
    "transcription_notes",
    "transcription_status",
    "verdict_sentence",
    "verdicts_view",
]


def section_heading(key: str, language: str = "ja") -> P.Html:
    """A report section's heading with its anchor (see :data:`present.SECTIONS`)."""
    return P.section_heading(key, language)


def _texts(ds: Dataset, fiscal_year: int) -> dict[tuple[str, int], tuple[str, str]]:
    """(programme_id, indicator_id) → (actual text, target text) of the year, as written, each
    with its unit: a number the sheet printed bare (``1.55 以下`` in a KPI counted in kg) gets
    the KPI's unit as written beside it (``1.55kg 以下``). A measure of a compound cell
    (``171・3,620`` in ``回・人``) is its own value in its own unit (``171回``, ``3,620人``):
    the whole cell is quoted only in the sheet's table."""
    obs = ds.observations[ds.observations["fiscal_year"] == fiscal_year]
    ind = ds.indicators.set_index(["programme_id", "indicator_id"])
    texts = {}
    for r in obs.itertuples():
        key = (r.programme_id, int(r.indicator_id))
        kpi = ind.loc[key] if key in ind.index else None
        written = str(kpi["unit_text"] or kpi["unit"]) if kpi is not None else ""
        if kpi is not None and int(kpi.get("measure_no", 0) or 0) > 0:
            scale = split_scale(written)[1]
            texts[key] = (
                P.number(r.actual / scale, written),
                P.number(r.target / scale, written),
            )
        else:
            texts[key] = (
                _with_unit(str(r.actual_text or ""), written),
                _with_unit(str(r.target_text or ""), written),
            )
    return texts


def _with_unit(text: str, unit: str) -> str:
    """``text`` as written, with ``unit`` after its last digit when the sheet printed the number
    without one (``1.49`` → ``1.49kg``, ``80 以上`` → ``80人 以上``)."""
    if not unit or unit in text or unit in unicodedata.normalize("NFKC", text):
        return text
    return _LAST_DIGIT.sub(lambda m: m.group(0) + unit, text, count=1)


#: The last digit of a cell (where a bare number ends).
_LAST_DIGIT = re.compile(r"[0-9０-９](?=[^0-9０-９]*$)")


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
        The report's notebook (``"attainment"``, ``"trends"``): its title comes from
        :data:`kpianalysis.report.registry.REPORTS`, as in the index.
    table, summary
        The year's attainment table and programme summary; computed here when not given.

    The title names programme, municipality, fiscal year and report kind. The box holds the
    headline, one line per KPI (actual against target, achievement rate, achieved or not) and
    the panel verdict. The ``<nav class="kpi-toc">`` placeholder is filled at rendering from the
    report's section headings.
    """
    P.check_language(language)
    if table is None:
        table = attainment_table(ds, fiscal_year)
    if summary is None:
        summary = programme_summary(ds, fiscal_year, table=table)
    kind_ja, kind_en = report_title(kind, "ja"), report_title(kind, "en")
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
    h1 = P.Html(f"<h1>{P.esc(title) if language == 'ja' else P.mark_japanese(title)}</h1>")
    parts = [h1, P.Html(f'<p class="kpi-subtitle">{P.esc(sub)}</p>')]
    parts.append(summary_box(ds, table, summary, fiscal_year, language))
    parts.append(P.Html('<nav class="kpi-toc"></nav>'))
    return P.concat(*parts)


def headline_sentence(s: Any, language: str = "ja", rows: pd.DataFrame | None = None) -> str:
    """「2023年度：評価した4指標中2指標が目標を達成（50.0%）。」 from a summary row.

    One denominator (issue 10): KPIs achieved among those evaluated; the others are counted
    apart (see :func:`kpianalysis.report.headline.counts_text`). With the programme's attainment
    ``rows``, a KPI with an actual but no rate is not counted as one without an actual: an
    interim year's KPI (no target of its own, issue 16.1) is counted as such.
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
    interim = 0
    if rows is not None and len(rows):
        counts = achievement_counts(rows)
        interim = int(
            (
                (rows["target_basis"] == "final")
                & rows["actual"].notna()
                & pd.array(list(rows["achieved"]), dtype="boolean").isna()
            ).sum()
        )
        counts["n_not_evaluable"] -= interim
        if interim and counts["n_evaluated"] == 0:
            rest = int(counts["n_without_actual"])
            ja = f"{fy}年度：この年度の目標値がある指標はありません（計画途中の年度の指標{interim}"
            en = f"FY{fy}: no KPI has a target for this year ({interim} at an interim year"
            if rest:
                ja, en = ja + f"、実績値なし{rest}", en + f", {rest} without an actual"
            return P.pick(ja + "）。", en + ").", language)
    if interim:
        ja_more, en_more = f"、計画途中の年度{interim}指標", f"; {interim} at an interim year"
        if language == "ja":
            return f"{fy}年度：{counts_text(counts, 'ja')}{ja_more}。"
        return f"FY{fy}: {counts_text(counts, 'en')}{en_more}."
    if language == "ja":
        return f"{fy}年度：{counts_text(counts, 'ja')}。"
    return f"FY{fy}: {counts_text(counts, 'en')}."


def kpi_status_line(
    row: Any, texts: tuple[str, str], language: str = "ja", *, bound: str = ""
) -> P.Html:
    """One KPI in one line: name, actual against target (as written), rate, achieved or not.

    ``bound`` is the target's ``target_bound`` (``ceiling`` …): the Japanese line shows it as
    written (``1.55kg 以下``), the English one in words (``at most 1.55 kg``)."""
    if row.get("target_basis") == "final" and pd.notna(row.get("interim_rate")):
        return _interim_line(row, language)
    if row.get("target_basis") == "final":
        return _interim_uncomputed_line(row, language)
    actual, target = (unparen(t) for t in texts)
    rate = percent_text(row["achievement_rate"], language) or reason_text(
        row["achievement_rate_reason"], language
    )
    if pd.isna(row["achieved"]):
        mark = ""
    elif bool(row["achieved"]):
        ok = P.pick("○ 達成", "achieved", language)
        end = row.get("assessment_target_year")
        if pd.notna(end) and int(row["fiscal_year"]) < int(end):
            # An interim year's own target met: on track for the plan (issue 17), the word
            # the research appendix uses too.
            ok += P.pick("（順調）", " (on track)", language)
        mark = f' <span class="kpi-ok">{P.esc(ok)}</span>'
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
        actual_en = quantity(row["actual"], row["unit"], "en") or "—"
        target_en = quantity(row["target"], row["unit"], "en") or "—"
        if bound in _BOUNDS_EN and target_en != "—":
            target_en = f"{_BOUNDS_EN[bound]} {target_en}"
        text = f"{indicator_name(row, 'en')} — {actual_en} against {target_en} ({rate})"
        return P.Html(P.mark_japanese(text) + mark)
    return P.Html(P.esc(text) + mark)


#: A target's bound (observations' ``target_bound``) in English words.
_BOUNDS_EN = {
    "ceiling": "at most",
    "floor": "at least",
    "strict_ceiling": "less than",
    "strict_floor": "more than",
}


def _interim_line(row: Any, language: str) -> P.Html:
    """A year the plan gives no target of its own (issue 16.1): progress against time elapsed
    toward the final target, which is named — not a missed target of the year."""
    unit = unit_text(row["unit"], language)
    year, pace = int(row["assessment_target_year"]), percent_text(row["interim_rate"], language)
    elapsed = percent_text(row["elapsed_share"], language)
    label_ja, label_en = PRO_RATA_LABELS[str(row["interim_class"])]
    if language == "ja":
        text = (
            f"{indicator_name(row, 'ja')} — {P.number(row['actual'], unit)}"
            f"（{year}年度の目標 {P.number(row['assessment_target'], unit)}に向け、"
            f"期間の{elapsed}経過時点の進み具合 {pace}）"
        )
        css = "kpi-miss" if row["interim_class"] == "needs_improvement" else "kpi-ok"
        return P.Html(P.esc(text) + f' <span class="{css}">{P.esc(label_ja)}</span>')
    text = (
        f"{indicator_name(row, 'en')} — {quantity(row['actual'], row['unit'], 'en') or '—'} toward "
        f"{quantity(row['assessment_target'], row['unit'], 'en')} in FY{year} ({pace} of the "
        f"pace after {elapsed} of the period)"
    )
    return P.Html(P.mark_japanese(text) + f" {P.esc(label_en)}")


def _interim_uncomputed_line(row: Any, language: str) -> P.Html:
    """An interim year whose progress cannot be computed (no actual yet, or no baseline): the
    actual and the final target it heads for, and why no pace is given — never "no target"."""
    unit = unit_text(row["unit"], language)
    year = int(row["assessment_target_year"])
    missing = pd.isna(row["actual"])
    why = reason_text(
        row["achievement_rate_reason"] if missing else row.get("interim_reason"), language
    )
    if language == "ja":
        text = (
            f"{indicator_name(row, 'ja')} — {P.number(row['actual'], unit) or '—'}"
            f"（{year}年度の目標 {P.number(row['assessment_target'], unit)}に向けた計画途中の年度。"
            f"進み具合は算出しません：{why}）"
        )
        return P.Html(P.esc(text))
    text = (
        f"{indicator_name(row, 'en')} — {quantity(row['actual'], row['unit'], 'en') or '—'} toward "
        f"{quantity(row['assessment_target'], row['unit'], 'en')} in FY{year} (an interim year; "
        f"progress not computed: {why})"
    )
    return P.Html(P.mark_japanese(text))


def _as_level(row: Any, kind: str, written: str) -> str:
    """``written`` — or, for an ``actual``/``target`` written as an increment, its level with
    the sheet's text: ``1,438,801人（記載は前年度からの増加数 40,000人）``."""
    if row.get(f"{kind}_form") != "increment" or pd.isna(row[kind]):
        return written
    level = P.number(row[kind], unit_text(row["unit"], "ja"))
    return f"{level}（記載は前年度からの増加数 {written}）" if written else level


def verdict_sentence(s: Any, language: str = "ja") -> str:
    """The panel's verdict in one sentence ("" when none is recorded).

    Examples
    --------
    >>> verdict_sentence({"panel_effective": None, "panel_reason": "no_verdict"}, "en")
    'Expert panel: no verdict recorded.'
    """
    if pd.isna(s.get("panel_effective")):
        # "no_verdict" says what the sentence says ("no verdict recorded (no verdict
        # recorded)", issue 17); another reason is said in brackets.
        reason = s.get("panel_reason")
        why = "" if reason == "no_verdict" else reason_text(reason, language)
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
    obs = ds.observations[ds.observations["fiscal_year"] == fiscal_year]
    bounds = {
        (pid, int(iid)): str(b)
        for pid, iid, b in zip(
            obs["programme_id"],
            obs["indicator_id"],
            obs.get("target_bound", pd.Series("", index=obs.index)).fillna(""),
            strict=True,
        )
    }
    # No anchor: the box sits above the table of contents and is not listed in it.
    ja_h, en_h = P.SECTIONS["summary"]
    parts: list[str] = [P.heading(ja_h if language == "ja" else en_h, 2)]
    for s in summary.to_dict("records"):
        mine = table[table["programme_id"] == s["programme_id"]]
        sentence = headline_sentence(s, language, mine)
        parts.append(P.Html(f'<p class="kpi-headline">{P.esc(sentence)}</p>'))
        rows = mine.to_dict("records")
        parts.append(
            P.bullet_list(
                kpi_status_line(
                    r,
                    texts.get((r["programme_id"], int(r["indicator_id"])), ("", "")),
                    language,
                    bound=bounds.get((r["programme_id"], int(r["indicator_id"])), ""),
                )
                for r in rows
            )
        )
        parts.append(P.paragraph(verdict_sentence(s, language)))
    return P.Html(f'<section class="kpi-summary">{P.concat(*parts)}</section>')


def _given(printed: Any, shown: Any, language: str) -> Any:
    """``shown``, or 記載なし / "not given" where the sheet prints nothing (a 成果目標 page has
    no grant type, goals or overview): never an empty line or a bare "(in Japanese)"."""
    return shown if str(printed or "").strip() else P.pick("記載なし", "not given", language)


def programme_overview(
    full: Dataset,
    ds: Dataset,
    fiscal_year: int,
    language: str = "ja",
    *,
    summary: pd.DataFrame | None = None,
):
    """Programme at a glance: names, type, plan, cost and grant, sub-projects, panel verdict."""
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
                    # A blank code is an unknown one (data/raw/README.md): said, never guessed.
                    f"{prog['municipality_ja']}（{prog['municipality_code'] or '自治体コード不明'}）",
                    f"{prog['municipality_en']} ({prog['municipality_ja']}, "
                    f"{'code ' + prog['municipality_code'] if prog['municipality_code'] else 'code unknown'})",
                    language,
                ),
            ),
            (
                P.header("grant_type", language),
                _given(
                    prog["grant_type_ja"],
                    grant_type_text(prog["grant_type_ja"], language, with_category=True),
                    language,
                ),
            ),
            (
                P.header("strategy_goals", language),
                _given(
                    prog["strategy_goals_ja"], _goals(prog["strategy_goals_ja"], language), language
                ),
            ),
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
                _given(
                    prog["overview_ja"],
                    prog["overview_ja"]
                    if language == "ja"
                    else f"(in Japanese) {prog['overview_ja']}",
                    language,
                ),
            ),
        ]
        fin = ds.finance[(ds.finance["programme_id"] == pid)]
        fin = fin[fin["fiscal_year"] == fiscal_year]
        if len(fin):
            f = fin.iloc[0]
            # A grant the sheet does not give (先行型 sheets print only 実績額) is said so, not
            # left as an empty 交付額 beside a rate of "-".
            if pd.isna(f["grant_yen"]):
                grant_ja, grant_en = "交付額 記載なし", "grant not given"
            else:
                grant_ja = f"交付額 {P.yen(f['grant_yen'])}（交付率 {f['grant_rate_text']}）"
                grant_en = (
                    f"grant {yen_text(f['grant_yen'], 'en')} (grant rate {f['grant_rate_text']})"
                )
            money = P.pick(
                f"事業費 {P.yen(f['cost_yen'])}、{grant_ja}",
                f"cost {yen_text(f['cost_yen'], 'en')}, {grant_en}",
                language,
            )
            if s is not None and pd.notna(s["grant_gap_yen"]):
                money += P.pick(
                    f"。事業費×交付率 = {P.yen(s['expected_grant_yen'])}、差異 {P.yen(s['grant_gap_yen'])}",
                    f"; cost × rate = {yen_text(s['expected_grant_yen'], 'en')}, "
                    f"difference {yen_text(s['grant_gap_yen'], 'en')}",
                    language,
                )
                if f["remark_ja"] and language == "ja":
                    money += f"（{f['remark_ja']}）"
                elif f["remark_ja"]:
                    money += f" (the sheet's remark, in Japanese: {f['remark_ja']})"
            cost_key = P.Html(P.pick("事業費・交付額", "Cost and grant", language))
            pairs.append((cost_key, money))
        else:
            pairs.append(
                (
                    P.header("cost", language),
                    P.pick("この年度の記録なし", "not recorded for this year", language),
                )
            )
        note = prog.get("note")
        if isinstance(note, str) and note.strip():
            # The programme's own note (programme.csv), e.g. that a partner's figures are
            # illustrative or that no source document exists: the reader must see it here.
            pairs.append((P.Html(P.pick("注記", "Note", language)), note.strip()))
        if language == "en":  # names kept as the sheet writes them are marked lang="ja"
            pairs = [(k, v if isinstance(v, P.Html) else P.mark_japanese(v)) for k, v in pairs]
        parts.append(P.definition_list(pairs))
        parts.append(transcription_status(ds, language, programme_id=pid))
        parts.append(subprojects_table(full, pid, language))
        parts.append(verdicts_view(ds, pid, fiscal_year, language))
    return P.concat(*parts)


def transcription_status(
    ds: Dataset, language: str = "ja", *, programme_id: str = "", appendix: bool = True
) -> P.Html:
    """What the reader must know about the transcription, said in the report body: that a
    programme has no source document, and how many of its cells are not as the source prints
    them (listed in the appendix, :func:`transcription_notes`). Empty when neither applies.

    ``ds`` is the cut dataset: a note on a later year's actual is not counted before that year.
    Without ``programme_id``, every programme of ``ds`` (a report has one).
    ``appendix=False`` in a report whose appendix does not list the cells (trends).
    """
    pids = [programme_id] if programme_id else [str(p) for p in ds.programmes["programme_id"]]
    notes = ds.cell_notes
    parts: list[str] = []
    for pid in pids:
        if pid in ds.unchecked_programmes:
            parts.append(
                P.paragraph(
                    P.pick(
                        "この事業の転記は原資料と照合されていません。",
                        "This programme's transcription has not been checked against a "
                        "source document.",
                        language,
                    )
                )
            )
        # Only the transcriber's marks (Dataset.marked_programmes): a normalised or era-read
        # cell matches its source and is listed in the appendix without alarming the reader.
        n = int(((notes["programme_id"] == pid) & notes["mark"].isin(TRANSCRIBER_MARKS)).sum())
        if n:
            en = f"{n} value is" if n == 1 else f"{n} values are"
            parts.append(
                P.paragraph(
                    P.pick(
                        f"原資料どおりでない値が{n}件あります{'（付録参照）' if appendix else ''}。",
                        f"{en} not as the source document prints them"
                        f"{' (see the appendix)' if appendix else ''}.",
                        language,
                    )
                )
            )
    return P.concat(*parts)


def _goals(text: Any, language: str) -> str:
    """「基本目標３・４」 → ``"basic goals 3, 4"`` in English (the sheet's text in Japanese)."""
    t = "" if not isinstance(text, str) else text
    if language == "ja" or "基本目標" not in t:
        return t
    t = unicodedata.normalize("NFKC", t).replace("・", ", ").replace("、", ", ")
    return t.replace("基本目標", "basic goals " if "," in t else "basic goal ")


def subprojects_table(ds: Dataset, programme_id: str, language: str = "ja") -> P.Html:
    """The numbered sub-projects with department and strategy code (notes go to the appendix)."""
    comps = ds.components.set_index(["programme_id", "component_no"])["component_ja"]
    sub = ds.subprojects[ds.subprojects["programme_id"] == programme_id].copy()
    if sub.empty:  # a 先行型 results sheet lists none: say so, not an empty table's header
        return P.paragraph(
            P.pick("交付対象事業の記載はありません。", "The sheet lists no sub-projects.", language)
        )
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
    return P.table(
        sub,
        cols,
        na_rep="",
        caption=caption,
        numeric=(),
        css_class="kpi-subprojects",
        language=language,
    )


def _option_text(option_ja: str, language: str) -> str:
    """A panel option as the sheet writes it, or its English rendering for ``"en"``."""
    if language == "ja":
        return option_ja

    # The sheets prefix the shared wording (「地方版総合戦略の…」); match on the option's core.
    for ja, en in PANEL_OPTIONS.values():
        if str(option_ja).endswith(ja):
            return en
    return option_ja


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
        language=language,
    )


def _places(where: list[str], language: str) -> str:
    """Places a note applies to, each once, in order: 「事業区分 2 (1)、(2)、(3)」.

    Examples
    --------
    >>> _places(["Component 1", "Component 3", "Component 2 (1)", "Component 2 (2)"], "en")
    'Component 1, Component 3, Component 2 (1), (2)'
    """
    out: list[str] = []
    prefix = ""
    for w in dict.fromkeys(where):
        # A place without a slot has no " (": rpartition then gives ("", "", w), which is not
        # a slot to run on after the last place ("(Component 3" was printed, unclosed).
        head, sep, slot = w.rpartition(" (")
        if sep and head == prefix:
            out.append("(" + slot)
        else:
            out.append(w)
            prefix = head if sep else ""
    return ("、" if language == "ja" else ", ").join(out)


def _note(text: str, language: str) -> P.Html:
    """A transcriber's note (written in English, quoting the sheet's Japanese): in a Japanese
    report marked ``lang="en"``, in an English one its Japanese quotes marked ``lang="ja"``."""
    if language == "ja":
        return P.Html(f'<span lang="en">{P.esc(text)}</span>')
    return P.mark_japanese(text)


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
            (
                P.Html(f"<b>{P.esc(_places(w, language))}</b>: {_note(n, language)}")
                for n, w in notes.items()
            ),
            "kpi-notes",
        )
    return P.concat(
        P.section_heading("notes", language),
        P.paragraph(intro),
        body,
        _cell_notes_table(ds, language),
    )


#: Each mark of :data:`kpianalysis.data.dataset.CELL_MARKS` in words (ja, en).
_MARK_WORDS = {
    "inferred": ("推定（原資料に印字なし）", "inferred (not printed in the source)"),
    "rejoined": ("分断された文字列を結合", "re-joined (split in the PDF text)"),
    "converted": ("換算", "converted"),
    "assumed": ("元号を補って読んだ", "era assumed"),
    "reading": ("表記の読み方", "how the label was read"),
    "normalised": ("互換文字を正規化して照合", "matched after normalising characters"),
}


def _cell_notes_table(ds: Dataset, language: str) -> P.Html:
    """The cells not read literally from the source (:attr:`Dataset.cell_notes` of the cut
    dataset), one row each; nothing when there are none (the seed's appendix is unchanged)."""
    notes = ds.cell_notes.sort_values(["programme_id", "file", "row"], kind="stable")
    if notes.empty:
        return P.Html("")
    return P.table(
        notes,
        {
            "file": P.pick("ファイル", "File", language),
            "row": P.pick("行", "Row", language),
            "column": P.pick("列", "Column", language),
            "text": P.pick("記載どおりの値", "Text as written", language),
            "mark": P.pick("扱い", "Treatment", language),
            "reason": P.pick("理由（転記者・ライブラリの注記、英語）", "Reason", language),
        },
        formats={
            "mark": lambda m: P.pick(*_MARK_WORDS.get(m, (m, m)), language),
            "reason": lambda r: _note(str(r), language),
        },
        numeric=["row"],
        caption=P.pick(
            "原資料どおりに読んでいないセル", "Cells not read literally from the source", language
        ),
        language=language,
    )
