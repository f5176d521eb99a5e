"""Planning a build: which notebooks run for which programmes and fiscal years, their parameters,
run keys and archive locations.

No kernel starts here. A notebook whose parameters cell declares ``programme_id`` is
*programme-scoped*: one run per (programme, fiscal year of that programme), archived under
``<programme_id>/fy<YEAR>/``. Any other notebook is *panel-scoped*: one run per fiscal year over
the programmes of that year's panel (plan period or an actual that year,
:func:`kpianalysis.analysis.panel.panel_dataset`), under ``panel/fy<YEAR>/``. A run's key is the
sha256 of everything its report depends on — for a programme run, *that programme's* data as of
its fiscal year; for a panel run, its panel's programmes' — plus the notebook, the library
source, ``uv.lock`` and its parameters. So adding or changing one programme changes the keys of
that programme's runs and of the panel runs of its years only.

A notebook that declares ``language`` runs once per language asked for (``<notebook>.html``,
``<notebook>.en.html``); one that does not has a single version, ``<notebook>.html``. What a
report links beside the index — its other-language versions and its registered sibling
reports of the same programme-year — is decided here, from what the build is asked to make
(:meth:`Planner.links_of`), never from what the archive happens to hold, and is part of the
run's key: the same request gives the same bytes whatever was built before, and a report never
links a file the build does not make.
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

from kpianalysis.analysis.panel import panel_dataset
from kpianalysis.analysis.results import ResultsByYear, YearResults
from kpianalysis.build.archive import location
from kpianalysis.build.parameters import (
    LANGUAGES,
    STANDARD_DEFAULTS,
    check_fiscal_year,
    notebook_parameter_names,
    parameters_cell,
    validate_parameters,
)
from kpianalysis.data.dataset import Dataset, programme_folders
from kpianalysis.errors import ParameterError
from kpianalysis.fileio import sha256_file
from kpianalysis.paths import archive_name_problem
from kpianalysis.report.headline import panel_headline, programme_headlines
from kpianalysis.report.registry import REPORTS, report_for

__all__ = [
    "FORMAT_VERSION",
    "LINKS_INPUT",
    "PANEL",
    "RESERVED_SCOPES",
    "Planner",
    "RunOutcome",
    "RunSpec",
    "check_notebook_names",
    "common_inputs",
    "discover_notebooks",
    "library_dir",
    "library_inputs",
    "plan_runs",
    "programme_years",
    "report_stem",
    "run_key",
    "run_keys_over",
    "select_shard",
]

# Bump when the run record layout or output normalisation changes: invalidates every run key.
FORMAT_VERSION = 2

#: Archive scope of panel-scoped notebooks (a programme id may not take this name).
PANEL = "panel"
#: Names a programme id may not have: they are folders of the archive itself.
RESERVED_SCOPES = (PANEL, "failed")

#: The run-key input holding the reports a run links in its folder (see
#: :meth:`Planner.links_of`): ``"attainment.en.html trends.html"``, not a file's digest.
LINKS_INPUT = "links"


def report_stem(notebook: str, language: str) -> str:
    """File stem of a report in its run folder: the notebook's name, ``.en`` added for English.

    Examples
    --------
    >>> report_stem("attainment", "ja"), report_stem("attainment", "en")
    ('attainment', 'attainment.en')
    """
    return notebook if language == "ja" else f"{notebook}.{language}"


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
    #: The reports of the same folder it links, ``(notebook, language)``: its siblings in its
    #: language, then its versions in the other languages — those the build makes
    #: (:meth:`Planner.links_of`), whatever the archive holds.
    links: tuple[tuple[str, str], ...] = ()
    #: The data tables archived beside its report and linked from its footer (file stems, e.g.
    #: ``attainment_fy2023``): :meth:`Planner.tables_of`, so the footer links exactly what the
    #: commit writes, whatever ``data/processed`` holds.
    tables: tuple[str, ...] = ()
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
        return report_stem(self.name, self.language)

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
    # A file that is not a notebook is refused, naming it, rather than skipped.
    every = sorted(Path(notebooks_dir).glob("*.ipynb"))
    found = [p for p in every if parameters_cell(p) is not None]
    check_notebook_names(found)
    if names is None:
        return found
    wanted = list(dict.fromkeys(names))
    by_name = {p.stem: p for p in found}
    plain = {p.stem for p in every} - set(by_name)
    for n in wanted:
        if n in plain:
            raise ParameterError(
                f"notebook {n!r} ({Path(notebooks_dir) / (n + '.ipynb')}) has no parameters cell "
                "(a code cell tagged 'parameters'), so it is not a report"
            )
    missing = [n for n in wanted if n not in by_name]
    if missing:
        raise ParameterError(
            f"unknown notebook {', '.join(map(repr, missing))} in {notebooks_dir} "
            f"(reports: {', '.join(by_name) or 'none'})"
        )
    return [by_name[n] for n in wanted]


def check_notebook_names(notebooks: Iterable[Path]) -> None:
    """Refuse report notebooks whose names would collide in the archive (see
    :func:`kpianalysis.paths.archive_name_problem`), or with each other on a case-insensitive
    file system.

    Raises
    ------
    ParameterError
        Naming the notebook file.
    """
    seen: dict[str, Path] = {}
    for nb in notebooks:
        problem = archive_name_problem("notebook", nb.stem)
        if problem:
            raise ParameterError(f"{nb}: not usable as a report's name: {problem}")
        other = seen.setdefault(nb.stem.casefold(), nb)
        if other != nb:
            raise ParameterError(
                f"{nb}: its name differs from {other.name} only in case; the archive's files "
                "would collide on a case-insensitive file system"
            )


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


def _memo(method: Callable[..., Any]) -> Callable[..., Any]:
    """Cache a planner method's results per planner and arguments (in ``self._memo``).

    Unlike ``functools.cache`` on a method, the cache lives and dies with the planner (no
    class-wide cache keeping every planner and its year cuts alive).
    """
    name = method.__name__

    @functools.wraps(method)
    def cached(self: Planner, *args: Any) -> Any:
        memo = self._memo.setdefault(name, {})
        if args not in memo:
            memo[args] = method(self, *args)
        return memo[args]

    return cached


class Planner:
    """The runs of one build, each step a method whose result is computed once.

    The steps, in the order :meth:`runs` needs them: :attr:`years_of` (each programme's report
    years), :attr:`selected` (``--programme``), :meth:`check_years`, :attr:`declared` (each
    notebook's parameter names), :meth:`base_parameters`; then per run :meth:`programme_digest`
    or :meth:`panel_digest` (the data part of its key) and, only for a run that executes,
    :meth:`programme_record` / :meth:`panel_record` (headline and raw-file digests for its
    record). Nothing is computed before it is asked for, so a no-op build cuts no year and
    hashes no raw file.

    Parameters
    ----------
    notebooks
        The report notebooks (:func:`discover_notebooks`).
    root
        Project root: path parameters must stay inside it.
    fiscal_years
        The years asked for (each must be in the data of some programme or of the panel);
        empty for every year.
    data_years
        Fiscal years with an actual in the whole data (the panel's years).
    raw_dir, processed_dir
        Standard parameters passed to the notebooks that declare them.
    languages
        The report languages asked for (``("ja", "en")`` for both): a notebook that declares
        ``language`` runs once in each (:meth:`versions`).
    dataset
        The validated data, best as the :class:`ResultsByYear` that already wrote
        ``data/processed``: each year's cut and tables are then reused for the run keys and the
        headlines, not computed again. ``None`` plans panel runs only (keyed on the raw files).
    programmes
        Restrict to these programmes (``--programme``): their runs only, no panel run.

    Examples
    --------
    >>> planner = Planner([Path("notebooks/attainment.ipynb")], root=Path("."),
    ...                   fiscal_years=[], data_years=[2021, 2022, 2023], raw_dir="data/raw",
    ...                   processed_dir="data/processed",
    ...                   dataset=load_dataset("data/raw"))  # doctest: +SKIP
    >>> planner.years_of  # doctest: +SKIP
    {'23205-community': [2021, 2022, 2023]}
    >>> [s.identity for s in planner.runs()][:1]  # doctest: +SKIP
    ['23205-community/fy2021/attainment']
    """

    def __init__(
        self,
        notebooks: Sequence[Path],
        *,
        root: Path,
        fiscal_years: Sequence[int],
        data_years: Sequence[int],
        raw_dir: str,
        processed_dir: str,
        languages: Sequence[str] = ("ja",),
        dataset: ResultsByYear | Dataset | None = None,
        programmes: Sequence[str] | None = None,
    ) -> None:
        self.notebooks = list(notebooks)
        self.root = root
        self.fiscal_years = list(fiscal_years)
        self.data_years = list(data_years)
        self.raw_dir = raw_dir
        self.processed_dir = processed_dir
        self.languages = tuple(dict.fromkeys(languages))
        for language in self.languages:
            if language not in LANGUAGES:
                raise ParameterError(f"language must be one of {LANGUAGES}, got {language!r}")
        if not self.languages:
            raise ParameterError("no report language asked for")
        self.programmes = programmes
        self.results = ResultsByYear(dataset) if isinstance(dataset, Dataset) else dataset
        self.dataset = self.results.dataset if self.results is not None else None
        # The years it holds, from its keys: `fy in results` would cut the year (a Mapping's
        # `in` gets the item), 0.3 s and 20 MB a year for the country, for a no-op build.
        self.result_years = set(self.results) if self.results is not None else set()
        self._memo: dict[str, dict[tuple[Any, ...], Any]] = {}

    # ---- inputs shared by the runs

    @functools.cached_property
    def library(self) -> dict[str, str]:
        """Digests of the library source and ``uv.lock`` (every run's key has them)."""
        return common_inputs(self.root, self.raw_dir, raw=False) if self.notebooks else {}

    @functools.cached_property
    def shared(self) -> dict[str, str]:
        """:attr:`library` and every raw file's digest (~43,000 files for the country).

        They key only a panel run planned without the data; otherwise they are recorded for
        provenance, so hashed only when a run executes.
        """
        return common_inputs(self.root, self.raw_dir) if self.notebooks else {}

    @functools.cached_property
    def raw_by_programme(self) -> dict[str, dict[str, str]]:
        """Each selected programme's raw-file digests, for its programme runs' records."""
        wanted = self.selected if self.any_programme_notebook else []
        return _raw_by_programme(self.shared, self.root, self.raw_dir, wanted)

    # ---- what is planned

    @functools.cached_property
    def years_of(self) -> dict[str, list[int]]:
        """Each programme's report years (:func:`programme_years`); a reserved id is refused."""
        years = programme_years(self.dataset) if self.dataset is not None else {}
        for pid in years:
            if pid in RESERVED_SCOPES:
                raise ParameterError(
                    f"programme id {pid!r} is reserved for the archive's own folders"
                )
        return years

    @functools.cached_property
    def selected(self) -> list[str]:
        """The programmes planned: ``--programme``'s (each must exist) or every one."""
        if self.programmes is None:
            return list(self.years_of)
        unknown = [p for p in dict.fromkeys(self.programmes) if p not in self.years_of]
        if unknown:
            raise ParameterError(
                f"unknown programme {', '.join(map(repr, unknown))} "
                f"(programmes: {', '.join(self.years_of) or 'none'})"
            )
        return list(dict.fromkeys(self.programmes))

    def check_years(self) -> None:
        """Refuse a year asked for that is in neither the panel's nor any programme's data."""
        known = {y for ys in self.years_of.values() for y in ys}
        all_years = sorted({*map(int, self.data_years), *known})
        for fy in self.fiscal_years:
            check_fiscal_year(fy, all_years)

    def wanted(self, fiscal_year: int) -> bool:
        """Whether the year is asked for (every year when none is named)."""
        return not self.fiscal_years or fiscal_year in self._wanted_years

    @functools.cached_property
    def _wanted_years(self) -> set[int]:
        return set(self.fiscal_years)

    @functools.cached_property
    def declared(self) -> dict[Path, list[str]]:
        """Each notebook's declared parameter names; each must declare ``fiscal_year``."""
        declared = {nb: notebook_parameter_names(nb) for nb in self.notebooks}
        for nb_path, names in declared.items():
            if "fiscal_year" not in names:
                raise ParameterError(
                    f"{nb_path.name}: its parameters cell must declare fiscal_year"
                )
        return declared

    @functools.cached_property
    def any_programme_notebook(self) -> bool:
        """Whether some notebook is programme-scoped (declares ``programme_id``)."""
        return any("programme_id" in names for names in self.declared.values())

    def versions(self, notebook: Path) -> tuple[str, ...]:
        """The languages the notebook's reports are made in: every language asked for when its
        parameters cell declares ``language``; else one version, ``<notebook>.html`` (an English
        copy of a notebook that cannot speak English would be the same Japanese page)."""
        return self.languages if "language" in self.declared[notebook] else ("ja",)

    @functools.cached_property
    def scope_notebooks(self) -> dict[str, list[Path]]:
        """The notebooks making reports in each kind of folder, ``programme`` or ``panel`` (no
        panel report with ``--programme``), in the index's order: registry, then name."""
        order = {name: i for i, name in enumerate(REPORTS)}
        out: dict[str, list[Path]] = {"programme": [], PANEL: []}
        for nb in sorted(self.notebooks, key=lambda p: (order.get(p.stem, len(order)), p.stem)):
            if "programme_id" in self.declared[nb]:
                out["programme"].append(nb)
            elif self.programmes is None:
                out[PANEL].append(nb)
        return out

    @_memo
    def links_of(self, notebook: Path, language: str) -> tuple[tuple[str, str], ...]:
        """The reports a run of ``notebook`` in ``language`` links in its folder: the other
        registered notebooks of its kind made in that language, then its own other-language
        versions.

        Decided by the request alone — the notebooks and languages planned — never by what the
        archive holds: every programme-scoped notebook runs for the same programme-years (and
        every panel one for the same years), so each link is to a report of this build. (A
        ``--notebook``/``--language`` subset links only within the subset; the link set is a
        run-key input, :data:`LINKS_INPUT`, so a full build relinks.) A sibling must be
        registered (:data:`~kpianalysis.report.registry.REPORTS`): dropping a new notebook
        into ``notebooks/`` builds its reports and leaves every archived one as it was; once
        registered (a library change, which reruns every run) the others link it.
        """
        kind = "programme" if "programme_id" in self.declared[notebook] else PANEL
        siblings = [
            (nb.stem, language)
            for nb in self.scope_notebooks[kind]
            if nb != notebook and nb.stem in REPORTS and language in self.versions(nb)
        ]
        others = [(notebook.stem, lang) for lang in self.versions(notebook) if lang != language]
        return (*siblings, *others)

    @_memo
    def tables_of(self, notebook: Path, fiscal_year: int) -> tuple[str, ...]:
        """The data tables a run archives beside its report and its footer links: the
        registry's for the year (:func:`~kpianalysis.report.registry.report_for`), a plan
        report's year included; none when planned without the data (nothing to write them
        from)."""
        return report_for(notebook.stem).tables_for(fiscal_year) if self.results is not None else ()

    def links_input(self, notebook: Path, language: str) -> dict[str, str]:
        """:meth:`links_of` as a run-key input: the linked files, e.g. ``trends.html``."""
        links = self.links_of(notebook, language)
        return {LINKS_INPUT: " ".join(f"{report_stem(n, lang)}.html" for n, lang in links)}

    @_memo
    def base_parameters(self, notebook: Path, language: str = "ja") -> dict[str, Any]:
        """The standard parameters the notebook declares, validated (paths resolved on disk).

        The same for every run of the notebook in a language, so checked once, not once per
        run; a standard parameter the notebook does not declare is not passed to it.
        """
        declared = self.declared[notebook]
        base = {
            **STANDARD_DEFAULTS,
            "raw_dir": self.raw_dir,
            "processed_dir": self.processed_dir,
            "language": language,
        }
        return validate_parameters(
            {k: v for k, v in base.items() if k in declared},
            declared=[k for k in declared if k != "fiscal_year"],
            fiscal_years=(),
            root=self.root,
            notebook=notebook.name,
        )

    @_memo
    def notebook_inputs(self, notebook: Path) -> dict[str, str]:
        """sha256 of the notebook and of each file a ``*_file`` parameter names (the versioned
        trend prior): part of every run key of the notebook, so re-estimating the prior reruns
        exactly the notebooks that read it."""
        out = {f"notebooks/{notebook.name}": sha256_file(notebook)}
        for name, value in self.base_parameters(notebook).items():
            path = self.root / str(value)
            if name.endswith("_file") and path.is_file():
                out[str(value)] = sha256_file(path)
        return out

    # ---- a programme's data as of a year

    @_memo
    def year_parts(self, fiscal_year: int) -> dict[str, Dataset]:
        """The year's cut (shared with ``data/processed``), split by programme once."""
        return self.results[fiscal_year].parts

    @functools.cached_property
    def whole_parts(self) -> dict[str, Dataset]:
        """The whole dataset split by programme (for years outside the results)."""
        return self.dataset.by_programme()

    @_memo
    def own_year(self, pid: str, fiscal_year: int) -> YearResults:
        """A plan report's year without any actual in the data: the programme cut alone."""
        return YearResults(self.whole_parts[pid].as_of(fiscal_year))

    def programme_cut(self, pid: str, fiscal_year: int) -> Dataset:
        """The programme's data as of the year."""
        if fiscal_year in self.result_years:
            return self.year_parts(fiscal_year)[pid]
        return self.own_year(pid, fiscal_year).dataset

    @functools.cached_property
    def fast_digests(self) -> dict[tuple[str, int], str]:
        """Every planned programme-year's data digest in one pass over each year's tables.

        (One CSV formatting per table, not one per programme-year; years of plan reports only
        are left to :meth:`programme_cut`.)
        """
        if self.results is None or not self.any_programme_notebook:
            return {}
        years = {
            fy
            for pid in self.selected
            for fy in self.years_of[pid]
            if fy in self.result_years and self.wanted(fy)
        }
        return self.dataset.programme_digests(sorted(years)) or {}

    def programme_digest(self, pid: str, fiscal_year: int) -> str:
        """sha256 of the programme's data as of the year: a programme run's own key input."""
        known = self.fast_digests.get((pid, fiscal_year))
        return known if known is not None else self.programme_cut(pid, fiscal_year).digest()

    @_memo
    def panel_cut(self, fiscal_year: int) -> Dataset:
        """The year's data of the programmes in its panel (plan period or an actual that year)."""
        return panel_dataset(self.results[fiscal_year].dataset, fiscal_year)

    @_memo
    def panel_digest(self, fiscal_year: int) -> str:
        """sha256 of the panel's programmes' data as of the year: a panel run's own key input
        (a programme outside the year's panel cannot rerun it)."""
        return self.panel_cut(fiscal_year).digest()

    # ---- what a run's record needs but its key does not

    @_memo
    def year_headlines(self, fiscal_year: int) -> dict[str, Any]:
        """Every programme's headline of the year, from the year's tables (read once)."""
        return programme_headlines(self.results[fiscal_year])

    @_memo
    def headline(self, pid: str, fiscal_year: int) -> Any:
        """The programme's headline for the year (index and record)."""
        if fiscal_year in self.result_years:
            return self.year_headlines(fiscal_year)[pid]
        return programme_headlines(self.own_year(pid, fiscal_year))[pid]

    def programme_record(
        self, pid: str, fiscal_year: int, inputs: Mapping[str, str]
    ) -> dict[str, Any]:
        """A programme run's :attr:`RunSpec.pending` fields: headline, inputs with raw files."""
        raw = self.raw_by_programme.get(pid, {})
        return {"headline": self.headline(pid, fiscal_year), "inputs": {**inputs, **raw}}

    def panel_record(self, fiscal_year: int, inputs: Mapping[str, str]) -> dict[str, Any]:
        """A panel run's :attr:`RunSpec.pending` fields: headline, inputs with all raw files."""
        raw = {k: v for k, v in self.shared.items() if k.startswith("raw/")}
        members = self.panel_cut(fiscal_year).programmes["programme_id"]
        heads = [self.headline(str(p), fiscal_year) for p in members]
        return {"headline": panel_headline(heads, fiscal_year), "inputs": {**inputs, **raw}}

    # ---- the runs

    def programme_runs(self, notebook: Path) -> list[RunSpec]:
        """A programme-scoped notebook's runs: one per selected programme, year of its own and
        language (:meth:`versions`)."""
        declared = self.declared[notebook]
        notebook_input = self.notebook_inputs(notebook)
        # Per language: its parameters, and the inputs every run shares — one mapping under
        # each run's own (a ChainMap: 174,000 copies of ~50 digests would hold ~400 MB);
        # resolved() makes each a dict.
        per_language = []
        for language in self.versions(notebook):
            shared = {**self.library, **notebook_input, **self.links_input(notebook, language)}
            per_language.append(
                (
                    language,
                    self.base_parameters(notebook, language),
                    shared,
                    run_keys_over(shared, notebook.stem),
                )
            )
        specs = []
        for pid in self.selected:
            years = self.years_of[pid]
            # The programme id and the type of its years, checked once; each year below is one
            # of its own years, so among them.
            validate_parameters(
                {"fiscal_year": years[0], "programme_id": pid},
                declared=declared,
                fiscal_years=years,
                root=self.root,
                notebook=notebook.name,
            )
            provenance = self.programme_provenance[pid not in self.unchecked_set]
            for fy in years:
                if not self.wanted(fy):
                    continue
                # Keyed on this programme's data as of the year: another programme's folder
                # cannot change it. Its raw files are recorded for provenance.
                own_input = {f"data/{pid}/as_of_fy{fy}": self.programme_digest(pid, fy)}
                for language, base, shared, key_of in per_language:
                    params = {"fiscal_year": fy, **base, "programme_id": pid}
                    key_inputs = collections.ChainMap(own_input, shared)
                    key = key_of(own_input, params)
                    record = functools.partial(self.programme_record, pid, fy, key_inputs)
                    run = (notebook, language, params, key_inputs, key, provenance, record, pid)
                    specs.append(self.spec(*run))
        return specs

    def spec(
        self,
        notebook: Path,
        language: str,
        parameters: dict[str, Any],
        inputs: Mapping[str, str],
        key: str,
        provenance: dict[str, Any] | None,
        pending: Callable[[], dict[str, Any]] | None,
        programme_id: str | None = None,
    ) -> RunSpec:
        """One run of ``notebook`` in ``language``, with the links planned for them."""
        return RunSpec(
            notebook=notebook,
            name=notebook.stem,
            fiscal_year=parameters["fiscal_year"],
            parameters=parameters,
            inputs=inputs,
            run_key=key,
            programme_id=programme_id,
            language=language,
            provenance=provenance,
            links=self.links_of(notebook, language),
            tables=self.tables_of(notebook, parameters["fiscal_year"]),
            pending=pending,
        )

    def panel_runs(self, notebook: Path) -> list[RunSpec]:
        """A panel-scoped notebook's runs: one per fiscal year of the panel's data and language."""
        if self.programmes is not None:
            return []  # --programme: that programme's runs only, no panel run
        notebook_input = self.notebook_inputs(notebook)
        specs = []
        for fy in self.fiscal_years or self.data_years:
            if fy not in self.data_years:
                continue  # a year of a plan report only: no panel for it
            own = validate_parameters(
                {"fiscal_year": fy},
                declared=self.declared[notebook],
                fiscal_years=self.data_years,
                root=self.root,
                notebook=notebook.name,
            )
            for language in self.versions(notebook):
                params = {**own, **self.base_parameters(notebook, language)}
                links = self.links_input(notebook, language)
                pending = None
                if self.results is not None:
                    # Key on the data as of this year, not on the raw files: new rows for a
                    # later year leave this run's key, and so its archived report, untouched.
                    # The raw files' digests are still recorded for provenance.
                    key_inputs = {
                        **self.library,
                        **notebook_input,
                        **links,
                        f"data/as_of_fy{fy}": self.panel_digest(fy),
                    }
                    pending = functools.partial(self.panel_record, fy, key_inputs)
                else:
                    key_inputs = {**self.shared, **notebook_input, **links}
                key = run_key(key_inputs, params, notebook.stem)
                run = (notebook, language, params, key_inputs, key, self.panel_provenance, pending)
                specs.append(self.spec(*run))
        return specs

    @functools.cached_property
    def unchecked(self) -> list[str]:
        """Programmes whose transcription names no source document."""
        return list(self.dataset.unchecked_programmes) if self.dataset is not None else []

    @functools.cached_property
    def unchecked_set(self) -> set[str]:
        return set(self.unchecked)

    @functools.cached_property
    def programme_provenance(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """A programme run's provenance, (unchecked, checked): two mappings shared by the runs."""
        not_checked = {
            "source_checked": False,
            "note": "transcription not checked against a source document (programme.csv "
            "names no source_file)",
        }
        return not_checked, {"source_checked": True}

    @functools.cached_property
    def panel_provenance(self) -> dict[str, Any] | None:
        """A panel run's provenance: the unchecked programmes (none planned without data)."""
        return {"unchecked_programmes": self.unchecked} if self.dataset is not None else None

    def runs(self) -> list[RunSpec]:
        """Every run, notebook by notebook; the first refused parameter raises."""
        self.selected  # noqa: B018 - refuses a reserved or unknown programme first
        self.check_years()
        specs: list[RunSpec] = []
        for notebook, names in self.declared.items():
            if "programme_id" in names:
                specs += self.programme_runs(notebook)
            else:
                specs += self.panel_runs(notebook)
        return specs


def plan_runs(notebooks: Sequence[Path], **options: Any) -> list[RunSpec]:
    """Validate every run's parameters and compute its key; no kernel is started.

    ``Planner(notebooks, **options).runs()``: the options are :class:`Planner`'s.

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
    return Planner(notebooks, **options).runs()
