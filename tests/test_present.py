"""HTML building escapes every data-derived string (issue #6: hostile text stays inert)."""

from __future__ import annotations

import base64
import datetime as dt
import math
import re
import struct

import nbformat
import pandas as pd

from kpianalysis.report.present import (
    Html,
    concat,
    definition_list,
    figure,
    header,
    heading,
    html_column,
    label,
    mark_japanese,
    number,
    paragraph,
    pick,
    section_heading,
    table,
    yen,
)
from kpianalysis.report.render import Provenance, build_time, footer_html, jst_date, render_html

HOSTILE = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    "[x](javascript:alert(1))",
    "\"'><svg onload=alert(1)>",
]


def test_every_builder_escapes_hostile_text():
    for text in HOSTILE:
        parts = [
            heading(text),
            paragraph(text),
            definition_list([(text, text)]),
            table(pd.DataFrame({text: [text]}), {text: text}),
            concat(heading("x"), text),
        ]
        for html in parts:
            assert isinstance(html, Html)
            assert "<script" not in html and "<img" not in html and "<svg" not in html
            assert html._repr_html_() == str(html)


def test_table_formats_and_missing_values():
    df = pd.DataFrame({"v": [0.5, math.nan], "s": ["a&b", None]})
    html = table(df, {"v": "値", "s": "名前"}, formats={"v": lambda x: f"{x:.0%}"}, na_rep="n/a")
    assert "<td>50%</td><td>a&amp;b</td>" in html
    assert "<td>n/a</td><td>n/a</td>" in html


def test_labels_speak_the_report_language_only():
    """Issue 17: a Japanese report carried English subtitles on every heading and column."""
    assert label("target") == "目標値" and header("target") == "目標値"
    assert label("target", "en") == "Target" and header("target", "en") == "Target"
    assert section_heading("methods") == '<h2 id="methods">方法</h2>'
    assert pick("事業", "", "en") == "事業"  # falls back when the English name is blank


def test_japanese_kept_as_written_is_marked_in_english_text():
    # Names from the seed sheet inside English sentences; the markup around them is escaped.
    assert mark_japanese("Expert panel (有識者による効果検証)") == (
        'Expert panel (<span lang="ja">有識者による効果検証</span>)'
    )
    assert mark_japanese("1. 小学校区コミュニティ構築事業 <b>") == (
        '1. <span lang="ja">小学校区コミュニティ構築事業</span> &lt;b&gt;'
    )
    # One run: 基本目標３-施策Ⅲ-① (digits and dashes between Japanese stay inside the span).
    assert mark_japanese("基本目標３-施策Ⅲ-①") == '<span lang="ja">基本目標３-施策Ⅲ-①</span>'
    assert mark_japanese("no Japanese") == "no Japanese"


def test_numbers_in_english_use_a_minus_and_english_units():
    # ▲468人 (FY2021 ②, in-migrants minus out-migrants): "−468 persons" in English.
    assert number(-468, "persons", "en") == "−468 persons"
    assert number(1019, "", "en") == "1,019"
    assert number(-468, "人") == "▲468人"  # the Japanese report keeps the sheet's sign


def test_numbers_print_as_the_sheets_do():
    assert number(-468, "人") == "▲468人"
    assert number(1019, "人") == "1,019人"
    assert number(56.5, "回") == "56.5回"
    assert yen(19_272_695) == "19,272,695円"
    assert yen(-1.5) == "-1.5円"


# ------------------------------------------------------------------------------------------------
# Report building blocks of issue 12: anchors, numbered captions, table of contents, footer.


def test_heading_anchor_and_english_beside_are_escaped():
    h = heading("<b>方法</b>", 2, anchor='x"><script>', english="<i>Methods</i>")
    assert h == (
        '<h2 id="x---script-">&lt;b&gt;方法&lt;/b&gt;<span class="en">&lt;i&gt;Methods&lt;/i&gt;'
        "</span></h2>"
    )
    assert section_heading("methods", "en") == '<h2 id="methods">Methods</h2>'


def test_table_keeps_built_cells_and_escapes_the_rest():
    df = pd.DataFrame({"a": ["<b>x</b>"]})
    df["h"] = html_column([Html('9団体<span class="sub">(13団体)</span>')], df.index)
    out = table(df, {"a": Html("名<small>Name</small>"), "h": "<h>"}, numeric=["h"])
    assert "<th>名<small>Name</small></th>" in out and '<th class="num">&lt;h&gt;</th>' in out
    assert '<td>&lt;b&gt;x&lt;/b&gt;</td><td class="num">9団体<span class="sub">' in out
    # A plain list of strings loses the Html type in pandas >= 3 and is escaped like data.
    df["h"] = [Html("<i>y</i>")]
    assert "&lt;i&gt;y&lt;/i&gt;" in table(df, ["h"])


