"""Every path contained and every failure one line (issue 19, point 5).

Each case is one an attacker or an unlucky operator tried: a path option leading out of the
project, a programme folder linked from outside, a read-only archive, an edited run record, the
lock file as a folder, ``data/processed`` as a file, an oversized input and the two
fiscal-year range messages.
"""

from __future__ import annotations

import builtins
import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import conftest
from conftest import DEMO_ID, demo_programme
from kpianalysis.build import archive, pipeline
from kpianalysis.cli import main
from kpianalysis.data import rawio
from kpianalysis.data.dataset import load_dataset
from kpianalysis.errors import DataError, OutputError

PARAMS = "fiscal_year: int = 2023\n"


def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "data" / "raw").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'copy'\n", encoding="utf-8")
    demo_programme(root / "data" / "raw", range(2022, 2024))
    conftest.write_notebook(root / "notebooks" / "only.ipynb", PARAMS, "print(fiscal_year)")
    return root


def one_line(err: str) -> str:
    lines = [x for x in err.splitlines() if "warning" not in x]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# ---------------------------------------------------------------------------------------------
# Paths


def test_reports_option_outside_the_project_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path)
    outside = tmp_path / "outside"
    for reports in (str(outside), "/", "../outside"):
        argv = ["build", "--root", str(root), "--reports", reports, "--no-progress"]
        assert main(argv) == 1
        line = one_line(capsys.readouterr().err)
        assert "--reports" in line and "outside the project root" in line
    assert not outside.exists()
    assert not (root / "data" / "processed").exists()  # refused before anything was written
    assert main(["index", "--reports", str(outside)]) == 1
    assert "neither inside a project" in one_line(capsys.readouterr().err)
    assert not outside.exists()


def test_programme_folder_linked_from_outside_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path)
    raw = root / "data" / "raw"
    # Inside the project: followed (a shared folder of the project).
    shared = root / "data" / "shared"
    shared.mkdir()
    (raw / DEMO_ID).rename(shared / DEMO_ID)
    (raw / DEMO_ID).symlink_to(shared / DEMO_ID)
    assert list(load_dataset(raw).programmes["programme_id"]) == [DEMO_ID]
    # Outside it: refused by validate and by the build, before data/processed is written.
    elsewhere = tmp_path / "elsewhere"
    (shared / DEMO_ID).rename(elsewhere)
    (raw / DEMO_ID).unlink()
    (raw / DEMO_ID).symlink_to(elsewhere)
    assert main(["validate", str(raw)]) == 1
    line = one_line(capsys.readouterr().err)
    assert f"{raw / DEMO_ID}" in line and "outside the project" in line
    with pytest.raises(DataError, match="symbolic link"):
        pipeline.build(root, progress=False)
    assert not (root / "data" / "processed").exists()


def test_an_oversized_input_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path)
    obs = root / "data" / "raw" / DEMO_ID / "observations.csv"
    with open(obs, "ab") as fh:  # a sparse 17 MiB tail: nothing of it is ever read
        fh.truncate(rawio.MAX_INPUT_BYTES + 2**20)
    read: list[Path] = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda p: read.append(p) or real(p))
    with pytest.raises(DataError, match=r"17\.0 MiB, over the 16 MiB") as info:
        load_dataset(root / "data" / "raw")
    assert info.value.file.endswith("observations.csv")
    assert obs not in read


