"""Words and numbers as a reader of each language reads them: era labels, rates, units, yen.

Shared by every report's sections. The translation tables (units, grant types) turn the
sheets' Japanese into English for English reports; the Japanese report keeps the sheet's text.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from kpianalysis.analysis.measures import format_percent
from kpianalysis.analysis.panel import GRANT_CATEGORIES, grant_category
from kpianalysis.data.notation import split_scale
from kpianalysis.reasons import reason_label
from kpianalysis.report import present as P

__all__ = [
    "ASSESSMENT_METHODS",
    "GRANT_TYPES_EN",
    "UNITS_EN",
    "AssessmentMethod",
    "as_written",
    "english_unit",
    "fiscal_year_label",
    "fy_short",
    "grant_type_text",
    "indicator_name",
    "minus_signs",
    "percent_text",
    "quantity",
    "reason_text",
    "unit_text",
    "unparen",
    "written_unit",
    "written_units",
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


def percent_text(value: Any, language: str = "ja") -> str:
    """``0.936`` → ``"93.6%"`` (half-up, one decimal); ``""`` when there is no rate.

    English writes a negative rate with the minus sign its values carry (``"−93.6%"`` beside
    ``"−468 persons"``, :func:`kpianalysis.report.present.number`); Japanese as before.

    >>> percent_text(-0.936, "en"), percent_text(-0.936), percent_text(0.936, "en")
    ('−93.6%', '-93.6%', '93.6%')
    """
    text = format_percent(value, 1)
    return "" if text == "-" else minus_signs(str(text), language)


#: A hyphen-minus before a number, not inside a word or a range ("15-64", "FY2021-2023").
_HYPHEN_MINUS = re.compile(r"(?<![\w.\-])-(?=\d)")


def minus_signs(text: str, language: str) -> str:
    """In English, each number's hyphen-minus as the minus sign (U+2212) English values print
    (:func:`kpianalysis.report.present.number`); Japanese text unchanged.

    >>> minus_signs("-1.5 (-3 to 0.2), ages 15-64", "en"), minus_signs("-1.5", "ja")
    ('−1.5 (−3 to 0.2), ages 15-64', '-1.5')
    """
    return _HYPHEN_MINUS.sub("\u2212", text) if language == "en" else text


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
    measure = row.get("measure_no", 0)
    if isinstance(measure, int | np.integer) and measure > 0:
        # One measure of a compound cell (回・人): the shared name alone would name two rows.
        unit = unit_text(row.get("unit", ""), language)
        name += P.pick(f"（{unit}）", f" ({unit})", language)
    return f"{row['indicator_label']} {name}"


def unit_text(unit: Any, language: str) -> str:
    """The unit as a reader of the language understands it (the sheet's Japanese in ``ja``)."""
    text = "" if not isinstance(unit, str) else unit
    if language == "ja":
        return text
    return UNITS_EN.get(text, text)


def written_unit(unit: Any, written: Any, language: str) -> tuple[float, str]:
    """The factor a KPI's values (held in ``unit``, the scale removed) are divided by to read
    in the unit the sheet writes (``written``, the indicator's ``unit_text``), and that unit's
    label: an axis of a KPI counted in 千人 reads 1,262 under 千人, not 1,262,000 under 人.

    Examples
    --------
    >>> written_unit("人", "千人", "ja"), written_unit("トン", "万トン", "en")
    ((1000.0, '千人'), (10000.0, 'ten thousand t'))
    >>> written_unit("人", "人", "en")
    (1.0, 'persons')
    """
    text = written if isinstance(written, str) else ""
    base, factor = split_scale(text)
    if factor == 1 or base != unit:
        return 1.0, unit_text(unit, language)
    if language == "ja":
        return float(factor), text
    prefix = text[: -len(base)]
    return float(factor), f"{_SCALE_WORDS[prefix]} {unit_text(base, 'en')}"


def written_units(indicators: pd.DataFrame, language: str) -> dict[tuple[Any, int], tuple]:
    """(programme_id, indicator_id) → :func:`written_unit` of every KPI of ``indicators``."""
    written = indicators.get("unit_text", pd.Series("", index=indicators.index))
    return {
        (pid, int(iid)): written_unit(unit, text, language)
        for pid, iid, unit, text in zip(
            indicators["programme_id"],
            indicators["indicator_id"],
            indicators["unit"],
            written,
            strict=True,
        )
    }


#: The scale prefixes (notation.SCALE_PREFIXES) in English words.
_SCALE_WORDS: dict[str, str] = {
    "千": "thousand",
    "万": "ten thousand",
    "十万": "hundred thousand",
    "百万": "million",
    "千万": "ten million",
    "億": "hundred million",
}


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
    # Units partners' sheets print (tests/fixtures/partners, data/raw/README.md).
    "人/日": "persons per day",
    "件/年": "cases per year",
    "世帯": "households",
    "人泊": "overnight stays",
    "t": "t",
    "トン": "t",
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


class AssessmentMethod(NamedTuple):
    """A research measure of multi-year progress as every report names and explains it."""

    ja: str
    en: str
    source_ja: str
    source_en: str
    meaning_ja: str
    meaning_en: str


#: The four research measures (``analysis.progress``; keys as ``analysis.panel.ASSESSMENTS``):
#: one name each wherever a report shows them, their source and one plain line (issue 17).
ASSESSMENT_METHODS: dict[str, AssessmentMethod] = {
    "status": AssessmentMethod(
        "現状指数",
        "status index",
        "国連アジア太平洋経済社会委員会（ESCAP）",
        "UN ESCAP",
        "当初値から目標値までの道のりのうち、いま何割進んだか。その年度の計画の目標値に届いていれば順調。",
        "How much of the way from baseline to target is covered; on track when the plan's "
        "target for the year is met.",
    ),
    "anticipated": AssessmentMethod(
        "見込み進捗",
        "anticipated progress",
        "国連アジア太平洋経済社会委員会（ESCAP）",
        "UN ESCAP",
        "これまでの動きが計画に対して同じ調子で続けば、最終年度に道のりの何割に届くか（100%以上なら達成見込み）。",
        "How much of the way the movement so far, kept up against the plan, would cover by "
        "the plan's last year (100 % or more: expected to be met).",
    ),
    "cagr": AssessmentMethod(
        "CAGR比",
        "CAGR ratio",
        "Open SDG（Eurostat の方法による）",
        "Open SDG (after Eurostat)",
        "実際の年平均伸び率が、計画がその年度までに求めた年平均伸び率の何倍か（1以上なら計画どおり）。",
        "Actual average yearly growth as a multiple of the growth the plan asked for up to "
        "the year (1 or more: as planned).",
    ),
    "miss_share": AssessmentMethod(
        "未達割合",
        "miss share",
        "ドイツ連邦統計局（Destatis）",
        "Destatis (German Federal Statistical Office)",
        "最近の動きが計画に対して同じ調子で続いた場合に、残りの必要な変化のうち届かない割合（5%未満なら順調、負なら上回る見込み）。",
        "Share of the change still needed that the recent movement, kept up against the "
        "plan, would fail to make (below 5 %: on track; negative: beyond the target).",
    ),
}


def quantity(value: Any, unit: Any, language: str) -> str:
    """A KPI value with its unit in the report's language: ``▲468人`` / ``−468 persons``;
    in English the unit's noun is singular when the number reads 1 ("1 person").

    Examples
    --------
    >>> quantity(-468, "人", "ja"), quantity(-468, "人", "en"), quantity(13, "団体", "en")
    ('▲468人', '−468 persons', '13 organisations')
    >>> quantity(1, "人", "en"), quantity(-1, "件/年", "en"), quantity(1.5, "人", "en")
    ('1 person', '−1 case per year', '1.5 persons')
    """
    return P.number(value, english_unit(value, unit_text(unit, language), language), language)


def english_unit(value: Any, label: str, language: str) -> str:
    """``label`` (an English unit of :data:`UNITS_EN`) in the number of ``value`` as printed:
    its noun singular when the value reads 1 or −1, else as given; Japanese unchanged.

    A scaled label ("ten thousand persons") keeps its plural: "1 ten thousand person" is no
    English either way, and the sheets print such values in the thousands.

    Examples
    --------
    >>> english_unit(1, "overnight stays", "en"), english_unit(1.0, "persons per month", "en")
    ('overnight stay', 'person per month')
    >>> english_unit(1.004, "persons", "en"), english_unit(2, "persons", "en")
    ('person', 'persons')
    >>> english_unit(1, "人", "ja"), english_unit(1, "thousand persons", "en")
    ('人', 'thousand persons')
    """
    if language != "en" or P.number(value, "", "en").lstrip("−") != "1":
        return label
    if any(label.startswith(scale + " ") for scale in _SCALE_WORDS.values()):
        return label
    words = label.split(" ")
    for i, word in enumerate(words):
        if word in _SINGULAR_EN:
            return " ".join([*words[:i], _SINGULAR_EN[word], *words[i + 1 :]])
    return label


#: The plural nouns of :data:`UNITS_EN` and their singular ("yen", "%", "t" have none).
_SINGULAR_EN: dict[str, str] = {
    "persons": "person",
    "organisations": "organisation",
    "times": "time",
    "cases": "case",
    "shops": "shop",
    "programmes": "programme",
    "households": "household",
    "stays": "stay",
}


def grant_type_text(grant_type_ja: Any, language: str, *, with_category: bool = False) -> str:
    """A grant type as the sheet writes it, or in English (:data:`GRANT_TYPES_EN`).

    ``with_category``: a type without an English name of its own is named in English by its
    national category (:data:`~kpianalysis.analysis.panel.GRANT_CATEGORIES`), the printed
    label beside it; the panel, which shows the category itself, leaves this off.

    Examples
    --------
    >>> grant_type_text("地方創生推進タイプ", "en")
    'regional revitalisation promotion type'
    >>> grant_type_text("地方創生先行型", "en", with_category=True)
    'Pioneering-type grant (FY2014): 地方創生先行型'
    >>> grant_type_text("県単独補助金", "en", with_category=True)
    '県単独補助金'
    """
    text = "" if not isinstance(grant_type_ja, str) else grant_type_ja
    if language == "ja":
        return text
    if text in GRANT_TYPES_EN or not with_category:
        return GRANT_TYPES_EN.get(text, text)
    english = GRANT_CATEGORIES.get(grant_category(text))
    return f"{english}: {text}" if english else text
