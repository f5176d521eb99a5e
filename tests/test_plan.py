"""The build planner's steps, each on its own (:class:`kpianalysis.build.plan.Planner`).

The project: Handa (actuals FY2021–2023), the synthetic 99999-demo (actuals FY2021–2022) and
77777-plan, a programme whose plan starts in FY2025 with targets only (one plan report, for a
year no other programme has data for). Programmes are selected by id.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import DEMO_ID, RAW, SEED_ID, demo_programme, write_notebook, write_programme
from kpianalysis.analysis.results import ResultsByYear, YearResults
from kpianalysis.build import plan
from kpianalysis.data.dataset import load_dataset
from kpianalysis.errors import ParameterError
from kpianalysis.report.headline import programme_headlines

PLAN_ID = "77777-plan"
PARAMS = (
    "fiscal_year: int = 2023  # fiscal year\n"
    'raw_dir: str = "data/raw"  # raw data\n'
    'language: str = "ja"  # ja or en\n'
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(RAW / SEED_ID, root / "data" / "raw" / SEED_ID)
    demo_programme(root / "data" / "raw", range(2021, 2023))
    write_programme(
        root / "data" / "raw",
        [PLAN_ID, "77777", "架空町", "計画のみの事業", "令和7年度", "令和8年度"],
        [[PLAN_ID, "1", "来訪者数", "人", "flow", "increase", "100人", "R6"]],
        [[PLAN_ID, "1", "2025年度", "(120人)", ""], [PLAN_ID, "1", "2026年度", "(130人)", ""]],
    )
    programme_cell = PARAMS + f'programme_id: str = "{SEED_ID}"  # the programme\n'
    write_notebook(root / "notebooks" / "attainment.ipynb", programme_cell, "print(1)")
    write_notebook(root / "notebooks" / "panel.ipynb", PARAMS, "print(2)")
    return root


def planner(root: Path, **kw) -> plan.Planner:
    dataset = load_dataset(root / "data" / "raw")
    kw.setdefault("fiscal_years", [])
    return plan.Planner(
        plan.discover_notebooks(root / "notebooks"),
        root=root,
        data_years=dataset.fiscal_years,
        raw_dir="data/raw",
        processed_dir="data/processed",
        dataset=ResultsByYear(dataset),
        **kw,
    )


def test_years_of_each_programme_and_a_plan_report_year(project: Path) -> None:
    p = planner(project)
    # Years with an actual; 77777-plan has none, so one plan report for its first year (令和7).
    assert p.years_of == {
        SEED_ID: [2021, 2022, 2023],
        DEMO_ID: [2021, 2022],
        PLAN_ID: [2025],
    }
    assert p.data_years == [2021, 2022, 2023]
    assert p.selected == [SEED_ID, PLAN_ID, DEMO_ID]  # the programme table's order


def test_selected_programmes_refuse_an_unknown_id(project: Path) -> None:
    assert planner(project, programmes=[DEMO_ID, DEMO_ID]).selected == [DEMO_ID]
    with pytest.raises(ParameterError) as err:
        planner(project, programmes=["12345-nope"]).runs()
    assert str(err.value) == (
        f"unknown programme '12345-nope' (programmes: {SEED_ID}, {PLAN_ID}, {DEMO_ID})"
    )


def test_check_years_knows_the_plan_report_years(project: Path) -> None:
    # FY2025 has no actual anywhere, but it is 77777-plan's report year: accepted.
    planner(project, fiscal_years=[2025]).check_years()
    with pytest.raises(ParameterError, match="2024"):
        planner(project, fiscal_years=[2024]).check_years()


def test_declared_requires_fiscal_year(project: Path) -> None:
    write_notebook(project / "notebooks" / "bad.ipynb", 'raw_dir: str = "data/raw"\n', "1")
    p = planner(project)
    with pytest.raises(ParameterError, match=r"^bad\.ipynb: its parameters cell must declare"):
        p.declared  # noqa: B018


def test_base_parameters_are_the_declared_standard_ones(project: Path) -> None:
    p = planner(project, languages=["en"])
    nb = project / "notebooks" / "attainment.ipynb"
    # The cell declares raw_dir and language, not processed_dir: that one is not passed.
    assert p.base_parameters(nb, "en") == {"raw_dir": "data/raw", "language": "en"}
    # validated once per notebook and language
    assert p.base_parameters(nb, "en") is p.base_parameters(nb, "en")


def test_programme_digest_is_the_digest_of_the_programme_cut(project: Path) -> None:
    # The fast path digests every programme-year in one pass over each year's tables; it must
    # give what the plain recipe gives: the programme's own data cut at the year, digested.
    p = planner(project)
    whole = load_dataset(project / "data" / "raw")
    expected = {
        (pid, fy): whole.as_of(fy).by_programme()[pid].digest()
        for pid, years in p.years_of.items()
        for fy in years
        if fy <= 2023
    }
    # (It digests every programme of the years at once, planned or not.)
    assert {k: p.fast_digests[k] for k in expected} == expected and len(expected) == 5
    for (pid, fy), digest in expected.items():
        assert p.programme_cut(pid, fy).digest() == digest == p.programme_digest(pid, fy)
    # The plan report's year is outside the results: cut from the programme alone.
    assert (PLAN_ID, 2025) not in p.fast_digests
    own = whole.by_programme()[PLAN_ID].as_of(2025)
    assert p.programme_digest(PLAN_ID, 2025) == own.digest()
    assert p.programme_cut(PLAN_ID, 2025) is p.own_year(PLAN_ID, 2025).dataset


def test_headline_from_the_year_tables_equals_the_programme_alone(project: Path) -> None:
    p = planner(project)
    whole = load_dataset(project / "data" / "raw").by_programme()
    for pid, years in p.years_of.items():
        for fy in years:
            alone = programme_headlines(YearResults(whole[pid].as_of(fy)))[pid]
            assert p.headline(pid, fy) == alone, (pid, fy)
    # By hand: Handa FY2022, 2 of 4 KPIs achieved, ① 7/8 = 87.5 % (tests/test_results.py).
    assert p.headline(SEED_ID, 2022)["n_achieved"] == 2
    assert p.headline(SEED_ID, 2022)["rates"][0] == "① 87.5%"
    # The demo, FY2021: ① 115 < 120 (increase), ② 38 > 35 (decrease): none achieved;
    # FY2022: ① 140 = 140 achieved, ② 32 > 30 not: one of two.
    assert [p.headline(DEMO_ID, fy)["n_achieved"] for fy in (2021, 2022)] == [0, 1]
    assert p.headline(DEMO_ID, 2022)["n_evaluated"] == 2
    # The plan report: its one KPI has a target and no actual.
    assert p.headline(PLAN_ID, 2025)["plan_only"] is True


def test_planning_computes_no_record_field_until_a_run_is_resolved(project: Path) -> None:
    p = planner(project)
    specs = p.runs()
    # 3 + 2 + 1 programme runs (attainment), 3 panel runs (FY2021–2023).
    assert sorted(s.identity for s in specs) == sorted(
        [f"{SEED_ID}/fy{fy}/attainment" for fy in (2021, 2022, 2023)]
        + [f"{DEMO_ID}/fy{fy}/attainment" for fy in (2021, 2022)]
        + [f"{PLAN_ID}/fy2025/attainment"]
        + [f"panel/fy{fy}/panel" for fy in (2021, 2022, 2023)]
    )
    # A no-op build resolves nothing: no raw file hashed, no headline computed.
    assert "shared" not in vars(p) and "raw_by_programme" not in vars(p)
    assert "headline" not in p._memo and "year_headlines" not in p._memo
    demo = next(s for s in specs if s.identity == f"{DEMO_ID}/fy2022/attainment").resolved()
    raw = sorted(k for k in demo.inputs if k.startswith("raw/"))
    assert raw == [f"raw/{DEMO_ID}/{f}" for f in ("indicators.csv", "observations.csv",
                                                   "programme.csv")]  # fmt: skip
    assert demo.headline["n_achieved"] == 1
    panel = next(s for s in specs if s.identity == "panel/fy2023/panel").resolved()
    # The panel's record holds every programme's raw files.
    assert {k.split("/")[1] for k in panel.inputs if k.startswith("raw/")} == {
        SEED_ID,
        DEMO_ID,
        PLAN_ID,
    }


def test_programme_runs_and_panel_runs_follow_the_selection(project: Path) -> None:
    p = planner(project, programmes=[DEMO_ID], fiscal_years=[2022])
    nb = project / "notebooks"
    assert [s.identity for s in p.programme_runs(nb / "attainment.ipynb")] == [
        f"{DEMO_ID}/fy2022/attainment"
    ]
    assert p.panel_runs(nb / "panel.ipynb") == []  # --programme: no panel run
    q = planner(project, fiscal_years=[2025])
    # FY2025 is a plan report's year only: no panel run for it.
    assert q.panel_runs(nb / "panel.ipynb") == []
    (run,) = q.programme_runs(nb / "attainment.ipynb")
    assert run.parameters == {
        "fiscal_year": 2025,
        "raw_dir": "data/raw",
        "language": "ja",
        "programme_id": PLAN_ID,
    }
    assert run.provenance == {
        "source_checked": False,
        "note": "transcription not checked against a source document (programme.csv names "
        "no source_file)",
    }


def test_a_panel_run_counts_the_programmes_of_its_year_panel(project: Path) -> None:
    # Issue 16.8: a panel holds the programmes whose plan period includes its year or that
    # report an actual for it. FY2023: Handa (plan FY2021–2023; 4 KPIs, 2 achieved) and the
    # demo (plan FY2021–2025, no FY2023 actual: its 2 KPIs are counted apart); 77777-plan
    # (plan FY2025–2026) is not in it, and its data is not in the panel run's key.
    from kpianalysis.analysis.panel import panel_dataset

    p = planner(project)
    head = p.panel_record(2023, {})["headline"]
    assert (head["n_programmes"], head["n_programmes_evaluated"]) == (2, 1)
    assert (head["n_kpis"], head["n_evaluated"], head["n_achieved"]) == (6, 4, 2)
    assert head["n_without_actual"] == 2
    year = load_dataset(project / "data" / "raw").as_of(2023)
    assert p.panel_digest(2023) == panel_dataset(year, 2023).digest() != year.digest()
