"""`run.py describe`: the STRESS-DES model description of a scenario, an experiment, a sweep or a
results folder (sim/analysis/describe.py)."""

from __future__ import annotations

import io
import json
import re
import shlex
from pathlib import Path

import pytest

import sim.cli.main as cli
from sim.analysis.describe import NOT_SET, SECTIONS, describe, describe_folder, parameters, write_description
from sim.analysis.tables import markdown_code, markdown_text
from sim.config.loader import input_files, load_scenario
from sim.config.provenance import sources
from sim.project import PROJECT_ROOT, shown_path

CONFIGS = PROJECT_ROOT / "configs"
BASELINE = CONFIGS / "baseline.toml"
SUBSECTIONS = (
    "### 1.1 Purpose",
    "### 1.2 Model outputs",
    "### 1.3 Experimentation aims",
    "### 2.1 Base model overview",
    "### 2.2 Base model logic",
    "### 2.3 Scenario logic",
    "### 3.1 Data sources",
    "### 3.2 Pre-processing",
    "### 3.3 Input parameters",
    "### 3.4 Assumptions",
    "### 4.1 Initialisation",
    "### 4.2 Run length",
    "### 4.3 Estimation approach",
    "### 5.1 Software",
    "### 5.2 Random sampling",
    "### 5.3 Model execution",
    "### 5.4 System specification",
)
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def run_cli():
    """``run.py`` in this process: (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(list(argv), out, err)
        return code, out.getvalue(), err.getvalue()

    return run


def fake_folder(folder: Path, source: Path = BASELINE, command: list[str] | None = None) -> dict:
    """A results folder of one scenario, as the runner's manifest describes it."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "kind": "run",
        "name": "baseline",
        "command": command or ["run.py", "run", shown_path(source), "--replications", "3"],
        "source_file": shown_path(source),
        "overrides": [],
        "inputs": {shown_path(p): p.read_text(encoding="utf-8") for p in input_files(source)},
        "scenarios": ["baseline"],
        "root_seed": 11,
        "replications": 3,
        "chunk_size": 25,
        "parameters_from": None,
        "workers": 2,
        "scheduler": None,
        "code_version": {"package": "0.1.0", "git_commit": COMMIT, "git_modified": False},
        "environment": {"python": "3.11.7", "platform": "Linux-test", "packages": {"simpy": "4.1.2", "numpy": "2.0.0"}},
        "fingerprint": "f" * 64,
        "status": "complete",
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return manifest


def assert_sections(text: str) -> None:
    for heading in SECTIONS:
        assert f"\n## {heading}\n" in text, heading
    for heading in SUBSECTIONS:
        assert heading in text, heading
    # the commit of a git checkout, or the line that says there is none (a copy of the project)
    assert "## 6. Code access" in text and ("commit `" in text or "commit not recorded (not a git checkout)" in text)


@pytest.mark.parametrize(
    "path",
    [BASELINE, CONFIGS / "experiments" / "robustness.toml", CONFIGS / "sweeps" / "strike_effects.toml"],
    ids=["scenario", "experiment", "sweep"],
)
def test_every_section_is_present_for_each_kind_of_file(path):
    text = describe(path)
    assert_sections(text)
    assert text.startswith("# Model description: ")


def test_every_section_is_present_for_a_results_folder(tmp_path):
    fake_folder(tmp_path / "run")
    assert_sections(describe(tmp_path / "run"))


