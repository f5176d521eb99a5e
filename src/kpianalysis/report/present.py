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
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

__all__ = [
    "LABELS",
    "LANGUAGES",
    "SECTIONS",
    "STYLE",
    "Html",
    "bullet_list",
    "caption_html",
    "check_language",
    "concat",
    "definition_list",
    "esc",
    "figure",
    "header",
    "heading",
    "html_column",
    "keep_together",
    "label",
    "mark_japanese",
    "number",
    "paragraph",
    "pick",
    "section_heading",
    "table",
    "term",
    "yen",
]

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

#: Kept for sections that still prepend it: the report's stylesheet is now
#: :data:`kpianalysis.report.render.REPORT_CSS`, set once in the rendered page's ``<head>``.
STYLE = ""

#: Report sections: anchor -> (Japanese heading, English heading).
SECTIONS: dict[str, tuple[str, str]] = {
    "summary": ("要旨", "Summary"),
    "kpis": ("KPIの実績と目標", "KPIs: actuals and targets"),
    "programme": ("事業の概要", "The programme"),
    "outlook": ("見通し", "Outlook"),
    "trends": ("傾向と予測", "Trends and projections"),
    "fits": ("当てはめの結果", "Fitted trends"),
    "methods": ("方法", "Methods"),
    "research": ("付録：進捗の研究用指標", "Appendix: research measures of progress"),
    "trend_appendix": ("付録：方法と用語", "Appendix: methods and terms"),
    "notes": ("付録：転記上の注意", "Appendix: transcription notes"),
    # The cross-programme panel report
    "panel_headline": ("全体の達成状況", "Headline"),
    "distribution": ("達成率の分布", "Distribution of achievement rates"),
    "progress_classes": ("複数年度の進捗分類", "Multi-year progress classes"),
    "programmes": ("事業別の達成割合", "Programmes by share achieved"),
}


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
    """A label in the report's language only (a report speaks one language): as :func:`term`.

    Examples
    --------
    >>> label("achievement_rate"), label("achievement_rate", "en")
    ('達成率', 'Achievement rate')
    """
    return term(key, language)


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


def heading(text: Any, level: int = 2, *, anchor: str = "", english: str = "") -> Html:
    """An escaped heading; ``anchor`` gives it an ``id`` (for the table of contents and links).

    ``english`` is a quieter English rendering beside a Japanese heading.

    Examples
    --------
    >>> print(heading("方法", 2, anchor="methods", english="Methods"))
    <h2 id="methods">方法<span class="en">Methods</span></h2>
    """
    level = min(max(int(level), 1), 6)
    ident = f' id="{esc(_anchor(anchor))}"' if anchor else ""
    en = f'<span class="en">{esc(english)}</span>' if english else ""
    return Html(f"<h{level}{ident}>{esc(text)}{en}</h{level}>")


def section_heading(key: str, language: str = "ja", level: int = 2) -> Html:
    """A section heading from :data:`SECTIONS` in the report's language.

    Examples
    --------
    >>> print(section_heading("methods"))
    <h2 id="methods">方法</h2>
    >>> print(section_heading("methods", "en"))
    <h2 id="methods">Methods</h2>
    """
    ja, en = SECTIONS[key]
    return heading(ja if check_language(language) == "ja" else en, level, anchor=key)


def _anchor(text: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in text)


def term(key: str, language: str = "ja") -> str:
    """A label in one language only: ``"達成率"`` or ``"Achievement rate"``.

    Examples
    --------
    >>> term("achievement_rate"), term("achievement_rate", "en")
    ('達成率', 'Achievement rate')
    """
    ja, en = LABELS.get(key, (key, key))
    return ja if check_language(language) == "ja" else en


def header(key: str, language: str = "ja") -> Html:
    """A table header in the report's language.

    Examples
    --------
    >>> header("target"), header("target", "en")
    ('目標値', 'Target')
    """
    return Html(esc(term(key, language)))


#: Runs of Japanese script (kana, kanji, full-width forms, CJK punctuation, ▲), with the Roman
#: and circled numbers and the spaces, digits, brackets and dashes that join them inside one
#: name (「基本目標３-施策Ⅲ-①」); a run starts with Japanese script, so "① Population" is English.
_CJK = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef▲△"
_NUMBERS = "\u2150-\u218f\u2460-\u24ff"
_JAPANESE = re.compile(rf"[{_CJK}][{_CJK}{_NUMBERS}]*(?:[\s\d.,()\-/]*[{_CJK}{_NUMBERS}]+)*")


def mark_japanese(text: Any) -> Html:
    """Escaped ``text`` whose Japanese runs are marked ``lang="ja"``: a name kept as the sheet
    writes it, inside an English report (screen readers and fonts then treat it as Japanese).

    Examples
    --------
    >>> print(mark_japanese("Handa City (半田市, code 23205)"))
    Handa City (<span lang="ja">半田市</span>, code 23205)
    >>> print(mark_japanese("<b>市民協働課</b>"))
    &lt;b&gt;<span lang="ja">市民協働課</span>&lt;/b&gt;
    """
    s = "" if _is_missing(text) else str(text)
    out, last = [], 0
    for m in _JAPANESE.finditer(s):
        out += [esc(s[last : m.start()]), f'<span lang="ja">{esc(m.group())}</span>']
        last = m.end()
    out.append(esc(s[last:]))
    return Html("".join(out))


