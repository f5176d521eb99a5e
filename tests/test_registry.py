"""One registry of reports: the index, the report pages, execution and data/processed agree."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kpianalysis.build import execute, processed
from kpianalysis.build.plan import RunSpec
from kpianalysis.report import registry
from kpianalysis.report.index import render_index
from kpianalysis.report.loading import load_report_data
from kpianalysis.report.registry import REPORTS, Report, report_title
from kpianalysis.report.sections import report_header

SEED_ID = "23205-community"


def _rec(notebook: str, language: str = "ja") -> dict[str, object]:
    suffix = "" if language == "ja" else ".en"
    return {
        "notebook": notebook,
        "programme_id": SEED_ID,
        "fiscal_year": 2023,
        "language": language,
        "_html": f"{SEED_ID}/fy2023/{notebook}{suffix}.html",
    }


def test_the_report_page_and_the_index_use_one_name() -> None:
    """Issue 17: the index said 「KPIの推移と見通し」, the report 「KPIの傾向と予測」."""
    ds = load_report_data(2023, programme_id=SEED_ID)[1]
    for notebook in ("attainment", "trends"):
        for language in ("ja", "en"):
            title = report_title(notebook, language)
            page = report_header(ds, 2023, notebook, language)
            h1 = page[page.index("<h1>") : page.index("</h1>")]
            index = render_index([_rec(notebook, language)], language=language)
            assert title in h1 and f">{title}</a>" in index
    assert report_title("trends", "ja") == "KPIの推移と見通し"
    assert report_title("panel", "en") == "Cross-programme summary"


def test_a_new_notebook_shows_its_title_once_registered(monkeypatch) -> None:
    before = render_index([_rec("my_analysis")], language="ja")
    assert ">my_analysis</a>" in before  # unregistered: its file stem
    monkeypatch.setitem(REPORTS, "my_analysis", Report("my_analysis", "人口の分析", "Population"))
    ja = render_index([_rec("my_analysis"), _rec("trends")], language="ja")
    en = render_index([_rec("my_analysis", "en")], language="en")
    assert ">人口の分析</a>" in ja and ">my_analysis</a>" not in ja
    assert ">Population</a>" in en
    # The index lists reports in the registry's order: trends (registered first), then it.
    assert ja.index(">KPIの推移と見通し</a>") < ja.index(">人口の分析</a>")


def _spec(name: str, tmp_path: Path) -> RunSpec:
    parameters = {"processed_dir": str(tmp_path / "processed")}
    pid = None if name == "panel" else SEED_ID
    return RunSpec(Path(f"{name}.ipynb"), name, 2022, parameters, {}, "", programme_id=pid)


@pytest.mark.parametrize("name", ["attainment", "trends", "panel"])
def test_a_report_links_the_tables_the_registry_names(name: str, tmp_path: Path) -> None:
    # The footer links the tables its run's commit archives beside it (RunSpec.tables: the
    # registry's for the year, as tests/test_links.py plans them), not what data/processed
    # happens to hold (here: nothing).
    spec = replace(_spec(name, tmp_path), tables=REPORTS[name].tables_for(2022))
    prov = execute.provenance_for(spec, tmp_path / "reports", {})
    assert prov.tables == [f"data/{t}.csv" for t in REPORTS[name].tables_for(2022)]
    assert prov.tables[0] == ("data/trends_fy2022.csv" if name == "trends" else
                              "data/attainment_fy2022.csv")  # fmt: skip


def test_data_processed_holds_every_year_table_the_registry_names(seed) -> None:
    names = processed._processed_names(seed)
    # The seed has actuals for FY2021-2023; each year publishes an attainment and a trends table.
    for fy in (2021, 2022, 2023):
        assert {f"attainment_fy{fy}.csv", f"trends_fy{fy}.csv"} <= set(names)
    assert registry.year_tables(2021) == ["attainment_fy2021", "trends_fy2021"]


def test_a_report_links_the_index_its_siblings_and_its_other_language(tmp_path: Path) -> None:
    """Issue 17: no link back to the index, to the other language or to the sibling report.

    The sibling and other-language links are the run's :attr:`RunSpec.links`, what its build
    makes (tests/test_links.py plans them); the archive's content plays no part."""
    reports = tmp_path / "reports"
    folder = reports / SEED_ID / "fy2023"
    folder.mkdir(parents=True)
    spec = RunSpec(Path("attainment.ipynb"), "attainment", 2023, {}, {}, "", programme_id=SEED_ID,
                   links=(("trends", "ja"), ("attainment", "en")))  # fmt: skip
    index = ("報告書の一覧", f"../../index/23205.html#{SEED_ID}", "ja")
    assert execute.navigation_for(spec, reports) == [
        index,
        ("KPIの推移と見通し", "trends.html", "ja"),
        ("English version", "attainment.en.html", "en"),
    ]
    # A build of Japanese only links no English version, even where the archive holds one.
    (folder / "attainment.en.html").write_text("<html></html>", encoding="utf-8")
    ja_only = replace(spec, links=(("trends", "ja"),))
    assert execute.navigation_for(ja_only, reports) == [
        index,
        ("KPIの推移と見通し", "trends.html", "ja"),
    ]
    en = RunSpec(Path("trends.ipynb"), "trends", 2023, {}, {}, "", programme_id=SEED_ID,
                 language="en", links=(("attainment", "en"), ("trends", "ja")))  # fmt: skip
    assert execute.navigation_for(en, reports) == [
        ("All reports", f"../../index/23205.en.html#{SEED_ID}", "en"),
        ("KPI attainment", "attainment.en.html", "en"),
        ("日本語版", "trends.html", "ja"),
    ]
    panel = RunSpec(Path("panel.ipynb"), "panel", 2023, {}, {}, "")
    assert execute.navigation_for(panel, reports) == [("報告書の一覧", "../../index.html", "ja")]
