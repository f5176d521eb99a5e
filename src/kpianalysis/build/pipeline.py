"""``kpianalysis build``: each (notebook, programme or panel, fiscal year) → executed notebook,
HTML report, run record.

Steps, in order, all before any kernel starts except the last:

1. open the archive's lock file (``reports/.lock``, see :mod:`kpianalysis.build.archive`) and
   remove ``reports/.staging`` content of killed builds (never that of a build still running);
2. load and validate the raw data, write ``data/processed/`` (a
   :class:`~kpianalysis.errors.DataError` aborts here, exit 1, nothing else touched);
3. discover reports: every ``notebooks/*.ipynb`` with a code cell tagged ``parameters``;
4. plan the runs — programme-scoped notebooks once per (programme, fiscal year), panel-scoped
   ones once per fiscal year (:mod:`kpianalysis.build.plan`) — and validate each run's
   parameters (:mod:`kpianalysis.build.parameters`);
5. compute each run's key — sha256 over the inputs (the content of the validated data *as of
   the run's fiscal year*: the run's own programme's, or all for a panel run; the notebook, every
   ``kpianalysis/*.py``, ``uv.lock``) and the parameters; the raw files' digests and the git
   commit are recorded but not part of the key, so new rows for a later year or another
   programme rerun nothing else — keep this shard's runs (``--shard K/N``) and skip those whose
   archived record has that key and intact files (:func:`kpianalysis.build.archive.is_archived`);
6. execute the remaining runs in a thread pool (each papermill kernel is its own process) with the
   project root as the kernel's working directory — each holding its run lock, so a concurrent
   build never produces the same run — render HTML in the worker thread, stage everything under
   ``reports/.staging`` and commit from the main thread
   (:func:`kpianalysis.build.archive.commit_run`, under the commit lock); write
   ``reports/index.html`` from the records on disk.

A failed run is kept under ``reports/failed/<scope>/fy<YEAR>/`` and makes the command exit 1
naming the notebook, programme, fiscal year and cell. Ctrl-C stops scheduling, interrupts running
kernels (each runs in its own session, so the terminal's signal does not reach it), commits
nothing more and exits 130 with the archive intact.
"""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpianalysis.build import archive
from kpianalysis.build.commit import commit_staged, write_index
from kpianalysis.build.execute import StagedRun, execute_run, interrupt_kernels
from kpianalysis.build.parameters import check_path
from kpianalysis.build.plan import (
    RunOutcome,
    RunSpec,
    discover_notebooks,
    plan_runs,
    select_shard,
)
from kpianalysis.build.processed import prepare_data
from kpianalysis.build.record import git_state, package_versions
from kpianalysis.errors import ParameterError, RunError
from kpianalysis.paths import DEFAULT_NOTEBOOKS, DEFAULT_PROCESSED, DEFAULT_RAW, DEFAULT_REPORTS
from kpianalysis.words import counted

__all__ = [
    "BuildSummary",
    "build",
]


@dataclass
class BuildSummary:
    """Result of :func:`build`."""

    outcomes: list[RunOutcome] = field(default_factory=list)
    processed: list[Path] = field(default_factory=list)
    index: Path | None = None

    def count(self, outcome: str) -> int:
        """Number of runs with the given outcome."""
        return sum(o.outcome == outcome for o in self.outcomes)


# --------------------------------------------------------------------------------------------
# Inputs and keys


# --------------------------------------------------------------------------------------------
# Execution of one run (worker thread)


# --------------------------------------------------------------------------------------------
# Build


def _progress(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc="runs",
        unit="run",
        file=sys.stderr,
        disable=not enabled or total == 0,
        dynamic_ncols=True,
    )


