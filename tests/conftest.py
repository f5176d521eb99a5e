"""Shared fixtures: the shipped raw data, and writable copies of it for bad-input tests."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
SEED_DIR = RAW / "23205-community"
SEED_ID = "23205-community"


@pytest.fixture(scope="session")
def seed():
    """The shipped raw data, loaded and validated once per test session."""
    from kpianalysis.data.dataset import load_dataset

    return load_dataset(RAW)


@pytest.fixture
def raw_copy(tmp_path: Path) -> Path:
    """A writable copy of ``data/raw`` (the shipped files are immutable)."""
    dest = tmp_path / "raw"
    shutil.copytree(RAW, dest)
    return dest


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
