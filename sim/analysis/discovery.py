"""Scenario discovery: where, in the space of uncertain parameters, does an option fail?

For each case (an option doing worse than the reference on an outcome, in its state mean; or
an option missing its thresholds), PRIM (the Patient Rule Induction Method of Friedman and
Fisher 1999, as implemented by EMA Workbench's ``ema_workbench.analysis.prim``) peels the
box of states down to where the failing states concentrate. Along its peeling trajectory each
box has a coverage (the share of all failing states inside it) and a density (the share of
states inside it that fail); the box reported is the first on the trajectory (the least peeled)
whose density is within :data:`DENSITY_TOLERANCE` of the densest box that keeps at least
:data:`MIN_COVERAGE` of the failing states. Its stability is measured by rerunning PRIM on
:data:`RESAMPLES` bootstrap resamples of the states (seeded from the root seed) and counting
how often each parameter is restricted. Everything here is deterministic under the seed.

EMA Workbench is imported only here, and only when PRIM runs: it takes seconds to import.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.direction import worse_word
from sim.analysis.figures import new_figure, save_figure

MIN_COVERAGE = 0.5  # the reported box keeps at least half of the failing states
RESAMPLES = 10  # bootstrap resamples of the states for the boxes' stability
DENSITY_TOLERANCE = 0.05  # ... or the first box within this of that density (fewer gratuitous trims)
PEEL_ALPHA = 0.05  # share of the box peeled at each step (EMA Workbench's default)
_STREAM = 0x7072696D  # the resampling stream of a root seed, apart from the model's streams


@dataclass(frozen=True)
class Case:
    """One question to PRIM: in which states is ``failing`` true? ``text`` says what failing is."""

    option: str
    what: str  # the outcome, or "thresholds"
    text: str
    failing: np.ndarray  # one boolean per state


@dataclass(frozen=True)
class Box:
    """The box found for a case: the restricted parameters' limits, its statistics, the
    trajectory it was chosen from and how often each parameter is restricted under resampling."""

    case: Case
    limits: dict[str, tuple[float | None, float | None]]  # restricted parameter -> (lower, upper); None: unrestricted side
    coverage: float
    density: float
    mass: float
    trajectory: pd.DataFrame  # coverage, density, mass, restricted dimensions of every peeling step
    stability: dict[str, float]  # parameter -> share of resamples whose box restricts it

    def words(self, names: dict[str, str] | None = None) -> str:
        """The box as a sentence: ``"<case> when <a> > 0.6 and <b> < 0.15: coverage 0.81, density 0.77"``."""
        names = names or {}
        conditions = []
        for path, (low, high) in self.limits.items():
            name = names.get(path, path)
            if low is not None and high is not None:
                conditions.append(f"{low:.3g} < {name} < {high:.3g}")
            else:
                conditions.append(f"{name} > {low:.3g}" if low is not None else f"{name} < {high:.3g}")
        where = " and ".join(conditions) if conditions else "anywhere (no parameter restricts it)"
        return f"{self.case.text} when {where}: coverage {self.coverage:.2f}, density {self.density:.2f}"


def cases(states: pd.DataFrame, reference: str, outcomes: list[str], met: dict[str, np.ndarray]) -> list[Case]:
    """The questions of a robustness experiment, from its states table (``states.csv``): each
    option against the reference on each of ``outcomes`` (a state mean difference worse than 0),
    and each option's thresholds (``met``: option -> state -> all thresholds met)."""
    found = []
    for option in dict.fromkeys(states["option"]):
        if option == reference:
            continue
        for outcome in outcomes:
            rows = states[(states["option"] == option) & (states["outcome"] == outcome)].sort_values("state")
            diff = rows["mean_diff"].to_numpy(float)
            failing = diff < 0 if worse_word(outcome) == "fewer" else diff > 0
            found.append(Case(option, outcome, f"{option} brings {worse_word(outcome)} {outcome} than {reference}", failing))
    for option, ok in met.items():
        found.append(Case(option, "thresholds", f"{option} misses the thresholds", ~ok))
    return found


