"""PAWN sensitivity of LHS and Sobol' sweeps (sim/design/pawn.py) on toy outputs whose ranking
is known, seeded; and through a real, tiny LHS sweep."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import api
from sim.design.parameters import Parameter
from sim.design.pawn import pawn_table
from sim.design.types import make_design

ROOT = Path(__file__).resolve().parent.parent
PARAMETERS = (Parameter("a", low=0.0, high=1.0), Parameter("b", low=0.0, high=1.0), Parameter("c", low=0.0, high=1.0))


@pytest.mark.parametrize("kind, n", [("lhs", 120), ("sobol", 128)])
def test_pawn_ranks_a_strong_a_weak_and_an_idle_parameter(kind, n):
    """y = 10 a + b + 0 c + noise. a must be influential (its whole interval above the no-effect
    level) and c not: c has no effect, so its index is a draw from the permutation distribution
    whose 95th percentile is the level: it exceeds it 5% of the time, and the lower end of its
    interval far less often. The ranking a > b > c of the indices holds for these seeds; b's
    effect (a tenth of a's) is not required to be told from noise."""
    design = make_design(kind, PARAMETERS, n, 7)
    rng = np.random.default_rng(3)
    design["y"] = 10 * design["a"] + design["b"] + rng.normal(0, 0.1, len(design))
    table = pawn_table(PARAMETERS, design, ["y"], seed=11).set_index("parameter")
    assert table.loc["a", "influential"] and not table.loc["c", "influential"]
    assert table.loc["a", "pawn_median"] > table.loc["b", "pawn_median"] > table.loc["c", "pawn_median"]
    for path in "abc":
        assert table.loc[path, "pawn_low95"] <= table.loc[path, "pawn_median"] <= table.loc[path, "pawn_high95"]
    assert table.loc["c", "pawn_median"] < table.loc["c", "no_effect_level95"]


def test_pawn_is_the_same_for_the_same_seed_and_nan_for_a_constant_outcome():
    design = make_design("lhs", PARAMETERS, 60, 1)
    design["y"] = design["a"] ** 2
    design["flat"] = 1.0
    first = pawn_table(PARAMETERS, design, ["y", "flat"], seed=5)
    pd.testing.assert_frame_equal(first, pawn_table(PARAMETERS, design.sample(frac=1, random_state=0), ["y", "flat"], seed=5))
    assert first[first.outcome == "flat"]["pawn_median"].isna().all()
    assert not first[first.outcome == "flat"]["influential"].any()


@pytest.mark.slow
def test_an_lhs_sweep_writes_pawn_sensitivity(tmp_path):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f"""
[sweep]
name = "pawn_sweep"
description = "rocket level and kill probability, a quarter"
base = {json.dumps(str(ROOT / "configs" / "baseline.toml"))}
design = "lhs"
points = 40
replications = 2
root_seed = 4
end_date = 2020-03-31
outcomes = ["attacks_rocket"]

[parameters."threats.rocket.base_rate_per_day"]
low = 0.05
high = 0.5

[parameters."cram.kill_prob"]
low = 0.3
high = 0.9
""", encoding="utf-8")  # fmt: skip
    result = api.run_sweep(sweep, tmp_path / "out", workers=1)
    table = pd.read_csv(tmp_path / "out" / "sensitivity.csv").set_index("parameter")
    assert list(table["outcome"].unique()) == ["attacks_rocket"]
    # the rocket level drives rocket attacks; C-RAM's kill probability cannot change how many are launched
    assert table.loc["threats.rocket.base_rate_per_day", "influential"]
    assert not table.loc["cram.kill_prob", "influential"]
    assert result.sensitivity is not None
