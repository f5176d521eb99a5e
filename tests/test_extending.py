"""Extension points, end to end with real kernels (README "Extending the analyses").

* a new fiscal year is its actuals in data/raw (the plan's targets are there from the start): one
  build adds its reports and leaves every earlier archived file byte-for-byte untouched, without
  rerunning it;
* a new notebook with a ``parameters`` cell in notebooks/ runs for every fiscal year with no code
  change;
* a new programme is a new raw folder; nothing in the library names Handa.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, write_rows
from kpianalysis.build.pipeline import build

pytestmark = pytest.mark.slow

PID = "99999-demo"


def _demo_programme(raw: Path, years: range) -> None:
    """A synthetic second programme (no source document, so no provenance check)."""
    folder = raw / PID
    folder.mkdir(parents=True, exist_ok=True)
    write_rows(
        folder / "programme.csv",
        [
            ["programme_id", "municipality_code", "municipality_ja", "name_ja", "plan_start",
             "plan_end"],
            [PID, "99999", "架空市", "架空の事業", "令和3年度", "令和7年度"],
        ],
    )  # fmt: skip
    write_rows(
        folder / "indicators.csv",
        [
            ["programme_id", "indicator_no", "name_ja", "unit", "kind", "direction", "baseline",
             "baseline_year"],
            [PID, "1", "参加者数", "人", "stock", "increase", "100人", "R2"],
            [PID, "2", "待機児童数", "人", "stock", "decrease", "40人", "R2"],
        ],
    )  # fmt: skip
    # Every target of the plan (FY2021–2025) is there from the start — targets are fixed when
    # the plan is approved — and a fiscal year brings its actuals.
    rows = [["programme_id", "indicator_no", "fiscal_year", "target", "actual"]]
    for i, fy in enumerate(range(2021, 2026)):
        known = fy in years
        rows.append([PID, "1", f"{fy}年度", f"({120 + 20 * i}人)", f"{115 + 25 * i}人" * known])
        rows.append([PID, "2", f"{fy}年度", f"({35 - 5 * i}人)", f"{38 - 6 * i}人" * known])
    write_rows(folder / "observations.csv", rows)


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'copy'\n", encoding="utf-8")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    (root / "data" / "raw").mkdir()
    _demo_programme(root / "data" / "raw", range(2021, 2024))
    return root


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in ("index.html", "index.en.html", ".lock")
    }


def test_new_year_adds_reports_and_leaves_earlier_ones_untouched(tmp_path):
    root = _project(tmp_path)
    first = build(root, jobs=2, progress=False)
    assert first.count("ok") == 9  # FY2021–2023 × attainment, panel, trends
    before = _digests(root / "reports")
    assert len(before) == 27  # .html, .ipynb, .run.json per run

    _demo_programme(root / "data" / "raw", range(2021, 2025))  # FY2024 actuals arrive
    second = build(root, jobs=2, progress=False)
    assert second.count("ok") == 3 and second.count("skipped") == 9
    after = _digests(root / "reports")
    assert {k: after[k] for k in before} == before  # byte-for-byte, records included
    assert {k for k in after if "/fy2024/" in k} == {
        f"{scope}/fy2024/{n}.{ext}"
        for scope, n in ((PID, "attainment"), (PID, "trends"), ("panel", "panel"))
        for ext in ("html", "ipynb", "run.json")
    }
    html = (root / "reports" / PID / "fy2024" / "attainment.html").read_text(encoding="utf-8")
    # FY2024: participants 190 against 180 → 105.6 %; waiting list (decrease) 20 against 20.
    assert '<td class="num">105.6%</td>' in html and "架空の事業" in html

    # A new notebook runs for every fiscal year with no code change (without a programme_id
    # parameter it is panel-scoped: once per year over all programmes).
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("fiscal_year: int = 2023  # the report's fiscal year")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print('year', fiscal_year)")]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, root / "notebooks" / "extra.ipynb")
    third = build(root, jobs=2, progress=False)
    assert third.count("ok") == 4 and third.count("skipped") == 12
    extra = root / "reports" / "panel" / "fy2022" / "extra.html"
    assert "year 2022" in extra.read_text(encoding="utf-8")
    assert {k: _digests(root / "reports")[k] for k in before} == before
