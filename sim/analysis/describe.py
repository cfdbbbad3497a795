"""The model description of a scenario, an experiment, a sweep or a results folder, in the
layout of the STRESS-DES guidelines (Monks et al. 2019, "Strengthening the reporting of
empirical simulation studies: Introducing the STRESS guidelines", Journal of Simulation
13(1):55-67): 1 objectives, 2 logic, 3 data, 4 experimentation, 5 implementation, 6 code access.

Everything is generated: the parameters (their units and rules) from the schema's ``param``
declarations, walked as :mod:`sim.config` walks them; their values from the validated scenario;
their sources from the comments of the files (:func:`sim.config.provenance.sources`); the actors
from the docstrings of their modules; and, for a results folder, what ran from its manifest
(kind, command, seeds, replications, code version, environment, inputs). Free text read from
files (descriptions, sources, paths, commands) is escaped, so it shows as written.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sim.analysis.tables import markdown_code, markdown_table, markdown_text
from sim.batch.atomic import write_atomic
from sim.batch.folder import read_manifest
from sim.batch.manifest import code_version, environment
from sim.config.errors import ConfigError, UsageError
from sim.config.loader import input_files, load_scenario, read_toml, to_plain
from sim.config.provenance import sources
from sim.config.scenario import Scenario
from sim.design.batch import DEFAULT_CHUNK_SIZE
from sim.design.experiment import ExperimentFile, load_experiment
from sim.design.sweep import SweepFile, load_sweep
from sim.project import PROJECT_ROOT, shown_path
from sim.replication.outcomes import outcomes as outcome_list

FILE_NAME = "describe.md"
GUIDELINES = (
    "Monks T, Currie CSM, Onggo BS, Robinson S, Kunc M, Taylor SJE (2019). Strengthening the reporting of "
    "empirical simulation studies: Introducing the STRESS guidelines. Journal of Simulation 13(1):55-67."
)
SECTIONS = ("1. Objectives", "2. Logic", "3. Data", "4. Experimentation", "5. Implementation", "6. Code access")
# The actors and behaviours of a replication, each a SimPy process (or processes) of its module.
ACTORS = (
    ("Militia campaign (one per attack kind)", "sim.model.campaign"),
    ("Campaign intensity and regimes", "sim.model.intensity"),
    ("Rocket salvos", "sim.model.threats.rocket"),
    ("Drone attacks", "sim.model.threats.drone"),
    ("Convoy roadside bombs", "sim.model.threats.convoy"),
    ("Security-detail roadside bombs", "sim.model.threats.security_detail"),
    ("C-RAM batteries", "sim.model.cram"),
    ("Sites", "sim.model.sites"),
    ("Damage", "sim.model.damage"),
    ("Washington", "sim.policy.washington"),
    ("Baghdad", "sim.policy.baghdad"),
    ("The militias' reactions", "sim.policy.militia"),
    ("The militias' truce decisions", "sim.policy.decision"),
    ("Intelligence warnings", "sim.policy.intelligence"),
    ("Political actions", "sim.policy.politics"),
    ("Dated history", "sim.policy.history"),
)
Loaded = ExperimentFile | SweepFile | Scenario  # what a caller already loaded (see describe_folder)
NOT_SET = "not set in the files (optional: the schema's default)"


@dataclass(frozen=True)
class Parameter:
    """One leaf of a scenario: dotted key, value, and what the schema and the files say of it."""

    key: str
    value: Any
    unit: str
    rule: str
    doc: str
    source: str
    file: str


@dataclass
class Subject:
    """What a description is about, gathered from a file or a results folder."""

    kind: str  # scenario, experiment, sweep (of a file), or a manifest's kind
    name: str
    description: str
    path: Path | None
    scenarios: list[tuple[str, Scenario, dict[str, tuple[str, str, str]]]] = field(default_factory=list)
    reference: str | None = None
    outcomes: list[str] = field(default_factory=list)
    replications: int | None = None
    root_seed: int | None = None
    chunk_size: int | None = None
    draws: dict | None = None
    sweep: dict | None = None  # design, points, parameters (path, low, high)
    robustness: dict | None = None  # uncertain parameters, states
    inputs: list[str] = field(default_factory=list)
    manifest: dict | None = None
    notes: list[str] = field(default_factory=list)


# --- public functions ---------------------------------------------------------------------------


def describe_scenario(path: str | Path, overrides: Mapping[str, Any] | tuple[str, ...] = ()) -> str:
    """The description of a scenario file (with ``--set`` style overrides, if any)."""
    return render(_scenario_subject(Path(path), overrides))


def describe_experiment(experiment: str | Path | ExperimentFile) -> str:
    """The description of an experiment file (or of one already loaded)."""
    if isinstance(experiment, ExperimentFile):
        return render(_experiment_subject(experiment.path, experiment))
    return render(_experiment_subject(Path(experiment)))


def describe_sweep(sweep: str | Path | SweepFile) -> str:
    """The description of a sweep file (or of one already loaded)."""
    if isinstance(sweep, SweepFile):
        return render(_sweep_subject(sweep.path, sweep))
    return render(_sweep_subject(Path(sweep)))


def describe_folder(folder: str | Path, manifest: dict | None = None, loaded: Loaded | None = None) -> str:
    """The description of a results folder, from its manifest (read from ``folder`` unless given)
    and the input files it names, as they are now on disk; ``loaded`` is what the caller ran (the
    experiment, the sweep, or the scenario of a run or a validation), which spares reading the
    files again (an experiment over a posterior takes seconds to load)."""
    return render(_folder_subject(Path(folder), manifest, loaded))


def describe(path: str | Path) -> str:
    """The description of whatever ``path`` is: a results folder (with a manifest.json), or a
    scenario, experiment or sweep file; anything else is a one-line :class:`UsageError`."""
    path = Path(path)
    if path.is_dir():
        return describe_folder(path)
    kind = file_kind(path)
    return {"scenario": describe_scenario, "experiment": describe_experiment, "sweep": describe_sweep}[kind](path)


def write_description(folder: str | Path, manifest: dict | None = None, loaded: Loaded | None = None) -> Path:
    """Write ``describe.md`` into a results folder, atomically; return its path. Called before
    the folder is marked complete, with the manifest about to be written and what ran (see
    :func:`describe_folder`)."""
    folder = Path(folder)
    text = describe_folder(folder, manifest, loaded)
    target = folder / FILE_NAME
    write_atomic(target, lambda p: p.write_text(text, encoding="utf-8"))
    return target


def file_kind(path: Path) -> str:
    """``scenario``, ``experiment`` or ``sweep``, from a TOML file's top tables."""
    document = read_toml(path, "file to describe")
    if "experiment" in document:
        return "experiment"
    if "sweep" in document:
        return "sweep"
    if "scenario" in document or "extends" in document:
        return "scenario"
    tables = ", ".join(sorted(document)) or "none"
    raise UsageError(
        f"{path} is not a scenario, experiment or sweep file (its top tables: {tables}); "
        "describe takes one of those, or a results folder"
    )


