"""Shared fixtures: the seed programme, writable copies of it for bad-input tests, project
folders to build in, and synthetic programmes to add to them.

``data/raw`` may hold any number of programmes (a partner adds folders beside the seed, as
``data/raw/README.md`` describes), so nothing here reads the folder as a whole: the seed is
selected by its id (:data:`SEED_ID`), and a test that needs a one-programme project gets one
built from the seed's folder (:func:`seed_only`).
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
SEED_DIR = RAW / "23205-community"
SEED_ID = "23205-community"


def seed_only(dest: Path) -> Path:
    """Make ``dest`` a raw-data folder holding the seed programme only, and return it.

    Whatever else ``data/raw`` holds (partners' programmes) stays out, so a test of the seed
    sees the same one-programme project on every machine.
    """
    shutil.copytree(SEED_DIR, dest / SEED_ID)
    return dest


@pytest.fixture(scope="session")
def seed():
    """The seed programme, selected by id, loaded and validated once per test session."""
    from kpianalysis.data.dataset import load_folders

    return load_folders([SEED_DIR])


@pytest.fixture(scope="session")
def seed_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A raw-data folder holding the seed programme only, shared by the session: read it, never
    write it (use :func:`raw_copy` to edit)."""
    return seed_only(tmp_path_factory.mktemp("seed") / "raw")


@pytest.fixture
def raw_copy(tmp_path: Path) -> Path:
    """A writable raw-data folder holding a copy of the seed programme only."""
    return seed_only(tmp_path / "raw")


def read_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def write_rows(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))


@pytest.fixture
def edit_cell(raw_copy: Path) -> Callable[[str, int, str, str], Path]:
    """Return ``edit(table, row, column, text)``: set one cell of a copied raw table.

    ``row`` counts like a spreadsheet (header = 1), as the error messages do.
    """

    def edit(table: str, row: int, column: str, text: str) -> Path:
        path = raw_copy / SEED_ID / table
        rows = read_rows(path)
        rows[row - 1][rows[0].index(column)] = text
        write_rows(path, rows)
        return path

    return edit


def write_notebook(path: Path, params: str, *bodies: str, title: str | None = None) -> Path:
    """Write a report notebook for the python3 kernel and return its path: an optional markdown
    ``title`` cell, a code cell tagged ``parameters`` holding ``params``, one code cell a body."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(title)] if title is not None else []
    nb.cells += [cell, *(nbformat.v4.new_code_cell(b) for b in bodies)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def project_copy(root: Path, *, shipped: bool = False) -> Path:
    """A project folder at ``root`` with the real notebooks, to build in.

    ``shipped``: the seed programme (alone, whatever else ``data/raw`` holds), the versioned
    trend prior (``data/reference``), the project's ``pyproject.toml`` and ``uv.lock`` as well (a
    build of the project as shipped); otherwise ``data/raw`` is empty (add programmes to it),
    there is no prior file and ``pyproject.toml`` is a stub.
    """
    (root / "data").mkdir(parents=True)
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    if shipped:
        seed_only(root / "data" / "raw")
        shutil.copytree(ROOT / "data" / "reference", root / "data" / "reference")
        for name in ("pyproject.toml", "uv.lock"):
            shutil.copy2(ROOT / name, root / name)
    else:
        (root / "data" / "raw").mkdir()
        (root / "pyproject.toml").write_text("[project]\nname = 'copy'\n", encoding="utf-8")
    return root


def write_programme(
    raw: Path, programme: list[str], indicators: list[list[str]], observations: list[list[str]]
) -> Path:
    """Write a synthetic programme's folder ``raw/<programme_id>`` and return it.

    ``programme`` is the row of programme.csv (id, municipality code, municipality, name, plan
    start, plan end); ``indicators`` the rows of indicators.csv (id, number, name, unit, kind,
    direction, baseline, baseline year); ``observations`` those of observations.csv (id,
    number, fiscal year, target, actual). No source document, so no provenance check.
    """
    folder = raw / programme[0]
    folder.mkdir(parents=True, exist_ok=True)
    write_rows(
        folder / "programme.csv",
        [["programme_id", "municipality_code", "municipality_ja", "name_ja", "plan_start",
          "plan_end"], programme],
    )  # fmt: skip
    write_rows(
        folder / "indicators.csv",
        [["programme_id", "indicator_no", "name_ja", "unit", "kind", "direction", "baseline",
          "baseline_year"], *indicators],
    )  # fmt: skip
    write_rows(
        folder / "observations.csv",
        [["programme_id", "indicator_no", "fiscal_year", "target", "actual"], *observations],
    )
    return folder


#: The synthetic second programme of :func:`demo_programme`.
DEMO_ID = "99999-demo"


def demo_programme(raw: Path, years: range) -> None:
    """A synthetic second programme, FY2021–2025, with the actuals of ``years``."""
    # Every target of the plan (FY2021–2025) is there from the start — targets are fixed when
    # the plan is approved — and a fiscal year brings its actuals.
    observations = []
    for i, fy in enumerate(range(2021, 2026)):
        known = fy in years
        observations += [
            [DEMO_ID, "1", f"{fy}年度", f"({120 + 20 * i}人)", f"{115 + 25 * i}人" * known],
            [DEMO_ID, "2", f"{fy}年度", f"({35 - 5 * i}人)", f"{38 - 6 * i}人" * known],
        ]
    write_programme(
        raw,
        [DEMO_ID, "99999", "架空市", "架空の事業", "令和3年度", "令和7年度"],
        [
            [DEMO_ID, "1", "参加者数", "人", "stock", "increase", "100人", "R2"],
            [DEMO_ID, "2", "待機児童数", "人", "stock", "decrease", "40人", "R2"],
        ],
        observations,
    )
