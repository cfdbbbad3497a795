"""Helpers that build small, degenerate worlds for process tests."""

from __future__ import annotations

import contextlib
import dataclasses
import io
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sim.cli.main import main
from sim.config.calendar import SECONDS_PER_DAY
from sim.config.loader import load_scenario
from sim.config.scenario import Scenario
from sim.config.schema import FrozenMap
from sim.model import timeline as model_timeline
from sim.model.records import Origin, Record
from sim.model.streams import Streams
from sim.model.world import World
from sim.policy.actors import Actors, start_actors
from sim.replication.simulate import record_kinds

ROOT = Path(__file__).resolve().parent.parent
BASELINE_PATH = ROOT / "configs" / "baseline.toml"


def baseline(overrides: dict[str, Any] | None = None) -> Scenario:
    """The baseline scenario with dotted-path overrides, validated like ``--set``."""
    return load_scenario(BASELINE_PATH, overrides or {})


NO_WEIGHTS = (
    "withdrawal_weight",
    "talks_weight",
    "agreement_weight",
    "threat_weight",
    "strike_weight",
    "arrest_weight",
    "election_weight",
    "iran_weight",
)


def quiet(overrides: dict[str, Any] | None = None) -> Scenario:
    """The baseline with every attack generator and follow-up switched off, one regime
    (multiplier 1; the pause regime is kept for truces, with no chance entry), militias that
    never decide a truce (every weight 0, a noise scale too small for the threshold ever to be
    reached: P = exp(-1000)), casualty means of zero, no warnings, tactic shifts or escalation,
    and no dated history: a silent world to which tests add exactly the activity they study."""
    base = {
        "campaign.branching_ratio": 0.0,
        "threats.rocket.base_rate_per_day": 0.0,
        "threats.drone.base_rate_per_day": 0.0,
        "threats.convoy_ied.base_rate_per_day": 0.0,
        "threats.security_detail_ied.base_rate_per_day": 0.0,
        "damage.us_killed_per_impact": 0.0,
        "damage.us_wounded_per_impact": 0.0,
        "damage.civilian_casualties_per_impact": 0.0,
        "damage.stray_round_casualties_mean": 0.0,
        "damage.debris_wounded_mean": 0.0,
        "policy.us.preemption.warning_prob": 0.0,
        "militia.drone_growth_per_year": 0.0,
        "militia.escalation_heavy_boost": 1.0,
        "militia.decision.noise_scale": 1e-3,
        **{f"militia.decision.{w}": 0.0 for w in NO_WEIGHTS},
    }
    scenario = baseline({**base, **(overrides or {})})
    pause = scenario.campaign.pause_regime  # kept, but never entered by chance
    regimes = FrozenMap(
        {
            "steady": dataclasses.replace(scenario.campaign.regimes["active"], multiplier=1.0, entry_weight=1.0),
            pause: dataclasses.replace(scenario.campaign.regimes[pause], entry_weight=0.0),
        }
    )
    return dataclasses.replace(
        scenario, campaign=dataclasses.replace(scenario.campaign, regimes=regimes), history=FrozenMap({})
    )


def one_site(scenario: Scenario, name: str = "embassy", **changes: Any) -> Scenario:
    """Keep only site ``name``, open all run long, with C-RAM from the first day unless
    ``cram_fire_units=0``; ``changes`` replace its fields."""
    site = scenario.sites[name]
    cram_from = scenario.scenario.start_date if changes.get("cram_fire_units", site.cram_fire_units) else None
    fields = {"open_from": None, "close_on": None, "cram_from": cram_from, **changes}
    return dataclasses.replace(scenario, sites=FrozenMap({name: dataclasses.replace(site, **fields)}))


def call_main(argv: list) -> tuple[int, str, str]:
    """Run the command line in this process: (exit code, stdout, stderr); arguments may be
    paths; argparse's SystemExit becomes its code."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def run_replications(scenario: Scenario, replications: int, seed: int, workers: int | None = 1):
    """Outcome rows of replications 0 .. replications - 1, in memory (the runner's one path)."""
    from sim.api import BatchOptions, run_scenario

    return run_scenario(scenario, replications, seed, batch=BatchOptions(workers=workers)).runs


def world_of(scenario: Scenario, seed: int = 1, replication: int = 0) -> World:
    return World(scenario, Streams(seed, replication))


def start(world: World) -> Actors:
    """Start the world's processes and its actors (as a replication does), without running it."""
    model_timeline.start(world)
    return start_actors(world)


def finish(world: World) -> None:
    """Run a started world to its horizon and let it settle."""
    model_timeline.run(world)


def policy_start_d(world: World) -> float:
    return world.calendar.day_of(world.scenario.policy.start_date)


# Every record kind by its upper-case name (``Kind.ATTACK_ROCKET``), for tests that filter logs.
Kind = SimpleNamespace(**{kind.name.upper(): kind for kind in record_kinds()})
TEST = Origin.BACKGROUND  # the origin given to attacks that tests start by hand


def timeline(records: list[Record], kinds: set | None = None) -> list[tuple[str, float]]:
    """(kind, time in seconds rounded to 1 ms) pairs, for exact sequence assertions."""
    return [(r.kind.name, round(r.time_d * SECONDS_PER_DAY, 3)) for r in records if kinds is None or r.kind in kinds]


START = date(2020, 1, 1)


def two_option_experiment(folder: Path, name: str, description: str, replications: int) -> Path:
    """A small experiment file in ``folder``: two options of the baseline (C-RAM's kill
    probability 0.9 in the second) over 20 days of 2020, chunks of 2 replications."""
    path = folder / "exp.toml"
    path.write_text(f"""
[experiment]
name = "{name}"
description = "{description}"
base = "{BASELINE_PATH}"
reference = "a"
replications = {replications}
root_seed = 5
chunk_size = 2
end_date = 2020-01-20
outcomes = ["attacks_rocket"]

[scenarios.a]

[scenarios.b]
set = {{ "cram.kill_prob" = 0.9 }}
""")
    return path
