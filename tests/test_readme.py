"""The README and the docs, followed literally.

The README's two set-up commands; the tutorial's `$ ` commands (docs/tutorial.md, run in page
order in a fresh copy of the project, with fewer replications), their output excerpts, the files
they promise (docs/commands.md, and the calibration's report in docs/calibration.md); and the
commands and options of docs/commands.md, with every option any page gives. The pages are parsed,
not copied: edit them and these tests follow.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from sim.replication.outcomes import binary_outcomes

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "docs"
TUTORIAL_PAGE = "tutorial.md"
COMMANDS_PAGE = "commands.md"
CALIBRATION_PAGE = "calibration.md"
# The pages that took the README's text: every `python run.py CMD --option` on them is checked.
# (docs/extending.md, sources.md and the record's pages were never part of the README.)
MOVED_PAGES = (
    "index.md",
    "tutorial.md",
    "commands.md",
    "model.md",
    "calibration.md",
    "validation.md",
    "experiments.md",
    "robustness.md",
    "files.md",
    "api.md",
    "outcomes.md",
    "reproducibility.md",
    "speed.md",
    "limits.md",
    "assumptions.md",
    "layout.md",
)


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


SETUP_PREFIX = "python3 -m venv .venv && .venv/bin/pip install -e "
MAIN_SUFFIX = ".venv/bin/python run.py"
TEST_SUFFIX = ".venv/bin/python -m pytest"
SUBCOMMANDS = ("run", "trace", "experiment", "compare", "sweep", "calibrate")

FEW = "3"  # replications per scenario or design point in place of the tutorial's
# The calibrate step's budget in place of the calibration file's [calibration.quick] (4,000
# simulations): enough for the step's outputs, its report and its excerpt, in a tenth of the time.
QUICK_BUDGET = {
    "particles": 40,
    "max_generations": 3,
    "max_simulations": 240,
    "pilot_replications": 100,
    "predictive_replications": 20,
}
MAX_WORKERS = 2
TIMEOUT_S = 600  # per command: a hang fails instead of blocking CI
# Not written by the commands themselves: Python's and hypothesis's caches.
CACHE_DIRS = {"__pycache__", ".hypothesis"}
# Files the Commands page names as written only in some cases, not by every command of their kind.
CONDITIONAL_FILES = {
    "failures.csv",  # "A replication that raises is recorded in DIR/failures.csv"
    "sensitivity.csv",  # "for saltelli DIR/sensitivity.csv"
}
OPTION = re.compile(r"(?<![\w-])--[a-z][\w-]*")


# ------------------------------------------------------------------------- README and docs parsing


def sections(text: str) -> dict[str, str]:
    """'## Title' -> the text up to the next '## ' heading outside a code block."""
    out: dict[str, list[str]] = {}
    title, in_code = None, False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and line.startswith("## "):
            title = line[3:].strip()
            out[title] = []
        elif title is not None:
            out[title].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def section(prefix: str) -> str:
    found = [text for title, text in sections(README).items() if title.startswith(prefix)]
    assert len(found) == 1, f"README: expected one '## {prefix}...' section, found {len(found)}"
    return found[0]


def before_sections(text: str) -> str:
    """A page's text before its first '## ' heading outside a code block."""
    keep, in_code = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and line.startswith("## "):
            break
        keep.append(line)
    return "\n".join(keep)


def fenced_blocks(text: str) -> list[tuple[str, list[str]]]:
    """(language, lines) of every ``` block, in order; language '' for a plain block."""
    blocks, lang, buf = [], "", None
    for line in text.splitlines():
        if buf is None:
            if line.startswith("```"):
                lang, buf = line[3:].strip(), []
        elif line.strip() == "```":
            blocks.append((lang, buf))
            buf = None
        else:
            buf.append(line)
    assert buf is None, "a ``` block is not closed"
    return blocks


def outside_code(text: str) -> str:
    keep, in_code = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code:
            keep.append(line)
    return "\n".join(keep)


def subcommand(argv: list[str]) -> str | None:
    """The run.py subcommand of `python run.py ...`, None for the default job."""
    assert argv[:2] == ["python", "run.py"], f"not a `python run.py` command: {shlex.join(argv)}"
    return argv[2] if len(argv) > 2 and not argv[2].startswith("-") else None


