"""Tests of ``kpianalysis build``: discovery, parameters, keys, skip/force, failures, HTML, index.

Fast tests replace ``papermill.execute_notebook`` with a fake that mimics what papermill writes
(an ``injected-parameters`` cell, outputs, papermill metadata with timestamps), so they need no
kernel. Tests marked ``slow`` run tiny generated notebooks through a real ``python3`` kernel.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import papermill
import pytest
from papermill.exceptions import PapermillExecutionError

import conftest
from kpianalysis import fileio
from kpianalysis.build import archive, pipeline, plan, processed
from kpianalysis.build.parameters import check_fiscal_year, notebook_parameter_names
from kpianalysis.cli import main
from kpianalysis.errors import DataError, ParameterError, RunError
from kpianalysis.report import headline
from kpianalysis.report.index import render_index
from kpianalysis.report.render import render_html

YEARS = [2021, 2022, 2023]
PARAMS_CELL = (
    "fiscal_year: int = 2023  # fiscal year (April N – March N+1)\n"
    'raw_dir: str = "data/raw"  # raw data, relative to the project root\n'
    'language: str = "ja"  # ja or en\n'
)


def write_notebook(path: Path, *bodies: str, params: str = PARAMS_CELL) -> Path:
    return conftest.write_notebook(path, params, *bodies, title="# テスト")


def make_project(tmp_path: Path, names: tuple[str, ...] = ("alpha", "beta")) -> Path:
    root = tmp_path / "proj"
    (root / "data" / "raw").mkdir(parents=True)
    (root / "data" / "raw" / "kpi.csv").write_text("indicator,fiscal_year,actual\n1,2023,5\n")
    for n in names:
        write_notebook(root / "notebooks" / f"{n}.ipynb", 'print("SECRET_SOURCE", fiscal_year)')
    # A notebook without a parameters cell is not a report.
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    (root / "notebooks").mkdir(exist_ok=True)
    nbformat.write(nb, root / "notebooks" / "scratch.ipynb")
    return root


def fake_prepare(root: Path, raw: str, processed: str) -> tuple[list[int], Any, list[Path]]:
    return list(YEARS), None, []


class FakePapermill:
    """Stands in for papermill.execute_notebook; records calls; can fail one notebook."""

    def __init__(self, fail: str | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail

    def __call__(self, input_path: str, output_path: str, parameters=None, **kw: Any):
        self.calls.append((Path(input_path).stem, dict(parameters)))
        # The process directory is never changed (no papermill `cwd=`, issue 9): the kernel
        # manager starts the kernel in the project root; both paths are absolute.
        assert kw.get("cwd") is None and kw["kernel_name"] == "python3"
        assert Path(input_path).is_absolute() and Path(output_path).is_absolute()
        assert kw["kernel_manager_class"] is not None
        nb = nbformat.read(input_path, as_version=4)
        idx = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
        inj = nbformat.v4.new_code_cell("\n".join(f"{k} = {v!r}" for k, v in parameters.items()))
        inj.metadata["tags"] = ["injected-parameters"]
        nb.cells.insert(idx + 1, inj)
        now = dt.datetime.now(dt.UTC).isoformat()
        nb.metadata["papermill"] = {"parameters": parameters, "start_time": now, "duration": 1.0}
        n = 0
        for i, c in enumerate(nb.cells):
            if c.cell_type != "code":
                continue
            n += 1
            c.execution_count = n
            c.metadata["papermill"] = {"start_time": now, "status": "completed"}
            c.metadata["execution"] = {"iopub.status.busy": now}
            # The length makes the output change when the source does.
            text = f"年度 {parameters['fiscal_year']} ({len(c.source)})\n"
            c.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
            if self.fail == Path(input_path).stem and i == len(nb.cells) - 1:
                c.outputs = [
                    nbformat.v4.new_output(
                        "error", ename="ValueError", evalue="boom", traceback=["ValueError: boom"]
                    )
                ]
                nbformat.write(nb, output_path)
                raise PapermillExecutionError(i, n, c.source, "ValueError", "boom", [])
        nbformat.write(nb, output_path)
        return nb


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakePapermill:
    f = FakePapermill()
    monkeypatch.setattr(papermill, "execute_notebook", f)
    return f


def no_kernel(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("a kernel was started")


def snapshot(reports: Path) -> dict[str, bytes]:
    return {
        p.relative_to(reports).as_posix(): p.read_bytes()
        for p in sorted(reports.rglob("*"))
        # Hidden files are the archive's bookkeeping (.lock, .generation, .index.json).
        if p.is_file() and not p.name.startswith(".") and "failed" not in p.parts
    }


def do_build(root: Path, **kw: Any) -> pipeline.BuildSummary:
    kw.setdefault("jobs", 2)
    return pipeline.build(root, prepare=fake_prepare, progress=False, **kw)


# ---------------------------------------------------------------------------------------------
# Discovery, keys


def test_discovery_only_notebooks_with_parameters_cell(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    found = plan.discover_notebooks(root / "notebooks")
    assert [p.name for p in found] == ["alpha.ipynb", "beta.ipynb"]
    assert [p.stem for p in plan.discover_notebooks(root / "notebooks", ["beta"])] == ["beta"]
    with pytest.raises(ParameterError, match="unknown notebook 'gamma'"):
        plan.discover_notebooks(root / "notebooks", ["gamma"])


def test_parameter_names_parsed_from_cell(tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "n.ipynb", params=PARAMS_CELL + "x = y = 3\n")
    assert notebook_parameter_names(nb) == ["fiscal_year", "raw_dir", "language", "x", "y"]


def test_run_key_stable_and_sensitive() -> None:
    inputs = {"raw/a.csv": "11", "notebooks/x.ipynb": "22"}
    params = {"fiscal_year": 2023, "language": "ja"}
    key = plan.run_key(inputs, params, "x")
    # Same content in another dict order → same key.
    assert key == plan.run_key(dict(reversed(inputs.items())), dict(reversed(params.items())), "x")
    assert key != plan.run_key({**inputs, "raw/a.csv": "12"}, params, "x")
    assert key != plan.run_key(inputs, {**params, "fiscal_year": 2022}, "x")
    assert key != plan.run_key(inputs, params, "y")
    assert re.fullmatch(r"[0-9a-f]{64}", key)


def test_run_keys_over_shared_inputs_equal_run_key() -> None:
    # The planner writes the shared inputs' JSON once per notebook; each key must be the one
    # run_key gives for the merged inputs: own input sorted first, between, last, non-ASCII,
    # nested parameters, an own input shadowing a shared one, nothing shared.
    common = {"kpianalysis/a.py": "1", "notebooks/x.ipynb": "2", "uv.lock": "3"}
    params = {
        "language": "ja",
        "fiscal_year": 2023,
        "extra": {"b": [1, 2], "a": None},
        "on": True,
        "x": 0.5,
        "年": "度",
    }
    for shared in (common, {}):
        key = plan.run_keys_over(shared, "x")
        for own in (
            {"data/p/as_of_fy2023": "d"},
            {"m.py": "d"},
            {"zz": "d"},
            {"データ/年度": "値"},
            {"uv.lock": "shadow"},
            {"a": "1", "b": "2"},
            {},
        ):
            assert key(own, params) == plan.run_key({**shared, **own}, params, "x"), own


def test_common_inputs_cover_raw_library_and_lock(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "uv.lock").write_text("lock")
    inputs = plan.common_inputs(root, "data/raw")
    # sha256("lock") computed with `printf lock | sha256sum`.
    assert inputs["uv.lock"] == fileio.sha256_file(root / "uv.lock")
    assert "raw/kpi.csv" in inputs
    assert "kpianalysis/build/pipeline.py" in inputs and "kpianalysis/errors.py" in inputs


# ---------------------------------------------------------------------------------------------
# Parameters: all refused before a kernel starts


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2023", "must be an integer, got str"),
        (2023.0, "must be an integer, got float"),
        (True, "must be an integer, got bool"),
        (-1, "fiscal_year -1 has no data"),
        (3000, "fiscal_year 3000 has no data"),
    ],
)
def test_fiscal_year_refused(value: object, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        check_fiscal_year(value, YEARS)


@pytest.mark.parametrize("year", [-1, 3000, 2020])
def test_build_refuses_year_without_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, year: int
) -> None:
    root = make_project(tmp_path)
    monkeypatch.setattr(papermill, "execute_notebook", no_kernel)
    with pytest.raises(ParameterError, match=f"fiscal_year {year} has no data"):
        do_build(root, fiscal_years=[year])
    assert not (root / "reports" / "panel" / f"fy{year}").exists()


@pytest.mark.parametrize("raw", ["../x", "/etc", "data/../../x"])
def test_build_refuses_path_outside_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    root = make_project(tmp_path)
    monkeypatch.setattr(papermill, "execute_notebook", no_kernel)
    with pytest.raises(ParameterError, match="outside the project root"):
        do_build(root, raw_dir=raw)


def test_symlink_escape_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "data" / "link").symlink_to(tmp_path)
    from kpianalysis.build.parameters import check_path

    with pytest.raises(ParameterError, match="outside the project root"):
        check_path("raw_dir", "data/link", root)
    assert check_path("raw_dir", root / "data" / "raw", root) == "data/raw"


def test_unknown_parameter_and_language_refused(tmp_path: Path) -> None:
    from kpianalysis.build.parameters import validate_parameters

    kw = {"declared": ["fiscal_year", "language"], "fiscal_years": YEARS, "root": tmp_path}
    with pytest.raises(ParameterError, match="unknown parameter 'colour'"):
        validate_parameters({"fiscal_year": 2023, "colour": "red"}, **kw)
    with pytest.raises(ParameterError, match="language must be one of"):
        validate_parameters({"fiscal_year": 2023, "language": "fr"}, **kw)
    assert validate_parameters({"fiscal_year": 2023, "language": "en"}, **kw) == {
        "fiscal_year": 2023,
        "language": "en",
    }


def test_notebook_without_fiscal_year_refused(tmp_path: Path, monkeypatch) -> None:
    root = make_project(tmp_path, names=())
    write_notebook(root / "notebooks" / "odd.ipynb", "1", params="language = 'ja'\n")
    monkeypatch.setattr(papermill, "execute_notebook", no_kernel)
    with pytest.raises(ParameterError, match="must declare fiscal_year"):
        do_build(root)


def test_data_error_aborts_before_kernel(tmp_path: Path, monkeypatch, capsys) -> None:
    root = make_project(tmp_path)
    monkeypatch.setattr(papermill, "execute_notebook", no_kernel)

    def bad_prepare(*a: Any) -> Any:
        raise DataError("target is blank", file="kpi.csv", row=3, column="target", text="")

    monkeypatch.setattr(pipeline, "prepare_data", bad_prepare)
    code = main(["build", "--root", str(root), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "kpi.csv, row 3, column 'target'" in err
    assert not list((root / "reports").glob("*/fy*"))


# ---------------------------------------------------------------------------------------------
# Skip, force, determinism


def test_build_then_noop_starts_no_kernel(tmp_path: Path, fake, monkeypatch) -> None:
    root = make_project(tmp_path)
    s = do_build(root)
    assert s.count("ok") == 6 and len(fake.calls) == 6
    assert min((p for p in fake.calls if p[0] == "alpha"), key=lambda p: p[1]["fiscal_year"])[
        1
    ] == {
        "fiscal_year": 2021,
        "raw_dir": "data/raw",
        "language": "ja",
    }
    reports = root / "reports"
    before = snapshot(reports)
    assert "panel/fy2023/alpha.html" in before and "panel/fy2021/beta.run.json" in before
    monkeypatch.setattr(papermill, "execute_notebook", no_kernel)
    s2 = do_build(root)
    assert s2.count("skipped") == 6 and s2.count("ok") == 0
    assert snapshot(reports) == before


def test_force_reruns_with_identical_reports(tmp_path: Path, fake) -> None:
    root = make_project(tmp_path)
    do_build(root)
    reports = root / "reports"
    html = reports / "panel" / "fy2022" / "alpha.html"
    before, inode = html.read_bytes(), html.stat().st_ino
    s = do_build(root, force=True)
    assert s.count("ok") == 6 and len(fake.calls) == 12
    # Timestamps are stripped, so identical inputs give identical bytes and the file is not
    # even replaced (same inode).
    assert html.read_bytes() == before and html.stat().st_ino == inode
    ipynb = (reports / "panel" / "fy2022" / "alpha.ipynb").read_text()
    assert "start_time" not in ipynb and "iopub" not in ipynb and "injected-parameters" in ipynb


def test_changed_input_or_tampered_output_reruns(tmp_path: Path, fake) -> None:
    root = make_project(tmp_path)
    do_build(root)
    (root / "reports" / "panel" / "fy2021" / "beta.html").write_text("tampered")
    s = do_build(root)
    assert [(o.spec.name, o.spec.fiscal_year) for o in s.outcomes if o.outcome == "ok"] == [
        ("beta", 2021)
    ]
    (root / "data" / "raw" / "kpi.csv").write_text("indicator,fiscal_year,actual\n1,2023,6\n")
    assert do_build(root).count("ok") == 6


def test_selection_by_year_and_notebook(tmp_path: Path, fake) -> None:
    root = make_project(tmp_path)
    s = do_build(root, fiscal_years=[2022], notebooks=["beta"])
    assert [(o.spec.name, o.spec.fiscal_year, o.outcome) for o in s.outcomes] == [
        ("beta", 2022, "ok")
    ]


# ---------------------------------------------------------------------------------------------
# Failures, atomicity, lock


def test_failing_notebook_keeps_previous_report(tmp_path: Path, fake) -> None:
    root = make_project(tmp_path)
    do_build(root)
    reports = root / "reports"
    before = snapshot(reports)
    fake.fail = "beta"
    with pytest.raises(RunError) as info:
        do_build(root, force=True)
    msg = str(info.value)
    # beta's cells: 0 markdown, 1 parameters, 2 the print cell (the injected cell is not counted).
    assert "beta FY2021 failed at cell 2" in msg and "ValueError: boom" in msg
    assert "beta FY2023" in msg and "alpha" not in msg and "\n" not in msg
    after = snapshot(reports)
    for k, v in before.items():
        if k.startswith("panel/fy") and "beta" in k:
            assert after[k] == v, k
    kept = reports / "failed" / "panel" / "fy2023" / "beta.ipynb"
    assert "boom" in kept.read_text()
    rec = archive.read_record(reports / "failed" / "panel" / "fy2023" / "beta.run.json")
    assert rec["outcome"] == "failed" and "cell 2" in rec["error"]
    assert "失敗した実行" in (reports / "index.html").read_text()
    assert "Failed runs" in (reports / "index.en.html").read_text()
    # Inputs unchanged since the good runs: nothing to redo. A successful rerun removes the
    # debugging copy.
    fake.fail = None
    assert do_build(root).count("skipped") == 6
    assert do_build(root, force=True).count("ok") == 6
    assert not kept.exists()


def test_cli_failure_exit_code(tmp_path: Path, fake, capsys, monkeypatch) -> None:
    monkeypatch.setattr(pipeline, "prepare_data", fake_prepare)
    root = make_project(tmp_path, names=("alpha",))
    fake.fail = "alpha"
    code = main(["build", "--root", str(root), "--fiscal-year", "2023", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and "alpha FY2023 failed at cell 2" in err


@pytest.mark.parametrize("call", ["link", "replace", "exchange"])
def test_disk_full_during_commit_leaves_complete_archive(
    tmp_path: Path, fake, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    root = make_project(tmp_path, names=("alpha",))
    do_build(root, fiscal_years=[2023])
    reports = root / "reports"
    before = snapshot(reports)
    (root / "notebooks" / "alpha.ipynb").write_text(
        (root / "notebooks" / "alpha.ipynb").read_text().replace("SECRET_SOURCE", "CHANGED")
    )

    def full(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    # The disk fills while the new run folder is assembled (a link), as the change token is
    # renewed (a replace) or at the switch itself (tests/test_commit_faults.py tries every call).
    target = archive if call == "exchange" else archive.os
    real = getattr(target, f"_{call}" if call == "exchange" else call)
    monkeypatch.setattr(target, f"_{call}" if call == "exchange" else call, full)
    with pytest.raises(archive.ArchiveError, match="nothing of this run was committed"):
        do_build(root, fiscal_years=[2023])
    # Nothing of the run reached the archive: every file as before.
    assert snapshot(reports) == before
    assert not list((reports / ".staging").iterdir())
    monkeypatch.setattr(target, f"_{call}" if call == "exchange" else call, real)
    s = do_build(root, fiscal_years=[2023])
    assert s.count("ok") == 1
    assert archive.is_archived(reports, "panel/fy2023", "alpha", s.outcomes[0].spec.run_key)


def test_no_wait_refuses_a_run_another_build_is_producing(
    tmp_path: Path, fake, capsys, monkeypatch
) -> None:
    from test_archive import other_build

    monkeypatch.setattr(pipeline, "prepare_data", fake_prepare)
    root = make_project(tmp_path)
    proc, _ = other_build(root / "reports", "panel/fy2022/alpha")
    try:
        with pytest.raises(archive.BuildLockedError, match="another build holds"):
            do_build(root, wait_for_lock=False, jobs=1)
        code = main(["build", "--root", str(root), "--no-wait", "--no-progress", "--jobs", "1"])
    finally:
        proc.communicate("", timeout=30)
    err = capsys.readouterr().err
    assert code == 1 and "for alpha FY2022;" in err and "not waiting (--no-wait)" in err
    assert err.count("\n") == 1
    assert ("alpha", {"fiscal_year": 2022, "raw_dir": "data/raw", "language": "ja"}) not in [
        (n, p) for n, p in fake.calls
    ]
    # Once the other build has ended, the run is free again.
    assert do_build(root, wait_for_lock=False).count("failed") == 0


def test_stale_staging_is_cleaned(tmp_path: Path, fake) -> None:
    root = make_project(tmp_path)
    stale = root / "reports" / ".staging" / "deadbeef"
    stale.mkdir(parents=True)
    (stale / "alpha.html").write_text("half")
    do_build(root)
    assert not stale.exists()


# ---------------------------------------------------------------------------------------------
# HTML and index


def _rendered_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    c = nbformat.v4.new_code_cell("SECRET_SOURCE = 1\ndisplay(x)")
    # 1x1 transparent PNG.
    png = (
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNk"
        "YAAAAAYAAjCB0C8AAAAASUVORK5CYII="
    )
    c.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "fig"}),
        nbformat.v4.new_output(
            "display_data", data={"application/javascript": "alert(1)", "text/plain": "js"}
        ),
        nbformat.v4.new_output("stream", name="stdout", text="達成率 268.2 %\n"),
    ]
    c.execution_count = 1
    nb.cells = [c, nbformat.v4.new_markdown_cell("$x^2$ 数式")]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return nb


def test_html_self_contained_no_code_no_scripts() -> None:
    html = render_html(_rendered_notebook(), title="alpha <FY2023> & 'x'")
    assert '<html lang="ja">' in html
    assert "<title>alpha &lt;FY2023&gt; &amp; 'x'</title>" in html
    assert "SECRET_SOURCE" not in html and "In&nbsp;[" not in html
    assert "達成率 268.2 %" in html and 'src="data:image/png;base64,' in html
    assert "<script" not in html and "alert(1)" not in html
    assert "http://" not in html.replace('http-equiv="', "")
    assert "https://" not in re.sub(r"/\*.*?\*/", "", html, flags=re.S)
    for url in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert url.startswith(("data:", "#")), url
    assert "script-src 'none'" in html
    assert '<html lang="en">' in render_html(_rendered_notebook(), title="t", language="en")


def test_index_escapes_hostile_text() -> None:
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    page = render_index(
        [
            {
                "notebook": hostile,
                "fiscal_year": 2023,
                "_html": f"fy2023/{hostile}.html",
                "headline": {"KPI": hostile},
                "git": {"commit": hostile, "dirty": True},
                "end_time": hostile,
            }
        ],
        failed=[{"notebook": hostile, "fiscal_year": 2023, "error": hostile}],
    )
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<html lang="ja">' in page and "http" not in page.replace("http-equiv", "")


def test_index_in_japanese_and_english_with_titles_jst_and_records() -> None:
    rec = {
        "notebook": "attainment",
        "programme_id": "23205-community",
        "fiscal_year": 2023,
        "_html": "23205-community/fy2023/attainment.html",
        "end_time": "2026-12-01T06:22:47+00:00",  # 15:22 in Japan (UTC+9)
        "git": {"commit": "5f3b29bde6f0aaaa", "dirty": True},
    }
    ja = render_index([rec], language="ja")
    en = render_index([rec], language="en")
    assert '<html lang="ja">' in ja and '<html lang="en">' in en
    assert ">KPI達成状況</a>" in ja and ">KPI attainment (Japanese)</a>" in en
    assert "2026-12-01 15:22 JST" in ja and "2026-12-01 15:22 JST" in en
    assert 'href="23205-community/fy2023/attainment.run.json"' in ja
    assert "5f3b29bde6f0（未コミットの変更あり）" in ja and "5f3b29bde6f0 (modified)" in en
    assert 'href="index.en.html"' in ja and 'href="index.html"' in en
    # A title and its record link each stay whole (Japanese breaks anywhere: "KPI達成状|況").
    assert '<span class="report"><a href="23205-community/fy2023/attainment.html"' in ja
    assert ".report a, .report .lang, .when { white-space: nowrap; }" in ja


def test_index_panel_line_in_the_page_language() -> None:
    """The panel's headline in the Japanese index is Japanese only, in the English one English."""
    rec = {
        "notebook": "panel",
        "fiscal_year": 2023,
        "_html": "panel/fy2023/panel.html",
        # The FY2023 seed: one programme, 4 KPIs evaluated, 2 achieved (①9/13 ②83/3000 miss).
        "headline": headline.panel_headline(
            [{"n_kpis": 4, "n_evaluated": 4, "n_achieved": 2, "n_without_actual": 0}], 2023
        ),
    }
    ja = render_index([rec], language="ja")
    en = render_index([rec], language="en")
    assert "1事業: 評価した4指標中2指標が目標を達成（50.0%）、1事業中1事業が1指標以上を達成" in ja
    assert "programme(s)" not in ja
    # English counts agree with their number (issue 17): "1 programme", never "programme(s)".
    assert "1 programme: 2 of 4 evaluated KPIs achieved (50.0%)" in en
    assert "1 of 1 programme achieved at least one KPI" in en and "事業中" not in en
    assert "(s)" not in en


