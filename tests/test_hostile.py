"""Hostile text end to end (issue 6, point 2) and parameter refusal (issue 6, point 4).

A temporary project holds a synthetic programme (no source document, so no provenance check)
whose every free-text field carries the payloads below. Both real notebooks are built for every
fiscal year with real kernels (``language="ja"``, plus FY2023 in ``"en"`` so the English names
reach a report too). Then:

* the raw HTML of every report and of the index is parsed: no element or attribute the payloads
  try to create exists (no ``<script>``, ``<svg>``, no ``on*=`` attribute, no ``javascript:``
  URL, only ``data:`` images and relative links), and the payload text *is* in the page's text
  content, so it was rendered as text and not dropped;
* the same pages are opened in headless Chromium (``tests/browser.py``): no injected script ran,
  no ``javascript:`` link exists, no network request was made, no console error.

Parameter tests prove a refused fiscal year, path or option never starts a kernel.
"""

from __future__ import annotations

import html.parser
from pathlib import Path
from typing import Any

import papermill
import pytest

from browser import browser, chromium  # noqa: F401 - pytest fixture
from conftest import demo_programme, project_copy, write_rows
from kpianalysis.build import pipeline
from kpianalysis.cli import main
from kpianalysis.errors import ParameterError

PID = "99999-hostile"
NOTEBOOKS = ("attainment", "panel", "trends")
YEARS = (2021, 2022, 2023)

#: The payloads: script, event handler, markdown link, attribute break-out, template expression,
#: matplotlib mathtext and a style break-out. Each pushes to window.__xss if it ever runs.
PAYLOADS = {
    "script": "<script>window.__xss.push('s')</script>",
    "img": "<img src=x onerror=\"window.__xss.push('i')\">",
    "markdown": "[x](javascript:window.__xss.push('m'))",
    "attribute": "\"'><svg onload=window.__xss.push('v')>",
    "template": "{{7*7}}",
    "mathtext": "$\\frac{1}{0}$",
    "style": "</style><script>window.__xss.push('t')</script>",
}
ALL = " ".join(PAYLOADS.values())


def hostile(tag: str) -> str:
    """A field's text: a unique tag (to find it) followed by every payload."""
    return f"{tag}:{ALL}"


#: Field tag → where its text must appear as inert, visible text ("ja": both ja reports of a
#: year, "attainment"/"en-attainment": that report only). Fields a report does not show
#: (e.g. a component summary) are still hostile but only checked for not being executed.
VISIBLE: dict[str, tuple[str, ...]] = {
    "MUNI": ("attainment", "trends", "panel"),
    "PNAMEJA": ("attainment", "trends", "panel"),
    "IND1JA": ("attainment", "trends"),
    "IND2JA": ("attainment", "trends"),
    "SUB1": ("attainment", "trends"),  # the sheet's sub-label follows the Japanese name
    "MUNIEN": ("en-attainment", "en-trends", "en-panel"),  # English titles and record
    "GRANT": ("attainment", "panel"),
    "GOALS": ("attainment",),
    "OVERVIEW": ("attainment",),
    "REMARK": ("attainment",),
    "COMP": ("attainment",),
    "SUBNAME": ("attainment",),
    "DEPT": ("attainment",),
    "STRAT": ("attainment",),
    "SAMB": ("attainment",),
    "OPT1": ("attainment",),
    "OPT2": ("attainment",),
    "EVAL": ("attainment",),
    # Transcription notes go to the attainment report's appendix, once each (issue 12).
    "CAMB": ("attainment",),
    "NOTE": ("attainment",),
    "PNAMEEN": ("en-attainment", "en-trends", "en-panel"),
    "IND1EN": ("en-attainment", "en-trends"),
    "IND2EN": ("en-attainment", "en-trends"),
}
#: Hostile too, but no report shows them (component summaries, sub-project descriptions).
HIDDEN = ("CSUM", "DESC")


