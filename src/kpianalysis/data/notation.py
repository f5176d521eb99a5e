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
* Units are labels: any text after the number is its unit (``人``, ``人/月``, ``番組``,
  ``店舗``, ``件/年``, ``%``), provided it is a plausible label (no digit, no space inside, no
  parenthesis, at most :data:`MAX_UNIT_LENGTH` characters). Whether two cells of one indicator
  agree is the caller's check (:mod:`kpianalysis.data.dataset` requires one unit per indicator).
  :data:`KNOWN_UNITS` lists common ones, for documentation and suggestions only.
* Only known scale prefixes convert: a prefix of :data:`SCALE_PREFIXES` (千, 万, 十万, 百万, 千万,
  億) before a base unit of :data:`SCALABLE_UNITS` (``千円``, ``百万円``, ``億円``, ``千人``,
  ``万人``, ``千件`` ...) is scaled exactly (in decimal arithmetic) to the base unit;
  ``Quantity.scale`` says by how much and ``Quantity.text`` keeps the text as written. Any other
  unit is kept as written (``万歩`` stays ``万歩``).
* Mistyped numbers: a Latin ``O``/``o`` touching the digits (``1,5OO人``, ``15OO人``) or an
  ``l``/``I`` between or before digits (``1l0人``, ``l00人``) is refused with a message that
  says so and suggests the digits meant (a trailing ``l`` is a unit label: ``500l``).
* ``allowed_units``: when given, the unit must be in it; a scaled unit passes if either its base
  unit (``円``) or the written unit (``千円``) is allowed; a unit-less number passes only if
  ``""`` is allowed.

Fiscal years and dates
----------------------
The Japanese fiscal year N (年度) runs from April N to March N+1. :func:`parse_fiscal_year`
reads year labels (``2023年度``, ``令和5年度``, ``R5``, ``H31``) *and* target-month or date
labels (``H28.3``, ``平成28年3月末``, ``2016年3月末``, ``R6.3``, ``令和6年3月``): a month of
January–March belongs to the previous fiscal year, April–December to its own year. So
``H28.3`` (March 2016) is FY2015, while a bare ``H28`` is FY2016 — the classic trap: a sheet
whose column reads ``H28.3`` reports the end of FY2015 (平成27年度), not FY2016.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

from kpianalysis.errors import NotationError