def test_index_lists_years_and_reports(tmp_path: Path, fake) -> None:
    root = make_project(tmp_path)
    do_build(root)
    page = (root / "reports" / "index.html").read_text()
    assert page.index("2023年度") < page.index("2022年度") < page.index("2021年度")
    assert page.count('href="panel/fy2022/') == 4 and 'href="panel/fy2022/alpha.html"' in page


# ---------------------------------------------------------------------------------------------
# Real kernel


@pytest.mark.slow
def test_real_kernel_build_render_and_noop(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "proj"
    (root / "data" / "raw").mkdir(parents=True)
    (root / "data" / "raw" / "kpi.csv").write_text("x\n")
    write_notebook(
        root / "notebooks" / "fig.ipynb",
        "import matplotlib.pyplot as plt\nSECRET_SOURCE = 1\n"
        "fig, ax = plt.subplots(figsize=(2, 1))\nax.plot([1, 2])\nplt.show()",
        'import os\nprint(f"年度 {fiscal_year}", os.getcwd() == os.path.realpath("."))\n'
        "print(os.path.isdir(raw_dir))",
    )
    s = pipeline.build(
        root, prepare=fake_prepare, fiscal_years=[2022, 2023], jobs=2, progress=False
    )
    assert s.count("ok") == 2
    html = (root / "reports" / "panel" / "fy2023" / "fig.html").read_text()
    assert "年度 2023 True" in html and "True" in html
    assert html.count('src="data:image/png;base64,') == 1
    assert "SECRET_SOURCE" not in html and "<script" not in html
    rec = archive.read_record(root / "reports" / "panel" / "fy2023" / "fig.run.json")
    assert rec["parameters"] == {"fiscal_year": 2023, "raw_dir": "data/raw", "language": "ja"}
    assert rec["packages"]["papermill"] == papermill.__version__
    before = snapshot(root / "reports")
    monkeypatch.setattr(papermill, "execute_notebook", no_kernel)
    again = pipeline.build(root, prepare=fake_prepare, fiscal_years=[2022, 2023], progress=False)
    assert again.count("skipped") == 2
    assert snapshot(root / "reports") == before


@pytest.mark.slow
def test_real_kernel_failure_and_death(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "data" / "raw").mkdir(parents=True)
    (root / "data" / "raw" / "kpi.csv").write_text("x\n")
    write_notebook(root / "notebooks" / "bad.ipynb", "x = 1", "raise ValueError('壊れた')")
    write_notebook(root / "notebooks" / "dies.ipynb", "import os\nos._exit(3)")
    with pytest.raises(RunError) as info:
        pipeline.build(root, prepare=fake_prepare, fiscal_years=[2023], jobs=2, progress=False)
    msg = str(info.value)
    assert "bad FY2023 failed at cell 3" in msg and "ValueError: 壊れた" in msg
    assert "dies FY2023 failed at" in msg and "kernel died" in msg
    assert (root / "reports" / "failed" / "panel" / "fy2023" / "bad.ipynb").exists()
    assert not (root / "reports" / "panel" / "fy2023" / "bad.html").exists()


def test_headline_one_denominator_and_kpis_without_actual_apart(seed) -> None:
    import dataclasses

    from kpianalysis.analysis.results import YearResults
    from kpianalysis.report.headline import headline_text

    obs = seed.observations.copy()
    # FY2023 KPI ④ (1,341 against 500, achieved) loses its actual: 3 evaluated, 1 without.
    obs.loc[(obs["indicator_id"] == 4) & (obs["fiscal_year"] == 2023), "actual"] = float("nan")
    h = headline.headline_for(YearResults(dataclasses.replace(seed, observations=obs).as_of(2023)))
    assert (h["n_kpis"], h["n_evaluated"], h["n_achieved"], h["n_without_actual"]) == (4, 3, 1, 1)
    # ① 9/13 missed, ② 83/3000 missed, ③ 50/50 achieved: 1 of 3 = 33.3 %, not 1 of 4.
    assert h["share_achieved"] == pytest.approx(1 / 3)
    assert headline_text({**h, "rates": []}) == (
        "生きがいと社会貢献を育む新地域コミュニティの構築事業（半田市）: "
        "評価した3指標中1指標が目標を達成（33.3%）、実績値なし1指標 / "
        "1 of 3 evaluated KPIs achieved (33.3%); 1 without an actual"
    )


def test_index_headline_names_the_programme_and_each_rate(seed) -> None:
    from kpianalysis.analysis.results import YearResults
    from kpianalysis.report.headline import headline_text

    text = headline_text(headline.headline_for(YearResults(seed.as_of(2023))))
    # FY2023 sheet: 9/13, 83/3000, 50/50, 1341/500, rounded half-up to one decimal.
    assert text == (
        "生きがいと社会貢献を育む新地域コミュニティの構築事業（半田市）: "
        "評価した4指標中2指標が目標を達成（50.0%） / 2 of 4 evaluated KPIs achieved (50.0%)"
        "（達成率 achievement: ① 69.2%, ② 2.8%, ③ 100.0%, ④ 268.2%）"
    )


def test_processed_files_are_rewritten_only_when_out_of_date(tmp_path: Path) -> None:
    from conftest import seed_only

    root = tmp_path
    seed_only(root / "data" / "raw")
    years, _, written = processed.prepare_data(root, "data/raw", "data/processed")
    assert years == [2021, 2022, 2023]
    assert len(written) == 28  # 8 tidy tables + 2 result tables × 3 years, CSV and Parquet
    out = root / "data" / "processed"
    assert processed.prepare_data(root, "data/raw", "data/processed")[2] == []  # up to date
    (out / "observations.csv").write_text("edited by hand", encoding="utf-8")
    rewritten = processed.prepare_data(root, "data/raw", "data/processed")[2]
    assert len(rewritten) == 28  # a hand edit is undone: processed data is generated only
    assert (out / "observations.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    (out / "trends_fy2022.parquet").unlink()
    assert len(processed.prepare_data(root, "data/raw", "data/processed")[2]) == 28
    # The trend tables pool against the versioned prior, as the trends reports do: a prior
    # file (re-)estimated rewrites them, and its families are what they say.
    prior = root / "data" / "reference" / "trend_prior.json"
    prior.parent.mkdir(parents=True)
    shutil.copy2(conftest.ROOT / "data" / "reference" / "trend_prior.json", prior)
    assert len(processed.prepare_data(root, "data/raw", "data/processed")[2]) == 28
    assert processed.prepare_data(root, "data/raw", "data/processed")[2] == []
    status = pd.read_csv(out / "trends_fy2023.csv", encoding="utf-8-sig")["prior_status"]
    assert set(status) == {"prior_too_few_series"}  # the shipped prior: the seed alone


# ---------------------------------------------------------------------------------------------
# Per-programme archive, languages, shards (fake kernels, real data)

PROGRAMME_PARAMS = PARAMS_CELL + 'programme_id: str = "23205-community"  # the programme\n'


def programme_project(tmp_path: Path) -> Path:
    """Handa's raw data plus the synthetic 99999-demo programme; one programme-scoped notebook
    (``attainment``) and one panel-scoped (``panel``)."""
    from conftest import demo_programme, seed_only

    root = tmp_path / "proj"
    seed_only(root / "data" / "raw")
    demo_programme(root / "data" / "raw", range(2021, 2023))
    write_notebook(root / "notebooks" / "attainment.ipynb", "print(1)", params=PROGRAMME_PARAMS)
    write_notebook(root / "notebooks" / "panel.ipynb", "print(2)")
    return root


def real_build(root: Path, **kw: Any) -> pipeline.BuildSummary:
    kw.setdefault("jobs", 2)
    return pipeline.build(root, progress=False, **kw)


def runs_of(summary: pipeline.BuildSummary, outcome: str) -> list[str]:
    return sorted(o.spec.identity for o in summary.outcomes if o.outcome == outcome)


def test_programme_scoped_runs_and_keys_follow_their_own_programme(tmp_path: Path, fake) -> None:
    from conftest import demo_programme

    root = programme_project(tmp_path)
    s = real_build(root)
    # Handa has actuals for FY2021–2023, the demo programme for FY2021–2022; the panel runs
    # for every year with data.
    assert runs_of(s, "ok") == [
        "23205-community/fy2021/attainment",
        "23205-community/fy2022/attainment",
        "23205-community/fy2023/attainment",
        "99999-demo/fy2021/attainment",
        "99999-demo/fy2022/attainment",
        "panel/fy2021/panel",
        "panel/fy2022/panel",
        "panel/fy2023/panel",
    ]
    params = {p["programme_id"] for n, p in fake.calls if n == "attainment"}
    assert params == {"23205-community", "99999-demo"}
    assert all("programme_id" not in p for n, p in fake.calls if n == "panel")
    reports = root / "reports"
    rec = archive.read_record(reports / "99999-demo" / "fy2022" / "attainment.run.json")
    # Its own raw files only, and a note that no source document was checked.
    assert {k.split("/")[1] for k in rec["inputs"] if k.startswith("raw/")} == {"99999-demo"}
    assert rec["provenance"]["source_checked"] is False
    assert "not checked against a source" in rec["provenance"]["note"]
    assert rec["headline"]["programme_id"] == "99999-demo"
    handa = archive.read_record(reports / "23205-community" / "fy2023" / "attainment.run.json")
    assert handa["provenance"] == {"source_checked": True}
    panel = archive.read_record(reports / "panel" / "fy2023" / "panel.run.json")
    assert panel["provenance"] == {"unchecked_programmes": ["99999-demo"]}
    handa_files = {k: v for k, v in snapshot(reports).items() if k.startswith("23205-community/")}
    # Per year: attainment's .html, .ipynb, .run.json and its 6 data tables (the registry's).
    assert len(handa_files) == 3 * (3 + 6)

    # The demo programme gets FY2023 actuals: its runs and the panel's rerun, Handa's do not.
    demo_programme(root / "data" / "raw", range(2021, 2024))
    s2 = real_build(root)
    rerun = runs_of(s2, "ok")
    # (Which earlier demo/panel years rerun depends on what the data as of a year includes.)
    assert {"99999-demo/fy2023/attainment", "panel/fy2023/panel"} <= set(rerun)
    assert all(r.startswith(("99999-demo/", "panel/")) for r in rerun)
    assert len(runs_of(s2, "skipped")) + len(rerun) == 9
    assert {f"23205-community/fy{y}/attainment" for y in YEARS} <= set(runs_of(s2, "skipped"))
    after = snapshot(reports)
    assert {k: after[k] for k in handa_files} == handa_files
    page = (reports / "index.html").read_text(encoding="utf-8")
    assert page.index("架空の事業（架空市）") > page.index("生きがいと社会貢献")
    assert "原資料との照合なし" in page and "全事業（横断集計）" in page
    assert 'href="99999-demo/fy2023/attainment.html"' in page
    # The run record beside each report is linked; the English index says it in English.
    assert 'href="99999-demo/fy2023/attainment.run.json"' in page
    en = (reports / "index.en.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in en and "transcription not checked against a source" in en
    assert "All programmes (panel)" in en and ">KPI attainment (Japanese)</a>" in en


def test_programme_option_restricts_and_refuses_unknown(tmp_path: Path, fake) -> None:
    root = programme_project(tmp_path)
    s = real_build(root, programmes=["99999-demo"], fiscal_years=[2022])
    assert runs_of(s, "ok") == ["99999-demo/fy2022/attainment"]
    with pytest.raises(ParameterError, match="unknown programme 'nope'"):
        real_build(root, programmes=["nope"])


def test_english_reports_beside_the_japanese_ones(tmp_path: Path, fake) -> None:
    root = make_project(tmp_path, names=("alpha",))
    do_build(root, fiscal_years=[2023])
    reports = root / "reports"
    ja = snapshot(reports)
    s = do_build(root, fiscal_years=[2023], languages="en")
    assert runs_of(s, "ok") == ["panel/fy2023/alpha.en"]
    after = snapshot(reports)
    indexes = ("index.html", "index.en.html")
    assert {k: after[k] for k in ja if k not in indexes} == {
        k: v for k, v in ja.items() if k not in indexes
    }
    assert {k for k in after if ".en." in k and not k.startswith("index")} == {
        "panel/fy2023/alpha.en.html",
        "panel/fy2023/alpha.en.ipynb",
        "panel/fy2023/alpha.en.run.json",
    }
    assert b'<html lang="en">' in after["panel/fy2023/alpha.en.html"]
    rec = archive.read_record(reports / "panel" / "fy2023" / "alpha.en.run.json")
    assert rec["language"] == "en" and rec["parameters"]["language"] == "en"
    page = after["index.html"].decode()
    assert 'href="panel/fy2023/alpha.html" hreflang="ja"' in page
    assert 'href="panel/fy2023/alpha.en.html" hreflang="en" lang="en">alpha（英語版）</a>' in page
    assert page.index('alpha.html"') < page.index('alpha.en.html"')  # the page's language first
    en = after["index.en.html"].decode()
    assert en.index('alpha.en.html"') < en.index('alpha.html"')
    # Both stay archived: a Japanese no-op build skips its run and leaves the English one.
    assert do_build(root, fiscal_years=[2023]).count("skipped") == 1
    assert (reports / "panel" / "fy2023" / "alpha.en.html").exists()


def test_shards_partition_the_runs_of_a_single_build(tmp_path: Path, fake) -> None:
    root = programme_project(tmp_path)
    single = runs_of(real_build(root), "ok")
    shutil.rmtree(root / "reports")
    parts = [runs_of(real_build(root, shard=(k, 3), index=False), "ok") for k in (1, 2, 3)]
    assert sorted(r for p in parts for r in p) == single  # every run once
    assert all(parts)  # 8 runs over 3 shards: none empty with this partition
    assert not (root / "reports" / "index.html").exists()
    assert main(["index", "--reports", str(root / "reports")]) == 0
    page = (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{r}.html"' in page for r in single)
    assert real_build(root).count("skipped") == len(single)


def test_shard_option_parsed_and_checked() -> None:
    from kpianalysis.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["build", "--shard", "3/4"]).shard == (3, 4)
    for bad in ("0/4", "5/4", "x/4", "3"):
        with pytest.raises(SystemExit):
            parser.parse_args(["build", "--shard", bad])


def test_noop_build_leaves_the_index_and_a_commit_rewrites_it(tmp_path: Path, fake) -> None:
    root = programme_project(tmp_path)
    real_build(root)
    reports = root / "reports"
    pages = [reports / "index.html", reports / "index.en.html"]
    before = [(p.stat().st_ino, p.read_bytes()) for p in pages]
    assert real_build(root).count("ok") == 0
    # Nothing changed: the pages were not rewritten (same inodes: no atomic replace).
    assert [(p.stat().st_ino, p.read_bytes()) for p in pages] == before
    # A committed run changes the archive's token: the next build writes the pages again.
    assert real_build(root, force=True, notebooks=["panel"]).count("ok") >= 1
    assert [p.stat().st_ino for p in pages] != [ino for ino, _ in before]
    # (The rerun's records have new times, shown to the minute: compare with these pages.)
    written = [p.read_bytes() for p in pages]
    # A page removed by hand is written again even by a no-op build.
    pages[1].unlink()
    real_build(root)
    assert pages[1].read_bytes() == written[1]
    # `kpianalysis index` always rebuilds, whatever the token says.
    inode = pages[0].stat().st_ino
    assert main(["index", "--reports", str(reports)]) == 0
    assert pages[0].stat().st_ino != inode and pages[0].read_bytes() == written[0]


def test_planned_keys_are_the_per_programme_digests_keys(tmp_path: Path) -> None:
    # The planner digests every programme-year in one pass (Dataset.programme_digests) and
    # validates the shared parameters once: its keys must be those of the plain recipe —
    # run_key over the library, the notebook and this programme's own data as of the year,
    # with the run's parameters — computed here independently, cut by cut.
    from kpianalysis.data.dataset import load_dataset

    root = programme_project(tmp_path)
    ds = load_dataset(root / "data" / "raw")
    notebooks = plan.discover_notebooks(root / "notebooks")
    specs = plan.plan_runs(
        notebooks,
        root=root,
        fiscal_years=[],
        data_years=ds.fiscal_years,
        raw_dir="data/raw",
        processed_dir="data/processed",
        dataset=ds,
    )
    library = plan.common_inputs(root, "data/raw", raw=False)
    nb = root / "notebooks" / "attainment.ipynb"
    expected = {}
    for pid, years in plan.programme_years(ds).items():
        for fy in years:
            inputs = {
                **library,
                "notebooks/attainment.ipynb": fileio.sha256_file(nb),
                f"data/{pid}/as_of_fy{fy}": ds.as_of(fy).by_programme()[pid].digest(),
                # The reports it links: none (no programme-scoped sibling, Japanese only).
                plan.LINKS_INPUT: "",
            }
            # What its parameters cell declares (no processed_dir).
            params = {
                "fiscal_year": fy,
                "raw_dir": "data/raw",
                "language": "ja",
                "programme_id": pid,
            }
            expected[f"{pid}/fy{fy}/attainment"] = plan.run_key(inputs, params, "attainment")
    got = {s.identity: s.run_key for s in specs if s.programme_id}
    assert got == expected and len(got) == 5  # Handa FY2021–2023, the demo FY2021–2022
    # The record still gets the programme's raw files, once the run is resolved to execute.
    demo = next(s for s in specs if s.programme_id == "99999-demo").resolved()
    assert any(k.startswith("raw/") and "programme.csv" in k for k in demo.inputs)
    assert demo.headline["programme_id"] == "99999-demo"


def test_programme_headlines_equal_each_programme_counted_alone(seed) -> None:
    # programme_headlines reads the year's table in one pass; each headline must be what the
    # programme's own rows give (achievement_counts, the rates row by row), here for the seed,
    # a copy with its FY2023 actuals removed (no actual, plan only) and a programme without
    # any row in the table.
    import dataclasses

    import pandas as pd

    from kpianalysis.analysis.measures import format_percent
    from kpianalysis.analysis.results import YearResults

    tables = {}
    for name, df in seed.tables().items():
        other = df.copy()
        other["programme_id"] = other["programme_id"] + "-b"
        if name == "observations":
            other.loc[other["fiscal_year"] == 2023, ["actual", "actual_text"]] = [None, ""]
        tables[name] = pd.concat([df, other], ignore_index=True)
    extra = tables["programmes"].iloc[:1].copy()
    extra["programme_id"] = "no-rows"
    tables["programmes"] = pd.concat([tables["programmes"], extra], ignore_index=True)
    for fy in (2022, 2023):
        year = YearResults(dataclasses.replace(seed, **tables).as_of(fy))
        got = headline.programme_headlines(year)
        assert list(got) == ["23205-community", "23205-community-b", "no-rows"]
        for pid, h in got.items():
            t = year.attainment[year.attainment["programme_id"] == pid]
            assert {k: h[k] for k in headline.achievement_counts(t)} == fileio.jsonable(
                headline.achievement_counts(t)
            )
            assert h["rates"] == [
                f"{r.indicator_label} {format_percent(r.achievement_rate, 1)}"
                for r in t.itertuples()
                if pd.notna(r.achievement_rate)
            ]
        assert got["no-rows"]["n_kpis"] == 0 and got["no-rows"]["rates"] == []
    assert got["23205-community-b"]["plan_only"] is True
    assert got["23205-community"]["n_evaluated"] == 4


@pytest.mark.slow
def test_a_build_leaves_no_unclosed_event_loop(tmp_path: Path) -> None:
    """papermill drives each kernel through an asyncio loop on the worker thread, which
    jupyter_core never closes. Left open, its sockets were finalised — with a ResourceWarning —
    whenever the garbage collector next ran, in whichever test was running then (a module that
    turns warnings into errors failed for a build it never made)."""
    root = make_project(tmp_path, names=("alpha",))
    gc.collect()  # earlier tests' garbage is theirs
    assert pipeline.build(root, prepare=fake_prepare, progress=False, jobs=2).count("ok") == 3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []
