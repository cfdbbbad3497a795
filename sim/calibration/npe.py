"""Neural posterior estimation (``calibrate --method npe``): the calibration's second method,
with the sbi library, behind the ``npe`` extra.

ABC-SMC simulates a candidate, keeps it if its statistics fall near the record, and repeats for
tens of thousands of candidates. Neural posterior estimation simulates once, from the priors,
and learns the posterior as a function of the statistics: a conditional density (a masked
autoregressive flow) of the free parameters given the statistics, trained on the prior pilot's
replications (:mod:`sim.calibration.pilot`), then evaluated at the record's statistics. The
same few thousand simulations that screen the parameters are its whole training set, so a
calibration costs a fraction of ABC's simulations (docs/calibration.md, *Neural posterior
estimation*).

What the network sees:

- the parameters on their free scale (:mod:`sim.calibration.priors`: standard logistic each,
  so the prior is the same for every parameter and has no bounds to leak over);
- each fitted statistic on the scale where its noise is compared (:func:`stabilised`), standardised
  by the training set's mean and spread; a statistic a replication could not measure (a share
  of no triggers) is set to the training set's median, and a 0/1 column says so. The record is
  the point of each observed range (:meth:`Observation.point`: the middle of a closed range); a
  row given only as a lower bound ("at least 27") is exact, by censoring the statistic at the
  bound (:func:`_stable`).
- ``DECOYS`` decoy parameters, drawn from the same standard logistic independently of
  everything: the statistics say nothing about them, so the flow's posterior of a decoy at the
  record should be its prior. How far it is not (the Kolmogorov-Smirnov gap) measures the
  flow's own error as an effective sample size (:attr:`Estimate.effective_size`), and a real
  parameter counts as *moved by the data* only beyond the 1% critical value at that size
  (:attr:`Estimate.floor`; the ``floor`` of :func:`sim.analysis.posterior.parameter_table`).

Training and draws run in one thread under their own seed (``torch.random.fork_rng``), so the
same seed gives the same posterior, byte for byte, whatever the number of workers that ran
the simulations.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sim.calibration.priors import KS_CRITICAL_1PCT, KS_MEAN, Prior
from sim.calibration.public_record import Observation
from sim.calibration.scales import stabilised
from sim.config.extras import require
from sim.design.posterior import PARAMETER_PREFIX

torch = require("torch", extra="npe", needed_by="calibrate --method npe")
sbi_inference = require("sbi.inference", extra="npe", needed_by="calibrate --method npe")

DECOYS = 8  # decoy parameters the statistics cannot inform: they measure the flow's own error
DENSITY_ESTIMATOR = "maf"  # sbi's masked autoregressive flow
_DECOY_STREAM = 0x6465636F  # the decoys' draws of a root seed, apart from every other stream


@dataclass(frozen=True)
class Features:
    """How a replication's statistics become the network's input (fitted on the training set)."""

    statistics: tuple[str, ...]  # the check's statistic kind, per fitted row
    ceilings: np.ndarray  # a row observed only as a lower bound: the bound (values above it count as it)
    fill: np.ndarray  # the value of a statistic a replication could not measure
    flagged: np.ndarray  # the rows that get a 0/1 "not measured" column
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, fitted: Sequence[Observation], raw: np.ndarray) -> Features:
        statistics = tuple(o.check.statistic for o in fitted)
        ceilings = np.array([o.low if o.high is None else np.inf for o in fitted], dtype=float)
        stable = _stable(statistics, ceilings, raw)
        missing = np.isnan(stable)
        fill = np.nanmedian(np.where(missing.all(axis=0), 0.0, stable), axis=0)  # 0 where none was measured
        flagged = np.flatnonzero(missing.any(axis=0))
        columns = np.column_stack([np.where(missing, fill, stable), missing[:, flagged].astype(float)])
        scale = columns.std(axis=0)
        return cls(statistics, ceilings, fill, flagged, columns.mean(axis=0), np.where(scale > 0, scale, 1.0))

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        stable = _stable(self.statistics, self.ceilings, np.atleast_2d(raw))
        missing = np.isnan(stable)
        columns = np.column_stack([np.where(missing, self.fill, stable), missing[:, self.flagged].astype(float)])
        return (columns - self.mean) / self.scale


def _stable(statistics: Sequence[str], ceilings: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """Each statistic censored at its row's ceiling, on its stabilised scale. A row the record
    gives only as "at least L" is the event {x >= L}: with x replaced by min(x, L), the record's
    value is L itself, and conditioning on it is conditioning on that event, exactly."""
    return np.column_stack([stabilised(s, np.minimum(raw[:, i], ceilings[i])) for i, s in enumerate(statistics)])


@dataclass(frozen=True)
class Estimate:
    """What the inference gives: the posterior draws and how the flow was trained."""

    values: pd.DataFrame  # one row per draw, one column per dotted path, on the parameters' scales
    weights: np.ndarray  # equal: the draws are independent
    simulations: int
    epochs: int
    validation_loss: float  # the best mean negative log density on the held-back tenth
    decoy_gaps: tuple[float, ...]  # each decoy's Kolmogorov-Smirnov gap from its prior at the record

    @property
    def effective_size(self) -> float:
        """How many independent draws from the exact posterior this one is worth. The decoys'
        mean gap from their prior is read as that of a sample of n draws from it (the
        Kolmogorov distribution's mean is ``KS_MEAN``: a gap of ``KS_MEAN / sqrt(n)`` on
        average), and n is at most the draws taken. A flow trained on another set of prior
        simulations differs from this one by about what two samples of n would."""
        draws = float(len(self.weights))
        if not self.decoy_gaps:
            return draws
        return min(draws, (KS_MEAN / max(float(np.mean(self.decoy_gaps)), 1e-12)) ** 2)

    @property
    def floor(self) -> float:
        """The 1% critical value of the gap from the prior at the effective size,
        ``1.628 / sqrt(n)``: a parameter nothing informs exceeds it one time in a hundred."""
        return KS_CRITICAL_1PCT / math.sqrt(self.effective_size)


class _NoTracking:
    """sbi's tracker protocol, keeping nothing: its default writes TensorBoard logs into an
    ``sbi-logs`` folder of the working directory, which a calibration must not leave behind.
    The training's account is read from the inference afterwards (:func:`training_table`)."""

    log_dir = None

    def log_metric(self, name, value, step=None) -> None:
        pass

    def log_metrics(self, metrics, step=None) -> None:
        pass

    def log_params(self, params) -> None:
        pass

    def add_figure(self, name, figure, step=None) -> None:
        pass

    def flush(self) -> None:
        pass


