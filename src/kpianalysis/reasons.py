"""Every reason code and outcome key of the library, with its Japanese label and English rendering.

One registry, so a code means one thing wherever it appears: a report section turns any code into
words with :func:`reason_label` and cannot pick up the meaning another module gave the same word.
Each entry names the *family* it belongs to:

``measure``
    Why a single-year measure or rating is missing (achievement and progress rates, effect
    rating, rank, cost per unit change) or why a multi-year assessment could not apply. The order
    of this family is the category order of every reason column of the attainment table, so
    tables of different years concatenate without re-coding: **append, never reorder**.
``assessment_outcome``
    The classes of the four multi-year assessments (status index, anticipated progress, CAGR
    ratio, miss share); their order is the category order of the panel's class columns. It
    holds the pro-rata classes too (``on_track``, ``roughly_on_track``, ``needs_improvement``):
    a year without a target of its own is classed once, with the same bands and words, by the
    status index and by the attainment table's ``interim_class``.
``trend_fit``
    Why a trend fit has no slope, or no standard error and interval.
``projection``
    Why the trend table of a report year has no probability of reaching the final target.
``prior``
    Whether a trend family was pooled against the reference panel's prior, and why not.

Codes are unique across families (:func:`build_registry` refuses a repeated code). The modules
that produce codes keep their historical names as views of this registry:
``analysis.measures.REASONS``/``REASON_LABELS``, ``analysis.progress.OUTCOME_LABELS``,
``analysis.trends.REASONS``, ``analysis.projection.REASONS`` and
``analysis.measures.PRO_RATA_LABELS``.

Examples
--------
>>> reason_label("no_target", "en")
'no target value'
>>> REGISTRY["negative_counts"].family
'trend_fit'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

__all__ = [
    "ENTRIES",
    "FAMILIES",
    "REGISTRY",
    "VERDICTS",
    "VERDICT_OF",
    "Reason",
    "build_registry",
    "codes",
    "labels",
    "reason_label",
    "verdicts_agree",
    "year_target_verdict",
]


class Reason(NamedTuple):
    """One code: its Japanese label, English rendering and the family it belongs to."""

    code: str
    ja: str
    en: str
    family: str


#: Each family's entries as (code, Japanese, English), in order; within a family the order is the
#: category order of its columns.
_TABLE: dict[str, tuple[tuple[str, str, str], ...]] = {
    # -- measure: single-year measures, ratings, multi-year assessment preconditions
    "measure": (
        ("no_actual", "実績値なし", "no actual value"),
        ("no_target", "目標値なし", "no target value"),
        ("no_baseline", "当初値なし", "no baseline"),
        ("target_zero", "目標値が0", "target is zero"),
        (
            "actual_zero",
            "実績値が0（逆数の比が定義できない）",
            "actual is zero (inverse ratio undefined)",
        ),
        ("target_equals_baseline", "目標値が当初値と同じ", "target equals baseline"),
        ("baseline_zero", "当初値が0", "baseline is zero"),
        ("sign_change", "符号が変わる（0を含む）", "series changes sign or touches zero"),
        ("negative_values", "負の値の系列", "series of negative values"),
        ("insufficient_points", "データ点が不足", "too few data points"),
        ("missing_increment", "途中の増加分が欠けている", "an earlier increment is missing"),
        ("no_improvement", "当初値から改善なし", "no improvement over the baseline"),
        ("no_cost", "事業費なし", "no cost recorded"),
        ("target_year_not_after_base", "目標年度が基準年度以前", "target year not after base year"),
        ("no_verdict", "評価の記録なし", "no verdict recorded"),
        ("tie", "票数が同数", "tied vote"),
    ),
    # -- assessment_outcome: classes of the multi-year assessments
    "assessment_outcome": (
        ("target_achieved", "目標達成", "target achieved"),
        # current status index
        ("on_track", "順調", "on track"),
        ("behind", "遅れ", "behind schedule"),
        ("no_progress", "進捗なし・後退", "no progress or regression"),
        # anticipated progress
        ("maintain", "現状維持で達成見込み", "maintain: target expected to be met"),
        ("accelerate", "加速が必要", "accelerate"),
        ("reverse_trend", "傾向の反転が必要", "reverse the trend"),
        # CAGR ratio (Open SDG status names)
        ("substantial_progress", "大きく前進（順調）", "substantial progress (on track)"),
        ("moderate_progress", "ある程度前進", "moderate progress"),
        ("limited_progress", "わずかに前進", "limited progress"),
        ("deterioration", "悪化", "deterioration"),
        # miss share (Destatis weather symbols)
        ("nearly_on_track", "ほぼ順調", "nearly on track"),
        ("right_direction_insufficient", "方向は正しいが不十分", "right direction, not enough"),
        ("wrong_direction", "逆方向", "wrong direction"),
        # cannot apply
        ("insufficient_data", "データ不足", "insufficient data"),
        ("not_applicable_sign_change", "適用不可（符号の変化）", "not applicable (sign change)"),
        (
            "negative_series_needs_level_measure",
            "負の系列のため水準による指標が必要",
            "negative series: needs a level-based measure",
        ),
        # in or after the target year, not met (every method but the CAGR ratio); last, so that
        # the category order of class columns written before it stays a prefix
        ("target_missed", "期限までに目標未達成", "target not met by its year"),
        # a year without a target of its own: the pro-rata bands below on track (多摩市), shared
        # by the status index and the attainment table's interim_class, so that the two give
        # one verdict in the same words (appended: the earlier order stays a prefix)
        ("roughly_on_track", "概ね順調", "roughly on track"),
        ("needs_improvement", "改善が必要", "needs improvement"),
    ),
    # -- trend_fit: why a trend has no slope or no interval
    "trend_fit": (
        ("too_few_points", "データ点が2点未満", "fewer than 2 points: no trend"),
        (
            "no_interval_with_2_points",
            "2点のみのため区間なし",
            "2 points: slope only, no standard error or interval",
        ),
        ("no_variation_in_year", "年度が1種類のみ", "all points in one fiscal year: no slope"),
        ("non_positive_values", "0以下の値あり", "log-linear model needs strictly positive values"),
        # Not "negative_values": that code already means a negative series in the measure family.
        (
            "negative_counts",
            "負の値あり（ポアソンモデルは非負の件数が必要）",
            "Poisson model needs non-negative counts",
        ),
        ("non_integer_values", "整数でない値あり", "Poisson model needs integer counts"),
        (
            "no_finite_estimate",
            "推定値が有限にならない",
            "Poisson estimate diverges: all counts zero, or non-zero counts only at one end",
        ),
        ("numerical_problem", "数値計算上の問題", "the fit warned or gave non-finite numbers"),
        (
            "decreasing_running_total",
            "累計値が減少しており件数の増加モデルは適用不可",
            "a running total that decreases: the count-increment model cannot apply",
        ),
        (
            "outside_percent_range",
            "0〜100%の範囲外の値あり",
            "a percentage outside 0–100 %: the logit model cannot apply",
        ),
        (
            "share_at_bound",
            "0%または100%ちょうどの値あり（ロジット尺度では表せず、傾きが仮の値で決まるため傾向なし）",
            "a share of exactly 0 % or 100 %: it has no value on the logit scale, and any "
            "stand-in would set the slope, so no trend is fitted",
        ),
    ),
    # -- projection
    "projection": (
        ("no_final_target", "最終年度の目標値なし", "the plan has no target for its final year"),
        (
            "too_few_df",
            "統合後も残差自由度が2未満のため区間・確率なし",
            "fewer than 2 residual degrees of freedom after pooling: no interval, no probability",
        ),
        (
            "plan_ended",
            "計画期間終了: 結果は確定（確率は示さない）",
            "the plan has ended: the outcome is known (no probability)",
        ),
        ("final_achieved", "最終目標を達成", "plan-end target achieved"),
        ("final_missed", "最終目標は未達成", "plan-end target missed"),
    ),
    # -- prior: whether a trend family was pooled against the reference panel's prior
    "prior": (
        (
            "prior_pooled",
            "参照パネルの事前分布で分散を統合",
            "variance pooled with the reference panel's prior",
        ),
        (
            "prior_too_few_series",
            "参照パネルに比較できる系列が少なすぎるため統合せず、この系列だけで推定",
            "too few comparable series in the reference panel: not pooled, this series alone",
        ),
        (
            "prior_not_in_panel",
            "参照パネルに同じ種類の系列がないため統合せず、この系列だけで推定",
            "no series of this kind in the reference panel: not pooled, this series alone",
        ),
        (
            "prior_missing",
            "事前分布のファイルがないため統合せず、この系列だけで推定",
            "no prior file: not pooled, this series alone",
        ),
    ),
}

#: Families in the order their entries are listed above.
FAMILIES: tuple[str, ...] = tuple(_TABLE)

#: Every entry, in order.
ENTRIES: tuple[Reason, ...] = tuple(
    Reason(code, ja, en, family) for family, rows in _TABLE.items() for code, ja, en in rows
)


def build_registry(entries: Iterable[Reason]) -> dict[str, Reason]:
    """Index entries by code, refusing a code listed twice or an unknown family.

    Examples
    --------
    >>> build_registry([Reason("a", "甲", "a", "measure"), Reason("a", "乙", "b", "trend_fit")])
    Traceback (most recent call last):
    ...
    ValueError: reason code 'a' is registered twice (measure and trend_fit)
    """
    out: dict[str, Reason] = {}
    for entry in entries:
        if entry.family not in FAMILIES:
            raise ValueError(f"reason code {entry.code!r}: unknown family {entry.family!r}")
        if entry.code in out:
            first = out[entry.code].family
            raise ValueError(
                f"reason code {entry.code!r} is registered twice ({first} and {entry.family})"
            )
        out[entry.code] = entry
    return out


#: code → :class:`Reason`, for every code of the library.
REGISTRY: dict[str, Reason] = build_registry(ENTRIES)


def codes(family: str) -> tuple[str, ...]:
    """The codes of one family, in registry order (the category order of its columns).

    Examples
    --------
    >>> codes("projection")[:2]
    ('no_final_target', 'too_few_df')
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, not {family!r}")
    return tuple(e.code for e in ENTRIES if e.family == family)


