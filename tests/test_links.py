"""A report's links to its other-language version and its sibling reports (issue 17.6).

They are decided by what a build is asked to make — its notebooks and languages — never by what
the archive happens to hold, and they are part of the run's key: the same request gives the same
bytes whatever was built before, a different request relinks, and no link leads to a file the
build does not make. ``make report`` builds both languages, so both are linked.

Fast tests plan runs, or build with papermill faked (``tests/test_pipeline.py``'s fake: the
real data, rendering, navigation and archive); the ``slow`` ones run the Makefile's ``report``
command on the shipped project, for FY2023, once for the module.
"""

from __future__ import annotations

import csv
import html.parser
import re
import shlex
from pathlib import Path
from urllib.parse import unquote, urldefrag

import papermill
import pytest

from conftest import ROOT, SEED_ID, demo_programme, project_copy, seed_only, write_programme
from kpianalysis.build import pipeline, plan
from kpianalysis.build.parameters import LANGUAGES
from kpianalysis.cli import build_parser, main
from test_pipeline import PROGRAMME_PARAMS, FakePapermill, write_notebook
from test_plan import planner

FY = 2023

#: What each FY2023 report links above its title, by hand: the index at the programme's entry
#: (on the page of Handa City, municipality code 23205; the panel on the top page), the sibling
#: report in its own language, then its version in the other language.
BOTH = {
    f"{SEED_ID}/fy2023/attainment.html": [
        f"../../index/23205.html#{SEED_ID}", "trends.html", "attainment.en.html"],
    f"{SEED_ID}/fy2023/attainment.en.html": [
        f"../../index/23205.en.html#{SEED_ID}", "trends.en.html", "attainment.html"],
    f"{SEED_ID}/fy2023/trends.html": [
        f"../../index/23205.html#{SEED_ID}", "attainment.html", "trends.en.html"],
    f"{SEED_ID}/fy2023/trends.en.html": [
        f"../../index/23205.en.html#{SEED_ID}", "attainment.en.html", "trends.html"],
    "panel/fy2023/panel.html": ["../../index.html", "panel.en.html"],
    "panel/fy2023/panel.en.html": ["../../index.en.html", "panel.html"],
}  # fmt: skip


def one_language(language: str) -> dict[str, list[str]]:
    """:data:`BOTH`'s reports in ``language``, as a build of that language alone links them:
    without the other-language version."""

    def speaks(href: str) -> bool:
        return href.split("#")[0].endswith(".en.html") == (language == "en")

    return {page: [h for h in hrefs if speaks(h)] for page, hrefs in BOTH.items() if speaks(page)}


class Page(html.parser.HTMLParser):
    """A page's ``<a href>`` values, those of its ``nav.kpi-nav`` apart, and its element ids."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.nav: list[str] = []
        self.ids: set[str] = set()
        self._in_nav = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "nav" and "kpi-nav" in str(a.get("class") or "").split():
            self._in_nav = True
        if tag == "a" and a.get("href") is not None:
            self.hrefs.append(str(a["href"]))
            if self._in_nav:
                self.nav.append(str(a["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._in_nav = False


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def navs(reports: Path) -> dict[str, list[str]]:
    """Each report's links above its title, by its path in the archive."""
    return {
        p.relative_to(reports).as_posix(): parse(p).nav
        for p in sorted(reports.glob("*/fy*/*.html"))
    }


def unresolved(page: Path, archive: Path) -> tuple[list[str], int]:
    """The hrefs of a page that lead to no file inside the archive (or to a missing anchor of
    one), and how many hrefs it has."""
    hrefs = parse(page).hrefs
    bad = []
    for href in hrefs:
        target, anchor = urldefrag(href)
        if ":" in target or target.startswith("/"):
            bad.append(href)
            continue
        dest = (page.parent / unquote(target)).resolve() if target else page.resolve()
        inside = dest.is_file() and archive.resolve() in dest.parents
        anchored = not anchor or dest.suffix != ".html" or anchor in parse(dest).ids
        if not (inside and anchored):
            bad.append(href)
    return bad, len(hrefs)


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV for people (UTF-8 with BOM)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def report_files(reports: Path) -> dict[str, bytes]:
    """The reports, executed notebooks and data tables (not the records: they hold times)."""
    return {
        p.relative_to(reports).as_posix(): p.read_bytes()
        for p in sorted(reports.glob("*/fy*/**/*"))
        if p.is_file() and not p.name.endswith(".run.json")
    }


# ---------------------------------------------------------------------------------------------
# Decided by the request (papermill faked)


@pytest.fixture
def fake_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The seed programme with the three registered reports as tiny notebooks that declare
    ``language``; papermill faked; the footer's build date fixed (byte-identical builds)."""
    monkeypatch.setattr(papermill, "execute_notebook", FakePapermill())
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    root = tmp_path / "proj"
    seed_only(root / "data" / "raw")
    for name in ("attainment", "trends"):
        write_notebook(root / "notebooks" / f"{name}.ipynb", "print(1)", params=PROGRAMME_PARAMS)
    write_notebook(root / "notebooks" / "panel.ipynb", "print(2)")
    return root