# --- gathering ----------------------------------------------------------------------------------


def _scenario_subject(path: Path, overrides: Any = (), scenario: Scenario | None = None) -> Subject:
    scenario = load_scenario(path, overrides) if scenario is None else scenario
    found = sources(path)
    for key in overrides if isinstance(overrides, Mapping) else [o.partition("=")[0].strip() for o in overrides]:
        found[key] = ("", "--set on the command line", "--set")
    meta = scenario.scenario
    return Subject(
        "scenario",
        meta.name,
        meta.description,
        path,
        [(meta.name, scenario, found)],
        inputs=[shown_path(p) for p in input_files(path)],
    )


def _experiment_subject(path: Path, experiment: ExperimentFile | None = None) -> Subject:
    experiment = load_experiment(path) if experiment is None else experiment
    header, batch = experiment.header, experiment.batch
    document = read_toml(path, "experiment file")
    own = sources(path)  # the experiment file's documented lines (end_date, set ...)
    scenarios = []
    names = experiment.robustness.options if experiment.robustness is not None else [n for n, _ in batch.scenarios]
    by_name = dict(batch.scenarios) if experiment.robustness is None else {}
    for name in names:
        entry = document["scenarios"][name]
        file = path.parent / entry.get("file", header.base)
        found = sources(file)
        for key in _flat_keys(entry.get("set", {})):
            found[key] = ("", f"the experiment file's [scenarios.{name}] set", str(path))
        if header.end_date is not None:
            unit, source, _ = own.get("experiment.end_date", ("", "the experiment file's end_date", str(path)))
            found["scenario.end_date"] = (unit, source, str(path))
        scenario = by_name.get(name)
        if scenario is None:  # a robustness experiment runs its options in states: the option as its file sets it
            overrides = {**({"scenario.end_date": header.end_date} if header.end_date else {}), **entry.get("set", {})}
            scenario = load_scenario(file, overrides, override_origin=f"{path} [scenarios.{name}]")
        scenarios.append((name, scenario, found))
    robustness = experiment.robustness.describe() if experiment.robustness is not None else None
    return Subject(
        "experiment",
        header.name,
        header.description,
        path,
        scenarios,
        header.reference,
        list(header.outcomes),
        batch.replications,
        batch.root_seed,
        batch.chunk_size,
        batch.draws.describe() if batch.draws else None,
        robustness=robustness,
        inputs=[shown_path(p) for p in batch.inputs],
    )


