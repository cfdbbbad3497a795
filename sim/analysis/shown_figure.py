"""A matplotlib figure that Jupyter shows by itself, as a PNG.

The project draws every figure with the object-oriented API on its own Agg canvas (see
:mod:`sim.analysis.figures`): no pyplot, so no backend is switched on in someone's notebook. But
IPython shows a plain :class:`~matplotlib.figure.Figure` as an image only once pyplot's inline
backend has registered its display hook (``%matplotlib inline``, or any ``import
matplotlib.pyplot``); before that, a returned figure prints as ``<Figure size 640x440 with 1
Axes>``. :class:`ShownFigure` carries its own ``_repr_png_``, the same bytes as
:func:`sim.analysis.figures.save_figure` writes, so a figure the API returns displays in a
notebook whatever its backend state.
"""

from __future__ import annotations

from matplotlib.figure import Figure


class ShownFigure(Figure):
    """A :class:`~matplotlib.figure.Figure` with ``_repr_png_`` (what Jupyter displays)."""

    def _repr_png_(self) -> bytes:
        from sim.analysis.png import png_bytes

        return png_bytes(self)
