"""Trend fits of every KPI as known at a fiscal year, projected ahead (the ``trends`` report).

For each KPI the actuals of years ≤ N — with the baseline as the first observation when its year
precedes the plan's first year — are fitted with the KPI kind's model
(:func:`kpianalysis.analysis.trends.default_model`, or the indicator's ``trend_model``). Residual
variances are moderated across comparable series of the whole dataset given (same model family on
the model's scale, :func:`kpianalysis.analysis.trends.pool_key`): the empirical-Bayes prior
(d₀, s₀²) of :func:`kpianalysis.analysis.shrinkage.fit_f_dist`.

* While the plan runs (N < plan end), the projection year is the plan's final year and
  ``prob_reach`` is the probability that the plan-end target is met in that year, given the data
  up to N (for a running total: conditional on the level already reached).
* From the plan's final year on, the outcome is known: ``outcome`` is ``"final_achieved"`` or
  ``"final_missed"`` with ``final_gap`` = final actual − target, and there is no probability. The
  projection to N + 1 is then a reference beyond the plan (``beyond_plan``).
* With fewer than :data:`~kpianalysis.analysis.trends.MIN_DF` residual degrees of freedom after
  pooling, a Gaussian model shows no interval and no probability (reason ``"too_few_df"``).

The dataset is cut at N (:meth:`kpianalysis.data.dataset.Dataset.as_of`): actuals of years ≤ N
and every target of the plan. Later actuals are ignored here even if present.
Nothing is invented when a rule cannot apply: a reason code.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from kpianalysis import __version__, reasons
from kpianalysis.analysis.reference_prior import (
    MIN_SERIES,
    ReferencePrior,
    family_prior,
    family_priors,
)
from kpianalysis.analysis.shrinkage import NO_PRIOR, VariancePrior, fit_f_dist
from kpianalysis.analysis.trends import (
    MIN_DF,
    MODEL_REASONS,
    POISSON_MODELS,
    TrendFit,
    default_model,
    fit_trend,
    pool_key,
)
from kpianalysis.data.dataset import check_cut

__all__ = [
    "REASONS",
    "TABLE_COLUMNS",
    "estimate_priors",
    "estimate_reference_prior",
    "first_pass_fits",
    "interval_shown",
    "kpi_series",
    "model_reason",
    "priors_frame",
    "reason_text",
    "trend_fits",
    "trend_predictions",
    "trend_priors",
    "trend_table",
]

#: Reason codes of this module, Japanese label and English rendering (:mod:`kpianalysis.reasons`).
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
    "kind",
    "model",
    "pool",
    "n",
    "df_resid",
    "prior_df",
    "prior_scale",
    "df_total",
    "slope",
    "slope_se",
    "ci_low",
    "ci_high",
    "slope_pct_per_year",
    "p_value",
    "dispersion",
    "quasi",
    "dispersion_assumed",
    "aic",
    "last_year",
    "last_actual",
    "projection_year",
    "beyond_plan",
    "projected_mean",
    "projected_ci_low",
    "projected_ci_high",
    "projected_pi_low",
    "projected_pi_high",
    "final_target_year",
    "final_target",
    "prob_reach",
    "final_actual",
    "outcome",
    "final_gap",
    "reason",
    "prior_status",
]


def _plans(dataset: Any) -> pd.DataFrame:
    return dataset.programmes.set_index("programme_id")[["plan_start", "plan_end"]]


def kpi_series(dataset: Any, fiscal_year: int, ind: dict[str, Any]) -> pd.DataFrame:
    """The KPI's rows (every target given) with actuals of years ≤ ``fiscal_year`` only, plus the
    baseline as an observation (``is_baseline``) when its year precedes the plan's first year."""
    obs = dataset.observations
    series = obs[
        (obs["programme_id"] == ind["programme_id"]) & (obs["indicator_id"] == ind["indicator_id"])
    ].sort_values("fiscal_year")
    series = series[["fiscal_year", "target", "actual"]].copy()
    series.loc[series["fiscal_year"] > fiscal_year, "actual"] = np.nan
    series["is_baseline"] = False
    by, bv = ind.get("baseline_year"), ind.get("baseline")
    start = ind.get("plan_start")
    if (
        pd.notna(by)
        and pd.notna(bv)
        and pd.notna(start)
        and int(by) < int(start)
        and int(by) <= fiscal_year
        and not (series["fiscal_year"] == int(by)).any()
    ):
        base = pd.DataFrame(
            {"fiscal_year": [int(by)], "target": [np.nan], "actual": [float(bv)]}
        ).assign(is_baseline=True)
        series = pd.concat([base, series], ignore_index=True)
    return series.reset_index(drop=True)


