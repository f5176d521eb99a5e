"""The per-year attainment table and the programme summary (one row per KPI / programme).

Built from the measures of :mod:`kpianalysis.analysis.measures`, the ratings of
:mod:`kpianalysis.analysis.ratings` and the multi-year assessments of
:mod:`kpianalysis.analysis.progress`. Functions here take a dataset already cut to what the
report's fiscal year may see (:meth:`kpianalysis.data.dataset.Dataset.as_of`: actuals, costs and
verdicts up to that year, every target of the plan) and never cut it again.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kpianalysis.analysis import progress, ratings
from kpianalysis.analysis.measures import (
    DEFINED,
    PRO_RATA_CLASSES,
    REASONS,
    achieved_core,
    achievement_core,
    any_achieved,
    cost_per_unit_change_core,
    direction_sign,
    grant_check,
    interim_core,
    pro_rata_class_core,
    progress_core,
    reason_categorical,
    share_achieved,
    variant_code,
)
from kpianalysis.data.dataset import check_cut
from kpianalysis.errors import ParameterError

__all__ = ["attainment_core", "attainment_table", "programme_summary"]


# --------------------------------------------------------------------------------------------
# The vectorised core of the table (also what the benchmark times)


def attainment_core(
    actual: np.ndarray,
    target: np.ndarray,
    baseline: np.ndarray,
    direction: Any,
    *,
    variant: str | None = None,
    rank_table: Any = "osaka_library",
    effect_band: float = 0.7,
    strict: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Achieved, rates, ratings and reason codes for aligned float arrays, one pass each.

    ``strict`` (bool, optional) marks targets printed as strict bounds (``100 未満``, ``5 超``):
    those are met only strictly beyond the target, d·(A − T) > 0, so an actual equal to the
    target is not achieved (its rate stays A/T: 100 %). Returns plain NumPy arrays: values, and
    int8 reason codes indexing :data:`REASONS` (−1 = defined) — the table turns them into
    labelled columns.

    Examples
    --------
    >>> out = attainment_core(np.array([9.0]), np.array([13.0]), np.array([4.0]), "increase")
    >>> float(out["progress_rate"][0]) == 5 / 9
    True
    """

    a = np.asarray(actual, dtype=float)
    t = np.asarray(target, dtype=float)
    b = np.asarray(baseline, dtype=float)
    d = direction_sign(direction)
    v = variant_code(variant)
    if d.ndim and d.shape != a.shape:
        d = np.broadcast_to(d, a.shape)
    ach, ach_codes = achieved_core(a, t, d)
    if strict is not None and strict.any():
        ach = ach & ~(strict & (a == t))
    rate, rate_codes, flip = achievement_core(a, t, d, v, ach_codes)
    prog, prog_codes = progress_core(a, t, b, ach_codes)
    table = ratings.get_rank_table(rank_table)
    rank_codes, rank_reason = ratings.rank_core(
        table, a, t, b, d, ach, ach_codes, rate, rate_codes, prog, prog_codes
    )
    eff_codes, eff_reason = ratings.effect_core(
        a, b, d, ach, ach_codes, rate, rate_codes, effect_band
    )
    return {
        "achieved": ach,
        "achieved_reason": ach_codes,
        "achievement_rate": rate,
        "achievement_rate_reason": rate_codes,
        "decrease_variant_used": flip,
        "progress_rate": prog,
        "progress_rate_reason": prog_codes,
        "rank": rank_codes,
        "rank_reason": rank_reason,
        "effect": eff_codes,
        "effect_reason": eff_reason,
    }


# --------------------------------------------------------------------------------------------
# Tables
#
# The table is built on integer positions, not on merges: every observation gets the position
# of its KPI in the indicator table once, and everything after is array indexing. On a panel
# of a million indicator-years this is what keeps the table within a small factor of the core.

_KEYS = ["programme_id", "indicator_id"]


def _row_of(ind: pd.DataFrame, obs: pd.DataFrame) -> np.ndarray:
    """Position in ``ind`` of each observation's KPI (−1 when the KPI is not in ``ind``)."""

    s_code, o_code, size = progress.key_codes([ind[c] for c in _KEYS], [obs[c] for c in _KEYS])
    return progress.series_index(s_code, o_code, size)


