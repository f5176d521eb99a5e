"""Words and numbers as a reader of each language reads them: era labels, rates, units, yen.

Shared by every report's sections. The translation tables (units, grant types) turn the
sheets' Japanese into English for English reports; the Japanese report keeps the sheet's text.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from kpianalysis.analysis.measures import format_percent
from kpianalysis.reasons import reason_label
from kpianalysis.report import present as P

__all__ = [
    "GRANT_TYPES_EN",
    "UNITS_EN",
    "as_written",
    "fiscal_year_label",
    "fy_short",
    "indicator_name",
    "percent_text",
    "reason_text",
    "unit_text",
    "unparen",
    "yen_text",
]


def fiscal_year_label(year: Any) -> str:
    """``2023`` → ``"2023年度（令和5年度）"`` (平成 before 2019, 令和元年度 for 2019)."""
    y = int(year)
    era = f"令和{y - 2018}年度" if y >= 2019 else f"平成{y - 1988}年度"
    if y == 2019:
        era = "令和元年度"
    return f"{y}年度（{era}）"


def fy_short(year: int, language: str) -> str:
    return f"{year}年度" if language == "ja" else f"FY{year}"


def percent_text(value: Any) -> str:
    """``0.936`` → ``"93.6%"`` (half-up, one decimal); ``""`` when there is no rate."""
    text = format_percent(value, 1)
    return "" if text == "-" else str(text)


def reason_text(code: Any, language: str) -> str:
    """A reason code or outcome key in words; every code has one meaning (kpianalysis.reasons)."""
    P.check_language(language)
    return reason_label(code, language)


def indicator_name(row: Any, language: str) -> str:
    """``"① 小学校区コミュニティの設立数"`` (or the English name first for ``"en"``)."""
    name = P.pick(row["name_ja"], row.get("name_en", ""), language)
    sub = row.get("sub_label_ja")
    if isinstance(sub, str) and sub and name == row["name_ja"]:
        name += sub
    return f"{row['indicator_label']} {name}"


def unit_text(unit: Any, language: str) -> str:
    """The unit as a reader of the language understands it (the sheet's Japanese in ``ja``)."""
    text = "" if not isinstance(unit, str) else unit
    if language == "ja":
        return text
    return UNITS_EN.get(text, text)


#: Units the seed sheets use, in English (the sheet's Japanese is kept in the tables).
UNITS_EN: dict[str, str] = {
    "人": "persons",
    "団体": "organisations",
    "回": "times",
    "件": "cases",
    "円": "yen",
    "%": "%",
    "店舗": "shops",
    "番組": "programmes",
    "人/月": "persons per month",
}


#: Grant types in English (the sheet's Japanese stays in the Japanese report).
GRANT_TYPES_EN: dict[str, str] = {
    "地方創生推進タイプ": "regional revitalisation promotion type",
    "先駆タイプ": "pioneering type",
    "横展開タイプ": "roll-out type",
    "Society5.0タイプ": "Society 5.0 type",
    "先行型": "early type (先行型)",
}


def yen_text(value: Any, language: str) -> str:
    """``"19,272,695円"`` in Japanese, ``"¥19,272,695"`` (``"−¥1.5"``) in English."""
    text = P.yen(value)
    if language == "ja" or not text:
        return text
    sign = "−" if text.startswith("-") else ""
    return f"{sign}¥{text.lstrip('-').removesuffix('円')}"


def unparen(text: Any) -> str:
    """``"(累計 13団体)"`` → ``"累計 13団体"``: the sheet writes targets in parentheses."""
    t = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text).strip()
    for a, b in (("(", ")"), ("（", "）")):
        if t.startswith(a) and t.endswith(b):
            return t[1:-1].strip()
    return t


def as_written(text: Any) -> str:
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return ""
    return str(text).strip()
