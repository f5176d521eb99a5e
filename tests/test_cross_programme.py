"""The cross-programme panel (issue 10, item 5): counts, shares, distributions and classes.

The FY2023 figures of the shipped sheet, computed by hand from its values: ① 9 of 13 (not
achieved), ② 83 of 3,000 (not), ③ 50 of 50 (achieved), ④ 1,341 of 500 (achieved) — one
programme, 4 KPIs evaluated, 2 achieved (50 %), the programme achieved at least one (1 of 1)
but not all (0 of 1). The Cabinet Office publishes the same two shares for the
地方創生推進交付金 (share of programmes that achieved at least one KPI target; share of KPIs that
reached their target).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import SEED_DIR, SEED_ID, read_rows, seed_only, write_rows
from kpianalysis.analysis import panel
from kpianalysis.analysis.tables import attainment_table
from kpianalysis.data.dataset import load_dataset
from kpianalysis.report import panel_views

# --------------------------------------------------------------------------------------------
# The seed programme alone: a one-programme panel


@pytest.fixture(scope="module")
def seed_2023(seed):
    ds = seed.as_of(2023)
    table = attainment_table(ds, 2023)
    return ds, table


def test_fy2023_shipped_panel_is_one_programme_four_kpis_two_achieved(seed_2023):
    ds, table = seed_2023
    progs = panel.panel_programmes(table, ds.programmes)
    h = panel.panel_headline(progs, 2023)
    assert (h.n_programmes, h.n_programmes_evaluated) == (1, 1)
    assert (h.n_kpis, h.n_kpis_evaluated, h.n_kpis_achieved, h.n_kpis_without_actual) == (
        4,
        4,
        2,
        0,
    )
    assert h.share_kpis_achieved == 0.5
    assert (h.n_programmes_any_achieved, h.share_programmes_any_achieved) == (1, 1.0)
    assert (h.n_programmes_all_achieved, h.share_programmes_all_achieved) == (0, 0.0)
    html = panel_views.panel_headline_view(h)
    assert "2 / 4 (50.0%)" in html and "1 / 1 (100.0%)" in html
    # It says it is a one-programme panel instead of presenting a cross-programme statistic.
    assert "この年度に評価できる事業は1事業だけです" in html
    assert "single programme" in panel_views.panel_headline_view(h, "en")


def test_fy2023_shipped_distribution_by_kind_and_grant_type(seed_2023):
    ds, table = seed_2023
    kpis = panel.panel_kpis(table, ds.programmes)
    by_grant = panel.achievement_distribution(kpis, "grant_category_ja")
    assert by_grant["grant_category_ja"].tolist() == ["推進"]  # printed 地方創生推進タイプ
    # Rates 9/13, 83/3000, 50/50, 1341/500; sorted 0.0277 0.6923 1.0 2.682: the median is
    # (9/13 + 1)/2 and the quartiles interpolate linearly between neighbours.
    rates = sorted([9 / 13, 83 / 3000, 1.0, 1341 / 500])
    row = by_grant.iloc[0]
    assert row["median"] == pytest.approx((9 / 13 + 1.0) / 2)
    assert row["q1"] == pytest.approx(rates[0] + 0.75 * (rates[1] - rates[0]))
    assert row["q3"] == pytest.approx(rates[2] + 0.25 * (rates[3] - rates[2]))
    by_kind = panel.achievement_distribution(kpis, "kind").set_index("kind")
    assert by_kind.loc["stock", "max"] == pytest.approx(1341 / 500)
    assert by_kind.loc["average", "n_achieved"] == 1 and by_kind.loc["flow", "n_achieved"] == 0


def test_one_programme_panel_lists_values_not_quartiles(seed_2023):
    """Issue 17: quartiles were printed for a single programme; fewer than five list values."""
    ds, table = seed_2023
    kpis = panel.panel_kpis(table, ds.programmes)
    by_grant = panel.achievement_distribution(kpis, "grant_type_ja")
    assert by_grant["n_programmes"].tolist() == [1]
    html = panel_views.distribution_view(by_grant, "grant_type_ja")
    # The seed's four FY2023 rates, ascending: 83/3000, 9/13, 50/50, 1341/500.
    assert "<td>2.8%, 69.2%, 100.0%, 268.2%</td>" in html
    assert "第1四分位" not in html and "中央値" not in html
    en = panel_views.distribution_view(by_grant, "grant_type_ja", "en")
    assert "Rates (each KPI)" in en and "Q1" not in en
    # Five programmes in one group: quartiles again, no list.
    five = pd.concat([kpis.assign(programme_id=f"p{i}") for i in range(5)], ignore_index=True)
    many = panel_views.distribution_view(panel.achievement_distribution(five, "grant_type_ja"),
                                         "grant_type_ja")  # fmt: skip
    assert "第1四分位" in many and "各KPI" not in many


# --------------------------------------------------------------------------------------------
# A hand-made panel of four programmes


def _hand_panel() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Four programmes, seven KPIs (A: T F –, B: T T, C: F, D: –; – = no actual)."""
    programmes = pd.DataFrame(
        {
            "programme_id": ["D", "C", "B", "A"],
            "name_ja": ["事業D", "事業C", "事業B", "事業A"],
            "grant_type_ja": ["横展開タイプ", "推進タイプ", "先駆タイプ", "推進タイプ"],
        }
    )
    na = None
    table = pd.DataFrame(
        {
            "programme_id": ["A", "A", "A", "B", "B", "C", "D"],
            "indicator_id": [1, 2, 3, 1, 2, 1, 1],
            "indicator_label": ["①", "②", "③", "①", "②", "①", "①"],
            "kind": ["flow", "stock", "flow", "flow", "cumulative", "stock", "flow"],
            "achieved": pd.array([True, False, na, True, True, False, na], dtype="boolean"),
            "achievement_rate": [1.2, 0.8, np.nan, 1.5, 1.0, 0.4, np.nan],
            "status_class": [
                "target_achieved",
                "behind",
                "insufficient_data",
                "target_achieved",
                "target_achieved",
                "no_progress",
                "insufficient_data",
            ],
            "anticipated_class": ["maintain"] * 7,
            "cagr_class": ["target_achieved"] * 7,
            "miss_share_class": ["on_track"] * 6 + [None],
        }
    )
    return table, programmes


