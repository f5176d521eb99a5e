"""The report archive: atomic commits, run records, the build lock and stale-staging cleanup.

Archive scheme
--------------
::

    reports/
      .lock                      fcntl.flock: one build at a time
      .staging/<run-id>/         a run being produced (same filesystem as the archive)
      fy2023/attainment.ipynb    executed notebook (normalised: no timestamps, fixed ids)
      fy2023/attainment.html     the report
      fy2023/attainment.run.json run record = commit marker (written last)
      failed/fy2023/attainment.ipynb, .run.json   the last failed attempt, for debugging
      index.html

A run is produced entirely inside ``.staging/<run-id>/`` and every file is fsynced there. The
commit then moves the files into ``fy<YEAR>/`` with :func:`os.replace` (atomic on POSIX) in the
order ``.ipynb`` → ``.html`` → ``.run.json`` and fsyncs the directory. The run record carries the
sha256 of the ``.ipynb`` and ``.html`` it belongs to, so it is the commit marker: a run counts as
archived only when its record exists, says ``ok`` and both files hash to what it says. A build
killed between two renames therefore leaves a run that the next build sees as incomplete and
redoes; a reader never sees a truncated file. A file whose new bytes equal the archived bytes is
not replaced at all, so an unchanged report stays byte-identical (and keeps its mtime and inode).
Anything left in ``.staging/`` belongs to a killed build and is removed by the next build once
it holds the lock.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import signal
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from kpianalysis import fileio
from kpianalysis.errors import KpiAnalysisError
from kpianalysis.fileio import fsync_dir, sha256_file

RECORD_SUFFIX = ".run.json"
STAGING = ".staging"
LOCK = ".lock"
FAILED = "failed"


class BuildLockedError(KpiAnalysisError):
    """Another build holds the archive lock and the caller asked not to wait."""


class ArchiveError(KpiAnalysisError):
    """Writing to the archive failed (disk full, permissions); the archive is left intact."""


def record_bytes(record: Mapping[str, Any]) -> bytes:
    """Canonical JSON encoding of a run record (sorted keys, UTF-8, trailing newline).

    Examples
    --------
    >>> record_bytes({"b": 1, "a": "年"})
    b'{\\n  "a": "\\xe5\\xb9\\xb4",\\n  "b": 1\\n}\\n'
    """
    return (json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def read_record(path: Path) -> dict[str, Any] | None:
    """The run record at ``path``, or ``None`` if missing or unreadable (treated as no run).

    Examples
    --------
    >>> read_record(Path("/nonexistent.run.json")) is None
    True
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def run_paths(reports: Path, fiscal_year: int, name: str) -> dict[str, Path]:
    """Archive paths of one run: ``ipynb``, ``html`` and ``record``.

    Examples
    --------
    >>> run_paths(Path("reports"), 2023, "trends")["html"].as_posix()
    'reports/fy2023/trends.html'
    """
    d = Path(reports) / f"fy{fiscal_year}"
    return {
        "ipynb": d / f"{name}.ipynb",
        "html": d / f"{name}.html",
        "record": d / f"{name}{RECORD_SUFFIX}",
    }


def failed_paths(reports: Path, fiscal_year: int, name: str) -> dict[str, Path]:
    """Where the last failed attempt of a run is kept (never over the good report).

    Examples
    --------
    >>> failed_paths(Path("reports"), 2023, "trends")["ipynb"].as_posix()
    'reports/failed/fy2023/trends.ipynb'
    """
    d = Path(reports) / FAILED / f"fy{fiscal_year}"
    return {
        "ipynb": d / f"{name}.ipynb",
        "record": d / f"{name}{RECORD_SUFFIX}",
        "log": d / f"{name}.kernel.log",
    }


def is_archived(reports: Path, fiscal_year: int, name: str, run_key: str) -> bool:
    """Whether an intact, successful run with ``run_key`` is in the archive.

    Intact means: the record parses, has this key and outcome ``ok``, and the ``.ipynb`` and
    ``.html`` on disk hash to the sha256 the record holds.

    Examples
    --------
    >>> is_archived(Path("/nonexistent"), 2023, "trends", "0" * 64)
    False
    """
    paths = run_paths(reports, fiscal_year, name)
    record = read_record(paths["record"])
    if not record or record.get("run_key") != run_key or record.get("outcome") != "ok":
        return False
    outputs = record.get("outputs") or {}
    for kind in ("ipynb", "html"):
        try:
            if sha256_file(paths[kind]) != outputs.get(kind):
                return False
        except OSError:
            return False
    return True


