"""Sections of the cross-programme panel report; each returns escaped HTML.

They present what :mod:`kpianalysis.analysis.panel` computed. Every data-derived string (a
programme's name, a municipality, a grant type) passes through
:mod:`kpianalysis.report.present`. A panel with one programme evaluated in its year says so
above its headline: its "shares" are one programme's figures, not a cross-programme statistic.
Grant types are shown by national category (:func:`kpianalysis.analysis.panel.grant_category`)
with the printed label beside it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from kpianalysis.analysis.panel import GRANT_CATEGORIES, PanelHeadline
from kpianalysis.analysis.progress import OUTCOME_LABELS
from kpianalysis.report import present as P
from kpianalysis.report.embed import figure_html
from kpianalysis.report.labels import (
    ASSESSMENT_METHODS,
    fiscal_year_label,
    grant_type_text,
    percent_text,
)
from kpianalysis.report.registry import report_title
from kpianalysis.words import counted

__all__ = [
    "ASSESSMENT_LABELS",
    "KIND_LABELS",
    "distribution_chart",
    "distribution_view",
    "panel_headline_view",
    "panel_methods",
    "panel_title",
    "programmes_view",
    "progress_classes_view",
]

#: KPI kinds (``indicators.csv`` ``kind``) → (Japanese, English).
KIND_LABELS: dict[str, tuple[str, str]] = {
    "cumulative": ("累計", "cumulative"),
    "flow": ("フロー（年間の量）", "flow (per year)"),
    "average": ("平均", "average"),
    "stock": ("ストック（時点の量）", "stock (at a point in time)"),
}

#: Multi-year assessments (``analysis.panel.ASSESSMENTS`` keys) → (Japanese, English): the
#: names every report gives them (``labels.ASSESSMENT_METHODS``).
ASSESSMENT_LABELS: dict[str, tuple[str, str]] = {
    key: (m.ja, m.en[:1].upper() + m.en[1:]) for key, m in ASSESSMENT_METHODS.items()
}


#: Up to this many KPIs the distribution figure draws each as a point (beyond, boxes only).
POINTS_SHOWN = 400


def _kind(code: Any, language: str) -> str:
    ja, en = KIND_LABELS.get(str(code), (str(code), str(code)))
    return P.pick(ja, en, language)


def _grant(category: Any, language: str) -> str:
    """A national grant category in the report's language ("" → not stated)."""
    text = "" if category is None or pd.isna(category) else str(category)
    if not text:
        return P.pick("記載なし", "not stated", language)
    return P.pick(text, GRANT_CATEGORIES.get(text, text), language)


def _grant_with_label(category: Any, printed: Any, language: str) -> str:
    """The category, with the grant type as printed beside it when that reads otherwise (in
    English the printed type's English name where known; :func:`P.table` marks Japanese kept
    as written ``lang="ja"``)."""
    shown = _grant(category, language)
    text = "" if printed is None or pd.isna(printed) else str(printed).strip()
    if not text or text == category:
        return shown
    if language == "ja":
        return f"{shown}（{text}）"
    return f"{shown} ({grant_type_text(text, language)})"


def _one_programme_note(n_evaluated: int, language: str) -> str | None:
    # The caveat follows the programmes *evaluated* in the year: two in the panel of which one
    # has an actual still give one programme's figures.
    if n_evaluated == 1:
        return P.pick(
            "注意: この年度に評価できる事業は1事業だけです。以下の割合は1事業の値であり、"
            "事業横断（全国）の統計ではありません。",
            "Note: a single programme can be evaluated for this fiscal year. The shares below "
            "are that one programme's figures, not a cross-programme (national) statistic.",
            language,
        )
    if n_evaluated == 0:
        return P.pick(
            "この年度に評価できる事業はありません。",
            "No programme can be evaluated for this fiscal year.",
            language,
        )
    return None


