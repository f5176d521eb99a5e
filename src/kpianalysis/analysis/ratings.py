"""Ratings used in effect-verification sheets (効果検証): panel verdict, effect rating, rank tables.

``METHODS.md`` §1 "Ratings used in effect-verification sheets". Every label is kept in Japanese
with an English rendering beside it; every missing rating carries a reason code from
:data:`kpianalysis.analysis.measures.REASONS`.

- :func:`panel_verdict` — the expert panel's two-way verdict (「KPI達成に有効であった」 /
  「KPI達成に有効とは言えない」) as recorded in the data, with the votes.
- :func:`effect_rating` — the four-level effect rating 非常に効果的 / 相当程度効果があった /
  効果があった / 効果がなかった, with the band of 相当程度 as a parameter.
- :class:`RankTable` and the presets in :data:`RANK_TABLES` (``"osaka_library"``: A/B/C/D by
  achievement rate; ``"nagayo"``: S/A/B/C relative to the baseline), and :func:`rank`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from kpianalysis.analysis import measures as _att
from kpianalysis.errors import ParameterError

__all__ = [
    "DEFAULT_EFFECT_BAND",
    "EFFECT_LEVELS",
    "PANEL_OPTIONS",
    "RANK_TABLES",
    "PanelVerdict",
    "RankTable",
    "Rating",
    "effect_core",
    "effect_labels",
    "effect_rating",
    "get_rank_table",
    "panel_verdict",
    "rank",
    "rank_core",
]

REASON_CODE = _att.REASON_CODE
DEFINED = _att.DEFINED


class Rating(NamedTuple):
    """A rating: its key (or rank letter), Japanese and English labels, and the reason if none."""

    label: Any
    label_ja: Any
    label_en: Any
    reason: Any


# --------------------------------------------------------------------------------------------
# Panel verdict

PANEL_OPTIONS: dict[int, tuple[str, str]] = {
    1: ("KPI達成に有効であった", "effective for achieving the KPIs"),
    2: ("KPI達成に有効とは言えない", "cannot be said to be effective for achieving the KPIs"),
}


class PanelVerdict(NamedTuple):
    """One evaluator's verdict for a programme and year (``None`` fields + reason if none)."""

    option_no: int | None
    option_ja: str | None
    option_en: str | None
    effective: bool | None
    votes: int | None
    total: int | None
    reason: str | None


def panel_verdict(
    verdicts: pd.DataFrame,
    programme_id: str,
    fiscal_year: int,
    evaluator: Literal["panel", "external"] = "panel",
) -> PanelVerdict:
    """The two-way verdict recorded for a programme and fiscal year.

    The row flagged ``selected`` wins; without one, the option with most votes (a tie gives no
    verdict, reason ``"tie"``). Whether the option means "effective" is read from its text
    (「有効とは言えない」 is not effective), falling back to the option number (1 = effective).

    Parameters
    ----------
    verdicts
        Table with programme_id, fiscal_year, evaluator, option_no, option_ja, votes, total,
        selected.
    programme_id, fiscal_year, evaluator
        Which verdict.

    Examples
    --------
    >>> v = pd.DataFrame({"programme_id": ["p"] * 2, "fiscal_year": [2023] * 2,
    ...     "evaluator": ["panel"] * 2, "option_no": [1, 2],
    ...     "option_ja": ["KPI達成に有効であった", "KPI達成に有効とは言えない"],
    ...     "votes": [7, 0], "total": [7, 7], "selected": [True, False]})
    >>> panel_verdict(v, "p", 2023).effective
    True
    """
    rows = verdicts.loc[
        (verdicts["programme_id"] == programme_id)
        & (verdicts["fiscal_year"] == fiscal_year)
        & (verdicts["evaluator"] == evaluator)
    ]
    none = PanelVerdict(None, None, None, None, None, None, "no_verdict")
    if rows.empty:
        return none
    chosen = rows.loc[rows["selected"].fillna(False).astype(bool)] if "selected" in rows else rows
    if len(chosen) != 1:
        votes = rows["votes"].astype("Float64")
        if votes.isna().all():
            return none
        top = rows.loc[votes == votes.max()]
        if len(top) != 1:
            return none._replace(reason="tie")
        chosen = top
    row = chosen.iloc[0]
    no = None if pd.isna(row["option_no"]) else int(row["option_no"])
    text = None if pd.isna(row["option_ja"]) else str(row["option_ja"])
    if text is not None and "有効とは言えない" in text:
        effective: bool | None = False
    elif text is not None and "有効" in text:
        effective = True
    else:
        effective = None if no is None else no == 1
    option_en = PANEL_OPTIONS[1 if effective else 2][1] if effective is not None else None

    def as_int(x: Any) -> int | None:
        return None if pd.isna(x) else int(x)

    return PanelVerdict(
        no, text, option_en, effective, as_int(row["votes"]), as_int(row["total"]), None
    )