def _sweep_subject(path: Path, sweep: SweepFile | None = None) -> Subject:
    sweep = load_sweep(path) if sweep is None else sweep
    header, batch = sweep.header, sweep.batch
    base = path.parent / header.base
    extra = {"scenario.end_date": header.end_date} if header.end_date else {}
    scenario = load_scenario(base, extra)
    found = sources(base)
    if header.end_date:
        found["scenario.end_date"] = ("date", "the sweep file's end_date", str(path))
    design = {
        "design": header.design,
        "points": len(sweep.design),
        "parameters": [(p.path, p.low, p.high, p.values) for p in sweep.parameters],
    }
    return Subject(
        "sweep",
        header.name,
        header.description,
        path,
        [(scenario.scenario.name, scenario, found)],
        None,
        list(header.outcomes),
        batch.replications,
        batch.root_seed,
        batch.chunk_size,
        batch.draws.describe() if batch.draws else None,
        design,
        inputs=[shown_path(p) for p in batch.inputs],
    )


def _folder_subject(folder: Path, manifest: dict | None, loaded: Loaded | None = None) -> Subject:
    notes: list[str] = []
    if manifest is None:
        path = folder / "manifest.json"
        if not path.is_file():
            raise UsageError(
                f"{folder} is not a results folder (no manifest.json): describe takes a results folder, "
                "or a scenario, experiment or sweep file"
            )
        manifest = read_manifest(path)
        if manifest.get("status") != "complete":
            status = markdown_text(str(manifest.get("status", "not recorded")))
            notes = [
                f"The folder is not complete (status {status}): its runs or files may be missing; the command in 6 finishes it."
            ]
    manifest = _well_typed(manifest)
    kind = str(manifest.get("kind", "unknown"))
    source = manifest.get("source_file") or manifest.get("calibration_file")
    subject = Subject(kind, str(manifest.get("name", folder.name)), "", None)
    if isinstance(source, str) and kind in ("run", "validate", "experiment", "sweep") and _on_disk(source).is_file():
        try:
            path, overrides = _on_disk(source), tuple(manifest.get("overrides") or ())
            if isinstance(loaded, ExperimentFile):
                subject = _experiment_subject(loaded.path, loaded)
            elif isinstance(loaded, SweepFile):
                subject = _sweep_subject(loaded.path, loaded)
            elif kind == "experiment":
                subject = _experiment_subject(path)
            elif kind == "sweep":
                subject = _sweep_subject(path)
            else:
                subject = _scenario_subject(path, overrides, loaded if isinstance(loaded, Scenario) else None)
        except (ConfigError, UsageError) as exc:
            notes.append(
                f"Its source file {markdown_code(source)} cannot be read now ({markdown_text(str(exc))}): the "
                "parameters are not listed; the manifest's inputs hold the text that ran."
            )
        changed = [p for p, text in (manifest.get("inputs") or {}).items() if not _same_text(p, text)]
        if changed:
            notes.append(
                "These input files differ now from the text the folder's runs read (kept in its manifest's "
                f"inputs), so the values below may not be those that ran: {', '.join(markdown_code(p) for p in changed)}."
            )
    elif source is not None:
        notes.append(
            f"The parameters of its source {markdown_code(str(source))} are not listed: it is not a scenario, "
            "experiment or sweep file on disk; the manifest's inputs hold the text that ran."
        )
    else:
        notes.append(
            "Its manifest names no scenario, experiment or sweep file, so the parameters are not listed"
            + ("; each scenario's folder describes its own." if manifest.get("folders") else ".")
        )
    subject.kind, subject.name, subject.manifest = kind, str(manifest.get("name", subject.name)), manifest
    subject.notes = notes + subject.notes
    for key, attribute in (
        ("replications", "replications"),
        ("root_seed", "root_seed"),
        ("chunk_size", "chunk_size"),
        ("parameters_from", "draws"),
    ):
        if manifest.get(key) is not None:
            setattr(subject, attribute, manifest[key])
    if manifest.get("outcomes"):
        subject.outcomes = list(manifest["outcomes"])
    if manifest.get("reference"):
        subject.reference = manifest["reference"]
    if manifest.get("inputs"):
        subject.inputs = list(manifest["inputs"])
    return subject


