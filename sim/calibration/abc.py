"""ABC-SMC with pyabc: priors, the model as a function of the free parameters, the run and its
resumption, and the posterior it leaves.

Each generation proposes particles (from the priors at first, then by perturbing the last
population with a multivariate normal kernel fitted to it), simulates each once and accepts it
if the distance of its summary statistics from the observed ones (:mod:`sim.calibration.distance`)
is below the generation's threshold, the ``epsilon_quantile`` of the last population's
distances. The weights correct for proposing from the perturbed population rather than the
prior. The run stops after ``max_generations``, when the acceptance rate falls below
``min_acceptance_rate`` or after ``max_simulations`` simulations, whichever comes first.

pyabc keeps every generation in an SQLite database (``abc.db``): a run that is stopped resumes
from its last finished generation, and gives the same posterior as one that was not stopped
(the distance is fixed and each candidate's random state depends only on its generation and
index, see :mod:`sim.calibration.sampler`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.calibration.distance import RecordDistance, Summary
from sim.calibration.priors import FREE_PRIOR, Prior, free_density
from sim.calibration.sampler import SeededSampler, candidate_replication
from sim.calibration.settings import Budget
from sim.config.extras import require
from sim.config.loader import with_values
from sim.config.scenario import Scenario
from sim.model.world import World
from sim.replication.checks import Check, measure_all
from sim.replication.simulate import collected_once, simulate

pyabc = require("pyabc", extra="calibrate", needed_by="calibrate")  # ABC-SMC: not in the core install

DATABASE = "abc.db"
GROWTH = 1.5  # a generation is expected to need at least this many times the simulations of the last
RUN_ID = 1  # one inference per database


@dataclass(frozen=True)
class Procedure:
    """How the inference spends its simulations and its CPU, not what it infers: the defaults
    are the project's; ``bench/calibration_cost.py`` turns them off to measure the procedure
    before them on the same seed.

    ``vectorised``: the prior and proposal densities and the prior quantiles of a candidate in
    closed form with numpy, instead of one scalar scipy call per parameter (the same numbers to
    float rounding). ``predict_budget``: before each generation, stop if the budget left cannot
    pay for it (:func:`status`); without it, generations start until the budget runs out in
    one, which is then discarded."""

    vectorised: bool = True
    predict_budget: bool = True


PROJECT_PROCEDURE = Procedure()


class ParticleModel:
    """The model as the inference calls it: free parameters in, the record's statistics out.

    A particle's values replace the scenario's; its replication number (which fixes all its
    random streams) is its candidate's (:func:`~sim.calibration.sampler.candidate_replication`)."""

    def __init__(
        self,
        scenario: Scenario,
        priors: Sequence[Prior],
        checks: Sequence[Check],
        root_seed: int,
        vectorised: bool = True,
    ) -> None:
        self.scenario, self.priors, self.checks, self.root_seed = scenario, tuple(priors), tuple(checks), root_seed
        self.vectorised = vectorised

    def values(self, free: dict) -> dict[str, float]:
        if self.vectorised:
            return {p.path: p.fast_value(free[p.name]) for p in self.priors}
        return {p.path: float(p.to_value(free[p.name])) for p in self.priors}

    def __call__(self, free: dict) -> dict[str, float]:
        scenario = with_values(self.scenario, self.values(free), "a particle of the calibration")
        with collected_once():
            values = self._measure(simulate(scenario, candidate_replication(), self.root_seed))
        return {c.id: value for c, value in zip(self.checks, values, strict=True)}

    def _measure(self, world: World) -> list[float]:
        return measure_all(self.checks, world.ledger.records, world.calendar)


class FreePrior(pyabc.Distribution):
    """The priors on the free scale, standard logistic each, with their joint density in closed
    form: one numpy expression for all parameters instead of one scalar scipy call each (pyabc
    evaluates it twice per candidate). Draws are pyabc's own, so they are unchanged."""

    def pdf(self, x):
        names = list(self.keys())
        if isinstance(x, pd.DataFrame):
            return np.prod(free_density(x[names].to_numpy(float)), axis=1)
        if len(x) != len(names):
            raise KeyError(f"a particle of {len(x)} parameters for a prior of {len(names)}")
        return float(np.prod(free_density(np.array([x[name] for name in names], dtype=float))))