def build(
    root: Path = Path("."),
    *,
    notebooks_dir: str | Path = DEFAULT_NOTEBOOKS,
    raw_dir: str | Path = DEFAULT_RAW,
    processed_dir: str | Path = DEFAULT_PROCESSED,
    reports: str | Path = DEFAULT_REPORTS,
    fiscal_years: Sequence[int] | None = None,
    notebooks: Sequence[str] | None = None,
    force: bool = False,
    jobs: int | None = None,
    wait_for_lock: bool = True,
    progress: bool | None = None,
    languages: str | Sequence[str] = ("ja",),
    programmes: Sequence[str] | None = None,
    shard: tuple[int, int] | None = None,
    index: bool = True,
    cell_timeout: float | None = None,
    prepare: Callable[[Path, str, str], tuple[list[int], Any, list[Path]]] | None = None,
) -> BuildSummary:
    """Build every (notebook, programme or panel, fiscal year) report not already archived.

    Parameters
    ----------
    root
        Project root: kernels run here and path parameters must stay inside it.
    notebooks_dir, raw_dir, processed_dir
        Relative to ``root`` (or absolute inside it).
    reports
        Archive directory (relative to ``root`` or absolute). ``kpianalysis build --reports``
        refuses one outside the project; a caller such as a benchmark may pass a temporary one.
    fiscal_years
        Restrict to these years (each must be in the data); default every year in the data.
    notebooks
        Restrict to these notebook stems; default every report notebook.
    force
        Rerun even runs whose archived record matches.
    jobs
        Parallel runs; default ``os.cpu_count()``.
    wait_for_lock
        When another build is producing one of this build's runs: wait for it (``True``) or
        refuse (:class:`archive.BuildLockedError`).
    progress
        Show a tqdm bar on stderr; default: when stderr is a terminal.
    languages
        The report languages, ``"ja"`` and/or ``"en"`` (one as a string, or several): each
        notebook declaring a ``language`` parameter runs once per language, English reports
        archived beside the Japanese ones as ``<notebook>.en.html``. Default Japanese only;
        ``kpianalysis build`` (and so ``make report``) asks for both. A report links its
        versions in the other languages asked for and its sibling reports, those this build
        makes (:meth:`kpianalysis.build.plan.Planner.links_of`).
    programmes
        Restrict to these programmes' runs (``--programme``; no panel run); default all.
    shard
        ``(K, N)``: only the runs of shard K of N (:func:`kpianalysis.build.plan.select_shard`),
        for N processes filling one archive at once.
    index
        Write ``reports/index.html`` at the end (a job array may leave it to
        ``kpianalysis index`` once all shards are done).
    cell_timeout
        Seconds a cell may run (``--cell-timeout``); default each notebook's own
        (``metadata.kpianalysis.cell_timeout``) or
        :data:`~kpianalysis.build.execute.DEFAULT_CELL_TIMEOUT`. A cell that runs longer fails
        its run, which goes to ``failed/`` like any failure.
    prepare
        ``(root, raw_dir, processed_dir) -> (fiscal_years, results or dataset, written)``; default
        :func:`prepare_data`. Tests substitute it.

    Returns
    -------
    BuildSummary

    Raises
    ------
    kpianalysis.errors.DataError, ParameterError
        Before any kernel starts.
    RunError
        After all runs ended, if any failed (names notebook, year and cell of each).

    Examples
    --------
    >>> summary = build(Path("."), jobs=2)  # doctest: +SKIP
    >>> summary.count("ok"), summary.count("skipped")  # doctest: +SKIP
    (6, 0)
    """
    root = Path(root).resolve()
    reports_path = Path(reports)
    if not reports_path.is_absolute():
        reports_path = root / reports_path
    rel = _relative_inside(root)
    raw_s = rel("raw_dir", raw_dir)
    processed_s = rel("processed_dir", processed_dir)
    notebooks_s = rel("notebooks_dir", notebooks_dir)
    languages = (languages,) if isinstance(languages, str) else tuple(languages)
    for language in languages:
        if language not in ("ja", "en"):
            raise ParameterError(f"language must be 'ja' or 'en', got {language!r}")
    if jobs is not None and jobs < 1:
        raise ParameterError(f"--jobs must be at least 1, got {jobs}")
    if cell_timeout is not None and not cell_timeout > 0:
        raise ParameterError(
            f"--cell-timeout must be a positive number of seconds, got {cell_timeout}"
        )
    summary = BuildSummary()
    with archive.ArchiveLock(reports_path) as lock:
        lock.clean_staging()
        # Notebooks first: a name the archive cannot hold is refused before data/processed is
        # written (the programme ids are checked as the data loads, before it is written too).
        nb_paths = discover_notebooks(root / notebooks_s, notebooks)
        data_years, dataset, summary.processed = (prepare or prepare_data)(root, raw_s, processed_s)
        # Planning and the archive checks make a few objects per run (174,000 runs for the
        # country) and free none: the cyclic collector would only traverse them again and
        # again (~2 s of a national no-op build).
        with _gc_paused():
            specs = plan_runs(
                nb_paths,
                root=root,
                fiscal_years=list(dict.fromkeys(fiscal_years or ())),
                data_years=data_years,
                raw_dir=raw_s,
                processed_dir=processed_s,
                languages=languages,
                dataset=dataset,
                programmes=programmes,
            )
            todo = []
            for spec in select_shard(specs, shard):
                if not force and archive.is_archived(
                    reports_path, spec.where, spec.stem, spec.run_key
                ):
                    summary.outcomes.append(RunOutcome(spec, "skipped"))
                else:
                    todo.append(spec)
        # The headline and the raw files' digests, for the record: only for runs that execute
        # (computed once per year / build, before any kernel starts).
        todo = [spec.resolved() for spec in todo]
        if todo and lock.read_only:
            raise archive.ArchiveError(
                f"the archive {reports_path} cannot be written (read-only or no permission): "
                f"{counted(len(todo), 'run')} to build, e.g. {todo[0].label}; nothing was "
                "written there"
            )
        if todo:
            environment = {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "packages": package_versions(),
                "git": git_state(root),
            }
            _execute_all(
                todo,
                root,
                reports_path,
                environment,
                jobs,
                progress,
                summary,
                lock,
                wait_for_lock=wait_for_lock,
                force=force,
                cell_timeout=cell_timeout,
                results=dataset,
            )
        if index:
            summary.index = write_index(reports_path, lock, if_changed=True)
    failures = [o for o in summary.outcomes if o.outcome == "failed"]
    if failures:
        raise RunError(
            "; ".join(
                f"{o.spec.label} failed at {o.error}"
                + (f" (executed notebook: {o.failed_notebook})" if o.failed_notebook else "")
                for o in failures
            )
        )
    return summary


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (restored as it was; reference counting goes on)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _relative_inside(root: Path) -> Callable[[str, str | Path], str]:
    # The option's name leads the message ("raw_dir '../x' is outside ..."), not the value twice.
    def rel(name: str, p: str | Path) -> str:
        return check_path(name, p, root)

    return rel