_TYPES: dict[str, Any] = {
    "kind": str,
    "name": str,
    "source_file": str,
    "calibration_file": str,
    "reference": str,
    "replications": int,
    "root_seed": int,
    "chunk_size": int,
    "parameters_from": dict,
    "environment": dict,
    "code_version": dict,
    "command": (list, str),
    "overrides": list,
    "outcomes": list,
    "inputs": dict,
}


def _well_typed(manifest: dict) -> dict:
    """The manifest less the fields whose type is not the one the runner writes (a manifest
    edited by hand must not break the description: what it cannot read, it leaves out)."""
    kept = {}
    for key, value in manifest.items():
        kind = _TYPES.get(key)
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            continue
        if kind is not None and kind is not int and not isinstance(value, kind):
            continue
        if key in ("overrides", "outcomes") and not all(isinstance(v, str) for v in value):
            continue
        if key == "inputs" and not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            continue
        kept[key] = value
    for key in ("environment", "code_version", "parameters_from"):
        if key in kept:
            kept[key] = {
                k: v
                for k, v in kept[key].items()
                if isinstance(v, (str, int, float, bool, list))
                or v is None
                or (k == "packages" and isinstance(v, dict))
            }
    if "parameters_from" in kept:
        names = kept["parameters_from"].get("parameters")
        kept["parameters_from"]["parameters"] = (
            [n for n in names if isinstance(n, str)] if isinstance(names, list) else []
        )
    return kept


def _on_disk(shown: str) -> Path:
    """A path as a manifest shows it (relative to the project if inside it) on disk."""
    return PROJECT_ROOT / shown if not Path(shown).is_absolute() else Path(shown)


def _same_text(shown: str, text: str) -> bool:
    try:
        return _on_disk(shown).read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False


def _flat_keys(table: Any, prefix: str = "") -> Iterator[str]:
    if not isinstance(table, Mapping):
        return
    for key, value in table.items():
        if isinstance(value, Mapping) and value:
            yield from _flat_keys(value, f"{prefix}{key}.")
        else:
            yield prefix + key


def parameters(scenario: Scenario, found: Mapping[str, tuple[str, str, str]]) -> list[Parameter]:
    """Every parameter of ``scenario``, in the schema's order: its value, the unit and rule its
    ``param`` declares, and the source its file's comment gives (``found``, dotted key ->
    (unit, source, file), as :func:`sim.config.provenance.sources` returns)."""
    return list(_walk(scenario, "", found))


def _walk(obj: Any, prefix: str, found: Mapping[str, tuple[str, str, str]]) -> Iterator[Parameter]:
    for declared in dataclasses.fields(obj):
        value, key = getattr(obj, declared.name), prefix + declared.name
        if dataclasses.is_dataclass(value):
            yield from _walk(value, key + ".", found)
        elif isinstance(value, Mapping) and all(dataclasses.is_dataclass(v) for v in value.values()):
            for name, entry in value.items():
                yield from _walk(entry, f"{key}.{name}.", found)
        else:
            rule = declared.metadata.get("rule")
            _, source, file = found.get(key, ("", NOT_SET, ""))
            yield Parameter(
                key,
                value,
                declared.metadata.get("unit", ""),
                rule.text if rule is not None else "",
                declared.metadata.get("doc", ""),
                source,
                file,
            )


def is_assumption(source: str) -> bool:
    """True when a source is (or includes) an assumption rather than a public figure."""
    return "assumption" in source.lower()


# --- rendering ----------------------------------------------------------------------------------


