"""The report archive: atomic commits, run records, locks and stale-staging cleanup.

Archive scheme
--------------
::

    reports/
      .lock                                  byte-range locks (fcntl): see "Concurrency" below
      .staging/<build>-<run>/                a run being produced (same filesystem as the archive)
      <programme_id>/fy2023/attainment.ipynb executed notebook (normalised: no timestamps, ids)
      <programme_id>/fy2023/attainment.html  the report
      <programme_id>/fy2023/attainment.run.json  run record = commit marker (written last)
      <programme_id>/fy2023/attainment.en.html   the English report beside it (``--language en``)
      panel/fy2023/<notebook>.html …         panel-scoped notebooks (no ``programme_id``)
      failed/<programme_id|panel>/fy2023/<notebook>.ipynb, .run.json   last failed attempt
      index.html

A run is produced entirely inside its staging directory and every file is fsynced there. The
commit then assembles the new version of the run's folder beside it (hard links to the
folder's other files, the run's new files, its record written last) and switches it in with one
atomic exchange of the two folders (:func:`switch_folder`): a crash, a full disk or a reader
finds the whole previous folder or the whole new one. The run record carries the
sha256 of the ``.ipynb`` and ``.html`` it belongs to: a run counts as
archived only when its record exists, says ``ok`` and both files hash to what it says. The
record also holds each file's size and ``mtime_ns`` as committed (``output_stat``); as git's index
does, a file whose size and mtime are exactly those, and whose mtime is older than the record's
own, is taken to be the file that was hashed without reading it again (a national archive is
~30 GB of reports; its no-op build stats them instead). Any write changes the mtime (and a
truncation the size too), so it is hashed and caught; a file written in the same clock tick as
its record is always hashed (git's "racily clean" case). Only an edit that keeps the size and
then sets the mtime back (``touch -r``) goes unnoticed: ``--force`` rebuilds regardless. A build
killed before the switch leaves the previous version, whose staging the next build removes; a
reader never sees a truncated file. A file whose new bytes equal the archived bytes is
not replaced at all, so an unchanged report stays byte-identical (and keeps its mtime and inode).

Concurrency
-----------
Several builds (e.g. the shards of a cluster job array) may fill one archive at once. They lock
byte ranges of ``reports/.lock`` with POSIX record locks (:func:`fcntl.lockf`, which also work on
NFS with a lock manager): byte 0 while committing a run or writing the index (milliseconds);
one byte per *run* (from the hash of its archive location) while it is produced and committed, so
two builds never produce the same run at once — the second waits and then finds it archived;
and one byte per *build*, held for the build's lifetime, which marks its staging directories as
alive. A build removes only staging directories whose owner's byte is free (the owner was
killed), never those of a build still running. Record locks belong to the process: a build
opens ``.lock`` once and keeps it open until it ends.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from kpianalysis import fileio
from kpianalysis.errors import KpiAnalysisError
from kpianalysis.fileio import fsync_dir, sha256_file

__all__ = [
    "FAILED",
    "GENERATION",
    "LOCK",
    "RECORD_SUFFIX",
    "STAGING",
    "SWITCH",
    "ArchiveError",
    "ArchiveLock",
    "BuildLockedError",
    "bump_generation",
    "clean_staging",
    "collect_failed",
    "collect_records",
    "commit_run",
    "discard_staging",
    "failed_paths",
    "generation",
    "is_archived",
    "keep_failed",
    "location",
    "new_staging_dir",
    "output_stat",
    "read_record",
    "record_bytes",
    "record_problem",
    "recover_staging",
    "run_paths",
    "sigint_deferred",
    "switch_folder",
]

RECORD_SUFFIX = ".run.json"
#: Rewritten (a fresh token) by every change to the archive through this module, under the
#: commit lock: the index is rebuilt only when it differs from the token it was built at.
GENERATION = ".generation"
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


def location(scope: str, fiscal_year: int) -> str:
    """Archive folder of a run, relative to the archive: ``<scope>/fy<YEAR>``.

    ``scope`` is a programme id, or ``panel`` for a notebook over all programmes.

    Examples
    --------
    >>> location("23205-community", 2023)
    '23205-community/fy2023'
    """
    return f"{scope}/fy{int(fiscal_year)}"


def run_paths(reports: Path, where: str, stem: str) -> dict[str, Path]:
    """Archive paths of one run: ``ipynb``, ``html`` and ``record``.

    Parameters
    ----------
    where
        The run's folder (:func:`location`), e.g. ``panel/fy2023``.
    stem
        The notebook name, with ``.en`` for an English report.

    Examples
    --------
    >>> run_paths(Path("reports"), "panel/fy2023", "trends")["html"].as_posix()
    'reports/panel/fy2023/trends.html'
    """
    d = Path(reports) / where
    return {
        "ipynb": d / f"{stem}.ipynb",
        "html": d / f"{stem}.html",
        "record": d / f"{stem}{RECORD_SUFFIX}",
    }


def failed_paths(reports: Path, where: str, stem: str) -> dict[str, Path]:
    """Where the last failed attempt of a run is kept (never over the good report).

    Examples
    --------
    >>> failed_paths(Path("reports"), "23205-community/fy2023", "trends")["ipynb"].as_posix()
    'reports/failed/23205-community/fy2023/trends.ipynb'
    """
    d = Path(reports) / FAILED / where
    return {
        "ipynb": d / f"{stem}.ipynb",
        "record": d / f"{stem}{RECORD_SUFFIX}",
        "log": d / f"{stem}.kernel.log",
    }


def is_archived(reports: Path, where: str, stem: str, run_key: str) -> bool:
    """Whether an intact, successful run with ``run_key`` is in the archive.

    Intact means: the record parses, has this key and outcome ``ok``, and the ``.ipynb`` and
    ``.html`` on disk hash to the sha256 the record holds — or have exactly the size and mtime
    the record kept, older than the record itself (see the module's notes).

    Examples
    --------
    >>> is_archived(Path("/nonexistent"), "panel/fy2023", "trends", "0" * 64)
    False
    """
    # Plain strings, not run_paths(): four Path objects per run cost a no-op build of the
    # country more than reading its records.
    base = f"{os.fspath(reports)}/{where}/{stem}"
    paths = {"ipynb": f"{base}.ipynb", "html": f"{base}.html"}
    record = _read_archived_fields(f"{base}{RECORD_SUFFIX}")
    if not record or record.get("run_key") != run_key or record.get("outcome") != "ok":
        return False
    if record_problem(record, where, stem):  # edited: the index would mislabel it; rerun
        return False
    outputs = record.get("outputs") or {}
    stats = record.get("output_stat") or {}
    for kind in ("ipynb", "html"):
        try:
            if _stat_matches(os.stat(paths[kind]), stats.get(kind), record["_mtime_ns"]):
                continue
            if sha256_file(Path(paths[kind])) != outputs.get(kind):
                return False
        except OSError:
            return False
    return True


def output_stat(path: Path) -> dict[str, int]:
    """``{"size", "mtime_ns"}`` of an archived output, as its record keeps it.

    Examples
    --------
    >>> p = Path("/tmp/_kpi_stat_example")
    >>> _ = p.write_bytes(b"abc")
    >>> output_stat(p)["size"]
    3
    """
    st = os.stat(path)
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _stat_matches(st: os.stat_result, recorded: Any, record_mtime_ns: int) -> bool:
    """Whether a file's stat is the one its record kept, so hashing it can be skipped.

    The file must also be older than the record: a file modified in the clock tick the record
    was written in could keep its mtime, so it is hashed (git's racily clean entries).
    """
    return (
        isinstance(recorded, dict)
        and recorded.get("size") == st.st_size
        and recorded.get("mtime_ns") == st.st_mtime_ns
        and st.st_mtime_ns < record_mtime_ns
    )


# A record as record_bytes writes it: each top-level key at two spaces' indent on its own line.
# The fields is_archived reads: key → its whole line(s) as written, value(s) captured.
_FIELDS = {
    b"fiscal_year": re.compile(rb'\n  "fiscal_year": (\d{1,4}),?\n'),
    b"notebook": re.compile(rb'\n  "notebook": "([^"\\\n]*)",?\n'),
    b"programme_id": re.compile(rb'\n  "programme_id": (null|"[^"\\\n]*"),?\n'),
    b"run_key": re.compile(rb'\n  "run_key": "([0-9a-f]{64})",?\n'),
    b"outcome": re.compile(rb'\n  "outcome": "([a-z]+)",?\n'),
    b"outputs": re.compile(
        rb'\n  "outputs": \{\n    "html": "([0-9a-f]{64})",\n    "ipynb": "([0-9a-f]{64})"\n'
        rb"  \},?\n"
    ),
    b"output_stat": re.compile(
        rb'\n  "output_stat": \{\n    "html": \{\n      "mtime_ns": (\d+),\n      "size": (\d+)'
        rb'\n    \},\n    "ipynb": \{\n      "mtime_ns": (\d+),\n      "size": (\d+)\n    \}\n'
        rb"  \},?\n"
    ),
}
# Every top-level line of those keys, found in one pass (a JSON string never holds a newline).
_KEY_LINE = re.compile(rb'\n  "(' + b"|".join(_FIELDS) + rb')": ')


def _read_archived_fields(path: str | Path) -> dict[str, Any] | None:
    """What :func:`is_archived` needs of a record: key, outcome, outputs, output_stat, mtime,
    and the fields that must agree with where it lies (fiscal year, notebook, programme).

    A record as :func:`record_bytes` writes it is read by finding its seven key lines instead of
    parsing its ~6 KB of JSON (a no-op build of the country reads 174,000); anything else (an
    edited record, a key twice, no ``output_stat``) is parsed in full.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        mtime_ns = os.fstat(fd).st_mtime_ns
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    found: dict[bytes, tuple[bytes, ...]] | None = None
    if data.startswith(b"{\n") and data.endswith(b"\n}\n"):
        # Each key's line exactly once, its value as record_bytes writes it, matched in place
        # after one scan for the key lines (a find per key scanned 6 KB twice per key).
        found = {}
        for line in _KEY_LINE.finditer(data):
            name = line.group(1)
            m = _FIELDS[name].match(data, line.start())
            if m is None or name in found:
                found = None
                break
            found[name] = m.groups()
    if found is not None and len(found) == len(_FIELDS):
        h_mtime, h_size, i_mtime, i_size = found[b"output_stat"]
        pid = found[b"programme_id"][0]
        return {
            "fiscal_year": int(found[b"fiscal_year"][0]),
            "notebook": found[b"notebook"][0].decode(),
            "programme_id": None if pid == b"null" else pid[1:-1].decode(),
            "run_key": found[b"run_key"][0].decode(),
            "outcome": found[b"outcome"][0].decode(),
            "outputs": {
                "html": found[b"outputs"][0].decode(),
                "ipynb": found[b"outputs"][1].decode(),
            },
            "output_stat": {
                "html": {"mtime_ns": int(h_mtime), "size": int(h_size)},
                "ipynb": {"mtime_ns": int(i_mtime), "size": int(i_size)},
            },
            "_mtime_ns": mtime_ns,
        }
    try:
        record = json.loads(data.decode("utf-8"))
    except ValueError:
        return None
    return {**record, "_mtime_ns": mtime_ns} if isinstance(record, dict) else None


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


def _identical(dest: Path, src: Path) -> bool:
    """Whether ``dest`` exists and holds the bytes of ``src`` (then ``dest`` is kept as it is)."""
    try:
        return os.stat(dest).st_size == os.stat(src).st_size and sha256_file(dest) == sha256_file(
            src
        )
    except FileNotFoundError:
        return False


#: Inside a run's staging directory: the folder being switched in, and its journal.
SWITCH = ".switch"
_INTENT = "intent"
_RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(a: Path, b: Path) -> None:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``).

    Raises ``OSError`` (``EINVAL``/``ENOSYS``/``EOPNOTSUPP`` where the filesystem or the C
    library cannot: NFS, old kernels), and the caller falls back to two journaled renames.
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available")
    at_fdcwd = -100
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), os.fspath(a))


