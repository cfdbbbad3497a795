"""Tests of the calibration: synthetic likelihood, the fit, its report and the `calibrate` command.

Heavy work is done once per module (fixtures): a synthetic data set simulated from known
parameters and its quick calibration, three cheap calibrations for reproducibility, one
`calibrate --quick` and one backtest through the command line. Statistical tolerances come
from intervals and spreads under fixed seeds (the reported 95% interval, the CV of simulated
counts, the central 90% of a simulated distribution).
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import call_main, run_replications
from scipy import stats

import sim.cli.calibrate
from sim import api
from sim.analysis.fit_report import percentile_of
from sim.calibration.fit import (
    DEFAULT_PARAMETERS,
    Z95,
    FitParameter,
    Settings,
    fit,
    synthetic_log_likelihood,
)
from sim.calibration.observations import COLUMNS, load_observations
from sim.config.errors import ConfigError
from sim.config.loader import load_scenario, scenario_hash, to_plain
from sim.config.provenance import ASSIGNMENT, sources

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "baseline.toml"
DATA = ROOT / "configs" / "data" / "attacks_2020.csv"
CALIBRATED = ROOT / "configs" / "calibrated.toml"

QUARTERS = {"Q1": ("2020-01-01", "2020-03-31"), "Q2": ("2020-04-01", "2020-06-30"), "Q3": ("2020-07-01", "2020-09-30")}
SERIES = ("rocket_drone_attacks", "convoy_attacks")
Q3_END = date(2020, 9, 30)
FITTED_PATHS = {p.path for p in DEFAULT_PARAMETERS}

# Recovery: known levels, simulated with a seed other than the calibration's.
TRUTH = {"threats.rocket.base_rate_per_day": 0.15, "threats.convoy_ied.base_rate_per_day": 0.25}
LEVELS = tuple(p for p in DEFAULT_PARAMETERS if p.path in TRUTH)
TRUTH_SEED, TRUTH_REPLICATIONS = 2020, 300
CALIBRATION_SEED = 1
# sim.calibration.synthetic_log_likelihood: "a small ridge keeps the covariance regular"
RIDGE = 0.05
ACCEPTANCE_SEED, ACCEPTANCE_REPLICATIONS = 2021, 2000




def column_of(series: str, quarter: str) -> str:
    """The runs.parquet column of a 2020 quarter (runs start on 1 January 2020)."""
    return f"{series}_q{int(quarter[1])}"


def midrank(observed: float, simulated: np.ndarray) -> float:
    """100 x [P(sim < obs) + P(sim = obs) / 2], counted directly."""
    n = len(simulated)
    below = sum(1 for s in simulated if s < observed)
    equal = sum(1 for s in simulated if s == observed)
    return 100.0 * (below + equal / 2) / n


def dispersion(counts: np.ndarray) -> np.ndarray:
    """Variance / mean over the quarters (columns) of each row."""
    return counts.var(axis=1, ddof=1) / counts.mean(axis=1)


def data_rows(path: Path = DATA) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_data(path: Path, rows: list[dict], header: tuple[str, ...] = COLUMNS) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row[c] for c in COLUMNS])
    return path


def leaves(tree: dict, prefix: str = "") -> list[str]:
    out = []
    for key, value in tree.items():
        out += leaves(value, f"{prefix}{key}.") if isinstance(value, dict) else [prefix + key]
    return out


def same(a: float, b: float, rel: float = 1e-5) -> bool:
    """Equal up to the 6 significant digits the CSV and TOML files keep (NaN equals NaN)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == pytest.approx(b, rel=rel, abs=1e-12)


# ------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def truth(tmp_path_factory):
    """Synthetic observations from the model itself at TRUTH (seed TRUTH_SEED).

    The "observed" counts are the rounded means over TRUTH_REPLICATIONS replications, not one
    replication: a single year of this over-dispersed model lies outside the central 95% of
    its own distribution one time in twenty, so the truth need not lie inside a 95% interval
    fitted to it. Averaging removes the data noise (the standard error of each mean is about
    0.6 counts), and the test then checks the estimator and its intervals, not the luck of a draw.
    """
    scenario = load_scenario(BASELINE, {**TRUTH, "scenario.end_date": Q3_END})
    runs = run_replications(scenario, TRUTH_REPLICATIONS, TRUTH_SEED, workers=2)
    rows = []
    for series in SERIES:
        for quarter, (start, end) in QUARTERS.items():
            count = int(np.rint(runs[column_of(series, quarter)].mean()))
            rows.append({"series": series, "quarter": quarter, "start": start, "end": end, "count": count,
                         "use": "fit", "source": f"synthetic: mean of {TRUTH_REPLICATIONS} runs at {TRUTH}"})  # fmt: skip
    rows.append({"series": "us_casualties", "quarter": "Q3", "start": QUARTERS["Q3"][0], "end": QUARTERS["Q3"][1],
                 "count": 0, "use": "check", "source": "synthetic check"})  # fmt: skip
    path = write_data(tmp_path_factory.mktemp("truth") / "synthetic.csv", rows)
    return {"path": path, "runs": runs, "rows": rows}


