"""The docs cannot rot: the README's code and the raw-data README's recipes run here (issue 20.5).

* ``README.md``'s ``pycon`` sessions run as doctests (each output as printed there);
* its recipe for a new analysis — the parameters cell, then the cells that call the library —
  runs on the seed programme, as a notebook would;
* its CSV line for a new fiscal year is a line of the seed's ``observations.csv``;
* every CSV block of ``data/raw/README.md`` has a header its table accepts (the worked example's
  values are checked by ``tests/test_partners.py``);
* the package overviews (``__init__`` docstrings) name exactly the modules present;
* the contributing section's example commit message follows its own rule.
"""

from __future__ import annotations

import csv
import doctest
import io
import re
from pathlib import Path

import pytest

from conftest import ROOT, SEED_DIR, SEED_ID

README = (ROOT / "README.md").read_text(encoding="utf-8")
RAW_README = (ROOT / "data" / "raw" / "README.md").read_text(encoding="utf-8")
PACKAGE = ROOT / "src" / "kpianalysis"


def blocks(text: str, language: str) -> list[tuple[int, str]]:
    """Fenced code blocks of ``language``: (offset of the fence in ``text``, body)."""
    return [
        (m.start(), m.group(1))
        for m in re.finditer(rf"^```{language}\n(.*?)^```$", text, flags=re.S | re.M)
    ]


def test_readme_sessions_print_what_they_show() -> None:
    sessions = blocks(README, "pycon")
    assert sessions, "README.md has no pycon session"
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(verbose=False)
    out = io.StringIO()
    globs: dict = {}
    for offset, body in sessions:
        line = README.count("\n", 0, offset) + 2
        test = parser.get_doctest(body, globs, "README.md", "README.md", line)
        runner.run(test, out=out.write)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 15 and result.failed == 0, out.getvalue()


def _section(title: str) -> str:
    start = README.index(title)
    return README[start : README.index("\n**", start + len(title))]


def test_readme_recipe_for_a_new_analysis_runs_on_the_seed(seed_raw: Path, capsys) -> None:
    # The parameters cell, then the cells that call the library, run as papermill would: the
    # injected parameters (here a raw folder holding the seed alone) after the cell.
    cells = [body for _, body in blocks(_section("**A new analysis**"), "python")]
    assert len(cells) == 2, cells
    namespace: dict = {}
    exec(compile(cells[0], "README.md: parameters", "exec"), namespace)
    assert (namespace["fiscal_year"], namespace["programme_id"]) == (2023, SEED_ID)
    namespace["raw_dir"] = str(seed_raw)
    capsys.readouterr()
    exec(compile(cells[1], "README.md: recipe", "exec"), namespace)
    shown = capsys.readouterr().out
    # What it displays: the seed's FY2023 KPIs, ① 9 of 13 = 69.2 %, ④ 1,341 of 500 = 268.2 %,
    # as escaped HTML (a table, no raw data-derived markup).
    assert shown.startswith("<") and "<table" in shown
    assert "69.2%" in shown and "268.2%" in shown and "累計 9団体" in shown


def test_readme_new_fiscal_year_line_is_the_seeds() -> None:
    (_, body), *_ = blocks(_section("**A new fiscal year**"), "csv")
    header, row = list(csv.reader(io.StringIO(body)))
    with open(SEED_DIR / "observations.csv", encoding="utf-8-sig", newline="") as f:
        seed = list(csv.reader(f))
    assert header == seed[0][: len(header)]
    assert row in [r[: len(header)] for r in seed[1:]]


def _table_of(name: str):
    from kpianalysis.data import schema

    found = [t for t in schema.RAW_TABLES.values() if t.filename == name]
    assert found, f"data/raw/README.md shows {name}, which is no raw table"
    return found[0]


@pytest.mark.parametrize("offset", [o for o, _ in blocks(RAW_README, "csv")])
def test_raw_readme_csv_blocks_are_accepted_tables(offset: int) -> None:
    body = dict(blocks(RAW_README, "csv"))[offset]
    # The file a block shows is the last `*.csv` named before it.
    name = re.findall(r"`(?:[\w./-]*/)?(\w+\.csv)`", RAW_README[:offset])[-1]
    table = _table_of(name)
    header, *rows = list(csv.reader(io.StringIO(body)))
    columns = [c.name for c in table.columns]
    assert set(header) <= set(columns), (name, sorted(set(header) - set(columns)))
    assert set(table.required) <= set(header), (name, sorted(set(table.required) - set(header)))
    assert rows and all(len(r) == len(header) for r in rows), (name, rows)


def test_raw_readme_has_recipes() -> None:
    # Not vacuous: the worked example (three tables) and the marks.csv recipe at least.
    names = [
        re.findall(r"`(?:[\w./-]*/)?(\w+\.csv)`", RAW_README[:o])[-1]
        for o, _ in blocks(RAW_README, "csv")
    ]
    assert {"programme.csv", "indicators.csv", "observations.csv", "marks.csv"} <= set(names)


def _packages() -> list[Path]:
    return [PACKAGE, *sorted(p.parent for p in PACKAGE.glob("*/__init__.py"))]


@pytest.mark.parametrize("package", _packages(), ids=lambda p: p.name)
def test_package_overview_names_exactly_its_modules(package: Path) -> None:
    doc = (package / "__init__.py").read_text(encoding="utf-8").split('"""')[1]
    dotted = "kpianalysis" + "".join(f".{p}" for p in package.relative_to(PACKAGE).parts)
    named = set(re.findall(rf":mod:`~?{re.escape(dotted)}\.(\w+)`", doc))
    present = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    present |= {p.parent.name for p in package.glob("*/__init__.py")}
    assert sorted(present - named) == [], f"{dotted}: modules missing from the overview"
    assert sorted(named - present) == [], f"{dotted}: the overview names modules not present"


def test_contributing_example_follows_its_own_rule() -> None:
    # The README's convention (issue 20.8) and its example commit message, which must obey it:
    # a subject of at most 72 characters, a blank line, a body wrapped at 72.
    section = README[README.index("## Contributing") :]
    assert "at most 72 characters in the imperative mood" in section
    (_, body), *_ = blocks(section, "text")
    subject, blank, *rest = body.rstrip("\n").splitlines()
    assert len(subject) <= 72 and not subject.endswith(".") and blank == ""
    assert rest and all(len(line) <= 72 for line in rest)