def hostile_programme(raw: Path) -> None:
    """Write the synthetic programme with a hostile text in every free-text column."""
    h = hostile
    folder = raw / PID
    folder.mkdir(parents=True)
    write_rows(
        folder / "programme.csv",
        [
            ["programme_id", "municipality_code", "municipality_ja", "municipality_en", "name_ja",
             "name_en", "grant_type_ja", "strategy_goals_ja", "overview_ja", "plan_start",
             "plan_end"],
            [PID, "99999", h("MUNI"), h("MUNIEN"), h("PNAMEJA"), h("PNAMEEN"), h("GRANT"),
             h("GOALS"), h("OVERVIEW"), "令和3年度", "令和7年度"],
        ],
    )  # fmt: skip
    write_rows(
        folder / "indicators.csv",
        [
            ["programme_id", "indicator_no", "name_ja", "sub_label_ja", "name_en", "unit", "kind",
             "direction", "baseline", "baseline_year"],
            [PID, "1", h("IND1JA"), h("SUB1"), h("IND1EN"), "人", "stock", "increase", "100人",
             "R2"],
            [PID, "2", h("IND2JA"), "", h("IND2EN"), "人", "stock", "decrease", "40人", "R2"],
        ],
    )  # fmt: skip
    obs = [["programme_id", "indicator_no", "fiscal_year", "target", "actual"]]
    for i, fy in enumerate(YEARS):
        obs.append([PID, "1", f"{fy}年度", f"({120 + 20 * i}人)", f"{115 + 25 * i}人"])
        obs.append([PID, "2", f"{fy}年度", f"({35 - 5 * i}人)", f"{38 - 6 * i}人"])
    write_rows(folder / "observations.csv", obs)
    write_rows(
        folder / "finance.csv",
        [["programme_id", "fiscal_year", "cost", "grant", "grant_rate", "remark_ja", "note"]]
        + [
            [PID, f"{fy}年度", "1,000,000円", "(500,000円)", "1/2", h("REMARK"), h("NOTE")]
            for fy in YEARS
        ],
    )
    write_rows(
        folder / "components.csv",
        [
            ["programme_id", "component_no", "component_ja", "summary_ja", "ambiguity"],
            [PID, "１．", h("COMP"), h("CSUM"), h("CAMB")],
        ],
    )
    write_rows(
        folder / "subprojects.csv",
        [
            ["programme_id", "component_no", "slot", "name_ja", "department_ja",
             "strategy_code_ja", "description_ja", "ambiguity"],
            [PID, "１．", "(1)", h("SUBNAME"), h("DEPT"), h("STRAT"), h("DESC"), h("SAMB")],
        ],
    )  # fmt: skip
    verdicts = [["programme_id", "fiscal_year", "evaluator", "evaluator_ja", "option", "votes"]]
    for fy in YEARS:
        verdicts.append(
            [PID, f"{fy}年度", "panel", h("EVAL"), "①" + h("OPT1"), "（評価委員：５名/７名中）"]
        )
        verdicts.append(
            [PID, f"{fy}年度", "panel", h("EVAL"), "②" + h("OPT2"), "（評価委員：２名/７名中）"]
        )
    write_rows(folder / "verdicts.csv", verdicts)


def scope_of(notebook: str) -> str:
    """Archive folder of a notebook's runs: the programme's, or ``panel`` for the panel report."""
    return "panel" if notebook == "panel" else PID


def new_project(base: Path) -> Path:
    root = project_copy(base / "project")
    hostile_programme(root / "data" / "raw")
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build both notebooks for every year (ja) and FY2023 (en); name → HTML path."""
    root = new_project(tmp_path_factory.mktemp("hostile"))
    ja = pipeline.build(root, jobs=2, progress=False)
    assert ja.count("ok") == 3 * len(NOTEBOOKS), ja.outcomes
    en = pipeline.build(
        root, reports="reports-en", fiscal_years=[2023], languages="en", jobs=2, progress=False
    )
    assert en.count("ok") == len(NOTEBOOKS), en.outcomes
    pages = {"index": root / "reports" / "index.html", "en-index": root / "reports-en/index.html"}
    for fy in YEARS:
        for nb in NOTEBOOKS:
            pages[f"fy{fy}/{nb}"] = root / "reports" / scope_of(nb) / f"fy{fy}" / f"{nb}.html"
    for nb in NOTEBOOKS:
        pages[f"en-fy2023/{nb}"] = root / "reports-en" / scope_of(nb) / "fy2023" / f"{nb}.en.html"
    return pages


class _Page(html.parser.HTMLParser):
    """Every start tag with its attributes, and the text content outside <style>/<title>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag in ("style", "title", "script"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title", "script") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


#: Elements the template and kpianalysis.report.present emit; anything else came from data.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "div", "h1", "h2", "h3", "p",
    "table", "thead", "tbody", "tr", "th", "td", "caption", "ul", "li", "figure", "img", "a",
    "pre", "span", "br", "code", "em", "strong", "link", "nav", "ol", "section", "footer",
    "figcaption", "small", "b",
}  # fmt: skip

#: Relative links a report may hold: its own sections (table of contents); above its title the
#: index (at the programme's anchor), its sibling reports and its other-language version; in the
#: footer its run record, executed notebook and the CSV tables (no scheme, no absolute path).
LINK_SUFFIXES = (".run.json", ".ipynb", ".csv", ".html")