@contextlib.contextmanager
def _one_seeded_thread(seed: int) -> Iterator[None]:
    """Torch's generator and thread count for one inference, as they were afterwards."""
    threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)


def free_prior(dimensions: int):
    """The standard logistic prior of every free parameter, as a torch distribution."""
    d = torch.distributions
    uniform = d.Uniform(torch.zeros(dimensions, dtype=torch.float32), torch.ones(dimensions, dtype=torch.float32))
    return d.Independent(d.TransformedDistribution(uniform, d.SigmoidTransform().inv), 1)


class Flow:
    """A trained flow: the posterior of the free parameters (decoys last) given a replication's
    statistics, sampled under its own seed."""

    def __init__(self, theta: np.ndarray, features: Features, raw: np.ndarray, seed: int) -> None:
        """Train on ``theta`` (free parameters, one row per replication) and the replications'
        raw statistics ``raw``, in one thread under ``seed``."""
        self.features, self.seed = features, seed
        with _library_quiet(seed):
            inference = sbi_inference.NPE(
                prior=free_prior(theta.shape[1]),
                density_estimator=DENSITY_ESTIMATOR,
                tracker=_NoTracking(),
                show_progress_bars=False,
            )
            inference.append_simulations(
                torch.tensor(theta, dtype=torch.float32), torch.tensor(features(raw), dtype=torch.float32)
            )
            inference.train()
            self._posterior = inference.build_posterior()
        summary = inference._summary  # sbi keeps the training's account here
        self.epochs = int(summary["epochs_trained"][-1])
        self.validation_loss = float(summary["best_validation_loss"][-1])

    def sample(self, raw: np.ndarray, draws: int, stream: int = 0) -> np.ndarray:
        """``draws`` free parameter sets given one replication's raw statistics; ``stream``
        numbers independent sets of draws of one flow."""
        x = torch.tensor(self.features(np.atleast_2d(raw))[0], dtype=torch.float32)
        with _library_quiet(self.seed + 1 + stream):
            sample = self._posterior.sample((draws,), x=x, show_progress_bars=False)
        return sample.detach().numpy().astype(float)


@contextlib.contextmanager
def _library_quiet(seed: int) -> Iterator[None]:
    """One seeded thread, and nothing printed or warned by the library (its advice on z-scoring
    and on prior checks: both are done here)."""
    with _one_seeded_thread(seed), warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def training_set(
    runs: pd.DataFrame, priors: Sequence[Prior], fitted: Sequence[Observation], seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """From replications drawn from the priors (the columns a batch writes: ``param.<path>``
    and ``check.<id>``): the free parameters with the decoys appended, and the raw statistics."""
    free = np.column_stack([np.asarray(p.to_free(runs[PARAMETER_PREFIX + p.path].to_numpy(float))) for p in priors])
    decoys = stats.logistic.ppf(
        np.random.default_rng(np.random.SeedSequence([seed, _DECOY_STREAM])).random((len(runs), DECOYS))
    )
    raw = np.column_stack([runs[o.check.column].to_numpy(float) for o in fitted])
    return np.column_stack([free, decoys]), raw


def estimate(
    runs: pd.DataFrame, priors: Sequence[Prior], fitted: Sequence[Observation], draws: int, seed: int
) -> Estimate:
    """Train the flow on ``runs`` (replications drawn from the priors) and draw ``draws``
    parameter sets from its posterior at the record."""
    theta, raw = training_set(runs, priors, fitted, seed)
    flow = Flow(theta, Features.fit(fitted, raw), raw, seed)
    sample = flow.sample(np.array([float(o.point) for o in fitted]), draws)
    values = pd.DataFrame({p.path: np.asarray(p.to_value(sample[:, i]), dtype=float) for i, p in enumerate(priors)})
    gaps = tuple(float(stats.kstest(sample[:, len(priors) + k], stats.logistic.cdf).statistic) for k in range(DECOYS))
    return Estimate(values, np.full(draws, 1.0 / draws), len(runs), flow.epochs, flow.validation_loss, gaps)


def training_table(result: Estimate) -> pd.DataFrame:
    """The one-row account of the inference that ``generations.csv`` holds for this method
    (``ess``: the effective size, :attr:`Estimate.effective_size`)."""
    return pd.DataFrame(
        [
            {
                "generation": "neural posterior (sbi)",
                "epsilon": math.nan,
                "simulations": result.simulations,
                "accepted": math.nan,
                "acceptance_rate": math.nan,
                "ess": result.effective_size,
                "epochs": result.epochs,
                "validation_loss": result.validation_loss,
                "decoy_floor": result.floor,
            }
        ]
    )
