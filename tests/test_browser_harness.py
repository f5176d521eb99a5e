"""The browser harness can fail: hostile HTML is detected, the same text escaped is inert.

These tests prove tests/browser.py before the report tests rely on it (issue 6, point 2): a check
that never fails proves nothing.
"""

from __future__ import annotations

import html
import struct
from pathlib import Path

import pytest

from browser import (
    CHROMIUM_ARGS,
    REQUIRE_ENV,
    browser_available,
    chromium,  # noqa: F401 - pytest fixture
    require_browser,
    written_title,
)

# The payloads issue 6 names, each of which must show itself if it runs.
PAYLOADS = {
    "script": "<script>window.__xss.push('script')</script>",
    "img": "<img src=x onerror=\"window.__xss.push('img-onerror')\">",
    "svg": "<svg onload=\"alert('svg')\"></svg>",
    "title": "<script>document.title = 'pwned'</script>",
    "markdown-link": '<a href="javascript:alert(1)">x</a>',  # what [x](javascript:alert(1)) becomes
    "obfuscated-link": '<a href="java&#9;script:window.__xss.push(2)">y</a>',
}
MARKDOWN_LINK = "[x](javascript:alert(1))"


def page(body: str, title: str = "KPI report") -> str:
    return (
        '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body>{body}</body></html>"
    )


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_launch_flags_are_the_ones_issue_6_requires():
    required = {
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
    }
    assert required <= set(CHROMIUM_ARGS)


def test_missing_browser_is_reported_with_a_reason(tmp_path):
    ok, reason = browser_available(tmp_path / "no-chromium")
    assert not ok and "not found" in reason and "ensure-browser.sh" in reason


def test_missing_browser_skips_or_fails_as_required(tmp_path, monkeypatch):
    missing = tmp_path / "no-chromium"
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="browser unavailable"):
        require_browser(missing)
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="browser required"):
        require_browser(missing)


def test_written_title_collapses_whitespace_like_the_dom():
    written = "<title>\n  達成度 &lt;FY2023&gt;\t報告 </title>"
    assert written_title(written) == "達成度 <FY2023> 報告"
    assert written_title("<p>no title</p>") == ""


@pytest.mark.browser
def test_hostile_page_is_detected(chromium, tmp_path):  # noqa: F811
    path = write(tmp_path, "hostile.html", page("".join(PAYLOADS.values())))
    report = chromium.open(path)
    assert report.script_ran
    injected = "\n".join(report.injected)
    assert "__xss: script" in injected
    assert "__xss: img-onerror" in injected
    assert "__xss: alert(svg)" in injected
    assert "title changed: 'KPI report' -> 'pwned'" in injected
    assert "javascript:alert(1)" in report.hrefs
    assert "a[href]=javascript:alert(1)" in report.javascript_urls
    # A tab inside "javascript" does not hide the scheme from the URL parser, nor from the check.
    assert "a[href]=java\tscript:window.__xss.push(2)" in report.javascript_urls
    assert report.requests == ()


@pytest.mark.browser
@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_each_payload_alone_is_detected(chromium, tmp_path, name):  # noqa: F811
    report = chromium.open(write(tmp_path, f"{name}.html", page(PAYLOADS[name])))
    assert report.script_ran or report.javascript_urls, name


@pytest.mark.browser
def test_escaped_payloads_are_inert_text(chromium, tmp_path):  # noqa: F811
    texts = [*PAYLOADS.values(), MARKDOWN_LINK]
    body = "".join(f"<p>{html.escape(t)}</p>" for t in texts)
    title = html.escape(PAYLOADS["script"])
    report = chromium.open(write(tmp_path, "escaped.html", page(body, title)))
    assert report.injected == ()
    assert not report.script_ran
    assert report.hrefs == () and report.javascript_urls == ()
    assert report.requests == () and report.console_errors == ()
    # The title is shown as the text it is.
    assert report.title == PAYLOADS["script"]


@pytest.mark.browser
def test_network_requests_are_recorded_and_blocked(chromium, tmp_path):  # noqa: F811
    body = (
        '<img src="https://example.invalid/tracker.png">'
        '<link rel="stylesheet" href="http://example.invalid/style.css">'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
    )
    report = chromium.open(write(tmp_path, "net.html", page(body)))
    assert set(report.requests) == {
        "https://example.invalid/tracker.png",
        "http://example.invalid/style.css",
    }
    assert not report.script_ran


@pytest.mark.browser
def test_console_errors_and_page_errors_are_collected(chromium, tmp_path):  # noqa: F811
    body = "<script>console.error('broken figure'); undefinedFunction();</script>"
    report = chromium.open(write(tmp_path, "errors.html", page(body)))
    assert "broken figure" in report.console_errors
    page_errors = [e for e in report.console_errors if e.startswith("pageerror:")]
    assert len(page_errors) == 1 and "undefinedFunction" in page_errors[0]
    assert "error: broken figure" in report.console
    # A page's own script is not an injection unless it says so.
    assert not report.script_ran


@pytest.mark.browser
def test_japanese_page_screenshots_to_png(chromium, tmp_path):  # noqa: F811
    body = (
        "<h1>KPI達成度報告書（令和5年度）</h1>"
        "<p>若い世代（39歳以下）の転入者数ー転出者数: ▲468人 → 83人</p>"
        "<p>小学校区コミュニティの設立数: 累計 9団体（目標 13団体）</p>"
    )
    shot = tmp_path / "ja.png"
    report = chromium.open(write(tmp_path, "ja.html", page(body, "達成度")), screenshot=shot)
    assert report.screenshot == shot
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # IHDR (PNG spec, section 11.2.2)
    assert width == 1024 and height >= 100
    assert report.title == "達成度" and not report.script_ran


@pytest.mark.browser
def test_print_counts_pages_and_finds_what_is_too_wide(chromium, tmp_path):  # noqa: F811
    # The print check of issue 12 must be able to fail: a 1,200 px table does not fit an A4
    # page's 186 mm (703 px) and is reported; two forced page breaks make three pages.
    a4 = "<style>@page { size: A4; margin: 12mm }</style>"
    breaks = '<p style="break-before: page">2</p><p style="break-before: page">3</p>'
    wide = tmp_path / "wide.html"
    wide.write_text(page(a4 + '<table style="width:1200px"><tr><td>x</td></tr></table>' + breaks))
    printed = chromium.print_pdf(wide, pdf=tmp_path / "wide.pdf")
    assert printed.pages == 3 and printed.content_width_px == 703
    assert any(t.startswith("table") for t in printed.too_wide), printed.too_wide
    assert printed.pdf is not None and printed.pdf.read_bytes()[:5] == b"%PDF-"
    fits = tmp_path / "fits.html"
    fits.write_text(page(a4 + '<table style="width:100%"><tr><td>x</td></tr></table>'))
    printed = chromium.print_pdf(fits)
    assert printed.pages == 1 and printed.too_wide == () and printed.pdf is None