def _model_for(ind: dict[str, Any], known: pd.Series) -> str:
    override = ind.get("trend_model")
    if isinstance(override, str) and override:
        return override
    return default_model(ind["kind"], known, str(ind.get("unit", "")))


def estimate_priors(fits: list[tuple[str, TrendFit]]) -> dict[str, VariancePrior]:
    """One prior per pool key from the first-pass fits' own variances (:func:`fit_f_dist`)."""
    groups: dict[str, tuple[list[float], list[float]]] = {}
    for key, fit in fits:
        if fit.s2 is not None and fit.df_resid and math.isfinite(fit.s2):
            s2, d = groups.setdefault(key, ([], []))
            s2.append(float(fit.s2))
            d.append(float(fit.df_resid))
    return {key: fit_f_dist(s2, d) for key, (s2, d) in groups.items()}


def _first_pass(
    dataset: Any, fiscal_year: int, alpha: float = 0.05
) -> list[tuple[dict[str, Any], TrendFit, pd.DataFrame, pd.DataFrame, str]]:
    """Each KPI's unpooled fit as of ``fiscal_year``: (indicator row, fit, series, known, pool)."""
    check_cut(dataset, fiscal_year)
    indicators = dataset.indicators.join(_plans(dataset), on="programme_id")
    out = []
    for ind in indicators.to_dict("records"):
        series = kpi_series(dataset, fiscal_year, ind)
        known = series[series["actual"].notna()]
        model = _model_for(ind, known["actual"])
        fit = fit_trend(known["fiscal_year"], known["actual"], model=model, alpha=alpha)
        key = pool_key(model, str(ind.get("unit", "")), str(ind.get("kind", "")))
        out.append((ind, fit, series, known, key))
    return out


def first_pass_fits(dataset: Any, fiscal_year: int) -> list[tuple[str, TrendFit]]:
    """(pool key, unpooled fit) of every KPI of ``dataset`` as of ``fiscal_year``: what a
    reference panel contributes to the priors
    (:func:`kpianalysis.analysis.reference_prior.estimate_reference_prior`)."""
    return [(key, fit) for _, fit, _, _, key in _first_pass(dataset, fiscal_year)]


def estimate_reference_prior(
    dataset: Any, *, estimated_on: str, min_series: int = MIN_SERIES
) -> ReferencePrior:
    """Estimate every family's prior from the programmes of ``dataset`` (the reference panel).

    Each programme is cut at its latest fiscal year with an actual; each of its KPIs is fitted as
    its report would fit it (:func:`kpianalysis.analysis.projection.trend_fits`, unpooled) and
    contributes its own residual variance to its pool. ``estimated_on`` (an ISO date) is recorded,
    not read from the clock, so the same data and date give the same file. The families are
    :func:`kpianalysis.analysis.reference_prior.family_priors` of the variances (limma's
    moments; the count family by the F likelihood).
    """
    groups: dict[str, tuple[list[float], list[float]]] = {}
    programmes = []
    for pid, part in dataset.by_programme().items():
        years = part.fiscal_years
        if not years:
            continue
        cut = part.as_of(max(years))
        programmes.append({"programme_id": pid, "fiscal_year": max(years), "digest": cut.digest()})
        for key, fit in first_pass_fits(cut, max(years)):
            if fit.s2 is not None and fit.df_resid and math.isfinite(fit.s2):
                s2, d = groups.setdefault(key, ([], []))
                s2.append(float(fit.s2))
                d.append(float(fit.df_resid))
    families = family_priors(groups, min_series)
    provenance = {
        "estimated_on": estimated_on,
        "library_version": __version__,
        "min_series": min_series,
        "programmes": programmes,
        "rule": "each KPI's own residual variance at its programme's latest fiscal year, "
        "grouped by pool key; limma fitFDist per pool (the count pool: F likelihood maximum)",
    }
    return ReferencePrior(families=families, provenance=provenance)


