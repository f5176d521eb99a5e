"""The trend variance priors as versioned data: estimated once from a reference panel, then read.

A trends report fits only its own programme (an archived report must not change when another
city is added), so it cannot estimate the empirical-Bayes prior (d₀, s₀²) of its model families
from its own three or four series. The prior is instead estimated by a deliberate, recorded
command (``kpianalysis estimate-prior``,
:func:`kpianalysis.analysis.projection.estimate_reference_prior`) from a *reference panel*: the
real programmes in ``data/raw`` when it is run. It is stored as a JSON file in the project
(``data/reference/trend_prior.json``) with what it was estimated from — each programme's id and
data digest, the date, the library version — and every trends report pools its own series against
it. The file's digest is part of the trends runs' keys: re-estimating the prior reruns exactly the
trends reports; adding a programme to ``data/raw`` changes nothing until the prior is re-estimated.

Each KPI of the panel contributes one residual variance on its model's scale (fitted, like a
report, on every actual of its programme's latest fiscal year), grouped by
:func:`~kpianalysis.analysis.trends.pool_key`. A family with fewer than :data:`MIN_SERIES` such
series gets no prior (status ``prior_too_few_series``): its reports show the unpooled fit and
say so. Never estimate a shipped prior from synthetic data: it would put a generator's noise
level into real reports (synthetic panels test the machinery only).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kpianalysis import reasons
from kpianalysis.analysis.shrinkage import NO_PRIOR, VariancePrior, fit_f_dist, fit_f_dist_ml
from kpianalysis.errors import KpiAnalysisError

__all__ = [
    "FORMAT",
    "MIN_SERIES",
    "NO_REFERENCE",
    "STATUS",
    "FamilyPrior",
    "PriorFileError",
    "ReferencePrior",
    "family_prior",
    "family_priors",
    "read_reference_prior",
    "reference_prior_json",
]

#: Version of the file layout.
FORMAT = 1
#: Fewest series of a family for its prior to be estimated: below it the moments of log s² that
#: fit d₀ and s₀² are too noisy to move a report's intervals (a judgement, stated in METHODS.md).
MIN_SERIES = 8
#: Pooling status codes (family ``prior`` of :mod:`kpianalysis.reasons`).
STATUS: dict[str, tuple[str, str]] = reasons.labels("prior")


class PriorFileError(KpiAnalysisError, ValueError):
    """A prior file that cannot be read (names the file and what is wrong)."""


@dataclass(frozen=True)
class FamilyPrior:
    """The prior of one pool (model family): d₀, s₀² from ``n_series`` series, or why none."""

    pool: str
    n_series: int
    df: float
    scale: float
    status: str

    @property
    def prior(self) -> VariancePrior:
        """The :class:`VariancePrior` a fit uses (:data:`NO_PRIOR` unless pooled)."""
        if self.status != "prior_pooled":
            return NO_PRIOR
        return VariancePrior(df=self.df, scale=self.scale, n_series=self.n_series)


@dataclass(frozen=True)
class ReferencePrior:
    """Every family's prior and the provenance of the estimate; ``digest`` is the file's sha256."""

    families: Mapping[str, FamilyPrior]
    provenance: Mapping[str, Any]
    digest: str = field(default="", compare=False)

    def frame(self) -> pd.DataFrame:
        """One row per family: ``pool, n_series, prior_df, prior_scale, status`` (methods); the
        provenance of the estimate in ``attrs["provenance"]``."""
        rows = [
            {
                "pool": f.pool,
                "n_series": f.n_series,
                "prior_df": f.df if f.status == "prior_pooled" else 0.0,
                "prior_scale": f.scale if f.status == "prior_pooled" else math.nan,
                "status": f.status,
            }
            for _, f in sorted(self.families.items())
        ]
        frame = pd.DataFrame(
            rows, columns=["pool", "n_series", "prior_df", "prior_scale", "status"]
        )
        frame.attrs["provenance"] = dict(self.provenance)  # for the methods appendix
        return frame

    @property
    def missing(self) -> bool:
        """Whether this stands for a missing prior file (:data:`NO_REFERENCE`)."""
        return bool(self.provenance.get("missing"))


#: What a project without a prior file pools against: nothing. Every family gets status
#: ``prior_missing`` and each series is fitted alone — never pooled within the report's own
#: programme, which would make its intervals depend on which KPIs the programme happens to have.
NO_REFERENCE = ReferencePrior(families={}, provenance={"missing": True})


def family_prior(reference: ReferencePrior | None, pool: str) -> tuple[VariancePrior, str]:
    """(prior, status) of a pool: ``prior_pooled``, ``prior_too_few_series`` (the reference
    panel holds too few comparable series), ``prior_not_in_panel`` or ``prior_missing`` (no
    prior file given)."""
    if reference is None or reference.missing:
        return NO_PRIOR, "prior_missing"
    fam = reference.families.get(pool)
    if fam is None:
        return NO_PRIOR, "prior_not_in_panel"
    return fam.prior, fam.status


def family_priors(
    groups: Mapping[str, tuple[list[float], list[float]]], min_series: int = MIN_SERIES
) -> dict[str, FamilyPrior]:
    """Each pool's prior from its series' (variances, df) when it holds at least ``min_series``
    series — limma ``fitFDist`` (:func:`fit_f_dist`), for the count pool the F likelihood's
    maximum (:func:`fit_f_dist_ml`) — else status ``prior_too_few_series`` (the benchmark of
    calibration estimates its simulated reference panel's priors with this same function, and
    :func:`kpianalysis.analysis.projection.estimate_reference_prior` the real one's)."""
    families = {}
    for key, (s2, d) in sorted(groups.items()):
        if key == "poisson":
            # A count series whose increments are all equal has a Pearson dispersion of exactly
            # 0: an artefact of integer data (log 0 = −∞), not a small variance. limma's offset
            # (1e-5 × median) would make these few series decide d₀ (3.5 % of simulated running
            # totals turned d₀ = ∞, s₀² = 2.0 into d₀ = 1.3, s₀² = 0.54); the count model floors
            # the dispersion at 1 anyway. They are left out of the count family's moments.
            s2, d = [v for v in s2 if v > 0], [k for v, k in zip(s2, d, strict=True) if v > 0]
        if len(s2) < min_series:
            families[key] = FamilyPrior(key, len(s2), 0.0, math.nan, "prior_too_few_series")
            continue
        # Counts by maximum likelihood: their Pearson dispersions are not χ²-like in the left
        # tail the log moments weigh most (fit_f_dist_ml); continuous families as limma does.
        p = fit_f_dist_ml(s2, d) if key == "poisson" else fit_f_dist(s2, d)
        families[key] = FamilyPrior(key, p.n_series, float(p.df), float(p.scale), "prior_pooled")
    return families


def reference_prior_json(prior: ReferencePrior) -> str:
    """The file's text: canonical JSON (sorted keys, ``Infinity`` for an infinite d₀)."""
    doc = {
        "format": FORMAT,
        "provenance": dict(prior.provenance),
        "families": {
            k: {"n_series": f.n_series, "df": f.df, "scale": f.scale, "status": f.status}
            for k, f in sorted(prior.families.items())
        },
    }
    text = json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True, allow_nan=True)
    return text.replace("NaN", "null") + "\n"


