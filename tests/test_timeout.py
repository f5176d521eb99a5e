"""Runs that cannot hang (issue 19, point 3).

A notebook that never ends used to hang the build (nothing printed for 240 s). Each cell now
has a time limit — ``DEFAULT_CELL_TIMEOUT``, a notebook's own in its metadata, or
``--cell-timeout`` — and a cell over it fails its run in one line naming programme, notebook,
year and cell; the executed notebook goes to ``failed/`` like any failure's, and the previous
report stays.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

import conftest
from conftest import DEMO_ID, demo_programme
from kpianalysis.build import archive, pipeline
from kpianalysis.build.execute import DEFAULT_CELL_TIMEOUT, cell_timeout_of
from kpianalysis.cli import main
from kpianalysis.errors import ParameterError, RunError

pytestmark = pytest.mark.slow

PARAMS = "fiscal_year: int = 2023\nprogramme_id: str = ''\n"
#: Sleeps for the seconds in the file ``sleep`` of the project root (0 when missing): the same
#: notebook, so the same run key, can hang under the test and end for the first build.
SLEEPY = (
    "import pathlib, time\n"
    "p = pathlib.Path('sleep')\n"
    "time.sleep(float(p.read_text()) if p.exists() else 0)"
)


def project(tmp_path: Path, cell_timeout: float | None = None) -> Path:
    root = tmp_path / "project"
    (root / "data" / "raw").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'copy'\n", encoding="utf-8")
    demo_programme(root / "data" / "raw", range(2022, 2024))
    nb_path = root / "notebooks" / "slow.ipynb"
    conftest.write_notebook(nb_path, PARAMS, "print('start')", SLEEPY, "print('end')")
    if cell_timeout is not None:
        nb = nbformat.read(nb_path, as_version=4)
        nb.metadata["kpianalysis"] = {"cell_timeout": cell_timeout}
        nbformat.write(nb, nb_path)
    return root


def test_the_timeout_of_a_notebook(tmp_path: Path) -> None:
    assert DEFAULT_CELL_TIMEOUT == 600  # "a default in the hundreds of seconds"
    root = project(tmp_path, cell_timeout=3)
    nb = root / "notebooks" / "slow.ipynb"
    assert cell_timeout_of(nb) == 3
    assert cell_timeout_of(nb, 7.5) == 7.5  # --cell-timeout wins
    assert cell_timeout_of(project(tmp_path / "b") / "notebooks" / "slow.ipynb") == 600
    with pytest.raises(ParameterError, match="--cell-timeout must be a positive"):
        pipeline.build(root, cell_timeout=0, progress=False)


def test_a_cell_over_its_notebooks_limit_fails_its_run_in_one_line(tmp_path: Path) -> None:
    root = project(tmp_path, cell_timeout=3)
    reports = root / "reports"
    first = pipeline.build(root, fiscal_years=[2023], jobs=1, progress=False)
    assert first.count("ok") == 1
    good = reports / DEMO_ID / "fy2023"
    before = {p.relative_to(good): p.read_bytes() for p in good.rglob("*") if p.is_file()}
    (root / "sleep").write_text("3600")
    with pytest.raises(RunError) as info:
        pipeline.build(root, fiscal_years=[2023], force=True, jobs=1, progress=False)
    msg = str(info.value)
    # Source cells: 0 parameters, 1 print('start'), 2 the sleep, 3 print('end').
    assert "\n" not in msg
    assert DEMO_ID in msg and "slow" in msg and "2023" in msg
    assert "cell 2" in msg and "timed out after 3 s" in msg
    failed = archive.failed_paths(reports, f"{DEMO_ID}/fy2023", "slow")
    executed = json.loads(failed["ipynb"].read_text(encoding="utf-8"))
    outputs = ["".join(o.get("text", "")) for c in executed["cells"] for o in c.get("outputs", [])]
    assert "start\n" in outputs and "end\n" not in outputs
    assert {p.relative_to(good): p.read_bytes() for p in good.rglob("*") if p.is_file()} == before


def test_cell_timeout_option_overrides_the_notebook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path, cell_timeout=3600)
    (root / "sleep").write_text("3600")
    argv = ["build", "--root", str(root), "--fiscal-year", "2023", "--cell-timeout", "2"]
    assert main([*argv, "--jobs", "1", "--no-progress"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "timed out after 2 s" in err and "cell 2" in err
