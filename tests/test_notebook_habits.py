"""What a notebook user meets: a progress display by default, results that print in a few lines
(and as an escaped HTML table in Jupyter), figures that Jupyter shows without ``%matplotlib
inline``, and a robustness experiment's runs with its options, states and parameters as columns."""

from __future__ import annotations

import copy
import dataclasses
import io
import sys
from pathlib import Path

import pandas as pd
import pytest
from builders import two_option_experiment
from test_robustness import robustness_file

from sim import api
from sim.analysis.display import Figures, Shown, describe
from sim.analysis.results import Results
from sim.analysis.tidy import tidy
from sim.batch.progress import ProgressDisplay, progress_callback, with_progress
from sim.design.robustness import scenario_name
from sim.project import CONFIGS

HOSTILE = "<script>alert('x')</script> & <b>bold</b>"
PNG = b"\x89PNG\r\n\x1a\n"


def shown(result):
    """``result`` as the API returns it once its class takes :class:`Shown` as a base (until
    then: a copy of it of a subclass of the same name that does)."""
    if isinstance(result, Shown):
        return result
    cls = type(type(result).__name__, (Shown, type(result)), {})
    other = copy.copy(result)
    object.__setattr__(other, "__class__", cls)
    return other


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exp") / "a <i>folder"
    folder.mkdir()
    path = two_option_experiment(folder, "two", HOSTILE, 2)
    return api.run_experiment(path, folder / "out", batch=api.BatchOptions(progress=None, workers=1))


