"""A figure's PNG: drawn once, with no timestamp, so that the same figure gives the same bytes.

The one place a figure becomes a PNG: the files of a results folder
(:func:`sim.analysis.figures.save_figure`), a figure a notebook shows
(:class:`sim.analysis.shown_figure.ShownFigure`) and the figures of a result's HTML view.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def write_png(fig: Figure, target: Path | BinaryIO) -> None:
    """Draw ``fig`` once and write it as a PNG (no timestamp) to a path or a binary file.

    ``savefig`` draws a figure with a layout engine twice, once to lay it out and once to render
    it; drawing the canvas lays out and renders in one pass, and the PNG has the same bytes
    (``tests/test_figures.py``) for about a tenth less CPU (``bench/bench_figures.py``)."""
    from matplotlib.image import imsave

    fig.canvas.draw()
    imsave(target, fig.canvas.buffer_rgba(), format="png", origin="upper", dpi=fig.dpi, metadata={"Software": None})


def png_bytes(fig: Figure) -> bytes:
    """``fig`` as PNG bytes (:func:`write_png`)."""
    buffer = io.BytesIO()
    write_png(fig, buffer)
    return buffer.getvalue()
