"""``reports/index.html``: every fiscal year and report, built from the run records.

Every string that reaches the page (notebook names, headline text, parameters) goes through
:func:`html.escape`; the page has ``lang="ja"``, UTF-8, inline CSS only, no script and the same
Content-Security-Policy as the reports, and is written atomically.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from kpianalysis.report.render import CSP

CSS = """
body { font-family: "IPAexGothic", "Noto Sans CJK JP", sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.7em; text-align: left; }
th { background: #eee; }
.failed { color: #a00; }
"""


def headline_text(headline: object) -> str:
    """One line of plain text from a headline (a mapping, a string or ``None``).

    Examples
    --------
    >>> headline_text({"achieved": 2, "total": 4})
    'achieved: 2, total: 4'
    >>> headline_text(None)
    ''
    """
    if headline is None:
        return ""
    if isinstance(headline, Mapping) and {"n_kpis", "n_achieved"} <= set(headline):
        # A row of kpianalysis.analysis.tables.programme_summary.
        n, k = headline["n_kpis"], headline["n_achieved"]
        text = f"{n}指標中{k}指標が目標を達成 / {k} of {n} KPIs achieved"
        rates = headline.get("rates")
        if isinstance(rates, list) and rates:
            text += f"（達成率 achievement: {', '.join(str(r) for r in rates)}）"
        who = headline.get("name_ja") or headline.get("programme_id")
        if who and headline.get("municipality_ja"):
            who = f"{who}（{headline['municipality_ja']}）"
        return f"{who}: {text}" if who else text
    if isinstance(headline, Mapping):
        return ", ".join(f"{k}: {v}" for k, v in headline.items())
    if isinstance(headline, list):
        return "; ".join(headline_text(h) for h in headline)
    return str(headline)


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
        Records of runs that failed in the latest build (listed, escaped, linking nothing).
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
    by_year: dict[int, list[Mapping[str, Any]]] = {}
    for rec in records:
        by_year.setdefault(int(rec["fiscal_year"]), []).append(rec)
    if not by_year:
        parts.append("<p>レポートはまだありません / No reports yet.</p>")
    for year in sorted(by_year, reverse=True):
        recs = by_year[year]
        parts.append(f"<h2>{year}年度 / FY{year}</h2>")
        headline = headline_text(next((r.get("headline") for r in recs if r.get("headline")), None))
        if headline:
            parts.append(f'<p class="headline">{e(headline)}</p>')
        parts.append(
            "<table><thead><tr><th>レポート / Report</th><th>実行日時 / Run at</th>"
            "<th>コミット / Commit</th></tr></thead><tbody>"
        )
        for rec in recs:
            git = rec.get("git") or {}
            commit = str(git.get("commit") or "—")[:12] + (" (dirty)" if git.get("dirty") else "")
            parts.append(
                f'<tr><td><a href="{e(str(rec["_html"]))}">{e(str(rec["notebook"]))}</a></td>'
                f"<td>{e(str(rec.get('end_time', '')))}</td><td>{e(commit)}</td></tr>"
            )
        parts.append("</tbody></table>")
    if failed:
        parts.append("<h2>失敗した実行 / Failed runs</h2><ul>")
        for rec in failed:
            name, year = e(str(rec.get("notebook"))), e(str(rec.get("fiscal_year")))
            error = e(str(rec.get("error", "")))
            parts.append(f'<li class="failed">{name} FY{year}: {error}</li>')
        parts.append("</ul>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)
