"""Partners' reports read right (issue 16, point 9): figures agree with the summary, axes
in the unit as written, the programme's note shown."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

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