def test_hand_panel_programmes_sorted_by_share_achieved():
    table, programmes = _hand_panel()
    p = panel.panel_programmes(table, programmes)
    assert p["programme_id"].tolist() == ["B", "A", "C", "D"]  # 1.0, 0.5, 0.0, not evaluated
    assert p["n_kpis"].tolist() == [2, 3, 1, 1]
    assert p["n_evaluated"].tolist() == [2, 2, 1, 0]
    assert p["n_achieved"].tolist() == [2, 1, 0, 0]
    assert p["n_without_actual"].tolist() == [0, 1, 0, 1]
    assert p["share_achieved"].iloc[:3].tolist() == [1.0, 0.5, 0.0]
    assert math.isnan(p["share_achieved"].iloc[3])
    assert p["any_achieved"].tolist() == [True, True, False, pd.NA]
    assert p["all_achieved"].tolist() == [True, False, False, pd.NA]


def test_hand_panel_headline():
    table, programmes = _hand_panel()
    h = panel.panel_headline(panel.panel_programmes(table, programmes), 2023)
    # Programmes: 4, of which 3 evaluated; A and B achieved one or more (2/3); B all (1/3).
    assert (h.n_programmes, h.n_programmes_evaluated) == (4, 3)
    assert h.n_programmes_any_achieved == 2
    assert h.share_programmes_any_achieved == pytest.approx(2 / 3)
    assert h.n_programmes_all_achieved == 1
    assert h.share_programmes_all_achieved == pytest.approx(1 / 3)
    # KPIs: 7, of which 5 evaluated, 3 achieved (3/5); 2 without an actual, outside the share.
    assert (h.n_kpis, h.n_kpis_evaluated, h.n_kpis_achieved, h.n_kpis_without_actual) == (
        7,
        5,
        3,
        2,
    )
    assert h.share_kpis_achieved == pytest.approx(0.6)
    html = panel_views.panel_headline_view(h)
    assert "3 / 5 (60.0%)" in html and "2 / 3 (66.7%)" in html and "1 / 3 (33.3%)" in html
    assert "1事業だけ" not in html
    assert "実績値のない2指標は割合の分母に含めていません" in html


