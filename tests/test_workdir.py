"""Kernels never run in, nor read from, a foreign working directory (issue 9, point 5).

papermill's ``execute_notebook(cwd=...)`` wraps the whole run in ``os.chdir``; with several runs
on threads one run restores the old directory while another run's kernel is starting, and that
kernel — with ``raw_dir="data/raw"`` relative — read whatever project the process stood in. The
build must instead leave the process directory alone, start every kernel in the project root and
tell the kernel that root, so a relative ``raw_dir`` cannot resolve anywhere else.

The end-to-end test stands the test process in a *decoy* project (same programme and years,
other numbers and names) and builds a real project from there in parallel, several times over.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SEED_ID, read_rows, seed_only, write_notebook, write_rows
from kpianalysis.build import pipeline
from kpianalysis.paths import PROJECT_ROOT_ENV, project_root

YEARS = (2021, 2022, 2023)
#: The decoy's actual values: numbers the real reports cannot contain (the shipped actuals are
#: 4–1,341), written as plain digits in the sheet and looked for with and without separators.
DECOY_ACTUALS = {
    "①": ("累計 31411団体", "累計 31412団体", "累計 31413団体"),
    "②": ("27181人", "27182人", "27183人"),
    "③": ("16181回", "16182回", "16183回"),
    "④": ("14141人", "14142人", "14143人"),
}
DECOY_NAME = "DECOYおとり市"
#: A tiny report that prints where its kernel stands and which raw directory it would read.
WHEREAMI = (
    "import os\n"
    "from kpianalysis.paths import project_root\n"
    "print('CWD=' + os.getcwd())\n"
    "print('RAW=' + str((project_root() / raw_dir).resolve()))\n"
)


def copy_project(dest: Path) -> Path:
    """A project with the seed programme, the real notebooks and a ``pyproject.toml``."""
    (dest / "data").mkdir(parents=True)
    seed_only(dest / "data" / "raw")
    shutil.copytree(ROOT / "notebooks", dest / "notebooks")
    (dest / "pyproject.toml").write_text("[project]\nname = 'copy'\n", encoding="utf-8")
    return dest


def make_decoy(dest: Path) -> Path:
    """The shipped programme with other names and actual values (no source document to check)."""
    root = copy_project(dest)
    folder = root / "data" / "raw" / SEED_ID
    programme = read_rows(folder / "programme.csv")
    head = programme[0]
    for column in ("municipality_ja", "name_ja"):
        programme[1][head.index(column)] = DECOY_NAME
    source = programme[1][head.index("source_file")]
    programme[1][head.index("source_file")] = ""
    (folder / source).unlink()
    write_rows(folder / "programme.csv", programme)
    obs = read_rows(folder / "observations.csv")
    seen: dict[str, int] = {}
    for row in obs[1:]:
        k = seen.get(row[1], 0)
        row[4] = DECOY_ACTUALS[row[1]][k]
        seen[row[1]] = k + 1
    write_rows(folder / "observations.csv", obs)
    return root


def write_whereami(path: Path) -> None:
    write_notebook(
        path,
        'fiscal_year: int = 2023\nraw_dir: str = "data/raw"  # relative to the project root\n',
        WHEREAMI,
    )


def decoy_numbers() -> list[str]:
    out = []
    for values in DECOY_ACTUALS.values():
        for v in values:
            digits = "".join(ch for ch in v if ch.isdigit())
            out += [digits, f"{int(digits):,}"]
    return out


def visible(html: Path) -> str:
    """A report without its embedded images (base64 text can hold any digits or letters)."""
    text = html.read_text(encoding="utf-8")
    return re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "data:image", text)


def test_project_root_prefers_the_root_the_build_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = copy_project(tmp_path / "real")
    decoy = make_decoy(tmp_path / "decoy")
    monkeypatch.chdir(decoy)
    monkeypatch.delenv(PROJECT_ROOT_ENV, raising=False)
    assert project_root() == decoy.resolve()  # JupyterLab: found from the working directory
    monkeypatch.setenv(PROJECT_ROOT_ENV, str(real))
    assert project_root() == real.resolve()  # a build's kernel: told, whatever its directory
    monkeypatch.setenv(PROJECT_ROOT_ENV, str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match=PROJECT_ROOT_ENV):
        project_root()


@pytest.mark.slow
def test_parallel_builds_from_a_decoy_directory_read_only_their_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = copy_project(tmp_path / "real").resolve()
    write_whereami(real / "notebooks" / "whereami.ipynb")
    decoy = make_decoy(tmp_path / "decoy").resolve()
    monkeypatch.delenv(PROJECT_ROOT_ENV, raising=False)
    monkeypatch.chdir(decoy)
    # Every os.chdir during a build is recorded with the file that asked for it. The bug was
    # papermill.execute's chdir(cwd) around a whole run; papermill's local file handler also
    # entered a process-wide directory around its reads and writes, which threads left stale.
    # The build replaces that handler (build.execute.use_local_handler_without_chdir): no chdir.
    moves: list[tuple[str, str]] = []
    chdir = os.chdir

    def watched(path: str | os.PathLike[str]) -> None:
        if Path(path).resolve() != decoy:
            caller = sys._getframe(1)
            if caller.f_code.co_name == "chdir":  # papermill.utils.chdir: who used it?
                caller = caller.f_back.f_back  # past contextlib's __enter__/__exit__
            moves.append((Path(caller.f_code.co_filename).name, str(path)))
        chdir(path)

    monkeypatch.setattr(os, "chdir", watched)
    forbidden = decoy_numbers()
    reports = sorted(p.stem for p in (real / "notebooks").glob("*.ipynb") if p.stem != "whereami")
    assert {"attainment", "trends"} <= set(reports)
    from kpianalysis.build.parameters import notebook_parameter_names

    def page_of(nb: str, fy: int) -> Path:
        # Programme-scoped notebooks are archived under the programme, the others under panel/.
        scoped = "programme_id" in notebook_parameter_names(real / "notebooks" / f"{nb}.ipynb")
        return (
            real / "reports" / ("23205-community" if scoped else "panel") / f"fy{fy}" / f"{nb}.html"
        )

    for attempt in range(2):
        summary = pipeline.build(real, jobs=2, force=True, progress=False)
        assert summary.count("ok") == (len(reports) + 1) * len(YEARS), (attempt, summary.outcomes)
        assert Path.cwd() == decoy and os.getcwd() == str(decoy)
        for fy in YEARS:
            where = page_of("whereami", fy).read_text(encoding="utf-8")
            assert f"CWD={real}" in where, (attempt, fy)
            assert f"RAW={real / 'data' / 'raw'}" in where, (attempt, fy)
            for nb in reports:
                page = visible(page_of(nb, fy))
                assert "半田市" in page or nb not in ("attainment", "trends"), (attempt, fy, nb)
                assert "DECOY" not in page and "おとり" not in page, (attempt, fy, nb)
                found = [n for n in forbidden if n in page]
                assert not found, (attempt, fy, nb, found)
    assert moves == []
    # The real project's figures, by hand from data/raw: FY2023 KPI ④ 1,341 of 500 people.
    assert "1,341" in visible(page_of("attainment", 2023))


def test_papermill_local_handler_never_changes_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """papermill's reads and writes resolve against its directory by joining, not by os.chdir."""
    from papermill.iorw import papermill_io

    from kpianalysis.build.execute import use_local_handler_without_chdir

    use_local_handler_without_chdir()
    use_local_handler_without_chdir()  # idempotent: still one "local" entry
    assert [s for s, _ in papermill_io._handlers].count("local") == 1
    handler = papermill_io.get_handler("nb.ipynb")
    calls: list[str] = []
    monkeypatch.setattr(os, "chdir", lambda p: calls.append(str(p)))
    old = handler.cwd(str(tmp_path))
    try:
        papermill_io.write('{"cells": []}', "nb.ipynb")
        assert (tmp_path / "nb.ipynb").read_text(encoding="utf-8") == '{"cells": []}'
        assert papermill_io.read("nb.ipynb") == '{"cells": []}'
        assert papermill_io.read(str(tmp_path / "nb.ipynb")) == '{"cells": []}'  # absolute
        with pytest.raises(FileNotFoundError):
            papermill_io.read("missing.ipynb")
    finally:
        handler.cwd(old)
    assert calls == []