def labels(*families: str) -> dict[str, tuple[str, str]]:
    """code → (Japanese, English) for the given families, in registry order.

    Examples
    --------
    >>> list(labels("projection"))[:2]
    ['no_final_target', 'too_few_df']
    >>> labels("trend_fit")["negative_counts"][1]
    'Poisson model needs non-negative counts'
    """
    return {code: (REGISTRY[code].ja, REGISTRY[code].en) for f in families for code in codes(f)}


def reason_label(code: Any, language: str = "ja") -> str:
    """A code in words in ``"ja"`` or ``"en"``; ``""`` for no code, the code itself if unknown.

    Examples
    --------
    >>> reason_label("negative_counts", "en")
    'Poisson model needs non-negative counts'
    >>> reason_label(None)
    ''
    """
    if language not in ("ja", "en"):
        raise ValueError(f"language must be 'ja' or 'en', not {language!r}")
    if not isinstance(code, str) or not code:
        return ""
    entry = REGISTRY.get(code)
    if entry is None:
        return code
    return entry.ja if language == "ja" else entry.en


# --------------------------------------------------------------------------------------------
# Verdicts: what a reader takes from a KPI and year, whichever table says it

#: The verdicts a report gives a KPI in a year, in words a reader compares across tables.
VERDICTS: tuple[str, ...] = ("achieved", "on_track", "behind", "missed", "no_progress")

