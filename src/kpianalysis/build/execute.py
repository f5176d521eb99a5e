"""Executing one run: a kernel, papermill, HTML rendering — all into a fresh staging directory.

Nothing here touches the archive; :mod:`kpianalysis.build.commit` does.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kpianalysis import fileio
from kpianalysis.build import archive
from kpianalysis.build.plan import RunSpec, report_stem
from kpianalysis.paths import PROJECT_ROOT_ENV
from kpianalysis.report.index import municipality_page
from kpianalysis.report.registry import report_title

__all__ = [
    "DEFAULT_CELL_TIMEOUT",
    "FOOTER_PACKAGES",
    "INJECTED_CELL_ID",
    "KERNEL_NAME",
    "StagedRun",
    "cell_timeout_of",
    "close_thread_event_loop",
    "execute_run",
    "interrupt_kernels",
    "navigation_for",
    "now_utc",
    "provenance_for",
    "use_local_handler_without_chdir",
]

KERNEL_NAME = "python3"


INJECTED_CELL_ID = "injected-parameters"

#: Seconds one cell may run before its run fails (a notebook that never ends must not hang the
#: build). A notebook may set its own in its metadata, ``{"kpianalysis": {"cell_timeout": N}}``;
#: ``kpianalysis build --cell-timeout N`` overrides both.
DEFAULT_CELL_TIMEOUT = 600.0


def cell_timeout_of(notebook: Path, override: float | None = None) -> float:
    """The per-cell timeout of a notebook: ``override``, else its metadata's, else the default.

    Examples
    --------
    >>> cell_timeout_of(Path("/nonexistent.ipynb"))
    600.0
    >>> cell_timeout_of(Path("/nonexistent.ipynb"), 5)
    5.0
    """
    if override is not None:
        return float(override)
    import json

    try:
        meta = json.loads(Path(notebook).read_text(encoding="utf-8")).get("metadata", {})
        value = meta.get("kpianalysis", {}).get("cell_timeout")
    except (OSError, ValueError, AttributeError):
        return DEFAULT_CELL_TIMEOUT
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return DEFAULT_CELL_TIMEOUT


def _local_handler_without_chdir() -> Any:
    """papermill's local file handler, resolving paths against its directory without ``os.chdir``.

    papermill's own handler enters its directory (``os.chdir``) around every read and write, and
    that directory is one process-wide setting that concurrent runs on threads leave stale: a
    build's threads would move the whole process for a moment. The build gives papermill
    absolute paths only, so joining is all that is needed; a relative path still resolves as
    papermill would resolve it.
    """
    import json

    from papermill.iorw import LocalHandler

    class NoChdirLocalHandler(LocalHandler):  # type: ignore[misc]
        def _resolve(self, path: str) -> str:
            return os.path.join(self._cwd, path) if self._cwd else path

        def read(self, path: str) -> str:
            try:
                with open(self._resolve(path), encoding="utf-8") as f:
                    return f.read()
            except OSError as missing:
                try:  # papermill also accepts a notebook passed as a JSON string
                    json.loads(path)
                except ValueError:
                    raise missing from None
                return path

        def listdir(self, path: str) -> list[str]:
            return [os.path.join(path, fn) for fn in os.listdir(self._resolve(path))]

        def write(self, buf: str, path: str) -> None:
            target = self._resolve(path)
            dirname = os.path.dirname(target)
            if dirname and not os.path.exists(dirname):
                raise FileNotFoundError(f"output folder {dirname} doesn't exist.")
            with open(target, "w", encoding="utf-8") as f:
                f.write(buf)

    return NoChdirLocalHandler()


def use_local_handler_without_chdir() -> None:
    """Make :func:`_local_handler_without_chdir` papermill's ``local`` handler (idempotent)."""
    from papermill.iorw import papermill_io

    if type(papermill_io.get_handler("x.ipynb")).__name__ == "NoChdirLocalHandler":
        return
    ours = _local_handler_without_chdir()
    # `register` would add a second "local" entry, and papermill uses the last one listed (its
    # own): replace it where it stands.
    papermill_io._handlers = [
        (scheme, ours if scheme == "local" else handler)
        for scheme, handler in papermill_io._handlers
    ]


# Kernel managers of the runs in progress. jupyter_client starts each kernel in its own session,
# so a terminal's Ctrl-C never reaches it: without this, an interrupted build would wait for every
# running notebook to finish (issue 6: a SIGINT'd build sat out a 30 s cell).
_RUNNING: set[Any] = set()


_RUNNING_LOCK = threading.Lock()


def interrupt_kernels() -> int:
    """Send SIGINT to every kernel a run of this process started; returns how many were sent."""

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