def panel_title(programmes: pd.DataFrame, fiscal_year: int, language: str = "ja") -> P.Html:
    """Title block: report name, fiscal year and how many programmes the panel holds.

    Examples
    --------
    >>> html = panel_title(pd.DataFrame({"programme_id": ["a"]}), 2023)
    >>> "1事業" in html and "<h1>" in html
    True
    >>> "<h1>Cross-programme summary — FY2023</h1>" in panel_title(
    ...     pd.DataFrame({"programme_id": ["a"]}), 2023, "en")
    True
    """
    n = len(programmes)
    title = P.pick(
        f"{report_title('panel', 'ja')} — {fiscal_year_label(fiscal_year)}",
        f"{report_title('panel', 'en')} — FY{fiscal_year}",
        language,
    )
    parts = [
        P.Html(P.STYLE),
        P.heading(title, 1),
        P.paragraph(
            P.pick(
                f"{n}事業（計画期間に{fiscal_year}年度を含む事業と、{fiscal_year}年度の実績値が"
                f"ある事業）。{fiscal_year}年度までのデータのみを用いています。",
                f"{counted(n, 'programme')}: those whose plan period includes FY{fiscal_year} "
                f"or that report an actual for it. Only data of fiscal years up to {fiscal_year} "
                "are used.",
                language,
            )
        ),
        # Filled with the sections' headings when the report is rendered.
        P.Html('<nav class="kpi-toc"></nav>'),
    ]
    return P.concat(*parts)


def panel_headline_view(headline: PanelHeadline, language: str = "ja") -> P.Html:
    """The headline: programmes and KPIs evaluated, and the shares the Cabinet Office publishes.

    Examples
    --------
    >>> h = PanelHeadline(2023, 1, 1, 1, 1.0, 0, 0.0, 4, 4, 2, 0, 0.5)
    >>> "4指標中2指標" in panel_headline_view(h)
    True
    """
    h = headline
    fy = h.fiscal_year
    pairs = [
        (
            P.pick("評価した事業", "Programmes evaluated", language),
            P.pick(
                f"{h.n_programmes_evaluated}事業（全{h.n_programmes}事業中）",
                f"{h.n_programmes_evaluated} (of {h.n_programmes})",
                language,
            ),
        ),
        (
            P.pick("評価したKPI", "KPIs evaluated", language),
            P.pick(
                f"{h.n_kpis_evaluated}指標（実績値なし {h.n_kpis_without_actual}指標は別掲）",
                f"{h.n_kpis_evaluated} ({h.n_kpis_without_actual} without an actual, "
                "counted separately)",
                language,
            ),
        ),
        (
            P.pick(
                "KPIの目標を1つ以上達成した事業の割合",
                "Share of programmes that achieved at least one KPI target",
                language,
            ),
            f"{h.n_programmes_any_achieved} / {h.n_programmes_evaluated} "
            f"({percent_text(h.share_programmes_any_achieved, language) or '-'})",
        ),
        (
            P.pick("目標を達成したKPIの割合", "Share of KPIs that reached their target", language),
            f"{h.n_kpis_achieved} / {h.n_kpis_evaluated} "
            f"({percent_text(h.share_kpis_achieved, language) or '-'})",
        ),
        (
            P.pick(
                "評価したKPIをすべて達成した事業の割合",
                "Share of programmes that achieved every evaluated KPI",
                language,
            ),
            f"{h.n_programmes_all_achieved} / {h.n_programmes_evaluated} "
            f"({percent_text(h.share_programmes_all_achieved, language) or '-'})",
        ),
    ]
    kpi_share = percent_text(h.share_kpis_achieved, language) or "-"
    sentence = P.pick(
        f"{fy}年度: {h.n_programmes_evaluated}事業の評価した{h.n_kpis_evaluated}指標中"
        f"{h.n_kpis_achieved}指標が目標を達成しました（達成割合 {kpi_share}）。"
        f"KPIの目標を1つ以上達成した事業は{h.n_programmes_evaluated}事業中"
        f"{h.n_programmes_any_achieved}事業です。",
        f"FY{fy}: {h.n_kpis_achieved} of {counted(h.n_kpis_evaluated, 'evaluated KPI')} of "
        f"{counted(h.n_programmes_evaluated, 'programme')} reached their target "
        f"({kpi_share}); {h.n_programmes_any_achieved} of "
        f"{counted(h.n_programmes_evaluated, 'programme')} achieved at least one KPI target.",
        language,
    )
    parts: list[str] = [P.paragraph(sentence)]
    if h.n_kpis_without_actual:
        parts.append(
            P.paragraph(
                P.pick(
                    f"実績値のない{h.n_kpis_without_actual}指標は割合の分母に含めていません。",
                    f"{counted(h.n_kpis_without_actual, 'KPI')} without an actual "
                    f"{'is' if h.n_kpis_without_actual == 1 else 'are'} not in any denominator.",
                    language,
                )
            )
        )
    note = _one_programme_note(h.n_programmes_evaluated, language)
    if note:
        parts.insert(0, P.Html('<p class="kpi-note"><strong>' + P.esc(note) + "</strong></p>"))
    parts.append(P.definition_list(pairs))
    return P.concat(*parts)