def test_hand_panel_distributions():
    table, programmes = _hand_panel()
    kpis = panel.panel_kpis(table, programmes)
    kind = panel.achievement_distribution(kpis, "kind").set_index("kind")
    assert kind.index.tolist() == ["cumulative", "flow", "stock"]
    assert kind["n_kpis"].tolist() == [1, 4, 2]
    assert kind["n_evaluated"].tolist() == [1, 2, 2]
    assert kind["share_achieved"].tolist() == [1.0, 1.0, 0.0]
    # flow rates 1.2, 1.5: quartiles 1.275, 1.35, 1.425; stock 0.4, 0.8: 0.5, 0.6, 0.7.
    assert kind.loc["flow", ["min", "q1", "median", "q3", "max"]].tolist() == pytest.approx(
        [1.2, 1.275, 1.35, 1.425, 1.5]
    )
    assert kind.loc["stock", ["min", "q1", "median", "q3", "max"]].tolist() == pytest.approx(
        [0.4, 0.5, 0.6, 0.7, 0.8]
    )
    grant = panel.achievement_distribution(kpis, "grant_type_ja").set_index("grant_type_ja")
    # 推進タイプ: A and C — rates 1.2, 0.8, 0.4 (A③ has none); 1 of 3 evaluated achieved.
    assert grant.loc["推進タイプ", "n_kpis"] == 4
    assert grant.loc["推進タイプ", "share_achieved"] == pytest.approx(1 / 3)
    assert grant.loc["推進タイプ", ["q1", "median", "q3"]].tolist() == pytest.approx(
        [0.6, 0.8, 1.0]
    )
    assert grant.loc["先駆タイプ", "median"] == pytest.approx(1.25)
    assert grant.loc["横展開タイプ", "n_evaluated"] == 0
    assert math.isnan(grant.loc["横展開タイプ", "share_achieved"])
    assert math.isnan(grant.loc["横展開タイプ", "median"])


def test_hand_panel_progress_classes():
    table, _ = _hand_panel()
    c = panel.progress_classes(table)
    status = c[c["assessment"] == "status"]
    assert status["outcome"].tolist() == [
        "target_achieved",
        "behind",
        "no_progress",
        "insufficient_data",
    ]
    assert status["n_kpis"].tolist() == [3, 1, 1, 2]
    assert status["n_programmes"].tolist() == [2, 1, 1, 2]  # A, B / A / C / A, D
    assert status["share_kpis"].tolist() == pytest.approx([3 / 7, 1 / 7, 1 / 7, 2 / 7])
    miss = c[c["assessment"] == "miss_share"]
    assert miss["n_kpis"].tolist() == [6]  # D's missing class is not counted as a class
    assert miss["n_programmes"].tolist() == [3]


def test_programmes_view_escapes_names_and_keeps_order():
    table, programmes = _hand_panel()
    programmes.loc[programmes["programme_id"] == "B", "name_ja"] = "<script>x</script>"
    html = panel_views.programmes_view(panel.panel_programmes(table, programmes))
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert html.index("&lt;script&gt;") < html.index("事業A") < html.index("事業C")


# --------------------------------------------------------------------------------------------
# Two real programmes through the loader and the attainment table


def test_two_programmes_through_the_loader(tmp_path: Path):
    """The seed programme plus a copy whose KPI ① reached 13 of 13 in FY2023."""
    raw = seed_only(tmp_path / "raw")
    other = raw / "23206-community"
    shutil.copytree(raw / SEED_ID, other)
    for path in other.glob("*.csv"):
        rows = [[c.replace(SEED_ID, "23206-community") for c in r] for r in read_rows(path)]
        if path.name == "programme.csv":
            rows[1][rows[0].index("municipality_code")] = "23206"
        if path.name == "observations.csv":
            i = next(k for k, r in enumerate(rows) if r[1] == "①" and r[2] == "2023年度")
            rows[i][rows[0].index("actual")] = "累計 13団体"
        write_rows(path, rows)
    ds = load_dataset(raw).as_of(2023)
    table = attainment_table(ds, 2023)
    progs = panel.panel_programmes(table, ds.programmes)
    assert progs["programme_id"].tolist() == ["23206-community", SEED_ID]  # 3/4 before 2/4
    assert progs["share_achieved"].tolist() == [0.75, 0.5]
    h = panel.panel_headline(progs, 2023)
    # 8 KPIs, 5 achieved (62.5 %); both programmes achieved one or more, neither all (② misses).
    assert (h.n_programmes, h.n_kpis_evaluated, h.n_kpis_achieved) == (2, 8, 5)
    assert h.share_kpis_achieved == 0.625
    assert (h.n_programmes_any_achieved, h.n_programmes_all_achieved) == (2, 0)


