"""A robustness experiment's runs in tidy form: the option, the state and the state's parameters
as columns.

A robustness experiment runs every option in every state of the world as one scenario named
``<option>-state<k>`` (:func:`sim.design.robustness.scenario_name`), and its ``runs.parquet``
holds only that name: the file is the batch's, byte for byte what any batch writes, checksummed
in the manifest and assembled chunk by chunk on a resume, so nothing is added to it. The
manifest describes the states (the options, the uncertain parameters and each state's values),
so :func:`tidy` rebuilds the columns when a table is read::

    >>> from sim import api
    >>> from sim.analysis.tidy import tidy
    >>> results = api.load_results("results/robustness")
    >>> runs = tidy(results.runs, results.manifest)
    >>> runs.groupby(["option", "state"])["us_killed"].mean()

``load_results`` leaves ``.runs`` as the file holds it; the tidy table is ``tidy(results.runs,
results.manifest)`` (or a result's ``.tidy_runs``, see :class:`TidyRuns`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sim.design.robustness import STATE, StatesDesign, split_name

OPTION = "option"


def tidy(runs: pd.DataFrame, manifest: dict) -> pd.DataFrame:
    """``runs`` with, after ``scenario``, the columns ``option`` and ``state`` and one column per
    uncertain parameter (named by its dotted path, as in ``states.csv``) holding the state's value,
    when ``manifest`` is a robustness experiment's; any other runs table is returned as it is (a
    copy). The rows and the other columns are unchanged.

    Raises
    ------
    ValueError
        If a scenario's name does not name an option and a state of the manifest's design.
    """
    described = manifest.get("robustness") if isinstance(manifest, dict) else None
    if not described:
        return runs.copy()
    design = StatesDesign.from_manifest(manifest["reference"], described)
    names = pd.Series(pd.unique(runs["scenario"]), dtype=object)
    where = {}
    for name in names:
        try:
            option, state = split_name(str(name))
        except (ValueError, TypeError):
            option, state = None, None
        if option not in design.options or state is None or not 0 <= state < len(design.states):
            raise ValueError(f"scenario {name!r} names no option and state of this robustness experiment")
        where[name] = (option, state)
    keys = pd.DataFrame([(name, *where[name]) for name in names], columns=["scenario", OPTION, STATE])
    keys = keys.merge(design.states[[STATE, *design.paths]], on=STATE, how="left")
    added = keys.set_index("scenario").loc[runs["scenario"]].reset_index(drop=True)
    added.index = runs.index
    position = list(runs.columns).index("scenario") + 1
    columns = [c for c in added.columns if c not in runs.columns]
    table = runs.copy()
    for offset, column in enumerate(columns):
        table.insert(position + offset, column, added[column])
    return table


class TidyRuns:
    """A base for a result object with ``runs`` and ``manifest``: ``.tidy_runs`` is
    :func:`tidy` of them (the runs themselves for anything but a robustness experiment)."""

    @property
    def tidy_runs(self) -> pd.DataFrame | None:
        runs: Any = getattr(self, "runs", None)
        return None if runs is None else tidy(runs, getattr(self, "manifest", None) or {})
