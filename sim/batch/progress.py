"""The progress display of a batch started from Python, when the caller passes no callback.

The API's ``RunOptions.progress`` is a callback that receives the replications (or, for a
calibration, the simulations) newly done; :func:`with_progress` turns the option's value into
one:

* a callable: kept as it is (the caller's own display);
* ``True`` (the default): :class:`ProgressDisplay`, a ``tqdm`` bar chosen as ``tqdm.auto``
  chooses: a widget in Jupyter (a text bar there if ``ipywidgets`` is not installed), a bar on
  the terminal in a script or the Python prompt, and nothing when stderr is not a terminal (a
  log file, a pipe, a test run);
* ``False`` or ``None``: no display.

>>> from sim import api
>>> api.run_scenario("configs/baseline.toml", 20)                                   # a bar
>>> api.run_scenario("configs/baseline.toml", 20, batch=api.BatchOptions(progress=False))  # none

The display closes itself once the total is reached (and when garbage collected, if a run
stops early); nothing here touches the results, so a run is the same with or without it.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from typing import Any

ProgressOption = Callable[[int], None] | bool | None


def in_notebook() -> bool:
    """Whether this Python runs in a Jupyter kernel (notebook, JupyterLab, VS Code), not a console."""
    shell = sys.modules.get("IPython")
    if "ipykernel.zmqshell" not in sys.modules or shell is None:
        return False
    ipython = getattr(shell, "get_ipython", lambda: None)()
    return ipython is not None and "zmq" in type(ipython).__name__.lower()


class ProgressDisplay:
    """A progress callback drawing a tqdm bar of ``total`` (None: a count without a total) in
    ``unit``: in Jupyter a widget (or a text bar without ipywidgets), elsewhere a bar on stderr
    only when it is a terminal."""

    def __init__(self, total: int | None, unit: str = "rep", description: str | None = None) -> None:
        self.total, self.done = total, 0
        self.bar = _bar(total, unit, description)

    def __call__(self, count: int) -> None:
        self.done += count
        self.bar.update(count)
        if self.total is not None and self.done >= self.total:
            self.close()

    def close(self) -> None:
        self.bar.close()


def _bar(total: int | None, unit: str, description: str | None) -> Any:
    from tqdm.std import tqdm as text_bar

    if in_notebook():
        if _widgets():
            from tqdm.notebook import tqdm as widget_bar

            return widget_bar(total=total, unit=unit, desc=description, leave=True)
        # no ipywidgets: the text bar, shown (a kernel's stderr is no terminal)
        return text_bar(total=total, unit=unit, desc=description, file=sys.stderr, leave=True, disable=False)
    return text_bar(total=total, unit=unit, desc=description, file=sys.stderr, leave=False, disable=None)


def _widgets() -> bool:
    """Whether tqdm can draw a widget (ipywidgets is installed)."""
    try:
        from tqdm.notebook import IProgress
    except ImportError:
        return False
    return IProgress is not None


def progress_callback(
    progress: ProgressOption, total: int | None, unit: str = "rep", description: str | None = None
) -> Callable[[int], None] | None:
    """The callback for a progress option: the caller's, a new :class:`ProgressDisplay`
    (``True``), or None (``False``/``None``)."""
    if callable(progress):
        return progress
    if progress is True:
        return ProgressDisplay(total, unit, description)
    if progress is False or progress is None:
        return None
    raise TypeError(f"progress must be a callable, True or False, not {type(progress).__name__}")


def with_progress(options: Any, total: int | None, unit: str = "rep", description: str | None = None) -> Any:
    """``options`` (a dataclass with a ``progress`` field, such as the API's ``RunOptions``) with
    its progress turned into a callback or None by :func:`progress_callback`; a callable is kept,
    so the options can be passed on (to a validation of several scenarios) without a second bar."""
    return dataclasses.replace(options, progress=progress_callback(options.progress, total, unit, description))
