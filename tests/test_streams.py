"""Random streams: the counter-based derivation, the reused generator's contract, and common
random numbers across policy options (docs/reproducibility.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from builders import finish, start

from sim.config.loader import load_scenario
from sim.model.streams import AttackPhase, Streams, counter_of
from sim.model.world import World

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_FILES = sorted(
    p
    for p in [
        ROOT / "configs" / "baseline.toml",
        ROOT / "configs" / "calibrated.toml",
        *(ROOT / "configs" / "scenarios").glob("*.toml"),
    ]
)
OPTIONS = sorted((ROOT / "configs" / "scenarios").glob("*.toml"))


# --- the derivation ------------------------------------------------------------------------------


def test_a_stream_is_philox_at_the_counter_of_its_name_under_the_key_of_seed_and_replication():
    key = np.random.SeedSequence(7, spawn_key=(3,)).generate_state(2, np.uint64)
    for name, phase in (("rocket-12", AttackPhase.LAUNCH), ("rocket-12", AttackPhase.CARRY_OUT), ("regime.drone", 0)):
        expected = np.random.Generator(
            np.random.Philox(key=key, counter=np.array(counter_of(name, phase), dtype=np.uint64))
        )
        want = expected.random(40)
        assert np.array_equal(Streams(7, 3).fresh(name, phase).random(40), want)
        assert np.array_equal(Streams(7, 3).at_once(name, phase).random(40), want)
        if phase == 0:
            assert np.array_equal(Streams(7, 3).get(name).random(40), want)


def test_streams_differ_by_seed_replication_name_and_phase():
    reference = Streams(7, 3).fresh("rocket-12").random(8)
    for other in (
        Streams(8, 3).fresh("rocket-12"),
        Streams(7, 4).fresh("rocket-12"),
        Streams(7, 3).fresh("rocket-13"),
        Streams(7, 3).fresh("rocket-12", AttackPhase.CARRY_OUT),
    ):
        assert not np.any(other.random(8) == reference)  # equal doubles by chance: probability ~ 8 x 2^-53


def test_the_reused_generator_gives_each_stream_its_own_numbers_whatever_was_drawn_before():
    """Moving the shared generator to a stream clears what a previous stream left (the counter,
    the buffered words), so a stream's numbers never depend on the draws before it."""
    streams, fresh = Streams(1, 0), Streams(1, 0)
    names = [f"rocket-{i}" for i in range(20)] + [f"drone.revenge-{i}" for i in range(5)]
    for i, name in enumerate(names):
        rng = streams.at_once(name, i % 2)
        got = [rng.random(i % 5 + 1), rng.integers(0, 10, 3), rng.random((2, 3)), rng.poisson(2.0, 2)]
        ref = fresh.fresh(name, i % 2)
        want = [ref.random(i % 5 + 1), ref.integers(0, 10, 3), ref.random((2, 3)), ref.poisson(2.0, 2)]
        assert all(np.array_equal(a, b) for a, b in zip(got, want)), name
    again = streams.at_once(names[3], 1).random(4)
    assert np.array_equal(again, fresh.fresh(names[3], 1).random(4))


def run_world(scenario, seed: int, replication: int, streams: Streams | None = None) -> World:
    world = World(scenario, streams or Streams(seed, replication))
    start(world)
    finish(world)
    return world


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_every_attack_draws_at_once_so_the_reused_generator_changes_nothing(path):
    """An attack's stream from the shared generator is valid only until the next attack asks for
    one: an attack that drew after anything else ran would take another attack's numbers. Run
    every shipped scenario with a new generator per stream instead: the logs must be identical."""
    scenario = load_scenario(path)
    for replication in range(3):
        reused = run_world(scenario, 11, replication).ledger.records
        fresh = run_world(scenario, 11, replication, Streams(11, replication, reuse=False)).ledger.records
        assert reused == fresh, f"{path.name} replication {replication}"


# --- common random numbers across policy options ---------------------------------------------------


class Noting:
    """A generator that notes every uniform it hands out (the attacks draw only uniforms)."""

    def __init__(self, rng: np.random.Generator, drawn: list[float]) -> None:
        self._rng, self._drawn = rng, drawn

    def random(self, *args, **kwargs):
        values = self._rng.random(*args, **kwargs)
        self._drawn.extend(np.ravel(values).tolist())
        return values


class RecordingStreams(Streams):
    """Streams that note every number each attack's stream hands out, by (name, phase)."""

    def __init__(self, root_seed: int, replication: int) -> None:
        super().__init__(root_seed, replication, reuse=False)
        self.drawn: dict[tuple[str, int], list[float]] = {}

    def at_once(self, name: str, phase: int = 0) -> np.random.Generator:
        return Noting(super().at_once(name, phase), self.drawn.setdefault((name, int(phase)), []))  # type: ignore[return-value]


@pytest.mark.parametrize("option", OPTIONS, ids=lambda p: p.stem)
def test_the_same_attack_draws_the_same_numbers_under_every_policy_option(option):
    """Common random numbers: attack ``rocket-12`` of replication r has the same uniforms in the
    calibrated world and under any policy option, however the option changed what happened
    before it (strikes, pauses, revenge attacks, other attacks' salvo sizes). Where an option
    changes how many numbers an attack uses (a bigger salvo), the shorter list is the start of
    the longer. And nothing differs before the option's policy starts."""
    calibrated = load_scenario(ROOT / "configs" / "calibrated.toml")
    scenario = load_scenario(option)
    common = compared = 0
    for replication in range(4):
        a, b = RecordingStreams(5, replication), RecordingStreams(5, replication)
        world_a, world_b = run_world(calibrated, 5, replication, a), run_world(scenario, 5, replication, b)
        shared = a.drawn.keys() & b.drawn.keys()
        assert shared, "no attack in common"
        for key in shared:
            x, y = a.drawn[key], b.drawn[key]
            n = min(len(x), len(y))
            assert x[:n] == y[:n], key
            compared += n
        common += len(shared)
        start_d = min(
            world_a.calendar.day_of(calibrated.policy.start_date), world_b.calendar.day_of(scenario.policy.start_date)
        )
        if scenario.history == calibrated.history:  # a dated event of the record would differ before the policy
            before = lambda records, start_d=start_d: [r for r in records if r.time_d < start_d]  # noqa: E731
            assert before(world_a.ledger.records) == before(world_b.ledger.records)
    assert common >= 100 and compared >= 1000