def _obs_column(obs: pd.DataFrame, column: str, at: np.ndarray, missing: Any) -> Any:
    """Per KPI, ``obs[column]`` at observation position ``at`` (−1 or an absent column:
    ``missing``); text comes back as the table's ``str`` dtype."""
    if column not in obs.columns:
        values = np.full(len(at), missing, dtype=object if isinstance(missing, str) else float)
    else:
        src = obs[column]
        if not isinstance(missing, str):
            return _take(src.to_numpy(dtype=float, na_value=np.nan), at, missing)
        dtype = src.dtype
        if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
            # Arrow text is taken in Arrow: a million Python strings cost more than the table.
            arr = src.array.__arrow_array__()
            taken = pc.take(arr, pa.array(at, mask=at < 0))
            return pd.array(pc.fill_null(taken, missing), dtype="str")
        pool = np.append(src.fillna(missing).astype(str).to_numpy(dtype=object), missing)
        values = pool[at]  # at = −1 picks the appended missing value
    if isinstance(missing, str):
        return pd.array(values, dtype="str")
    return values.astype(float)


def _take(values: np.ndarray, at: np.ndarray, missing: float = np.nan) -> np.ndarray:
    """``values[at]`` as floats, ``missing`` where ``at`` is −1."""
    if len(values) == 0:
        return np.full(len(at), missing)
    out = values.take(np.maximum(at, 0)).astype(float, copy=False)
    out[at < 0] = missing
    return out


def _year_cells(row: np.ndarray, year: np.ndarray, n_rows: int) -> tuple[np.ndarray, int] | None:
    """Each KPI's observation of each year: a (KPI × year) table of positions (−1: none) and
    its first year; ``None`` when a KPI has two observations of one year, or when the years
    span so far that the table would dwarf the observations.

    With it, "the observation of year y" is one lookup per KPI instead of a pass over all the
    observations for every question asked.
    """
    if len(year) == 0:
        return None
    y0 = int(year.min())
    span = int(year.max()) - y0 + 1
    if n_rows * span > 4 * len(year) + 1024:
        return None
    cell = row * span + (year - y0)
    cells = np.full(n_rows * span, -1, dtype=np.intp)
    cells[cell] = np.arange(len(cell))
    if np.count_nonzero(cells >= 0) != len(cell):
        return None
    return cells.reshape(n_rows, span), y0


def _cell_at(cells: np.ndarray, y0: int, years: Any) -> np.ndarray:
    """Per KPI, the position of its observation of ``years`` (a year for all, or one per KPI;
    NaN: none)."""
    n_rows, span = cells.shape
    if np.ndim(years) == 0:
        col = int(years) - y0
        return cells[:, col].copy() if 0 <= col < span else np.full(n_rows, -1, dtype=np.intp)
    col = years - y0
    valid = (col >= 0) & (col < span) & (col == np.floor(col))
    out = np.full(n_rows, -1, dtype=np.intp)
    kpi = np.flatnonzero(valid)
    out[kpi] = cells.ravel()[kpi * span + col[kpi].astype(np.intp)]
    return out


def _last_where(row: np.ndarray, where: np.ndarray, n_rows: int) -> np.ndarray:
    """Per KPI, the position of its last observation where ``where`` holds (−1: none)."""
    out = np.full(n_rows, -1, dtype=np.intp)
    out[row[where]] = np.flatnonzero(where)
    return out


def _final_target_at(
    row: np.ndarray, year: np.ndarray, target: np.ndarray, at_end: np.ndarray, n_rows: int
) -> np.ndarray:
    """``at_end`` (each KPI's plan-end observation), or, for a KPI whose plan-end observation
    has no target, the position of its last target (−1: none)."""
    no_end = np.isnan(_take(target, at_end))
    if not no_end.any():  # the usual case: every plan-end observation has its target
        return at_end
    has_t = ~np.isnan(target)
    last = np.full(n_rows, -np.inf)
    np.maximum.at(last, row[has_t], year[has_t].astype(float))
    at_last = _last_where(row, has_t & (year == last[row]), n_rows)
    return np.where(no_end, at_last, at_end)


def _str_take(names: Any, codes: np.ndarray) -> Any:
    """A string column (the table's ``str`` dtype) of ``names[codes]``, without Python objects."""
    return pd.Index(list(names), dtype="str").take(np.asarray(codes, dtype=np.intp)).array