# ---------------------------------------------------------------------------------------------
# The archive


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project built once (one tiny notebook, FY2022 and FY2023); tests work on copies."""
    root = project(tmp_path_factory.mktemp("built"))
    assert pipeline.build(root, jobs=2, progress=False).count("ok") == 2
    return root


@pytest.fixture
def copy(built: Path, tmp_path: Path) -> Path:
    import shutil

    dest = tmp_path / "project"
    shutil.copytree(built, dest, symlinks=True)
    return dest


def tree(reports: Path) -> dict[str, tuple[int, int, int]]:
    return {
        p.relative_to(reports).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(reports.rglob("*"))
    }


@pytest.fixture
def read_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """The archive of the test's project as on a read-only mount: every call that would write
    under a folder named ``reports`` fails with EROFS (the tests run as root, so chmod would
    not stop them). Yields the paths written to (must stay empty)."""
    tried: list[Path] = []

    def ours(p: Any) -> bool:
        return isinstance(p, str | bytes | os.PathLike) and "/reports" in os.fsdecode(p)

    def refuse(p: Any) -> None:
        tried.append(Path(os.fsdecode(p)))
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(p))

    real_open = os.open

    def os_open(p: Any, flags: int, *a: Any, **kw: Any) -> int:
        if ours(p) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            refuse(p)
        return real_open(p, flags, *a, **kw)

    real_bopen = builtins.open

    def b_open(p: Any, mode: str = "r", *a: Any, **kw: Any) -> Any:
        if ours(p) and any(c in mode for c in "wax+"):
            refuse(p)
        return real_bopen(p, mode, *a, **kw)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", b_open)
    for name in ("rename", "replace", "unlink", "rmdir", "link", "mkdir"):
        real = getattr(os, name)

        def guarded(p: Any, *a: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            if ours(p):
                if _name == "mkdir" and os.path.isdir(p):
                    raise FileExistsError(errno.EEXIST, "exists", p)
                refuse(p)
            return _real(p, *a, **kw)

        monkeypatch.setattr(os, name, guarded)
    yield tried


def test_read_only_archive_no_op_build_writes_nothing(copy: Path, read_only: list[Path]) -> None:
    reports = copy / "reports"
    before = tree(reports)
    summary = pipeline.build(copy, progress=False)
    assert summary.count("skipped") == 2 and summary.count("ok") == 0
    # It tried to open the lock file for writing (refused), and nothing else.
    assert read_only == [reports / archive.LOCK] and tree(reports) == before


def test_read_only_archive_with_a_run_to_do_says_so_in_one_line(
    copy: Path, read_only: list[Path]
) -> None:
    with pytest.raises(archive.ArchiveError, match="cannot be written") as info:
        pipeline.build(copy, force=True, progress=False)
    assert "\n" not in str(info.value) and "nothing was written" in str(info.value)
    assert read_only == [copy / "reports" / archive.LOCK]


def test_lock_file_as_a_folder_and_processed_as_a_file_fail_in_one_line(
    copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = copy / "reports" / archive.LOCK
    lock.unlink()
    lock.mkdir()
    assert main(["build", "--root", str(copy), "--no-progress"]) == 1
    assert f"{lock}: cannot open the archive's lock file" in one_line(capsys.readouterr().err)
    lock.rmdir()
    import shutil

    shutil.rmtree(copy / "data" / "processed")
    (copy / "data" / "processed").write_text("not a folder")
    with pytest.raises(OutputError, match=r"writing the processed data to .* failed"):
        pipeline.build(copy, progress=False)
    assert main(["build", "--root", str(copy), "--no-progress"]) == 1
    one_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("field", "value"),
    [("fiscal_year", "abc"), ("fiscal_year", 2022), ("programme_id", "other"), ("notebook", 5)],
)
def test_a_malformed_record_is_skipped_with_a_warning_and_rerun(
    copy: Path, field: str, value: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    record = copy / "reports" / "panel" / "fy2023" / f"only{archive.RECORD_SUFFIX}"
    rec = json.loads(record.read_text(encoding="utf-8"))
    record.write_bytes(archive.record_bytes({**rec, field: value}))
    assert main(["index", "--reports", str(copy / "reports")]) == 0
    err = capsys.readouterr().err
    assert f"{record}: malformed run record ({field} is {value!r}" in err
    page = (copy / "reports" / "index.html").read_text(encoding="utf-8")
    assert "fy2023/only.html" not in page and "fy2022/only.html" in page
    # The next build reruns exactly that run, and the index lists it again.
    summary = pipeline.build(copy, progress=False)
    assert [(o.spec.fiscal_year, o.outcome) for o in summary.outcomes if o.outcome == "ok"] == [
        (2023, "ok")
    ]
    assert json.loads(record.read_text(encoding="utf-8"))[field] == rec[field]
    assert "fy2023/only.html" in (copy / "reports" / "index.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Messages


@pytest.mark.parametrize("text", ["1899年度", "1950年度", "2101", "2300年度"])
def test_both_year_range_checks_give_the_same_range(text: str, tmp_path: Path) -> None:
    root = project(tmp_path)
    obs = root / "data" / "raw" / DEMO_ID / "observations.csv"
    rows = conftest.read_rows(obs)
    rows[1][2] = text
    conftest.write_rows(obs, rows)
    with pytest.raises(DataError, match="outside 1989–2100") as info:
        load_dataset(root / "data" / "raw")
    assert info.value.column == "fiscal_year" and info.value.row == 2