@pytest.fixture(scope="module")
def recovery(truth, tmp_path_factory):
    """The two level parameters calibrated (quick settings, seed 1) on the synthetic counts."""
    out = tmp_path_factory.mktemp("recovery") / "out"
    request = api.FitRequest(truth["path"], settings=Settings.quick(), parameters=LEVELS)
    result = api.calibrate(BASELINE, out, request, seed=CALIBRATION_SEED, workers=2)
    return {"result": result, "out": out}


# 30 replications: two chunks of the runner (25 + 5), so that the pool really splits the work
CHEAP = Settings(replications=30, max_evaluations=12, final_replications=30, hessian_step=0.25)


@pytest.fixture(scope="module")
def cheap_fits(truth, tmp_path_factory):
    """Three small calibrations of the two levels on Q1 alone (a run of one quarter is three
    times cheaper): seed 1 on 2 workers, seed 1 in-process, seed 2 on 2 workers."""
    fits = {}
    for name, seed, workers in (("a", 1, 2), ("b", 1, 1), ("c", 2, 2)):
        out = tmp_path_factory.mktemp(f"cheap_{name}") / "out"
        request = api.FitRequest(truth["path"], ("Q1",), settings=CHEAP, parameters=LEVELS)
        fits[name] = (api.calibrate(BASELINE, out, request, seed=seed, workers=workers), out)
    return fits


@pytest.fixture(scope="module")
def cli_quick(tmp_path_factory):
    """`calibrate --quick` of the baseline on the 2020 data, the calibrated file in tmp."""
    base = tmp_path_factory.mktemp("cli")
    out, file = base / "out", base / "calibrated_quick.toml"
    before = date.today()
    code, stdout, stderr = call_main(["calibrate", "--quick", "--out", str(out), "--calibrated", str(file),
                                      "--workers", "2", "--quiet"])  # fmt: skip
    dates = {before.isoformat(), date.today().isoformat()}
    return {"code": code, "stdout": stdout, "stderr": stderr, "out": out, "file": file, "dates": dates}


@pytest.fixture(scope="module")
def backtest(tmp_path_factory):
    """`calibrate --fit Q1,Q2 --predict Q3 --quick` with no --calibrated. The project root of
    the command is pointed at an empty folder, so that a default file written to configs/
    would be seen there (and the real configs/ is never touched)."""
    base = tmp_path_factory.mktemp("backtest")
    fake_root, out = base / "root", base / "out"
    (fake_root / "configs").mkdir(parents=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sim.cli.calibrate, "CONFIGS", fake_root / "configs")
        code, stdout, stderr = call_main(["calibrate", str(BASELINE), "--fit", "Q1,Q2", "--predict", "Q3", "--quick",
                                          "--out", str(out), "--workers", "2", "--quiet"])  # fmt: skip
    return {"code": code, "stdout": stdout, "stderr": stderr, "out": out, "fake_root": fake_root}


# ------------------------------------------------------------------------ 1. recovery


@pytest.mark.slow
def test_recovery_true_levels_lie_within_reported_95_intervals(truth, recovery):
    fitted = recovery["result"].fit
    runs = truth["runs"]
    for p in LEVELS:
        value, low, high, true = fitted.values[p.path], fitted.low[p.path], fitted.high[p.path], TRUTH[p.path]
        assert math.isfinite(low) and math.isfinite(high), f"{p.path}: interval not finite ({low}, {high})"
        assert p.low <= low < value < high <= p.high, f"{p.path}: {value} not inside ({low}, {high})"
        assert low <= true <= high, f"{p.path}: true value {true} outside the 95% interval [{low:.4g}, {high:.4g}]"
        # Width: an interval for a level cannot be narrower than the Poisson limit, the width
        # a perfect estimator would have if the three quarters' total T were Poisson (the
        # model's regimes and self-excitation only add variance): log(high / low) >= 2 x 1.96 /
        # sqrt(E T). Narrower means a curvature that Monte Carlo noise made too sharp.
        series = "rocket_drone_attacks" if "rocket" in p.path else "convoy_attacks"
        total = runs[[column_of(series, q) for q in QUARTERS]].sum(axis=1).to_numpy(float)
        poisson_limit = 2 * Z95 / math.sqrt(total.mean())
        assert math.log(high / low) >= poisson_limit, (
            f"{p.path}: log(high/low) = {math.log(high / low):.3f} is narrower than the Poisson limit {poisson_limit:.3f}"
        )


