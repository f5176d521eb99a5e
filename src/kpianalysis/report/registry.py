"""The reports this package builds: one entry per report notebook, the one place a report is named.

A report is known by its notebook's file stem. Its entry gives the titles the index and the
report page both show (so a report never goes by two names), the data tables behind its numbers
(published beside it and linked from its footer) and its sections in order (anchors, see
:data:`kpianalysis.report.present.SECTIONS`). The index, the report pages, execution
(:mod:`kpianalysis.build.execute`) and ``data/processed`` (:mod:`kpianalysis.build.processed`)
all read it from here.

A new notebook is built without an entry and shown by its file stem; add a :class:`Report` to
:data:`REPORTS` to give it titles and tables.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["REPORTS", "Report", "report_for", "report_title", "year_tables"]


@dataclass(frozen=True, slots=True)
class Report:
    """One report notebook: names, the data it publishes, its sections.

    Examples
    --------
    >>> REPORTS["trends"].title("en")
    'KPI trends and outlook'
    >>> REPORTS["trends"].tables_for(2022)
    ('trends_fy2022', 'observations', 'indicators')
    """

    #: File stem of the notebook in ``notebooks/`` (and of its reports in the archive).
    notebook: str
    title_ja: str
    title_en: str
    #: ``"programme"`` (one report per programme and year) or ``"panel"`` (all programmes).
    scope: str = "programme"
    #: ``data/processed`` tables behind the report's numbers; ``{year}`` is its fiscal year.
    tables: tuple[str, ...] = ("observations",)
    #: Anchors of its sections as its table of contents lists them, in order.
    sections: tuple[str, ...] = ()

    def title(self, language: str) -> str:
        """The title in ``language`` (``"ja"`` or ``"en"``)."""
        return self.title_ja if language == "ja" else self.title_en

    def tables_for(self, fiscal_year: int) -> tuple[str, ...]:
        """The names of the data tables of a run for ``fiscal_year``."""
        return tuple(t.format(year=fiscal_year) for t in self.tables)


#: Every registered report, in the order the index lists them.
REPORTS: dict[str, Report] = {
    r.notebook: r
    for r in (
        Report(
            "attainment",
            "KPI達成状況",
            "KPI attainment",
            tables=(
                "attainment_fy{year}",
                "observations",
                "indicators",
                "finance",
                "verdicts",
                "subprojects",
            ),
            sections=("kpis", "programme", "methods", "research", "notes"),
        ),
        Report(
            "trends",
            "KPIの推移と見通し",
            "KPI trends and outlook",
            tables=("trends_fy{year}", "observations", "indicators"),
            sections=("outlook", "fits", "trends", "trend_appendix"),
        ),
        Report(
            "panel",
            "全事業の横断集計",
            "Cross-programme summary",
            scope="panel",
            tables=("attainment_fy{year}", "programmes", "indicators", "observations"),
            sections=(
                "panel_headline",
                "distribution",
                "progress_classes",
                "programmes",
                "methods",
            ),
        ),
    )
}


def report_for(notebook: str) -> Report:
    """The registry's entry for ``notebook``, or one titled by its file stem when unregistered.

    Examples
    --------
    >>> report_for("attainment").title_ja
    'KPI達成状況'
    >>> report_for("my_new_analysis").title("en")
    'my_new_analysis'
    """
    return REPORTS.get(notebook) or Report(notebook, notebook, notebook)


def report_title(notebook: str, language: str) -> str:
    """The title a notebook's report goes by, on its own page and in the index.

    Examples
    --------
    >>> report_title("attainment", "ja"), report_title("attainment", "en")
    ('KPI達成状況', 'KPI attainment')
    """
    return report_for(notebook).title(language)


def year_tables(fiscal_year: int) -> list[str]:
    """The per-year result tables the registered reports publish (``attainment_fy2023``, …),
    each once: what ``data/processed`` holds for the year besides the tidy tables.

    Examples
    --------
    >>> year_tables(2023)
    ['attainment_fy2023', 'trends_fy2023']
    """
    names = [t for r in REPORTS.values() for t in r.tables if "{year}" in t]
    return [t.format(year=fiscal_year) for t in dict.fromkeys(names)]
