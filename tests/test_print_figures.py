"""Figures fit the A4 text width and their text is at least 7 pt there (issue 17, point 5).

A report's figure is embedded at its physical size (:func:`kpianalysis.report.embed.figure_html`:
``width`` = inches × 96 CSS px) and the browser shrinks it only when it is wider than the page.
So a figure at most 186 mm (A4 less the reports' 12 mm margins) wide prints at its own size, and
its text prints at the size it was drawn — which must be ≥ 7 pt (the trends figure was 12.4 in
wide with 8–11 pt text: about 5–6.5 pt at A4). tests/test_browser_print.py checks that each
printed figure is indeed shown at its physical size.
"""

from __future__ import annotations

import pytest
from matplotlib.text import Text

from kpianalysis.analysis.projection import trend_predictions, trend_table
from kpianalysis.analysis.tables import attainment_table
from kpianalysis.report import attainment_views, trends_views

#: A4's 210 mm less two 12 mm margins, in inches.
A4_TEXT_WIDTH_IN = 186 / 25.4
SMALLEST_PT = 7.0
SEED = "23205-community"


def _drawn(monkeypatch: pytest.MonkeyPatch, module) -> list:
    """Figures the module would embed, kept instead of encoded."""
    figures: list = []

    def keep(fig, alt, caption=None):
        figures.append(fig)
        return ""

    monkeypatch.setattr(module, "figure_html", keep)
    return figures


def _texts(fig) -> list[Text]:
    fig.canvas.draw()  # lays out titles, ticks and the legend
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("year", [2022, 2023])
def test_report_figures_fit_a4_with_text_of_7_pt_or_more(seed, monkeypatch, year, language):
    ds = seed.as_of(year)
    table = attainment_table(ds, year)
    table = table[table["programme_id"] == SEED]
    trends = trend_table(ds, year)
    trends = trends[trends["programme_id"] == SEED]
    preds = trend_predictions(ds, year)
    drawn = _drawn(monkeypatch, attainment_views)
    attainment_views.achievement_chart(table, year, language)
    attainment_views.series_chart(ds, table, year, language)
    drawn_trends = _drawn(monkeypatch, trends_views)
    trends_views.trend_chart(ds, trends, preds[preds["programme_id"] == SEED], language, year)
    assert len(drawn) == 2 and len(drawn_trends) == 1
    for fig in drawn + drawn_trends:
        width, _ = fig.get_size_inches()
        assert width <= A4_TEXT_WIDTH_IN + 1e-9, width
        texts = _texts(fig)
        assert len(texts) > 10  # titles, tick labels, axis labels, legend
        small = sorted((t.get_fontsize(), t.get_text()) for t in texts)[:3]
        assert small[0][0] >= SMALLEST_PT, small


@pytest.mark.parametrize("language", ["ja", "en"])
def test_panel_figure_fits_a4_with_text_of_7_pt_or_more(seed, monkeypatch, language):
    # The panel's distribution figure was 6 in a panel (12 in for two) at "notebook" scale:
    # about 5 pt once the browser shrank it to the page.
    from kpianalysis.analysis import panel
    from kpianalysis.report import panel_views

    ds = panel.panel_dataset(seed.as_of(2023), 2023)
    kpis = panel.panel_kpis(attainment_table(ds, 2023), ds.programmes)
    drawn = _drawn(monkeypatch, panel_views)
    panel_views.distribution_chart(kpis, 2023, language)
    (fig,) = drawn
    width, _ = fig.get_size_inches()
    assert width <= A4_TEXT_WIDTH_IN + 1e-9, width
    texts = _texts(fig)
    assert len(texts) > 10  # title, panel titles, group names, tick and axis labels
    small = sorted((t.get_fontsize(), t.get_text()) for t in texts)[:3]
    assert small[0][0] >= SMALLEST_PT, small
