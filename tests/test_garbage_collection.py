"""A replication's garbage is collected once, at its end (:func:`sim.replication.simulate.collected_once`).

Counted, not timed: the collector's own callbacks report every collection and its generation,
and a weak reference tells whether a replication's world was freed.
"""

from __future__ import annotations

import gc
import weakref

import pytest

import sim.replication.simulate as simulate_module
from sim.config.loader import load_scenario
from sim.replication.simulate import YOUNG_GENERATION_THRESHOLD, collected_once, replicate

CALIBRATED = "configs/calibrated.toml"
REPLICATIONS = 20


@pytest.fixture
def collections():
    """The generation of every collection the collector starts while the test runs."""
    seen: list[int] = []

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.collect()
    gc.callbacks.append(note)
    yield seen
    gc.callbacks.remove(note)


@pytest.fixture
def worlds(monkeypatch):
    """Weak references to the world of every replication run while the test runs."""
    refs: list[weakref.ref] = []
    simulate = simulate_module.simulate

    def watched(*args, **kwargs):
        world = simulate(*args, **kwargs)
        refs.append(weakref.ref(world))
        return world

    monkeypatch.setattr(simulate_module, "simulate", watched)
    return refs


@pytest.fixture
def default_thresholds():
    """Python's default thresholds while the test runs (pytest plugins may set others)."""
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_a_replication_collects_its_garbage_once_and_frees_its_world(collections, worlds, default_thresholds):
    scenario = load_scenario(CALIBRATED)
    collections.clear()  # loading may start collections of its own
    freed = []
    for r in range(REPLICATIONS):
        replicate(scenario, r, 7)
        freed.append(worlds[-1]() is None)  # before anything else could collect it
    assert all(freed), f"worlds left alive after their replication: {freed.count(False)} of {REPLICATIONS}"
    # one young collection per replication, at its end, and never an older generation: the
    # replication's objects are never promoted, so nothing accumulates for a full collection
    assert collections.count(0) == REPLICATIONS, collections
    assert not [g for g in collections if g > 0], collections


def test_the_default_collector_would_promote_a_replications_objects(collections, default_thresholds):
    """The check above can fail: at Python's defaults the same replications start more
    collections than one each, and older generations among them."""
    scenario = load_scenario(CALIBRATED)
    collections.clear()
    for r in range(REPLICATIONS):
        simulate_module._outcomes(simulate_module.simulate(scenario, r, 7), ())
    assert len(collections) > REPLICATIONS
    assert [g for g in collections if g > 0]


def test_the_callers_thresholds_come_back_even_when_a_replication_fails(monkeypatch, default_thresholds):
    def fails(*args, **kwargs):
        assert gc.get_threshold()[0] == YOUNG_GENERATION_THRESHOLD
        raise RuntimeError("a replication that fails")

    monkeypatch.setattr(simulate_module, "simulate", fails)
    gc.set_threshold(1234, 5, 6)
    with pytest.raises(RuntimeError):
        replicate(load_scenario(CALIBRATED), 0, 7)
    assert gc.get_threshold() == (1234, 5, 6)


def test_nested_use_restores_each_level():
    saved = gc.get_threshold()
    try:
        gc.set_threshold(900, 11, 12)
        with collected_once():
            with collected_once():
                assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, 11, 12)
            assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, 11, 12)
        assert gc.get_threshold() == (900, 11, 12)
    finally:
        gc.set_threshold(*saved)
