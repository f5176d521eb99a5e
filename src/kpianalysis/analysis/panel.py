"""The cross-programme panel of one fiscal year: the headline shares, distributions and classes.

Everything here is computed from one year's attainment table
(:func:`kpianalysis.analysis.tables.attainment_table`, one row per KPI of every programme) and
the programme table of the dataset (name, municipality, grant type). Pure functions: frames in,
frames out.

One denominator throughout: a KPI is *evaluated* when its achievement is known (it has a target
and an actual for the year). Shares of KPIs are over evaluated KPIs; KPIs without an actual are
counted beside them, never silently in or out of a share. A programme is evaluated when at least
one of its KPIs is. The two shares the Cabinet Office publishes for 地方創生推進交付金 are

* the share of (evaluated) programmes that achieved at least one KPI target
  (「KPIの目標を1つ以上達成した事業の割合」), and
* the share of (evaluated) KPIs that reached their target (「目標を達成したKPIの割合」),

to which :func:`panel_headline` adds the share of programmes that achieved every evaluated KPI.

Who is in a year's panel: a programme whose plan period holds the year, or that reports an
actual for it (:func:`panel_members`; a sheet may report a year after its plan ended). A
programme before or after its plan, with nothing reported, is not counted: its KPIs have no
actual because the year is not one of its years, not because something went missing.

Grant types are printed in many ways (地方創生先行型, 地方創生先行型交付金,
地方創生推進交付金（先駆タイプ）, デジタル田園都市国家構想交付金（地方創生推進タイプ）…).
:func:`grant_category` maps each to its national category (:data:`GRANT_CATEGORIES`); the
printed label is kept beside it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from kpianalysis.analysis.progress import OUTCOMES
from kpianalysis.data.dataset import Dataset
from kpianalysis.words import noun

__all__ = [
    "ASSESSMENTS",
    "GRANT_CATEGORIES",
    "PanelHeadline",
    "achievement_distribution",
    "grant_category",
    "panel_dataset",
    "panel_headline",
    "panel_kpis",
    "panel_members",
    "panel_programmes",
    "progress_classes",
]

#: The multi-year assessments of the attainment table: key → class column.
ASSESSMENTS: dict[str, str] = {
    "status": "status_class",
    "anticipated": "anticipated_class",
    "cagr": "cagr_class",
    "miss_share": "miss_share_class",
}

#: The national categories of the regional-revitalisation grants (地方創生関係交付金), oldest
#: first: Japanese short name → English. Since FY2022 the デジタル田園都市国家構想交付金 gathers the
#: 推進 and 拠点整備 grants as its 地方創生推進タイプ and 地方創生拠点整備タイプ (Cabinet Office); a
#: programme funded under those types continues its category, so only the digital-
#: implementation line (デジタル実装タイプ, the FY2021 デジタル田園都市国家構想推進交付金) is
#: デジタル田園都市国家構想.
GRANT_CATEGORIES: dict[str, str] = {
    "先行型": "Pioneering-type grant (FY2014)",
    "加速化": "Acceleration grant (FY2015)",
    "推進": "Promotion grant",
    "拠点整備": "Facilities grant",
    "デジタル田園都市国家構想": "Digital Garden City Nation grant (digital implementation)",
    "新しい地方経済・生活環境創生": "New Regional Economy and Living Environment grant (FY2025)",
}

#: (pattern, category), tried in order on the label without spaces (NFKC). 拠点整備 and 推進
#: come before デジタル田園都市 so that its 地方創生拠点整備タイプ / 地方創生推進タイプ keep
#: their category; a sub-type of the 推進 grant (先駆, 横展開, 隘路打開, Society5.0) is 推進.
_GRANT_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile("拠点整備"), "拠点整備"),
    (re.compile("加速化"), "加速化"),
    (re.compile("先行型"), "先行型"),
    (
        re.compile("地方創生推進|推進タイプ|先駆タイプ|横展開タイプ|隘路打開|Society5\\.0|^推進"),
        "推進",
    ),
    (re.compile("デジタル田園都市|デジタル実装"), "デジタル田園都市国家構想"),
    (re.compile("新しい地方経済|第2世代交付金"), "新しい地方経済・生活環境創生"),
)

_PROGRAMME_COLUMNS = (
    "programme_id",
    "municipality_code",
    "municipality_ja",
    "municipality_en",
    "name_ja",
    "name_en",
    "grant_type_ja",
    "plan_start",
    "plan_end",
)


def grant_category(label: object) -> str:
    """The national grant category (:data:`GRANT_CATEGORIES`) of a grant type as printed.

    A label no rule recognises is its own category (stripped), so it is never merged into
    another by a guess; a missing label is ``""``.

    Examples
    --------
    >>> grant_category("地方創生先行型"), grant_category("地方創生先行型交付金")
    ('先行型', '先行型')
    >>> grant_category("地方創生推進タイプ"), grant_category("地方創生推進交付金（先駆タイプ）")
    ('推進', '推進')
    >>> grant_category("デジタル田園都市国家構想交付金（地方創生拠点整備タイプ）")
    '拠点整備'
    >>> grant_category("デジタル田園都市国家構想交付金（デジタル実装タイプ）")
    'デジタル田園都市国家構想'
    >>> grant_category(" 県単独補助金 "), grant_category(None)
    ('県単独補助金', '')
    """
    if label is None or (isinstance(label, float) and np.isnan(label)) or label is pd.NA:
        return ""
    text = str(label).strip()
    squashed = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    for pattern, category in _GRANT_RULES:
        if pattern.search(squashed):
            return category
    return text


def panel_members(
    programmes: pd.DataFrame, observations: pd.DataFrame, fiscal_year: int
) -> np.ndarray:
    """Which programmes belong to the fiscal year's panel (a boolean per row of ``programmes``).

    A programme belongs when the year lies in its plan period (``plan_start`` ≤ year ≤
    ``plan_end``) or when it has an actual for the year in ``observations``.

    Examples
    --------
    >>> progs = pd.DataFrame({"programme_id": ["a", "b", "c"], "plan_start": [2015, 2021, 2016],
    ...                       "plan_end": [2019, 2023, 2018]})
    >>> obs = pd.DataFrame({"programme_id": ["c", "c"], "fiscal_year": [2019, 2020],
    ...                     "actual": [5.0, None]})
    >>> panel_members(progs, obs, 2019).tolist()  # a in its plan, c reports FY2019 late
    [True, False, True]
    >>> panel_members(progs, obs, 2020).tolist()  # c's FY2020 actual is missing
    [False, False, False]
    """
    fy = int(fiscal_year)
    start = pd.to_numeric(programmes["plan_start"], errors="coerce").to_numpy(dtype=float)
    end = pd.to_numeric(programmes["plan_end"], errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        in_plan = (start <= fy) & (fy <= end)
    obs = observations
    reported = obs.loc[(obs["fiscal_year"] == fy) & obs["actual"].notna(), "programme_id"]
    return in_plan | programmes["programme_id"].isin(pd.unique(reported)).to_numpy(dtype=bool)


def panel_dataset(dataset: Dataset, fiscal_year: int) -> Dataset:
    """``dataset`` (as of ``fiscal_year``) restricted to the programmes of the year's panel.

    Every table keeps only the rows of :func:`panel_members`' programmes, in their order, so the
    year's attainment table, the headline and every count cover exactly the panel.
    """
    keep = dataset.programmes["programme_id"][
        panel_members(dataset.programmes, dataset.observations, fiscal_year)
    ]
    if len(keep) == len(dataset.programmes):
        return dataset
    tables = {
        name: df[df["programme_id"].isin(keep)].reset_index(drop=True)
        for name, df in dataset.tables().items()
    }
    return replace(dataset, **tables)


def _programme_info(programmes: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in _PROGRAMME_COLUMNS if c in programmes.columns]
    info = programmes[cols].drop_duplicates("programme_id").reset_index(drop=True)
    if "grant_type_ja" in info.columns:
        info["grant_category_ja"] = [grant_category(g) for g in info["grant_type_ja"]]
    return info


def panel_kpis(table: pd.DataFrame, programmes: pd.DataFrame) -> pd.DataFrame:
    """One row per KPI of the year with its programme's grant type (for distributions, figures).

    Parameters
    ----------
    table
        The fiscal year's attainment table of every programme.
    programmes
        The dataset's programme table (``programme_id``, ``grant_type_ja`` …).

    Returns
    -------
    pandas.DataFrame
        ``programme_id``, ``indicator_id``, ``indicator_label``, ``kind``, ``grant_type_ja``
        (as printed), ``grant_category_ja`` (:func:`grant_category`), ``achieved`` (nullable
        boolean), ``evaluated`` (bool) and ``achievement_rate``, in the table's order.

    Examples
    --------
    >>> t = pd.DataFrame({"programme_id": ["a"], "indicator_id": [1], "indicator_label": ["①"],
    ...                   "kind": ["flow"], "achieved": pd.array([True], dtype="boolean"),
    ...                   "achievement_rate": [1.2]})
    >>> panel_kpis(t, pd.DataFrame({"programme_id": ["a"], "grant_type_ja": ["先駆タイプ"]}))[
    ...     ["grant_type_ja", "grant_category_ja", "evaluated"]].to_dict("records")
    [{'grant_type_ja': '先駆タイプ', 'grant_category_ja': '推進', 'evaluated': True}]
    """
    info = _programme_info(programmes)
    # Positions, not labels: reindexing or converting 35,000 Arrow strings to Python objects
    # costs more than the whole attainment core of a national panel.
    at = pd.Index(info["programme_id"]).get_indexer(table["programme_id"])
    grant = info["grant_type_ja"].array
    category = info["grant_category_ja"].array
    achieved = pd.array(table["achieved"], dtype="boolean")
    return pd.DataFrame(
        {
            "programme_id": table["programme_id"].array,
            "indicator_id": table["indicator_id"].array,
            "indicator_label": table["indicator_label"].array,
            "kind": table["kind"].array,
            "grant_type_ja": grant.take(at, allow_fill=True),
            "grant_category_ja": category.take(at, allow_fill=True),
            "achieved": achieved,
            "evaluated": ~np.asarray(achieved.isna(), dtype=bool),
            "achievement_rate": table["achievement_rate"].to_numpy(dtype=float),
        }
    )


def panel_programmes(table: pd.DataFrame, programmes: pd.DataFrame) -> pd.DataFrame:
    """One row per programme, sorted by the share of its evaluated KPIs achieved (highest first).

    Parameters
    ----------
    table
        The fiscal year's attainment table of every programme.
    programmes
        The dataset's programme table; every programme in it gets a row (one without KPI rows
        has ``n_kpis = 0`` and is not evaluated).

    Returns
    -------
    pandas.DataFrame
        The programme's identification (``programme_id``, municipality, names,
        ``grant_type_ja`` as printed and its ``grant_category_ja``, plan period), ``n_kpis``,
        ``n_evaluated``, ``n_achieved``,
        ``n_without_actual`` (= ``n_kpis − n_evaluated``), ``share_achieved``
        (``n_achieved / n_evaluated``; NaN when nothing is evaluated), ``any_achieved`` and
        ``all_achieved`` (nullable booleans, missing when nothing is evaluated). Sorted by
        ``share_achieved`` descending (unevaluated last), then ``n_achieved`` descending, then
        ``programme_id``.

    Examples
    --------
    >>> t = pd.DataFrame({"programme_id": ["a", "a", "b"],
    ...                   "achieved": pd.array([True, None, False], dtype="boolean")})
    >>> p = panel_programmes(t, pd.DataFrame({"programme_id": ["b", "a"],
    ...                                       "grant_type_ja": ["x", "y"]}))
    >>> p[["programme_id", "n_evaluated", "share_achieved", "all_achieved"]].values.tolist()
    [['a', 1, 1.0, True], ['b', 1, 0.0, False]]
    """
    info = _programme_info(programmes)
    codes = pd.Index(info["programme_id"]).get_indexer(table["programme_id"])
    if np.any(codes < 0):
        unknown = pd.unique(table["programme_id"][codes < 0])
        raise ValueError(
            f"{noun(len(unknown), 'programme')} {', '.join(map(str, unknown))} not in the "
            "programme table"
        )
    n = len(info)
    achieved = pd.array(table["achieved"], dtype="boolean")
    known = ~np.asarray(achieved.isna(), dtype=bool)
    hit = achieved.fillna(False).to_numpy(dtype=bool)
    n_kpis = np.bincount(codes, minlength=n)
    n_eval = np.bincount(codes[known], minlength=n)
    n_ach = np.bincount(codes[hit], minlength=n)
    evaluated = n_eval > 0
    out = info.copy()
    out["n_kpis"] = n_kpis
    out["n_evaluated"] = n_eval
    out["n_achieved"] = n_ach
    out["n_without_actual"] = n_kpis - n_eval
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_achieved"] = np.where(evaluated, n_ach / np.maximum(n_eval, 1), np.nan)
    out["any_achieved"] = pd.arrays.BooleanArray(n_ach > 0, ~evaluated)
    out["all_achieved"] = pd.arrays.BooleanArray(n_ach == n_eval, ~evaluated)
    # Unevaluated programmes last: their share is not 0, it is unknown.
    key = np.where(evaluated, -np.nan_to_num(out["share_achieved"].to_numpy()), np.inf)
    order = (
        out.assign(_key=key, _neg=-n_ach)
        .sort_values(["_key", "_neg", "programme_id"], kind="mergesort")
        .index
    )
    return out.loc[order].reset_index(drop=True)


@dataclass(frozen=True)
class PanelHeadline:
    """The year's headline counts and shares across programmes (shares: 1.0 = 100 %)."""

    fiscal_year: int
    n_programmes: int
    n_programmes_evaluated: int
    n_programmes_any_achieved: int
    share_programmes_any_achieved: float
    n_programmes_all_achieved: int
    share_programmes_all_achieved: float
    n_kpis: int
    n_kpis_evaluated: int
    n_kpis_achieved: int
    n_kpis_without_actual: int
    share_kpis_achieved: float

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (for records and JSON)."""
        return asdict(self)


def _share(k: int, n: int) -> float:
    return k / n if n else float("nan")


def panel_headline(programmes_table: pd.DataFrame, fiscal_year: int) -> PanelHeadline:
    """The headline of the panel from :func:`panel_programmes`.

    Examples
    --------
    >>> t = pd.DataFrame({"programme_id": ["a", "a", "b"],
    ...                   "achieved": pd.array([True, None, False], dtype="boolean")})
    >>> h = panel_headline(panel_programmes(t, pd.DataFrame({"programme_id": ["a", "b"],
    ...                                                       "grant_type_ja": ["x", "x"]})), 2023)
    >>> h.n_kpis_evaluated, h.n_kpis_achieved, h.share_kpis_achieved, h.n_kpis_without_actual
    (2, 1, 0.5, 1)
    """
    p = programmes_table
    n_eval_prog = int((p["n_evaluated"] > 0).sum())
    n_any = int(p["any_achieved"].fillna(False).sum())
    n_all = int(p["all_achieved"].fillna(False).sum())
    n_eval = int(p["n_evaluated"].sum())
    n_ach = int(p["n_achieved"].sum())
    return PanelHeadline(
        fiscal_year=int(fiscal_year),
        n_programmes=len(p),
        n_programmes_evaluated=n_eval_prog,
        n_programmes_any_achieved=n_any,
        share_programmes_any_achieved=_share(n_any, n_eval_prog),
        n_programmes_all_achieved=n_all,
        share_programmes_all_achieved=_share(n_all, n_eval_prog),
        n_kpis=int(p["n_kpis"].sum()),
        n_kpis_evaluated=n_eval,
        n_kpis_achieved=n_ach,
        n_kpis_without_actual=int(p["n_without_actual"].sum()),
        share_kpis_achieved=_share(n_ach, n_eval),
    )


def achievement_distribution(kpis: pd.DataFrame, by: str = "kind") -> pd.DataFrame:
    """Achievement rates summarised per group (KPI ``kind``, ``grant_category_ja`` …).

    Parameters
    ----------
    kpis
        :func:`panel_kpis`.
    by
        The grouping column.

    Returns
    -------
    pandas.DataFrame
        One row per group (sorted by the group's text): ``n_kpis``, ``n_evaluated``,
        ``n_achieved``, ``share_achieved`` (over evaluated), ``n_rates`` (KPIs with a defined
        achievement rate) and the rates' ``min``, ``q1``, ``median``, ``q3``, ``max``
        (linear-interpolated quartiles, as ``numpy.quantile``; NaN without a rate);
        ``n_programmes`` (programmes with a rate in the group) and ``rates`` (the rates,
        ascending: what a report lists where too few programmes make quartiles meaningful).

    Examples
    --------
    >>> k = pd.DataFrame({"kind": ["flow", "flow", "stock"], "evaluated": [True, True, False],
    ...                   "achieved": pd.array([True, False, None], dtype="boolean"),
    ...                   "achievement_rate": [1.5, 0.5, float("nan")]})
    >>> d = achievement_distribution(k)
    >>> d[["kind", "n_evaluated", "share_achieved", "median"]].values.tolist()
    [['flow', 2, 0.5, 1.0], ['stock', 0, nan, nan]]
    """
    rows = []
    for key, g in kpis.groupby(by, sort=True, dropna=False):
        rates = g["achievement_rate"].to_numpy(dtype=float)
        finite = np.isfinite(rates)
        rates = rates[finite]
        owners = g["programme_id"].to_numpy()[finite] if "programme_id" in g else []
        n_eval = int(g["evaluated"].sum())
        n_ach = int(pd.array(g["achieved"], dtype="boolean").fillna(False).sum())
        q = np.quantile(rates, [0.0, 0.25, 0.5, 0.75, 1.0]) if len(rates) else [np.nan] * 5
        rows.append(
            {
                by: key,
                "n_kpis": len(g),
                "n_evaluated": n_eval,
                "n_achieved": n_ach,
                "share_achieved": _share(n_ach, n_eval),
                "n_rates": len(rates),
                "min": float(q[0]),
                "q1": float(q[1]),
                "median": float(q[2]),
                "q3": float(q[3]),
                "max": float(q[4]),
                "n_programmes": len(set(owners)),
                "rates": tuple(sorted(float(r) for r in rates)),
            }
        )
    return pd.DataFrame(rows)


def progress_classes(table: pd.DataFrame) -> pd.DataFrame:
    """How many KPIs, and of how many programmes, fall in each class of each multi-year assessment.

    Returns
    -------
    pandas.DataFrame
        One row per (``assessment``, ``outcome``) that occurs, in the order of
        :data:`ASSESSMENTS` then :data:`kpianalysis.analysis.progress.OUTCOMES`: ``n_kpis``,
        ``share_kpis`` (of all KPIs of the table) and ``n_programmes`` (programmes with at least
        one KPI in that class).

    Examples
    --------
    >>> t = pd.DataFrame({"programme_id": ["a", "a", "b"],
    ...                   "status_class": ["on_track", "behind", "on_track"],
    ...                   "anticipated_class": ["maintain"] * 3,
    ...                   "cagr_class": ["deterioration"] * 3,
    ...                   "miss_share_class": ["on_track"] * 3})
    >>> progress_classes(t).iloc[:2][["outcome", "n_kpis", "n_programmes"]].values.tolist()
    [['on_track', 2, 2], ['behind', 1, 1]]
    """
    n = len(table)
    # Integer codes throughout: one factorize per column, then bincounts.
    pcode, pids = pd.factorize(table["programme_id"])
    n_p = max(len(pids), 1)
    rank = {o: i for i, o in enumerate(OUTCOMES)}
    rows = []
    for assessment, col in ASSESSMENTS.items():
        code, outcomes = pd.factorize(table[col])
        present = code >= 0
        c, p = code[present], pcode[present]
        n_kpis = np.bincount(c, minlength=len(outcomes))
        pairs = np.unique(c.astype(np.int64) * n_p + p)  # (class, programme) pairs that occur
        n_progs = np.bincount(pairs // n_p, minlength=len(outcomes))
        order = sorted(
            range(len(outcomes)), key=lambda i: (rank.get(outcomes[i], len(rank)), str(outcomes[i]))
        )
        for i in order:
            rows.append(
                {
                    "assessment": assessment,
                    "outcome": str(outcomes[i]),
                    "n_kpis": int(n_kpis[i]),
                    "share_kpis": _share(int(n_kpis[i]), n),
                    "n_programmes": int(n_progs[i]),
                }
            )
    return pd.DataFrame(
        rows, columns=["assessment", "outcome", "n_kpis", "share_kpis", "n_programmes"]
    )
