"""Changing a loaded scenario in place of reloading it: the same scenario, the same checks."""

from __future__ import annotations

import tomllib

import pytest

from sim.config import loader
from sim.config.errors import ConfigError
from sim.config.loader import load_scenario, scenario_hash, with_values
from sim.project import CONFIGS

BASELINE = CONFIGS / "baseline.toml"
VALUES = {
    "threats.rocket.base_rate_per_day": 0.2,
    "campaign.regimes.pause.entry_weight": 0.05,
    "cram.kill_prob": 0.45,
    "campaign.branching_ratio": 0.3,
    "sites.embassy.hardening": 0.9,
}


def test_with_values_gives_the_scenario_the_files_give():
    reloaded = load_scenario(BASELINE, VALUES)
    changed = with_values(load_scenario(BASELINE), VALUES, "test")
    assert changed == reloaded
    assert scenario_hash(changed) == scenario_hash(reloaded)


def test_with_values_leaves_the_original_alone():
    base = load_scenario(BASELINE)
    before = scenario_hash(base)
    with_values(base, VALUES, "test")
    assert scenario_hash(base) == before


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("cram.kill_prob", 1.5, "cram.kill_prob = 1.5 must be in [0, 1] (posterior.parquet)"),
        (
            "campaign.branching_ratio",
            1.0,
            "campaign.branching_ratio = 1.0 must be < 1 (a stable process) (posterior.parquet)",
        ),
        (
            "campaign.regimes.lull.multiplier",
            0.5,
            "campaign.regimes.lull.multiplier = 0.5 names an entry 'lull' the scenario does not have (posterior.parquet)",
        ),
        ("cram.no_such_key", 0.5, "cram.no_such_key = 0.5 is not a known parameter (posterior.parquet)"),
        ("cram", 0.5, "cram = 0.5 names a table, not a parameter (posterior.parquet)"),
        ("cram.magazine_rounds", 2.5, "cram.magazine_rounds = 2.5 must be an integer (posterior.parquet)"),
        (
            "cram.rounds_per_engagement",
            5000,
            "cram.rounds_per_engagement = 5000 must be <= magazine_rounds (posterior.parquet)",
        ),
    ],
)
def test_with_values_refuses_what_loading_refuses(key, value, message):
    with pytest.raises(ConfigError) as caught:
        with_values(load_scenario(BASELINE), {key: value}, "posterior.parquet")
    assert str(caught.value) == message


def test_a_text_parsed_before_gives_a_fresh_equal_document():
    """parse_toml keeps texts it parsed: what it returns must still be the text's own document,
    a copy the caller may change, and the kept texts stay within their bound."""
    text = BASELINE.read_text(encoding="utf-8")
    first = loader.parse_toml(text)
    assert first == tomllib.loads(text)
    first["scenario"]["name"] = "changed"
    first["threats"]["rocket"].clear()
    again = loader.parse_toml(text)
    assert again == tomllib.loads(text) and again is not first
    for k in range(loader.PARSED_TEXTS + 5):
        assert loader.parse_toml(f"x = {k}") == {"x": k}
    assert len(loader._parsed) <= loader.PARSED_TEXTS
    long_text = "x = 1\n" + "# a comment\n" * (loader.PARSED_TEXT_CHARACTERS // 12 + 1)
    assert loader.parse_toml(long_text) == {"x": 1} and long_text not in loader._parsed
