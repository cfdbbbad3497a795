"""Summary statistics of a simulated record, and their distance from the observed record.

The statistics are the fitted rows of the public-record file, each measured on a replication's
log (:func:`sim.replication.checks.measure`). Counts and sums are put on the Anscombe scale
``2 sqrt(x + 3/8)``, where a Poisson count has a standard deviation of about one whatever its
mean; each statistic is then divided by its own noise scale: its standard deviation across
replications of the model at the prior medians (the pilot run), at least one for a count or a
sum (no finer than Poisson noise). An observation given as a range (``80-90`` rockets) is
matched by any value inside it. The distance is the Euclidean norm of the scaled deviations.

The scales are fixed before the inference starts and stored with it, so every generation, and
a resumed run, uses the same distance.

**The projected distance** (the calibration file's ``distance = "projected"``, the default):
with many statistics, most of them noisy and each telling little, the Euclidean distance is
dominated by noise that no parameter explains, and the threshold stalls at that noise floor.
Semi-automatic ABC (Fearnhead and Prangle 2012, JRSS B 74: 419-474) replaces the statistics by
what they say about the parameters: for each parameter, a regression fitted on the prior pilot
predicts its normal score from the statistics (:class:`sim.calibration.identifiability.Projection`),
and the distance compares the predictions for the simulated and the observed record, in units
of the parameters' prior standard deviations. A statistic that predicts no single parameter
adds nothing. Observations given as a bound ("at least 27") cannot be predicted from, so each
adds its scaled shortfall as in the Euclidean distance. (Comparing the record's rows directly
as well was tried: their noise then dominates again, and the salvo sizes, which the projection
informs, were left near their priors.) The projection is fitted once, on the pilot, before the
inference, so the distance stays fixed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.calibration.identifiability import Projection
from sim.calibration.public_record import Observation
from sim.calibration.scales import STABILISED, stabilised
from sim.config.extras import require
from sim.replication.checks import Check

pyabc = require("pyabc", extra="calibrate", needed_by="calibrate")  # ABC-SMC: not in the core install

POISSON_SCALE = 1.0  # the noise scale of a Poisson count on the Anscombe scale
SMALLEST_SCALE = 1e-3  # a floor for the other statistics, so that no division is by zero


@dataclass(frozen=True)
class Summary:
    """The fitted observations and the noise scale of each."""

    observations: tuple[Observation, ...]
    scales: tuple[float, ...]
    projection: Projection | None = None  # the projected distance (module docstring); None: Euclidean

    @property
    def checks(self) -> tuple[Check, ...]:
        return tuple(o.check for o in self.observations)

    @property
    def ids(self) -> list[str]:
        return [o.check.id for o in self.observations]

    def observed(self) -> dict[str, float]:
        """The observed record as the inference library stores it (the point of each range)."""
        return {o.check.id: float(o.point) for o in self.observations}

    def deviations(self, simulated: Mapping[str, float]) -> np.ndarray:
        """Scaled deviation of each simulated statistic from its observed range (0 inside it;
        0 for a statistic the replication could not measure, such as a share of no triggers)."""
        out = np.zeros(len(self.observations))
        for i, (obs, scale) in enumerate(zip(self.observations, self.scales)):
            value = simulated[obs.check.id]
            if value is None or np.isnan(value):
                continue
            x = stabilised(obs.check.statistic, value)
            low = stabilised(obs.check.statistic, obs.low)
            high = stabilised(obs.check.statistic, obs.high) if obs.high is not None else np.inf
            out[i] = (low - x if x < low else x - high if x > high else 0.0) / scale
        return out

    def distance(self, simulated: Mapping[str, float]) -> float:
        if self.projection is None:
            return float(np.sqrt(np.sum(self.deviations(simulated) ** 2)))
        bounds = np.array([o.high is None for o in self.observations], dtype=bool)
        compared = self.deviations(simulated)[bounds]
        gap = self.projection.project(simulated) - self._projected_observation
        return float(np.sqrt(np.sum(gap**2) + np.sum(compared**2)))

    @property
    def _projected_observation(self) -> np.ndarray:
        cached = self.__dict__.get("_observed_projection")
        if cached is None:
            cached = self.projection.project({o.check.id: o.point for o in self.observations})
            object.__setattr__(self, "_observed_projection", cached)
        return cached

    def table(self) -> pd.DataFrame:
        """The statistics, their observed ranges and scales (for the report)."""
        return pd.DataFrame(
            {
                "check": self.ids,
                "statistic": [o.check.statistic for o in self.observations],
                "observed_low": [o.low for o in self.observations],
                "observed_high": [o.high for o in self.observations],
                "scale": list(self.scales),
            }
        )


def noise_scales(observations: Sequence[Observation], pilot: pd.DataFrame) -> tuple[float, ...]:
    """Each statistic's standard deviation on its compared scale across the pilot's replications
    (``pilot`` holds a ``check.<id>`` column per observation), floored (see the module docstring)."""
    scales = []
    for obs in observations:
        values = stabilised(obs.check.statistic, pilot[obs.check.column].to_numpy(float))
        values = values[~np.isnan(values)]
        sd = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        scales.append(max(sd, POISSON_SCALE if obs.check.statistic in STABILISED else SMALLEST_SCALE))
    return tuple(scales)


class RecordDistance(pyabc.Distance):
    """The distance of :class:`Summary` as the inference library calls it (fixed: it neither
    calibrates nor adapts, so every generation and a resumed run agree)."""

    def __init__(self, summary: Summary) -> None:
        super().__init__()
        self.summary = summary

    def __call__(self, x: dict, x_0: dict, t: int | None = None, par: dict | None = None) -> float:
        return self.summary.distance(x)

    def get_config(self) -> dict:
        projection = self.summary.projection
        return {
            "name": type(self).__name__,
            "checks": self.summary.ids,
            "scales": list(self.summary.scales),
            "projection": None if projection is None else [list(r.coefficients) for r in projection.regressions],
        }
