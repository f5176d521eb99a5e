"""Default locations inside a project, defined once: the CLI, the build and notebooks use them."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DEFAULT_NOTEBOOKS",
    "DEFAULT_PROCESSED",
    "DEFAULT_RAW",
    "DEFAULT_REPORTS",
    "PROJECT_MARKERS",
    "PROJECT_ROOT_ENV",
    "find_project_root",
    "project_root",
]

DEFAULT_RAW = Path("data/raw")
DEFAULT_PROCESSED = Path("data/processed")
DEFAULT_NOTEBOOKS = Path("notebooks")
DEFAULT_REPORTS = Path("reports")

#: What marks a project root: both must exist there.
PROJECT_MARKERS = ("pyproject.toml", "data")

#: Environment variable naming the absolute project root. The build sets it for every kernel it
#: starts, so a notebook's relative ``raw_dir`` resolves against its own project and never against
#: whatever directory the kernel happens to stand in. It is not a notebook parameter: the archived
#: notebooks and run keys stay free of the clone's absolute location.
PROJECT_ROOT_ENV = "KPIANALYSIS_PROJECT_ROOT"


def find_project_root(start: Path | str | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: cwd) holding ``pyproject.toml``.

    Notebooks run with the project root as working directory under the pipeline and the
    papermill CLI, but JupyterLab starts kernels in ``notebooks/``; both find the same data.
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if all((folder / m).exists() for m in PROJECT_MARKERS):
            return folder
    return here


def project_root() -> Path:
    """The root that relative data paths of a notebook resolve against.

    ``$KPIANALYSIS_PROJECT_ROOT`` when set (``kpianalysis build`` sets it for each kernel), else
    :func:`find_project_root` from the working directory (JupyterLab, the papermill CLI).

    Raises
    ------
    FileNotFoundError
        If the variable names a directory that does not exist.

    Examples
    --------
    >>> project_root().is_dir()
    True
    """
    told = os.environ.get(PROJECT_ROOT_ENV)
    if told:
        root = Path(told)
        if not root.is_dir():
            raise FileNotFoundError(f"{PROJECT_ROOT_ENV}={told!r} is not a directory")
        return root.resolve()
    return find_project_root()
