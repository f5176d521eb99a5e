"""Crash consistency of a commit, proven by injection (issue 19, point 1).

As ALICE and CrashMonkey do, the test first records every filesystem call one commit makes
(``open``/``write``/``fsync``/``link``/``rename``/``mkdir``/``unlink``/``stat``/…, each with its
path inside the test's folder, and the folder exchange itself), then replays the commit once per
call and fault:

* the call fails with ``ENOSPC``, ``EIO`` or ``ENAMETOOLONG``: the commit must raise, and what it
  raises must be true — an ``OSError`` ("nothing of this run was committed") only when the
  archive holds the whole previous version, an ``ArchiveError`` ("the run is in the archive")
  only when it holds the whole new one;
* the process is killed just before the call: the files as they lie at that moment are copied
  (what a ``SIGKILL`` leaves; the page cache survives a process crash) and must hold the whole
  previous or the whole new version.

After each case the next build's clean-up (:func:`archive.clean_staging`, then the same run
committed again without a fault) must leave the new version, archived, with nothing staged.
A version is the run folder's exact file set and bytes: the run's ``.ipynb``, ``.html`` and
record, a sibling run's three files that must never change, and nothing else.
"""

from __future__ import annotations

import builtins
import errno
import io
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from kpianalysis.build import archive
from kpianalysis.build.commit import commit_staged
from kpianalysis.build.execute import StagedRun

WHERE = "23205-community/fy2023"
REC = {"fiscal_year": 2023, "notebook": "x", "programme_id": "23205-community"}
MTIME = 1_700_000_000 * 10**9  # staged files' fixed mtime: the same record on every attempt


class Killed(BaseException):
    """The simulated SIGKILL: nothing of the commit's own clean-up may count."""


class FaultFS:
    """Wraps the ``os``/``open`` calls a commit makes on paths under ``base``; counts them and
    fails (or 'kills' at) the ``target``-th one."""

    NAMES = (
        "open",
        "link",
        "symlink",
        "rename",
        "replace",
        "mkdir",
        "rmdir",
        "unlink",
        "fsync",
        "stat",
        "lstat",
        "scandir",
    )

    def __init__(self, base: Path, target: int = -1, fault: str = "") -> None:
        self.base = os.fspath(base)
        self.target = target
        self.fault = fault
        self.calls: list[str] = []
        self.snapshot: Path | None = None
        self._fds: set[int] = set()
        self._real: dict[str, Callable[..., Any]] = {}
        self._busy = False

    def _ours(self, args: tuple[Any, ...]) -> bool:
        for a in args[:2]:
            if isinstance(a, int) and a in self._fds:
                return True
            if isinstance(a, str | bytes | os.PathLike) and os.fsdecode(os.fspath(a)).startswith(
                self.base
            ):
                return True
        return False

    def _event(self, name: str, args: tuple[Any, ...]) -> None:
        """Count one call; fail or 'kill' it when it is the target."""
        where = next((os.fsdecode(a) for a in args if isinstance(a, str | bytes | Path)), "fd")
        self.calls.append(f"{name} {os.path.relpath(where, self.base) if where != 'fd' else 'fd'}")
        if len(self.calls) - 1 != self.target:
            return
        if self.fault == "kill":
            self._busy = True
            try:
                self.snapshot = Path(self.base + "-killed")
                shutil.copytree(Path(self.base) / "reports", self.snapshot, symlinks=True)
            finally:
                self._busy = False
            raise Killed
        code = getattr(errno, self.fault)
        raise OSError(code, os.strerror(code), where)

    def _wrap(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kw: Any) -> Any:
            if self._busy or not self._ours(args):
                return real(*args, **kw)
            self._event(name, args)
            result = real(*args, **kw)
            if name == "open" and isinstance(result, int):
                self._fds.add(result)
            return result

        return call

    def _open(self, real: Callable[..., Any]) -> Callable[..., Any]:
        fs = self

        def wrapped(file: Any, mode: str = "r", *args: Any, **kw: Any) -> Any:
            if fs._busy or not isinstance(file, str | Path) or not fs._ours((file,)):
                return real(file, mode, *args, **kw)
            fs._event("open", (file,))
            fh = real(file, mode, *args, **kw)
            if any(c in mode for c in "wax+"):
                fs._fds.add(fh.fileno())
                write = fh.write

                def counted_write(data: Any) -> Any:
                    fs._event("write", (file,))
                    return write(data)

                fh.write = counted_write
            return fh

        return wrapped

    @contextmanager
    def active(self) -> Iterator[FaultFS]:
        mp = pytest.MonkeyPatch()
        try:
            for name in self.NAMES:
                mp.setattr(os, name, self._wrap(name, getattr(os, name)))
            mp.setattr(builtins, "open", self._open(builtins.open))
            mp.setattr(io, "open", self._open(io.open))
            real_exchange = archive._exchange

            def exchange(a: Path, b: Path) -> None:
                self._event("exchange", (a,))
                real_exchange(a, b)

            mp.setattr(archive, "_exchange", exchange)
            yield self
        finally:
            mp.undo()


