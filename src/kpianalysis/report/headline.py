"""The headline of a fiscal year's reports, for the index and the run records."""

from __future__ import annotations

from typing import Any

from kpianalysis.analysis.measures import format_percent
from kpianalysis.analysis.tables import attainment_table, programme_summary
from kpianalysis.fileio import jsonable


def headline_for(dataset: Any, fiscal_year: int) -> Any:
    """Headline figures for the index, from ``kpianalysis.analysis.tables.programme_summary``.

    Returns ``None`` when no dataset is given. The value is made JSON-safe (mappings and
    sequences kept, other objects as ``str``).

    Examples
    --------
    >>> headline_for(None, 2023) is None
    True
    """
    if dataset is None:
        return None
    as_of = getattr(dataset, "as_of", None)
    view = as_of(fiscal_year) if callable(as_of) else dataset
    table = attainment_table(view, fiscal_year)
    rows = programme_summary(view, fiscal_year, table=table)
    programmes = getattr(view, "programmes", None)
    if programmes is not None and {"programme_id", "name_ja"} <= set(programmes.columns):
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