@contextlib.contextmanager
def sigint_deferred() -> Iterator[None]:
    """Hold back SIGINT while a commit runs; it is delivered right after.

    Only effective in the main thread (elsewhere Python never sees signals anyway).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _move_unless_identical(src: Path, dest: Path) -> bool:
    """``os.replace(src, dest)`` unless ``dest`` already holds the same bytes. True if moved."""
    if dest.exists() and sha256_file(dest) == sha256_file(src):
        src.unlink()
        return False
    os.replace(src, dest)
    return True


def commit_run(
    staged_ipynb: Path,
    staged_html: Path,
    record: Mapping[str, Any],
    reports: Path,
    fiscal_year: int,
    name: str,
) -> list[Path]:
    """Move a complete staged run into the archive; the record goes last (commit marker).

    ``record["outputs"]`` is set here to the sha256 of the staged files. The staged files must
    be on the same filesystem as ``reports`` (they are, under ``reports/.staging``).

    Returns
    -------
    list of Path
        Archive files whose content changed.

    Examples
    --------
    >>> commit_run(ipynb, html, {"outcome": "ok"}, Path("reports"), 2023, "x")  # doctest: +SKIP
    """
    paths = run_paths(reports, fiscal_year, name)
    paths["record"].parent.mkdir(parents=True, exist_ok=True)
    rec = dict(record)
    rec["outputs"] = {"ipynb": sha256_file(staged_ipynb), "html": sha256_file(staged_html)}
    staged_record = staged_ipynb.with_name(f"{name}{RECORD_SUFFIX}")
    fileio.write_durable(staged_record, record_bytes(rec))
    changed = []
    with sigint_deferred():
        for src, kind in (
            (staged_ipynb, "ipynb"),
            (staged_html, "html"),
            (staged_record, "record"),
        ):
            if _move_unless_identical(src, paths[kind]):
                changed.append(paths[kind])
        fsync_dir(paths["record"].parent)
    # A good run supersedes the debugging copy of an earlier failure.
    for p in failed_paths(reports, fiscal_year, name).values():
        p.unlink(missing_ok=True)
    return changed


def keep_failed(
    staged_ipynb: Path | None,
    record: Mapping[str, Any],
    reports: Path,
    fiscal_year: int,
    name: str,
    kernel_log: Path | None = None,
) -> Path:
    """Keep a failed run's executed notebook under ``reports/failed/fy<YEAR>/``.

    The last good report in ``fy<YEAR>/`` is never touched.

    Returns
    -------
    Path
        Where the failed notebook (or, if none was written, its record) now is.

    Examples
    --------
    >>> keep_failed(ipynb, {"outcome": "failed"}, Path("reports"), 2023, "x")  # doctest: +SKIP
    """
    paths = failed_paths(reports, fiscal_year, name)
    paths["ipynb"].parent.mkdir(parents=True, exist_ok=True)
    with sigint_deferred():
        if staged_ipynb is not None and staged_ipynb.exists():
            os.replace(staged_ipynb, paths["ipynb"])
        else:
            paths["ipynb"].unlink(missing_ok=True)
        if kernel_log is not None and kernel_log.exists() and kernel_log.stat().st_size:
            os.replace(kernel_log, paths["log"])
        else:
            paths["log"].unlink(missing_ok=True)
        fileio.write_atomic(paths["record"], record_bytes(record))
    return paths["ipynb"] if paths["ipynb"].exists() else paths["record"]


def new_staging_dir(reports: Path) -> Path:
    """A fresh, empty directory under ``reports/.staging/``.

    Examples
    --------
    >>> new_staging_dir(Path("/tmp/_kpi_reports")).parent.name
    '.staging'
    """
    d = Path(reports) / STAGING / uuid.uuid4().hex
    d.mkdir(parents=True)
    return d


def clean_staging(reports: Path) -> int:
    """Remove what a killed build left in ``reports/.staging/``; call only holding the lock.

    Returns
    -------
    int
        Number of entries removed.

    Examples
    --------
    >>> clean_staging(Path("/nonexistent"))
    0
    """
    staging = Path(reports) / STAGING
    if not staging.is_dir():
        return 0
    n = 0
    for entry in staging.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        n += 1
    return n


@contextlib.contextmanager
def build_lock(
    reports: Path, *, wait: bool = True, notify: Callable[[str], None] | None = None
) -> Iterator[Path]:
    """Hold ``reports/.lock`` (an exclusive ``flock``) for the duration of a build.

    Parameters
    ----------
    reports
        Archive directory (created if missing).
    wait
        If another build holds the lock: wait for it (after calling ``notify`` once) or, when
        ``False``, raise :class:`BuildLockedError` at once.
    notify
        Called with a one-line message before waiting; defaults to printing on stderr.

    Examples
    --------
    >>> with build_lock(Path("/tmp/_kpi_reports")):
    ...     pass
    """
    reports = Path(reports)
    reports.mkdir(parents=True, exist_ok=True)
    lock_path = reports / LOCK
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            msg = f"another build holds {lock_path}"
            if not wait:
                raise BuildLockedError(f"{msg}; not waiting (--no-wait)") from None
            (notify or (lambda m: print(m, file=sys.stderr, flush=True)))(
                f"{msg}; waiting for it to finish …"
            )
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield lock_path
    finally:
        # Closing the descriptor releases the flock.
        os.close(fd)


def collect_records(reports: Path) -> list[dict[str, Any]]:
    """Successful run records under ``reports/fy*/``, sorted by fiscal year then notebook.

    Records of failed attempts (``reports/failed/``) and unreadable records are left out.

    Examples
    --------
    >>> collect_records(Path("/nonexistent"))
    []
    """
    out = []
    reports = Path(reports)
    if not reports.is_dir():
        return out
    for year_dir in sorted(reports.glob("fy*")):
        if not year_dir.is_dir() or year_dir.name == FAILED:
            continue
        for path in sorted(year_dir.glob(f"*{RECORD_SUFFIX}")):
            rec = read_record(path)
            if rec and rec.get("outcome") == "ok":
                rec = dict(rec)
                rec.setdefault("notebook", path.name[: -len(RECORD_SUFFIX)])
                rec["_html"] = f"{year_dir.name}/{rec['notebook']}.html"
                out.append(rec)
    out.sort(key=lambda r: (int(r.get("fiscal_year", 0)), str(r["notebook"])))
    return out
