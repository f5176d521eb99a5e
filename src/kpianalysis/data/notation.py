"""Japanese administrative notation: numbers, units, flags and fiscal years as sheets print them.

Municipal effect-verification sheets (効果検証シート) write values such as ``▲468人`` (minus 468
people), ``(500人)`` (a target, by the convention that targets go in parentheses), ``累計 4団体``
(a running total), ``-`` (no value), ``19,272,695円`` or ``（9,636,346円）`` with full-width
characters. This module turns such text into numbers and back, and refuses anything it cannot
read with certainty: a wrong number that looks right is worse than an error.

Decisions (where the notation leaves room)
------------------------------------------
* Width: full-width ASCII (U+FF01–U+FF5E: ``０``–``９``, ``，``, ``．``, ``（``, ``）``, ``／``,
  ``％``, ``＋``, ``－``, ``Ｒ`` ...) is read as its half-width twin; ``Quantity.text`` keeps the
  text exactly as written. Full NFKC is *not* applied, because it would turn ``①`` into ``1``
  and ``²`` into ``2`` and so invent numbers.
* Whitespace (including U+3000 and no-break spaces) around a value is ignored. Inside a number it
  is an error. One space is allowed between the number and its unit and after ``累計``.
* Minus marks: ``▲``, ``△`` (both mean minus in municipal notation), ``−`` (U+2212), ``－``,
  ``-`` and ``‐`` (U+2010), directly before the digits, after an optional ``累計`` and opening
  parenthesis. After ``▲``/``△`` *one* ordinary or full-width space is accepted (``▲ 468人``),
  because PDF text extraction often inserts one after the triangle; after the dash-like marks no
  space is accepted, since ``- 468`` may as well be a dash (missing) next to a stray number.
* A missing value is blank, ``None`` or a lone dash (``-``, ``－``, ``―``, ``ー``, ``—``, ``‐``,
  ``−``, ``–``), optionally in parentheses or after ``累計``.
* ``千円``, ``万円`` and ``億円`` are scaled exactly (in decimal arithmetic) to ``円``.
* ``allowed_units``: when given, the unit must be in it (a unit outside :data:`KNOWN_UNITS` may
  be allowed this way); a multiplied yen unit passes if either ``円`` or the written unit (e.g.
  ``千円``) is allowed; a unit-less number passes only if ``""`` is allowed.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from kpianalysis.errors import NotationError

__all__ = [
    "KNOWN_UNITS",
    "MINUS_MARKS",
    "MISSING_MARKS",
    "YEN_MULTIPLIERS",
    "Quantity",
    "format_quantity",
    "parse_fiscal_year",
    "parse_fraction",
    "parse_number",
    "parse_quantities",
    "parse_quantity",
    "parse_votes",
]

#: Units a sheet may write after a number (after width normalisation: ``％`` is ``%``).
KNOWN_UNITS: frozenset[str] = frozenset(
    {
        # people and organisations
        "人", "名", "団体", "世帯", "社", "企業", "事業所", "組", "戸", "軒",
        # events and counts
        "回", "件", "事業", "本", "部", "冊", "台", "点", "ポイント", "品目", "種類", "講座",
        "人泊", "泊",
        # places
        "校", "箇所", "か所", "ヶ所", "カ所", "ケ所", "店舗", "施設", "棟", "園",
        # time and age
        "日", "時間", "歳", "年", "か月", "ヶ月", "カ月",
        # money and ratios
        "円", "千円", "万円", "億円", "%", "倍",
        # physical
        "ha", "km", "m", "t", "kg",
    }
)  # fmt: skip

#: Yen units that scale the value: ``1,500千円`` is 1,500,000 円.
YEN_MULTIPLIERS: dict[str, int] = {"千円": 1_000, "万円": 10_000, "億円": 100_000_000}

#: Marks read as a minus sign directly before the digits (after width normalisation).
MINUS_MARKS: frozenset[str] = frozenset({"▲", "△", "\u2212", "-", "\u2010"})
_TRIANGLES = frozenset({"▲", "△"})

#: A cell holding only one of these (after width normalisation) is a missing value.
MISSING_MARKS: frozenset[str] = frozenset(
    {"-", "\u2015", "ー", "\u2014", "\u2010", "\u2212", "\u2013"}
)

# Characters that look like a dash but are never a minus sign in a number.
_OTHER_DASHES = frozenset({"\u2015", "ー", "\u2014", "\u2013", "~", "〜"})

# Full-width ASCII block -> ASCII, U+3000 -> space; the half-width katakana long mark -> ー.
_WIDTH_TABLE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_WIDTH_TABLE[0x3000] = 0x20
_WIDTH_TABLE[0xFF70] = ord("ー")
# Era ligatures (square era names) that some fonts and PDF extractors produce.
_ERA_LIGATURES = {"\u32ff": "令和", "\u337b": "平成", "\u337c": "昭和", "\u337d": "大正"}

_NUMBER = re.compile(r"[0-9][0-9,]*(?:\.[0-9]*)?")
_NUMBER_TOKEN = re.compile(r"[0-9][0-9,.]*")
_THOUSANDS = re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3})+")
_NON_FINITE = re.compile(r"[+\-]?(?:inf|infinity|nan|∞)", re.IGNORECASE)
_CUMULATIVE = "累計"


@dataclass(frozen=True)
class Quantity:
    """One value as a sheet prints it.

    Attributes
    ----------
    value
        The number, with yen multipliers applied; ``None`` when missing (blank or a lone dash).
    unit
        The unit as written after width normalisation (``"人"``, ``"%"``, ...); multiplied yen
        units become ``"円"``; ``None`` for a unit-less number or a missing value.
    cumulative
        The text had the ``累計`` (running total) prefix.
    parenthesised
        The text was wrapped in ``( )`` or ``（ ）``; sheets put targets in parentheses.
    text
        The original text, untouched (``""`` for ``None``).

    Examples
    --------
    >>> parse_quantity("(累計 6団体)")
    Quantity(value=6.0, unit='団体', cumulative=True, parenthesised=True, text='(累計 6団体)')
    >>> parse_quantity("-").is_missing
    True
    """

    value: float | None
    unit: str | None
    cumulative: bool
    parenthesised: bool
    text: str

    @property
    def is_missing(self) -> bool:
        """Whether the cell held no value (blank or a lone dash)."""
        return self.value is None


def _half_width(text: str) -> str:
    """Read full-width ASCII, U+3000 and era ligatures as their plain forms."""
    text = text.translate(_WIDTH_TABLE)
    for ligature, era in _ERA_LIGATURES.items():
        text = text.replace(ligature, era)
    return text


def _looks_like_formula(s: str) -> bool:
    # Spreadsheets (and CSV injection) treat a cell starting with = + - @ as a formula; a lone
    # leading sign followed only by a number is ordinary notation.
    if s[:1] in {"=", "@"}:
        return True
    return (
        s[:1] in {"+", "-"}
        and any(ch in "+-*/^=()" for ch in s[1:])
        and re.search(r"[0-9A-Za-z]", s) is not None
    )


def _check_single_number(text: str, s: str) -> None:
    """Refuse a cell holding two numbers, naming the likely cause."""
    tokens = list(_NUMBER_TOKEN.finditer(s))
    if len(tokens) < 2:
        return
    between = s[tokens[0].end() : tokens[1].start()]
    if between.strip() == "":
        _fail(text, "space inside the number (or two numbers in one cell)")
    if re.fullmatch(r"\s?/\s?", between) or between == "分の":
        _fail(text, "two numbers in one cell (a fraction? use parse_fraction)")
    if re.fullmatch(r"[eE][+\-]?", between):
        _fail(text, "scientific notation (e.g. 1e5) is not administrative notation")
    _fail(text, "two numbers in one cell")


def _describe_leading(text: str, lead: str) -> str:
    """Reason for text that stands where the digits should start."""
    stripped = lead.strip()
    if any(mark in stripped for mark in MINUS_MARKS):
        return "minus mark not directly before the digits"
    if stripped[:1] in _OTHER_DASHES:
        return f"{stripped[0]!r} is not a minus sign (use ▲, △ or -)"
    if stripped.startswith(("(", ")")):
        return "parentheses must enclose the whole cell, e.g. '(累計 6団体)'"
    for unit in sorted(KNOWN_UNITS, key=len, reverse=True):
        if stripped.startswith(unit):
            return f"unit {unit!r} before the number"
    return f"unexpected text {stripped!r} before the number"


def _split_unit(text: str, rest: str) -> str:
    """Validate what follows the number and return the unit ('' when none)."""
    if rest == "":
        return ""
    if _has_digit(rest):
        return _fail(text, "two numbers in one cell")
    if any(mark in rest for mark in MINUS_MARKS):
        return _fail(text, "minus mark not directly before the digits")
    if rest[0] == " ":
        rest = rest[1:]
    if rest == "" or rest != rest.strip():
        return _fail(text, "unexpected space after the number")
    if rest in {"(", ")"} or rest.startswith(("(", ")")):
        return _fail(text, "parentheses must enclose the whole cell, e.g. '(500人)'")
    return rest


def _has_digit(s: str) -> bool:
    # ASCII only: str.isdigit() is also true for ① and ², which are not numbers here.
    return re.search(r"[0-9]", s) is not None


def _first_digit(s: str) -> int:
    match = re.search(r"[0-9]", s)
    return match.start() if match else len(s)


def _fail(text: object, reason: str) -> str:
    raise NotationError(text, reason)


def _parse_decimal(text: str, digits: str) -> Decimal:
    """Check thousands separators and decimal point; return the exact decimal."""
    int_part, _, frac_part = digits.partition(".")
    if "," in int_part and not _THOUSANDS.fullmatch(int_part):
        _fail(text, "malformed thousands separators (expected groups of three, e.g. 1,019)")
    if "." in digits and frac_part == "":
        _fail(text, "decimal point without digits after it")
    if "," in frac_part:
        _fail(text, "comma after the decimal point")
    return Decimal(digits.replace(",", ""))


def parse_quantity(text: str | None, *, allowed_units: Collection[str] | None = None) -> Quantity:
    """Parse one cell of Japanese administrative notation.

    Parameters
    ----------
    text
        The cell as written, e.g. ``"▲468人"``, ``"(1,500人)"``, ``"累計 4団体"``, ``"-"``.
    allowed_units
        When given, the only units accepted (``""`` admits a unit-less number); see the module
        docstring for multiplied yen.

    Returns
    -------
    Quantity
        ``value`` is ``None`` for a blank cell or a lone dash.

    Raises
    ------
    NotationError
        For anything that is not one clean value: two numbers, a misplaced minus mark, an unknown
        unit, a formula, malformed thousands separators, ``inf``/``nan``.

    Examples
    --------
    >>> parse_quantity("▲468人").value
    -468.0
    >>> q = parse_quantity("（9,636,346円）")
    >>> q.value, q.unit, q.parenthesised
    (9636346.0, '円', True)
    >>> parse_quantity("1,500千円").value
    1500000.0
    """
    if text is None:
        return Quantity(None, None, False, False, "")
    if not isinstance(text, str):
        raise NotationError(text, f"expected text, got {type(text).__name__}")
    s = _half_width(text).strip()
    if s == "":
        return Quantity(None, None, False, False, text)
    if _looks_like_formula(s):
        _fail(text, "looks like a spreadsheet formula")

    _check_single_number(text, s)
    if len(s) > 1 and all(ch in MISSING_MARKS or ch in _OTHER_DASHES for ch in s):
        _fail(text, "several dashes; a missing value is a single dash")

    parenthesised = False
    if s[0] == "(" or s[-1] == ")":
        if not (len(s) >= 2 and s[0] == "(" and s[-1] == ")"):
            _fail(text, "unbalanced parentheses (they must enclose the whole cell, e.g. '(500人)')")
        s = s[1:-1].strip()
        parenthesised = True
        if "(" in s or ")" in s:
            _fail(text, "nested or unbalanced parentheses")
        if s == "":
            _fail(text, "empty parentheses")

    cumulative = False
    if s.startswith(_CUMULATIVE):
        cumulative = True
        s = s[len(_CUMULATIVE) :]
        if s.startswith(" "):
            s = s[1:]
        if s == "":
            _fail(text, "累計 without a number")
        if s[0].isspace():
            _fail(text, "more than one space after 累計")

    if s in MISSING_MARKS:
        return Quantity(None, None, cumulative, parenthesised, text)

    if _NON_FINITE.fullmatch(s):
        _fail(text, "not a finite number (inf/nan are not values)")

    negative = False
    if s[0] in MINUS_MARKS or s[0] == "+":
        mark = s[0]
        negative = mark != "+"
        s = s[1:]
        if mark in _TRIANGLES and s[:1] == " ":
            s = s[1:]  # one space after ▲/△ (see module docstring)
        if not _has_digit(s[:1]):
            if s[:1] in MINUS_MARKS or s[:1] == "+":
                _fail(text, "two signs before the number")
            if not _has_digit(s):
                _fail(text, "a sign without a number")
            _fail(text, "minus mark not directly before the digits")

    match = _NUMBER.match(s)
    if match is None:
        if not _has_digit(s):
            if _NON_FINITE.search(s):
                _fail(text, "not a finite number (inf/nan are not values)")
            _fail(text, "no number in the cell (write '-' for a missing value)")
        if s[:1] == ".":
            _fail(text, "number starts with a decimal point (write 0.5, not .5)")
        first_digit = _first_digit(s)
        _fail(text, _describe_leading(text, s[:first_digit]))
    assert match is not None  # for type checkers: _fail never returns
    digits = match.group(0)
    rest = s[match.end() :]
    if rest[:1] == "." or (rest[:1] == "," and _has_digit(rest[1:2])):
        _fail(text, "malformed number")
    amount = _parse_decimal(text, digits)
    unit = _split_unit(text, rest)

    if unit and unit not in KNOWN_UNITS and (allowed_units is None or unit not in allowed_units):
        _fail(text, f"unknown unit {unit!r}")
    canonical = "円" if unit in YEN_MULTIPLIERS else unit
    if allowed_units is not None and canonical not in allowed_units and unit not in allowed_units:
        shown = ", ".join(repr(u) for u in sorted(allowed_units))
        what = f"unit {unit!r}" if unit else "a number without a unit"
        _fail(text, f"{what} not allowed here (allowed: {shown})")
    if unit in YEN_MULTIPLIERS:
        amount *= YEN_MULTIPLIERS[unit]

    value = float(-amount if negative else amount)
    if not math.isfinite(value):
        _fail(text, "magnitude too large for a floating-point number")
    # -0.0 would print as "-0" in reports; ▲0 means zero.
    value += 0.0
    return Quantity(value, canonical or None, cumulative, parenthesised, text)


def parse_quantities(
    texts: Iterable[str | None], *, allowed_units: Collection[str] | None = None
) -> list[Quantity]:
    """Parse many cells; the first bad one raises.

    Examples
    --------
    >>> [q.value for q in parse_quantities(["▲468人", "-", "83人"])]
    [-468.0, None, 83.0]
    """
    return [parse_quantity(t, allowed_units=allowed_units) for t in texts]


def parse_number(text: str, *, allowed_units: Collection[str] | None = None) -> float:
    """Parse a value that must be present; units and flags are checked then dropped.

    Raises
    ------
    NotationError
        When the text is blank ("empty"), a lone dash ("missing value"), or unparseable.

    Examples
    --------
    >>> parse_number("1,019人")
    1019.0
    """
    q = parse_quantity(text, allowed_units=allowed_units)
    if q.value is None:
        stripped = "" if text is None else _half_width(text).strip()
        reason = "empty" if stripped == "" else "missing value (a dash) where a number is required"
        raise NotationError(text, reason)
    return q.value


# --- fractions and votes ---------------------------------------------------------------------

_PLAIN_NUMBER = r"[0-9][0-9,]*(?:\.[0-9]+)?"
_SLASH_FRACTION = re.compile(rf"({_PLAIN_NUMBER})\s?/\s?({_PLAIN_NUMBER})")
_KANJI_FRACTION = re.compile(rf"({_PLAIN_NUMBER})分の({_PLAIN_NUMBER})")


def parse_fraction(text: str) -> float:
    """Parse a fraction such as a grant rate: ``1/2``, ``１／２`` or ``2分の1``.

    Raises
    ------
    NotationError
        For a zero denominator, signs, three parts or anything else.

    Examples
    --------
    >>> parse_fraction("1/2"), parse_fraction("2分の1"), parse_fraction("３／４")
    (0.5, 0.5, 0.75)
    """
    if not isinstance(text, str):
        raise NotationError(text, f"expected text, got {type(text).__name__}")
    s = _half_width(text).strip()
    if s == "":
        raise NotationError(text, "empty")
    if match := _SLASH_FRACTION.fullmatch(s):
        numerator, denominator = match.group(1), match.group(2)
    elif match := _KANJI_FRACTION.fullmatch(s):
        # 「2分の1」 reads "one out of two": denominator first.
        denominator, numerator = match.group(1), match.group(2)
    else:
        if s.count("/") > 1:
            raise NotationError(text, "more than one slash")
        if s[:1] in MINUS_MARKS or "/-" in s or "/▲" in s:
            raise NotationError(text, "negative fraction")
        raise NotationError(text, "not a fraction like 1/2 or 2分の1")
    num = _parse_decimal(text, numerator)
    den = _parse_decimal(text, denominator)
    if den == 0:
        raise NotationError(text, "denominator is zero")
    return float(num / den)


_VOTES = re.compile(r"(?:[^0-9:]*:\s?)?([0-9]+)\s?[名人]\s?/\s?([0-9]+)\s?[名人]中?")


def _unwrapped(text: str) -> str:
    """Half-width, stripped text with one pair of enclosing parentheses removed (sheets write
    labels such as ``(R5)`` and ``（評価委員：７名/７名中）``)."""
    s = _half_width(text).strip()
    if s == "":
        raise NotationError(text, "empty")
    if s[0] == "(" or s[-1] == ")":
        if not (s[0] == "(" and s[-1] == ")"):
            raise NotationError(text, "unbalanced parentheses")
        s = s[1:-1].strip()
    return s


def parse_votes(text: str) -> tuple[int, int]:
    """Parse a panel vote count such as ``（評価委員：７名/７名中）``.

    Returns
    -------
    tuple of int
        ``(votes, total)``.

    Raises
    ------
    NotationError
        When votes exceed the total, the total is zero, or the text is not a vote count.

    Examples
    --------
    >>> parse_votes("（評価委員：７名/７名中）")
    (7, 7)
    >>> parse_votes("０名/７名中")
    (0, 7)
    """
    if not isinstance(text, str):
        raise NotationError(text, f"expected text, got {type(text).__name__}")
    s = _unwrapped(text)
    match = _VOTES.fullmatch(s)
    if match is None:
        raise NotationError(text, "not a vote count like '7名/7名中'")
    votes, total = int(match.group(1)), int(match.group(2))
    if total == 0:
        raise NotationError(text, "total number of voters is zero")
    if votes > total:
        raise NotationError(text, f"{votes} votes out of only {total} voters")
    return votes, total


# --- fiscal years --------------------------------------------------------------------------

# Gregorian year of era year n is offset + n. 令和 began 2019-05-01 (元号を改める政令, 平成31年
# 政令第143号), 平成 1989-01-08, 昭和 1926-12-25. Era year 1 is written 元年.
_ERAS: dict[str, tuple[str, int, int | None]] = {
    # name: (romanised initial, offset, last era year or None while current)
    "令和": ("R", 2018, None),
    "平成": ("H", 1988, 31),
    "昭和": ("S", 1925, 64),
}
_ERA_BY_INITIAL = {initial: name for name, (initial, _, _) in _ERAS.items()}
_MIN_YEAR, _MAX_YEAR = 1900, 2200
_GREGORIAN = re.compile(r"(?:FY\s?)?([0-9]{4})(?:年度|年)?", re.IGNORECASE)
_ERA_YEAR = re.compile(r"(令和|平成|昭和|[RHS])\s?(元|[0-9]{1,3})(?:年度|年)?", re.IGNORECASE)


def _check_range(text: object, year: int) -> int:
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise NotationError(text, f"year {year} outside {_MIN_YEAR}–{_MAX_YEAR}")
    return year


def parse_fiscal_year(text: str | int) -> int:
    """Parse a Japanese fiscal year (年度 N runs April N – March N+1) to its Gregorian number.

    Accepts ``2023``, ``"2023"``, ``"2023年度"``, ``"2023年"``, ``"FY2023"``, ``"令和5年度"``,
    ``"令和元年度"``, ``"R5"``, ``"(R5)"``, ``"（Ｒ５）"``, ``"H31"``, ``"平成30年度"``,
    ``"S64"``, with full-width characters and surrounding spaces.

    Raises
    ------
    NotationError
        For year 0 of an era, 平成32 or later (平成 ended in its 31st year), 昭和65 or later,
        floats, booleans, years outside 1900–2200, empty text and anything else.

    Examples
    --------
    >>> parse_fiscal_year("令和元年度"), parse_fiscal_year("H31"), parse_fiscal_year("（Ｒ５）")
    (2019, 2019, 2023)
    """
    if isinstance(text, bool):
        raise NotationError(text, "a boolean is not a fiscal year")
    if not isinstance(text, str):
        try:
            year = operator.index(text)
        except TypeError:
            raise NotationError(
                text, f"expected an integer or text, got {type(text).__name__}"
            ) from None
        return _check_range(text, year)
    s = _unwrapped(text)
    if match := _GREGORIAN.fullmatch(s):
        return _check_range(text, int(match.group(1)))
    if match := _ERA_YEAR.fullmatch(s):
        era = match.group(1)
        era = _ERA_BY_INITIAL.get(era.upper(), era)
        _, offset, last = _ERAS[era]
        n = 1 if match.group(2) == "元" else int(match.group(2))
        if n == 0:
            raise NotationError(text, f"{era} has no year 0 (its first year is 元年 = 1)")
        if last is not None and n > last:
            raise NotationError(
                text,
                f"{era} ended in its year {last} ({offset + last}); "
                f"{era}{n} does not exist (did you mean the next era?)",
            )
        return _check_range(text, offset + n)
    if re.fullmatch(r"[0-9]+\.[0-9]*", s):
        raise NotationError(text, "a decimal number is not a fiscal year")
    if re.fullmatch(r"-?[0-9]+", s):
        raise NotationError(text, "a fiscal year needs four digits (e.g. 2023) or an era")
    raise NotationError(text, "not a fiscal year (expected e.g. 2023, 2023年度, 令和5年度, R5)")


# --- formatting ----------------------------------------------------------------------------

_FULL_WIDTH_OUT = str.maketrans("0123456789,.()%+- ", "０１２３４５６７８９，．（）％＋－\u3000")


def _plain_digits(amount: Decimal, thousands: bool) -> str:
    """Fixed-point digits of a non-negative decimal, without exponent or trailing '.0'."""
    digits = format(amount.normalize(), "f") if amount != 0 else "0"
    int_part, dot, frac_part = digits.partition(".")
    if thousands:
        int_part = f"{int(int_part):,}"
    return int_part + dot + frac_part


def format_quantity(
    value: float | None,
    unit: str = "",
    *,
    cumulative: bool = False,
    parenthesised: bool = False,
    negative_mark: str = "▲",
    full_width: bool = False,
    thousands: bool = True,
) -> str:
    """Write a value in sheet notation; the inverse of :func:`parse_quantity`.

    The shortest decimal that reads back as the same float is written (no exponent). For
    ``千円``/``万円``/``億円`` the value is in yen and is divided exactly for display, so
    ``parse_quantity(format_quantity(x, "千円")).value == x``.

    Parameters
    ----------
    value
        The number; ``None`` writes the missing mark ``-`` (``－`` when full width).
    unit
        ``""`` or one of :data:`KNOWN_UNITS`.
    cumulative, parenthesised
        Add the ``累計`` prefix / wrap in parentheses.
    negative_mark
        One of :data:`MINUS_MARKS` (``▲`` by default).
    full_width
        Write digits, punctuation, ``%`` and the space after ``累計`` in full width.
    thousands
        Group the integer part with commas.

    Raises
    ------
    NotationError
        For a non-finite value, an unknown unit or an unknown minus mark.

    Examples
    --------
    >>> format_quantity(-468, "人")
    '▲468人'
    >>> format_quantity(6, "団体", cumulative=True, parenthesised=True)
    '(累計 6団体)'
    >>> format_quantity(9636346, "円", parenthesised=True, full_width=True)
    '（９，６３６，３４６円）'
    >>> format_quantity(1_500_000, "千円")
    '1,500千円'
    """
    if unit and unit not in KNOWN_UNITS:
        raise NotationError(unit, f"unknown unit {unit!r}")
    if negative_mark not in MINUS_MARKS:
        raise NotationError(negative_mark, "not a minus mark (use one of ▲ △ − - ‐)")
    if value is None:
        body = "-"
        unit = ""
    else:
        if isinstance(value, bool) or not isinstance(value, int | float):
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise NotationError(value, "not a number") from None
        if not math.isfinite(value):
            raise NotationError(value, "not a finite number")
        try:
            # repr gives the shortest decimal that reads back as the same float.
            amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation:
            raise NotationError(value, "not a number") from None
        if unit in YEN_MULTIPLIERS:
            amount = amount / YEN_MULTIPLIERS[unit]
        sign = negative_mark if amount < 0 else ""
        body = sign + _plain_digits(abs(amount), thousands)
    text = body + unit
    if cumulative:
        text = f"{_CUMULATIVE} {text}"
    if parenthesised:
        text = f"({text})"
    if full_width:
        text = text.translate(_FULL_WIDTH_OUT)
    return text