def render(subject: Subject) -> str:
    """The Markdown description of ``subject``."""
    title = f"Model description: {markdown_text(subject.name)} ({markdown_text(subject.kind)})"
    lines = [
        f"# {title}",
        "",
        f"In the layout of the STRESS-DES guidelines ({markdown_text(GUIDELINES)}). Generated by `run.py describe` from "
        "the parameter schema, the input files and their source comments"
        + (", and the results folder's manifest." if subject.manifest else "."),
        "",
    ]
    if subject.notes:
        lines += [*(f"Note: {n}" for n in subject.notes), ""]
    for heading, section in zip(
        SECTIONS, (_objectives, _logic, _data, _experimentation, _implementation, _code_access)
    ):
        lines += [f"## {heading}", "", *section(subject), ""]
    return "\n".join(lines).rstrip() + "\n"


def _objectives(s: Subject) -> list[str]:
    purpose = {
        "scenario": "Estimate what one world (one scenario) produces",
        "run": "Estimate what one world (one scenario) produces",
        "experiment": "Compare policy options, each a scenario, paired under common random numbers",
        "sweep": "Measure how outcomes respond to the parameters the sweep varies over its design",
        "validate": "Check the scenario against the public record",
        "calibration": "Calibrate uncertain parameters on the public record "
        f"({'neural posterior estimation' if (s.manifest or {}).get('method') == 'npe' else 'ABC-SMC'}) "
        "and check the posterior's predictions",
        "side_by_side": "Validate several scenarios against one public record and set them side by side",
    }.get(s.kind, "Simulate")
    lines = [
        "### 1.1 Purpose of the model",
        "",
        f"{purpose}: militia harassment of the U.S. presence in Iraq (rockets, drones, roadside bombs), C-RAM "
        "interception, the policy responses of Washington and Baghdad, and the militias' truces and escalation.",
        "",
    ]
    if s.description:
        lines += [f"This {markdown_text(s.kind)}: {markdown_text(s.description)}", ""]
    lines += ["### 1.2 Model outputs", ""]
    docs = {o.column: o.doc for o in outcome_list()}
    wanted = s.outcomes or list(docs)
    lines += [
        (
            "Every replication writes one row of these outcomes (and per-quarter counts); the study reports: "
            if s.outcomes
            else "Every replication writes one row of these outcomes (and per-quarter counts):"
        ),
        "",
    ]
    lines.append(
        markdown_table(
            ["outcome", "what it measures"], [[markdown_code(o), markdown_text(docs.get(o, ""))] for o in wanted]
        )
    )
    lines += ["", "### 1.3 Experimentation aims", ""]
    if s.reference:
        lines.append(
            f"Each option is compared with the reference {markdown_code(s.reference)}: paired differences of the "
            "outcomes' means with 95% intervals, replication by replication."
        )
    elif s.sweep:
        lines.append(
            f"A {markdown_text(s.sweep['design'])} design of {s.sweep['points']} points over "
            f"{len(s.sweep['parameters'])} parameters (see 2.3)."
        )
    else:
        lines.append("The distribution of each outcome over replications (means with 95% intervals).")
    if s.robustness:
        lines.append(
            f"Every option runs in {len(s.robustness['states'])} states of the world of the uncertain parameters "
            "(see 2.3); options are judged by regret and satisficing."
        )
    return lines


def _logic(s: Subject) -> list[str]:
    rows = []
    for actor, module in ACTORS:
        doc = (importlib.import_module(module).__doc__ or "").strip().split("\n\n")[0]
        rows.append([markdown_text(actor), markdown_code(module), markdown_text(doc)])
    lines = [
        "### 2.1 Base model overview",
        "",
        "A replication is one SimPy environment: each actor below runs as its own process (or processes) over a "
        "shared world (sites, their C-RAM batteries, the event log), and the actors are wired to each other by the "
        "narrow interfaces of `sim.policy`.",
        "",
        markdown_table(["actor", "module", "what it does"], rows),
        "",
        "### 2.2 Base model logic",
        "",
        "Attacks of each kind arrive at an intensity = base rate x regime multiplier (a chain of campaign regimes per "
        "kind: calm, active, surge, pause ...) x relapse factor after a pause x policy factor, plus self-excitation: "
        "every attack triggers follow-up attacks (a Hawkes process). A rocket salvo or drone flies at a site chosen by "
        "target weight; the site's C-RAM battery (fire units, magazine, reloads) may engage and destroy it; impacts "
        "inside a perimeter expose personnel (less hardening, warning and alert), misses may land among civilians. "
        "Convoys and security details meet roadside bombs outside any C-RAM umbrella. Washington (strikes, sanctions, "
        "ultimatum, embassy closure) and Baghdad (operations, measures) respond as their doctrine directs; the militias "
        "lose and recover capacity, take revenge, shift tactics, escalate, and decide truces on what they hear; dated "
        "history happens on its dates.",
        "",
    ]
    lines += ["### 2.3 Scenario logic", "", *_scenario_logic(s)]
    return lines


