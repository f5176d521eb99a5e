"""``kpianalysis build``: each (notebook, fiscal year) → executed notebook, HTML report, run record.

Steps, in order, all before any kernel starts except the last:

1. take the archive lock (``reports/.lock``) and remove stale ``reports/.staging`` content;
2. load and validate the raw data, write ``data/processed/`` (a
   :class:`~kpianalysis.errors.DataError` aborts here, exit 1, nothing else touched);
3. discover reports: every ``notebooks/*.ipynb`` with a code cell tagged ``parameters``;
4. validate each run's parameters (:mod:`kpianalysis.parameters`);
5. compute each run's key — sha256 over the inputs (the content of the validated data *as of
   the run's fiscal year*, the notebook, every ``kpianalysis/*.py``, ``uv.lock``) and the
   parameters; the raw files' digests and the git commit are recorded but not part of the key,
   so new rows for a later year rerun nothing earlier — and skip runs whose archived record has
   that key and intact files (:func:`kpianalysis.archive.is_archived`);
6. execute the remaining runs in a thread pool (each papermill kernel is its own process) with the
   project root as the kernel's working directory, render HTML in the worker thread, stage
   everything under ``reports/.staging`` and commit from the main thread
   (:func:`kpianalysis.archive.commit_run`); write ``reports/index.html``.

A failed run is kept under ``reports/failed/fy<YEAR>/`` and makes the command exit 1 naming the
notebook, fiscal year and cell. Ctrl-C stops scheduling, interrupts running kernels (each runs in
its own session, so the terminal's signal does not reach it), commits nothing more and exits 130
with the archive intact.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpianalysis import archive
from kpianalysis.errors import KpiAnalysisError, ParameterError, RunError
from kpianalysis.parameters import (
    STANDARD_DEFAULTS,
    has_parameters_cell,
    notebook_parameter_names,
    validate_parameters,
)

# Bump when the run record layout or output normalisation changes: invalidates every run key.
FORMAT_VERSION = 1
KERNEL_NAME = "python3"
INJECTED_CELL_ID = "injected-parameters"
PACKAGES = (
    "kpianalysis",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "matplotlib",
    "matplotlib-fontja",
    "seaborn",
    "pyarrow",
    "papermill",
    "nbconvert",
    "nbclient",
    "nbformat",
    "ipykernel",
    "jupyter_client",
)


@dataclass(frozen=True)
class RunSpec:
    """One run: a notebook for one fiscal year, with validated parameters and its key."""

    notebook: Path
    name: str
    fiscal_year: int
    parameters: dict[str, Any]
    inputs: dict[str, str]
    run_key: str
    headline: Any = None


@dataclass
class RunOutcome:
    """What became of one run: ``ok``, ``skipped`` or ``failed`` (with a one-line error)."""

    spec: RunSpec
    outcome: str
    error: str | None = None
    failed_notebook: Path | None = None


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


def discover_notebooks(notebooks_dir: Path, names: Iterable[str] | None = None) -> list[Path]:
    """Report notebooks: ``*.ipynb`` in ``notebooks_dir`` with a cell tagged ``parameters``.

    Parameters
    ----------
    notebooks_dir
        Directory to scan (not recursive; checkpoints are ignored).
    names
        Restrict to these stems (``--notebook``); an unknown name raises :class:`ParameterError`.

    Examples
    --------
    >>> [p.name for p in discover_notebooks(Path("notebooks"))]  # doctest: +SKIP
    ['attainment.ipynb', 'trends.ipynb']
    """
    found = [p for p in sorted(Path(notebooks_dir).glob("*.ipynb")) if has_parameters_cell(p)]
    if names is None:
        return found
    wanted = list(dict.fromkeys(names))
    by_name = {p.stem: p for p in found}
    missing = [n for n in wanted if n not in by_name]
    if missing:
        raise ParameterError(
            f"unknown notebook {', '.join(map(repr, missing))} in {notebooks_dir} "
            f"(reports: {', '.join(by_name) or 'none'})"
        )
    return [by_name[n] for n in wanted]


def _library_dir() -> Path:
    return Path(__file__).resolve().parent


def common_inputs(root: Path, raw_dir: str, *, raw: bool = True) -> dict[str, str]:
    """sha256 of the inputs shared by every run: raw files, library source, ``uv.lock``.

    Keys are stable labels: ``raw/<path under raw_dir>``, ``kpianalysis/<file>.py``, ``uv.lock``;
    ``raw=False`` leaves the raw files out (the library and lock only).

    Examples
    --------
    >>> sorted(common_inputs(Path("."), "data/raw"))[:1]  # doctest: +SKIP
    ['kpianalysis/__init__.py']
    """
    root = Path(root)
    out: dict[str, str] = {}
    raw_path = root / raw_dir
    for p in sorted(raw_path.rglob("*")) if raw else ():
        if p.is_file():
            out[f"raw/{p.relative_to(raw_path).as_posix()}"] = archive.sha256_file(p)
    for p in sorted(_library_dir().glob("*.py")):
        out[f"kpianalysis/{p.name}"] = archive.sha256_file(p)
    lock = root / "uv.lock"
    if lock.is_file():
        out["uv.lock"] = archive.sha256_file(lock)
    return out


def run_key(inputs: Mapping[str, str], parameters: Mapping[str, Any], notebook: str) -> str:
    """sha256 over a run's input digests, its parameters and the notebook name.

    Independent of dict order, time and git state: the same inputs give the same key.

    Examples
    --------
    >>> k = run_key({"a": "1"}, {"fiscal_year": 2023}, "x")
    >>> k == run_key({"a": "1"}, {"fiscal_year": 2023}, "x"), len(k)
    (True, 64)
    """
    payload = {
        "format": FORMAT_VERSION,
        "notebook": notebook,
        "inputs": dict(sorted(inputs.items())),
        "parameters": dict(sorted(parameters.items())),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``names`` (``None`` for one not installed).

    Examples
    --------
    >>> "pandas" in package_versions(["pandas"])
    True
    """
    out: dict[str, str | None] = {}
    for n in names:
        try:
            out[n] = importlib.metadata.version(n)
        except importlib.metadata.PackageNotFoundError:
            out[n] = None
    return out


