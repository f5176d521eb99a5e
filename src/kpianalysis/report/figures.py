"""seaborn figures with a Japanese font.

Functions take a tidy DataFrame plus column names, like seaborn's, and draw into what they are
given, like seaborn's ``ax=``: a one-axes figure takes ``ax=`` and returns the Axes; a figure of
small multiples takes ``fig=`` (a ``Figure`` or a ``SubFigure``, so it can be one part of a larger
layout) and returns it. Without one they make their own, sized for an A4 page. Nothing here reads
files or decides what a number means.

The theme is set once, when this module is imported (:func:`use_japanese_theme`); a figure
function never resets it. A function that makes its own figure draws it at its own scale
(seaborn's ``paper`` or ``notebook`` plotting context) inside a ``with`` block, so the global
settings are left as they were; one given an ``ax`` or a ``fig`` follows the caller's settings.

Two traps handled here, once:

* ``sns.set_theme()`` resets the font family, so a theme set *after* ``import matplotlib_fontja``
  silently loses the Japanese glyphs (tofu boxes). :func:`use_japanese_theme` sets the theme and
  then the font.
* Labels come from data files and are hostile until proven otherwise: matplotlib would parse
  ``$...$`` in them as mathtext (and raise on unbalanced ``$``), so math parsing is switched off.
"""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg", force=False)

import matplotlib.pyplot as plt
import matplotlib_fontja
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import FigureBase
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

__all__ = [
    "ACHIEVED_COLOUR",
    "CI_COLOUR",
    "FIGURE_WORDS",
    "JAPANESE_FONT",
    "JITTER_SEED",
    "MISSED_COLOUR",
    "PI_COLOUR",
    "UNDEFINED_COLOUR",
    "achievement_figure",
    "distribution_figure",
    "in_panel_units",
    "plain_axis",
    "series_figure",
    "trend_figure",
    "use_japanese_theme",
    "wrap_label",
]

#: Font bundled by matplotlib-fontja (IPAexGothic, IPA Font License): has every JIS X 0208 glyph.
JAPANESE_FONT = "IPAexGothic"

ACHIEVED_COLOUR = "#2b7bba"
MISSED_COLOUR = "#e07b39"
UNDEFINED_COLOUR = "#9e9e9e"


#: Figure text per language.
FIGURE_WORDS: dict[str, dict[str, str]] = {
    "ja": {
        "achievement_rate": "達成率",
        "achieved": "目標達成",
        "missed": "未達成",
        "undefined": "算出不能",
        "met_no_rate": "目標を達成（達成率は算出不能）",
        "reference": "目標（100%）",
        "na": "算出不能",
        "baseline": "当初値",
        "actual": "実績値",
        "target": "目標値",
        "fiscal_year": "年度",
        "target_plan": "目標値（計画）",
        "trend": "傾向",
        "ci": "95%信頼区間（平均）",
        "pi": "95%予測区間（新たな値）",
        "clipped_bands": "区間の一部は図の外",
        "after_plan": "参考",
        "clipped_points": "{lo}%〜{hi}%の範囲外は端に表示",
    },
    "en": {
        "achievement_rate": "Achievement rate",
        "achieved": "target reached",
        "missed": "not reached",
        "undefined": "not computed",
        "met_no_rate": "target met (no rate can be computed)",
        "reference": "target (100 %)",
        "na": "n/a",
        "baseline": "baseline",
        "actual": "actual",
        "target": "target",
        "fiscal_year": "fiscal year",
        "target_plan": "target (plan)",
        "trend": "trend",
        "ci": "95% CI (mean)",
        "pi": "95% PI (new value)",
        "clipped_bands": "bands run off the axes",
        "after_plan": "reference",
        "clipped_points": "outside {lo}%–{hi}% drawn at the edge",
    },
}


def use_japanese_theme(*, style: str = "whitegrid", context: str = "notebook") -> None:
    """Apply a seaborn theme whose font has Japanese glyphs.

    Examples
    --------
    >>> use_japanese_theme()
    >>> import matplotlib
    >>> matplotlib.rcParams["font.family"]
    ['IPAexGothic']
    """
    sns.set_theme(
        style=style,
        context=context,
        font=JAPANESE_FONT,
        rc={
            # IPAexGothic has U+2212, but the ASCII hyphen keeps labels identical in every font.
            "axes.unicode_minus": False,
            "text.parse_math": False,
            "figure.dpi": 100,
            "savefig.dpi": 100,
            # Stable output: no timestamp or software-version metadata in saved images.
            "svg.hashsalt": "kpianalysis",
        },
    )
    matplotlib_fontja.japanize()


