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
from pathlib import Path

import pytest

from conftest import DEMO_ID, demo_programme, project_copy, write_notebook
from kpianalysis.build.pipeline import build

pytestmark = pytest.mark.slow

PID = DEMO_ID


def _project(tmp_path: Path) -> Path:
    root = project_copy(tmp_path / "project")
    demo_programme(root / "data" / "raw", range(2021, 2024))
    return root


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        # Hidden files are the archive's bookkeeping (.lock, .generation, .index.json); the
        # index pages (index.html and index/<code>.html) are rewritten as the archive grows.
        if p.is_file()
        and p.name not in ("index.html", "index.en.html")
        and p.relative_to(folder).parts[0] != "index"
        and not p.name.startswith(".")
    }


def test_new_year_adds_reports_and_leaves_earlier_ones_untouched(tmp_path):
    root = _project(tmp_path)
    first = build(root, jobs=2, progress=False)
    assert first.count("ok") == 9  # FY2021–2023 × attainment, panel, trends
    before = _digests(root / "reports")
    # Per year: .html, .ipynb, .run.json of 3 runs, and the data tables behind them (registry):
    # 7 in the programme's folder (attainment's 6, trends_fy<YEAR>), 4 in the panel's.
    assert len(before) == 3 * (9 + 7 + 4)

    demo_programme(root / "data" / "raw", range(2021, 2025))  # FY2024 actuals arrive
    second = build(root, jobs=2, progress=False)
    assert second.count("ok") == 3 and second.count("skipped") == 9
    after = _digests(root / "reports")
    assert {k: after[k] for k in before} == before  # byte-for-byte, records included
    assert len([k for k in after if "/fy2024/data/" in k]) == 7 + 4
    assert {k for k in after if "/fy2024/" in k and "/data/" not in k} == {
        f"{scope}/fy2024/{n}.{ext}"
        for scope, n in ((PID, "attainment"), (PID, "trends"), ("panel", "panel"))
        for ext in ("html", "ipynb", "run.json")
    }
    html = (root / "reports" / PID / "fy2024" / "attainment.html").read_text(encoding="utf-8")
    # FY2024: participants 190 against 180 → 105.6 %; waiting list (decrease) 20 against 20.
    assert '<td class="num">105.6%</td>' in html and "架空の事業" in html

    # A new notebook runs for every fiscal year with no code change (without a programme_id
    # parameter it is panel-scoped: once per year over all programmes).
    write_notebook(
        root / "notebooks" / "extra.ipynb",
        "fiscal_year: int = 2023  # the report's fiscal year",
        "print('year', fiscal_year)",
    )
    third = build(root, jobs=2, progress=False)
    assert third.count("ok") == 4 and third.count("skipped") == 12
    extra = root / "reports" / "panel" / "fy2022" / "extra.html"
    assert "year 2022" in extra.read_text(encoding="utf-8")
    assert {k: _digests(root / "reports")[k] for k in before} == before