#: Fewest programmes whose rates a panel summarises by quartiles; below, the rates are listed.
QUARTILES_FROM = 5


def distribution_view(distribution: pd.DataFrame, by: str, language: str = "ja") -> P.Html:
    """The summary of :func:`kpianalysis.analysis.panel.achievement_distribution` as a table."""
    d = distribution.copy()
    if by == "kind":
        d["group"] = [_kind(k, language) for k in d[by]]
        head = P.pick("KPIの種類", "KPI kind", language)
    elif by == "grant_category_ja":
        d["group"] = [_grant(g, language) for g in d[by]]
        head = P.label("grant_type", language)
    else:
        d["group"] = [grant_type_text(g, language) for g in d[by]]
        head = P.label("grant_type", language)
    d["achieved_s"] = [
        f"{int(a)} / {int(n)}"
        + (f" ({percent_text(s, language)})" if percent_text(s, language) else "")
        for a, n, s in zip(d["n_achieved"], d["n_evaluated"], d["share_achieved"], strict=True)
    ]
    # Quartiles of fewer than five programmes' rates describe nothing: list the rates instead.
    few = d["n_programmes"] < QUARTILES_FROM if "n_programmes" in d else pd.Series(False, d.index)
    for col in ("min", "q1", "median", "q3", "max"):
        d[f"{col}_s"] = [
            "" if f else percent_text(v, language) for v, f in zip(d[col], few, strict=True)
        ]
    d["values_s"] = [
        ", ".join(percent_text(v, language) for v in rates) if f else ""
        for rates, f in zip(d.get("rates", [()] * len(d)), few, strict=True)
    ]
    cols = {
        "group": head,
        "n_kpis": P.pick("指標数", "KPIs", language),
        "achieved_s": P.pick("達成 / 評価", "Achieved / evaluated", language),
        "n_rates": P.pick("達成率のある指標", "KPIs with a rate", language),
        "min_s": P.pick("最小", "min", language),
        "q1_s": P.pick("第1四分位", "Q1", language),
        "median_s": P.pick("中央値", "median", language),
        "q3_s": P.pick("第3四分位", "Q3", language),
        "max_s": P.pick("最大", "max", language),
    }
    if few.any():
        cols["values_s"] = P.pick("達成率（各KPI）", "Rates (each KPI)", language)
    if few.all():  # no group has enough programmes for quartiles
        for col in ("min_s", "q1_s", "median_s", "q3_s", "max_s"):
            del cols[col]
    caption = (
        P.pick("KPIの種類別の達成率", "Achievement rates by KPI kind", language)
        if by == "kind"
        else P.pick("交付金の種類別の達成率", "Achievement rates by grant type", language)
    )
    numeric = ("n_kpis", "n_rates", "min_s", "q1_s", "median_s", "q3_s", "max_s")
    return P.table(d, cols, na_rep="", caption=caption, numeric=numeric, language=language)