# --------------------------------------------------------------------------------------------
# Panels by plan period and grant categories (issue 16.8): the seed beside the partner fixtures

PARTNERS = Path(__file__).parent / "fixtures" / "partners"
IJU, SHOTEN, KANKO, MEDIA = "08220-iju", "20201-shoten", "21203-kanko", "28209-media"


@pytest.fixture(scope="module")
def five():
    """Handa (plan FY2021–2023) and four partners' programmes, as a partner would add them:
    つくば市 FY2016–2020 (actuals FY2016–2017), 長野市 FY2019–2021, 高山市 FY2016–2018,
    豊岡市 FY2015–2016 (each with actuals in every plan year)."""
    from kpianalysis.data.dataset import load_folders

    return load_folders([SEED_DIR, *(PARTNERS / p for p in (IJU, SHOTEN, KANKO, MEDIA))])


def _year_panel(ds, fy: int):
    cut = panel.panel_dataset(ds.as_of(fy), fy)
    table = attainment_table(cut, fy)
    return cut, table, panel.panel_programmes(table, cut.programmes)


def test_a_panel_holds_the_programmes_whose_plan_or_actuals_cover_its_year(five):
    # Plan periods (programme.csv) and the years with an actual (observations.csv), by hand:
    # 豊岡 H27–H28 (FY2015–16), 高山 H28–H30 (FY2016–18), つくば H28–H32 (FY2016–20),
    # 長野 R1–R3 (FY2019–21), 半田 R3–R5 (FY2021–23). Nobody reports outside their plan here.
    members = {
        2015: [MEDIA],
        2016: [IJU, KANKO, MEDIA],
        2017: [IJU, KANKO],
        2018: [IJU, KANKO],
        2019: [IJU, SHOTEN],
        2020: [IJU, SHOTEN],
        2021: [SHOTEN, SEED_ID],
        2022: [SEED_ID],
        2023: [SEED_ID],
    }
    assert five.fiscal_years == list(members)
    for fy, expected in members.items():
        mask = panel.panel_members(five.programmes, five.as_of(fy).observations, fy)
        assert sorted(five.programmes["programme_id"][mask]) == expected, fy
        cut = panel.panel_dataset(five.as_of(fy), fy)
        assert sorted(cut.programmes["programme_id"]) == expected, fy
        for name, df in cut.tables().items():
            assert set(df["programme_id"]) <= set(expected), (fy, name)


def test_an_actual_outside_the_plan_period_still_counts(five):
    # A sheet that reports a year after its plan ended (豊岡's plan moved to end in FY2015):
    # its FY2016 actuals keep it in the FY2016 panel; FY2017 it reported nothing, so it is out.
    progs = five.programmes.assign(
        plan_end=np.where(
            five.programmes["programme_id"] == MEDIA, 2015, five.programmes["plan_end"]
        )
    )
    obs = five.observations
    assert panel.panel_members(progs, obs, 2016)[progs["programme_id"] == MEDIA].tolist() == [True]
    assert panel.panel_members(progs, obs, 2017)[progs["programme_id"] == MEDIA].tolist() == [False]


