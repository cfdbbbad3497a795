"""One replication's world: the SimPy environment, its actors and their processes."""

from __future__ import annotations

import simpy

from sim.policy.baghdad import Baghdad
from sim.config.calendar import seconds
from sim.model.campaign import (
    AttackKind,
    AttackProcess,
    Intensity,
    attack_arrivals,
    campaign_regimes,
    initial_regime,
)
from sim.model.threats.convoy import Roads, convoy_attack, security_detail_attack
from sim.model.threats.drone import drone_attack
from sim.policy.history import dated_event
from sim.policy.militia import Militia, tactic_shift
from sim.model.records import Ledger
from sim.model.threats.rocket import rocket_salvo
from sim.config.scenario import Scenario
from sim.model.sites import SiteState, site_calendar
from sim.model.streams import Streams
from sim.policy.washington import Washington

ATTACK_PROCESSES: dict[AttackKind, AttackProcess] = {
    AttackKind.ROCKET: rocket_salvo,
    AttackKind.DRONE: drone_attack,
    AttackKind.CONVOY: convoy_attack,
    AttackKind.SECURITY_DETAIL: security_detail_attack,
}


class World:
    """Everything one replication needs; built from a validated scenario and its streams.

    Later layers (policy processes) reach the actors through ``sites``, ``intensity`` and
    ``ledger`` (subscribe to records), and add processes with ``env.process``.
    """

    def __init__(self, scenario: Scenario, streams: Streams) -> None:
        self.scenario = scenario
        self.streams = streams
        self.env = simpy.Environment()
        self.calendar = scenario.scenario.calendar
        self.ledger = Ledger()
        self.sites = {name: SiteState(self, name, spec) for name, spec in scenario.sites.items()}
        self.site_list = list(self.sites.values())
        self.roads = Roads(scenario.convoys)
        self.attack_process = dict(ATTACK_PROCESSES)
        self.intensity: dict[AttackKind, Intensity] = {}
        self.accepting_attacks = True
        self.generation: dict[str, int] = {}  # attack -> place in an escalation chain
        self._attack_counts: dict[str, int] = {}
        self.militia = Militia(self)
        self.washington = Washington(self)
        self.baghdad = Baghdad(self)
        self.ledger.subscribe(self.washington.observe)
        self.ledger.subscribe(self.militia.observe)

    def next_attack_index(self, stream: str) -> int:
        """The next number in an attack sequence (background rockets, revenge drones ...)."""
        index = self._attack_counts.get(stream, 0)
        self._attack_counts[stream] = index + 1
        return index

    def start(self) -> None:
        """Register the processes of every actor."""
        threats = self.scenario.threats
        rates = {
            AttackKind.ROCKET: threats.rocket.base_rate_per_day,
            AttackKind.DRONE: threats.drone.base_rate_per_day,
            AttackKind.CONVOY: threats.convoy_ied.base_rate_per_day,
            AttackKind.SECURITY_DETAIL: threats.security_detail_ied.base_rate_per_day,
        }
        for kind in AttackKind:
            regime, multiplier = initial_regime(self, kind)
            self.intensity[kind] = Intensity(self.env, rates[kind], regime, multiplier)
        for site in self.site_list:
            self.env.process(site_calendar(self, site))
        for kind in AttackKind:
            self.env.process(campaign_regimes(self, kind))
            self.env.process(attack_arrivals(self, kind))
        self.start_policy()

    def start_policy(self) -> None:
        """Processes of Washington, Baghdad and the militias, and the dated history."""
        env = self.env
        env.process(tactic_shift(self))
        if self.washington.levers.sanctions:
            env.process(self.washington.sanctions())
        env.process(self.baghdad.raids_process())
        env.process(self.baghdad.clearing_campaign())
        for name, event in self.scenario.history.items():
            env.process(dated_event(self, name, event))

    def run(self) -> None:
        """Run to the end of the horizon; then let rounds already in the air land, so every
        launched rocket and drone has a fate, while no new attack starts."""
        horizon = self.calendar.horizon_days
        self.env.run(until=horizon)
        self.accepting_attacks = False
        self.env.run(until=horizon + self.settling_days())

    def settling_days(self) -> float:
        """Longest time from an attack's start to its last impact, plus one second."""
        rocket, drone, cram = self.scenario.threats.rocket, self.scenario.threats.drone, self.scenario.cram
        salvo = rocket.heavy_salvo_max * rocket.launch_spacing_s + rocket.flight_time_s
        return seconds(max(salvo, drone.flight_time_s) + cram.detection_delay_s + 1.0)