def prior_distribution(priors: Sequence[Prior], vectorised: bool = True) -> pyabc.Distribution:
    """The priors on the free scale, as pyabc random variables."""
    kind = FreePrior if vectorised and all(p.free_distribution() == FREE_PRIOR for p in priors) else pyabc.Distribution
    return kind(**{p.name: pyabc.RV(name, *args) for p in priors for name, args in [p.free_distribution()]})


class PriorTransition(pyabc.transition.Transition):
    """Proposes parameters afresh from their priors, independently of the last population.

    For parameters the summary statistics barely inform, perturbing the last population only
    adds variance to the importance weights (over twenty such dimensions the effective sample
    size collapses); proposing them from the prior makes their factor of every weight exactly
    one. Any proposal gives the same posterior; this one only costs less."""

    def __init__(self, priors: dict[str, tuple[str, tuple[float, ...]]], vectorised: bool = True) -> None:
        self.priors = priors
        self._frozen: dict | None = None
        # every free prior is standard logistic: then draws and densities are one numpy call
        self.vectorised = vectorised and all(spec == FREE_PRIOR for spec in priors.values())

    def _distributions(self) -> dict:
        if self._frozen is None:
            self._frozen = {name: getattr(stats, family)(*args) for name, (family, args) in self.priors.items()}
        return self._frozen

    def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:
        pass

    def rvs_single(self) -> pyabc.Parameter:
        if self.vectorised:  # the same draws as one scalar scipy draw each, in order
            return pyabc.Parameter(dict(zip(self.priors, np.random.logistic(size=len(self.priors)).tolist())))
        return pyabc.Parameter({name: float(d.rvs()) for name, d in self._distributions().items()})

    def pdf(self, x):
        if self.vectorised:
            names = list(self.priors)
            if isinstance(x, pd.DataFrame):
                return np.prod(free_density(x[names].to_numpy(float)), axis=1)
            return float(np.prod(free_density(np.array([x[name] for name in names], dtype=float))))
        densities = [d.pdf(np.asarray(x[name], dtype=float)) for name, d in self._distributions().items()]
        product = np.prod(densities, axis=0)
        return product if isinstance(x, pd.DataFrame) else float(product)


def proposal(priors: Sequence[Prior], informed: set[str], vectorised: bool = True) -> pyabc.AggregatedTransition:
    """A multivariate normal kernel over the informed parameters (fitted to the last population,
    pyabc's default), and fresh prior draws for the others."""
    perturbed = tuple(p.name for p in priors if p.path in informed)
    fresh = {p.name: p.free_distribution() for p in priors if p.path not in informed}
    mapping: dict = {}
    if perturbed:
        mapping[perturbed] = pyabc.MultivariateNormalTransition()
    if fresh:
        mapping[tuple(fresh)] = PriorTransition(fresh, vectorised)
    return pyabc.AggregatedTransition(mapping)


@dataclass(frozen=True)
class Progress:
    """Where an inference stands: its generations so far and whether it is finished."""

    generations: int
    simulations: int
    finished: bool
    reason: str


def status(path: Path, budget: Budget, predict_budget: bool = True) -> Progress:
    """The state of the inference in database ``path`` (none yet: 0 generations), and whether a
    stopping rule holds: the generations are all done, the last acceptance rate is below the
    least allowed, or (``predict_budget``) the next generation would overrun the budget of
    simulations. The rule: generation t + 1 is started only if the simulations left are at
    least ``g x n_t``, where ``n_t`` is the simulations generation t needed (the particles over
    its acceptance rate) and ``g = max(GROWTH, n_t / n_(t-1))`` (``GROWTH`` alone after the
    first generation). At the last generation's acceptance rate (``g = 1``) the next one would
    already need ``n_t``; since the rate falls as the threshold tightens (each generation of
    the project's runs needed 1.5 to 2 times the last), ``g`` is at least 1.5. A generation cut
    short by the budget is not kept, so its simulations would be wasted. The first generation
    is always started (without it there is no posterior; the budget's own check leaves room
    for it)."""
    if not path.exists():
        return Progress(0, 0, False, "")
    history = pyabc.History(f"sqlite:///{path}", _id=RUN_ID)
    populations = history.get_all_populations()
    done = populations[populations["t"] >= 0]
    simulations = int(populations["samples"].sum())
    if done.empty:
        return Progress(0, simulations, False, "")
    last = done.iloc[-1]
    rate = last["particles"] / last["samples"]
    growth = max(GROWTH, last["samples"] / done.iloc[-2]["samples"]) if len(done) >= 2 else GROWTH
    expected = growth * last["samples"]
    if len(done) >= budget.max_generations:
        return Progress(len(done), simulations, True, f"{budget.max_generations} generations, the most allowed")
    if rate < budget.min_acceptance_rate:
        return Progress(
            len(done),
            simulations,
            True,
            f"an acceptance rate of {rate:.3f}, below the least allowed ({budget.min_acceptance_rate:g})",
        )
    if predict_budget and simulations + expected > budget.max_simulations:
        return Progress(
            len(done),
            simulations,
            True,
            f"the budget: {simulations} simulations run of {budget.max_simulations}, "
            f"and the next generation would need about {expected:.0f}",
        )
    return Progress(len(done), simulations, False, "")