def trend_fits(
    dataset: Any,
    fiscal_year: int,
    *,
    programme_id: str | None = None,
    alpha: float = 0.05,
    pool: bool = True,
    reference: ReferencePrior | None = None,
) -> tuple[list[tuple[dict[str, Any], TrendFit, pd.DataFrame]], dict[str, VariancePrior]]:
    """Fit each KPI as of ``fiscal_year``: ``([(indicator row, fit, series), ...], priors)``.

    With ``reference`` (the versioned prior, what reports use) each KPI is pooled against its
    family's prior there, and its indicator row gets ``prior_status`` (a code of
    :data:`kpianalysis.analysis.reference_prior.STATUS`). Without it, every KPI of ``dataset``
    enters priors estimated here (``pool=True``; for a panel of many programmes). Only the KPIs
    of ``programme_id`` (all when ``None``) are returned.
    """
    first = _first_pass(dataset, fiscal_year, alpha)
    if reference is not None:
        priors = {key: family_prior(reference, key)[0] for *_, key in first}
    else:
        priors = estimate_priors([(k, f) for _, f, _, _, k in first]) if pool else {}
    out = []
    for ind, fit, series, known, key in first:
        if programme_id is not None and ind["programme_id"] != programme_id:
            continue
        prior = priors.get(key, NO_PRIOR)
        if reference is not None:
            ind = {**ind, "prior_status": family_prior(reference, key)[1]}
        if prior.pools:
            fit = fit_trend(
                known["fiscal_year"], known["actual"], model=fit.model, alpha=alpha, prior=prior
            )
        out.append((ind, fit, series))
    return out, priors


def interval_shown(fit: TrendFit) -> bool:
    """Whether a report shows the fit's intervals and probability (METHODS.md §3): never without
    an interval; for an estimated variance only on at least ``MIN_DF`` df after pooling."""
    if not fit.has_interval:
        return False
    if fit.model in POISSON_MODELS:
        return True  # φ̃ is used only when estimable on ≥ MIN_DF df; else Poisson, stated
    return fit.df_total is not None and fit.df_total >= MIN_DF


def _strict_targets(dataset: Any) -> dict[tuple[Any, int, int], float]:
    """(programme_id, indicator_id, fiscal_year) → the side (−inf or +inf) beyond each target
    printed as a strict bound: 未満 is met only below the value, 超 only above it.

    Why the next float that way stands in for the target: A < T ⇔ A ≤ T⁻ exactly (a float
    difference is 0 only between equal floats), and for counts P(Y ≥ T⁺) = P(Y ≥ T + 1) — so
    the outcome and the probability follow the rule of the attainment table with one code path.
    """
    obs = dataset.observations
    if "target_bound" not in obs.columns:
        return {}
    hit = obs[obs["target_bound"].isin(["strict_ceiling", "strict_floor"])]
    return {
        (pid, int(iid), int(fy)): (-math.inf if bound == "strict_ceiling" else math.inf)
        for pid, iid, fy, bound in zip(
            hit["programme_id"],
            hit["indicator_id"],
            hit["fiscal_year"],
            hit["target_bound"],
            strict=True,
        )
    }


def _achieved(actual: float, target: float, direction: str) -> bool:
    return actual >= target if direction != "decrease" else actual <= target