def stage(reports: Path, html: bytes, ipynb: bytes) -> Path:
    """A run's staging directory as the build leaves it before the commit."""
    staging = archive.new_staging_dir(reports)
    for name, data in (("x.html", html), ("x.ipynb", ipynb)):
        (staging / name).write_bytes(data)
        os.utime(staging / name, ns=(MTIME, MTIME))
    return staging


def commit(reports: Path, staging: Path, key: str) -> list[Path]:
    # With a data table behind the report, switched in with it (a subfolder of the run's).
    table = staging / "t.csv"
    if not table.exists():
        table.write_bytes(b"\xef\xbb\xbfa,b\r\n1,2\r\n")
        os.utime(table, ns=(MTIME, MTIME))
    return archive.commit_run(
        staging / "x.ipynb",
        staging / "x.html",
        {**REC, "run_key": key, "outcome": "ok", "end_time": "2024-01-01T00:00:00+00:00"},
        reports,
        WHERE,
        "x",
        tables={"data/x.csv": table},
    )


def folder(reports: Path) -> dict[str, bytes] | None:
    """The run folder's files and bytes (``None`` when it is missing)."""
    d = reports / WHERE
    if not d.is_dir():
        return None
    return {
        p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()
    }


def without_record_stat(files: dict[str, bytes] | None) -> Any:
    """A version up to the records' own bytes (a record's mtime fields differ between
    attempts only when an identical archived file was kept with its older mtime)."""
    if files is None:
        return None
    return {k: v for k, v in files.items() if not k.endswith(archive.RECORD_SUFFIX)}


