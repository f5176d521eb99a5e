"""One verdict per KPI and year (issue 17.1, brief: "never two verdicts that contradict").

A KPI-year is judged in three places of the attainment report: the summary line (a year's own
target met or not, or — a year without a target — interim_class's pro-rata band), the main
table's effect rating, and the research appendix's status index. Each is mapped to one verdict
of :data:`kpianalysis.reasons.VERDICTS` by :data:`~kpianalysis.reasons.VERDICT_OF` and
:func:`~kpianalysis.reasons.year_target_verdict`; every pair must agree
(:func:`~kpianalysis.reasons.verdicts_agree`) for the seed and every partner fixture, in every
fiscal year they have data for.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import SEED_DIR, SEED_ID
from kpianalysis.analysis.measures import PRO_RATA_LABELS
from kpianalysis.analysis.progress import OUTCOMES
from kpianalysis.analysis.tables import attainment_table
from kpianalysis.data.dataset import load_dataset
from kpianalysis.reasons import VERDICT_OF, VERDICTS, verdicts_agree, year_target_verdict
from kpianalysis.report.sections import kpi_status_line

PARTNERS = Path(__file__).resolve().parent / "fixtures" / "partners"
MOKUHYO = "14100-mokuhyo"


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """Every KPI-year's attainment row: the seed and every partner fixture in one data/raw."""
    raw = tmp_path_factory.mktemp("verdicts") / "raw"
    shutil.copytree(SEED_DIR, raw / SEED_ID)
    for folder in sorted(p for p in PARTNERS.iterdir() if p.is_dir()):
        shutil.copytree(folder, raw / folder.name)
    ds = load_dataset(raw)
    years = sorted(int(y) for y in ds.observations["fiscal_year"].dropna().unique())
    return pd.concat([attainment_table(ds.as_of(fy), fy) for fy in years], ignore_index=True)


def _final_year_reached(row: dict) -> bool:
    end = row["assessment_target_year"]
    return pd.notna(end) and int(row["fiscal_year"]) >= int(end)


# The summary line's marks (sections.kpi_status_line), as a reader reads them.
_INTERIM_WORDS = {ja: code for code, (ja, _en) in PRO_RATA_LABELS.items()}
_MARK = re.compile(r'<span class="kpi-(?:ok|miss)">([^<]*)</span>')


def summary_verdict(row: dict) -> str | None:
    """The verdict the Japanese summary line shows for a row (None: it shows none)."""
    found = _MARK.findall(str(kpi_status_line(row, ("", ""), "ja")))
    if not found:
        return None
    (mark,) = found
    if mark in _INTERIM_WORDS:
        return VERDICT_OF[_INTERIM_WORDS[mark]]
    if mark == "○ 達成（順調）":
        return "on_track"
    met = {"○ 達成": True, "× 未達成": False}[mark]
    return year_target_verdict(met, _final_year_reached(row))


def main_table_verdict(row: dict) -> str | None:
    """Table 1's effect rating: 非常に効果的 is the year's target met, any other level not."""
    if pd.isna(row["effect_en"]):
        return None
    return year_target_verdict(row["effect_en"] == "very effective", _final_year_reached(row))


def appendix_verdict(row: dict) -> str | None:
    """The research appendix's status index outcome (None: insufficient data and the like)."""
    return VERDICT_OF.get(str(row["status_class"]))


def test_verdict_mapping():
    # every verdict is reached, and every code mapped is an outcome the status index gives
    assert set(VERDICT_OF.values()) == set(VERDICTS)
    assert set(VERDICT_OF) <= set(OUTCOMES)
    # the pro-rata classes of interim_class are status outcomes with a verdict each
    assert {k: VERDICT_OF[k] for k in PRO_RATA_LABELS} == {
        "on_track": "on_track",
        "roughly_on_track": "on_track",
        "needs_improvement": "behind",
    }
    assert [year_target_verdict(m, e) for m in (True, False) for e in (False, True)] == [
        "on_track", "achieved", "behind", "missed",
    ]  # fmt: skip
    # agreement: equal, or a final target met early beside "on track", or no progress
    # beside "behind"; nothing else
    agree = {(a, b) for a in VERDICTS for b in VERDICTS if verdicts_agree(a, b)}
    assert agree == {(v, v) for v in VERDICTS} | {
        ("achieved", "on_track"), ("on_track", "achieved"),
        ("behind", "no_progress"), ("no_progress", "behind"),
    }  # fmt: skip
    assert verdicts_agree(None, "missed") and verdicts_agree("achieved", None)
    with pytest.raises(ValueError, match="verdict must be one of"):
        verdicts_agree("on_track", "roughly_on_track")  # a code, not a verdict


def test_no_two_verdicts_contradict(tables):
    rows = tables.to_dict("records")
    bad, judged, interim = [], 0, 0
    for r in rows:
        v = {"summary": summary_verdict(r), "main": main_table_verdict(r)}
        v["appendix"] = appendix_verdict(r)
        interim += v["summary"] is not None and r["target_basis"] == "final"
        judged += sum(x is not None for x in v.values()) >= 2
        names = list(v)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                if not verdicts_agree(v[a], v[b]):
                    bad.append((r["programme_id"], r["indicator_id"], r["fiscal_year"], v))
    assert bad == []
    # not vacuous: the eight programmes give 50 KPI-years judged in two or more places and
    # 2 interim years (no target of their own) judged in the summary (measured)
    assert judged >= 50 and interim >= 2, (judged, interim)


def test_interim_year_by_hand(tables):
    # 14100-mokuhyo ① FY2016 (fixture data16, issue 16.1): baseline 2 (FY2014), plan-end
    # target 10 due FY2019, actual 5, no target of its own. Progress (5 − 2)/(10 − 2) = 3/8
    # after (2016 − 2014)/(2019 − 2014) = 2/5 of the period: (3/8)/(2/5) = 0.9375, in
    # 多摩市's band 0.6 ≤ r < 1 → 概ね順調. The status index reads the same CS = 3/8 against
    # the share elapsed 2/5 and, through the same band kernel, says the same — it said 遅れ
    # (behind) before, beside the summary's 概ね順調.
    r = tables[
        (tables["programme_id"] == MOKUHYO)
        & (tables["indicator_id"] == 1)
        & (tables["fiscal_year"] == 2016)
    ].iloc[0]
    assert (r["baseline"], r["assessment_target"], r["actual"]) == (2, 10, 5)
    assert r["target_basis"] == "final" and r["elapsed_share"] == 2 / 5
    assert r["interim_rate"] == pytest.approx(0.9375, abs=1e-15)
    assert r["interim_class"] == r["status_class"] == "roughly_on_track"
    assert r["status_index"] == 3 / 8
    assert summary_verdict(r.to_dict()) == appendix_verdict(r.to_dict()) == "on_track"
    assert "概ね順調" in str(kpi_status_line(r.to_dict(), ("", ""), "ja"))