def _notebook_with(*fragments: str):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("display(x)")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": f, "text/plain": "x"})
        for f in fragments
    ]
    nb.cells = [cell]
    return nb


def test_render_numbers_captions_fills_toc_and_uses_h1_as_title():
    nb = _notebook_with(
        concat(heading("半田市 KPI達成状況", 1), Html('<nav class="kpi-toc"></nav>')),
        concat(section_heading("kpis"), figure(Html("<img alt=a>"), "達成率")),
        table(pd.DataFrame({"v": [1]}), caption="実績"),
        concat(section_heading("methods"), figure(Html("<img alt=b>"), "推移")),
    )
    out = render_html(nb)
    assert "<title>半田市 KPI達成状況</title>" in out
    assert re.findall(r'<span class="kpi-num">([^<]*)</span>', out) == ["図1　", "表1　", "図2　"]
    toc = out[out.index('<nav class="kpi-toc"') : out.index("</nav>")]
    assert re.findall(r'<a href="#(\w+)">([^<]*)</a>', toc) == [
        ("kpis", "KPIの実績と目標"),
        ("methods", "方法"),
    ]
    en = render_html(nb, language="en")
    assert '<span class="kpi-num">Figure 1. </span>' in en and "Contents" in en
    assert "--jp-" not in out and "@page { size: A4" in out  # the report's own CSS only


def test_footer_dates_in_jst_escapes_and_links_relatively():
    # 2023-11-14 22:13:20 UTC is 2023-11-15 07:13:20 in Japan (UTC+9, no daylight saving).
    built = dt.datetime.fromtimestamp(1_700_000_000, dt.UTC)
    p = Provenance(
        built,
        commit="<script>" + "a" * 40,
        dirty=True,
        versions={"kpianalysis": "0.1.0", "pandas": "<b>3</b>", "missing": None},
        record="attainment.run.json",
        notebook="attainment.ipynb",
        tables=["../../data/processed/attainment_fy2023.csv"],
    )
    out = footer_html(p, "半田市 <KPI>")
    assert "2023年11月15日（JST）" in out and jst_date(built, "en") == "15 November 2023 (JST)"
    assert "&lt;script&gt;aaaa" in out and "<script" not in out and "&lt;b&gt;3&lt;/b&gt;" in out
    # One language: the Japanese footer says 未コミットの変更あり without "/ modified".
    assert "missing" not in out and "（未コミットの変更あり）" in out and "modified" not in out
    assert "(modified)" in footer_html(p, "x", "en")
    assert ">実行記録（JSON）</a>" in out and ">Run record (JSON)</a>" in footer_html(p, "x", "en")
    assert re.findall(r'href="([^"]*)"', out) == [
        "attainment.run.json",
        "attainment.ipynb",
        "../../data/processed/attainment_fy2023.csv",
    ]
    assert "半田市 &lt;KPI&gt;（2023年11月15日（JST）作成、kpianalysis 0.1.0" in out
    clean = footer_html(Provenance(built, commit="b" * 40, dirty=False), "t", "en")
    assert "modified" not in clean and "bbbbbbbbbbbb" in clean and "Suggested citation" in clean


def test_build_time_honours_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert build_time() == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert build_time(now) == now


def test_figures_are_embedded_at_print_resolution():
    from kpianalysis.report.embed import FIGURE_DPI, figure_html
    from kpianalysis.report.figures import achievement_figure

    df = pd.DataFrame({"label": ["①", "②"], "achievement_rate": [0.5, 2.0], "achieved": [0, 1]})
    out = figure_html(achievement_figure(df, width=6.0).figure, "alt", "達成率")
    png = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)", out).group(1))
    # pHYs chunk (PNG spec §11.3.5.3): pixels per metre, unit 1 = metre; 200 dpi = 7874 px/m.
    i = png.index(b"pHYs")
    x, y, unit = struct.unpack(">IIB", png[i + 4 : i + 13])
    assert (x, y, unit) == (7874, 7874, 1) and FIGURE_DPI == 200
    width_px = struct.unpack(">I", png[16:20])[0]
    assert width_px == 6 * 200 and 'width="576"' in out  # shown at 6 in (576 CSS px)
    assert len(png) < 60_000
    assert '<figcaption><span class="kpi-num" data-kind="figure"></span>達成率</figcaption>' in out