def _link_tree(
    src: str, dest: Path, skip: set[str] | None = None, rel: str = "", *, top: bool = False
) -> None:
    """Hard-link a folder's entries into ``dest`` (same inodes, same mtimes; symlinks copied),
    leaving out the entries whose path relative to the top folder is in ``skip``."""
    mode = os.lstat(src).st_mode
    if stat.S_ISLNK(mode):
        os.symlink(os.readlink(src), dest)
    elif stat.S_ISDIR(mode):
        if not top:
            os.mkdir(dest)
        for entry in os.scandir(src):
            sub = f"{rel}{entry.name}"
            if not skip or sub not in skip:
                _link_tree(entry.path, dest / entry.name, skip, f"{sub}/")
    else:
        os.link(src, dest)


def switch_folder(reports: Path, where: str, work: Path, files: Mapping[str, Path | None]) -> None:
    """Replace some files of the archive folder ``reports/<where>`` in one atomic step.

    A new version of the folder is assembled in ``work`` (a fresh folder on the archive's
    filesystem, inside a run's staging directory): hard links to every entry of the current
    folder except those named in ``files``, and each ``files[name]`` (``None`` removes it)
    hard-linked under its name. Then one ``renameat2(RENAME_EXCHANGE)`` swaps the two folders
    (or one rename, when the folder is new): a reader, a crash or a full disk finds either the
    whole previous folder or the whole new one, never a mix. The previous folder ends up in
    ``work`` and goes with the staging directory. Where the filesystem cannot exchange (NFS),
    two renames with an intent file in ``work`` instead; :func:`recover_staging` puts the
    previous folder back if the process dies between them.

    Everything before the swap may fail (the archive is untouched); the swap itself is the
    commit point. The change token (:func:`bump_generation`) is renewed just before it, so the
    index is never left older than the archive.
    """
    target = Path(reports) / where
    new = Path(work) / "new"
    new.mkdir(parents=True)
    exists = target.is_dir()
    if exists:
        _link_tree(os.fspath(target), new, skip=set(files), top=True)
    for name, src in files.items():
        if src is not None:
            (new / name).parent.mkdir(parents=True, exist_ok=True)
            os.link(src, new / name)
    fsync_dir(new)
    with sigint_deferred():
        bump_generation(reports)
        if not exists:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(new, target)
            return
        try:
            _exchange(new, target)
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                raise
            _swap_journaled(new, target, Path(work), Path(reports))