def git_state(root: Path) -> dict[str, Any]:
    """``{"commit": sha, "dirty": bool}``, each ``None`` when git or the repository is missing.

    Examples
    --------
    >>> sorted(git_state(Path("/")))
    ['commit', 'dirty']
    """
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        if commit.returncode != 0:
            return {"commit": None, "dirty": None}
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
    return {"commit": commit.stdout.strip(), "dirty": dirty}


def headline_for(dataset: Any, fiscal_year: int) -> Any:
    """Headline figures for the index, from ``kpianalysis.attainment.programme_summary``.

    Returns ``None`` when no dataset is given. The value is made JSON-safe (mappings and
    sequences kept, other objects as ``str``).

    Examples
    --------
    >>> headline_for(None, 2023) is None
    True
    """
    if dataset is None:
        return None
    from kpianalysis.attainment import attainment_table, format_percent, programme_summary

    as_of = getattr(dataset, "as_of", None)
    view = as_of(fiscal_year) if callable(as_of) else dataset
    table = attainment_table(view, fiscal_year)
    rows = programme_summary(view, fiscal_year, table=table)
    programmes = getattr(view, "programmes", None)
    if programmes is not None and {"programme_id", "name_ja"} <= set(programmes.columns):
        # Name the programme and list each KPI's achievement, so the index reads on its own.
        names = programmes.set_index("programme_id")
        rows = rows.copy()
        rows["name_ja"] = [names.loc[p, "name_ja"] for p in rows["programme_id"]]
        rows["municipality_ja"] = [
            names.loc[p, "municipality_ja"] if "municipality_ja" in names else ""
            for p in rows["programme_id"]
        ]
        rows["rates"] = [
            [
                f"{r.indicator_label} {format_percent(r.achievement_rate, 1)}"
                for r in table[table["programme_id"] == p].itertuples()
            ]
            for p in rows["programme_id"]
        ]
    return _jsonable(rows)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN (also numpy's) is not JSON
        return None
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "columns") and hasattr(value, "to_dict"):  # a DataFrame: one dict a row
        return _jsonable(value.to_dict(orient="records"))
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return _jsonable(item())
        except (TypeError, ValueError):
            pass
    return str(value)


# --------------------------------------------------------------------------------------------
# Execution of one run (worker thread)


