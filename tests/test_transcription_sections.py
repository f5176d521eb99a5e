"""Issue 16 point 4: the report body says when a programme has no source document or has cells
not as the source prints them, and the appendix lists those cells (``Dataset.cell_notes``).

Expected rows are read by hand from ``tests/fixtures/partners/unknown-kyodo/marks.csv`` (the
transcriber's two marks) and its ``source.txt`` (two names matching only after the Kangxi
radical ⽣ U+2F63 is normalised to 生); 21203-kanko has an empty ``source_file``.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from conftest import read_rows, write_rows
from kpianalysis.data.dataset import load_folders
from kpianalysis.report import sections

PARTNERS = Path(__file__).resolve().parent / "fixtures" / "partners"
KYODO, KANKO = "unknown-kyodo", "21203-kanko"

UNCHECKED = {
    "ja": "この事業の転記は原資料と照合されていません。",
    "en": "This programme&#x27;s transcription has not been checked against a source document.",
}


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tmp data/raw with copies of the two fixtures (never the project's data/raw)."""
    root = tmp_path_factory.mktemp("raw")
    for pid in (KYODO, KANKO):
        shutil.copytree(PARTNERS / pid, root / pid)
    return root


def _overview(folder: Path, fy: int, language: str) -> str:
    full = load_folders([folder])
    return sections.programme_overview(full, full.as_of(fy), fy, language)


def test_body_counts_the_transcribers_marks_visible_in_the_year(raw):
    # FY2021: marks.csv rows rejoined (indicators.csv row 3, a definition: always visible) and
    # inferred (observations.csv row 4 = ② 令和2年度 actual, visible from FY2020) → 2 values.
    ja = _overview(raw / KYODO, 2021, "ja")
    assert "<p>原資料どおりでない値が2件あります（付録参照）。</p>" in ja
    en = _overview(raw / KYODO, 2021, "en")
    assert "<p>2 values are not as the source document prints them (see the appendix).</p>" in en
    # kyodo has a source document: no "not checked" sentence.
    assert UNCHECKED["ja"] not in ja and UNCHECKED["en"] not in en


def test_body_says_a_programme_without_source_is_unchecked(raw):
    for language in ("ja", "en"):
        html = _overview(raw / KANKO, 2018, language)
        assert f"<p>{UNCHECKED[language]}</p>" in html
        assert "原資料どおりでない値" not in html and "not as the source document" not in html
        full = load_folders([raw / KANKO])
        # The trends notebook shows the same sentence through the same function.
        assert sections.transcription_status(full, language) == f"<p>{UNCHECKED[language]}</p>"


def _rows(html: str) -> list[str]:
    body = html[html.index("<caption>") :]
    body = body[body.index("<tbody>") + 7 : body.index("</tbody>")]
    return body.removeprefix("<tr>").removesuffix("</tr>").split("</tr><tr>")


def test_appendix_lists_each_note_in_japanese(raw):
    full = load_folders([raw / KYODO])
    html = sections.transcription_notes(full, full.as_of(2021), "ja")
    assert "原資料どおりに読んでいないセル" in html
    rows = _rows(html)
    assert len(rows) == 4
    # Sorted by file, then row: indicators 2 (normalised), 3 (rejoined), observations 4,
    # programme 2.
    assert rows[1] == (
        '<td>indicators.csv</td><td class="num">3</td><td>name_ja</td><td>健康教育参加者数</td>'
        '<td>分断された文字列を結合</td><td><span lang="en">The PDF text breaks the name across '
        "a page header: 健康教育参 / (page header) / 加者数.</span></td>"
    )
    assert rows[2] == (
        '<td>observations.csv</td><td class="num">4</td><td>actual</td><td>155人</td>'
        '<td>推定（原資料に印字なし）</td><td><span lang="en">The sheet prints the two sessions '
        "separately (会場 120人, オンライン 35人); 120 + 35 = 155.</span></td>"
    )
    assert rows[0].startswith('<td>indicators.csv</td><td class="num">2</td><td>name_ja</td>')
    assert "<td>互換文字を正規化して照合</td>" in rows[0] and "U+2F63" in rows[0]
    assert rows[3].startswith('<td>programme.csv</td><td class="num">2</td><td>name_ja</td>')


def test_appendix_in_english_marks_japanese_and_hides_later_years(raw):
    full = load_folders([raw / KYODO])
    html = sections.transcription_notes(full, full.as_of(2021), "en")
    assert "Cells not read literally from the source" in html
    assert _rows(html)[2] == (
        '<td>observations.csv</td><td class="num">4</td><td>actual</td>'
        '<td>155<span lang="ja">人</span></td><td>inferred (not printed in the source)</td>'
        "<td>The sheet prints the two sessions separately "
        '(<span lang="ja">会場 120人, オンライン 35人</span>); 120 + 35 = 155.</td>'
    )
    # Both functions read the cut dataset, not the full one: a note the cut has not reached
    # (visible_from after the report's year) is neither listed nor counted. The plan starts in
    # FY2020, so no earlier cut exists; the cut is simulated by dropping the FY2020 note.
    cut = full.as_of(2020)
    early = dataclasses.replace(
        cut, cell_notes=cut.cell_notes[cut.cell_notes["visible_from"] < 2020]
    )
    assert len(_rows(sections.transcription_notes(full, early, "en"))) == 3
    assert sections.transcription_status(early, "en") == (
        "<p>1 value is not as the source document prints them (see the appendix).</p>"
    )
    # The trends report has no such appendix: it states the count without pointing there.
    assert sections.transcription_status(full.as_of(2021), "ja", appendix=False) == (
        "<p>原資料どおりでない値が2件あります。</p>"
    )


def test_a_hostile_reason_is_escaped(tmp_path):
    folder = tmp_path / KYODO
    shutil.copytree(PARTNERS / KYODO, folder)
    rows = read_rows(folder / "marks.csv")
    rows[1][rows[0].index("reason")] = '<script>alert("x")</script>'
    write_rows(folder / "marks.csv", rows)
    full = load_folders([folder])
    for language in ("ja", "en"):
        html = sections.transcription_notes(full, full.as_of(2021), language)
        assert "<script>" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_the_seed_says_nothing_of_the_kind(seed):
    # The seed has a source document and no cell notes: no sentence, no table (its rendered
    # sections were also compared byte for byte with main's before landing: same SHA-256).
    assert seed.cell_notes.empty and not seed.unchecked_programmes
    for language in ("ja", "en"):
        assert sections.transcription_status(seed, language) == ""
        notes = sections.transcription_notes(seed, seed.as_of(2023), language)
        assert "<table" not in notes
        overview = sections.programme_overview(seed, seed.as_of(2023), 2023, language)
        for text in ("原資料", "source document"):
            assert text not in overview
