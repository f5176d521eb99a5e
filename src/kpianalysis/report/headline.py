"""The headline of a report: one programme's KPIs achieved in a fiscal year, for the index,
the run records and the report's own narrative.

One set of counts, one denominator: *n of m evaluated KPIs achieved (n/m)*, where a KPI is
evaluated when its achievement is known; KPIs without an actual value are counted separately, and
KPIs with an actual but no achievement (e.g. no target for the year) as "not evaluable". Every
line names its programme.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from kpianalysis.analysis.measures import format_percent
from kpianalysis.analysis.results import YearResults
from kpianalysis.fileio import jsonable
from kpianalysis.words import counted

__all__ = [
    "achievement_counts",
    "counts_text",
    "headline_for",
    "headline_text",
    "panel_headline",
    "panel_text",
    "programme_headlines",
    "programme_label",
]


def achievement_counts(table: pd.DataFrame) -> dict[str, Any]:
    """Counts of one programme's attainment table (one row per KPI).

    Returns ``n_kpis``, ``n_evaluated`` (achievement known), ``n_achieved``,
    ``n_without_actual``, ``n_not_evaluable`` (an actual, but no achievement),
    ``share_achieved`` = ``n_achieved / n_evaluated`` (``None`` when nothing was evaluated), so
    ``n_evaluated + n_without_actual + n_not_evaluable == n_kpis`` always, and ``plan_only``:
    no KPI has an actual (a plan report: targets only).

    Examples
    --------
    >>> t = pd.DataFrame({"actual": [9, 83, None], "achieved": [True, False, None]})
    >>> c = achievement_counts(t)
    >>> c["n_achieved"], c["n_evaluated"], c["n_without_actual"], c["share_achieved"]
    (1, 2, 1, 0.5)
    """
    achieved = pd.array(list(table["achieved"]), dtype="boolean")
    known = ~np.asarray(achieved.isna(), dtype=bool)
    no_actual = np.asarray(table["actual"].isna(), dtype=bool) & ~known
    n_evaluated = int(known.sum())
    n_achieved = int(np.asarray(achieved[known], dtype=bool).sum())
    n_without = int(no_actual.sum())
    return _counts(len(table), n_evaluated, n_achieved, n_without)


def _counts(n_kpis: int, n_evaluated: int, n_achieved: int, n_without: int) -> dict[str, Any]:
    return {
        "n_kpis": n_kpis,
        "n_evaluated": n_evaluated,
        "n_achieved": n_achieved,
        "n_without_actual": n_without,
        "n_not_evaluable": n_kpis - n_evaluated - n_without,
        "share_achieved": n_achieved / n_evaluated if n_evaluated else None,
        "plan_only": n_kpis > 0 and n_without == n_kpis,
    }


def programme_headlines(results: YearResults) -> dict[str, dict[str, Any]]:
    """Headline of every programme in a fiscal year's results, by ``programme_id``.

    The year's attainment table is read in one pass, so a panel of thousands of programmes
    costs one pass, not one filter per programme. Each headline holds
    the programme's names, municipality and plan period, the counts of
    :func:`achievement_counts` (``plan_only``: no actual for the year, a plan report), each
    evaluated KPI's achievement rate (``rates``) and ``source_checked`` (its transcription was
    checked against a source document). JSON-safe; nothing is recomputed.

    Examples
    --------
    >>> programme_headlines(YearResults(ds.as_of(2023)))["23205-community"]  # doctest: +SKIP
    """
    table = results.attainment
    # One pass over the year's table (per-programme frames and itertuples cost 3 ms a programme:
    # 27 s a year for the country): each row's part in its programme's counts and rates, with
    # the conversions of achievement_counts applied to the whole column at once.
    achieved = pd.array(list(table["achieved"]), dtype="boolean")
    known = ~np.asarray(achieved.isna(), dtype=bool)
    hit = np.zeros(len(table), dtype=bool)
    hit[known] = np.asarray(achieved[known], dtype=bool)
    no_actual = np.asarray(table["actual"].isna(), dtype=bool) & ~known
    rated = np.asarray(table["achievement_rate"].notna(), dtype=bool)
    tally: dict[str, list[int]] = {}
    rates: dict[str, list[str]] = {}
    for pid, label, rate, k, h, none, r in zip(
        table["programme_id"].astype(str).tolist(),
        table["indicator_label"].tolist(),
        table["achievement_rate"].tolist(),
        known.tolist(),
        hit.tolist(),
        no_actual.tolist(),
        rated.tolist(),
        strict=True,
    ):
        t = tally.setdefault(pid, [0, 0, 0, 0])
        t[0] += 1
        t[1] += k
        t[2] += h
        t[3] += none
        if r:
            rates.setdefault(pid, []).append(f"{label} {format_percent(rate, 1)}")
    out = {}
    for prog in results.dataset.programmes.to_dict("records"):
        pid = str(prog["programme_id"])
        out[pid] = jsonable(
            {
                "programme_id": pid,
                "name_ja": prog.get("name_ja", ""),
                "name_en": prog.get("name_en", ""),
                "municipality_ja": prog.get("municipality_ja", ""),
                "municipality_en": prog.get("municipality_en", ""),
                "plan_start": prog.get("plan_start"),
                "plan_end": prog.get("plan_end"),
                "fiscal_year": int(results.fiscal_year),
                **_counts(*tally.get(pid, [0, 0, 0, 0])),
                "rates": rates.get(pid, []),
                "source_checked": bool(str(prog.get("source_file") or "").strip()),
            }
        )
    return out


def headline_for(results: YearResults | None) -> Any:
    """Headline of each programme in a fiscal year's results: one dict per programme
    (:func:`programme_headlines`), a single dict for a one-programme dataset.

    Returns ``None`` when no results are given.

    Examples
    --------
    >>> headline_for(None) is None
    True
    """
    if results is None:
        return None
    rows = list(programme_headlines(results).values())
    return rows[0] if len(rows) == 1 else rows


def programme_label(headline: Mapping[str, Any]) -> str:
    """``name（municipality）``, or the programme id when the headline has no name.

    Examples
    --------
    >>> programme_label({"programme_id": "x", "name_ja": "事業", "municipality_ja": "半田市"})
    '事業（半田市）'
    """
    who = str(headline.get("name_ja") or headline.get("programme_id") or "")
    if headline.get("municipality_ja"):
        who = f"{who}（{headline['municipality_ja']}）"
    return who


def counts_text(counts: Mapping[str, Any], language: str = "both") -> str:
    """The counts as one sentence fragment: ``ja``, ``en`` or ``both`` (``ja / en``).

    Examples
    --------
    >>> c = {"n_kpis": 4, "n_evaluated": 3, "n_achieved": 2, "n_without_actual": 1,
    ...      "n_not_evaluable": 0, "share_achieved": 2 / 3}
    >>> counts_text(c, "en")
    '2 of 3 evaluated KPIs achieved (66.7%); 1 without an actual'
    >>> counts_text(c, "ja")
    '評価した3指標中2指標が目標を達成（66.7%）、実績値なし1指標'
    """
    if counts.get("plan_only"):
        n = int(counts["n_kpis"])
        ja = f"計画のみ：{n}指標、実績値はまだありません"
        en = f"plan only: {counted(n, 'KPI')}, no actual yet"
    else:
        m, k = int(counts["n_evaluated"]), int(counts["n_achieved"])
        share = counts.get("share_achieved")
        pct = format_percent(share if share is not None else float("nan"), 1)
        ja = f"評価した{m}指標中{k}指標が目標を達成（{pct}）"
        en = f"{k} of {counted(m, 'evaluated KPI')} achieved ({pct})"
        if counts.get("n_without_actual"):
            ja += f"、実績値なし{counts['n_without_actual']}指標"
            en += f"; {counts['n_without_actual']} without an actual"
        if counts.get("n_not_evaluable"):
            ja += f"、評価不能{counts['n_not_evaluable']}指標"
            en += f"; {counts['n_not_evaluable']} not evaluable"
    return {"ja": ja, "en": en}.get(language, f"{ja} / {en}")


def headline_text(headline: object) -> str:
    """One line of plain text from a headline (a mapping, a list of them, a string or ``None``).

    Examples
    --------
    >>> headline_text({"programme_id": "23205-community", "n_kpis": 4, "n_evaluated": 4,
    ...                "n_achieved": 2, "share_achieved": 0.5})
    ... # doctest: +NORMALIZE_WHITESPACE
    '23205-community: 評価した4指標中2指標が目標を達成（50.0%） /
    2 of 4 evaluated KPIs achieved (50.0%)'
    >>> headline_text(None)
    ''
    """
    if headline is None:
        return ""
    if isinstance(headline, Mapping) and {"n_kpis", "n_evaluated", "n_achieved"} <= set(headline):
        text = counts_text(headline)
        rates = headline.get("rates")
        if isinstance(rates, list) and rates:
            text += f"（達成率 achievement: {', '.join(str(r) for r in rates)}）"
        who = programme_label(headline)
        return f"{who}: {text}" if who else text
    if isinstance(headline, Mapping):
        return ", ".join(f"{k}: {v}" for k, v in headline.items())
    if isinstance(headline, list):
        return "; ".join(headline_text(h) for h in headline)
    return str(headline)


def panel_headline(headlines: Sequence[Mapping[str, Any]], fiscal_year: int) -> dict[str, Any]:
    """Totals over the programme headlines of one fiscal year (for a panel report's index line).

    Examples
    --------
    >>> h = {"n_kpis": 4, "n_evaluated": 4, "n_achieved": 2, "n_without_actual": 0,
    ...      "n_not_evaluable": 0, "plan_only": False}
    >>> p = panel_headline([h], 2023)
    >>> p["n_programmes"], p["n_programmes_any_achieved"], p["share_achieved"]
    (1, 1, 0.5)
    """
    keys = ("n_kpis", "n_evaluated", "n_achieved", "n_without_actual", "n_not_evaluable")
    totals = {k: int(sum(int(h.get(k) or 0) for h in headlines)) for k in keys}
    evaluated = [h for h in headlines if int(h.get("n_evaluated") or 0)]
    return {
        "panel": True,
        "fiscal_year": int(fiscal_year),
        "n_programmes": len(headlines),
        "n_programmes_evaluated": len(evaluated),
        "n_programmes_any_achieved": sum(int(h.get("n_achieved") or 0) > 0 for h in evaluated),
        **totals,
        "share_achieved": (
            totals["n_achieved"] / totals["n_evaluated"] if totals["n_evaluated"] else None
        ),
    }


def panel_text(headline: Mapping[str, Any], language: str = "both") -> str:
    """One line for a panel headline (:func:`panel_headline`): ``ja``, ``en`` or ``both``.

    Examples
    --------
    >>> h = {"n_programmes": 1, "n_programmes_evaluated": 1, "n_programmes_any_achieved": 1,
    ...      "n_kpis": 4, "n_evaluated": 4, "n_achieved": 2, "share_achieved": 0.5}
    >>> panel_text(h, "ja")
    '1事業: 評価した4指標中2指標が目標を達成（50.0%）、1事業中1事業が1指標以上を達成'
    >>> panel_text(h, "en")  # doctest: +NORMALIZE_WHITESPACE
    '1 programme: 2 of 4 evaluated KPIs achieved (50.0%); 1 of 1 programme achieved at least
    one KPI'
    >>> panel_text(h) == panel_text(h, "ja") + " / " + panel_text(h, "en")
    True
    """
    n, m = int(headline["n_programmes_any_achieved"]), int(headline["n_programmes_evaluated"])
    p = int(headline["n_programmes"])
    ja = f"{p}事業: {counts_text(headline, 'ja')}、{m}事業中{n}事業が1指標以上を達成"
    en = (
        f"{counted(p, 'programme')}: {counts_text(headline, 'en')}; "
        f"{n} of {counted(m, 'programme')} achieved at least one KPI"
    )
    return {"ja": ja, "en": en}.get(language, f"{ja} / {en}")