# Kernel managers of the runs in progress. jupyter_client starts each kernel in its own session,
# so a terminal's Ctrl-C never reaches it: without this, an interrupted build would wait for every
# running notebook to finish (issue 6: a SIGINT'd build sat out a 30 s cell).
_RUNNING: set[Any] = set()
_RUNNING_LOCK = threading.Lock()


def _interrupt_kernels() -> int:
    """Send SIGINT to every kernel a run of this process started; returns how many were sent."""
    import signal

    with _RUNNING_LOCK:
        managers = [km for cls in _RUNNING for km in cls.started]
    sent = 0
    for km in managers:
        pid = getattr(getattr(km, "provisioner", None), "pid", None)
        if isinstance(pid, int) and pid > 0:
            try:
                os.kill(pid, signal.SIGINT)  # ipykernel turns it into KeyboardInterrupt
                sent += 1
            except OSError:  # already gone
                pass
    return sent


def _kernel_manager_class(log: Any) -> type:
    """A kernel manager that gives the kernel the inline figure backend and a stderr log."""
    from jupyter_client.manager import AsyncKernelManager

    class _Manager(AsyncKernelManager):  # type: ignore[misc]
        started: list[Any] = []  # noqa: RUF012 - one class per run, see execute_run

        async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
            env = dict(kw.pop("env", None) or os.environ)
            # `make` exports MPLBACKEND=Agg for the build process; in the kernel that would
            # swallow every figure, so restore what ipykernel uses when it is unset.
            env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
            env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
            kw["env"] = env
            # Kernel-process chatter (e.g. the TCP transport warning) goes to a log kept with
            # a failed run instead of interleaving with the progress bar.
            kw.setdefault("stderr", log)
            result = await super().start_kernel(**kw)
            type(self).started.append(self)
            return result

    return _Manager


def _normalise(nb: Any, spec: RunSpec) -> Any:
    """Strip what differs between identical runs (timestamps, random ids, staging paths)."""
    pm = nb.metadata.get("papermill", {})
    for k in ("start_time", "end_time", "duration"):
        pm.pop(k, None)
    pm["input_path"] = f"notebooks/{spec.notebook.name}"
    pm["output_path"] = f"fy{spec.fiscal_year}/{spec.name}.ipynb"
    for cell in nb.cells:
        md = cell.get("metadata", {})
        md.pop("execution", None)
        cpm = md.get("papermill")
        if isinstance(cpm, dict):
            for k in ("start_time", "end_time", "duration"):
                cpm.pop(k, None)
        if "injected-parameters" in md.get("tags", []):
            cell["id"] = INJECTED_CELL_ID
    return nb


