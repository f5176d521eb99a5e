"""Benchmark of ``kpianalysis build`` against the naive way and the floor.

Measured side by side in one run, on the same (notebook, fiscal year) runs:

- **build**: ``build(force=True, jobs=cores)`` — papermill API + in-process nbconvert, parallel;
- **naive**: per run, ``papermill`` CLI subprocess then ``jupyter nbconvert --to html --no-input``
  CLI subprocess, sequentially;
- **floor**: one kernel start plus the notebook's import cell, per run, divided over the cores
  (nothing can be faster without sharing kernels between runs);
- **no-op**: a second ``build`` with nothing changed (no kernel starts).

The archive is written to a temporary directory, never to ``reports/``. Usage::

    python benchmarks/bench_build.py [NOTEBOOK.ipynb ...] [--years 2022 2023]

Without notebooks it uses every report notebook in ``notebooks/``, or a small generated demo
notebook (imports pandas, matplotlib and draws one figure) when there is none yet.
"""

from __future__ import annotations

import argparse
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

DEMO_PARAMS = 'fiscal_year: int = 2023  # fiscal year\nraw_dir: str = "data/raw"  # raw data\n'
DEMO_IMPORTS = "import pandas as pd\nimport matplotlib.pyplot as plt"
DEMO_BODY = (
    "df = pd.DataFrame({'年度': [2021, 2022, fiscal_year], '値': [1, 3, 2]})\n"
    "fig, ax = plt.subplots(figsize=(4, 2))\nax.plot(df['年度'], df['値'])\nplt.show()\ndf"
)


def machine() -> str:
    return describe()


def demo_notebook(directory: Path) -> Path:
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


def import_cell(notebook: Path) -> str:
    """The import statements of the notebook's code cells (what every run must pay for)."""
    nb = nbformat.read(notebook, as_version=4)
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
            continue
        lines += [ln for ln in cell.source.splitlines() if ln.startswith(("import ", "from "))]
    return "\n".join(lines)


def time_floor(notebooks: list[Path], runs_per_notebook: int, cores: int) -> float:
    """Kernel start + import cell for every run, executed ``cores`` at a time."""
    from nbclient import NotebookClient

    def one(src: str) -> None:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(src)]
        env_nb = NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": ROOT}})
        env_nb.execute()

    sources = [import_cell(n) for n in notebooks for _ in range(runs_per_notebook)]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(cores) as ex:
        list(ex.map(one, sources))
    return time.perf_counter() - t0


def time_naive(notebooks: list[Path], years: list[int], work: Path) -> float:
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for nb in notebooks:
        for fy in years:
            out = work / f"{nb.stem}-{fy}.ipynb"
            subprocess.run(
                [str(BIN / "papermill"), str(nb), str(out), "-p", "fiscal_year", str(fy),
                 "--cwd", str(ROOT), "--no-progress-bar"],
                check=True, capture_output=True,
            )  # fmt: skip
            subprocess.run(
                [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)],
                check=True, capture_output=True,
            )  # fmt: skip
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    from kpianalysis.build import pipeline

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--years", nargs="*", type=int, help="fiscal years (default: the data's)")
    ap.add_argument("--skip-naive", action="store_true", help="omit the slow naive timing")
    args = ap.parse_args(argv)
    cores = os.cpu_count() or 1
    os.environ.setdefault("MPLBACKEND", "Agg")

    with tempfile.TemporaryDirectory(prefix="kpi-bench-") as tmp:
        tmp_path = Path(tmp)
        nb_dir = tmp_path / "notebooks"
        nb_dir.mkdir()
        sources = args.notebooks or pipeline.discover_notebooks(ROOT / "notebooks")
        if not sources:
            sources = [demo_notebook(tmp_path)]
            print("no report notebooks yet: using a generated demo notebook")
        for s in sources:
            shutil.copy(s, nb_dir / Path(s).name)
        notebooks = sorted(nb_dir.glob("*.ipynb"))
        # Notebooks must live inside the project root (a path parameter rule), so the copies
        # go to a temporary folder under the root; the archive goes to the temp dir.
        local_nb = Path(tempfile.mkdtemp(prefix=".bench-notebooks-", dir=ROOT))
        try:
            for n in notebooks:
                shutil.copy(n, local_nb / n.name)
            try:
                from kpianalysis.data.dataset import load_dataset

                years = list(load_dataset(ROOT / "data" / "raw").fiscal_years)
            except Exception as exc:  # the dataset module may not exist yet
                years = [2021, 2022, 2023]
                print(f"(no dataset: {type(exc).__name__}; using fiscal years {years})")
            years = args.years or years

            def prepare(root: Path, raw: str, processed: str) -> tuple[list[int], None, list]:
                return list(years), None, []

            reports = tmp_path / "reports"
            kw = dict(
                notebooks_dir=local_nb, reports=reports, fiscal_years=years, jobs=cores,
                progress=False, prepare=prepare,
            )  # fmt: skip
            n_runs = len(notebooks) * len(years)
            print(f"machine: {machine()}")
            print(f"runs: {n_runs} ({', '.join(n.stem for n in notebooks)} × FY {years})")

            t0 = time.perf_counter()
            pipeline.build(ROOT, force=True, **kw)
            t_build = time.perf_counter() - t0
            t0 = time.perf_counter()
            s = pipeline.build(ROOT, **kw)
            t_noop = time.perf_counter() - t0
            assert s.count("skipped") == n_runs, "no-op rebuild reran something"
            t_floor = time_floor(notebooks, len(years), cores)
            t_naive = None if args.skip_naive else time_naive(notebooks, years, tmp_path / "naive")
        finally:
            shutil.rmtree(local_nb, ignore_errors=True)

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