def discover(case: Case, x: pd.DataFrame, seed: int, resamples: int = RESAMPLES) -> Box | None:
    """PRIM's box for ``case`` over the states' parameters ``x``; None if no state fails, or
    every state does (there is nothing to separate), or PRIM finds no box where at least half
    the states fail (EMA Workbench then returns the whole space)."""
    if not case.failing.any() or case.failing.all():
        return None
    limits, stats, trajectory = _prim_box(x, case.failing)
    if len(trajectory) == 1:
        return None
    rng = np.random.default_rng([seed, _STREAM])
    counts = dict.fromkeys(x.columns, 0)
    for _ in range(resamples):
        rows = rng.integers(0, len(x), len(x))
        y = case.failing[rows]
        if y.any() and not y.all():
            for path in _prim_box(x.iloc[rows].reset_index(drop=True), y)[0]:
                counts[path] += 1
    stability = {path: counts[path] / resamples if resamples else np.nan for path in x.columns}
    return Box(case, limits, *stats, trajectory, stability)


def _prim_box(x: pd.DataFrame, y: np.ndarray):
    prim = _prim_module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # a state fails (y = 1) or not (0); the threshold 0.5 counts the failing states as PRIM's cases of interest
        found = prim.Prim(x, y.astype(bool), threshold=0.5, peel_alpha=PEEL_ALPHA).find_box()
    trajectory = found.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].reset_index(drop=True)
    keep = trajectory[trajectory["coverage"] >= MIN_COVERAGE]
    chosen = int(keep.index[keep["density"] >= keep["density"].max() - DENSITY_TOLERANCE][0])
    first, box = found.box_lims[0], found.box_lims[chosen]
    limits = {}
    for path in x.columns:
        low = float(box[path][0]) if box[path][0] > first[path][0] else None
        high = float(box[path][1]) if box[path][1] < first[path][1] else None
        if low is not None or high is not None:
            limits[path] = (low, high)
    row = trajectory.loc[chosen]
    return limits, (float(row["coverage"]), float(row["density"]), float(row["mass"])), trajectory.assign(chosen=trajectory.index == chosen)


def _prim_module():
    logging.getLogger("EMA").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optional back ends it does not find (ipyparallel ...)
        from ema_workbench.analysis import prim
    return prim


def box_table(boxes: list[Box]) -> pd.DataFrame:
    """One row per (box, parameter): the case, the box's coverage, density and mass, the
    parameter's limits (empty when the box leaves it free) and its stability."""
    rows = []
    for box in boxes:
        for path, share in box.stability.items():
            low, high = box.limits.get(path, (None, None))
            rows.append({"option": box.case.option, "case": box.case.what, "text": box.case.text, "coverage": box.coverage,
                         "density": box.density, "mass": box.mass, "parameter": path, "restricted": path in box.limits,
                         "low": low, "high": high, "stability": share})  # fmt: skip
    return pd.DataFrame(rows, columns=["option", "case", "text", "coverage", "density", "mass", "parameter", "restricted",
                                       "low", "high", "stability"])  # fmt: skip


def trajectory_plot(path: Path, box: Box) -> Path:
    """Coverage against density along the peeling trajectory, the reported box marked."""
    figure = new_figure((5.5, 4.0))
    axes = figure.add_subplot()
    trajectory = box.trajectory
    points = axes.scatter(trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"], cmap="viridis", s=14)
    axes.scatter([box.coverage], [box.density], facecolors="none", edgecolors="red", s=90, label="reported box")
    figure.colorbar(points, ax=axes, label="restricted parameters")
    axes.set_xlabel("coverage")
    axes.set_ylabel("density")
    axes.set_title(box.case.text, fontsize=8)
    axes.legend(loc="lower left", fontsize=8)
    return save_figure(figure, path)