def _produce(
    spec: RunSpec,
    root: Path,
    reports: Path,
    stop: threading.Event,
    lock: archive.ArchiveLock,
    wait_for_lock: bool,
    force: bool,
    environment: Mapping[str, Any] | None = None,
    cell_timeout: float | None = None,
) -> StagedRun | RunOutcome:
    """Worker thread: take the run's lock, then execute it unless another build just did."""
    if stop.is_set():
        raise KeyboardInterrupt
    lock.acquire_run(spec.identity, wait=wait_for_lock, label=spec.label, stop=stop)
    try:
        if stop.is_set():
            raise KeyboardInterrupt
        # Another build may have committed this very run while we waited for its lock.
        if not force and archive.is_archived(reports, spec.where, spec.stem, spec.run_key):
            lock.release_run(spec.identity)
            return RunOutcome(spec, "skipped")
        return execute_run(
            spec,
            root,
            reports,
            stop,
            environment,
            staging_dir=lock.staging_dir,
            cell_timeout=cell_timeout,
        )
    except BaseException:
        lock.release_run(spec.identity)
        raise


def _execute_all(
    todo: list[RunSpec],
    root: Path,
    reports: Path,
    environment: Mapping[str, Any],
    jobs: int | None,
    progress: bool | None,
    summary: BuildSummary,
    lock: archive.ArchiveLock,
    *,
    wait_for_lock: bool = True,
    force: bool = False,
    cell_timeout: float | None = None,
    results: Any = None,
) -> None:
    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    stop = threading.Event()
    show = sys.stderr.isatty() if progress is None else progress
    bar = _progress(len(todo), show)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kpi-run")
    pending: set[Future[StagedRun | RunOutcome]] = set()
    try:
        pending = {
            pool.submit(
                _produce,
                s,
                root,
                reports,
                stop,
                lock,
                wait_for_lock,
                force,
                environment,
                cell_timeout,
            )
            for s in todo
        }
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                st = fut.result()
                if isinstance(st, RunOutcome):
                    summary.outcomes.append(st)
                else:
                    try:
                        outcome, _failed = commit_staged(st, reports, environment, lock, results)
                    finally:
                        lock.release_run(st.spec.identity)
                    summary.outcomes.append(outcome)
                bar.update(1)
                bar.set_postfix_str(f"{len(todo) - bar.n} left")
    except BaseException as exc:
        # Ctrl-C (or a refused run lock, or a bug): schedule nothing more, interrupt running
        # kernels, commit nothing of theirs.
        stop.set()
        for fut in pending:
            fut.cancel()
        if isinstance(exc, KeyboardInterrupt):
            print(
                "kpianalysis build: stopping; interrupting running kernels …",
                file=sys.stderr,
                flush=True,
            )
        interrupt_kernels()
        pool.shutdown(wait=True, cancel_futures=True)
        lock.clean_staging(own=True)
        raise
    finally:
        bar.close()
        pool.shutdown(wait=True)


# --------------------------------------------------------------------------------------------
# Command line
