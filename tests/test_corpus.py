"""Bad-input corpus (issue 6, point 1): malformed raw files and cells, each with its exact error.

The corpus lives in ``tests/corpus/``: ``cases.json`` lists every case, and ``files/`` holds the
whole raw files some cases put in place of a shipped one. A case is a list of operations applied to
a fresh copy of ``data/raw`` and what must happen then:

* ``{"op": "cell", "path", "row", "column", "text"}`` sets one cell of a UTF-8 raw table; ``row``
  counts like a spreadsheet (header = 1), as the error messages do;
* ``{"op": "file", "path", "source"}`` replaces a raw file byte for byte by ``files/<source>``;
* ``{"op": "delete", "path"}``, ``{"op": "mkdir", "path"}`` and
  ``{"op": "copytree", "path", "source_path"}`` change the folder layout.

``expect`` is either ``{"ok": true}`` (the input is accepted and gives the same tidy tables as the
shipped data) or the error: class name (matched exactly, not a subclass), ``file`` relative to the
raw directory (``"."`` for the directory itself), ``row``, ``column`` and ``text`` (``null`` where
not applicable), and optionally words the ``reason`` must contain.

Expected locations were worked out by hand from the shipped files in ``data/raw/23205-community``
(e.g. observations.csv row 5 is ② FY2021, actual ``▲468人``; row 12 is ④ FY2022, ``1,019人``).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import RAW
from kpianalysis import errors
from kpianalysis.build import archive
from kpianalysis.cli import main as cli_main
from kpianalysis.data.dataset import load_dataset

CORPUS = Path(__file__).resolve().parent / "corpus"
MANIFEST = json.loads((CORPUS / "cases.json").read_text(encoding="utf-8"))
CASES: list[dict] = MANIFEST["cases"]
BAD = [c for c in CASES if not c["expect"].get("ok")]
GOOD = [c for c in CASES if c["expect"].get("ok")]


def apply_case(case: dict, raw: Path) -> None:
    """Apply the operations of ``case`` to the raw directory ``raw`` (a writable copy)."""
    for op in case["ops"]:
        target = raw / op["path"]
        kind = op["op"]
        if kind == "cell":
            with open(target, encoding="utf-8", newline="") as f:
                rows = list(csv.reader(f))
            rows[op["row"] - 1][rows[0].index(op["column"])] = op["text"]
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(rows)
            target.write_bytes(buf.getvalue().encode("utf-8"))
        elif kind == "file":
            target.write_bytes((CORPUS / "files" / op["source"]).read_bytes())
        elif kind == "delete":
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink()
        elif kind == "mkdir":
            target.mkdir()
        elif kind == "copytree":
            shutil.copytree(raw / op["source_path"], target)
        else:  # pragma: no cover - a typo in the manifest
            raise AssertionError(f"unknown op {kind!r} in case {case['id']}")


def build_has_options(*options: str) -> tuple[bool, str]:
    """Whether ``kpianalysis build`` accepts all ``options`` (read from its ``--help``)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        cli_main(["build", "--help"])
    missing = [o for o in options if o not in out.getvalue()]
    if missing:
        return False, f"`kpianalysis build` has no {', '.join(missing)} option yet (pipeline.py)"
    return True, ""


