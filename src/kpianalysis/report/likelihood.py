"""A probability in the words a committee reads: 「見込みは低い（約4%）」, "unlikely (about 4%)".

A panel member deciding whether a programme will meet its plan-end target needs a word first
and a number second. The words follow the calibrated likelihood language of the IPCC's guidance
for lead authors (Mastrandrea et al. 2010, *Guidance Note for Lead Authors of the IPCC Fifth
Assessment Report on Consistent Treatment of Uncertainties*, Table 1: "virtually certain"
99–100 %, "likely" 66–100 %, "about as likely as not" 33–66 %, "unlikely" 0–33 %,
"exceptionally unlikely" 0–1 %), reduced to five bands that do not overlap. Three to five annual
points support no finer statement than whole percent (docs/METHODS.md), so the band is chosen
from the percent as shown: the word and the number beside it never disagree (「約33%」 is
「見込みは低い」, never 「見込みは五分五分」). The Japanese words all read 「見込みは…」, so they
end a sentence such as 「2023年度の目標（13団体）を達成する見込みは低い（約4%）」.

Everything here is pure: the trends report calls :func:`likelihood_words` for each KPI.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["BANDS", "Band", "likelihood_band", "likelihood_words", "whole_percent"]


@dataclass(frozen=True)
class Band:
    """One band of the scale: whole percents ``low``–``high`` (inclusive) and its words.

    ``low = -1`` stands for "below 1 %" and ``high = 101`` for "above 99 %", the two ends that
    are shown without a number of their own.
    """

    low: int
    high: int
    ja: str
    en: str


#: The scale, lowest first; every whole percent and both ends fall in exactly one band.
BANDS: tuple[Band, ...] = (
    Band(-1, -1, "見込みは極めて低い", "exceptionally unlikely"),
    Band(1, 33, "見込みは低い", "unlikely"),
    Band(34, 66, "見込みは五分五分", "about as likely as not"),
    Band(67, 99, "見込みは高い", "likely"),
    Band(101, 101, "見込みは極めて高い", "virtually certain"),
)


def whole_percent(p: float) -> int:
    """``p`` in whole percent, ``-1`` below 1 % and ``101`` above 99 %.

    Rounded half up, as the reports round rates for display.

    Examples
    --------
    >>> whole_percent(0.04), whole_percent(0.335), whole_percent(0.004), whole_percent(0.996)
    (4, 34, -1, 101)
    >>> whole_percent(0.995)  # 99.5 % is shown as ">99 %"
    101
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"a probability lies in [0, 1], not {p!r}")
    v = 100.0 * p
    if v < 1.0:
        return -1
    if v >= 99.5:  # would round to 100: "above 99 %", as "below 1 %" at the other end
        return 101
    return math.floor(v + 0.5)


def likelihood_band(p: float) -> Band:
    """The band of :data:`BANDS` that ``p`` (a probability) falls in.

    Examples
    --------
    >>> likelihood_band(0.04).en, likelihood_band(0.5).ja
    ('unlikely', '見込みは五分五分')
    """
    pct = whole_percent(p)
    for band in BANDS:
        if band.low <= pct <= band.high:
            return band
    raise AssertionError(f"no band for {pct}%")  # pragma: no cover - BANDS cover -1..101


def likelihood_words(p: float | None, language: str = "ja") -> str:
    """A probability as a word and its whole percent, for a committee.

    Parameters
    ----------
    p
        The probability (``None`` or NaN: none could be computed, e.g. too few points).
    language
        ``"ja"`` or ``"en"``.

    Returns
    -------
    str
        ``"見込みは低い（約4%）"`` / ``"unlikely (about 4%)"``; the ends read
        ``"見込みはほとんどない（1%未満）"`` and ``"ほぼ確実（99%超）"``; no probability reads
        ``"見込みは示せない"`` / ``"cannot be assessed"``.

    Examples
    --------
    >>> likelihood_words(0.04)
    '見込みは低い（約4%）'
    >>> likelihood_words(0.04, "en")
    'unlikely (about 4%)'
    >>> likelihood_words(0.72), likelihood_words(0.002, "en")
    ('見込みは高い（約72%）', 'exceptionally unlikely (below 1%)')
    """
    if language not in ("ja", "en"):
        raise ValueError(f"language must be 'ja' or 'en', not {language!r}")
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "見込みは示せない" if language == "ja" else "cannot be assessed"
    p = float(p)
    band = likelihood_band(p)
    pct = whole_percent(p)
    if language == "ja":
        amount = "1%未満" if pct < 0 else "99%超" if pct > 100 else f"約{pct}%"
        return f"{band.ja}（{amount}）"
    amount = "below 1%" if pct < 0 else "above 99%" if pct > 100 else f"about {pct}%"
    return f"{band.en} ({amount})"