def _safe_anchor(anchor: str) -> bool:
    return len(anchor) > 0 and all(c.isascii() and (c.isalnum() or c in "-_") for c in anchor)


def allowed_report_link(href: str) -> bool:
    """A table-of-contents anchor or a relative link to a page, record, notebook or CSV table."""
    if href.startswith("#"):
        return _safe_anchor(href[1:])
    path, hashmark, anchor = href.partition("#")
    if hashmark and not _safe_anchor(anchor):
        return False
    return ":" not in href and not href.startswith("/") and path.endswith(LINK_SUFFIXES)


@pytest.mark.slow
def test_no_payload_survives_as_markup(built: dict[str, Path]) -> None:
    checked = 0
    for name, path in built.items():
        raw = path.read_text(encoding="utf-8")
        page = parse(path)
        tags = {t for t, _ in page.tags}
        assert tags <= ALLOWED_TAGS, (name, tags - ALLOWED_TAGS)
        assert "<script" not in raw.lower() and "<svg" not in raw.lower(), name
        for tag, attrs in page.tags:
            for attr, value in attrs:
                assert not attr.startswith("on"), (name, tag, attr)
                if attr in ("href", "src", "action", "formaction", "xlink:href"):
                    v = (value or "").strip().lower()
                    assert "javascript:" not in v.replace("\t", "").replace("\n", ""), name
                    # Only embedded images and links to sibling reports: nothing leaves the file.
                    assert (
                        v.startswith("data:image/png;base64,")
                        or (
                            tag == "a"
                            and name.endswith("index")
                            and v.startswith((f"{PID}/fy", "panel/fy"))
                        )
                        or (tag == "a" and name.endswith("index") and v == "index.en.html")
                        or (tag == "a" and not name.endswith("index") and allowed_report_link(v))
                    ), (name, tag, attr, v[:40])
            if tag == "img":
                assert dict(attrs)["src"].startswith("data:image/png;base64,")
            if tag == "link":  # nbconvert's template links nothing external
                pytest.fail(f"{name}: <link> in a report")
        checked += 1
    assert checked == 14  # 9 ja reports, 3 en reports, 2 indexes


@pytest.mark.slow
def test_hostile_text_is_visible_as_text(built: dict[str, Path]) -> None:
    texts = {name: "".join(parse(path).text) for name, path in built.items()}
    places = 0
    for tag, where in VISIBLE.items():
        for report in where:
            lang, nb = ("en-", report[3:]) if report.startswith("en-") else ("", report)
            years = (2023,) if lang else YEARS
            for fy in years:
                text = texts[f"{lang}fy{fy}/{nb}"]
                # The whole field, every payload, reads back as the characters in the CSV.
                assert hostile(tag) in text, (tag, lang, fy, nb)
                places += 1
    # VISIBLE: 5 fields in both ja reports × 3 years, 14 in ja attainment × 3, 3 in both en,
    # the English municipality in both en reports; the panel shows the municipality, programme
    # and grant type (ja × 3 years) and the programme's and municipality's English names (en).
    assert places == 5 * 2 * 3 + 14 * 3 + 3 * 2 + 2 + 3 * 3 + 2 == 91
    # The text/plain repr papermill stores beside each text/html output is never rendered: a
    # rendered repr would show the escaped markup of our own tables as text.
    for name, text in texts.items():
        assert "kpi-table" not in text and "&lt;" not in text, name
    # The index names the programme and its municipality in its headline: the hostile names
    # read back there as text too (their markup is checked as inert by the other tests).
    for index in ("index", "en-index"):
        assert f"{hostile('PNAMEJA')}（{hostile('MUNI')}）: " in texts[index]


@pytest.mark.slow
def test_hidden_fields_are_not_shown_and_not_executed(built: dict[str, Path]) -> None:
    for path in built.values():
        raw = path.read_text(encoding="utf-8")
        for tag in HIDDEN:
            assert f"{tag}:" not in raw


@pytest.mark.slow
@browser
def test_reports_inert_in_real_browser(built: dict[str, Path], chromium) -> None:  # noqa: F811
    opened = 0
    for name, path in built.items():
        report = chromium.open(path)
        assert report.injected == (), (name, report.injected)
        assert report.javascript_urls == (), (name, report.javascript_urls)
        assert report.requests == (), (name, report.requests)
        assert report.console_errors == (), (name, report.console_errors)
        assert report.console == (), (name, report.console)
        if name.endswith("index"):
            # Each report and its run record, and the page in the other language.
            assert sorted(report.hrefs) == sorted(
                [
                    f"{scope_of(nb)}/fy{fy}/{nb}{'' if name == 'index' else '.en'}.{ext}"
                    for fy in (YEARS if name == "index" else (2023,))
                    for nb in NOTEBOOKS
                    for ext in ("html", "run.json")
                ]
                + ["index.en.html"]
            )
        else:
            assert report.hrefs and all(allowed_report_link(h) for h in report.hrefs), name
        opened += 1
    assert opened == 14


