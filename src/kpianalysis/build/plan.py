"""Planning a build: which notebooks run for which fiscal years, their parameters and run keys.

No kernel starts here. A run's key is the sha256 of everything its report depends on (the data as
of its fiscal year, the notebook, the library source, ``uv.lock``) and its parameters.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kpianalysis.analysis.results import ResultsByYear
from kpianalysis.build.parameters import (
    STANDARD_DEFAULTS,
    has_parameters_cell,
    notebook_parameter_names,
    validate_parameters,
)
from kpianalysis.data.dataset import Dataset
from kpianalysis.errors import ParameterError
from kpianalysis.fileio import sha256_file
from kpianalysis.report.headline import headline_for

# Bump when the run record layout or output normalisation changes: invalidates every run key.
FORMAT_VERSION = 1


@dataclass(frozen=True)
class RunSpec:
    """One run: a notebook for one fiscal year, with validated parameters and its key."""

    notebook: Path
    name: str
    fiscal_year: int
    parameters: dict[str, Any]
    inputs: dict[str, str]
    run_key: str
    headline: Any = None


@dataclass
class RunOutcome:
    """What became of one run: ``ok``, ``skipped`` or ``failed`` (with a one-line error)."""

    spec: RunSpec
    outcome: str
    error: str | None = None
    failed_notebook: Path | None = None


def discover_notebooks(notebooks_dir: Path, names: Iterable[str] | None = None) -> list[Path]:
    """Report notebooks: ``*.ipynb`` in ``notebooks_dir`` with a cell tagged ``parameters``.

    Parameters
    ----------
    notebooks_dir
        Directory to scan (not recursive; checkpoints are ignored).
    names
        Restrict to these stems (``--notebook``); an unknown name raises :class:`ParameterError`.

    Examples
    --------
    >>> [p.name for p in discover_notebooks(Path("notebooks"))]  # doctest: +SKIP
    ['attainment.ipynb', 'trends.ipynb']
    """
    found = [p for p in sorted(Path(notebooks_dir).glob("*.ipynb")) if has_parameters_cell(p)]
    if names is None:
        return found
    wanted = list(dict.fromkeys(names))
    by_name = {p.stem: p for p in found}
    missing = [n for n in wanted if n not in by_name]
    if missing:
        raise ParameterError(
            f"unknown notebook {', '.join(map(repr, missing))} in {notebooks_dir} "
            f"(reports: {', '.join(by_name) or 'none'})"
        )
    return [by_name[n] for n in wanted]


def library_dir() -> Path:
    """The installed ``kpianalysis`` package directory (its source is an input of every run)."""
    return Path(__file__).resolve().parent.parent


def common_inputs(root: Path, raw_dir: str, *, raw: bool = True) -> dict[str, str]:
    """sha256 of the inputs shared by every run: raw files, library source, ``uv.lock``.

    Keys are stable labels: ``raw/<path under raw_dir>``, ``kpianalysis/<file>.py``, ``uv.lock``;
    ``raw=False`` leaves the raw files out (the library and lock only).

    Examples
    --------
    >>> sorted(common_inputs(Path("."), "data/raw"))[:1]  # doctest: +SKIP
    ['kpianalysis/__init__.py']
    """
    root = Path(root)
    out: dict[str, str] = {}
    raw_path = root / raw_dir
    for p in sorted(raw_path.rglob("*")) if raw else ():
        if p.is_file():
            out[f"raw/{p.relative_to(raw_path).as_posix()}"] = sha256_file(p)
    lib = library_dir()
    for p in sorted(lib.rglob("*.py")):
        out[f"kpianalysis/{p.relative_to(lib).as_posix()}"] = sha256_file(p)
    lock = root / "uv.lock"
    if lock.is_file():
        out["uv.lock"] = sha256_file(lock)
    return out


def run_key(inputs: Mapping[str, str], parameters: Mapping[str, Any], notebook: str) -> str:
    """sha256 over a run's input digests, its parameters and the notebook name.

    Independent of dict order, time and git state: the same inputs give the same key.

    Examples
    --------
    >>> k = run_key({"a": "1"}, {"fiscal_year": 2023}, "x")
    >>> k == run_key({"a": "1"}, {"fiscal_year": 2023}, "x"), len(k)
    (True, 64)
    """
    payload = {
        "format": FORMAT_VERSION,
        "notebook": notebook,
        "inputs": dict(sorted(inputs.items())),
        "parameters": dict(sorted(parameters.items())),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def plan_runs(
    notebooks: Sequence[Path],
    *,
    root: Path,
    fiscal_years: Sequence[int],
    data_years: Sequence[int],
    raw_dir: str,
    processed_dir: str,
    language: str = "ja",
    dataset: ResultsByYear | Dataset | None = None,
) -> list[RunSpec]:
    """Validate every run's parameters and compute its key; no kernel is started.

    ``dataset`` is the validated data, best as the :class:`ResultsByYear` that already wrote
    ``data/processed``: each year's cut and tables are then reused for the run key and the
    headline, not computed again.

    Raises
    ------
    ParameterError
        For the first refused parameter (bad year, path outside the project, unknown name, ...).

    Examples
    --------
    >>> plan_runs([Path("notebooks/x.ipynb")], root=Path("."), fiscal_years=[2023],
    ...           data_years=[2023], raw_dir="data/raw",
    ...           processed_dir="data/processed")  # doctest: +SKIP
    """
    shared = common_inputs(root, raw_dir) if notebooks else {}
    results = ResultsByYear(dataset) if isinstance(dataset, Dataset) else dataset
    headlines: dict[int, Any] = {}
    as_of: dict[int, str | None] = {}
    specs = []
    for nb_path in notebooks:
        declared = notebook_parameter_names(nb_path)
        if "fiscal_year" not in declared:
            raise ParameterError(f"{nb_path.name}: its parameters cell must declare fiscal_year")
        inputs = {**shared, f"notebooks/{nb_path.name}": sha256_file(nb_path)}
        for fy in fiscal_years:
            wanted = {
                "fiscal_year": fy,
                **STANDARD_DEFAULTS,
                "raw_dir": raw_dir,
                "processed_dir": processed_dir,
                "language": language,
            }
            # Standard parameters a notebook does not declare are not passed to it.
            wanted = {k: v for k, v in wanted.items() if k == "fiscal_year" or k in declared}
            params = validate_parameters(
                wanted, declared=declared, fiscal_years=data_years, root=root, notebook=nb_path.name
            )
            if fy not in headlines:
                year = results[fy] if results is not None else None
                headlines[fy] = headline_for(year)
                as_of[fy] = year.dataset.digest() if year is not None else None
            run_inputs = dict(inputs)
            key_inputs = inputs
            if as_of[fy] is not None:
                # Key on the data as of this year, not on the raw files: new rows for a later
                # year leave this run's key, and so its archived report, untouched. The raw
                # files' digests are still recorded for provenance.
                run_inputs[f"data/as_of_fy{fy}"] = as_of[fy]
                key_inputs = {k: v for k, v in run_inputs.items() if not k.startswith("raw/")}
            specs.append(
                RunSpec(
                    notebook=nb_path,
                    name=nb_path.stem,
                    fiscal_year=fy,
                    parameters=params,
                    inputs=run_inputs,
                    run_key=run_key(key_inputs, params, nb_path.stem),
                    headline=headlines[fy],
                )
            )
    return specs
