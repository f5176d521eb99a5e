"""Committing a staged run: into the archive with its record, or into ``failed/``; the index."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kpianalysis.build import archive
from kpianalysis.build.execute import TABLES_DIR, StagedRun
from kpianalysis.build.plan import FORMAT_VERSION, RunOutcome, RunSpec, library_inputs
from kpianalysis.fileio import write_atomic
from kpianalysis.report.index import INDEX_DIR, index_pages

__all__ = [
    "INDEX_STAMP",
    "commit_staged",
    "run_record",
    "stage_tables",
    "write_index",
]


def run_record(st: StagedRun, environment: Mapping[str, Any], outcome: str) -> dict[str, Any]:
    """The run record of a staged run: what ran, on which inputs, where, when and how it ended."""
    s = st.spec
    rec: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "notebook": s.name,
        "notebook_path": f"notebooks/{s.notebook.name}",
        "programme_id": s.programme_id,
        "scope": s.scope,
        "language": s.language,
        "fiscal_year": s.fiscal_year,
        "parameters": s.parameters,
        "inputs": dict(s.inputs),
        "run_key": s.run_key,
        "outcome": outcome,
        "start_time": st.start,
        "end_time": st.end,
        "duration_seconds": st.duration,
        "headline": s.headline,
        **environment,
    }
    if s.provenance is not None:
        rec["provenance"] = s.provenance
    if st.error:
        rec["error"] = st.error
    return rec


def stage_tables(spec: RunSpec, results: Any, staging: Path) -> dict[str, Path]:
    """Write the data tables behind a run's report into ``staging/data/`` for its commit.

    Exactly the tables its plan names (:attr:`RunSpec.tables`, which its footer links) as the
    run's kernel sees them: the dataset cut at the run's year, the run's own programme's rows
    (all for a panel run), and that year's attainment and trend tables, as CSV for people (the
    processed files' format). A plan report's year, with no actual in the data yet, is cut from
    the programme's own data, as its notebook cuts it. ``results`` is the build's
    :class:`~kpianalysis.analysis.results.ResultsByYear` (or its dataset).

    Returns
    -------
    dict
        ``data/<table>.csv`` (its path in the run folder) → the staged file.
    """
    from kpianalysis.analysis.results import ResultsByYear
    from kpianalysis.data.dataset import Dataset, write_csv

    if not spec.tables:
        return {}
    if isinstance(results, Dataset):
        results = ResultsByYear(results)
    year = _run_results(spec, results)
    frames = dict(year.dataset.tables())
    out: dict[str, Path] = {}
    for name in spec.tables:
        if name.startswith("attainment_fy"):
            frame = year.attainment
        elif name.startswith("trends_fy"):
            frame = year.trends
        else:  # a tidy table (the registry names no other kind)
            frame = frames[name]
        path = Path(staging) / TABLES_DIR / f"{name}.csv"
        write_csv(frame, path)
        out[f"{TABLES_DIR}/{name}.csv"] = path
    return out


def _run_results(spec: RunSpec, results: Any) -> Any:
    """The :class:`YearResults` a run's tables come from: the year's (its programme's alone for
    a programme run), or, for a plan report's year, the programme's own cut."""
    from kpianalysis.analysis.results import YearResults

    if spec.fiscal_year in results.dataset.fiscal_years:
        year = results[spec.fiscal_year]
        if spec.programme_id is None:
            return year
        # The programme's own dataset and results: its tables' text cannot depend on other
        # programmes (a column's dtype, a category), as its run key does not.
        own = _programme_results(year).get(spec.programme_id)
        if own is not None:
            return own
    own_cut = results.dataset.by_programme()[spec.programme_id].as_of(spec.fiscal_year)
    return YearResults(own_cut, results.reference)


#: A year's results split by programme, once per year of a build (see stage_tables).
_BY_PROGRAMME: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def _programme_results(year: Any) -> dict[str, Any]:
    """``programme_id`` → :class:`YearResults` of that programme alone (split once per year;
    each programme's tables are computed when first asked for)."""
    from kpianalysis.analysis.results import YearResults

    if year not in _BY_PROGRAMME:
        # Against the build's trend prior, as the programme's trends report pools.
        _BY_PROGRAMME[year] = {
            pid: YearResults(ds, year.reference) for pid, ds in year.parts.items()
        }
    return _BY_PROGRAMME[year]


def commit_staged(
    st: StagedRun,
    reports: Path,
    environment: Mapping[str, Any],
    lock: archive.ArchiveLock | None = None,
    results: Any = None,
) -> tuple[RunOutcome, dict[str, Any] | None]:
    """Move a staged run into the archive (or its executed notebook into ``failed/``).

    Returns the run's outcome and, for a failed run, its record (for the index). The staging
    directory is removed whatever happens. With ``lock``, the commit holds its commit lock (other
    builds writing the same archive wait for the few milliseconds it takes).

    Raises
    ------
    KeyboardInterrupt
        When the run was interrupted: nothing of it is committed.
    kpianalysis.build.archive.ArchiveError
        When writing failed (disk full, permissions); nothing of this run was committed.
    """
    s = st.spec
    guard = lock.committing() if lock is not None else contextlib.nullcontext()
    try:
        if st.ok and st.ipynb is not None and st.html is not None:
            tables = stage_tables(s, results, st.staging)
            with guard:
                archive.commit_run(
                    st.ipynb,
                    st.html,
                    run_record(st, environment, "ok"),
                    reports,
                    s.where,
                    s.stem,
                    tables=tables,
                )
            return RunOutcome(s, "ok"), None
        if st.error == "interrupted":
            raise KeyboardInterrupt
        rec = run_record(st, environment, "failed")
        with guard:
            kept = archive.keep_failed(
                st.executed, rec, reports, s.where, s.stem, kernel_log=st.log
            )
        return RunOutcome(s, "failed", st.error, kept), rec
    except archive.ArchiveError as exc:  # after its switch: the run is in the archive
        raise archive.ArchiveError(f"{s.label}: {exc}") from exc
    except OSError as exc:
        raise archive.ArchiveError(
            f"{s.label}: writing the archive failed, nothing of this run was committed: {exc}"
        ) from exc
    finally:
        archive.discard_staging(st.staging, reports)


def write_index(
    reports: Path, lock: archive.ArchiveLock | None = None, *, if_changed: bool = False
) -> Path:
    """Build ``reports/index.html`` from the run records on disk and write it atomically.

    The good runs' records and the failed runs still kept under ``failed/`` are all it reads,
    so any process (the last shard of a job array, ``kpianalysis index``) writes the same page
    for the same archive. With ``lock``, reading and writing hold the commit lock: no run is
    committed half-way through.

    ``if_changed`` (a build) leaves both pages as they are when the archive has not changed
    since they were written — the same :func:`archive.generation` token and the same library
    source, kept in ``reports/.index.json`` — instead of reading every record again (87,000
    programme-years for the country). An archive edited by hand (a report folder removed)
    changes no token: ``kpianalysis index`` always rebuilds.

    Examples
    --------
    >>> write_index(Path("/tmp/_kpi_reports")).name
    'index.html'
    """
    path = Path(reports) / "index.html"
    guard = lock.committing() if lock is not None else contextlib.nullcontext()
    try:
        with guard:
            state = json.dumps(
                {"generation": archive.generation(reports), "library": _library_digest()}
            )
            stamp = Path(reports) / INDEX_STAMP
            pages = [Path(reports) / n for n in ("index.html", "index.en.html")]
            if if_changed and all(p.is_file() for p in pages) and _read(stamp) == state:
                return path
            records = archive.collect_records(reports)
            failed = archive.collect_failed(reports)
            # The prefecture and municipality pages first, the top pages (which link them)
            # last; pages of places no longer listed are removed.
            written: set[Path] = set()
            for language in ("en", "ja"):
                for name, page in reversed(
                    index_pages(records, failed=failed, language=language).items()
                ):
                    write_atomic(Path(reports) / name, page.encode())
                    written.add(Path(reports) / name)
            for stale in sorted((Path(reports) / INDEX_DIR).glob("*.html")):
                if stale not in written:
                    stale.unlink()
            write_atomic(stamp, state.encode())
    except OSError as exc:
        raise archive.ArchiveError(f"writing {path} failed: {exc}") from exc
    return path


#: What the index pages were built from (see :func:`write_index`).
INDEX_STAMP = ".index.json"


@functools.cache
def _library_digest() -> str:
    """sha256 over the library's source (the index's rendering code is part of it)."""
    return hashlib.sha256(json.dumps(library_inputs(), sort_keys=True).encode()).hexdigest()


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None
