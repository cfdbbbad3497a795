"""Scenario discovery: where, in the space of uncertain parameters, does an option fail?

For each case (an option doing worse than the reference on an outcome; an option missing its
thresholds), a state *fails* only on the evidence of its replications (:mod:`sim.analysis.evidence`:
its 95% interval of the shortfall excludes 0 on the worse side); a state whose interval holds 0
counts as not failing. PRIM (the Patient Rule Induction Method of Friedman and Fisher 1999, as
implemented by EMA Workbench's ``ema_workbench.analysis.prim``) peels the box of states down to
where the failing states concentrate. Along its peeling trajectory each box has a coverage (the
share of all failing states inside it) and a density (the share of states inside it that fail);
the box reported is the first on the trajectory (the least peeled) whose density is within
:data:`DENSITY_TOLERANCE` of the densest box that keeps at least :data:`MIN_COVERAGE` of the
failing states. That box may restrict nothing: then the failing states are spread over the whole
space (and when nearly every state fails, the whole space is the failing region). When PRIM finds
no box where at least half the states fail, there is none (:func:`discover` returns None).

A box's stability is measured by rerunning PRIM on :data:`RESAMPLES` resamples (seeded from the
root seed) that draw the states *and* the replications with replacement: which states fail is
read again on the resampled replications (the futures every state shares), so a box drawn by
the noise of a few futures moves with them. The stability of a parameter is how often it is
restricted again; a box is :attr:`Box.stable` when every parameter it restricts is restricted in
at least :data:`STABLE` of the resamples. Everything here is deterministic under the seed.

EMA Workbench is imported only here, and only when PRIM runs: it takes seconds to import, and it
is not in the core install (the ``discovery`` extra): without it PRIM stops with one line naming
the ``pip install`` to run (:func:`require_prim`).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis.direction import higher_is_better, worse_word
from sim.analysis.evidence import cleared, failing
from sim.analysis.figures import new_figure, save_figure
from sim.config.extras import require
from sim.design.robustness import Threshold

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MIN_COVERAGE = 0.5  # the reported box keeps at least half of the failing states
RESAMPLES = 10  # resamples of the states and the replications for the boxes' stability
STABLE = 0.8  # a box is stable when each parameter it restricts is restricted in this share of resamples
DENSITY_TOLERANCE = 0.05  # ... or the first box within this of that density (fewer gratuitous trims)
PEEL_ALPHA = 0.05  # share of the box peeled at each step (EMA Workbench's default)
PRIM_THRESHOLD = 0.5  # PRIM's density threshold: a box where fewer than half the states fail is no box
_STREAM = 0x7072696D  # the resampling stream of a root seed, apart from the model's streams


@dataclass(frozen=True)
class Case:
    """One question to PRIM: in which states is ``failing`` true? ``text`` says what failing is.

    ``shortfall`` ([line, state, replication], positive: worse than the line) is the evidence
    ``failing`` was read from (:func:`sim.analysis.evidence.failing`); with it, the stability
    resamples read it again on resampled replications. Without it, ``failing`` is taken as given.
    """

    option: str
    what: str  # the outcome, or "thresholds"
    text: str
    failing: np.ndarray  # one boolean per state
    shortfall: np.ndarray | None = None

    @property
    def undecided(self) -> int:
        """States neither failing nor shown to hold every line (their intervals hold 0)."""
        if self.shortfall is None:
            return 0
        return int((~self.failing & ~cleared(self.shortfall)).sum())


@dataclass(frozen=True)
class Box:
    """The box found for a case: the restricted parameters' limits (none: the whole space), its
    statistics, the trajectory it was chosen from and how often each parameter is restricted
    under resampling."""

    case: Case
    limits: dict[
        str, tuple[float | None, float | None]
    ]  # restricted parameter -> (lower, upper); None: unrestricted side
    coverage: float
    density: float
    mass: float
    trajectory: pd.DataFrame  # coverage, density, mass, restricted dimensions of every peeling step
    stability: dict[str, float]  # parameter -> share of resamples whose box restricts it

    @property
    def whole(self) -> bool:
        """True when the box restricts no parameter: the failing states are spread over the whole space."""
        return not self.limits

    @property
    def stable(self) -> bool:
        """True when every restricted parameter is restricted again in at least :data:`STABLE` of the resamples."""
        return bool(self.limits) and all(self.stability[p] >= STABLE for p in self.limits)

    def words(self, names: dict[str, str] | None = None) -> str:
        """The box as a sentence: ``"<case> when <a> > 0.6 and <b> < 0.15: coverage 0.81, density 0.77"``;
        for a box that restricts nothing, what that means: the whole space fails, or the failing
        states are spread over it."""
        fail, n = int(self.case.failing.sum()), len(self.case.failing)
        if self.whole:
            if self.density >= 1 - DENSITY_TOLERANCE:
                return f"{self.case.text} in {fail} of {n} states: the whole space is the failing region (no box restricts it)"
            return (
                f"{self.case.text} in {fail} of {n} states, spread over the whole space: no box restricts them "
                f"(no box keeping half of them is denser than the whole space's {self.density:.2f} by more than "
                f"{DENSITY_TOLERANCE:g})"
            )
        names = names or {}
        conditions = []
        for path, (low, high) in self.limits.items():
            name = names.get(path, path)
            if low is not None and high is not None:
                conditions.append(f"{low:.3g} < {name} < {high:.3g}")
            else:
                conditions.append(f"{name} > {low:.3g}" if low is not None else f"{name} < {high:.3g}")
        return f"{self.case.text} when {' and '.join(conditions)}: coverage {self.coverage:.2f}, density {self.density:.2f}"


def cases(
    options: Sequence[str],
    reference: str,
    cubes: dict[str, np.ndarray],
    outcomes: list[str],
    thresholds: Sequence[Threshold] = (),
) -> list[Case]:
    """The questions of a robustness experiment, from its values (``cubes``: outcome ->
    [option, state, replication]): each option against the reference on each of ``outcomes``
    (the paired difference worse than 0, on the evidence), and, with thresholds, each option
    missing any of them (its state mean beyond a threshold, on the evidence)."""
    found = []
    ref = list(options).index(reference)
    for o, option in enumerate(options):
        if option == reference:
            continue
        for outcome in outcomes:
            difference = cubes[outcome][o] - cubes[outcome][ref]  # [state, replication], pair by pair
            shortfall = (-difference if higher_is_better(outcome) else difference)[None]
            found.append(
                Case(
                    option,
                    outcome,
                    f"{option} brings {worse_word(outcome)} {outcome} than {reference}",
                    failing(shortfall),
                    shortfall,
                )
            )
    if thresholds:
        for o, option in enumerate(options):
            shortfall = np.stack(
                [
                    cubes[t.outcome][o] - t.value if t.bound == "max" else t.value - cubes[t.outcome][o]
                    for t in thresholds
                ]
            )
            found.append(Case(option, "thresholds", f"{option} misses the thresholds", failing(shortfall), shortfall))
    return found


def discover(case: Case, x: pd.DataFrame, seed: int, resamples: int = RESAMPLES) -> Box | None:
    """PRIM's box for ``case`` over the states' parameters ``x``: None if no state fails or
    PRIM finds no box where at least half the states fail (EMA Workbench then returns the whole
    space as a "dump box"); a box without limits when the whole space is the best box (every
    state failing among them)."""
    if not case.failing.any():
        return None
    if case.failing.all():
        limits, stats = {}, (1.0, 1.0, 1.0)
        trajectory = pd.DataFrame(
            {"coverage": [1.0], "density": [1.0], "mass": [1.0], "res_dim": [0], "chosen": [True]}
        )
    else:
        limits, stats, trajectory = _prim_box(x, case.failing)
        if len(trajectory) == 1 and case.failing.mean() < PRIM_THRESHOLD:
            return None
    return Box(case, limits, *stats, trajectory, _stability(case, x, seed, resamples))


def _stability(case: Case, x: pd.DataFrame, seed: int, resamples: int) -> dict[str, float]:
    """Per parameter, the share of ``resamples`` whose box restricts it: each resample draws the
    states with replacement and, with the case's shortfall, the replications too (the same
    draw for every state), and reads again which states fail."""
    rng = np.random.default_rng([seed, _STREAM])
    again = case.failing[:, None].repeat(resamples, axis=1)
    if case.shortfall is not None:
        replications = case.shortfall.shape[-1]
        draws = np.random.default_rng([seed, _STREAM, 1]).integers(0, replications, size=(resamples, replications))
        weights = np.stack([np.bincount(row, minlength=replications) for row in draws]).astype(float)
        again = failing(case.shortfall, weights)  # [state, resample]
    counts = dict.fromkeys(x.columns, 0)
    for b in range(resamples):
        rows = rng.integers(0, len(x), len(x))
        y = again[rows, b]
        if y.any() and not y.all():
            for path in _prim_box(x.iloc[rows].reset_index(drop=True), y)[0]:
                counts[path] += 1
    return {path: counts[path] / resamples if resamples else np.nan for path in x.columns}


def _prim_box(x: pd.DataFrame, y: np.ndarray):
    prim = require_prim()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # a state fails (y = 1) or not (0); the threshold 0.5 counts the failing states as PRIM's cases of interest
        found = prim.Prim(x, y.astype(bool), threshold=PRIM_THRESHOLD, peel_alpha=PEEL_ALPHA).find_box()
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
    return (
        limits,
        (float(row["coverage"]), float(row["density"]), float(row["mass"])),
        trajectory.assign(chosen=trajectory.index == chosen),
    )


PRIM_USER = "PRIM (a robustness experiment's scenario discovery)"


def require_prim():
    """EMA Workbench's ``prim`` module, or :class:`~sim.config.extras.MissingExtra` naming
    ``pip install -e ".[discovery]"``. Cheap once imported: a run may call it before its batch
    to stop at once rather than after the runs."""
    logging.getLogger("EMA").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optional back ends it does not find (ipyparallel ...)
        return require("ema_workbench.analysis.prim", extra="discovery", needed_by=PRIM_USER)


def box_table(boxes: list[Box]) -> pd.DataFrame:
    """One row per (box, parameter): the case, how many states fail on the evidence and how many
    are undecided, the box's coverage, density and mass, whether it is stable, the parameter's
    limits (empty when the box leaves it free) and its stability."""
    rows = []
    for box in boxes:
        for path, share in box.stability.items():
            low, high = box.limits.get(path, (None, None))
            rows.append(
                {
                    "option": box.case.option,
                    "case": box.case.what,
                    "text": box.case.text,
                    "failing": int(box.case.failing.sum()),
                    "undecided": box.case.undecided,
                    "states": len(box.case.failing),
                    "coverage": box.coverage,
                    "density": box.density,
                    "mass": box.mass,
                    "stable": box.stable,
                    "parameter": path,
                    "restricted": path in box.limits,
                    "low": low,
                    "high": high,
                    "stability": share,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "option",
            "case",
            "text",
            "failing",
            "undecided",
            "states",
            "coverage",
            "density",
            "mass",
            "stable",
            "parameter",
            "restricted",
            "low",
            "high",
            "stability",
        ],
    )


def trajectory_plot(path: Path, box: Box) -> Path:
    """:func:`trajectory_figure` written at ``path``."""
    return save_figure(trajectory_figure(box), path)


def trajectory_figure(box: Box) -> Figure:
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
    return figure