def _scenario_logic(s: Subject) -> list[str]:
    if s.sweep:
        rows = [
            [
                markdown_code(p),
                _value(lo) if values is None else "",
                _value(hi) if values is None else "",
                "" if values is None else _value(values),
                markdown_text(_unit_of(s, p)),
            ]
            for p, lo, hi, values in s.sweep["parameters"]
        ]
        return [
            f"Each of the {s.sweep['points']} design points ({markdown_text(s.sweep['design'])} design) is the base "
            "scenario with these parameters set:",
            "",
            markdown_table(["parameter", "low", "high", "values", "unit"], rows),
        ]
    lines: list[str] = []
    if len(s.scenarios) > 1:
        reference = next((sc for n, sc, _ in s.scenarios if n == s.reference), s.scenarios[0][1])
        base = _plain_leaves(reference)
        lines.append(f"What each option changes from the reference {markdown_code(s.reference or s.scenarios[0][0])}:")
        lines.append("")
        rows = []
        for name, scenario, found in s.scenarios:
            if scenario is reference:
                continue
            leaves = _plain_leaves(scenario)
            for key in sorted(set(base) | set(leaves)):
                if base.get(key) != leaves.get(key) and key not in ("scenario.name", "scenario.description"):
                    rows.append(
                        [
                            markdown_code(name),
                            markdown_code(key),
                            _value(base.get(key)),
                            _value(leaves.get(key)),
                            markdown_text(found.get(key, ("", NOT_SET, ""))[1]),
                        ]
                    )
            if not any(r[0] == markdown_code(name) for r in rows):
                rows.append([markdown_code(name), "(nothing)", "", "", ""])
        lines.append(markdown_table(["option", "parameter", "reference", "option's value", "source"], rows))
        lines += ["", "The options as their files describe them:", ""]
        lines += [f"- {markdown_code(n)}: {markdown_text(sc.scenario.description)}" for n, sc, _ in s.scenarios]
    elif s.scenarios:
        lines.append(
            "One scenario: no options. Its policy levers (doctrines, strikes, ultimatum, closure, Baghdad's "
            "measures) are parameters under `policy` in 3.3."
        )
    else:
        lines.append("The scenarios are not listed (see the note at the top).")
    if s.robustness:
        rows = [[markdown_code(p), _value(lo), _value(hi)] for p, lo, hi in s.robustness["uncertain"]]
        lines += [
            "",
            f"States of the world ({len(s.robustness['states'])}) vary:",
            "",
            markdown_table(["parameter", "low", "high"], rows),
        ]
    return lines


