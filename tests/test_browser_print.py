"""The seed's reports on a phone (390 px) and on A4 paper, in both languages (issue 17, 3 and 5).

Reports are read by a panel member on a phone and filed by an official as A4 printouts. Every
report of the seed — attainment, trends and the cross-programme panel, for each fiscal year of
its FY2021–2023 plan — is built from the shipped data into a temporary project, in Japanese and
in English, and opened in headless Chromium (tests/browser.py):

* at 390 CSS px (an iPhone 12–15's width): a viewport ``<meta>``; no element reaches past the
  screen unless it sits in its own scroll container; no number is broken inside across lines
  ("▲46|8人", "1,01|9人" and "10|0.0|%" were, issue 17);
* printed to PDF as the page's ``@page`` rules ask (A4): at most three pages, two for a trends
  report; no page holding only the footer; a running title on every page but the first and
  "n / N" on every page; no heading, caption or table header as the last line of a page; no
  number broken inside; every figure printed at its full physical size, so text drawn at ≥ 7 pt
  stays ≥ 7 pt.

Screenshots and PDFs are copied to :data:`LOOK` for a human to look at.
"""

from __future__ import annotations

import csv
import re
import shutil
import unicodedata
from pathlib import Path

import pytest

from browser import browser, chromium  # noqa: F401 - pytest fixture
from conftest import project_copy
from kpianalysis.build.pipeline import build

pytestmark = [pytest.mark.slow, browser]

SEED = "23205-community"
#: Where screenshots and printed PDFs are copied for people to look at (outside the repository).
LOOK = Path("/tmp/kpianalysis-look")
#: The phone: 390 CSS px is the width of the iPhone 12–15 (and many Android phones).
PHONE = 390
YEARS = (2021, 2022, 2023)
REPORTS = [
    (year, notebook, language)
    for year in YEARS
    for notebook in ("attainment", "trends", "panel")
    for language in ("ja", "en")
]
#: Most A4 pages per report (issue 17: "each report ≤ 3 A4 pages, trends ≤ 2").
MOST_PAGES = {"attainment": 3, "trends": 2, "panel": 3}
#: The reports' page margins (render.REPORT_CSS ``@page``: 12 mm top and bottom) in pt, and
#: A4's height: the running title is above the body, the page number below it.
MARGIN_PT = 12 / 25.4 * 72
A4_HEIGHT_PT = 841.89


def _stem(notebook: str, language: str) -> str:
    return notebook + (".en" if language == "en" else "")


@pytest.fixture(scope="module")
def seed_reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every report of the seed (FY2021–2023; attainment, trends, panel), Japanese and English."""
    root = project_copy(tmp_path_factory.mktemp("print") / "project", shipped=True)
    summary = build(root, fiscal_years=YEARS, jobs=2, progress=False, languages=("ja", "en"))
    assert summary.count("ok") == 2 * 3 * len(YEARS), summary.outcomes
    return root / "reports" / SEED


def _report(reports: Path, year: int, notebook: str, language: str) -> Path:
    # The panel is across programmes: its archive sits beside the programmes' own.
    folder = reports.parent / "panel" if notebook == "panel" else reports
    return folder / f"fy{year}" / f"{_stem(notebook, language)}.html"


def _name(year: int, notebook: str, language: str) -> str:
    return f"fy{year}-{_stem(notebook, language)}"


# Every element that reaches past the screen's edge without an ancestor that scrolls or clips
# it (a scroll container, or the visually hidden table header of the phone layout).
_PHONE_FACTS = r"""
(width) => {
  const contained = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (s.overflowX !== "visible" || s.clipPath !== "none") return true;
    }
    return false;
  };
  const outside = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if ((r.right > width + 0.5 || r.left < -0.5) && !contained(el)) {
      outside.push(`${el.tagName.toLowerCase()}.${el.className} ${Math.round(r.left)}..` +
                   `${Math.round(r.right)}`);
    }
  }
  const meta = document.querySelector('meta[name="viewport"]');
  return {
    scrollWidth: document.documentElement.scrollWidth,
    viewport: meta ? meta.getAttribute("content") : null,
    outside: outside.slice(0, 10),
  };
}
"""

# Numbers written with their unit ("▲468人", "1,019人", "100.0%", "13団体"; a space between them
# is a place to break, as in "100 %") in table cells, captions and the summary, each checked
# for being drawn on more than one line (its text range's boxes at different heights). Units:
# the seed's KPI units (indicators.csv) and those the reports add.
_BROKEN_NUMBERS = r"""
([units, where]) => {
  const unit = units.map((u) => u.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
  const number = new RegExp(`[▲+\\-−]?\\d[\\d,]*(?:\\.\\d+)?(?:${unit})`, "gu");
  const broken = [];
  let checked = 0;
  const roots = document.querySelectorAll(where);
  for (const root of roots) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(number)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0)
          .map((r) => Math.round(r.top)));
        checked += 1;
        const where = `${root.tagName.toLowerCase()}.${root.className}`;
        if (tops.size > 1) broken.push(`${m[0]} in ${where}`);
      }
    }
  }
  return { checked, broken };
}
"""


# English words in table cells and figure captions, each checked for being drawn on more than
# one line: a column too narrow for its words broke them inside ("effecti|ve", "Achievem|ent").
_BROKEN_WORDS = r"""
() => {
  const broken = [];
  let checked = 0;
  for (const root of document.querySelectorAll("th, td, caption, figcaption")) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest('[lang="ja"]')) continue;
      for (const m of node.data.matchAll(/[A-Za-z]{2,}/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0)
          .map((r) => Math.round(r.top)));
        checked += 1;
        if (tops.size > 1) broken.push(`${m[0]} in ${root.tagName.toLowerCase()}`);
      }
    }
  }
  return { checked, broken };
}
"""


#: Where numbers are checked on a phone: every table cell (tables scroll there, so their text
#: cells break only at spaces and punctuation), captions, the summary and the trends outlook.
ON_PHONE = "td, th, caption, figcaption, .kpi-summary li, .kpi-outlook li"
#: On paper tables fit the page, so only number cells and numbers marked to be kept whole
#: (``.nb``) are held to it, with captions, the summary and the outlook.
ON_PAPER = "td.num, td .nb, caption, figcaption, .kpi-summary li, .kpi-outlook li"


def _units() -> list[str]:
    """The seed's KPI units, and the per cent, yen, people and fiscal years the reports add."""
    raw = Path(__file__).resolve().parents[1] / "data" / "raw" / SEED / "indicators.csv"
    with raw.open(encoding="utf-8") as f:
        units = {row["unit"] for row in csv.DictReader(f) if row["unit"]}
    return sorted(units | {"%", "円", "名", "年度"}, key=len, reverse=True)