def trend_table(
    dataset: Any,
    fiscal_year: int,
    *,
    programme_id: str | None = None,
    alpha: float = 0.05,
    pool: bool = True,
    reference: ReferencePrior | None = None,
) -> pd.DataFrame:
    """One row per KPI: model, fit, projection, and the plan-end probability or known outcome.

    Parameters
    ----------
    dataset
        A :class:`kpianalysis.data.dataset.Dataset` cut at ``fiscal_year``
        (``dataset.as_of(fiscal_year)``): actuals of years ≤ it, every target of the plan.
    fiscal_year
        The report's fiscal year N.
    alpha
        1 − confidence level of every interval.
    pool
        Moderate residual variances across comparable series of ``dataset``.
    reference
        The versioned prior every report pools against (:func:`trend_fits`); the column
        ``prior_status`` then says whether each KPI's family was pooled, or why not.

    Examples
    --------
    >>> from kpianalysis.data.dataset import load_dataset  # doctest: +SKIP
    >>> t = trend_table(load_dataset("data/raw").as_of(2023), 2023)  # doctest: +SKIP
    >>> t.loc[t.indicator_id == 1, ["model", "n", "outcome"]]  # doctest: +SKIP
    """
    fits, _ = trend_fits(
        dataset, fiscal_year, programme_id=programme_id, alpha=alpha, pool=pool, reference=reference
    )
    rows = []
    strict = _strict_targets(dataset)
    for ind, fit, series in fits:
        plan_end = int(ind["plan_end"])
        ended = fiscal_year >= plan_end
        projection_year = fiscal_year + 1 if ended else plan_end
        final = series.loc[series["fiscal_year"] == plan_end]
        final_target, final_actual = (
            float(final[c].iloc[0]) if len(final) and pd.notna(final[c].iloc[0]) else np.nan
            for c in ("target", "actual")
        )
        # A strict bound (100 未満, 5 超) is met only beyond it: the next float on that side.
        side = strict.get((ind["programme_id"], int(ind["indicator_id"]), plan_end))
        met_at = final_target if side is None else math.nextafter(final_target, side)
        known = series[series["actual"].notna()]
        shown = interval_shown(fit)
        reason = fit.reason
        if reason is None and not shown:
            reason = "too_few_df"
        mean = ci_lo = ci_hi = lo = hi = prob = np.nan
        outcome, gap = None, np.nan
        if fit.slope is not None:
            pred = fit.predict([projection_year]).iloc[0]
            mean = float(pred["mean"])
            if shown:
                ci_lo, ci_hi, lo, hi = (
                    float(pred[c]) for c in ("mean_ci_low", "mean_ci_high", "pi_low", "pi_high")
                )
        if ended:
            if not math.isnan(final_actual) and not math.isnan(final_target):
                outcome = (
                    "final_achieved"
                    if _achieved(final_actual, met_at, ind["direction"])
                    else "final_missed"
                )
                gap = final_actual - final_target
        elif math.isnan(final_target):
            reason = reason or "no_final_target"
        elif shown:
            p = fit.prob_reach(met_at, plan_end, direction=ind["direction"])
            prob = np.nan if p is None else float(p)
        key = pool_key(fit.model, str(ind.get("unit", "")), str(ind.get("kind", "")))
        rows.append(
            {
                **{k: ind.get(k, "") for k in TABLE_COLUMNS[:9]},
                "model": fit.model,
                "pool": key,
                "n": fit.n,
                "df_resid": fit.df_resid,
                "prior_df": fit.prior_df,
                "prior_scale": fit.prior_scale,
                "df_total": fit.df_total,
                "slope": fit.slope,
                "slope_se": fit.slope_se if shown else np.nan,
                "ci_low": fit.ci_low if shown else np.nan,
                "ci_high": fit.ci_high if shown else np.nan,
                "slope_pct_per_year": fit.slope_pct_per_year,
                "p_value": fit.p_value if shown else np.nan,
                "dispersion": fit.dispersion,
                "quasi": fit.quasi,
                "dispersion_assumed": fit.dispersion_assumed,
                "aic": fit.aic,
                "last_year": int(known["fiscal_year"].max()) if len(known) else pd.NA,
                "last_actual": float(known["actual"].iloc[-1]) if len(known) else np.nan,
                "projection_year": projection_year,
                "beyond_plan": ended,
                "projected_mean": mean,
                "projected_ci_low": ci_lo,
                "projected_ci_high": ci_hi,
                "projected_pi_low": lo,
                "projected_pi_high": hi,
                "final_target_year": plan_end,
                "final_target": final_target,
                "prob_reach": prob,
                "final_actual": final_actual if ended else np.nan,
                "outcome": outcome,
                "final_gap": gap,
                "reason": reason,
                "prior_status": ind.get("prior_status"),
            }
        )
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    float_cols = [
        "prior_df", "prior_scale", "df_total", "slope", "slope_se", "ci_low", "ci_high",
        "slope_pct_per_year", "p_value", "dispersion", "aic", "last_actual", "projected_mean",
        "projected_ci_low", "projected_ci_high", "projected_pi_low", "projected_pi_high",
        "final_target", "prob_reach", "final_actual", "final_gap",
    ]  # fmt: skip
    table[float_cols] = table[float_cols].astype("float64")
    table["last_year"] = table["last_year"].astype("Int64")
    for col in ("quasi", "dispersion_assumed", "beyond_plan"):
        table[col] = table[col].astype("boolean")
    return table