@pytest.fixture(scope="module")
def robustness(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rob")
    return api.run_experiment(
        robustness_file(folder, replications=2), folder / "out", batch=api.BatchOptions(progress=None, workers=1)
    )


# progress ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Options:
    progress: object = True
    other: int = 1


def test_a_callback_is_kept_and_false_or_none_is_no_display():
    def mine(count: int) -> None:
        pass

    assert progress_callback(mine, 10) is mine
    assert progress_callback(False, 10) is None and progress_callback(None, 10) is None
    assert isinstance(progress_callback(True, 10), ProgressDisplay)
    with pytest.raises(TypeError, match="progress must be a callable, True or False"):
        progress_callback("yes", 10)
    options = with_progress(Options(), 5)
    assert isinstance(options.progress, ProgressDisplay) and options.other == 1
    assert with_progress(options, 5).progress is options.progress  # passed on: no second bar
    assert with_progress(Options(False), 5).progress is None


def test_the_default_display_counts_closes_at_the_total_and_stays_silent_off_a_terminal(monkeypatch):
    stderr = io.StringIO()  # not a terminal: tqdm draws nothing, as in a log file or a test run
    monkeypatch.setattr(sys, "stderr", stderr)
    display = ProgressDisplay(6)
    display(2)
    display(4)
    assert display.done == 6 and display.bar.disable
    assert stderr.getvalue() == ""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_default_display_is_a_bar(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    display = ProgressDisplay(6, description="run")
    display(2)
    display(4)
    assert display.bar.n == 6 and display.bar.disable  # drawn, then closed at the total
    assert "run:" in terminal.getvalue() and "/6 [" in terminal.getvalue()


# repr and HTML ----------------------------------------------------------------------------------


def test_an_experiment_prints_in_a_few_lines(experiment):
    text = repr(shown(experiment))
    assert len(text) < 2000 and len(text.splitlines()) <= 12, text
    assert text.startswith("ExperimentResult (experiment): two")
    assert "2 scenarios, 2 replications each" in text and str(experiment.folder) in text
    assert "attacks_rocket" in text and "vs reference" in text  # the headline: each option against the reference


def test_the_html_table_escapes_free_text(experiment):
    page = shown(experiment)._repr_html_()
    assert page.startswith("<table>") and "<script>" not in page and "<b>bold" not in page and "<i>folder" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert "a &lt;i&gt;folder" in page


def test_a_folder_read_back_prints_its_kind_and_tables(experiment, robustness):
    results = api.load_results(experiment.folder)
    text = repr(results)
    assert isinstance(results, Shown) and len(text) < 2000
    assert text.startswith("Results (experiment): two") and "tables" in text and "runs" in text
    rob = repr(api.load_results(robustness.folder))
    assert rob.startswith("Results (robustness): rob") and "4 states of 2 uncertain parameters" in rob
    assert "regret attacks_rocket" in rob


def test_every_kind_of_result_has_a_short_description(experiment, robustness):
    title, rows = describe(robustness)
    assert title.startswith("ExperimentResult (robustness)") and any(label == "states" for label, _ in rows)
    bare = Results(
        "calibration",
        Path("x"),
        {"kind": "calibration", "name": HOSTILE},
        {"parameters": pd.DataFrame({"parameter": ["a", "b"], "moved": [True, False]})},
    )
    assert "2, 1 moved by the data" in repr(bare) and "&lt;script&gt;" in bare._repr_html_()


@dataclasses.dataclass(frozen=True, repr=False)
class CalibrationResult(Shown):  # the API's fields a calibration shows, with a stand-in inference
    inference: object
    parameters: pd.DataFrame
    predictive: object
    calibrated: Path
    installed: Path | None
    report: Path


def test_a_calibration_shows_its_inference_folder_posterior_and_files():
    inference = dataclasses.make_dataclass("Inference", ["folder", "values", "manifest"])(
        Path("cal"), pd.DataFrame({"cram.kill_prob": [0.5, 0.6]}), {"kind": "calibration", "name": "calibration"}
    )
    result = CalibrationResult(
        inference,
        pd.DataFrame({"parameter": ["cram.kill_prob"], "moved": [True]}),
        None,
        Path("cal/calibrated.toml"),
        None,
        Path("cal/posterior_report.md"),
    )
    text = repr(result)
    assert text.startswith("CalibrationResult (calibration): calibration")
    for line in (
        "parameters  1, 1 moved by the data",
        "posterior   2 particles",
        "calibrated  cal/calibrated.toml",
        "folder      cal",
    ):
        assert line in text, text


# figures ----------------------------------------------------------------------------------------


def displayed(figure) -> dict:
    """What IPython displays for ``figure`` in a kernel where pyplot was never imported."""
    pytest.importorskip("IPython", reason="IPython is not installed: pip install -e '.[test]' (ipykernel brings it)")
    from IPython.core.formatters import DisplayFormatter

    data, _ = DisplayFormatter().format(figure)
    return data


def test_an_experiment_draws_its_report_figures_again(experiment):
    figures = shown(experiment).plot()
    assert isinstance(figures, Figures)
    assert list(figures) == ["forest_differences.png", "ecdf_attacks_rocket.png", "boxplot_outcomes.png"]
    for name, figure in figures.items():
        assert displayed(figure)["image/png"].startswith(PNG)
        # the same figure as the report's file, byte for byte
        assert figure._repr_png_() == (experiment.folder / "plots" / name).read_bytes()
    assert "data:image/png;base64," in figures._repr_html_()
    assert list(api.load_results(experiment.folder).plot()) == list(figures)


def test_robustness_figures_are_its_prim_trajectories(robustness):
    figures = shown(robustness).plot()
    written = sorted(p.name for p in (robustness.folder / "plots").glob("prim_*.png"))
    assert sorted(figures) == written


def test_a_sweep_figure_displays_without_matplotlib_inline():
    from sim.analysis.sweep import sweep_figures

    points = pd.DataFrame({"point": [0, 1, 2], "cram.kill_prob": [0.2, 0.5, 0.8], "us_killed": [1.0, 0.6, 0.3]})
    figure = sweep_figures(points, ["cram.kill_prob"], ["us_killed"])["sweep_us_killed_vs_cram.kill_prob.png"]
    assert displayed(figure)["image/png"].startswith(PNG)


def test_kinds_without_figures_to_draw_say_where_their_plots_are():
    with pytest.raises(TypeError, match="a validate result has no figures to draw again: its saved plots are in"):
        Results("validate", Path("v"), {"kind": "validate"}, {}).plot()


# tidy robustness runs ---------------------------------------------------------------------------


def test_robustness_runs_get_option_state_and_parameter_columns(robustness):
    runs = tidy(robustness.runs, robustness.manifest)
    states = pd.read_csv(robustness.folder / "states.csv")
    paths = ["policy.us.strikes.revenge_prob", "cram.kill_prob"]
    assert list(runs.columns[:5]) == ["scenario", "option", "state", *paths]
    assert (
        len(runs) == len(robustness.runs)
        and (runs["scenario"] == [scenario_name(o, s) for o, s in zip(runs["option"], runs["state"])]).all()
    )
    per_state = states.drop_duplicates(["option", "state"]).set_index(["option", "state"])[paths]
    joined = runs.drop_duplicates(["option", "state"]).set_index(["option", "state"])[paths]
    pd.testing.assert_frame_equal(joined.sort_index(), per_state.loc[joined.index].sort_index(), check_exact=False)
    pd.testing.assert_frame_equal(runs.drop(columns=["option", "state", *paths]), robustness.runs)
    assert api.load_results(robustness.folder).tidy_runs.equals(runs)


def test_other_runs_stay_as_they_are_and_foreign_names_are_refused(experiment, robustness):
    assert tidy(experiment.runs, experiment.manifest).equals(experiment.runs)
    foreign = robustness.runs.assign(scenario="nobody-state000")
    with pytest.raises(ValueError, match="scenario 'nobody-state000' names no option and state"):
        tidy(foreign, robustness.manifest)


# the API's entry points ---------------------------------------------------------------------------


def test_the_api_results_print_short_and_runs_show_a_bar_by_default(monkeypatch):
    for cls in (
        api.RunResult,
        api.ExperimentResult,
        api.SweepResult,
        api.ValidationResult,
        api.SideBySideResult,
        api.CalibrationResult,
        api.Results,
    ):
        assert issubclass(cls, Shown) and "__repr__" not in cls.__dict__, cls
    assert api.RunOptions().progress is True
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    scenario = api.load_scenario(CONFIGS / "baseline.toml", ["scenario.end_date=2020-01-20"])
    quiet = api.run_scenario(scenario, 2, batch=api.BatchOptions(progress=False, workers=1))
    assert terminal.getvalue() == "" and repr(quiet).startswith("RunResult (run): baseline")
    api.run_scenario(scenario, 2, batch=api.BatchOptions(workers=1))
    assert "/2 [" in terminal.getvalue()  # the default display: a bar of the 2 replications
    counted = []
    api.run_scenario(scenario, 2, batch=api.BatchOptions(progress=counted.append, workers=1))
    assert sum(counted) == 2
