"""Headless Chromium for tests: open a local HTML file and report what it did.

Reports are official records that researchers open in a browser, so the hostile-text tests
(issue 6) check them in a real one: Debian's Chromium (``/usr/bin/chromium``, installed by
``scripts/ensure-browser.sh``) driven by Playwright's Python package. Never a browser downloaded by
Playwright: ``executable_path`` always points at the distribution's binary.

What a page is checked for:

* **injected script** — before any page script runs, an init script defines ``window.__xss = []``
  and replaces ``alert``/``confirm``/``prompt`` with functions that push to it; ``console`` calls
  are recorded too. Test payloads push to ``window.__xss``, call ``alert`` or set
  ``document.title``; any of these shows up in :attr:`PageReport.injected`;
* **links** — every ``<a href>``/``<area href>`` value, and every URL-bearing attribute anywhere
  whose scheme is ``javascript:`` (as the browser's URL parser reads it, so ``java&#9;script:``
  counts);
* **network** — every request for anything but ``file:``, ``data:``, ``blob:`` or
  ``about:`` URLs; such requests are recorded and aborted, so a test never reaches the network;
* **console errors** and uncaught page errors;
* optionally a full-page PNG screenshot.

Examples
--------
>>> ok, reason = browser_available()  # doctest: +SKIP
>>> report = open_html("reports/2023/attainment.html", screenshot="/tmp/a.png")  # doctest: +SKIP
>>> report.injected, report.javascript_urls, report.requests  # doctest: +SKIP
((), (), ())
"""

from __future__ import annotations

import functools
import html.parser
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import pytest

#: Debian's Chromium (a wrapper script that runs /usr/lib/chromium/chromium).
CHROMIUM = Path("/usr/bin/chromium")
#: Flags Chromium needs to run headless as root in a container, quietly and without the network.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
)
#: Set to 1 (as ``.ci/run`` does) to fail instead of skip when the browser is missing.
REQUIRE_ENV = "KPIANALYSIS_REQUIRE_BROWSER"
#: Schemes that never leave the machine.
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")

# Runs in every frame before the page's own scripts.
_INIT_SCRIPT = r"""
(() => {
  const xss = [];
  Object.defineProperty(window, "__xss", { value: xss, writable: false, configurable: false });
  for (const name of ["alert", "confirm", "prompt"]) {
    window[name] = function (...args) {
      xss.push(name + "(" + args.map(String).join(", ") + ")");
      return name === "confirm" ? false : null;
    };
  }
  const consoleLog = [];
  Object.defineProperty(window, "__console", { value: consoleLog });
  for (const level of ["log", "info", "warn", "error", "debug"]) {
    const original = console[level].bind(console);
    console[level] = function (...args) {
      consoleLog.push(level + ": " + args.map(String).join(" "));
      return original(...args);
    };
  }
})();
"""

# Collects links after load. a.protocol is the scheme as the URL parser reads it (tabs and
# newlines removed, case folded), so obfuscated javascript: URLs are caught too.
_COLLECT_SCRIPT = r"""
() => {
  const hrefs = [...document.querySelectorAll("a[href], area[href]")].map(
    (a) => a.getAttribute("href"));
  const js = [];
  const attrs = ["href", "src", "action", "formaction", "data", "xlink:href", "poster"];
  for (const el of document.querySelectorAll("*")) {
    for (const name of attrs) {
      const value = el.getAttribute(name);
      if (value === null) continue;
      let scheme = "";
      try { scheme = new URL(value, document.baseURI).protocol; } catch (e) { continue; }
      if (scheme === "javascript:") js.push(el.tagName.toLowerCase() + "[" + name + "]=" + value);
    }
  }
  return { hrefs, js, xss: [...window.__xss], console: [...window.__console],
           title: document.title };
}
"""


@dataclass(frozen=True)
class PageReport:
    """What happened when a page was opened.

    Attributes
    ----------
    url
        The ``file://`` URL opened.
    title
        ``document.title`` after load.
    injected
        Evidence that a script not meant to run did: entries pushed to ``window.__xss``, calls
        of ``alert``/``confirm``/``prompt``, console messages mentioning ``xss``, and a title
        that differs from the ``<title>`` in the file.
    hrefs
        Every ``<a href>`` / ``<area href>`` value, as written.
    javascript_urls
        Every URL-bearing attribute (``href``, ``src``, ``action`` ...) whose scheme is
        ``javascript:``, as ``tag[attr]=value``.
    requests
        Every request for a URL that is not local (``file:``, ``data:``, ``blob:``, ``about:``);
        all were aborted.
    console_errors
        Console messages of type ``error`` and uncaught exceptions (``pageerror: ...``).
    console
        Every console call made by page scripts (``level: text``).
    screenshot
        Path of the full-page PNG, if one was asked for.
    """

    url: str
    title: str
    injected: tuple[str, ...]
    hrefs: tuple[str, ...]
    javascript_urls: tuple[str, ...]
    requests: tuple[str, ...]
    console_errors: tuple[str, ...]
    console: tuple[str, ...]
    screenshot: Path | None = None

    @property
    def script_ran(self) -> bool:
        """Whether any injected script ran."""
        return bool(self.injected)