def build(root: Path, reports: str, languages: str | tuple[str, ...]) -> pipeline.BuildSummary:
    return pipeline.build(
        root, reports=reports, languages=languages, fiscal_years=[FY], jobs=2, progress=False
    )


def test_links_follow_the_request_not_the_archive(fake_project: Path) -> None:
    root = fake_project
    assert build(root, "at-once", LANGUAGES).count("ok") == 6
    assert navs(root / "at-once") == BOTH
    # One language at a time. Before, a Japanese report built after the English one linked it
    # and one built before did not: its bytes depended on the order of the builds.
    build(root, "ja-alone", "ja")
    build(root, "en-first", "en")
    assert navs(root / "en-first") == one_language("en")
    build(root, "en-first", "ja")
    assert navs(root / "en-first") == {**one_language("en"), **one_language("ja")}
    ja_alone = report_files(root / "ja-alone")
    assert {k: v for k, v in report_files(root / "en-first").items() if k in ja_alone} == ja_alone
    # Both asked for: every report's links change, so does its key, and all six are rebuilt —
    # to the bytes of the build of both at once.
    relinked = build(root, "en-first", LANGUAGES)
    assert relinked.count("ok") == 6 and relinked.count("skipped") == 0
    assert report_files(root / "en-first") == report_files(root / "at-once")
    assert build(root, "en-first", LANGUAGES).count("skipped") == 6
    # Japanese alone again: its reports drop the English link (no stale link is kept); the
    # English ones stay, and link only what exists.
    assert build(root, "en-first", "ja").count("ok") == 3
    assert navs(root / "en-first") == {**BOTH, **one_language("ja")}


def test_a_notebook_subset_links_within_it(tmp_path: Path) -> None:
    root = project_copy(tmp_path / "proj", shipped=True)
    # What the planner is given for `--notebook attainment` (or a folder holding it alone).
    (root / "notebooks" / "trends.ipynb").unlink()
    (root / "notebooks" / "panel.ipynb").unlink()
    links = {
        s.identity: s.links
        for s in planner(root, languages=LANGUAGES).runs()
        if s.fiscal_year == FY
    }
    # No trends report is made, so none is linked.
    assert links == {
        f"{SEED_ID}/fy2023/attainment": (("attainment", "en"),),
        f"{SEED_ID}/fy2023/attainment.en": (("attainment", "ja"),),
    }