def _data(s: Subject) -> list[str]:
    lines = [
        "### 3.1 Data sources",
        "",
        "Every value is written in a TOML file with its unit and its source in a comment (`key = value  # unit; "
        "source: ...`). Sources cite sections of `docs/sources.md` (public figures with their references), a source "
        "document, a calibration, or `assumption`.",
        "",
    ]
    if s.inputs:
        lines += ["Input files: " + ", ".join(markdown_code(p) for p in s.inputs) + ".", ""]
    lines += [
        "### 3.2 Pre-processing",
        "",
        "Files are read as written: a scenario may extend another (tables merge key by key, the file that sets a "
        "value last wins), overrides apply last, and every value is checked against its type and rule before "
        "anything runs. Values whose source names a calibration were written by `run.py calibrate` (posterior "
        "medians).",
    ]
    if s.draws:
        lines.append(
            f"Each replication draws the uncertain parameters from the posterior {markdown_code(str(s.draws.get('file')))} "
            f"({len(s.draws.get('parameters', []))} parameters, resampled in proportion to the weights)."
        )
    lines += ["", "### 3.3 Input parameters", ""]
    if not s.scenarios:
        return lines + ["Not listed (see the note at the top).", "", "### 3.4 Assumptions", "", "Not listed."]
    name, scenario, found = next(((n, sc, f) for n, sc, f in s.scenarios if n == s.reference), s.scenarios[0])
    table = parameters(scenario, found)
    if len(s.scenarios) > 1:
        lines += [f"The parameters of the reference {markdown_code(name)}; the other options differ as 2.3 shows.", ""]
    varied = {key: " (posterior draws)" for key in (s.draws.get("parameters", []) if s.draws else [])}
    varied.update({key: " (varies over the states)" for key, _, _ in (s.robustness or {}).get("uncertain", [])})
    varied.update({key[0]: " (varied by the design)" for key in (s.sweep or {}).get("parameters", [])})
    rows = [
        [
            markdown_code(p.key),
            _value(p.value) + varied.get(p.key, ""),
            markdown_text(p.unit),
            markdown_text(p.rule),
            markdown_text(p.source),
        ]
        for p in table
    ]
    header = ["parameter", "value", "unit", "rule", "source"]
    if len({p.file for p in table if p.file}) > 1:  # a chain of files: say which one set each value
        header.append("set in")
        for row, p in zip(rows, table):
            row.append(markdown_code(shown_path(p.file)) if p.file and p.file != "--set" else markdown_text(p.file))
    lines += [markdown_table(header, rows), "", "### 3.4 Assumptions", ""]
    assumed = [p for p in table if is_assumption(p.source)]
    pure = [p for p in assumed if p.source.lower().startswith("assumption")]
    lines.append(
        f"{len(assumed)} of {len(table)} parameters rest on an assumption ({len(pure)} wholly, the others in part); "
        "an analyst should vary them (sweeps, robustness experiments, calibration priors):"
    )
    lines += [
        "",
        markdown_table(
            ["parameter", "value", "unit", "source"],
            [[markdown_code(p.key), _value(p.value), markdown_text(p.unit), markdown_text(p.source)] for p in assumed],
        ),
    ]
    return lines


def _experimentation(s: Subject) -> list[str]:
    lines = ["### 4.1 Initialisation", ""]
    scenario = s.scenarios[0][1] if s.scenarios else None
    if scenario is not None:
        meta = scenario.scenario
        warm = (
            f"outcomes are counted from {meta.outcomes_from}: the days from {meta.start_date} are a warm-up"
            if meta.outcomes_from and meta.outcomes_from != meta.start_date
            else f"no warm-up: outcomes are counted from {meta.start_date}"
        )
        lines += [
            f"Each replication starts on {meta.start_date} in the state the parameters set (sites open on their dates, "
            f"the campaign regimes, the policies); {warm}.",
            "",
            "### 4.2 Run length",
            "",
            f"From {meta.start_date} to {meta.end_date}: {meta.horizon_days:g} days.",
        ]
    else:
        lines += ["See the manifest's inputs.", "", "### 4.2 Run length", "", "See the manifest's inputs."]
    lines += ["", "### 4.3 Estimation approach", ""]
    if s.replications is not None:
        per = {"experiment": " per option", "sweep": " per design point"}.get(s.kind, "")
        lines.append(
            f"{s.replications} independent replications{per}, root seed {markdown_text(str(s.root_seed))}, run in tasks "
            f"of {s.chunk_size or DEFAULT_CHUNK_SIZE} replications."
        )
    if s.reference or s.sweep or s.robustness or len(s.scenarios) > 1:
        lines.append(
            "Common random numbers: replication r of every scenario draws from the same random streams, so "
            "differences are measured on pairs."
        )
    if s.draws:
        lines.append(
            f"Parameter uncertainty: replications draw parameters from the posterior {markdown_code(str(s.draws.get('file')))}, "
            f"{markdown_text(str(s.draws.get('replications_per_draw', 1)))} replication(s) per draw, the same draw for replication r of every scenario."
        )
    precision = (s.manifest or {}).get("precision")
    if precision:
        lines.append(
            f"Precision rule: replications doubled until the 95% interval of every paired difference met its "
            f"half-width: {markdown_text(json.dumps(precision, sort_keys=True))}."
        )
    elif s.robustness and s.robustness.get("precision"):
        lines.append(f"Precision rule: {markdown_text(json.dumps(s.robustness['precision'], sort_keys=True))}.")
    else:
        lines.append(
            "Precision: a fixed number of replications; `run.py experiment --precision OUTCOME=HALF_WIDTH` "
            "adds replications until the intervals are narrow enough."
        )
    if s.kind == "calibration" and s.manifest:
        lines.append(f"Calibration budget: {markdown_text(json.dumps(s.manifest.get('budget', {}), sort_keys=True))}.")
    head = lines.index("### 4.3 Estimation approach") + 2
    return lines[:head] + [f"- {line}" for line in lines[head:]]


