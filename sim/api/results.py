"""Reading back a finished results folder of any kind."""

from __future__ import annotations

from pathlib import Path

from sim.analysis.results import Results
from sim.analysis.results import load_results as _load_results

__all__ = ["Results", "load_results"]


def load_results(folder: str | Path) -> Results:
    """A finished results folder of any kind the project writes (``run``, ``experiment``,
    ``sweep``, ``validate``, ``side_by_side``, ``calibration``): ``.kind``, ``.manifest``,
    ``.runs``, ``.summary``, ``.comparison``, ``.uncertainty``, ``.failures`` (None where the
    kind has none) and ``.tables`` (every table by name: ``points``, ``sensitivity``,
    ``validation``, ``side_by_side``, ``posterior``, ``parameters`` ...). A damaged, unfinished
    or foreign folder raises :class:`~sim.config.errors.UsageError` with one line saying why."""
    return _load_results(folder)
