"""A probability in words a committee reads (issue 17, point 2): kpianalysis.report.likelihood."""

from __future__ import annotations

import itertools
import math

import pytest

from kpianalysis.report.likelihood import BANDS, likelihood_band, likelihood_words, whole_percent


def test_the_seed_fy2022_sentence_reads_as_the_issue_asks() -> None:
    # Issue 17: the FY2022 trends report put P(① reaches 13 in FY2023) at 4 %; a committee
    # reads "見込みは低い（約4%）".
    assert likelihood_words(0.04) == "見込みは低い（約4%）"
    assert likelihood_words(0.04, "en") == "unlikely (about 4%)"


@pytest.mark.parametrize(
    ("p", "ja", "en"),
    [
        # Each band's edges, by the whole percent shown (rounded half up).
        (0.0, "見込みは極めて低い（1%未満）", "exceptionally unlikely (below 1%)"),
        (0.0099, "見込みは極めて低い（1%未満）", "exceptionally unlikely (below 1%)"),
        (0.01, "見込みは低い（約1%）", "unlikely (about 1%)"),
        (0.3349, "見込みは低い（約33%）", "unlikely (about 33%)"),  # shown 33 % → unlikely
        (0.335, "見込みは五分五分（約34%）", "about as likely as not (about 34%)"),
        (0.5, "見込みは五分五分（約50%）", "about as likely as not (about 50%)"),
        (0.6649, "見込みは五分五分（約66%）", "about as likely as not (about 66%)"),
        (0.665, "見込みは高い（約67%）", "likely (about 67%)"),
        (0.9949, "見込みは高い（約99%）", "likely (about 99%)"),
        (0.995, "見込みは極めて高い（99%超）", "virtually certain (above 99%)"),
        (1.0, "見込みは極めて高い（99%超）", "virtually certain (above 99%)"),
    ],
)
def test_band_edges_follow_the_percent_shown(p: float, ja: str, en: str) -> None:
    assert likelihood_words(p) == ja
    assert likelihood_words(p, "en") == en


def test_every_percent_falls_in_exactly_one_band_in_order() -> None:
    # -1 stands for "below 1 %", 101 for "above 99 %"; 1..99 are shown as numbers.
    for pct in [-1, *range(1, 100), 101]:
        assert sum(b.low <= pct <= b.high for b in BANDS) == 1, pct
    # The words climb with the probability: the bands are ordered and do not overlap.
    assert all(a.high < b.low for a, b in itertools.pairwise(BANDS))
    ps = [i / 1000 for i in range(1001)]
    order = [BANDS.index(likelihood_band(p)) for p in ps]
    assert order == sorted(order) and order[0] == 0 and order[-1] == len(BANDS) - 1


def test_no_probability_and_bad_input() -> None:
    assert likelihood_words(None) == "見込みは示せない"
    assert likelihood_words(math.nan, "en") == "cannot be assessed"
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        whole_percent(1.2)
    with pytest.raises(ValueError, match="language"):
        likelihood_words(0.5, "fr")