#: Outcome code → verdict, for every code that states one (the status index, interim_class);
#: codes not listed (insufficient data, the other methods' own scales) state none.
VERDICT_OF: dict[str, str] = {
    "target_achieved": "achieved",
    "on_track": "on_track",
    "roughly_on_track": "on_track",
    "behind": "behind",
    "needs_improvement": "behind",
    "no_progress": "no_progress",
    "target_missed": "missed",
}

#: Different verdicts that still do not contradict: a final target met early is on track, and
#: no progress is a way of being behind.
_COMPATIBLE = {frozenset(("achieved", "on_track")), frozenset(("behind", "no_progress"))}


def year_target_verdict(met: bool, final_year_reached: bool) -> str:
    """The verdict of a year's own target met or not (summary line, the main table's rating):
    before the final target's year it is on track or behind, from then on achieved or missed.

    Examples
    --------
    >>> year_target_verdict(True, False), year_target_verdict(False, True)
    ('on_track', 'missed')
    """
    if met:
        return "achieved" if final_year_reached else "on_track"
    return "missed" if final_year_reached else "behind"


def verdicts_agree(a: str | None, b: str | None) -> bool:
    """Whether two verdicts of :data:`VERDICTS` can stand side by side (None: no verdict).

    Examples
    --------
    >>> verdicts_agree("on_track", "behind"), verdicts_agree("behind", "no_progress")
    (False, True)
    """
    if a is None or b is None or a == b:
        return True
    for v in (a, b):
        if v not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS} or None, not {v!r}")
    return frozenset((a, b)) in _COMPATIBLE
