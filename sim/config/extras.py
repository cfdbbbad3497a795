"""Optional dependencies: what the core install leaves out, and the one line that says how to add it.

``pip install -e .`` installs what the default job and the commands run, trace, experiment,
compare, sweep and validate need. Three things need an extra (see pyproject.toml):

- ``calibrate`` (pyabc): ``run.py calibrate`` and :func:`sim.api.calibrate`;
- ``discovery`` (ema_workbench): PRIM boxes in a robustness experiment's report;
- ``dask`` (dask.distributed): ``--scheduler``.

A module of these is imported only where it is used, through :func:`require`, so that a missing
one stops that use with :class:`MissingExtra`: one line naming the ``pip install`` to run (exit
code 2 on the command line), never a traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from sim.config.errors import UsageError

EXTRAS = {  # extra -> the package it adds
    "calibrate": "pyabc",
    "discovery": "ema_workbench",
    "dask": "dask",
    "npe": "sbi and torch",
}


class MissingExtra(UsageError):
    """A use of the model that needs an optional dependency which is not installed."""

    def __init__(self, needed_by: str, extra: str) -> None:
        self.needed_by, self.extra = needed_by, extra
        super().__init__(
            f'{needed_by} needs {EXTRAS[extra]}, which the core install leaves out: pip install -e ".[{extra}]"'
        )


def require(module: str, extra: str, needed_by: str) -> ModuleType:
    """``import module``, or :class:`MissingExtra` naming ``pip install -e ".[extra]"`` when it
    (or something it imports) cannot be imported."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(needed_by, extra) from None