def distribution_chart(kpis: pd.DataFrame, fiscal_year: int, language: str = "ja") -> P.Html:
    """Box (and point) plot of achievement rates by KPI kind and by grant type, embedded."""
    from kpianalysis.report.figures import distribution_figure

    data = kpis.assign(
        kind_label=[_kind(k, language) for k in kpis["kind"]],
        grant_label=[_grant(g, language) for g in kpis["grant_category_ja"]],
    )
    fig = distribution_figure(
        data,
        max_points=POINTS_SHOWN,
        box_from=QUARTILES_FROM,
        count="programme_id",
        xlabel=P.pick("達成率", "Achievement rate", language),
        groups=[
            ("kind_label", P.pick("KPIの種類別", "By KPI kind", language)),
            ("grant_label", P.pick("交付金の種類別", "By grant type", language)),
        ],
        language=language,
        title=P.pick(
            f"{fiscal_year}年度 達成率の分布", f"FY{fiscal_year} achievement rates", language
        ),
    )
    caption = P.pick(
        "KPIの種類別・交付金の種類別の達成率（破線は目標の100%）",
        "Achievement rates by KPI kind and by grant type (dashed line: the target, 100 %)",
        language,
    )
    if data["achievement_rate"].notna().sum() <= POINTS_SHOWN:
        caption += P.pick(
            "。点は各KPI（青の塗りつぶし: 達成、橙の白抜き: 未達成）",
            "; a dot per KPI (filled blue: achieved, open orange: not achieved)",
            language,
        )
    return figure_html(fig, P.label("achievement_rate", language), caption)


def progress_classes_view(classes: pd.DataFrame, language: str = "ja") -> P.Html:
    """Counts of KPIs and programmes per class of each multi-year assessment."""
    c = classes.copy()
    c["assessment_s"] = [
        P.pick(*ASSESSMENT_LABELS.get(a, (a, a)), language) for a in c["assessment"]
    ]
    c["outcome_s"] = [P.pick(*OUTCOME_LABELS.get(o, (o, o)), language) for o in c["outcome"]]
    c["share_s"] = [percent_text(v, language) for v in c["share_kpis"]]
    cols = {
        "assessment_s": P.pick("評価方法", "Assessment", language),
        "outcome_s": P.pick("分類", "Class", language),
        "n_kpis": P.pick("指標数", "KPIs", language),
        "share_s": P.pick("指標の割合", "Share of KPIs", language),
        "n_programmes": P.pick("該当する事業数", "Programmes with such a KPI", language),
    }
    caption = P.pick(
        "評価方法ごとの進捗分類の指標数", "KPIs per progress class, by assessment", language
    )
    return P.table(
        c,
        cols,
        na_rep="",
        caption=caption,
        numeric=("n_kpis", "share_s", "n_programmes"),
        language=language,
    )