def _swap_journaled(new: Path, target: Path, work: Path, reports: Path) -> None:
    """Two renames (target aside, new in) with an intent file naming the target folder."""
    intent = work / _INTENT
    fileio.write_durable(intent, os.fsencode(target.relative_to(reports)))
    fsync_dir(work)
    os.rename(target, work / "old")
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(work / "old", target)
        raise
    # Committed. A journal left behind is harmless: recovery acts only on a missing folder.
    with contextlib.suppress(OSError):
        intent.unlink()


def recover_staging(staging: Path, reports: Path) -> None:
    """Finish what a dead commit in ``staging`` left: put a folder set aside back in place.

    Only :func:`switch_folder`'s journaled fallback can leave an archive folder missing (between
    its two renames); the exchange never does. Idempotent.

    Raises
    ------
    OSError
        When the folder cannot be put back (the staging directory must then be kept).
    """
    work = Path(staging) / SWITCH
    intent = work / _INTENT
    try:
        rel = os.fsdecode(intent.read_bytes())
    except FileNotFoundError:
        return
    target = Path(reports) / rel
    if (work / "old").is_dir() and not target.exists():
        os.rename(work / "old", target)
        fsync_dir(target.parent)
    intent.unlink()


def discard_staging(staging: Path, reports: Path) -> None:
    """Remove a run's staging directory, after :func:`recover_staging` (kept if that fails)."""
    try:
        recover_staging(staging, reports)
    except OSError:
        return
    shutil.rmtree(staging, ignore_errors=True)


