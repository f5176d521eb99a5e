"""What a run record says about the environment it ran in: Python, packages, git state."""

from __future__ import annotations

import importlib.metadata
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from kpianalysis.paths import DEFAULT_NOTEBOOKS, DEFAULT_RAW

__all__ = [
    "PACKAGES",
    "WATCHED_UNTRACKED",
    "git_state",
    "package_versions",
]

PACKAGES = (
    "kpianalysis",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "matplotlib",
    "matplotlib-fontja",
    "seaborn",
    "pyarrow",
    "papermill",
    "nbconvert",
    "nbclient",
    "nbformat",
    "ipykernel",
    "jupyter_client",
)


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``names`` (``None`` for one not installed).

    Examples
    --------
    >>> "pandas" in package_versions(["pandas"])
    True
    """
    out: dict[str, str | None] = {}
    for n in names:
        try:
            out[n] = importlib.metadata.version(n)
        except importlib.metadata.PackageNotFoundError:
            out[n] = None
    return out


#: Folders whose untracked (not ignored) files make a run's record dirty: a report depends on
#: them (a partner's new programme folder, a new notebook or module), so a clean flag must mean
#: the commit alone reproduces the inputs.
WATCHED_UNTRACKED = (DEFAULT_RAW.as_posix(), DEFAULT_NOTEBOOKS.as_posix(), "src")


def git_state(root: Path, watched: Sequence[str] = WATCHED_UNTRACKED) -> dict[str, Any]:
    """``{"commit": sha, "dirty": bool}``, each ``None`` when git or the repository is missing.

    ``dirty`` is true when a tracked file differs from the commit (staged or not), or when an
    untracked file that ``.gitignore`` does not exclude lies under one of ``watched`` (folders
    relative to ``root``).

    Examples
    --------
    >>> sorted(git_state(Path("/")))
    ['commit', 'dirty']
    """
    try:
        commit = _git(root, "rev-parse", "HEAD")
        if commit.returncode != 0:
            return {"commit": None, "dirty": None}
        tracked = _git(root, "status", "--porcelain", "--untracked-files=no")
        # `--` and pathspecs relative to root; a missing folder simply matches nothing.
        untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", *watched)
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    if tracked.returncode != 0 or untracked.returncode != 0:
        dirty = None
    else:
        dirty = bool(tracked.stdout.strip()) or bool(untracked.stdout.strip("\0"))
    return {"commit": commit.stdout.strip(), "dirty": dirty}


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=False
    )
