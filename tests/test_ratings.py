"""Tests of kpianalysis.analysis.ratings: panel verdict, four-level effect rating, rank tables.

Seed values: Handa City FY2023 sheet (/work/shared/seed/000_b0c93ac26c5b58c3.txt): panel 7/7 for
「地方版総合戦略のKPI達成に有効であった」; KPI ① b 4, T 13, A 9; ④ b 225, T 500, A 1,341.
Rating rules: /work/shared/METHODS.md §1 "Ratings used in effect-verification sheets".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpianalysis.analysis.ratings import (
    EFFECT_LEVELS,
    RANK_TABLES,
    RankTable,
    effect_rating,
    get_rank_table,
    panel_verdict,
    rank,
)
from kpianalysis.errors import ParameterError


def _verdicts(votes, selected, texts=None):
    texts = texts or [
        "地方版総合戦略のKPI達成に有効であった",
        "地方版総合戦略のKPI達成に有効とは言えない",
    ]
    return pd.DataFrame(
        {
            "programme_id": ["p", "p"],
            "fiscal_year": [2023, 2023],
            "evaluator": ["panel", "panel"],
            "option_no": [1, 2],
            "option_ja": texts,
            "votes": pd.array(votes, dtype="Int64"),
            "total": pd.array([sum(votes)] * 2, dtype="Int64"),
            "selected": selected,
        }
    )


def test_panel_verdict_seed():
    # seed: 評価委員 7名/7名中 for option ①, 0名 for option ②
    v = panel_verdict(_verdicts([7, 0], [True, False]), "p", 2023)
    assert v.option_no == 1 and v.effective is True
    assert (v.votes, v.total) == (7, 7)
    assert v.option_ja == "地方版総合戦略のKPI達成に有効であった"
    assert v.option_en == "effective for achieving the KPIs"
    assert v.reason is None


def test_panel_verdict_not_effective_majority_tie_and_missing():
    v = panel_verdict(_verdicts([2, 5], [False, True]), "p", 2023)
    assert v.effective is False and v.option_no == 2
    # no row flagged selected: the majority decides
    v = panel_verdict(_verdicts([2, 5], [False, False]), "p", 2023)
    assert v.option_no == 2 and v.votes == 5
    assert panel_verdict(_verdicts([3, 3], [False, False]), "p", 2023).reason == "tie"
    assert panel_verdict(_verdicts([7, 0], [True, False]), "p", 2022).reason == "no_verdict"
    assert panel_verdict(_verdicts([7, 0], [True, False]), "q", 2023).effective is None


def test_effect_rating_levels():
    keys = [k for k, _, _ in EFFECT_LEVELS]
    assert keys == ["not_effective", "effective", "considerably_effective", "very_effective"]
    # ④ FY2023 target exceeded → 非常に効果的
    assert effect_rating(1341, 500, 225).label_ja == "非常に効果的"
    # ① FY2023: 9/13 = 69.2 % < 70 %, above baseline 4 → 効果があった
    r = effect_rating(9, 13, 4)
    assert (r.label, r.label_ja, r.label_en, r.reason) == (
        "effective",
        "効果があった",
        "effective",
        None,
    )
    # ① FY2022: 7/8 = 87.5 % → 相当程度効果があった
    assert effect_rating(7, 8, 4).label_ja == "相当程度効果があった"
    # band is inclusive and a parameter
    assert effect_rating(7, 10, 4).label == "considerably_effective"
    assert effect_rating(7, 10, 4, band=0.8).label == "effective"
    # below the band and no better than before → 効果がなかった (unchanged counts as no effect)
    assert effect_rating(4, 13, 4).label_ja == "効果がなかった"
    assert effect_rating(3, 13, 4).label_en == "not effective"
    # decrease KPI: target 10, actual 12, baseline 15 → complement 0.8 ≥ 0.7
    assert effect_rating(12, 10, 15, "decrease").label == "considerably_effective"


def test_effect_rating_reasons_and_vectors():
    r = effect_rating(83, 3000, float("nan"))  # seed ②: below band, no baseline
    assert r.label is None and r.label_ja is None and r.reason == "no_baseline"
    assert effect_rating(float("nan"), 10, 5).reason == "no_actual"
    assert effect_rating(-1, 0, 5).reason == "target_zero"  # missed, rate undefined
    assert effect_rating(1, 0, 5).label == "very_effective"  # achieved needs no rate
    s = effect_rating(
        pd.Series([9.0, 83.0, 50.0, 1341.0]),
        pd.Series([13.0, 3000.0, 50.0, 500.0]),
        pd.Series([4.0, np.nan, np.nan, 225.0]),
    )
    labels = [x if isinstance(x, str) else None for x in s.label_ja]
    assert labels == ["効果があった", None, "非常に効果的", "非常に効果的"]
    assert list(s.reason.astype(object).where(s.reason.notna(), None)) == [
        None,
        "no_baseline",
        None,
        None,
    ]


def test_rank_osaka_library_boundaries():
    # 大阪府立図書館: A ≥ 110 %, B 80–110 %, C 50–80 %, D < 50 % (lower bounds inclusive)
    got = rank(np.array([110.0, 109.9, 80.0, 79.9, 50.0, 49.9]), 100.0)
    assert list(got.label) == ["A", "B", "B", "C", "C", "D"]
    assert rank(1341, 500).label_ja == "A（110%以上）"
    assert rank(83, 3000).label_en == "D (below 50 %)"
    r = rank(5, 0)
    assert r.label is None and r.reason == "target_zero"


def test_rank_nagayo():
    # 長与町: S above target, A above baseline, B within ±10 % of baseline, C below baseline
    assert rank(1341, 500, 225, table="nagayo").label == "S"  # seed ④
    assert rank(9, 13, 4, table="nagayo").label == "A"  # seed ①: +125 % on baseline
    assert rank(230, 500, 225, table="nagayo").label == "B"  # +2.2 %
    assert rank(202.5, 500, 225, table="nagayo").label == "B"  # exactly −10 %
    assert rank(247.5, 500, 225, table="nagayo").label == "A"  # exactly +10 %: [−10 %, +10 %)
    assert rank(200, 500, 225, table="nagayo").label == "C"  # −11.1 %
    # decrease KPI: baseline 100, target 80, actual 85 → 15 % better than baseline → A
    assert rank(85, 80, 100, "decrease", table="nagayo").label == "A"
    # reached the target without a baseline: S needs none; missing it, the rest does
    assert rank(50, 50, float("nan"), table="nagayo").label == "S"
    assert rank(40, 50, float("nan"), table="nagayo").reason == "no_baseline"
    assert rank(40, 50, 0, table="nagayo").reason == "baseline_zero"
    assert rank(40, float("nan"), 30, table="nagayo").reason == "no_target"


def test_user_defined_rank_table():
    t = RankTable(
        "three_levels",
        labels=("C", "B", "A"),
        thresholds=(0.5, 1.0),
        labels_ja=("遅れ", "進捗", "達成"),
        labels_en=("behind", "progressing", "met"),
        measure="progress_rate",
    )
    r = rank(np.array([4.0, 9.5, 13.0]), 13.0, 4.0, table=t)
    assert list(r.label_en) == ["behind", "progressing", "met"]  # progress 0, 0.61, 1
    assert rank(9, 13, float("nan"), table=t).reason == "no_baseline"
    assert get_rank_table(t) is t
    assert set(RANK_TABLES) == {"osaka_library", "nagayo"}
    with pytest.raises(ParameterError):
        RankTable("bad", labels=("B", "A"), thresholds=(0.5, 1.0))
    with pytest.raises(ParameterError):
        RankTable("bad", labels=("C", "B", "A"), thresholds=(1.0, 0.5))
    with pytest.raises(ParameterError):
        RankTable("bad", labels=("B", "A"), thresholds=(1.0,), measure="vibes")
    with pytest.raises(ParameterError):
        get_rank_table("no_such_table")


def test_labels_of_keeps_order_and_missing():
    ranks, ja, en = RANK_TABLES["osaka_library"].labels_of(np.array([3, -1, 0], dtype=np.int8))
    assert list(ranks.categories) == ["D", "C", "B", "A"]
    assert ranks[0] == "A" and pd.isna(ranks[1]) and ranks[2] == "D"
    assert en[0] == "A (110 % or more)" and ja[0] == "A（110%以上）"


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(finite, finite, finite, st.sampled_from(["increase", "decrease"]))
def test_mirror_leaves_ratings_unchanged(actual, target, baseline, direction):
    # METHODS: flipping direction and all signs together must not change any rating
    other = "decrease" if direction == "increase" else "increase"
    for table in ("osaka_library", "nagayo"):
        r1 = rank(actual, target, baseline, direction, table=table)
        r2 = rank(-actual, -target, -baseline, other, table=table)
        assert (r1.label, r1.reason) == (r2.label, r2.reason)
    e1 = effect_rating(actual, target, baseline, direction)
    e2 = effect_rating(-actual, -target, -baseline, other)
    assert (e1.label, e1.reason) == (e2.label, e2.reason)


def test_rating_nan_never_silent():
    r = rank(np.array([1.0, np.nan]), np.array([np.nan, 1.0]))
    assert all(label is None for label in r.label)
    assert list(r.reason) == ["no_target", "no_actual"]
