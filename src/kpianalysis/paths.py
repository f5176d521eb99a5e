"""Default locations inside a project, defined once: the CLI, the build and notebooks use them."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DEFAULT_NOTEBOOKS",
    "DEFAULT_PRIOR",
    "DEFAULT_PROCESSED",
    "DEFAULT_RAW",
    "DEFAULT_REPORTS",
    "PROJECT_MARKERS",
    "PROJECT_ROOT_ENV",
    "archive_name_problem",
    "find_project_root",
    "project_root",
]

DEFAULT_RAW = Path("data/raw")
DEFAULT_PROCESSED = Path("data/processed")
DEFAULT_NOTEBOOKS = Path("notebooks")
DEFAULT_REPORTS = Path("reports")
#: The versioned trend variance prior (``kpianalysis estimate-prior`` writes it).
DEFAULT_PRIOR = Path("data/reference/trend_prior.json")

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


#: Names the archive (``reports/``) gives its own folders and pages, compared case-insensitively
#: (a case-insensitive file system would merge ``Panel`` with ``panel``).
ARCHIVE_RESERVED = ("panel", "failed", "index")
#: What the archive's own files end with: a folder with such a name would shadow a page.
ARCHIVE_SUFFIXES = (".html", ".json", ".ipynb", ".log", ".lock", ".csv")
#: The longest suffix the archive adds to a notebook's name (an English run's kernel log).
LONGEST_SUFFIX = ".en.kernel.log"
#: Bytes in one file name on the usual file systems (ext4, XFS, APFS, NTFS in UTF-16 units).
NAME_MAX = 255


def archive_name_problem(kind: str, name: str) -> str | None:
    """Why ``name`` cannot name a programme (``kind="programme"``) or a notebook in the archive.

    A programme id is a folder of ``reports/``, beside ``panel/``, ``failed/``, ``index.html``,
    ``.staging/``, ``.lock``; a notebook's name becomes ``<name>.html``, ``<name>.en.html``,
    ``<name>.run.json``, ``<name>.en.kernel.log`` … beside the other notebooks' files, so it
    holds no ``.`` (``attainment.en`` would overwrite the English attainment report) and fits
    a file name with every suffix. ``None`` when the name is fine.

    Examples
    --------
    >>> archive_name_problem("programme", "23205-community") is None
    True
    >>> archive_name_problem("programme", "index.html")
    "'index.html' ends with '.html', like the archive's own files"
    >>> archive_name_problem("notebook", "attainment.en")[:28]
    "'attainment.en' holds '.': a"
    """
    folded = name.casefold()
    if kind == "programme":
        if folded in ARCHIVE_RESERVED:
            return f"{name!r} is reserved for the archive's own {folded!r}"
        suffix = next((s for s in ARCHIVE_SUFFIXES if folded.endswith(s)), None)
        if suffix:
            return f"{name!r} ends with {suffix!r}, like the archive's own files"
        return None
    if not name or not name[0].isalnum() or any(not (c.isalnum() or c in "_-") for c in name):
        bad = next((c for c in name if not (c.isalnum() or c in "_-")), name[:1])
        return (
            f"{name!r} holds {bad!r}: a notebook's name is letters, digits, '_' and '-' "
            "(the archive adds '.en', '.html', '.run.json')"
        )
    size = len(name.encode("utf-8")) + len(LONGEST_SUFFIX)
    if size > NAME_MAX:
        return (
            f"a notebook name of {len(name)} characters makes file names of {size} bytes "
            f"({name[:20]}…{LONGEST_SUFFIX}); at most {NAME_MAX} fit"
        )
    return None