# Once, for every figure drawn in this process (a notebook's kernel, the test session).
use_japanese_theme()


@contextlib.contextmanager
def _own_scale(context: str, given: object) -> Iterator[None]:
    """seaborn's plotting ``context`` while a figure of our own is drawn, restored afterwards;
    nothing when the caller gave the axes or figure (their settings apply)."""
    if given is not None:
        yield
        return
    with sns.plotting_context(context):
        yield


def plain_axis(axis: Any) -> None:
    """Tick labels as plain numbers with thousands separators, never an offset or a power of
    ten ("1e6" above the axis beside a unit written as 万トン reads as a different unit).

    Examples
    --------
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0, 2_500_000])
    >>> plain_axis(ax.yaxis)
    >>> ax.yaxis.get_major_formatter()(2_000_000, 0)
    '2,000,000'
    >>> plt.close(fig)
    """
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.10g}"))


def in_panel_units(
    frame: pd.DataFrame, factors: Mapping[str, float], columns: Iterable[str], panel: str = "label"
) -> pd.DataFrame:
    """A copy of ``frame`` with ``columns`` divided, panel by panel, by ``factors[panel]`` (1
    where none is given): values held in 人 drawn in the 千人 the sheet writes.

    Examples
    --------
    >>> df = pd.DataFrame({"label": ["a", "b"], "actual": [1_262_000.0, 5.0]})
    >>> in_panel_units(df, {"a": 1000.0}, ["actual"])["actual"].tolist()
    [1262.0, 5.0]
    """
    out = frame.copy()
    by = out[panel].astype(str).map(lambda name: factors.get(name, 1.0)).astype(float)
    for column in columns:
        if column in out.columns:
            out[column] = out[column].astype(float) / by.to_numpy()
    return out


def wrap_label(text: object, width: int = 24, max_lines: int = 3) -> str:
    """Wrap a long (Japanese) label onto a few lines so the layout engine can fit it.

    Japanese has no spaces, so this breaks by character count; longer text is cut with "…".

    Examples
    --------
    >>> wrap_label("あいうえおかきくけこ", width=4).splitlines()
    ['あいうえ', 'おかきく', 'けこ']
    >>> wrap_label("あいうえおかきくけこさしす", width=4, max_lines=2).splitlines()
    ['あいうえ', 'おかき…']
    """
    lines = textwrap.wrap(str(text), width=width, break_long_words=True) or [""]
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], lines[max_lines - 1][: width - 1] + "…"]
    return "\n".join(lines)


def achievement_figure(
    data: pd.DataFrame,
    *,
    rate: str = "achievement_rate",
    label: str = "label",
    achieved: str = "achieved",
    reason: str | None = None,
    reference: float = 1.0,
    title: str | None = None,
    xlabel: str | None = None,
    value_labels: Sequence[str] | None = None,
    language: str = "ja",
    width: float = 7.0,
    ax: Axes | None = None,
) -> Axes:
    """Horizontal bars of each KPI's rate against the reference line (100 %).

    Parameters
    ----------
    data
        One row per KPI.
    rate, label, achieved
        Columns: the rate (1.0 = 100 %), the KPI's display label and whether it was achieved.
    reason
        Optional column with the reason a rate is missing; shown in place of the bar.
    reference
        Where the reference line is drawn (the target, 100 %).
    value_labels
        Text printed at the end of each bar (default: the rate as a percentage, one decimal).
    language
        ``"ja"`` or ``"en"``: axis label, legend and the reference line's label.
    width
        Width in inches of the figure made when no ``ax`` is given (fits an A4 page at 7).
    ax
        Axes to draw into; the legend then goes inside them. Without one, a figure of its own
        (``width`` wide, its height by the number of KPIs) with the legend below the axes.

    Examples
    --------
    >>> df = pd.DataFrame({"label": ["① a", "② b"], "achievement_rate": [0.5, 2.0],
    ...                    "achieved": [False, True]})
    >>> ax = achievement_figure(df)
    >>> [float(round(p.get_width(), 2)) for p in ax.patches]
    [50.0, 200.0]
    """
    with _own_scale("paper", ax):
        return _achievement_axes(
            data, rate, label, achieved, reason, reference, title, xlabel, value_labels,
            language, width, ax,
        )  # fmt: skip


