"""Partners' reports read right (issue 16, point 9): figures agree with the summary, axes
in the unit as written, the programme's note shown."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from kpianalysis.report.figures import achievement_figure, series_figure


def _texts(ax) -> list[str]:
    return [t.get_text().strip() for t in ax.texts]


def test_target_zero_met_is_shown_met_not_uncomputed() -> None:
    # 待機児童 0人 against a target of 0人 (less is better): met, with no rate (0 ÷ 0). The
    # summary says "○ 達成"; the figure said "算出不能" in grey. ② 0.7 of a target missed.
    df = pd.DataFrame(
        {
            "label": ["①", "②"],
            "achievement_rate": [float("nan"), 0.7],
            "achieved": [True, False],
            "reason": ["目標値が0", ""],
        }
    )
    ax = achievement_figure(df, reason="reason")
    texts = _texts(ax)
    assert "目標を達成（達成率は算出不能）" in texts and "70.0%" in texts
    assert not any("算出不能 " in t for t in texts)  # no grey "not computed" label
    legend = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    assert "算出不能" not in legend and "目標達成" in legend
    en = achievement_figure(df, reason="reason", language="en")
    assert "target met (no rate can be computed)" in _texts(en)
    plt.close("all")


def test_axis_in_the_unit_as_written_without_a_power_of_ten() -> None:
    # A stock of 1,200,000 to 1,500,000 t: matplotlib would print "1e6" above the axis and
    # ticks 1.2, 1.3, …; the reader sees the unit as written and whole numbers.
    obs = pd.DataFrame(
        {
            "label": ["① CO2"] * 3,
            "fiscal_year": [2021, 2022, 2023],
            "actual": [1_200_000, 1_350_000, 1_500_000],
            "target": [1_250_000, 1_300_000, 1_400_000],
        }
    )
    base = pd.DataFrame({"label": ["① CO2"], "baseline_year": [2020], "baseline": [1_100_000]})
    fig = series_figure(obs, base, units={"① CO2": "トン"})
    ax = fig.axes[0]
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert ax.get_ylabel() == "トン"
    assert ax.yaxis.get_offset_text().get_text() == ""
    assert "1,500,000" in ticks and all("e" not in t for t in ticks)
    plt.close("all")


def test_the_programme_note_is_shown_in_the_overview() -> None:
    # 28209-media's programme.csv says in its note column that its figures are illustrative
    # and that no source document exists; the report's programme overview shows it, escaped.
    import dataclasses
    from pathlib import Path

    from kpianalysis.data.dataset import load_folders
    from kpianalysis.report.sections import programme_overview

    folder = Path(__file__).resolve().parent / "fixtures" / "partners" / "28209-media"
    ds = load_folders([folder]).as_of(2016)
    ja = str(programme_overview(ds, ds, 2016, "ja"))
    assert "<th>注記</th>" in ja
    assert "Illustrative test fixture, not a real sheet" in ja
    assert "No source document exists, so the transcription cannot be checked." in ja
    en = str(programme_overview(ds, ds, 2016, "en"))
    assert "<th>Note</th>" in en
    hostile = ds.programmes.assign(note="<img src=x onerror=alert(1)>")
    ds2 = dataclasses.replace(ds, programmes=hostile)
    out = str(programme_overview(ds2, ds2, 2016, "ja"))
    assert "<img src=x" not in out and "&lt;img src=x" in out


# --- Every figure of every report type, for every partner fixture (16.9) ----------------------
PARTNERS = Path(__file__).resolve().parent / "fixtures" / "partners"


def _report_figures(folder_or_ds, fiscal_year: int, language: str, monkeypatch) -> list:
    """The figures the attainment, trends and panel reports draw for one programme and year,
    captured where they are embedded (each view calls ``figure_html`` once per figure)."""
    from kpianalysis.analysis import panel
    from kpianalysis.analysis.projection import trend_predictions, trend_table
    from kpianalysis.analysis.tables import attainment_table
    from kpianalysis.data.dataset import load_folders
    from kpianalysis.report import attainment_views, panel_views, present, trends_views

    figures: list = []

    def capture(fig, alt, caption=None):
        fig.canvas.draw()  # tick labels and offset texts are set at drawing
        figures.append(fig)
        return present.Html("")

    for module in (attainment_views, trends_views, panel_views):
        monkeypatch.setattr(module, "figure_html", capture)
    full = folder_or_ds if not isinstance(folder_or_ds, Path) else load_folders([folder_or_ds])
    ds = full.as_of(fiscal_year)
    table = attainment_table(ds, fiscal_year)
    attainment_views.achievement_chart(table, fiscal_year, language)
    attainment_views.series_chart(ds, table, fiscal_year, language)
    trends = trend_table(ds, fiscal_year)
    trends_views.trend_chart(ds, trends, trend_predictions(ds, fiscal_year), language)
    pds = panel.panel_dataset(ds, fiscal_year)
    kpis = panel.panel_kpis(attainment_table(pds, fiscal_year), pds.programmes)
    panel_views.distribution_chart(kpis, fiscal_year, language)
    return figures


def _axis_texts(fig) -> tuple[list[str], list[str]]:
    """Every tick label and every offset text of every axis of ``fig``."""
    ticks, offsets = [], []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            ticks += [t.get_text() for t in axis.get_ticklabels() if t.get_text()]
            offsets.append(axis.get_offset_text().get_text())
    return ticks, offsets


def _panel_axis(fig, name: str):
    """The axes whose title names the KPI ``name`` (the series and trend figures)."""

    def title(ax) -> str:
        return "".join(ax.get_title(loc=loc) for loc in ("left", "center")).replace("\n", "")

    hits = [ax for ax in fig.axes if name in title(ax)]
    assert len(hits) == 1, [title(ax) for ax in fig.axes]
    return hits[0]


def _last_actual_year(folder: Path) -> int:
    from kpianalysis.data.dataset import load_folders

    obs = load_folders([folder]).observations
    return int(obs.loc[obs["actual"].notna(), "fiscal_year"].max())


@pytest.mark.parametrize("name", sorted(p.name for p in PARTNERS.iterdir() if p.is_dir()))
def test_no_figure_axis_of_any_report_prints_a_power_of_ten(name, monkeypatch) -> None:
    folder = PARTNERS / name
    figures = _report_figures(folder, _last_actual_year(folder), "ja", monkeypatch)
    # achievement, series, trend and panel distribution
    assert len(figures) == 4
    for fig in figures:
        ticks, offsets = _axis_texts(fig)
        assert offsets == [""] * len(offsets), offsets
        assert not [t for t in ticks if re.search(r"\de[+-]?\d|×\s?10|10\^", t)], ticks
    plt.close("all")


def test_series_and_trend_axes_read_in_the_unit_the_sheet_writes(monkeypatch) -> None:
    # 28209-media ③ is declared in 千人: 1,180千人 (FY2014), 1,262千人 (FY2015), targets 1,250
    # and 1,300千人. Held in 人 (1,262,000), drawn in 千人: the axis tops out just above 1,300
    # (it would be 1,300,000 in 人), counts start at 0.
    for language, label in (("ja", "千人"), ("en", "thousand persons")):
        figures = _report_figures(PARTNERS / "28209-media", 2016, language, monkeypatch)
        for fig in figures[1:3]:  # the series and the trend figure
            ax = _panel_axis(fig, "観光入込客数" if language == "ja" else "Tourist visits")
            assert ax.get_ylabel() == label
            low, high = ax.get_ylim()
            assert low <= 1_180 and 1_300 <= high < 2_000, (low, high)
            ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
            assert "1,000" in ticks and max(float(t.replace(",", "")) for t in ticks) < 2_000
    plt.close("all")


def test_an_axis_in_ten_thousand_tonnes(tmp_path, monkeypatch) -> None:
    # A KPI declared in 万トン (CO2 emitted, less is better): 11.8万トン at the FY2014 baseline,
    # 12.6 in FY2015 against 12.5, target 12.0 for FY2016. Read as 118,000 t …; the axis
    # shows 11.8–12.6 under 万トン, never 118,000 トン or "1e5".
    import shutil

    from kpianalysis.data.dataset import load_folders

    folder = tmp_path / "28209-media"
    shutil.copytree(PARTNERS / "28209-media", folder)
    rows = (folder / "indicators.csv").read_text("utf-8").splitlines()
    rows[3] = (
        "28209-media,③,二酸化炭素排出量,CO2 emissions,万トン,flow,decrease,,H27.3,11.8万トン,"
        "観光プロモーション事業"
    )
    (folder / "indicators.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    obs = (folder / "observations.csv").read_text("utf-8").splitlines()
    obs[5] = "28209-media,③,H28.3,(12.5万トン),12.6万トン,99.2%,"
    obs[6] = "28209-media,③,H29.3,(12.0万トン),-,-,集計中（平成29年8月公表予定）"
    (folder / "observations.csv").write_text("\n".join(obs) + "\n", encoding="utf-8")
    ds = load_folders([folder])
    third = ds.indicators.set_index("indicator_id").loc[3]
    assert (third["unit"], third["unit_text"], third["baseline"]) == ("トン", "万トン", 118_000)
    figures = _report_figures(ds, 2016, "ja", monkeypatch)
    ax = _panel_axis(figures[1], "二酸化炭素排出量")
    assert ax.get_ylabel() == "万トン"
    values = sorted(
        float(y) for line in ax.get_lines() for y in line.get_ydata() if y == y
    )  # every point drawn: baseline 11.8, actual 12.6, targets 12.5 and 12.0
    assert values[0] == pytest.approx(11.8) and values[-1] == pytest.approx(12.6)
    offsets = _axis_texts(figures[1])[1]
    assert offsets == [""] * len(offsets)
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert ticks and all(float(t.replace(",", "")) < 100 for t in ticks), ticks
    plt.close("all")


def test_a_share_fitted_on_the_logit_scale_is_drawn_above_zero(monkeypatch, tmp_path) -> None:
    # 10000-kanko ③ is a share (%: 0.0 % in FY2012, 34.0 % in FY2017), fitted on the logit
    # scale, which never leaves 0–100 %; its axis went down to about −50 %. At exactly 0 % no
    # logit line is fitted (share_at_bound), so a copy starts at 1 % (the source gains the
    # cell): the line 1 % → 34.0 % runs on to FY2018 (about 46 %), the axis still from 0.
    import shutil

    folder = tmp_path / "10000-kanko"
    shutil.copytree(PARTNERS / "10000-kanko", folder)
    indicators = folder / "indicators.csv"
    text = indicators.read_text("utf-8")
    assert text.endswith(",0%\n")
    indicators.write_text(text[: -len("0%\n")] + "1%\n", "utf-8")
    with open(folder / "source.txt", "a", encoding="utf-8") as f:
        f.write("\n1%\n")
    figures = _report_figures(folder, 2017, "ja", monkeypatch)
    ax = _panel_axis(figures[2], "総時間短縮割合")
    drawn = [float(y) for line in ax.get_lines() for y in line.get_ydata() if y == y]
    assert max(drawn) > 40  # the logit line beyond the last actual (34.0 %) is drawn
    assert ax.get_ylabel() == "%" and ax.get_ylim()[0] == 0.0
    plt.close("all")
