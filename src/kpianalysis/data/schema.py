"""One schema per table: the raw tables a partner writes and the tidy tables the loader makes.

For each raw table (``data/raw/<programme>/*.csv``): its file name, and per column whether it is
required, whether its text is transcribed from the source document (and so checked against it),
and which reader parses it (:data:`READERS`). For each tidy table (:class:`Dataset` attribute,
written to ``data/processed/``): per column its pandas dtype and where it comes from. And the
exported column lists of the per-year result tables (``attainment_fy<YEAR>``,
``trends_fy<YEAR>``), which tests check against the tables the analysis builds.

Adding an optional raw column is one line here (and its reader in :mod:`.dataset`); adding a
tidy column is one line here (and the value in the loader's record). ``data/raw/README.md`` is
the partner's description of the same tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "ATTAINMENT_COLUMNS",
    "RAW_TABLES",
    "READERS",
    "REQUIRED_TABLES",
    "TABLE_DTYPES",
    "TIDY_TABLES",
    "TREND_COLUMNS",
    "RawColumn",
    "TableSpec",
    "TidyColumn",
]

#: How a raw cell is read (the reader in :mod:`kpianalysis.data.dataset` named after it).
READERS: Mapping[str, str] = MappingProxyType(
    {
        "id": "ASCII id: letters, digits, '.', '_', '-'",
        "code": "全国地方公共団体コード, 5 or 6 ASCII digits, or a marker for unknown",
        "text": "free text, kept as written (stripped)",
        "ordinal": "a printed number: ①, 1, (1), １．",
        "count": "a small whole number: 1–9",
        "choice": "one of a fixed list of words",
        "unit": "a unit label (notation.normalise_unit)",
        "fiscal_year": "a fiscal-year or target-month label (notation.read_period)",
        "quantity": "a value in sheet notation (notation.parse_quantity)",
        "target": "a value, a bound (以下, 未満, …) or a deadline phrase (notation.parse_target)",
        "percent": "a printed percentage with its % (notation.parse_quantity)",
        "fraction": "a fraction such as 1/2 (notation.parse_fraction)",
        "option": "an option led by its mark: ①…, 3, (3), A–E or 高/中/低",
        "votes": "a vote count such as （評価委員：７名/７名中） (notation.parse_votes)",
        "file": "a file name in the programme's folder",
    }
)


@dataclass(frozen=True)
class RawColumn:
    """One column of a raw table."""

    name: str
    reader: str
    required: bool = False
    transcribed: bool = False


@dataclass(frozen=True)
class TableSpec:
    """What one raw table holds: its file name and columns, in the order a partner writes them."""

    filename: str
    columns: tuple[RawColumn, ...]

    @property
    def required(self) -> tuple[str, ...]:
        """Columns that must be present."""
        return tuple(c.name for c in self.columns if c.required)

    @property
    def optional(self) -> tuple[str, ...]:
        """Columns that may be present; any other column is refused."""
        return tuple(c.name for c in self.columns if not c.required)

    @property
    def transcribed(self) -> tuple[str, ...]:
        """Columns whose text is checked against the source document."""
        return tuple(c.name for c in self.columns if c.transcribed)


def _raw(filename: str, *columns: tuple[str, str, str]) -> TableSpec:
    # Flags: "r" required, "t" transcribed (checked against the source document).
    return TableSpec(
        filename,
        tuple(
            RawColumn(name, reader, "r" in flags, "t" in flags) for name, reader, flags in columns
        ),
    )


#: Raw table name → its spec, in the order the loader reads them.
RAW_TABLES: Mapping[str, TableSpec] = MappingProxyType(
    {
        "programme": _raw(
            "programme.csv",
            ("programme_id", "id", "r"),
            ("municipality_code", "code", "r"),
            ("municipality_ja", "text", "r"),
            ("municipality_en", "text", ""),
            ("name_ja", "text", "rt"),
            ("name_en", "text", ""),
            ("grant_type_ja", "text", "t"),
            ("strategy_goals_ja", "text", "t"),
            ("overview_ja", "text", "t"),
            ("plan_start", "fiscal_year", "t"),
            ("plan_end", "fiscal_year", "t"),
            ("sheet_fiscal_year", "fiscal_year", "t"),
            ("source_file", "file", ""),
            ("note", "text", ""),
        ),
        "indicators": _raw(
            "indicators.csv",
            ("programme_id", "id", "r"),
            ("indicator_no", "ordinal", "rt"),
            ("name_ja", "text", "rt"),
            ("sub_label_ja", "text", "t"),
            ("name_en", "text", ""),
            ("unit", "unit", "r"),
            ("kind", "choice", "r"),
            ("direction", "choice", "r"),
            ("target_form", "choice", ""),
            ("actual_form", "choice", ""),
            ("baseline_year", "fiscal_year", "t"),
            ("baseline", "quantity", "rt"),
            ("trend_model", "choice", ""),
            ("component_no", "ordinal", ""),
            ("subproject_ja", "text", "t"),
            ("measures", "count", ""),
        ),
        "observations": _raw(
            "observations.csv",
            ("programme_id", "id", "r"),
            ("indicator_no", "ordinal", "rt"),
            ("fiscal_year", "fiscal_year", "rt"),
            ("target", "target", "rt"),
            ("actual", "quantity", "rt"),
            ("achievement_printed", "percent", "t"),
            ("missing_reason_ja", "text", "t"),
        ),
        "finance": _raw(
            "finance.csv",
            ("programme_id", "id", "r"),
            ("fiscal_year", "fiscal_year", "rt"),
            ("cost", "quantity", "rt"),
            ("grant", "quantity", "rt"),
            ("grant_rate", "fraction", "rt"),
            ("unit", "unit", ""),
            ("remark_ja", "text", "t"),
            ("note", "text", ""),
        ),
        "components": _raw(
            "components.csv",
            ("programme_id", "id", "r"),
            ("component_no", "ordinal", "rt"),
            ("component_ja", "text", "rt"),
            ("summary_ja", "text", "t"),
            ("ambiguity", "text", ""),
        ),
        "subprojects": _raw(
            "subprojects.csv",
            ("programme_id", "id", "r"),
            ("component_no", "ordinal", "rt"),
            ("slot", "ordinal", "rt"),
            ("name_ja", "text", "rt"),
            ("department_ja", "text", "rt"),
            ("strategy_code_ja", "text", "t"),
            ("description_ja", "text", "t"),
            ("ambiguity", "text", ""),
        ),
        "verdicts": _raw(
            "verdicts.csv",
            ("programme_id", "id", "r"),
            ("fiscal_year", "fiscal_year", "rt"),
            ("evaluator", "choice", "r"),
            ("evaluator_ja", "text", "t"),
            ("option", "option", "rt"),
            ("votes", "votes", "rt"),
        ),
        "marks": _raw(
            "marks.csv",
            ("programme_id", "id", "r"),
            ("file", "file", "r"),
            ("row", "ordinal", "r"),
            ("column", "choice", "r"),
            ("text", "text", "r"),
            ("mark", "choice", "r"),
            ("reason", "text", "r"),
        ),
    }
)
#: Raw tables every programme folder must have; the others are optional.
REQUIRED_TABLES = ("programme", "indicators", "observations")


@dataclass(frozen=True)
class TidyColumn:
    """One column of a tidy table: its pandas dtype and where its values come from."""

    name: str
    dtype: str
    source: str


def _tidy(*columns: tuple[str, str, str]) -> tuple[TidyColumn, ...]:
    return tuple(TidyColumn(*c) for c in columns)


_YEAR = "fiscal_year (read_period)"
_PID = ("programme_id", "str", "programme_id")

#: Tidy table (:class:`~kpianalysis.data.dataset.Dataset` attribute) → its columns, in the order
#: of :meth:`~kpianalysis.data.dataset.Dataset.tables`.
TIDY_TABLES: Mapping[str, tuple[TidyColumn, ...]] = MappingProxyType(
    {
        "programmes": _tidy(
            _PID,
            ("municipality_code", "str", "municipality_code ('' when unknown)"),
            ("municipality_ja", "str", "municipality_ja"),
            ("municipality_en", "str", "municipality_en"),
            ("name_ja", "str", "name_ja"),
            ("name_en", "str", "name_en"),
            ("grant_type_ja", "str", "grant_type_ja"),
            ("strategy_goals_ja", "str", "strategy_goals_ja"),
            ("overview_ja", "str", "overview_ja"),
            ("plan_start", "int64", f"plan_start {_YEAR}"),
            ("plan_end", "int64", f"plan_end {_YEAR}"),
            ("sheet_fiscal_year", "Int64", f"sheet_fiscal_year {_YEAR}"),
            ("source_file", "str", "source_file"),
            ("source_sha256", "str", "sha256 of the source document ('' without one)"),
            ("note", "str", "note"),
        ),
        "indicators": _tidy(
            _PID,
            ("indicator_id", "int64", "① = 1; measure m of a compound KPI n: n + 1000·(m − 1)"),
            ("kpi_no", "int64", "indicator_no as a number (① = 1), shared by a KPI's measures"),
            ("measure_no", "int64", "0, or the measure's place in a compound cell (1, 2 ...)"),
            ("indicator_label", "str", "indicator_no as written"),
            ("name_ja", "str", "name_ja"),
            ("sub_label_ja", "str", "sub_label_ja"),
            ("name_en", "str", "name_en"),
            (
                "unit",
                "str",
                "unit, scale prefix removed (千人 → 人); a measure's own (回・人 → 人)",
            ),
            ("unit_text", "str", "unit as written (a measure's part)"),
            ("kind", "str", "kind"),
            ("direction", "str", "direction"),
            ("target_form", "str", "target_form (default level)"),
            ("actual_form", "str", "actual_form (default level)"),
            ("baseline_year", "Int64", f"baseline_year {_YEAR}"),
            ("baseline", "float64", "baseline (parse_quantity, scaled)"),
            ("baseline_text", "str", "baseline as written (a compound cell whole)"),
            ("trend_model", "str", "trend_model (None: the kind's default)"),
            ("component_no", "Int64", "component_no as a number"),
            ("component_ja", "str", "components.csv, by component_no"),
            ("subproject_ja", "str", "subproject_ja"),
        ),
        "observations": _tidy(
            _PID,
            ("indicator_id", "int64", "indicator_no as a number"),
            ("fiscal_year", "int64", _YEAR),
            ("target", "float64", "target as a level (levels.observation_levels)"),
            ("actual", "float64", "actual as a level"),
            (
                "target_bound",
                "str",
                "'ceiling' (以下), 'floor' (以上), 'strict_ceiling' (未満), 'strict_floor' (超) "
                "or '' (parse_target)",
            ),
            ("target_written", "float64", "target as written (level or increment)"),
            ("actual_written", "float64", "actual as written"),
            ("target_text", "str", "target as written (a compound cell whole)"),
            ("actual_text", "str", "actual as written (a compound cell whole)"),
            ("achievement_printed", "float64", "achievement_printed as a fraction (97.3% → 0.973)"),
            ("achievement_printed_text", "str", "achievement_printed as written"),
            ("achievement_printed_tolerance", "float64", "half a unit of its last printed digit"),
            ("missing_reason_ja", "str", "missing_reason_ja"),
        ),
        "finance": _tidy(
            _PID,
            ("fiscal_year", "int64", _YEAR),
            ("cost_yen", "float64", "cost in yen (parse_quantity, 千円 scaled; 0 without unit)"),
            ("grant_yen", "float64", "grant in yen (NaN: blank or '-')"),
            ("grant_rate", "float64", "grant_rate (parse_fraction; NaN with a missing grant)"),
            ("grant_rate_text", "str", "grant_rate as written"),
            ("remark_ja", "str", "remark_ja"),
            ("note", "str", "note"),
        ),
        "components": _tidy(
            _PID,
            ("component_no", "int64", "component_no as a number"),
            ("component_ja", "str", "component_ja"),
            ("summary_ja", "str", "summary_ja"),
            ("ambiguity", "str", "ambiguity"),
        ),
        "subprojects": _tidy(
            _PID,
            ("component_no", "int64", "component_no as a number"),
            ("slot", "int64", "slot as a number"),
            ("name_ja", "str", "name_ja"),
            ("department_ja", "str", "department_ja"),
            ("strategy_code_ja", "str", "strategy_code_ja"),
            ("description_ja", "str", "description_ja"),
            ("ambiguity", "str", "ambiguity"),
        ),
        "verdicts": _tidy(
            _PID,
            ("fiscal_year", "int64", _YEAR),
            ("evaluator", "str", "evaluator"),
            ("evaluator_ja", "str", "evaluator_ja"),
            ("option_no", "int64", "option's ordinal, best first (① = 1, 3 = 3, A = 1, 高 = 1)"),
            ("option_label", "str", "option's mark as written (①, 3, A, 高)"),
            ("option_scale", "str", "'circled', 'number', 'grade' (A–E) or 'level' (高/中/低)"),
            ("option_ja", "str", "option's text after its mark"),
            ("effect", "str", "the national four-level effect the text names, else ''"),
            ("votes", "Int64", "votes (parse_votes)"),
            ("total", "Int64", "votes' total (parse_votes)"),
            ("selected", "bool", "the panel's most-voted option; an external body's row"),
        ),
        "cell_notes": _tidy(
            _PID,
            ("file", "str", "the raw table's file name"),
            ("row", "int64", "the row as a spreadsheet counts (header = 1)"),
            ("column", "str", "the raw column"),
            ("text", "str", "the cell as written"),
            ("mark", "str", "dataset.CELL_MARKS"),
            ("reason", "str", "why the cell is not read literally"),
            ("visible_from", "int64", "first fiscal year a report sees it (0: always; as_of)"),
        ),
    }
)

#: Tidy table → column → pandas dtype, as the loader produces them. Read-only;
#: ``dict(TABLE_DTYPES[name])`` gives a copy to pass to ``DataFrame.astype``.
TABLE_DTYPES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        name: MappingProxyType({c.name: c.dtype for c in columns})
        for name, columns in TIDY_TABLES.items()
    }
)

#: Columns of ``attainment_fy<YEAR>`` (:func:`kpianalysis.analysis.tables.attainment_table`), in
#: order; checked against the table the analysis builds (tests/test_dataset.py).
ATTAINMENT_COLUMNS: tuple[str, ...] = (
    "programme_id", "fiscal_year", "indicator_id", "indicator_label", "name_ja", "name_en",
    "unit", "kind", "measure_no", "sub_label_ja", "component_no", "component_ja", "subproject_ja",
    "direction",
    "target_form", "actual_form", "baseline_year", "baseline", "target", "actual", "achieved",
    "achieved_reason", "achievement_rate", "achievement_rate_reason", "achievement_variant",
    "achievement_printed", "achievement_printed_text", "achievement_printed_disagrees",
    "missing_reason_ja", "progress_rate", "progress_rate_reason", "effect_ja", "effect_en",
    "effect_reason", "effect_band", "rank", "rank_ja", "rank_en", "rank_reason", "rank_table",
    "cost_yen_since_baseline", "cost_per_unit_change", "cost_per_unit_change_reason",
    "assessment_target", "assessment_target_year", "target_basis", "elapsed_share",
    "interim_rate", "interim_class", "interim_reason", "status_index", "status_class",
    "status_reason", "anticipated_progress", "anticipated_class", "anticipated_reason",
    "cagr_ratio", "cagr_class", "cagr_reason", "miss_share", "miss_share_class",
    "miss_share_reason",
)  # fmt: skip
#: Columns of ``trends_fy<YEAR>`` (:func:`kpianalysis.analysis.projection.trend_table`).
TREND_COLUMNS: tuple[str, ...] = (
    "programme_id", "indicator_id", "indicator_label", "name_ja", "name_en", "sub_label_ja",
    "unit", "direction", "kind", "model", "pool", "n", "df_resid", "prior_df", "prior_scale",
    "df_total", "slope", "slope_se", "ci_low", "ci_high", "slope_pct_per_year", "p_value",
    "dispersion", "quasi", "dispersion_assumed", "aic", "last_year", "last_actual",
    "projection_year", "beyond_plan", "projected_mean", "projected_ci_low", "projected_ci_high",
    "projected_pi_low", "projected_pi_high", "final_target_year", "final_target", "prob_reach",
    "final_actual", "outcome", "final_gap", "reason", "prior_status",
)  # fmt: skip
