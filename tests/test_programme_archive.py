"""The per-programme archive with real kernels (issue 10, "Done when").

* Build the shipped project; add the three partner programme folders of
  ``tests/fixtures/partners/`` (as written) and a programme with targets but no actual yet; build
  again: only the new programmes' runs execute, and every file under
  ``reports/23205-community/`` is byte-identical.
* Two ``kpianalysis build --shard K/2`` processes at once on one archive produce exactly the
  runs (identities and run keys) of a single build, and a complete index.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, demo_programme, project_copy, write_notebook, write_programme
from kpianalysis.build import archive
from kpianalysis.build.pipeline import build
from kpianalysis.cli import main

pytestmark = pytest.mark.slow

HANDA = "23205-community"
PARTNERS = ROOT / "tests" / "fixtures" / "partners"
PLAN_ONLY = "99998-plan"


def digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def plan_only_programme(raw: Path) -> None:
    """Targets for FY2024–2025, no actual yet."""
    write_programme(
        raw,
        [PLAN_ONLY, "99998", "計画市", "計画だけの事業", "令和6年度", "令和7年度"],
        [[PLAN_ONLY, "1", "参加者数", "人", "stock", "increase", "100人", "R5"]],
        [
            [PLAN_ONLY, "1", "2024年度", "120人", ""],
            [PLAN_ONLY, "1", "2025年度", "140人", ""],
        ],
    )


def test_adding_programmes_leaves_every_handa_file_byte_identical(tmp_path: Path) -> None:
    root = project_copy(tmp_path / "project", shipped=True)
    reports = root / "reports"
    first = build(root, jobs=2, progress=False)
    # FY2021–2023 × attainment, trends (Handa's) and the panel report's three years.
    assert first.count("ok") == 9
    before = digests(reports / HANDA)
    # .html, .ipynb, .run.json per run (2 notebooks × 3 years), and each year's data tables
    # behind them: attainment_fy<YEAR>, trends_fy<YEAR>, observations, indicators, finance,
    # verdicts, subprojects.
    assert len(before) == 3 * (2 * 3 + 7)
    index_before = (reports / "index.html").read_bytes()

    # The three partner folders of issue 10 (the later fixtures each test one notation of
    # issue 16 and are built in tests of their own).
    partners = ["20201-shoten", "21203-kanko", "28209-media"]
    for name in partners:
        shutil.copytree(PARTNERS / name, root / "data" / "raw" / name)
    plan_only_programme(root / "data" / "raw")
    second = build(root, jobs=2, progress=False)

    ran = {o.spec.identity for o in second.outcomes if o.outcome == "ok"}
    skipped = {o.spec.identity for o in second.outcomes if o.outcome == "skipped"}
    # The partners' plans end by FY2021 (長野市 FY2019–2021) and the plan-only programme's
    # starts in FY2024: the FY2022 and FY2023 panels hold Handa alone and are not rerun.
    assert skipped == {
        f"{HANDA}/fy{y}/{n}" for y in (2021, 2022, 2023) for n in NOTEBOOKS
    } | {"panel/fy2022/panel", "panel/fy2023/panel"}
    # Years with an actual: 長野市 FY2019–2021, 高山市 FY2016–2018, 豊岡市 FY2015–2016 (the
    # H28.3 and H29.3 columns); the plan-only programme one plan report for FY2024.
    expected = {
        ("20201-shoten", 2019), ("20201-shoten", 2020), ("20201-shoten", 2021),
        ("21203-kanko", 2016), ("21203-kanko", 2017), ("21203-kanko", 2018),
        ("28209-media", 2015), ("28209-media", 2016), (PLAN_ONLY, 2024),
    }  # fmt: skip
    assert {r for r in ran if not r.startswith("panel/")} == {
        f"{p}/fy{y}/{n}" for p, y in expected for n in NOTEBOOKS
    }
    assert digests(reports / HANDA) == before  # every Handa file, records included
    assert (reports / "index.html").read_bytes() != index_before

    plan = (reports / PLAN_ONLY / "fy2024" / "attainment.html").read_text(encoding="utf-8")
    assert "計画のみ" in plan and "plan only" not in plan  # the Japanese report
    assert "120人" in plan  # its target, as a level
    rec = archive.read_record(reports / "28209-media" / "fy2015" / "attainment.run.json")
    assert rec["provenance"]["source_checked"] is False
    assert rec["headline"]["municipality_ja"] == "豊岡市"
    assert {k.split("/")[1] for k in rec["inputs"] if k.startswith("raw/")} == {"28209-media"}

    page = (reports / "index.html").read_text(encoding="utf-8")
    for pid, municipality in [
        (HANDA, "半田市"),
        ("20201-shoten", "長野市"),
        ("21203-kanko", "高山市"),
        ("28209-media", "豊岡市"),
        (PLAN_ONLY, "計画市"),
    ]:
        assert f'<h3 id="{pid}">' in page and f"（{municipality}）" in page
    assert "計画期間 FY2015–FY2016, ID 28209-media" in page
    assert "原資料との照合なし" in page
    en = (reports / "index.en.html").read_text(encoding="utf-8")
    assert "Plan period FY2015–FY2016, ID 28209-media" in en
    assert "transcription not checked against a source" in en
    # Each programme is listed for its own years only (no FY2023 line for a plan that ended in
    # FY2016, as when every report covered every programme), each headline with its own KPIs:
    # 豊岡市 FY2015: ① 18/20 = 90.0 %, ② 14/12 = 116.7 %, ③ 1,262/1,250 = 101.0 % (千人 scaled).
    assert 'href="28209-media/fy2023/' not in page and 'href="28209-media/fy2015/' in page
    assert "（豊岡市）: 評価した3指標中2指標が目標を達成（66.7%）" in page

    # Nothing changed: a no-op build plans without starting a kernel.
    third = build(root, jobs=2, progress=False)
    assert third.count("ok") == 0 and third.count("skipped") == len(second.outcomes)


NOTEBOOKS = ("attainment", "trends")

PARAMS = "fiscal_year: int = 2023  # the report's fiscal year\n"


def tiny_notebook(path: Path, params: str) -> None:
    write_notebook(path, params, "print('report', fiscal_year)")


def shard_project(base: Path) -> Path:
    root = base / "project"
    (root / "data" / "raw").mkdir(parents=True)
    (root / "notebooks").mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'copy'\n", encoding="utf-8")
    shutil.copytree(ROOT / "data" / "raw" / HANDA, root / "data" / "raw" / HANDA)
    demo_programme(root / "data" / "raw", range(2021, 2024))
    tiny_notebook(root / "notebooks" / "panel.ipynb", PARAMS)
    tiny_notebook(
        root / "notebooks" / "kpi.ipynb", PARAMS + 'programme_id: str = ""  # the programme\n'
    )
    return root


def archived_runs(reports: Path) -> dict[str, str]:
    """identity → run key of every archived, intact run."""
    out = {}
    for rec in archive.collect_records(reports):
        where, stem = rec["_html"].rsplit("/", 1)
        stem = stem.removesuffix(".html")
        assert archive.is_archived(reports, where, stem, rec["run_key"])
        out[f"{where}/{stem}"] = rec["run_key"]
    return out


def test_two_shards_at_once_fill_one_archive_like_a_single_build(tmp_path: Path) -> None:
    root = shard_project(tmp_path)
    single = build(root, reports="single", jobs=2, progress=False)
    # 2 programmes × FY2021–2023 + the panel for each year.
    assert single.count("ok") == 9
    expected = archived_runs(root / "single")

    cmd = [sys.executable, "-m", "kpianalysis", "build", "--root", str(root), "--no-progress"]
    shards = [
        subprocess.Popen(
            [*cmd, "--reports", "shared", "--jobs", "2", "--shard", f"{k}/2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ},
        )
        for k in (1, 2)
    ]
    outs = [p.communicate(timeout=600) for p in shards]
    for proc, (_out, err) in zip(shards, outs, strict=True):
        assert proc.returncode == 0, err
    built = [int(out.split()[1].rstrip(",")) for out, _err in outs]
    assert sum(built) == 9 and all(built)  # each run once, by one shard
    shared = root / "shared"
    assert archived_runs(shared) == expected  # the same runs, with the same keys
    assert not list((shared / ".staging").iterdir())
    page = (shared / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{r}.html"' in page for r in expected)
    # `kpianalysis index` rebuilds the same page from the records.
    (shared / "index.html").unlink()
    assert main(["index", "--reports", str(shared)]) == 0
    assert (shared / "index.html").read_text(encoding="utf-8") == page
