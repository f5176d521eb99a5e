"""Figures: Japanese glyphs render (no tofu), values are drawn where they should be."""

from __future__ import annotations

import io
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.font_manager import FontProperties, findfont

from kpianalysis.report.figures import (
    JAPANESE_FONT,
    achievement_figure,
    distribution_figure,
    series_figure,
    trend_figure,
    use_japanese_theme,
)

SEED_FY2023 = pd.DataFrame(
    {
        "label": [
            "① 小学校区コミュニティの設立数",
            "② 若い世代（39歳以下）の転入者数ー転出者数",
            "③ コミュニティ・スクールの活動回数",
            "④ 外国籍市民向けフェイスブック登録者数",
        ],
        # Hand-computed from the FY2023 sheet: 9/13, 83/3000, 50/50, 1341/500.
        "achievement_rate": [9 / 13, 83 / 3000, 1.0, 1341 / 500],
        "achieved": [False, False, True, True],
    }
)


def _render(fig) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font" is a UserWarning
        fig.savefig(io.BytesIO(), format="png")


def test_theme_keeps_the_japanese_font_after_seaborn_resets_it():
    import seaborn as sns

    sns.set_theme()  # the trap: this resets font.family to a font without Japanese glyphs
    use_japanese_theme()
    assert matplotlib.rcParams["font.family"] == [JAPANESE_FONT]
    assert findfont(FontProperties(family=JAPANESE_FONT), fallback_to_default=False).endswith(
        "ipaexg.ttf"
    )


def test_achievement_figure_draws_each_rate_without_missing_glyphs():
    fig = achievement_figure(SEED_FY2023, title="2023年度（令和5年度）達成率").figure
    _render(fig)
    ax = fig.axes[0]
    widths = [p.get_width() for p in ax.patches]
    np.testing.assert_allclose(widths, [69.230769, 2.766667, 100.0, 268.2], rtol=1e-6)
    texts = {t.get_text().strip() for t in ax.texts}
    assert {"69.2%", "2.8%", "100.0%", "268.2%"} <= texts
    assert [t.get_text() for t in ax.get_yticklabels()] == list(SEED_FY2023["label"])


def test_hostile_label_is_drawn_as_text_not_mathtext():
    df = SEED_FY2023.assign(label=["$\\frac{1}{0", "<script>alert(1)</script>", "$$", "a$b"])
    _render(achievement_figure(df).figure)  # unbalanced $ would raise with math parsing on


def test_missing_rate_shows_its_reason():
    df = SEED_FY2023.assign(
        achievement_rate=[np.nan, 0.5, 1.0, 2.0], reason=["target_zero", "", "", ""]
    )
    fig = achievement_figure(df, reason="reason").figure
    assert any("target_zero" in t.get_text() for t in fig.axes[0].texts)


def test_trend_figure_one_panel_per_kpi():
    obs = pd.DataFrame(
        {
            "label": ["①"] * 3 + ["②"] * 3,
            "fiscal_year": [2021, 2022, 2023] * 2,
            "actual": [4, 7, 9, -468, -127, 83],
            "target": [6, 8, 13, 500, 1500, 3000],
        }
    )
    pred = pd.DataFrame(
        {
            "label": ["①", "①"],
            "fiscal_year": [2021, 2024],
            "mean": [4.1667, 11.6667],
            "mean_ci_low": [np.nan, np.nan],
            "mean_ci_high": [np.nan, np.nan],
            "pi_low": [0.0, 2.20],
            "pi_high": [8.0, 21.14],
        }
    )
    fig = trend_figure(obs, pred, units={"①": "団体", "②": "人"}, notes={"②": "傾向の推定なし"})
    _render(fig)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in visible] == ["①", "②"]
    line = visible[0].lines[0]
    np.testing.assert_allclose(line.get_ydata(), [4.1667, 11.6667])
    assert visible[0].get_ylabel() == "団体"
    assert any(t.get_text() == "傾向の推定なし" for t in visible[1].texts)


def test_trend_figure_marks_years_after_the_plan_as_reference():
    """FY2023 is the seed plan's last year: its report projects to FY2024 for reference only
    (issue 17), and the figure shades that year and says so; ② ends with its plan: nothing."""
    obs = pd.DataFrame(
        {"label": ["①"] * 3 + ["②"] * 3, "fiscal_year": [2021, 2022, 2023] * 2,
         "actual": [4, 7, 9, 47, 56, 50], "target": [6, 8, 13, 40, 45, 50]}
    )  # fmt: skip
    pred = pd.DataFrame(
        {"label": ["①", "①", "②", "②"], "fiscal_year": [2021, 2024, 2021, 2023],
         "mean": [4.2, 11.7, 47.0, 50.0]}
    ).assign(mean_ci_low=np.nan, mean_ci_high=np.nan, pi_low=np.nan, pi_high=np.nan)  # fmt: skip
    fig = trend_figure(obs, pred, plan_end={"①": 2023, "②": 2023}, language="en")
    first, second = (ax for ax in fig.axes if ax.get_visible())
    spans = [p for p in first.patches if p.get_facecolor()[:3] == pytest.approx((236 / 255,) * 3)]
    assert len(spans) == 1 and spans[0].get_x() == pytest.approx(2023.5)
    assert [t.get_text() for t in first.texts] == ["reference"]
    assert first.get_xlim()[1] > 2024  # the projected year stays in view
    assert second.patches == [] or all(
        p.get_facecolor()[:3] != pytest.approx((236 / 255,) * 3) for p in second.patches
    )
    assert "reference" not in [t.get_text() for t in second.texts]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_trend_axis_follows_the_data_not_a_huge_interval():
    # Seed KPI ④ as of FY2023: quasi-Poisson with df = 1 gives an interval up to ~1e6 while the
    # data span 300–1,341; the axis must stay readable and say that bands are cut.
    obs = pd.DataFrame(
        {
            "label": ["④"] * 3,
            "fiscal_year": [2021, 2022, 2023],
            "actual": [312, 1019, 1341],
            "target": [300, 400, 500],
        }
    )
    pred = pd.DataFrame(
        {
            "label": ["④"] * 2,
            "fiscal_year": [2023, 2024],
            "mean": [1456.2, 2688.6],
            "mean_ci_low": [53.6, 6.2],
            "mean_ci_high": [39538.2, 1.17e6],
            "pi_low": [605.0, 856.0],
            "pi_high": [2794.0, 963018.0],
        }
    )
    fig = trend_figure(obs, pred)
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    # Data and trend span 300–2688.6 (range 2388.6): a margin of one range below (the bands stay
    # above that), and bands shown up to two ranges above.
    assert low == pytest.approx(300 - 2388.6) and high == pytest.approx(2688.6 + 2 * 2388.6)
    assert any("区間の一部は図の外" in t.get_text() for t in ax.texts)
    # The same panel as a count: the axis starts at zero, not below.
    fig = trend_figure(obs, pred, nonnegative={"④": True})
    assert fig.axes[0].get_ylim()[0] == 0.0