def test_fy2015_panel_is_toyooka_alone_without_handa(five):
    # Issue 16: the FY2015 panel listed Handa (plan FY2021–2023) with "実績値なし 4".
    # 豊岡 FY2015 (H28.3): ① 18 of 20 人/月 missed; ② 14 of 12 番組 achieved; ③ 1,262 of 1,250
    # 千人 achieved → 3 KPIs evaluated, 2 achieved (66.7 %), none without an actual.
    cut, _, progs = _year_panel(five, 2015)
    h = panel.panel_headline(progs, 2015)
    assert (h.n_programmes, h.n_programmes_evaluated) == (1, 1)
    assert (h.n_kpis, h.n_kpis_evaluated, h.n_kpis_achieved, h.n_kpis_without_actual) == (
        3, 3, 2, 0,
    )  # fmt: skip
    html = panel_views.panel_headline_view(h)
    assert "この年度に評価できる事業は1事業だけです" in html and "2 / 3 (66.7%)" in html
    view = panel_views.programmes_view(progs)
    assert "半田市" not in view and "<td class=\"num\">0</td>" in view  # 0 without an actual
    assert "1事業（計画期間に2015年度を含む事業と" in panel_views.panel_title(cut.programmes, 2015)


def test_fy2017_panel_two_programmes_hand_values(five):
    # つくば FY2017: ① 171 of 180 件 missed, ② 47 of 45 世帯 (30年3月 = FY2017) achieved;
    # 高山 FY2017: target level 1,318,801 + 2 × 40,000 = 1,398,801, actual 1,371,922 missed.
    # 3 KPIs, 1 achieved (33.3 %); 1 of 2 programmes achieved at least one; none all.
    _, _, progs = _year_panel(five, 2017)
    assert progs["programme_id"].tolist() == [IJU, KANKO]  # 1/2 before 0/1
    h = panel.panel_headline(progs, 2017)
    assert (h.n_programmes, h.n_programmes_evaluated, h.n_programmes_any_achieved) == (2, 2, 1)
    assert (h.n_kpis, h.n_kpis_evaluated, h.n_kpis_achieved) == (3, 3, 1)
    html = panel_views.panel_headline_view(h)
    assert "1 / 3 (33.3%)" in html and "1 / 2 (50.0%)" in html
    assert "1事業だけ" not in html and "single programme" not in panel_views.panel_headline_view(
        h, "en"
    )


def test_one_programme_caveat_follows_the_programmes_evaluated(five):
    # FY2020: つくば (plan to FY2020, no FY2020 actual yet) and 長野 (① 5 of 6 店舗, ② 49 of 55
    # 件/年, ③ 2,480 of 3,400 人/日: all missed) are in the panel; only 長野 is evaluated, so
    # the shares are one programme's figures and the caveat says so.
    _, _, progs = _year_panel(five, 2020)
    h = panel.panel_headline(progs, 2020)
    assert (h.n_programmes, h.n_programmes_evaluated) == (2, 1)
    assert (h.n_kpis, h.n_kpis_evaluated, h.n_kpis_achieved, h.n_kpis_without_actual) == (
        5, 3, 0, 2,
    )  # fmt: skip
    assert "この年度に評価できる事業は1事業だけです" in panel_views.panel_headline_view(h)
    assert "single programme can be evaluated" in panel_views.panel_headline_view(h, "en")
    # No programme evaluated: the panel says so instead of printing empty shares.
    none = panel.PanelHeadline(2020, 1, 0, 0, math.nan, 0, math.nan, 2, 0, 0, 2, math.nan)
    assert "この年度に評価できる事業はありません" in panel_views.panel_headline_view(none)


@pytest.mark.parametrize(
    ("printed", "category"),
    [
        ("地方創生先行型", "先行型"),
        ("地方創生先行型交付金", "先行型"),
        ("地域活性化・地域住民生活等緊急支援交付金（地方創生先行型）", "先行型"),
        ("地方創生加速化交付金", "加速化"),
        ("地方創生推進交付金", "推進"),
        ("地方創生推進タイプ", "推進"),
        ("地方創生推進交付金（Ｓｏｃｉｅｔｙ ５．０タイプ）", "推進"),  # full width, a space
        ("横展開タイプ", "推進"),
        ("地方創生拠点整備交付金", "拠点整備"),
        ("デジタル田園都市国家構想交付金（地方創生拠点整備タイプ）", "拠点整備"),
        ("デジタル田園都市国家構想交付金（地方創生推進タイプ）", "推進"),
        ("デジタル田園都市国家構想交付金（デジタル実装タイプ）", "デジタル田園都市国家構想"),
        ("デジタル田園都市国家構想推進交付金", "デジタル田園都市国家構想"),
        ("新しい地方経済・生活環境創生交付金（第2世代交付金）", "新しい地方経済・生活環境創生"),
        ("地方 創生 先行型", "先行型"),  # PDF text with spaces inside
        ("県単独補助金", "県単独補助金"),  # no national category: kept as its own
        ("", ""),
    ],
)
def test_grant_types_map_to_national_categories(printed, category):
    assert panel.grant_category(printed) == category
    assert category in panel.GRANT_CATEGORIES or category == printed.strip()


