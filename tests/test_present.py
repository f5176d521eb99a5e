"""HTML building escapes every data-derived string (issue #6: hostile text stays inert)."""

from __future__ import annotations

import math

import pandas as pd

from kpianalysis.report.present import (
    Html,
    concat,
    definition_list,
    heading,
    label,
    number,
    paragraph,
    pick,
    table,
    yen,
)

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


def test_labels_keep_japanese_with_english_beside():
    assert label("target") == "目標値 (Target)"
    assert label("target", "en") == "Target (目標値)"
    assert pick("事業", "", "en") == "事業"  # falls back when the English name is blank


def test_numbers_print_as_the_sheets_do():
    assert number(-468, "人") == "▲468人"
    assert number(1019, "人") == "1,019人"
    assert number(56.5, "回") == "56.5回"
    assert yen(19_272_695) == "19,272,695円"
    assert yen(-1.5) == "-1.5円"
