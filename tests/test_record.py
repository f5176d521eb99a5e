"""Run records tell the truth about the git state (issue 9, point 7).

A temporary repository stands in for a project: ``dirty`` must count modified tracked files and
untracked, not ignored files under ``data/raw/``, ``notebooks/`` and ``src/`` (a partner's new
programme folder is untracked; before the fix the record said clean).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kpianalysis.build.record import WATCHED_UNTRACKED, git_state

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(root: Path, *args: str) -> str:
    # -c: no user identity needed from the machine; no hooks or signing from global config.
    out = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c",
         "commit.gpgsign=false", *args],
        cwd=root, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for rel, text in {
        "data/raw/23205-community/programme.csv": "programme_id\n23205-community\n",
        "notebooks/attainment.ipynb": "{}\n",
        "src/kpianalysis/__init__.py": "",
        "README.md": "x\n",
        ".gitignore": "__pycache__/\n.ipynb_checkpoints/\n/reports/*\n",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def test_clean_repository_is_clean(repo: Path) -> None:
    assert git_state(repo) == {"commit": git(repo, "rev-parse", "HEAD"), "dirty": False}


@pytest.mark.parametrize(
    "rel",
    [
        "data/raw/13101-新規/programme.csv",  # a partner's new programme folder
        "notebooks/panel.ipynb",
        "src/kpianalysis/new module.py",
    ],
)
def test_untracked_input_makes_the_record_dirty(repo: Path, rel: str) -> None:
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).write_text("x\n", encoding="utf-8")
    assert git_state(repo)["dirty"] is True
    git(repo, "add", rel)  # staged but not committed: still not the commit
    assert git_state(repo)["dirty"] is True


@pytest.mark.parametrize(
    "rel",
    [
        "src/kpianalysis/__pycache__/x.cpython-311.pyc",  # ignored
        "notebooks/.ipynb_checkpoints/attainment-checkpoint.ipynb",  # ignored
        "reports/fy2023/attainment.html",  # ignored, and an output, not an input
        "scratch.txt",  # untracked but outside the watched folders
    ],
)
def test_ignored_or_unwatched_files_keep_it_clean(repo: Path, rel: str) -> None:
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).write_text("x\n", encoding="utf-8")
    assert git_state(repo)["dirty"] is False


def test_modified_tracked_file_is_dirty(repo: Path) -> None:
    (repo / "README.md").write_text("changed\n", encoding="utf-8")
    assert git_state(repo)["dirty"] is True


def test_other_watched_folders(repo: Path) -> None:
    (repo / "extra").mkdir()
    (repo / "extra" / "new.csv").write_text("x\n", encoding="utf-8")
    assert git_state(repo)["dirty"] is False
    assert git_state(repo, watched=(*WATCHED_UNTRACKED, "extra"))["dirty"] is True


def test_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Never find a repository above the temporary directory.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert git_state(tmp_path) == {"commit": None, "dirty": None}
