"""Tests of neural posterior estimation (``calibrate --method npe``, sim/calibration/npe.py).

The small calibration of tests/test_calibration.py (two attack levels, the four quarterly counts
of the first half of 2020) with budgets of a few hundred prior simulations. The flow is checked
the way an amortised posterior can be checked cheaply: trained once, it is asked for the
posterior of records simulated at truths drawn from the prior, and its 90% intervals must cover
those truths at the nominal rate (Talts et al. 2018). Each statistical test states its
false-failure rate.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from builders import call_main
from scipy import stats
from test_calibration import OBSERVED, TINY_BUDGET, write_calibration, write_record

from sim.analysis.posterior import parameter_table
from sim.batch.execution import Execution
from sim.calibration import npe
from sim.calibration.inference import run_inference
from sim.calibration.pilot import run_pilots
from sim.calibration.priors import KS_CRITICAL_1PCT, KS_MEAN
from sim.calibration.settings import load_calibration
from sim.config.errors import UsageError

NPE_BUDGET = {**TINY_BUDGET, "npe_simulations": 300, "npe_draws": 200}
TRAINING, TESTS, DRAWS, MASS = 1500, 150, 200, 0.9


def npe_calibration(folder, seed: int = 1, budget: dict = NPE_BUDGET):
    return write_calibration(folder, write_record(folder / "record.csv", OBSERVED), budget=budget, seed=seed)


def prior_runs(folder, seed: int, count: int) -> tuple:
    calibration = load_calibration(npe_calibration(folder, seed))
    pilot = run_pilots(calibration, 20, Execution(workers=2), prior_replications=count)
    return calibration, pilot.prior_runs


# ------------------------------------------------------------------------------ the flow


def test_the_constants_of_the_moved_rule_are_the_kolmogorov_distributions():
    assert KS_CRITICAL_1PCT == pytest.approx(stats.kstwobign.ppf(0.99), abs=5e-4)
    assert KS_MEAN == pytest.approx(stats.kstwobign.mean(), rel=1e-9)


def test_the_effective_size_is_that_of_samples_whose_mean_gap_is_the_decoys():
    """If the decoys' gaps were those of samples of n draws from the prior, their mean would be
    about KS_MEAN / sqrt(n): the effective size read from them is n, and the floor the 1%
    critical value at n. Checked on real samples: 400 samples of 250 draws give an effective
    size of 250 within 10% (the mean of 400 gaps has a relative standard error of about 1.5%,
    3% on its square; and KS_MEAN / sqrt(n) is the limit, a little above the mean at n = 250).
    The size is at most the draws taken."""
    rng = np.random.default_rng(3)
    gaps = tuple(float(stats.kstest(rng.logistic(size=250), stats.logistic.cdf).statistic) for _ in range(400))
    estimate = npe.Estimate(pd.DataFrame(), np.full(10_000, 1e-4), 1, 1, 0.0, gaps)
    assert estimate.effective_size == pytest.approx(250, rel=0.10)
    assert estimate.floor == pytest.approx(KS_CRITICAL_1PCT / math.sqrt(estimate.effective_size))
    few = npe.Estimate(pd.DataFrame(), np.full(100, 0.01), 1, 1, 0.0, gaps)
    assert few.effective_size == 100 and few.floor == pytest.approx(KS_CRITICAL_1PCT / 10)
    assert npe.Estimate(pd.DataFrame(), np.full(400, 1 / 400), 1, 1, 0.0, ()).effective_size == 400


def test_a_floor_raises_the_bar_for_moved_and_only_then(tmp_path):
    calibration = load_calibration(npe_calibration(tmp_path))
    prior = calibration.priors[0]
    values = pd.DataFrame({p.path: p.distribution().ppf(np.linspace(0.3, 0.99, 400)) for p in calibration.priors})
    weights = np.ones(400)
    plain = parameter_table(calibration.priors, values, weights, set(), {})
    assert plain["moved"].all() and plain["ks_critical"].iloc[0] == pytest.approx(KS_CRITICAL_1PCT / 20)
    gap = float(plain.set_index("parameter").loc[prior.path, "ks_distance"])
    raised = parameter_table(calibration.priors, values, weights, set(), {}, floor=gap + 0.01)
    assert not raised["moved"].any() and (raised["ks_critical"] == gap + 0.01).all()
    lowered = parameter_table(calibration.priors, values, weights, set(), {}, floor=0.001)
    assert lowered["ks_critical"].equals(plain["ks_critical"])


@pytest.fixture(scope="module")
def flow_and_tests(tmp_path_factory):
    """A flow trained on TRAINING prior replications (seed 1), and TESTS records simulated at
    truths drawn from the prior under another seed (2): none of them was in the training set."""
    calibration, training = prior_runs(tmp_path_factory.mktemp("train"), 1, TRAINING)
    _, tests = prior_runs(tmp_path_factory.mktemp("tests"), 2, TESTS)
    theta, raw = npe.training_set(training, calibration.priors, calibration.fitted, 1)
    flow = npe.Flow(theta, npe.Features.fit(calibration.fitted, raw), raw, 1)
    truth, test_raw = npe.training_set(tests, calibration.priors, calibration.fitted, 2)
    return flow, truth, test_raw


@pytest.mark.slow
def test_the_flow_covers_truths_drawn_from_the_prior_at_the_nominal_rate(flow_and_tests):
    """Over TESTS records and the two levels (and, apart, the eight decoys), the truth lies in
    the flow's central 90% interval (of DRAWS draws) as often as 90% says. With a right posterior
    the hits are binomial(n, 0.9) (the interval of a finite sample covers slightly less, 0.9 x
    200/201, a shift far inside the band): the two-sided band below fails 1% of the time at the
    nominal rate (the two levels of one record are not independent, so somewhat more). Too few
    hits is a posterior too narrow or misplaced; too many, one too wide."""
    flow, truth, raw = flow_and_tests
    inside = np.zeros_like(truth, dtype=bool)
    for k in range(len(truth)):
        sample = flow.sample(raw[k], DRAWS, stream=k)
        low, high = np.quantile(sample, [(1 - MASS) / 2, (1 + MASS) / 2], axis=0)
        inside[k] = (low <= truth[k]) & (truth[k] <= high)
    for name, hits in (("levels", inside[:, :2]), ("decoys", inside[:, 2:])):
        n = hits.size
        low, high = stats.binom.ppf(0.005, n, MASS), stats.binom.ppf(0.995, n, MASS)
        print(f"{name}: the truth inside the 90% interval {hits.sum()} times of {n} (band {low:.0f}-{high:.0f})")
        assert low <= hits.sum() <= high, f"{name}: {hits.sum()} of {n} inside, {low:.0f}-{high:.0f} expected"


@pytest.mark.slow
def test_the_flow_learns_the_levels_and_leaves_the_decoys_at_their_prior(flow_and_tests):
    """The quarterly counts inform both attack levels: over the test records the posterior 90%
    interval of each must be narrower than the prior's (the logistic's, 5.89 on the free scale)
    by far, under 0.8 of it on average; a decoy's must not be (above 0.9 on average)."""
    flow, _, raw = flow_and_tests
    widths = []
    for k in range(30):
        low, high = np.quantile(flow.sample(raw[k], DRAWS, stream=k), [0.05, 0.95], axis=0)
        widths.append((high - low) / (2 * stats.logistic.ppf(0.95)))
    mean = np.mean(widths, axis=0)
    assert (mean[:2] < 0.8).all() and (mean[2:] > 0.9).all(), mean


