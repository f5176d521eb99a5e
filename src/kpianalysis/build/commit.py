"""Committing a staged run: into the archive with its record, or into ``failed/``; the index."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kpianalysis.build import archive
from kpianalysis.build.execute import StagedRun
from kpianalysis.build.plan import FORMAT_VERSION, RunOutcome
from kpianalysis.fileio import write_atomic
from kpianalysis.report.index import render_index


def run_record(st: StagedRun, environment: Mapping[str, Any], outcome: str) -> dict[str, Any]:
    """The run record of a staged run: what ran, on which inputs, where, when and how it ended."""
    s = st.spec
    rec: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "notebook": s.name,
        "notebook_path": f"notebooks/{s.notebook.name}",
        "fiscal_year": s.fiscal_year,
        "parameters": s.parameters,
        "inputs": s.inputs,
        "run_key": s.run_key,
        "outcome": outcome,
        "start_time": st.start,
        "end_time": st.end,
        "duration_seconds": st.duration,
        "headline": s.headline,
        **environment,
    }
    if st.error:
        rec["error"] = st.error
    return rec


def commit_staged(
    st: StagedRun, reports: Path, environment: Mapping[str, Any]
) -> tuple[RunOutcome, dict[str, Any] | None]:
    """Move a staged run into the archive (or its executed notebook into ``failed/``).

    Returns the run's outcome and, for a failed run, its record (for the index). The staging
    directory is removed whatever happens.

    Raises
    ------
    KeyboardInterrupt
        When the run was interrupted: nothing of it is committed.
    kpianalysis.build.archive.ArchiveError
        When writing failed (disk full, permissions); nothing of this run was committed.
    """
    s = st.spec
    try:
        if st.ok and st.ipynb is not None and st.html is not None:
            archive.commit_run(
                st.ipynb, st.html, run_record(st, environment, "ok"), reports, s.fiscal_year, s.name
            )
            return RunOutcome(s, "ok"), None
        if st.error == "interrupted":
            raise KeyboardInterrupt
        rec = run_record(st, environment, "failed")
        kept = archive.keep_failed(
            st.executed, rec, reports, s.fiscal_year, s.name, kernel_log=st.log
        )
        return RunOutcome(s, "failed", st.error, kept), rec
    except OSError as exc:
        raise archive.ArchiveError(
            f"{s.name} FY{s.fiscal_year}: writing the archive failed, nothing of this run was "
            f"committed: {exc}"
        ) from exc
    finally:
        shutil.rmtree(st.staging, ignore_errors=True)


def write_index(reports: Path, failed: Sequence[Mapping[str, Any]] = ()) -> Path:
    """Build ``reports/index.html`` from the run records and write it atomically.

    Examples
    --------
    >>> write_index(Path("/tmp/_kpi_reports")).name
    'index.html'
    """
    path = Path(reports) / "index.html"
    try:
        write_atomic(path, render_index(archive.collect_records(reports), failed=failed).encode())
    except OSError as exc:
        raise archive.ArchiveError(f"writing {path} failed: {exc}") from exc
    return path