def commit_run(
    staged_ipynb: Path,
    staged_html: Path,
    record: Mapping[str, Any],
    reports: Path,
    where: str,
    stem: str,
    *,
    tables: Mapping[str, Path] | None = None,
) -> list[Path]:
    """Commit a complete staged run into the archive: all its files at once, or nothing.

    ``tables`` (``data/<table>.csv`` → staged file) are the data tables behind the report,
    switched in with it; ``record["tables"]`` gets their sha256.

    ``record["outputs"]`` is set here to the sha256 of the staged files, ``output_stat`` to
    their size and mtime as they will lie in the archive. The record is written into the
    staging directory last (so it is newer than its outputs) and the run's folder is switched in
    with :func:`switch_folder`. The staged files must be on the same filesystem as ``reports``
    (they are, under ``reports/.staging``). A file whose bytes equal the archived one's is not
    replaced: the archived inode is kept (same bytes, same mtime).

    Returns
    -------
    list of Path
        Archive files whose content changed.

    Raises
    ------
    OSError
        Before the switch: nothing of the run is in the archive.
    ArchiveError
        After the switch (syncing the folder failed): the run *is* in the archive.

    Examples
    --------
    >>> commit_run(ipynb, html, {"outcome": "ok"}, Path("reports"), "panel/fy2023", "x")
    ... # doctest: +SKIP
    """
    paths = run_paths(reports, where, stem)
    staging = Path(staged_ipynb).parent
    rec = dict(record)
    rec["outputs"] = {"ipynb": sha256_file(staged_ipynb), "html": sha256_file(staged_html)}
    tables = dict(tables or {})
    if tables:
        rec["tables"] = {name: sha256_file(p) for name, p in sorted(tables.items())}
    chosen = {}
    for kind, src in (("ipynb", staged_ipynb), ("html", staged_html)):
        chosen[kind] = paths[kind] if _identical(paths[kind], src) else Path(src)
    # Links and renames keep a file's mtime: the stat it has here is the one it will have there.
    rec["output_stat"] = {kind: output_stat(chosen[kind]) for kind in ("ipynb", "html")}
    staged_record = staging / f"{stem}{RECORD_SUFFIX}"
    fileio.write_durable(staged_record, record_bytes(rec))
    chosen["record"] = (
        paths["record"] if _identical(paths["record"], staged_record) else staged_record
    )
    folder = Path(reports) / where
    for name, src in tables.items():  # a table unchanged keeps its archived inode too
        tables[name] = folder / name if _identical(folder / name, src) else Path(src)
    switch_folder(
        reports,
        where,
        staging / SWITCH,
        {**{paths[k].name: p for k, p in chosen.items()}, **tables},
    )
    changed = [paths[k] for k in ("ipynb", "html", "record") if chosen[k] != paths[k]]
    changed += [folder / n for n, p in tables.items() if p != folder / n]
    try:
        fsync_dir(paths["record"].parent.parent)
        # A good run supersedes the debugging copy of an earlier failure.
        for p in failed_paths(reports, where, stem).values():
            p.unlink(missing_ok=True)
    except OSError as exc:
        raise ArchiveError(f"the run is in the archive, but syncing it failed: {exc}") from exc
    return changed