def _achievement_axes(
    data: pd.DataFrame,
    rate: str,
    label: str,
    achieved: str,
    reason: str | None,
    reference: float,
    title: str | None,
    xlabel: str | None,
    value_labels: Sequence[str] | None,
    language: str,
    width: float,
    ax: Axes | None,
) -> Axes:
    values = pd.to_numeric(data[rate], errors="coerce").to_numpy(dtype=float) * 100
    labels = [wrap_label(x) for x in data[label]]
    flags = data[achieved].astype("boolean").fillna(False).to_numpy(dtype=bool)
    # A target met without a rate (target 0 where less is better: 0 of 0) is met: the figure
    # says so as the summary does, not "not computed" in grey.
    met_no_rate = np.isnan(values) & flags
    colours = [
        UNDEFINED_COLOUR if np.isnan(v) and not f else (ACHIEVED_COLOUR if f else MISSED_COLOUR)
        for v, f in zip(values, flags, strict=True)
    ]
    words = FIGURE_WORDS[language]
    # The legend sits below the axes: with one or two KPIs a height by bars alone left it no
    # room, and it was drawn over the bar.
    height = max(0.6 + 0.22 * len(labels), 1.45)
    own = ax is None
    if ax is None:
        _, ax = plt.subplots(figsize=(width, height), layout="constrained")
    y = np.arange(len(labels))
    ax.barh(y, np.nan_to_num(values, nan=0.0), color=colours, height=0.6)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.axvline(reference * 100, color="#333333", linestyle="--", linewidth=1)
    ax.set_xlabel((xlabel or words["achievement_rate"]) + " (%)")
    handles = [
        Patch(color=ACHIEVED_COLOUR, label=words["achieved"]),
        Patch(color=MISSED_COLOUR, label=words["missed"]),
        Line2D([], [], color="#333333", linestyle="--", linewidth=1, label=words["reference"]),
    ]
    if (np.isnan(values) & ~flags).any():
        handles.insert(2, Patch(color=UNDEFINED_COLOUR, label=words["undefined"]))
    if own:
        ax.figure.legend(
            handles=handles, loc="outside lower center", ncols=len(handles), frameon=False
        )
    else:
        ax.legend(handles=handles, loc="best", frameon=False)
    finite = values[np.isfinite(values)]
    right = max(reference * 100, float(finite.max()) if finite.size else 0.0) * 1.18
    left = min(0.0, float(finite.min()) * 1.18 if finite.size else 0.0)
    ax.set_xlim(left, right)
    texts = (
        list(value_labels)
        if value_labels is not None
        else ["" if np.isnan(v) else f"{v:.1f}%" for v in values]
    )
    reasons = [str(r) for r in data[reason]] if reason is not None else [""] * len(labels)
    for i, (v, text) in enumerate(zip(values, texts, strict=True)):
        if met_no_rate[i]:
            ax.text(
                0, i, f"  {words['met_no_rate']}", va="center", ha="left", color=ACHIEVED_COLOUR
            )
        elif np.isnan(v):
            ax.text(0, i, f"  {words['na']} {reasons[i]}", va="center", ha="left", color="#555555")
        else:
            ax.text(max(v, 0), i, f" {text}", va="center", ha="left")
    if title:
        ax.set_title(title)
    return ax


