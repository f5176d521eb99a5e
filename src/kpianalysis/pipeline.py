"""Report pipeline (placeholder until issue #5 lands): for now `build` only processes the data."""

from __future__ import annotations

import argparse


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    from pathlib import Path

    parser.add_argument("--raw", type=Path, default=Path("data/raw"))
    parser.add_argument("--out", type=Path, default=Path("data/processed"))


def run_build(args: argparse.Namespace) -> int:
    from kpianalysis.dataset import load_dataset, write_processed

    ds = load_dataset(args.raw)
    written = write_processed(ds, args.out)
    print(f"wrote {len(written)} files to {args.out}")
    return 0