@pytest.mark.parametrize(("year", "notebook", "language"), REPORTS)
def test_phone_nothing_wider_than_the_screen(
    seed_reports: Path,
    chromium,  # noqa: F811
    year: int,
    notebook: str,
    language: str,
) -> None:
    path = _report(seed_reports, year, notebook, language)
    page = chromium._context.new_page()  # the harness exposes no page hook
    try:
        page.set_viewport_size({"width": PHONE, "height": 844})
        page.goto(path.resolve().as_uri(), wait_until="load")
        facts = page.evaluate(_PHONE_FACTS, PHONE)
        numbers = page.evaluate(_BROKEN_NUMBERS, [_units(), ON_PHONE])
        LOOK.mkdir(exist_ok=True)
        page.screenshot(
            path=str(LOOK / f"{_name(year, notebook, language)}-390.png"), full_page=True
        )
    finally:
        page.close()
    assert facts["viewport"] == "width=device-width, initial-scale=1.0"
    assert facts["scrollWidth"] <= PHONE, facts
    assert facts["outside"] == [], facts["outside"]
    # Each of the seed's reports holds numbers with units (4 KPIs: actuals, targets, rates;
    # the English trends report writes most units after a space, which is not counted).
    assert numbers["checked"] >= 4, numbers
    assert numbers["broken"] == [], numbers["broken"]


def _pdf_lines(pdf: Path) -> list[list[tuple[float, str]]]:
    """Per page, its text lines top to bottom as (height in pt from the bottom, text).

    Fragments drawn at the same height are joined; text is NFKC-normalised because the
    Japanese font maps some ideographs to compatibility code points (田 as U+2F65 ⽥).
    """
    from pypdf import PdfReader

    pages = []
    for page in PdfReader(pdf).pages:
        parts: dict[float, list[tuple[float, str]]] = {}

        def visit(text, cm, tm, font, size, parts=parts) -> None:
            if text.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = round(tm[4] * cm[1] + tm[5] * cm[3] + cm[5])
                parts.setdefault(y, []).append((x, text))

        page.extract_text(visitor_text=visit)
        lines = [
            (y, unicodedata.normalize("NFKC", "".join(t for _, t in sorted(parts[y]))))
            for y in sorted(parts, reverse=True)
        ]
        pages.append(lines)
    return pages


# Texts that must never end a page: headings, table captions and table header rows (a figure's
# caption comes after its figure and may).
_HEADINGS = r"""
() => [...document.querySelectorAll("h1, h2, h3, caption, thead tr")]
  .map((el) => el.innerText)
"""

# The provenance footer's text as printed.
_FOOTER = r"""
() => (document.querySelector("footer.kpi-footer") || {}).innerText || ""
"""


# Each figure's printed width against its physical width (CSS px at 96 per inch).
_FIGURE_SIZES = r"""
() => [...document.querySelectorAll("figure img")].map((img) => ({
  physical: Number(img.getAttribute("width")), shown: img.getBoundingClientRect().width }))
"""


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _letters(text: str) -> str:
    """Letters and digits only: the PDF's text maps some dashes to combining marks."""
    return re.sub(r"\W", "", unicodedata.normalize("NFKC", text))