@pytest.mark.parametrize("kind", ["calibration", "side_by_side", "validate"])
def test_every_section_is_present_for_other_kinds_of_folder(tmp_path, kind):
    manifest = fake_folder(tmp_path / kind)
    manifest["kind"] = kind
    if kind == "calibration":
        manifest["calibration_file"] = manifest.pop("source_file").replace("baseline", "calibration")
    if kind == "side_by_side":
        del manifest["source_file"]
        manifest["folders"] = {"baseline": "baseline/"}
    (tmp_path / kind / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    text = describe(tmp_path / kind)
    assert_sections(text)
    assert f"`{COMMIT}`" in text
    assert ("Note:" in text) == (kind != "validate")  # a validation describes its scenario; the others say why not


def test_an_experiment_says_what_each_option_changes():
    text = describe(CONFIGS / "experiments" / "policy_comparison_at_medians.toml")
    logic = text[text.index("### 2.3 Scenario logic") : text.index("## 3. Data")]
    assert "| `ultimatum` | `policy.us.ultimatum.enabled` | false | true |" in logic
    assert "Common random numbers" in text


def test_a_sweep_names_the_parameters_it_varies():
    text = describe(CONFIGS / "sweeps" / "strike_effects.toml")
    logic = text[text.index("### 2.3 Scenario logic") : text.index("## 3. Data")]
    assert "`policy.us.strikes.revenge_prob`" in logic


def test_every_parameter_of_the_baseline_appears_with_its_unit_and_source():
    text = describe(BASELINE)
    table = text[text.index("### 3.3 Input parameters") : text.index("### 3.4 Assumptions")]
    rows = {line.split(" | ")[0].strip("| `"): line for line in table.splitlines() if line.startswith("| `")}
    found = sources(BASELINE)
    listed = parameters(load_scenario(BASELINE), found)
    assert len(listed) > 300
    for p in listed:
        row = rows[p.key]
        assert f"| {markdown_text(p.unit)} |" in row, p.key
        if p.key in found:  # written in the file: its unit comment, and its source
            assert found[p.key][0] == p.unit
            assert markdown_text(found[p.key][1]).replace("|", "\\|") in row, p.key
        else:  # an optional dated entry left at its default (never)
            assert p.value is None and markdown_text(NOT_SET) in row, p.key


def test_assumptions_are_the_parameters_whose_source_is_an_assumption():
    text = describe(BASELINE)
    assumptions = text[text.index("### 3.4 Assumptions") : text.index("## 4. Experimentation")]
    assert "`campaign.relapse_recovery_days`" in assumptions  # source: assumption
    assert "`threats.rocket.base_rate_per_day`" not in assumptions  # source: docs/sources.md#calibration-counts


HOSTILE = "<script>alert(1)</script> [click](http://evil.example) ![img](x.png) *bold* `code` | pipe\n# heading"


def test_a_hostile_description_and_source_are_escaped(tmp_path):
    scenario = tmp_path / "hostile.toml"
    scenario.write_text(
        f'extends = "{BASELINE.as_posix()}"\n[scenario]\nname = "hostile"  # -; source: this file\n'
        f"description = {json.dumps(HOSTILE)}  # -; source: {HOSTILE.splitlines()[0]}\n"
        "end_date = 2020-03-31  # date; source: <img src=x onerror=alert(1)>\n",
        encoding="utf-8",
    )
    text = describe(scenario)
    assert "<script" not in text and "<img" not in text
    assert "](http" not in text and "![img]" not in text and "*bold*" not in text
    assert not any(line.startswith("# heading") for line in text.splitlines())
    assert markdown_text(HOSTILE) in text
    header = text[text.index("### 3.3 Input parameters") :].splitlines()[2]
    table = [line for line in text.splitlines() if line.startswith("| `scenario.description`")]
    assert len(table) == 1 and table[0].count(" | ") == header.count(" | ")  # the pipe did not split the row


def test_a_hostile_experiment_description_is_escaped(tmp_path):
    experiment = tmp_path / "experiment.toml"
    scenarios = CONFIGS / "scenarios"
    experiment.write_text(
        f'[experiment]\nname = "e"\ndescription = {json.dumps(HOSTILE)}\nbase = "{BASELINE.as_posix()}"\n'
        'reference = "continuity"\nreplications = 2\nroot_seed = 1\noutcomes = ["us_killed"]\n'
        f'[scenarios.continuity]\nfile = "{(scenarios / "continuity.toml").as_posix()}"\n'
        f'[scenarios.ultimatum]\nfile = "{(scenarios / "ultimatum.toml").as_posix()}"\n',
        encoding="utf-8",
    )
    text = describe(experiment)
    assert "<script" not in text and "](http" not in text
    assert markdown_text(HOSTILE) in text


def test_a_results_folder_names_its_commit_and_command(tmp_path):
    command = ["run.py", "run", "configs/baseline.toml", "--replications", "3", "--seed", "11"]
    fake_folder(tmp_path / "run", command=command)
    text = describe(tmp_path / "run")
    code = text[text.index("## 6. Code access") :]
    assert f"`{COMMIT}`" in code
    assert "`run.py run configs/baseline.toml --replications 3 --seed 11`" in code
    assert "3 independent replications" in text and "root seed 11" in text
    assert "simpy 4.1.2" in text and "Linux-test" in text  # the run's environment, not this one


def test_a_hostile_command_in_a_manifest_stays_in_its_code_span(tmp_path):
    command = ["run.py", "run", "`x` <b>[a](http://e)</b>\n# h"]
    fake_folder(tmp_path / "run", command=command)
    text = describe(tmp_path / "run")
    line = next(line for line in text.splitlines() if line.startswith("Command that made it"))
    assert line.endswith(
        f": {markdown_code(shlex.join(command))}."
    )  # one code span, fenced by more backticks than inside
    assert markdown_code(shlex.join(command)).startswith("``r")
    assert not any(line.startswith("# h") for line in text.splitlines())


def test_a_folder_whose_inputs_changed_says_so(tmp_path):
    manifest = fake_folder(tmp_path / "run")
    manifest["inputs"] = {k: v + "\n# changed\n" for k, v in manifest["inputs"].items()}
    (tmp_path / "run" / "manifest.json").write_text(json.dumps(manifest))
    assert "differ now from the text" in describe_folder(tmp_path / "run")
    assert "not complete" not in describe_folder(tmp_path / "run")
    manifest["status"] = "analysing"
    (tmp_path / "run" / "manifest.json").write_text(json.dumps(manifest))
    assert "The folder is not complete (status analysing)" in describe_folder(tmp_path / "run")


def test_write_description_writes_describe_md_whole(tmp_path):
    manifest = fake_folder(tmp_path / "run")
    path = write_description(tmp_path / "run", {**manifest, "status": "running"})
    assert path == tmp_path / "run" / "describe.md"
    assert path.read_text(encoding="utf-8") == describe_folder(tmp_path / "run")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["describe.md", "manifest.json"]  # no partial left


def test_the_command_writes_stdout_and_out(run_cli, tmp_path):
    code, out, err = run_cli("describe", str(BASELINE), "--out", str(tmp_path / "d.md"))
    assert code == 0 and err == ""
    assert out == (tmp_path / "d.md").read_text(encoding="utf-8") == describe(BASELINE)


@pytest.mark.parametrize("case", ["not_a_scenario", "no_manifest", "missing", "not_toml", "damaged_manifest"])
def test_bad_input_is_one_line_and_exit_2(run_cli, tmp_path, case):
    target = {
        "not_a_scenario": CONFIGS / "calibration.toml",
        "no_manifest": tmp_path,
        "missing": tmp_path / "nothing.toml",
        "not_toml": tmp_path / "bad.toml",
        "damaged_manifest": tmp_path / "folder",
    }[case]
    (tmp_path / "bad.toml").write_text("this is [not toml", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "manifest.json").write_text("{not json", encoding="utf-8")
    code, out, err = run_cli("describe", str(target), "--out", str(tmp_path / "d.md"))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert not (tmp_path / "d.md").exists()
    if case == "not_a_scenario":
        assert re.search(r"not a scenario, experiment or sweep file", err)
    if case == "no_manifest":
        assert "no manifest.json" in err


@pytest.mark.parametrize(
    "path", [CONFIGS / "calibrated.toml", *sorted((CONFIGS / "scenarios").glob("*.toml"))], ids=lambda p: p.stem
)
def test_every_shipped_scenario_is_described(path):
    text = describe(path)
    assert_sections(text)
    assert f"`python run.py run {shown_path(path)}`" in text


def test_what_the_caller_loaded_gives_the_same_description(tmp_path):
    """The API hands write_description the experiment it ran, sparing a second load."""
    from sim.design.experiment import load_experiment
    from sim.design.sweep import load_sweep

    experiment = CONFIGS / "experiments" / "robustness.toml"
    sweep = CONFIGS / "sweeps" / "strike_effects.toml"
    for kind, path, loaded in (
        ("experiment", experiment, load_experiment(experiment)),
        ("sweep", sweep, load_sweep(sweep)),
        ("run", BASELINE, load_scenario(BASELINE)),
    ):
        manifest = fake_folder(tmp_path / kind, path if kind == "run" else BASELINE)
        manifest.update(kind=kind, source_file=shown_path(path))
        (tmp_path / kind / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        assert describe_folder(tmp_path / kind, loaded=loaded) == describe_folder(tmp_path / kind), kind


def test_a_hostile_or_damaged_manifest_is_escaped_or_left_out(tmp_path):
    manifest = fake_folder(tmp_path / "run")
    evil = "<img src=x onerror=alert(1)> [a](http://e)"
    manifest.update(
        kind=evil,
        name=evil,
        replications="<b>3</b>",
        root_seed=[evil],
        chunk_size=True,
        outcomes=[evil, 3],
        parameters_from={"file": evil, "parameters": [evil, {"x": 1}], "replications_per_draw": evil},
        environment={"python": evil, "platform": {"x": evil}, "packages": {evil: evil}},
        code_version={"package": evil, "git_commit": evil},
        workers=evil,
        scheduler=evil,
        fingerprint=evil,
        precision={"x": evil},
        inputs={evil: 3},
    )
    (tmp_path / "run" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    text = describe(tmp_path / "run")
    assert_sections(text)
    outside_code = re.sub(r"(`+).*?\1", "", text)  # text in code spans shows as written, never as HTML or a link
    assert "<img" not in outside_code and "](http" not in outside_code


def test_a_real_run_folder_is_described_from_its_manifest(tmp_path):
    """What the API hands write_description before marking a folder complete: the runner's own manifest."""
    import sim.api as api

    command = ("run.py", "run", "configs/baseline.toml", "--replications", "2", "--set", "scenario.end_date=2020-01-20")
    out = tmp_path / "run"
    result = api.run_scenario(
        BASELINE,
        2,
        seed=5,
        out=out,
        overrides=["scenario.end_date=2020-01-20"],
        batch=api.BatchOptions(command=command, workers=1),
    )
    path = write_description(out, result.manifest, load_scenario(BASELINE, ["scenario.end_date=2020-01-20"]))
    text = path.read_text(encoding="utf-8")
    assert_sections(text)
    commit = result.manifest["code_version"].get("git_commit")
    if commit:  # inside a git checkout
        assert f"`{commit}`" in text
    assert f"`{shlex.join(command)}`" in text
    assert "From 2020-01-01 to 2020-01-20: 20 days." in text
    assert "| `scenario.end_date` | 2020-01-20 | date |  | --set on the command line |" in text
