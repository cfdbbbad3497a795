"""A figure is written by drawing its canvas once (:func:`sim.analysis.png.write_png`); the
PNG must have the bytes that matplotlib's ``savefig`` gives, which draws a figure with a layout
engine twice (once to lay it out, once to render). Checked on figures with what the project's
figures hold: several axes under constrained layout, long and cut labels, a legend outside the
axes, a colour bar, a log scale, error bars and a figure title."""

from __future__ import annotations

import io

import numpy as np
import pytest

from sim.analysis.figures import new_figure, short_label, short_labels
from sim.analysis.png import png_bytes


def forest() -> object:
    fig = new_figure((7.0, 4.5))
    axes = fig.subplots(1, 2, sharey=True)
    names = short_labels(["tougher love with a name far longer than forty characters", "separation", "ultimatum"])
    for k, ax in enumerate(axes):
        mean = np.array([-16.6, -28.5, -9.1]) * (k + 1)
        ax.errorbar(mean, range(3), xerr=[[4.0, 5.0, 3.0], [6.0, 4.0, 2.0]], fmt="o", capsize=3, label="paired 95% CI")
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(range(3), names)
        ax.set_title(short_label(f"attacks_rocket, panel {k}: $ and … in a title"))
    axes[1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.suptitle("Paired differences from continuity")
    return fig


def heatmap() -> object:
    fig = new_figure((6.0, 4.0))
    ax = fig.subplots()
    values = np.arange(48, dtype=float).reshape(6, 8) ** 1.5
    image = ax.imshow(values, aspect="auto", cmap="viridis")
    fig.colorbar(image, ax=ax, label="share of futures")
    ax.set_xticks(range(8), [f"state {k}" for k in range(8)], rotation=45, ha="right")
    return fig


def histogram_on_a_log_scale() -> object:
    fig = new_figure((5.0, 3.5))
    ax = fig.subplots()
    rng = np.random.default_rng(3)
    ax.hist(rng.lognormal(1.0, 1.2, 500), bins=np.logspace(-1, 3, 30), alpha=0.7, label="simulated")
    ax.set_xscale("log")
    ax.axvline(19, color="k", label="observed")
    ax.legend()
    ax.set_xlabel("rocket and drone attacks, 2020 Q1")
    return fig


@pytest.mark.parametrize("build", [forest, heatmap, histogram_on_a_log_scale], ids=lambda f: f.__name__)
def test_drawing_once_gives_the_bytes_of_savefig(build):
    by_savefig = io.BytesIO()
    build().savefig(by_savefig, format="png", metadata={"Software": None})
    once = png_bytes(build())
    assert once[:8] == b"\x89PNG\r\n\x1a\n"
    assert once == by_savefig.getvalue()
    assert png_bytes(build()) == once  # and again: no state left between figures