# --------------------------------------------------------------------------------------------
# Four-level effect rating

#: Levels lowest first: (key, Japanese, English).
EFFECT_LEVELS: tuple[tuple[str, str, str], ...] = (
    ("not_effective", "効果がなかった", "not effective"),
    ("effective", "効果があった", "effective"),
    ("considerably_effective", "相当程度効果があった", "considerably effective"),
    ("very_effective", "非常に効果的", "very effective"),
)
#: Lower bound (inclusive) of 相当程度効果があった on the achievement rate. The source says "about
#: 70–80 % reached"; the default takes the lower end of that range.
DEFAULT_EFFECT_BAND = 0.7


def effect_core(
    a: np.ndarray,
    b: np.ndarray,
    d: np.ndarray,
    ach: np.ndarray,
    ach_codes: np.ndarray,
    rate: np.ndarray,
    rate_codes: np.ndarray,
    band: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Effect levels (:data:`EFFECT_LEVELS`) of many KPIs at once, with reason codes.

    What it computes: 3 非常に効果的 where the target was achieved; else 2 相当程度効果があった
    where the achievement rate reaches ``band``; else 1 効果があった where the KPI moved the
    desired way since its baseline (d·(A − b) > 0); else 0 効果がなかった.

    Array contract: aligned arrays of one shape — ``a`` actuals, ``b`` baselines, ``d``
    direction (±1), ``ach`` bool and ``ach_codes`` from
    :func:`~kpianalysis.analysis.measures.achieved_core`, ``rate`` and ``rate_codes`` from
    :func:`~kpianalysis.analysis.measures.achievement_core` (NaN = missing); ``band`` a
    scalar. Returns ``(codes, reason)``: int8 level codes, −1 where no level applies, and int8
    reason codes (−1 = defined): the rate's reason unless the target was achieved (then no rate
    is needed), or ``no_baseline`` where the level would have to compare with a missing
    baseline.

    Why written this way: each rule raises the level with int8 arithmetic
    ``c += mask·(level − c)`` in increasing order, as
    :func:`~kpianalysis.analysis.measures.combine_codes` does — branch-free, much cheaper than
    ``np.where`` on scattered masks — so the attainment table rates a national panel in one pass.
    """
    # int8 arithmetic c += mask·(level − c) in increasing order (see attainment._codes: much
    # cheaper than np.where with scattered masks on many rows).
    in_band = rate >= band
    codes = (d * (a - b) > 0).view(np.int8)  # 1 効果があった if better than before, else 0
    codes = codes + in_band * (np.int8(2) - codes)
    codes += ach * (np.int8(3) - codes)
    # The rate's reasons include the missing actual/target; an achieved KPI needs no rate.
    reason = rate_codes + ach * (DEFINED - rate_codes)
    # Below the band the rating compares with the baseline, so it needs one.
    need_b = np.isnan(b) & ~(ach | in_band) & (reason < 0)
    reason += need_b * (REASON_CODE["no_baseline"] - reason)
    codes += (reason >= 0) * (np.int8(-1) - codes)
    del ach_codes  # implied by rate_codes, which start from them
    return codes, reason


def effect_labels(codes: np.ndarray) -> tuple[pd.Categorical, pd.Categorical]:
    """Japanese and English labels (categoricals, lowest level first) for effect-level codes."""
    codes = np.asarray(codes).ravel()
    ja = pd.Categorical.from_codes(codes, categories=[x[1] for x in EFFECT_LEVELS], ordered=True)
    en = pd.Categorical.from_codes(codes, categories=[x[2] for x in EFFECT_LEVELS], ordered=True)
    return ja, en


def _rating_out(
    codes: np.ndarray,
    reason: np.ndarray,
    keys: tuple[str, ...],
    ja: tuple[str, ...],
    en: tuple[str, ...],
    shape: Any,
) -> Rating:
    def pick(names: tuple[str, ...]) -> Any:
        arr = np.array((*names, None), dtype=object)[np.asarray(codes)]
        if shape.kind == "scalar":
            return arr.item() if isinstance(arr, np.ndarray) else arr
        if shape.kind == "series":
            return pd.Series(arr, index=shape.index)
        return arr

    return Rating(pick(keys), pick(ja), pick(en), _att.wrap_reason(reason, shape, "reason"))


def effect_rating(
    actual: Any,
    target: Any,
    baseline: Any,
    direction: Any = "increase",
    *,
    band: float = DEFAULT_EFFECT_BAND,
    variant: str | None = None,
) -> Rating:
    """Four-level effect rating of one municipality's operational rule.

    - target achieved → 非常に効果的 (very effective);
    - missed, achievement rate ≥ ``band`` → 相当程度効果があった (considerably effective);
    - missed, below the band, better than the baseline (d·(A − b) > 0) → 効果があった;
    - otherwise (no better than the baseline; unchanged counts as no effect) → 効果がなかった.

    Parameters
    ----------
    actual, target, baseline
        Scalars, arrays or Series.
    direction
        ``"increase"``/``"decrease"``, scalar or per element.
    band
        Inclusive lower bound of 相当程度 on the achievement rate (default 0.7).
    variant
        Achievement-rate formula for decrease-desired KPIs (see
        :func:`kpianalysis.analysis.measures.achievement_rate`).

    Returns
    -------
    Rating
        key (see :data:`EFFECT_LEVELS`), Japanese and English labels, reason where none applies
        (``"no_actual"``, ``"no_target"``, ``"target_zero"``, ``"no_baseline"``).

    Examples
    --------
    >>> effect_rating(9, 13, 4).label_ja   # 69 % of target, above the baseline
    '効果があった'
    >>> effect_rating(9, 13, 4, band=0.6).label_en
    'considerably effective'
    """
    shape, (a, t, b, d) = _att.prepare_with_direction(direction, actual, target, baseline)
    ach, ach_codes = _att.achieved_core(a, t, d)
    rate, rate_codes, _ = _att.achievement_core(a, t, d, _att.variant_code(variant))
    codes, reason = effect_core(a, b, d, ach, ach_codes, rate, rate_codes, band)
    codes, reason = np.broadcast_arrays(codes, reason)
    keys, ja, en = zip(*EFFECT_LEVELS, strict=True)
    return _rating_out(codes, reason, keys, ja, en, shape)


# --------------------------------------------------------------------------------------------
# Rank tables


@dataclass(frozen=True)
class RankTable:
    """Ranks by ordered thresholds on one measure, optionally with a top rank for "achieved".

    Parameters
    ----------
    name
        Identifier shown in tables.
    labels
        Rank labels, lowest first (e.g. ``("D", "C", "B", "A")``).
    thresholds
        Strictly increasing inclusive lower bounds: rank k+1 applies from ``thresholds[k]`` on.
        ``len(labels) == len(thresholds) + 1``, or ``+ 2`` with ``top_when_achieved``.
    labels_ja, labels_en
        What each rank means, in Japanese and English (default: the labels themselves).
    measure
        ``"achievement_rate"`` (A/T, direction-aware), ``"progress_rate"`` ((A − b)/(T − b)), or
        ``"change_vs_baseline"`` (d·(A − b)/|b|).
    top_when_achieved
        The last label is given whenever the target is achieved; thresholds rank the rest.

    Examples
    --------
    >>> t = RankTable("pass_fail", ("不可", "可"), (1.0,), labels_en=("fail", "pass"))
    >>> rank(12, 10, table=t).label_en
    'pass'
    """

    name: str
    labels: tuple[str, ...]
    thresholds: tuple[float, ...]
    labels_ja: tuple[str, ...] | None = None
    labels_en: tuple[str, ...] | None = None
    measure: Literal["achievement_rate", "progress_rate", "change_vs_baseline"] = "achievement_rate"
    top_when_achieved: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "thresholds", tuple(float(x) for x in self.thresholds))
        n = len(self.thresholds) + (2 if self.top_when_achieved else 1)
        if len(self.labels) != n:
            raise ParameterError(
                f"rank table {self.name!r}: {len(self.labels)} labels for "
                f"{len(self.thresholds)} thresholds (need {n})"
            )
        if any(not lo < hi for lo, hi in zip(self.thresholds, self.thresholds[1:], strict=False)):
            raise ParameterError(f"rank table {self.name!r}: thresholds must strictly increase")
        if self.measure not in ("achievement_rate", "progress_rate", "change_vs_baseline"):
            raise ParameterError(f"rank table {self.name!r}: unknown measure {self.measure!r}")
        for attr in ("labels_ja", "labels_en"):
            value = getattr(self, attr)
            if value is None:
                object.__setattr__(self, attr, self.labels)
            elif len(value) != n:
                raise ParameterError(f"rank table {self.name!r}: {attr} needs {n} entries")
            else:
                object.__setattr__(self, attr, tuple(value))

    def labels_of(self, codes: np.ndarray) -> tuple[pd.Categorical, pd.Categorical, pd.Categorical]:
        """Rank, Japanese and English labels for rank codes (−1 = missing), lowest first."""
        codes = np.asarray(codes).ravel()

        def cat(names: tuple[str, ...] | None) -> pd.Categorical:
            assert names is not None
            # Categories must be unique; descriptions could repeat in a user table.
            if len(set(names)) != len(names):
                return pd.Categorical(np.array((*names, None), dtype=object)[codes])
            return pd.Categorical.from_codes(codes, categories=list(names), ordered=True)

        return cat(self.labels), cat(self.labels_ja), cat(self.labels_en)


RANK_TABLES: dict[str, RankTable] = {
    # 大阪府立図書館: A ≥ 110 %, B 80–110 %, C 50–80 %, D < 50 % of target.
    "osaka_library": RankTable(
        name="osaka_library",
        labels=("D", "C", "B", "A"),
        thresholds=(0.5, 0.8, 1.1),
        labels_ja=(
            "D（達成率50%未満）",
            "C（50%以上80%未満）",
            "B（80%以上110%未満）",
            "A（110%以上）",
        ),
        labels_en=("D (below 50 %)", "C (50–80 %)", "B (80–110 %)", "A (110 % or more)"),
        measure="achievement_rate",
    ),
    # 長与町: S above target, A above baseline, B within ±10 % of baseline, C below baseline.
    # The ±10 % band is taken as [−10 %, +10 %): bins include their lower bound throughout.
    "nagayo": RankTable(
        name="nagayo",
        labels=("C", "B", "A", "S"),
        thresholds=(-0.1, 0.1),
        labels_ja=(
            "C（当初値を下回る）",
            "B（当初値の±10%以内）",
            "A（当初値を上回る）",
            "S（目標値を上回る）",
        ),
        labels_en=(
            "C (below baseline)",
            "B (within ±10 % of baseline)",
            "A (above baseline)",
            "S (target reached)",
        ),
        measure="change_vs_baseline",
        top_when_achieved=True,
    ),
}


def get_rank_table(table: str | RankTable) -> RankTable:
    """A preset by name, or the table itself.

    Examples
    --------
    >>> get_rank_table("nagayo").labels
    ('C', 'B', 'A', 'S')
    """
    if isinstance(table, RankTable):
        return table
    try:
        return RANK_TABLES[table]
    except KeyError:
        raise ParameterError(
            f"unknown rank table {table!r}; presets: {sorted(RANK_TABLES)}"
        ) from None


def rank_core(
    table: RankTable,
    a: np.ndarray,
    t: np.ndarray,
    b: np.ndarray,
    d: np.ndarray,
    ach: np.ndarray,
    ach_codes: np.ndarray,
    rate: np.ndarray,
    rate_codes: np.ndarray,
    prog: np.ndarray,
    prog_codes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Rank indexes of many KPIs in one :class:`RankTable`, with reason codes.

    What it computes: the table's measure — the achievement rate, the progress rate, or the
    change against the baseline d·(A − b)/|b| — then the number of thresholds it reaches (the
    index into ``table.labels``); with ``top_when_achieved`` an achieved target takes the top
    rank whatever the measure.

    Array contract: aligned arrays of one shape — ``a``, ``t``, ``b`` actuals, targets and
    baselines, ``d`` direction (±1); ``ach``/``ach_codes``, ``rate``/``rate_codes`` and
    ``prog``/``prog_codes`` the outputs of the ``*_core`` kernels of
    :mod:`~kpianalysis.analysis.measures` (NaN = missing), passed in so that the attainment
    table computes each once for its rank, effect and rate columns (hence 11 arguments). Returns
    ``(idx, reason)``: int8 rank indexes, −1 where no rank applies, and int8 reason codes (−1 =
    defined).

    Why written this way: a table has a handful of thresholds, so summing ``m >= thr`` per
    threshold is cheaper than ``searchsorted``; the top rank and the reasons are merged with the
    same branch-free int8 arithmetic as
    :func:`~kpianalysis.analysis.measures.combine_codes`.
    """
    if table.measure == "achievement_rate":
        m, m_codes = rate, rate_codes
    elif table.measure == "progress_rate":
        m, m_codes = prog, prog_codes
    else:
        absb = np.abs(b)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            m = d * (a - b) / absb
        m_codes = _att.combine_codes(
            m.shape,
            (absb == 0, REASON_CODE["baseline_zero"]),
            (np.isnan(b), REASON_CODE["no_baseline"]),
            (np.isnan(a), REASON_CODE["no_actual"]),
        )
    # Counting thresholds passed is cheaper than searchsorted for the few thresholds tables have.
    idx = np.zeros(m.shape, dtype=np.int8)
    for thr in table.thresholds:
        idx += m >= thr
    if not table.top_when_achieved:
        idx += (m_codes >= 0) * (np.int8(-1) - idx)
        return idx, m_codes
    top = np.int8(len(table.labels) - 1)
    known = ach_codes < 0
    # achieved → top rank, whatever the measure; unknown achievement → its reason
    reason = m_codes + (ach & known) * (DEFINED - m_codes)
    reason += ~known * (ach_codes - reason)
    idx += (ach & known) * (top - idx)
    idx += (reason >= 0) * (np.int8(-1) - idx)
    return idx, reason