@pytest.mark.slow
def test_recovery_report_holds_the_synthetic_counts(truth, recovery):
    counts = recovery["result"].counts
    fitted = counts[counts["role"] == "fit"]
    assert len(fitted) == 6
    expected = {(r["series"], r["quarter"]): r["count"] for r in truth["rows"] if r["use"] == "fit"}
    assert {(s, q): o for s, q, o in zip(fitted["series"], fitted["quarter"], fitted["observed"])} == expected


# ---------------------------------------------------------------- 2. reproducibility


@pytest.mark.slow
def test_same_seed_gives_the_same_fit_and_another_seed_another(cheap_fits):
    (a, out_a), (b, out_b), (c, _) = cheap_fits["a"], cheap_fits["b"], cheap_fits["c"]
    assert a.fit.values == b.fit.values
    for bound in ("low", "high"):
        va, vb = getattr(a.fit, bound), getattr(b.fit, bound)
        assert va.keys() == vb.keys()
        assert all(va[k] == vb[k] or (math.isnan(va[k]) and math.isnan(vb[k])) for k in va), (va, vb)
    assert a.fit.log_likelihood == b.fit.log_likelihood
    assert a.fit.evaluations == b.fit.evaluations
    pd.testing.assert_frame_equal(a.runs, b.runs)
    assert (out_a / "fit_report.csv").read_bytes() == (out_b / "fit_report.csv").read_bytes()
    assert a.calibrated.read_text() == b.calibrated.read_text()
    # another seed: other common random numbers, another (deterministic) objective
    assert c.fit.values != a.fit.values
    assert c.fit.log_likelihood != a.fit.log_likelihood
    assert (c.fit.low, c.fit.high) != (a.fit.low, a.fit.high)
    assert not c.runs.drop(columns="seed").equals(a.runs.drop(columns="seed"))


# ------------------------------------------------- 3. report percentiles against runs.parquet


def check_counts_against_runs(counts: pd.DataFrame, runs: pd.DataFrame) -> None:
    assert len(counts) > 0
    for row in counts.itertuples(index=False):
        sim_counts = runs[column_of(row.series, row.quarter)].to_numpy(float)
        where = f"{row.series} {row.quarter}"
        assert same(float(row.sim_mean), float(sim_counts.sum() / len(sim_counts))), where
        assert same(float(row.sim_p05), float(pd.Series(sim_counts).quantile(0.05))), where
        assert same(float(row.sim_p95), float(pd.Series(sim_counts).quantile(0.95))), where
        pct = midrank(float(row.observed), sim_counts)
        assert same(float(row.percentile), pct), f"{where}: percentile {row.percentile} != {pct}"
        assert bool(row.within_central_90) == (5 <= pct <= 95), where


@pytest.mark.slow
def test_fit_report_csv_percentiles_match_runs_parquet(cli_quick):
    assert cli_quick["code"] == 0, cli_quick["stderr"]
    out = cli_quick["out"]
    report = pd.read_csv(out / "fit_report.csv")
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == Settings.quick().final_replications
    check_counts_against_runs(report, runs)
    share = float((runs["us_casualties_q3"] == 0).mean())
    # the check row (observed 0): mid-rank percentile = 100 x P(sim = 0) / 2
    check = report[(report["series"] == "us_casualties") & (report["quarter"] == "Q3")]
    assert len(check) == 1 and check["observed"].iloc[0] == 0
    assert check["percentile"].iloc[0] == pytest.approx(50 * share, rel=1e-5, abs=1e-9)
    for text in ((out / "fit_report.md").read_text(), cli_quick["stdout"]):
        found = re.findall(r"P\(no U\.S\. casualties in Q3\) = ([0-9.]+)", text)
        assert found, text
        assert float(found[0]) == pytest.approx(share, abs=5e-4)


@pytest.mark.slow
def test_api_result_percentiles_and_dispersion_match_its_runs(recovery):
    result = recovery["result"]
    runs = pd.read_parquet(recovery["out"] / "runs.parquet")
    pd.testing.assert_frame_equal(runs.reset_index(drop=True), result.runs.reset_index(drop=True))
    check_counts_against_runs(result.counts, runs)
    assert result.p_no_us_casualties == {"Q3": pytest.approx(float((runs["us_casualties_q3"] == 0).mean()), abs=1e-12)}
    observed = result.counts[result.counts["role"] == "fit"]
    assert list(result.dispersion["series"]) == list(SERIES)
    for row in result.dispersion.itertuples(index=False):
        group = observed[observed["series"] == row.series]
        obs = dispersion(group["observed"].to_numpy(float)[None, :])[0]
        sim_d = dispersion(runs[[column_of(row.series, q) for q in group["quarter"]]].to_numpy(float))
        sim_d = sim_d[np.isfinite(sim_d)]
        assert row.observed_dispersion == pytest.approx(obs, rel=1e-9)
        assert row.sim_mean == pytest.approx(sim_d.mean(), rel=1e-9)
        assert row.percentile == pytest.approx(midrank(obs, sim_d), rel=1e-9)