def test_trend_figure_shows_both_bands_targets_path_and_baseline():
    # KPI ① as of FY2023 (累計, baseline FY2020 = 4) with a hand-made FY2024 band: PI [9, 26]
    # contains CI [9.17, 25.24]. The figure is tested here, not the model (test_trends does that).
    obs = pd.DataFrame(
        {
            "label": ["①"] * 4,
            "fiscal_year": [2020, 2021, 2022, 2023],
            "actual": [4, 4, 7, 9],
            "target": [None, 6, 8, 13],
            "is_baseline": [True, False, False, False],
        }
    )
    pred = pd.DataFrame(
        {
            "label": ["①"] * 2,
            "fiscal_year": [2023, 2024],
            "mean": [9.0, 10.67],
            "mean_ci_low": [9.0, 9.17],
            "mean_ci_high": [9.0, 25.24],
            "pi_low": [9.0, 9.0],
            "pi_high": [9.0, 26.0],
        }
    )
    fig = trend_figure(obs, pred, nonnegative={"①": True})
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"95%予測区間（新たな値）", "95%信頼区間（平均）", "当初値"} <= set(labels)
    ax = fig.axes[0]
    # The targets are one line through the three plan years, not loose markers.
    paths = [ln for ln in ax.lines if ln.get_label() == "目標値（計画）"]
    assert len(paths) == 1 and list(paths[0].get_xdata()) == [2021, 2022, 2023]
    assert paths[0].get_linestyle() == "--"
    # The prediction band is drawn first (underneath) and the confidence band over it.
    bands = [c for c in ax.collections if c.get_label().startswith("95%")]
    assert [b.get_label() for b in bands] == ["95%予測区間（新たな値）", "95%信頼区間（平均）"]
    assert ax.get_ylim()[0] >= 0.0
    # The English report's figure speaks English only (issue 17: Japanese axes and legends).
    en = trend_figure(obs, pred, nonnegative={"①": True}, language="en")
    words = [t.get_text() for t in en.legends[0].get_texts()] + [en.axes[0].get_xlabel()]
    assert words == ["actual", "baseline", "target (plan)", "trend", "95% CI (mean)",
                     "95% PI (new value)", "fiscal year"]  # fmt: skip