__all__ = [
    "BEFORE_PLAN_PHRASES",
    "BOUND_WORDS",
    "CONTINUED_ERAS",
    "KNOWN_UNITS",
    "MAX_UNIT_LENGTH",
    "MEASURE_UNITS",
    "MINUS_MARKS",
    "MISSING_MARKS",
    "SCALABLE_UNITS",
    "SCALE_PREFIXES",
    "YEN_MULTIPLIERS",
    "Period",
    "Quantity",
    "Target",
    "fiscal_year_of_month",
    "format_quantity",
    "normalise_unit",
    "parse_date_label",
    "parse_fiscal_year",
    "parse_fraction",
    "parse_number",
    "parse_quantities",
    "parse_quantity",
    "parse_target",
    "parse_votes",
    "read_period",
    "split_scale",
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

#: Scale prefixes that multiply a base unit of :data:`SCALABLE_UNITS`: ``1,500千円`` is
#: 1,500,000 円, ``12千人`` 12,000 人. Longest prefixes are tried first (``百万`` before ``万``).
SCALE_PREFIXES: dict[str, int] = {
    "千": 1_000,
    "万": 10_000,
    "十万": 100_000,
    "百万": 1_000_000,
    "千万": 10_000_000,
    "億": 100_000_000,
}
#: Base units a scale prefix may multiply. Other units are labels kept as written: ``万歩`` is
#: not 10,000 ``歩`` by this rule, only a label (it is not in this list).
SCALABLE_UNITS: frozenset[str] = frozenset(
    {"円", "人", "人泊", "件", "世帯", "台", "回", "部", "冊", "本", "個", "枚", "食", "t", "トン"}
)
#: Yen units that scale the value (a subset of what :func:`split_scale` reads).
YEN_MULTIPLIERS: dict[str, int] = {
    "千円": 1_000,
    "万円": 10_000,
    "百万円": 1_000_000,
    "億円": 100_000_000,
}
#: Longest unit label accepted; longer text after a number is a note, not a unit.
MAX_UNIT_LENGTH = 12

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
        The number, with scale prefixes applied; ``None`` when missing (blank or a lone dash).
    unit
        The unit label as written after width normalisation (``"人"``, ``"人/月"``, ``"%"``);
        scaled units become their base unit (``"千円"`` → ``"円"``, ``"千人"`` → ``"人"``);
        ``None`` for a unit-less number or a missing value.
    cumulative
        The text had the ``累計`` (running total) prefix.
    parenthesised
        The text was wrapped in ``( )`` or ``（ ）``; sheets put targets in parentheses.
    text
        The original text, untouched (``""`` for ``None``).
    scale
        What a scale prefix multiplied the written number by (1 without one).

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
    #: Factor the written number was multiplied by (1000 for ``千円``, ``千人``); 1 otherwise.
    scale: int = field(default=1, repr=False)

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
    # A slash is an operator before ASCII (-A1/B1, -1/2) but part of a unit label before kanji
    # (-1人/月, ▲-free notation for a negative flow per month).
    return (
        s[:1] in {"+", "-"}
        and (any(ch in "+-*^=()" for ch in s[1:]) or re.search(r"/\s*[0-9A-Za-z(]", s))
        and re.search(r"[0-9A-Za-z]", s) is not None
    )


def _check_single_number(text: str, s: str) -> None:
    """Refuse a cell holding two numbers, naming the likely cause."""
    tokens = list(_NUMBER_TOKEN.finditer(s))
    if len(tokens) < 2:
        return
    if "まで" in s:
        _fail(text, "a deadline phrase (…年度まで…): only a target cell may hold one")
    if s[tokens[0].end() : tokens[1].start()].strip() == "・":
        _fail(
            text,
            "a compound cell (values joined by ・, one per measure of the KPI): give the KPI's "
            "number of measures in the measures column of indicators.csv",
        )
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
    if (reason := _unit_problem(rest)) is not None:
        return _fail(text, reason)
    return rest


def split_scale(unit: str) -> tuple[str, int]:
    """The base unit and factor of a unit label: ``"千円"`` → ``("円", 1000)``.

    Only a prefix of :data:`SCALE_PREFIXES` before a unit of :data:`SCALABLE_UNITS` scales;
    every other label is its own base with factor 1.

    Examples
    --------
    >>> split_scale("百万円"), split_scale("千人"), split_scale("人/月"), split_scale("万歩")
    (('円', 1000000), ('人', 1000), ('人/月', 1), ('万歩', 1))
    """
    for prefix in sorted(SCALE_PREFIXES, key=len, reverse=True):
        base = unit[len(prefix) :]
        if unit.startswith(prefix) and base in SCALABLE_UNITS:
            return base, SCALE_PREFIXES[prefix]
    return unit, 1


_UNIT_FORBIDDEN = re.compile(r"[\s()\[\]{}\"'`=@;,\\]|[\x00-\x1f\x7f]")


def _unit_problem(unit: str) -> str | None:
    """Why ``unit`` (half-width, stripped) is not a plausible unit label; ``None`` if it is."""
    if _has_digit(unit):
        return "a unit label cannot contain digits"
    if _CUMULATIVE in unit:
        return "累計 goes before the number (e.g. '累計 4団体'), not after it"
    if any(mark in unit for mark in MINUS_MARKS | _TRIANGLES):
        return "minus mark not directly before the digits"
    if bad := _UNIT_FORBIDDEN.search(unit):
        what = "a space" if bad.group(0).isspace() else repr(bad.group(0))
        return f"{what} inside the unit {unit!r}"
    if len(unit) > MAX_UNIT_LENGTH:
        return (
            f"{len(unit)} characters after the number: too long for a unit label "
            f"(at most {MAX_UNIT_LENGTH}); a note belongs in a note column"
        )
    return None


def normalise_unit(text: str) -> str:
    """A unit label as written in a table's ``unit`` column, checked and width-normalised.

    Raises
    ------
    NotationError
        For a blank label or one that cannot be a unit (digits, spaces, parentheses, too long).

    Examples
    --------
    >>> normalise_unit(" 人／月 "), normalise_unit("％"), normalise_unit("番組")
    ('人/月', '%', '番組')
    """
    if not isinstance(text, str):
        raise NotationError(text, f"expected text, got {type(text).__name__}")
    unit = _half_width(text).strip()
    if unit == "":
        raise NotationError(text, "empty")
    if (reason := _unit_problem(unit)) is not None:
        raise NotationError(text, reason)
    return unit


_LOOKALIKE_TOKEN = re.compile(r"(?<![A-Za-z])[0-9OoIl][0-9OoIl,.]*")
_LOOKALIKE_DIGIT = str.maketrans("OoIl", "0011")


def _check_mistyped_number(text: str, s: str) -> None:
    """Refuse Latin letters typed for digits: ``1,5OO人``, ``15OO人``, ``1l0人``, ``l00人``.

    A token of digits and look-alike letters (O, o, I, l) with at least one of each is a mistyped
    number, except for trailing ``l``/``I`` at the end of the cell or before ASCII letters
    (``500l``, ``5lx`` may be unit labels; ``34l人`` is not).
    """
    for match in _LOOKALIKE_TOKEN.finditer(s):
        token = match.group(0)
        after = s[match.end() : match.end() + 1]
        if token[-1] in "Il" and (after == "" or (after.isascii() and after.isalpha())):
            token = token.rstrip("Il,.")
        if not _has_digit(token) or not re.search(r"[OoIl]", token):
            continue
        letters = "".join(sorted(set(re.findall(r"[OoIl]", token)), key=token.index))
        shown = " or ".join(repr(ch) for ch in letters)
        _fail(
            text,
            f"looks like a mistyped number: Latin letter {shown} among the digits "
            f"{match.group(0)!r} (did you mean {token.translate(_LOOKALIKE_DIGIT)!r}?)",
        )


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
        For anything that is not one clean value: two numbers, a misplaced minus mark, text that
        cannot be a unit label, a mistyped number (``1,5OO人``), a formula, malformed thousands
        separators, ``inf``/``nan``.

    Examples
    --------
    >>> parse_quantity("▲468人").value
    -468.0
    >>> q = parse_quantity("（9,636,346円）")
    >>> q.value, q.unit, q.parenthesised
    (9636346.0, '円', True)
    >>> parse_quantity("1,500千円").value
    1500000.0
    >>> q = parse_quantity("12千人"); q.value, q.unit, q.scale, q.text
    (12000.0, '人', 1000, '12千人')
    >>> parse_quantity("3番組").unit, parse_quantity("(120人/月)").unit
    ('番組', '人/月')
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

    _check_mistyped_number(text, s)
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

    canonical, scale = split_scale(unit)
    if allowed_units is not None and canonical not in allowed_units and unit not in allowed_units:
        shown = ", ".join(repr(u) for u in sorted(allowed_units))
        what = f"unit {unit!r}" if unit else "a number without a unit"
        _fail(text, f"{what} not allowed here (allowed: {shown})")
    amount *= scale

    value = float(-amount if negative else amount)
    if not math.isfinite(value):
        _fail(text, "magnitude too large for a floating-point number")
    # -0.0 would print as "-0" in reports; ▲0 means zero.
    value += 0.0
    return Quantity(value, canonical or None, cumulative, parenthesised, text, scale)


#: Units of measure (not counts): a value in them may be fractional even for a running total
#: or a stock (12.5 ha of farmland restored, 3.2 km of road): the kind says how a value
#: accumulates, the unit whether it is counted in whole things.
MEASURE_UNITS: frozenset[str] = frozenset(
    {"ha", "a", "km", "m", "㎞", "㎡", "m2", "km2", "t", "トン", "kg", "L", "kL", "kWh", "MWh"}
)

#: Bound phrases a sheet prints after a target value, longest first (a suffix test), and what
#: each makes of the target: a ceiling is met at or below the value, a floor at or above; a
#: strict ceiling (未満, "less than") only below it, a strict floor (超, "more than") only above.
#: ``…を維持`` (keep it so) states the same bound for the year it is printed in.
_BOUNDS: tuple[tuple[str, str], ...] = (
    ("以上を維持", "floor"),
    ("以下を維持", "ceiling"),
    ("以内を維持", "ceiling"),
    ("未満を維持", "strict_ceiling"),
    ("を上回る", "strict_floor"),
    ("を下回る", "strict_ceiling"),
    ("を超える", "strict_floor"),
    ("以下", "ceiling"),
    ("以内", "ceiling"),
    ("以上", "floor"),
    ("未満", "strict_ceiling"),
    ("超", "strict_floor"),
)
#: Words that follow a target on some sheets but do not say which side of it is met, or state
#: a change rather than a level: refused, saying why, instead of being read as a unit.
_UNREAD_BOUNDS: tuple[tuple[str, str], ...] = (
    ("程度", "'about' (程度) names no side on which the target is met"),
    ("前後", "'around' (前後) names no side on which the target is met"),
    ("を目指す", "'aim for' (を目指す): write the value alone as the target"),
    ("上回る", "without を, 上回る states by how much a value is exceeded, not a level"),
    ("下回る", "without を, 下回る states by how much a value is undercut, not a level"),
    ("超える", "without を, 超える is read here only as '…を超える' (more than)"),
    ("増加", "an increase (増加) is a change, not a level: declare target_form increment"),
    ("減少", "a decrease (減少) is a change, not a level: write the level to be reached"),
    ("維持", "'keep' (維持) needs a bound before it (以上を維持, 以下を維持) or a value alone"),
)
#: How a bound reads in a message (and its side): ceiling-like bounds need less-is-better.
BOUND_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "ceiling": "以下/以内 (at most)",
        "floor": "以上 (at least)",
        "strict_ceiling": "未満/を下回る (less than)",
        "strict_floor": "超/を超える/を上回る (more than)",
    }
)
_DEADLINE = re.compile(r"(.+?)(?:までに|まで)(.+)")
#: A value followed by its target month in parentheses, as 指標値（目標年月） columns print it:
#: ``20人 (H29.3)``. Read as a deadline only when the parenthesis reads as a period label.
_DUE_LABEL = re.compile(r"(.+?)\s*\(([^()]+)\)")


