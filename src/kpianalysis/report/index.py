"""``reports/index.html``: programmes → fiscal years → reports, and the panel reports.

Built from the run records alone (records in, HTML out), so ``kpianalysis index`` can rebuild it
at any time from what the archive holds.

Every string that reaches the page (notebook names, headline text, parameters) goes through
:func:`html.escape`; the page has ``lang="ja"``, UTF-8, inline CSS only, no script and the same
Content-Security-Policy as the reports, and is written atomically.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from kpianalysis.report.headline import counts_text, headline_text, panel_text, programme_label
from kpianalysis.report.render import CSP

CSS = """
body { font-family: "IPAexGothic", "Noto Sans CJK JP", sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.7em; text-align: left; }
th { background: #eee; }
.failed { color: #a00; }
"""


def _sort_year(rec: Mapping[str, Any]) -> int:
    return -int(rec.get("fiscal_year", 0))


def _links(recs: Sequence[Mapping[str, Any]]) -> str:
    """Links to the reports of one (scope, fiscal year): per notebook, each language."""
    e = html.escape
    by_notebook: dict[str, list[Mapping[str, Any]]] = {}
    for rec in recs:
        by_notebook.setdefault(str(rec["notebook"]), []).append(rec)
    items = []
    for name in sorted(by_notebook):
        langs = sorted(by_notebook[name], key=lambda r: str(r.get("language") or "ja"))
        links = []
        for r in langs:
            lang = str(r.get("language") or "ja")
            label = name if lang == "ja" else f"{name} ({lang})"
            links.append(f'<a href="{e(str(r["_html"]))}" hreflang="{e(lang)}">{e(label)}</a>')
        items.append(" ".join(links))
    return "<br>".join(items)


def _run_info(recs: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    latest = max(recs, key=lambda r: str(r.get("end_time", "")))
    git = latest.get("git") or {}
    commit = str(git.get("commit") or "—")[:12] + (" (dirty)" if git.get("dirty") else "")
    return str(latest.get("end_time", "")), commit


def _year_table(rows: list[tuple[int, str, list[Mapping[str, Any]]]]) -> list[str]:
    e = html.escape
    out = [
        "<table><thead><tr><th>年度 / FY</th><th>見出し / Headline</th>"
        "<th>レポート / Reports</th><th>実行日時 / Run at</th><th>コミット / Commit</th>"
        "</tr></thead><tbody>"
    ]
    for year, headline, recs in rows:
        run_at, commit = _run_info(recs)
        out.append(
            f'<tr><td>{year}年度 / FY{year}</td><td class="headline">{e(headline)}</td>'
            f"<td>{_links(recs)}</td><td>{e(run_at)}</td><td>{e(commit)}</td></tr>"
        )
    out.append("</tbody></table>")
    return out


def render_index(
    records: Sequence[Mapping[str, Any]],
    *,
    failed: Sequence[Mapping[str, Any]] = (),
    title: str = "KPI 効果検証レポート / KPI evaluation reports",
) -> str:
    """HTML of the index page.

    Parameters
    ----------
    records
        Run records as :func:`collect_records` returns them.
    failed
        Records of failed runs whose debugging copy is still under ``failed/`` (listed,
        escaped, linking nothing).
    title
        Page title.

    Examples
    --------
    >>> page = render_index([{"notebook": "<b>", "fiscal_year": 2023, "_html": "fy2023/x.html"}])
    >>> "&lt;b&gt;" in page and "<b>" not in page
    True
    """
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="ja">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{e(CSP)}">',
        f"<title>{e(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{e(title)}</h1>",
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
        parts.append("<p>レポートはまだありません / No reports yet.</p>")
    if programmes:
        parts.append("<h2>事業別 / Programmes</h2>")
    for pid in sorted(programmes):
        recs = programmes[pid]
        latest = max(recs, key=lambda r: int(r.get("fiscal_year", 0)))
        info = latest.get("headline") if isinstance(latest.get("headline"), Mapping) else {}
        name = programme_label(info) if info else pid
        parts.append(f'<h3 id="{e(pid)}">{e(name)}</h3>')
        period = ""
        if info.get("plan_start") is not None and info.get("plan_end") is not None:
            period = f"計画期間 / plan period FY{info['plan_start']}–FY{info['plan_end']}, "
        parts.append(f"<p>{e(period)}ID {e(pid)}</p>")
        by_year: dict[int, list[Mapping[str, Any]]] = {}
        for rec in recs:
            by_year.setdefault(int(rec["fiscal_year"]), []).append(rec)
        rows = []
        for year in sorted(by_year, reverse=True):
            h = next((r.get("headline") for r in by_year[year] if r.get("headline")), None)
            text = counts_text(h) if isinstance(h, Mapping) and "n_evaluated" in h else ""
            if isinstance(h, Mapping) and h.get("rates"):
                text += f"（達成率 achievement: {', '.join(map(str, h['rates']))}）"
            if isinstance(h, Mapping) and h.get("source_checked") is False:
                text += "［原資料との照合なし / transcription not checked against a source］"
            rows.append((year, f"{name}: {text}" if text else headline_text(h), by_year[year]))
        parts += _year_table(rows)
    if panel:
        parts.append("<h2>全事業 / Panel reports</h2>")
        by_year = {}
        for rec in panel:
            by_year.setdefault(int(rec["fiscal_year"]), []).append(rec)
        rows = []
        for year in sorted(by_year, reverse=True):
            h = next((r.get("headline") for r in by_year[year] if r.get("headline")), None)
            is_panel = isinstance(h, Mapping) and h.get("panel")
            rows.append((year, panel_text(h) if is_panel else headline_text(h), by_year[year]))
        parts += _year_table(rows)
    if failed:
        parts.append("<h2>失敗した実行 / Failed runs</h2><ul>")
        for rec in failed:
            name, year = e(str(rec.get("notebook"))), e(str(rec.get("fiscal_year")))
            if rec.get("programme_id"):
                name = f"{e(str(rec['programme_id']))}: {name}"
            error = e(str(rec.get("error", "")))
            parts.append(f'<li class="failed">{name} FY{year}: {error}</li>')
        parts.append("</ul>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)
