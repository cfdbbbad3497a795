"""Naive baseline forecasts of the public record: what a forecaster with the observed fit window
and no model would predict, scored on every check exactly as the model is, so that a
validation reports the model's skill, 1 - model score / baseline score (above 0: the model
beats the baseline; 0: no better; below 0: worse).

**The fit window** is the span of dates of the record's ``fit`` rows (2020-01-01 .. 2020-09-30).
A baseline takes from it, and from nothing later:

- *rates*: per kind of attack (rocket, drone, convoy, security detail), its attacks in the event
  record (``configs/data/events_2019_2020.csv``) per day. The event record is a sample, the fit
  rows' counts are complete totals: for kinds a fit ``count`` row counts (rockets and drones
  together, convoys), rate_k = events_k x total / events of the row's kinds, per day of the
  rows' windows, so the fit rows give the level and the event record only the split between
  kinds (rockets against drones). Kinds no fit row counts (security details) take the event
  record as it stands, complete or not;
- *marks*, resampled: the rockets fired per salvo, and per attack the U.S./coalition killed,
  wounded and civilians harmed, of the event record's attacks of the same kind (a blank, not
  reported, is not used; a reported 0 is). One uniform per simulated attack picks the donor
  attack in each mark's list, so an attack whose marks are all reported passes them together,
  and harm comes with the attacks: a fatal attack is an attack with a donor's deaths;
- *dispersion*: the monthly counts of the event record (calendar months wholly inside the
  window, scaled as the rates) and the fit rows' own counts (quarters), by the method of
  moments: k = mean^2 / (var - mean), Poisson when var <= mean.

**The baselines** (each kind, or each group of kinds a fit row counts together, has its own
factors; each group's draws are independent of the others'):

- ``poisson``: every kind a homogeneous Poisson process at its fit-window rate, the marks
  resampled. The reference of a forecaster who knows the average and nothing else.
- ``negbin_monthly``: the same, each calendar month's rate multiplied by a Gamma(k, 1/k) factor
  with k from the monthly counts, so monthly counts are negative binomial. The average with
  the month-to-month swings the fit window showed.
- ``random_level``: Poisson at the fit rate times one Gamma(k, 1/k) level per replication,
  with k from the fit rows' quarterly counts. The average, unsure of the level it runs at.
- ``persistence``: Poisson at each kind's rate over the last quarter of the fit window (from
  the fit rows of that quarter where they exist). The forecaster who trusts the latest quarter.

The baselines forecast attacks and their harm only; a check of other records (U.S. strikes)
has no baseline value. They are stationary: a check in 2021 gets the fit window's rates, which
is the point of a naive reference.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.analysis.baselines.fit_window import FitWindow, KindGroup, KindRate, Marks, fit_window
from sim.analysis.baselines.forecasts import BASELINES, MAIN_BASELINE, baseline_rng, baseline_values, synthetic_logs
from sim.replication.checks import Check

__all__ = [
    "BASELINES",
    "MAIN_BASELINE",
    "FitWindow",
    "KindGroup",
    "KindRate",
    "Marks",
    "baseline_rng",
    "baseline_samples",
    "baseline_values",
    "fit_window",
    "synthetic_logs",
]


def baseline_samples(
    fit: FitWindow, checks: Sequence[Check], replications: int, seed: int, names: Sequence[str] = BASELINES
) -> dict[str, dict[str, np.ndarray]]:
    """Baseline name -> check id -> its values over ``replications`` synthetic logs."""
    return {name: {c.id: baseline_values(name, fit, c, replications, seed) for c in checks} for name in names}
