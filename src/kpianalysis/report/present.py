"""Safe HTML for notebooks and reports: every data-derived string is escaped here.

Strings from data files are hostile until escaped (a programme named ``<script>…`` or a markdown
link ``[x](javascript:…)`` must show as inert text). So notebooks never build HTML or Markdown
with f-strings: they call these functions, which return :class:`Html` — a ``str`` that Jupyter
displays as HTML — built only from escaped parts. pandas ``Styler`` (which does not escape by
default) and Markdown output are not used for data at all.

Labels keep the source's Japanese with the English rendering beside it, in the order the
``language`` parameter asks for.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

#: Display labels: key -> (Japanese, English).
LABELS: dict[str, tuple[str, str]] = {
    "programme": ("事業", "Programme"),
    "municipality": ("自治体", "Municipality"),
    "grant_type": ("交付金の種類", "Grant type"),
    "strategy_goals": ("総合戦略の基本目標", "Strategy goals"),
    "overview": ("事業概要", "Overview"),
    "plan_period": ("計画期間", "Plan period"),
    "cost": ("事業費", "Cost"),
    "grant": ("交付額", "Grant"),
    "grant_rate": ("交付率", "Grant rate"),
    "grant_gap": ("交付額の差異", "Grant gap"),
    "component": ("事業区分", "Component"),
    "subproject": ("交付対象事業", "Sub-project"),
    "department": ("担当課", "Department"),
    "strategy_code": ("総合戦略の施策", "Strategy code"),
    "ambiguity": ("転記上の注意", "Transcription note"),
    "indicator": ("指標", "Indicator"),
    "unit": ("単位", "Unit"),
    "fiscal_year": ("年度", "Fiscal year"),
    "baseline": ("当初値", "Baseline"),
    "target": ("目標値", "Target"),
    "actual": ("実績値", "Actual"),
    "achieved": ("達成", "Achieved"),
    "achievement_rate": ("達成率", "Achievement rate"),
    "progress_rate": ("進捗率", "Progress rate"),
    "effect_rating": ("効果の評価", "Effect rating"),
    "rank": ("ランク", "Rank"),
    "sheet_part": ("構成事業・交付対象事業", "Component / sub-project"),
    "printed_achievement": ("シート記載の達成度", "Achievement printed on the sheet"),
    "missing_reason": ("実績値がない理由", "Why the actual is missing"),
    "reason": ("算出不能の理由", "Why not computed"),
    "panel_verdict": ("有識者による効果検証", "Expert panel verdict"),
    "external_verdict": ("外部組織による評価", "External evaluation"),
    "votes": ("票数", "Votes"),
    "status_index": ("現状指数", "Current status index"),
    "cagr_class": ("CAGR比による評価", "CAGR-ratio class"),
    "miss_share": ("目標未達見込み割合", "Linear-extrapolation miss share"),
    "model": ("モデル", "Model"),
    "slope": ("傾き（年あたり）", "Slope per year"),
    "interval": ("95%区間", "95% interval"),
    "prob_reach": ("目標到達確率", "Probability of reaching target"),
    "n": ("点数", "Points"),
    "df_resid": ("残差自由度", "Residual df"),
    "yes": ("はい", "yes"),
    "no": ("いいえ", "no"),
    "not_available": ("算出不能", "n/a"),
}

LANGUAGES = ("ja", "en")

#: Report styling (static, no data in it): readable left-aligned tables in any nbconvert template.
STYLE = """<style>
.kpi-table, .kpi-record { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.92em; }
.kpi-table th, .kpi-table td, .kpi-record th, .kpi-record td {
  /* !important: nbconvert's lab stylesheet right-aligns every output table cell */
  text-align: left !important; vertical-align: top; padding: 0.3em 0.6em;
  border-bottom: 1px solid #ddd; }
.kpi-table thead th { background: #f3f5f8; }
.kpi-record th { white-space: nowrap; background: #f8f9fb; }
figure { margin: 0.5em 0; }
</style>"""


class Html(str):
    """A string of HTML that Jupyter renders as HTML (its parts were escaped when built)."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        return str(self)


def esc(value: Any) -> str:
    """Escape any value for HTML text or attribute context (quotes included).

    Examples
    --------
    >>> esc('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    """
    return html.escape("" if value is None else str(value), quote=True)


def label(key: str, language: str = "ja") -> str:
    """A bilingual label: ``"達成率 (Achievement rate)"``, or English first for ``"en"``.

    Examples
    --------
    >>> label("achievement_rate")
    '達成率 (Achievement rate)'
    >>> label("achievement_rate", "en")
    'Achievement rate (達成率)'
    """
    check_language(language)
    ja, en = LABELS.get(key, (key, key))
    return f"{ja} ({en})" if language == "ja" else f"{en} ({ja})"


def pick(ja: Any, en: Any, language: str = "ja") -> str:
    """The text in the requested language, falling back to the other when blank."""
    check_language(language)
    first, second = (ja, en) if language == "ja" else (en, ja)
    for text in (first, second):
        if text is not None and not (isinstance(text, float) and math.isnan(text)) and str(text):
            return str(text)
    return ""


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    return language


def heading(text: Any, level: int = 2) -> Html:
    """An escaped heading ``<h2>`` … ``<h4>``."""
    level = min(max(int(level), 1), 6)
    return Html(f"<h{level}>{esc(text)}</h{level}>")


def paragraph(*parts: Any) -> Html:
    """An escaped paragraph; parts are joined by spaces."""
    return Html("<p>" + esc(" ".join(str(p) for p in parts if p is not None)) + "</p>")


def bullet_list(items: Iterable[Any]) -> Html:
    return Html("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>")


def definition_list(pairs: Iterable[tuple[Any, Any]]) -> Html:
    """A two-column description of a record (term → value), escaped."""
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in pairs)
    return Html(f'<table class="kpi-record">{rows}</table>')


def concat(*parts: str) -> Html:
    """Join already-built :class:`Html` fragments (plain strings are escaped)."""
    return Html("".join(p if isinstance(p, Html) else esc(p) for p in parts))


def table(
    df: pd.DataFrame,
    columns: Mapping[str, str] | Sequence[str] | None = None,
    *,
    formats: Mapping[str, Callable[[Any], Any]] | None = None,
    na_rep: str = "-",
    caption: str | None = None,
) -> Html:
    """An HTML table of ``df`` with every header and cell escaped.

    Parameters
    ----------
    columns
        Which columns, in order; a mapping gives each a display header.
    formats
        Per column, a function turning a value into display text (its result is escaped too).
    na_rep
        Text for missing values.

    Examples
    --------
    >>> html = table(pd.DataFrame({"name": ["<b>x</b>"]}), {"name": "名前"})
    >>> html[html.index("<tbody>"):]
    '<tbody><tr><td>&lt;b&gt;x&lt;/b&gt;</td></tr></tbody></table>'
    """
    if columns is None:
        columns = {c: str(c) for c in df.columns}
    elif not isinstance(columns, Mapping):
        columns = {c: str(c) for c in columns}
    formats = formats or {}
    head = "".join(f"<th>{esc(h)}</th>" for h in columns.values())
    body = []
    for _, row in df.iterrows():
        cells = []
        for col in columns:
            value = row[col]
            text = (
                na_rep if _is_missing(value) else (formats[col](value) if col in formats else value)
            )
            if _is_missing(text):
                text = na_rep
            cells.append(f"<td>{esc(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return Html(
        f'<table class="kpi-table">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value))
    except TypeError:  # pragma: no cover - exotic scalars
        return False


def yen(value: Any) -> str:
    """``19272695`` → ``"19,272,695円"`` (missing → ``""``)."""
    if _is_missing(value):
        return ""
    return f"{float(value):,.0f}円" if float(value).is_integer() else f"{float(value):,.1f}円"


def number(value: Any, unit: str = "") -> str:
    """A KPI value as the sheets print it: thousands separators, ▲ for negatives."""
    if _is_missing(value):
        return ""
    v = float(value)
    text = f"{abs(v):,.0f}" if v.is_integer() else f"{abs(v):,.2f}".rstrip("0").rstrip(".")
    return ("▲" if v < 0 else "") + text + unit