def test_a_notebook_without_a_language_parameter_has_one_version(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    seed_only(root / "data" / "raw")
    write_notebook(root / "notebooks" / "attainment.ipynb", "print(1)", params=PROGRAMME_PARAMS)
    card = 'fiscal_year: int = 2023\nprogramme_id: str = ""\n'
    write_notebook(root / "notebooks" / "card.ipynb", "print(2)", params=card)
    runs = [s for s in planner(root, languages=LANGUAGES).runs() if s.fiscal_year == FY]
    # The card cannot speak English: one report, card.html. It links its registered sibling;
    # unregistered, it is not linked from it (adding it leaves the archived reports as they
    # were: tests/test_extending.py).
    assert {s.identity: (s.language, s.links, s.inputs[plan.LINKS_INPUT]) for s in runs} == {
        f"{SEED_ID}/fy2023/attainment": ("ja", (("attainment", "en"),), "attainment.en.html"),
        f"{SEED_ID}/fy2023/attainment.en": ("en", (("attainment", "ja"),), "attainment.html"),
        f"{SEED_ID}/fy2023/card": ("ja", (("attainment", "ja"),), "attainment.html"),
    }
    # Asked for English alone, the card is still made, once.
    en = {s.identity for s in planner(root, languages=["en"]).runs() if s.fiscal_year == FY}
    assert en == {f"{SEED_ID}/fy2023/attainment.en", f"{SEED_ID}/fy2023/card"}


def test_a_partner_programme_changes_no_seed_run_key(tmp_path: Path) -> None:
    root = project_copy(tmp_path / "proj", shipped=True)

    def seed_keys() -> dict[str, str]:
        runs = planner(root, languages=LANGUAGES).runs()
        return {s.identity: s.run_key for s in runs if s.programme_id == SEED_ID}

    before = seed_keys()
    demo_programme(root / "data" / "raw", range(2021, 2023))
    # FY2021–2023 × attainment, trends × ja, en: the links are the same for every programme.
    assert seed_keys() == before and len(before) == 12


def test_a_plan_reports_footer_links_the_tables_archived_beside_it(fake_project: Path) -> None:
    """A programme whose plan starts in FY2025, without any actual yet, gets a plan report for
    FY2025, a year outside the data's: its footer linked five data tables (two for trends) that
    were never archived, because the per-year table lists looked in data/processed."""
    root = fake_project
    pid = "99998-later"
    write_programme(
        root / "data" / "raw",
        [pid, "99998", "架空町", "後の事業", "令和7年度", "令和9年度"],
        [[pid, "1", "参加者数", "人", "stock", "increase", "100人", "R6"]],
        [[pid, "1", f"{fy}年度", f"({120 + 10 * i}人)", ""] for i, fy in enumerate((2025, 2026))],
    )
    s = pipeline.build(root, programmes=[pid], languages=LANGUAGES, jobs=2, progress=False)
    assert sorted(o.spec.identity for o in s.outcomes if o.outcome == "ok") == [
        f"{pid}/fy2025/{name}" for name in ("attainment", "attainment.en", "trends", "trends.en")
    ]
    reports = root / "reports"
    folder = reports / pid / "fy2025"
    for page in folder.glob("*.html"):
        assert unresolved(page, reports)[0] == [], page
    assert sorted(p.name for p in (folder / "data").iterdir()) == [
        "attainment_fy2025.csv", "finance.csv", "indicators.csv", "observations.csv",
        "subprojects.csv", "trends_fy2025.csv", "verdicts.csv",
    ]  # fmt: skip
    # The FY2025 target as the sheet plans it, (120人): no actual, so nothing achieved yet.
    (row,) = read_csv_rows(folder / "data" / "attainment_fy2025.csv")
    assert (row["indicator_id"], float(row["target"]), row["actual"]) == ("1", 120.0, "")


def test_the_language_option_is_repeatable_and_defaults_to_both() -> None:
    parser = build_parser()
    assert parser.parse_args(["build"]).language is None  # run_build: LANGUAGES
    assert parser.parse_args(["build", "--language", "en"]).language == ["en"]
    both = ["build", "--language", "ja", "--language", "en"]
    assert parser.parse_args(both).language == ["ja", "en"]
    assert LANGUAGES == ("ja", "en")


# ---------------------------------------------------------------------------------------------
# `make report` on the shipped project (kernels)


def make_report_argv() -> list[str]:
    """The arguments the Makefile's ``report`` recipe gives ``kpianalysis``."""
    recipe = re.search(r"^report:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe, "the Makefile has no report target"
    (line,) = [ln for ln in recipe.group(1).splitlines() if "kpianalysis" in ln]
    words = shlex.split(line)
    return words[[w.endswith("/kpianalysis") for w in words].index(True) + 1 :]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Makefile's ``report`` command on a copy of the shipped project, FY2023 only (to keep
    the test short); the archive."""
    root = project_copy(tmp_path_factory.mktemp("links") / "project", shipped=True)
    argv = [*make_report_argv(), "--root", str(root), "--fiscal-year", str(FY), "--no-progress"]
    assert main([*argv, "--jobs", "2"]) == 0
    return root / "reports"


@pytest.mark.slow
def test_make_report_links_both_languages(made: Path) -> None:
    assert navs(made) == BOTH
    # The index pages, in either language, link every report in both.
    for page, reports in (
        ("index.html", list(BOTH)),
        ("index.en.html", list(BOTH)),
        ("index/23205.html", [r for r in BOTH if r.startswith(SEED_ID)]),
        ("index/23205.en.html", [r for r in BOTH if r.startswith(SEED_ID)]),
    ):
        linked = {(made / page).parent.joinpath(h).resolve() for h in parse(made / page).hrefs}
        assert {(made / r).resolve() for r in reports} <= linked, page


@pytest.mark.slow
def test_every_link_of_every_page_resolves_in_the_archive(made: Path) -> None:
    # (Hidden folders are the archive's bookkeeping: staging, empty after a build.)
    hidden = [p for p in made.rglob("*.html") if p.relative_to(made).parts[0].startswith(".")]
    pages = sorted(set(made.rglob("*.html")) - set(hidden))
    # 6 reports, the top index in two languages and Handa's municipality page in two.
    assert len(pages) == 10
    checked = 0
    for page in pages:
        bad, n = unresolved(page, made)
        assert not bad, (page, bad)
        checked += n
    assert checked > 100  # the reports' contents, footers and navs, and every index entry


@pytest.mark.slow
def test_readme_says_what_make_report_builds(made: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = next(ln for ln in readme.splitlines() if ln.startswith("make report "))
    assert "every fiscal year's reports in Japanese and English" in first
    # `make report` names no language, so it builds both ...
    assert build_parser().parse_args(make_report_argv()).language is None
    # ... for every fiscal year of the shipped data: the seed's FY2021–2023.
    project = made.parent
    planned = {s.identity for s in planner(project, languages=LANGUAGES).runs()}
    assert planned == {
        f"{scope}/fy{fy}/{name}{suffix}"
        for fy in (2021, 2022, 2023)
        for scope, name in ((SEED_ID, "attainment"), (SEED_ID, "trends"), ("panel", "panel"))
        for suffix in ("", ".en")
    }
    # The FY2023 ones, built by that command above, are all in the archive.
    built = {
        p.relative_to(made).as_posix().removesuffix(".html") for p in made.glob("*/fy*/*.html")
    }
    assert built == {r for r in planned if "/fy2023/" in r}