def option_value(argv: list[str], name: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


@dataclass
class Step:
    """A ```console block of the tutorial, the plain block after it, and its step's prose."""

    number: int
    commands: list[str]  # the text after "$ "
    excerpt: list[str]
    prose: str

    @property
    def id(self) -> str:
        return f"step{self.number}"


def tutorial_steps() -> list[Step]:
    text = before_sections(page(TUTORIAL_PAGE))
    steps = []
    chunks = re.split(r"^(?=\*\*\d+\.)", text, flags=re.MULTILINE)
    for chunk in chunks:
        m = re.match(r"\*\*(\d+)\.", chunk)
        if not m:
            continue
        blocks = fenced_blocks(chunk)
        for i, (lang, lines) in enumerate(blocks):
            if lang != "console":
                continue
            commands = [line[2:].strip() for line in lines if line.startswith("$ ")]
            excerpt = blocks[i + 1][1] if i + 1 < len(blocks) and blocks[i + 1][0] == "" else []
            steps.append(Step(int(m.group(1)), commands, excerpt, outside_code(chunk)))
    return steps


STEPS = tutorial_steps()
TUTORIAL_COMMANDS = [(step, command) for step in STEPS for command in step.commands]


def setup_commands() -> list[str]:
    blocks = [lines for lang, lines in fenced_blocks(section("Set-up")) if lang == ""]
    commands = []
    for lines in blocks:
        text = [line.strip() for line in lines if line.strip()]
        assert len(text) == 1, f"README Set-up: a block holds {len(text)} lines, not one command: {text}"
        commands.append(text[0])
    return commands


def command_bullets() -> dict[str, str]:
    """Commands section: '- `cmd` ...' bullet (with its continuation lines) per command."""
    bullets: dict[str, str] = {}
    current: list[str] | None = None
    for line in outside_code(page(COMMANDS_PAGE)).splitlines() + [""]:
        if line.startswith("- "):
            current = [line]
            m = re.match(r"- `(\w+)`", line)
            if m:
                bullets[m.group(1)] = current  # type: ignore[assignment]
        elif line.startswith("  ") and current is not None:
            current.append(line)
        else:
            current = None
    return {k: "\n".join(v) for k, v in bullets.items()}  # type: ignore[arg-type]


def readme_options() -> dict[str, set[str]]:
    """Options the README and the docs give for each subcommand: in every `python run.py CMD ...`
    line (code blocks, tutorial, inline code) of the README and of every page moved out of it, in
    the tutorial prose of a step about CMD, and in the Commands page's bullet about CMD."""
    options: dict[str, set[str]] = defaultdict(set)
    for m in re.finditer(r"python run\.py ([a-z]+)\b([^\n`#]*)", "\n".join([README, *map(page, MOVED_PAGES)])):
        options[m.group(1)] |= set(OPTION.findall(m.group(2)))
    for step in STEPS:
        for command in step.commands:
            sub = subcommand(shlex.split(command))
            options[sub or "experiment"] |= set(re.findall(r"`(--[a-z][\w-]*)", step.prose))
    for sub, bullet in command_bullets().items():
        if sub in SUBCOMMANDS:
            options[sub] |= set(re.findall(r"`(--[a-z][\w-]*)", bullet))
    options.pop("help", None)
    for opts in options.values():
        opts.discard("--help")
    return dict(options)


def promised_files() -> dict[str, set[str]]:
    """Files (names relative to DIR; a trailing '/' for a folder) the docs say each
    subcommand writes to its --out folder: `DIR/...` in its bullet of the Commands page, and for
    calibrate the Calibration page's **Report** paragraph."""
    promised: dict[str, set[str]] = defaultdict(set)
    for sub, bullet in command_bullets().items():
        promised[sub] |= set(re.findall(r"`DIR/([^`\s]+)`", bullet))
    report = re.search(r"\*\*Report\*\*.*?(?:\n\n|\Z)", page(CALIBRATION_PAGE), re.DOTALL)
    assert report, f"docs/{CALIBRATION_PAGE}: no **Report** paragraph"
    for m in re.finditer(r"`DIR/([^`\s]+)`((?:,\s*`\.\w+`)*)", report.group(0)):
        promised["calibrate"].add(m.group(1))
        stem = m.group(1).rsplit(".", 1)[0]
        promised["calibrate"] |= {stem + ext for ext in re.findall(r"`(\.\w+)`", m.group(2))}
    return {k: v - CONDITIONAL_FILES for k, v in promised.items()}


def wrote_line(line: str) -> tuple[str, list[str], int | None]:
    """'wrote DIR/ (a, b)', 'wrote DIR/a, b, c' or 'wrote DIR/a and N plots' -> (DIR, names, N)."""
    text = line.strip()[len("wrote ") :]
    plots = None
    m = re.search(r" and (\d+) plots$", text)
    if m:
        plots, text = int(m.group(1)), text[: m.start()]
    m = re.fullmatch(r"(\S+)/ \((.+)\)", text)
    if m:
        return m.group(1), [n.strip() for n in m.group(2).split(",")], plots
    first, *rest = [n.strip() for n in text.split(",")]
    folder, name = first.rsplit("/", 1)
    return folder, [name, *rest], plots


# ----------------------------------------------------------------------------- excerpt matching

# A number, perhaps a percentage, perhaps in brackets or followed by a comma.
NUMBER = re.compile(r"[\[(]?[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?%?[\]),;.]*|NaN|nan")


def line_pattern(line: str, *, first: bool, literal: bool, header: list[str] | None) -> re.Pattern:
    """A regex for one excerpt line, whitespace-insensitive, '...' at its end = more follows.

    The first line's replication count and run time are wildcards (they depend on the
    replication count and the machine). If the command ran with other arguments than the
    tutorial's (fewer replications, --quick), every other number is a wildcard too, except a
    row's label (its first token), "wrote" lines, and values in a column headed by a dotted
    parameter path (a design's inputs, which do not depend on the replications)."""
    text = line.strip()
    open_end = text.endswith("...")
    if open_end:
        text = text[:-3].rstrip()
    tokens = text.split()
    aligned = header is not None and len(header) == len(tokens)
    parts = []
    for i, tok in enumerate(tokens):
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        number = NUMBER.fullmatch(tok) is not None
        # the first line's replication count and run time
        count_or_time = first and (after.startswith("replications") or (after == "s" and i + 2 == len(tokens)))
        # a result of a run with other arguments than the tutorial's
        result = not first and not literal and i > 0 and not text.startswith("wrote ")
        design_input = aligned and "." in header[i]  # type: ignore[index]
        if number and (count_or_time or (result and not design_input)):
            parts.append(r"\S+")
        else:
            parts.append(re.escape(tok))
    return re.compile(r"\s*" + r"\s+".join(parts) + (r"(\s.*)?" if open_end else r"\s*"))


def excerpt_mismatches(excerpt: list[str], output: str, *, literal: bool) -> list[str]:
    """Excerpt lines (other than '...' and blank ones) that do not appear, in order, in output."""
    lines = output.splitlines()
    problems, pos, header, first = [], 0, None, True
    for raw in excerpt:
        text = raw.strip()
        if not text or text == "...":
            continue
        tokens = text.removesuffix("...").split()
        if not first and len(tokens) >= 3 and not any(NUMBER.fullmatch(t) for t in tokens):
            header = tokens
        pattern = line_pattern(raw, first=first, literal=literal, header=header)
        first = False
        hit = next((i for i in range(pos, len(lines)) if pattern.fullmatch(lines[i])), None)
        if hit is None:
            anywhere = any(pattern.fullmatch(x) for x in lines)
            problems.append(f"{'out of order' if anywhere else 'not in the output'}: {raw!r}")
        else:
            pos = hit + 1
    return problems


# --------------------------------------------------------------------------------- processes


def clean_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the copy's own sim/ must be the one imported
    return env


@functools.cache
def help_text(cwd: str, sub: str | None) -> tuple[int, str]:
    argv = [sys.executable, "run.py", *([sub] if sub else []), "--help"]
    proc = subprocess.run(
        argv, check=False, cwd=cwd, capture_output=True, text=True, env=clean_env(), timeout=TIMEOUT_S
    )
    return proc.returncode, proc.stdout + proc.stderr


def accepts(cwd: Path, sub: str | None, option: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", help_text(str(cwd), sub)[1]) is not None


def shrink(argv: list[str], cwd: Path) -> list[str]:
    """The tutorial's command as this test runs it: python -> sys.executable, fewer replications,
    calibrate --quick, --quiet where accepted, at most 2 workers."""
    sub = subcommand(argv)
    args = list(argv[2:])

    def put(name: str, value: str) -> None:
        if name in args:
            args[args.index(name) + 1] = value
        else:
            args.extend([name, value])

    if "--replications" in args or sub in ("run", "experiment", "sweep"):
        put("--replications", FEW)
    if sub == "calibrate" and "--quick" not in args:
        args.append("--quick")
    if accepts(cwd, sub, "--quiet") and "--quiet" not in args:
        args.append("--quiet")
    if accepts(cwd, sub, "--workers"):
        given = option_value(args, "--workers")
        put("--workers", str(min(int(given), MAX_WORKERS)) if given else str(MAX_WORKERS))
    return [sys.executable, "run.py", *args]


def shrink_quick_budget(calibration: Path) -> None:
    """Put QUICK_BUDGET in the ``[calibration.quick]`` table of the copy's calibration file (the
    tutorial's calibrate step runs with ``--quick``, as :func:`shrink` runs it)."""
    text = calibration.read_text(encoding="utf-8")
    head, table, rest = re.split(r"^(\[calibration\.quick\]\n)", text, maxsplit=1, flags=re.M)
    body, tail = re.split(r"^(?=\[)", rest, maxsplit=1, flags=re.M)
    for key, value in QUICK_BUDGET.items():
        body, found = re.subn(rf"^{key} = \d+", f"{key} = {value}", body, flags=re.M)
        assert found == 1, f"{calibration}: [calibration.quick] has no {key}"
    calibration.write_text(head + table + body + tail, encoding="utf-8")


@dataclass
class Ran:
    readme: str  # the command as the tutorial (or the README) gives it ('python run.py ...' for the main job)
    argv: list[str]  # as run
    returncode: int | None
    stdout: str
    stderr: str

    @property
    def literal(self) -> bool:
        return self.argv[1:] == shlex.split(self.readme)[1:]

    def describe(self) -> str:
        return f"$ {shlex.join(self.argv)}\nexit {self.returncode}\n{self.stdout[-3000:]}\n{self.stderr[-3000:]}"


def execute(argv: list[str], readme: str, cwd: Path) -> Ran:
    try:
        proc = subprocess.run(
            argv, check=False, cwd=cwd, capture_output=True, text=True, env=clean_env(), timeout=TIMEOUT_S
        )
        return Ran(readme, argv, proc.returncode, proc.stdout, proc.stderr)
    except subprocess.TimeoutExpired as exc:
        return Ran(readme, argv, None, str(exc.stdout or ""), f"timed out after {TIMEOUT_S} s")


def project_files() -> list[str]:
    def ls(*extra: str) -> set[str]:
        out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", *extra], capture_output=True, check=True)
        return set(out.stdout.decode().split("\0"))

    names = ls() | ls("--others", "--exclude-standard")
    return sorted(n for n in names if n and (ROOT / n).is_file())


def snapshot(root: Path) -> dict[str, str]:
    """Relative path -> sha256 (or 'dir') of every file and folder, caches left out."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if CACHE_DIRS & set(rel.parts):
            continue
        if path.is_dir():
            out[rel.as_posix() + "/"] = "dir"
        else:
            out[rel.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def under(rel: str, folder: str) -> bool:
    folder = folder.strip("/")
    return rel == folder or rel == folder + "/" or rel.startswith(folder + "/")


@dataclass
class Tutorial:
    root: Path
    main: Ran
    ran: list[tuple[Step, Ran]]
    before: dict[str, str]
    after: dict[str, str]
    named: set[str] = field(default_factory=set)  # folders and files named by the commands


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory) -> Tutorial:
    root = tmp_path_factory.mktemp("readme") / "project"
    for name in project_files():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, root / name)
    shrink_quick_budget(root / "configs" / "calibration.toml")
    before = snapshot(root)
    ran, named = [], set()
    # Set-up: `.venv/bin/python run.py`, the main job. It reads nothing the tutorial writes and
    # writes a folder of its own, so it runs beside the tutorial's commands (which run in order).
    with ThreadPoolExecutor(1) as pool:
        main = pool.submit(
            execute,
            [sys.executable, "run.py", "--replications", FEW, "--quiet", "--workers", str(MAX_WORKERS)],
            "python run.py",
            root,
        )
        for step, command in TUTORIAL_COMMANDS:
            argv = shlex.split(command)
            for option in ("--out", "--calibrated", "--save"):
                if option_value(argv, option):
                    named.add(os.path.normpath(option_value(argv, option)))
            ran.append((step, execute(shrink(argv, root), command, root)))
    return Tutorial(root, main.result(), ran, before, snapshot(root), named)


# -------------------------------------------------------------------------------------- tests


def test_setup_has_the_two_commands_and_ci_runs_the_test_one():
    commands = setup_commands()
    assert len(commands) == 2, f"README Set-up: {len(commands)} commands: {commands}"
    for command in commands:
        assert command.startswith(SETUP_PREFIX), command
    mains = [c for c in commands if c.endswith(MAIN_SUFFIX)]
    tests = [c for c in commands if c.endswith(TEST_SUFFIX)]
    assert len(mains) == 1 and len(tests) == 1, commands

    # What they install exists: the project and its extras.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = project["project"].get("optional-dependencies", {})
    for command in commands:
        target = shlex.split(command.split("&&")[1])[-1]
        m = re.fullmatch(r"\.(?:\[([\w,-]+)\])?", target)
        assert m, f"pip install -e {target}: not the project folder"
        for extra in (m.group(1) or "").split(","):
            assert not extra or extra in extras, f"extra [{extra}] not in pyproject.toml"

    # .ci/run runs the README's test command (flags such as -q aside), from the project folder.
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r'^cd "\$\(dirname "\$0"\)/\.\."', ci, re.MULTILINE), ".ci/run does not cd to the project"
    ci_lines = [line for line in ci.splitlines() if "pip install" in line and not line.lstrip().startswith("#")]
    assert len(ci_lines) == 1, ci_lines

    def steps(command: str) -> list[list[str]]:
        return [[t for t in shlex.split(part) if t != "-q"] for part in command.split("&&")]

    assert steps(ci_lines[0]) == steps(tests[0]), f"\n.ci/run: {ci_lines[0]}\nREADME:  {tests[0]}"


def test_the_tutorial_page_has_its_steps_in_order_each_with_a_command():
    """The parametrized tests below run one case per step: a page the parser reads nothing
    from would make them pass by running nothing."""
    numbers = [s.number for s in STEPS]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 7, numbers
    assert all(s.commands and s.excerpt for s in STEPS), [s.id for s in STEPS if not (s.commands and s.excerpt)]
    assert command_bullets().keys() >= set(SUBCOMMANDS) - {"calibrate", "compare"}, sorted(command_bullets())
    assert promised_files()["experiment"] and promised_files()["calibrate"], promised_files()


@pytest.mark.slow
def test_commands_section_names_real_subcommands_with_the_options_it_gives():
    code = [line for lang, lines in fenced_blocks(page(COMMANDS_PAGE)) if lang == "" for line in lines]
    named = set()
    for line in code:
        m = re.match(r"\s*python run\.py (\S+)", line.split("#")[0])
        if m:
            named.add(m.group(1))
    named |= set(command_bullets())  # "- `experiment` runs ...", "- `sweep` ..."
    assert named, f"docs/{COMMANDS_PAGE}: no `python run.py COMMAND` line"

    with ThreadPoolExecutor(4) as pool:  # the seven --help runs at once: mostly import time
        list(pool.map(lambda sub: help_text(str(ROOT), sub), [None, *SUBCOMMANDS]))
    code_top, top = help_text(str(ROOT), None)
    assert code_top == 0, top
    listed = re.search(r"positional arguments:\n(.*?)\n\S", top, re.DOTALL)
    real = set(re.findall(r"^ {4}(\w+)", listed.group(1), re.MULTILINE)) if listed else set()
    assert set(SUBCOMMANDS) <= real, f"run.py --help lists {sorted(real)}"
    flags = {n for n in named if n.startswith("-")}
    assert flags <= {"--help"}, flags
    assert named - flags <= real, f"not subcommands of run.py: {sorted(named - flags - real)}"

    # Every subcommand's --help works and lists every option the README and the docs give for it.
    with_help = {sub: help_text(str(ROOT), sub) for sub in SUBCOMMANDS}
    options = readme_options()
    assert set(options) <= real, f"options in the docs for unknown commands: {sorted(set(options) - real)}"
    missing = {}
    for sub in SUBCOMMANDS:
        code, text = with_help[sub]
        assert code == 0, f"run.py {sub} --help exited {code}:\n{text}"
        gone = sorted(o for o in options.get(sub, ()) if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", text))
        if gone:
            missing[sub] = gone
    assert not missing, f"options in the README or the docs but not in `run.py COMMAND --help`: {missing}"


@pytest.mark.slow
def test_main_job_runs_the_policy_comparison_into_a_new_results_folder(tutorial):
    main = tutorial.main
    assert main.returncode == 0, main.describe()
    assert "Traceback" not in main.stdout + main.stderr, main.describe()
    # Tutorial step 3 is "the default job": same first line, but the replication count.
    step3 = next(s for s in STEPS if any(subcommand(shlex.split(c)) == "experiment" for c in s.commands))
    first = line_pattern(step3.excerpt[0], first=True, literal=False, header=None)
    assert first.fullmatch((main.stdout.splitlines() or [""])[0]), (step3.excerpt[0], main.describe())
    new = {k.split("/")[1] for k in tutorial.after if k.startswith("results/") and k.count("/") >= 2}
    new -= {Path(n).parts[1] for n in tutorial.named if Path(n).parts[0] == "results"}
    assert len(new) == 1, f"main job: expected one new folder under results/, found {sorted(new)}"
    folder = tutorial.root / "results" / new.pop()
    assert f"wrote results/{folder.name}/" in main.stdout, main.describe()
    missing = [n for n in promised_files()["experiment"] if not (folder / n).exists()]
    assert not missing, f"main job did not write {missing} in {folder}"


@pytest.mark.slow
@pytest.mark.parametrize(
    "index", range(len(TUTORIAL_COMMANDS)), ids=[f"{s.id}-{c.split()[2]}" for s, c in TUTORIAL_COMMANDS]
)
def test_tutorial_command_exits_0(tutorial, index):
    _, ran = tutorial.ran[index]
    assert ran.returncode == 0, ran.describe()
    assert "Traceback" not in ran.stdout + ran.stderr, ran.describe()


@pytest.mark.slow
@pytest.mark.parametrize("step", [s for s in STEPS if s.excerpt], ids=lambda s: s.id)
def test_tutorial_output_matches_the_readme_excerpt(tutorial, step):
    runs = [ran for s, ran in tutorial.ran if s is step]
    output = "\n".join(ran.stdout for ran in runs)
    problems = excerpt_mismatches(step.excerpt, output, literal=all(ran.literal for ran in runs))
    commands = "\n".join(f"$ {shlex.join(ran.argv[1:])}" for ran in runs)
    assert not problems, "\n".join(problems) + f"\n--- commands\n{commands}\n--- output\n{output}"


@pytest.mark.slow
@pytest.mark.parametrize(
    "index", range(len(TUTORIAL_COMMANDS)), ids=[f"{s.id}-{c.split()[2]}" for s, c in TUTORIAL_COMMANDS]
)
def test_tutorial_command_writes_the_files_the_readme_promises(tutorial, index):
    step, ran = tutorial.ran[index]
    argv = shlex.split(ran.readme)
    sub, out = subcommand(argv), option_value(argv, "--out")
    missing = []
    if out:
        folder = tutorial.root / out
        # validate with several scenario files writes each one's folder as DIR/<stem>/ (docs/commands.md)
        scenarios = [a for a in argv[3:] if a.endswith(".toml")] if sub == "validate" else []
        each = [f"{Path(a).stem}/" for a in scenarios] if len(scenarios) > 1 else [""]
        missing += [
            f"{out}/{d}{n}"
            for d in each
            for n in sorted(promised_files().get(sub or "experiment", ()))
            if not (folder / d / n).exists()
        ]
        for line in step.excerpt:
            if line.startswith("wrote ") and len(step.commands) == 1:
                where, names, plots = wrote_line(line)
                assert os.path.normpath(where) == os.path.normpath(out), f"{line!r} but --out {out}"
                missing += [f"{out}/{n}" for n in names if not (folder / n).exists()]
                if plots is not None:
                    pngs = sorted(p.name for p in folder.rglob("*.png"))
                    assert len(pngs) == plots, f"{line!r}: {len(pngs)} plots in {out}: {pngs}"
        if (
            sub == "experiment"
        ):  # "DIR/plots/ (a forest plot ..., an ECDF per outcome, the probabilities ..., box plots)"
            spec = tomllib.loads((tutorial.root / argv[3]).read_text(encoding="utf-8"))
            plots = [p.name for p in (folder / "plots").glob("*.png")]
            for outcome in spec["experiment"]["outcomes"]:
                if outcome in binary_outcomes():  # a yes-or-no outcome is shown as a probability
                    if not any("probabilit" in p for p in plots):
                        missing.append(f"{out}/plots/ probability of {outcome}")
                elif not any("ecdf" in p and outcome in p for p in plots):
                    missing.append(f"{out}/plots/ ECDF of {outcome}")
            for kind in ("forest", "box"):
                if not any(kind in p for p in plots):
                    missing.append(f"{out}/plots/ {kind} plot")
        if sub == "sweep":  # the design's parameter values: excerpt rows vs points.csv
            check_sweep_points(step.excerpt, folder / "points.csv")
    for option in ("--calibrated", "--save"):
        path = option_value(argv, option)
        if path and not (tutorial.root / path).is_file():
            missing.append(path)
    assert not missing, f"{ran.readme}\ndid not write: {missing}\n{ran.describe()}"


def check_sweep_points(excerpt: list[str], points_csv: Path) -> None:
    """Rows of a sweep excerpt: their values in columns headed by a parameter path are the
    design's, whatever the replications; they must be those of points.csv."""
    points = pd.read_csv(points_csv)
    header = None
    for line in excerpt:
        tokens = line.strip().removesuffix("...").split()
        if tokens and tokens[0] == "point":
            header = tokens
        elif header and tokens and tokens[0].isdigit() and len(tokens) == len(header):
            row = points.loc[points["point"] == int(tokens[0])]
            assert len(row) == 1, f"no point {tokens[0]} in {points_csv}"
            for name, shown in zip(header, tokens):
                if "." in name:
                    value = float(row[name].iloc[0])
                    assert f"{value:.3g}" == shown, f"point {tokens[0]}: {name} = {value:.3g}, tutorial {shown}"


@pytest.mark.slow
def test_nothing_is_written_outside_results_and_the_named_folders(tutorial):
    def outside(snap: dict[str, str]) -> dict[str, str]:
        return {
            k: v for k, v in snap.items() if not under(k, "results") and not any(under(k, n) for n in tutorial.named)
        }

    before, after = outside(tutorial.before), outside(tutorial.after)
    changed = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
    assert (sorted(after.keys() - before.keys()), sorted(before.keys() - after.keys()), changed) == ([], [], [])
    # Inside results/: what was there is unchanged; what is new is the named folders and the
    # main job's one new folder.
    kept = {k: v for k, v in tutorial.before.items() if under(k, "results") and k != "results/"}
    assert {k: tutorial.after.get(k) for k in kept} == kept
    new_top = {k.split("/")[1] for k in tutorial.after.keys() - tutorial.before.keys() if under(k, "results")}
    named_top = {Path(n).parts[1] for n in tutorial.named if Path(n).parts[0] == "results" and len(Path(n).parts) > 1}
    assert named_top <= new_top, f"named folders not made: {sorted(named_top - new_top)}"
    assert len(new_top - named_top) == 1, f"new under results/ besides the named folders: {sorted(new_top - named_top)}"
