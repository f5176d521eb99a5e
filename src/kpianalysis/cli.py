"""Command line: ``kpianalysis build|validate|process|list`` (also ``python -m kpianalysis``).

Exit codes: 0 ok; 1 bad input or a failed run (one line on stderr says why); 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from kpianalysis.errors import KpiAnalysisError

DEFAULT_RAW = Path("data/raw")
DEFAULT_PROCESSED = Path("data/processed")


def _cmd_validate(args: argparse.Namespace) -> int:
    from kpianalysis.dataset import load_dataset

    ds = load_dataset(args.path)
    n_ind = len(ds.indicators)
    n_obs = len(ds.observations)
    print(
        f"ok: {args.path}: {len(ds.programmes)} programme(s), {n_ind} indicator(s), "
        f"{n_obs} observation(s), fiscal years {', '.join(map(str, ds.fiscal_years))}"
    )
    return 0


def _cmd_process(args: argparse.Namespace) -> int:
    from kpianalysis.dataset import load_dataset, write_processed
    from kpianalysis.results import write_results

    ds = load_dataset(args.raw)
    written = write_processed(ds, args.out) + write_results(ds, args.out)
    print(f"wrote {len(written)} files to {args.out}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from kpianalysis.dataset import load_dataset

    ds = load_dataset(args.raw)
    for row in ds.programmes.itertuples():
        years = ds.observations.loc[
            ds.observations["programme_id"] == row.programme_id, "fiscal_year"
        ]
        print(f"{row.programme_id}\t{row.name_ja}\tFY{years.min()}–FY{years.max()}")
        for ind in ds.indicators[ds.indicators["programme_id"] == row.programme_id].itertuples():
            print(f"  {ind.indicator_id}\t{ind.name_ja}\t[{ind.unit}]")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kpianalysis",
        description="Reproducible analysis of municipal regional-revitalisation KPIs.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check the raw data; exit non-zero on the first problem")
    p.add_argument("path", nargs="?", type=Path, default=DEFAULT_RAW, help="raw data directory")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("process", help="validate the raw data and write data/processed/")
    p.add_argument("--raw", type=Path, default=DEFAULT_RAW)
    p.add_argument("--out", type=Path, default=DEFAULT_PROCESSED)
    p.set_defaults(func=_cmd_process)

    p = sub.add_parser("list", help="list programmes, indicators and fiscal years")
    p.add_argument("--raw", type=Path, default=DEFAULT_RAW)
    p.set_defaults(func=_cmd_list)

    from kpianalysis import pipeline

    p = sub.add_parser("build", help="process the data and build every fiscal year's reports")
    pipeline.add_build_arguments(p)
    p.set_defaults(func=pipeline.run_build)
    return parser


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


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