@dataclass(frozen=True)
class Target:
    """A target cell as plans state it: a value, and optionally a bound or a deadline.

    Attributes
    ----------
    quantity
        The value (:class:`Quantity`; ``text`` is the whole cell as written).
    bound
        ``"ceiling"`` for ``以下``/``以内`` (met when the actual is at most the value),
        ``"floor"`` for ``以上`` (at least), ``"strict_ceiling"`` for ``未満``/``を下回る``
        (met only below it), ``"strict_floor"`` for ``超``/``を超える``/``を上回る`` (only above
        it), ``""`` for a plain target.
    deadline
        The fiscal-year label of a deadline phrase as printed (``平成31年度`` in
        ``平成31年度まで10人``), ``""`` without one.
    """

    quantity: Quantity
    bound: str = ""
    deadline: str = ""


def parse_target(text: str | None) -> Target:
    """Parse a target cell: a value (:func:`parse_quantity`), a bound or a deadline phrase.

    ``1.50 以下`` is a ceiling of 1.50, ``100 以上`` a floor of 100, ``100 未満`` a strict ceiling
    (met only below 100), ``5 超`` a strict floor (a space before the word, as PDF text gives
    it, is allowed; :data:`BOUND_WORDS` lists every phrase read). Phrases that name no side
    (``程度``, ``前後``) or a change (``増加``) are refused, saying so. ``平成31年度まで10人`` (or
    ``までに``) is a target of 10人 due in the fiscal year named, which :func:`read_period`
    reads.

    Examples
    --------
    >>> t = parse_target("1.50 以下"); t.quantity.value, t.bound
    (1.5, 'ceiling')
    >>> parse_target("100 未満").bound
    'strict_ceiling'
    >>> t = parse_target("平成31年度まで10人"); t.quantity.value, t.quantity.unit, t.deadline
    (10.0, '人', '平成31年度')
    >>> parse_target("(500人)").quantity.parenthesised
    True
    >>> t = parse_target("20人 (H29.3)"); t.quantity.value, t.deadline
    (20.0, 'H29.3')
    """
    if text is None or not isinstance(text, str):
        return Target(parse_quantity(text))
    s = _half_width(text).strip()
    parenthesised = len(s) >= 2 and s[0] == "(" and s[-1] == ")" and s.count("(") == 1
    core = s[1:-1].strip() if parenthesised else s
    deadline = ""
    if match := _DEADLINE.fullmatch(core):
        deadline, core = match.group(1).strip(), match.group(2).strip()
        if not deadline or not _has_digit(core):
            _fail(text, "a deadline phrase reads like '平成31年度まで10人' (a year, まで, a value)")
    elif (match := _DUE_LABEL.fullmatch(core)) and _is_period_label(match.group(2)):
        deadline, core = match.group(2).strip(), match.group(1).strip()
    bound = ""
    for word, kind in _BOUNDS:
        if core.endswith(word):
            bound, core = kind, core[: -len(word)].rstrip()
            break
    else:
        for word, why in _UNREAD_BOUNDS:
            if core.endswith(word):
                _fail(text, f"{why}; bounds read are {', '.join(w for w, _ in _BOUNDS)}")
    if (bound or deadline) and (not core or core in MISSING_MARKS):
        _fail(text, "a bound or deadline without a value")
    wrapped = f"({core})" if parenthesised else core
    q = parse_quantity(wrapped)
    return Target(replace(q, text=text), bound, deadline)


