"""Figures embedded in a report: PNG data URIs, so an HTML report is one self-contained file."""

from __future__ import annotations

import base64
import io
import warnings
from typing import Any

import matplotlib.pyplot as plt
from PIL import Image

from kpianalysis.report import present as P

__all__ = ["FIGURE_COLOURS", "FIGURE_DPI", "figure_html"]


#: Print resolution of embedded figures: crisp on A4 at the figure's physical size.
FIGURE_DPI = 200


#: Colours kept when a figure is stored (an adaptive palette; the PNG stays small).
FIGURE_COLOURS = 64


def figure_html(fig: Any, alt: str, caption: str | None = None) -> P.Html:
    """Embed a matplotlib figure as a PNG data URI at print resolution, optionally captioned.

    The PNG is drawn at :data:`FIGURE_DPI` and stored with an adaptive palette of
    :data:`FIGURE_COLOURS` colours (no metadata, so output is reproducible); its display size is
    the figure's physical size, so it prints at 200 dpi and never wider than the page.
    """
    buf = io.BytesIO()
    width_in, height_in = fig.get_size_inches()
    with warnings.catch_warnings():
        # Very long labels can defeat the layout engine; the figure is still drawn, and a
        # warning with a library path must not end up in the report.
        warnings.filterwarnings("ignore", message="constrained_layout not applied")
        fig.savefig(buf, format="png", dpi=FIGURE_DPI, metadata={"Software": None})
    plt.close(fig)
    buf.seek(0)
    image = Image.open(buf).convert("RGB").quantize(FIGURE_COLOURS, dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True, dpi=(FIGURE_DPI, FIGURE_DPI))
    data = base64.b64encode(out.getvalue()).decode("ascii")
    # CSS px are 1/96 in: the figure shows at its physical size, smaller on a narrow screen.
    img = P.Html(
        f'<img src="data:image/png;base64,{data}" alt="{P.esc(alt)}" '
        f'width="{round(width_in * 96)}" height="{round(height_in * 96)}">'
    )
    if caption is None:
        return P.Html(f"<figure>{img}</figure>")
    return P.figure(img, caption)