def caption_html(kind: str, text: Any) -> Html:
    """Caption content with a number placeholder that rendering fills (図1 / Table 1).

    Examples
    --------
    >>> print(caption_html("table", "KPI"))
    <span class="kpi-num" data-kind="table"></span>KPI
    """
    if kind not in ("figure", "table"):
        raise ValueError(f"caption kind must be 'figure' or 'table', not {kind!r}")
    return Html(f'<span class="kpi-num" data-kind="{kind}"></span>{esc(text)}')


def figure(img: Html, caption: Any) -> Html:
    """A ``<figure>`` with a numbered caption around already-built image HTML."""
    return Html(f"<figure>{img}<figcaption>{caption_html('figure', caption)}</figcaption></figure>")


def paragraph(*parts: Any) -> Html:
    """An escaped paragraph; parts are joined by spaces."""
    return Html("<p>" + esc(" ".join(str(p) for p in parts if p is not None)) + "</p>")


def bullet_list(items: Iterable[Any], css_class: str = "") -> Html:
    """An escaped ``<ul>``; items that are :class:`Html` are kept as built."""
    cls = f' class="{esc(css_class)}"' if css_class else ""
    lis = "".join(f"<li>{i if isinstance(i, Html) else esc(i)}</li>" for i in items)
    return Html(f"<ul{cls}>{lis}</ul>")


def definition_list(pairs: Iterable[tuple[Any, Any]]) -> Html:
    """A two-column description of a record (term → value), escaped."""
    rows = "".join(
        f"<tr><th>{k if isinstance(k, Html) else esc(k)}</th>"
        f"<td>{v if isinstance(v, Html) else esc(v)}</td></tr>"
        for k, v in pairs
    )
    return Html(f'<table class="kpi-record">{rows}</table>')


def keep_together(*parts: str) -> Html:
    """Parts that print on one page (a heading with its short table, a figure with its text)."""
    return Html(f'<div class="kpi-keep">{concat(*parts)}</div>')


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
    numeric: Iterable[str] = (),
    css_class: str = "",
    language: str = "ja",
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
    caption
        Caption text; it gets a number when the report is rendered (表1 / Table 1).
    numeric
        Columns to right-align (numbers); their headers too.
    css_class
        An extra class on the ``<table>`` (layout hints in the report stylesheet).
    language
        The report's language; in an English report, Japanese kept as written in a cell (a
        sub-project's name, a department) is marked ``lang="ja"`` (:func:`mark_japanese`).

    Headers and cells that are :class:`Html` (already escaped) are kept as they are.

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
    right = set(numeric)

    def cls(col: Any) -> str:
        return ' class="num"' if col in right else ""

    head = "".join(
        f"<th{cls(c)}>{h if isinstance(h, Html) else esc(h)}</th>" for c, h in columns.items()
    )
    body = []
    # Column by column: a row Series (iterrows) would coerce Html cells to plain str.
    values = {col: df[col].tolist() for col in columns}
    for i in range(len(df)):
        cells = []
        for col in columns:
            value = values[col][i]
            text = (
                na_rep if _is_missing(value) else (formats[col](value) if col in formats else value)
            )
            if _is_missing(text):
                text = na_rep
            if not isinstance(text, Html):
                text = mark_japanese(text) if language == "en" else esc(text)
            cells.append(f"<td{cls(col)}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{caption_html('table', caption)}</caption>" if caption else ""
    extra = f" {esc(css_class)}" if css_class else ""
    return Html(
        f'<table class="kpi-table{extra}">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def html_column(cells: Iterable[Html], index: Any) -> pd.Series:
    """A column of :class:`Html` cells for :func:`table`.

    pandas ≥ 3 stores a list of strings as its string dtype, which drops the ``Html`` type (and
    :func:`table` would escape the markup again); an ``object`` Series keeps it.
    """
    return pd.Series(list(cells), index=index, dtype=object)


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


def number(value: Any, unit: str = "", language: str = "ja") -> str:
    """A KPI value as the sheets print it: thousands separators, ▲ for negatives; in English
    a minus sign and the unit after a space.

    Examples
    --------
    >>> number(-468, "人"), number(-468, "persons", "en"), number(1341.5, "", "en")
    ('▲468人', '−468 persons', '1,341.5')
    """
    if _is_missing(value):
        return ""
    v = float(value)
    text = f"{abs(v):,.0f}" if v.is_integer() else f"{abs(v):,.2f}".rstrip("0").rstrip(".")
    if language == "en":
        return ("−" if v < 0 else "") + text + (f" {unit}" if unit else "")
    return ("▲" if v < 0 else "") + text + unit
