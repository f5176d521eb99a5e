"""``benchmarks/bench_build.py --quick`` runs (so the benchmark cannot rot unnoticed, issue 20.6).

Only what it measured is checked, never how fast: it planned the real per-programme build (one
run of a programme-scoped notebook for the seed programme's last year), its no-op rebuild skipped
that run (the benchmark asserts it), and it printed build/naive and build/floor.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def test_bench_build_quick_mode_plans_the_programme_build() -> None:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_build.py"), "--quick"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    # The seed's last fiscal year with an actual is FY2023 (data/raw/23205-community).
    assert "runs: 1 (demo; 23205-community; FY [2023])" in out
    for ratio in ("build/naive", "build/floor"):
        match = re.search(rf"{ratio} = (\d+\.\d\d)x", out)
        assert match and float(match[1]) > 0, out
    assert re.search(r"no-op rebuild: +\d+\.\d{3} s", out), out
