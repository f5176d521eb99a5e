"""Benchmark: the national panel (issue 10, item 6), each step beside a floor of the same run.

1. **validate + process** — :func:`kpianalysis.data.dataset.load_dataset` (parse every cell of
   the notation, validate, provenance check) and
   :func:`kpianalysis.data.dataset.write_processed` (CSV with BOM + Parquet), beside merely
   reading the same files with the standard ``csv`` module. By default on a sample of the
   national tree (``--sample`` programmes; the rate per observation is extrapolated to the
   country and printed as such); ``--full`` validates the whole tree.
2. **panel tables for one year** — on a dataset of national size (the validated sample tiled,
   with fresh programme ids, to 1,741 × 5 programmes × 4 KPIs × 10 years): ``as_of``, the year's
   :func:`~kpianalysis.analysis.tables.attainment_table` and the panel tables of
   :mod:`kpianalysis.analysis.panel`, beside a bare NumPy pass over the same year (A/T, the
   achieved comparison, KPIs achieved per programme by ``bincount``).
3. **no-op build planning** — :func:`kpianalysis.build.pipeline.build` over the national dataset
   when every run is already archived (~87,000 programme-years × 2 notebooks). The benchmark
   asks the planner for the build's runs (:func:`kpianalysis.build.plan.plan_runs`) and writes
   a fake archive of records only — each run's record in the build's own format, beside a tiny
   ``.ipynb`` and ``.html`` — then times a build that must skip every run and start none, beside
   the floors of merely reading every record (``json.loads``) and stat-ing each run's files. The
   data step is given the loaded dataset, so this times planning (run keys), archive checks and
   the index only; the fake archive is removed afterwards.
4. **peak memory** — ``tracemalloc`` peak of the panel step, the peak RSS over the no-op build
   (above its start), and the process's max RSS.

Usage (``make bench`` runs it with the defaults; the tree is generated on first use under
``benchmarks/out/national/``, git-ignored)::

    python benchmarks/bench_national.py [--sample 200] [--full] [--municipalities 1741]
    python benchmarks/bench_national.py --quick   # seconds, in a temporary folder (the tests)
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gen_national import KPIS_EACH, MUNICIPALITIES, PROGRAMMES_EACH, YEARS, write_tree
from kpianalysis.analysis import panel
from kpianalysis.analysis.tables import attainment_table
from kpianalysis.data.dataset import load_folders, programme_dirs, write_processed
from machine import describe

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "national"
REPORT_YEAR = 2023


def ensure_tree(municipalities: int, seed: int, out: Path = OUT) -> Path:
    """The generated raw tree, regenerated when its stamp does not match the arguments."""
    raw = out / "raw"
    stamp = out / "raw.stamp.json"
    want = {"municipalities": municipalities, "seed": seed, "generator": _generator_digest()}
    if not (stamp.is_file() and json.loads(stamp.read_text()) == want and raw.is_dir()):
        t0 = time.perf_counter()
        n = write_tree(raw, municipalities, seed)
        stamp.write_text(json.dumps(want))
        print(f"generated: {n:,} observations in {time.perf_counter() - t0:.1f} s → {raw}")
    return raw


def _generator_digest() -> str:
    return hashlib.sha256((Path(__file__).parent / "gen_national.py").read_bytes()).hexdigest()


def csv_floor(folders: list[Path]) -> int:
    """Read every CSV of the folders with the standard library: the least any loader must do."""
    cells = 0
    for folder in folders:
        for path in sorted(folder.glob("*.csv")):
            with open(path, encoding="utf-8-sig", newline="") as f:
                for row in csv.reader(f):
                    cells += len(row)
        (folder / "source.txt").read_text(encoding="utf-8")
    return cells


def tile(ds: Any, copies: int) -> Any:
    """The dataset repeated ``copies`` times, programme ids suffixed ``-c<k>`` (national size)."""
    tables = {}
    for name, df in ds.tables().items():
        parts = []
        for k in range(copies):
            part = df.copy()
            part["programme_id"] = part["programme_id"] + f"-c{k}"
            parts.append(part)
        tables[name] = pd.concat(parts, ignore_index=True)
    return replace(ds, **tables)


def panel_tables(ds: Any, fy: int) -> dict[str, Any]:
    # As notebooks/panel.ipynb: the year's cut, its panel's programmes, then the tables.
    cut = panel.panel_dataset(ds.as_of(fy), fy)
    table = attainment_table(cut, fy)
    progs = panel.panel_programmes(table, cut.programmes)
    kpis = panel.panel_kpis(table, cut.programmes)
    return {
        "table": table,
        "headline": panel.panel_headline(progs, fy),
        "by_kind": panel.achievement_distribution(kpis, "kind"),
        "by_grant": panel.achievement_distribution(kpis, "grant_category_ja"),
        "classes": panel.progress_classes(table),
    }


def numpy_floor(a: np.ndarray, t: np.ndarray, d: np.ndarray, prog: np.ndarray, n: int) -> tuple:
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = a / t
    ach = d * (a - t) >= 0
    return rate, np.bincount(prog[ach], minlength=n), np.bincount(prog, minlength=n)


def best_of(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


# --------------------------------------------------------------------------------------------
# No-op build


def fake_archive(specs: list[Any], reports: Path) -> None:
    """Archive every planned run as records only: the run's record (the build's own format:
    :func:`~kpianalysis.build.commit.run_record`, :func:`~kpianalysis.build.archive.record_bytes`,
    with the outputs' sha256 and stat) beside a tiny ``.ipynb`` and ``.html``.

    Every output is written before any record, as in a real build (reports are rendered
    seconds before their commit), so the records are newer than the files they describe.
    """
    from kpianalysis.build import archive
    from kpianalysis.build.commit import run_record
    from kpianalysis.build.execute import StagedRun
    from kpianalysis.build.record import package_versions

    ipynb_bytes, html_bytes = b"{}\n", b"<html></html>\n"
    digests = {
        "ipynb": hashlib.sha256(ipynb_bytes).hexdigest(),
        "html": hashlib.sha256(html_bytes).hexdigest(),
    }
    environment = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "git": {"commit": "0" * 40, "dirty": False},
    }
    # The tiny outputs are hard links to a few files (a link count stays below ext4's 65,000),
    # sparing the disk 350,000 data blocks; is_archived stats each path all the same.
    sources = reports / ".bench-outputs"
    sources.mkdir(parents=True, exist_ok=True)
    made: set[Path] = set()
    for i, spec in enumerate(specs):
        paths = archive.run_paths(reports, spec.where, spec.stem)
        if paths["record"].parent not in made:
            paths["record"].parent.mkdir(parents=True, exist_ok=True)
            made.add(paths["record"].parent)
        for kind, data in (("ipynb", ipynb_bytes), ("html", html_bytes)):
            source = sources / f"{i // 50_000}.{kind}"
            if not source.exists():
                source.write_bytes(data)
            os.link(source, paths[kind])
    time.sleep(0.05)  # a clock tick between the last output and the first record
    for spec in specs:
        paths = archive.run_paths(reports, spec.where, spec.stem)
        staged = StagedRun(spec, True, paths["record"].parent, start="", end="", duration=0.0)
        rec = run_record(staged, environment, "ok")
        rec["outputs"] = dict(digests)
        rec["output_stat"] = {k: archive.output_stat(paths[k]) for k in ("ipynb", "html")}
        paths["record"].write_bytes(archive.record_bytes(rec))


def read_floor(specs: list[Any], reports: Path) -> tuple[float, float]:
    """Seconds to merely read and ``json.loads`` every run's record; to ``os.stat`` its files."""
    from kpianalysis.build import archive

    where = [archive.run_paths(reports, s.where, s.stem) for s in specs]
    t0 = time.perf_counter()
    for paths in where:
        with open(paths["record"], "rb") as f:
            json.loads(f.read())
    t_json = time.perf_counter() - t0
    t0 = time.perf_counter()
    for paths in where:
        for p in paths.values():
            os.stat(p)
    return t_json, time.perf_counter() - t0


