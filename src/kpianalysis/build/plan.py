"""Planning a build: which notebooks run for which programmes and fiscal years, their parameters,
run keys and archive locations.

No kernel starts here. A notebook whose parameters cell declares ``programme_id`` is
*programme-scoped*: one run per (programme, fiscal year of that programme), archived under
``<programme_id>/fy<YEAR>/``. Any other notebook is *panel-scoped*: one run per fiscal year over
all programmes, under ``panel/fy<YEAR>/``. A run's key is the sha256 of everything its report
depends on — for a programme run, *that programme's* data as of its fiscal year; for a panel run,
all programmes' — plus the notebook, the library source, ``uv.lock`` and its parameters. So adding
or changing one programme changes the keys of that programme's runs and of the panel runs only.
"""

from __future__ import annotations

import bisect
import collections
import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kpianalysis.analysis.results import ResultsByYear, YearResults
from kpianalysis.build.archive import location
from kpianalysis.build.parameters import (
    STANDARD_DEFAULTS,
    check_fiscal_year,
    has_parameters_cell,
    notebook_parameter_names,
    validate_parameters,
)
from kpianalysis.data.dataset import Dataset, programme_folders
from kpianalysis.errors import ParameterError
from kpianalysis.fileio import sha256_file
from kpianalysis.report.headline import panel_headline, programme_headlines

# Bump when the run record layout or output normalisation changes: invalidates every run key.
FORMAT_VERSION = 2

#: Archive scope of panel-scoped notebooks (a programme id may not take this name).
PANEL = "panel"
#: Names a programme id may not have: they are folders of the archive itself.
RESERVED_SCOPES = (PANEL, "failed")


@dataclass(frozen=True, slots=True)  # slots: a national plan holds 174,000
class RunSpec:
    """One run: a notebook for one programme (or the panel) and fiscal year, with validated
    parameters, its key and where it is archived."""

    notebook: Path
    name: str
    fiscal_year: int
    parameters: dict[str, Any]
    inputs: Mapping[str, str]
    run_key: str
    headline: Any = None
    programme_id: str | None = None
    language: str = "ja"
    provenance: dict[str, Any] | None = None
    #: What the run's record needs but its key does not — the headline, the raw files' digests
    #: — as a function giving the fields to fill in: :meth:`resolved` calls it for the runs
    #: that are executed only, so a build that skips every run never computes them.
    pending: Callable[[], dict[str, Any]] | None = field(default=None, repr=False, compare=False)

    def resolved(self) -> RunSpec:
        """This run with :attr:`pending` filled in (``headline``, ``inputs`` with the raw files).

        Examples
        --------
        >>> spec = RunSpec(Path("n.ipynb"), "n", 2023, {}, {"a": "1"}, "",
        ...                pending=lambda: {"headline": {"n_kpis": 4}})
        >>> spec.headline is None, spec.resolved().headline
        (True, {'n_kpis': 4})
        """
        return replace(self, **self.pending(), pending=None) if self.pending else self

    @property
    def scope(self) -> str:
        """The programme id, or ``panel``."""
        return self.programme_id or PANEL

    @property
    def stem(self) -> str:
        """File stem in the archive: the notebook name, ``.en`` added for English."""
        return self.name if self.language == "ja" else f"{self.name}.{self.language}"

    @property
    def where(self) -> str:
        """Archive folder relative to the archive, e.g. ``23205-community/fy2023``."""
        return location(self.scope, self.fiscal_year)

    @property
    def identity(self) -> str:
        """What the run is, independent of its inputs: ``<scope>/fy<YEAR>/<stem>``."""
        return f"{self.where}/{self.stem}"

    @property
    def label(self) -> str:
        """For messages: ``attainment FY2023`` (panel) or ``23205-community: attainment FY2023``."""
        who = f"{self.programme_id}: " if self.programme_id else ""
        return f"{who}{self.stem} FY{self.fiscal_year}"


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