def rank(
    actual: Any,
    target: Any,
    baseline: Any = np.nan,
    direction: Any = "increase",
    table: str | RankTable = "osaka_library",
    *,
    variant: str | None = None,
) -> Rating:
    """Rank a KPI with a rank table (a preset name or a :class:`RankTable`).

    Returns
    -------
    Rating
        Rank label, its Japanese and English descriptions, and the reason where none applies.

    Examples
    --------
    >>> rank(1341, 500).label          # 268 % of target
    'A'
    >>> rank(9, 13).label              # 69 %
    'C'
    >>> rank(1341, 500, 225, table="nagayo").label
    'S'
    >>> rank(230, 500, 225, table="nagayo").label_ja   # +2 % on the baseline
    'B（当初値の±10%以内）'
    """
    tab = get_rank_table(table)
    shape, (a, t, b, d) = _att.prepare_with_direction(direction, actual, target, baseline)
    ach, ach_codes = _att.achieved_core(a, t, d)
    rate, rate_codes, _ = _att.achievement_core(a, t, d, _att.variant_code(variant))
    prog, prog_codes = _att.progress_core(a, t, b)
    codes, reason = rank_core(tab, a, t, b, d, ach, ach_codes, rate, rate_codes, prog, prog_codes)
    codes, reason = np.broadcast_arrays(codes, reason)
    assert tab.labels_ja is not None and tab.labels_en is not None
    return _rating_out(codes, reason, tab.labels, tab.labels_ja, tab.labels_en, shape)
