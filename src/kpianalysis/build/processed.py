"""``data/processed``: the validated tidy tables and per-year results, rewritten only when stale."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kpianalysis.build.plan import common_inputs
from kpianalysis.errors import OutputError
from kpianalysis.fileio import sha256_file, write_atomic
from kpianalysis.paths import DEFAULT_PRIOR
from kpianalysis.report.registry import year_tables

__all__ = [
    "PROCESSED_STAMP",
    "prepare_data",
]


def prepare_data(root: Path, raw_dir: str, processed_dir: str) -> tuple[list[int], Any, list[Path]]:
    """Load + validate the raw data and write the processed tables when they are out of date.

    ``data/processed/.inputs.sha256`` records the digest of the validated data, of the versioned
    trend prior (``data/reference/trend_prior.json``: the trend tables pool against it, as the
    trends reports do) and of the library source that produced the files there; when all three
    are unchanged and every file is present, nothing is recomputed or rewritten (the no-op
    build stays well under a second).

    Returns
    -------
    (fiscal_years, results, written_paths)
        ``results`` is a :class:`~kpianalysis.analysis.results.ResultsByYear` of the dataset
        (``results.dataset``), holding the year tables computed for the files so the build reuses
        them; ``written_paths`` is empty when the processed files were already up to date.

    Raises
    ------
    kpianalysis.errors.DataError
        On invalid raw data, before anything is written.

    Examples
    --------
    >>> years, results, written = prepare_data(  # doctest: +SKIP
    ...     Path("."), "data/raw", "data/processed")
    """
    from kpianalysis.analysis.results import ResultsByYear
    from kpianalysis.data.dataset import load_dataset

    ds = load_dataset(Path(root) / raw_dir)
    # The prior the trends notebooks read (their parameter ``prior_file``, default
    # DEFAULT_PRIOR); read when a trend table is first computed (a no-op build computes none).
    prior = Path(root) / DEFAULT_PRIOR
    results = ResultsByYear(ds, prior)
    out = Path(root) / processed_dir
    inputs = {
        "data": ds.digest(),
        "library": common_inputs(root, raw_dir, raw=False),
        "prior": sha256_file(prior) if prior.is_file() else None,
    }
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
    stamp = out / PROCESSED_STAMP
    if _processed_up_to_date(out, stamp, digest, _processed_names(ds)):
        return [int(y) for y in ds.fiscal_years], results, []

    from kpianalysis.analysis.results import write_results
    from kpianalysis.data.dataset import write_processed

    try:
        written = [Path(p) for p in write_processed(ds, out) + write_results(results, out)]
        lines = [digest, *(f"{sha256_file(p)}  {p.name}" for p in written)]
        write_atomic(stamp, ("\n".join(lines) + "\n").encode("utf-8"))
    except OSError as exc:  # data/processed a file, a full disk, no permission
        raise OutputError(f"writing the processed data to {out} failed: {exc}") from exc
    return [int(y) for y in ds.fiscal_years], results, written


def _processed_up_to_date(out: Path, stamp: Path, digest: str, names: Sequence[str]) -> bool:
    """Whether the stamp matches ``digest`` and every expected file is there, unmodified."""
    try:
        lines = stamp.read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    if not lines or lines[0] != digest:
        return False
    recorded = dict(reversed(line.split("  ", 1)) for line in lines[1:] if "  " in line)
    if sorted(recorded) != sorted(names):
        return False
    try:
        return all(sha256_file(out / n) == h for n, h in recorded.items())
    except OSError:
        return False


#: Stamp of the processed files' inputs (see :func:`prepare_data`).
PROCESSED_STAMP = ".inputs.sha256"


def _processed_names(ds: Any) -> list[str]:
    stems = list(ds.tables()) + [t for fy in ds.fiscal_years for t in year_tables(int(fy))]
    return [f"{stem}.{ext}" for stem in stems for ext in ("csv", "parquet")]