def library_inputs() -> dict[str, str]:
    """sha256 of every ``kpianalysis/*.py`` source file, keyed ``kpianalysis/<file>.py``.

    Examples
    --------
    >>> "kpianalysis/build/plan.py" in library_inputs()
    True
    """
    lib = library_dir()
    return {
        f"kpianalysis/{p.relative_to(lib).as_posix()}": sha256_file(p)
        for p in sorted(lib.rglob("*.py"))
    }


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
    out.update(library_inputs())
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


#: What ``json.dumps`` writes for a string (with its default ``ensure_ascii``).
_json_str = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


def _json_flat(mapping: Mapping[str, Any]) -> str:
    """``json.dumps(mapping, sort_keys=True)``, with string and integer values written directly.

    Examples
    --------
    >>> _json_flat({"b": "x", "a": 2023, "c": [1, {"z": 1, "y": None}]})
    '{"a": 2023, "b": "x", "c": [1, {"y": null, "z": 1}]}'
    """
    parts = []
    for k in sorted(mapping):
        if not isinstance(k, str):
            return json.dumps(mapping, sort_keys=True)
        v = mapping[k]
        if type(v) is str:
            text = _json_str(v)
        elif type(v) is int:
            text = int.__repr__(v)
        else:
            text = json.dumps(v, sort_keys=True)
        parts.append(f"{_json_str(k)}: {text}")
    return "{" + ", ".join(parts) + "}"


def run_keys_over(common: Mapping[str, str], notebook: str) -> Callable[..., str]:
    """``key(own, parameters)`` = ``run_key({**common, **own}, parameters, notebook)``.

    The shared inputs (library, ``uv.lock``, notebook: ~50 digests) are written as JSON once,
    not once per run: a national plan keys 174,000 runs. Same text, same key; a run with more
    than one input of its own, or one that shadows a shared input, takes :func:`run_key`.

    Examples
    --------
    >>> key = run_keys_over({"lib": "1", "nb": "2"}, "x")
    >>> key({"data": "3"}, {"fiscal_year": 2023}) == run_key(
    ...     {"lib": "1", "nb": "2", "data": "3"}, {"fiscal_year": 2023}, "x")
    True
    """
    names = sorted(common)
    written = [f"{json.dumps(k)}: {json.dumps(common[k])}" for k in names]
    head = f'{{"format": {json.dumps(FORMAT_VERSION)}, "inputs": {{'
    tail = f'}}, "notebook": {json.dumps(notebook)}, "parameters": '
    around: dict[int, tuple[str, str]] = {}

    def key(own: Mapping[str, str], parameters: Mapping[str, Any]) -> str:
        if len(own) != 1 or next(iter(own)) in common:
            return run_key({**common, **own}, parameters, notebook)
        ((name, digest),) = own.items()
        at = bisect.bisect_left(names, name)
        if at not in around:
            around[at] = (", ".join(written[:at]), ", ".join(written[at:]))
        left, right = around[at]
        entry = f"{_json_str(name)}: {_json_str(digest)}"
        inputs = ", ".join(part for part in (left, entry, right) if part)
        text = head + inputs + tail + _json_flat(parameters) + "}"
        return hashlib.sha256(text.encode()).hexdigest()

    return key


def programme_years(dataset: Any) -> dict[str, list[int]]:
    """Fiscal years of each programme's reports: the years it has an actual value for.

    A programme with targets but no actual yet gets one *plan report*, for its plan's first
    fiscal year.

    Examples
    --------
    >>> programme_years(load_dataset("data/raw"))  # doctest: +SKIP
    {'23205-community': [2021, 2022, 2023]}
    """
    obs = dataset.observations
    known = obs.loc[obs["actual"].notna(), ["programme_id", "fiscal_year"]].drop_duplicates()
    years: dict[str, list[int]] = {}
    for pid, fy in zip(known["programme_id"], known["fiscal_year"], strict=True):
        years.setdefault(str(pid), []).append(int(fy))
    out = {}
    for pid, start in zip(
        dataset.programmes["programme_id"], dataset.programmes["plan_start"], strict=True
    ):
        out[str(pid)] = sorted(years.get(str(pid), [])) or [int(start)]
    return out


