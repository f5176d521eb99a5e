"""Trend fits of every KPI as known at a fiscal year, projected ahead (the ``trends`` report).

For each KPI of the data cut at fiscal year N (:meth:`kpianalysis.data.dataset.Dataset.as_of`)
this fits the indicator's trend model (:func:`kpianalysis.analysis.trends.fit_trend`) to the
actuals of years ≤ N, and projects it to the *projection year*: the plan's final year when that is
still ahead, otherwise N + 1 (once a plan has ended, the question becomes whether the level
reached holds a year later). The probability of reaching the *final target* — the target of the
plan's last year, part of the plan and so known in every year — comes from the fit's predictive
distribution.

Nothing is invented when a rule cannot apply: the row carries a reason code instead (one point,
two points without an interval, final target not yet known, ...).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kpianalysis import reasons
from kpianalysis.analysis.trends import default_model, fit_trend
from kpianalysis.data.dataset import check_cut

#: Reason codes of the trend table (the fit's and this module's), from :mod:`kpianalysis.reasons`.
REASONS: dict[str, tuple[str, str]] = reasons.labels("trend_fit", "projection")

TABLE_COLUMNS = [
    "programme_id",
    "indicator_id",
    "indicator_label",
    "name_ja",
    "name_en",
    "sub_label_ja",
    "unit",
    "direction",
    "model",
    "n",
    "df_resid",
    "slope",
    "slope_se",
    "ci_low",
    "ci_high",
    "slope_pct_per_year",
    "p_value",
    "dispersion",
    "quasi",
    "aic",
    "projection_year",
    "projected_mean",
    "projected_pi_low",
    "projected_pi_high",
    "final_target_year",
    "final_target",
    "prob_reach",
    "reason",
]


def _series(dataset: Any, fiscal_year: int, programme_id: str | None) -> pd.DataFrame:
    check_cut(dataset, fiscal_year)
    ds = dataset
    ind = ds.indicators
    if programme_id is not None:
        ind = ind[ind["programme_id"] == programme_id]
    plans = ds.programmes.set_index("programme_id")[["plan_start", "plan_end"]]
    return ind.join(plans, on="programme_id"), ds.observations


def trend_fits(
    dataset: Any, fiscal_year: int, *, programme_id: str | None = None, alpha: float = 0.05
) -> list[tuple[dict[str, Any], Any, pd.DataFrame]]:
    """Fit each KPI's trend as of ``fiscal_year``: a list of (indicator row, TrendFit, its obs)."""
    indicators, obs = _series(dataset, fiscal_year, programme_id)
    out = []
    for ind in indicators.to_dict("records"):
        series = obs[
            (obs["programme_id"] == ind["programme_id"])
            & (obs["indicator_id"] == ind["indicator_id"])
        ].sort_values("fiscal_year")
        known = series[series["actual"].notna()]
        override = ind.get("trend_model")
        model = (
            override
            if isinstance(override, str) and override
            else default_model(ind["kind"], known["actual"])
        )
        fit = fit_trend(known["fiscal_year"], known["actual"], model=model, alpha=alpha)
        out.append((ind, fit, series))
    return out