def plan_noop(ds: Any, work: Path) -> dict[str, Any]:
    """Archive every planned run as records only, then time a build that must skip them all."""
    from kpianalysis.build import pipeline
    from kpianalysis.build.plan import discover_notebooks, plan_runs

    # The project is the benchmark's output folder: raw/ is the generated tree, reports/ the
    # fake archive.
    root = work.resolve()
    for sub in ("notebooks", "reports"):
        shutil.rmtree(root / sub, ignore_errors=True)
    (root / "notebooks").mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'national'\n", encoding="utf-8")
    for nb in ("attainment.ipynb", "trends.ipynb"):
        shutil.copy2(ROOT / "notebooks" / nb, root / "notebooks" / nb)
    years = [int(y) for y in ds.fiscal_years]
    reports = root / "reports"

    # The runs the build itself plans (the same call and arguments as pipeline.build's).
    specs = plan_runs(
        discover_notebooks(root / "notebooks"),
        root=root,
        fiscal_years=[],
        data_years=years,
        raw_dir="raw",
        processed_dir="processed",
        dataset=ds,
    )
    t0 = time.perf_counter()
    fake_archive(specs, reports)
    setup = time.perf_counter() - t0

    def prepare(_root: Path, _raw: str, _processed: str) -> tuple[list[int], Any, list[Path]]:
        return years, ds, []

    def refuse(*args: Any, **kw: Any) -> None:
        raise AssertionError("the no-op build started a run")

    phases = {"plan": 0.0, "index": 0.0}

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kw: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kw)
            finally:
                phases[name] += time.perf_counter() - t

        return wrapper

    kwargs = {"prepare": prepare, "progress": False, "jobs": 2, "raw_dir": "raw"}
    real = pipeline.execute_run, pipeline.plan_runs, pipeline.write_index
    pipeline.execute_run = refuse
    pipeline.plan_runs = timed("plan", pipeline.plan_runs)
    pipeline.write_index = timed("index", pipeline.write_index)
    try:
        # The first build writes the index of the fake archive (it has none yet).
        t0 = time.perf_counter()
        first = pipeline.build(root, processed_dir="processed", **kwargs)
        first_s, first_index = time.perf_counter() - t0, phases["index"]
        phases = {"plan": 0.0, "index": 0.0}
        # Its memory: the peak RSS over it (Linux: the peak reset by clear_refs first) beside
        # the RSS before it (the dataset and the rest of the benchmark).
        rss_before, reset = _rss_mib("VmRSS"), _reset_peak_rss()
        t0 = time.perf_counter()
        second = pipeline.build(root, processed_dir="processed", **kwargs)
        noop = time.perf_counter() - t0
        rss_peak = _rss_mib("VmHWM") if reset else float("nan")
        timing = dict(phases)
    finally:
        pipeline.execute_run, pipeline.plan_runs, pipeline.write_index = real
    assert second.count("skipped") == len(second.outcomes) == len(specs)
    t_json, t_stat = read_floor(specs, reports)
    # The index's pages: the top pages, and the prefecture and municipality pages under index/.
    pages = [*reports.glob("index*.html"), *(reports / "index").glob("*.html")]
    sizes = sorted((p.stat().st_size, p.relative_to(reports).as_posix()) for p in pages)
    t0 = time.perf_counter()
    shutil.rmtree(reports)  # ~520,000 files: not left behind
    cleanup = time.perf_counter() - t0
    return {
        "runs": len(specs),
        "skipped_first": first.count("skipped"),
        "skipped": second.count("skipped"),
        "setup_s": setup,
        "cleanup_s": cleanup,
        "first_s": first_s,
        "first_index_s": first_index,
        "noop_s": noop,
        "plan_s": timing["plan"],
        "index_s": timing["index"],
        "check_s": noop - timing["plan"] - timing["index"],
        "json_floor_s": t_json,
        "stat_floor_s": t_stat,
        "index_pages": len(sizes),
        "largest_page": sizes[-1] if sizes else (0, ""),
        "rss_before_mib": rss_before,
        "rss_peak_mib": rss_peak,
    }


