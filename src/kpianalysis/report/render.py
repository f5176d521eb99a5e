"""Executed notebook → one self-contained, offline, script-free, printable HTML report.

nbconvert's stock ``lab`` template links require.js, MathJax and mermaid from a CDN, may emit
widget and ``application/javascript`` scripts, and inlines ~260 KB of JupyterLab CSS of which a
report uses almost nothing. A report must open offline in ten years, must not run code even if a
hostile name slipped through escaping (issue #6), and is often filed as an A4 PDF (issue #12), so
the template below extends ``lab/index.html.j2`` and

- blanks the require.js, MathJax, mermaid and widget blocks and the JavaScript output renderer;
- puts a Content-Security-Policy ``<meta>`` first in ``<head>`` that allows no script, no
  network fetch and no form/frame: ``default-src 'none'; img-src data:; style-src
  'unsafe-inline'``; figures are PNGs embedded as ``data:`` URIs and CSS is inlined, so the
  report renders fully under it;
- replaces JupyterLab's stylesheet by :data:`REPORT_CSS` (only what the report's own markup
  uses, with an A4 print stylesheet);
- hides all code (``exclude_input``) and the In/Out prompts.

After rendering, :func:`render_html` numbers the captions (図1 / Figure 1, 表1 / Table 1), fills
the table of contents from the ``<h2 id=…>`` headings and appends the provenance footer
(:class:`Provenance`), which the build knows and the kernel does not.

Output is deterministic for a deterministic notebook and provenance: the build date is a day in
JST (``SOURCE_DATE_EPOCH`` overrides the clock, as in reproducible builds), no random ids (the
injected parameters cell gets a fixed id in :mod:`kpianalysis.build.execute`).
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import os
import re
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kpianalysis.report.sanitize import sanitize_outputs

if TYPE_CHECKING:  # importing nbformat costs ~1 s; the no-op build must not pay it
    import nbformat

__all__ = [
    "CAPTION_WORDS",
    "CSP",
    "JST",
    "REPORT_CSS",
    "TEMPLATE",
    "Provenance",
    "build_time",
    "css_string",
    "footer_html",
    "jst_date",
    "nav_html",
    "page_css",
    "render_html",
]

CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-src 'none'"
)

#: Japan Standard Time (no daylight saving): the reports' dates are the city's dates.
JST = dt.timezone(dt.timedelta(hours=9), "JST")

#: The whole stylesheet of a report: screen and A4 print. Only selectors the report's markup
#: (kpianalysis.report.present / views, and nbconvert's cell wrappers) produces.
REPORT_CSS = """
:root { --ink: #1a1a1a; --muted: #555; --rule: #d5d9de; --accent: #2b5d8a; --pale: #f3f6f9; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; box-sizing: border-box; }
html { font-family: "IPAexGothic", "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif;
  color: var(--ink); line-height: 1.55; font-size: 15px; }
body { margin: 0; background: #fff; }
main { max-width: 54rem; margin: 0 auto; padding: 1.5rem 1.25rem 2rem; }
h1 { font-size: 1.5rem; line-height: 1.35; margin: 0 0 .25em;
  /* The title's parts break at their spaces, not inside a word (「見通|し」); a part too
     long for the line still wraps. */
  word-break: keep-all; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 1.5em 0 .5em; padding-bottom: .15em;
  border-bottom: 2px solid var(--accent); }
h3 { font-size: 1rem; margin: 1.1em 0 .4em; }
h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
h2 .en, h3 .en { font-weight: normal; color: var(--muted); font-size: .8em; margin-left: .4em; }
p { margin: .4em 0; }
a { color: var(--accent); }
.kpi-subtitle { color: var(--muted); margin: 0 0 .8em; }
.kpi-summary { border: 1px solid var(--accent); background: var(--pale); border-radius: 4px;
  padding: .5em 1em .6em; margin: .6em 0 1em; break-inside: avoid; }
.kpi-summary h2 { border: 0; margin: .2em 0; padding: 0; font-size: 1.05rem; }
.kpi-headline { font-size: 1.12em; font-weight: bold; margin: .2em 0 .35em; }
.kpi-summary ul { margin: .2em 0 .3em; padding-left: 1.2em; }
.kpi-summary li { margin: .1em 0; }
/* Where numbers with units are read (the summary, captions, number cells), lines break only at
   spaces and punctuation, so "7団体" never becomes "7|団体"; an overlong run still wraps. */
.kpi-summary li, .kpi-headline, caption, figcaption {
  word-break: keep-all; overflow-wrap: anywhere; }
.kpi-ok { color: #1d6b2f; font-weight: bold; }
.kpi-miss { color: #a34a12; font-weight: bold; }
.kpi-toc { font-size: .9em; margin: .5em 0 1em; }
.kpi-toc ol { margin: .2em 0; padding-left: 1.6em; columns: 3; }
.kpi-toc-title { font-weight: bold; }
table { border-collapse: collapse; }
.kpi-table { width: 100%; font-size: .86em; margin: .3em 0 1em; }
.kpi-table caption { caption-side: top; text-align: left; font-weight: bold; padding: .2em 0; }
.kpi-table th, .kpi-table td, .kpi-record th, .kpi-record td { text-align: left;
  vertical-align: top; padding: .25em .45em; border-bottom: 1px solid var(--rule);
  overflow-wrap: break-word; }
.kpi-table thead th { background: #e9eef3; border-bottom: 1px solid #9aa4ae; font-weight: bold; }
.kpi-table th small, .kpi-record th small { font-weight: normal;
  color: var(--muted); font-size: .85em; }
/* A number and its unit never break inside ("1,01|9人", "▲46|8人", "10|0.0|%"): number cells
   break only at spaces, and Japanese runs inside them are kept whole (keep-all). */
.kpi-table td.num { text-align: right; white-space: nowrap; }
.kpi-table th.num { text-align: right; }
.kpi-table th small { display: block; }
/* The sheet's table: fixed column widths, the years share what is left and wrap if many. */
.kpi-sheet { table-layout: fixed; }
.kpi-sheet th:first-child { width: 19%; }
.kpi-sheet th:nth-child(2) { width: 8%; }
.kpi-sheet th:nth-last-child(4) { width: 8%; }
/* The rates and the effect rating: wide enough on A4 for "Achievement", "considerably" and
   "baseline" (at 6–9% they broke inside: "Achievem|ent", "effecti|ve"). */
.kpi-sheet th:nth-last-child(3) { width: 11%; }
.kpi-sheet th:nth-last-child(2) { width: 10%; }
.kpi-sheet th:last-child { width: 12%; }
.kpi-sheet td.num { white-space: normal; word-break: keep-all; overflow-wrap: normal; }
.kpi-assessment { table-layout: fixed; }
.kpi-assessment th:first-child { width: 24%; }
.kpi-subprojects td:nth-child(4), .kpi-subprojects td:nth-child(5) { white-space: nowrap; }
.kpi-sheet td:last-child { text-align: center; }
.kpi-table .sub { display: block; color: var(--muted); }

.kpi-record { font-size: .86em; margin: .3em 0 1em; width: 100%; }
.kpi-record th { width: 15em; background: var(--pale); font-weight: bold; }
.kpi-record th small { display: inline; margin-left: .4em; }
.kpi-table .val { color: var(--muted); white-space: nowrap; }
.nb { white-space: nowrap; }
.kpi-keep { break-inside: avoid; page-break-inside: avoid; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
figure { margin: .5em 0 1em; break-inside: avoid; page-break-inside: avoid; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { font-size: .86em; font-weight: bold; margin: .2em 0; break-before: avoid; }
.kpi-num { white-space: nowrap; }
.kpi-note { font-size: .86em; color: var(--muted); }
.kpi-methods li, .kpi-notes li { margin: .25em 0; }
.kpi-methods { font-size: .9em; padding-left: 1.3em; }
.kpi-notes { font-size: .85em; padding-left: 1.3em; }
.kpi-footer { margin-top: 2em; padding-top: .5em; border-top: 1px solid var(--rule);
  font-size: .8em; color: var(--muted); overflow-wrap: anywhere; break-inside: avoid; }
.kpi-footer p { margin: .2em 0; }
.kpi-nav { font-size: .9em; margin: 0 0 .8em; }
@media print { .kpi-nav { display: none; } }
.jp-OutputArea-output pre { white-space: pre-wrap; font-size: .85em; }
/* Wide tables scroll inside their own box, never the page; tabindex lets a keyboard scroll. */
.kpi-scroll { overflow-x: auto; margin: .3em 0 1em; }
.kpi-scroll > .kpi-table { margin: 0; }
.kpi-scroll:focus-visible { outline: 2px solid var(--accent); }
/* Phones: a table keeps readable columns (about 5.5 em each, set from its column count) and
   scrolls sideways in its box; the first column (the KPI) stays in view while it does. */
@media screen and (max-width: 37.5em) {
  main { padding: 1rem .8rem 1.5rem; }
  h1 { font-size: 1.3rem; }
  .kpi-toc ol { columns: 1; }
  .kpi-scroll > .kpi-table { table-layout: auto; width: auto;
    min-width: max(100%, calc(var(--kpi-cols, 4) * 5.5em)); }
  .kpi-scroll > .kpi-table th:first-child, .kpi-scroll > .kpi-table td:first-child {
    position: sticky; left: 0; z-index: 1; background: #fff; min-width: 7em; width: 7em;
    box-shadow: inset -1px 0 0 var(--rule); }
  .kpi-scroll > .kpi-table thead th:first-child { background: #e9eef3; }
  .kpi-table td.num, .kpi-sheet td.num { white-space: nowrap; }
  .kpi-table caption { position: sticky; left: 0; }
  /* Text cells break at spaces and punctuation only, so "2023年度: 13団体" or "9,636,346円"
     stay whole: a table grows and scrolls instead; a record's value wraps an overlong run. */
  .kpi-table td, .kpi-record td { word-break: keep-all; overflow-wrap: break-word; }
  .kpi-record { table-layout: fixed; }
  .kpi-record th { width: 7.5em; }
}
@page { size: A4; margin: 12mm 12mm 12mm; }
@page {
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; color: #555;
    font-family: "IPAexGothic", "Noto Sans CJK JP", sans-serif; }
}
@media print {
  html { font-size: 9pt; line-height: 1.42; }
  .kpi-record th { width: 11em; }
  .kpi-table th, .kpi-table td, .kpi-record th, .kpi-record td { padding: .18em .4em; }
  h2 { margin: 1.2em 0 .45em; }
  main { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  .kpi-table { font-size: .9em; }
  .kpi-methods { font-size: .8em; }
  .kpi-methods li, .kpi-notes li { margin: .1em 0; }
  /* Links do nothing on paper: no table of contents. The footer's facts run on as one
     paragraph, and it never stands alone on a page (it takes the lines before it along). */
  .kpi-toc { display: none; }
  .kpi-footer { margin-top: 1em; font-size: .75em; break-before: avoid; }
  .kpi-footer p { display: inline; margin: 0 1.2em 0 0; }
  .kpi-glossary { columns: 2; column-gap: 2em; }
  .kpi-glossary li { break-inside: avoid; }
  /* A table short enough for one page is never split, so its caption and header are never
     left at a page bottom without rows; a longer one repeats its header on every page. */
  .kpi-table, .kpi-record { break-inside: avoid; }
  h2, h3, caption, thead { break-after: avoid; }
  p, li { orphans: 2; widows: 2; }
}
"""

def css_string(text: str) -> str:
    """``text`` as a quoted CSS string that is safe inside a ``<style>`` element.

    Quotes, backslashes, angle brackets, ampersands and control characters become CSS hex
    escapes, so a hostile title can neither end the string nor the ``<style>`` element
    (``</style>``); other characters (Japanese included) are kept.

    Examples
    --------
    >>> print(css_string('半田市 "KPI" </style><script>'))
    "半田市 \\22 KPI\\22  \\3c /style\\3e \\3c script\\3e "
    """
    out = []
    for ch in text:
        if ch in '"\\<>&' or ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _fit(text: str, ems: float) -> str:
    """``text`` cut with "…" to about ``ems`` em of width (wide characters 1 em, others ½).

    Examples
    --------
    >>> _fit("半田市" * 30, 10.0)
    '半田市半田市半田市…'
    >>> _fit("Handa", 10.0)
    'Handa'
    """
    width = 0.0
    for i, ch in enumerate(text):
        width += 1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.55
        if width > ems:
            return text[: max(i - 1, 0)].rstrip() + "…"
    return text


def page_css(running_title: str) -> str:
    """``@page`` rules naming the report at the top of every printed page but the first.

    The first page shows the title itself as its heading. The page number ("2 / 3") is in
    :data:`REPORT_CSS`; the title is per report, so it is written here, escaped for CSS.

    Examples
    --------
    >>> "@top-left" in page_css("半田市 KPI達成状況 2023年度")
    True
    """
    title = _fit(" ".join(running_title.split()), 66.0)
    return (
        "@page { @top-left { content: " + css_string(title) + "; font-size: 7.5pt;"
        ' color: #555; font-family: "IPAexGothic", "Noto Sans CJK JP", sans-serif;'
        " vertical-align: bottom; padding-bottom: 2mm; } }\n"
        "@page :first { @top-left { content: none; } }\n"
    )


# Jinja template source: <head> is the report's own — the CSP meta right after the charset, so it
# precedes every stylesheet and element the browser will fetch or run; no require.js, MathJax,
# mermaid or widget script; the report's stylesheet instead of JupyterLab's and pygments'.
TEMPLATE = """\
{%- extends 'lab/index.html.j2' -%}
{%- block html_head -%}
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ resources.kpi_csp }}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{{ nb.metadata.title | escape_html_keep_quotes }}</title>
<style>{{ resources.kpi_css }}</style>
{%- endblock html_head -%}
{%- block body_header -%}
<body>
<main>
{%- endblock body_header -%}
{%- block data_javascript scoped -%}{%- endblock -%}
{%- block data_widget_view scoped -%}{%- endblock data_widget_view -%}
"""

#: Caption prefixes per language: (figure, table) → text before the number, and after it.
CAPTION_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "ja": {"figure": ("図", "　"), "table": ("表", "　")},
    "en": {"figure": ("Figure ", ". "), "table": ("Table ", ". ")},
}

_local = threading.local()


def _exporter(language: str) -> Any:
    # One exporter per thread: nbconvert exporters hold a Jinja environment and per-call state,
    # and sharing one across worker threads is not documented as safe.
    from nbconvert import HTMLExporter

    cache = getattr(_local, "exporters", None)
    if cache is None:
        cache = _local.exporters = {}
    if language not in cache:
        exporter = HTMLExporter(
            template_name="lab",
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            exclude_anchor_links=True,
            embed_images=True,
            language_code=language,
            theme="light",
            # Belt and braces: even if a block above is restored by a newer nbconvert, nothing
            # points at a CDN.
            mathjax_url="",
            require_js_url="",
            mermaid_js_url="",
            mermaid_layout_elk_js_url="",
            jquery_url="",
            jupyter_widgets_base_url="",
            widget_renderer_url="",
        )
        exporter.raw_template = TEMPLATE
        cache[language] = exporter
    return cache[language]


@dataclass(frozen=True)
class Provenance:
    """What the build knows about a run, shown in the report's footer.

    Links are relative to the directory the report is written to, so the report and its
    neighbours can move together (a copied ``reports/`` tree, a zip, a web server).

    Attributes
    ----------
    built
        When the report was rendered (any time zone; shown as a JST date).
    commit, dirty
        The git commit of the project and whether tracked files differed from it (``None``:
        unknown, e.g. no git).
    versions
        Package → version, in display order (Python included if wanted).
    record, notebook
        Relative links to the run record and the executed notebook.
    tables
        Relative links to the CSV tables the report's numbers come from.
    navigation
        ``(text, href, hreflang)`` of the pages a reader goes on to — the index, the report's
        other-language version, its sibling reports of the programme-year — shown above the
        title.
    """

    built: dt.datetime
    commit: str | None = None
    dirty: bool | None = None
    versions: Mapping[str, str | None] = field(default_factory=dict)
    record: str | None = None
    notebook: str | None = None
    tables: Sequence[str] = ()
    navigation: Sequence[tuple[str, str, str]] = ()


def build_time(now: dt.datetime | None = None) -> dt.datetime:
    """The build time: ``SOURCE_DATE_EPOCH`` when set (reproducible builds), else ``now``.

    Examples
    --------
    >>> import os
    >>> os.environ["SOURCE_DATE_EPOCH"] = "1700000000"
    >>> build_time().astimezone(JST).isoformat()
    '2023-11-15T07:13:20+09:00'
    >>> del os.environ["SOURCE_DATE_EPOCH"]
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return now or dt.datetime.now(dt.UTC)


def jst_date(when: dt.datetime, language: str = "ja") -> str:
    """A day in JST: ``"2026年12月1日（JST）"`` or ``"1 December 2026 (JST)"``.

    Examples
    --------
    >>> t = dt.datetime(2026, 11, 30, 16, 0, tzinfo=dt.UTC)  # 01:00 on 1 December in Japan
    >>> jst_date(t), jst_date(t, "en")
    ('2026年12月1日（JST）', '1 December 2026 (JST)')
    """
    d = when.astimezone(JST)
    if language == "en":
        return f"{d.day} {d.strftime('%B')} {d.year} (JST)"
    return f"{d.year}年{d.month}月{d.day}日（JST）"


def _text(fragment: str) -> str:
    """Visible text of an HTML fragment (tags dropped, entities decoded, spaces collapsed)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _number_captions(body: str, language: str) -> str:
    counters = {"figure": 0, "table": 0}
    words = CAPTION_WORDS[language]

    def repl(m: re.Match[str]) -> str:
        kind = m.group(1)
        counters[kind] += 1
        before, after = words[kind]
        return f'<span class="kpi-num">{before}{counters[kind]}{after}</span>'

    return re.sub(r'<span class="kpi-num" data-kind="(figure|table)"></span>', repl, body)


def _fill_toc(body: str, language: str) -> str:
    """The ``<nav class="kpi-toc">`` placeholder → a list of the ``<h2 id=…>`` sections."""
    marker = '<nav class="kpi-toc"></nav>'
    if marker not in body:
        return body
    entries = []
    for m in re.finditer(r'<h2 id="([A-Za-z0-9_-]+)"[^>]*>(.*?)</h2>', body, flags=re.S):
        inner = re.sub(r'<span class="en">.*?</span>', "", m.group(2), flags=re.S)
        entries.append(f'<li><a href="#{m.group(1)}">{html.escape(_text(inner))}</a></li>')
    title = "目次" if language == "ja" else "Contents"
    nav = (
        f'<nav class="kpi-toc" aria-label="{title}"><span class="kpi-toc-title">{title}</span>'
        f"<ol>{''.join(entries)}</ol></nav>"
    )
    return body.replace(marker, nav, 1)


def _scroll_tables(body: str) -> str:
    """Put every ``kpi-table`` in a box of its own that scrolls sideways (phones).

    The box is a named, focusable region (WAI-ARIA: a scrollable region must be reachable by
    keyboard), named after the table's caption; ``--kpi-cols`` tells the stylesheet how many
    columns the table has, for their minimum width on a narrow screen.

    Examples
    --------
    >>> out = _scroll_tables('<table class="kpi-table"><caption>表1 &amp; A</caption>'
    ...                      '<thead><tr><th>a</th><th>b</th></tr></thead></table>')
    >>> print(out[: out.index(" style")])
    <div class="kpi-scroll" role="region" tabindex="0" aria-label="表1 &amp; A"
    >>> out[out.index(" style") : out.index("<table")]
    ' style="--kpi-cols: 2">'
    >>> out.endswith("</table></div>")
    True
    """

    def wrap(m: re.Match[str]) -> str:
        table = m.group(0)
        cap = re.search(r"<caption>(.*?)</caption>", table, flags=re.S)
        name = html.escape(_text(cap.group(1))) if cap else ""
        head = re.search(r"<thead>(.*?)</thead>", table, flags=re.S)
        cols = len(re.findall(r"<th\b", head.group(1))) if head else 1
        label = f' aria-label="{name}"' if name else ""
        return (
            f'<div class="kpi-scroll" role="region" tabindex="0"{label} '
            f'style="--kpi-cols: {cols}">{table}</div>'
        )

    return re.sub(r'<table class="kpi-table[ "].*?</table>', wrap, body, flags=re.S)


def footer_html(provenance: Provenance, citation_title: str, language: str = "ja") -> str:
    """The provenance footer: build date, commit, versions, links, a suggested citation.

    Every value is escaped; links are used as given (relative paths computed by the build).

    Examples
    --------
    >>> p = Provenance(dt.datetime(2026, 12, 1, tzinfo=dt.UTC), "0123456789abcdef", True,
    ...                {"kpianalysis": "0.1.0"}, "attainment.run.json")
    >>> html_ = footer_html(p, "半田市 KPI達成状況 2023年度")
    >>> "0123456789ab（未コミットの変更あり）" in html_
    True
    >>> '<a href="attainment.run.json">' in html_
    True
    """
    ja = language == "ja"
    e = html.escape
    date = jst_date(provenance.built, language)
    if provenance.commit:
        commit = e(provenance.commit[:12])
        if provenance.dirty:
            commit += "（未コミットの変更あり）" if ja else " (modified)"
    else:
        commit = "不明" if ja else "unknown"
    versions = ", ".join(f"{e(k)} {e(v)}" for k, v in provenance.versions.items() if v)
    links = []
    if provenance.record:
        # A machine-readable record: say so before a reader opens a page of JSON.
        links.append((("実行記録（JSON）" if ja else "Run record (JSON)"), provenance.record))
    if provenance.notebook:
        links.append((("実行済みノートブック" if ja else "Executed notebook"), provenance.notebook))
    link_html = " · ".join(f'<a href="{e(href)}">{e(text)}</a>' for text, href in links)
    tables = " · ".join(
        f'<a href="{e(href)}">{e(href.rsplit("/", 1)[-1])}</a>' for href in provenance.tables
    )
    lines = [
        (("作成日" if ja else "Built"), e(date)),
        (("コミット" if ja else "Commit"), commit),
        (("主なパッケージ" if ja else "Key packages"), versions),
        (("記録" if ja else "Records"), link_html),
        (("数値の出典（CSV）" if ja else "Data tables (CSV)"), tables),
    ]
    short = (provenance.commit or "")[:7]
    kpi_version = provenance.versions.get("kpianalysis")
    tool = "kpianalysis" + (f" {kpi_version}" if kpi_version else "")
    citation = (
        f"{citation_title}（{date}作成、{tool}、commit {short or '不明'}）"
        if ja
        else f"{citation_title}. Built {date} with {tool}, commit {short or 'unknown'}."
    )
    lines.append((("引用の例" if ja else "Suggested citation"), e(citation)))
    rows = "".join(f"<p><b>{k}</b>: {v}</p>" for k, v in lines if v)
    label = "この報告書について" if ja else "About this report"
    return f'<footer class="kpi-footer" aria-label="{label}">{rows}</footer>'


def render_html(
    nb: nbformat.NotebookNode,
    *,
    title: str | None = None,
    language: str = "ja",
    provenance: Provenance | None = None,
) -> str:
    """Render an executed notebook to a self-contained, printable HTML string.

    Parameters
    ----------
    nb
        Executed notebook (not modified).
    title
        Text for ``<title>``, HTML-escaped; default the report's first ``<h1>``.
    language
        ``"ja"`` or ``"en"``: the ``lang`` attribute of ``<html>`` and the caption words.
    provenance
        What the build knows (date, commit, versions, relative links); rendered as a footer.

    Returns
    -------
    str
        UTF-8 HTML with code hidden, figures embedded as ``data:`` URIs, no external URL in any
        ``src``/``href`` of the template and a CSP that forbids scripts.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook()
    >>> html_ = render_html(nb, title="attainment FY2023")
    >>> '<html lang="ja">' in html_ and "<script" not in html_
    True
    """
    if language not in CAPTION_WORDS:
        raise ValueError(f"language must be one of {tuple(CAPTION_WORDS)}, not {language!r}")
    nb = copy.deepcopy(nb)
    sanitize_outputs(nb)  # HTML outputs by an allow-list (the CSP below is the second wall)
    # Widget state would be written as a <script type=...widget-state+json> by the footer.
    nb.metadata.pop("widgets", None)
    exporter = _exporter(language)
    first_h1 = _first_h1(nb)
    nb.metadata["title"] = title or first_h1 or "report"
    body, _ = exporter.from_notebook_node(
        nb,
        resources={
            "kpi_csp": CSP,
            "kpi_css": REPORT_CSS + page_css(first_h1 or nb.metadata.title),
            "metadata": {"name": nb.metadata.title},
        },
    )
    body = _number_captions(body, language)
    body = _scroll_tables(body)
    body = _fill_toc(body, language)
    if provenance is not None:
        footer = footer_html(provenance, first_h1 or title or "", language)
        body = body.replace("</main>", footer + "\n</main>", 1)
        if provenance.navigation:
            body = body.replace("<main>", "<main>\n" + nav_html(provenance.navigation, language), 1)
    return body


def nav_html(links: Sequence[tuple[str, str, str]], language: str = "ja") -> str:
    """The links above a report's title: index, other language, sibling reports (escaped).

    Examples
    --------
    >>> nav = nav_html([("一覧", "../../index.html", "ja"), ("English", "a.en.html", "en")])
    >>> nav.endswith('<a href="a.en.html" hreflang="en" lang="en">English</a></nav>')
    True
    """
    e = html.escape
    items = [
        f'<a href="{e(href)}">{e(text)}</a>'
        if lang == language
        else f'<a href="{e(href)}" hreflang="{e(lang)}" lang="{e(lang)}">{e(text)}</a>'
        for text, href, lang in links
    ]
    label = "関連ページ" if language == "ja" else "Related pages"
    return f'<nav class="kpi-nav" aria-label="{label}">{" · ".join(items)}</nav>'


def _first_h1(nb: Any) -> str:
    """Text of the first ``<h1>`` among the notebook's HTML outputs ("" when there is none)."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/html")
            if isinstance(text, list):
                text = "".join(text)
            if text:
                m = re.search(r"<h1[^>]*>(.*?)</h1>", text, flags=re.S)
                if m:
                    return _text(m.group(1))
    return ""
