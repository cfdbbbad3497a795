"""Two pilot runs before the inference, both through the project's one execution path.

- At the prior medians: ``pilot_replications`` replications of the calibrated scenario with
  every prior parameter at its median, under common random numbers. Each fitted statistic's
  spread across them is its noise scale in the distance (:mod:`sim.calibration.distance`).
- Over the priors: as many replications, replication r with parameters drawn from the priors
  (seeded by the root seed). On them, the study of :mod:`sim.calibration.identifiability`
  measures how far the statistics could narrow each parameter at best (its attainable width
  ratio); a parameter is *informed* when that is below ``SCREEN_WIDTH``. Informed parameters are
  perturbed from generation to generation, the others proposed afresh from their priors
  (:class:`sim.calibration.abc.PriorTransition`): perturbing a parameter the statistics cannot
  inform only spreads the importance weights (over many such dimensions the effective sample
  size collapses). The screen decides only how particles are proposed, never what the posterior
  is. Each parameter's largest rank correlation with a statistic or the distance is reported
  beside it. The same replications fit the projection of the projected distance
  (:mod:`sim.calibration.distance`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from sim.batch.execution import Execution, run_batch
from sim.calibration.distance import Summary, noise_scales
from sim.calibration.identifiability import attainable_widths, fit_projection
from sim.calibration.priors import Prior
from sim.calibration.public_record import Observation
from sim.calibration.settings import CalibrationFile
from sim.config.loader import with_values
from sim.design.batch import Batch, Source
from sim.design.posterior import PARAMETER_PREFIX, Draws

SCREEN_SIGMAS = 3.5  # a rank correlation this many standard errors from 0 is reported as a relation
SCREEN_WIDTH = 0.95  # a parameter the statistics can narrow below this share of its prior width is perturbed
PILOT_CHUNK = 25
_PRIOR_STREAM = 0x7072696F  # the prior draws of a root seed, apart from the model's streams


def medians(priors: Sequence[Prior]) -> dict[str, float]:
    return {p.path: float(p.distribution().median()) for p in priors}


def prior_draws(priors: Sequence[Prior], count: int, root_seed: int, label: str, digest: str) -> Draws:
    """``count`` joint draws from the (independent) priors, replication r taking draw r."""
    rng = np.random.default_rng(np.random.SeedSequence([root_seed, _PRIOR_STREAM]))
    columns = [p.distribution().ppf(rng.random(count)) for p in priors]
    values = tuple(tuple(float(c[r]) for c in columns) for r in range(count))
    return Draws(label, digest, tuple(p.path for p in priors), tuple(range(count)), values, 1)


@dataclass(frozen=True)
class PilotResult:
    summary: Summary
    screen: (
        pd.DataFrame
    )  # per parameter: largest |rank correlation|, the statistic it is with, informed or not, attainable width
    threshold: float
    prior_runs: pd.DataFrame  # the prior pilot's replications: parameters and statistics (NPE trains on them)

    @property
    def informed(self) -> set[str]:
        return set(self.screen.loc[self.screen["informed"], "parameter"])


def run_pilots(
    calibration: CalibrationFile,
    replications: int,
    execution: Execution,
    prior_replications: int | None = None,
    prior_progress: Callable[[int], None] | None = None,
) -> PilotResult:
    """Both pilot runs (see the module docstring), the prior one of ``prior_replications``
    (``replications`` unless given: neural posterior estimation trains on it, and shows its
    replications done to ``prior_progress``); nothing is written."""
    priors, fitted = calibration.priors, calibration.fitted
    checks = tuple(o.check for o in fitted)
    seed = calibration.header.root_seed
    source = Source("calibration", calibration.path)
    at_medians = with_values(calibration.scenario, medians(priors), f"{calibration.path} (prior medians)")
    batch = Batch(
        "pilot-medians", (("medians", at_medians),), replications, seed, source, chunk_size=PILOT_CHUNK, checks=checks
    )
    summary = Summary(fitted, noise_scales(fitted, run_batch(batch, execution=execution).runs))
    digest = hashlib.sha256(calibration.path.read_bytes()).hexdigest()
    prior_replications = prior_replications or replications
    draws = prior_draws(priors, prior_replications, seed, f"the priors of {calibration.path}", digest)
    batch = Batch(
        "pilot-priors",
        (("priors", calibration.scenario),),
        prior_replications,
        seed,
        source,
        chunk_size=PILOT_CHUNK,
        checks=checks,
        draws=draws,
    )
    runs = run_batch(batch, execution=replace(execution, progress=prior_progress)).runs
    if calibration.header.distance == "projected":
        summary = replace(summary, projection=fit_projection(runs, priors, fitted))
    threshold = SCREEN_SIGMAS / math.sqrt(max(prior_replications - 1, 1))
    screened = screen(runs, priors, fitted, summary, threshold).merge(
        attainable_widths(runs, priors, fitted), on="parameter"
    )
    screened["informed"] = screened["attainable_width_ratio"] < SCREEN_WIDTH
    return PilotResult(summary, screened, SCREEN_WIDTH, runs)


def screen(
    runs: pd.DataFrame, priors: Sequence[Prior], fitted: Sequence[Observation], summary: Summary, threshold: float
) -> pd.DataFrame:
    """Per parameter, its largest absolute rank correlation with a fitted statistic or with the
    distance, across the replications of the prior pilot."""
    targets = {o.check.id: runs[o.check.column].to_numpy(float) for o in fitted}
    targets["distance"] = np.array(
        [summary.distance({i: row[f"check.{i}"] for i in summary.ids}) for _, row in runs.iterrows()]
    )
    rows = []
    for prior in priors:
        values = runs[PARAMETER_PREFIX + prior.path].to_numpy(float)
        best, against = 0.0, ""
        for name, target in targets.items():
            keep = ~np.isnan(target)
            if keep.sum() < 3 or np.ptp(target[keep]) == 0:
                continue
            rho = abs(float(stats.spearmanr(values[keep], target[keep]).statistic))
            if rho > best:
                best, against = rho, name
        rows.append(
            {"parameter": prior.path, "max_abs_rank_correlation": best, "with": against, "informed": best > threshold}
        )
    return pd.DataFrame(rows)
