"""The unit beside every value in partners' reports (issue 16, point 9): an audit.

Every partner fixture's reports (attainment and trends) are built once, in a temporary project,
for the programme's last year with an actual; then every summary line and every table cell
that holds a value is checked to show its unit — the KPI's unit as the sheet writes it, or
its base unit — or to be a rate labelled as such (``%``, a ratio in a row that names it).
"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser

import pytest

from conftest import ROOT, project_copy
from kpianalysis.data.dataset import Dataset, load_folders

pytestmark = pytest.mark.slow

PARTNERS = ROOT / "tests" / "fixtures" / "partners"
KINDS = ("attainment", "trends")
#: Programmes also built in English: a compound cell, bounds and a unit printed bare, a scaled
#: unit (千人), a unit in 万 (万人).
ENGLISH = ("01100-kenko", "14100-mokuhyo", "28209-media", "10000-kanko")


class _Cells(HTMLParser):
    """The summary's lines and every table's rows (cell texts), from a report's HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.tables: list[list[list[str]]] = []
        self._summary = 0
        self._li: list[str] | None = None
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        cls = dict(attrs).get("class") or ""
        if tag in ("style", "script"):
            self._skip += 1
        elif tag == "section" and "kpi-summary" in cls:
            self._summary += 1
        elif tag == "li" and self._summary:
            self._li = []
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1
        elif tag == "section" and self._summary:
            self._summary -= 1
        elif tag == "li" and self._li is not None:
            self.lines.append(_squash("".join(self._li)))
            self._li = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(_squash("".join(self._cell)))
            self._cell = None
        elif tag == "tr" and self._row is not None and self.tables:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        for part in (self._li, self._cell):
            if part is not None:
                part.append(data)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _last_actual_year(ds: Dataset, programme_id: str) -> int:
    obs = ds.observations
    mine = obs[(obs["programme_id"] == programme_id) & obs["actual"].notna()]
    return int(mine["fiscal_year"].max())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    from kpianalysis.build.pipeline import build

    root = project_copy(tmp_path_factory.mktemp("units") / "project")
    folders = sorted(p for p in PARTNERS.iterdir() if p.is_dir())
    for folder in folders:
        shutil.copytree(folder, root / "data" / "raw" / folder.name)
    ds = load_folders([root / "data" / "raw" / f.name for f in folders])
    out: dict[str, dict] = {}
    for pid in ds.programmes["programme_id"]:
        fy = _last_actual_year(ds, pid)
        languages = ("ja", "en") if pid in ENGLISH else ("ja",)
        summary = build(
            root,
            fiscal_years=[fy],
            programmes=[pid],
            jobs=2,
            progress=False,
            index=False,
            languages=languages,
        )
        assert summary.count("ok") == len(KINDS) * len(languages), (pid, fy)
        pages = {}
        for kind in KINDS:
            for language in languages:
                stem = kind if language == "ja" else f"{kind}.{language}"
                parser = _Cells()
                parser.feed(
                    (root / "reports" / pid / f"fy{fy}" / f"{stem}.html").read_text("utf-8")
                )
                pages[kind, language] = parser
        out[pid] = {"fy": fy, "ds": _one(ds, pid).as_of(fy), "pages": pages}
    return out


def _one(ds: Dataset, programme_id: str) -> Dataset:
    return next(part for pid, part in ds.by_programme().items() if pid == programme_id)


#: A number as the reports print it: ▲/− signs, thousands separators, decimals.
_NUMBER = re.compile(r"(?<![\w.,])[▲−-]?\d[\d,]*(?:\.\d+)?")
#: Numbers that are not values: fiscal years and era years, dates, ordinals in names.
_NOT_A_VALUE = re.compile(
    r"\d{4}年度|(?:平成|令和|H|R)\s?\d+(?:\.\d+)?|FY\d{4}|\d+年目|\d+年\d+月|\(\d+\)|（\d+）"
)


#: What may follow a unitless value that is labelled as such: a slope of a share on the logit
#: scale ("0.926/年（ロジット尺度）").
_LABELLED = ("/年（ロジット尺度）", "/yr (logit scale)")
#: A bracketed interval (lower〜upper, lower to upper) as the trends tables print it.
_INTERVAL = re.compile(r"（[^（）〜]*〜[^（）〜]*）| ?\([^()]* to [^()]*\)")
#: Columns of words, not values (why no interval is shown: "2点のみのため区間なし").
_PROSE = frozenset(
    {"区間・確率を示せない理由", "実績値がない理由", "Why no interval", "Why the actual is missing"}
)


