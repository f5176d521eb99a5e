"""Every benchmark's quick mode runs in the suite, so none can break unnoticed (issue 20.6).

``make bench`` runs each ``benchmarks/bench_*.py`` in full mode and prints ratios measured side
by side; ``--quick`` runs the same steps at tiny sizes in seconds. Here each quick mode must
finish and print the machine and its ratio lines — the lines a reader of ``make bench`` looks
for. No timing is asserted (at these sizes and on a shared machine the ratios mean nothing).
``bench_build.py`` has its own test module (``tests/test_bench_build.py``), which also checks
what its quick build planned.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT

BENCHMARKS = ROOT / "benchmarks"

#: Per benchmark, the lines its output must hold (each a regular expression matching the start of
#: a line): the machine it ran on and every ratio it reports.
RATIO_LINES: dict[str, tuple[str, ...]] = {
    "bench_attainment": (
        r"machine : \S",
        r"core    : +[\d.]+ ms +[\d.]+ x  attainment_core",
        r"panel   : +[\d.]+ ms +[\d.]+ x  assess_panel",
        r"table   : +[\d.]+ ms +[\d.]+ x  attainment_table",
    ),
    "bench_calibration": (
        r"machine \S",
        r"coverage95 \S+( \S+)* [\d.]+",
        r"coverage80 \S+( \S+)* [\d.]+",
        r"width_ratio\S* \S+( \S+)* [\d.]+",
        r"mc_se \d+ [\d.]+ [\d.]+",
    ),
    "bench_national": (
        r"machine : \S",
        r"validate: +[\d.]+ s +[\d.]+ x  load_dataset",
        r"process : +[\d.]+ s +[\d.]+ x  write_processed",
        r"tables  : +[\d.]+ ms +[\d.]+ x  as_of \+ attainment_table",
        r"no-op   : +[\d.]+ s +[\d.]+ x  second build, (\d+) of \1 runs skipped, none started",
    ),
    "bench_trends": (
        r"machine: \S",
        r"speed ratio \(statsmodels loop / batch\): [\d,]+×",
    ),
}

#: Benchmarks whose quick mode is run by a test module of their own.
OWN_TEST = {"bench_build": ROOT / "tests" / "test_bench_build.py"}


def test_every_benchmark_has_a_quick_mode_run_by_the_suite() -> None:
    names = sorted(p.stem for p in BENCHMARKS.glob("bench_*.py"))
    assert names, "no benchmarks found"
    for name in names:
        source = (BENCHMARKS / f"{name}.py").read_text(encoding="utf-8")
        assert '"--quick"' in source, f"{name} has no --quick mode"
        if name in OWN_TEST:
            assert "--quick" in OWN_TEST[name].read_text(encoding="utf-8"), name
        else:
            assert name in RATIO_LINES, f"{name}: say which ratio lines its quick mode prints"
    assert set(RATIO_LINES) <= set(names)


def test_make_bench_runs_every_benchmark_in_full_mode() -> None:
    # The Makefile loops over benchmarks/bench_*.py without --quick: the full sizes.
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile[makefile.index("\nbench:") :].split("\n\n", 1)[0]
    assert "benchmarks/bench_*.py" in recipe and "--quick" not in recipe


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RATIO_LINES))
def test_benchmark_quick_mode_prints_its_ratios(name: str) -> None:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    before = _outputs()
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    for pattern in RATIO_LINES[name]:
        assert any(re.match(pattern, line) for line in lines), (pattern, done.stdout)
    # A quick run works in a temporary folder: the full runs' cached outputs (the national
    # tree of ~43,000 files) are neither replaced nor touched.
    assert _outputs() == before


def _outputs() -> dict[str, int]:
    """The benchmarks' output folders (two levels, not the tree inside): name → mtime."""
    out = BENCHMARKS / "out"
    found = {}
    for folder in (BENCHMARKS, out, *(out.iterdir() if out.is_dir() else ())):
        if folder.is_dir():
            for entry in os.scandir(folder):
                found[entry.path] = entry.stat(follow_symlinks=False).st_mtime_ns
    return {k: v for k, v in found.items() if "__pycache__" not in k}