def _panel_grid(
    n_panels: int,
    ncols: int,
    size: Callable[[int, int], tuple[float, float]],
    fig: FigureBase | None = None,
) -> tuple[FigureBase, np.ndarray]:
    """``n_panels`` small multiples, ``ncols`` a row (fewer when there are fewer panels), in
    ``fig`` or in a new figure sized ``size(nrows, ncols)`` inches; the unused cells of the last
    row are hidden."""
    ncols = max(1, min(ncols, n_panels))
    nrows = int(np.ceil(n_panels / ncols))
    if fig is None:
        fig = plt.figure(figsize=size(nrows, ncols), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat[n_panels:]:
        ax.set_visible(False)
    return fig, axes


def series_figure(
    observations: pd.DataFrame,
    baselines: pd.DataFrame,
    *,
    panel: str = "label",
    x: str = "fiscal_year",
    actual: str = "actual",
    target: str = "target",
    baseline_year: str = "baseline_year",
    baseline: str = "baseline",
    units: Mapping[str, str] | None = None,
    language: str = "ja",
    width: float = 7.0,
    ncols: int = 4,
    fig: FigureBase | None = None,
) -> FigureBase:
    """Small multiples, one per KPI: baseline, actuals and the plan's targets over the years.

    Parameters
    ----------
    observations
        Long frame: ``panel``, ``x``, ``actual`` (missing where not yet known), ``target``.
    baselines
        One row per panel: ``panel``, ``baseline_year``, ``baseline`` (missing where the sheet
        prints "-").
    units
        Unit per panel, for the y-axis label.
    fig
        Figure or sub-figure to draw the panels into; without one, a figure ``width`` inches
        wide and 1.6 in a row of panels.

    Examples
    --------
    >>> obs = pd.DataFrame({"label": ["①"] * 3, "fiscal_year": [2021, 2022, 2023],
    ...                     "actual": [4, 7, 9], "target": [6, 8, 13]})
    >>> base = pd.DataFrame({"label": ["①"], "baseline_year": [2020], "baseline": [4]})
    >>> ax = series_figure(obs, base).axes[0]
    >>> [[int(x) for x in line.get_xdata()] for line in ax.get_lines()][:2]
    [[2020], [2020, 2021, 2022, 2023]]
    """
    with _own_scale("paper", fig):
        names = list(dict.fromkeys(str(p) for p in observations[panel]))
        fig, axes = _panel_grid(len(names), ncols, lambda nrows, _: (width, 0.3 + 1.6 * nrows), fig)
        base = baselines.assign(**{panel: baselines[panel].astype(str)}).set_index(panel)
        for ax, name in zip(axes.flat, names, strict=False):
            obs = observations[observations[panel].astype(str) == name].sort_values(x)
            b_year = base[baseline_year].get(name, np.nan) if name in base.index else np.nan
            b_val = base[baseline].get(name, np.nan) if name in base.index else np.nan
            b_val = pd.to_numeric(pd.Series([b_val]), errors="coerce").iloc[0]
            obs = obs.rename(columns={x: "_x", actual: "_actual", target: "_target"})
            unit = units.get(name, "") if units else ""
            _series_panel(ax, name, obs, (b_year, b_val), unit, language)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(
            handles,
            labels,
            loc="outside lower center",
            ncols=len(labels),
            frameon=False,
            fontsize=7.5,
        )
    return fig


def _series_panel(
    ax: Axes,
    name: str,
    obs: pd.DataFrame,
    baseline: tuple[float, float],
    unit: str,
    language: str,
) -> None:
    """One KPI's panel of :func:`series_figure`: ``obs`` has columns ``_x``, ``_actual`` and
    ``_target``; ``baseline`` is (year, value), either missing."""
    words = FIGURE_WORDS[language]
    x, actual, target = "_x", "_actual", "_target"
    b_year, b_val = baseline
    ax.plot(
        [b_year] if pd.notna(b_val) else [],
        [b_val] if pd.notna(b_val) else [],
        marker="s",
        linestyle="none",
        markerfacecolor="white",
        markeredgecolor="#555555",
        markersize=6,
        label=words["baseline"],
        zorder=3,
    )
    xs = obs[x].astype(float).tolist()
    acts = pd.to_numeric(obs[actual], errors="coerce").tolist()
    if pd.notna(b_val) and pd.notna(b_year):
        xs, acts = [float(b_year), *xs], [float(b_val), *acts]
    ax.plot(xs, acts, marker="o", color="#1a1a1a", markersize=4, label=words["actual"])
    ax.plot(
        obs[x],
        pd.to_numeric(obs[target], errors="coerce"),
        marker="D",
        linestyle=":",
        color=MISSED_COLOUR,
        markerfacecolor="none",
        markersize=5,
        label=words["target"],
    )
    years = sorted({int(v) for v in obs[x]} | ({int(b_year)} if pd.notna(b_year) else set()))
    ax.set_xticks(years, [f"{y % 100:02d}" if len(years) > 4 else str(y) for y in years])
    ax.tick_params(labelsize=7)
    # Japanese has no spaces: ~13 full-width characters fit a panel; English ~24 letters on
    # up to four lines (at 26 "④ Registered followers of" ran past the figure's right edge).
    wrap, lines = (13, 3) if language == "ja" else (24, 4)
    ax.set_title(wrap_label(name, width=wrap, max_lines=lines), loc="left", fontsize=7.5)
    ax.set_ylabel(unit, fontsize=7)
    plain_axis(ax.yaxis)
    # Counts start at zero unless the series goes below it (▲ values).
    values = [v for v in [*acts, *pd.to_numeric(obs[target], errors="coerce")] if pd.notna(v)]
    if values and min(values) >= 0:
        ax.set_ylim(bottom=0)


#: A note printed inside a panel: small, grey, on a pale box over the lines and bands (which
#: would cross it) but under the points (which it must not hide).
NOTE_STYLE: dict[str, Any] = {
    "fontsize": 7.5,
    "color": "#555555",
    "zorder": 3.5,
    "bbox": {"facecolor": "white", "alpha": 0.85, "edgecolor": "none", "pad": 1.0},
}

#: Seed of the strip plot's jitter in :func:`distribution_figure` (reproducible pictures).
JITTER_SEED = 20240409

#: Band colours of the trend figure: the prediction band lighter and wider, the confidence band of
#: the mean darker on top of it, so both stay visible (a PI always contains the CI).
PI_COLOUR = "#b9d6ee"
CI_COLOUR = "#5b9bd0"
#: The fitted trend: darker than both bands, so it is told apart from them without colour.
TREND_COLOUR = "#123a5e"


def trend_figure(
    observations: pd.DataFrame,
    predictions: pd.DataFrame,
    *,
    panel: str = "label",
    x: str = "fiscal_year",
    actual: str = "actual",
    target: str = "target",
    mean: str = "mean",
    ci: tuple[str, str] = ("mean_ci_low", "mean_ci_high"),
    pi: tuple[str, str] = ("pi_low", "pi_high"),
    baseline: str = "is_baseline",
    units: Mapping[str, str] | None = None,
    notes: Mapping[str, str] | None = None,
    nonnegative: Mapping[str, bool] | None = None,
    plan_end: Mapping[str, int] | None = None,
    ncols: int = 2,
    language: str = "ja",
    fig: FigureBase | None = None,
) -> FigureBase:
    """One panel per KPI: actuals, the baseline, the plan's targets as a path, the fitted trend with
    its 95 % prediction band (light) under the 95 % confidence band of the mean (dark).

    Parameters
    ----------
    observations
        Long frame: ``panel``, ``x``, ``actual``, ``target`` and optionally ``baseline`` (True on
        the row that is the sheet's baseline, drawn as an open circle).
    predictions
        Long frame: ``panel``, ``x``, ``mean`` and the interval columns (missing where no
        interval is shown); may be empty for a panel without a fit.
    units
        Unit per panel, for the y-axis label.
    notes
        A short text per panel (e.g. why no interval is shown), printed inside it.
    nonnegative
        Panels whose axis never goes below zero (counts, running totals, positive stocks).
    plan_end
        The plan's last year per panel: the years after it are shaded and marked as reference
        (a projection past the plan is not an outlook, issue 17).
    language
        ``"ja"`` or ``"en"``: the legend, axis label and notes of the figure.
    fig
        Figure or sub-figure to draw the panels into; without one, a figure of 6.2 × 3.6 in
        a panel.

    Examples
    --------
    >>> obs = pd.DataFrame({"label": ["①"] * 3, "fiscal_year": [2021, 2022, 2023],
    ...                     "actual": [4, 7, 9], "target": [6, 8, 13]})
    >>> pred = pd.DataFrame({"label": ["①"] * 2, "fiscal_year": [2021, 2024],
    ...                      "mean": [4.17, 11.67], "mean_ci_low": [1, 2], "mean_ci_high": [7, 20],
    ...                      "pi_low": [0, 2.2], "pi_high": [9, 21.1]})
    >>> len(trend_figure(obs, pred).axes)
    1
    """
    cols = {x: "_x", actual: "_actual", target: "_target", mean: "_mean", baseline: "_base"}
    cols |= {ci[0]: "_ci_low", ci[1]: "_ci_high", pi[0]: "_pi_low", pi[1]: "_pi_high"}
    # "paper" type at the A4 text width (186 mm = 7.3 in, two 3.6 in panels): printed at its
    # own size, the smallest text stays at 7.5 pt or more (it was ~5 pt at 12.4 in shrunk).
    # 1.75 in a row with the legend on one line: the trends report prints on two A4 pages.
    with _own_scale("paper", fig):
        names = list(dict.fromkeys(str(p) for p in observations[panel]))
        fig, axes = _panel_grid(
            len(names), ncols, lambda nrows, ncols: (3.6 * ncols, 0.2 + 1.75 * nrows), fig
        )
        legend: dict[str, object] = {}
        for ax, name in zip(axes.flat, names, strict=False):
            obs = observations[observations[panel].astype(str) == name].sort_values(x)
            pred = predictions[predictions[panel].astype(str) == name].sort_values(x)
            _trend_panel(
                ax,
                obs.rename(columns=cols),
                pred.rename(columns=cols),
                legend,
                name=name,
                unit=units.get(name, "") if units else "",
                note=notes.get(name, "") if notes else "",
                nonnegative=bool(nonnegative and nonnegative.get(name)),
                language=language,
            )
            if plan_end and name in plan_end:
                _mark_after_plan(ax, int(plan_end[name]), language)
        # The years' label once a column, under its lowest panel (the panels share the axis).
        for i, ax in enumerate(axes.flat[: len(names)]):
            if i + axes.shape[1] < len(names):
                ax.set_xlabel("")
        if legend:
            keys = [
                k for k in ("actual", "baseline", "target_plan", "trend", "ci", "pi") if k in legend
            ]
            words = FIGURE_WORDS[language]
            fig.legend(
                [legend[k] for k in keys],
                [words[k] for k in keys],
                loc="outside lower center",
                ncols=len(keys),
                frameon=False,
                columnspacing=1.2,
                handlelength=1.8,
            )
    return fig


def _mark_after_plan(ax: Axes, end: int, language: str) -> None:
    """Shade the years after ``end`` (the plan's last year) and mark them as reference."""
    low, high = ax.get_xlim()
    if high <= end + 0.5:
        return
    ax.axvspan(end + 0.5, high, color="#ececec", linewidth=0, zorder=0)
    ax.set_xlim(low, high)
    ax.text(
        (end + 0.5 + high) / 2,
        0.97,
        FIGURE_WORDS[language]["after_plan"],
        transform=ax.get_xaxis_transform(),
        ha="center",
        va="top",
        **NOTE_STYLE,
    )


def _trend_panel(
    ax: Axes,
    obs: pd.DataFrame,
    pred: pd.DataFrame,
    legend: dict[str, object],
    *,
    name: str,
    unit: str,
    note: str,
    nonnegative: bool,
    language: str,
) -> None:
    """One KPI's panel of :func:`trend_figure` (columns renamed to ``_x``, ``_actual``, …);
    adds the artists the figure's legend shows to ``legend``."""
    x, actual, target, mean, baseline = "_x", "_actual", "_target", "_mean", "_base"
    ci, pi = ("_ci_low", "_ci_high"), ("_pi_low", "_pi_high")
    words = FIGURE_WORDS[language]
    if not pred.empty:
        xs = pred[x].to_numpy(dtype=float)
        for (lo, hi), colour, lab in ((pi, PI_COLOUR, "pi"), (ci, CI_COLOUR, "ci")):
            low = pd.to_numeric(pred[lo], errors="coerce").to_numpy(dtype=float)
            high = pd.to_numeric(pred[hi], errors="coerce").to_numpy(dtype=float)
            if np.isfinite(low).any():
                legend[lab] = ax.fill_between(
                    xs, low, high, color=colour, alpha=0.8, label=words[lab], linewidth=0
                )
        # Dark, with a white edge: the line stays visible over its bands in greyscale.
        (legend["trend"],) = ax.plot(
            xs,
            pred[mean].to_numpy(dtype=float),
            color=TREND_COLOUR,
            linewidth=1.6,
            label=words["trend"],
            path_effects=[patheffects.withStroke(linewidth=3.2, foreground="white")],
        )
    clipped = _limit_y(
        ax,
        obs,
        pred,
        [actual, target],
        mean,
        [*ci, *pi],
        nonnegative=nonnegative,
    )
    if clipped:
        ax.text(
            0.98,
            0.02,
            words["clipped_bands"],
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            **NOTE_STYLE,
        )
    tgt = obs[obs[target].notna()]
    if len(tgt):
        (legend["target_plan"],) = ax.plot(
            tgt[x],
            tgt[target],
            marker="D",
            linestyle="--",
            color=MISSED_COLOUR,
            markerfacecolor="none",
            markersize=7,
            linewidth=1.2,
            label=words["target_plan"],
            zorder=3,
        )
    is_base = (
        obs[baseline].fillna(False).astype(bool)
        if baseline in obs
        else pd.Series(False, index=obs.index)
    )
    act = obs[obs[actual].notna() & ~is_base]
    (legend["actual"],) = ax.plot(
        act[x], act[actual], "o", color="#1a1a1a", label=words["actual"], zorder=4
    )
    base = obs[obs[actual].notna() & is_base]
    if len(base):
        (legend["baseline"],) = ax.plot(
            base[x],
            base[actual],
            "o",
            markerfacecolor="white",
            markeredgecolor="#1a1a1a",
            markersize=7,
            label=words["baseline"],
            zorder=4,
        )
    # About 24 full-width characters fit the panel's width; Latin letters are half as wide.
    ax.set_title(
        wrap_label(name, width=24 if language == "ja" else 42, max_lines=2), loc="left", fontsize=9
    )
    years = sorted(set(obs[x].astype(int)) | set(pred[x].astype(int) if not pred.empty else []))
    ax.set_xticks(years, [f"{y}" for y in years])
    ax.set_xlabel(words["fiscal_year"])
    ax.set_ylabel(unit)
    plain_axis(ax.yaxis)
    if note:
        ax.text(
            0.02,
            0.95,
            wrap_label(note, width=30 if language == "ja" else 52, max_lines=3),
            transform=ax.transAxes,
            va="top",
            **NOTE_STYLE,
        )


def _limit_y(
    ax: object,
    obs: pd.DataFrame,
    pred: pd.DataFrame,
    value_cols: Sequence[str],
    mean: str,
    band_cols: Sequence[str],
    *,
    nonnegative: bool = False,
) -> bool:
    """Fit the y-axis to the data and the trend, not to an interval that may span decades.

    With three points (df = 1) an interval can be orders of magnitude wider than the data; drawn
    in full it flattens everything else to a line. The axis covers actuals, targets and the
    fitted mean with a margin equal to their range; returns whether any band was cut.
    """
    core = [pd.to_numeric(obs[c], errors="coerce") for c in value_cols if c in obs]
    if not pred.empty:
        core.append(pd.to_numeric(pred[mean], errors="coerce"))
    values = np.concatenate([c.to_numpy(dtype=float) for c in core]) if core else np.array([])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return False
    lo, hi = float(values.min()), float(values.max())
    margin = max(hi - lo, abs(hi) * 0.1, 1.0)
    low, high = lo - margin, hi + margin
    bands = (
        np.concatenate(
            [pd.to_numeric(pred[c], errors="coerce").to_numpy(dtype=float) for c in band_cols]
        )
        if not pred.empty
        else np.array([])
    )
    bands = bands[np.isfinite(bands)]
    if bands.size:
        # Show a band in full when it is only a little wider than the data.
        low = min(low, max(float(bands.min()), lo - 2 * margin))
        high = max(high, min(float(bands.max()), hi + 2 * margin))
    if nonnegative:
        low = max(low, 0.0)  # a count or a positive stock never goes below zero
    ax.set_ylim(low, high)  # type: ignore[attr-defined]
    return bool(bands.size and (bands.min() < low or bands.max() > high))


def distribution_figure(
    data: pd.DataFrame,
    *,
    groups: Sequence[tuple[str, str]],
    rate: str = "achievement_rate",
    achieved: str = "achieved",
    reference: float = 1.0,
    clip: tuple[float, float] = (-1.0, 3.0),
    title: str | None = None,
    xlabel: str = "達成率",
    max_points: int = 400,
    box_from: int = 5,
    count: str | None = None,
    language: str = "ja",
    fig: FigureBase | None = None,
) -> FigureBase:
    """Distribution of a rate within groups: one box per group, side by side panels.

    Parameters
    ----------
    data
        One row per KPI with the rate, the achieved flag and the grouping columns.
    groups
        ``(column, panel title)`` pairs: one panel per grouping (e.g. KPI kind, grant type).
    reference
        Where the reference line is drawn (the target, 100 %).
    clip
        Rates outside are drawn at the edge (a 2,000 % outlier would flatten every box); the
        x-axis label says so when any point was clipped.
    max_points
        Individual KPIs are drawn as points up to this many (a national panel has tens of
        thousands: the boxes say enough), spread across the box by a jitter drawn from a
        generator seeded with :data:`JITTER_SEED`, so the same data gives the same picture.
    box_from, count
        A group gets a box (its quartiles) only when it holds at least ``box_from`` distinct
        values of the column ``count`` (rows when ``None``); a smaller group is drawn as its
        points alone, as the panel report lists such a group's rates instead of quartiles.
    fig
        Figure or sub-figure to draw the panels into; without one, a figure at the A4 text
        width (7.2 in, the panels side by side), drawn at "paper" scale.

    Examples
    --------
    >>> df = pd.DataFrame({"kind": ["flow", "flow", "stock"], "grant": ["A", "B", "A"],
    ...                    "achievement_rate": [0.5, 1.2, 2.7], "achieved": [False, True, True]})
    >>> fig = distribution_figure(df, groups=[("kind", "種別"), ("grant", "交付金")])
    >>> len(fig.axes)
    2
    """
    # "paper" scale at the A4 text width: printed at its own size, its text stays ≥ 7 pt (it
    # was 12 in wide at "notebook" scale, about 5 pt once shrunk to the page).
    with _own_scale("paper", fig):
        return _distribution_panels(
            data,
            groups,
            (rate, achieved, count),
            reference,
            clip,
            title,
            xlabel,
            (max_points, box_from),
            language,
            fig,
        )


def _distribution_panels(
    data: pd.DataFrame,
    groups: Sequence[tuple[str, str]],
    columns: tuple[str, str, str | None],
    reference: float,
    clip: tuple[float, float],
    title: str | None,
    xlabel: str,
    limits: tuple[int, int],
    language: str,
    fig: FigureBase | None,
) -> FigureBase:
    rate, achieved, count = columns
    max_points, box_from = limits
    values = pd.to_numeric(data[rate], errors="coerce").to_numpy(dtype=float)
    finite = np.isfinite(values)
    lo, hi = clip
    clipped = finite & ((values < lo) | (values > hi))
    frame = pd.DataFrame(
        {
            "pct": np.clip(values, lo, hi) * 100,
            "achieved": data[achieved].astype("boolean").fillna(False).to_numpy(dtype=bool),
            "unit": data[count].astype(str).to_numpy() if count else np.arange(len(data)),
        }
    )
    n_groups = [max(1, data[col].nunique()) for col, _ in groups]
    height = 1.0 + 0.32 * max(n_groups)
    if fig is None:
        fig = plt.figure(figsize=(7.2, height), layout="constrained")
    axes = fig.subplots(1, len(groups), squeeze=False)
    label = xlabel + " (%)"
    if clipped.any():
        note = FIGURE_WORDS[language]["clipped_points"].format(
            lo=f"{lo * 100:.0f}", hi=f"{hi * 100:.0f}"
        )
        label += f"\n[{note}]"
    for ax, (col, panel_title) in zip(axes.flat, groups, strict=True):
        frame["group"] = [wrap_label(x, width=14, max_lines=2) for x in data[col].astype(str)]
        shown = frame[finite]
        order = sorted(frame["group"].unique())
        if len(shown):
            _distribution_boxes(ax, shown, order, max_points, box_from)
            ax.set_yticks(np.arange(len(order)), order)
            ax.set_ylim(len(order) - 0.5, -0.5)
        ax.axvline(reference * 100, color="#333333", linestyle="--", linewidth=1)
        ax.set_xlim(lo * 100 - 5, hi * 100 + 5)
        ax.set_title(panel_title)
        ax.set_xlabel(label)
        ax.set_ylabel("")
    if title:
        fig.suptitle(title)
    return fig


def _distribution_boxes(
    ax: Axes, shown: pd.DataFrame, order: list[str], max_points: int, box_from: int
) -> None:
    """One panel's boxes (groups of ``box_from`` units or more) and points (every KPI when
    there are at most ``max_points``; always those of a group without a box)."""
    position = {g: i for i, g in enumerate(order)}
    boxed = [g for g in order if shown.loc[shown["group"] == g, "unit"].nunique() >= box_from]
    if boxed:
        # matplotlib's own boxplot: seaborn's passes a deprecated argument (a warning
        # would end up in the report).
        ax.boxplot(
            [shown.loc[shown["group"] == g, "pct"].to_numpy() for g in boxed],
            positions=[position[g] for g in boxed],
            orientation="horizontal",
            widths=0.6,
            showfliers=len(shown) > max_points,
            patch_artist=True,
            boxprops={"facecolor": "#dfe7f0", "edgecolor": "#555555"},
            medianprops={"color": "#333333"},
        )
    points = shown if len(shown) <= max_points else shown[~shown["group"].isin(boxed)]
    if len(points):
        # seaborn's stripplot jitters with numpy's global, unseeded generator: the same
        # report would differ between two builds.
        jitter = np.random.default_rng(JITTER_SEED).uniform(-0.15, 0.15, len(points))
        met = points["achieved"].to_numpy(dtype=bool)
        # Filled for a target reached, open for one missed: told apart in greyscale too.
        ax.scatter(
            points["pct"],
            points["group"].map(position).to_numpy(dtype=float) + jitter,
            s=20,
            c=np.where(met, ACHIEVED_COLOUR, "white"),
            edgecolors=np.where(met, ACHIEVED_COLOUR, MISSED_COLOUR),
            linewidths=1.2,
            zorder=3,
        )
    ax.grid(False, axis="y")  # as seaborn draws a categorical axis