def _kernel_manager_class(log: Any, root: Path) -> type:
    """A kernel manager that starts the kernel in ``root`` and tells it so.

    The kernel also gets the inline figure backend and ``log`` as its stderr.
    """
    from jupyter_client.manager import AsyncKernelManager

    class _Manager(AsyncKernelManager):  # type: ignore[misc]
        started: list[Any] = []  # noqa: RUF012 - one class per run, see execute_run

        async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
            env = dict(kw.pop("env", None) or os.environ)
            # `make` exports MPLBACKEND=Agg for the build process; in the kernel that would
            # swallow every figure, so restore what ipykernel uses when it is unset.
            env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
            env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
            # The kernel process starts in the project root (jupyter_client passes `cwd` to
            # Popen) instead of inheriting the build's directory, and relative data paths
            # resolve against the root it is told (kpianalysis.paths.project_root), so no
            # directory of this process can ever lend a kernel a foreign data/raw.
            env[PROJECT_ROOT_ENV] = str(root)
            kw["env"] = env
            kw["cwd"] = str(root)
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
    pm["output_path"] = f"{spec.where}/{spec.stem}.ipynb"
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


def _timed_out_cell(executed: Path) -> str:
    """``cell N (id …)`` of the cell that was running when the run timed out.

    papermill saves the executed notebook as each cell ends, the timed-out one included (with
    its ``start_time``): the last cell that started is the one. ``N`` counts the source
    notebook's cells (papermill's injected parameters cell left out).
    """
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    found, src_index = "a cell", 0
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags or "papermill-error-cell-tag" in tags:
            continue
        if cell.get("metadata", {}).get("papermill", {}).get("start_time"):
            cid = cell.get("id")
            found = f"cell {src_index}" + (f" (id {cid})" if cid else "")
        src_index += 1
    return found


def _describe_failure(exc: BaseException, executed: Path, timeout: float | None = None) -> str:
    """One line naming the failing cell (index in the source notebook, In [n], id) and error."""
    from nbclient.exceptions import CellTimeoutError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, CellTimeoutError):
        try:
            where = _timed_out_cell(executed)
        except Exception:  # the description must not mask the run's own error
            where = "a cell"
        limit = f"{timeout:g} s" if timeout else "its time limit"
        return (
            f"{where}: timed out after {limit} (the per-cell limit: --cell-timeout, or the "
            "notebook's metadata kpianalysis.cell_timeout)"
        )

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
class StagedRun:
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


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


#: The folder, inside a run's archive folder, of the data tables behind its reports (the
#: registry's tables: :func:`kpianalysis.build.commit.stage_tables` writes them, its programme's
#: rows as of its year; the footer links them).
TABLES_DIR = "data"


#: Packages named in a report's footer (all of them are in the run record).
FOOTER_PACKAGES = ("kpianalysis", "pandas", "numpy", "statsmodels", "matplotlib", "nbconvert")


def provenance_for(spec: RunSpec, reports: Path, environment: Mapping[str, Any] | None) -> Any:
    """The report footer's provenance: links relative to where the report will be archived.

    Examples
    --------
    >>> provenance_for(spec, Path("reports"), {}).record  # doctest: +SKIP
    'attainment.run.json'
    """
    from kpianalysis.report.render import Provenance, build_time

    env = environment or {}
    final = archive.run_paths(reports, spec.where, spec.stem)
    here = final["html"].parent

    def rel(p: Path) -> str:
        return Path(os.path.relpath(p, here)).as_posix()

    # The tables behind the report, as its commit archives them beside it (stage_tables): the
    # plan's, not whatever data/processed holds (a plan report's year has no per-year file
    # there, and its footer linked tables never archived).
    tables = [f"{TABLES_DIR}/{n}.csv" for n in spec.tables]
    packages = env.get("packages") or {}
    versions = {k: packages.get(k) for k in FOOTER_PACKAGES if packages.get(k)}
    if env.get("python"):
        versions["Python"] = env["python"]
    git = env.get("git") or {}
    return Provenance(
        built=build_time(),
        commit=git.get("commit"),
        dirty=git.get("dirty"),
        versions=versions,
        record=rel(final["record"]),
        notebook=rel(final["ipynb"]),
        tables=tables,
        navigation=navigation_for(spec, reports),
    )


def navigation_for(spec: RunSpec, reports: Path) -> list[tuple[str, str, str]]:
    """``(text, href, hreflang)`` of the pages a report links above its title, relative to it.

    The index (the programme's entry on its municipality's page, which every archive has), then
    :attr:`RunSpec.links`: the sibling reports of its programme-year in its language and its
    versions in the other languages — those its build makes, as the plan decided
    (:meth:`kpianalysis.build.plan.Planner.links_of`). Nothing here looks at the archive, so a
    report's links never depend on what happened to be built before it.

    Examples
    --------
    >>> spec = RunSpec(Path("trends.ipynb"), "trends", 2023, {}, {}, "", programme_id="a",
    ...                links=(("attainment", "ja"), ("trends", "en")))
    >>> [href for _, href, _ in navigation_for(spec, Path("/nonexistent"))]
    ['../../index/unknown.html#a', 'attainment.html', 'trends.en.html']
    """
    ja = spec.language == "ja"
    here = archive.run_paths(reports, spec.where, spec.stem)["html"].parent
    if spec.programme_id:
        index = municipality_page(spec.programme_id, spec.language) + f"#{spec.programme_id}"
    else:
        index = "index.html" if ja else "index.en.html"
    links = [
        (
            "報告書の一覧" if ja else "All reports",
            Path(os.path.relpath(Path(reports), here)).as_posix() + "/" + index,
            spec.language,
        )
    ]
    for name, language in spec.links:
        if language == spec.language:
            text = report_title(name, language)
        else:  # the same report in another language, named in that language
            text = "English version" if language == "en" else "日本語版"
        links.append((text, f"{report_stem(name, language)}.html", language))
    return links


