"""The data tables behind a report, archived beside it in its run folder (issue 17, point 6).

The footer's CSV links pointed to ``../../../data/processed/``: outside the archive, rewritten by
every build, git-ignored. Each run now commits the tables its report's numbers come from into
``<scope>/fy<YEAR>/data/`` in the same atomic switch as the report: its own programme's rows as
of its year, in the processed files' format (UTF-8 with BOM, formulas defused).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

import conftest
from conftest import DEMO_ID, demo_programme
from kpianalysis.build import archive, pipeline
from kpianalysis.fileio import sha256_file

pytestmark = pytest.mark.slow

PARAMS = "fiscal_year: int = 2023\nprogramme_id: str = ''\n"


def rows(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    assert data.startswith("\ufeff".encode())  # the BOM Excel needs
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_tables_are_archived_beside_the_report_as_of_its_year(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "data" / "raw").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'copy'\n", encoding="utf-8")
    demo_programme(root / "data" / "raw", range(2021, 2024))
    # A second programme, whose rows must not reach the demo's tables.
    other = conftest.write_programme(
        root / "data" / "raw",
        ["88888-other", "88888", "別市", "別の事業", "令和3年度", "令和5年度"],
        [["88888-other", "1", "件数", "件", "stock", "increase", "10件", "R2"]],
        [["88888-other", "1", "2023年度", "(12件)", "11件"]],
    )
    assert other.is_dir()
    # Named like the attainment report, so it has its tables (a tiny stand-in notebook).
    conftest.write_notebook(root / "notebooks" / "attainment.ipynb", PARAMS, "print(1)")
    summary = pipeline.build(root, fiscal_years=[2022], programmes=[DEMO_ID], progress=False)
    assert summary.count("ok") == 1

    folder = root / "reports" / DEMO_ID / "fy2022"
    names = sorted(p.name for p in (folder / "data").iterdir())
    assert names == [
        "attainment_fy2022.csv",
        "finance.csv",
        "indicators.csv",
        "observations.csv",
        "subprojects.csv",
        "verdicts.csv",
    ]
    obs = rows(folder / "data" / "observations.csv")
    assert {r["programme_id"] for r in obs} == {DEMO_ID}
    # As of FY2022: targets of every plan year, actuals up to FY2022 only. The demo's KPI 1
    # (conftest.demo_programme): FY2022 target 120 + 20·1 = 140, actual 115 + 25·1 = 140;
    # FY2023's actual 165 is blanked.
    one = {int(r["fiscal_year"]): r for r in obs if r["indicator_id"] == "1"}
    assert sorted(one) == [2021, 2022, 2023, 2024, 2025]
    assert float(one[2022]["target"]) == 140 and float(one[2022]["actual"]) == 140
    assert one[2023]["actual"] == "" and float(one[2023]["target"]) == 160
    attainment = rows(folder / "data" / "attainment_fy2022.csv")
    assert {r["programme_id"] for r in attainment} == {DEMO_ID} and len(attainment) == 2
    # The record keeps each table's sha256; the footer links them in the run folder.
    rec = archive.read_record(folder / f"attainment{archive.RECORD_SUFFIX}")
    assert rec is not None
    assert rec["tables"] == {f"data/{n}": sha256_file(folder / "data" / n) for n in names}
    html = (folder / "attainment.html").read_text(encoding="utf-8")
    assert 'href="data/observations.csv"' in html and "data/processed" not in html

    # Unchanged data: the next build skips the run and leaves every table as it was.
    before = {n: (folder / "data" / n).stat().st_mtime_ns for n in names}
    again = pipeline.build(root, fiscal_years=[2022], programmes=[DEMO_ID], progress=False)
    assert again.count("skipped") == 1
    assert {n: (folder / "data" / n).stat().st_mtime_ns for n in names} == before
