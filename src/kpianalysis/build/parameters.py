"""Validation of report parameters, done before any kernel starts.

A report notebook declares its parameters in one cell tagged ``parameters``. The pipeline passes
the *standard parameters* below to every notebook; a notebook may declare more, and a caller may
override those by name. Everything is checked here so that a bad request fails in milliseconds
with one clear line instead of half-way through a kernel run:

- ``fiscal_year`` must be an ``int`` (not ``bool``, ``float`` or ``str``) among the data's years;
- every path parameter (a name ending in ``_dir``, ``_path`` or ``_file``) must resolve inside the
  project root — no ``..`` escape, no absolute path elsewhere, no symlink pointing out;
- ``language`` must be ``"ja"`` or ``"en"``;
- a name the notebook's parameters cell does not declare is refused (papermill would otherwise
  silently inject a variable nobody reads).

Path parameters are passed to the kernel *relative to the project root*: the pipeline starts
every kernel in the project root and sets ``$KPIANALYSIS_PROJECT_ROOT`` for it, and notebooks
resolve relative paths with :func:`kpianalysis.paths.project_root`, so archived notebooks hold no
absolute path and the same notebook also runs under the plain CLI from the project root:
``papermill notebooks/x.ipynb out.ipynb -p fiscal_year 2022``.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kpianalysis.errors import ParameterError
from kpianalysis.paths import DEFAULT_PRIOR, DEFAULT_PROCESSED, DEFAULT_RAW

__all__ = [
    "LANGUAGES",
    "PATH_SUFFIXES",
    "STANDARD_DEFAULTS",
    "check_fiscal_year",
    "check_path",
    "has_parameters_cell",
    "notebook_parameter_names",
    "parameters_cell",
    "validate_parameters",
]

LANGUAGES = ("ja", "en")
STANDARD_DEFAULTS: dict[str, Any] = {
    "raw_dir": DEFAULT_RAW.as_posix(),
    "processed_dir": DEFAULT_PROCESSED.as_posix(),
    "language": "ja",
    "prior_file": DEFAULT_PRIOR.as_posix(),
}
PATH_SUFFIXES = ("_dir", "_path", "_file")


def notebook_parameter_names(notebook: Path) -> list[str]:
    """Names assigned in the notebook's cell tagged ``parameters``, in source order.

    Parsed with :mod:`ast` (no kernel, no papermill translator), so annotated assignments
    (``fiscal_year: int = 2023``) and plain ones both count.

    Parameters
    ----------
    notebook
        Path of an ``.ipynb`` file.

    Returns
    -------
    list of str
        Empty when the notebook has no ``parameters`` cell.

    Raises
    ------
    ParameterError
        If the file is not a readable notebook or its parameters cell is not valid Python.

    Examples
    --------
    >>> notebook_parameter_names(Path("notebooks/attainment.ipynb"))  # doctest: +SKIP
    ['fiscal_year', 'raw_dir', 'processed_dir', 'language']
    """
    cell = parameters_cell(notebook)
    if cell is None:
        return []
    source = cell["source"]
    if isinstance(source, list):
        source = "".join(source)
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(f"{notebook}: parameters cell is not valid Python: {exc}") from exc
    names: list[str] = []
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and target.id not in names:
                names.append(target.id)
    return names


def has_parameters_cell(notebook: Path) -> bool:
    """Whether the notebook has a code cell tagged ``parameters`` (what makes it a report).

    Examples
    --------
    >>> has_parameters_cell(Path("notebooks/attainment.ipynb"))  # doctest: +SKIP
    True
    """
    try:
        return parameters_cell(notebook) is not None
    except ParameterError:
        return False


def parameters_cell(notebook: Path) -> Mapping[str, Any] | None:
    """The notebook's code cell tagged ``parameters``, or ``None`` if it has none.

    Raises
    ------
    ParameterError
        When the file is not a readable notebook (naming it).
    """
    try:
        nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ParameterError(f"{notebook}: not a readable notebook: {exc}") from exc
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get(
            "tags", []
        ):
            return cell
    return None


def check_fiscal_year(value: object, years: Iterable[int]) -> int:
    """Return ``value`` if it is an ``int`` fiscal year among ``years``; else raise.

    Examples
    --------
    >>> check_fiscal_year(2023, [2021, 2022, 2023])
    2023
    >>> check_fiscal_year("2023", [2023])
    Traceback (most recent call last):
    ...
    kpianalysis.errors.ParameterError: fiscal_year must be an integer, got str '2023'
    """
    # bool is a subclass of int: True would otherwise pass as fiscal year 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(
            f"fiscal_year must be an integer, got {type(value).__name__} {value!r}"
        )
    years = list(years)
    if value not in years and value not in {int(y) for y in years}:
        shown = ", ".join(map(str, sorted(int(y) for y in years))) or "none"
        raise ParameterError(f"fiscal_year {value} has no data (fiscal years in the data: {shown})")
    return value


def check_path(name: str, value: object, root: Path) -> str:
    """Return ``value`` as a POSIX path relative to ``root``, refusing anything outside it.

    Parameters
    ----------
    name
        Parameter name, for the message.
    value
        A ``str`` or :class:`~pathlib.Path`, relative to ``root`` or absolute inside it.
    root
        The project root.

    Examples
    --------
    >>> check_path("raw_dir", "data/raw", Path("/project"))
    'data/raw'
    >>> check_path("raw_dir", "../x", Path("/project"))
    Traceback (most recent call last):
    ...
    kpianalysis.errors.ParameterError: raw_dir '../x' is outside the project root /project
    """
    if isinstance(value, Path):
        value = str(value)
    if not isinstance(value, str) or not value or "\x00" in value:
        raise ParameterError(f"{name} must be a non-empty path string, got {value!r}")
    root_resolved = Path(root).resolve()
    candidate = Path(value)
    if not candidate.is_absolute():
        candidate = root_resolved / candidate
    # resolve() follows symlinks, so a link inside the project pointing out is refused too.
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root_resolved):
        raise ParameterError(f"{name} {value!r} is outside the project root {root_resolved}")
    rel = resolved.relative_to(root_resolved).as_posix()
    return rel or "."


def validate_parameters(
    parameters: Mapping[str, object],
    *,
    declared: Iterable[str],
    fiscal_years: Iterable[int],
    root: Path,
    notebook: str = "notebook",
) -> dict[str, Any]:
    """Check every parameter of one run; return them normalised (paths relative to ``root``).

    Parameters
    ----------
    parameters
        Name → value, e.g. ``{"fiscal_year": 2023, "raw_dir": "data/raw", "language": "ja"}``.
    declared
        Names the notebook's parameters cell assigns (:func:`notebook_parameter_names`).
    fiscal_years
        Fiscal years present in the data.
    root
        Project root; path parameters must resolve inside it.
    notebook
        Notebook name, for messages.

    Returns
    -------
    dict
        The same names, with path values as POSIX paths relative to ``root``.

    Raises
    ------
    ParameterError
        On the first refused parameter, naming the notebook, the parameter and the value.

    Examples
    --------
    >>> validate_parameters({"fiscal_year": 2023}, declared=["fiscal_year"],
    ...                     fiscal_years=[2023], root=Path("/p"))
    {'fiscal_year': 2023}
    """
    declared_set = set(declared)
    out: dict[str, Any] = {}
    for name, value in parameters.items():
        if name not in declared_set:
            known = ", ".join(sorted(declared_set)) or "none"
            raise ParameterError(
                f"{notebook}: unknown parameter {name!r} (its parameters cell declares: {known})"
            )
        try:
            if name == "fiscal_year":
                out[name] = check_fiscal_year(value, fiscal_years)
            elif name == "language":
                if value not in LANGUAGES:
                    raise ParameterError(f"language must be one of {LANGUAGES}, got {value!r}")
                out[name] = value
            elif name.endswith(PATH_SUFFIXES):
                out[name] = check_path(name, value, root)
            else:
                out[name] = value
        except ParameterError as exc:
            raise ParameterError(f"{notebook}: {exc}") from exc
    if "fiscal_year" in declared_set and "fiscal_year" not in out:
        raise ParameterError(f"{notebook}: fiscal_year is required")
    return out
