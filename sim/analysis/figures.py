"""Figures drawn on their own Agg canvas and saved as reproducible PNGs.

matplotlib is imported only when a figure is drawn, and each figure is drawn on its own Agg
canvas: nothing happens at import time and the global pyplot backend (someone's notebook) is
left alone.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sim.batch.folder import write_atomic

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def new_figure(size_in: tuple[float, float]) -> Figure:
    """A figure on its own Agg canvas (no pyplot, no global backend change), which Jupyter
    shows as a PNG without ``%matplotlib inline`` (see :mod:`sim.analysis.shown_figure`)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from sim.analysis.shown_figure import ShownFigure

    fig = ShownFigure(figsize=size_in, dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: Path) -> Path:
    """Save ``fig`` as a PNG at ``path``, atomically; no timestamp, so the bytes are reproducible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    from sim.analysis.png import write_png

    write_atomic(path, lambda p: write_png(fig, p))
    return path


LABEL_CHARACTERS = 40  # the most characters of a free-text label on a figure


def short_label(text: object, limit: int = LABEL_CHARACTERS) -> str:
    """Free text (a scenario's name, a check's id) as a figure shows it: on one line, cut to
    ``limit`` characters with an ellipsis, and with no ``$`` that matplotlib would read as a
    formula, so a long or odd name cannot crush a figure's axes. Tables keep the full text."""
    text = " ".join(str(text).split()).replace("$", "\\$")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def short_labels(texts) -> list[str]:
    """:func:`short_label` of each text; texts that would read alike after the cut keep apart by
    a number."""
    shown = [short_label(t) for t in texts]
    counts = {label: shown.count(label) for label in shown}
    seen: dict[str, int] = {}
    for i, label in enumerate(list(shown)):
        if counts[label] > 1:
            seen[label] = seen.get(label, 0) + 1
            shown[i] = short_label(label, LABEL_CHARACTERS - 5) + f" ({seen[label]})"
    return shown


def safe_name(name: str) -> str:
    """``name`` reduced to letters, digits, '_', '-' and '.' for a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("._") or "unnamed"