def close_thread_event_loop() -> bool:
    """Close a worker thread's asyncio event loop unless it is running; True if one was closed.

    papermill drives the kernel through ``jupyter_core.utils.run_sync``, which leaves an open
    loop on the calling thread (and makes a new one when it finds it closed). A build's worker
    threads end with the build; their loops, left open, had their sockets finalised with a
    ``ResourceWarning`` whenever the garbage collector got to them — long after the build, in
    unrelated code. The main thread's loop is left alone: it is reused, not leaked, and other
    code in the process may rely on it.

    Examples
    --------
    >>> import asyncio
    >>> def worker(out):
    ...     asyncio.set_event_loop(asyncio.new_event_loop())
    ...     out += [close_thread_event_loop(), close_thread_event_loop()]
    >>> out = []
    >>> t = threading.Thread(target=worker, args=(out,)); t.start(); t.join()
    >>> out, close_thread_event_loop()  # closed once; never in the main thread
    ([True, False], False)
    """
    import asyncio

    if threading.current_thread() is threading.main_thread():
        return False
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:  # no loop on this thread
        return False
    if loop.is_running() or loop.is_closed():
        return False
    loop.close()
    asyncio.set_event_loop(None)
    return True


def execute_run(
    spec: RunSpec,
    root: Path,
    reports: Path,
    stop: threading.Event,
    environment: Mapping[str, Any] | None = None,
    *,
    staging_dir: Callable[[], Path] | None = None,
    cell_timeout: float | None = None,
) -> StagedRun:
    """Execute and render one run into a fresh staging directory (no archive change).

    A cell running longer than :func:`cell_timeout_of` (``cell_timeout`` overrides the
    notebook's own) fails the run, naming the cell.

    The kernel runs in ``root`` (absolute) with ``$KPIANALYSIS_PROJECT_ROOT`` set to it; the
    process working directory is never changed, so runs on several threads cannot disturb
    each other.

    ``environment`` (Python, packages, git state) goes into the report's footer, with links
    relative to the run's archive paths.

    ``staging_dir`` makes that directory (a build passes its
    :meth:`~kpianalysis.build.archive.ArchiveLock.staging_dir`); default
    :func:`~kpianalysis.build.archive.new_staging_dir`.

    Examples
    --------
    >>> execute_run(spec, Path("."), Path("reports"), threading.Event())  # doctest: +SKIP
    """
    import nbformat
    import papermill

    from kpianalysis.report.render import render_html

    use_local_handler_without_chdir()

    root = Path(root).resolve()
    staging = staging_dir() if staging_dir is not None else archive.new_staging_dir(reports)
    executed = staging / "executed.ipynb"
    log = staging / "kernel.log"
    st = StagedRun(spec, ok=False, staging=staging, executed=executed, log=log, start=now_utc())
    t0 = time.perf_counter()
    log_fh = open(log, "ab")  # noqa: SIM115 - closed in finally, after the kernel ended
    manager_class = _kernel_manager_class(log_fh, root)
    with _RUNNING_LOCK:
        _RUNNING.add(manager_class)
    timeout = cell_timeout_of(root / spec.notebook, cell_timeout)
    try:
        if stop.is_set():
            raise KeyboardInterrupt
        # No `cwd=`: papermill would os.chdir the whole process around the run, and with runs
        # on threads one run's restore moved another's kernel into a foreign directory (issue
        # 9). The kernel manager sets the kernel's directory instead; both paths are absolute.
        nb = papermill.execute_notebook(
            str(root / spec.notebook),
            str(executed.resolve()),
            parameters=spec.parameters,
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            log_output=False,
            kernel_manager_class=manager_class,
            execution_timeout=timeout,
        )
        if stop.is_set():
            raise KeyboardInterrupt
        nb = _normalise(nb, spec)
        st.ipynb = staging / f"{spec.name}.ipynb"
        fileio.write_durable(st.ipynb, nbformat.writes(nb).encode("utf-8") + b"\n")
        language = str(spec.parameters.get("language", "ja"))
        st.html = staging / f"{spec.name}.html"
        provenance = provenance_for(spec, reports, environment)
        html = render_html(nb, language=language, provenance=provenance)
        fileio.write_durable(st.html, html.encode("utf-8"))
        st.ok = True
    except KeyboardInterrupt:
        st.error = "interrupted"
    except Exception as exc:  # any failure of a run is reported, not raised
        st.error = _describe_failure(exc, executed, timeout)
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(manager_class)
        log_fh.close()
        close_thread_event_loop()
        st.duration = round(time.perf_counter() - t0, 3)
        st.end = now_utc()
    return st