# ---------------------------------------------------------------------------------------------
# Parameters (issue 6, point 4): refused before any kernel starts, via build() and the CLI.
# tests/test_pipeline.py covers check_fiscal_year's types, build() with -1/3000/2020, paths
# "../x", "/etc", "data/../../x", symlinks, unknown parameter names and language; these fill the
# gaps: build() with non-int years, and every refusal through the command line.


def no_kernel(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("a kernel was started")


@pytest.fixture
def small_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with the real notebooks and a valid, harmless synthetic programme."""
    root = project_copy(tmp_path / "p")
    demo_programme(root / "data" / "raw", range(2021, 2024))
    monkeypatch.setattr(papermill, "execute_notebook", no_kernel)
    return root


@pytest.mark.parametrize(
    ("year", "message"),
    [
        ("2023", "fiscal_year must be an integer, got str '2023'"),
        (2023.0, "fiscal_year must be an integer, got float 2023.0"),
        (True, "fiscal_year must be an integer, got bool True"),
        (-2023, "fiscal_year -2023 has no data"),
        (3000, "fiscal_year 3000 has no data"),
        (0, "fiscal_year 0 has no data"),
    ],
)
def test_build_refuses_bad_fiscal_year_before_kernel(
    small_project: Path, year: object, message: str
) -> None:
    with pytest.raises(ParameterError, match=message.replace("(", r"\(")):
        pipeline.build(small_project, fiscal_years=[year], progress=False)  # type: ignore[list-item]
    assert not list((small_project / "reports").glob("*/fy*"))


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"raw_dir": "../../etc"}, "raw_dir '../../etc' is outside the project root"),
        ({"processed_dir": "/tmp"}, "processed_dir '/tmp' is outside the project root"),
        ({"notebooks_dir": "notebooks/../.."}, "is outside the project root"),
        ({"notebooks": ["attainment", "nope"]}, "unknown notebook 'nope'"),
        ({"languages": ["ja", "fr"]}, "language must be 'ja' or 'en'"),
        ({"jobs": 0}, "--jobs must be at least 1"),
    ],
)
def test_build_refuses_bad_option_before_kernel(
    small_project: Path, kw: dict[str, Any], message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        pipeline.build(small_project, progress=False, **kw)
    assert not list((small_project / "reports").glob("*/fy*"))


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--fiscal-year", "abc"], 2, "argument --fiscal-year: invalid int value: 'abc'"),
        (["--fiscal-year", "2023.0"], 2, "invalid int value: '2023.0'"),
        (["--fiscal-year", "2023.5"], 2, "invalid int value: '2023.5'"),
        (["--fiscal-year", "-1"], 1, "fiscal_year -1 has no data"),
        (["--fiscal-year", "3000"], 1, "fiscal_year 3000 has no data"),
        (["--fiscal-year", "2020"], 1, "fiscal years in the data: 2021, 2022, 2023"),
        (["--raw", "../outside"], 1, "raw_dir '../outside' is outside the project root"),
        (["--processed", "/etc"], 1, "processed_dir '/etc' is outside the project root"),
        (["--notebooks", "data/../../x"], 1, "is outside the project root"),
        (["--notebook", "evil"], 1, "unknown notebook 'evil'"),
        (["--language", "fr"], 2, "argument --language: invalid choice: 'fr'"),
        (["--jobs", "0"], 1, "--jobs must be at least 1"),
        (["-p", "colour", "red"], 2, "unrecognized arguments: -p colour red"),
        (["--colour", "red"], 2, "unrecognized arguments: --colour red"),
    ],
)
def test_cli_refuses_bad_parameter_before_kernel(
    small_project: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    message: str,
) -> None:
    args = ["build", "--root", str(small_project), "--no-progress", *argv]
    if code == 2:  # argparse: usage, then one error line, exit 2
        with pytest.raises(SystemExit) as info:
            main(args)
        assert info.value.code == 2
    else:
        assert main(args) == 1
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert message in last, err
    if code == 1:
        assert err.count("\n") == 1 and err.startswith("kpianalysis build: error: ")
    assert not list((small_project / "reports").glob("*/fy*"))