def _codes_among(values: pd.Series, uniques: pd.Index) -> np.ndarray:
    """Position of each value among ``uniques``; ``len(uniques)`` for a value not there."""
    codes, found = pd.factorize(values)
    pos = uniques.get_indexer(found) if len(found) else np.zeros(0, dtype=np.intp)
    pos = np.where(pos < 0, len(uniques), pos)
    return np.append(pos, len(uniques))[codes]  # code −1 (missing) → not there


def _costs_since_baseline(
    ind_pcode: np.ndarray,
    baseline_year: np.ndarray,
    fin_pcode: np.ndarray,
    fin_year: np.ndarray,
    fin_cost: np.ndarray,
) -> np.ndarray:
    """Programme cost of the years after the baseline year (all years without a baseline).

    NaN when no finance row falls in that span; NaN costs count as 0, as ``Series.sum`` does.
    """
    if len(fin_year) == 0:
        return np.full(len(ind_pcode), np.nan)
    y0 = int(fin_year.min()) - 1
    span = int(fin_year.max()) - y0 + 2
    key = fin_pcode.astype(np.int64) * span + (fin_year - y0)
    order = np.argsort(key, kind="stable")
    key = key[order]
    cost = np.nan_to_num(fin_cost[order], nan=0.0)
    csum = np.concatenate([[0.0], np.cumsum(cost)])
    after = np.where(np.isnan(baseline_year), 0, np.clip(baseline_year + 1 - y0, 0, span - 1))
    after = after.astype(np.int64)
    n_prog = int(ind_pcode.max()) + 1 if len(ind_pcode) else 0
    if n_prog * span <= len(ind_pcode) and ind_pcode.min() >= 0:  # (−1: no programme id)
        # Many KPIs share a programme: search each (programme, first year) once, then look the
        # sums up per KPI — the same bounds, so the same differences of the same sums.
        base = np.arange(n_prog, dtype=np.int64) * span
        lo = np.searchsorted(key, base[:, None] + np.arange(span), side="left")
        hi = np.searchsorted(key, base + span, side="left")[:, None]
        with np.errstate(invalid="ignore"):
            per_start = np.where(hi > lo, csum[hi] - csum[lo], np.nan).ravel()
        return per_start[ind_pcode.astype(np.int64) * span + after]
    base = ind_pcode.astype(np.int64) * span
    lo = np.searchsorted(key, base + after, side="left")
    hi = np.searchsorted(key, base + span, side="left")
    with np.errstate(invalid="ignore"):
        return np.where(hi > lo, csum[hi] - csum[lo], np.nan)


# --------------------------------------------------------------------------------------------
# The steps of attainment_table, in order