def _implementation(s: Subject) -> list[str]:
    env = (s.manifest or {}).get("environment") or environment()
    packages = env.get("packages") if isinstance(env.get("packages"), dict) else {}
    shown = ", ".join(f"{markdown_text(n)} {markdown_text(str(v))}" for n, v in packages.items() if v) or "not recorded"
    where = "the run's environment (manifest)" if s.manifest else "the environment that wrote this description"
    return [
        "### 5.1 Software",
        "",
        f"Python {markdown_text(str(env.get('python', '?')))} and SimPy; packages in {where}: {shown}.",
        "",
        "### 5.2 Random sampling",
        "",
        "Every draw of a replication comes from numpy's Philox4x64 counter-based generator keyed by "
        "`SeedSequence(root seed, spawn_key=(replication,))`. Each named stream (a regime chain, an attack, a strike) "
        "starts at its own counter position (a BLAKE2b digest of its name and a phase), so a stream depends on "
        "(root seed, replication, name, phase) only: the same attack has the same draws in every scenario that has it "
        "(`sim/model/streams.py`). Draws use inverse CDFs of uniforms.",
        "",
        "### 5.3 Model execution",
        "",
        "Discrete-event simulation with next-event time advance (SimPy's event queue); replications run in parallel "
        "worker processes, in tasks of replications, and a stopped batch resumes from its finished tasks.",
        "",
        "### 5.4 System specification",
        "",
        f"Platform {markdown_text(str(env.get('platform', '?')))}"
        + (
            f"; workers {markdown_text(str(s.manifest.get('workers')))}, scheduler "
            f"{markdown_text(str(s.manifest.get('scheduler') or 'local'))}"
            if s.manifest
            else ""
        )
        + ".",
    ]


def _code_access(s: Subject) -> list[str]:
    version = (s.manifest or {}).get("code_version") or code_version()
    commit = version.get("git_commit")
    commit = str(commit) if commit else None
    modified = " (with uncommitted changes to sim/ or configs/)" if version.get("git_modified") else ""
    lines = [
        f"Repository: this project's git repository. Package version {markdown_text(str(version.get('package', '?')))}; "
        f"commit {markdown_code(commit) if commit else 'not recorded (not a git checkout)'}{modified}."
    ]
    command = (s.manifest or {}).get("command")
    if command:
        words = [str(c) for c in command] if isinstance(command, list) else [str(command)]
        text = shlex.join(words) if len(words) > 1 else words[0]  # one word: a label such as "python API"
        if Path(words[0]).name in ("run.py", "python", "python3"):
            lines.append(
                f"Command that made it (run it from the project folder at that commit to reproduce it): {markdown_code(text)}."
            )
        else:
            lines.append(
                f"Made by: {markdown_code(text)} (not a command line: a call of the Python API, as its manifest records)."
            )
    elif s.path is not None:
        verb = {"scenario": "run", "experiment": "experiment", "sweep": "sweep"}[s.kind]
        lines.append(
            f"Command that runs it: {markdown_code(shlex.join(['python', 'run.py', verb, shown_path(s.path)]))}."
        )
    if s.manifest:
        lines.append(
            f"Results folder kind {markdown_text(s.kind)}; fingerprint "
            f"{markdown_code(str(s.manifest.get('fingerprint', 'not recorded')))}."
        )
    return lines


def _plain_leaves(scenario: Scenario) -> dict[str, Any]:
    leaves: dict[str, Any] = {}

    def visit(value: Any, prefix: str) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                visit(v, f"{prefix}{k}.")
        else:
            leaves[prefix.rstrip(".")] = value

    visit(to_plain(scenario), "")
    return leaves


def _unit_of(s: Subject, key: str) -> str:
    if not s.scenarios:
        return ""
    return next((p.unit for p in parameters(s.scenarios[0][1], {}) if p.key == key), "")


def _value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return markdown_text(", ".join(str(v) for v in value)) or "(empty)"
    if isinstance(value, float):
        return repr(value)  # as written: every digit the file gave
    return markdown_text(str(value)) if str(value) else "(empty)"