def _is_period_label(text: str) -> bool:
    """Whether ``text`` reads as a fiscal-year or target-month label, with or without an era
    (an era-less one is resolved later, in the programme's era)."""
    for era in (None, "令和"):
        try:
            read_period(text, era=era)
        except NotationError:
            continue
        return True
    return False


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
_NEXT_ERA = {"昭和": "平成", "平成": "令和"}
#: Eras that plans kept counting in after they ended, and the last year read so. The end of 平成
#: was fixed in advance (2017) and the era name of its successor announced only on 2019-04-01,
#: so plans written before May 2019 label later years 平成32年度 (FY2020), 平成33年度 (FY2021)
#: ...; a plan written in FY2018 for ten years ends in 平成40年度 (FY2028). 昭和 ended on
#: 7 January 1989 without notice: 昭和64年度 never existed and is refused.
CONTINUED_ERAS: dict[str, int] = {"平成": 40}
_MIN_YEAR, _MAX_YEAR = 1900, 2200
_GREGORIAN = re.compile(r"(?:FY)?([0-9]{4})(?:年度|年)?", re.IGNORECASE)
_ERA_YEAR = re.compile(r"(令和|平成|昭和|[RHS])(元|[0-9]{1,3})(?:年度|年)?", re.IGNORECASE)
# Era-less labels, as sheets print them inside a table headed by an era label: 29年3月, 28年度.
_ERALESS_YEAR = re.compile(r"(元|[0-9]{1,2})年度")
# "(1年目)" after a year label: which year of the plan it is (平成28年度(1年目)).
_PLAN_YEAR_NOTE = re.compile(r"\((元|[0-9]{1,2})年目\)$")
#: Baseline labels that name no year but a moment: the fiscal year before the plan starts
#: (read so only where the plan's start is known, and recorded as inferred).
BEFORE_PLAN_PHRASES: frozenset[str] = frozenset({"事業開始前", "現時点", "計画策定時"})