class _TitleParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title: str | None = None
        self._in_title = False
        self._parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and self.title is None:
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title = False
            self.title = "".join(self._parts)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._parts.append(data)


def written_title(html_text: str) -> str:
    """The first ``<title>`` of an HTML document, whitespace collapsed as ``document.title`` does.

    Examples
    --------
    >>> written_title("<title> 報告書 &amp;\\n FY2023 </title>")
    '報告書 & FY2023'
    """
    parser = _TitleParser()
    parser.feed(html_text)
    parser.close()
    # document.title strips and collapses ASCII whitespace only (U+3000 stays).
    return " ".join(t for t in re.split(r"[\t\n\f\r ]+", parser.title or "") if t)


@functools.lru_cache(maxsize=4)
def _probe(executable: str) -> tuple[bool, str]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is in the lock file
        return False, f"the playwright package is not installed ({exc})"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
            browser.close()
    except Exception as exc:  # any launch failure means "not available"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return False, f"{executable} does not start headless: {first}"
    return True, ""


def browser_available(executable: Path | str = CHROMIUM) -> tuple[bool, str]:
    """Whether headless Chromium can be driven here; if not, why (one line).

    The first call per executable launches it once (about a second); the answer is cached.

    Examples
    --------
    >>> ok, reason = browser_available("/nonexistent/chromium")
    >>> ok, reason.split(":")[0]
    (False, '/nonexistent/chromium not found')
    """
    path = Path(executable)
    if not path.is_file() or not os.access(path, os.X_OK):
        return False, (f"{path} not found: install Debian's chromium (scripts/ensure-browser.sh)")
    return _probe(str(path))


def require_browser(executable: Path | str = CHROMIUM) -> None:
    """Skip the calling test when Chromium is unavailable; fail instead under ``REQUIRE_ENV=1``.

    Examples
    --------
    >>> require_browser()  # doctest: +SKIP
    """
    ok, reason = browser_available(executable)
    if ok:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"browser required ({REQUIRE_ENV}=1) but unavailable: {reason}")
    pytest.skip(f"browser unavailable: {reason}")


