"""The headline of a fiscal year's reports, for the index and the run records."""

from __future__ import annotations

from typing import Any

from kpianalysis.analysis.measures import format_percent
from kpianalysis.analysis.results import YearResults
from kpianalysis.fileio import jsonable


def headline_for(results: YearResults | None) -> Any:
    """Headline figures of a fiscal year for the index, from its computed results.

    Rows of :attr:`~kpianalysis.analysis.results.YearResults.summary` (no table is recomputed),
    with each programme's name and each KPI's achievement rate. Returns ``None`` when no results
    are given. The value is made JSON-safe (mappings and sequences kept, other objects as
    ``str``).

    Examples
    --------
    >>> headline_for(None) is None
    True
    """
    if results is None:
        return None
    table = results.attainment
    rows = results.summary
    programmes = results.dataset.programmes
    if {"programme_id", "name_ja"} <= set(programmes.columns):
        # Name the programme and list each KPI's achievement, so the index reads on its own.
        names = programmes.set_index("programme_id")
        rows = rows.copy()
        rows["name_ja"] = [names.loc[p, "name_ja"] for p in rows["programme_id"]]
        rows["municipality_ja"] = [
            names.loc[p, "municipality_ja"] if "municipality_ja" in names else ""
            for p in rows["programme_id"]
        ]
        rows["rates"] = [
            [
                f"{r.indicator_label} {format_percent(r.achievement_rate, 1)}"
                for r in table[table["programme_id"] == p].itertuples()
            ]
            for p in rows["programme_id"]
        ]
    return jsonable(rows)