def keep_failed(
    staged_ipynb: Path | None,
    record: Mapping[str, Any],
    reports: Path,
    where: str,
    stem: str,
    kernel_log: Path | None = None,
) -> Path:
    """Keep a failed run's executed notebook under ``reports/failed/<where>/``.

    The last good report in ``<where>/`` is never touched. The notebook, its kernel log and its
    record replace the previous failed attempt's together (:func:`switch_folder`), so a full
    disk never leaves a truncated notebook or one beside another attempt's record.

    Returns
    -------
    Path
        Where the failed notebook (or, if none was written, its record) now is.

    Examples
    --------
    >>> keep_failed(ipynb, {"outcome": "failed"}, Path("reports"), "panel/fy2023", "x")
    ... # doctest: +SKIP
    """
    paths = failed_paths(reports, where, stem)
    has_ipynb = staged_ipynb is not None and Path(staged_ipynb).exists()
    has_log = kernel_log is not None and kernel_log.exists() and kernel_log.stat().st_size > 0
    work = Path(staged_ipynb if has_ipynb else kernel_log or "").parent
    if not has_ipynb and not has_log:
        work = new_staging_dir(reports)
    staged_record = work / f"failed{RECORD_SUFFIX}"
    fileio.write_durable(staged_record, record_bytes(record))
    try:
        switch_folder(
            reports,
            f"{FAILED}/{where}",
            work / SWITCH,
            {
                paths["ipynb"].name: Path(staged_ipynb) if has_ipynb else None,  # type: ignore[arg-type]
                paths["log"].name: kernel_log if has_log else None,
                paths["record"].name: staged_record,
            },
        )
    finally:
        if not has_ipynb and not has_log:
            discard_staging(work, reports)
    return paths["ipynb"] if has_ipynb else paths["record"]


