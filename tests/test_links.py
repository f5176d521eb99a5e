"""A report's links to its other-language version and its sibling reports (issue 17.6).

They are decided by what a build is asked to make — its notebooks and languages — never by what
the archive happens to hold, and they are part of the run's key: the same request gives the same
bytes whatever was built before, a different request relinks, and no link leads to a file the
build does not make.

The tests plan runs, or build with papermill faked (``tests/test_pipeline.py``'s fake: the
real data, rendering, navigation and archive).
"""

from __future__ import annotations

import html.parser
from pathlib import Path

import papermill
import pytest

from conftest import SEED_ID, demo_programme, project_copy, seed_only
from kpianalysis.build import pipeline, plan
from kpianalysis.build.parameters import LANGUAGES
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
    # The card cannot speak English: one report, card.html, linked from the Japanese one only.
    assert {s.identity: (s.language, s.links, s.inputs[plan.LINKS_INPUT]) for s in runs} == {
        f"{SEED_ID}/fy2023/attainment": (
            "ja",
            (("card", "ja"), ("attainment", "en")),
            "card.html attainment.en.html",
        ),
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
