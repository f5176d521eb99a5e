"""A year's results are computed once per build and shared by data/processed and the headline."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest

from conftest import ROOT, seed_only
from kpianalysis.analysis import projection
from kpianalysis.analysis import results as results_module
from kpianalysis.analysis.results import ResultsByYear, YearResults
from kpianalysis.build import plan, processed


@pytest.fixture
def counted(monkeypatch):
    """Count attainment and trend tables computed, per fiscal year."""
    calls: Counter = Counter()
    real_att, real_trend = results_module.attainment_table, projection.trend_table

    def attainment_table(ds, fy, **kw):
        calls["attainment", fy] += 1
        return real_att(ds, fy, **kw)

    def trend_table(ds, fy, **kw):
        calls["trends", fy] += 1
        return real_trend(ds, fy, **kw)

    monkeypatch.setattr(results_module, "attainment_table", attainment_table)
    monkeypatch.setattr(projection, "trend_table", trend_table)
    return calls


def test_year_results_compute_each_table_once(seed, counted):
    year = YearResults(seed.as_of(2022))
    assert year.fiscal_year == 2022
    assert year.summary is year.summary and year.attainment is year.attainment
    assert year.trends is year.trends
    assert counted == {("attainment", 2022): 1, ("trends", 2022): 1}
    by_year = ResultsByYear(seed)
    assert list(by_year) == [2021, 2022, 2023] and by_year[2022] is by_year[2022]
    assert by_year[2022].dataset.as_of_year == 2022
    with pytest.raises(KeyError):
        by_year[2020]


def test_a_build_computes_each_year_table_once(tmp_path, counted):
    # The parent process of `make report` writes data/processed and plans the runs (run keys and
    # index headlines). Before issue 9 it computed each year's attainment table twice: for the
    # results file, then again for the headline.
    root = tmp_path
    seed_only(root / "data" / "raw")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    years, results, written = processed.prepare_data(root, "data/raw", "data/processed")
    assert years == [2021, 2022, 2023] and len(written) == 28  # 8 tidy + 2 × 3 results, × 2
    notebooks = plan.discover_notebooks(root / "notebooks")
    assert [p.stem for p in notebooks] == ["attainment", "panel", "trends"]

    def plan_runs(results: ResultsByYear) -> list[plan.RunSpec]:
        return plan.plan_runs(
            notebooks,
            root=root,
            fiscal_years=years,
            data_years=years,
            raw_dir="data/raw",
            processed_dir="data/processed",
            dataset=results,
        )

    specs = plan_runs(results)
    assert len(specs) == 9
    once = {(kind, fy): 1 for fy in years for kind in ("attainment", "trends")}
    assert counted == once
    # The headline is read from the same table: FY2022, 2 of 4 KPIs, ① 7/8 = 87.5 %. It is
    # filled in for the runs that execute only (resolved), so planning alone computes nothing.
    specs = [s.resolved() for s in specs]
    assert counted == once
    fy2022 = next(s for s in specs if s.fiscal_year == 2022)
    # (A programme run's headline is its programme's: one mapping.)
    assert fy2022.headline["n_achieved"] == 2 and fy2022.headline["n_kpis"] == 4
    assert fy2022.headline["rates"][0] == "① 87.5%"
    # A no-op build (processed files up to date) computes the headline's table only.
    counted.clear()
    _, results, written = processed.prepare_data(root, "data/raw", "data/processed")
    assert written == []
    specs = plan_runs(results)
    # Planning alone computes no table (a build that skips every run needs no headline); a run
    # that executes gets its headline from the year's table, computed once.
    assert counted == {}
    for spec in specs:
        spec.resolved()
    assert counted == {("attainment", fy): 1 for fy in years}


def test_the_build_does_not_import_the_trend_statistics_at_start_up():
    # Every `kpianalysis` command imports the build; scipy (trend fits) doubled its start-up
    # under load (5.7 s → 11.5 s measured), enough for a second build to miss the first one's
    # lock in tests/test_faults.py. The trend table imports it when first needed.
    import subprocess
    import sys

    code = (
        "import sys, kpianalysis.cli, kpianalysis.build.pipeline\n"
        "print(sorted(m for m in ('scipy', 'statsmodels') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