@pytest.mark.slow
def test_the_same_seed_gives_the_same_draws_and_leaves_torchs_state_alone(tmp_path, monkeypatch):
    """Training and draws are seeded and single-threaded inside: the same inputs give the same
    draws, bit for bit; another seed others; torch's global generator and thread count are as
    they were; and the library leaves no log folder in the working directory."""
    monkeypatch.chdir(tmp_path)
    calibration, runs = prior_runs(tmp_path, 1, 200)
    torch = npe.torch
    state, threads = torch.get_rng_state().clone(), torch.get_num_threads()
    first = npe.estimate(runs, calibration.priors, calibration.fitted, 100, 1)
    again = npe.estimate(runs, calibration.priors, calibration.fitted, 100, 1)
    other = npe.estimate(runs, calibration.priors, calibration.fitted, 100, 2)
    assert torch.equal(torch.get_rng_state(), state) and torch.get_num_threads() == threads
    pd.testing.assert_frame_equal(first.values, again.values, check_exact=True)
    assert first.decoy_gaps == again.decoy_gaps and first.epochs == again.epochs
    assert not np.allclose(first.values.to_numpy(), other.values.to_numpy())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calibration.toml", "record.csv"]


# ------------------------------------------------------------------------------ the command


def test_the_statistics_a_replication_could_not_measure_get_a_flag_and_a_fill():
    class Check:
        def __init__(self, statistic):
            self.statistic = statistic

    class Row:
        def __init__(self, statistic, low=1.0, high=1.0):
            self.check, self.low, self.high = Check(statistic), low, high

    raw = np.array([[4.0, np.nan], [9.0, 0.5], [1.0, 0.25], [16.0, np.nan]])
    features = npe.Features.fit([Row("count"), Row("share")], raw)
    table = features(raw)
    assert table.shape == (4, 3)  # two statistics and one flag
    np.testing.assert_allclose(table.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(table[:, 2], (np.array([1, 0, 0, 1]) - 0.5) / 0.5)
    assert table[0, 1] == table[3, 1]  # both unmeasured: the fill, the same value
    assert features(np.array([4.0, 0.5]))[0, 2] == -1.0  # measured


def test_a_row_observed_as_a_lower_bound_is_censored_at_it():
    """ "At least 9" is the event x >= 9: every replication at or above 9 looks like the record."""

    class Row:
        def __init__(self, low, high):
            self.check = type("Check", (), {"statistic": "count"})()
            self.low, self.high = low, high

    raw = np.array([[4.0, 4.0], [9.0, 9.0], [12.0, 12.0], [30.0, 30.0]])
    features = npe.Features.fit([Row(9.0, None), Row(9.0, 9.0)], raw)
    table = features(raw)
    assert table[1, 0] == table[2, 0] == table[3, 0] == features(np.array([9.0, 9.0]))[0, 0]
    assert table[0, 0] < table[1, 0]
    assert len(set(table[:, 1])) == 4  # a closed range is not censored


@pytest.fixture(scope="module")
def npe_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("npe")
    path = npe_calibration(folder)
    out = folder / "out"
    code, stdout, err = call_main(["calibrate", path, "--method", "npe", "--out", out, "--quiet", "--workers", "1"])
    assert code == 0, err
    return {"path": path, "out": out, "stdout": stdout}


@pytest.mark.slow
def test_calibrate_method_npe_writes_the_posterior_and_its_report(npe_folder):
    out = npe_folder["out"]
    posterior = pd.read_parquet(out / "posterior.parquet")
    assert len(posterior) == NPE_BUDGET["npe_draws"] and (posterior["weight"] == posterior["weight"].iloc[0]).all()
    generations = pd.read_csv(out / "generations.csv")
    assert len(generations) == 1 and generations["simulations"].iloc[0] == NPE_BUDGET["npe_simulations"]
    assert generations["epochs"].iloc[0] > 0 and generations["decoy_floor"].iloc[0] > 0
    assert 0 < generations["ess"].iloc[0] <= NPE_BUDGET["npe_draws"]
    assert generations["decoy_floor"].iloc[0] == pytest.approx(KS_CRITICAL_1PCT / math.sqrt(generations["ess"].iloc[0]))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["method"] == "npe" and manifest["status"] == "complete"
    assert manifest["simulations"] == NPE_BUDGET["npe_simulations"]
    parameters = pd.read_csv(out / "parameters.csv")
    assert (parameters["ks_critical"] >= generations["decoy_floor"].iloc[0] - 1e-12).all()
    report = (out / "posterior_report.md").read_text()
    assert "Neural posterior estimation (sbi" in report and "decoy" in report
    assert "neural posterior estimation: a flow trained on 300 prior simulations" in npe_folder["stdout"]
    assert "neural posterior estimation" in (out / "calibrated.toml").read_text()
    assert "on the public record (neural posterior estimation)" in (out / "describe.md").read_text()


@pytest.mark.slow
def test_npe_gives_the_same_posterior_file_whatever_the_workers_and_when_run_again(npe_folder, tmp_path):
    """Two workers give the one worker's posterior file byte for byte; the same command run
    again on its folder (as after a stop) repeats the pilots and the training and gives it again."""

    def digest(folder):
        return hashlib.sha256((folder / "posterior.parquet").read_bytes()).hexdigest()

    calibration = load_calibration(npe_folder["path"])
    two = run_inference(calibration, tmp_path / "two", quick=False, workers=2, method="npe")
    assert digest(two.folder) == digest(npe_folder["out"])
    again = run_inference(calibration, npe_folder["out"], quick=False, workers=2, method="npe")
    assert digest(again.folder) == digest(tmp_path / "two")


@pytest.mark.slow
def test_a_folder_of_npe_is_not_resumed_by_abc(npe_folder, tmp_path):
    code, _, err = call_main(["calibrate", npe_folder["path"], "--out", npe_folder["out"], "--quiet"])
    assert code == 2 and "holds another calibration" in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_npe_backtests_with_held_out_rows(tmp_path):
    """--hold-out leaves rows out of the training's statistics and predicts them: the flow sees
    three statistics, and the predictive check marks the fourth held out."""
    path = npe_calibration(tmp_path)
    out = tmp_path / "out"
    code, _, err = call_main(
        ["calibrate", path, "--method", "npe", "--hold-out", "convoy_q2", "--out", out, "--quiet", "--workers", "2"]
    )
    assert code == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["held_out"] == ["convoy_q2"] and "convoy_q2" not in manifest["fitted"]
    report = (out / "posterior_report.md").read_text()
    assert "| convoy_q2 | held-out |" in report and "| convoy_q1 | fit |" in report


def test_npe_on_the_project_calibration_does_not_replace_the_projects_posterior(monkeypatch, tmp_path):
    """The project's posterior and calibrated scenario come from ABC-SMC: --method npe writes
    its calibrated scenario into its own folder and installs nothing."""
    from sim import api

    seen = []

    def capture(calibration, out, options, batch):
        seen.append(options)
        raise UsageError("captured")

    monkeypatch.setattr(api, "calibrate", capture)
    code, _, err = call_main(["calibrate", "--method", "npe", "--out", tmp_path / "out", "--quiet"])
    assert code == 2 and "captured" in err
    (options,) = seen
    assert options.method == "npe" and options.install is None
    assert options.calibrated == tmp_path / "out" / "calibrated.toml"


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [("npe_simulations", 50, "must be in [100, 10,000,000]"), ("npe_draws", 0, "must be in [100, 100,000]")],
)
def test_a_bad_npe_budget_is_one_line(key, value, rule, tmp_path):
    path = npe_calibration(tmp_path, budget={**NPE_BUDGET, key: value})
    code, _, err = call_main(["calibrate", path, "--method", "npe", "--out", tmp_path / "out", "--quiet"])
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert key in lines[0] and str(value) in lines[0] and "must be" in lines[0], lines[0]
    assert not (tmp_path / "out").exists()


def test_an_unknown_method_is_refused_by_the_api_before_any_folder(tmp_path):
    from sim import api

    with pytest.raises(UsageError, match="calibration method 'smc' is unknown: use one of abc, npe"):
        api.calibrate(
            npe_calibration(tmp_path),
            tmp_path / "out",
            replace(api.CalibrationOptions(), method="smc"),
        )
    assert not (tmp_path / "out").exists()
