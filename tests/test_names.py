"""Names that cannot collide in the archive (issue 19, point 2).

A programme id names a folder of ``reports/``; a notebook's name becomes ``<name>.html``,
``<name>.en.html``, ``<name>.run.json`` … beside the other notebooks'. Each name the archive
could not hold is refused by ``validate`` and by ``build`` before any kernel starts and before
``data/processed`` is written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import conftest
from conftest import DEMO_ID, demo_programme
from kpianalysis.build import pipeline
from kpianalysis.cli import main
from kpianalysis.errors import DataError, ParameterError
from kpianalysis.paths import archive_name_problem

PARAMS = "fiscal_year: int = 2023\n"


def project(tmp_path: Path, notebooks: tuple[str, ...] = ("only",), pid: str = DEMO_ID) -> Path:
    """A project with the demo programme (under id ``pid``) and tiny report notebooks."""
    root = tmp_path / "project"
    (root / "data" / "raw").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'copy'\n", encoding="utf-8")
    demo_programme(root / "data" / "raw", range(2022, 2024))
    if pid != DEMO_ID:
        folder = root / "data" / "raw" / DEMO_ID
        for csv in folder.glob("*.csv"):
            csv.write_text(csv.read_text(encoding="utf-8").replace(DEMO_ID, pid), "utf-8")
        folder.rename(folder.with_name("renamed"))
    for name in notebooks:
        conftest.write_notebook(root / "notebooks" / f"{name}.ipynb", PARAMS, "print(1)")
    return root


@pytest.mark.parametrize(
    ("pid", "why"),
    [
        ("index.html", "ends with '.html'"),  # the issue: reports/index.html/ wedged every build
        ("INDEX.HTML", "ends with '.html'"),
        ("index", "reserved"),
        ("panel", "reserved"),
        ("Panel", "reserved"),  # one folder with panel/ on a case-insensitive file system
        ("failed", "reserved"),
        ("x.run.json", "ends with '.json'"),
    ],
)
def test_reserved_programme_ids(pid: str, why: str) -> None:
    assert why in (archive_name_problem("programme", pid) or "")


@pytest.mark.parametrize("pid", ["23205-community", "panel-2", "indexer", "a.b_c-d"])
def test_ordinary_programme_ids(pid: str) -> None:
    assert archive_name_problem("programme", pid) is None


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("attainment.en", "holds '.'"),  # the issue: its run replaced the English report
        ("trends.run", "holds '.'"),
        ("a b", "holds ' '"),
        ("_hidden", "holds '_'"),
        ("n" * 242, "256 bytes"),  # 242 + len('.en.kernel.log') = 256 > 255
        ("達成" * 81, "500 bytes"),  # 81 × 2 kanji × 3 bytes (UTF-8) + 14 = 500
    ],
)
def test_notebook_names_that_would_collide(name: str, why: str) -> None:
    problem = archive_name_problem("notebook", name) or ""
    assert why in problem, problem


@pytest.mark.parametrize("name", ["attainment", "panel", "n" * 241, "達成率"])
def test_ordinary_notebook_names(name: str) -> None:
    # 241 + 14 = 255 bytes: the longest name that still fits
    assert archive_name_problem("notebook", name) is None


@pytest.mark.parametrize("pid", ["index.html", "panel", "failed"])
def test_validate_and_build_refuse_a_reserved_programme_id(
    tmp_path: Path, pid: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path, pid=pid)
    raw = root / "data" / "raw"
    assert main(["validate", str(raw), "--notebooks", str(root / "notebooks")]) == 1
    err = "\n".join(x for x in capsys.readouterr().err.splitlines() if "warning" not in x)
    assert err.count("\n") == 0
    assert "programme.csv" in err and "programme_id" in err and repr(pid) in err
    with pytest.raises(DataError, match="not usable as an id"):
        pipeline.build(root, progress=False)
    # Refused before anything was written: no data/processed, no report folder.
    assert not (root / "data" / "processed").exists()
    assert not (root / "reports" / pid).exists()


@pytest.mark.parametrize("name", ["attainment.en", "n" * 247])
def test_build_refuses_a_notebook_name_before_anything_is_written(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path, notebooks=("only", name))
    with pytest.raises(ParameterError, match="not usable as a report's name"):
        pipeline.build(root, progress=False)
    assert not (root / "data" / "processed").exists()
    assert not list((root / "reports").glob("*/fy*"))
    assert main(["validate", str(root / "data" / "raw"), "--notebooks", str(root / "notebooks")])
    err = [line for line in capsys.readouterr().err.splitlines() if "warning" not in line]
    assert len(err) == 1 and f"{name}.ipynb" in err[0]


def test_notebooks_differing_only_in_case_are_refused(tmp_path: Path) -> None:
    root = project(tmp_path, notebooks=("Trends", "trends"))
    if len(list((root / "notebooks").iterdir())) < 2:
        pytest.skip("a case-insensitive file system holds only one of them")
    with pytest.raises(ParameterError, match="only in case"):
        pipeline.build(root, progress=False)


def test_a_garbage_notebook_is_refused_naming_the_file(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "notebooks" / "broken.ipynb").write_bytes(b"\x00\x01 not json")
    with pytest.raises(ParameterError, match=r"broken\.ipynb: not a readable notebook"):
        pipeline.build(root, progress=False)
    assert not (root / "data" / "processed").exists()


def test_a_notebook_without_parameters_cell_is_named_as_such(tmp_path: Path) -> None:
    root = project(tmp_path)
    nb = json.loads((root / "notebooks" / "only.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        cell["metadata"].pop("tags", None)
    (root / "notebooks" / "nopar.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    with pytest.raises(ParameterError, match=r"'nopar' .* has no parameters cell"):
        pipeline.build(root, notebooks=["nopar"], progress=False)