@pytest.fixture(params=["replace", "first"])
def scenario(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """'replace': the folder holds run x (old version) and a sibling run y; the new version
    changes x's report, keeps its notebook's bytes. 'first': no folder yet."""
    base = tmp_path / "case"
    reports = base / "reports"
    reports.mkdir(parents=True)
    if request.param == "replace":
        for stem in ("x", "y"):
            s = stage(reports, f"<p>{stem} old</p>".encode(), b'{"nb": 1}')
            os.rename(s / "x.html", s / f"{stem}.html")
            os.rename(s / "x.ipynb", s / f"{stem}.ipynb")
            archive.commit_run(
                s / f"{stem}.ipynb",
                s / f"{stem}.html",
                {**REC, "notebook": stem, "run_key": "a" * 64, "outcome": "ok"},
                reports,
                WHERE,
                stem,
            )
            shutil.rmtree(s)
        # x's last failed attempt, which a good run supersedes.
        failed = archive.failed_paths(reports, WHERE, "x")
        failed["ipynb"].parent.mkdir(parents=True)
        failed["record"].write_text(
            json.dumps({**REC, "outcome": "failed", "end_time": "2023-01-01T00:00:00+00:00"})
        )
    old = folder(reports)
    # The new version, as a commit without a fault makes it (in a copy).
    ref = tmp_path / "ref" / "reports"
    shutil.copytree(reports, ref)
    commit(ref, stage(ref, b"<p>x new</p>", b'{"nb": 1}'), "b" * 64)
    return {"base": base, "reports": reports, "old": old, "new": folder(ref)}


def version(reports: Path, sc: dict[str, Any]) -> str:
    now = folder(reports)
    if now == sc["old"]:
        return "old"
    if without_record_stat(now) == without_record_stat(sc["new"]) and archive.is_archived(
        reports, WHERE, "x", "b" * 64
    ):
        return "new"
    return f"mixed: {sorted(now or ())}"


def next_build(reports: Path, sc: dict[str, Any]) -> None:
    """What the next build does: remove dead staging, then produce and commit the run again."""
    archive.clean_staging(reports)
    if not archive.is_archived(reports, WHERE, "x", "b" * 64):
        staging = stage(reports, b"<p>x new</p>", b'{"nb": 1}')
        commit(reports, staging, "b" * 64)
        shutil.rmtree(staging)
    assert version(reports, sc) == "new"
    assert list((reports / archive.STAGING).iterdir()) == []
    # The failure the good run superseded is no longer listed (its copy may remain after a crash).
    assert archive.collect_failed(reports) == []


def record_calls(sc: dict[str, Any]) -> list[str]:
    reports = sc["reports"]
    probe = sc["base"].parent / "probe"
    shutil.copytree(sc["base"], probe)
    fs = FaultFS(probe)
    staging = stage(probe / "reports", b"<p>x new</p>", b'{"nb": 1}')
    with fs.active():
        commit(probe / "reports", staging, "b" * 64)
    assert version(probe / "reports", sc) == "new"
    assert reports.is_dir()
    return fs.calls


def fresh(sc: dict[str, Any], n: int) -> Path:
    """A copy of the scenario's archive for case ``n``."""
    base = sc["base"].parent / f"c{n}"
    shutil.copytree(sc["base"], base)
    return base


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "journaled"])
def test_every_call_of_a_commit_fails_or_dies_consistently(
    scenario: dict[str, Any], exchange: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    sc = scenario
    if not exchange:  # a filesystem without renameat2(RENAME_EXCHANGE), e.g. NFS

        def no_exchange(a: Path, b: Path) -> None:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))

        monkeypatch.setattr(archive, "_exchange", no_exchange)
    calls = record_calls(sc)
    # Each of the run's files is written, synced and linked into the new folder, and the folder
    # switched in, with its data table; a replacement also links the sibling run's files.
    assert sum(c.startswith("link ") for c in calls) == (4 if sc["old"] is None else 7)
    assert any(c.startswith(("exchange", "rename")) for c in calls)
    n = 0
    for target in range(len(calls)):
        for fault in ("ENOSPC", "EIO", "ENAMETOOLONG", "kill"):
            n += 1
            base = fresh(sc, n)
            reports = base / "reports"
            fs = FaultFS(base, target, fault)
            staging = stage(reports, b"<p>x new</p>", b'{"nb": 1}')
            case = f"{fault} at call {target} ({calls[target]})"
            raised: BaseException | None = None
            with fs.active():
                try:
                    commit(reports, staging, "b" * 64)
                except (OSError, archive.ArchiveError, Killed) as exc:
                    raised = exc
            if fault == "kill":
                reports = fs.snapshot
                assert reports is not None
                state = version(reports, sc)
                if exchange or not calls[target].startswith("rename"):
                    assert state in ("old", "new"), case
            else:
                archive.discard_staging(staging, reports)  # commit_staged's clean-up
                state = version(reports, sc)
                # The message is true: an OSError says nothing was committed. (A fault may be
                # absorbed: mkdir(exist_ok=True) of a folder that exists.)
                expected = "old" if isinstance(raised, OSError) else "new"
                assert state == expected, case
            next_build(reports, sc)
            shutil.rmtree(base)
            if fs.snapshot is not None:
                shutil.rmtree(fs.snapshot)
    assert n == 4 * len(calls)


def test_commit_staged_says_the_truth_when_the_record_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: the disk fills at the record (it used to land report and notebook
    without a record and say 'nothing of this run was committed')."""
    reports = tmp_path / "reports"
    s = stage(reports, b"<p>old</p>", b"{}")
    commit(reports, s, "a" * 64)
    before = folder(reports)
    staging = stage(reports, b"<p>new</p>", b"{}")
    real = archive.fileio.write_durable

    def full(path: Path, data: bytes) -> None:
        if str(path).endswith(archive.RECORD_SUFFIX):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, data)

    monkeypatch.setattr(archive.fileio, "write_durable", full)

    class Spec:
        label = "x FY2023"
        where = WHERE
        stem = "x"
        tables = ()  # no data tables planned beside the report

    st = StagedRun(spec=Spec(), ok=True, staging=staging)  # type: ignore[arg-type]
    st.ipynb, st.html = staging / "x.ipynb", staging / "x.html"
    monkeypatch.setattr("kpianalysis.build.commit.run_record", lambda *a: {"outcome": "ok"})
    with pytest.raises(archive.ArchiveError, match="nothing of this run was committed"):
        commit_staged(st, reports, {})
    assert folder(reports) == before
    assert not staging.exists()