# First and last day of each era, as (year, month, day).
_ERA_SPAN: dict[str, tuple[tuple[int, int, int], tuple[int, int, int] | None]] = {
    "令和": ((2019, 5, 1), None),
    "平成": ((1989, 1, 8), (2019, 4, 30)),
    "昭和": ((1926, 12, 25), (1989, 1, 7)),
}
_ERA = r"(令和|平成|昭和|[RHS])(元|[0-9]{1,2})"
_DAY_MARK = r"(?:末|末日|時点|現在)?"
# H28.3, R6.3, H28.3.31, H28.3末 (era dot notation: year.month[.day]).
_ERA_DOTTED = re.compile(rf"{_ERA}\.([0-9]{{1,2}})(?:\.([0-9]{{1,2}}))?{_DAY_MARK}", re.IGNORECASE)
# 平成28年3月末, 令和6年3月, 2016年3月末, 2016年3月31日時点, and era-less 29年3月.
_KANJI_DATE = re.compile(
    rf"(?:{_ERA}|([0-9]{{4}})|(元|[0-9]{{1,2}}))年([0-9]{{1,2}})月(?:([0-9]{{1,2}})日)?{_DAY_MARK}",
    re.IGNORECASE,
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True)
class Period:
    """A fiscal-year or target-month label as printed, and what was assumed reading it.

    Attributes
    ----------
    fiscal_year
        The Gregorian number of the fiscal year (年度 N = April N – March N+1).
    text
        The label exactly as written.
    notes
        One sentence per assumption made (an era taken from the document, an era counted on
        after its end, a month inside the year, a year inferred from the plan's start).
    inferred
        The label names no year at all (``事業開始前``): the year comes from the plan.
    plan_year
        The year of the plan the label says it is (``(1年目)``), or ``None``.
    """

    fiscal_year: int
    text: str
    notes: tuple[str, ...] = ()
    inferred: bool = False
    plan_year: int | None = None


def fiscal_year_of_month(year: int, month: int) -> int:
    """The fiscal year a calendar month belongs to: January–March belong to the previous one.

    Examples
    --------
    >>> fiscal_year_of_month(2016, 3), fiscal_year_of_month(2016, 4)
    (2015, 2016)
    """
    return year - 1 if month <= 3 else year


def _era_name(era: str) -> str:
    return _ERA_BY_INITIAL.get(era.upper(), era)


def _era_year(text: object, era: str, n_text: str, notes: list[str] | None = None) -> int:
    """Gregorian year of era year ``n_text`` (``元`` = 1), with the era's range checked; a year
    an era was counted on after its end (:data:`CONTINUED_ERAS`) adds a note to ``notes``."""
    era = _era_name(era)
    _, offset, last = _ERAS[era]
    n = 1 if n_text == "元" else int(n_text)
    if n == 0:
        raise NotationError(text, f"{era} has no year 0 (its first year is 元年 = 1)")
    if last is not None and n > last:
        continued = CONTINUED_ERAS.get(era)
        if continued is None:
            end = _ERA_SPAN[era][1]
            assert end is not None
            raise NotationError(
                text,
                f"{era} ended on {end[0]}-{end[1]:02d}-{end[2]:02d} ({era}{last}年): {era}{n} "
                "never existed (did you mean the next era?)",
            )
        if n > continued:
            raise NotationError(
                text,
                f"{era} ended in its year {last} ({offset + last}); {era}{n} = {offset + n} is "
                f"later than any plan written in {era} reaches (at most {era}{continued})",
            )
        if notes is not None:
            notes.append(
                f"{era}{n} = {offset + n}: {era} ended in {offset + last} ({era}{last}), but plans "
                "written before the new era was named count on in it"
            )
    return offset + n


def _check_date(
    text: object, year: int, month: int, day: int | None, era: str | None, notes: list[str]
) -> None:
    if not 1 <= month <= 12:
        raise NotationError(text, f"month {month} does not exist")
    if day is not None and not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
        raise NotationError(text, f"day {day} does not exist in month {month}")
    if era is None:
        return
    era = _era_name(era)
    first, last = _ERA_SPAN[era]
    # Compare at the precision written: a month alone is in the era if any of its days is.
    when = (year, month, day if day is not None else 0)
    if last is not None and (when[:2] > last[:2] or (day is not None and when > last)):
        if era not in CONTINUED_ERAS:
            raise NotationError(
                text,
                f"{era} ended on {last[0]}-{last[1]:02d}-{last[2]:02d}; this date is in the "
                "next era",
            )
        if not any(era in n for n in notes):  # _era_year has said so already for 平成32 ...
            notes.append(
                f"{year}-{month:02d} written in {era}, which ended on {last[0]}-{last[1]:02d}-"
                f"{last[2]:02d}: plans written before the new era was named count on in it"
            )
    if when[:2] < first[:2] or (day is not None and when < first):
        raise NotationError(
            text, f"{era} began on {first[0]}-{first[1]:02d}-{first[2]:02d}; this date is before it"
        )


