"""The versioned trend prior (issue 18.1): estimated from a reference panel, read by reports.

The reference panels here are synthetic copies of the seed programme (machinery only: a shipped
prior is never estimated from synthetic data). The seed programme is selected by id.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import RAW, SEED_ID
from kpianalysis.analysis.projection import (
    estimate_reference_prior,
    first_pass_fits,
    trend_priors,
    trend_table,
)
from kpianalysis.analysis.reference_prior import (
    MIN_SERIES,
    NO_REFERENCE,
    PriorFileError,
    family_prior,
    read_reference_prior,
    reference_prior_json,
)
from kpianalysis.analysis.shrinkage import fit_f_dist, fit_f_dist_ml
from kpianalysis.cli import main
from kpianalysis.paths import DEFAULT_PRIOR, project_root


def panel(seed, n: int, rng_seed: int = 3):
    """The seed programme plus ``n`` copies whose actuals are the seed's with noise of the kind
    each KPI has (running total: Poisson increments; flow and average: Gaussian; stock: log-normal).
    """
    sid = seed.programmes["programme_id"].iloc[0]
    obs0 = seed.observations[seed.observations["programme_id"] == sid]
    ind0 = seed.indicators[seed.indicators["programme_id"] == sid]
    prog0 = seed.programmes[seed.programmes["programme_id"] == sid]
    rng = np.random.default_rng(rng_seed)
    obs, inds, progs = [obs0], [ind0], [prog0]
    for i in range(n):
        pid = f"9{i:04d}-copy"
        o = obs0.copy()
        o["programme_id"] = pid
        for kid, g in o.groupby("indicator_id"):
            kind = ind0.loc[ind0["indicator_id"] == kid, "kind"].iloc[0]
            a = g["actual"].to_numpy(dtype=float, copy=True)
            have = ~np.isnan(a)
            if kind == "cumulative":
                start = a[have][0]
                a[have] = start + np.concatenate([[0], np.cumsum(rng.poisson(3, have.sum() - 1))])
            elif kind == "stock":
                a[have] = np.round(a[have] * np.exp(rng.normal(0, 0.2, have.sum())))
            else:
                sd = 0.05 * np.abs(a[have]).mean() + 1.0  # noise on the KPI's own scale
                a[have] = np.round(a[have] + rng.normal(0, sd, have.sum()))
            o.loc[g.index, "actual"] = a
        obs.append(o)
        inds.append(ind0.assign(programme_id=pid))
        progs.append(prog0.assign(programme_id=pid))
    return dataclasses.replace(
        seed,
        observations=pd.concat(obs, ignore_index=True),
        indicators=pd.concat(inds, ignore_index=True),
        programmes=pd.concat(progs, ignore_index=True),
    )


@pytest.fixture(scope="module")
def seed_alone(seed):
    return dataclasses.replace(
        seed,
        observations=seed.observations[seed.observations["programme_id"] == SEED_ID],
        indicators=seed.indicators[seed.indicators["programme_id"] == SEED_ID],
        programmes=seed.programmes[seed.programmes["programme_id"] == SEED_ID],
    )


@pytest.fixture(scope="module")
def reference(seed_alone):
    return estimate_reference_prior(panel(seed_alone, 24), estimated_on="2026-12-07")


def test_prior_is_fitfdist_of_the_panel_variances(seed_alone, reference) -> None:
    ds = panel(seed_alone, 24)
    # Each family's prior is fitFDist of the KPIs' own variances at their latest year.
    by_key: dict[str, tuple[list[float], list[float]]] = {}
    for part in ds.by_programme().values():
        fy = max(part.fiscal_years)
        for key, fit in first_pass_fits(part.as_of(fy), fy):
            if fit.s2 is not None and fit.df_resid:
                by_key.setdefault(key, ([], []))[0].append(fit.s2)
                by_key[key][1].append(fit.df_resid)
    assert set(reference.families) == set(by_key) == {
        "poisson", "loglinear", "ols|flow|人", "ols|average|回"
    }  # fmt: skip
    for key, (s2, d) in by_key.items():
        fam = reference.families[key]
        expected = fit_f_dist(s2, d)
        if key == "poisson":  # exact-zero Pearson dispersions (equal increments) are left out,
            # and the count family's prior is the F likelihood's maximum (fit_f_dist_ml)
            d = [k for v, k in zip(s2, d, strict=True) if v > 0]
            s2 = [v for v in s2 if v > 0]
            expected = fit_f_dist_ml(s2, d)
        assert fam.status == "prior_pooled" and fam.n_series == len(s2) >= 20
        assert fam.df == pytest.approx(expected.df, rel=1e-12)
        assert fam.scale == pytest.approx(expected.scale, rel=1e-12)
    ids = [p["programme_id"] for p in reference.provenance["programmes"]]
    assert len(ids) == 25 and SEED_ID in ids
    assert reference.provenance["estimated_on"] == "2026-12-07"


def test_file_round_trip_and_digest(reference, tmp_path: Path) -> None:
    path = tmp_path / "prior.json"
    text = reference_prior_json(reference)
    path.write_text(text, encoding="utf-8")
    back = read_reference_prior(path)
    assert back.families == reference.families
    assert back.provenance == json.loads(json.dumps(reference.provenance))
    assert back.digest == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert reference_prior_json(back) == text  # canonical: the same bytes again
    path.write_text("{", encoding="utf-8")
    with pytest.raises(PriorFileError, match=r"prior\.json"):
        read_reference_prior(path)
    with pytest.raises(PriorFileError, match="estimate-prior"):
        read_reference_prior(tmp_path / "missing.json")


def test_three_point_flows_averages_and_stocks_pool_against_the_prior(
    seed_alone, reference
) -> None:
    # FY2022: ② (flow) and ③ (average) have FY2021–2022 only; as of FY2023 three points, one
    # residual df: alone no interval (t on 1 df is not shown); pooled, d₀ + 1 df.
    alone = trend_table(seed_alone.as_of(2023), 2023, pool=False).set_index("indicator_id")
    pooled = trend_table(seed_alone.as_of(2023), 2023, reference=reference)
    pooled = pooled.set_index("indicator_id")
    for kid, key in ((2, "ols|flow|人"), (3, "ols|average|回")):
        assert alone.loc[kid, "n"] == 3 and alone.loc[kid, "reason"] == "too_few_df"
        fam = reference.families[key]
        row = pooled.loc[kid]
        assert row["prior_status"] == "prior_pooled" and pd.isna(row["reason"])
        assert row["prior_df"] == pytest.approx(fam.df) and row["df_total"] == pytest.approx(
            fam.df + 1
        )
        assert np.isfinite(row["projected_pi_low"]) and np.isfinite(row["projected_pi_high"])
        assert row["projected_pi_low"] < row["projected_mean"] < row["projected_pi_high"]
    # ④ (stock, log-linear) as of FY2022: baseline FY2020 and FY2021–2022, three points.
    stock = trend_table(seed_alone.as_of(2022), 2022, reference=reference).set_index("indicator_id")
    assert stock.loc[4, "model"] == "loglinear" and stock.loc[4, "n"] == 3
    assert stock.loc[4, "prior_status"] == "prior_pooled"
    assert np.isfinite(stock.loc[4, "prob_reach"])
    # The methods appendix: the families and the provenance of the estimate.
    methods = trend_priors(seed_alone.as_of(2023), 2023, reference=reference)
    assert set(methods["status"]) == {"prior_pooled"} and (methods["n_series"] >= 20).all()


def test_seed_alone_is_too_small_and_says_so(seed_alone) -> None:
    tiny = estimate_reference_prior(seed_alone, estimated_on="2026-12-07")
    assert {f.status for f in tiny.families.values()} == {"prior_too_few_series"}
    assert all(f.n_series == 1 < MIN_SERIES for f in tiny.families.values())
    t = trend_table(seed_alone.as_of(2023), 2023, reference=tiny).set_index("indicator_id")
    assert set(t["prior_status"]) == {"prior_too_few_series"}
    # Unpooled: ② and ③ (3 points, 1 df) show no interval, as before.
    assert t.loc[2, "reason"] == "too_few_df" and math.isnan(t.loc[2, "projected_pi_low"])
    assert family_prior(None, "poisson")[1] == "prior_missing"
    assert family_prior(tiny, "logit")[1] == "prior_not_in_panel"


def test_estimate_prior_command_reproduces_the_shipped_file(tmp_path: Path) -> None:
    shipped_path = project_root() / DEFAULT_PRIOR
    shipped = read_reference_prior(shipped_path)
    # The reference panel it records, and only that (partners' folders may sit in data/raw).
    raw = tmp_path / "raw"
    ids = [p["programme_id"] for p in shipped.provenance["programmes"]]
    for pid in ids:
        shutil.copytree(RAW / pid, raw / pid)
    out = tmp_path / "prior.json"
    date = shipped.provenance["estimated_on"]
    assert main(["estimate-prior", "--raw", str(raw), "--out", str(out), "--date", date]) == 0

    # Byte for byte but the data digests (a change of the data layer's canonical tables moves
    # them; the file records what the prior was estimated from, not what the tables look like
    # today).
    def strip(text: str) -> dict:
        doc = json.loads(text)
        for p in doc["provenance"]["programmes"]:
            p.pop("digest")
        return doc

    assert strip(out.read_text(encoding="utf-8")) == strip(shipped_path.read_text(encoding="utf-8"))
    # Never estimated from synthetic data: every programme of the shipped panel is a real one
    # with its source document in its folder.
    assert ids == [SEED_ID]
    assert any(p.suffix == ".txt" for p in (RAW / SEED_ID).iterdir())


def test_prior_digest_keys_exactly_the_trends_runs(tmp_path: Path) -> None:
    from conftest import demo_programme
    from kpianalysis.analysis.results import ResultsByYear
    from kpianalysis.build import plan
    from kpianalysis.data.dataset import load_dataset

    root = tmp_path / "proj"
    shutil.copytree(RAW / SEED_ID, root / "data" / "raw" / SEED_ID)
    shutil.copytree(project_root() / "notebooks", root / "notebooks")
    prior = root / DEFAULT_PRIOR
    prior.parent.mkdir(parents=True)
    shutil.copy2(project_root() / DEFAULT_PRIOR, prior)

    def keys() -> dict[str, str]:
        ds = load_dataset(root / "data" / "raw")
        specs = plan.plan_runs(
            plan.discover_notebooks(root / "notebooks"),
            root=root,
            fiscal_years=[],
            data_years=ds.fiscal_years,
            raw_dir="data/raw",
            processed_dir="data/processed",
            dataset=ResultsByYear(ds),
        )
        return {s.identity: s.run_key for s in specs}

    before = keys()
    trends = {i for i in before if i.endswith("/trends")}
    assert {i for i in trends if i.startswith(SEED_ID)} == {
        f"{SEED_ID}/fy{y}/trends" for y in (2021, 2022, 2023)
    }
    # A new programme in data/raw: no existing run's key moves (the prior is not re-estimated).
    demo_programme(root / "data" / "raw", range(2021, 2023))
    added = keys()
    assert {i: added[i] for i in before if not i.startswith("panel/")} == {
        i: k for i, k in before.items() if not i.startswith("panel/")
    }
    # Re-estimating the prior (here: from the panel that now holds the demo) changes exactly the
    # trends runs' keys.
    assert main(["estimate-prior", "--raw", str(root / "data" / "raw"), "--out", str(prior),
                 "--date", "2026-12-08"]) == 0  # fmt: skip
    after = keys()
    changed = {i for i in added if after[i] != added[i]}
    assert changed == {i for i in added if i.endswith("/trends")}


def test_without_a_prior_file_each_series_is_fitted_alone_and_the_report_says_so(
    seed_alone, tmp_path: Path
) -> None:
    from kpianalysis.report.trends_views import trend_methods

    # The trends notebook reads its prior file with missing_ok: a project without one pools
    # nothing — not even among whatever the dataset it is given holds (here 25 programmes, whose
    # flows pool when asked to: reference=None, the panel mode).
    reference = read_reference_prior(tmp_path / "no_prior.json", missing_ok=True)
    assert reference is NO_REFERENCE and reference.missing
    cut = panel(seed_alone, 24).as_of(2023)
    alone = trend_table(cut, 2023, programme_id=SEED_ID, reference=reference)
    alone = alone.set_index("indicator_id")
    assert set(alone["prior_status"]) == {"prior_missing"}
    assert (alone["prior_df"].fillna(0) == 0).all()
    # ② FY2021–2023: three points, 1 df alone: no interval (too_few_df).
    assert alone.loc[2, "df_total"] == 1 and alone.loc[2, "reason"] == "too_few_df"
    pooled = trend_table(cut, 2023, programme_id=SEED_ID).set_index("indicator_id")
    assert pooled.loc[2, "prior_df"] > 0 and pooled.loc[2, "df_total"] > 1
    said = {"ja": "事前分布のファイルがないため統合せず", "en": "no prior file"}
    for language, words in said.items():
        html = str(trend_methods(language, trend_priors(cut, 2023, reference=reference)))
        assert words in html and "reference panel of" not in html


def test_methods_appendix_names_the_reference_panel_and_what_was_not_pooled(
    seed_alone, reference
) -> None:
    from kpianalysis.report.trends_views import trend_methods

    tiny = estimate_reference_prior(seed_alone, estimated_on="2026-12-07")
    ja = str(trend_methods("ja", trend_priors(seed_alone.as_of(2023), 2023, reference=tiny)))
    assert f"2026-12-07に参照パネル1事業（{SEED_ID}）から推定" in ja
    assert "比較できる系列が少なく事前分布を推定できない分散の統合" in ja and "（1系列）" in ja
    en = str(trend_methods("en", trend_priors(seed_alone.as_of(2023), 2023, reference=reference)))
    assert "reference panel of 25 programmes" in en and "families with fewer than 8" in en
    n = reference.families["poisson"].n_series
    assert f"overdispersion of the count models&#x27;: {n} series, d₀ = " in en
    # A programme id is data: escaped like every data-derived string.
    hostile = dataclasses.replace(
        tiny, provenance={**tiny.provenance, "programmes": [{"programme_id": "<b>x</b>"}]}
    )
    html = str(trend_methods("en", hostile.frame()))
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