@contextlib.contextmanager
def quiet_library() -> Iterator[None]:
    """pyabc reports each generation through logging; the project reports through its own
    progress bar and report."""
    logger = logging.getLogger("ABC")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def infer(
    folder: Path,
    model: ParticleModel,
    summary: Summary,
    informed: set[str],
    budget: Budget,
    root_seed: int,
    executor: Executor | None,
    workers: int,
    progress: Callable[[int], None] | None = None,
    procedure: Procedure = PROJECT_PROCEDURE,
) -> Progress:
    """Run (or resume) ABC-SMC into ``folder/abc.db`` until a stopping rule holds; the
    ``informed`` parameters (dotted paths) are perturbed, the others drawn from their priors.

    Generations run one at a time, each resuming from the database (so that an interrupted
    run and an uninterrupted one take the same path), and the budget is checked between them;
    a generation that would overrun it stops the sampler and is not kept."""
    path = folder / DATABASE
    while True:
        state = status(path, budget, procedure.predict_budget)
        if state.finished:
            return state
        if state.generations == 0 and path.exists():
            path.unlink()  # stopped before its first generation was stored: nothing to keep
        left = budget.max_simulations - state.simulations
        sampler = SeededSampler(root_seed, executor, workers, progress, limit=left)
        abc = pyabc.ABCSMC(
            model,
            prior_distribution(model.priors, procedure.vectorised),
            RecordDistance(summary),
            population_size=budget.particles,
            sampler=sampler,
            eps=pyabc.QuantileEpsilon(alpha=budget.epsilon_quantile),
            transitions=proposal(model.priors, informed, procedure.vectorised),
        )
        with quiet_library():
            if state.generations:
                abc.load(f"sqlite:///{path}", RUN_ID)
            else:
                abc.new(f"sqlite:///{path}", summary.observed())
            abc.run(max_nr_populations=1, min_acceptance_rate=budget.min_acceptance_rate)
        after = status(path, budget, procedure.predict_budget)
        if after.generations == state.generations:
            reason = f"the budget: {budget.max_simulations} simulations ran out during generation {state.generations}, which is not kept"
            return Progress(after.generations, after.simulations, True, reason)


def posterior(folder: Path, priors: Sequence[Prior]) -> tuple[pd.DataFrame, np.ndarray]:
    """The last generation: one row per particle (values on the parameters' own scales, in
    the order the database holds them) and the normalised weights."""
    history = pyabc.History(f"sqlite:///{folder / DATABASE}", _id=RUN_ID)
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    values = pd.DataFrame({p.path: np.asarray(p.to_value(frame[p.name].to_numpy(float)), dtype=float) for p in priors})
    return values, np.asarray(weights, dtype=float) / np.sum(weights)


def generations(folder: Path) -> pd.DataFrame:
    """Per generation: threshold, simulations, acceptance rate, effective sample size."""
    history = pyabc.History(f"sqlite:///{folder / DATABASE}", _id=RUN_ID)
    populations = history.get_all_populations()
    rows = []
    for record in populations.itertuples():
        if record.t < 0:
            rows.append(
                {
                    "generation": "prior sample",
                    "epsilon": np.nan,
                    "simulations": int(record.samples),
                    "accepted": np.nan,
                    "acceptance_rate": np.nan,
                    "ess": np.nan,
                }
            )
            continue
        _, weights = history.get_distribution(m=0, t=int(record.t))
        weights = np.asarray(weights, dtype=float) / np.sum(weights)
        rows.append(
            {
                "generation": str(int(record.t)),
                "epsilon": float(record.epsilon),
                "simulations": int(record.samples),
                "accepted": int(record.particles),
                "acceptance_rate": record.particles / record.samples,
                "ess": float(1.0 / np.sum(weights**2)),
            }
        )
    return pd.DataFrame(rows)