def _units_of(ds: Dataset, language: str) -> dict[tuple[str, str], set[str]]:
    """(programme_id, KPI name as the reports print it) → the unit labels a value may carry
    (in English also the singular: "1 person")."""
    from kpianalysis.analysis.tables import attainment_table
    from kpianalysis.report.labels import indicator_name, unit_text, written_unit

    table = attainment_table(ds, int(ds.as_of_year))
    ind = ds.indicators.set_index(["programme_id", "indicator_id"])
    out: dict[tuple[str, str], set[str]] = {}
    for r in table.to_dict("records"):
        written = ind.loc[(r["programme_id"], r["indicator_id"]), "unit_text"]
        units = {str(r["unit"]), str(written), written_unit(r["unit"], written, language)[1]}
        if language == "en":
            units.add(unit_text(r["unit"], "en"))
            units |= {u.removesuffix("s") for u in units}
        names = (indicator_name(r, language), indicator_name({**r, "measure_no": 0}, language))
        for name in names:
            out.setdefault((r["programme_id"], name), set()).update(u for u in units if u)
    return out


def _unitless(text: str, units: set[str]) -> list[str]:
    """The numbers in ``text`` not followed by one of ``units`` or by ``%``.

    An interval right after a value with its unit shares that unit, as printed:
    ``3.67店舗/年（0.895〜15）``, ``2023年度: 8.5団体（7〜13）``.
    """
    text = _NOT_A_VALUE.sub(" ", text)
    for m in reversed(list(_INTERVAL.finditer(text))):
        # A rate per time changing each year: "+5.1 cases per year, each year (2.0 to 8.1)".
        ends = (*(u for u in units if u), "%", "/年", "/yr", ", each year")
        if text[: m.start()].rstrip().endswith(ends):
            text = text[: m.start()] + " " + text[m.end() :]
    bad = []
    for m in _NUMBER.finditer(text):
        after = text[m.end() :].lstrip()
        if not after.startswith(("%", *units, *_LABELLED)):
            bad.append(m.group(0))
    return bad


def _kpi_of(text: str, names: dict[tuple[str, str], set[str]], pid: str) -> tuple[str, set[str]]:
    """The KPI whose printed name ``text`` starts with (the longest), and its units."""
    hits = [(n, u) for (p, n), u in names.items() if p == pid and text.startswith(n)]
    assert hits, f"no KPI name starts {text!r}"
    return max(hits, key=lambda h: len(h[0]))


def test_every_summary_line_shows_each_value_with_its_unit(built):
    checked = 0
    for pid, run in built.items():
        for (kind, language), page in run["pages"].items():
            names = _units_of(run["ds"], language)
            assert page.lines, (pid, kind, language)
            for line in page.lines:
                name, units = _kpi_of(line, names, pid)
                values = line[len(name) :]
                assert not _unitless(values, units), (pid, kind, language, line)
                checked += 1
    # One line per KPI (a compound cell one per measure) in each report built.
    assert checked == sum(len(r["ds"].indicators) * len(r["pages"]) for r in built.values())


def test_every_value_cell_of_the_report_tables_shows_its_unit(built):
    checked = 0
    for pid, run in built.items():
        for (kind, language), page in run["pages"].items():
            names = _units_of(run["ds"], language)
            for table in page.tables:
                header, *rows = table
                for row in rows:
                    if not any(row[0].startswith(n) for (p, n) in names if p == pid):
                        continue  # not a KPI row (programme overview, sub-projects)
                    name, units = _kpi_of(row[0], names, pid)
                    # The sheet's table quotes cells as printed; a unit the sheet left out is
                    # named under the KPI (単位：kg; in English the unit stands under every
                    # name): then a bare number carries it.
                    under = row[0][len(name) :]
                    if "単位：" in under or (language == "en" and any(u in under for u in units)):
                        units = units | {""}
                    for column, cell in zip(header[1:], row[1:], strict=False):
                        if "CAGR" in column or column in _PROSE:
                            continue  # a ratio named by its column; reasons in words
                        bad = _unitless(cell, units)
                        assert not bad, (pid, kind, language, column, row[0], cell, bad)
                        checked += bool(_NUMBER.search(cell))
    assert checked > 0


def test_trend_values_print_without_a_power_of_ten(built):
    # 21203-kanko ① (levels 1,318,801 in FY2015, then 1,352,410, 1,371,922, 1,400,000): the
    # least-squares slope is Σ(x − x̄)·y / Σ(x − x̄)² = (1.5·81,199 + 0.5·19,512)/5 = 26,310.9
    # a year, printed to 3 significant digits as 26,300人/年 — it was "2.63e+04人/年".
    run = built["21203-kanko"]
    (table,) = [t for t in run["pages"]["trends", "ja"].tables if "年あたりの変化" in t[0][1]]
    cell = table[1][1]
    assert cell.startswith("26,300人/年（") and "e+" not in cell, cell
