"""``reports/index.html``: programmes → fiscal years → reports, and the panel reports.

Built from the run records alone (records in, HTML out), so ``kpianalysis index`` can rebuild it
at any time from what the archive holds.

Every string that reaches the page (notebook names, headline text, parameters) goes through
:func:`html.escape`; the page has ``lang="ja"``, UTF-8, inline CSS only, no script and the same
Content-Security-Policy as the reports, and is written atomically.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from typing import Any

from kpianalysis.report.headline import counts_text, headline_text, panel_text, programme_label
from kpianalysis.report.registry import REPORTS, report_title
from kpianalysis.report.render import CSP

__all__ = [
    "CSS",
    "JST",
    "WORDS",
    "jst",
    "record_href",
    "render_index",
]

CSS = """
body { font-family: "IPAexGothic", "Noto Sans CJK JP", sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.7em; text-align: left; }
th { background: #eee; }
.failed { color: #a00; }
.lang { font-size: 90%; }
/* Titles, record links and times never break inside (CJK text breaks anywhere); the headline
   column keeps room to be read. */
.report a, .report .lang, .when { white-space: nowrap; }
td.headline { min-width: 12em; }
"""

#: Page words by language.
WORDS: dict[str, dict[str, str]] = {
    "ja": {
        "title": "KPI 効果検証レポート",
        "other": "English",
        "other_href": "index.en.html",
        "programmes": "事業別",
        "panel": "全事業（横断集計）",
        "failed": "失敗した実行",
        "none": "レポートはまだありません。",
        "fy": "年度",
        "headline": "見出し",
        "reports": "レポート",
        "built": "作成日時（日本時間）",
        "commit": "コミット",
        "record": "実行記録",
        "period": "計画期間",
        "dirty": "（未コミットの変更あり）",
        "unchecked": "［原資料との照合なし］",
    },
    "en": {
        "title": "KPI evaluation reports",
        "other": "日本語",
        "other_href": "index.html",
        "programmes": "Programmes",
        "panel": "All programmes (panel)",
        "failed": "Failed runs",
        "none": "No reports yet.",
        "fy": "Fiscal year",
        "headline": "Headline",
        "reports": "Reports",
        "built": "Built (JST)",
        "commit": "Commit",
        "record": "run record",
        "period": "Plan period",
        "dirty": " (modified)",
        "unchecked": " [transcription not checked against a source]",
    },
}

JST = dt.timezone(dt.timedelta(hours=9), "JST")


def jst(timestamp: object) -> str:
    """An ISO timestamp as ``YYYY-MM-DD HH:MM JST`` (the text unchanged when it is not one).

    Examples
    --------
    >>> jst("2026-12-01T06:22:47+00:00")
    '2026-12-01 15:22 JST'
    >>> jst("")
    ''
    """
    try:
        t = dt.datetime.fromisoformat(str(timestamp))
    except ValueError:
        return str(timestamp or "")
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(JST).strftime("%Y-%m-%d %H:%M JST")


def record_href(report_href: str) -> str:
    """Where the run record of a report lies: beside it, ``.html`` → ``.run.json``.

    Examples
    --------
    >>> record_href("23205-community/fy2023/attainment.en.html")
    '23205-community/fy2023/attainment.en.run.json'
    """
    return report_href[: -len(".html")] + ".run.json" if report_href.endswith(".html") else ""


def _links(recs: Sequence[Mapping[str, Any]], language: str) -> str:
    """Links to the reports of one (scope, fiscal year): per notebook, each language and record."""
    e = html.escape
    w = WORDS[language]
    by_notebook: dict[str, list[Mapping[str, Any]]] = {}
    for rec in recs:
        by_notebook.setdefault(str(rec["notebook"]), []).append(rec)
    items = []
    # Registered reports in the registry's order, then any other notebook by name.
    order = {name: i for i, name in enumerate(REPORTS)}
    for name in sorted(by_notebook, key=lambda n: (order.get(n, len(order)), n)):
        # The page's own language first, then the other.
        langs = sorted(by_notebook[name], key=lambda r: str(r.get("language") or "ja") != language)
        links = []
        for r in langs:
            lang = str(r.get("language") or "ja")
            href = str(r["_html"])
            label = report_title(name, language)
            if lang != language:  # the report is in the other language: say so
                label += {"ja": "（英語版）", "en": " (Japanese)"}[language]
            links.append(
                '<span class="report">'
                f'<a href="{e(href)}" hreflang="{e(lang)}" lang="{e(lang)}">{e(label)}</a>'
                f' <span class="lang">(<a href="{e(record_href(href))}">{e(w["record"])}</a>)'
                "</span></span>"
            )
        items.append(" · ".join(links))
    return "<br>".join(items)


def _run_info(recs: Sequence[Mapping[str, Any]], language: str) -> tuple[str, str]:
    latest = max(recs, key=lambda r: str(r.get("end_time", "")))
    git = latest.get("git") or {}
    dirty = WORDS[language]["dirty"] if git.get("dirty") else ""
    return jst(latest.get("end_time", "")), str(git.get("commit") or "—")[:12] + dirty


def _year_table(rows: list[tuple[int, str, list[Mapping[str, Any]]]], language: str) -> list[str]:
    e = html.escape
    w = WORDS[language]
    out = [
        f"<table><thead><tr><th>{e(w['fy'])}</th><th>{e(w['headline'])}</th>"
        f"<th>{e(w['reports'])}</th><th>{e(w['built'])}</th><th>{e(w['commit'])}</th>"
        "</tr></thead><tbody>"
    ]
    for year, headline, recs in rows:
        run_at, commit = _run_info(recs, language)
        fy = f"{year}年度" if language == "ja" else f"FY{year}"
        out.append(
            f'<tr><td>{fy}</td><td class="headline">{e(headline)}</td>'
            f'<td>{_links(recs, language)}</td><td class="when">{e(run_at)}</td>'
            f"<td>{e(commit)}</td></tr>"
        )
    out.append("</tbody></table>")
    return out


def render_index(
    records: Sequence[Mapping[str, Any]],
    *,
    failed: Sequence[Mapping[str, Any]] = (),
    language: str = "ja",
) -> str:
    """HTML of the index page.

    Parameters
    ----------
    records
        Run records as :func:`collect_records` returns them.
    failed
        Records of failed runs whose debugging copy is still under ``failed/`` (listed,
        escaped, linking nothing).
    language
        ``"ja"`` (``index.html``) or ``"en"`` (``index.en.html``): page words, link order and
        ``lang``; each page links the other.

    Examples
    --------
    >>> page = render_index([{"notebook": "<b>", "fiscal_year": 2023, "_html": "fy2023/x.html"}])
    >>> "&lt;b&gt;" in page and "<b>" not in page
    True
    """
    e = html.escape
    w = WORDS[language]
    title = w["title"]
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{e(language)}">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{e(CSP)}">',
        f"<title>{e(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{e(title)}</h1>",
        f'<p><a href="{e(w["other_href"])}">{e(w["other"])}</a></p>',
    ]
    programmes: dict[str, list[Mapping[str, Any]]] = {}
    panel: list[Mapping[str, Any]] = []
    for rec in records:
        pid = rec.get("programme_id")
        if pid:
            programmes.setdefault(str(pid), []).append(rec)
        else:
            panel.append(rec)
    if not records:
        parts.append(f"<p>{e(w['none'])}</p>")
    if programmes:
        parts.append(f"<h2>{e(w['programmes'])}</h2>")
    for pid in sorted(programmes):
        recs = programmes[pid]
        latest = max(recs, key=lambda r: int(r.get("fiscal_year", 0)))
        info = latest.get("headline") if isinstance(latest.get("headline"), Mapping) else {}
        name = programme_label(info) if info else pid
        parts.append(f'<h3 id="{e(pid)}">{e(name)}</h3>')
        period = ""
        if info.get("plan_start") is not None and info.get("plan_end") is not None:
            period = f"{w['period']} FY{info['plan_start']}–FY{info['plan_end']}, "
        parts.append(f"<p>{e(period)}ID {e(pid)}</p>")
        by_year: dict[int, list[Mapping[str, Any]]] = {}
        for rec in recs:
            by_year.setdefault(int(rec["fiscal_year"]), []).append(rec)
        rows = []
        for year in sorted(by_year, reverse=True):
            h = next((r.get("headline") for r in by_year[year] if r.get("headline")), None)
            evaluated = isinstance(h, Mapping) and "n_evaluated" in h
            text = counts_text(h, language) if evaluated else ""
            if isinstance(h, Mapping) and h.get("rates"):
                word = "達成率" if language == "ja" else "achievement"
                text += f"（{word}: {', '.join(map(str, h['rates']))}）"
            if isinstance(h, Mapping) and h.get("source_checked") is False:
                text += w["unchecked"]
            rows.append((year, f"{name}: {text}" if text else headline_text(h), by_year[year]))
        parts += _year_table(rows, language)
    if panel:
        parts.append(f"<h2>{e(w['panel'])}</h2>")
        by_year = {}
        for rec in panel:
            by_year.setdefault(int(rec["fiscal_year"]), []).append(rec)
        rows = []
        for year in sorted(by_year, reverse=True):
            h = next((r.get("headline") for r in by_year[year] if r.get("headline")), None)
            is_panel = isinstance(h, Mapping) and h.get("panel")
            text = panel_text(h, language) if is_panel else headline_text(h)
            rows.append((year, text, by_year[year]))
        parts += _year_table(rows, language)
    if failed:
        parts.append(f"<h2>{e(w['failed'])}</h2><ul>")
        for rec in failed:
            name, year = e(str(rec.get("notebook"))), e(str(rec.get("fiscal_year")))
            if rec.get("programme_id"):
                name = f"{e(str(rec['programme_id']))}: {name}"
            error = e(str(rec.get("error", "")))
            parts.append(f'<li class="failed">{name} FY{year}: {error}</li>')
        parts.append("</ul>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)