# --------------------------------------------------------------------- 4. CLI end to end


@pytest.mark.slow
def test_cli_quick_exit_and_files(cli_quick):
    assert cli_quick["code"] == 0, cli_quick["stderr"]
    out = cli_quick["out"]
    for name in ("fit_report.csv", "fit_report.md", "parameters.csv", "fit.png", "runs.parquet", "manifest.json"):
        assert (out / name).is_file(), f"{name} missing"
    assert not (out / "calibrated.toml").exists(), "--calibrated FILE given: nothing goes to DIR/calibrated.toml"
    assert str(cli_quick["file"]) in cli_quick["stdout"]


@pytest.mark.slow
def test_cli_quick_fit_report_rows(cli_quick):
    report = pd.read_csv(cli_quick["out"] / "fit_report.csv")
    needed = ["series", "quarter", "observed", "sim_mean", "sim_p05", "sim_p95", "percentile"]
    assert set(needed) <= set(report.columns), report.columns
    data = {(r["series"], r["quarter"]): (int(r["count"]), r["use"]) for r in data_rows()}
    assert len(report) == 7
    got = {
        (s, q): (int(o), role)
        for s, q, o, role in zip(report["series"], report["quarter"], report["observed"], report["role"])
    }
    assert got == data  # six fitted counts and the Q3 casualty check, with the observed values
    assert all(report["sim_p05"] <= report["sim_mean"]) and all(report["sim_mean"] <= report["sim_p95"])


@pytest.mark.slow
def test_cli_quick_parameters_csv(cli_quick):
    table = pd.read_csv(cli_quick["out"] / "parameters.csv")
    manifest = json.loads((cli_quick["out"] / "manifest.json").read_text())
    scenario = load_scenario(BASELINE)
    assert sorted(table["parameter"]) == sorted(leaves(to_plain(scenario))), "not every scenario parameter is listed"
    assert table["parameter"].is_unique
    calibrated = table[table["status"].str.startswith("calibrated")]
    assumed = table[table["status"].str.startswith("assumed (")]
    assert len(calibrated) + len(assumed) == len(table), table[~table.index.isin(calibrated.index.union(assumed.index))]
    assert set(calibrated["parameter"]) == FITTED_PATHS
    for row in calibrated.itertuples(index=False):
        assert same(float(row.value), manifest["fitted"][row.parameter])
        assert same(float(row.ci95_low), float(manifest["ci95_low"][row.parameter]))
        assert same(float(row.ci95_high), float(manifest["ci95_high"][row.parameter]))
    documented = sources(BASELINE)
    for row in assumed.itertuples(index=False):
        if row.parameter in documented:
            assert row.status == f"assumed ({documented[row.parameter][1]})", row


@pytest.mark.slow
def test_cli_quick_fit_png_is_a_png(cli_quick):
    from PIL import Image

    path = cli_quick["out"] / "fit.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        image.verify()
        assert image.format == "PNG"
    with Image.open(path) as image:
        assert image.size[0] > 100 and image.size[1] > 100


