"""Executed notebook → one self-contained, offline, script-free HTML report (nbconvert in-process).

nbconvert's stock ``lab`` template links require.js, MathJax and mermaid from a CDN and may emit
widget and ``application/javascript`` scripts. A report must open offline in ten years and must
not run code even if a hostile name slipped through escaping (issue #6), so the template below
extends ``lab/index.html.j2`` and

- blanks the require.js, MathJax, mermaid and widget blocks and the JavaScript output renderer;
- puts a Content-Security-Policy ``<meta>`` first in ``<head>`` that allows no script, no
  network fetch and no form/frame: ``default-src 'none'; img-src data:; style-src
  'unsafe-inline'``; figures are PNGs embedded as ``data:`` URIs and CSS is inlined, so the
  report renders fully under it;
- hides all code (``exclude_input``) and the In/Out prompts.

Output is deterministic for a deterministic notebook: no timestamps, no random ids (the injected
parameters cell gets a fixed id in :mod:`kpianalysis.build.pipeline`).
"""

from __future__ import annotations

import copy
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # importing nbformat costs ~1 s; the no-op build must not pay it
    import nbformat

CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-src 'none'"
)

# Jinja template source: the CSP meta replaces the script block in <head>, so it precedes every
# stylesheet and element the browser will fetch or run.
TEMPLATE = """\
{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}
<meta http-equiv="Content-Security-Policy" content="{{ resources.kpi_csp }}">
{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block data_javascript scoped -%}{%- endblock -%}
{%- block data_widget_view scoped -%}{%- endblock data_widget_view -%}
"""

_local = threading.local()


def _exporter(language: str) -> Any:
    # One exporter per thread: nbconvert exporters hold a Jinja environment and per-call state,
    # and sharing one across worker threads is not documented as safe.
    from nbconvert import HTMLExporter

    cache = getattr(_local, "exporters", None)
    if cache is None:
        cache = _local.exporters = {}
    if language not in cache:
        exporter = HTMLExporter(
            template_name="lab",
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            exclude_anchor_links=True,
            embed_images=True,
            language_code=language,
            theme="light",
            # Belt and braces: even if a block above is restored by a newer nbconvert, nothing
            # points at a CDN.
            mathjax_url="",
            require_js_url="",
            mermaid_js_url="",
            mermaid_layout_elk_js_url="",
            jquery_url="",
            jupyter_widgets_base_url="",
            widget_renderer_url="",
        )
        exporter.raw_template = TEMPLATE
        cache[language] = exporter
    return cache[language]


def render_html(nb: nbformat.NotebookNode, *, title: str, language: str = "ja") -> str:
    """Render an executed notebook to a self-contained HTML string.

    Parameters
    ----------
    nb
        Executed notebook (not modified).
    title
        Text for ``<title>``; HTML-escaped by the template.
    language
        ``"ja"`` or ``"en"``: the ``lang`` attribute of ``<html>``.

    Returns
    -------
    str
        UTF-8 HTML with code hidden, figures embedded as ``data:`` URIs, no external URL in any
        ``src``/``href`` of the template and a CSP that forbids scripts.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook()
    >>> html = render_html(nb, title="attainment FY2023")
    >>> '<html lang="ja">' in html and "<script" not in html
    True
    """
    nb = copy.deepcopy(nb)
    nb.metadata["title"] = title
    # Widget state would be written as a <script type=...widget-state+json> by the footer.
    nb.metadata.pop("widgets", None)
    exporter = _exporter(language)
    body, _ = exporter.from_notebook_node(
        nb, resources={"kpi_csp": CSP, "metadata": {"name": title}}
    )
    return body