def _rss_mib(field: str) -> float:
    """A memory line of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in MiB; NaN elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _reset_peak_rss() -> bool:
    """Reset the process's peak RSS (``VmHWM``) to its current RSS; False where Linux can't."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--municipalities", type=int, default=MUNICIPALITIES)
    parser.add_argument("--sample", type=int, default=200, help="programmes validated")
    parser.add_argument("--full", action="store_true", help="validate the whole tree")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--skip-build", action="store_true", help="skip the no-op build step")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="seconds: 4 municipalities, a sample of 10, one repeat, in a temporary folder "
        "(checks that every step still runs; the ratios mean nothing at that size)",
    )
    args = parser.parse_args()
    if not args.quick:
        run(args, OUT)
        return
    args.municipalities, args.sample, args.repeats, args.full = 4, 10, 1, False
    with tempfile.TemporaryDirectory(prefix="kpi-bench-national-") as tmp:
        run(args, Path(tmp))


def run(args: argparse.Namespace, work: Path) -> None:
    """Every step of the benchmark, with the generated tree and its outputs under ``work``."""
    print(f"machine : {describe()}")
    raw = ensure_tree(args.municipalities, args.seed, work)
    folders = programme_dirs(raw)
    n_prog = len(folders)
    sample = folders if args.full else folders[:: max(1, n_prog // max(1, args.sample))]
    sample = sample[: n_prog if args.full else args.sample]

    # 1. validate + process vs the csv module
    t0 = time.perf_counter()
    cells = csv_floor(sample)
    t_csv = time.perf_counter() - t0
    t0 = time.perf_counter()
    ds = load_folders(sample)
    t_load = time.perf_counter() - t0
    processed = work / "processed"
    t0 = time.perf_counter()
    write_processed(ds, processed)
    t_write = time.perf_counter() - t0
    n_obs = len(ds.observations)
    national_obs = n_prog * KPIS_EACH * len(YEARS)
    scale = national_obs / n_obs
    print(
        f"tree    : {n_prog:,} programmes ({args.municipalities:,} municipalities × "
        f"{PROGRAMMES_EACH}), {national_obs:,} observations; validated "
        f"{'all' if args.full else f'a sample of {len(sample):,} programmes'} "
        f"({n_obs:,} observations, {cells:,} CSV cells)"
    )
    print(f"csv     : {t_csv:8.2f} s  floor: csv.reader over the same files (+ source text)")
    print(
        f"validate: {t_load:8.2f} s  {t_load / t_csv:7.1f} x  load_dataset: notation, "
        "validation, provenance"
    )
    print(
        f"process : {t_write:8.2f} s  {t_write / t_csv:7.1f} x  write_processed: CSV+BOM and "
        "Parquet"
    )
    if not args.full:
        print(
            f"national: {(t_load + t_write) * scale:8.1f} s  extrapolated validate+process "
            f"(× {scale:.1f}, linear in observations) vs {t_csv * scale:.1f} s for csv"
        )

    # 2. panel tables for one year on a national-size dataset
    copies = int(np.ceil(n_prog / ds.programmes.shape[0]))
    national = tile(ds, copies) if copies > 1 else ds
    n_kpi = len(national.indicators)
    year = national.observations[national.observations["fiscal_year"] == REPORT_YEAR]
    pos = pd.Index(
        national.indicators["programme_id"] + "#" + national.indicators["indicator_id"].astype(str)
    ).get_indexer(year["programme_id"] + "#" + year["indicator_id"].astype(str))
    a = year["actual"].to_numpy(dtype=float)
    t = year["target"].to_numpy(dtype=float)
    d = np.where(national.indicators["direction"].to_numpy()[pos] == "decrease", -1.0, 1.0)
    prog_code, _ = pd.factorize(year["programme_id"])
    n_p = int(prog_code.max()) + 1

    def floor() -> tuple:
        return numpy_floor(a, t, d, prog_code, n_p)

    def tables() -> dict[str, Any]:
        return panel_tables(national, REPORT_YEAR)

    out = tables()  # warm-up, and the figures printed below
    t_floor = best_of(floor, args.repeats * 3)
    t_panel = best_of(tables, args.repeats)
    tracemalloc.start()
    tables()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    h = out["headline"]
    print(
        f"panel   : FY{REPORT_YEAR} of {national.programmes.shape[0]:,} programmes, {n_kpi:,} KPIs "
        f"({len(national.observations):,} observations): {h.n_kpis_achieved:,} of "
        f"{h.n_kpis_evaluated:,} evaluated KPIs achieved ({h.share_kpis_achieved:.1%}); "
        f"{h.share_programmes_any_achieved:.1%} of programmes achieved ≥ 1"
    )
    print(f"floor   : {t_floor * 1e3:8.2f} ms  bare NumPy: A/T, achieved, bincount per programme")
    print(
        f"tables  : {t_panel * 1e3:8.2f} ms  {t_panel / t_floor:7.1f} x  as_of + attainment_table "
        "+ panel programmes, headline, distributions, classes"
    )
    print(f"memory  : {peak / 2**20:8.1f} MiB  tracemalloc peak of the panel tables step")

    # 3. no-op build planning
    if not args.skip_build:
        r = plan_noop(national, work)
        n = r["runs"]
        print(
            f"archive : {n:,} runs planned by the build, archived as records only (+ tiny "
            f"outputs) in {r['setup_s']:.1f} s (removed after in {r['cleanup_s']:.1f} s)"
        )
        print(
            f"first   : {r['first_s']:8.2f} s  a build finding every run archived and no index: "
            f"it writes the index of {n // 2:,} programme-years in {r['first_index_s']:.1f} s"
        )
        size, page = r["largest_page"]
        ratio = r["first_index_s"] / r["json_floor_s"]
        print(
            f"index   : {r['first_index_s']:8.2f} s  {ratio:7.1f} x  "
            f"{r['index_pages']:,} pages (ja + en), largest {size / 1e6:.2f} MB ({page}); "
            "floor: reading the records (below)"
        )
        print(
            f"floor   : {r['json_floor_s']:8.2f} s  open + json.loads every record; "
            f"{r['stat_floor_s']:.2f} s os.stat of each run's 3 files"
        )
        print(
            f"no-op   : {r['noop_s']:8.2f} s  {r['noop_s'] / r['json_floor_s']:7.1f} x  second "
            f"build, {r['skipped']:,} of {n:,} runs skipped, none started (aim ≤ 10 s; data "
            "step excluded)"
        )
        print(
            f"  phases: plan {r['plan_s']:.2f} s (keys: digests, parameters), archive checks "
            f"{r['check_s']:.2f} s ({r['check_s'] / n * 1e6:.0f} µs/run), index "
            f"{r['index_s']:.2f} s (unchanged archive: not rewritten)"
        )
        print(
            f"memory  : {r['rss_peak_mib'] - r['rss_before_mib']:8.1f} MiB  peak RSS over the "
            f"no-op build above its start ({r['rss_peak_mib']:,.0f} MiB peak, "
            f"{r['rss_before_mib']:,.0f} MiB before: the data)"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"max RSS : {rss:8.1f} MiB  whole benchmark process")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
