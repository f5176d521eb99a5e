"""Default locations inside a project, defined once: the CLI, the build and notebooks use them."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "DEFAULT_NOTEBOOKS",
    "DEFAULT_PROCESSED",
    "DEFAULT_RAW",
    "DEFAULT_REPORTS",
    "PROJECT_MARKERS",
    "find_project_root",
]

DEFAULT_RAW = Path("data/raw")
DEFAULT_PROCESSED = Path("data/processed")
DEFAULT_NOTEBOOKS = Path("notebooks")
DEFAULT_REPORTS = Path("reports")

#: What marks a project root: both must exist there.
PROJECT_MARKERS = ("pyproject.toml", "data")


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