def _known_observations(
    ind: pd.DataFrame, full: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Row in ``ind``, year, target and actual of each observation of a KPI in ``ind``, and
    which observations of ``full`` those are (``None``: all of them)."""
    row = _row_of(ind, full).astype(np.intp, copy=False)
    year = full["fiscal_year"].to_numpy(dtype=np.int64)
    target_lv = full["target"].to_numpy(dtype=float)
    actual_lv = full["actual"].to_numpy(dtype=float)
    known = row >= 0
    if known.all():  # the usual case: no copies of the million observations
        return row, year, target_lv, actual_lv, None
    return row[known], year[known], target_lv[known], actual_lv[known], known


def _year_positions(
    row: np.ndarray,
    year: np.ndarray,
    target_lv: np.ndarray,
    fy: int,
    plan_end: np.ndarray | None,
    n_rows: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each KPI's observation of the year (at_now), the one with the year's target (at_now_t)
    and the one with the plan-end target (at_end; −1 throughout without ``plan_end``), as
    positions among the known observations.

    With one observation per KPI and year these are lookups in a (KPI × year) table;
    otherwise the last matching observation, as a pass over all of them.
    """
    no_end = np.full(n_rows, -1, dtype=np.intp)
    cells = _year_cells(row, year, n_rows)
    if cells is not None:
        at_now = _cell_at(cells[0], cells[1], fy)
        at_end = _cell_at(cells[0], cells[1], plan_end) if plan_end is not None else no_end
        return at_now, at_now, at_end
    now = year == fy
    has_t = ~np.isnan(target_lv)
    at_now = _last_where(row, now, n_rows)
    at_now_t = _last_where(row, has_t & now, n_rows)
    if plan_end is not None:
        return at_now, at_now_t, _last_where(row, has_t & (year == plan_end[row]), n_rows)
    return at_now, at_now_t, no_end


def _kpi_columns(
    ind: pd.DataFrame, fy: int, baseline: np.ndarray, target: np.ndarray, actual: np.ndarray
) -> dict[str, Any]:
    """The table's identification and value columns, in the table's order."""
    n_rows = len(ind)
    cols: dict[str, Any] = {
        "programme_id": ind["programme_id"],
        "fiscal_year": np.full(n_rows, fy, dtype=np.int64),
    }
    for name in ("indicator_id", "indicator_label", "name_ja", "name_en", "unit", "kind"):
        cols[name] = ind[name]
    # Which measure of a compound cell (200・4,000 in 回・人) the row is; 0 for a plain KPI.
    cols["measure_no"] = ind.get("measure_no", pd.Series(0, index=ind.index, dtype="int64"))
    # The sheet's sub-label (e.g. ③ （1校あたりの平均回数／年）) qualifies the name; keep it.
    cols["sub_label_ja"] = ind.get("sub_label_ja", "")
    # The component and sub-project a KPI belongs to, where the sheet says so.
    cols["component_no"] = ind.get("component_no", pd.Series(pd.NA, index=ind.index, dtype="Int64"))
    cols["component_ja"] = ind.get("component_ja", "")
    cols["subproject_ja"] = ind.get("subproject_ja", "")
    cols["direction"] = ind["direction"]
    cols["target_form"] = ind["target_form"]
    # How the sheet wrote them; target and actual below are levels either way.
    cols["actual_form"] = ind.get("actual_form", "level")
    cols["baseline_year"] = ind["baseline_year"]
    cols["baseline"] = baseline
    cols["target"] = target
    cols["actual"] = actual
    return cols


def _strict_mask(obs: pd.DataFrame) -> np.ndarray | None:
    """Which observations' targets are strict bounds (未満, 超: met only strictly beyond
    them); ``None`` when none is (the usual case, one pass over the column)."""
    if "target_bound" not in obs.columns:
        return None
    strict = obs["target_bound"].isin(_STRICT).to_numpy(dtype=bool)
    return strict if strict.any() else None


def _closed_targets(
    strict: np.ndarray,
    known: np.ndarray | None,
    row: np.ndarray,
    target_lv: np.ndarray,
    direction: np.ndarray,
) -> np.ndarray:
    """The targets with each strict bound (``strict``, per observation of ``full``) replaced
    by the next float beyond it.

    Why: the multi-year assessments test d·(A − T) ≥ 0; for a strict bound T (``100 未満``)
    that is d·(A − T') ≥ 0 with T' the next float on the met side (A < 100 ⇔ A ≤ 100 − ulp),
    exactly, since a float difference is 0 only between equal floats — so the one rule holds
    for both kinds and those kernels need no second code path. Only the kernels see T'; every
    column keeps the target as printed.
    """
    if known is not None:
        strict = strict[known]
    beyond = np.nextafter(target_lv, direction[row] * np.inf)
    return np.where(strict, beyond, target_lv)


#: The target_bound values met only strictly beyond the target.
_STRICT = ["strict_ceiling", "strict_floor"]


def _rating_columns(
    full: pd.DataFrame,
    obs_at: np.ndarray,
    actual: np.ndarray,
    target: np.ndarray,
    baseline: np.ndarray,
    direction: np.ndarray,
    rank_table: Any,
    variant: str | None,
    effect_band: float,
    strict: np.ndarray | None = None,
) -> dict[str, Any]:
    """The single-year columns: achieved, the rates (beside the sheet's printed one), the
    effect and the rank, each with its reason; ``strict`` marks the observations of ``full``
    whose target is a strict bound (:func:`_strict_mask`)."""
    n_rows = len(actual)
    table = ratings.get_rank_table(rank_table)
    core = attainment_core(
        actual,
        target,
        baseline,
        direction,
        variant=variant,
        rank_table=table,
        effect_band=effect_band,
        strict=None if strict is None else np.where(obs_at >= 0, strict[obs_at], False),
    )
    v = variant_code(variant)
    cols: dict[str, Any] = {}
    cols["achieved"] = pd.arrays.BooleanArray(core["achieved"], core["achieved_reason"] >= 0)
    cols["achieved_reason"] = reason_categorical(core["achieved_reason"])
    cols["achievement_rate"] = core["achievement_rate"]
    cols["achievement_rate_reason"] = reason_categorical(core["achievement_rate_reason"])
    cols["achievement_variant"] = _str_take(["ratio", v], core["decrease_variant_used"])
    # The sheet's own printed achievement, beside the computed rate; flagged when they differ by
    # more than the printed rounding (half a unit of the last printed digit).
    printed = _obs_column(full, "achievement_printed", obs_at, np.nan)
    tolerance = _obs_column(full, "achievement_printed_tolerance", obs_at, np.nan)
    cols["achievement_printed"] = printed
    cols["achievement_printed_text"] = _obs_column(full, "achievement_printed_text", obs_at, "")
    gap = np.abs(printed - core["achievement_rate"])
    comparable = ~np.isnan(printed) & ~np.isnan(core["achievement_rate"])
    cols["achievement_printed_disagrees"] = pd.arrays.BooleanArray(
        np.where(comparable, gap > tolerance + 1e-12, False), ~comparable
    )
    cols["missing_reason_ja"] = _obs_column(full, "missing_reason_ja", obs_at, "")
    cols["progress_rate"] = core["progress_rate"]
    cols["progress_rate_reason"] = reason_categorical(core["progress_rate_reason"])
    eff_ja, eff_en = ratings.effect_labels(core["effect"])
    cols["effect_ja"], cols["effect_en"] = eff_ja, eff_en
    cols["effect_reason"] = reason_categorical(core["effect_reason"])
    cols["effect_band"] = np.full(n_rows, effect_band, dtype=float)
    r_code, r_ja, r_en = table.labels_of(core["rank"])
    cols["rank"], cols["rank_ja"], cols["rank_en"] = r_code, r_ja, r_en
    cols["rank_reason"] = reason_categorical(core["rank_reason"])
    cols["rank_table"] = _str_take([table.name], np.zeros(n_rows, dtype=np.intp))
    return cols


def _interim_columns(
    fy: int,
    target: np.ndarray,
    actual: np.ndarray,
    baseline: np.ndarray,
    baseline_year: np.ndarray,
    a_target: np.ndarray,
    a_year: np.ndarray,
) -> dict[str, Any]:
    """The target basis of each KPI's year and, for an interim year, its pro-rata progress."""
    n_rows = len(target)
    # A year without a target of its own, before the final target's year, is an interim point:
    # progress against time elapsed toward that target (issue 16.1), not a missed target.
    interim = np.isnan(target) & ~np.isnan(a_target) & (a_year > fy)
    elapsed, i_rate, i_codes = interim_core(
        actual, baseline, a_target, np.full(n_rows, float(fy)), baseline_year, a_year
    )
    basis = np.where(~np.isnan(target), 0, np.where(interim, 1, 2))
    cols: dict[str, Any] = {}
    cols["target_basis"] = _str_take(("year", "final", ""), basis)
    cols["elapsed_share"] = np.where(interim, elapsed, np.nan)
    cols["interim_rate"] = np.where(interim, i_rate, np.nan)
    i_class = np.where(interim, pro_rata_class_core(i_rate), 0)
    cols["interim_class"] = _str_take(("", *PRO_RATA_CLASSES), i_class)
    cols["interim_reason"] = reason_categorical(np.where(interim, i_codes, DEFINED))
    return cols


#: The multi-year assessments in the table: value column and the prefix of its class and reason.
_ASSESSMENTS = (
    ("status_index", "status"),
    ("anticipated_progress", "anticipated"),
    ("cagr_ratio", "cagr"),
    ("miss_share", "miss_share"),
)


def _assessment_target(
    year: np.ndarray, target_lv: np.ndarray, at_end: np.ndarray, at_now_t: np.ndarray, fy: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each KPI's assessment target and its year: the target at ``at_end`` where there is one,
    else the year's own target (NaN: neither)."""
    end_t = _take(target_lv, at_end)
    # the plan-end observation counts only with a target (NaN: none)
    end_y = np.where(np.isnan(end_t), np.nan, _take(year, at_end))
    now_t = _take(target_lv, at_now_t)
    use_end = ~np.isnan(end_y)
    a_target = np.where(use_end, end_t, now_t)
    a_year = np.where(use_end, end_y, np.where(np.isnan(now_t), np.nan, float(fy)))
    return a_target, a_year


def _assessment_columns(
    fy: int,
    row: np.ndarray,
    year: np.ndarray,
    actual_lv: np.ndarray,
    target_lv: np.ndarray,
    baseline: np.ndarray,
    baseline_year: np.ndarray,
    a_target: np.ndarray,
    a_year: np.ndarray,
    direction: np.ndarray,
) -> dict[str, Any]:
    """The multi-year assessments (:data:`_ASSESSMENTS`) of each KPI's series up to ``fy``."""
    cols: dict[str, Any] = {}
    # The plan's own trajectory is each year's target (issue 17): "on track" is meeting it.
    upto = year <= fy
    if not upto.all():  # a cut at the last year keeps every observation: no copies
        row, year, actual_lv = row[upto], year[upto], actual_lv[upto]
        target_lv = target_lv[upto]
    res = progress.panel_core(
        row,
        year,  # read as float block by block: no million-element copy
        actual_lv,
        baseline,
        baseline_year,
        a_target,
        a_year,
        direction,
        outputs=[c for v, p in _ASSESSMENTS for c in (v, f"{p}_class", f"{p}_reason")],
        plan=target_lv,
    )
    for value, prefix in _ASSESSMENTS:
        cols[value] = res[value]
        cols[f"{prefix}_class"] = _str_take(progress.OUTCOMES, res[f"{prefix}_class"])
        cols[f"{prefix}_reason"] = reason_categorical(res[f"{prefix}_reason"])
    return cols


def attainment_table(
    dataset: Any,
    fiscal_year: int,
    *,
    programme_id: str | None = None,
    rank_table: Any = "osaka_library",
    variant: str | None = None,
    effect_band: float = 0.7,
    assessment_target: Literal["plan_end", "current_year"] = "plan_end",
) -> pd.DataFrame:
    """One row per KPI for a fiscal year: values, every rate, ratings, assessments and reasons.

    Parameters
    ----------
    dataset
        A :class:`kpianalysis.data.dataset.Dataset` cut at ``fiscal_year``
        (``dataset.as_of(fiscal_year)``, or any object with the same DataFrames and
        ``as_of_year``); a dataset cut at another year, or not cut, is refused.
    fiscal_year
        The fiscal year reported.
    programme_id
        Restrict to one programme; ``None`` = all.
    rank_table
        A preset name (``"osaka_library"``, ``"nagayo"``) or a :class:`ratings.RankTable`.
    variant
        Achievement-rate formula for decrease-desired KPIs (default ``"complement"``).
    effect_band
        Lower bound of 相当程度効果があった on the achievement rate (default 0.7).
    assessment_target
        Target of the multi-year assessment: ``"plan_end"`` (default) uses the target of the
        plan's last year — plan data fixed when the plan was approved, which the cut dataset
        keeps even when the year reported is earlier — falling back to the year's own target
        when the plan has none; ``"current_year"`` always uses the year's own target.

    Returns
    -------
    pandas.DataFrame
        Identification (programme_id, indicator_id, indicator_label, name_ja, name_en, unit, kind,
        direction, target_form, actual_form, fiscal_year), values (baseline, baseline_year,
        target, actual — levels, whatever form the sheet wrote them in),
        ``achieved``, ``achievement_rate``, ``progress_rate`` each with a ``*_reason`` column,
        ``achievement_variant`` (formula used), ``effect_ja``/``effect_en``/``effect_reason``,
        ``rank``/``rank_ja``/``rank_en``/``rank_reason``/``rank_table``,
        ``cost_per_unit_change`` (+ reason; the programme's cost from the year after the baseline
        to ``fiscal_year`` over d·(A − b), the whole programme cost attributed to each KPI),
        and the multi-year assessments ``status_index``/``status_class``/``status_reason``,
        ``anticipated_progress``/``anticipated_class``/``anticipated_reason``,
        ``cagr_ratio``/``cagr_class``/``cagr_reason``, ``miss_share``/``miss_share_class``/
        ``miss_share_reason`` with ``assessment_target`` and ``assessment_target_year``
        (:func:`kpianalysis.analysis.progress.assess_panel` on each KPI's series up to
        ``fiscal_year``).

    Examples
    --------
    >>> table = attainment_table(ds.as_of(2023), 2023)  # doctest: +SKIP
    >>> table[["indicator_label", "achievement_rate"]]  # doctest: +SKIP
    """

    if assessment_target not in ("plan_end", "current_year"):
        raise ParameterError("assessment_target must be 'plan_end' or 'current_year'")
    fy = check_cut(dataset, fiscal_year)
    ds = dataset
    ind = ds.indicators
    if programme_id is not None:
        ind = ind.loc[ind["programme_id"] == programme_id]
    ind = ind.reset_index(drop=True)
    n_rows = len(ind)

    # Observations of every year of the plan: the cut keeps later years' targets (plan data)
    # without their actuals. Targets and actuals are levels already (increments are converted
    # once, in the data layer: kpianalysis.data.levels).
    full = ds.observations
    row, year, target_lv, actual_lv, known = _known_observations(ind, full)
    baseline = ind["baseline"].to_numpy(dtype=float)
    baseline_year = ind["baseline_year"].to_numpy(dtype=float, na_value=np.nan)
    pcode, programme_ids = progress.factorize_runs(ind["programme_id"])
    plan_end = None
    if assessment_target == "plan_end":
        progs = ds.programmes
        ends = np.full(len(programme_ids) + 1, np.nan)  # the last: programmes not listed
        at = _codes_among(progs["programme_id"], programme_ids)
        ends[at] = progs["plan_end"].to_numpy(dtype=float, na_value=np.nan)
        plan_end = ends[pcode]
    at_now, at_now_t, at_end = _year_positions(row, year, target_lv, fy, plan_end, n_rows)
    # each KPI's observation of the year in `full`
    obs_at = at_now if known is None else np.where(at_now >= 0, np.flatnonzero(known)[at_now], -1)
    target = _take(target_lv, at_now)
    actual = _take(actual_lv, at_now)
    direction = direction_sign(ind["direction"])
    strict = _strict_mask(full)

    cols = _kpi_columns(ind, fy, baseline, target, actual)
    cols.update(
        _rating_columns(
            full,
            obs_at,
            actual,
            target,
            baseline,
            direction,
            rank_table,
            variant,
            effect_band,
            strict,
        )
    )

    # Cost per unit of change: the programme's cost spent since the baseline year.
    fin = ds.finance
    costs = _costs_since_baseline(
        pcode,
        baseline_year,
        _codes_among(fin["programme_id"], programme_ids),
        fin["fiscal_year"].to_numpy(dtype=np.int64),
        fin["cost_yen"].to_numpy(dtype=float, na_value=np.nan),
    )
    cpu_value, cpu_reason = cost_per_unit_change_core(costs, actual, baseline, direction)
    cols["cost_yen_since_baseline"] = costs
    cols["cost_per_unit_change"] = cpu_value
    cols["cost_per_unit_change_reason"] = reason_categorical(cpu_reason)

    # The assessment target: the plan's final target — at the plan's end, else the last target
    # the plan gives (a deadline phrase, 平成31年度まで10人, may fall before the end) — else
    # the year's own.
    if assessment_target == "plan_end":
        at_end = _final_target_at(row, year, target_lv, at_end, n_rows)
    a_target, a_year = _assessment_target(year, target_lv, at_end, at_now_t, fy)
    cols["assessment_target"] = a_target
    cols["assessment_target_year"] = pd.arrays.IntegerArray(
        np.nan_to_num(a_year).astype(np.int64), np.isnan(a_year)
    )
    cols.update(_interim_columns(fy, target, actual, baseline, baseline_year, a_target, a_year))

    # Multi-year assessments of each KPI's series up to the fiscal year, all at once.
    if strict is not None:
        target_lv = _closed_targets(strict, known, row, target_lv, direction)
        a_target = _assessment_target(year, target_lv, at_end, at_now_t, fy)[0]
    cols.update(
        _assessment_columns(
            fy,
            row,
            year,
            actual_lv,
            target_lv,
            baseline,
            baseline_year,
            a_target,
            a_year,
            direction,
        )
    )
    return pd.DataFrame(cols)


def programme_summary(
    dataset: Any, fiscal_year: int, *, table: pd.DataFrame | None = None, **table_options: Any
) -> pd.DataFrame:
    """One row per programme: KPIs achieved, the grant check and the panel verdict of the year.

    Parameters
    ----------
    dataset
        As for :func:`attainment_table`: cut at ``fiscal_year``.
    fiscal_year
        The fiscal year reported.
    table
        The year's :func:`attainment_table`, when the caller has it already (not recomputed).
    **table_options
        Passed to :func:`attainment_table` when ``table`` is not given.

    Returns
    -------
    pandas.DataFrame
        programme_id, fiscal_year, n_kpis, n_known, n_achieved, share_achieved (+ reason),
        any_achieved (+ reason), cost_yen, grant_yen, grant_rate, expected_grant_yen,
        grant_gap_yen, grant_gap_within_rounding, and panel_option_no, panel_option_ja,
        panel_option_en, panel_effective, panel_votes, panel_total, panel_reason.

    Examples
    --------
    >>> s = programme_summary(ds.as_of(2023), 2023)  # doctest: +SKIP
    >>> s[["share_achieved", "grant_gap_yen"]]  # doctest: +SKIP
    """

    check_cut(dataset, fiscal_year)
    ds = dataset
    if table is None:
        table = attainment_table(dataset, fiscal_year, **table_options)
    rows = []
    # Each table is split by programme once: filtering the 56-column table per programme cost
    # ~70 ms a programme, ten minutes a year for a national panel.
    achieved_of = table["achieved"].reset_index(drop=True)
    kpis_of = table.groupby("programme_id", sort=False).indices
    fin_year = ds.finance.loc[ds.finance["fiscal_year"] == fiscal_year]
    fin_of = fin_year.groupby("programme_id", sort=False).indices
    verdicts_of = {
        pid: part for pid, part in ds.verdicts.groupby("programme_id", sort=False, observed=True)
    }
    no_rows = np.zeros(0, dtype=np.intp)
    for pid in ds.programmes["programme_id"]:
        t_achieved = achieved_of.iloc[kpis_of.get(pid, no_rows)]
        share = share_achieved(t_achieved)
        anyone = any_achieved(t_achieved)
        fin = fin_year.iloc[fin_of.get(pid, no_rows)]
        if len(fin):
            f = fin.iloc[0]
            cost, grant, rate = float(f["cost_yen"]), float(f["grant_yen"]), float(f["grant_rate"])
        else:
            cost = grant = rate = float("nan")
        gc = grant_check(cost, grant, rate)
        verdict = ratings.panel_verdict(
            verdicts_of.get(pid, ds.verdicts.iloc[:0]), pid, fiscal_year
        )
        rows.append(
            {
                "programme_id": pid,
                "fiscal_year": int(fiscal_year),
                "n_kpis": len(t_achieved),
                "n_known": int(t_achieved.notna().sum()),
                "n_achieved": int(t_achieved.fillna(False).sum()),
                "share_achieved": share.value,
                "share_achieved_reason": share.reason,
                "any_achieved": anyone.value,
                "any_achieved_reason": anyone.reason,
                "cost_yen": cost,
                "grant_yen": grant,
                "grant_rate": rate,
                "expected_grant_yen": gc.expected_grant_yen,
                "grant_gap_yen": gc.gap_yen,
                "grant_gap_within_rounding": gc.within_rounding if len(fin) else pd.NA,
                "grant_reason": None if len(fin) else "no_cost",
                "panel_option_no": verdict.option_no,
                "panel_option_ja": verdict.option_ja,
                "panel_option_en": verdict.option_en,
                "panel_effective": verdict.effective,
                "panel_votes": verdict.votes,
                "panel_total": verdict.total,
                "panel_reason": verdict.reason,
            }
        )
    out = pd.DataFrame(rows)
    if len(out):
        out["any_achieved"] = out["any_achieved"].astype("boolean")
        out["panel_effective"] = out["panel_effective"].astype("boolean")
        for col in ("panel_option_no", "panel_votes", "panel_total"):
            out[col] = out[col].astype("Int64")
        for col in ("share_achieved_reason", "any_achieved_reason", "grant_reason", "panel_reason"):
            out[col] = pd.Categorical(out[col], categories=list(REASONS))
    return out