def bump_generation(reports: Path) -> None:
    """Mark the archive as changed (a new token in ``.generation``; see :func:`generation`)."""
    fileio.write_atomic(Path(reports) / GENERATION, uuid.uuid4().hex.encode())


def generation(reports: Path) -> str:
    """The archive's change token: a new one after every commit or kept failure (``""`` if none).

    Examples
    --------
    >>> generation(Path("/nonexistent"))
    ''
    """
    try:
        return (Path(reports) / GENERATION).read_text(encoding="utf-8")
    except OSError:
        return ""


def _offset(kind: str, label: str) -> int:
    """Lock byte of a build (1 … 2**30 - 1) or a run (2**30 … 2**31 - 2); 0 is commits.

    Disjoint ranges, so a run's byte never coincides with a build's: a process testing whether
    another build is alive (lock, then unlock) can never release one of its own run locks.
    """
    h = int(hashlib.sha256(label.encode()).hexdigest()[:8], 16)
    if kind == "build":
        return 1 + h % (2**30 - 1)
    return 2**30 + h % (2**30 - 1)


def _locked_elsewhere(exc: OSError) -> bool:
    return exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)


class ArchiveLock:
    """One build's hold on ``reports/.lock``: commit lock, run locks, its staging directories.

    Open it once per build (record locks belong to the process and closing any descriptor of
    the file releases them all) and :meth:`close` it at the end.

    Examples
    --------
    >>> lock = ArchiveLock(Path("/tmp/_kpi_reports"))
    >>> with lock.committing():
    ...     pass
    >>> lock.close()
    """

    def __init__(self, reports: Path) -> None:
        self.reports = Path(reports)
        self.path = self.reports / LOCK
        self.build_id = uuid.uuid4().hex[:16]
        self._waited = False
        #: The archive cannot be written (a read-only mount, no permission): nothing is locked,
        #: and a build that finds every run archived ends without writing (see pipeline.build).
        self.read_only = False
        try:
            self.reports.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            self._fd = -1
            unwritable = exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
            if unwritable and self.reports.is_dir() and not self.path.is_dir():
                self.read_only = True
                return
            raise ArchiveError(
                f"{self.path}: cannot open the archive's lock file: {exc.strerror or exc}"
            ) from exc
        # Held until close(): marks this build's staging directories as alive.
        fcntl.lockf(self._fd, fcntl.LOCK_EX, 1, _offset("build", self.build_id))

    def close(self) -> None:
        """Release every lock of this build (closing the descriptor releases them)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> ArchiveLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def committing(self) -> Iterator[None]:
        """Hold the commit lock (byte 0): while a run is committed or the index written."""
        if self.read_only:  # nobody can commit to it; a write fails with its own error
            yield
            return
        fcntl.lockf(self._fd, fcntl.LOCK_EX, 1, 0)
        try:
            yield
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, 0)

    def acquire_run(
        self,
        identity: str,
        *,
        wait: bool = True,
        notify: Callable[[str], None] | None = None,
        label: str | None = None,
        stop: threading.Event | None = None,
        poll: float = 0.2,
    ) -> None:
        """Lock one run (by its archive location) against other builds producing it.

        While another build holds it, poll every ``poll`` seconds, so that a Ctrl-C (``stop``
        set) ends the wait instead of a blocking lock call that nothing can interrupt.

        Raises
        ------
        BuildLockedError
            When another build holds it and ``wait`` is false.
        KeyboardInterrupt
            When ``stop`` is set while waiting.
        """
        if self.read_only:
            return
        offset = _offset("run", identity)
        first = True
        while True:
            try:
                fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
                return
            except OSError as exc:
                if not _locked_elsewhere(exc):
                    raise
            if first:
                first = False
                msg = f"another build holds {self.path} for {label or identity}"
                if not wait:
                    raise BuildLockedError(f"{msg}; not waiting (--no-wait)")
                if not self._waited:
                    # Once per build: a shard waiting on many runs says so one time.
                    self._waited = True
                    (notify or (lambda m: print(m, file=sys.stderr, flush=True)))(
                        f"{msg}; waiting for it to finish …"
                    )
            if stop is not None and stop.wait(poll):
                raise KeyboardInterrupt
            if stop is None:
                time.sleep(poll)

    def release_run(self, identity: str) -> None:
        """Release a run lock taken by :meth:`acquire_run`."""
        if self._fd >= 0:
            fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, _offset("run", identity))

    def staging_dir(self) -> Path:
        """A fresh, empty staging directory of this build: ``.staging/<build>-<uuid>``."""
        d = self.reports / STAGING / f"{self.build_id}-{uuid.uuid4().hex}"
        d.mkdir(parents=True)
        return d

    def clean_staging(self, *, own: bool = False) -> int:
        """Remove staging left by killed builds (their build lock is free); ``own`` adds ours.

        Returns the number of entries removed.
        """
        staging = self.reports / STAGING
        if self.read_only or not staging.is_dir():
            return 0
        n = 0
        for entry in staging.iterdir():
            owner = entry.name.split("-", 1)[0]
            if owner == self.build_id:
                if not own:
                    continue
            elif not self._owner_gone(owner):
                continue
            if entry.is_dir() and not entry.is_symlink():
                # A commit killed half-way through its journaled swap puts its folder back.
                discard_staging(entry, self.reports)
            else:
                entry.unlink(missing_ok=True)
            n += 1
        return n

    def _owner_gone(self, build_id: str) -> bool:
        offset = _offset("build", build_id)
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
        except OSError as exc:
            if _locked_elsewhere(exc):
                return False
            raise
        fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, offset)
        return True


def new_staging_dir(reports: Path) -> Path:
    """A fresh, empty directory under ``reports/.staging/`` (outside any build).

    Examples
    --------
    >>> new_staging_dir(Path("/tmp/_kpi_reports")).parent.name
    '.staging'
    """
    d = Path(reports) / STAGING / uuid.uuid4().hex
    d.mkdir(parents=True)
    return d


def clean_staging(reports: Path) -> int:
    """Remove what killed builds left in ``reports/.staging/`` (never a running build's runs).

    Not for use inside a build: it opens (and closes) ``.lock``, which would release the
    calling process's own record locks; a build calls :meth:`ArchiveLock.clean_staging`.

    Returns
    -------
    int
        Number of entries removed.

    Examples
    --------
    >>> clean_staging(Path("/nonexistent"))
    0
    """
    if not (Path(reports) / STAGING).is_dir():
        return 0
    with ArchiveLock(reports) as lock:
        return lock.clean_staging()


def record_problem(record: Mapping[str, Any], where: str, stem: str) -> str | None:
    """Why ``record`` cannot be the run record at ``<where>/<stem>.run.json`` (``None``: it can).

    The index shows a record's fiscal year, programme and notebook; a record edited by hand
    (``"fiscal_year": "abc"``, another programme's id) would crash or mislabel it. Such a record
    is left out with a warning, and :func:`is_archived` says no, so the next build reruns it.

    Examples
    --------
    >>> ok = {"fiscal_year": 2023, "notebook": "trends", "programme_id": "23205-community"}
    >>> record_problem(ok, "23205-community/fy2023", "trends") is None
    True
    >>> record_problem({**ok, "fiscal_year": "abc"}, "23205-community/fy2023", "trends")
    "fiscal_year is 'abc', not 2023 as its folder says"
    """
    scope, _, year = where.removeprefix(f"{FAILED}/").partition("/")
    fy = record.get("fiscal_year")
    if type(fy) is not int or f"fy{fy}" != year:
        return f"fiscal_year is {fy!r}, not {year.removeprefix('fy')} as its folder says"
    notebook = record.get("notebook")
    if notebook != stem.split(".")[0]:
        return f"notebook is {notebook!r}, not {stem.split('.')[0]!r} as its file name says"
    pid = record.get("programme_id")
    if pid != (None if scope == "panel" else scope):
        return f"programme_id is {pid!r}, not {scope!r} as its folder says"
    return None


def _warn_record(path: Path, problem: str) -> None:
    print(
        f"kpianalysis: warning: {path}: malformed run record ({problem}); left out of the "
        "index, and the next build reruns it",
        file=sys.stderr,
    )


def _record_files(reports: Path, pattern: str) -> Iterator[tuple[Path, str]]:
    """``(record path, where)`` for ``<scope>/fy<YEAR>/<stem>.run.json`` under ``reports``."""
    for path in sorted(reports.glob(pattern)):
        rel = path.relative_to(reports)
        yield path, rel.parent.as_posix()


def collect_records(reports: Path) -> list[dict[str, Any]]:
    """Successful run records under ``reports/<scope>/fy*/``, sorted by scope, year, notebook.

    Records of failed attempts (``reports/failed/``), staging and unreadable records are left
    out. Each record gets ``_html``, the report's path relative to the archive.

    Examples
    --------
    >>> collect_records(Path("/nonexistent"))
    []
    """
    out = []
    reports = Path(reports)
    if not reports.is_dir():
        return out
    for path, where in _record_files(reports, f"*/fy*/*{RECORD_SUFFIX}"):
        if where.split("/")[0] in (FAILED, STAGING):
            continue
        rec = read_record(path)
        stem = path.name[: -len(RECORD_SUFFIX)]
        problem = record_problem(rec, where, stem) if rec else "not a JSON object"
        if problem:
            _warn_record(path, problem)
            continue
        if rec and rec.get("outcome") == "ok":
            rec = dict(rec)
            rec.setdefault("notebook", stem.split(".")[0])
            rec["_html"] = f"{where}/{stem}.html"
            out.append(rec)
    out.sort(
        key=lambda r: (
            str(r.get("programme_id") or ""),
            int(r.get("fiscal_year", 0)),
            str(r["notebook"]),
            str(r.get("language") or ""),
        )
    )
    return out


def _superseded(failed: Path, good_path: Path, rec: Mapping[str, Any]) -> bool:
    """Whether the good record at ``good_path`` is newer than the failed attempt at ``failed``.

    A good run removes its earlier failure's copy right after its commit; a crash in between
    leaves a copy older than the good record, which no longer counts. Record times are kept to
    the second, and a failure can follow a success within one (a forced rebuild of a quick
    notebook): at a tie the record files' ``mtime_ns`` decide, so a failure is never hidden by
    the success it followed.
    """
    good = read_record(good_path)
    if not good or good.get("outcome") != "ok":
        return False
    good_end, failed_end = str(good.get("end_time") or ""), str(rec.get("end_time") or "")
    if good_end != failed_end:
        return good_end > failed_end
    try:
        return good_path.stat().st_mtime_ns > failed.stat().st_mtime_ns
    except OSError:
        return False


def collect_failed(reports: Path) -> list[dict[str, Any]]:
    """Records of the failed runs still kept under ``reports/failed/`` (a good rerun removes
    them), sorted like :func:`collect_records`.

    Examples
    --------
    >>> collect_failed(Path("/nonexistent"))
    []
    """
    reports = Path(reports)
    out = []
    for path, where in _record_files(reports / FAILED, f"*/fy*/*{RECORD_SUFFIX}"):
        rec = read_record(path)
        problem = (
            record_problem(rec, where, path.name[: -len(RECORD_SUFFIX)])
            if rec
            else "not a JSON object"
        )
        if problem:
            _warn_record(path, problem)
            continue
        if rec and not _superseded(path, reports / where / path.name, rec):
            out.append(rec)
    out.sort(key=lambda r: (str(r.get("programme_id") or ""), int(r.get("fiscal_year", 0))))
    return out