def _describe_failure(exc: BaseException, executed: Path) -> str:
    """One line naming the failing cell (index in the source notebook, In [n], id) and error."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        where = f"cell {exc.cell_index}"
        try:
            import nbformat

            nb = nbformat.read(executed, as_version=4)
            # The executed notebook has papermill's error banner first; find the cell by the
            # error output instead of trusting an index that banner shifted.
            src_index = 0
            for cell in nb.cells:
                tags = cell.get("metadata", {}).get("tags", [])
                if "injected-parameters" in tags or "papermill-error-cell-tag" in tags:
                    continue
                if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                    cid = cell.get("id")
                    where = f"cell {src_index}" + (f" (id {cid})" if cid else "")
                    break
                src_index += 1
        except Exception:  # the description must not mask the run's own error
            pass
        first = (exc.source or "").strip().splitlines()
        snippet = f" `{first[0][:60]}`" if first else ""
        evalue = " ".join(str(exc.evalue).split())[:200]
        return f"{where}, In [{exc.exec_count}]{snippet}: {exc.ename}: {evalue}"
    name = type(exc).__name__
    text = " ".join(str(exc).split())[:200]
    if name == "DeadKernelError":
        return f"the kernel died: {text}"
    return f"{name}: {text}"


@dataclass
class _Staged:
    spec: RunSpec
    ok: bool
    staging: Path
    ipynb: Path | None = None
    html: Path | None = None
    executed: Path | None = None
    log: Path | None = None
    error: str | None = None
    start: str = ""
    end: str = ""
    duration: float = 0.0


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def execute_run(spec: RunSpec, root: Path, reports: Path, stop: threading.Event) -> _Staged:
    """Execute and render one run into a fresh staging directory (no archive change).

    Examples
    --------
    >>> execute_run(spec, Path("."), Path("reports"), threading.Event())  # doctest: +SKIP
    """
    import nbformat
    import papermill

    from kpianalysis.render import render_html

    staging = archive.new_staging_dir(reports)
    executed = staging / "executed.ipynb"
    log = staging / "kernel.log"
    st = _Staged(spec, ok=False, staging=staging, executed=executed, log=log, start=_now())
    t0 = time.perf_counter()
    log_fh = open(log, "ab")  # noqa: SIM115 - closed in finally, after the kernel ended
    manager_class = _kernel_manager_class(log_fh)
    with _RUNNING_LOCK:
        _RUNNING.add(manager_class)
    try:
        if stop.is_set():
            raise KeyboardInterrupt
        nb = papermill.execute_notebook(
            str(spec.notebook),
            str(executed),
            parameters=spec.parameters,
            kernel_name=KERNEL_NAME,
            cwd=str(root),
            progress_bar=False,
            log_output=False,
            kernel_manager_class=manager_class,
        )
        if stop.is_set():
            raise KeyboardInterrupt
        nb = _normalise(nb, spec)
        st.ipynb = staging / f"{spec.name}.ipynb"
        archive.write_durable(st.ipynb, nbformat.writes(nb).encode("utf-8") + b"\n")
        language = str(spec.parameters.get("language", "ja"))
        title = f"{spec.name} — {spec.fiscal_year}年度 / FY{spec.fiscal_year}"
        st.html = staging / f"{spec.name}.html"
        archive.write_durable(
            st.html, render_html(nb, title=title, language=language).encode("utf-8")
        )
        st.ok = True
    except KeyboardInterrupt:
        st.error = "interrupted"
    except Exception as exc:  # any failure of a run is reported, not raised
        st.error = _describe_failure(exc, executed)
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(manager_class)
        log_fh.close()
        st.duration = round(time.perf_counter() - t0, 3)
        st.end = _now()
    return st


# --------------------------------------------------------------------------------------------
# Build


def _record(st: _Staged, environment: Mapping[str, Any], outcome: str) -> dict[str, Any]:
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


def prepare_data(root: Path, raw_dir: str, processed_dir: str) -> tuple[list[int], Any, list[Path]]:
    """Load + validate the raw data and write the processed tables when they are out of date.

    ``data/processed/.inputs.sha256`` records the digest of the validated data and of the library
    source that produced the files there; when both are unchanged and every file is present,
    nothing is recomputed or rewritten (the no-op build stays well under a second).

    Returns
    -------
    (fiscal_years, dataset, written_paths)
        ``written_paths`` is empty when the processed files were already up to date.

    Raises
    ------
    kpianalysis.errors.DataError
        On invalid raw data, before anything is written.

    Examples
    --------
    >>> years, ds, written = prepare_data(Path("."), "data/raw", "data/processed")  # doctest: +SKIP
    """
    from kpianalysis.dataset import load_dataset

    ds = load_dataset(Path(root) / raw_dir)
    out = Path(root) / processed_dir
    digest = hashlib.sha256(
        json.dumps(
            {"data": ds.digest(), "library": common_inputs(root, raw_dir, raw=False)},
            sort_keys=True,
        ).encode()
    ).hexdigest()
    stamp = out / PROCESSED_STAMP
    if _processed_up_to_date(out, stamp, digest, _processed_names(ds)):
        return [int(y) for y in ds.fiscal_years], ds, []

    from kpianalysis.dataset import write_processed
    from kpianalysis.results import write_results

    written = [Path(p) for p in write_processed(ds, out) + write_results(ds, out)]
    lines = [digest, *(f"{archive.sha256_file(p)}  {p.name}" for p in written)]
    archive.write_atomic(stamp, ("\n".join(lines) + "\n").encode("utf-8"))
    return [int(y) for y in ds.fiscal_years], ds, written


def _processed_up_to_date(out: Path, stamp: Path, digest: str, names: Sequence[str]) -> bool:
    """Whether the stamp matches ``digest`` and every expected file is there, unmodified."""
    try:
        lines = stamp.read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    if not lines or lines[0] != digest:
        return False
    recorded = dict(reversed(line.split("  ", 1)) for line in lines[1:] if "  " in line)
    if sorted(recorded) != sorted(names):
        return False
    try:
        return all(archive.sha256_file(out / n) == h for n, h in recorded.items())
    except OSError:
        return False


#: Stamp of the processed files' inputs (see :func:`prepare_data`).
PROCESSED_STAMP = ".inputs.sha256"


def _processed_names(ds: Any) -> list[str]:
    stems = list(ds.tables()) + [
        f"{kind}_fy{fy}" for fy in ds.fiscal_years for kind in ("attainment", "trends")
    ]
    return [f"{stem}.{ext}" for stem in stems for ext in ("csv", "parquet")]


def plan_runs(
    notebooks: Sequence[Path],
    *,
    root: Path,
    fiscal_years: Sequence[int],
    data_years: Sequence[int],
    raw_dir: str,
    processed_dir: str,
    language: str = "ja",
    dataset: Any = None,
) -> list[RunSpec]:
    """Validate every run's parameters and compute its key; no kernel is started.

    Raises
    ------
    ParameterError
        For the first refused parameter (bad year, path outside the project, unknown name, ...).

    Examples
    --------
    >>> plan_runs([Path("notebooks/x.ipynb")], root=Path("."), fiscal_years=[2023],
    ...           data_years=[2023], raw_dir="data/raw",
    ...           processed_dir="data/processed")  # doctest: +SKIP
    """
    shared = common_inputs(root, raw_dir) if notebooks else {}
    headlines: dict[int, Any] = {}
    as_of: dict[int, str | None] = {}
    specs = []
    for nb_path in notebooks:
        declared = notebook_parameter_names(nb_path)
        if "fiscal_year" not in declared:
            raise ParameterError(f"{nb_path.name}: its parameters cell must declare fiscal_year")
        inputs = {**shared, f"notebooks/{nb_path.name}": archive.sha256_file(nb_path)}
        for fy in fiscal_years:
            wanted = {
                "fiscal_year": fy,
                **STANDARD_DEFAULTS,
                "raw_dir": raw_dir,
                "processed_dir": processed_dir,
                "language": language,
            }
            # Standard parameters a notebook does not declare are not passed to it.
            wanted = {k: v for k, v in wanted.items() if k == "fiscal_year" or k in declared}
            params = validate_parameters(
                wanted, declared=declared, fiscal_years=data_years, root=root, notebook=nb_path.name
            )
            if fy not in headlines:
                headlines[fy] = headline_for(dataset, fy)
                as_of[fy] = dataset.as_of(fy).digest() if dataset is not None else None
            run_inputs = dict(inputs)
            key_inputs = inputs
            if as_of[fy] is not None:
                # Key on the data as of this year, not on the raw files: new rows for a later
                # year leave this run's key, and so its archived report, untouched. The raw
                # files' digests are still recorded for provenance.
                run_inputs[f"data/as_of_fy{fy}"] = as_of[fy]
                key_inputs = {k: v for k, v in run_inputs.items() if not k.startswith("raw/")}
            specs.append(
                RunSpec(
                    notebook=nb_path,
                    name=nb_path.stem,
                    fiscal_year=fy,
                    parameters=params,
                    inputs=run_inputs,
                    run_key=run_key(key_inputs, params, nb_path.stem),
                    headline=headlines[fy],
                )
            )
    return specs


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
    notebooks_dir: str | Path = "notebooks",
    raw_dir: str | Path = "data/raw",
    processed_dir: str | Path = "data/processed",
    reports: str | Path = "reports",
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
        ``(root, raw_dir, processed_dir) -> (fiscal_years, dataset, written)``; default
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
        summary.index = _write_index(reports_path, failed_records)
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


def _write_index(reports: Path, failed: Sequence[Mapping[str, Any]]) -> Path:
    from kpianalysis.report_index import write_index

    try:
        return write_index(reports, failed)
    except OSError as exc:
        raise archive.ArchiveError(f"writing {reports / 'index.html'} failed: {exc}") from exc


def _relative_inside(root: Path) -> Callable[[str, str | Path], str]:
    from kpianalysis.parameters import check_path

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
    pending: set[Future[_Staged]] = set()
    try:
        pending = {pool.submit(execute_run, s, root, reports, stop) for s in todo}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                st = fut.result()
                _commit(st, reports, environment, summary, failed_records)
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
        _interrupt_kernels()
        pool.shutdown(wait=True, cancel_futures=True)
        archive.clean_staging(reports)
        raise
    finally:
        bar.close()
        pool.shutdown(wait=True)


def _commit(
    st: _Staged,
    reports: Path,
    environment: Mapping[str, Any],
    summary: BuildSummary,
    failed_records: list[dict[str, Any]],
) -> None:
    import shutil

    s = st.spec
    try:
        _commit_or_keep(st, reports, environment, summary, failed_records)
    except OSError as exc:
        raise archive.ArchiveError(
            f"{s.name} FY{s.fiscal_year}: writing the archive failed, nothing of this run was "
            f"committed: {exc}"
        ) from exc
    finally:
        shutil.rmtree(st.staging, ignore_errors=True)


def _commit_or_keep(
    st: _Staged,
    reports: Path,
    environment: Mapping[str, Any],
    summary: BuildSummary,
    failed_records: list[dict[str, Any]],
) -> None:
    s = st.spec
    if st.ok and st.ipynb is not None and st.html is not None:
        archive.commit_run(
            st.ipynb, st.html, _record(st, environment, "ok"), reports, s.fiscal_year, s.name
        )
        summary.outcomes.append(RunOutcome(s, "ok"))
    elif st.error == "interrupted":
        raise KeyboardInterrupt
    else:
        rec = _record(st, environment, "failed")
        kept = archive.keep_failed(
            st.executed, rec, reports, s.fiscal_year, s.name, kernel_log=st.log
        )
        failed_records.append(rec)
        summary.outcomes.append(RunOutcome(s, "failed", st.error, kept))


# --------------------------------------------------------------------------------------------
# Command line


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``kpianalysis build``.

    Examples
    --------
    >>> p = argparse.ArgumentParser(); add_build_arguments(p)
    >>> p.parse_args(["--fiscal-year", "2022", "--fiscal-year", "2023"]).fiscal_year
    [2022, 2023]
    """
    parser.add_argument(
        "--fiscal-year",
        type=int,
        action="append",
        metavar="N",
        help="build only this fiscal year (repeatable; default: every year in the data)",
    )
    parser.add_argument(
        "--notebook",
        action="append",
        metavar="NAME",
        help="build only this notebook, by file stem (repeatable; default: every report)",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        metavar="N",
        help="parallel runs (default: number of CPU cores)",
    )
    parser.add_argument("--force", action="store_true", help="rerun even unchanged runs")
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="fail at once if another build holds the lock, instead of waiting",
    )
    parser.add_argument("--root", type=Path, default=Path("."), help="project root (default: .)")
    parser.add_argument("--raw", type=Path, default=Path("data/raw"), help="raw data directory")
    parser.add_argument(
        "--processed", type=Path, default=Path("data/processed"), help="processed data directory"
    )
    parser.add_argument(
        "--notebooks", type=Path, default=Path("notebooks"), help="report notebooks directory"
    )
    parser.add_argument("--reports", type=Path, default=Path("reports"), help="archive directory")
    parser.add_argument(
        "--language", choices=("ja", "en"), default="ja", help="report language (default: ja)"
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )


def run_build(args: argparse.Namespace) -> int:
    """Entry point of ``kpianalysis build``; returns the exit code (errors raise, see cli.py).

    Examples
    --------
    >>> from kpianalysis.cli import main
    >>> main(["build", "--jobs", "2"])  # doctest: +SKIP
    0
    """
    t0 = time.perf_counter()
    try:
        summary = build(
            args.root,
            notebooks_dir=args.notebooks,
            raw_dir=args.raw,
            processed_dir=args.processed,
            reports=args.reports,
            fiscal_years=args.fiscal_year,
            notebooks=args.notebook,
            force=args.force,
            jobs=args.jobs,
            wait_for_lock=not args.no_wait,
            progress=args.progress,
            language=args.language,
        )
    except KpiAnalysisError:
        raise
    print(
        f"built {summary.count('ok')}, unchanged {summary.count('skipped')}, "
        f"failed {summary.count('failed')} run(s) in {time.perf_counter() - t0:.1f} s; "
        f"index: {summary.index}",
    )
    return 0
