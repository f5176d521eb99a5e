"""One registry of reason codes (issue 9 item 2): unique codes, every code used has words."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from kpianalysis import reasons
from kpianalysis.analysis import measures, progress, projection, trends
from kpianalysis.analysis.projection import trend_table
from kpianalysis.report.trends_views import trend_view

SRC = Path(__file__).resolve().parents[1] / "src" / "kpianalysis"


def test_codes_are_unique_across_families():
    codes = [e.code for e in reasons.ENTRIES]
    assert len(codes) == len(set(codes)) == len(reasons.REGISTRY)


def test_a_repeated_code_is_refused():
    twice = [reasons.Reason("x", "甲", "a", "measure"), reasons.Reason("x", "乙", "b", "trend_fit")]
    with pytest.raises(ValueError, match="'x' is registered twice"):
        reasons.build_registry(twice)
    with pytest.raises(ValueError, match="unknown family"):
        reasons.build_registry([reasons.Reason("y", "甲", "a", "nowhere")])


def test_every_label_is_non_empty_in_both_languages():
    for e in reasons.ENTRIES:
        assert e.ja.strip() and e.en.strip(), e.code
        # The Japanese label is Japanese (at least one character beyond ASCII).
        assert any(ord(c) > 127 for c in e.ja), e.code
        assert re.fullmatch(r"[a-z][a-z0-9_]*", e.code), e.code
    assert {e.family for e in reasons.ENTRIES} == set(reasons.FAMILIES)


def test_measure_order_is_the_historical_category_order():
    # The category order of every reason column: tables written before the registry existed
    # (data/processed) concatenate with new ones only if this order never changes.
    assert measures.REASONS == (
        "no_actual", "no_target", "no_baseline", "target_zero", "actual_zero",
        "target_equals_baseline", "baseline_zero", "sign_change", "negative_values",
        "insufficient_points", "missing_increment", "no_improvement", "no_cost",
        "target_year_not_after_base", "no_verdict", "tie",
    )  # fmt: skip
    assert progress.OUTCOMES[:4] == ("target_achieved", "on_track", "behind", "no_progress")
    # issue 17 added "target_missed" at the end, then the pro-rata classes shared with
    # interim_class, so the earlier order is a prefix
    assert len(progress.OUTCOMES) == 20 and progress.OUTCOMES[17] == "target_missed"
    assert progress.OUTCOMES[18:] == ("roughly_on_track", "needs_improvement")


def test_module_tables_are_views_of_the_registry():
    assert measures.REASON_LABELS["no_target"] == ("目標値なし", "no target value")
    assert reasons.labels("assessment_outcome") == progress.OUTCOME_LABELS
    assert reasons.labels("trend_fit") == trends.REASONS
    assert set(projection.REASONS) == set(trends.REASONS) | {
        "no_final_target", "too_few_df", "plan_ended", "final_achieved", "final_missed",
    }  # fmt: skip


def test_pro_rata_classes_read_back_from_the_registry():
    # classify_pro_rata's keys, best first, with the words 多摩市 prints (on track is the
    # status-index class, in the same words).
    assert measures.PRO_RATA_LABELS == {
        "on_track": ("順調", "on track"),
        "roughly_on_track": ("概ね順調", "roughly on track"),
        "needs_improvement": ("改善が必要", "needs improvement"),
    }
    assert list(measures.PRO_RATA_LABELS) == ["on_track", "roughly_on_track", "needs_improvement"]
    for rate, words in ((1.0, "on track"), (0.6, "roughly on track"), (0.5, "needs improvement")):
        assert reasons.reason_label(measures.classify_pro_rata(rate), "en") == words


def _codes_used_in_source() -> dict[str, set[str]]:
    """String literals used as a reason code or outcome key in the analysis layer.

    The analysis layer is where every code is made (the data layer raises errors with text, the
    report layer only turns codes into words, build and the CLI never see one).

    The syntactic places a code is written: ``REASON_CODE["x"]``, ``_OUT["x"]``,
    ``reason="x"``/``outcome="x"`` keywords, ``reason = "x"``/``outcome = "x"`` and
    ``reason[...] = "x"`` assignments, ``{"reason": "x"}``, ``reason or "x"``, the arguments
    of ``_na(outcome, reason)`` and ``Assessment(value, outcome, reason, ...)``, the reason of
    ``PanelVerdict(...)``, and what ``_classify*`` helpers return.
    """
    found: dict[str, set[str]] = {}

    def add(node: ast.AST, where: str) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.setdefault(node.value, set()).add(where)
        elif isinstance(node, ast.IfExp):
            add(node.body, where)
            add(node.orelse, where)

    def named(node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            return node.attr
        if isinstance(node, ast.Subscript):
            return named(node.value)
        return ""

    for path in sorted((SRC / "analysis").rglob("*.py")):
        where = str(path.relative_to(SRC))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript) and named(node.value) in ("REASON_CODE", "_OUT"):
                add(node.slice, where)
            elif isinstance(node, ast.keyword) and node.arg in ("reason", "outcome"):
                add(node.value, where)
            elif isinstance(node, ast.Assign):
                if any(named(t) in ("reason", "outcome") for t in node.targets):
                    add(node.value, where)
            elif isinstance(node, ast.Dict):
                for k, v in zip(node.keys, node.values, strict=True):
                    if isinstance(k, ast.Constant) and k.value in ("reason", "outcome"):
                        add(v, where)
            elif isinstance(node, ast.BoolOp) and any(named(v) == "reason" for v in node.values):
                for v in node.values:
                    add(v, where)
            elif isinstance(node, ast.Call):
                fn = named(node.func)
                if fn == "_na":
                    for a in node.args:
                        add(a, where)
                elif fn == "Assessment":
                    for a in node.args[1:3]:
                        add(a, where)
                elif fn == "PanelVerdict" and len(node.args) == 7:
                    add(node.args[6], where)
            elif isinstance(node, ast.FunctionDef) and node.name.startswith("_classify"):
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Return) and sub.value is not None:
                        add(sub.value, where)
    return found


def test_every_code_used_in_the_source_is_registered():
    used = _codes_used_in_source()
    # The scan must see the codes of each family, or it proves nothing.
    for code in ("no_target", "tie", "no_verdict", "negative_values", "deterioration",
                 "right_direction_insufficient", "negative_counts", "no_interval_with_2_points",
                 "no_final_target", "numerical_problem"):  # fmt: skip
        assert code in used, code
    missing = {c: sorted(w) for c, w in used.items() if c not in reasons.REGISTRY}
    assert not missing


def test_trend_code_reads_back_with_the_trend_meaning_in_the_report(seed):
    # KPI ① asks for the Poisson model (as a sheet's trend_model column can); a negative actual
    # makes that model inapplicable.
    obs = seed.observations.copy()
    obs.loc[(obs["indicator_id"] == 1) & (obs["fiscal_year"] == 2022), "actual"] = -1.0
    ind = seed.indicators.copy()
    ind.loc[ind["indicator_id"] == 1, "trend_model"] = "poisson"
    changed = dataclasses.replace(seed, observations=obs, indicators=ind)
    table = trend_table(changed.as_of(2023), 2023)
    row = table.set_index("indicator_id").loc[1]
    assert row["model"] == "poisson" and row["reason"] == "negative_counts"
    en = trend_view(table, "en")
    assert "Poisson model needs non-negative counts" in en
    assert "series of negative values" not in en
    assert "負の値あり（ポアソンモデルは非負の件数が必要）" in trend_view(table, "ja")
