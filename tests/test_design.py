"""Experiment designs (sim.design): sizes, bounds, stratification, uniformity, determinism
and one-line errors for bad input. Pure data: nothing here runs a simulation."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import qmc

from sim.config.errors import ConfigError
from sim.config.loader import load_scenario
from sim.design.parameters import (
    POINT,
    DesignError,
    Parameter,
    as_generator,
    point_overrides,
)
from sim.design.types import design_types, make_design
from sim.design.types.grid import grid
from sim.design.types.lhs import latin_hypercube
from sim.design.types.sobol import sobol
from sim.design.types.zipped import zipped

BASELINE = Path(__file__).resolve().parent.parent / "configs" / "baseline.toml"

BOUNDED = (
    Parameter("cram.kill_prob", low=0.3, high=0.9),
    Parameter("threats.rocket.base_rate_per_day", low=-2.5, high=40.0),
    Parameter("sites.embassy.cram_fire_units", low=1, high=4, integer=True),
)
LISTED = (
    Parameter("policy.us.doctrine", values=("continuity", "tougher_love", "separation")),
    Parameter("cram.kill_prob", values=(0.3, 0.6)),
    Parameter("sites.embassy.cram_fire_units", values=[1, 2, 3, 4], integer=True),
)


def strata(design: pd.DataFrame, parameter: Parameter, n: int) -> np.ndarray:
    """The stratum (0..n-1) of each point among n equal-width strata of [low, high]."""
    u = (design[parameter.path].to_numpy(float) - parameter.low) / (parameter.high - parameter.low)
    return np.minimum(np.floor(u * n), n - 1).astype(int)


# --- sizes and layout -------------------------------------------------------------------


def test_grid_is_the_full_factorial_with_the_first_parameter_slowest():
    design = grid(LISTED)
    assert len(design) == 3 * 2 * 4
    assert list(design.columns) == [POINT] + [p.path for p in LISTED]
    expected = list(itertools.product(*(p.values for p in LISTED)))
    assert list(design.drop(columns=POINT).itertuples(index=False, name=None)) == expected
    assert design[POINT].tolist() == list(range(24))
    assert design["policy.us.doctrine"].iloc[:8].eq("continuity").all()


def test_zipped_takes_the_ith_value_of_every_list():
    parameters = (Parameter("a.x", values=(1, 2, 3)), Parameter("b.y", values=("p", "q", "r")))
    design = zipped(parameters)
    assert design.to_dict("list") == {POINT: [0, 1, 2], "a.x": [1, 2, 3], "b.y": ["p", "q", "r"]}


@pytest.mark.parametrize("kind, n", [("lhs", 1), ("lhs", 37), ("sobol", 1), ("sobol", 64)])
def test_sampled_designs_have_n_points(kind, n):
    design = make_design(kind, BOUNDED, n, seed=5)
    assert len(design) == n
    assert design[POINT].tolist() == list(range(n))
    assert list(design.columns) == [POINT] + [p.path for p in BOUNDED]


def test_make_design_dispatches_to_each_kind():
    assert make_design("grid", LISTED, None, 0).equals(grid(LISTED))
    assert make_design("grid", LISTED, 24, 0).equals(grid(LISTED))
    short = LISTED[1:2] + (Parameter("x", values=(7, 8)),)
    assert make_design("zip", short, None, 0).equals(zipped(short))
    assert make_design("lhs", BOUNDED, 10, 3).equals(latin_hypercube(BOUNDED, 10, 3))
    assert make_design("sobol", BOUNDED, 16, 3).equals(sobol(BOUNDED, 16, 3))


# --- bounds, integers, stratification, uniformity ---------------------------------------------


@pytest.mark.parametrize("kind, n", [("lhs", 200), ("sobol", 256)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_values_stay_inside_their_bounds_and_integers_are_ints(kind, n, seed):
    design = make_design(kind, BOUNDED, n, seed)
    for parameter in BOUNDED:
        column = design[parameter.path]
        assert column.between(parameter.low, parameter.high).all()
        if parameter.integer:
            assert column.dtype == np.int64
            assert set(column) == set(range(parameter.low, parameter.high + 1))  # every level used
        else:
            assert column.dtype == np.float64


@settings(max_examples=40, deadline=None)
@given(
    low=st.floats(-1e6, 1e6),
    width=st.floats(1e-6, 1e6),
    int_low=st.integers(-1000, 1000),
    int_width=st.integers(1, 50),
    m=st.integers(0, 6),
    seed=st.integers(0, 2**32),
)
def test_bounds_hold_for_any_valid_bounds(low, width, int_low, int_width, m, seed):
    parameters = (
        Parameter("a", low=low, high=low + width),
        Parameter("b", low=int_low, high=int_low + int_width, integer=True),
    )
    for design in (latin_hypercube(parameters, 2**m + 3, seed), sobol(parameters, 2**m, seed)):
        assert design["a"].between(low, low + width).all()
        assert design["b"].between(int_low, int_low + int_width).all()
        assert design["b"].dtype == np.int64


@pytest.mark.parametrize("n", [1, 7, 100])
@pytest.mark.parametrize("seed", [11, 12])
def test_latin_hypercube_puts_one_point_in_each_stratum_of_every_parameter(n, seed):
    continuous = tuple(p for p in BOUNDED if not p.integer)
    design = latin_hypercube(continuous, n, seed)
    for parameter in continuous:
        assert sorted(strata(design, parameter, n)) == list(range(n))


def test_latin_hypercube_with_one_point_per_level_uses_each_integer_once():
    parameter = Parameter("sites.embassy.cram_fire_units", low=0, high=9, integer=True)
    design = latin_hypercube([parameter], 10, seed=4)
    assert sorted(design[parameter.path]) == list(range(10))


def test_sobol_keeps_its_balance_one_point_per_stratum_in_each_dimension():
    continuous = tuple(p for p in BOUNDED if not p.integer)
    design = sobol(continuous, 128, seed=8)
    for parameter in continuous:
        assert sorted(strata(design, parameter, 128)) == list(range(128))


@pytest.mark.parametrize("seed", range(5))
def test_sobol_points_are_more_uniform_than_iid_uniforms(seed):
    parameters = tuple(Parameter(f"p{j}", low=0.0, high=1.0) for j in range(4))
    n = 256
    points = sobol(parameters, n, seed).drop(columns=POINT).to_numpy()
    iid = np.random.default_rng(seed).random((n, len(parameters)))
    assert qmc.discrepancy(points) < qmc.discrepancy(iid) / 4


def test_sobol_is_warning_free():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sobol(BOUNDED, 32, seed=1)
        latin_hypercube(BOUNDED, 33, seed=1)


# --- determinism ---------------------------------------------------------------------------


def fingerprint(design: pd.DataFrame) -> bytes:
    return pd.util.hash_pandas_object(design, index=True).to_numpy().tobytes() + design.to_csv().encode()


@pytest.mark.parametrize("kind, n", [("lhs", 50), ("sobol", 64)])
def test_same_seed_same_design_byte_for_byte_and_different_seed_different(kind, n):
    first, again = make_design(kind, BOUNDED, n, 123), make_design(kind, BOUNDED, n, 123)
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert fingerprint(first) == fingerprint(again)
    other = make_design(kind, BOUNDED, n, 124)
    assert not other[BOUNDED[0].path].equals(first[BOUNDED[0].path])


def test_a_seed_sequence_or_generator_works_like_the_integer_seed():
    by_int = latin_hypercube(BOUNDED, 20, 9)
    assert latin_hypercube(BOUNDED, 20, np.random.SeedSequence(9)).equals(by_int)
    assert latin_hypercube(BOUNDED, 20, np.random.default_rng(9)).equals(by_int)
    rng = as_generator(np.random.default_rng(9))
    assert as_generator(rng) is rng


# --- from a design to scenarios ------------------------------------------------------------


def test_point_overrides_are_plain_python_values_in_point_order():
    design = make_design("sobol", BOUNDED, 8, 2)
    overrides = point_overrides(design.iloc[::-1])
    assert len(overrides) == 8
    assert overrides[3] == {p.path: design[p.path][3].item() for p in BOUNDED}
    for point in overrides:
        assert type(point["sites.embassy.cram_fire_units"]) is int
        assert type(point["cram.kill_prob"]) is float
    assert [type(v) for v in point_overrides(grid(LISTED))[0].values()] == [str, float, int]


def test_point_overrides_load_as_scenarios():
    parameters = (
        Parameter("cram.kill_prob", low=0.3, high=0.9),
        Parameter("sites.embassy.cram_fire_units", low=1, high=4, integer=True),
    )
    design = latin_hypercube(parameters, 4, 6)
    for point, overrides in enumerate(point_overrides(design)):
        scenario = load_scenario(BASELINE, overrides)
        assert scenario.cram.kill_prob == design["cram.kill_prob"][point]
        assert scenario.sites["embassy"].cram_fire_units == design["sites.embassy.cram_fire_units"][point]


# --- bad input -----------------------------------------------------------------------------


BAD = [
    (
        lambda: zipped([Parameter("a.x", values=(1, 2, 3)), Parameter("b.y", values=(1, 2))]),
        r"^zip value lists must all have the same length: a\.x has 3, b\.y has 2$",
    ),
    (lambda: Parameter("cram.kill_prob", low=0.9, high=0.5), r"^cram\.kill_prob low = 0\.9 must be < high = 0\.5$"),
    (lambda: Parameter("cram.kill_prob", low=0.5, high=0.5), r"^cram\.kill_prob low = 0\.5 must be < high = 0\.5$"),
    (lambda: Parameter("cram.kill_prob", low=0.1, high=float("inf")), r"^cram\.kill_prob high = inf must be a finite"),
    (lambda: Parameter("cram.kill_prob", low=0.1), r"^cram\.kill_prob high is missing \(low is given\)$"),
    (lambda: Parameter("cram.kill_prob", values=()), r"^cram\.kill_prob values = \(\) must not be empty$"),
    (lambda: Parameter("cram.kill_prob", values=[0.1, float("nan")]), r"^cram\.kill_prob values = nan must be finite$"),
    (lambda: Parameter("cram.kill_prob", values="0.5"), r"must be a list of values$"),
    (lambda: Parameter("cram.kill_prob"), r"^cram\.kill_prob needs either values or low and high$"),
    (lambda: Parameter("cram.kill_prob", values=(0.5,), low=0, high=1), r"has both values and low/high bounds"),
    (
        lambda: Parameter("x", values=(1.5,), integer=True),
        r"^x values = 1\.5 must be a whole number \(integer parameter\)$",
    ),
    (lambda: Parameter("x", low=0.5, high=3, integer=True), r"^x low = 0\.5 must be a whole number"),
    (lambda: Parameter("cram..kill_prob", values=(1,)), r"^parameter path = 'cram\.\.kill_prob' must be a dotted path"),
    (lambda: sobol(BOUNDED, 100, 1), r"^sobol n = 100 must be a power of two \(e\.g\. 64 or 128\)$"),
    (lambda: sobol(BOUNDED, 0, 1), r"^sobol n = 0 must be an integer >= 1$"),
    (lambda: latin_hypercube(BOUNDED, None, 1), r"^lhs n = None must be an integer >= 1$"),
    (lambda: latin_hypercube(BOUNDED, 10, None), r"^seed = None must be a non-negative integer"),
    (lambda: latin_hypercube(BOUNDED, 10, -1), r"^seed = -1 must be a non-negative integer"),
    (
        lambda: make_design("factorial", LISTED, None, 0),
        rf"^design kind = 'factorial' must be one of {', '.join(design_types())}$",
    ),
    (lambda: make_design("grid", LISTED, 10, 0), r"^grid n = 10 must be left out or equal the design's size \(24"),
    (lambda: grid(BOUNDED), r"^cram\.kill_prob needs explicit values in a 'grid' design$"),
    (lambda: latin_hypercube(LISTED, 5, 0), r"^policy\.us\.doctrine needs low and high bounds in a 'lhs' design$"),
    (lambda: grid([]), r"^parameters must name at least one parameter$"),
    (lambda: grid([LISTED[0], LISTED[0]]), r"^policy\.us\.doctrine is given more than once$"),
]


@pytest.mark.parametrize("make, message", BAD)
def test_bad_input_raises_one_line_naming_parameter_value_and_rule(make, message):
    with pytest.raises(ValueError, match=message) as caught:
        make()
    assert isinstance(caught.value, DesignError)
    assert "\n" not in str(caught.value)


def test_a_design_error_becomes_a_config_error_with_the_file_name():
    with pytest.raises(DesignError) as caught:
        Parameter("cram.kill_prob", low=0.9, high=0.5)
    err = caught.value
    converted = ConfigError(err.key, err.value, err.rule, "designs/sweep.toml")
    assert str(converted) == "cram.kill_prob low = 0.9 must be < high = 0.5 (designs/sweep.toml)"


def test_the_registry_holds_every_documented_design_type_each_declared_once():
    """The built-in types, with their properties (bounded, sized, analysed: Sobol' indices for
    saltelli, PAWN for lhs and sobol); a type added as its own module joins them, in name order."""
    types = design_types()
    built_in = {
        "grid": (False, False, False),
        "lhs": (True, True, True),
        "saltelli": (True, True, True),
        "sobol": (True, True, True),
        "zip": (False, False, False),
    }
    assert {
        name: (d.bounded, d.sized, d.analyse is not None) for name, d in types.items() if name in built_in
    } == built_in
    assert list(types) == sorted(types) and all(d.name == name for name, d in types.items())


# --- Sobol' sensitivity indices (sim.sensitivity; optional dependency SALib) ---------------

ISHIGAMI = tuple(Parameter(f"x{i}", low=-np.pi, high=np.pi) for i in (1, 2, 3))
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)  # a = 7, b = 0.1 (Ishigami and Homma 1990)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)
CI_LEVEL = 0.999  # seeds fixed: deterministic; drawn at random, a check would fail wrongly ~1 in 1000


def ishigami(design: pd.DataFrame) -> np.ndarray:
    x1, x2, x3 = (design[p.path].to_numpy() for p in ISHIGAMI)
    return np.sin(x1) + 7.0 * np.sin(x2) ** 2 + 0.1 * x3**4 * np.sin(x1)


def test_saltelli_design_has_n_times_d_plus_2_points_in_blocks():
    pytest.importorskip("SALib")
    from sim.design.types.saltelli import sobol_sample

    parameters = BOUNDED
    d = len(parameters)
    design = sobol_sample(parameters, 16, seed=3)
    assert len(design) == 16 * (d + 2)
    assert list(design.columns) == [POINT] + [p.path for p in parameters]
    assert design["sites.embassy.cram_fire_units"].dtype == np.int64
    for parameter in parameters:
        assert design[parameter.path].between(parameter.low, parameter.high).all()
    values = design.drop(columns=POINT).to_numpy()
    for base in range(16):
        block = values[base * (d + 2) : (base + 1) * (d + 2)]
        a, b = block[0], block[-1]
        for j in range(d):  # row j + 1 is A with column j taken from B
            expected = a.copy()
            expected[j] = b[j]
            assert np.array_equal(block[j + 1], expected)
    pd.testing.assert_frame_equal(design, sobol_sample(parameters, 16, seed=3), check_exact=True)
    assert not design.equals(sobol_sample(parameters, 16, seed=4))


@pytest.mark.slow
def test_sobol_indices_of_the_ishigami_function_match_the_analytic_values():
    pytest.importorskip("SALib")
    from sim.design.types.saltelli import sobol_indices, sobol_sample

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        design = sobol_sample(ISHIGAMI, 2048, seed=20200101)
        indices = sobol_indices(ISHIGAMI, ishigami(design), seed=1, conf_level=CI_LEVEL)
    assert list(indices.columns) == ["S1", "S1_conf", "ST", "ST_conf"]
    assert list(indices.index) == ["x1", "x2", "x3"]
    for order, truth in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
        half_width = indices[f"{order}_conf"].to_numpy()
        assert (half_width < 0.12).all()  # the check below is not vacuous
        assert (np.abs(indices[order].to_numpy() - np.array(truth)) <= half_width).all(), indices
    shuffled = pd.Series(ishigami(design), index=design[POINT])[::-1]  # put back in point order
    again = sobol_indices(ISHIGAMI, shuffled, seed=1, conf_level=CI_LEVEL)
    pd.testing.assert_frame_equal(indices, again, check_exact=True)


@pytest.mark.parametrize(
    "outputs, message",
    [
        (np.ones(5 * 8), r"^outputs are all equal"),
        (np.arange(5 * 8 - 1.0), r"^outputs must hold n \* 5 values \(n a power of two\), one per point; got 39$"),
        (np.arange(5 * 6.0), r"^outputs must hold n \* 5 values"),
        (np.r_[np.arange(39.0), np.nan], r"^outputs must all be finite numbers$"),
    ],
)
def test_sobol_indices_refuse_bad_outputs(outputs, message):
    pytest.importorskip("SALib")
    from sim.design.types.saltelli import sobol_indices

    with pytest.raises(DesignError, match=message):
        sobol_indices(ISHIGAMI, outputs, seed=1)


def test_sobol_sample_refuses_bad_input():
    pytest.importorskip("SALib")
    from sim.design.types.saltelli import sobol_sample

    with pytest.raises(DesignError, match=r"^saltelli n = 24 must be a power of two"):
        sobol_sample(ISHIGAMI, 24, seed=1)
    with pytest.raises(DesignError, match=r"^policy\.us\.doctrine needs low and high bounds for Sobol' indices$"):
        sobol_sample(LISTED, 16, seed=1)