def snapshot(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file, and ``"<dir>"`` for every directory, under root."""
    snap = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        snap[rel] = "<dir>" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return snap


def seed_outputs(processed: Path, reports: Path) -> None:
    """Pre-existing outputs of an earlier good build, which a failed build must not touch."""
    processed.mkdir()
    (processed / "observations.csv").write_bytes(b"\xef\xbb\xbfold,table\r\n1,2\r\n")
    (processed / "indicators.parquet").write_bytes(b"PAR1 not really parquet")
    (reports / "2022").mkdir(parents=True)
    (reports / "2022" / "attainment.html").write_text("<p>FY2022 report</p>", encoding="utf-8")
    (reports / "2022" / "run.json").write_text('{"outcome": "ok"}', encoding="utf-8")
    (reports / "index.html").write_text("<p>index</p>", encoding="utf-8")


# ----------------------------------------------------------------------------------------------


def test_corpus_has_enough_distinct_cases():
    assert len(BAD) >= 30
    assert len(CASES) >= 35
    assert len({c["id"] for c in CASES}) == len(CASES)
    for c in BAD:
        assert hasattr(errors, c["expect"]["error"]), c["id"]
        assert issubclass(getattr(errors, c["expect"]["error"]), errors.DataError), c["id"]


def test_every_corpus_file_is_used():
    used = {op["source"] for c in CASES for op in c["ops"] if op["op"] == "file"}
    on_disk = {p.relative_to(CORPUS / "files").as_posix() for p in (CORPUS / "files").rglob("*")}
    assert used == {p for p in on_disk if (CORPUS / "files" / p).is_file()}


@pytest.mark.parametrize("case", BAD, ids=[c["id"] for c in BAD])
def test_bad_input_gives_its_exact_located_error(case, raw_copy, capsys):
    apply_case(case, raw_copy)
    expect = case["expect"]
    cls = getattr(errors, expect["error"])
    with pytest.raises(errors.KpiAnalysisError) as info:
        load_dataset(raw_copy)
    err = info.value
    assert type(err) is cls, f"{type(err).__name__}: {err}"
    assert Path(err.file) == raw_copy / expect["file"]
    assert (err.row, err.column, err.text) == (expect["row"], expect["column"], expect["text"])
    message = str(err)
    assert err.file in message
    if expect["row"] is not None:
        assert f"row {expect['row']}" in message
    if expect["column"] is not None:
        assert repr(expect["column"]) in message
    if expect["text"] is not None:
        assert repr(expect["text"]) in message
    assert expect.get("reason", "") in err.reason

    # The command line reports the same error in one line on stderr and exits 1.
    capsys.readouterr()
    assert cli_main(["validate", str(raw_copy)]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and err.file in lines[0] and "Traceback" not in captured.err


@pytest.mark.parametrize("case", GOOD, ids=[c["id"] for c in GOOD])
def test_accepted_variant_gives_the_shipped_tables(case, raw_copy, seed, capsys):
    apply_case(case, raw_copy)
    ds = load_dataset(raw_copy)
    for name, table in seed.tables().items():
        pd.testing.assert_frame_equal(ds.tables()[name], table, obj=name)
    assert cli_main(["validate", str(raw_copy)]) == 0


@pytest.mark.parametrize("case", BAD, ids=[c["id"] for c in BAD])
def test_failed_build_leaves_processed_and_reports_untouched(case, raw_copy, tmp_path, capsys):
    ok, reason = build_has_options("--raw", "--processed", "--reports")
    if not ok:
        pytest.skip(reason)
    apply_case(case, raw_copy)
    # The build refuses data paths outside its project root, so the root is the tmp dir that
    # holds the raw copy (raw_copy is tmp_path / "raw").
    processed, reports = tmp_path / "processed", tmp_path / "reports"
    seed_outputs(processed, reports)
    before = (snapshot(processed), snapshot(reports))
    argv = ["build", "--root", str(tmp_path), "--raw", str(raw_copy), "--no-wait"]
    argv += ["--processed", str(processed), "--reports", str(reports), "--no-progress"]
    capsys.readouterr()
    assert cli_main(argv) != 0
    lines = capsys.readouterr().err.strip().splitlines()
    # It failed for the data error, not for some other reason, and said so in one line.
    assert len(lines) == 1 and str(raw_copy / case["expect"]["file"]) in lines[0], lines
    after = (snapshot(processed), snapshot(reports))
    # The build lock (an flock on reports/.lock, holding the pid) is bookkeeping, not a report.
    after[1].pop(archive.LOCK, None)
    assert after == before


def test_snapshot_sees_a_change(tmp_path):
    # The byte-identity check above can fail: a touched, added or removed file shows up.
    processed, reports = tmp_path / "p", tmp_path / "r"
    seed_outputs(processed, reports)
    before = snapshot(reports)
    (reports / "2022" / "attainment.html").write_text("<p>changed</p>", encoding="utf-8")
    assert snapshot(reports) != before
    before = snapshot(reports)
    (reports / "2023").mkdir()
    assert snapshot(reports) != before


def test_corpus_inputs_do_not_touch_the_shipped_raw_data():
    # Every case works on a copy; the shipped source document is still the seed (sha256 as in
    # tests/test_dataset.py).
    data = (RAW / "23205-community" / "000_b0c93ac26c5b58c3.txt").read_bytes()
    assert hashlib.sha256(data).hexdigest() == (
        "746f124d9983a31a054fbc7aae010af128dcec74350c70c1c91216f46ac6b73d"
    )