@pytest.mark.parametrize(("year", "notebook", "language"), REPORTS)
def test_a4_pages_numbered_titled_and_nothing_stranded(
    seed_reports: Path,
    chromium,  # noqa: F811
    year: int,
    notebook: str,
    language: str,
    tmp_path: Path,
) -> None:
    path = _report(seed_reports, year, notebook, language)
    printed = chromium.print_pdf(path, pdf=tmp_path / "report.pdf")
    LOOK.mkdir(exist_ok=True)
    shutil.copyfile(printed.pdf, LOOK / f"{_name(year, notebook, language)}.pdf")
    assert printed.too_wide == ()
    # At most three A4 pages, two for a trends report (measured before the fix: all six trends
    # reports printed on three, the third holding only the footer).
    assert 1 <= printed.pages <= MOST_PAGES[notebook], printed.pages
    pages = _pdf_lines(printed.pdf)
    assert len(pages) == printed.pages
    title = _squash(re.search(r"<h1[^>]*>(.*?)</h1>", path.read_text("utf-8"), re.S).group(1))
    title = _letters(re.sub(r"<[^>]+>", "", title))
    page_obj = chromium._context.new_page()
    try:
        page_obj.goto(path.resolve().as_uri(), wait_until="load")
        page_obj.emulate_media(media="print")
        page_obj.set_viewport_size({"width": printed.content_width_px, "height": 1100})
        headings = [_squash(h) for h in page_obj.evaluate(_HEADINGS) if _squash(h)]
        footer = _squash(page_obj.evaluate(_FOOTER))
        numbers = page_obj.evaluate(_BROKEN_NUMBERS, [_units(), ON_PAPER])
        words = page_obj.evaluate(_BROKEN_WORDS)
        figures = page_obj.evaluate(_FIGURE_SIZES)
    finally:
        page_obj.close()
    # Every figure prints at its physical size (width attribute = inches × 96 CSS px), so its
    # text prints at the size it was drawn: ≥ 7 pt (tests/test_print_figures.py).
    assert figures and all(f["shown"] >= 0.99 * f["physical"] for f in figures), figures
    # No number broken inside in the printed layout either, nor an English word in a table.
    assert numbers["checked"] >= 4 and numbers["broken"] == [], numbers
    if language == "en":
        assert words["checked"] >= 50 and words["broken"] == [], words
    assert len(footer) > 50  # date, commit, packages, records, tables, citation
    n = len(pages)
    for number, lines in enumerate(pages, start=1):
        # The page number, bottom right, in the bottom margin.
        bottom_y, bottom = lines[-1]
        assert bottom_y < MARGIN_PT and _squash(bottom) == f"{number}/{n}", lines[-3:]
        body = [text for y, text in lines if MARGIN_PT <= y <= A4_HEIGHT_PT - MARGIN_PT]
        # No page holds only (part of) the footer: it takes some of the report along.
        assert body and _squash("".join(body)) not in footer, (number, body)
        if number > 1:
            # The running title in the top margin: the report's title (<h1>).
            # A title too long for one line is cut with "…".
            top_y, top = lines[0]
            assert top_y > A4_HEIGHT_PT - MARGIN_PT, lines[:2]
            shown = _letters(top)
            cut = top.rstrip().endswith(("…", "..."))  # NFKC reads "…" as "..."
            assert shown == title or (cut and title.startswith(shown)), top
        # The last line of the page's body is not a heading, a caption or a table header.
        last = _squash(body[-1])
        stranded = [h for h in headings if len(last) >= 2 and last in h]
        assert not stranded, (number, body[-3:])


# Every link's box, left and right edge, in CSS px from the left of the viewport.
_LINK_BOXES = r"""
() => [...document.querySelectorAll("a")].map((a) => {
  const r = a.getBoundingClientRect();
  return { text: a.textContent, left: r.left, right: r.right };
})
"""


@pytest.mark.parametrize("name", ["index.html", "index.en.html"])
def test_phone_index_links_are_on_screen(seed_reports: Path, chromium, name: str) -> None:  # noqa: F811
    # At 390 px the index's table was 884 px wide: the report links sat off-screen to the right.
    index = seed_reports.parent / name
    page = chromium._context.new_page()
    try:
        page.set_viewport_size({"width": PHONE, "height": 844})
        page.goto(index.resolve().as_uri(), wait_until="load")
        facts = page.evaluate(_PHONE_FACTS, PHONE)
        links = page.evaluate(_LINK_BOXES)
        page.screenshot(path=str(LOOK / f"{name}-390.png"), full_page=True)
    finally:
        page.close()
    assert facts["scrollWidth"] <= PHONE, facts
    # The seed's 2 reports (ja) per year for FY2022 and FY2023 at least, each with its record.
    assert len(links) >= 8
    off = [link for link in links if link["left"] < 0 or link["right"] > PHONE + 0.5]
    assert off == [], off