def _label(text: str) -> tuple[str, int | None]:
    """A period label made comparable: half-width, without any space (PDF text puts spaces
    inside: ``29 年 3 月``, ``平成 28 年度``), the plan-year note ``(1年目)`` taken off (returned),
    and one pair of enclosing parentheses removed (``(R5)``, ``（評価委員：７名/７名中）``)."""
    s = re.sub(r"\s+", "", _half_width(text))
    if s == "":
        raise NotationError(text, "empty")
    plan_year = None
    if (m := _PLAN_YEAR_NOTE.search(s)) and m.start() > 0:
        plan_year = 1 if m.group(1) == "元" else int(m.group(1))
        if plan_year == 0:
            raise NotationError(text, "(0年目): a plan has no year 0")
        s = s[: m.start()]
    if s[0] == "(" or s[-1] == ")":
        if not (s[0] == "(" and s[-1] == ")"):
            raise NotationError(text, _unbalanced(s))
        s = s[1:-1]
    return s, plan_year


def _unbalanced(s: str) -> str:
    if re.search(r"\([^()]*年目", s):
        return "a plan-year note must read like '(1年目)' after the year label"
    return "unbalanced parentheses"


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


def _no_era(text: object, what: str) -> NotationError:
    return NotationError(
        text,
        f"{what} names no era (平成? 令和?) and none was given: an era-less label is read in the "
        "era of the document's own labels (plan_start, plan_end, sheet_fiscal_year), and these "
        "name none",
    )


def _date_of(
    text: object, s: str, era_default: str | None, notes: list[str]
) -> tuple[int, int, int | None] | None:
    """``(year, month, day)`` of a date label ``s`` (already through :func:`_label`), or None."""
    if match := _ERA_DOTTED.fullmatch(s):
        era, n_text, month_text, day_text = match.groups()
        year = _era_year(text, era, n_text, notes)
    elif match := _KANJI_DATE.fullmatch(s):
        era, n_text, gregorian, bare, month_text, day_text = match.groups()
        if bare is not None:
            if era_default is None:
                raise _no_era(text, f"{bare}年{month_text}月")
            era, n_text = era_default, bare
            notes.append(
                f"no era printed: {bare}年{month_text}月 read as {era}{bare}年{month_text}月, "
                "the era of the document's labels"
            )
        year = _era_year(text, era, n_text, notes) if era else int(gregorian)
    else:
        return None
    month = int(month_text)
    day = int(day_text) if day_text else None
    _check_date(text, year, month, day, era, notes)
    _check_range(text, year)
    return year, month, day


def parse_date_label(text: str) -> tuple[int, int, int | None]:
    """Parse a target-month or date label to ``(year, month, day)`` (``day`` may be ``None``).

    Accepts era dot notation (``H28.3``, ``R6.3``, ``H28.3.31``, ``R6.3末``) and the kanji forms
    (``平成28年3月末``, ``令和6年3月``, ``2016年3月末``, ``2016年3月31日``), with full-width
    characters and spaces anywhere (``29 年 3 月`` once an era is known: :func:`read_period`).
    A Gregorian ``2016.3`` or ``2016/3/31`` is refused: the first reads as a decimal, and the
    second is what a spreadsheet makes of a year typed into a date cell.

    Raises
    ------
    NotationError
        For anything else, a month or day that does not exist, or a date outside its era
        (``R1.4`` is still 平成; ``S64.2`` is 平成元年2月). 平成 dates after its end
        (``H31.5``, ``平成32年3月``) are read, as plans written before May 2019 print them.

    Examples
    --------
    >>> parse_date_label("H28.3"), parse_date_label("令和6年3月"), parse_date_label("2016年3月末")
    ((2016, 3, None), (2024, 3, None), (2016, 3, None))
    """
    if not isinstance(text, str):
        raise NotationError(text, f"expected text, got {type(text).__name__}")
    s, _plan_year = _label(text)
    date = _date_of(text, s, None, [])
    if date is None:
        raise NotationError(
            text, "not a date label (expected e.g. H28.3, 平成28年3月末, 2016年3月末)"
        )
    return date


def _check_range(text: object, year: int) -> int:
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise NotationError(text, f"year {year} outside {_MIN_YEAR}–{_MAX_YEAR}")
    return year


