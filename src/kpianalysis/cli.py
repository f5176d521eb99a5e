"""Command line: ``kpianalysis build|index|validate|process|list|estimate-prior`` (also
``python -m kpianalysis``).

Exit codes: 0 ok; 1 bad input or a failed run (one line on stderr says why); 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from kpianalysis.build.parameters import LANGUAGES
from kpianalysis.errors import KpiAnalysisError
from kpianalysis.paths import (
    DEFAULT_NOTEBOOKS,
    DEFAULT_PRIOR,
    DEFAULT_PROCESSED,
    DEFAULT_RAW,
    DEFAULT_REPORTS,
)
from kpianalysis.words import counted

__all__ = [
    "add_build_arguments",
    "build_parser",
    "check_reports_option",
    "main",
    "parse_shard",
    "run_build",
]


def _warn_unchecked(ds: object, command: str) -> None:
    """Name each programme whose transcription was not checked against a source document."""
    from kpianalysis.data.dataset import provenance_warnings

    for warning in provenance_warnings(ds):  # type: ignore[arg-type]
        print(f"kpianalysis {command}: warning: {warning}", file=sys.stderr)


def _cmd_validate(args: argparse.Namespace) -> int:
    from kpianalysis.data.dataset import load_dataset

    ds = load_dataset(args.path)
    _warn_unchecked(ds, "validate")
    if args.notebooks.is_dir():
        from kpianalysis.build.plan import discover_notebooks

        # The report notebooks' names, against what the archive writes (issue 19).
        discover_notebooks(args.notebooks)
    n_ind = len(ds.indicators)
    n_obs = len(ds.observations)
    print(
        f"ok: {args.path}: {counted(len(ds.programmes), 'programme')}, "
        f"{counted(n_ind, 'indicator')}, {counted(n_obs, 'observation')}, "
        f"fiscal years {', '.join(map(str, ds.fiscal_years))}"
    )
    return 0


def _cmd_process(args: argparse.Namespace) -> int:
    from kpianalysis.analysis.results import ResultsByYear, write_results
    from kpianalysis.data.dataset import load_dataset, write_processed

    ds = load_dataset(args.raw)
    _warn_unchecked(ds, "process")
    # The trend tables pool against the prior the trends reports read, as they do.
    results = ResultsByYear(ds, args.prior)
    written = write_processed(ds, args.out) + write_results(results, args.out)
    print(f"wrote {len(written)} files to {args.out}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from kpianalysis.data.dataset import load_dataset

    ds = load_dataset(args.raw)
    for row in ds.programmes.itertuples():
        years = ds.observations.loc[
            ds.observations["programme_id"] == row.programme_id, "fiscal_year"
        ]
        print(f"{row.programme_id}\t{row.name_ja}\tFY{years.min()}–FY{years.max()}")
        for ind in ds.indicators[ds.indicators["programme_id"] == row.programme_id].itertuples():
            print(f"  {ind.indicator_id}\t{ind.name_ja}\t[{ind.unit}]")
    return 0


def _cmd_estimate_prior(args: argparse.Namespace) -> int:
    import datetime

    from kpianalysis.analysis.projection import estimate_reference_prior
    from kpianalysis.analysis.reference_prior import reference_prior_json
    from kpianalysis.data.dataset import load_dataset
    from kpianalysis.fileio import write_atomic

    ds = load_dataset(args.raw)
    _warn_unchecked(ds, "estimate-prior")
    today = args.date or datetime.date.today().isoformat()
    prior = estimate_reference_prior(ds, estimated_on=today)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out, reference_prior_json(prior).encode("utf-8"))
    n = len(prior.provenance["programmes"])
    print(f"wrote {args.out}: reference panel of {counted(n, 'programme')}")
    for key, fam in sorted(prior.families.items()):
        state = (
            f"d0={fam.df:.3g} s0^2={fam.scale:.4g}"
            if fam.status == "prior_pooled"
            else (fam.status)
        )
        print(f"  {key}: {fam.n_series} series, {state}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kpianalysis",
        description="Reproducible analysis of municipal regional-revitalisation KPIs.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check the raw data; exit non-zero on the first problem")
    p.add_argument("path", nargs="?", type=Path, default=DEFAULT_RAW, help="raw data directory")
    p.add_argument(
        "--notebooks",
        type=Path,
        default=DEFAULT_NOTEBOOKS,
        help="report notebooks whose names are checked too, if the folder exists",
    )
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("process", help="validate the raw data and write data/processed/")
    p.add_argument("--raw", type=Path, default=DEFAULT_RAW)
    p.add_argument("--out", type=Path, default=DEFAULT_PROCESSED)
    p.add_argument("--prior", type=Path, default=DEFAULT_PRIOR, help="versioned trend prior")
    p.set_defaults(func=_cmd_process)

    p = sub.add_parser("list", help="list programmes, indicators and fiscal years")
    p.add_argument("--raw", type=Path, default=DEFAULT_RAW)
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser(
        "estimate-prior",
        help="estimate the trend variance priors from the programmes in the raw data (a "
        "deliberate step: every trends report is rebuilt against the new file)",
    )
    p.add_argument("--raw", type=Path, default=DEFAULT_RAW, help="reference panel: raw data")
    p.add_argument("--out", type=Path, default=DEFAULT_PRIOR, help="prior file to write")
    p.add_argument("--date", help="date recorded as estimated_on (default: today, ISO)")
    p.set_defaults(func=_cmd_estimate_prior)

    p = sub.add_parser("build", help="process the data and build every fiscal year's reports")
    add_build_arguments(p)
    p.set_defaults(func=run_build)

    p = sub.add_parser("index", help="rebuild reports/index.html from the run records")
    p.add_argument("--reports", type=Path, default=DEFAULT_REPORTS, help="archive directory")
    p.set_defaults(func=_cmd_index)
    return parser


def _cmd_index(args: argparse.Namespace) -> int:
    from kpianalysis.build.archive import ArchiveLock, collect_records
    from kpianalysis.build.commit import write_index

    check_reports_option(args.reports, None)
    with ArchiveLock(args.reports) as lock:
        path = write_index(args.reports, lock)
    print(f"index: {path} ({counted(len(collect_records(args.reports)), 'report')})")
    return 0


def check_reports_option(reports: Path, root: Path | None) -> None:
    """Refuse an archive (``--reports``) outside the project.

    ``kpianalysis build`` passes its ``--root``: the archive must lie inside it, like every path
    option (``--reports /`` filled ``/`` with reports). ``kpianalysis index`` (``root=None``)
    writes only into an archive: a folder inside a project (one holding ``pyproject.toml`` and
    ``data/``), or one a build has already made (its ``.generation`` or ``.lock`` is there).

    Raises
    ------
    ParameterError
        Naming the option and why.
    """
    from kpianalysis.build.archive import GENERATION, LOCK
    from kpianalysis.build.parameters import check_path
    from kpianalysis.errors import ParameterError
    from kpianalysis.paths import PROJECT_MARKERS, find_project_root

    if root is None:
        root = find_project_root(Path(reports).resolve().parent)
        if not all((root / m).exists() for m in PROJECT_MARKERS):
            if any((Path(reports) / n).is_file() for n in (GENERATION, LOCK)):
                return
            raise ParameterError(
                f"--reports {str(reports)!r} is neither inside a project (a folder holding "
                f"{' and '.join(PROJECT_MARKERS)}) nor an archive a build made"
            )
    check_path("--reports", reports, root)


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` → ``(K, N)`` with 1 ≤ K ≤ N (a Slurm array index or CI matrix entry).

    Examples
    --------
    >>> parse_shard("2/4")
    (2, 4)
    >>> parse_shard("0/4")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected K/N with 1 <= K <= N (e.g. 2/4), got '0/4'
    """
    k, sep, n = text.partition("/")
    try:
        shard = (int(k), int(n))
    except ValueError:
        shard = (0, 0)
    if not sep or not (1 <= shard[0] <= shard[1]):
        raise argparse.ArgumentTypeError(f"expected K/N with 1 <= K <= N (e.g. 2/4), got {text!r}")
    return shard


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KpiAnalysisError as exc:
        print(f"kpianalysis {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"kpianalysis {args.command}: interrupted", file=sys.stderr)
        return 130


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``kpianalysis build``.

    Examples
    --------
    >>> p = argparse.ArgumentParser(); add_build_arguments(p)
    >>> p.parse_args(["--fiscal-year", "2022", "--fiscal-year", "2023"]).fiscal_year
    [2022, 2023]
    """
    parser.add_argument(
        "--fiscal-year",
        type=int,
        action="append",
        metavar="N",
        help="build only this fiscal year (repeatable; default: every year in the data)",
    )
    parser.add_argument(
        "--notebook",
        action="append",
        metavar="NAME",
        help="build only this notebook, by file stem (repeatable; default: every report)",
    )
    parser.add_argument(
        "--programme",
        action="append",
        metavar="ID",
        help="build only this programme's reports, no panel report (repeatable; default: all)",
    )
    parser.add_argument(
        "--shard",
        type=parse_shard,
        default=None,
        metavar="K/N",
        help="build only shard K of N of the planned runs (a job array fills one archive)",
    )
    parser.add_argument(
        "--no-index",
        action="store_true",
        help="do not write reports/index.html (run `kpianalysis index` after the last shard)",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        metavar="N",
        help="parallel runs (default: number of CPU cores)",
    )
    parser.add_argument("--force", action="store_true", help="rerun even unchanged runs")
    parser.add_argument(
        "--cell-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="fail a run whose cell runs longer (default: the notebook's metadata "
        "kpianalysis.cell_timeout, else 600)",
    )
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="fail at once if another build is producing one of these runs, instead of waiting",
    )
    parser.add_argument("--root", type=Path, default=Path("."), help="project root (default: .)")
    parser.add_argument("--raw", type=Path, default=DEFAULT_RAW, help="raw data directory")
    parser.add_argument(
        "--processed", type=Path, default=DEFAULT_PROCESSED, help="processed data directory"
    )
    parser.add_argument(
        "--notebooks", type=Path, default=DEFAULT_NOTEBOOKS, help="report notebooks directory"
    )
    parser.add_argument(
        "--reports",
        type=Path,
        default=DEFAULT_REPORTS,
        help="archive directory, inside the project (default: reports)",
    )
    parser.add_argument(
        "--language",
        action="append",
        choices=LANGUAGES,
        default=None,
        help="build the reports in this language only (repeatable; default: ja and en, each "
        "report linking the other)",
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )


def run_build(args: argparse.Namespace) -> int:
    """Entry point of ``kpianalysis build``; returns the exit code (errors raise, see cli.py).

    Examples
    --------
    >>> from kpianalysis.cli import main
    >>> main(["build", "--jobs", "2"])  # doctest: +SKIP
    0
    """
    from kpianalysis.build.pipeline import build  # papermill & co. only for `build`

    t0 = time.perf_counter()
    check_reports_option(args.reports, args.root)
    try:
        summary = build(
            args.root,
            notebooks_dir=args.notebooks,
            raw_dir=args.raw,
            processed_dir=args.processed,
            reports=args.reports,
            fiscal_years=args.fiscal_year,
            notebooks=args.notebook,
            force=args.force,
            jobs=args.jobs,
            wait_for_lock=not args.no_wait,
            progress=args.progress,
            languages=args.language or LANGUAGES,
            programmes=args.programme,
            shard=args.shard,
            index=not args.no_index,
            cell_timeout=args.cell_timeout,
        )
    except KpiAnalysisError:
        raise
    print(
        f"built {summary.count('ok')}, unchanged {summary.count('skipped')}, "
        f"failed {summary.count('failed')} ({counted(len(summary.outcomes), 'run')}) "
        f"in {time.perf_counter() - t0:.1f} s; "
        f"index: {summary.index}",
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