def test_two_printings_of_one_grant_are_one_category_with_the_labels_kept(five, tmp_path):
    # 豊岡's sheet prints 地方創生先行型; a copy of it printed 地方創生先行型交付金 (as FY2015
    # sheets also do) joins the same category, each programme keeping its own label.
    raw = tmp_path / "raw"
    shutil.copytree(PARTNERS / MEDIA, raw / MEDIA)
    other = raw / "28210-media"
    shutil.copytree(raw / MEDIA, other)
    for path in other.glob("*.csv"):
        rows = [[c.replace(MEDIA, "28210-media") for c in r] for r in read_rows(path)]
        if path.name == "programme.csv":
            rows[1][rows[0].index("municipality_code")] = "28210"
            rows[1][rows[0].index("grant_type_ja")] = "地方創生先行型交付金"
        write_rows(path, rows)
    ds = load_dataset(raw)
    _, table, progs = _year_panel(ds, 2015)
    kpis = panel.panel_kpis(table, ds.programmes)
    by = panel.achievement_distribution(kpis, "grant_category_ja")
    # One row: 6 KPIs (3 each), 4 achieved (② and ③ of each), 4/6.
    assert by[["grant_category_ja", "n_kpis", "n_evaluated", "n_achieved"]].values.tolist() == [
        ["先行型", 6, 6, 4]
    ]
    assert sorted(progs["grant_type_ja"]) == ["地方創生先行型", "地方創生先行型交付金"]
    ja = panel_views.programmes_view(progs)
    assert "先行型（地方創生先行型）" in ja and "先行型（地方創生先行型交付金）" in ja
    en = panel_views.programmes_view(progs, "en")
    assert 'Pioneering-type grant (FY2014) (<span lang="ja">地方創生先行型</span>)' in en
    view = panel_views.distribution_view(by, "grant_category_ja", "en")
    assert "<td>Pioneering-type grant (FY2014)</td>" in view


def test_english_panel_writes_a_negative_rate_with_the_minus_sign(seed):
    # FY2021 rates: ① 4/6 = 66.7 %, ② −468/500 = −93.6 %, ③ 47/40 = 117.5 %, ④ 312/300 = 104.0 %;
    # English writes −93.6 % with the minus sign of its values (U+2212), Japanese as before.
    ds = seed.as_of(2021)
    kpis = panel.panel_kpis(attainment_table(ds, 2021), ds.programmes)
    by_grant = panel.achievement_distribution(kpis, "grant_type_ja")
    en = panel_views.distribution_view(by_grant, "grant_type_ja", "en")
    assert "<td>−93.6%, 66.7%, 104.0%, 117.5%</td>" in en
    ja = panel_views.distribution_view(by_grant, "grant_type_ja")
    assert "<td>-93.6%, 66.7%, 104.0%, 117.5%</td>" in ja


def test_english_index_writes_a_negative_rate_with_the_minus_sign():
    from kpianalysis.report.index import _programme_section

    # The archived headline keeps the rates as recorded ("② -93.6%", FY2021 of the seed);
    # the English index page says them with the minus sign of English values.
    rec = {
        "fiscal_year": 2021,
        "notebook": "attainment",
        "language": "en",
        "_html": "fy2021/attainment.en.html",
        "headline": {"n_evaluated": 4, "n_achieved": 2, "rates": ["① 66.7%", "② -93.6%"]},
    }
    en = "".join(_programme_section("23205-community", [rec], "en", ""))
    assert "(achievement: ① 66.7%, ② −93.6%)" in en and "-93.6" not in en
    ja = "".join(_programme_section("23205-community", [rec], "ja", ""))
    assert "（達成率: ① 66.7%, ② -93.6%）" in ja