def _before_plan(s: str) -> bool:
    """Whether ``s`` is a baseline phrase (``事業開始前``, ``事業開始前(現時点)``)."""
    parts = [p for p in re.split(r"[()]", s) if p]
    return bool(parts) and all(p in BEFORE_PLAN_PHRASES for p in parts)


def read_period(
    text: str | int, *, era: str | None = None, plan_start: int | None = None
) -> Period:
    """Read a fiscal-year or target-month label as printed, with what had to be assumed.

    Everything :func:`parse_fiscal_year` reads, and:

    * spaces anywhere inside (``29 年 3 月``, ``平成 28 年度 (1 年目 )``; PDF text puts them
      there), and a plan-year note ``(1年目)`` after the label, kept as :attr:`Period.plan_year`;
    * era-less labels (``29年3月``, ``28年度``) read in ``era`` (the era of the document's own
      labels), noted; without ``era`` they are refused, naming the missing era;
    * 平成 after its end (``平成32年度`` = FY2020, ``平成33年度`` = FY2021, ``H32.3``), noted:
      plans written before May 2019 count on in it. 昭和64年度 is refused (昭和 ended on
      7 January 1989; FY1989 is 平成元年度);
    * a month that is not a fiscal year's end (``H28.2``, ``平成27年10月``) is the fiscal year
      containing it, noted;
    * with ``plan_start``, a baseline phrase (``事業開始前``, ``現時点``, ``事業開始前(現時点)``)
      is the fiscal year before the plan starts, marked :attr:`Period.inferred`;
    * the end of a fiscal year (``平成29年度末``) is that year; its start (``平成25年度当初``,
      ``…年度初め``, ``…年度期首``: a baseline such as 当初現況値) is read only with
      ``plan_start`` (as a baseline): the state when FY2013 begins, that is at the close of
      FY2012, noted.

    Raises
    ------
    NotationError
        As :func:`parse_fiscal_year`, naming the true cause.

    Examples
    --------
    >>> read_period("29 年 3 月", era="平成").fiscal_year
    2016
    >>> p = read_period("平成32年度"); p.fiscal_year, len(p.notes)
    (2020, 1)
    >>> read_period("平成 28 年度 (1 年目 )").plan_year
    1
    >>> p = read_period("事業開始前 ( 現時点 )", plan_start=2016); p.fiscal_year, p.inferred
    (2015, True)
    >>> read_period("平成29年度末").fiscal_year
    2017
    >>> read_period("平成25年度当初", plan_start=2013).fiscal_year
    2012
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
        return Period(_check_range(text, year), str(text))
    if era is not None and _era_name(era) not in _ERAS:
        raise NotationError(era, "not an era (令和, 平成, 昭和 or R, H, S)")
    squashed = re.sub(r"\s+", "", _half_width(text))
    if _before_plan(squashed):
        s, plan_year = squashed, None
    else:
        s, plan_year = _label(text)
    notes: list[str] = []
    start_word = next((w for w in _YEAR_START_WORDS if s.endswith("年度" + w)), "")
    if start_word:
        s = s[: -len(start_word)]
    elif s.endswith("年度末"):
        s = s[:-1]  # the end of a fiscal year is that fiscal year
    if _before_plan(s):
        if plan_start is None:
            raise NotationError(
                text, "names no fiscal year (a moment before the plan, read only as a baseline)"
            )
        notes.append(
            f"no year printed: {s} read as FY{plan_start - 1}, the fiscal year before the plan "
            f"starts (FY{plan_start})"
        )
        return Period(plan_start - 1, text, tuple(notes), True, plan_year)
    if match := _GREGORIAN.fullmatch(s):
        fy = int(match.group(1))
    elif match := _ERA_YEAR.fullmatch(s):
        fy = _fiscal_era_year(text, match.group(1), match.group(2), notes)
    elif match := _ERALESS_YEAR.fullmatch(s):
        if era is None:
            raise _no_era(text, s)
        notes.append(f"no era printed: {s} read as {_era_name(era)}{s}, the era of the document")
        fy = _fiscal_era_year(text, era, match.group(1), notes)
    elif date := _date_of(text, s, None if era is None else _era_name(era), notes):
        year, month, _day = date
        fy = fiscal_year_of_month(year, month)
        if month != 3:
            notes.append(
                f"{year}-{month:02d} is not the end of a fiscal year: read as FY{fy}, the fiscal "
                "year containing it"
            )
    else:
        raise _not_a_fiscal_year(text, s)
    if start_word:
        if plan_start is None:
            raise NotationError(
                text,
                f"the start of a fiscal year ({start_word}) is read only as a baseline year "
                f"(the state when FY{fy} begins, at the close of FY{fy - 1})",
            )
        notes.append(
            f"{s}{start_word}: the state when FY{fy} begins, read as the close of FY{fy - 1}"
        )
        fy -= 1
    return Period(_check_range(text, fy), text, tuple(notes), False, plan_year)


#: Words after ``…年度`` that name the start of a fiscal year (当初現況値 "as the plan begins").
_YEAR_START_WORDS = ("当初", "初め", "期首")


def _fiscal_era_year(text: object, era: str, n_text: str, notes: list[str]) -> int:
    """An era *fiscal year* label: like :func:`_era_year`, but the last year of an era that
    ended in January (昭和64年: 1–7 January 1989) has no fiscal year of its own."""
    name = _era_name(era)
    _, offset, last = _ERAS[name]
    n = 1 if n_text == "元" else int(n_text)
    if last is not None and n == last and name not in CONTINUED_ERAS:
        end = _ERA_SPAN[name][1]
        assert end is not None
        raise NotationError(
            text,
            f"{name}{n}年度 never existed: {name} ended on {end[0]}-{end[1]:02d}-{end[2]:02d}, "
            f"before FY{offset + n} began: that fiscal year is {_NEXT_ERA[name]}元年度",
        )
    return _era_year(text, era, n_text, notes)


def _not_a_fiscal_year(text: object, s: str) -> NotationError:
    _check_mistyped_number(text, s)
    if re.fullmatch(r"[0-9]+\.[0-9]*", s):
        return NotationError(text, "a decimal number is not a fiscal year")
    if re.fullmatch(r"-?[0-9]+", s):
        return NotationError(text, "a fiscal year needs four digits (e.g. 2023) or an era")
    if "(" in s or ")" in s:
        return NotationError(text, _unbalanced(s))
    if re.fullmatch(r"(元|[0-9]{1,2})年", s):
        return NotationError(
            text, f"{s} is neither a fiscal year (年度) nor a month (年…月) of a named era"
        )
    return NotationError(text, "not a fiscal year (expected e.g. 2023, 2023年度, 令和5年度, R5)")


def parse_fiscal_year(text: str | int, *, era: str | None = None) -> int:
    """Parse a Japanese fiscal year (年度 N runs April N – March N+1) to its Gregorian number.

    Accepts ``2023``, ``"2023"``, ``"2023年度"``, ``"2023年"``, ``"FY2023"``, ``"令和5年度"``,
    ``"令和元年度"``, ``"R5"``, ``"(R5)"``, ``"（Ｒ５）"``, ``"H31"``, ``"平成30年度"``,
    with full-width characters and spaces anywhere; and target-month or date labels
    (:func:`parse_date_label`), which name the fiscal year the month falls in: January–March
    belong to the *previous* fiscal year. :func:`read_period` also returns what was assumed
    (era-less labels read in ``era``, 平成32年度 = FY2020).

    ==================  ==========  =========================================
    label               fiscal year  why
    ==================  ==========  =========================================
    ``H28``, ``平成28年度``  2016        a year label: 平成28 = 2016
    ``H28.3``            2015        March 2016 ends FY2015 (平成27年度)
    ``平成28年3月末``       2015        the same month written in kanji
    ``2016年3月末``        2015        the same month, Gregorian
    ``R6.3``, ``令和6年3月``  2023        March 2024 ends FY2023
    ``H28.4``            2016        April 2016 starts FY2016
    ==================  ==========  =========================================

    A bare ``H28`` therefore stays FY2016 while ``H28.3`` is FY2015: the classic trap when a
    sheet's column headers are target months. Transcribe the label as written and let this
    function decide.

    Raises
    ------
    NotationError
        For year 0 of an era, 平成41 or later, 昭和64年度 (昭和 ended on 7 January 1989) or
        later, a month or day that does not exist or lies outside its era, an era-less label
        without ``era``, floats, booleans, years outside 1900–2200, empty text and anything else.

    Examples
    --------
    >>> parse_fiscal_year("令和元年度"), parse_fiscal_year("H31"), parse_fiscal_year("（Ｒ５）")
    (2019, 2019, 2023)
    >>> parse_fiscal_year("H28"), parse_fiscal_year("H28.3"), parse_fiscal_year("平成28年3月末")
    (2016, 2015, 2015)
    >>> parse_fiscal_year("2016年3月末"), parse_fiscal_year("R6.3"), parse_fiscal_year("令和6年3月")
    (2015, 2023, 2023)
    """
    return read_period(text, era=era).fiscal_year


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

    The shortest decimal that reads back as the same float is written (no exponent). For a
    scaled unit (``千円``, ``千人`` ...) the value is in the base unit and is divided exactly for
    display, so ``parse_quantity(format_quantity(x, "千円")).value == x``.

    Parameters
    ----------
    value
        The number; ``None`` writes the missing mark ``-`` (``－`` when full width).
    unit
        ``""`` or a unit label (see :func:`normalise_unit`).
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
        For a non-finite value, a text that cannot be a unit label or an unknown minus mark.

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
    if unit and (reason := _unit_problem(unit)) is not None:
        raise NotationError(unit, reason)
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
        amount = amount / split_scale(unit)[1]
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
