"""Tests of kpianalysis.data.notation.

Real examples come from the Handa effect-verification sheet transcribed in
/work/shared/seed/000_b0c93ac26c5b58c3.txt ("seed" below); expected numbers are read off by hand.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpianalysis.data.notation import (
    KNOWN_UNITS,
    MINUS_MARKS,
    Quantity,
    fiscal_year_of_month,
    format_quantity,
    normalise_unit,
    parse_date_label,
    parse_fiscal_year,
    parse_fraction,
    parse_number,
    parse_quantities,
    parse_quantity,
    parse_target,
    parse_votes,
    read_period,
    split_scale,
)
from kpianalysis.errors import KpiAnalysisError, NotationError

# --- real examples from the seed sheet -------------------------------------------------------

# (text, value, unit, cumulative, parenthesised)
SEED_CASES = [
    # KPI ② 若い世代の転入者数ー転出者数: actuals and targets FY2021–2023
    ("▲468人", -468.0, "人", False, False),
    ("(500人)", 500.0, "人", False, True),
    ("▲127人", -127.0, "人", False, False),
    ("(1,500人)", 1500.0, "人", False, True),
    ("83人", 83.0, "人", False, False),
    ("(3,000人)", 3000.0, "人", False, True),
    # KPI ① 小学校区コミュニティの設立数
    ("累計 4団体", 4.0, "団体", True, False),
    ("(累計 6団体)", 6.0, "団体", True, True),
    ("累計 7団体", 7.0, "団体", True, False),
    ("(累計 8団体)", 8.0, "団体", True, True),
    ("累計 9団体", 9.0, "団体", True, False),
    ("(累計 13団体)", 13.0, "団体", True, True),
    # KPI ④ 外国籍市民向けフェイスブック登録者数
    ("225人", 225.0, "人", False, False),
    ("312人", 312.0, "人", False, False),
    ("(300人)", 300.0, "人", False, True),
    ("1,019人", 1019.0, "人", False, False),
    ("(400人)", 400.0, "人", False, True),
    ("1,341人", 1341.0, "人", False, False),
    # KPI ③ コミュニティ・スクールの活動回数
    ("47回", 47.0, "回", False, False),
    ("(40回)", 40.0, "回", False, True),
    ("56回", 56.0, "回", False, False),
    ("(45回)", 45.0, "回", False, True),
    ("50回", 50.0, "回", False, False),
    ("(50回)", 50.0, "回", False, True),
    # 事業費（交付額）
    ("19,272,695円", 19_272_695.0, "円", False, False),
    ("（9,636,346円）", 9_636_346.0, "円", False, True),
]


@pytest.mark.parametrize(("text", "value", "unit", "cumulative", "parenthesised"), SEED_CASES)
def test_seed_examples(
    text: str, value: float, unit: str, cumulative: bool, parenthesised: bool
) -> None:
    q = parse_quantity(text)
    assert q == Quantity(value, unit, cumulative, parenthesised, text)
    assert not q.is_missing


def test_seed_dash_is_missing() -> None:
    # Baseline cells of KPI ② and ③ in the seed are a lone "-".
    q = parse_quantity("-")
    assert q.is_missing
    assert q == Quantity(None, None, False, False, "-")


def test_seed_grant_rate_and_votes() -> None:
    # 「※交付率1/2」 and the panel verdict lines of the seed.
    assert parse_fraction("1/2") == 0.5
    assert parse_votes("（評価委員：７名/７名中）") == (7, 7)
    assert parse_votes("　（評価委員：０名/７名中）") == (0, 7)
    # 9,636,346 / 19,272,695 = 0.49999997...: "端数処理のため数円の差異あり"
    grant = parse_number("（9,636,346円）") / parse_number("19,272,695円")
    assert grant == pytest.approx(0.5, abs=1e-7)


def test_seed_cost_cell_as_printed_is_two_numbers() -> None:
    with pytest.raises(NotationError, match="two numbers in one cell"):
        parse_quantity("19,272,695円（9,636,346円）")


# --- width, spaces, signs --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("９，６３６，３４６円", 9_636_346.0, "円"),
        ("１２．５％", 12.5, "%"),
        ("12.5%", 12.5, "%"),
        ("56.5回", 56.5, "回"),
        ("１２３", 123.0, None),
        ("0.25", 0.25, None),
        ("＋５件", 5.0, "件"),
        ("+5件", 5.0, "件"),
        ("△3世帯", -3.0, "世帯"),
        ("−3世帯", -3.0, "世帯"),  # U+2212
        ("－3世帯", -3.0, "世帯"),  # U+FF0D
        ("-3世帯", -3.0, "世帯"),
        ("‐3世帯", -3.0, "世帯"),  # U+2010
        ("▲ 468人", -468.0, "人"),  # one space after the triangle is accepted
        ("▲\u3000468人", -468.0, "人"),
        ("\u3000468人\u3000", 468.0, "人"),
        ("468 人", 468.0, "人"),
        ("2校", 2.0, "校"),
        ("3か所", 3.0, "か所"),
        ("3箇所", 3.0, "箇所"),
        ("12店舗", 12.0, "店舗"),
        ("85点", 85.0, "点"),
        ("1,234ポイント", 1234.0, "ポイント"),
        ("65歳", 65.0, "歳"),
        ("1.5時間", 1.5, "時間"),
    ],
)
def test_width_signs_and_units(text: str, value: float, unit: str | None) -> None:
    q = parse_quantity(text)
    assert (q.value, q.unit) == (value, unit)
    assert q.text == text


def test_cumulative_and_parentheses_variants() -> None:
    assert parse_quantity("累計4団体") == Quantity(4.0, "団体", True, False, "累計4団体")
    assert parse_quantity("累計\u30004団体").cumulative
    q = parse_quantity("（累計　▲２団体）")
    assert (q.value, q.unit, q.cumulative, q.parenthesised) == (-2.0, "団体", True, True)
    assert parse_quantity("( 500人 )").value == 500.0
    assert parse_quantity("(▲500人)").value == -500.0


def test_minus_zero_is_zero() -> None:
    value = parse_quantity("▲0").value
    assert value == 0.0
    assert math.copysign(1.0, value) == 1.0


# --- yen multipliers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,500千円", 1_500_000.0),
        ("１，５００千円", 1_500_000.0),
        ("2.5万円", 25_000.0),
        ("▲1.5万円", -15_000.0),
        ("3億円", 300_000_000.0),
        ("0.1億円", 10_000_000.0),  # exact: scaled in decimal, not 0.1 * 1e8 in binary
        ("1.23千円", 1_230.0),
    ],
)
def test_yen_multipliers(text: str, value: float) -> None:
    q = parse_quantity(text)
    assert q.value == value
    assert q.unit == "円"
    assert q.text == text


# --- unit labels and scale prefixes (issue 10: partners' sheets as written) -----------------


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        # units of FY2015 先行型 sheets and others: any label is a label
        ("120人/月", 120.0, "人/月"),
        ("(150人/月)", 150.0, "人/月"),
        ("3番組", 3.0, "番組"),
        ("12店舗", 12.0, "店舗"),
        ("(累計 12店舗)", 12.0, "店舗"),
        ("40件/年", 40.0, "件/年"),
        ("４０件／年", 40.0, "件/年"),
        ("65.5%", 65.5, "%"),
        ("65.5％", 65.5, "%"),
        ("5xyz", 5.0, "xyz"),
        ("5 kms", 5.0, "kms"),
        ("500l", 500.0, "l"),  # a trailing l is a label (litres), not a mistyped 1
        ("10万歩", 10.0, "万歩"),  # 歩 is not a scalable base: kept as written
    ],
)
def test_any_unit_text_is_a_label(text: str, value: float, unit: str) -> None:
    q = parse_quantity(text)
    assert (q.value, q.unit, q.scale, q.text) == (value, unit, 1, text)


@pytest.mark.parametrize(
    ("text", "value", "unit", "scale"),
    [
        ("12千人", 12_000.0, "人", 1_000),
        ("1.5万人", 15_000.0, "人", 10_000),
        ("3百万円", 3_000_000.0, "円", 1_000_000),
        ("0.1億円", 10_000_000.0, "円", 100_000_000),
        ("2千件", 2_000.0, "件", 1_000),
        ("131.9万人泊", 1_319_000.0, "人泊", 10_000),
    ],
)
def test_known_scale_prefixes_convert(text: str, value: float, unit: str, scale: int) -> None:
    q = parse_quantity(text)
    assert (q.value, q.unit, q.scale, q.text) == (value, unit, scale, text)
    written_unit = text.lstrip("0123456789.")
    assert format_quantity(value, written_unit) == text  # and back, exactly


def test_split_scale_and_normalise_unit() -> None:
    assert split_scale("千円") == ("円", 1_000)
    assert split_scale("百万円") == ("円", 1_000_000)  # 百万 before 万
    assert split_scale("千万円") == ("円", 10_000_000)
    assert split_scale("番組") == ("番組", 1)
    assert split_scale("千") == ("千", 1)  # a prefix alone is not a scaled unit
    assert normalise_unit("人／月") == "人/月"
    assert normalise_unit(" ％ ") == "%"
    for bad, reason in [
        ("", "empty"),
        ("人 月", "space"),
        ("10人", "digits"),
        ("(人)", "inside the unit"),
    ]:
        with pytest.raises(NotationError, match=reason):
            normalise_unit(bad)


@pytest.mark.parametrize(
    ("text", "letters", "meant"),
    [
        ("1,5OO人", "'O'", "'1,500'"),
        ("15OO人", "'O'", "'1500'"),
        ("１，５ＯＯ人", "'O'", "'1,500'"),  # full-width Ｏ is read as O
        ("(1,OOO人)", "'O'", "'1,000'"),
        ("5o人", "'o'", "'50'"),
        ("1l0人", "'l'", "'110'"),
        ("l00人", "'l'", "'100'"),
        ("1I0回", "'I'", "'110'"),
        ("1,34l人", "'l'", "'1,341'"),  # a trailing l before a kanji unit is a digit too
        ("▲1,2O0人", "'O'", "'1,200'"),
    ],
)
def test_mistyped_numbers_say_so(text: str, letters: str, meant: str) -> None:
    with pytest.raises(NotationError, match="looks like a mistyped number") as info:
        parse_quantity(text)
    assert info.value.text == text
    assert f"Latin letter {letters}" in info.value.reason
    assert f"did you mean {meant}" in info.value.reason


# --- missing values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [None, "", "   ", "\u3000", "-", "－", "―", "ー", "—", "‐", "−", "ｰ", "(-)", "（－）", " - "],
)
def test_missing(text: str | None) -> None:
    q = parse_quantity(text)
    assert q.is_missing
    assert q.value is None and q.unit is None
    assert q.text == ("" if text is None else text)


def test_missing_keeps_flags() -> None:
    q = parse_quantity("(累計 -)")
    assert q.is_missing and q.cumulative and q.parenthesised


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("人▲468", "minus mark not directly before the digits"),
        ("468▲人", "minus mark not directly before the digits"),
        ("- 468人", "minus mark not directly before the digits"),
        ("▲  468人", "minus mark not directly before the digits"),
        ("▲-468", "two signs"),
        ("ー468", "not a minus sign"),
        ("468人 500人", "two numbers in one cell"),
        ("468人\n(500人)", "two numbers in one cell"),
        ("4/6", "two numbers in one cell"),
        ("７名/７名中", "two numbers in one cell"),
        ("(468)(500)", "two numbers in one cell"),
        ("1,01,9", "malformed thousands separators"),
        ("10,00", "malformed thousands separators"),
        ("0,500", "malformed thousands separators"),
        ("1,019,", "malformed thousands separators"),
        ("1　019", "space inside the number"),
        ("1 019人", "space inside the number"),
        ("1.2.3", "malformed number"),
        ("1.", "decimal point without digits"),
        (".5", "decimal point"),
        ("=1+1", "looks like a spreadsheet formula"),
        ("+1+1", "looks like a spreadsheet formula"),
        ("-1+1", "looks like a spreadsheet formula"),
        ("@SUM", "looks like a spreadsheet formula"),
        ("＝SUM(A1:A3)", "looks like a spreadsheet formula"),
        ("inf", "not a finite number"),
        ("NaN", "not a finite number"),
        ("-Infinity", "not a finite number"),
        ("1e5", "scientific notation"),
        ("5人 月", "a space inside the unit"),
        ("5人程度（見込み）", "parentheses"),
        ("500人(見込)", "parentheses"),
        ("4団体累計", "累計 goes before the number"),
        ("5人、6人", "two numbers"),
        ("5人/月;", "';' inside the unit"),
        ("5" + "あ" * 13, "too long for a unit label"),
        ("xyz", "no number"),
        ("未定", "no number"),
        ("①", "no number"),  # a circled digit is a list marker, never the number 1
        ("人468", "unit '人' before the number"),
        ("(500人", "unbalanced parentheses"),
        ("500人)", "unbalanced parentheses"),
        ("((500人))", "nested or unbalanced parentheses"),
        ("()", "empty parentheses"),
        ("--", "several dashes"),
        ("累計", "累計 without a number"),
        ("累計  4団体", "more than one space after 累計"),
        ("468  人", "unexpected space"),
        ("1" + "0" * 400, "too large"),
    ],
)
def test_errors(text: str, reason: str) -> None:
    with pytest.raises(NotationError, match=reason) as info:
        parse_quantity(text)
    err = info.value
    assert isinstance(err, KpiAnalysisError) and isinstance(err, ValueError)
    assert err.text == text
    assert repr(text) in str(err)  # the message quotes the offending text


@pytest.mark.parametrize("value", [468, 4.5, float("nan")])
def test_non_text_is_refused(value: object) -> None:
    with pytest.raises(NotationError, match="expected text"):
        parse_quantity(value)  # type: ignore[arg-type]


def test_huge_magnitudes_are_parsed() -> None:
    # Plausibility is checked elsewhere; the parser only reads what is written.
    assert parse_quantity("999,999,999,999,999人").value == 999_999_999_999_999.0
    assert parse_quantity("1" + "0" * 300).value == 1e300


# --- allowed_units ---------------------------------------------------------------------------


def test_allowed_units() -> None:
    assert parse_quantity("468人", allowed_units={"人"}).value == 468.0
    with pytest.raises(NotationError, match="unit '団体' not allowed here") as info:
        parse_quantity("4団体", allowed_units={"人"})
    assert "'4団体'" in str(info.value)
    with pytest.raises(NotationError, match="without a unit not allowed"):
        parse_quantity("468", allowed_units={"人"})
    assert parse_quantity("468", allowed_units={"人", ""}).value == 468.0
    # multiplied yen passes when 円 is allowed; a missing value always passes
    assert parse_quantity("1,500千円", allowed_units={"円"}).value == 1_500_000.0
    assert parse_quantity("-", allowed_units={"人"}).is_missing
    # any label can be allowed, and a scaled unit passes on its base unit or as written
    assert parse_quantity("5人月", allowed_units={"人月"}).unit == "人月"
    assert parse_quantity("12千人", allowed_units={"人"}).value == 12_000.0
    assert parse_quantity("12千人", allowed_units={"千人"}).value == 12_000.0


# --- parse_number / parse_quantities -----------------------------------------------------


def test_parse_number() -> None:
    assert parse_number("1,019人") == 1019.0
    assert parse_number("▲468人") == -468.0
    with pytest.raises(NotationError, match="empty"):
        parse_number("  ")
    with pytest.raises(NotationError, match="missing value"):
        parse_number("-")
    with pytest.raises(NotationError, match="unit '人' not allowed"):
        parse_number("5人", allowed_units={"円"})


def test_parse_quantities() -> None:
    values = [q.value for q in parse_quantities(["▲468人", "(500人)", "-", None])]
    assert values == [-468.0, 500.0, None, None]


def test_known_units_list_the_common_labels() -> None:
    required = (
        "人 団体 回 件 円 千円 万円 億円 % 世帯 校 箇所 か所 社 事業 本 名 日 時間"
        " 店舗 施設 組 戸 台 部 ポイント 点 歳"
    )
    assert set(required.split()) <= KNOWN_UNITS
    assert isinstance(KNOWN_UNITS, frozenset)


# --- fractions and votes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1/2", 0.5),
        ("１／２", 0.5),
        ("2分の1", 0.5),
        ("２分の１", 0.5),
        ("3/4", 0.75),
        ("4分の3", 0.75),
        ("1 / 2", 0.5),
        ("0/5", 0.0),
        ("1,000/2,000", 0.5),
    ],
)
def test_parse_fraction(text: str, value: float) -> None:
    assert parse_fraction(text) == value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1/0", "denominator is zero"),
        ("0分の1", "denominator is zero"),
        ("-1/2", "negative fraction"),
        ("1/2/3", "more than one slash"),
        ("a/b", "not a fraction"),
        ("0.5", "not a fraction"),
        ("", "empty"),
    ],
)
def test_parse_fraction_errors(text: str, reason: str) -> None:
    with pytest.raises(NotationError, match=reason):
        parse_fraction(text)


@pytest.mark.parametrize(
    ("text", "votes"),
    [
        ("（評価委員：７名/７名中）", (7, 7)),
        ("７名/７名中", (7, 7)),
        ("０名/７名中", (0, 7)),
        ("(評価委員:5名/7名中)", (5, 7)),
        ("評価委員：7名 / 7名中", (7, 7)),
        ("3名/7名", (3, 7)),
    ],
)
def test_parse_votes(text: str, votes: tuple[int, int]) -> None:
    assert parse_votes(text) == votes


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("８名/７名中", "8 votes out of only 7"),
        ("0名/0名中", "zero"),
        ("7/7", "not a vote count"),
        ("七名/七名中", "not a vote count"),
        ("(7名/7名中", "unbalanced parentheses"),
        ("", "empty"),
    ],
)
def test_parse_votes_errors(text: str, reason: str) -> None:
    with pytest.raises(NotationError, match=reason):
        parse_votes(text)


# --- fiscal years ----------------------------------------------------------------------------
# 令和 began on 2019-05-01 (元号を改める政令, 平成31年政令第143号), so fiscal year 2019
# (April 2019 – March 2020) is both 平成31年度 and 令和元年度. 平成元年 = 1989 (from 1989-01-08),
# 昭和64年 = 1989 (1989-01-01 to 01-07): offsets 令和 2018, 平成 1988, 昭和 1925.


@pytest.mark.parametrize(
    ("text", "year"),
    [
        (2023, 2023),
        ("2023", 2023),
        ("2023年度", 2023),
        ("2023年", 2023),
        ("２０２３年度", 2023),
        (" 2023 ", 2023),
        ("FY2023", 2023),
        ("令和5年度", 2023),
        ("令和５年度", 2023),
        ("令和元年度", 2019),
        ("令和元年", 2019),
        ("R5", 2023),
        ("(R5)", 2023),
        ("（Ｒ５）", 2023),
        ("R2", 2020),  # the seed's "2020年度 (R2)"
        ("R1", 2019),
        ("H31", 2019),
        ("平成31年度", 2019),
        ("平成30年度", 2018),
        ("H30", 2018),
        ("平成元年度", 1989),
        ("昭和60年度", 1985),
        ("\u32ff5", 2023),  # ㋿ ligature
    ],
)
def test_fiscal_year(text: str | int, year: int) -> None:
    assert parse_fiscal_year(text) == year


@pytest.mark.parametrize(
    ("text", "year"),
    [
        # Target months: January–March end the previous fiscal year (年度 N = April N – March N+1).
        ("H28.3", 2015),  # March 2016 (平成28年3月) ends FY2015 (平成27年度)
        ("H28", 2016),  # the classic trap: a bare year label is its own fiscal year
        ("平成28年3月末", 2015),
        ("平成28年3月", 2015),
        ("2016年3月末", 2015),
        ("2016年3月31日", 2015),
        ("2016年3月31日時点", 2015),
        ("R6.3", 2023),  # March 2024 ends FY2023 (令和5年度)
        ("令和6年3月", 2023),
        ("R6.3末", 2023),
        ("H28.3.31", 2015),
        ("（Ｈ２８．３）", 2015),
        ("H28.4", 2016),  # April starts the fiscal year
        ("H27.12", 2015),
        ("平成31年4月", 2019),  # the last month of 平成
        ("令和元年5月", 2019),  # the first month of 令和
        ("H31.3", 2018),
        ("R1.5.1", 2019),
    ],
)
def test_target_month_labels_are_fiscal_years(text: str, year: int) -> None:
    assert parse_fiscal_year(text) == year


def test_parse_date_label_and_fiscal_year_of_month() -> None:
    assert parse_date_label("H28.3") == (2016, 3, None)
    assert parse_date_label("平成28年3月31日") == (2016, 3, 31)
    assert parse_date_label("2016年3月末") == (2016, 3, None)
    assert [fiscal_year_of_month(2016, m) for m in range(1, 13)] == [2015] * 3 + [2016] * 9


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("R1.4", "令和 began on 2019-05-01"),
        ("H1.1.7", "平成 began on 1989-01-08"),
        ("H28.13", "month 13 does not exist"),
        ("H28.0", "month 0 does not exist"),
        ("H28.2.30", "day 30 does not exist"),
        ("2016.3", "decimal"),  # a Gregorian year with a dot reads as a decimal number
        ("2016/3/31", "not a fiscal year"),  # what a spreadsheet makes of a year in a date cell
        ("H0.3", "no year 0"),
        ("S64.2", "昭和 ended on 1989-01-07"),  # 昭和 ended without notice: never counted on
        ("2O23年度", "mistyped number"),
    ],
)
def test_date_label_errors(text: str, reason: str) -> None:
    with pytest.raises(NotationError, match=reason):
        parse_fiscal_year(text)


# Period labels as printed (issue 16.2). 平成 = 1988 + n; a month of January–March belongs to
# the fiscal year before (年度 N = April N – March N+1).
@pytest.mark.parametrize(
    ("text", "kwargs", "year", "plan_year", "noted"),
    [
        # spaces PDF text puts inside: 平成29年3月 = March 2017 → FY2016
        ("29 年 3 月", {"era": "平成"}, 2016, None, "no era printed"),
        ("平成 28 年度 (1 年目 )", {}, 2016, 1, None),  # 1988 + 28, year 1 of the plan
        ("平成 29 年度 （２年目）", {}, 2017, 2, None),
        ("28年度", {"era": "H"}, 2016, None, "no era printed"),
        # 令和2年3月 = March 2020 → FY2019
        ("2年3月", {"era": "令和"}, 2019, None, "no era printed"),
        # 平成 counted on after its end (plans written before May 2019): 1988 + 32, 1988 + 33
        ("平成32年度", {}, 2020, None, "平成 ended in 2019"),
        ("H33", {}, 2021, None, "平成 ended in 2019"),
        ("平成32年3月", {}, 2019, None, "平成 ended in 2019"),  # March 2020 ends FY2019
        ("H31.5", {}, 2019, None, "which ended on 2019-04-30"),  # May 2019, 令和元年5月
        # a month inside a fiscal year: the year containing it
        ("H28.2", {}, 2015, None, "not the end of a fiscal year"),  # February 2016 → FY2015
        ("平成27年10月", {}, 2015, None, "not the end of a fiscal year"),  # October 2015
        # a baseline phrase: the fiscal year before the plan starts (FY2016 → FY2015)
        ("事業開始前 ( 現時点 )", {"plan_start": 2016}, 2015, None, "fiscal year before the plan"),
        ("現時点", {"plan_start": 2021}, 2020, None, "fiscal year before the plan"),
        ("H28.3", {}, 2015, None, None),  # a fiscal year's end: nothing assumed
        ("令和5年度", {"era": "平成"}, 2023, None, None),  # a printed era wins over the document's
    ],
)
def test_period_labels_as_printed(text, kwargs, year, plan_year, noted) -> None:
    period = read_period(text, **kwargs)
    assert (period.fiscal_year, period.plan_year, period.text) == (year, plan_year, text)
    assert period.inferred == ("plan_start" in kwargs)
    if noted is None:
        assert period.notes == ()
    else:
        assert len(period.notes) >= 1 and any(noted in n for n in period.notes), period.notes


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("令和0年", "no year 0"),
        ("R0", "no year 0"),
        ("H41", "at most 平成40"),
        ("S64", "昭和64年度 never existed"),
        ("昭和64年度", "ended on 1989-01-07, before FY1989 began: that fiscal year is 平成元年度"),
        ("S65", "昭和 ended"),
        ("29 年 3 月", "names no era"),  # without the document's era (read_period(era=...))
        ("29年", "neither a fiscal year"),
        ("平成 28 年度 (1 年目", "plan-year note must read like"),
        ("事業開始前", "names no fiscal year"),  # a baseline phrase needs the plan's start
        ("2023.5", "decimal"),
        (2023.0, "got float"),
        (True, "boolean"),
        (-2023, "outside 1900–2200"),
        (1899, "outside 1900–2200"),
        ("2201年度", "outside 1900–2200"),
        ("", "empty"),
        ("   ", "empty"),
        ("garbage", "not a fiscal year"),
        ("23", "four digits"),
        ("(R5", "unbalanced"),
    ],
)
def test_fiscal_year_errors(text: object, reason: str) -> None:
    with pytest.raises(NotationError, match=reason):
        parse_fiscal_year(text)  # type: ignore[arg-type]


# --- formatting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"value": -468, "unit": "人"}, "▲468人"),
        ({"value": 500, "unit": "人", "parenthesised": True}, "(500人)"),
        ({"value": 6, "unit": "団体", "cumulative": True, "parenthesised": True}, "(累計 6団体)"),
        ({"value": 1019, "unit": "人"}, "1,019人"),
        ({"value": 1019, "unit": "人", "thousands": False}, "1019人"),
        (
            {"value": 9_636_346, "unit": "円", "parenthesised": True, "full_width": True},
            "（９，６３６，３４６円）",
        ),
        ({"value": 1_500_000, "unit": "千円"}, "1,500千円"),
        ({"value": 56.5, "unit": "回"}, "56.5回"),
        ({"value": 12.5, "unit": "%", "full_width": True}, "１２．５％"),
        ({"value": -3, "unit": "世帯", "negative_mark": "△"}, "△3世帯"),
        ({"value": -3, "negative_mark": "-", "full_width": True}, "－３"),
        ({"value": 1e20}, "100,000,000,000,000,000,000"),
        ({"value": None}, "-"),
    ],
)
def test_format_quantity(kwargs: dict, expected: str) -> None:
    assert format_quantity(**kwargs) == expected


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"value": float("nan")}, "not a finite number"),
        ({"value": float("inf"), "unit": "人"}, "not a finite number"),
        ({"value": 1, "unit": "人 月"}, "a space inside the unit"),
        ({"value": 1, "unit": "10人"}, "cannot contain digits"),
        ({"value": -1, "negative_mark": "ー"}, "not a minus mark"),
    ],
)
def test_format_quantity_errors(kwargs: dict, reason: str) -> None:
    with pytest.raises(NotationError, match=reason):
        format_quantity(**kwargs)


# --- properties ------------------------------------------------------------------------------

UNITS = st.sampled_from(
    [
        "",
        "人",
        "団体",
        "回",
        "件",
        "円",
        "千円",
        "万円",
        "億円",
        "%",
        "世帯",
        "千人",
        "人/月",
        "番組",
    ]
)
FLAGS = {
    "cumulative": st.booleans(),
    "parenthesised": st.booleans(),
    "negative_mark": st.sampled_from(sorted(MINUS_MARKS)),
    "full_width": st.booleans(),
    "thousands": st.booleans(),
}


def _check_round_trip(x: float, unit: str, **flags: object) -> None:
    text = format_quantity(x, unit, **flags)  # type: ignore[arg-type]
    q = parse_quantity(text)
    assert q.value == x, text
    assert q.unit == (split_scale(unit)[0] or None)
    assert q.cumulative is flags["cumulative"]
    assert q.parenthesised is flags["parenthesised"]
    assert q.text == text


@given(x=st.integers(-(10**15), 10**15), unit=UNITS, **FLAGS)
def test_round_trip_integers(x: int, unit: str, **flags: object) -> None:
    _check_round_trip(float(x), unit, **flags)


@given(n=st.integers(-(10**9), 10**9), places=st.sampled_from([1, 2]), unit=UNITS, **FLAGS)
def test_round_trip_decimals(n: int, places: int, unit: str, **flags: object) -> None:
    _check_round_trip(n / 10**places, unit, **flags)


@given(x=st.floats(allow_nan=False, allow_infinity=False), unit=UNITS, **FLAGS)
def test_round_trip_any_finite_float(x: float, unit: str, **flags: object) -> None:
    # The shortest repr is written, so even 1e-300 or 1.7e308 comes back bit for bit (±0 as 0).
    _check_round_trip(x, unit, **flags)


NOTATION_ALPHABET = st.sampled_from(
    list("0123456789,.()-+ ▲△−－‐ー―（）０１９，．　累計人円千万%％/=@eE名中xX")
)


@given(st.text(NOTATION_ALPHABET, max_size=12))
def test_arbitrary_text_never_yields_a_silent_bad_number(text: str) -> None:
    try:
        q = parse_quantity(text)
    except NotationError as err:
        assert err.text == text
        return
    assert q.value is None or math.isfinite(q.value)
    assert q.text == text


def _reference_era_labels(year: int) -> list[str]:
    """Every era spelling of a fiscal year, written independently of the parser."""
    labels = []
    if year >= 2019:
        n = year - 2018
        labels += [f"令和{'元' if n == 1 else n}年度", f"R{n}", f"(R{n})", f"令和{n}年"]
    if 1989 <= year <= 2019:
        n = year - 1988
        labels += [f"平成{'元' if n == 1 else n}年度", f"H{n}", f"（H{n}）"]
    return labels


_FULL = str.maketrans("0123456789RH()", "０１２３４５６７８９ＲＨ（）")


@given(year=st.integers(1989, 2100), full_width=st.booleans(), data=st.data())
def test_fiscal_year_era_labels(year: int, full_width: bool, data: st.DataObject) -> None:
    label = data.draw(st.sampled_from(_reference_era_labels(year)))
    if full_width:
        label = label.translate(_FULL)
    assert parse_fiscal_year(label) == year


@given(year=st.integers(1900, 2200))
def test_fiscal_year_gregorian(year: int) -> None:
    assert parse_fiscal_year(year) == year
    assert parse_fiscal_year(f"{year}年度") == year


# --- Bound phrases after a target (issue 16.1/16.9) -------------------------------------------
@pytest.mark.parametrize(
    ("text", "value", "unit", "bound"),
    [
        ("1.50 以下", 1.5, None, "ceiling"),
        ("30分以内", 30, "分", "ceiling"),
        ("(100人以上)", 100, "人", "floor"),
        ("80%以上を維持", 80, "%", "floor"),
        ("1.2 以下を維持", 1.2, None, "ceiling"),
        ("100 未満", 100, None, "strict_ceiling"),
        ("5 超", 5, None, "strict_floor"),
        ("1,000人を超える", 1000, "人", "strict_floor"),
        ("1.3を上回る", 1.3, None, "strict_floor"),
        ("10件を下回る", 10, "件", "strict_ceiling"),
        ("3件未満を維持", 3, "件", "strict_ceiling"),
        ("１００人未満", 100, "人", "strict_ceiling"),  # full-width digits, as PDFs print them
    ],
)
def test_bound_phrases_read_as_ceilings_and_floors(text, value, unit, bound):
    t = parse_target(text)
    assert (t.quantity.value, t.quantity.unit, t.bound) == (value, unit, bound)
    assert t.quantity.text == text  # the cell as printed is kept


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("100人程度", "names no side"),
        ("1.5 前後", "names no side"),
        ("前年度比10人上回る", "by how much"),
        ("5件下回る", "by how much"),
        ("100人超える", "…を超える"),
        ("10人増加", "a change, not a level"),
        ("5%減少", "a change, not a level"),
        ("100人を目指す", "write the value alone"),
        ("80%維持", "needs a bound before it"),
        ("未満", "without a value"),
    ],
)
def test_bound_phrases_without_one_meaning_are_refused(text, words):
    with pytest.raises(NotationError) as err:
        parse_target(text)
    assert words in err.value.reason and err.value.text == text