def priors_frame(priors: dict[str, VariancePrior]) -> pd.DataFrame:
    """The variance priors as a table: ``pool, n_series, prior_df, prior_scale``."""
    rows = [
        {
            "pool": key,
            "n_series": p.n_series,
            "prior_df": float(p.df) if p.pools else 0.0,
            "prior_scale": float(p.scale) if p.pools else np.nan,
        }
        for key, p in sorted(priors.items())
    ]
    return pd.DataFrame(rows, columns=["pool", "n_series", "prior_df", "prior_scale"])


def trend_priors(
    dataset: Any,
    fiscal_year: int,
    *,
    alpha: float = 0.05,
    reference: ReferencePrior | None = None,
) -> pd.DataFrame:
    """The empirical-Bayes variance priors of every pool as of ``fiscal_year`` (for the methods).

    With ``reference``: its families (``pool, n_series, prior_df, prior_scale, status``) — the
    priors the report pooled against, whatever ``dataset`` holds."""
    if reference is not None:
        return reference.frame()
    _, priors = trend_fits(dataset, fiscal_year, alpha=alpha)
    return priors_frame(priors)


def trend_predictions(
    dataset: Any,
    fiscal_year: int,
    *,
    programme_id: str | None = None,
    alpha: float = 0.05,
    pool: bool = True,
    reference: ReferencePrior | None = None,
) -> pd.DataFrame:
    """Fitted means and bands per KPI from its first observed year to the projection year.

    Long frame for :func:`kpianalysis.report.figures.trend_figure`: ``programme_id``,
    ``indicator_id``, ``fiscal_year``, ``mean``, ``mean_ci_low``, ``mean_ci_high``, ``pi_low``,
    ``pi_high`` (intervals missing where none is shown). KPIs without a slope have no rows.
    """
    frames = []
    fits, _ = trend_fits(
        dataset, fiscal_year, programme_id=programme_id, alpha=alpha, pool=pool, reference=reference
    )
    for ind, fit, series in fits:
        if fit.slope is None:
            continue
        plan_end = int(ind["plan_end"])
        last = plan_end if plan_end > fiscal_year else fiscal_year + 1
        first = int(series.loc[series["actual"].notna(), "fiscal_year"].min())
        years = np.arange(first, last + 1)
        pred = fit.predict(years).rename(columns={"year": "fiscal_year"})
        if not interval_shown(fit):
            pred[["mean_ci_low", "mean_ci_high", "pi_low", "pi_high"]] = np.nan
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


def model_reason(model: str, language: str = "ja") -> str:
    """Why this model, in words (Japanese or English)."""
    ja, en = MODEL_REASONS.get(model, (model, model))
    return ja if language == "ja" else en


def reason_text(code: Any, language: str = "ja") -> str:
    """The reason code in words (Japanese or English); ``""`` for no reason."""
    if not isinstance(code, str) or not code:
        return ""
    ja, en = REASONS.get(code, (code, code))
    return ja if language == "ja" else en
