"""The event log: one immutable flat row per thing that happens, tabulated at the end."""

from __future__ import annotations

from enum import StrEnum
from typing import Callable, NamedTuple


class Kind(StrEnum):
    """What a record reports. ``n`` counts rockets, trucks or people where that applies."""

    REGIME = "regime"  # a campaign regime begins (detail: attack kind and regime)
    SITE_OPENED = "site_opened"
    SITE_CLOSED = "site_closed"
    CRAM_ONLINE = "cram_online"
    ATTACK_ROCKET = "attack_rocket"  # n = rockets in the salvo
    ATTACK_DRONE = "attack_drone"  # n = drones
    ATTACK_CONVOY = "attack_convoy"
    ATTACK_SECURITY_DETAIL = "attack_security_detail"
    NO_TARGET = "no_target"  # an attack found no open site to aim at and was called off
    ROCKET_LAUNCH_FAILED = "rocket_launch_failed"
    ROCKET_LAUNCHED = "rocket_launched"
    ROCKET_ENGAGED = "rocket_engaged"
    ROCKET_INTERCEPTED = "rocket_intercepted"
    ROCKET_DUD = "rocket_dud"
    ROCKET_IMPACT_INSIDE = "rocket_impact_inside"
    ROCKET_IMPACT_OUTSIDE = "rocket_impact_outside"
    DRONE_LAUNCHED = "drone_launched"
    DRONE_ENGAGED = "drone_engaged"
    DRONE_DOWNED = "drone_downed"
    DRONE_IMPACT_INSIDE = "drone_impact_inside"
    DRONE_IMPACT_OUTSIDE = "drone_impact_outside"
    SATURATED = "saturated"  # a threatening round found no free fire unit before impact
    MAGAZINE_EMPTY = "magazine_empty"  # a free unit had too few rounds to engage
    MAGAZINE_RELOADED = "magazine_reloaded"
    STRAY_ROUND = "stray_round"  # C-RAM stray rounds or intercept debris caused harm
    DEBRIS_HARM = "debris_harm"  # a downed drone's debris caused harm
    TRUCKS_DAMAGED = "trucks_damaged"
    US_KILLED = "us_killed"
    US_WOUNDED = "us_wounded"
    CIVILIAN_CASUALTIES = "civilian_casualties"  # Iraqi civilians killed or wounded
    DRIVER_CASUALTIES = "driver_casualties"  # Iraqi convoy drivers killed or wounded
    SECURITY_DETAIL_CASUALTIES = "security_detail_casualties"
    # policy events (n is noted where it is not a count)
    WARNING = "warning"  # intelligence warns of an imminent attack
    ATTACK_PREVENTED = "attack_prevented"  # a warned attack stopped by a pre-emptive strike
    US_STRIKE_RETALIATORY = "us_strike_retaliatory"  # n = the strike's place in its escalation chain
    US_STRIKE_PREEMPTIVE = "us_strike_preemptive"  # n = the strike's place in its escalation chain
    REVENGE = "revenge"  # militias vow revenge for a strike; n = revenge attacks to come
    DEGRADED = "degraded"  # militia capacity cut; detail: by what
    SANCTIONS = "sanctions"  # detail: capacity now lost to sanctions
    ULTIMATUM = "ultimatum"
    TRUCE_START = "truce_start"
    TRUCE_END = "truce_end"
    EMBASSY_CLOSED = "embassy_closed"
    TROOP_REDUCTION = "troop_reduction"
    IZ_CLOSED = "iz_closed"  # Baghdad closes parts of the International Zone
    IZ_REOPENED = "iz_reopened"
    IRAQI_RAID = "iraqi_raid"
    DETAINEES_RELEASED = "detainees_released"  # n = backlash attacks to come
    NEIGHBOURHOOD_CLEARED = "neighbourhood_cleared"  # n = neighbourhoods cleared so far
    IRAQI_OPERATION = "iraqi_operation"  # acting on intelligence shared by the U.S.


class Record(NamedTuple):
    """One event. ``site`` and ``attack`` are None where they do not apply."""

    time_d: float
    kind: Kind
    site: str | None
    attack: str | None
    n: int
    detail: str


class Ledger:
    """Collects the records of one replication and tells subscribers (e.g. policy
    processes) about each one as it happens."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self._subscribers: list[Callable[[Record], None]] = []

    def subscribe(self, callback: Callable[[Record], None]) -> None:
        self._subscribers.append(callback)

    def record(
        self, time_d: float, kind: Kind, site: str | None = None, attack: str | None = None, n: int = 1, detail: str = ""
    ) -> None:
        rec = Record(time_d, kind, site, attack, n, detail)
        self.records.append(rec)
        for callback in self._subscribers:
            callback(rec)
