"""Report HTML sanitised by an allow-list (issue 19, point 4).

A notebook's HTML output ``<meta http-equiv="refresh" content="0;url=…">`` navigated the report
to another site: the CSP forbids scripts and fetches, not navigation. Outputs are now cleaned
before rendering (``report/sanitize.py``) and the CSP stays as a second wall.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from browser import browser, chromium  # noqa: F401 - pytest fixture
from kpianalysis.report.render import CSP, render_html
from kpianalysis.report.sanitize import sanitize_html, sanitize_outputs

REFRESH = '<meta http-equiv="refresh" content="0;url=https://evil.example/refresh">'
#: Each hostile fragment and what must be left of it.
CASES = [
    (REFRESH + "<p>本文</p>", "<p>本文</p>"),
    ('<base href="https://evil.example/"><a href="x.html">x</a>', '<a href="x.html">x</a>'),
    (
        '<form action="https://evil.example/post"><input name="q"><button>送信</button></form>',
        "送信",
    ),
    ('<iframe src="https://evil.example/"></iframe>after', "after"),
    ('<object data="https://evil.example/x.swf">fallback</object>', ""),
    ('<embed src="https://evil.example/x.swf">', ""),
    ("<script>alert(1)</script><style>body{display:none}</style>", ""),
    ('<img src="x" onerror="alert(1)">', "<img>"),
    ('<img src="https://evil.example/pixel.png" alt="p">', '<img alt="p">'),
    ('<a href="javascript:alert(1)">j</a>', "<a>j</a>"),
    ('<a href="java\tscript:alert(1)">j</a>', "<a>j</a>"),  # a browser ignores the tab
    ('<a href=" JAVASCRIPT:alert(1)">j</a>', "<a>j</a>"),
    ('<a href="data:text/html,<script>alert(1)</script>">d</a>', "<a>d</a>"),
    (
        '<div style="background:url(https://evil.example/)" class="c">s</div>',
        '<div class="c">s</div>',
    ),
    ("<svg><script>alert(1)</script></svg>t", "t"),
    ("<!-- <script>alert(1)</script> -->c", "c"),
    ('<p onclick="x()" ONMOUSEOVER="y()">p</p>', "<p>p</p>"),
    ('<a href="https://example.org/a?b=1#c" title="t">ok</a>', None),  # kept as written
    ('<td class="num" data-label="実績値">1,019人</td>', None),
    ("<p>&lt;meta http-equiv=&quot;refresh&quot;&gt; &amp; 5 &lt; 6</p>", None),  # escaped text
]


@pytest.mark.parametrize(("dirty", "clean"), CASES)
def test_allow_list(dirty: str, clean: str | None) -> None:
    assert sanitize_html(dirty) == (dirty if clean is None else clean)


def hostile_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("display(HTML(...))")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/html": REFRESH + "<h1>報告</h1><p>本文</p>"}
        ),
        nbformat.v4.new_output(
            "execute_result",
            data={"text/markdown": '<base href="https://evil.example/">*md*'},
            execution_count=1,
        ),
    ]
    nb.cells = [cell]
    return nb


def test_render_cleans_outputs_and_keeps_the_csp() -> None:
    nb = hostile_notebook()
    before = json.dumps(nb, sort_keys=True)
    page = render_html(nb, language="ja")
    assert json.dumps(nb, sort_keys=True) == before  # the caller's notebook is not modified
    assert "evil.example" not in page and 'http-equiv="refresh"' not in page
    assert "<h1>報告</h1>" in page and "本文" in page
    assert CSP in page  # the second wall stays
    assert sanitize_outputs(hostile_notebook()) == 2


@browser
def test_meta_refresh_output_makes_no_request_in_chromium(
    tmp_path: Path,
    chromium,  # noqa: F811
) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(hostile_notebook(), language="ja"), encoding="utf-8")
    report = chromium.open(page, settle_ms=1500)
    assert report.requests == ()
    assert report.url == page.resolve().as_uri() and report.title == "報告"
    # The same output rendered without the allow-list navigates (what the issue saw): the
    # harness records the request it aborted.
    raw = tmp_path / "raw.html"
    raw.write_text(
        page.read_text(encoding="utf-8").replace("<h1>報告</h1>", REFRESH + "<h1>報告</h1>", 1),
        encoding="utf-8",
    )
    try:
        requests = chromium.open(raw, settle_ms=1500).requests
    except Exception as exc:  # the navigation may also tear the page down under the harness
        requests = (f"navigation: {type(exc).__name__}",)
    assert requests, "the unsanitised page should have tried to navigate"