@pytest.mark.slow
def test_cli_quick_calibrated_file(cli_quick):
    file = cli_quick["file"]
    manifest = json.loads((cli_quick["out"] / "manifest.json").read_text())
    assert set(manifest["fitted"]) == FITTED_PATHS
    assert (ROOT / manifest["data_file"]).resolve() == DATA.resolve()
    scenario = load_scenario(file)
    for path, value in manifest["fitted"].items():
        node = to_plain(scenario)
        for part in path.split("."):
            node = node[part]
        assert same(float(node), value), f"{path}: file {node}, manifest {value}"
    # every other value comes from the base file (the scenario's own name and description aside)
    rounded = {path: float(f"{value:.6g}") for path, value in manifest["fitted"].items()}
    identity = {"scenario.name": scenario.scenario.name, "scenario.description": scenario.scenario.description}
    assert scenario_hash(scenario) == scenario_hash(load_scenario(BASELINE, {**rounded, **identity}))
    text = file.read_text()
    units = sources(BASELINE)
    table, fitted_keys, other_keys = "", set(), set()
    for line in text.splitlines():
        header = re.match(r"^\s*\[([^\]]+)\]", line)
        if header:
            table = header.group(1).strip() + "."
            continue
        if not line.strip() or line.lstrip().startswith("#") or "=" not in line:
            continue
        key = line.split("=", 1)[0].strip()
        if key == "extends":
            continue
        match = ASSIGNMENT.match(line)
        assert match, f"assignment without '# unit; source: ...': {line!r}"
        if table + key in FITTED_PATHS:
            assert match.group("source").startswith("calibrated ("), line
            assert match.group("unit") == units[table + key][0], line
            fitted_keys.add(table + key)
        else:  # only the scenario's identity may be set besides the fitted values
            assert "calibrate" in match.group("source"), line
            other_keys.add(table + key)
    assert fitted_keys == FITTED_PATHS
    assert other_keys <= set(identity), other_keys
    # the data file, as given or relative to the project
    assert DATA.relative_to(ROOT).as_posix() in text, "the calibrated file does not name the data file"
    written = re.findall(r"\d{4}-\d{2}-\d{2}", text.splitlines()[0])
    assert written and written[0] in cli_quick["dates"], "the calibrated file does not carry the fit date"


# ---------------------------------------------------------------------------- 5. backtest


@pytest.mark.slow
def test_backtest_predicts_q3(backtest):
    assert backtest["code"] == 0, backtest["stderr"]
    out = backtest["out"]
    report = pd.read_csv(out / "fit_report.csv")
    predicted = report[report["role"] == "predict"]
    assert sorted(zip(predicted["series"], predicted["quarter"])) == sorted((s, "Q3") for s in SERIES)
    assert all(predicted["sim_p05"] <= predicted["sim_p95"])
    assert predicted["percentile"].between(0, 100).all()
    fitted = report[report["role"] == "fit"]
    assert sorted(zip(fitted["series"], fitted["quarter"])) == sorted((s, q) for s in SERIES for q in ("Q1", "Q2"))
    runs = pd.read_parquet(out / "runs.parquet")
    check_counts_against_runs(report, runs)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["fit"] == ["Q1", "Q2"] and manifest["predict"] == ["Q3"]


@pytest.mark.slow
def test_backtest_default_calibrated_file_goes_to_the_results_folder(backtest):
    assert backtest["code"] == 0, backtest["stderr"]
    default = backtest["out"] / "calibrated.toml"
    assert default.is_file()
    assert not (backtest["fake_root"] / "configs" / "calibrated.toml").exists(), (
        "a backtest wrote configs/calibrated.toml"
    )
    assert str(default) in backtest["stdout"]
    assert "(Q1,Q2)" in default.read_text()
    load_scenario(default)


@pytest.mark.slow
@pytest.mark.parametrize("argv, default", [
    (["--fit", "Q1", "--predict", "Q2"], "out"),  # a backtest without --quick: DIR/calibrated.toml
    (["--fit", "Q1"], "configs"),  # a full calibration: configs/calibrated.toml of the project
])  # fmt: skip
def test_default_calibrated_file_without_quick(argv, default, tmp_path):
    """The rule of --calibrated's default, without --quick (which alone sends it to DIR): the
    project root points at an empty folder and the default Settings are made tiny, so this
    runs in seconds and cannot touch the real configs/."""
    fake_root, out = tmp_path / "root", tmp_path / "out"
    (fake_root / "configs").mkdir(parents=True)
    tiny = Settings(replications=8, max_evaluations=5, final_replications=10, hessian_step=0.25)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sim.cli.calibrate, "CONFIGS", fake_root / "configs")
        patch.setattr(sim.cli.calibrate, "Settings", lambda: tiny)
        code, stdout, stderr = call_main(["calibrate", str(BASELINE), *argv, "--out", str(out), "--workers", "2",
                                          "--quiet"])  # fmt: skip
    assert code == 0, stderr
    expected = out / "calibrated.toml" if default == "out" else fake_root / "configs" / "calibrated.toml"
    other = fake_root / "configs" / "calibrated.toml" if default == "out" else out / "calibrated.toml"
    assert expected.is_file() and not other.exists()
    assert str(expected) in stdout
    assert f"{tiny.replications} replications per evaluation" in expected.read_text()
    load_scenario(expected)


# -------------------------------------------------------------------------- 6. bad input


def bad_data(tmp_path: Path, change) -> Path:
    rows = data_rows()
    change(rows)
    return write_data(tmp_path / "bad.csv", rows)


def _set(index: int, column: str, value: str):
    def change(rows: list[dict]) -> None:
        rows[index][column] = value

    return change


