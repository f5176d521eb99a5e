"""Notebook HTML outputs cleaned by an allow-list before a report is rendered (issue 19).

The report's Content-Security-Policy forbids scripts and fetches, but not everything: a
``<meta http-equiv="refresh">`` in an output navigated the report to another site, a ``<form>``
could post a reader's input, a ``<base>`` would re-target every relative link. The CSP stays as
a second wall; this is the first. :func:`sanitize_html` keeps the elements and attributes a
report needs (text, tables, figures, lists, links) and removes everything else:

* elements not on the list lose their tags (their text stays); ``script``, ``style``,
  ``iframe``, ``object``, ``embed``, ``svg``, ``template`` … are removed with their content;
  ``meta``, ``base``, ``link``, ``input`` … are removed; comments and declarations too;
* attributes not on the list go, event handlers (``on*``) always; ``href`` keeps relative,
  ``http(s):``, ``mailto:`` and ``#`` links only (never ``javascript:``, ``data:``,
  ``vbscript:``), ``src`` only ``data:image/…`` (figures are embedded), ``style`` only without
  ``url(``, ``expression(``, ``@`` or escapes.

What it keeps is written back byte for byte (a start tag whose attributes all stay is copied as
written), so the reports made from the library's own escaped HTML do not change.

Examples
--------
>>> sanitize_html('<meta http-equiv="refresh" content="0;url=https://x.example/"><p>ok</p>')
'<p>ok</p>'
>>> sanitize_html('<a href="javascript:alert(1)" onclick="x()">a</a><img src="data:image/png;,">')
'<a>a</a><img src="data:image/png;,">'
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_TAGS", "sanitize_html", "sanitize_outputs"]

#: Elements kept (with the attributes below): text, structure, tables, figures, lists, links.
ALLOWED_TAGS = frozenset(
    [
        "a",
        "abbr",
        "article",
        "aside",
        "b",
        "bdi",
        "bdo",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "data",
        "dd",
        "del",
        "details",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "main",
        "mark",
        "meter",
        "nav",
        "ol",
        "p",
        "pre",
        "progress",
        "q",
        "rp",
        "rt",
        "ruby",
        "s",
        "samp",
        "section",
        "small",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "time",
        "tr",
        "u",
        "ul",
        "var",
        "wbr",
    ]
)
#: Elements removed together with everything inside them.
DROPPED_WITH_CONTENT = frozenset(
    [
        "script",
        "style",
        "iframe",
        "frame",
        "frameset",
        "noframes",
        "object",
        "embed",
        "applet",
        "template",
        "noscript",
        "title",
        "textarea",
        "select",
        "svg",
        "math",
        "canvas",
        "audio",
        "video",
        "xmp",
        "plaintext",
        "noembed",
        "head",
    ]
)
#: Attributes kept on any allowed element (plus ``data-*`` and ``aria-*``).
ALLOWED_ATTRIBUTES = frozenset(
    [
        "class",
        "id",
        "lang",
        "dir",
        "title",
        "role",
        "alt",
        "width",
        "height",
        "colspan",
        "rowspan",
        "scope",
        "headers",
        "abbr",
        "datetime",
        "open",
        "start",
        "reversed",
        "span",
        "value",
        "min",
        "max",
        "low",
        "high",
        "optimum",
        "style",
        "href",
        "src",
    ]
)
_SAFE_SCHEMES = ("http", "https", "mailto")
_IMAGE_DATA = re.compile(r"data:image/(?:png|jpeg|gif|webp);", re.IGNORECASE)
_BAD_STYLE = re.compile(r"url\s*\(|expression\s*\(|@|\\", re.IGNORECASE)
# Control characters and whitespace a browser ignores inside a URL's scheme ("java\tscript:").
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")


def _safe_href(value: str) -> bool:
    url = _URL_NOISE.sub("", value)
    head = re.split(r"[/?#]", url, maxsplit=1)[0]
    if ":" not in head:
        return True  # relative, or a fragment
    return head.split(":", 1)[0].lower() in _SAFE_SCHEMES


def _keep_attribute(tag: str, name: str, value: str | None) -> bool:
    if name.startswith(("data-", "aria-")):
        return re.fullmatch(r"(?:data|aria)-[a-z0-9_.-]+", name) is not None
    if name not in ALLOWED_ATTRIBUTES:
        return False
    text = value or ""
    if name == "href":
        return tag == "a" and _safe_href(text)
    if name == "src":
        return tag == "img" and _IMAGE_DATA.match(_URL_NOISE.sub("", text)) is not None
    if name == "style":
        return _BAD_STYLE.search(text) is None
    return True


class _Cleaner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self._skip: list[str] = []  # open elements whose content is dropped

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        if self._skip:
            if tag == self._skip[-1] and not closed:
                self._skip.append(tag)
            return
        if tag in DROPPED_WITH_CONTENT:
            if not closed:
                self._skip.append(tag)
            return
        if tag not in ALLOWED_TAGS:
            return
        kept = [(k, v) for k, v in attrs if _keep_attribute(tag, k, v)]
        if len(kept) == len(attrs):
            self.out.append(self.get_starttag_text() or "")
            return
        parts = [tag] + [k if v is None else f'{k}="{html.escape(v, quote=True)}"' for k, v in kept]
        self.out.append(f"<{' '.join(parts)}{' /' if closed else ''}>")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=True)

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag == self._skip[-1]:
                self._skip.pop()
            return
        if tag in ALLOWED_TAGS:
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        if not self._skip:
            self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        if not self._skip:
            self.out.append(f"&#{name};")

    # Comments, declarations and processing instructions are dropped (the parser's defaults).


def sanitize_html(text: str) -> str:
    """``text`` (an HTML fragment) with only allowed elements, attributes and URLs left.

    Examples
    --------
    >>> sanitize_html('<table class="t"><tr><td data-label="年度">2023</td></tr></table>')
    '<table class="t"><tr><td data-label="年度">2023</td></tr></table>'
    >>> sanitize_html('<form action="https://x.example/"><b>x</b><input name=p></form>')
    '<b>x</b>'
    >>> sanitize_html('<div onmouseover="x()" class="c">&lt;script&gt;</div>')
    '<div class="c">&lt;script&gt;</div>'
    """
    cleaner = _Cleaner()
    cleaner.feed(text)
    cleaner.close()
    return "".join(cleaner.out)


def sanitize_outputs(nb: Any) -> int:
    """Clean every ``text/html`` and ``text/markdown`` output of ``nb`` in place.

    Returns how many outputs changed. Markdown may carry raw HTML, which the report renders
    as such, so it gets the same allow-list.
    """
    changed = 0
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not isinstance(data, Mapping):
                continue
            for mime in ("text/html", "text/markdown"):
                value = data.get(mime)
                if value is None:
                    continue
                text = "".join(value) if isinstance(value, list) else str(value)
                clean = sanitize_html(text)
                if clean != text:
                    data[mime] = clean
                    changed += 1
    return changed