def select_shard(specs: Sequence[RunSpec], shard: tuple[int, int] | None) -> list[RunSpec]:
    """The runs of shard ``K`` of ``N`` (1-based): those whose identity hashes to ``K - 1``.

    The partition depends only on each run's identity (programme, year, notebook, language),
    not on the plan or the machine, so N processes given ``1/N`` … ``N/N`` together run every
    run exactly once, and a run stays in its shard from one build to the next.

    Examples
    --------
    >>> spec = lambda y: RunSpec(Path("n.ipynb"), "n", y, {}, {}, "")
    >>> runs = [spec(y) for y in range(2000, 2010)]
    >>> parts = [select_shard(runs, (k, 3)) for k in (1, 2, 3)]
    >>> sorted(s.fiscal_year for p in parts for s in p) == list(range(2000, 2010))
    True
    """
    if shard is None:
        return list(specs)
    k, n = shard
    if not (n >= 1 and 1 <= k <= n):
        raise ParameterError(f"--shard must be K/N with 1 <= K <= N, got {k}/{n}")

    def bucket(spec: RunSpec) -> int:
        return int(hashlib.sha256(spec.identity.encode()).hexdigest()[:16], 16) % n

    return [s for s in specs if bucket(s) == k - 1]


def _raw_by_programme(
    shared: Mapping[str, str], root: Path, raw_dir: str, programme_ids: Iterable[str]
) -> dict[str, dict[str, str]]:
    """Each programme's raw-file digests (``raw/<folder>/<file>``), for its run records."""
    wanted = set(programme_ids)
    if not wanted:
        return {}
    raw_path = (Path(root) / raw_dir).resolve()
    out: dict[str, dict[str, str]] = {pid: {} for pid in wanted}
    folder_of = {
        folder.resolve().relative_to(raw_path).as_posix(): pid
        for pid, folder in programme_folders(raw_path).items()
        if pid in wanted
    }
    for key, digest in shared.items():
        if key.startswith("raw/"):
            folder = key[len("raw/") :].rsplit("/", 1)[0]
            if folder in folder_of:
                out[folder_of[folder]][key] = digest
    return out


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
    programmes: Sequence[str] | None = None,
) -> list[RunSpec]:
    """Validate every run's parameters and compute its key; no kernel is started.

    Parameters
    ----------
    fiscal_years
        The years asked for (each must be in the data of some programme or of the panel).
    data_years
        Fiscal years with an actual in the whole data (the panel's years).
    dataset
        The validated data, best as the :class:`ResultsByYear` that already wrote
        ``data/processed``: each year's cut and tables are then reused for the run keys and the
        headlines, not computed again. ``None`` plans panel runs only (keyed on the raw files).
    programmes
        Restrict to these programmes (``--programme``): their runs only, no panel run.

    Raises
    ------
    ParameterError
        For the first refused parameter (bad year, unknown programme, path outside the
        project, unknown name, ...).

    Examples
    --------
    >>> plan_runs([Path("notebooks/x.ipynb")], root=Path("."), fiscal_years=[2023],
    ...           data_years=[2023], raw_dir="data/raw",
    ...           processed_dir="data/processed")  # doctest: +SKIP
    """
    results = ResultsByYear(dataset) if isinstance(dataset, Dataset) else dataset
    ds = results.dataset if results is not None else None
    # The years it holds, from its keys: `fy in results` would cut the year (a Mapping's `in`
    # gets the item), 0.3 s and 20 MB a year for the country, for a no-op build that needs none.
    result_years = set(results) if results is not None else set()
    library = common_inputs(root, raw_dir, raw=False) if notebooks else {}

    # The raw files' digests key only a panel run planned without the data; otherwise they are
    # recorded for provenance, hashed (~43,000 files for the country) only if a run executes.
    @functools.cache
    def shared() -> dict[str, str]:
        return common_inputs(root, raw_dir) if notebooks else {}

    @functools.cache
    def raw_of() -> dict[str, dict[str, str]]:
        return _raw_by_programme(shared(), root, raw_dir, selected if any_programme_nb else [])

    years_of = programme_years(ds) if ds is not None else {}
    for pid in years_of:
        if pid in RESERVED_SCOPES:
            raise ParameterError(f"programme id {pid!r} is reserved for the archive's own folders")
    if programmes is not None:
        unknown = [p for p in dict.fromkeys(programmes) if p not in years_of]
        if unknown:
            raise ParameterError(
                f"unknown programme {', '.join(map(repr, unknown))} "
                f"(programmes: {', '.join(years_of) or 'none'})"
            )
    selected = list(dict.fromkeys(programmes)) if programmes is not None else list(years_of)
    all_years = sorted({*map(int, data_years), *(y for ys in years_of.values() for y in ys)})
    for fy in fiscal_years:
        check_fiscal_year(fy, all_years)
    wanted_years = set(fiscal_years)
    declared_of = {nb: notebook_parameter_names(nb) for nb in notebooks}
    for nb_path, declared in declared_of.items():
        if "fiscal_year" not in declared:
            raise ParameterError(f"{nb_path.name}: its parameters cell must declare fiscal_year")
    any_programme_nb = any("programme_id" in d for d in declared_of.values())
    unchecked = list(ds.unchecked_programmes) if ds is not None else []
    unchecked_set = set(unchecked)
    # Each programme run's provenance: one of two (shared, never modified) mappings.
    checked = {"source_checked": True}
    not_checked = {
        "source_checked": False,
        "note": "transcription not checked against a source document (programme.csv names no "
        "source_file)",
    }

    # Each year is cut once (by ResultsByYear, shared with data/processed) and split by
    # programme once; a plan report's year without any actual in the data is cut per programme.
    cut_parts: dict[int, dict[str, Dataset]] = {}
    own_years: dict[tuple[str, int], YearResults] = {}
    whole_parts: dict[str, Dataset] = {}

    def programme_cut(pid: str, fy: int) -> Dataset:
        if fy in result_years:
            if fy not in cut_parts:
                cut_parts[fy] = results[fy].dataset.by_programme()
            return cut_parts[fy][pid]
        if (pid, fy) not in own_years:
            if not whole_parts:
                whole_parts.update(ds.by_programme())
            own_years[(pid, fy)] = YearResults(whole_parts[pid].as_of(fy))
        return own_years[(pid, fy)].dataset

    year_headlines: dict[int, dict[str, Any]] = {}
    own_headlines: dict[tuple[str, int], Any] = {}

    def headline(pid: str, fy: int) -> Any:
        if fy in result_years:
            # The panel's tables of the year (shared with data/processed), split once.
            if fy not in year_headlines:
                year_headlines[fy] = programme_headlines(results[fy])
            return year_headlines[fy][pid]
        if (pid, fy) not in own_headlines:
            programme_cut(pid, fy)
            own_headlines[(pid, fy)] = programme_headlines(own_years[(pid, fy)])[pid]
        return own_headlines[(pid, fy)]

    # Every programme-year's data digest at once (one CSV formatting per table, not one per
    # programme-year); the years of plan reports only are cut per programme below.
    fast_digests: dict[tuple[str, int], str] = {}
    if results is not None and any_programme_nb:
        in_results = {
            fy
            for pid in selected
            for fy in years_of[pid]
            if fy in result_years and (not fiscal_years or fy in wanted_years)
        }
        fast_digests = ds.programme_digests(sorted(in_results)) or {}

    def programme_digest(pid: str, fy: int) -> str:
        known = fast_digests.get((pid, fy))
        return known if known is not None else programme_cut(pid, fy).digest()

    def programme_pending(pid: str, fy: int, inputs: Mapping[str, str]) -> Callable[[], Any]:
        return lambda: {
            "headline": headline(pid, fy),
            "inputs": {**inputs, **raw_of().get(pid, {})},
        }

    def panel_pending(fy: int, inputs: dict[str, str]) -> Callable[[], Any]:
        def fill() -> dict[str, Any]:
            raw = {k: v for k, v in shared().items() if k.startswith("raw/")}
            head = panel_headline([headline(p, fy) for p, ys in years_of.items() if fy in ys], fy)
            return {"headline": head, "inputs": {**inputs, **raw}}

        return fill

    panel_digest: dict[int, str] = {}
    specs = []
    for nb_path, declared in declared_of.items():
        notebook_input = {f"notebooks/{nb_path.name}": sha256_file(nb_path)}
        base = {
            **STANDARD_DEFAULTS,
            "raw_dir": raw_dir,
            "processed_dir": processed_dir,
            "language": language,
        }
        # Standard parameters a notebook does not declare are not passed to it. They are the
        # same for every run of the notebook: checked once (paths resolved on disk), not per run.
        base = validate_parameters(
            {k: v for k, v in base.items() if k in declared},
            declared=[k for k in declared if k != "fiscal_year"],
            fiscal_years=(),
            root=root,
            notebook=nb_path.name,
        )
        if "programme_id" in declared:
            key_of = run_keys_over({**library, **notebook_input}, nb_path.stem)
            # The shared inputs are one mapping under every run's own (a ChainMap: 174,000
            # copies of ~50 digests would hold ~400 MB); resolved() makes each a dict.
            shared_inputs = {**library, **notebook_input}
            for pid in selected:
                years = years_of[pid]
                # The programme id and the type of its years, checked once; each year below is
                # one of its own years, so among them.
                validate_parameters(
                    {"fiscal_year": years[0], "programme_id": pid},
                    declared=declared,
                    fiscal_years=years,
                    root=root,
                    notebook=nb_path.name,
                )
                provenance = checked if pid not in unchecked_set else not_checked
                for fy in years:
                    if fiscal_years and fy not in wanted_years:
                        continue
                    params = {"fiscal_year": fy, **base, "programme_id": pid}
                    # Keyed on this programme's data as of the year: another programme's
                    # folder cannot change it. Its raw files are recorded for provenance.
                    own_input = {f"data/{pid}/as_of_fy{fy}": programme_digest(pid, fy)}
                    key_inputs = collections.ChainMap(own_input, shared_inputs)
                    specs.append(
                        RunSpec(
                            notebook=nb_path,
                            name=nb_path.stem,
                            fiscal_year=fy,
                            parameters=params,
                            inputs=key_inputs,
                            run_key=key_of(own_input, params),
                            programme_id=pid,
                            language=language,
                            provenance=provenance,
                            pending=programme_pending(pid, fy, key_inputs),
                        )
                    )
            continue
        if programmes is not None:
            continue  # --programme: that programme's runs only, no panel run
        for fy in fiscal_years or data_years:
            if fy not in data_years:
                continue  # a year of a plan report only: no panel for it
            own = validate_parameters(
                {"fiscal_year": fy},
                declared=declared,
                fiscal_years=data_years,
                root=root,
                notebook=nb_path.name,
            )
            params = {**own, **base}
            pending = None
            if results is not None:
                if fy not in panel_digest:
                    panel_digest[fy] = results[fy].dataset.digest()
                # Key on the data as of this year, not on the raw files: new rows for a later
                # year leave this run's key, and so its archived report, untouched. The raw
                # files' digests are still recorded for provenance.
                key_inputs = {**library, **notebook_input, f"data/as_of_fy{fy}": panel_digest[fy]}
                pending = panel_pending(fy, key_inputs)
            else:
                key_inputs = {**shared(), **notebook_input}
            specs.append(
                RunSpec(
                    notebook=nb_path,
                    name=nb_path.stem,
                    fiscal_year=fy,
                    parameters=params,
                    inputs=key_inputs,
                    run_key=run_key(key_inputs, params, nb_path.stem),
                    language=language,
                    provenance={"unchecked_programmes": unchecked} if ds is not None else None,
                    pending=pending,
                )
            )
    return specs