def trend_table(
    dataset: Any, fiscal_year: int, *, programme_id: str | None = None, alpha: float = 0.05
) -> pd.DataFrame:
    """One row per KPI: the fit, its projection and the probability of reaching the final target.

    Parameters
    ----------
    dataset
        A :class:`kpianalysis.data.dataset.Dataset` cut at ``fiscal_year``
        (``dataset.as_of(fiscal_year)``): actuals of years ≤ it, every target of the plan.
    fiscal_year
        The report's fiscal year (the year the dataset is cut at).
    alpha
        1 − confidence level of every interval.

    Examples
    --------
    >>> from kpianalysis.data.dataset import load_dataset  # doctest: +SKIP
    >>> t = trend_table(load_dataset("data/raw").as_of(2023), 2023)  # doctest: +SKIP
    >>> t.loc[t.indicator_id == 1, ["model", "n", "projection_year"]]  # doctest: +SKIP
    """
    rows = []
    for ind, fit, series in trend_fits(
        dataset, fiscal_year, programme_id=programme_id, alpha=alpha
    ):
        plan_end = int(ind["plan_end"])
        projection_year = plan_end if plan_end > fiscal_year else fiscal_year + 1
        final = series.loc[series["fiscal_year"] == plan_end, "target"]
        final_target = float(final.iloc[0]) if len(final) and pd.notna(final.iloc[0]) else np.nan
        reason = fit.reason
        mean = lo = hi = prob = np.nan
        if fit.slope is not None:
            pred = fit.predict([projection_year]).iloc[0]
            mean, lo, hi = (float(pred[c]) for c in ("mean", "pi_low", "pi_high"))
            if np.isnan(final_target):
                reason = reason or "no_final_target"
            elif fit.has_interval:
                p = fit.prob_reach(final_target, projection_year, direction=ind["direction"])
                prob = np.nan if p is None else float(p)
        rows.append(
            {
                **{k: ind.get(k, "") for k in TABLE_COLUMNS[:8]},
                "model": fit.model,
                "n": fit.n,
                "df_resid": fit.df_resid,
                "slope": fit.slope,
                "slope_se": fit.slope_se,
                "ci_low": fit.ci_low,
                "ci_high": fit.ci_high,
                "slope_pct_per_year": fit.slope_pct_per_year,
                "p_value": fit.p_value,
                "dispersion": fit.dispersion,
                "quasi": fit.quasi,
                "aic": fit.aic,
                "projection_year": projection_year,
                "projected_mean": mean,
                "projected_pi_low": lo,
                "projected_pi_high": hi,
                "final_target_year": plan_end,
                "final_target": final_target,
                "prob_reach": prob,
                "reason": reason,
            }
        )
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    float_cols = [
        "slope", "slope_se", "ci_low", "ci_high", "slope_pct_per_year", "p_value", "dispersion",
        "aic", "projected_mean", "projected_pi_low", "projected_pi_high", "final_target",
        "prob_reach",
    ]  # fmt: skip
    table[float_cols] = table[float_cols].astype("float64")
    table["quasi"] = table["quasi"].astype("boolean")
    return table


def trend_predictions(
    dataset: Any, fiscal_year: int, *, programme_id: str | None = None, alpha: float = 0.05
) -> pd.DataFrame:
    """Fitted means and bands per KPI from its first observed year to the projection year.

    Long frame for :func:`kpianalysis.report.figures.trend_figure`: ``programme_id``,
    ``indicator_id``, ``fiscal_year``, ``mean``, ``mean_ci_low``, ``mean_ci_high``, ``pi_low``,
    ``pi_high`` (intervals missing where the fit has none). KPIs without a slope have no rows.
    """
    frames = []
    for ind, fit, series in trend_fits(
        dataset, fiscal_year, programme_id=programme_id, alpha=alpha
    ):
        if fit.slope is None:
            continue
        plan_end = int(ind["plan_end"])
        last = plan_end if plan_end > fiscal_year else fiscal_year + 1
        first = int(series.loc[series["actual"].notna(), "fiscal_year"].min())
        years = np.arange(first, last + 1)
        pred = fit.predict(years).rename(columns={"year": "fiscal_year"})
        pred["fiscal_year"] = pred["fiscal_year"].astype("int64")
        pred.insert(0, "indicator_id", ind["indicator_id"])
        pred.insert(0, "programme_id", ind["programme_id"])
        frames.append(pred.drop(columns=["reason"]))
    cols = [
        "programme_id",
        "indicator_id",
        "fiscal_year",
        "mean",
        "mean_ci_low",
        "mean_ci_high",
        "pi_low",
        "pi_high",
    ]
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]


def reason_text(code: Any, language: str = "ja") -> str:
    """The reason code in words (Japanese or English); ``""`` for no reason.

    Examples
    --------
    >>> reason_text("too_few_points", "en")
    'fewer than 2 points: no trend'
    """
    return reasons.reason_label(code, language)
