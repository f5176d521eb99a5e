"""The shipped notebooks: valid, thin, parameterised, and correct when executed on the seed data.

Expected figures are the FY2023 sheet's values computed by hand: ① 9/13 = 69.2 %,
② 83/3000 = 2.8 %, ③ 50/50 = 100 %, ④ 1341/500 = 268.2 %.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from conftest import ROOT, seed_only
from kpianalysis.report.render import render_html

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_three_reports_are_shipped():
    assert [p.stem for p in NOTEBOOKS] == ["attainment", "panel", "trends"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_is_valid_without_outputs_and_parameterised(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    params = {p["name"]: p for p in pm.inspect_notebook(str(path)).values()}
    # Programme-scoped reports take a programme_id; the panel is across programmes.
    expected = ["fiscal_year", "raw_dir", "language"]
    if path.stem != "panel":
        expected.append("programme_id")
    if path.stem == "trends":
        expected.append("prior_file")  # the versioned trend prior it pools against (issue 18)
    assert list(params) == expected
    assert params["fiscal_year"]["inferred_type_name"] == "int"
    assert all(p["help"] for p in params.values())  # documented for --help-notebook
    # Thin: no analysis in the notebook (no arithmetic on data, no pandas, no HTML strings).
    source = "\n".join(c.source for c in code)
    assert "import pandas" not in source and "<" not in source.replace("<=", "")
    assert not re.search(r"\bMarkdown\(|\bHTML\(|\.style\b", source)


def _execute(tmp_path_factory, name: str, fiscal_year: int, language: str = "ja") -> str:
    out = tmp_path_factory.mktemp(f"{name}{fiscal_year}{language}") / f"{name}.ipynb"
    # The seed alone, whatever else data/raw holds (the panel reads every programme there).
    raw = seed_only(tmp_path_factory.mktemp("raw"))
    nb = pm.execute_notebook(
        str(ROOT / "notebooks" / f"{name}.ipynb"),
        str(out),
        parameters={"fiscal_year": fiscal_year, "language": language, "raw_dir": str(raw)},
        cwd=str(ROOT),
        kernel_name="python3",
        progress_bar=False,
    )
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            # No warnings or errors leak into a report.
            assert output.get("name") != "stderr", output
            assert output.get("output_type") != "error", output
    return render_html(nb, language=language)


def _visible(html: str) -> str:
    """The report without stylesheets and embedded images (base64 can contain any digits)."""
    html = re.sub(r"<style.*?</style>", "", html, flags=re.S)
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:image/png;base64,…", html)


@pytest.fixture(scope="module")
def attainment_2023(tmp_path_factory) -> str:
    return _execute(tmp_path_factory, "attainment", 2023)


@pytest.fixture(scope="module")
def attainment_2022(tmp_path_factory) -> str:
    return _execute(tmp_path_factory, "attainment", 2022)


@pytest.fixture(scope="module")
def attainment_2023_en(tmp_path_factory) -> str:
    return _execute(tmp_path_factory, "attainment", 2023, "en")


@pytest.fixture(scope="module")
def trends_2023(tmp_path_factory) -> str:
    return _execute(tmp_path_factory, "trends", 2023)


@pytest.mark.slow
def test_attainment_report_fy2023_figures(attainment_2023: str):
    html = _visible(attainment_2023)
    for rate in ("69.2%", "2.8%", "100.0%", "268.2%"):
        assert f'<td class="num">{rate}</td>' in html
    assert "2023年度：評価した4指標中2指標が目標を達成（50.0%）。" in html
    assert "事業費 19,272,695円、交付額 9,636,346円（交付率 1/2）" in html
    assert "差異 -1.5円" in html  # the sheet's 1.5-yen rounding gap (9,636,347.5 expected)
    assert "7名／7名" in html  # the panel's vote
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', html)) == 2  # embedded
    assert '<html lang="ja">' in html
    assert "from kpianalysis" not in html and "display(" not in html  # code hidden


@pytest.mark.slow
def test_attainment_report_fy2023_answer_first(attainment_2023: str):
    html = _visible(attainment_2023)
    # Title: municipality, programme, report kind, fiscal year; then the answer, then tables.
    title = (
        "半田市「生きがいと社会貢献を育む新地域コミュニティの構築事業」 KPI達成状況 "
        "2023年度（令和5年度）"
    )
    assert f"<h1>{title}</h1>" in html and f"<title>{title}</title>" in html
    assert html.index("4指標中2指標") < html.index("<table")
    # One line per KPI in the summary box, as the sheet writes the values (① 9 of 13).
    box = html[html.index('<section class="kpi-summary">') : html.index("</section>")]
    assert box.count("<li>") == 4
    assert "① 小学校区コミュニティの設立数 — 累計 9団体／目標 累計 13団体（69.2%）" in box
    assert "評価委員7名／7名中" in box
    # The sheet's own table: baseline "累計 4団体" and "-", every year's actual (target).
    sheet = html[html.index('class="kpi-table kpi-sheet"') :]
    sheet = sheet[: sheet.index("</table>")]
    assert '<td class="num">累計 4団体</td>' in sheet and '<td class="num">-</td>' in sheet
    assert '▲468人<span class="sub">(500人)</span>' in sheet
    assert '累計 9団体<span class="sub">(累計 13団体)</span>' in sheet
    # Captions numbered in reading order; table of contents filled from the section anchors.
    nums = re.findall(r'<span class="kpi-num">(図|表)(\d+)', html)
    assert nums[:3] == [("図", "1"), ("表", "1"), ("図", "2")]
    assert '<a href="#kpis">KPIの実績と目標</a>' in html and '<h2 id="kpis">' in html
    # Plain words: no codes, no developer notes, each method explained once.
    for code in ("osaka_library", "limited_progress", "target_achieved", "papermill", "Parameters"):
        assert code not in html, code
    # One grading scheme in the main table (the effect rating; no rank letters), the research
    # measures in an appendix after the methods, each named and sourced once (issue 17).
    assert "<th>ランク" not in sheet and "大阪府立図書館" not in html
    appendix = html[html.index('<h2 id="research">') : html.index('<h2 id="notes">')]
    assert html.index('<h2 id="methods">') < html.index('<h2 id="research">')
    for name in ("現状指数", "見込み進捗", "CAGR比", "未達割合"):
        assert appendix.count(f"<td>{name}<br/><small>") == 1, name
    for source in ("（ESCAP）", "Open SDG", "Destatis"):
        assert source in appendix, source
    # FY2023 is the plan's last year: no call to accelerate anywhere
    assert "加速が必要" not in html and "期限までに目標未達成" in appendix
    # Transcription notes once each, in the appendix after the methods.
    note = "Component ２ has three numbered slots"
    assert html.count(note) == 1 and html.index("付録") < html.index(note)


@pytest.mark.slow
def test_attainment_report_fy2023_english(attainment_2023_en: str):
    html = _visible(attainment_2023_en)
    assert '<html lang="en">' in html
    assert "FY2023: 2 of 4 evaluated KPIs achieved (50.0%)." in html
    # Headings, captions, column headers and figure text in English: no Japanese characters.
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    texts = re.findall(r"<(h1|h2|h3|th|caption|figcaption)[^>]*>(.*?)</\1>", html, flags=re.S)
    texts += [("alt", a) for a in re.findall(r'alt="([^"]*)"', html)]
    assert texts
    for tag, text in texts:
        assert not japanese.search(text), (tag, text)
    assert "Figure 1. " in html and "Table 1. " in html and '<a href="#methods">Methods</a>' in html
    assert "cost ¥19,272,695, grant ¥9,636,346 (grant rate 1/2)" in html
    assert "Expert panel: “effective for achieving the KPIs” (7 of 7 members)." in html


@pytest.mark.slow
def test_attainment_report_is_lean(attainment_2023: str):
    # Without its figures a report is text and a small stylesheet: no JupyterLab CSS.
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", attainment_2023)
    assert len(text.encode()) < 150_000
    assert "--jp-" not in attainment_2023 and "@page { size: A4" in attainment_2023


@pytest.mark.slow
def test_attainment_report_fy2022_sees_no_later_data(attainment_2022: str):
    html = _visible(attainment_2022)
    assert "2022年度：評価した4指標中2指標が目標を達成（50.0%）。" in html
    assert '<td class="num">87.5%</td>' in html  # ① 7/8 in FY2022
    # Nothing known only from FY2023 leaks in: actuals, cost, grant, panel vote, rates.
    for later in ("1,341人", "累計 9団体", "83人", "19,272,695", "7名／7名", "268.2"):
        assert later not in html, later
    assert "2022年度の効果検証の記録はありません" in html
    # The plan-end target (FY2023, 13) is plan data, known in FY2022: ①'s miss share along
    # the plan's path 4 → 6 → 8 → 13 is (13 − 10.75)/(13 − 7) = 0.375 (3 gained where the plan
    # asked 4: 7 + 0.75·(13 − 8)), not (8 − 7)/(8 − 7) = 1.0 against FY2022's 8.
    assert '方向は正しいが不十分 <span class="val">37.5%</span>' in html
    assert '遅れ <span class="val">33.3%</span>' in html  # status index (7 − 4)/(13 − 4)


@pytest.mark.slow
def test_attainment_report_fy2021_kpi4_is_on_track_everywhere(tmp_path_factory):
    # Issue 17: ④ met its FY2021 target (312 vs 300, 104 %). The summary, Table 1 and the
    # appendix all say so; none says behind (遅れ) or nearly on track (ほぼ順調) for it.
    html = _visible(_execute(tmp_path_factory, "attainment", 2021))
    box = html[html.index('<section class="kpi-summary">') : html.index("</section>")]
    assert (
        "④ 外国籍市民向けフェイスブック登録者数 — 312人／目標 300人（104.0%） "
        '<span class="kpi-ok">○ 達成（順調）</span>'
    ) in box
    sheet = html[html.index('class="kpi-table kpi-sheet"') :]
    row4 = sheet[sheet.index("④ 外国籍市民") : sheet.index("</tr>", sheet.index("④ 外国籍市民"))]
    assert "104.0%" in row4 and "非常に効果的" in row4
    appendix = html[html.index('<h2 id="research">') : html.index('<h2 id="notes">')]
    cells = [re.findall(r"<td>(.*?)</td>", r, flags=re.S) for r in appendix.split("<tr>")[2:]]
    kpi4 = [c[-1].split("<br/>")[3].split(" <")[0] for c in cells]
    assert kpi4 == ["④ 順調", "④ データ点が不足", "④ 大きく前進（順調）", "④ 順調"]
    # ① flat (4 → 4): no progress, not the wrong direction
    assert "逆方向" not in html and "遅れ" not in html and "ほぼ順調" not in html


@pytest.mark.slow
def test_trends_report_fy2022_shows_the_plan_end_target_but_no_later_actual(tmp_path_factory):
    html = _visible(_execute(tmp_path_factory, "trends", 2022))
    # Targets are fixed when the plan is approved: the final (FY2023) targets are shown.
    text = re.sub(r"<[^>]+>", "", html)  # numbers with units sit in <span class="nb">
    assert "2023年度: 13団体" in text and "2023年度: 3,000人" in text
    for later in ("1,341人", "9団体", "83人", "19,272,695", "7/7"):
        assert later not in html, later
    # ①'s probability of reaching 13 in FY2023 (Poisson increments 0 and 3 from 4, 4, 7), with
    # its model: 2 % (tests/test_projection.py computes it as a negative binomial), in words.
    assert (
        "① 小学校区コミュニティの設立数: 2023年度の目標（13団体）を達成する見込みは低い（約2%）。"
        in text
    )
    assert "累計の件数: 各年度の増加数をポアソン" in html


@pytest.mark.slow
def test_trends_report_fy2023(trends_2023: str):
    html = _visible(trends_2023)
    # ① running total 4 (FY2020 baseline), 4, 7, 9: increments 0, 3, 2 → 5/3 a year,
    # quasi-Poisson φ = 1.4 on 2 df; FY2024 (beyond the plan) never below the 9 reached.
    text = re.sub(r"<[^>]+>", "", html)  # numbers with units sit in <span class="nb">
    assert "1.67団体/年（0.171〜16.2）" in text
    assert re.search(r"参考（計画終了後）2024年度: 10\.7団体（9〜\d+）", text)
    # The plan ended in FY2023: the outcome in one sentence, not a probability.
    assert "最終目標は未達成（実績 9団体、目標 13団体、差 ▲4団体）" in text
    assert (
        "① 小学校区コミュニティの設立数: 計画最終年度（2023年度）の目標 13団体に対し、"
        "実績は9団体で、目標に届きませんでした（差 ▲4団体）。" in text
    )
    # ② OLS slope 275.5 a year on 1 df: no interval, and the reason.
    assert "276人/年" in text and "統合後も残差自由度が2未満のため区間・確率なし" in text
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', html)) == 1
    assert "d₀ = 0" in html  # the methods say that nothing could be pooled


@pytest.fixture(scope="module")
def panel_2023(tmp_path_factory) -> str:
    return _execute(tmp_path_factory, "panel", 2023)


@pytest.mark.slow
def test_panel_report_fy2023_is_a_one_programme_panel(panel_2023: str):
    """Issue 10: 1 programme, 4 KPIs, 2 achieved (50 %), 1 of 1 with at least one achieved."""
    html = _visible(panel_2023)
    assert "2023年度: 1事業の評価した4指標中2指標が目標を達成しました（達成割合 50.0%）" in html
    assert "<td>2 / 4 (50.0%)</td>" in html  # share of KPIs that reached their target
    assert "<td>1 / 1 (100.0%)</td>" in html  # programmes with at least one KPI achieved
    assert "<td>0 / 1 (0.0%)</td>" in html  # programmes with every KPI achieved
    assert "この年度に評価できる事業は1事業だけです" in html  # not a cross-programme figure
    # The grant type by national category, the sheet's wording kept beside it.
    assert "半田市" in html and "<td>推進（地方創生推進タイプ）</td>" in html
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', html)) == 1
    assert "from kpianalysis" not in html and "display(" not in html


@pytest.mark.slow
def test_panel_report_fy2023_reads_like_the_others(panel_2023: str):
    """One title, a table of contents from the sections, captions numbered in reading order."""
    html = _visible(panel_2023)
    assert html.count("<h1>") == 1 and "<h1>全事業の横断集計 — 2023年度（令和5年度）</h1>" in html
    for anchor, title in (
        ("panel_headline", "全体の達成状況"),
        ("distribution", "達成率の分布"),
        ("progress_classes", "複数年度の進捗分類"),
        ("programmes", "事業別の達成割合"),
        ("methods", "方法"),
    ):
        assert f'<a href="#{anchor}">{title}</a>' in html and f'<h2 id="{anchor}">' in html
    # One figure (the distribution), then the tables: by kind, by grant type, classes,
    # programmes.
    nums = re.findall(r'<span class="kpi-num">(図|表)(\d+)', html)
    assert nums == [("図", "1"), ("表", "1"), ("表", "2"), ("表", "3"), ("表", "4")]
    assert "papermill" not in html and "Cross-programme panel" not in html  # no developer note


@pytest.mark.slow
def test_reports_carry_the_registry_titles_and_sections(
    attainment_2023: str, trends_2023: str, panel_2023: str
):
    """The title and the sections (in order) the registry gives each report, as the index does."""
    from kpianalysis.report.registry import REPORTS

    for name, html in (("attainment", attainment_2023), ("trends", trends_2023),
                       ("panel", panel_2023)):  # fmt: skip
        page = _visible(html)
        h1 = page[page.index("<h1>") : page.index("</h1>")]
        assert REPORTS[name].title_ja in h1
        assert tuple(re.findall(r'<h2 id="([^"]+)"', page)) == REPORTS[name].sections


class _LanguageScan(HTMLParser):
    """Text (and alt/title text) of a page in Japanese script outside elements marked lang="ja".

    The report's own ``<html lang>`` counts: an English page marks each name it keeps as
    written (a sub-project, a department) with ``lang="ja"``.
    """

    VOID = frozenset({"br", "hr", "img", "input", "link", "meta", "source", "wbr", "col"})
    JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff01-\uffee▲]")

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str | None]] = []
        self.found: list[str] = []

    def _lang(self, own: str | None = None) -> str | None:
        return own or next((lang for _, lang in reversed(self.stack) if lang), None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("alt", "title", "aria-label"):
            text = a.get(key) or ""
            if self.JAPANESE.search(text) and self._lang(a.get("lang")) != "ja":
                self.found.append(f"{tag}@{key}: {text[:60]}")
        if tag not in self.VOID:
            self.stack.append((tag, a.get("lang")))

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        inside = self.stack[-1][0] if self.stack else ""
        japanese = self.JAPANESE.search(data) and self._lang() != "ja"
        if japanese and inside not in ("style", "script"):
            self.found.append(f"{inside}: {data.strip()[:60]}")


def japanese_outside_lang_ja(html: str) -> list[str]:
    scan = _LanguageScan()
    scan.feed(html)
    return scan.found


def test_the_language_scan_finds_unmarked_japanese():
    page = '<html lang="en"><p>KPI <span lang="ja">半田市</span></p><td>累計 4団体</td></html>'
    assert japanese_outside_lang_ja(page) == ["td: 累計 4団体"]
    assert japanese_outside_lang_ja('<html lang="en"><img alt="達成率"></html>') == [
        "img@alt: 達成率"
    ]


@pytest.fixture(scope="module")
def trends_2023_en(tmp_path_factory) -> str:
    return _execute(tmp_path_factory, "trends", 2023, "en")


@pytest.fixture(scope="module")
def panel_2023_en(tmp_path_factory) -> str:
    return _execute(tmp_path_factory, "panel", 2023, "en")


@pytest.mark.slow
def test_english_reports_have_no_japanese_outside_lang_ja(
    attainment_2023_en: str, trends_2023_en: str, panel_2023_en: str
):
    """Issue 17: English reports kept 累計 4団体, ▲468人, 47回 and 地方創生推進タイプ."""
    for html in (attainment_2023_en, trends_2023_en, panel_2023_en):
        assert japanese_outside_lang_ja(html) == []
    # The seed's values in English: ▲468人 (FY2021 ②) reads −468, the unit under the name.
    assert '<td class="num">−468' in attainment_2023_en
    assert "regional revitalisation promotion type" in panel_2023_en
    # Names kept as written are there, marked: the department of every sub-project.
    assert '<span lang="ja">市民協働課</span>' in attainment_2023_en


@pytest.mark.slow
def test_japanese_reports_carry_no_english_subtitles(attainment_2023: str, trends_2023: str):
    """Issue 17: every heading and column had an English subtitle beside the Japanese."""
    for html in (attainment_2023, trends_2023):
        page = _visible(html)
        assert '<span class="en">' not in page
        headers = re.findall(r"<th[^>]*>(.*?)</th>", page, flags=re.S)
        assert headers and not [h for h in headers if re.search(r"<small>[A-Za-z]", h)]
