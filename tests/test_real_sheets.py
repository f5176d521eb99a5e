"""Real published sheets typed in as printed (issue 16, "done when"): no edit, no invented value.

Four programme folders in ``tests/fixtures/partners/`` are real: two of 坂井市's 地方創生先行型
事業実施結果報告 (FY2015; https://expydoc.com/doc/11828747/), one of 喜界町's
(https://expydoc.com/doc/10606083/) and 群馬県's 栃木群馬長野広域的観光活性化計画
(https://www.pref.gunma.jp/page/11531.html). Their ``source.txt`` is the text as retrieved;
every transcribed cell is checked against it. Before this change they needed edits or invented
values: a plan period the sheets never print, 実績額 printed bare under the header 単位:円 and
without a year, targets printed with their target month in the same cell (``1人 (H29.3)``), and
the labels ``平成25年度当初`` / ``平成29年度末``. Every expected value below is read off
``source.txt`` by hand.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from conftest import SEED_DIR, SEED_ID, read_rows, write_rows
from kpianalysis.analysis.tables import attainment_table
from kpianalysis.data import notation
from kpianalysis.data.dataset import load_dataset, load_folders
from kpianalysis.errors import DataError, PeriodError

PARTNERS = Path(__file__).resolve().parent / "fixtures" / "partners"
B1GP, MIKUNI, ARUMONO = "18210-b1gp", "18210-mikuni", "46529-arumono"
GUNMA = "10000-kanko"
REAL = (GUNMA, B1GP, MIKUNI, ARUMONO)


@pytest.fixture(scope="module")
def real():
    """The seed and the three real programmes, validated together as a partner adds them."""
    return load_folders([SEED_DIR] + [PARTNERS / p for p in REAL])


def _row(table, **key):
    mask = True
    for column, value in key.items():
        mask = mask & (table[column] == value)
    rows = table.loc[mask]
    assert len(rows) == 1, key
    return rows.iloc[0]


def _copy(tmp_path: Path, pid: str) -> Path:
    """A raw directory holding one real programme, to edit."""
    raw = tmp_path / "raw"
    (raw / pid).mkdir(parents=True)
    for f in (PARTNERS / pid).iterdir():
        (raw / pid / f.name).write_bytes(f.read_bytes())
    return raw


def test_real_sheets_validate_as_printed_and_are_checked_against_their_source(real):
    assert list(real.programmes["programme_id"]) == [SEED_ID, *REAL]
    assert real.unchecked_programmes == []  # every one has its source document
    for pid in REAL:
        assert (PARTNERS / pid / "source.txt").is_file()
        note = _row(real.programmes, programme_id=pid)["note"]
        assert note.startswith("Real sheet, typed in as printed") and "https://" in note


def test_a_plan_period_the_sheet_does_not_print_is_taken_from_its_kpis(real):
    # 坂井市: every KPI's 目標月 is H28.3 (March 2016 = FY2015) -> FY2015–FY2015.
    # 喜界町: actuals (H28.3現在) = FY2015, targets (H29.3) = FY2016 -> FY2015–FY2016.
    progs = real.programmes.set_index("programme_id")
    assert (progs.loc[B1GP, "plan_start"], progs.loc[B1GP, "plan_end"]) == (2015, 2015)
    assert (progs.loc[ARUMONO, "plan_start"], progs.loc[ARUMONO, "plan_end"]) == (2015, 2016)
    notes = real.cell_notes
    plan = notes.loc[(notes["programme_id"] == ARUMONO) & (notes["file"] == "programme.csv")]
    assert list(plan["column"]) == ["plan_start", "plan_end"]
    assert set(plan["mark"]) == {"inferred"} and set(plan["text"]) == {""}
    assert set(plan["reason"]) == {
        "the sheet prints no plan period: taken as the fiscal years its KPIs name, FY2015–FY2016"
    }
    # Plan data: seen by every report, from the first year on.
    assert set(plan["visible_from"]) == {0}
    # The seed, whose sheet prints its plan, gets no such note.
    assert (notes["programme_id"] == SEED_ID).sum() == 0


def test_amounts_under_a_unit_header_and_without_a_year(real):
    # 実績額 column "単位:円": B-1グランプリ 7,400,000, 三國湊 12,688,853; no 交付額 printed.
    fin = real.finance.set_index("programme_id")
    assert fin.loc[B1GP, "cost_yen"] == 7_400_000.0
    assert fin.loc[MIKUNI, "cost_yen"] == 12_688_853.0
    assert int(fin.loc[B1GP, "fiscal_year"]) == 2015  # the one-year plan's year
    assert math.isnan(fin.loc[B1GP, "grant_yen"]) and math.isnan(fin.loc[B1GP, "grant_rate"])
    note = _row(real.cell_notes, programme_id=B1GP, file="finance.csv")
    assert (note["column"], note["mark"], note["visible_from"]) == ("fiscal_year", "inferred", 2015)


def test_b1gp_rates_by_hand(real):
    # ① 来場者数 80,000 人, actual 77,000: 77,000 / 80,000 = 0.9625.
    # ② 地元経済効果 100,000 千円, actual 96,250 (the unit column 千円): 96,250,000 / 100,000,000
    #    = 0.9625 yen; the cells keep the printed text.
    table = attainment_table(real.as_of(2015), 2015)
    one = _row(table, programme_id=B1GP, indicator_id=1)
    two = _row(table, programme_id=B1GP, indicator_id=2)
    assert (one["target"], one["actual"]) == (80_000.0, 77_000.0)
    assert (two["target"], two["actual"]) == (100_000_000.0, 96_250_000.0)
    assert one["achievement_rate"] == pytest.approx(0.9625)
    assert two["achievement_rate"] == pytest.approx(0.9625)
    assert not one["achieved"] and not two["achieved"]
    ind = _row(real.indicators, programme_id=B1GP, indicator_id=2)
    assert (ind["unit"], ind["unit_text"]) == ("円", "千円")
    obs = _row(real.observations, programme_id=B1GP, indicator_id=2)
    assert (obs["target_text"], obs["actual_text"]) == ("100,000", "96,250")


def test_mikuni_rejoined_names_and_missing_actuals(real):
    # ① マスタープラン策定 1 件 / 1: 100 %; ② 散策観光客数 67,200 人, no actual printed;
    # ③ 起業者数 2 人, actual "-".
    table = attainment_table(real.as_of(2015), 2015)
    assert _row(table, programme_id=MIKUNI, indicator_id=1)["achievement_rate"] == 1.0
    for kpi in (2, 3):
        row = _row(table, programme_id=MIKUNI, indicator_id=kpi)
        assert math.isnan(row["actual"]) and row["achieved"] is not True
    # The PDF text interleaves the KPI number with each name: 三國湊町マスタープ / ① ラン策定.
    notes = real.cell_notes
    rejoined = notes.loc[(notes["programme_id"] == MIKUNI) & (notes["mark"] == "rejoined")]
    assert list(rejoined["text"]) == [
        "三國湊町マスタープラン策定",
        "三國湊町散策観光客数(H27年度)",
        "三國湊町地区で空き家を活用した起業者数(H27年度)",
    ]


def test_a_target_printed_with_its_target_month_is_due_then(real):
    # 指標値(目標年月): 移住希望研究者 1人 (H29.3), 入込客増加 500人 (H29.3): H29.3 = March 2017,
    # the end of FY2016. 実績値(H28.3現在): 1人 and 2,807人 in FY2015.
    obs = real.observations.loc[real.observations["programme_id"] == ARUMONO]
    target = _row(obs, indicator_id=2, fiscal_year=2016)
    assert (target["target"], target["target_text"]) == (500.0, "500人 (H29.3)")
    assert math.isnan(target["actual"])
    actual = _row(obs, indicator_id=2, fiscal_year=2015)
    assert actual["actual"] == 2807.0 and math.isnan(actual["target"])
    note = _row(real.cell_notes, programme_id=ARUMONO, file="observations.csv", row=5)
    assert note["mark"] == "reading" and "FY2016 (H29.3)" in note["reason"]
    # FY2015 is an interim point toward the FY2016 target, not a missed target of FY2015; with
    # no baseline printed its progress is not computed (and said so).
    table = attainment_table(real.as_of(2015), 2015)
    row = _row(table, programme_id=ARUMONO, indicator_id=2)
    assert row["target_basis"] == "final"
    assert (row["assessment_target"], row["assessment_target_year"]) == (500.0, 2016)
    assert row["interim_reason"] == "no_baseline" and row["achieved"] is not True


@pytest.mark.parametrize(
    ("text", "value", "deadline"),
    [
        ("20人 (H29.3)", 20.0, "H29.3"),
        ("1人(H29.3)", 1.0, "H29.3"),
        ("500人 （H29.3）", 500.0, "H29.3"),  # full-width parentheses
        ("10人 (平成31年度)", 10.0, "平成31年度"),
        ("(累計 13団体)", 13.0, ""),  # the seed's parenthesised target: no period inside
    ],
)
def test_parse_target_reads_a_trailing_target_month(text, value, deadline):
    t = notation.parse_target(text)
    assert (t.quantity.value, t.deadline) == (value, deadline)


def test_a_parenthesis_that_is_not_a_period_is_still_two_numbers():
    with pytest.raises(notation.NotationError, match="two numbers in one cell"):
        notation.parse_target("100 (80)")


def test_a_target_month_other_than_the_rows_year_is_refused(tmp_path):
    raw = _copy(tmp_path, ARUMONO)
    path = raw / ARUMONO / "observations.csv"
    rows = read_rows(path)
    rows[2][2] = "H28.3現在"  # the row of "1人 (H29.3)" given FY2015
    write_rows(path, rows)
    with pytest.raises(PeriodError) as err:
        load_dataset(raw)
    msg = str(err.value)
    assert "observations.csv" in msg and "row 3" in msg and "'target'" in msg
    assert "H29.3 = FY2016" in msg and "FY2015" in msg


def test_one_end_of_the_plan_without_the_other_is_refused(tmp_path):
    raw = _copy(tmp_path, B1GP)
    path = raw / B1GP / "programme.csv"
    rows = read_rows(path)
    rows[1][rows[0].index("plan_start")] = "H28.3"
    write_rows(path, rows)
    with pytest.raises(DataError, match=r"row 2, column 'plan_end'.*a fiscal year is required"):
        load_dataset(raw)


def test_no_plan_and_no_year_anywhere_is_refused(tmp_path):
    raw = _copy(tmp_path, B1GP)
    path = raw / B1GP / "observations.csv"
    rows = read_rows(path)
    for row in rows[1:]:
        row[2] = ""
    write_rows(path, rows)
    with pytest.raises(DataError, match="prints no plan period and no observation names a year"):
        load_dataset(raw)


@pytest.mark.parametrize(
    ("unit", "cost", "words"),
    [
        ("千円", "7,400", None),  # 7,400 in 千円 = 7,400,000 円
        ("人", "7,400,000", "amounts are in yen"),
        ("", "7,400,000", "write the amount with its unit"),
    ],
)
def test_the_finance_unit_column(tmp_path, unit, cost, words):
    raw = _copy(tmp_path, B1GP)
    path = raw / B1GP / "finance.csv"
    rows = read_rows(path)
    rows[1][rows[0].index("unit")] = unit
    rows[1][rows[0].index("cost")] = cost
    write_rows(path, rows)
    # The cost is no longer the printed text; check the unit's reading, not the source.
    prog = raw / B1GP / "programme.csv"
    p_rows = read_rows(prog)
    p_rows[1][p_rows[0].index("source_file")] = ""
    write_rows(prog, p_rows)
    if words is None:
        assert load_dataset(raw).finance["cost_yen"].tolist() == [7_400_000.0]
        return
    with pytest.raises(DataError, match=words):
        load_dataset(raw)


def test_a_blank_finance_year_needs_a_one_year_plan(tmp_path):
    # 喜界町's plan spans FY2015–FY2016: a cost without a year cannot be placed.
    raw = _copy(tmp_path, ARUMONO)
    write_rows(
        raw / ARUMONO / "finance.csv",
        [
            ["programme_id", "fiscal_year", "cost", "grant", "grant_rate"],
            [ARUMONO, "", "0", "-", "-"],
        ],
    )
    with pytest.raises(DataError, match=r"finance.csv, row 2, column 'fiscal_year'.*required"):
        load_dataset(raw)


# --- What the report says (the summary box) ---------------------------------------------------


def _summary(ds, pid: str, fy: int, language: str) -> str:
    from kpianalysis.analysis.tables import programme_summary
    from kpianalysis.report import sections

    cut = ds.as_of(fy)
    table = attainment_table(cut, fy)
    table = table.loc[table["programme_id"] == pid]
    summary = programme_summary(cut, fy, table=table)
    summary = summary.loc[summary["programme_id"] == pid]
    return str(sections.summary_box(cut, table, summary, fy, language))


def test_an_interim_year_without_a_baseline_is_not_called_plan_only_or_targetless(real):
    # 喜界町 FY2015: actuals 1人 and 2,807人 (H28.3現在), targets 1人 and 500人 due H29.3 = FY2016,
    # no baseline printed. Before: "計画のみ：2指標、実績値はまだありません" above the two
    # actuals, and each line "目標 —（目標値なし）".
    ja = _summary(real, ARUMONO, 2015, "ja")
    assert "2015年度：この年度の目標値がある指標はありません（計画途中の年度の指標2）。" in ja
    assert "実績値はまだありません" not in ja and "目標値なし" not in ja
    assert (
        "入込客増加 — 2,807人（2016年度の目標 500人に向けた計画途中の年度。"
        "進み具合は算出しません：当初値なし）"
    ) in ja
    en = _summary(real, ARUMONO, 2015, "en")
    assert "FY2015: no KPI has a target for this year (2 at an interim year)." in en
    assert (
        "toward 500 persons in FY2016 (an interim year; progress not computed: no baseline)" in en
    )
    # 移住希望研究者 printed 1人 against a target of 1人: one person, not "1 persons".
    assert "— 1 person toward 1 person in FY2016" in en and "1 persons" not in en


def test_no_verdict_is_said_once_in_both_languages(real):
    # The seed's FY2021 sheet records no panel verdict, and 喜界町 prints none at all: the summary
    # read "記録なし（評価の記録なし）" / "no verdict recorded (no verdict recorded)".
    for pid, fy in ((SEED_ID, 2021), (ARUMONO, 2015)):
        ja, en = (_summary(real, pid, fy, language) for language in ("ja", "en"))
        assert "有識者による効果検証: 記録なし。" in ja and "評価の記録なし" not in ja
        assert "Expert panel: no verdict recorded." in en
        assert en.count("no verdict recorded") == 1


def test_the_seed_headline_is_the_same_with_its_rows(seed):
    # The rows-based counts agree with the summary-based ones wherever every KPI with an actual
    # has a rate: the seed's headlines do not change.
    from kpianalysis.analysis.tables import programme_summary
    from kpianalysis.report.sections import headline_sentence

    for fy in (2021, 2022, 2023):
        cut = seed.as_of(fy)
        table = attainment_table(cut, fy)
        s = programme_summary(cut, fy, table=table).iloc[0]
        for language in ("ja", "en"):
            assert headline_sentence(s, language, table) == headline_sentence(s, language)
    expected = "2023年度：評価した4指標中2指標が目標を達成（50.0%）。"
    assert headline_sentence(s, "ja", table) == expected


def test_an_interim_year_without_an_actual_names_the_final_target(tmp_path):
    # 喜界町's オペレーター育成事業 prints 雇用者数 20人 (H29.3) and no actual as of H28.3; here the
    # same shape from 46529-arumono with the FY2015 actual of KPI 1 left blank.
    raw = _copy(tmp_path, ARUMONO)
    path = raw / ARUMONO / "observations.csv"
    rows = read_rows(path)
    rows[1][4] = ""  # 1人 (H28.3現在)
    write_rows(path, rows)
    prog = raw / ARUMONO / "programme.csv"
    p_rows = read_rows(prog)
    p_rows[1][p_rows[0].index("source_file")] = ""
    write_rows(prog, p_rows)
    ds = load_dataset(raw)
    ja = _summary(ds, ARUMONO, 2015, "ja")
    assert (
        "移住希望研究者 — —（2016年度の目標 1人に向けた計画途中の年度。"
        "進み具合は算出しません：実績値なし）"
    ) in ja
    assert "目標 —" not in ja
    # KPI 2 still has its actual: one interim KPI, one without an actual.
    assert "（計画途中の年度の指標1、実績値なし1）" in ja


def test_a_grant_the_sheet_does_not_give_is_said_so(real):
    from kpianalysis.report import sections

    cut = real.as_of(2015)
    ja = str(sections.programme_overview(real, cut, 2015, "ja"))
    en = str(sections.programme_overview(real, cut, 2015, "en"))
    # 坂井市 B-1グランプリ: 実績額 7,400,000 (単位:円), no 交付額 printed.
    assert "事業費 7,400,000円、交付額 記載なし" in ja and "交付率 -" not in ja
    assert "grant not given" in en


def test_gunma_year_start_and_year_end_labels_and_rates_by_hand(real):
    # 当初現況値(平成25年度当初): the state when FY2013 begins = the close of FY2012;
    # 最終目標値/最終実績値(平成29年度末) = FY2017. Values in 万人: 4,481万人 = 44,810,000 人.
    ind = real.indicators.loc[real.indicators["programme_id"] == GUNMA].set_index("indicator_id")
    assert list(ind["baseline_year"]) == [2012, 2012, 2012]
    assert (ind.loc[1, "baseline"], ind.loc[1, "unit"], ind.loc[1, "unit_text"]) == (
        44_810_000.0,
        "人",
        "万人",
    )
    progs = real.programmes.set_index("programme_id")
    assert (progs.loc[GUNMA, "plan_start"], progs.loc[GUNMA, "plan_end"]) == (2013, 2017)
    notes = real.cell_notes.loc[real.cell_notes["programme_id"] == GUNMA]
    assert list(notes["column"]) == ["baseline_year"] * 3 and set(notes["mark"]) == {"reading"}
    table = attainment_table(real.as_of(2017), 2017)
    rows = table.loc[table["programme_id"] == GUNMA].set_index("indicator_id")
    # 1: 4,913 / 4,730 = 1.038689…; progress (4,913 − 4,481) / (4,730 − 4,481) = 432 / 249.
    # 2: 1,628 / 1,617 = 1.006803…; progress (1,628 − 1,528) / (1,617 − 1,528) = 100 / 89.
    # 3: 34.0 % / 34.0 % = 1; progress (34.0 − 0) / (34.0 − 0) = 1.
    assert rows.loc[1, "achievement_rate"] == pytest.approx(4913 / 4730)
    assert rows.loc[1, "progress_rate"] == pytest.approx(432 / 249)
    assert rows.loc[2, "achievement_rate"] == pytest.approx(1628 / 1617)
    assert rows.loc[2, "progress_rate"] == pytest.approx(100 / 89)
    assert (rows.loc[3, "achievement_rate"], rows.loc[3, "progress_rate"]) == (1.0, 1.0)
    assert rows["achieved"].tolist() == [True, True, True]


@pytest.mark.parametrize(
    ("text", "plan_start", "fy"),
    [
        ("平成29年度末", None, 2017),
        ("2017年度末", None, 2017),
        ("平成25年度当初", 2013, 2012),
        ("平成 25 年度 当初", 2013, 2012),
        ("令和2年度期首", 2020, 2019),
    ],
)
def test_read_period_year_end_and_year_start(text, plan_start, fy):
    assert notation.read_period(text, plan_start=plan_start).fiscal_year == fy


def test_the_start_of_a_year_outside_a_baseline_is_refused_saying_why(tmp_path):
    raw = _copy(tmp_path, GUNMA)
    path = raw / GUNMA / "observations.csv"
    rows = read_rows(path)
    rows[1][2] = "平成29年度当初"
    write_rows(path, rows)
    with pytest.raises(DataError) as err:
        load_dataset(raw)
    msg = str(err.value)
    assert "observations.csv, row 2, column 'fiscal_year'" in msg
    assert "read only as a baseline year" in msg and "close of FY2016" in msg


def test_a_large_slope_is_written_out_not_in_exponent_notation(real):
    # 群馬県 KPI 1: 4,481万人 (FY2012) -> 4,913万人 (FY2017), an OLS line through two points:
    # slope (49,130,000 − 44,810,000) / 5 = 864,000 人 a year. Before: "8.64e+05人/年".
    from kpianalysis.analysis.projection import trend_table
    from kpianalysis.report import trends_views

    cut = real.as_of(2017)
    table = trend_table(cut, 2017)
    table = table.loc[table["programme_id"] == GUNMA]
    row = table.loc[table["indicator_id"] == 1].iloc[0]
    assert row["slope"] == pytest.approx(864_000.0)
    html = str(trends_views.trend_view(table, "ja"))
    assert "864,000人</span>/年" in html and "e+05" not in html and "e +05" not in html


def test_trends_text_reads_in_the_unit_the_sheet_writes(real):
    # 群馬県 KPI 1 is printed in 万人: 4,481万人 (FY2012) -> 4,913万人 (FY2017) against 4,730万人.
    # By hand: slope (4,913 − 4,481) / 5 = 86.4万人 a year; the line extended to FY2018 gives
    # 4,913 + 86.4 = 4,999.4 -> 4,999万人; difference 4,913 − 4,730 = +183万人. Before, the
    # text read 47,300,000人 (the base unit the tables hold).
    import re

    from kpianalysis.analysis.projection import trend_table
    from kpianalysis.report import trends_views

    cut = real.as_of(2017)
    table = trend_table(cut, 2017)
    table = table.loc[(table["programme_id"] == GUNMA) & (table["indicator_id"] == 1)]
    ja = re.sub(r"<[^>]+>", "", str(trends_views.trend_view(table, "ja", cut.indicators)))
    assert "86.4万人/年" in ja and "2018年度: 4,999万人" in ja
    assert "2017年度: 4,730万人" in ja
    assert "実績 4,913万人、目標 4,730万人、差 +183万人" in ja
    outlook = re.sub(
        r"<[^>]+>", "", str(trends_views.trend_outlook(table, 2017, "ja", cut.indicators))
    )
    assert "目標 4,730万人に対し、実績は4,913万人で、目標を達成しました（差 +183万人）" in outlook
    assert not re.search(r"\d{1,3},\d{3},\d{3}", ja + outlook)  # no 47,300,000
    # English counts in its own words, as its attainment summary does (not "4,730 ten thousand").
    en = re.sub(r"<[^>]+>", "", str(trends_views.trend_view(table, "en", cut.indicators)))
    assert "864,000 persons/yr" in en and "target 47,300,000 persons" in en


def test_a_share_printed_at_exactly_0_or_100_percent_gets_no_logit_line(real):
    # 群馬県 KPI 3: 0 % (FY2012) -> 34.0 % (FY2017) against 34.0 %. logit(0) = −∞, so the line
    # was set by the stand-in for 0 %: half a printed unit, 0.5 %, gave (logit 0.34 − logit
    # 0.005) / 5 = (−0.6633 + 5.2933) / 5 = 0.926 a year and a "reference" 56.5 % for FY2018;
    # 0.05 % would give (−0.6633 + 7.6004) / 5 = 1.387 and 67.3 %. Now: no line, said why; the
    # outcome (34.0 % against 34.0 %: met) does not depend on a fit and stays.
    from kpianalysis.analysis.projection import trend_table
    from kpianalysis.analysis.trends import fit_trend
    from kpianalysis.report import trends_views

    table = trend_table(real.as_of(2017), 2017)
    table = table.loc[(table["programme_id"] == GUNMA) & (table["indicator_id"] == 3)]
    row = table.iloc[0]
    assert (row["model"], row["reason"], row["outcome"]) == (
        "logit",
        "share_at_bound",
        "final_achieved",
    )
    assert math.isnan(row["slope"]) and math.isnan(row["projected_mean"])
    ja = str(trends_views.trend_view(table, "ja"))
    en = str(trends_views.trend_view(table, "en"))
    assert "0%または100%ちょうどの値あり" in ja and "56.5" not in ja and "0.926" not in ja
    assert "a share of exactly 0 % or 100 %" in en and "logit scale" in en
    # 100 % is the same bound; a share strictly inside still gets its line.
    assert fit_trend([2021, 2022, 2023], [80.0, 95.0, 100.0], model="logit").reason == (
        "share_at_bound"
    )
    assert fit_trend([2021, 2022, 2023], [80.0, 95.0, 99.0], model="logit").reason is None


def test_a_logit_slope_is_not_shown_in_the_kpis_unit(tmp_path):
    # 群馬県 KPI 3 with a baseline of 1 % instead of 0 % (a copy; the source gains the cell):
    # 1 % (FY2012) -> 34.0 % (FY2017) on the logit scale is (logit 0.34 − logit 0.01) / 5 =
    # (−0.66329 + 4.59512) / 5 = 0.786 a year, not "0.786%/年" (33 points in five years is
    # 6.6 points a year).
    from kpianalysis.analysis.projection import trend_table
    from kpianalysis.report import trends_views

    raw = _copy(tmp_path, GUNMA)
    rows = read_rows(raw / GUNMA / "indicators.csv")
    assert rows[3][-1] == "0%"
    rows[3][-1] = "1%"
    write_rows(raw / GUNMA / "indicators.csv", rows)
    with open(raw / GUNMA / "source.txt", "a", encoding="utf-8") as f:
        f.write("\n1%\n")
    table = trend_table(load_dataset(raw).as_of(2017), 2017)
    table = table.loc[table["indicator_id"] == 3]
    assert table.iloc[0]["model"] == "logit"
    assert table.iloc[0]["slope"] == pytest.approx(0.78637, abs=5e-5)  # the fitted logit slope
    slope = "0.786"
    ja = str(trends_views.trend_view(table, "ja"))
    en = str(trends_views.trend_view(table, "en"))
    assert f"{slope}/年（ロジット尺度）" in ja and f"{slope}%" not in ja
    assert f"{slope}/yr (logit scale)" in en


def test_what_the_sheet_does_not_print_is_said_so_in_the_overview(real):
    # 群馬県's 成果目標 page gives no grant type, strategy goals or overview: each is 記載なし,
    # not an empty line (and in English not a bare "(in Japanese)").
    from kpianalysis.report import sections

    cut = real.as_of(2017).by_programme()[GUNMA]
    ja = str(sections.programme_overview(cut, cut, 2017, "ja"))
    en = str(sections.programme_overview(cut, cut, 2017, "en"))
    assert ja.count("記載なし") == 3 and en.count("not given") == 3
    assert "(in Japanese)" not in en
    # The seed prints all three: nothing said missing.
    seed = real.as_of(2023).by_programme()[SEED_ID]
    assert "記載なし" not in str(sections.programme_overview(seed, seed, 2023, "ja"))


def test_an_english_overview_names_the_grant_category_and_an_empty_sub_project_list(real):
    from kpianalysis.report import sections

    one = real.by_programme()[ARUMONO]
    en = str(sections.programme_overview(one, one.as_of(2015), 2015, "en"))
    ja = str(sections.programme_overview(one, one.as_of(2015), 2015, "ja"))
    # 喜界町's sheet prints 地方創生先行型: in English its national category (the FY2014
    # 地方創生先行型交付金), the printed label kept beside it as Japanese.
    assert 'Pioneering-type grant (FY2014): <span lang="ja">地方創生先行型</span>' in en
    # A 先行型 results sheet lists no 交付対象事業: a sentence, not a table of headers only.
    assert "The sheet lists no sub-projects." in en and "kpi-subprojects" not in en
    assert "交付対象事業の記載はありません。" in ja
    # The seed keeps its English grant type and its sub-project table.
    ds = real.by_programme()[SEED_ID]
    seed = str(sections.programme_overview(ds, ds.as_of(2023), 2023, "en"))
    assert "regional revitalisation promotion type" in seed and "kpi-subprojects" in seed