@pytest.mark.parametrize("n_kpis", [1, 2, 4])
def test_achievement_legend_sits_below_the_bars(n_kpis: int):
    """With one KPI (a partner's single-KPI programme) the legend was drawn over the bar."""
    data = pd.DataFrame(
        {
            "label": [f"KPI {i}" for i in range(n_kpis)],
            "achievement_rate": np.linspace(0.5, 1.2, n_kpis),
            "achieved": np.linspace(0.5, 1.2, n_kpis) >= 1,
        }
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = achievement_figure(data).figure
        fig.canvas.draw()
    # Too short a figure collapsed the axes to nothing ("constrained_layout not applied") and the
    # legend then covered the bar.
    assert not [w for w in caught if "constrained_layout not applied" in str(w.message)]
    renderer = fig.canvas.get_renderer()
    legend = fig.legends[0].get_window_extent(renderer)
    bars = fig.axes[0].get_window_extent(renderer)
    assert bars.height >= 12 * n_kpis  # pixels at 100 dpi: each bar is visible
    assert legend.y1 <= fig.axes[0].get_tightbbox(renderer).y0  # below the axis label too
    matplotlib.pyplot.close(fig)


def test_figures_draw_into_given_axes_and_subfigures():
    """ax= in and out (seaborn's convention): two figures combined in one layout."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(10, 4), layout="constrained")
    left, right = fig.subfigures(1, 2)
    ax = left.subplots()
    assert achievement_figure(SEED_FY2023, ax=ax) is ax
    # The same bars as a figure of its own (hand-computed rates × 100, see SEED_FY2023).
    np.testing.assert_allclose(
        [p.get_width() for p in ax.patches], [69.230769, 2.766667, 100.0, 268.2], rtol=1e-6
    )
    assert ax.get_legend() is not None and fig.legends == []  # legend inside the given axes
    obs = pd.DataFrame(
        {
            "label": ["①"] * 3 + ["④"] * 3,
            "fiscal_year": [2021, 2022, 2023] * 2,
            # The seed sheet: ① 4, 7, 9 (targets 6, 8, 13); ④ 312, 740, 1341 (300, 400, 500).
            "actual": [4, 7, 9, 312, 740, 1341],
            "target": [6, 8, 13, 300, 400, 500],
        }
    )
    base = pd.DataFrame({"label": ["①", "④"], "baseline_year": [2020] * 2, "baseline": [4, 0]})
    assert series_figure(obs, base, fig=right) is right
    assert len(right.axes) == 2 and len(fig.axes) == 3
    assert [list(line.get_ydata()) for line in right.axes[1].get_lines()][1] == [
        0.0,
        312.0,
        740.0,
        1341.0,
    ]
    _render(fig)
    plt.close(fig)


def test_figure_functions_leave_the_theme_alone():
    """The theme is set once: drawing a figure (at its own scale) restores the caller's rc."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    with sns.plotting_context("talk"), matplotlib.rc_context({"axes.unicode_minus": True}):
        before = dict(matplotlib.rcParams)
        figs = [
            achievement_figure(SEED_FY2023).figure,
            trend_figure(
                pd.DataFrame({"label": ["①"] * 2, "fiscal_year": [2021, 2022], "actual": [1, 2],
                              "target": [2, 3]}),
                pd.DataFrame(columns=["label", "fiscal_year", "mean"]),
            ),
        ]  # fmt: skip
        after = dict(matplotlib.rcParams)
    assert {k for k in before if before[k] != after[k]} == set()
    # …and the figure of its own was drawn at its own scale, not the caller's "talk".
    # seaborn: axis labels 12 pt in "notebook", × 0.8 in "paper" (9.6), × 1.5 in "talk" (18).
    assert figs[0].axes[0].xaxis.label.get_fontsize() == pytest.approx(9.6)
    for f in figs:
        plt.close(f)


def test_distribution_points_are_the_same_in_every_build():
    """seaborn's strip plot jittered with numpy's global generator: two builds differed."""
    import matplotlib.pyplot as plt

    data = SEED_FY2023.assign(kind=["cumulative", "flow", "average", "stock"], grant="A")
    state = np.random.get_state()
    points = []
    for _ in range(2):
        np.random.seed(len(points))  # a different global state each time
        fig = distribution_figure(data, groups=[("kind", "種別"), ("grant", "交付金")])
        points.append(np.asarray(fig.axes[1].collections[0].get_offsets()))
        plt.close(fig)
    np.random.set_state(state)
    np.testing.assert_array_equal(points[0], points[1])
    # x: the rates in percent (hand-computed above); y: within ±0.15 of the one box at 0.
    np.testing.assert_allclose(points[0][:, 0], [69.230769, 2.766667, 100.0, 268.2], rtol=1e-6)
    assert np.all(np.abs(points[0][:, 1]) <= 0.15) and len(set(points[0][:, 1])) == 4


def test_distribution_boxes_only_groups_of_five_programmes():
    """A box is a group's quartiles: drawn for five programmes or more, as the panel's tables
    give quartiles; a smaller group shows its points alone (issue 17: no quartiles for one
    programme; the seed's one programme drew a box of its 4 KPIs and a bar per single KPI)."""
    import matplotlib.pyplot as plt

    # Group "A": 5 programmes, one KPI each; group "B": 6 KPIs of 2 programmes.
    data = pd.DataFrame(
        {
            "programme_id": ["p1", "p2", "p3", "p4", "p5", "q1", "q1", "q1", "q2", "q2", "q2"],
            "grant": ["A"] * 5 + ["B"] * 6,
            "achievement_rate": [0.5, 0.8, 1.0, 1.2, 1.5, 0.1, 0.2, 0.3, 0.4, 0.6, 0.7],
            "achieved": [False, False, True, True, True] + [False] * 6,
        }
    )
    fig = distribution_figure(data, groups=[("grant", "交付金")], count="programme_id")
    ax = fig.axes[0]
    # One box (group A, at y = 0): its median is the 3rd of 5 rates, 100 %.
    medians = [
        line
        for line in ax.get_lines()
        if line.get_color() == "#333333" and line.get_linestyle() == "-"  # not the dashed 100 %
    ]
    assert len(ax.patches) == 1
    assert [[float(x) for x in m.get_xdata()] for m in medians] == [[100.0, 100.0]]
    # Every KPI is still a point: 11, filled for the 3 met targets, open for the 8 missed.
    points = ax.collections[0]
    assert len(points.get_offsets()) == 11
    faces = [tuple(f) for f in points.get_facecolors()]
    assert faces.count((1.0, 1.0, 1.0, 1.0)) == 8
    plt.close(fig)
    # Without `count`, KPIs are counted: group B's 6 KPIs get a box too.
    fig = distribution_figure(data, groups=[("grant", "交付金")])
    assert len(fig.axes[0].patches) == 2
    plt.close(fig)