def programmes_view(programmes: pd.DataFrame, language: str = "ja") -> P.Html:
    """Programmes sorted by the share of their evaluated KPIs achieved (highest first)."""
    p = programmes.copy()
    p["programme"] = [
        P.pick(r["name_ja"], r.get("name_en", ""), language) for r in p.to_dict("records")
    ]
    p["municipality"] = [
        P.pick(r.get("municipality_ja", ""), r.get("municipality_en", ""), language)
        for r in p.to_dict("records")
    ]
    p["grant_s"] = [
        _grant_with_label(c, g, language)
        for c, g in zip(p["grant_category_ja"], p["grant_type_ja"], strict=True)
    ]
    p["achieved_s"] = [
        f"{int(a)} / {int(n)}" for a, n in zip(p["n_achieved"], p["n_evaluated"], strict=True)
    ]
    p["share_s"] = [percent_text(v, language) for v in p["share_achieved"]]
    cols = {
        "programme_id": "ID",
        "municipality": P.label("municipality", language),
        "programme": P.label("programme", language),
        "grant_s": P.label("grant_type", language),
        "achieved_s": P.pick("達成 / 評価したKPI", "Achieved / evaluated KPIs", language),
        "share_s": P.pick("達成割合", "Share achieved", language),
        "n_without_actual": P.pick("実績値なし", "Without an actual", language),
    }
    caption = P.pick(
        "事業別の達成割合（達成割合の高い順）",
        "Programmes by share of evaluated KPIs achieved (highest first)",
        language,
    )
    return P.table(
        p,
        cols,
        na_rep="",
        caption=caption,
        numeric=("achieved_s", "share_s", "n_without_actual"),
        language=language,
    )


def panel_methods(language: str = "ja") -> P.Html:
    """How the panel's counts and shares are defined."""
    items = [
        P.pick(
            "評価したKPI = 当該年度の目標値と実績値がそろい、達成・未達成が判定できるKPI。"
            "割合の分母はすべて評価したKPI（または評価したKPIを1つ以上もつ事業）です。",
            "An evaluated KPI has a target and an actual for the year, so achievement is known. "
            "Every share is over evaluated KPIs (or over programmes with at least one).",
            language,
        ),
        P.pick(
            "内閣府が地方創生推進交付金について公表する2つの割合（KPIの目標を1つ以上達成した事業の割合、"
            "目標を達成したKPIの割合）に、すべてのKPIを達成した事業の割合を加えています。",
            "The two shares the Cabinet Office publishes for the 地方創生推進交付金 (programmes "
            "that achieved at least one KPI target; KPIs that reached their target), plus the "
            "share of programmes that achieved every evaluated KPI.",
            language,
        ),
        P.pick(
            "対象の事業: 計画期間にその年度を含む事業と、その年度の実績値がある事業。"
            "計画期間の前後で実績値のない事業は数えません（その年度はその事業の年度ではないため）。",
            "Programmes in a year's panel: those whose plan period includes the year, and those "
            "that report an actual for it. A programme before or after its plan with nothing "
            "reported is not counted (the year is not one of its years).",
            language,
        ),
        P.pick(
            "交付金の種類は国の区分（先行型、加速化、推進、拠点整備、デジタル田園都市国家構想、"
            "新しい地方経済・生活環境創生）にまとめ、シートの記載を括弧内に残しています。"
            "デジタル田園都市国家構想交付金の地方創生推進タイプ・地方創生拠点整備タイプは推進・拠点整備"
            "に含めます。どの区分にも当たらない記載はそのまま1つの種類として扱います。",
            "Grant types are grouped by national category (pioneering, acceleration, "
            "promotion, facilities, digital implementation, new regional economy), with the "
            "sheet's wording kept in brackets; the Digital Garden City grant's promotion and "
            "facilities types count as promotion and facilities. A label matching no category "
            "stays a type of its own.",
            language,
        ),
        P.pick(
            "達成率の分布: 四分位は線形補間で、5事業以上の群にのみ示します（表と図の箱）。"
            "それより少ない群は各KPIの値を示します。"
            "図では −100%〜300% の範囲外の値を端に表示します。",
            "Distribution of achievement rates: quartiles by linear interpolation, for groups of "
            "five programmes or more only (tables and the figure's boxes); a smaller group's "
            "rates are listed. The figure draws values outside −100 % to 300 % at the edge.",
            language,
        ),
    ]
    if language == "en":  # the grant's Japanese name, kept as written, is marked lang="ja"
        return P.bullet_list(P.mark_japanese(i) for i in items)
    return P.bullet_list(items)
