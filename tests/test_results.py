"""A year's results are computed once per build and shared by data/processed and the headline."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT, SEED_ID, seed_only
from kpianalysis.analysis import projection
from kpianalysis.analysis import results as results_module
from kpianalysis.analysis.results import ResultsByYear, YearResults
from kpianalysis.build import plan, processed
from kpianalysis.data.dataset import write_csv
from kpianalysis.paths import DEFAULT_PRIOR, PROJECT_ROOT_ENV


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


PARTNERS = ROOT / "tests" / "fixtures" / "partners"


def _seed_rows(csv_path: Path) -> list[str]:
    """The seed's lines of a processed CSV (header first), as written."""
    lines = csv_path.read_text(encoding="utf-8-sig").splitlines()
    return [lines[0], *(line for line in lines[1:] if line.startswith(f"{SEED_ID},"))]


def _report_table(root: Path, fiscal_year: int, monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    """The trend table the seed's trends report displays: the notebook's own code cells, run
    in-process up to the one that computes ``table`` (display is a no-op here)."""
    import IPython.display
    import nbformat

    monkeypatch.setenv(PROJECT_ROOT_ENV, str(root))
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: None)
    nb = nbformat.read(ROOT / "notebooks" / "trends.ipynb", as_version=4)
    namespace: dict = {}
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        exec(compile(cell.source, "trends.ipynb", "exec"), namespace)
        if "parameters" in cell.metadata.get("tags", []):
            namespace |= {"fiscal_year": fiscal_year, "programme_id": SEED_ID}
        if "table" in namespace:
            return namespace["table"]
    raise AssertionError("the trends notebook computes no `table`")


def test_processed_trend_rows_are_the_reports_with_partners_beside(tmp_path, monkeypatch):
    # Issue 18: data/processed/trends_fy*.csv pooled within the whole dataset, so a partner's
    # programme in data/raw moved the seed's rows away from what its trends report shows (which
    # fits the seed alone, against the versioned prior).
    projects = {}
    for name, partners in (("alone", []), ("partners", sorted(PARTNERS.glob("*/")))):
        root = tmp_path / name
        seed_only(root / "data" / "raw")
        for folder in partners:
            shutil.copytree(folder, root / "data" / "raw" / folder.name)
        (root / DEFAULT_PRIOR).parent.mkdir(parents=True)
        shutil.copy2(ROOT / DEFAULT_PRIOR, root / DEFAULT_PRIOR)
        (root / "pyproject.toml").write_text("[project]\nname = 'copy'\n", encoding="utf-8")
        processed.prepare_data(root, "data/raw", "data/processed")
        projects[name] = root
    assert len(partners) >= 6  # the partner fixtures really are there
    for fy in (2021, 2022, 2023):
        name = f"trends_fy{fy}.csv"
        alone = _seed_rows(projects["alone"] / "data" / "processed" / name)
        beside = _seed_rows(projects["partners"] / "data" / "processed" / name)
        assert len(alone) == 5 and beside == alone  # header + the seed's 4 KPIs
        report = _report_table(projects["partners"], fy, monkeypatch)
        write_csv(report, tmp_path / name)
        assert _seed_rows(tmp_path / name) == alone
    table = pd.read_csv(projects["partners"] / "data" / "processed" / "trends_fy2023.csv")
    flow = table[(table["programme_id"] == SEED_ID) & (table["indicator_id"] == 2)].iloc[0]
    # By hand, ② FY2021–2023 actuals −468, −127, 83 (OLS on three equally spaced years): slope
    # (83 − (−468)) / 2 = 275.5 a year; FY2024 mean = (−468 − 127 + 83) / 3 + 2 × 275.5 = 380.33.
    assert flow["slope"] == pytest.approx(275.5, abs=1e-9)
    assert flow["projected_mean"] == pytest.approx(-512 / 3 + 551, abs=1e-9)
    # The shipped prior was estimated from the seed alone: no family pooled, said per KPI.
    assert set(table.loc[table["programme_id"] == SEED_ID, "prior_status"]) == {
        "prior_too_few_series"
    }
