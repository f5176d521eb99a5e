"""Benchmark of ``kpianalysis build`` against the naive way and the floor.

The build is the real one: a copy of the project (the shipped ``data/raw``, the report notebooks,
``pyproject.toml``, ``uv.lock``) in a temporary folder, its data validated and written to that
copy's ``data/processed``, and every run the planner plans — programme-scoped notebooks once per
(programme, fiscal year), panel-scoped ones once per year, in both languages as ``make report``.
Measured side by side in one run, on those same runs:

- **build**: ``build(force=True, jobs=cores)`` — papermill API + in-process nbconvert, parallel;
- **naive**: per run, ``papermill`` CLI subprocess (the run's own parameters) then
  ``jupyter nbconvert --to html --no-input`` CLI subprocess, sequentially;
- **floor**: one kernel start plus the run's notebook's import cell, per run, divided over the
  cores (nothing can be faster without sharing kernels between runs);
- **no-op**: a second ``build`` with nothing changed (no kernel starts).

Nothing is written to the project itself. Usage::

    python benchmarks/bench_build.py [NOTEBOOK.ipynb ...] [--years 2022 2023] [--skip-naive]
    python benchmarks/bench_build.py --quick   # seconds: a tiny notebook, one year

Without notebooks it uses every report notebook in ``notebooks/``. ``--quick`` (run by the test
suite so the benchmark cannot break unnoticed) builds a small generated notebook that declares
``programme_id`` — the per-programme path — for the seed programme only, its last year.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from machine import describe

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

DEMO_PARAMS = (
    "fiscal_year: int = 2023  # fiscal year\n"
    'raw_dir: str = "data/raw"  # raw data\n'
    'programme_id: str = "23205-community"  # the programme\n'
)
DEMO_IMPORTS = "import pandas as pd\nimport matplotlib.pyplot as plt"
DEMO_BODY = (
    "df = pd.DataFrame({'年度': [2021, 2022, fiscal_year], '値': [1, 3, 2]})\n"
    "fig, ax = plt.subplots(figsize=(4, 2))\nax.plot(df['年度'], df['値'])\n"
    "ax.set_title(programme_id)\nplt.show()\ndf"
)


def demo_notebook(directory: Path) -> Path:
    """A small programme-scoped report notebook: imports pandas and matplotlib, one figure."""
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell(DEMO_PARAMS)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [p, nbformat.v4.new_code_cell(DEMO_IMPORTS), nbformat.v4.new_code_cell(DEMO_BODY)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = directory / "demo.ipynb"
    nbformat.write(nb, path)
    return path


#: The one programme of ``--quick`` (selected by id: partners' folders may sit beside it).
SEED_ID = "23205-community"


def project_copy(root: Path, notebooks: list[Path], programmes: list[str] | None = None) -> Path:
    """A project at ``root``: the raw data (``programmes``' folders only, if given), the lock
    and the given notebooks."""
    raw = ROOT / "data" / "raw"
    if programmes is None:
        shutil.copytree(raw, root / "data" / "raw")
    for pid in programmes or ():
        shutil.copytree(raw / pid, root / "data" / "raw" / pid)
    (root / "notebooks").mkdir()
    for nb in notebooks:
        shutil.copy(nb, root / "notebooks" / Path(nb).name)
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy2(ROOT / name, root / name)
    return root


def import_cell(notebook: Path) -> str:
    """The import statements of the notebook's code cells (what every run must pay for)."""
    nb = nbformat.read(notebook, as_version=4)
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
            continue
        lines += [ln for ln in cell.source.splitlines() if ln.startswith(("import ", "from "))]
    return "\n".join(lines)


def time_floor(notebooks: list[Path], root: Path, cores: int) -> float:
    """Kernel start + import cell for each run's notebook, executed ``cores`` at a time."""
    from nbclient import NotebookClient

    def one(src: str) -> None:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(src)]
        NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": root}}).execute()

    sources = [import_cell(n) for n in notebooks]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(cores) as ex:
        list(ex.map(one, sources))
    return time.perf_counter() - t0


def time_naive(runs: list[tuple[Path, dict]], root: Path, work: Path) -> float:
    """Each run through the papermill and nbconvert command lines, one after the other."""
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for i, (nb, parameters) in enumerate(runs):
        out = work / f"{i:04d}-{nb.stem}.ipynb"
        subprocess.run(
            [str(BIN / "papermill"), str(nb), str(out), "-y", json.dumps(parameters),
             "--cwd", str(root), "--no-progress-bar"],
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)],
            check=True, capture_output=True,
        )  # fmt: skip
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    from kpianalysis.build import pipeline
    from kpianalysis.build.parameters import LANGUAGES
    from kpianalysis.data.dataset import load_dataset

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--years", nargs="*", type=int, help="fiscal years (default: the data's)")
    ap.add_argument("--skip-naive", action="store_true", help="omit the slow naive timing")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="seconds: a tiny programme-scoped notebook, the seed programme's last year",
    )
    args = ap.parse_args(argv)
    cores = os.cpu_count() or 1
    os.environ.setdefault("MPLBACKEND", "Agg")
    print(f"machine: {describe()}")

    with tempfile.TemporaryDirectory(prefix="kpi-bench-") as tmp:
        tmp_path = Path(tmp)
        if args.quick:
            sources = [demo_notebook(tmp_path)]
        else:
            sources = args.notebooks or pipeline.discover_notebooks(ROOT / "notebooks")
        root = project_copy(tmp_path / "project", sources, [SEED_ID] if args.quick else None)
        data_years = list(load_dataset(root / "data" / "raw").fiscal_years)
        years = args.years or (data_years[-1:] if args.quick else None)
        # Both languages, as `kpianalysis build` (`make report`) builds them.
        kw = dict(
            reports=root / "reports",
            fiscal_years=years,
            languages=LANGUAGES,
            jobs=cores,
            progress=False,
        )

        t0 = time.perf_counter()
        first = pipeline.build(root, force=True, **kw)
        t_build = time.perf_counter() - t0
        runs = [o.spec for o in first.outcomes]
        n_runs = len(runs)
        assert first.count("ok") == n_runs > 0, "the build did not run every planned run"
        assert any(s.programme_id for s in runs), "no programme run planned"
        t0 = time.perf_counter()
        again = pipeline.build(root, **kw)
        t_noop = time.perf_counter() - t0
        assert again.count("skipped") == n_runs, "no-op rebuild reran something"
        t_floor = time_floor([s.notebook for s in runs], root, cores)
        naive_runs = [(s.notebook, s.parameters) for s in runs]
        t_naive = None if args.skip_naive else time_naive(naive_runs, root, tmp_path / "naive")

    scopes = sorted({s.scope for s in runs})
    print(
        f"runs: {n_runs} ({', '.join(sorted({s.name for s in runs}))}; "
        f"{', '.join(scopes)}; FY {sorted({s.fiscal_year for s in runs})})"
    )
    print(f"build --force --jobs {cores}: {t_build:7.2f} s  ({t_build / n_runs:.2f} s/run)")
    if t_naive is not None:
        print(
            f"naive (CLI papermill + nbconvert, sequential): {t_naive:7.2f} s  "
            f"({t_naive / n_runs:.2f} s/run)  build/naive = {t_build / t_naive:.2f}x"
        )
    print(
        f"floor (kernel start + import cell, over {cores} cores): {t_floor:7.2f} s  "
        f"build/floor = {t_build / t_floor:.2f}x"
    )
    print(f"no-op rebuild: {t_noop:7.3f} s  ({t_noop / t_build:.4f}x the full build)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