BAD_INPUT = {
    "missing data file": (lambda t: ["--data", str(t / "nowhere.csv")], "not found"),
    "wrong header": (lambda t: ["--data", str(write_data(t / "h.csv", data_rows(), ("series", "quarter", "start", "end", "n", "use", "source")))], "header"),
    "fractional count": (lambda t: ["--data", str(bad_data(t, _set(1, "count", "11.5")))], "count"),
    "negative count": (lambda t: ["--data", str(bad_data(t, _set(1, "count", "-3")))], "count"),
    "empty count": (lambda t: ["--data", str(bad_data(t, _set(1, "count", "")))], "count"),
    "count with a superscript digit": (lambda t: ["--data", str(bad_data(t, _set(1, "count", "1\u00b2")))], "count"),
    "start not a quarter's first day": (lambda t: ["--data", str(bad_data(t, _set(1, "start", "2020-04-02")))], "start"),
    "start in the wrong quarter": (lambda t: ["--data", str(bad_data(t, _set(1, "start", "2020-07-01")))], "start"),
    "--fit Q5": (lambda t: ["--fit", "Q1,Q5"], "Q5"),
    "--fit a quarter absent from the data": (lambda t: ["--fit", "Q1,Q4"], "Q4"),
    "--predict a quarter absent from the data": (lambda t: ["--fit", "Q1,Q2", "--predict", "Q4"], "Q4"),
    "--predict overlapping --fit": (lambda t: ["--fit", "Q1,Q2", "--predict", "Q2,Q3"], "Q2"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_one_line_and_exit_2(case, tmp_path):
    make, word = BAD_INPUT[case]
    out, file = tmp_path / "out", tmp_path / "written.toml"
    argv = ["calibrate", str(BASELINE), *make(tmp_path), "--quick", "--out", str(out), "--calibrated", str(file),
            "--workers", "1", "--quiet"]  # fmt: skip
    code, stdout, stderr = call_main(argv)
    assert code == 2, (case, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert word in lines[0], lines[0]
    assert stdout == ""
    assert not out.exists() and not file.exists(), "bad input must write nothing"


def test_calibrated_equal_to_the_scenario_is_refused(tmp_path):
    scenario = tmp_path / "scenario.toml"
    shutil.copy(BASELINE, scenario)
    before = scenario.read_bytes()
    out = tmp_path / "out"
    for spelling in (scenario, tmp_path / "." / "sub" / ".." / "scenario.toml"):
        code, _, stderr = call_main(["calibrate", str(scenario), "--quick", "--out", str(out), "--calibrated",
                                     str(spelling), "--workers", "1", "--quiet"])  # fmt: skip
        assert code == 2, stderr
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "--calibrated" in lines[0], stderr
        assert scenario.read_bytes() == before and not out.exists()


def test_data_end_must_be_the_quarters_last_day(tmp_path):
    """observations.py: 'end' is 'the quarter's last day'. 2020-06-29 is 89 days after
    2020-04-01 and in the right month, but not the last day of Q2."""
    calendar = load_scenario(BASELINE).scenario.calendar
    assert len(load_observations(DATA, calendar)) == len(data_rows())
    for end in ("2020-06-29", "2020-06-30x", "2020-05-31"):
        path = bad_data(tmp_path, _set(1, "end", end))
        with pytest.raises(ConfigError, match="end|start"):
            load_observations(path, calendar)


# ------------------------------------------------------------------------- 7. acceptance


@pytest.mark.slow
def test_acceptance_of_the_project_calibration():
    if not CALIBRATED.exists():
        pytest.skip(f"{CALIBRATED} does not exist yet: run `python run.py calibrate --out DIR` first")
    scenario = load_scenario(CALIBRATED, {"scenario.end_date": Q3_END})
    runs = run_replications(scenario, ACCEPTANCE_REPLICATIONS, ACCEPTANCE_SEED, workers=2)
    observations = load_observations(DATA, scenario.scenario.calendar)
    fitted = observations[observations["use"] == "fit"]
    assert len(fitted) == 6
    problems = []
    for row in fitted.itertuples(index=False):
        pct = midrank(row.count, runs[row.column].to_numpy(float))
        if not 5 <= pct <= 95:
            problems.append(f"{row.series} {row.quarter}: observed {row.count} at percentile {pct:.1f}")
    for series, group in fitted.groupby("series"):
        observed = dispersion(group["count"].to_numpy(float)[None, :])[0]
        simulated = dispersion(runs[list(group["column"])].to_numpy(float))
        simulated = simulated[np.isfinite(simulated)]
        pct = midrank(observed, simulated)
        if not 5 <= pct <= 95:
            problems.append(f"{series}: observed dispersion {observed:.2f} at percentile {pct:.1f}")
    # Q3 2020 had no U.S. casualties: the model must give that outcome a probability of at
    # least 0.05 (it does not reject the observation at the 5% level), allowing for Monte Carlo
    # error: the upper end of the Wilson 95% interval of the simulated share must reach 0.05.
    zero = int((runs["us_casualties_q3"] == 0).sum())
    low, high = stats.binomtest(zero, len(runs)).proportion_ci(0.95, method="wilson")
    if high < 0.05:
        problems.append(f"P(no U.S. casualties in Q3) = {zero / len(runs):.3f} (95% CI {low:.3f}-{high:.3f}) is below 0.05")
    assert not problems, "; ".join(problems)


# --------------------------------------------------------------------------- 8. unit tests


def test_synthetic_log_likelihood_is_highest_near_the_simulated_mean():
    rng = np.random.default_rng(11)
    simulated = rng.poisson([20.0, 30.0, 12.0], size=(400, 3)).astype(float)
    mean, sd = simulated.mean(axis=0), simulated.std(axis=0, ddof=1)
    at_mean = synthetic_log_likelihood(simulated, mean)
    for direction in (np.eye(3)[0], -np.eye(3)[1], np.ones(3), -np.ones(3)):
        assert at_mean > synthetic_log_likelihood(simulated, mean + 3 * sd * direction)
    # along a line through the mean, the maximum is within a quarter of an sd of it
    # (the Anscombe transform moves the mode by about 1/8 count for Poisson counts)
    shifts = np.linspace(-3, 3, 121)
    values = [synthetic_log_likelihood(simulated, mean + t * sd) for t in shifts]
    assert abs(shifts[int(np.argmax(values))]) <= 0.25


@pytest.mark.parametrize("k", [1, 2, 6])
def test_synthetic_log_likelihood_is_the_normal_logpdf_on_the_anscombe_scale(k):
    rng = np.random.default_rng(k)
    simulated = rng.negative_binomial(3, 0.15, size=(50, k)).astype(float)
    observed = rng.integers(0, 40, size=k).astype(float)
    y = np.sqrt(simulated + 3 / 8)
    cov = np.atleast_2d(np.cov(y, rowvar=False)) + RIDGE * np.eye(k)
    expected = stats.multivariate_normal(y.mean(axis=0), cov).logpdf(np.sqrt(observed + 3 / 8))
    assert synthetic_log_likelihood(simulated, observed) == pytest.approx(float(expected), rel=1e-10, abs=1e-10)


def test_synthetic_log_likelihood_ridge_keeps_a_degenerate_sample_regular():
    simulated = np.full((30, 2), 5.0)  # no variance at all
    value = synthetic_log_likelihood(simulated, np.array([5.0, 5.0]))
    assert value == pytest.approx(-math.log(2 * math.pi * RIDGE), rel=1e-12)


@pytest.mark.parametrize("parameter", [
    FitParameter("a.rate", 0.02, 0.6, "log", ""),
    FitParameter("b.fraction", 0.0, 0.9, "logit", ""),
    FitParameter("c.multiplier", 1.05, 6.0, "log", ""),
    FitParameter("d.share", 0.2, 0.5, "logit", ""),
    *DEFAULT_PARAMETERS,
])  # fmt: skip
def test_fit_parameter_round_trip_within_bounds(parameter):
    p = parameter
    for value in np.linspace(p.low, p.high, 41)[1:-1]:
        assert p.from_free(p.to_free(value)) == pytest.approx(value, rel=1e-9, abs=1e-12)
    # at the bounds: clamped just inside, back within 1e-8
    assert p.from_free(p.to_free(p.low)) == pytest.approx(p.low, abs=1e-8)
    assert p.from_free(p.to_free(p.high)) == pytest.approx(p.high, abs=1e-8)
    frees = np.linspace(-30, 30, 121)
    values = [p.from_free(x) for x in frees]
    assert all(p.low <= v <= p.high for v in values)
    assert all(a <= b for a, b in itertools.pairwise(values)), "from_free must be monotone"
    if p.transform == "log":
        middle = math.sqrt(p.low * p.high)
        assert p.to_free(middle) == pytest.approx(math.log(middle), rel=1e-12)
    else:
        middle = (p.low + p.high) / 2
        assert p.to_free(middle) == pytest.approx(0.0, abs=1e-12)


def test_percentile_of_small_arrays():
    assert percentile_of(2, np.array([1, 2, 3, 4])) == pytest.approx(37.5)
    assert percentile_of(0, np.array([1, 2])) == 0.0
    assert percentile_of(5, np.array([1, 2])) == 100.0
    assert percentile_of(2, np.array([2, 2, 2])) == pytest.approx(50.0)
    assert percentile_of(1.5, np.array([1, 2])) == pytest.approx(50.0)
    assert percentile_of(3, np.array([1, 3, 3, 7, 9])) == pytest.approx(40.0)
    assert percentile_of(0, np.array([0, 0, 1, 2])) == pytest.approx(25.0)


class Quadratic:
    """A stand-in for sim.calibration.Objective: an exact quadratic log-likelihood in the
    free space, -(x - centre)' P (x - centre) / 2, whose 95% intervals are known."""

    def __init__(self, parameters, centre, precision, settings):
        self.parameters, self.centre, self.precision, self.settings = (
            tuple(parameters),
            np.asarray(centre),
            np.asarray(precision),
            settings,
        )
        self.evaluations = 0

    def values(self, free):
        return {p.path: p.from_free(float(x)) for p, x in zip(self.parameters, free)}

    def __call__(self, free):
        self.evaluations += 1
        d = np.asarray(free, float) - self.centre
        return float(-0.5 * d @ self.precision @ d)


QUADRATIC_PARAMETERS = (DEFAULT_PARAMETERS[0], DEFAULT_PARAMETERS[3])  # one log, one logit


def test_fit_finds_the_maximum_and_hessian_intervals_of_a_known_quadratic():
    centre = np.array([QUADRATIC_PARAMETERS[0].to_free(0.15), QUADRATIC_PARAMETERS[1].to_free(0.3)])
    precision = np.array([[25.0, 10.0], [10.0, 16.0]])
    objective = Quadratic(QUADRATIC_PARAMETERS, centre, precision, Settings(max_evaluations=400, hessian_step=0.15))
    start = {p.path: p.from_free(c + 0.5) for p, c in zip(QUADRATIC_PARAMETERS, centre)}
    result = fit(objective, start)
    sd = np.sqrt(np.diag(np.linalg.inv(precision)))
    for i, p in enumerate(QUADRATIC_PARAMETERS):
        best = p.to_free(result.values[p.path])
        assert best == pytest.approx(centre[i], abs=0.05)
        assert result.low[p.path] == pytest.approx(p.from_free(best - Z95 * sd[i]), rel=1e-6)
        assert result.high[p.path] == pytest.approx(p.from_free(best + Z95 * sd[i]), rel=1e-6)
    assert result.log_likelihood == pytest.approx(0.0, abs=0.01)
    assert result.start == start


def test_a_flat_direction_is_not_identified():
    centre = np.array([QUADRATIC_PARAMETERS[0].to_free(0.15), QUADRATIC_PARAMETERS[1].to_free(0.3)])
    objective = Quadratic(QUADRATIC_PARAMETERS, centre, np.diag([25.0, 0.0]), Settings(max_evaluations=200))
    result = fit(objective, {p.path: p.from_free(c) for p, c in zip(QUADRATIC_PARAMETERS, centre)})
    identified, flat = (p.path for p in QUADRATIC_PARAMETERS)
    assert math.isfinite(result.low[identified]) and math.isfinite(result.high[identified])
    assert math.isnan(result.low[flat]) and math.isnan(result.high[flat])


def test_identified_parameters_keep_their_marginal_interval_beside_a_flat_one():
    """Parameters 1 and 2 are correlated and identified, parameter 3 is flat (not identified).
    The interval of 1 must be that of the profile likelihood over 2 (the inverse of the
    identified block of the precision), not the interval conditional on 2 held at its optimum
    (1 / sqrt(P_11)), which is too narrow."""
    parameters = (DEFAULT_PARAMETERS[0], DEFAULT_PARAMETERS[3], DEFAULT_PARAMETERS[2])
    centre = np.array([parameters[0].to_free(0.15), parameters[1].to_free(0.3), parameters[2].to_free(2.0)])
    precision = np.array([[25.0, 10.0, 0.0], [10.0, 16.0, 0.0], [0.0, 0.0, 0.0]])
    objective = Quadratic(parameters, centre, precision, Settings(max_evaluations=300, hessian_step=0.15))
    result = fit(objective, {p.path: p.from_free(c) for p, c in zip(parameters, centre)})
    sd = np.sqrt(np.diag(np.linalg.inv(precision[:2, :2])))
    for i, p in enumerate(parameters[:2]):
        best = p.to_free(result.values[p.path])
        assert result.low[p.path] == pytest.approx(p.from_free(best - Z95 * sd[i]), rel=1e-6), p.path
        assert result.high[p.path] == pytest.approx(p.from_free(best + Z95 * sd[i]), rel=1e-6), p.path
    assert math.isnan(result.low[parameters[2].path]) and math.isnan(result.high[parameters[2].path])
