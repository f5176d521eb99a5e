"""The suite does not depend on what ``data/raw`` holds (issue 16.7).

A partner adds programme folders beside the seed, as ``data/raw/README.md`` describes; every
test must still pass. Tests select the seed by id (``conftest.SEED_DIR``, ``SEED_ID``) and build
one-programme projects from it (``conftest.seed_only``), never read the folder as a whole. This
module checks that statically, in milliseconds; ``scripts/test-with-partners.sh`` (run by CI)
runs the whole suite again with the partner fixtures actually copied in.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import RAW, ROOT, SEED_DIR, SEED_ID

TESTS = ROOT / "tests"

#: A reference to the whole raw folder: ``RAW`` or ``…/"data"/"raw"`` not followed by ``/`` (a
#: path inside it, such as the seed's folder or the README, is fine).
WHOLE_RAW = re.compile(
    r"""(?<!['"\w])RAW\b(?!\s*[/=])|(?:\bROOT\b|parents\[1\])\s*/\s*["']data["']\s*/\s*["']raw["'](?!\s*/)"""
)
#: A path into the shipped raw folder naming another folder than the seed's or the README (a
#: programme selected by an id held in a variable, e.g. one a prior file records, is fine).
OTHER_RAW = re.compile(
    r"""(?:(?<!['"\w])RAW|(?:\bROOT\b|parents\[1\])\s*/\s*["']data["']\s*/\s*["']raw["'])\s*/"""
    r"""\s*["'](?!23205-community["']|README\.md["'])"""
)


def _offences(text: str) -> list[str]:
    hits = []
    for number, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0]
        if code.lstrip().startswith(("from conftest import", "import ")):
            continue
        if WHOLE_RAW.search(code) or OTHER_RAW.search(code):
            hits.append(f"{number}: {line.strip()}")
    return hits


@pytest.mark.parametrize(
    "path",
    # conftest defines RAW; this module's examples below are data, not reads.
    sorted(p for p in TESTS.glob("*.py") if p.name not in ("conftest.py", Path(__file__).name)),
    ids=lambda p: p.name,
)
def test_no_test_reads_the_whole_raw_folder(path: Path) -> None:
    assert _offences(path.read_text(encoding="utf-8")) == []


def test_the_check_catches_each_way_of_reading_the_whole_folder() -> None:
    # The patterns that broke 35 tests when partner folders were added (issue 16), and what
    # stays allowed: the seed's own folder, the README, paths inside a temporary project.
    bad = [
        "ds = load_dataset(RAW)",
        "shutil.copytree(RAW, raw)",
        'shutil.copytree(ROOT / "data" / "raw", root / "data" / "raw")',
        'text = (Path(__file__).resolve().parents[1] / "data" / "raw")',
        'assert cli_main(["validate", str(RAW)]) == 0',
        'load_folders([RAW / "21203-kanko"])',
    ]
    good = [
        "from conftest import RAW, SEED_ID",
        "shutil.copytree(RAW / SEED_ID, root / 'data' / 'raw' / SEED_ID)",
        'data = (RAW / "23205-community" / "000_b0c93ac26c5b58c3.txt").read_bytes()',
        'readme = (ROOT / "data" / "raw" / "README.md").read_text()',
        'seed_only(root / "data" / "raw")',
        "print('RAW=' + str((project_root() / raw_dir).resolve()))",
        'ds = load_dataset(project / "data" / "raw")',
        "shutil.copytree(RAW / pid, raw / pid)",
    ]
    assert [len(_offences(b)) for b in bad] == [1] * len(bad)
    assert [_offences(g) for g in good] == [[]] * len(good)


def test_the_seed_fixtures_hold_the_seed_alone(seed, seed_raw, raw_copy) -> None:
    # Whatever data/raw holds beside it, the seed fixtures are one programme: Handa's four KPIs
    # and twelve observations (FY2021–2023), copied byte for byte.
    assert seed.programmes["programme_id"].tolist() == [SEED_ID]
    assert (len(seed.indicators), len(seed.observations)) == (4, 12)
    for folder in (seed_raw, raw_copy):
        assert sorted(p.name for p in folder.iterdir()) == [SEED_ID]
        copied = sorted(p.name for p in (folder / SEED_ID).iterdir())
        assert copied == sorted(p.name for p in SEED_DIR.iterdir())
        for name in copied:
            assert (folder / SEED_ID / name).read_bytes() == (SEED_DIR / name).read_bytes()
    assert SEED_DIR.parent == RAW