def read_reference_prior(path: Path | str, *, missing_ok: bool = False) -> ReferencePrior:
    """Read a prior file written by ``kpianalysis estimate-prior``.

    ``missing_ok``: return :data:`NO_REFERENCE` for a missing file (a project without a prior:
    its reports fit each series alone and say so, status ``prior_missing``).

    Raises
    ------
    PriorFileError
        Missing file, invalid JSON, another format version, or a family without its fields.
    """
    path = Path(path)
    if missing_ok and not path.exists():
        return NO_REFERENCE
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PriorFileError(
            f"{path}: cannot read the trend prior ({exc.strerror}); run "
            "`kpianalysis estimate-prior` to create it"
        ) from exc
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PriorFileError(f"{path}: not a JSON trend prior: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise PriorFileError(f"{path}: expected a trend prior of format {FORMAT}")
    families = {}
    for key, f in doc.get("families", {}).items():
        try:
            status = str(f["status"])
            df = float(f["df"])
            scale = math.nan if f["scale"] is None else float(f["scale"])
            families[key] = FamilyPrior(key, int(f["n_series"]), df, scale, status)
        except (KeyError, TypeError, ValueError) as exc:
            raise PriorFileError(f"{path}: family {key!r} is incomplete ({exc!r})") from exc
        if status not in STATUS:
            raise PriorFileError(f"{path}: family {key!r} has unknown status {status!r}")
    return ReferencePrior(
        families=families,
        provenance=doc.get("provenance", {}),
        digest=hashlib.sha256(data).hexdigest(),
    )
