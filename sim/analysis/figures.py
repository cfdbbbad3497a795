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
    """A figure on its own Agg canvas (no pyplot, no global backend change)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size_in, dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: Path) -> Path:
    """Save ``fig`` as a PNG at ``path``, atomically; no timestamp, so the bytes are reproducible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda p: fig.savefig(p, format="png", metadata={"Software": None}))
    return path


def safe_name(name: str) -> str:
    """``name`` reduced to letters, digits, '_', '-' and '.' for a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("._") or "unnamed"
