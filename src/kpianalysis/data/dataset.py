"""Raw tables → validated tidy tables (programmes, indicators, observations, ...).

The data model (see ``data/raw/README.md`` and ``DESIGN.md``) is long and tidy, keyed by
``programme_id`` so that many cities and programmes fit in one table. Every value keeps the text it
was parsed from (``*_text`` columns), and every transcribed text is checked to occur in the source
document (:func:`check_provenance`).

Validation stops at the first problem with a :class:`~kpianalysis.errors.DataError` naming the
file, row, column and text: a researcher fixes one cell at a time, and never gets a silently wrong
number.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Collection, Hashable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from kpianalysis.data import notation, schema
from kpianalysis.data.levels import FORMS, observation_levels
from kpianalysis.data.rawio import RawRow, RawTable, decode_bytes, read_input, read_table
from kpianalysis.data.schema import REQUIRED_TABLES
from kpianalysis.errors import (
    DataError,
    DuplicateRowError,
    FormulaError,
    InvalidValueError,
    MissingValueError,
    ParameterError,
    PeriodError,
    ProvenanceError,
    UnitMismatchError,
    UnknownComponentError,
    UnknownIndicatorError,
    UnknownProgrammeError,
    ValueParseError,
)
from kpianalysis.fileio import write_atomic
from kpianalysis.paths import (
    DEFAULT_PROCESSED,
    DEFAULT_RAW,
    archive_name_problem,
    find_project_root,
)
from kpianalysis.words import counted, noun

__all__ = [
    "ACTUAL_COLUMNS",
    "CELL_MARKS",
    "DIRECTIONS",
    "EFFECT_PHRASES",
    "EVALUATORS",
    "KINDS",
    "MAX_KPI_MAGNITUDE",
    "MAX_YEN",
    "MEASURE_ID_STEP",
    "SPECS",
    "TABLE_DTYPES",
    "TARGET_FORMS",
    "TRANSCRIBER_MARKS",
    "TREND_MODELS",
    "UNKNOWN_CODE_MARKS",
    "Dataset",
    "check_cut",
    "check_provenance",
    "defuse_formulas",
    "empty_table",
    "load_dataset",
    "load_folders",
    "load_programme",
    "programme_dirs",
    "programme_folders",
    "provenance_warnings",
    "write_csv",
    "write_parquet",
    "write_processed",
]

KINDS = ("cumulative", "flow", "average", "stock")
DIRECTIONS = ("increase", "decrease")
TARGET_FORMS = FORMS  # how targets (and actuals) are written: level or increment
TREND_MODELS = ("ols", "poisson", "loglinear")
EVALUATORS = ("panel", "external")
#: Observation columns that belong to the actual (blanked for later years by Dataset.as_of), with
#: their blank value; targets are plan data and stay.
ACTUAL_COLUMNS: dict[str, object] = {
    "actual": np.nan,
    "actual_written": np.nan,
    "actual_text": "",
    "achievement_printed": np.nan,
    "achievement_printed_text": "",
    "achievement_printed_tolerance": np.nan,
    "missing_reason_ja": "",
}
#: Largest magnitude accepted for a KPI value; anything larger is a typo, not a measurement.
MAX_KPI_MAGNITUDE = 1e9
#: Largest yen amount accepted for a programme's cost or grant (one trillion yen).
MAX_YEN = 1e12
#: Plausible fiscal years for this kind of programme.
MIN_FISCAL_YEAR, MAX_FISCAL_YEAR = 1989, 2100

#: The key :func:`_refuse_repeat` tells rows apart by.
_Key = TypeVar("_Key", bound=Hashable)

_CIRCLED = {chr(0x2460 + i): i + 1 for i in range(20)}  # ① … ⑳
_COMPONENT_RE = re.compile(r"^\s*(\d+)\s*[.．、]?\s*$")
_SLOT_RE = re.compile(r"^\s*[(（]\s*(\d+)\s*[)）]\s*$")


#: The raw tables' specs (:data:`kpianalysis.data.schema.RAW_TABLES`), by table name.
SPECS = schema.RAW_TABLES


@dataclass(frozen=True)
class Dataset:
    """Validated tidy tables of one or more programmes.

    Attributes
    ----------
    programmes, indicators, observations, finance, components, subprojects, verdicts, cell_notes
        Tidy DataFrames (columns documented in ``README.md``).
    sources
        sha256 of every raw file read, keyed by its path relative to the raw directory.
    """

    programmes: pd.DataFrame
    indicators: pd.DataFrame
    observations: pd.DataFrame
    finance: pd.DataFrame
    components: pd.DataFrame
    subprojects: pd.DataFrame
    verdicts: pd.DataFrame
    sources: dict[str, str] = field(default_factory=dict)
    as_of_year: int | None = None
    #: Cells not read literally from the source: marked by the transcriber (``marks.csv``) or
    #: read with an assumption by the library (:data:`CELL_MARKS`), one row per cell and mark,
    #: for a report's appendix. :meth:`as_of` drops the notes on later years' actuals, costs and
    #: verdicts (``visible_from``), as it hides those cells.
    cell_notes: pd.DataFrame = field(default_factory=lambda: empty_table("cell_notes"))

    @property
    def fiscal_years(self) -> list[int]:
        """Fiscal years with at least one actual value: the years a report can be built for."""
        obs = self.observations
        years = obs.loc[obs["actual"].notna(), "fiscal_year"].unique()
        return sorted(int(y) for y in years)

    @property
    def unchecked_programmes(self) -> list[str]:
        """Programmes without a source document: their transcription was not checked.

        ``validate`` passes for them but warns (:func:`provenance_warnings`); reports and run
        records should say so.

        Examples
        --------
        >>> load_dataset("data/raw").unchecked_programmes  # doctest: +SKIP
        []
        """
        progs = self.programmes
        blank = progs["source_file"].fillna("").astype(str).str.strip().eq("")
        return [str(p) for p in progs.loc[blank, "programme_id"]]

    @property
    def marked_programmes(self) -> list[str]:
        """Programmes with cells not literally in their source: marked by the transcriber
        (``marks.csv``: inferred, re-joined, converted) or inferred by the library (a baseline
        year from ``事業開始前``; a plan period or a cost's year the sheet does not print). Their
        reports say so in the body and list the cells
        (:attr:`cell_notes`) in the appendix.

        Examples
        --------
        >>> load_dataset("data/raw").marked_programmes  # doctest: +SKIP
        []
        """
        notes = self.cell_notes
        marked = notes["mark"].isin(TRANSCRIBER_MARKS)
        return [
            p
            for p in map(str, self.programmes["programme_id"])
            if p in set(notes.loc[marked, "programme_id"])
        ]

    def as_of(self, fiscal_year: int) -> Dataset:
        """What a report for ``fiscal_year`` may see: the one place the data is cut.

        Actuals, costs and verdicts of years ≤ ``fiscal_year``, and **every target of the
        plan**: targets are fixed when the plan is approved, so an interim report can assess
        progress toward the plan-end target. Observation rows of later years stay, with their
        actual (and its text) blanked; finance and verdict rows of later years are dropped.
        Definitions (programmes, indicators, components, sub-projects) are kept whole. Rerunning
        the FY2022 report later reproduces what was known in FY2022, because later actuals
        never reach it. Analysis functions take the cut dataset and check it with
        :func:`check_cut`; none cuts it again.

        Examples
        --------
        >>> ds = load_dataset("data/raw")  # doctest: +SKIP
        >>> fy22 = ds.as_of(2022)  # doctest: +SKIP
        >>> fy22.observations.groupby("fiscal_year")["actual"].count().to_dict()  # doctest: +SKIP
        {2021: 4, 2022: 4, 2023: 0}
        """
        fy = notation.parse_fiscal_year(fiscal_year)

        def upto(df: pd.DataFrame, column: str = "fiscal_year") -> pd.DataFrame:
            keep = df[column] <= fy
            if keep.all():  # nothing to drop (a cut at the last year): no copy
                return df.reset_index(drop=True)
            return df.loc[keep].reset_index(drop=True)

        # A shallow copy: with pandas' copy-on-write, the columns replaced below are new arrays
        # and the others stay shared with self yet cannot change through either dataset. A cut
        # at the last year (nothing later) copies nothing.
        obs = self.observations.copy(deep=False)
        later = (obs["fiscal_year"] > fy).to_numpy()
        if later.any():
            # Everything a later year's sheet reports about its actual (the value, as written,
            # the printed achievement, why it is missing) is unknown in fiscal_year.
            for column, blank in ACTUAL_COLUMNS.items():
                if column in obs.columns:
                    obs[column] = obs[column].mask(later, blank)
        return replace(
            self,
            observations=obs,
            finance=upto(self.finance),
            verdicts=upto(self.verdicts),
            cell_notes=upto(self.cell_notes, "visible_from"),
            as_of_year=fy,
        )

    def digest(self) -> str:
        """sha256 of the tables' content (not of the files they came from).

        Two datasets with equal tables have equal digests, however the raw files were written;
        the pipeline keys a report on the digest of ``as_of(fiscal_year)``, so adding a later
        year leaves earlier reports untouched.
        """
        h = hashlib.sha256()
        for name, df in self.tables().items():
            h.update(name.encode())
            h.update(df.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        return h.hexdigest()

    def by_programme(self) -> dict[str, Dataset]:
        """One dataset per programme, keyed by ``programme_id``, in the programmes' order.

        Each table is split once (a group-by, not one filter per programme), so a national panel
        of thousands of programmes splits in one pass. A programme's dataset holds exactly its own
        rows, in their original order: its :meth:`digest` does not depend on other programmes.

        Examples
        --------
        >>> parts = load_dataset("data/raw").by_programme()  # doctest: +SKIP
        >>> list(parts)  # doctest: +SKIP
        ['23205-community']
        """
        split: dict[str, dict[str, pd.DataFrame]] = {}
        for name, df in self.tables().items():
            groups = {
                str(pid): g.reset_index(drop=True)
                for pid, g in df.groupby("programme_id", sort=False)
            }
            split[name] = groups
        empty = {name: df.iloc[0:0].reset_index(drop=True) for name, df in self.tables().items()}
        return {
            pid: replace(
                self,
                **{name: split[name].get(pid, empty[name]) for name in empty},
            )
            for pid in map(str, self.programmes["programme_id"])
        }

    def programme_digests(self, fiscal_years: Iterable[int]) -> dict[tuple[str, int], str] | None:
        """:meth:`digest` of every programme's data as of every year, without building them.

        Equal to ``{(pid, fy): self.as_of(fy).by_programme()[pid].digest()}`` (the sha256 of
        each table's CSV, so run keys stay what they were), but each table is formatted to CSV
        once, one column at a time, and each programme-year's CSV is put together from those
        lines: a national panel's 87,000 programme-years would otherwise format 600,000 small
        frames. It mirrors what :meth:`as_of` does to each table (``_CUT_VALUES``,
        ``_CUT_ROWS``): observation rows of later years take the values of the table cut
        before every observation (``as_of`` itself blanks them), finance and verdict rows and
        cell notes about later years' actuals are dropped, the other tables are kept whole.

        Returns
        -------
        dict or None
            ``None`` when a table cannot be cut into lines safely (a cell holding ``\\x1e``,
            a column whose CSV text is not formatted value by value, such as datetimes): the
            caller then digests each cut itself.

        Examples
        --------
        >>> ds = load_dataset("data/raw")  # doctest: +SKIP
        >>> fast = ds.programme_digests([2023])  # doctest: +SKIP
        >>> fast["23205-community", 2023] == ds.as_of(2023).by_programme()[
        ...     "23205-community"].digest()  # doctest: +SKIP
        True
        """
        years = sorted({int(y) for y in fiscal_years})
        if not years:
            return {}
        pids = [str(p) for p in self.programmes["programme_id"]]
        tables = self.tables()
        obs = tables["observations"]
        before = min(years[0], int(obs["fiscal_year"].min()) if len(obs) else years[0]) - 1
        blank = self.as_of(before).observations
        # Table by table, each column's cells dropped once its lines are made (a national
        # observations table is 4.6 million cells).
        rows: dict[str, dict[str, list[str]]] = {}
        for name, df in tables.items():
            cells = _csv_cells(df)
            if cells is None:
                return None
            if name == "observations":
                blank_cells = _csv_cells(blank, like=(obs, cells))
                if blank_cells is None:
                    return None
                blank_rows = _by_programme(blank, pids, _csv_rows(blank_cells, blank.shape[1]))
                del blank_cells
            rows[name] = _by_programme(df, pids, _csv_rows(cells, df.shape[1]))
            del cells
        year_of = {
            name: _by_programme(
                df, pids, df[_CUT_ROWS.get(name, "fiscal_year")].astype(int).tolist()
            )
            for name, df in tables.items()
            if name in _CUT_VALUES or name in _CUT_ROWS
        }
        # Each table's name and header, as digest() hashes them before the table's lines.
        heads = {
            name: name + df.iloc[0:0].to_csv(index=False, lineterminator="\n")
            for name, df in tables.items()
        }
        out: dict[tuple[str, int], str] = {}
        for pid in pids:
            whole = {
                name: heads[name] + "".join(rows[name][pid])
                for name in tables
                if name not in _CUT_VALUES and name not in _CUT_ROWS
            }
            for fy in years:
                parts: list[str] = []
                for name in tables:
                    if name in whole:
                        parts.append(whole[name])
                        continue
                    parts.append(heads[name])
                    if name in _CUT_VALUES:
                        parts += [
                            row if y <= fy else later
                            for row, later, y in zip(
                                rows[name][pid], blank_rows[pid], year_of[name][pid], strict=True
                            )
                        ]
                    else:
                        parts += [
                            r
                            for r, y in zip(rows[name][pid], year_of[name][pid], strict=True)
                            if y <= fy
                        ]
                out[pid, fy] = hashlib.sha256("".join(parts).encode()).hexdigest()
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tidy tables by name, in a stable order."""
        return {
            "programmes": self.programmes,
            "indicators": self.indicators,
            "observations": self.observations,
            "finance": self.finance,
            "components": self.components,
            "subprojects": self.subprojects,
            "verdicts": self.verdicts,
            "cell_notes": self.cell_notes,
        }


#: How :meth:`Dataset.as_of` cuts each table, as :meth:`Dataset.programme_digests` mirrors it:
#: rows of later years keep their place with their actuals blanked, or are dropped.
_CUT_VALUES = ("observations",)
#: Tables whose rows of later years are dropped, by the column holding the year.
_CUT_ROWS = {"finance": "fiscal_year", "verdicts": "fiscal_year", "cell_notes": "visible_from"}
#: Raw observation columns about the actual: a note on one is a later year's, hidden before it.
_ACTUAL_RAW_COLUMNS = ("actual", "achievement_printed", "missing_reason_ja")
#: Line end while cutting a column's CSV into cells: ``\n`` as in :meth:`Dataset.digest` (so a
#: cell holding a newline is quoted exactly as there) plus a mark no cell holds.
_CELL_END = "\n\x1e"


def _csv_cells(
    df: pd.DataFrame, like: tuple[pd.DataFrame, list[list[str]]] | None = None
) -> list[list[str]] | None:
    """Each column's cells as ``df.to_csv`` writes them; ``None`` when that cannot be known.

    ``like`` is another frame with the same columns and its cells: a column equal to its
    counterpart there reuses those cells instead of formatting them again.
    """
    out = []
    for j in range(df.shape[1]):
        column = df.iloc[:, j]
        dtype = column.dtype
        if isinstance(dtype, (pd.CategoricalDtype, pd.PeriodDtype, pd.IntervalDtype)) or (
            dtype.kind in "mM"
        ):
            return None  # formatted for the column as a whole, not value by value
        if like is not None:
            other = like[0]
            if list(other.columns) != list(df.columns) or other.shape != df.shape:
                return None
            if other.iloc[:, j].dtype != dtype:
                return None  # a cut that changed a dtype could change every cell's text
            if other.iloc[:, j].equals(column):
                out.append(like[1][j])
                continue
        if dtype == np.float64 or dtype == np.int64:
            # What to_csv writes for these (NumPy's str of each value, NaN empty), without its
            # csv writer: numbers need no quoting.
            values = column.to_numpy()
            text_of = values.astype(str)
            if dtype == np.float64:
                text_of[np.isnan(values)] = ""
            out.append(text_of.tolist())
            continue
        text = column.to_frame().to_csv(index=False, header=False, lineterminator=_CELL_END)
        if text.count("\x1e") != len(column):
            return None  # a cell holds the mark: it would be quoted unlike in digest()
        cells = text.split(_CELL_END)
        cells.pop()  # after the last line end
        out.append(cells)
    return out


def _csv_rows(cells: list[list[str]], n_columns: int) -> list[str]:
    """CSV lines (ending ``\\n``) from each column's cells."""
    if n_columns == 1:
        return [c + "\n" for c in cells[0]]
    # The csv module writes a row of one empty field as "" (an empty line would read as no
    # row); among several fields an empty one is written empty.
    cols = [["" if c == '""' else c for c in column] for column in cells]
    return [",".join(row) + "\n" for row in zip(*cols, strict=True)]


def _by_programme(df: pd.DataFrame, pids: list[str], values: list[Any]) -> dict[str, list[Any]]:
    """``values`` (one per row of ``df``) grouped by the row's programme, in row order."""
    codes = pd.Index(pids).get_indexer(df["programme_id"].astype(str))
    order = np.argsort(codes, kind="stable")  # stable: each programme's rows keep their order
    bounds = np.searchsorted(codes[order], np.arange(len(pids) + 1)).tolist()
    ordered = [values[i] for i in order.tolist()]
    return {pid: ordered[bounds[k] : bounds[k + 1]] for k, pid in enumerate(pids)}


# --------------------------------------------------------------------------------------------
# Cell parsers: each turns one raw cell into a value or raises an error located at the cell.


def check_cut(dataset: Any, fiscal_year: int | None = None) -> int:
    """The fiscal year ``dataset`` was cut at by :meth:`Dataset.as_of`, checked against the year.

    Analysis functions take a dataset already cut at the report's fiscal year and never cut it
    again; this refuses one that is not cut, or cut at another year, instead of letting later
    actuals into a table silently.

    Raises
    ------
    ParameterError
        When the dataset has no ``as_of_year`` or it differs from ``fiscal_year``.

    Examples
    --------
    >>> check_cut(load_dataset("data/raw").as_of(2022), 2022)  # doctest: +SKIP
    2022
    """
    cut = getattr(dataset, "as_of_year", None)
    if cut is None:
        want = "fiscal_year" if fiscal_year is None else fiscal_year
        raise ParameterError(
            f"the dataset is not cut at a fiscal year: pass dataset.as_of({want}), which keeps "
            "what a report for that year may see"
        )
    if fiscal_year is not None and int(fiscal_year) != int(cut):
        raise ParameterError(
            f"the dataset is cut at FY{cut}, not FY{fiscal_year}: pass dataset.as_of({fiscal_year})"
        )
    return int(cut)


def _cell(row: RawRow, column: str) -> str:
    return row.cells.get(column, "") or ""


def _quantity(
    row: RawRow, column: str, *, required: bool, unit: str | None = None
) -> notation.Quantity:
    """Parse a value cell; with ``unit`` (the indicator's label as written, e.g. ``千人``), the
    cell's unit must have the same base unit, and a unit-less number is read in ``unit`` (so
    ``12`` under ``千人`` is 12,000 人)."""
    text = _cell(row, column)
    try:
        q = notation.parse_quantity(text)
    except notation.NotationError as exc:
        raise row.error(ValueParseError, column, exc.reason) from None
    if required and q.value is None:
        raise row.error(MissingValueError, column, "a value is required here but the cell is blank")
    return _in_unit(row, column, q, unit)


def _target(row: RawRow, unit: str) -> notation.Target:
    """A target cell (:func:`notation.parse_target`: a value, a bound, a deadline) in ``unit``."""
    try:
        t = notation.parse_target(_cell(row, "target"))
    except notation.NotationError as exc:
        raise row.error(ValueParseError, "target", exc.reason) from None
    return replace(t, quantity=_in_unit(row, "target", t.quantity, unit))


def _in_unit(row: RawRow, column: str, q: notation.Quantity, unit: str | None) -> notation.Quantity:
    if q.value is not None and not math.isfinite(q.value):
        raise row.error(ValueParseError, column, "not a finite number")
    if unit is not None and q.value is not None:
        base, scale = notation.split_scale(unit)
        if q.unit is None and scale != 1:
            q = replace(q, value=q.value * scale, unit=base, scale=scale)
        elif q.unit is not None and q.unit != base:
            shown = unit if base == unit else f"{unit} = {base}"
            raise row.error(
                UnitMismatchError,
                column,
                f"unit {q.unit!r} differs from the indicator's unit {shown!r} "
                "(one unit per indicator; only scale prefixes such as 千 or 万 may differ)",
            )
    return q


#: Marks of :attr:`Dataset.cell_notes`: why a cell is not read literally from the source.
#: ``inferred``, ``rejoined``, ``converted`` are the transcriber's (``marks.csv``); the library
#: adds ``assumed`` (an era-less label read in the document's era), ``reading`` (how a label was
#: read: 平成32年度, a month inside a fiscal year), ``inferred`` (a baseline year from the plan)
#: and ``normalised`` (a cell matching its source only after compatibility characters).
CELL_MARKS = ("inferred", "rejoined", "converted", "assumed", "reading", "normalised")

_ERA_PRINTED = re.compile(r"(令和|平成|昭和)|^\(?\s*([RHS])\s*(?:元|[0-9])", re.IGNORECASE)


@dataclass
class _Periods:
    """How one programme's period labels are read: the era of its own labels (for era-less
    ones), its plan (for ``事業開始前`` and ``(1年目)``), and the notes each reading leaves."""

    eras: tuple[str, ...] = ()
    plan: tuple[int, int] | None = None
    notes: list[dict[str, object]] = field(default_factory=list)
    #: (file name, row) → the fiscal year of a year-keyed row (observations, finance, verdicts).
    years: dict[tuple[str, int], int] = field(default_factory=dict)

    def year_of(self, row: RawRow, fy: int) -> int:
        self.years[Path(row.file).name, row.row] = fy
        return fy

    def records(self, programme_id: object) -> list[dict[str, object]]:
        """The notes as ``cell_notes`` rows, each with the year a report may first see it: a
        note on a year's actual, cost or verdict only from that year (as :meth:`Dataset.as_of`
        cuts them); a note on a definition, a label or a target (plan data) always."""
        out = []
        for n in self.notes:
            key = (str(n["file"]), int(n["row"]))  # type: ignore[call-overload]
            hidden = n["file"] in ("finance.csv", "verdicts.csv") or (
                n["file"] == "observations.csv" and n["column"] in _ACTUAL_RAW_COLUMNS
            )
            visible = self.years.get(key, 0) if hidden else 0
            out.append({"programme_id": programme_id, **n, "visible_from": visible})
        return out

    @classmethod
    def of_programme(cls, row: RawRow) -> _Periods:
        eras: list[str] = []
        for column in ("sheet_fiscal_year", "plan_start", "plan_end"):
            text = unicodedata.normalize("NFKC", _cell(row, column))
            if m := _ERA_PRINTED.search(text):
                era = m.group(1) or {"R": "令和", "H": "平成", "S": "昭和"}[m.group(2).upper()]
                if era not in eras:
                    eras.append(era)
        return cls(tuple(eras))

    def note(self, row: RawRow, column: str, mark: str, reason: str) -> None:
        self.notes.append(
            {
                "file": Path(row.file).name,
                "row": row.row,
                "column": column,
                "text": _cell(row, column),
                "mark": mark,
                "reason": reason,
            }
        )

    def read(
        self, row: RawRow, column: str, *, baseline: bool = False, text: str | None = None
    ) -> int:
        """The fiscal year of a label cell (or of ``text``, a label inside the cell), its
        readings noted; errors located at the cell."""
        text = _cell(row, column) if text is None else text
        start = self.plan[0] if self.plan and baseline else None
        period = None
        try:
            period = notation.read_period(text, plan_start=start)
        except notation.NotationError as exc:
            # The notation alone reads years 1900–2200; a fiscal year must lie in the narrower
            # range a programme can have, and every message states that one range.
            far = re.fullmatch(r"year (-?\d+) outside \d+–\d+", exc.reason)
            if far is not None:
                raise row.error(
                    PeriodError,
                    column,
                    f"fiscal year {far.group(1)} is outside {MIN_FISCAL_YEAR}–{MAX_FISCAL_YEAR}",
                ) from None
            if "names no era" not in exc.reason or not self.eras:
                raise row.error(ValueParseError, column, exc.reason) from None
            period = self._in_document_era(row, column, text)
        for n in period.notes:
            mark = "inferred" if period.inferred else "assumed" if "no era" in n else "reading"
            self.note(row, column, mark, n)
        if period.plan_year is not None and self.plan is not None:
            expected = self.plan[0] + period.plan_year - 1
            if period.fiscal_year != expected:
                raise row.error(
                    PeriodError,
                    column,
                    f"the label says year {period.plan_year} of the plan (FY{expected}, the plan "
                    f"starting in FY{self.plan[0]}) but reads FY{period.fiscal_year}",
                )
        return period.fiscal_year

    def _in_document_era(self, row: RawRow, column: str, text: str) -> notation.Period:
        """An era-less label read in the era of the programme's own labels; with several eras
        there, the one that puts it near the plan (from ten years before to a year after)."""
        fits: dict[int, tuple[str, notation.Period]] = {}
        for era in self.eras:
            try:
                period = notation.read_period(text, era=era)
            except notation.NotationError as exc:
                raise row.error(ValueParseError, column, exc.reason) from None
            near = self.plan is None or (
                self.plan[0] - 10 <= period.fiscal_year <= self.plan[1] + 1
            )
            if near:
                fits[period.fiscal_year] = (era, period)
        if len(fits) != 1:
            shown = " or ".join(self.eras)
            raise row.error(
                ValueParseError,
                column,
                f"no era printed, and the programme's labels name {shown}: cannot tell which",
            )
        return next(iter(fits.values()))[1]


def _fiscal_year(
    row: RawRow, column: str, periods: _Periods | None = None, *, baseline: bool = False
) -> int:
    text = _cell(row, column)
    if not text.strip():
        raise row.error(MissingValueError, column, "a fiscal year is required")
    fy = (periods or _Periods()).read(row, column, baseline=baseline)
    if not MIN_FISCAL_YEAR <= fy <= MAX_FISCAL_YEAR:
        raise row.error(
            PeriodError, column, f"fiscal year {fy} is outside {MIN_FISCAL_YEAR}–{MAX_FISCAL_YEAR}"
        )
    return fy


def _choice(row: RawRow, column: str, choices: tuple[str, ...], default: str | None = None) -> str:
    text = _cell(row, column).strip()
    if not text and default is not None:
        return default
    if text not in choices:
        shown = ", ".join(c for c in choices if c)
        blank = " (or blank)" if default is not None else ""
        raise row.error(ValueParseError, column, f"expected one of {shown}{blank}")
    return text


def _required_text(row: RawRow, column: str) -> str:
    text = _cell(row, column)
    if not text.strip():
        raise row.error(MissingValueError, column, "this cell must not be blank")
    return text.strip()


def _numbered(row: RawRow, column: str, pattern: re.Pattern[str] | None = None) -> int:
    """An ordinal written as ①, 1, １, (1), （１）, １． ..."""
    text = unicodedata.normalize("NFKC", _cell(row, column)).strip()
    raw = _cell(row, column).strip()
    if raw in _CIRCLED:
        return _CIRCLED[raw]
    for rx in (pattern, _SLOT_RE, _COMPONENT_RE):
        if rx is not None and (m := rx.match(text)):
            n = int(m.group(1))
            if n >= 1:
                return n
    raise row.error(ValueParseError, column, "expected a number such as ①, 1, (1) or １．")


#: How a verdict's option may be marked, as sheets print it, with its ordinal (best first):
#: ``①…`` (circled), ``3`` / ``(3)`` (a numeric 評価), ``A``–``E`` (a grade), ``高``/``中``/``低``.
_OPTION_MARKS = (
    ("number", re.compile(r"[(]?([0-9]{1,2})[).、:]?")),
    ("grade", re.compile(r"([A-E])")),
    ("level", re.compile(r"(高|中|低)")),
)
_LEVELS = {"高": 1, "中": 2, "低": 3}
#: The national four-level effect scale (地方創生推進交付金 効果検証), longest phrase first: an
#: option that names one is mapped to it (``effect``); other scales are kept as written.
EFFECT_PHRASES = (
    ("相当程度効果があった", "considerably_effective"),
    ("効果がなかった", "not_effective"),
    ("非常に効果的", "very_effective"),
    ("効果があった", "effective"),
)


def _option(row: RawRow) -> tuple[int, str, str, str]:
    """A verdict option as printed: (ordinal, mark as written, scale, text after the mark).

    ``①地方版総合戦略の…`` → (1, "①", "circled", "地方版総合戦略の…"); ``3`` → (3, "3",
    "number", ""); ``A（高）`` → (1, "A", "grade", "（高）"); ``中`` → (2, "中", "level", "").
    """
    text = _cell(row, "option").strip()
    if text and text[0] in _CIRCLED:
        return _CIRCLED[text[0]], text[0], "circled", text[1:].strip()
    plain = unicodedata.normalize("NFKC", text)
    for scale, pattern in _OPTION_MARKS:
        m = pattern.match(plain)
        rest = plain[m.end() :] if m else ""
        # the mark stands alone or before a space or bracket (3年…, Aランク are not marks)
        if m and (
            not rest or rest[0] in " (（:：" or (scale == "number" and m.group(0) != m.group(1))
        ):
            mark = m.group(1)
            no = int(mark) if scale == "number" else _LEVELS.get(mark, ord(mark[0]) - ord("A") + 1)
            if no < 1:
                break
            return (
                no,
                text[: len(text) - len(rest)].strip(),
                scale,
                text[len(text) - len(rest) :].strip(),
            )
    raise row.error(
        ValueParseError,
        "option",
        "expected the option's mark first: ①… (circled), a number (3, (3)), a grade (A–E) or "
        "高/中/低",
    )


def _effect_of(text: str) -> str:
    return next((code for phrase, code in EFFECT_PHRASES if phrase in text), "")


# --------------------------------------------------------------------------------------------
# Tables


def _parse_programme(table: RawTable, periods: _Periods) -> dict[str, object]:
    if len(table) != 1:
        raise DataError(
            f"expected exactly one programme row, found {len(table)}",
            file=table.file,
            row=table.rows[1].row if len(table) > 1 else None,
        )
    row = table.rows[0]
    pid = _programme_id(row)
    code = _municipality_code(row)
    start: int | None = None
    end: int | None = None
    given = [bool(_cell(row, c).strip()) for c in ("plan_start", "plan_end")]
    if any(given):
        # One end without the other is a slip, not a plan the sheet leaves unprinted.
        start = _fiscal_year(row, "plan_start", periods)
        end = _fiscal_year(row, "plan_end", periods)
        if end < start:
            raise row.error(PeriodError, "plan_end", f"the plan ends (FY{end}) before it starts")
        periods.plan = (start, end)
    return {
        "programme_id": pid,
        "municipality_code": code,
        "municipality_ja": _required_text(row, "municipality_ja"),
        "municipality_en": _cell(row, "municipality_en").strip(),
        "name_ja": _required_text(row, "name_ja"),
        "name_en": _cell(row, "name_en").strip(),
        "grant_type_ja": _cell(row, "grant_type_ja").strip(),
        "strategy_goals_ja": _cell(row, "strategy_goals_ja").strip(),
        "overview_ja": _cell(row, "overview_ja").strip(),
        "plan_start": start,
        "plan_end": end,
        "sheet_fiscal_year": (
            _fiscal_year(row, "sheet_fiscal_year", periods)
            if _cell(row, "sheet_fiscal_year").strip()
            else None
        ),
        "source_file": _cell(row, "source_file").strip(),
        "note": _cell(row, "note").strip(),
    }


def _infer_plan(
    row: RawRow, observations: RawTable, programme: dict[str, object], periods: _Periods
) -> None:
    """The plan period of a sheet that prints none (地方創生先行型 sheets give only each KPI's
    target month): the fiscal years its observation rows name, from the first to the last,
    noted ``inferred`` on both cells so the report's appendix says so."""
    # A scratch reader: the labels are read again, with their notes, once the plan is set.
    scratch = _Periods(periods.eras)
    years = []
    for obs in observations:
        if _cell(obs, "fiscal_year").strip():
            years.append(scratch.read(obs, "fiscal_year"))
            continue
        try:
            deadline = notation.parse_target(_cell(obs, "target")).deadline
        except notation.NotationError as exc:
            raise obs.error(ValueParseError, "target", exc.reason) from None
        if deadline:
            years.append(scratch.read(obs, "target", text=deadline))
    if not years:
        raise row.error(
            MissingValueError,
            "plan_start",
            "a fiscal year is required: the sheet prints no plan period and no observation "
            "names a year to take it from",
        )
    start, end = min(years), max(years)
    for fy in (start, end):
        if not MIN_FISCAL_YEAR <= fy <= MAX_FISCAL_YEAR:
            raise row.error(
                PeriodError,
                "plan_start",
                f"fiscal year {fy} is outside {MIN_FISCAL_YEAR}–{MAX_FISCAL_YEAR}",
            )
    reason = (
        f"the sheet prints no plan period: taken as the fiscal years its KPIs name, "
        f"FY{start}–FY{end}"
    )
    for column in ("plan_start", "plan_end"):
        periods.note(row, column, "inferred", reason)
    programme["plan_start"], programme["plan_end"] = start, end
    periods.plan = (start, end)


#: What ``municipality_code`` says when the sheet gives no code: the tidy code is then ``""``
#: and reports say 自治体コード不明; the programme id (its own column) does not change.
UNKNOWN_CODE_MARKS = ("不明", "unknown")


def _municipality_code(row: RawRow) -> str:
    """The 全国地方公共団体コード (5 or 6 ASCII digits), or ``""`` for the
    documented marker of an unknown code; a placeholder such as ``00000`` is refused."""
    code = _cell(row, "municipality_code").strip()
    if code.lower() in UNKNOWN_CODE_MARKS:
        return ""
    # [0-9], not \d: \d also matches full-width and Arabic-Indic digits, which would be kept
    # as written and never join with the same code in ASCII.
    if not re.fullmatch(r"[0-9]{5,6}", code):
        raise row.error(
            ValueParseError,
            "municipality_code",
            "expected the 5- or 6-digit local government code in ASCII digits (e.g. 23205), or "
            "不明 where the sheet gives none",
        )
    if int(code) == 0:
        raise row.error(
            ValueParseError,
            "municipality_code",
            "a placeholder, not a local government code: write 不明 where the code is unknown",
        )
    return code


def _programme_id(row: RawRow) -> str:
    pid = _cell(row, "programme_id").strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", pid):
        raise row.error(
            ValueParseError,
            "programme_id",
            "expected an id of ASCII letters, digits, '.', '_' or '-' (e.g. 23205-community)",
        )
    problem = archive_name_problem("programme", pid)  # it names a folder of reports/
    if problem:
        raise row.error(ValueParseError, "programme_id", f"not usable as an id: {problem}")
    return pid


def _check_programme(row: RawRow, programme_id: str) -> None:
    pid = _cell(row, "programme_id").strip()
    if pid != programme_id:
        raise row.error(
            UnknownProgrammeError,
            "programme_id",
            f"this folder holds programme {programme_id!r}; unknown programme id",
        )


def _refuse_repeat(
    seen: dict[_Key, RawRow], key: _Key, row: RawRow, column: str, what: str
) -> None:
    """Remember ``row`` under ``key``; a key an earlier row has is a :class:`DuplicateRowError`
    at ``column``: "``what`` in row N", N the earlier row."""
    if key in seen:
        raise row.error(DuplicateRowError, column, f"{what} in row {seen[key].row}")
    seen[key] = row


# --- Compound KPIs: one printed cell holding one value per measure (200・4,000 in 回・人) ----

#: Hidden cell of a row split per measure: the measure's number (1, 2 ...).
_MEASURE = "\x00measure"
#: Hidden cell prefix keeping a split cell's whole text (a compound cell shares its text).
_WHOLE = "\x00whole:"
#: indicator_id of measure m of KPI n: n + MEASURE_ID_STEP·(m − 1) (the first keeps n).
MEASURE_ID_STEP = 1000
_SPLIT_COLUMNS = {
    "indicators": ("unit", "baseline"),
    "observations": ("target", "actual", "achievement_printed"),
}


def _measure_offset(row: RawRow) -> int:
    m = int(row.cells.get(_MEASURE, 0))
    return MEASURE_ID_STEP * (m - 1) if m > 1 else 0


def _whole(row: RawRow, column: str) -> str:
    """A cell's text as written: for a row split per measure, the whole compound cell."""
    return row.cells.get(_WHOLE + column, _cell(row, column))


def _measure_count(row: RawRow) -> int:
    text = _cell(row, "measures").strip()
    if not text:
        return 1
    if not re.fullmatch(r"[1-9]", text):
        raise row.error(ValueParseError, "measures", "expected the number of measures, 1–9")
    return int(text)


def _split_cell(row: RawRow, column: str, k: int, unit: str) -> list[str]:
    """The k parts of a compound cell (``200・4,000``, ``(200・4,000)``); a blank or lone-dash
    cell is missing for every measure."""
    text = _cell(row, column)
    s = notation.normalise_unit(text) if column == "unit" else text.strip()
    bare = unicodedata.normalize("NFKC", s).strip("() ")
    if column != "unit" and (not bare or bare in notation.MISSING_MARKS):
        return [text] * k
    paren = s[:1] in "(（" and s[-1:] in ")）" and len(s) > 1
    inner = s[1:-1].strip() if paren else s
    parts = [p.strip() for p in re.split("[・･]", inner)]
    if len(parts) != k or not all(parts):
        raise row.error(
            ValueParseError,
            column,
            f"a compound cell of {k} measures ({unit}) holds {k} values joined by ・ "
            f"(e.g. 200・4,000); found {len(parts)}",
        )
    return [f"({p})" if paren else p for p in parts]


def _split_measures(indicators: RawTable, observations: RawTable) -> tuple[RawTable, RawTable]:
    """Each row of a compound KPI (``measures`` > 1) as one row per measure, its cells split at
    ``・`` (unit ``回・人``, values ``200・4,000``), each keeping the row's place and the whole
    cell's text: the measures are assessed one by one, and errors and provenance still name the
    printed cell."""
    counts: dict[str, tuple[int, str]] = {}
    rows: list[RawRow] = []
    for row in indicators:
        k = _measure_count(row)
        label = unicodedata.normalize("NFKC", _cell(row, "indicator_no")).strip()
        counts[label] = (k, _cell(row, "unit").strip())
        rows += _row_per_measure(row, k, "indicators", counts[label][1])
    if all(k == 1 for k, _ in counts.values()):
        return indicators, observations  # no compound KPI (most programmes)
    obs: list[RawRow] = []
    for row in observations:
        label = unicodedata.normalize("NFKC", _cell(row, "indicator_no")).strip()
        k, unit = counts.get(label, (1, ""))
        obs += _row_per_measure(row, k, "observations", unit)
    return replace(indicators, rows=tuple(rows)), replace(observations, rows=tuple(obs))


def _row_per_measure(row: RawRow, k: int, table: str, unit: str) -> list[RawRow]:
    if k == 1:
        return [row]
    split = {c: _split_cell(row, c, k, unit) for c in _SPLIT_COLUMNS[table]}
    return [
        replace(
            row,
            cells={
                **row.cells,
                **{c: parts[m] for c, parts in split.items()},
                **{_WHOLE + c: _cell(row, c) for c in split},
                _MEASURE: str(m + 1),
            },
        )
        for m in range(k)
    ]


def _parse_indicators(
    table: RawTable, programme: dict[str, object], periods: _Periods
) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    seen: dict[int, RawRow] = {}
    for row in table:
        _check_programme(row, str(programme["programme_id"]))
        kpi_no = _numbered(row, "indicator_no")
        ind = kpi_no + _measure_offset(row)
        _refuse_repeat(seen, ind, row, "indicator_no", f"indicator {kpi_no} is already defined")
        unit = _required_text(row, "unit")
        try:
            unit_norm = notation.normalise_unit(unit)
        except notation.NotationError as exc:
            raise row.error(ValueParseError, "unit", f"not a unit label: {exc.reason}") from None
        kind = _choice(row, "kind", KINDS)
        if unit_norm == "%" and kind in ("cumulative", "stock"):
            raise row.error(
                InvalidValueError,
                "kind",
                f"a percentage is not a {kind} count: use kind 'average' for a rate or share "
                "(e.g. a satisfaction rate, an occupancy rate)",
            )
        direction = _choice(row, "direction", DIRECTIONS)
        target_form = _choice(row, "target_form", FORMS, default="level")
        actual_form = _choice(row, "actual_form", FORMS, default="level")
        model = _choice(row, "trend_model", TREND_MODELS, default="")
        baseline_q = _quantity(row, "baseline", required=False, unit=unit_norm)
        _check_value(row, "baseline", baseline_q, kind, notation.split_scale(unit_norm)[0])
        baseline_year = (
            _fiscal_year(row, "baseline_year", periods, baseline=True)
            if _cell(row, "baseline_year").strip()
            else None
        )
        if baseline_q.value is not None and baseline_year is None:
            raise row.error(
                MissingValueError, "baseline_year", "a baseline value needs its fiscal year"
            )
        if baseline_q.value is None and "increment" in (target_form, actual_form):
            which = "target_form" if target_form == "increment" else "actual_form"
            raise row.error(
                MissingValueError,
                "baseline",
                f"{which} is 'increment': the levels are the baseline plus the running total "
                "of the increments, so the baseline is required",
            )
        out.append(
            {
                "programme_id": programme["programme_id"],
                "indicator_id": ind,
                "kpi_no": kpi_no,
                "measure_no": int(row.cells.get(_MEASURE, 0)),
                "indicator_label": _cell(row, "indicator_no").strip(),
                "name_ja": _required_text(row, "name_ja"),
                "sub_label_ja": _cell(row, "sub_label_ja").strip(),
                "name_en": _cell(row, "name_en").strip(),
                "unit": notation.split_scale(unit_norm)[0],
                "unit_text": unit,
                "kind": kind,
                "direction": direction,
                "target_form": target_form,
                "actual_form": actual_form,
                "baseline_year": baseline_year,
                "baseline": baseline_q.value,
                "baseline_text": _whole(row, "baseline"),
                # Blank = the kind's default model (kpianalysis.analysis.trends.default_model).
                "trend_model": model or None,
                "component_no": (
                    _numbered(row, "component_no") if _cell(row, "component_no").strip() else None
                ),
                "component_ja": "",
                "subproject_ja": _cell(row, "subproject_ja").strip(),
                "_row": row,
            }
        )
    return out


def _check_magnitude(row: RawRow, column: str, value: float) -> None:
    # One bound for every written KPI number, levels and increments alike.
    if abs(value) > MAX_KPI_MAGNITUDE:
        raise row.error(
            InvalidValueError,
            column,
            f"magnitude {value:,.0f} exceeds {MAX_KPI_MAGNITUDE:,.0f}: a typo or a wrong unit?",
        )


def _check_value(row: RawRow, column: str, q: notation.Quantity, kind: str, unit: str = "") -> None:
    if q.value is None:
        return
    _check_magnitude(row, column, q.value)
    if kind != "flow" and q.value < 0:
        raise row.error(
            InvalidValueError,
            column,
            f"a {kind} indicator cannot be negative (only 'flow' indicators, such as net "
            "migration, can)",
        )
    # In a unit of measure (12.5 ha, 3.2 km) a running total or a level may be fractional.
    fractional = q.value != int(q.value) and unit not in notation.MEASURE_UNITS
    if kind in ("cumulative", "stock") and fractional:
        raise row.error(
            InvalidValueError,
            column,
            f"a {kind} count must be a whole number (a rate, share or per-unit average is kind "
            "'average'; a unit of measure such as ha, km or t may be fractional)",
        )
    if q.cumulative and kind != "cumulative":
        raise row.error(
            InvalidValueError, column, f"累計 (cumulative) written on a {kind!r} indicator"
        )


def _parse_observations(
    table: RawTable,
    programme: dict[str, object],
    indicators: list[dict[str, object]],
    periods: _Periods,
) -> list[dict[str, object]]:
    by_id = {int(i["indicator_id"]): i for i in indicators}  # type: ignore[call-overload]
    out: list[dict[str, object]] = []
    seen: dict[tuple[int, int], RawRow] = {}
    start, end = int(programme["plan_start"]), int(programme["plan_end"])  # type: ignore[call-overload]
    for row in table:
        _check_programme(row, str(programme["programme_id"]))
        try:
            ind_id = _numbered(row, "indicator_no") + _measure_offset(row)
        except ValueParseError:
            ind_id = -1
        if ind_id not in by_id:
            known = " ".join(str(i["indicator_label"]) for i in indicators)
            raise row.error(
                UnknownIndicatorError,
                "indicator_no",
                f"no such indicator in indicators.csv (defined: {known})",
            )
        ind = by_id[ind_id]
        unit = notation.normalise_unit(str(ind["unit_text"]))
        target_cell = _target(row, unit)
        fy = _observation_year(row, target_cell, periods)
        if not start <= fy <= end:
            raise row.error(
                PeriodError, "fiscal_year", f"FY{fy} is outside the plan period FY{start}–FY{end}"
            )
        _refuse_repeat(
            seen,
            (ind_id, fy),
            row,
            "fiscal_year",
            f"indicator {ind['indicator_label']} FY{periods.year_of(row, fy)} is already given",
        )
        baseline_year = ind["baseline_year"]
        if baseline_year is not None and fy <= int(baseline_year):  # type: ignore[call-overload]
            base_row: RawRow = ind["_row"]  # type: ignore[assignment]
            raise base_row.error(
                PeriodError,
                "baseline_year",
                f"the baseline year FY{baseline_year} is not before the observation of FY{fy} "
                f"({table.file}, row {row.row})",
            )
        kind = str(ind["kind"])
        target = target_cell.quantity
        actual = _quantity(row, "actual", required=False, unit=unit)
        for column, q in (("target", target), ("actual", actual)):
            if ind[f"{column}_form"] == "level":
                _check_value(row, column, q, kind, str(ind["unit"]))
            else:
                # An increment may be negative or fractional; its level is checked once known.
                _check_increment(row, column, q)
        _check_target(row, target_cell, ind)
        printed, printed_tol = _printed_achievement(row)
        reason = _cell(row, "missing_reason_ja").strip()
        if reason and actual.value is not None:
            raise row.error(
                InvalidValueError,
                "missing_reason_ja",
                f"a reason for a missing actual, but the actual {_cell(row, 'actual')!r} is given",
            )
        out.append(
            {
                "programme_id": programme["programme_id"],
                "indicator_id": ind_id,
                "fiscal_year": fy,
                "target": target.value,
                "actual": actual.value,
                "target_bound": target_cell.bound,
                "achievement_printed": printed,
                "achievement_printed_text": _whole(row, "achievement_printed").strip(),
                "achievement_printed_tolerance": printed_tol,
                "missing_reason_ja": reason,
                "target_text": _whole(row, "target"),
                "actual_text": _whole(row, "actual"),
                "_row": row,
            }
        )
    _refuse_no_target(out, by_id)
    missing = sorted(set(by_id) - {k[0] for k in seen})
    if missing:
        # Point at the definition: it is the only row there is (the observations are absent).
        labels = ", ".join(str(by_id[m]["indicator_label"]) for m in missing)
        first: RawRow = by_id[missing[0]]["_row"]  # type: ignore[assignment]
        raise first.error(
            UnknownIndicatorError,
            "indicator_no",
            f"{noun(len(missing), 'indicator')} {labels} "
            f"{'has' if len(missing) == 1 else 'have'} no observations in {table.file}",
        )
    return out


def _observation_year(row: RawRow, target: notation.Target, periods: _Periods) -> int:
    """An observation's fiscal year: its ``fiscal_year`` cell, or the year of the target's
    deadline phrase (``平成31年度まで10人``) when the sheet prints no other; both must agree."""
    deadline = periods.read(row, "target", text=target.deadline) if target.deadline else None
    if not _cell(row, "fiscal_year").strip() and deadline is not None:
        periods.note(
            row,
            "target",
            "reading",
            f"deadline phrase: a target due in FY{deadline} ({target.deadline}), the year of "
            "this row",
        )
        return deadline
    fy = _fiscal_year(row, "fiscal_year", periods)
    if deadline is not None and deadline != fy:
        raise row.error(
            PeriodError,
            "target",
            f"the deadline ({target.deadline} = FY{deadline}) is not this row's fiscal year "
            f"FY{fy}: leave fiscal_year blank or write the deadline's year",
        )
    return fy


def _check_target(row: RawRow, target: notation.Target, ind: dict[str, object]) -> None:
    """A bound on the right side of the KPI's direction; a target of 0 only where less is
    better (or for a flow)."""
    direction = str(ind["direction"])
    if target.bound:
        want = "decrease" if target.bound.endswith("ceiling") else "increase"
        if direction != want:
            kind = target.bound.replace("_", " ")
            raise row.error(
                InvalidValueError,
                "target",
                f"a {kind} target, {notation.BOUND_WORDS[target.bound]}, on an indicator whose "
                f"direction is {direction!r}: a {kind} is met by a value on the {want} side, so "
                f"the indicator's direction must be {want!r}",
            )
    value = target.quantity.value
    if value == 0 and ind["target_form"] == "level" and ind["kind"] != "flow":
        if direction == "decrease":
            return  # 待機児童 0人: less is better, and none is the goal
        # A level target of 0 for a count where more is better is almost always a blank typed
        # as 0; a rate against it is undefined.
        raise row.error(
            InvalidValueError,
            "target",
            f"a target of 0 for a {ind['kind']} indicator where more is better: leave the cell "
            "blank or '-' if there is no target (a target of 0 needs direction 'decrease')",
        )


def _refuse_no_target(
    observations: list[dict[str, object]], by_id: dict[int, dict[str, object]]
) -> None:
    """Every KPI needs a target in some year: a year without one is an interim point, assessed
    against the KPI's final target, but a KPI without any target cannot be assessed."""
    with_target = {int(o["indicator_id"]) for o in observations if o["target"] is not None}  # type: ignore[call-overload]
    for o in observations:
        if int(o["indicator_id"]) not in with_target:  # type: ignore[call-overload]
            ind = by_id[int(o["indicator_id"])]  # type: ignore[call-overload]
            row: RawRow = o["_row"]  # type: ignore[assignment]
            raise row.error(
                MissingValueError,
                "target",
                f"indicator {ind['indicator_label']} has no target in any year: a year without "
                "one is an interim point, but the plan's final target must be given",
            )


def _printed_achievement(row: RawRow) -> tuple[float | None, float | None]:
    """The sheet's own printed achievement (達成度/達成率) as a fraction, and half a unit of its
    last printed digit (the rounding it may carry): ``97.3%`` → (0.973, 0.0005)."""
    column = "achievement_printed"
    text = _cell(row, column)
    try:
        q = notation.parse_quantity(text)
    except notation.NotationError as exc:
        raise row.error(ValueParseError, column, exc.reason) from None
    if q.value is None:
        return None, None
    if q.unit != "%":
        raise row.error(
            UnitMismatchError,
            column,
            "write the printed achievement as the sheet prints it, with its % (e.g. 97.3%)",
        )
    # The number of decimals printed sets the rounding (NFKC only to count digits: ９７．３％).
    digits = re.search(r"[0-9][0-9,]*(?:\.([0-9]+))?", unicodedata.normalize("NFKC", text))
    decimals = len(digits.group(1) or "") if digits else 0
    return q.value / 100, 0.5 * 10.0**-decimals / 100


def _link_indicators(
    indicators: list[dict[str, object]],
    components: list[dict[str, object]],
    subprojects: list[dict[str, object]],
    has_components: bool,
    has_subprojects: bool,
) -> None:
    """Check each KPI's component and sub-project against components.csv / subprojects.csv (when
    the folder has them) and fill in the component's name."""
    names = {int(c["component_no"]): str(c["component_ja"]) for c in components}  # type: ignore[call-overload]
    sub_names = {str(s["name_ja"]) for s in subprojects}
    for ind in indicators:
        row: RawRow = ind["_row"]  # type: ignore[assignment]
        comp = ind["component_no"]
        if comp is not None and has_components:
            if comp not in names:
                raise row.error(
                    UnknownComponentError, "component_no", "no such component in components.csv"
                )
            ind["component_ja"] = names[comp]  # type: ignore[index]
        sub = str(ind["subproject_ja"])
        if sub and has_subprojects and sub not in sub_names:
            raise row.error(
                UnknownComponentError,
                "subproject_ja",
                "no sub-project of this name in subprojects.csv (known: "
                + "、".join(sorted(sub_names))
                + ")",
            )


def _check_increment(row: RawRow, column: str, q: notation.Quantity) -> None:
    if q.value is None:
        return
    _check_magnitude(row, column, q.value)
    if q.cumulative:
        raise row.error(
            InvalidValueError,
            column,
            f"累計 (a running total) written where {column}_form is 'increment' (a yearly "
            f"increase): write the increment, or set {column}_form to 'level'",
        )


def _set_levels(observations: list[dict[str, object]], indicators: list[dict[str, object]]) -> None:
    """Turn each observation's ``target``/``actual`` into levels (:func:`observation_levels`),
    keeping the written numbers as ``target_written``/``actual_written``; each converted level is
    checked at the cell it came from, and increment-form KPIs need one row per fiscal year."""
    for o in observations:
        o["target_written"], o["actual_written"] = o["target"], o["actual"]
    by_id = {int(i["indicator_id"]): i for i in indicators}  # type: ignore[call-overload]
    inc = [i for i in indicators if "increment" in (i["target_form"], i["actual_form"])]
    if not inc:
        return  # levels as written: no conversion (most programmes)
    for ind in inc:
        rows = sorted(
            (o for o in observations if o["indicator_id"] == ind["indicator_id"]),
            key=lambda o: int(o["fiscal_year"]),  # type: ignore[call-overload]
        )
        years = [int(o["fiscal_year"]) for o in rows]  # type: ignore[call-overload]
        for before, o in zip(years, rows[1:], strict=False):
            if int(o["fiscal_year"]) != before + 1:  # type: ignore[call-overload]
                r: RawRow = o["_row"]  # type: ignore[assignment]
                raise r.error(
                    PeriodError,
                    "fiscal_year",
                    f"FY{before + 1} is missing before FY{o['fiscal_year']}: increments add up "
                    "year by year, so every fiscal year needs its row",
                )
    ind_frame = pd.DataFrame.from_records(
        indicators,
        columns=["programme_id", "indicator_id", "baseline", "target_form", "actual_form"],
    )
    obs_frame = pd.DataFrame.from_records(
        observations, columns=["programme_id", "indicator_id", "fiscal_year", "target", "actual"]
    )
    levels = observation_levels(ind_frame, obs_frame)
    for o, (target, actual) in zip(
        observations, levels[["target", "actual"]].itertuples(index=False), strict=True
    ):
        ind = by_id[int(o["indicator_id"])]  # type: ignore[call-overload]
        row = o["_row"]
        for column, level in (("target", target), ("actual", actual)):
            if ind[f"{column}_form"] != "increment" or math.isnan(level):
                continue
            q = notation.Quantity(float(level), None, False, False, _cell(row, column))
            try:
                _check_value(row, column, q, str(ind["kind"]), str(ind["unit"]))  # type: ignore[arg-type]
            except DataError as exc:
                raise row.error(  # type: ignore[attr-defined]
                    InvalidValueError,
                    column,
                    f"as a level ({level:,.10g} = baseline + running total): {exc.reason}",
                ) from None
        o["target"], o["actual"] = float(target), float(actual)


def _parse_finance(
    table: RawTable, programme: dict[str, object], periods: _Periods
) -> list[dict[str, object]]:
    out = []
    seen: dict[int, RawRow] = {}
    for row in table:
        _check_programme(row, str(programme["programme_id"]))
        fy = _finance_year(row, programme, periods)
        _refuse_repeat(
            seen, periods.year_of(row, fy), row, "fiscal_year", f"FY{fy} is already given"
        )
        unit = _cell(row, "unit").strip()
        if unit and notation.split_scale(notation.normalise_unit(unit))[0] != "円":
            raise row.error(
                UnitMismatchError, "unit", "amounts are in yen: write 円 or a scaled 千円, 百万円 …"
            )
        money = {column: _yen(row, column, unit) for column in ("cost", "grant")}
        rate = _grant_rate(row, missing_ok=math.isnan(money["grant"]))
        if money["grant"] > money["cost"]:
            raise row.error(InvalidValueError, "grant", "the grant exceeds the cost")
        out.append(
            {
                "programme_id": programme["programme_id"],
                "fiscal_year": fy,
                "cost_yen": money["cost"],
                "grant_yen": money["grant"],
                "grant_rate": rate,
                "grant_rate_text": _cell(row, "grant_rate").strip(),
                "remark_ja": _cell(row, "remark_ja").strip(),
                "note": _cell(row, "note").strip(),
            }
        )
    return out


def _finance_year(row: RawRow, programme: dict[str, object], periods: _Periods) -> int:
    """A finance row's fiscal year; blank where the sheet prints the amounts without one
    (先行型 sheets: a one-year plan), which is then the plan's only year, noted ``inferred``."""
    start, end = programme["plan_start"], programme["plan_end"]
    if _cell(row, "fiscal_year").strip() or start != end:
        return _fiscal_year(row, "fiscal_year", periods)
    periods.note(
        row,
        "fiscal_year",
        "inferred",
        f"the sheet prints the amounts without a year: the plan's only year, FY{start}",
    )
    return int(start)  # type: ignore[call-overload]


def _yen(row: RawRow, column: str, unit: str = "") -> float:
    """An amount in yen as printed: with its unit (``19,272,695円``, ``12,000千円``), or ``0``
    without one (zero is zero in any unit), or a bare number in the row's ``unit`` (the unit a
    table header gives: 単位:円, (千円)); the grant may be missing (blank or ``-``: NaN)."""
    q = _quantity(row, column, required=column == "cost", unit=unit or "円")
    if q.value is None:
        return math.nan
    if q.unit is None and q.value != 0 and not unit:
        raise row.error(
            UnitMismatchError,
            column,
            "write the amount with its unit (円, 千円 …); only 0 may go without",
        )
    if q.value < 0 or q.value > MAX_YEN:
        raise row.error(InvalidValueError, column, "expected a yen amount ≥ 0 and ≤ 1兆円")
    return q.value


def _grant_rate(row: RawRow, *, missing_ok: bool) -> float:
    """The grant rate (``1/2``); blank or ``-`` only where the grant itself is missing."""
    text = _cell(row, "grant_rate")
    if missing_ok and notation.parse_quantity(text.strip() or None).is_missing:
        return math.nan
    try:
        rate = notation.parse_fraction(text)
    except notation.NotationError as exc:
        raise row.error(ValueParseError, "grant_rate", exc.reason) from None
    if not 0 < rate <= 1:
        raise row.error(InvalidValueError, "grant_rate", "a grant rate must be in (0, 1]")
    return rate


def _parse_components(table: RawTable, programme: dict[str, object]) -> list[dict[str, object]]:
    out = []
    seen: dict[int, RawRow] = {}
    for row in table:
        _check_programme(row, str(programme["programme_id"]))
        no = _numbered(row, "component_no")
        _refuse_repeat(seen, no, row, "component_no", "already given")
        out.append(
            {
                "programme_id": programme["programme_id"],
                "component_no": no,
                "component_ja": _required_text(row, "component_ja"),
                "summary_ja": _cell(row, "summary_ja").strip(),
                "ambiguity": _cell(row, "ambiguity").strip(),
            }
        )
    return out


def _parse_subprojects(
    table: RawTable, programme: dict[str, object], components: list[dict[str, object]]
) -> list[dict[str, object]]:
    known = {int(c["component_no"]) for c in components}  # type: ignore[call-overload]
    out = []
    seen: dict[tuple[int, int, str], RawRow] = {}
    for row in table:
        _check_programme(row, str(programme["programme_id"]))
        comp = _numbered(row, "component_no")
        key = (comp, _numbered(row, "slot"), _cell(row, "name_ja").strip())
        _refuse_repeat(seen, key, row, "name_ja", "the same sub-project is")
        if components and comp not in known:
            raise row.error(
                UnknownComponentError, "component_no", "no such component in components.csv"
            )
        out.append(
            {
                "programme_id": programme["programme_id"],
                "component_no": comp,
                "slot": _numbered(row, "slot"),
                "name_ja": _required_text(row, "name_ja"),
                "department_ja": _required_text(row, "department_ja"),
                "strategy_code_ja": _cell(row, "strategy_code_ja").strip(),
                "description_ja": _cell(row, "description_ja").strip(),
                "ambiguity": _cell(row, "ambiguity").strip(),
            }
        )
    return out


def _parse_verdicts(
    table: RawTable, programme: dict[str, object], periods: _Periods
) -> list[dict[str, object]]:
    rows = []
    seen: dict[tuple[int, str, int], RawRow] = {}
    for row in table:
        _check_programme(row, str(programme["programme_id"]))
        fy = _fiscal_year(row, "fiscal_year", periods)
        evaluator = _choice(row, "evaluator", EVALUATORS)
        option_no, option_label, option_scale, option_ja = _option(row)
        key = (periods.year_of(row, fy), evaluator, option_no)
        _refuse_repeat(
            seen, key, row, "option", f"FY{fy} {evaluator} option {option_no} is already"
        )
        if evaluator == "external" and any(
            k[:2] == (fy, "external") for k in seen if k[2] != option_no
        ):
            raise row.error(
                DuplicateRowError,
                "option",
                f"an external body chooses one option per year (FY{fy})",
            )
        votes_text = _cell(row, "votes").strip()
        votes = total = None
        if votes_text:
            try:
                votes, total = notation.parse_votes(votes_text)
            except notation.NotationError as exc:
                raise row.error(ValueParseError, "votes", exc.reason) from None
        elif evaluator == "panel":
            raise row.error(MissingValueError, "votes", "a panel option needs its vote count")
        rows.append(
            {
                "programme_id": programme["programme_id"],
                "fiscal_year": fy,
                "evaluator": evaluator,
                "evaluator_ja": _cell(row, "evaluator_ja").strip(),
                "option_no": option_no,
                "option_label": option_label,
                "option_scale": option_scale,
                "option_ja": option_ja,
                "effect": _effect_of(option_ja),
                "votes": votes,
                "total": total,
                "_row": row,
            }
        )
    # The panel's chosen option is the one with most votes; an external body's row is its choice.
    labels: dict[tuple[int, int], str] = {}
    for r in rows:
        if r["evaluator"] == "panel":
            labels[(r["fiscal_year"], r["option_no"])] = str(r["option_ja"])  # type: ignore[index]
    for (fy, evaluator), group in _group(
        rows, lambda r: (r["fiscal_year"], r["evaluator"])
    ).items():
        if evaluator == "panel":
            totals = {g["total"] for g in group}
            if len(totals) != 1:
                bad: RawRow = group[-1]["_row"]  # type: ignore[assignment]
                raise bad.error(
                    InvalidValueError,
                    "votes",
                    f"panel totals differ within FY{fy}: {sorted(totals)}",
                )
            if sum(int(g["votes"]) for g in group) > int(group[0]["total"]):  # type: ignore[call-overload]
                bad = group[-1]["_row"]  # type: ignore[assignment]
                raise bad.error(InvalidValueError, "votes", "more votes than panel members")
            best = max(int(g["votes"]) for g in group)  # type: ignore[call-overload]
            for g in group:
                g["selected"] = int(g["votes"]) == best  # type: ignore[call-overload]
        else:
            for g in group:
                g["selected"] = True
                if not g["option_ja"]:
                    g["option_ja"] = labels.get((fy, g["option_no"]), "")  # type: ignore[arg-type]
    for r in rows:
        del r["_row"]
    return rows


def _refuse_formulas(table: RawTable) -> None:
    """Refuse any cell a spreadsheet would evaluate (CSV injection), in every column.

    Values are parsed elsewhere; this catches free text (names, notes) that would otherwise be
    written as is to the processed CSV, which people open in Excel.
    """
    for row in table:
        for column, text in row.cells.items():
            stripped = text.strip()
            if stripped[:1] in ("=", "@") or text[:1] in ("\t", "\r"):
                raise row.error(
                    FormulaError,
                    column,
                    "looks like a spreadsheet formula (starts with '=' or '@' or a control "
                    "character); write it without, or quote it as text in the source",
                )


def _group(rows: list[dict[str, object]], key: Callable[[dict[str, object]], object]) -> dict:
    out: dict[object, list[dict[str, object]]] = {}
    for r in rows:
        out.setdefault(key(r), []).append(r)
    return out


# --------------------------------------------------------------------------------------------
# Provenance


def _squash(text: str) -> str:
    # PDF text extraction breaks lines and pads with spaces anywhere; compare without whitespace.
    return re.sub(r"\s+", "", text)


#: Marks a transcriber may give a cell in ``marks.csv``: why it is not literally in the source.
TRANSCRIBER_MARKS = ("inferred", "rejoined", "converted")

# Compatibility code points PDF text extraction produces where the sheet shows an ordinary
# character: Kangxi radicals and CJK radicals supplement (⽣ U+2F63 for 生), CJK compatibility
# ideographs (U+F900–U+FAFF, U+2F800–U+2FA1F) and full-/half-width forms (U+FF01–U+FFEE).
_COMPAT_RANGES = ((0x2E80, 0x2FDF), (0xF900, 0xFAFF), (0xFF01, 0xFFEE), (0x2F800, 0x2FA1F))


def _is_compat(ch: str) -> bool:
    return any(lo <= ord(ch) <= hi for lo, hi in _COMPAT_RANGES)


def _compat_map(text: str) -> str:
    """``text`` with each compatibility code point replaced by its NFKC form, one character for
    one (so positions stay those of ``text``); everything else as it is."""
    return "".join(unicodedata.normalize("NFKC", c) if _is_compat(c) else c for c in text)


def _only_compat_difference(needle: str, haystack: str, mapped: str) -> str | None:
    """Why ``needle`` matches the source only after compatibility characters are normalised
    (naming them), or ``None`` when it does not match even then."""
    target = _compat_map(needle)
    at = mapped.find(target) if len(mapped) == len(haystack) else -1
    if at >= 0:
        found = sorted({c for c in haystack[at : at + len(target)] + needle if _is_compat(c)})
    elif unicodedata.normalize("NFD", target) in unicodedata.normalize("NFD", mapped):
        found = [c for c in needle if _is_compat(c)]
    else:
        return None
    named = ", ".join(
        f"{c!r} U+{ord(c):04X} {unicodedata.name(c, '?')} = {_compat_map(c)!r}" for c in found
    )
    return (
        "matches the source only after normalising compatibility characters"
        + (f" ({named})" if named else "")
        + ": the only difference"
    )


def check_provenance(
    tables: dict[str, RawTable],
    source_text: str,
    source_name: str,
    *,
    marked: Collection[tuple[str, int, str]] = (),
    notes: _Periods | None = None,
) -> int:
    """Check that every transcribed cell occurs in the source document.

    Whitespace (line breaks, ASCII and full-width spaces) is ignored on both sides, since PDF text
    extraction wraps lines. Compatibility code points (Kangxi radicals such as ⽣ for 生, CJK
    compatibility ideographs, full- and half-width forms) are normalised on both sides when the
    text does not match as it is: a cell that matches only so is accepted and noted
    (``normalised``, naming the characters) in ``notes``. Nothing else is normalised: ``▲`` must
    stay ``▲``. A lone dash (``-``, the README's "none") is not checked; nor are the cells in
    ``marked`` — (file name, row, column) the transcriber marked in ``marks.csv``. Returns the
    number of cells checked; raises :class:`ProvenanceError` at the first cell whose text is not
    in the source.
    """
    haystack = _squash(source_text)
    mapped: str | None = None  # computed on the first cell that needs it
    checked = 0
    for name, table in tables.items():
        for row in table:
            for column in SPECS[name].transcribed:
                text = row.cells.get(column, "")
                needle = _squash(text)
                if not needle or unicodedata.normalize("NFKC", needle) in notation.MISSING_MARKS:
                    continue
                if (Path(row.file).name, row.row, column) in marked:
                    continue
                checked += 1
                if needle in haystack:
                    continue
                mapped = _compat_map(haystack) if mapped is None else mapped
                why = _only_compat_difference(needle, haystack, mapped)
                if why is None:
                    raise row.error(
                        ProvenanceError,
                        column,
                        f"this transcribed text does not occur in the source {source_name}"
                        + _near_miss(needle, mapped),
                    )
                if notes is not None:
                    notes.note(row, column, "normalised", why)
    return checked


def _near_miss(needle: str, mapped: str) -> str:
    """A hint when the cell would match but for one thing a partner can fix by marking it."""
    if _compat_map(needle) in mapped:
        return ""
    return (
        " (if the sheet does not print it literally — inferred, re-joined across lines or "
        "converted — mark the cell in marks.csv with its reason)"
    )


def _read_marks(tables: dict[str, RawTable], periods: _Periods) -> set[tuple[str, int, str]]:
    """The cells ``marks.csv`` marks as not literally in the source, checked against the tables
    (the row must hold the text given), each recorded in ``periods`` for ``cell_notes``."""
    if "marks" not in tables:
        return set()
    by_file = {t.file.rsplit("/", 1)[-1]: (key, t) for key, t in tables.items()}
    marked: set[tuple[str, int, str]] = set()
    for row in tables["marks"]:
        file = _required_text(row, "file")
        if file not in by_file or by_file[file][0] == "marks":
            raise row.error(UnknownComponentError, "file", "no such table in this folder")
        key, table = by_file[file]
        column = _required_text(row, "column")
        if column not in SPECS[key].transcribed:
            shown = ", ".join(SPECS[key].transcribed)
            raise row.error(
                ValueParseError, "column", f"not a transcribed column of {file} ({shown})"
            )
        try:
            n = int(_required_text(row, "row"))
        except ValueError:
            raise row.error(ValueParseError, "row", "expected a row number (header = 1)") from None
        target = next((r for r in table.rows if r.row == n), None)
        if target is None:
            raise row.error(InvalidValueError, "row", f"{file} has no row {n}")
        if _cell(target, column).strip() != _cell(row, "text").strip():
            raise row.error(
                InvalidValueError,
                "text",
                f"{file} row {n} column {column!r} reads {_cell(target, column)!r}, not this: "
                "a row inserted or moved?",
            )
        mark = _choice(row, "mark", TRANSCRIBER_MARKS)
        if (file, n, column) in marked:
            raise row.error(DuplicateRowError, "column", f"{file} row {n} {column} is marked twice")
        marked.add((file, n, column))
        periods.note(target, column, mark, _required_text(row, "reason"))
    return marked


# --------------------------------------------------------------------------------------------
# Loading


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def programme_dirs(raw_dir: Path | str) -> list[Path]:
    """Programme folders under ``raw_dir``: every sub-folder holding a ``programme.csv``."""
    raw = Path(raw_dir)
    if not raw.is_dir():
        raise DataError("raw data directory not found", file=str(raw))
    dirs = sorted(p.parent for p in raw.glob("*/programme.csv"))
    known = set(dirs)  # a list's `in` made this quadratic: 20 s for 8,705 folders
    root = find_project_root(raw)
    for sub in sorted(raw.iterdir()):
        # A programme folder may be a symbolic link within the project (followed), never one
        # leading out of it: the archive records only what the project holds.
        if sub.is_symlink() and not sub.resolve().is_relative_to(root):
            raise DataError(
                f"programme folder is a symbolic link to {sub.resolve()}, outside the "
                f"project {root}",
                file=str(sub),
            )
        # A folder of raw tables without its programme.csv would otherwise be skipped silently,
        # and its observations lost from every report.
        if sub.is_dir() and sub not in known and any(sub.glob("*.csv")):
            raise DataError("required table programme.csv is missing", file=str(sub))
    if not dirs:
        raise DataError("no programme folders (a sub-folder with programme.csv)", file=str(raw))
    return dirs


def programme_folders(raw_dir: Path | str) -> dict[str, Path]:
    """``programme_id`` → its folder under ``raw_dir``, read from each ``programme.csv``.

    Only the programme table is read (not validated beyond its header), so a report for one
    programme can load its own folder without reading every other programme's sheets.

    Examples
    --------
    >>> programme_folders("data/raw")  # doctest: +SKIP
    {'23205-community': PosixPath('data/raw/23205-community')}
    """
    out: dict[str, Path] = {}
    spec = SPECS["programme"]
    for folder in programme_dirs(raw_dir):
        path = folder / spec.filename
        table = read_table(path, spec.required, spec.optional, display_name=str(path))
        if len(table):
            pid = _programme_id(table.rows[0])
            if pid in out:
                raise DuplicateRowError(
                    f"programme id {pid!r} is used by two folders",
                    file=str(path),
                    row=2,
                    column="programme_id",
                    text=pid,
                )
            out[pid] = folder
    return out


def load_programme(folder: Path | str) -> Dataset:
    """Load and validate one programme folder (see ``data/raw/README.md``).

    Error messages name files by the path as given (``data/raw/<programme>/observations.csv``).
    """
    records, sources = _programme_records(Path(folder))
    return _dataset_of(records, sources)


def _dataset_of(records: dict[str, list[dict[str, object]]], sources: dict[str, str]) -> Dataset:
    # One frame per table for all programmes at once: building seven small frames per folder
    # and concatenating them costs ~0.1 s a programme, 15 minutes for a national panel.
    return Dataset(
        **{name: _frame(records[name], dtypes) for name, dtypes in _TABLE_DTYPES.items()},
        sources=sources,
    )


def _programme_records(folder: Path) -> tuple[dict[str, list[dict[str, object]]], dict[str, str]]:
    """The validated records of one programme folder, per table, and the sha256 of its files."""
    name_of = str

    tables: dict[str, RawTable] = {}
    for key, spec in SPECS.items():
        path = folder / spec.filename
        if not path.exists():
            if key in REQUIRED_TABLES:
                raise DataError(f"required table {spec.filename} is missing", file=name_of(folder))
            continue
        tables[key] = read_table(path, spec.required, spec.optional, display_name=name_of(path))

    for table in tables.values():
        _refuse_formulas(table)
    periods = (
        _Periods.of_programme(tables["programme"].rows[0])
        if len(tables["programme"])
        else _Periods()
    )
    programme = _parse_programme(tables["programme"], periods)
    if programme["plan_start"] is None:
        _infer_plan(tables["programme"].rows[0], tables["observations"], programme, periods)
    ind_rows, obs_rows = _split_measures(tables["indicators"], tables["observations"])
    indicators = _parse_indicators(ind_rows, programme, periods)
    observations = _parse_observations(obs_rows, programme, indicators, periods)
    _set_levels(observations, indicators)
    for o in observations:
        del o["_row"]
    finance = _parse_finance(tables["finance"], programme, periods) if "finance" in tables else []
    components = (
        _parse_components(tables["components"], programme) if "components" in tables else []
    )
    subprojects = (
        _parse_subprojects(tables["subprojects"], programme, components)
        if "subprojects" in tables
        else []
    )
    verdicts = (
        _parse_verdicts(tables["verdicts"], programme, periods) if "verdicts" in tables else []
    )
    _link_indicators(
        indicators, components, subprojects, "components" in tables, "subprojects" in tables
    )

    # Provenance last: a cell that does not even parse gets the more specific error first.
    marked = _read_marks(tables, periods)
    sources = {name_of(p): _sha256(p) for p in sorted(folder.iterdir()) if p.is_file()}
    source_file = str(programme["source_file"])
    programme["source_sha256"] = ""
    if source_file:
        src = folder / source_file
        if not src.is_file() or src.resolve().parent != folder.resolve():
            raise (
                tables["programme"]
                .rows[0]
                .error(DataError, "source_file", "the source document is not a file in this folder")
            )
        text, _enc = decode_bytes(read_input(src, name_of(src)), name_of(src))
        check_provenance(tables, text, name_of(src), marked=marked, notes=periods)
        programme["source_sha256"] = sources[name_of(src)]
    for ind in indicators:
        del ind["_row"]
    records = {
        "programmes": [programme],
        "indicators": indicators,
        "observations": observations,
        "finance": finance,
        "components": components,
        "subprojects": subprojects,
        "verdicts": verdicts,
        "cell_notes": periods.records(programme["programme_id"]),
    }
    return records, sources


def provenance_warnings(dataset: Dataset) -> list[str]:
    """One warning per programme whose transcription was not checked against a source document,
    and one per programme with cells not literally in its source (marked in ``marks.csv``, or
    matching only after normalising compatibility characters), counted by mark.

    Examples
    --------
    >>> provenance_warnings(load_dataset("tests/fixtures/partners"))[0]  # doctest: +SKIP
    "programme '13101-...' (...): no source document (source_file is blank), ..."
    """
    progs = dataset.programmes.set_index("programme_id")
    out = []
    for pid in dataset.unchecked_programmes:
        p = progs.loc[pid]
        out.append(
            f"programme {pid!r} ({p['municipality_ja']} {p['name_ja']}): no source document "
            "(source_file is blank), so its transcription was not checked against a source"
        )
    notes = dataset.cell_notes
    shown = notes.loc[notes["mark"].isin((*TRANSCRIBER_MARKS, "normalised"))]
    for pid, group in shown.groupby("programme_id", sort=False):
        p = progs.loc[pid]
        # most frequent first, ties by name: the same line on every run
        tally = (
            group["mark"].value_counts().sort_index().sort_values(ascending=False, kind="stable")
        )
        counts = ", ".join(f"{mark} {n}" for mark, n in tally.items())
        if "normalised" in set(group["mark"]):
            counts += "; normalised: differing only in compatibility characters"
        out.append(
            f"programme {pid!r} ({p['municipality_ja']} {p['name_ja']}): "
            f"{counted(len(group), 'cell')} "
            f"not literally in its source ({counts}), listed in cell_notes"
        )
    return out


def load_dataset(raw_dir: Path | str = DEFAULT_RAW) -> Dataset:
    """Load and validate every programme folder under ``raw_dir``.

    Raises
    ------
    DataError
        (or a subclass) at the first problem, naming file, row, column and text.

    Examples
    --------
    >>> ds = load_dataset("data/raw")  # doctest: +SKIP
    >>> obs = ds.observations.set_index(["indicator_id", "fiscal_year"])  # doctest: +SKIP
    >>> obs.loc[(2, 2021), "actual"]  # doctest: +SKIP
    -468.0
    """
    return load_folders(programme_dirs(raw_dir))


def load_folders(folders: Iterable[Path | str]) -> Dataset:
    """Load and validate the given programme folders into one dataset (e.g. programmes kept in
    different places, such as ``data/raw/23205-community`` beside test fixtures).

    Raises
    ------
    DataError
        At the first problem; :class:`DuplicateRowError` when two folders hold the same
        programme id.

    Examples
    --------
    >>> ds = load_folders(["data/raw/23205-community"])  # doctest: +SKIP
    """
    dirs = [Path(f) for f in folders]
    if not dirs:
        raise DataError("no programme folders given")
    records: dict[str, list[dict[str, object]]] = {name: [] for name in _TABLE_DTYPES}
    sources: dict[str, str] = {}
    seen: set[str] = set()
    for folder in dirs:
        part, part_sources = _programme_records(folder)
        pid = str(part["programmes"][0]["programme_id"])
        if pid in seen:
            raise DuplicateRowError(
                f"programme id {pid!r} is used by two folders",
                file=str(folder / "programme.csv"),
                row=2,
                column="programme_id",
                text=pid,
            )
        seen.add(pid)
        for name, rows in part.items():
            records[name].extend(rows)
        sources.update(part_sources)
    return _dataset_of(records, sources)


# --------------------------------------------------------------------------------------------
# Frames and output

#: Dataset attribute → column dtypes (:data:`kpianalysis.data.schema.TABLE_DTYPES`).
TABLE_DTYPES = schema.TABLE_DTYPES
_TABLE_DTYPES = {name: dict(dtypes) for name, dtypes in TABLE_DTYPES.items()}


def empty_table(name: str) -> pd.DataFrame:
    """An empty tidy table ``name`` with the loader's columns and dtypes (:data:`TABLE_DTYPES`).

    For building a :class:`Dataset` by hand (a test, a benchmark, a conversion from another
    source) without a table the data has none of.

    Raises
    ------
    ParameterError
        When ``name`` is not one of the tables of :data:`TABLE_DTYPES`.

    Examples
    --------
    >>> empty_table("verdicts").dtypes["selected"]
    dtype('bool')
    >>> list(empty_table("components").columns)
    ['programme_id', 'component_no', 'component_ja', 'summary_ja', 'ambiguity']
    """
    if name not in _TABLE_DTYPES:
        raise ParameterError(f"no tidy table {name!r}: one of {', '.join(_TABLE_DTYPES)}")
    return _frame([], _TABLE_DTYPES[name])


def _frame(records: list[dict[str, object]], dtypes: dict[str, str]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(records, columns=list(dtypes))
    return df.astype(dtypes)


def write_processed(dataset: Dataset, out_dir: Path | str = DEFAULT_PROCESSED) -> list[Path]:
    """Write every tidy table as CSV (UTF-8 with BOM, for Excel) and Parquet (for programs).

    Each file is written to a temporary name and renamed into place, so a reader never sees a
    half-written table and a failure leaves the previous files intact.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, df in dataset.tables().items():
        written.append(write_csv(df, out / f"{name}.csv"))
        written.append(write_parquet(df, out / f"{name}.parquet"))
    return written


def write_parquet(df: pd.DataFrame, path: Path | str) -> Path:
    """Write ``df`` as Parquet for programs, atomically."""
    path = Path(path)
    write_atomic(path, df.to_parquet(None, index=False))
    return path


def write_csv(df: pd.DataFrame, path: Path | str) -> Path:
    """Write ``df`` as CSV for people: UTF-8 with BOM (so Excel shows Japanese), atomically.

    Text that a spreadsheet would evaluate (starting with ``=``, ``+``, ``-``, ``@``, tab or CR,
    the characters OWASP lists) is written with a leading apostrophe, as OWASP advises against
    CSV injection, unless it is a plain number (``-93.6``, ``+1,200``); the raw input refuses
    ``=`` and ``@`` already, and the Parquet files keep every text exactly.
    """
    path = Path(path)
    text = defuse_formulas(df).to_csv(index=False, lineterminator="\r\n")
    write_atomic(path, "\ufeff".encode() + text.encode("utf-8"))  # the BOM Excel needs
    return path


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A signed plain number (thousands separators and a decimal part allowed), or a sign alone (a
#: sheet's "none"): a spreadsheet reads it as that number or text, never as a formula.
_PLAIN_NUMBER = re.compile(r"[+-]|[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


def defuse_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells cannot start a spreadsheet formula.

    Examples
    --------
    >>> defuse_formulas(pd.DataFrame({"a": ["=1+1", "+α", "▲468人", "-2+3+cmd|' /C calc'!A0"]}))[
    ...     "a"].tolist()
    ["'=1+1", "'+α", '▲468人', "'-2+3+cmd|' /C calc'!A0"]
    >>> defuse_formulas(pd.DataFrame({"a": ["-93.6", "+1,200", "-", "-1e3"]}))["a"].tolist()
    ['-93.6', '+1,200', '-', "'-1e3"]
    """
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            values = out[col].astype(object)
            risky = values.map(
                lambda v: (
                    isinstance(v, str)
                    and v.startswith(_FORMULA_START)
                    and not _PLAIN_NUMBER.fullmatch(v)
                )
            )
            if risky.any():
                out[col] = values.where(~risky, "'" + values.astype(str))
    return out
