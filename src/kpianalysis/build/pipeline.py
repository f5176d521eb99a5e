"""``kpianalysis build``: each (notebook, fiscal year) → executed notebook, HTML report, run record.

Steps, in order, all before any kernel starts except the last:

1. take the archive lock (``reports/.lock``) and remove stale ``reports/.staging`` content;
2. load and validate the raw data, write ``data/processed/`` (a
   :class:`~kpianalysis.errors.DataError` aborts here, exit 1, nothing else touched);
3. discover reports: every ``notebooks/*.ipynb`` with a code cell tagged ``parameters``;
4. validate each run's parameters (:mod:`kpianalysis.build.parameters`);
5. compute each run's key — sha256 over the inputs (the content of the validated data *as of
   the run's fiscal year*, the notebook, every ``kpianalysis/*.py``, ``uv.lock``) and the
   parameters; the raw files' digests and the git commit are recorded but not part of the key,
   so new rows for a later year rerun nothing earlier — and skip runs whose archived record has
   that key and intact files (:func:`kpianalysis.build.archive.is_archived`);
6. execute the remaining runs in a thread pool (each papermill kernel is its own process) with the
   project root as the kernel's working directory, render HTML in the worker thread, stage
   everything under ``reports/.staging`` and commit from the main thread
   (:func:`kpianalysis.build.archive.commit_run`); write ``reports/index.html``.

A failed run is kept under ``reports/failed/fy<YEAR>/`` and makes the command exit 1 naming the
notebook, fiscal year and cell. Ctrl-C stops scheduling, interrupts running kernels (each runs in
its own session, so the terminal's signal does not reach it), commits nothing more and exits 130
with the archive intact.
"""

from __future__ import annotations

import os
import platform
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpianalysis.build import archive
from kpianalysis.build.commit import commit_staged, write_index
from kpianalysis.build.execute import StagedRun, execute_run, interrupt_kernels
from kpianalysis.build.parameters import check_path
from kpianalysis.build.plan import RunOutcome, RunSpec, discover_notebooks, plan_runs
from kpianalysis.build.processed import prepare_data
from kpianalysis.build.record import git_state, package_versions
from kpianalysis.errors import ParameterError, RunError
from kpianalysis.paths import DEFAULT_NOTEBOOKS, DEFAULT_PROCESSED, DEFAULT_RAW, DEFAULT_REPORTS


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
    language: str = "ja",
    prepare: Callable[[Path, str, str], tuple[list[int], Any, list[Path]]] | None = None,
) -> BuildSummary:
    """Build every (notebook, fiscal year) report that is not already archived.

    Parameters
    ----------
    root
        Project root: kernels run here and path parameters must stay inside it.
    notebooks_dir, raw_dir, processed_dir
        Relative to ``root`` (or absolute inside it).
    reports
        Archive directory (relative to ``root`` or absolute; may be outside the project).
    fiscal_years
        Restrict to these years (each must be in the data); default every year in the data.
    notebooks
        Restrict to these notebook stems; default every report notebook.
    force
        Rerun even runs whose archived record matches.
    jobs
        Parallel runs; default ``os.cpu_count()``.
    wait_for_lock
        Wait for a concurrent build (``True``) or refuse (:class:`archive.BuildLockedError`).
    progress
        Show a tqdm bar on stderr; default: when stderr is a terminal.
    language
        ``language`` parameter for every notebook (``"ja"`` or ``"en"``).
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
    if language not in ("ja", "en"):
        raise ParameterError(f"language must be 'ja' or 'en', got {language!r}")
    if jobs is not None and jobs < 1:
        raise ParameterError(f"--jobs must be at least 1, got {jobs}")
    summary = BuildSummary()
    with archive.build_lock(reports_path, wait=wait_for_lock):
        archive.clean_staging(reports_path)
        data_years, dataset, summary.processed = (prepare or prepare_data)(root, raw_s, processed_s)
        years = list(dict.fromkeys(fiscal_years)) if fiscal_years else list(data_years)
        nb_paths = discover_notebooks(root / notebooks_s, notebooks)
        specs = plan_runs(
            nb_paths,
            root=root,
            fiscal_years=years,
            data_years=data_years,
            raw_dir=raw_s,
            processed_dir=processed_s,
            language=language,
            dataset=dataset,
        )
        todo = []
        for spec in specs:
            if not force and archive.is_archived(
                reports_path, spec.fiscal_year, spec.name, spec.run_key
            ):
                summary.outcomes.append(RunOutcome(spec, "skipped"))
            else:
                todo.append(spec)
        failed_records: list[dict[str, Any]] = []
        if todo:
            environment = {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "packages": package_versions(),
                "git": git_state(root),
            }
            _execute_all(
                todo, root, reports_path, environment, jobs, progress, summary, failed_records
            )
        summary.index = write_index(reports_path, failed_records)
    failures = [o for o in summary.outcomes if o.outcome == "failed"]
    if failures:
        raise RunError(
            "; ".join(
                f"{o.spec.name} FY{o.spec.fiscal_year} failed at {o.error}"
                + (f" (executed notebook: {o.failed_notebook})" if o.failed_notebook else "")
                for o in failures
            )
        )
    return summary


def _relative_inside(root: Path) -> Callable[[str, str | Path], str]:
    # The option's name leads the message ("raw_dir '../x' is outside ..."), not the value twice.
    def rel(name: str, p: str | Path) -> str:
        return check_path(name, p, root)

    return rel


def _execute_all(
    todo: list[RunSpec],
    root: Path,
    reports: Path,
    environment: Mapping[str, Any],
    jobs: int | None,
    progress: bool | None,
    summary: BuildSummary,
    failed_records: list[dict[str, Any]],
) -> None:
    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    stop = threading.Event()
    show = sys.stderr.isatty() if progress is None else progress
    bar = _progress(len(todo), show)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kpi-run")
    pending: set[Future[StagedRun]] = set()
    try:
        pending = {pool.submit(execute_run, s, root, reports, stop, environment) for s in todo}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                st = fut.result()
                outcome, failed_record = commit_staged(st, reports, environment)
                summary.outcomes.append(outcome)
                if failed_record is not None:
                    failed_records.append(failed_record)
                bar.update(1)
                bar.set_postfix_str(f"{len(todo) - bar.n} left")
    except BaseException:
        # Ctrl-C (or a bug): schedule nothing more, interrupt running kernels, commit nothing
        # of theirs.
        stop.set()
        for fut in pending:
            fut.cancel()
        print(
            "kpianalysis build: stopping; interrupting running kernels …",
            file=sys.stderr,
            flush=True,
        )
        interrupt_kernels()
        pool.shutdown(wait=True, cancel_futures=True)
        archive.clean_staging(reports)
        raise
    finally:
        bar.close()
        pool.shutdown(wait=True)


# --------------------------------------------------------------------------------------------
# Command line