class ChromiumSession:
    """One headless Chromium with a fresh, temporary profile; opens local pages one by one.

    Use as a context manager; :func:`open_html` wraps it for a single page.

    Examples
    --------
    >>> with ChromiumSession() as chromium:  # doctest: +SKIP
    ...     report = chromium.open("page.html")
    """

    def __init__(self, executable: Path | str = CHROMIUM) -> None:
        self.executable = Path(executable)
        self._profile: str | None = None
        self._playwright = None
        self._context = None

    def __enter__(self) -> ChromiumSession:
        from playwright.sync_api import sync_playwright

        self._profile = tempfile.mkdtemp(prefix="kpianalysis-chromium-")
        self._playwright = sync_playwright().start()
        try:
            self._context = self._playwright.chromium.launch_persistent_context(
                self._profile,
                executable_path=str(self.executable),
                args=list(CHROMIUM_ARGS),
                headless=True,
                locale="ja-JP",
                viewport={"width": 1024, "height": 768},
                service_workers="block",
            )
            self._context.add_init_script(_INIT_SCRIPT)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._context is not None:
                self._context.close()
        finally:
            self._context = None
            if self._playwright is not None:
                self._playwright.stop()
                self._playwright = None
            if self._profile is not None:
                shutil.rmtree(self._profile, ignore_errors=True)
                self._profile = None

    def open(
        self,
        path: Path | str,
        *,
        screenshot: Path | str | None = None,
        settle_ms: int = 250,
        timeout_ms: int = 30_000,
    ) -> PageReport:
        """Open the local HTML file ``path`` in a new tab and report what it did.

        Parameters
        ----------
        path
            An HTML file on disk.
        screenshot
            Where to write a full-page PNG (optional).
        settle_ms
            Time to let timers and late event handlers run after the ``load`` event.
        timeout_ms
            Limit for loading the page.
        """
        if self._context is None:
            raise RuntimeError("use ChromiumSession as a context manager")
        file = Path(path).resolve()
        url = file.as_uri()
        requests: list[str] = []
        errors: list[str] = []
        page = self._context.new_page()

        def on_route(route) -> None:  # a playwright Route
            if route.request.url.startswith(LOCAL_SCHEMES):
                route.continue_()
            else:
                route.abort()

        def on_request(request) -> None:  # a playwright Request
            if not request.url.startswith(LOCAL_SCHEMES):
                requests.append(request.url)

        page.route("**/*", on_route)
        page.on("request", on_request)
        page.on("websocket", lambda ws: requests.append(ws.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
        try:
            page.goto(url, wait_until="load", timeout=timeout_ms)
            page.wait_for_timeout(settle_ms)
            found = page.evaluate(_COLLECT_SCRIPT)
            shot = None
            if screenshot is not None:
                shot = Path(screenshot)
                page.screenshot(path=str(shot), full_page=True)
        finally:
            page.close()

        injected = [f"__xss: {x}" for x in found["xss"]]
        injected += [f"console {c}" for c in found["console"] if "xss" in c.lower()]
        expected_title = written_title(file.read_text(encoding="utf-8", errors="replace"))
        if found["title"] != expected_title:
            injected.append(f"title changed: {expected_title!r} -> {found['title']!r}")
        return PageReport(
            url=url,
            title=found["title"],
            injected=tuple(injected),
            hrefs=tuple(found["hrefs"]),
            javascript_urls=tuple(found["js"]),
            requests=tuple(requests),
            console_errors=tuple(errors),
            console=tuple(found["console"]),
            screenshot=shot,
        )

    def print_pdf(
        self,
        path: Path | str,
        *,
        pdf: Path | str | None = None,
        content_width_mm: float = 186.0,
    ) -> PrintReport:
        """Print ``path`` to PDF as the page's own ``@page`` rules ask (A4 in the reports).

        Parameters
        ----------
        pdf
            Where to keep the PDF (optional).
        content_width_mm
            The printable width (page width minus left and right margins) at which elements are
            checked for running past the page: 210 mm A4 less the reports' 12 mm margins.
        """
        return _print_pdf(self, path, pdf, content_width_mm)


@dataclass(frozen=True)
class PrintReport:
    """What printing a page to PDF gave: page count and what did not fit the page's width."""

    pages: int
    content_width_px: int
    too_wide: tuple[str, ...]
    pdf: Path | None


# Every element whose box reaches past the printable width, or whose content is wider than its
# box while clipped or scrolled (a table cut off on the right), described as tag.class [px].
_OVERFLOW_SCRIPT = r"""
(width) => {
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const style = getComputedStyle(el);
    const clipped = style.overflowX !== "visible" && el.scrollWidth > el.clientWidth + 1;
    if (r.right > width + 0.5 || r.left < -0.5 || clipped) {
      out.push(`${el.tagName.toLowerCase()}.${el.className} [${Math.round(r.left)}, ` +
               `${Math.round(r.right)}] scroll ${el.scrollWidth}`);
    }
  }
  return out;
}
"""


def count_pdf_pages(pdf: bytes) -> int:
    """Number of page objects in a PDF (``/Type /Page``, not ``/Pages``) as Chromium writes it.

    Examples
    --------
    >>> count_pdf_pages(b"<< /Type /Pages /Count 2 >> << /Type /Page >> << /Type/Page >>")
    2
    """
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))


def _print_pdf(
    session: ChromiumSession, path: Path | str, pdf: Path | str | None, content_width_mm: float
) -> PrintReport:
    if session._context is None:
        raise RuntimeError("use ChromiumSession as a context manager")
    page = session._context.new_page()
    page.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(LOCAL_SCHEMES) else route.abort()
        ),
    )
    try:
        page.goto(Path(path).resolve().as_uri(), wait_until="load")
        page.emulate_media(media="print")
        # CSS px are 1/96 in: the printable width of the page in the layout the PDF uses.
        width = round(content_width_mm / 25.4 * 96)
        page.set_viewport_size({"width": width, "height": 1100})
        too_wide = page.evaluate(_OVERFLOW_SCRIPT, width)
        data = page.pdf(prefer_css_page_size=True, print_background=True)
    finally:
        page.close()
    out = None
    if pdf is not None:
        out = Path(pdf)
        out.write_bytes(data)
    return PrintReport(count_pdf_pages(data), width, tuple(too_wide), out)


def open_html(
    path: Path | str,
    *,
    screenshot: Path | str | None = None,
    executable: Path | str = CHROMIUM,
    settle_ms: int = 250,
) -> PageReport:
    """Open one local HTML file in a fresh headless Chromium and report what it did.

    See :meth:`ChromiumSession.open`; to open many pages, reuse a :class:`ChromiumSession`.
    """
    with ChromiumSession(executable) as session:
        return session.open(path, screenshot=screenshot, settle_ms=settle_ms)


@pytest.fixture(scope="module")
def chromium() -> Iterator[ChromiumSession]:
    """A Chromium session shared by a test module; skips (or fails, see :func:`require_browser`)."""
    require_browser()
    with ChromiumSession() as session:
        yield session


#: Mark for tests that drive the browser (registered in pyproject.toml).
browser = pytest.mark.browser

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "REQUIRE_ENV",
    "ChromiumSession",
    "PageReport",
    "PrintReport",
    "browser",
    "browser_available",
    "chromium",
    "count_pdf_pages",
    "open_html",
    "require_browser",
    "written_title",
]
