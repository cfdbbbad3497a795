"""Property-based fuzzing of the command line with broken input (hypothesis).

Every generated case is BROKEN input. For each, the command line must exit with code 2, write
exactly one line on stderr starting with ``error: `` (and nothing on stdout), show no
traceback, leave no ``--out`` folder and add or change no file in the example's own folder
(each example gets a fresh folder, which is also the working directory during the call, so a
stray default ``results/`` folder would show up too).

The scenario mutations are drawn from the real schema: the fields of
:class:`sim.scenario.Scenario` are walked (``sim.config._fields``), with the entries of the
baseline's tables (sites, regimes, doctrines, history), and the rule metadata of each field
(:mod:`sim.params`) says which numbers are out of range. A new parameter or rule is fuzzed
without a change here.

The hand-written cases are in ``test_bad_input.py`` and ``test_batch.py``; these generate.
``test_valid_overrides_run`` guards the other side (valid random overrides run). The tests of
section 7 fuzz input families that the sim/ code mishandled when this file was written (a line
break in a quoted name, the file named for a table written over a parameter, batches whose
scenarios span different calendar quarters, a constant Saltelli output, a table of sweep
values); they fail until sim/ is fixed, and are kept apart so that the broad generators above
stay green and keep checking everything else.

Sections 8 to 11 fuzz the other inputs a command reads: the public record of ``validate``
(rows of configs/data/public_record.csv broken one at a time, from the loader's columns,
statistics, record kinds and uses), the calibration file of ``calibrate`` (its header walked
from ``CalibrationHeader``, its priors from the families of :mod:`sim.calibration.priors` and
the real-valued parameters of the schema), robustness experiments (states, ``[uncertain]``,
``[thresholds]``, ``[precision]``) and runs by precision (``--precision``,
``--max-replications``). Each is refused at load, before anything is simulated. Section 12
holds the minimal examples they found accepted at load before the upper bounds of
:mod:`sim.config.limits` covered them, each run with the first piece of work replaced by an
exception.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import io
import math
import os
import re
import string
import tempfile
import tomllib
import traceback
import types
import typing
import warnings
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from sim.calibration import public_record
from sim.calibration.priors import FAMILIES
from sim.calibration.priors import _section as prior_section
from sim.calibration.settings import DISTANCES, CalibrationHeader, load_calibration
from sim.cli.main import build_parser, main
from sim.config.limits import RECORD_BYTES, REPLICATIONS
from sim.config.loader import _fields, _mapping_value_type, load_scenario
from sim.config.scenario import Scenario
from sim.config.schema import NAME, Rule
from sim.design.experiment import ExperimentHeader, load_experiment
from sim.design.sweep import SweepHeader, load_sweep
from sim.design.types import design_type, design_types
from sim.replication.checks import STATISTICS
from sim.replication.outcomes import outcome_columns
from sim.replication.simulate import record_kinds

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "baseline.toml"
SHORT_END = date(2020, 1, 10)  # every horizon that might run is ten days long
OUT = "out"  # the --out folder, relative to the example's folder (the working directory)


def fuzz(examples: int, shrink: bool = True):
    """The fixed, derandomized profile (no explain phase: it reruns failing cases many times);
    ``shrink=False`` for examples that run simulations."""
    return settings(
        derandomize=True,
        phases=(Phase.explicit, Phase.reuse, Phase.generate, *((Phase.target, Phase.shrink) if shrink else ())),
        database=None,  # nothing written under the project (.hypothesis/)
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


# ------------------------------------------------------------------------------ the schema

FLOATS, STRINGS = "list of numbers", "list of strings"  # leaf kinds of tuple[float, ...], tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Leaf:
    path: str
    kind: object  # float, int, bool, str, date, FLOATS or STRINGS
    rule: Rule | None
    optional: bool = False  # the field has a default: a file may leave it out


@dataclasses.dataclass(frozen=True)
class Section:
    """A dataclass level of the schema: unknown keys here are 'not a known parameter'."""

    path: str  # "" for the root
    names: frozenset[str]

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split(".")) if self.path else ()


@dataclasses.dataclass(frozen=True)
class Schema:
    sections: tuple[Section, ...]
    tables: tuple[str, ...]  # every path that names a table: sections, tables of entries, entries
    leaves: tuple[Leaf, ...]


def _leaf_kind(kind):
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    if typing.get_origin(kind) is tuple:
        return STRINGS if typing.get_args(kind)[0] is str else FLOATS
    return kind


def walk(cls: type, instance=None, prefix: str = "") -> Schema:
    """The sections, tables and leaves of dataclass ``cls``; the entries of its mapping
    fields (sites, regimes ...) are taken from ``instance``."""
    fields = _fields(cls)
    sections, tables, leaves = [Section(prefix, frozenset(fields))], [], []
    for name, (kind, field) in fields.items():
        path = f"{prefix}.{name}" if prefix else name
        value = getattr(instance, name) if instance is not None else None
        inner = _mapping_value_type(kind)
        if inner is not None:
            tables.append(path)
            parts = [walk(inner, entry, f"{path}.{key}") for key, entry in (value or {}).items()]
        elif dataclasses.is_dataclass(kind):
            parts = [walk(kind, value, path)]
        else:
            optional = field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
            leaves.append(Leaf(path, _leaf_kind(kind), field.metadata.get("rule"), optional))
            continue
        for part in parts:
            sections += part.sections
            tables += [s.path for s in part.sections] + list(part.tables)
            leaves += part.leaves
    return Schema(tuple(sections), tuple(dict.fromkeys(tables)), tuple(leaves))


BASE = load_scenario(BASELINE)
START = BASE.scenario.start_date
SCHEMA = walk(Scenario, BASE)
EXPERIMENT_SCHEMA = walk(ExperimentHeader)
SWEEP_SCHEMA = walk(SweepHeader)
KNOWN_OUTCOMES = set(outcome_columns(load_scenario(BASELINE, {"scenario.end_date": SHORT_END}).scenario.calendar))

# ------------------------------------------------------------------------------ TOML text


def toml_str(text: str) -> str:
    escaped = []
    for c in text:
        if c in '"\\':
            escaped.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            escaped.append(f"\\u{ord(c):04x}")
        else:
            escaped.append(c)
    return '"' + "".join(escaped) + '"'


def toml_key(parts) -> str:
    return ".".join(toml_str(p) for p in parts)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, str):
        return toml_str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_str(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def toml_document(doc: dict, prefix: tuple[str, ...] = ()) -> str:
    """Tables as [headers] (every nested dict), other values as key = value lines."""
    lines = [f"[{toml_key(prefix)}]"] if prefix else []
    lines += [f"{toml_str(k)} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    text = "\n".join(lines) + "\n"
    for key, value in doc.items():
        if isinstance(value, dict):
            text += "\n" + toml_document(value, (*prefix, key))
    return text


def scenario_text(parts, value) -> str:
    return f"extends = {toml_str(str(BASELINE))}\n{toml_key(parts)} = {toml_value(value)}\n"


SMALL_SCENARIO = f"extends = {toml_str(str(BASELINE))}\n[scenario]\nend_date = {SHORT_END}\n"


def experiment_doc() -> dict:
    """A valid, cheap experiment (two scenarios, one replication, ten days)."""
    return {
        "experiment": {
            "name": "fuzz",
            "description": "fuzz",
            "base": str(BASELINE),
            "reference": "a",
            "replications": 1,
            "root_seed": 1,
            "chunk_size": 1,
            "end_date": SHORT_END,
            "outcomes": ["attacks_rocket", "us_killed"],
        },
        "scenarios": {"a": {}, "b": {"set": {"cram.kill_prob": 0.5}}},
    }


def sweep_doc(design: str = "grid") -> dict:
    """A valid, cheap sweep of ``design`` (one parameter, one replication, ten days)."""
    header = {
        "name": "fuzz_sweep",
        "description": "fuzz",
        "base": str(BASELINE),
        "design": design,
        "replications": 1,
        "root_seed": 1,
        "chunk_size": 1,
        "end_date": SHORT_END,
        "outcomes": ["attacks_rocket"],
    }
    if not design_type(design).bounded:
        return {"sweep": header, "parameters": {"cram.kill_prob": {"values": [0.5, 0.6]}}}
    sized = {"points": 2} if design_type(design).sized else {}
    return {"sweep": {**header, **sized}, "parameters": {"cram.kill_prob": {"low": 0.3, "high": 0.9}}}


# ------------------------------------------------------------------------------ strategies

LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines splits on
# no control, line or paragraph separators (those are fuzzed on their own, see the last tests)
PRINTABLE = st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp"))
TEXT = st.text(PRINTABLE, max_size=10)
INTS = st.integers(-(2**40), 2**40)
FINITE = st.floats(allow_nan=False, allow_infinity=False)
DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
DATETIMES = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31))
TIMES = st.times()
SCALARS = st.one_of(INTS, FINITE, st.booleans(), TEXT, DATES, DATETIMES, TIMES)
TABLES = st.dictionaries(TEXT, SCALARS, max_size=2)
LISTS = st.lists(SCALARS, max_size=3)
VALUES = st.one_of(SCALARS, LISTS, TABLES)
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])

_BY_TYPE = {
    "int": INTS,
    "float": FINITE,
    "bool": st.booleans(),
    "str": TEXT,
    "date": DATES,
    "datetime": DATETIMES,
    "time": TIMES,
    "table": TABLES,
    "list": LISTS,
}
_ALLOWED = {float: {"float", "int"}, int: {"int"}, bool: {"bool"}, str: {"str"}, date: {"date"}}


@st.composite
def _list_with(draw, good, bad):
    items = draw(st.lists(good, max_size=4))
    items.insert(draw(st.integers(0, len(items))), draw(bad))
    return items


def wrong_type(kind) -> st.SearchStrategy:
    """Values that are not of ``kind`` (ints are numbers for a float parameter, so never used)."""
    if kind in _ALLOWED:
        return st.one_of(*(s for name, s in _BY_TYPE.items() if name not in _ALLOWED[kind]))
    if kind == FLOATS:
        not_a_number = st.one_of(st.booleans(), TEXT, DATES, TABLES, LISTS)
        scalars = st.one_of(INTS, FINITE, st.booleans(), TEXT, DATES, DATETIMES, TABLES)
        return st.one_of(scalars, _list_with(st.floats(0, 1), not_a_number))
    if kind == STRINGS:
        not_a_string = st.one_of(INTS, FINITE, st.booleans(), DATES, TABLES, LISTS)
        return st.one_of(INTS, FINITE, st.booleans(), TEXT, DATES, TABLES, _list_with(TEXT, not_a_string))
    raise AssertionError(f"no wrong values known for parameter kind {kind!r}: teach test_fuzz.py")


def _bounds(rule: Rule | None):
    """(low, low_inclusive, high) of a numeric rule's valid interval, or None."""
    text = (rule.text if rule else "").removesuffix(" (each element)")
    if m := re.fullmatch(r"must be in \[(\S+), (\S+)\]", text):
        return float(m[1].replace(",", "")), True, float(m[2].replace(",", ""))  # 10,000,000
    if m := re.fullmatch(r"must be >= (\S+)", text):
        return float(m[1]), True, None
    if m := re.fullmatch(r"must be > (\S+)", text):
        return float(m[1]), False, None
    return None


def _numbers(kind, low=None, high=None, exclude_low=False, exclude_high=False):
    if kind is int:
        lo = None if low is None else (math.floor(low) + 1 if exclude_low or low != math.floor(low) else int(low))
        hi = None if high is None else (math.ceil(high) - 1 if exclude_high or high != math.ceil(high) else int(high))
        lo = (hi if hi is not None else 0) - 2**40 if lo is None else lo
        return st.integers(lo, lo + 2**41 if hi is None else hi)
    floats = st.floats(
        low,
        high,
        exclude_min=exclude_low and low is not None,
        exclude_max=exclude_high and high is not None,
        allow_nan=False,
        allow_infinity=False,
    )
    ints = _numbers(int, low, high, exclude_low, exclude_high)
    return st.one_of(floats, ints).filter(
        lambda v: (
            (low is None or (v > low if exclude_low else v >= low))
            and (high is None or (v < high if exclude_high else v <= high))
        )
    )


def out_of_range(leaf: Leaf) -> st.SearchStrategy | None:
    """Numbers that break ``leaf``'s rule (None if the rule is not a numeric interval)."""
    bounds = _bounds(leaf.rule)
    if bounds is None or leaf.kind not in (int, float, FLOATS):
        return None
    low, inclusive, high = bounds
    kind = float if leaf.kind == FLOATS else leaf.kind
    bad = [_numbers(kind, high=low, exclude_high=inclusive)]  # below the interval (or at an open end)
    if high is not None:
        bad.append(_numbers(kind, low=high, exclude_low=True))
    bad = st.one_of(*bad)
    if leaf.kind == FLOATS:
        return _list_with(_numbers(float, low, high, exclude_low=not inclusive), bad)
    return bad


RANGED = tuple(leaf for leaf in SCHEMA.leaves if out_of_range(leaf) is not None)
NUMERIC = tuple(leaf for leaf in SCHEMA.leaves if leaf.kind in (int, float, FLOATS))


@dataclasses.dataclass(frozen=True)
class Change:
    """One broken value at ``parts`` (a key path), with texts its error line must contain."""

    parts: tuple[str, ...]
    value: object
    expect: tuple[str, ...]

    @property
    def key(self) -> str:
        return ".".join(self.parts)


def named(key: str, *rest: str) -> tuple[str, ...]:
    """Texts an error line about ``key`` must contain: 'error: key = ' (an empty key, as
    the top-level ``"" = 1``, is not shown: the line then starts with the rule)."""
    return (f"error: {key} = ", *rest) if key else rest


def _unknown_name(section: Section, names=TEXT) -> st.SearchStrategy:
    reserved = section.names | ({"extends"} if section.path == "" else set())
    return names.filter(lambda n: n not in reserved)


@st.composite
def unknown_key(draw, names=TEXT):
    section = draw(st.sampled_from(SCHEMA.sections))
    parts = (*section.parts, draw(_unknown_name(section, names)))
    return Change(parts, draw(VALUES), named(".".join(parts), "is not a known"))


@st.composite
def below_a_parameter(draw, names=TEXT):
    leaf = draw(st.sampled_from(SCHEMA.leaves))
    parts = (*leaf.path.split("."), draw(names))
    return Change(parts, draw(VALUES), named(".".join(parts), "is not a known"))


@st.composite
def wrong_type_change(draw, schema=SCHEMA, prefix=""):
    leaf = draw(st.sampled_from(schema.leaves))
    path = prefix + leaf.path
    return Change(tuple(path.split(".")), draw(wrong_type(leaf.kind)), (f"error: {path} = ",))


@st.composite
def table_not_a_table(draw):
    path = draw(st.sampled_from(SCHEMA.tables))
    value = draw(st.one_of(SCALARS, st.lists(st.one_of(SCALARS, TABLES), max_size=3)))
    return Change(tuple(path.split(".")), value, (f"error: {path} = ", "must be a table"))


@st.composite
def out_of_range_change(draw, leaves=RANGED, prefix=""):
    leaf = draw(st.sampled_from(leaves))
    path = prefix + leaf.path
    return Change(tuple(path.split(".")), draw(out_of_range(leaf)), (f"error: {path} = ", leaf.rule.text))


@st.composite
def non_finite_change(draw):
    leaf = draw(st.sampled_from(NUMERIC))
    if leaf.kind == FLOATS:
        return Change(
            tuple(leaf.path.split(".")),
            draw(_list_with(st.floats(0, 1), NON_FINITE)),
            (f"error: {leaf.path} = ", "must be a list of finite numbers"),
        )
    expect = "must be a finite number" if leaf.kind is float else "must be an integer"
    return Change(tuple(leaf.path.split(".")), draw(NON_FINITE), (f"error: {leaf.path} = ", expect))


END_BEFORE_START = st.builds(
    lambda d: Change(("scenario", "end_date"), d, ("error: scenario.end_date = ", f"must be after start_date {START}")),
    st.dates(min_value=date(1900, 1, 1), max_value=START),
)

# keys of --set and of an experiment's inline `set`: a dotted string, so names are single
# segments without '.', '=' or surrounding blanks (a stripped ' cram.kill_prob' would be valid)
SET_NAMES = (
    st.text(
        st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp"), exclude_characters=".="), min_size=1, max_size=10
    )
    .map(str.strip)
    .filter(bool)
)


@st.composite
def names_a_table(draw):
    path = draw(st.sampled_from(SCHEMA.tables))
    return Change(tuple(path.split(".")), draw(VALUES), (f"error: {path} = ", "names a table, not a parameter"))


# one bad value for a dotted key: what --set, an inline `set` and a sweep's values all take
SET_CHANGES = st.one_of(
    unknown_key(SET_NAMES),
    below_a_parameter(SET_NAMES),
    names_a_table(),
    wrong_type_change(),
    out_of_range_change(),
    non_finite_change(),
    END_BEFORE_START,
)

# ------------------------------------------------------------------------------ running a case


@dataclasses.dataclass(frozen=True)
class Case:
    """Files to write (name: text or bytes), the command line (paths relative to the
    example's folder), texts the error line must contain and, if known, its origin."""

    files: dict
    argv: tuple[str, ...]
    expect: tuple[str, ...] = ()
    origin: str | None = None


HIDDEN_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


def call_main(argv) -> tuple[object, str, str]:
    """sim.cli.main in this process: (exit code, stdout, stderr). SystemExit becomes its code;
    any other exception its traceback on stderr; warnings a user would see go to stderr."""
    out, err = io.StringIO(), io.StringIO()
    with (
        warnings.catch_warnings(record=True) as caught,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        warnings.simplefilter("default")
        try:
            code = main(list(argv), out, err)
        except SystemExit as exc:
            code = exc.code
        except Exception:
            code = "exception"
            err.write(traceback.format_exc())
    shown = [
        warnings.formatwarning(w.message, w.category, w.filename, w.lineno)
        for w in caught
        if not issubclass(w.category, HIDDEN_WARNINGS)
    ]
    return code, out.getvalue(), err.getvalue() + "".join(shown)


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder under ``folder``, hidden ones too."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames:
            found[os.path.relpath(os.path.join(dirpath, name), folder)] = None
        for name in filenames:
            path = os.path.join(dirpath, name)
            found[os.path.relpath(path, folder)] = Path(path).read_bytes()
    return found


@contextlib.contextmanager
def example_folder(tmp_path_factory, files: dict):
    """A fresh folder holding ``files``, made the working directory."""
    with tempfile.TemporaryDirectory(dir=tmp_path_factory.getbasetemp()) as tmp:
        folder = Path(tmp)
        for name, content in files.items():
            path = folder / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_bytes(content.encode("utf-8"))
        with contextlib.chdir(folder):
            yield folder


def _escaped(text: str) -> str:
    """``text`` with its non-printable characters escaped as repr does: a one-line error may
    show a quoted key so."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def check_refused(tmp_path_factory, case: Case) -> str:
    """Run ``case``: exit code 2, one 'error: ' line on stderr, nothing on stdout, no
    traceback, no --out folder and no new or changed file. Returns the error line."""
    with example_folder(tmp_path_factory, case.files) as folder:
        before = snapshot(folder)
        code, stdout, stderr = call_main(case.argv)
        after = snapshot(folder)
    assert "Traceback" not in stdout and "Traceback" not in stderr, f"traceback for {case.argv}:\n{stderr}"
    assert code == 2, f"exit code {code!r} for {case.argv}; stderr: {stderr!r}"
    lines = stderr.splitlines()
    assert len(lines) == 1 and stderr.endswith("\n"), f"expected one line on stderr, got {stderr!r}"
    line = lines[0]
    assert line.startswith("error: "), line
    assert stdout == "", f"stdout: {stdout!r}"
    assert not (folder / OUT).exists() and not any(p == OUT or p.startswith(OUT + os.sep) for p in after), (
        "--out was created"
    )
    assert after == before, f"files appeared or changed: {sorted(set(after) ^ set(before))}"
    for text in case.expect:
        assert text in line or _escaped(text) in line, f"{text!r} not in {line!r}"
    if case.origin is not None:
        assert line.endswith(f"({case.origin})"), f"{line!r} does not name {case.origin!r}"
    return line


RUN = ("--replications", "1", "--workers", "1", "--quiet", "--out", OUT)
BATCH = ("--out", OUT, "--workers", "1", "--quiet")

# ------------------------------------------------------------------------------ invalid files

TOML_TOKENS = [
    "[",
    "]",
    "[[",
    "]]",
    "=",
    "==",
    '"',
    "'",
    '"""',
    "{",
    "}",
    ",",
    ".",
    "#",
    "\n",
    "\r",
    " ",
    "\t",
    "a",
    "b.c",
    "1",
    "1.5",
    "-",
    "+",
    "0x",
    "_",
    "true",
    "nan",
    "inf",
    "2020-01-01",
    "T",
    ":",
    "x = ",
    "[a]",
    "[a.b]",
    "\\",
    "\x00",
    "\x7f",
    "é",
    "a = [1,",
    "b = {c = ",
    "\ufeff",
]


def _read_back(text: str) -> str:
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")  # as the loader reads it


def _is_toml(text: str) -> bool:
    try:
        tomllib.loads(_read_back(text))
    except tomllib.TOMLDecodeError:
        return False
    return True


INVALID_TOML = st.one_of(st.text(max_size=40), st.lists(st.sampled_from(TOML_TOKENS), max_size=14).map("".join)).filter(
    lambda t: not _is_toml(t)
)


def _undecodable(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


UNDECODABLE = st.binary(min_size=1, max_size=40).filter(_undecodable)
BLANK = st.lists(st.sampled_from(["\n", " ", "\t", "# a comment\n", "\r\n"]), max_size=5).map("".join)


def _unreadable_file(what: str):
    """(content, expect) of a file that cannot be a ``what`` file at all."""
    return st.one_of(
        INVALID_TOML.map(lambda t: (t, (f"{what} file is not valid TOML",))),
        UNDECODABLE.map(lambda b: (b, (f"{what} file cannot be read",))),
    )


# ------------------------------------------------------------------------------ 1. scenario files

SCENARIO = "scenario.toml"

FILE_CHANGES = st.one_of(
    unknown_key(),
    wrong_type_change(),
    table_not_a_table(),
    out_of_range_change(),
    non_finite_change(),
    END_BEFORE_START,
)


def _random_document_without_extends():
    keys = TEXT.filter(lambda k: k != "extends")
    return st.dictionaries(keys, st.one_of(VALUES, st.dictionaries(keys, VALUES, max_size=3)), max_size=4)


BROKEN_SCENARIO_FILES = st.one_of(
    _unreadable_file("scenario").map(lambda c: Case({SCENARIO: c[0]}, ("run", SCENARIO, *RUN), c[1], SCENARIO)),
    BLANK.map(
        lambda t: Case({SCENARIO: t}, ("run", SCENARIO, *RUN), ("error: scenario is missing (required)",), SCENARIO)
    ),
    _random_document_without_extends().map(
        lambda d: Case({SCENARIO: toml_document(d)}, ("run", SCENARIO, *RUN), (), SCENARIO)
    ),
    FILE_CHANGES.map(lambda c: Case({SCENARIO: scenario_text(c.parts, c.value)}, ("run", SCENARIO, *RUN), c.expect)),
)


@fuzz(700)
@pytest.mark.slow
@given(case=BROKEN_SCENARIO_FILES)
def test_broken_scenario_file_is_refused(tmp_path_factory, case):
    check_refused(tmp_path_factory, case)


@st.composite
def table_over_a_parameter(draw):
    leaf = draw(st.sampled_from(SCHEMA.leaves))
    value = draw(st.dictionaries(TEXT, SCALARS, min_size=1, max_size=2))
    return Change(tuple(leaf.path.split(".")), value, (f"error: {leaf.path} = ",))


@fuzz(200)
@pytest.mark.slow
@given(change=st.one_of(FILE_CHANGES, table_over_a_parameter()))
def test_the_error_names_the_file_that_wrote_the_value(tmp_path_factory, change):
    """The file extends the baseline and breaks one value: the line must name it, not the baseline."""
    case = Case({SCENARIO: scenario_text(change.parts, change.value)}, ("run", SCENARIO, *RUN), change.expect, SCENARIO)
    check_refused(tmp_path_factory, case)


# ------------------------------------------------------------------------------ 2. --set overrides


def _set_case(text: str, expect=()) -> Case:
    return Case({}, ("run", str(BASELINE), f"--set={text}", *RUN), tuple(expect), "--set")


MALFORMED_SET = st.one_of(
    st.text(st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp"), exclude_characters="="), max_size=20),
    st.builds(lambda k, v: f"{k}={v}", st.sampled_from(["", " ", "  ", "\u3000"]), TEXT),
).map(lambda t: _set_case(t, ["must have the form dotted.key=value"]))

BAD_SETS = st.one_of(
    SET_CHANGES.map(lambda c: _set_case(f"{c.key}={toml_value(c.value)}", c.expect)),
    MALFORMED_SET,
)


@fuzz(500)
@pytest.mark.slow
@given(case=BAD_SETS)
def test_bad_set_override_is_refused(tmp_path_factory, case):
    check_refused(tmp_path_factory, case)


# ------------------------------------------------------------------------------ 3. experiment files

EXPERIMENT = "exp.toml"


def _experiment_case(doc_or_text, expect=(), origin: str | None = EXPERIMENT) -> Case:
    content = toml_document(doc_or_text) if isinstance(doc_or_text, dict) else doc_or_text
    return Case({EXPERIMENT: content}, ("experiment", EXPERIMENT, *BATCH), tuple(expect), origin)


def _edit(edit):
    """A strategy of experiment cases from ``edit(doc, draw) -> expect``."""

    @st.composite
    def strategy(draw):
        doc = experiment_doc()
        expect, origin = edit(doc, draw)
        return _experiment_case(doc, expect, origin)

    return strategy()


def _header_wrong_type(doc, draw):
    change = draw(wrong_type_change(EXPERIMENT_SCHEMA, "experiment."))
    doc["experiment"][change.parts[-1]] = change.value
    return change.expect, EXPERIMENT


def _header_out_of_range(doc, draw):
    ranged = tuple(leaf for leaf in EXPERIMENT_SCHEMA.leaves if out_of_range(leaf) is not None)
    change = draw(out_of_range_change(ranged, "experiment."))
    doc["experiment"][change.parts[-1]] = change.value
    return change.expect, EXPERIMENT


def _header_unknown_key(doc, draw):
    where = draw(st.sampled_from(["header", "top", "entry"]))
    if where == "header":
        name = draw(TEXT.filter(lambda n: n not in EXPERIMENT_SCHEMA.sections[0].names))
        doc["experiment"][name] = draw(VALUES)
        return (f"error: experiment.{name} = ", "is not a known key"), EXPERIMENT
    if where == "top":
        name = draw(TEXT.filter(lambda n: n not in ("experiment", "scenarios")))
        doc[name] = draw(VALUES)
        return named(name, "is not a known key"), EXPERIMENT
    name = draw(TEXT.filter(lambda n: n not in ("file", "set")))
    doc["scenarios"]["a"][name] = draw(VALUES)
    return (f"error: scenarios.a.{name} = ", "is not a known key"), EXPERIMENT


def _missing_table(doc, draw):
    table = draw(st.sampled_from(["experiment", "scenarios"]))
    del doc[table]
    return ("error: experiment.name is missing (required)",) if table == "experiment" else (
        "error: scenarios ",
    ), EXPERIMENT


def _scenarios_not_a_table(doc, draw):
    doc["scenarios"] = draw(st.one_of(SCALARS, LISTS, st.just({})))
    return ("error: scenarios = ", "must be a table of named scenarios"), EXPERIMENT


def _unknown_outcome(doc, draw):
    outcomes = doc["experiment"]["outcomes"]
    if draw(st.booleans()):
        doc["experiment"]["outcomes"] = []
        return ("error: experiment.outcomes = [] must name at least one outcome column",), EXPERIMENT
    bad = draw(TEXT.filter(lambda n: n not in KNOWN_OUTCOMES))
    outcomes.insert(draw(st.integers(0, len(outcomes))), bad)
    return ("error: experiment.outcomes = ", "is not an outcome column"), EXPERIMENT


def _reference_elsewhere(doc, draw):
    doc["experiment"]["reference"] = draw(TEXT.filter(lambda n: n not in doc["scenarios"]))
    return ("error: experiment.reference = ",), EXPERIMENT


BAD_SCENARIO_NAMES = st.one_of(st.sampled_from(["../x", "a/b", "", "a b", " a", "x.y", "a:b"]), TEXT).filter(
    lambda n: not NAME.check(n)
)


def _bad_scenario_name(doc, draw):
    name = draw(BAD_SCENARIO_NAMES)
    doc["scenarios"][name] = draw(st.sampled_from([{}, {"set": {"cram.kill_prob": 0.4}}]))
    return (f"error: scenarios.{name} = ", NAME.text), EXPERIMENT


def _missing_file(doc, draw):
    name = draw(
        st.one_of(st.just(""), TEXT.map(lambda t: f"zz_missing_{t}.toml"), st.sampled_from([".", "..", "sub/"]))
    )
    doc["scenarios"]["c"] = {"file": name}
    return ("error: scenarios.c.file = ",), EXPERIMENT


def _entry_not_a_table(doc, draw):
    if draw(st.booleans()):
        doc["scenarios"]["c"] = draw(st.one_of(SCALARS, LISTS))
        return ("error: scenarios.c = ", "must be a table with 'file' and/or 'set'"), EXPERIMENT
    doc["scenarios"]["c"] = {"set": draw(st.one_of(SCALARS, LISTS))}
    return ("error: scenarios.c.set = ", "must be a table of dotted parameters"), EXPERIMENT


def _inline_set(doc, draw):
    change = draw(SET_CHANGES)
    doc["scenarios"]["b"]["set"] = {change.key: change.value}
    return change.expect, f"{EXPERIMENT} [scenarios.b]"


def _end_before_base_start(doc, draw):
    doc["experiment"]["end_date"] = draw(st.dates(min_value=date(1900, 1, 1), max_value=START))
    return ("error: scenario.end_date = ", f"must be after start_date {START}"), f"{EXPERIMENT} [scenarios.a]"


@st.composite
def _duplicate_table(draw):
    text = toml_document(experiment_doc())
    header = draw(st.sampled_from(["[experiment]", '[scenarios."a"]', '[scenarios."b"]']))
    return _experiment_case(text + f"\n{header}\n", ["experiment file is not valid TOML", "twice"])


BROKEN_EXPERIMENTS = st.one_of(
    _unreadable_file("experiment").map(lambda c: _experiment_case(c[0], c[1])),
    BLANK.map(lambda t: _experiment_case(t, ["error: experiment.name is missing (required)"])),
    _duplicate_table(),
    *(
        _edit(e)
        for e in (
            _header_wrong_type,
            _header_out_of_range,
            _header_unknown_key,
            _missing_table,
            _scenarios_not_a_table,
            _unknown_outcome,
            _reference_elsewhere,
            _bad_scenario_name,
            _missing_file,
            _entry_not_a_table,
            _inline_set,
            _end_before_base_start,
        )
    ),
)


@fuzz(400)
@pytest.mark.slow
@given(case=BROKEN_EXPERIMENTS)
def test_broken_experiment_file_is_refused(tmp_path_factory, case):
    check_refused(tmp_path_factory, case)


# ------------------------------------------------------------------------------ 4. sweep files

SWEEP = "sweep.toml"
# the design types by what their sweep files must give, from the registry
BOUNDED_DESIGNS = tuple(name for name, d in design_types().items() if d.bounded and d.sized)
POWER_OF_TWO_DESIGNS = tuple(name for name, d in design_types().items() if d.power_of_two)
VALUES_DESIGNS = tuple(name for name, d in design_types().items() if not d.bounded)


def _sweep_case(doc_or_text, expect=(), origin: str | None = SWEEP) -> Case:
    content = toml_document(doc_or_text) if isinstance(doc_or_text, dict) else doc_or_text
    return Case({SWEEP: content}, ("sweep", SWEEP, *BATCH), tuple(expect), origin)


def _sweep_edit(edit, designs: tuple | None = None):
    designs = tuple(design_types()) if designs is None else designs

    @st.composite
    def strategy(draw):
        doc = sweep_doc(draw(st.sampled_from(designs)))
        expect, origin = edit(doc, draw)
        return _sweep_case(doc, expect, origin)

    return strategy()


def _sweep_header_wrong_type(doc, draw):
    change = draw(wrong_type_change(SWEEP_SCHEMA, "sweep."))
    doc["sweep"][change.parts[-1]] = change.value
    return change.expect, SWEEP


def _sweep_header_out_of_range(doc, draw):
    ranged = tuple(leaf for leaf in SWEEP_SCHEMA.leaves if out_of_range(leaf) is not None)
    change = draw(out_of_range_change(ranged, "sweep."))
    doc["sweep"][change.parts[-1]] = change.value
    return change.expect, SWEEP


def _unknown_design(doc, draw):
    doc["sweep"]["design"] = draw(TEXT.filter(lambda d: d not in tuple(design_types())))
    return ("error: sweep.design = ", "must be one of"), SWEEP


def _points_missing(doc, draw):
    del doc["sweep"]["points"]
    return ("error: sweep.points is missing",), SWEEP


def _points_not_positive(doc, draw):
    doc["sweep"]["points"] = draw(st.integers(-(2**40), 0))
    return ("error: sweep.points = ", "must be in [1, 100,000]"), SWEEP


def _points_not_a_power_of_two(doc, draw):
    doc["sweep"]["points"] = draw(
        st.integers(3, 100_000).filter(lambda n: n & (n - 1))
    )  # within the bound on design points
    return ("error: sweep.points = ", "must be a power of two"), SWEEP


def _points_not_the_grid_size(doc, draw):
    doc["sweep"]["points"] = draw(st.integers(1, 2**40).filter(lambda n: n != 2))
    return ("error: sweep.points = ",), SWEEP


def _low_not_below_high(doc, draw):
    high = draw(st.one_of(FINITE, INTS))
    low = draw(_numbers(float, low=high))  # low >= high
    doc["parameters"]["cram.kill_prob"] = {"low": low, "high": high}
    return ("error: cram.kill_prob low = ", "must be < high"), SWEEP


def _bound_missing(doc, draw):
    del doc["parameters"]["cram.kill_prob"][draw(st.sampled_from(["low", "high"]))]
    return ("error: cram.kill_prob ", "is missing"), SWEEP


def _empty_values(doc, draw):
    doc["parameters"]["cram.kill_prob"] = {"values": []}
    return ("error: cram.kill_prob values = ", "must not be empty"), SWEEP


def _bad_parameter_path(doc, draw):
    change = draw(st.one_of(unknown_key(SET_NAMES), below_a_parameter(SET_NAMES), names_a_table()))
    doc["parameters"] = {change.key: {"values": [draw(SCALARS)]}}
    return (), None  # 'parameter path ... must be a dotted path' or '... (sweep.toml [point 0])'


def _bad_value(doc, draw):
    change = draw(st.one_of(wrong_type_change(), out_of_range_change(), non_finite_change(), END_BEFORE_START))
    doc["parameters"] = {change.key: {"values": [change.value]}}
    return (), None  # the design or point 0 refuses it, depending on the value


def _parameters_not_a_table(doc, draw):
    if draw(st.booleans()):
        doc["parameters"] = draw(st.one_of(SCALARS, LISTS, st.just({})))
        return ("error: parameters = ",), SWEEP
    doc["parameters"]["cram.kill_prob"] = draw(st.one_of(SCALARS, LISTS))
    return ("error: parameters.cram.kill_prob = ",), SWEEP


def _bad_spec(doc, draw):
    spec = doc["parameters"]["cram.kill_prob"]
    choice = draw(st.sampled_from(["unknown", "both", "integer"]))
    if choice == "unknown":
        name = draw(TEXT.filter(lambda k: k not in ("values", "low", "high", "integer")))
        spec[name] = draw(VALUES)
        return (f"error: parameters.cram.kill_prob.{name} = ", "is not a known key"), SWEEP
    if choice == "both":
        spec.update({"values": [0.5], "low": 0.3, "high": 0.9})
        return ("error: cram.kill_prob ", "has both values and low/high bounds"), SWEEP
    spec["integer"] = draw(st.one_of(INTS, FINITE, TEXT, DATES, LISTS, TABLES))
    return ("error: cram.kill_prob integer = ", "must be true or false"), SWEEP


def _sweep_unknown_top_key(doc, draw):
    name = draw(TEXT.filter(lambda n: n not in ("sweep", "parameters")))
    doc[name] = draw(VALUES)
    return named(name, "is not a known key"), SWEEP


def _sweep_end_before_start(doc, draw):
    doc["sweep"]["end_date"] = draw(st.dates(min_value=date(1900, 1, 1), max_value=START))
    return ("error: scenario.end_date = ", f"must be after start_date {START}"), f"{SWEEP} [point 0]"


BROKEN_SWEEPS = st.one_of(
    _unreadable_file("sweep").map(lambda c: _sweep_case(c[0], c[1])),
    BLANK.map(lambda t: _sweep_case(t, ["error: sweep.name is missing (required)"])),
    *(
        _sweep_edit(e)
        for e in (
            _sweep_header_wrong_type,
            _sweep_header_out_of_range,
            _unknown_design,
            _bad_parameter_path,
            _parameters_not_a_table,
            _sweep_unknown_top_key,
            _sweep_end_before_start,
        )
    ),
    _sweep_edit(_points_missing, BOUNDED_DESIGNS),
    _sweep_edit(_points_not_positive, BOUNDED_DESIGNS),
    _sweep_edit(_points_not_a_power_of_two, POWER_OF_TWO_DESIGNS),
    _sweep_edit(_points_not_the_grid_size, VALUES_DESIGNS),
    _sweep_edit(_low_not_below_high, BOUNDED_DESIGNS),
    _sweep_edit(_bound_missing, BOUNDED_DESIGNS),
    _sweep_edit(_empty_values, VALUES_DESIGNS),
    _sweep_edit(_bad_value, VALUES_DESIGNS),
    _sweep_edit(_bad_spec, tuple(design_types())),
)


@fuzz(500)
@pytest.mark.slow
@given(case=BROKEN_SWEEPS)
def test_broken_sweep_file_is_refused(tmp_path_factory, case):
    check_refused(tmp_path_factory, case)


# ------------------------------------------------------------------------------ 5. option values


def _options_of(command: str) -> list[str]:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return [s for action in commands.choices[command]._actions for s in action.option_strings]


COMMAND_LINES = {  # a valid, cheap command line of each command, and the files it needs
    "run": ({SCENARIO: SMALL_SCENARIO}, ("run", SCENARIO, "--seed", "1", *RUN)),
    "trace": ({SCENARIO: SMALL_SCENARIO}, ("trace", SCENARIO, "--seed", "1")),
    "experiment": (
        {EXPERIMENT: toml_document(experiment_doc())},
        ("experiment", EXPERIMENT, "--replications", "1", *BATCH),
    ),
    "sweep": ({SWEEP: toml_document(sweep_doc())}, ("sweep", SWEEP, "--replications", "1", *BATCH)),
}
INTEGER_OPTIONS = {  # option: minimum, per command
    "run": {"--replications": 1, "--seed": 0, "--workers": 1},
    "trace": {"--seed": 0, "--replication": 0},
    "experiment": {"--replications": 1, "--workers": 1},
    "sweep": {"--replications": 1, "--workers": 1},
}


def _accepted(text: str, minimum: int) -> bool:
    try:
        return int(text) >= minimum
    except ValueError:
        return False


def _replace_option(argv: tuple[str, ...], option: str, new: list[str]) -> list[str]:
    argv = list(argv)
    if option in argv:
        i = argv.index(option)
        del argv[i : i + 2]
    return argv + new


@st.composite
def bad_option_value(draw):
    command = draw(st.sampled_from(sorted(INTEGER_OPTIONS)))
    option, minimum = draw(st.sampled_from(sorted(INTEGER_OPTIONS[command].items())))
    text = draw(
        st.one_of(
            st.integers(-(2**70), minimum - 1).map(str),
            st.floats().map(repr),
            TEXT,
            st.sampled_from(["", " ", "1e3", "0x10", "1.0", "one", "--", "-"]),
        ).filter(lambda t: not _accepted(t, minimum))
    )
    files, argv = COMMAND_LINES[command]
    new = [f"{option}={text}"] if draw(st.booleans()) else [option, text]
    return Case(files, tuple(_replace_option(argv, option, new)), (f"argument {option}",))


@st.composite
def unknown_option(draw):
    command = draw(st.sampled_from(sorted(COMMAND_LINES)))
    known = _options_of(command)
    name = draw(st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=12))
    option = "--" + name
    assume(name[0].isalnum() and not any(k.startswith(option) for k in known))
    value = draw(st.one_of(st.none(), TEXT))
    files, argv = COMMAND_LINES[command]
    extra = [option] if value is None else [f"{option}={value}"]
    position = draw(st.sampled_from([i for i in range(1, len(argv) + 1) if i == len(argv) or argv[i].startswith("--")]))
    return Case(files, (*argv[:position], *extra, *argv[position:]), ("unrecognized arguments",))


@fuzz(300)
@pytest.mark.slow
@given(case=st.one_of(bad_option_value(), unknown_option()))
def test_bad_option_value_is_refused(tmp_path_factory, case):
    check_refused(tmp_path_factory, case)


# ------------------------------------------------------------------------------ the generators are honest


@pytest.mark.slow
def test_the_base_files_of_the_generators_are_valid(tmp_path_factory):
    """Each mutation breaks one thing of a valid file: the unmutated files must run."""
    assert len(SCHEMA.leaves) > 100 and len(RANGED) > 50 and len(SCHEMA.sections) > 20
    for leaf in (*SCHEMA.leaves, *EXPERIMENT_SCHEMA.leaves, *SWEEP_SCHEMA.leaves):
        wrong_type(leaf.kind)  # every parameter kind has wrong values
    for design in tuple(design_types()):
        with example_folder(tmp_path_factory, {SWEEP: toml_document(sweep_doc(design))}):
            load_sweep(SWEEP)
    for command in ("run", "experiment", "sweep"):
        files, argv = COMMAND_LINES[command]
        with example_folder(tmp_path_factory, files) as folder:
            code, stdout, stderr = call_main(argv)
            assert code == 0, stderr
            assert (folder / OUT / ("points.csv" if command == "sweep" else "runs.parquet")).exists()


# ------------------------------------------------------------------------------ 6. valid overrides run

PROBABILITIES = [
    "cram.kill_prob",
    "cram.engage_prob",
    "cram.drone_kill_prob",
    "threats.rocket.dud_prob",
    "threats.rocket.launch_failure_prob",
    "threats.drone.inside_perimeter_prob",
    "policy.us.strikes.revenge_prob",
]
DURATIONS = [
    "campaign.excitation_decay_days",
    "threats.rocket.flight_time_s",
    "cram.engagement_time_s",
    "convoys.trip_duration_h",
    "policy.us.strikes.revenge_decay_days",
]


def test_the_valid_override_keys_have_the_rules_assumed():
    rules = {leaf.path: leaf.rule.text for leaf in SCHEMA.leaves}
    assert all(rules[key] == "must be in [0, 1]" for key in PROBABILITIES)
    assert all(rules[key] == "must be > 0" for key in DURATIONS)


VALID_OVERRIDES = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(PROBABILITIES), st.one_of(st.floats(0, 1), st.sampled_from([0, 1]))),
        st.tuples(st.sampled_from(DURATIONS), st.one_of(st.floats(1e-3, 1e4), st.integers(1, 10_000))),
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda kv: kv[0],
)


@fuzz(15)
@pytest.mark.slow
@given(overrides=VALID_OVERRIDES)
def test_valid_overrides_run(tmp_path_factory, overrides):
    sets = [f"--set={key}={toml_value(value)}" for key, value in overrides]
    argv = ("run", str(BASELINE), f"--set=scenario.end_date={SHORT_END}", *sets, *RUN)
    with example_folder(tmp_path_factory, {}) as folder:
        code, stdout, stderr = call_main(argv)
        assert code == 0, f"{argv}: {stderr}"
        assert stderr == "" and "wrote" in stdout
        assert len(pd.read_parquet(folder / OUT / "runs.parquet")) == 1


# ------------------------------------------------------------------------------ 7. known bug families
# Line breaks in a name, batches whose scenarios span different calendar quarters, a constant
# Saltelli output, a table of sweep values: each must be refused in one line (exit 2, nothing
# written) or, for the batches, run (exit 0). (test_the_error_names_the_file_that_wrote_the_value
# above belongs here too: it fails on a table written over a parameter.)

BREAKS = st.sampled_from(list(LINE_BREAKS))
BROKEN_NAMES = st.builds(
    lambda a, b, c: a + b + c,
    st.text(string.ascii_lowercase, max_size=3),
    BREAKS,
    st.text(string.ascii_lowercase, max_size=3),
)


@st.composite
def name_with_a_line_break(draw):
    name = draw(BROKEN_NAMES)
    where = draw(
        st.sampled_from(["set", "file", "experiment_name", "reference_list", "experiment_key", "sweep_spec", "option"])
    )
    if where == "set":
        return _set_case(f"cram.{name}=1")
    if where == "file":
        return Case({SCENARIO: scenario_text(("cram", name), 1)}, ("run", SCENARIO, *RUN))
    doc = experiment_doc()
    if where == "experiment_name":
        doc["scenarios"][name] = {}
        return _experiment_case(doc)
    if where == "reference_list":
        doc["scenarios"][name] = {}
        doc["experiment"]["reference"] = "zz"
        return _experiment_case(doc)
    if where == "experiment_key":
        doc["experiment"][name] = 1
        return _experiment_case(doc)
    if where == "sweep_spec":
        doc = sweep_doc()
        doc["parameters"][name] = 1
        return _sweep_case(doc)
    return Case({SCENARIO: SMALL_SCENARIO}, ("run", SCENARIO, f"--zz{name}", *RUN))


@fuzz(30)
@pytest.mark.slow
@given(case=name_with_a_line_break())
def test_a_name_with_a_line_break_stays_on_one_line(tmp_path_factory, case):
    check_refused(tmp_path_factory, case)


def check_ran(tmp_path_factory, case: Case, product: str) -> None:
    """Run ``case``: exit 0, no traceback, ``product`` written in the --out folder."""
    with example_folder(tmp_path_factory, case.files) as folder:
        code, stdout, stderr = call_main(case.argv)
        assert "Traceback" not in stdout + stderr, f"traceback for {case.argv}:\n{stderr[-2500:]}"
        assert code == 0, f"exit code {code!r}: {stderr!r}"
        assert (folder / OUT / product).exists(), f"exit 0 without {product}"


# A horizon that ends in a later calendar quarter than SHORT_END's: the batch's runs would have
# other quarterly columns, so one horizon per batch is the rule that refuses it.
LATER_QUARTER = st.dates(min_value=date(2020, 4, 1), max_value=date(2020, 5, 31))
OTHER_QUARTERS = "spans other calendar quarters"


@fuzz(3, shrink=False)
@pytest.mark.slow
@given(end=LATER_QUARTER, other=st.sampled_from(["a", "b"]))
def test_experiment_scenarios_with_different_horizons(tmp_path_factory, end, other):
    doc = experiment_doc()
    del doc["experiment"]["end_date"]
    doc["scenarios"] = {"a": {"set": {"scenario.end_date": SHORT_END}}, "b": {"set": {"scenario.end_date": SHORT_END}}}
    doc["scenarios"][other]["set"]["scenario.end_date"] = end
    check_refused(tmp_path_factory, _experiment_case(doc, ["scenarios.", OTHER_QUARTERS]))


@fuzz(3, shrink=False)
@pytest.mark.slow
@given(end=LATER_QUARTER)
def test_sweep_over_the_horizon(tmp_path_factory, end):
    doc = sweep_doc()
    del doc["sweep"]["end_date"]
    doc["parameters"] = {"scenario.end_date": {"values": [SHORT_END, end]}}
    check_refused(tmp_path_factory, _sweep_case(doc, ["point-0001 of the design", OTHER_QUARTERS]))


@fuzz(3, shrink=False)
@given(
    end=st.dates(min_value=date(2020, 1, 2), max_value=date(2020, 1, 4)),
    outcome=st.sampled_from(["embassy_closed", "us_killed", "truce_days"]),
)
@pytest.mark.slow
def test_saltelli_sweep_with_a_constant_outcome(tmp_path_factory, end, outcome):
    doc = sweep_doc("saltelli")
    doc["sweep"].update({"end_date": end, "outcomes": [outcome]})
    check_ran(tmp_path_factory, _sweep_case(doc), "sensitivity.csv")


@fuzz(5, shrink=False)
@pytest.mark.slow
@given(
    doctrines=st.lists(
        st.sampled_from(["continuity", "tougher_love", "separation"]), min_size=1, max_size=3, unique=True
    )
)
def test_sweep_values_that_are_a_table_are_refused(tmp_path_factory, doctrines):
    doc = sweep_doc()
    doc["parameters"] = {"policy.us.doctrine": {"values": {d: 1 for d in doctrines}}}
    check_refused(tmp_path_factory, _sweep_case(doc, ["values"]))


# ------------------------------------------------------------------------------ 8. public record files (validate)
# The rows of configs/data/public_record.csv, one broken at a time. The columns are the loader's
# REQUIRED, the statistics sim.replication.checks.STATISTICS, the kinds the model's record kinds
# and the uses USES: a new column, statistic or kind is fuzzed without a change here. The
# scenario is ten days long, so a record the loader wrongly accepted would run (and fail the
# property by writing --out), not hang.

RECORD = "record.csv"
RECORD_HEADER, RECORD_ROWS = (lambda r: (list(r.fieldnames or ()), list(r)))(
    csv.DictReader(
        io.StringIO((ROOT / "configs" / "data" / "public_record.csv").read_text(encoding="utf-8"), newline="")
    )
)
KNOWN_KINDS = frozenset(k.name for k in record_kinds())
NUMBER_COLUMNS = ("observed_low", "observed_high", "days")
NOT_FINITE_TEXTS = st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e999"])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


NOT_A_NUMBER = TEXT.filter(lambda t: t.strip() != "" and not _is_number(t.strip()))
NOT_A_DATE = st.one_of(
    TEXT, st.sampled_from(["2020-13-01", "2020-02-30", "20200101", "2020/01/01", "1 Jan 2020", "0000-01-01"])
).filter(lambda t: not _is_date(t.strip()))


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def record_text(header, rows, line_end: str = "\n") -> str:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, header, extrasaction="ignore", lineterminator=line_end)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _validate_case(content, expect=(), origin: str | None = RECORD) -> Case:
    argv = ("validate", SCENARIO, "--record", RECORD, "--replications", "1", "--workers", "1", "--quiet", "--out", OUT)
    return Case({SCENARIO: SMALL_SCENARIO, RECORD: content}, argv, tuple(expect), origin)


def _record_edit(edit):
    """A strategy of validate cases from ``edit(rows, draw) -> expect`` on a copy of the real
    record's rows; a byte-order mark and CRLF line ends are drawn too (both are read as if absent)."""

    @st.composite
    def strategy(draw):
        header, rows = list(RECORD_HEADER), [dict(r) for r in RECORD_ROWS]
        expect = edit(header, rows, draw)
        text = record_text(header, rows, draw(st.sampled_from(["\n", "\r\n"])))
        return _validate_case(("\ufeff" if draw(st.booleans()) else "") + text, expect)

    return strategy()


def _row_index(rows, draw, where=lambda r: True) -> int:
    return draw(st.sampled_from([i for i, r in enumerate(rows) if where(r)]))


def _missing_column(header, rows, draw):
    column = draw(st.sampled_from(REQUIRED_COLUMNS))
    header.remove(column)
    return ("error: header = ", f"missing {column}")


def _bad_check_id(header, rows, draw):
    i = _row_index(rows, draw)
    rows[i]["check"] = draw(
        st.one_of(
            TEXT.filter(lambda t: not RECORD_ID.fullmatch(t.strip())),
            st.from_regex(RECORD_ID, fullmatch=True).map(lambda t: "month." + t),
        )
    )
    return (f"error: row {i + 2}: check = ",)


def _duplicate_check(header, rows, draw):
    i, j = draw(st.lists(st.integers(0, len(rows) - 1), min_size=2, max_size=2, unique=True).map(sorted))
    rows[j]["check"] = rows[i]["check"]
    return (f"error: row {j + 2}: check = ", "appears twice")


def _unknown_statistic(header, rows, draw):
    i = _row_index(rows, draw)
    rows[i]["statistic"] = draw(TEXT.filter(lambda t: t.strip() not in STATISTIC_NAMES))
    return (f"error: row {i + 2}: statistic = ", "must be one of")


def _unknown_kind(header, rows, draw):
    i = _row_index(rows, draw)
    kinds = rows[i]["kinds"].split("+")
    bad = draw(st.one_of(st.just(""), TEXT.filter(lambda t: "+" not in t and t.strip() not in KNOWN_KINDS)))
    kinds.insert(draw(st.integers(0, len(kinds))), bad)
    rows[i]["kinds"] = "+".join(kinds)
    return (f"error: row {i + 2}: kinds = ", "must name record kinds")


def _bad_date(header, rows, draw):
    i = _row_index(rows, draw)
    column = draw(st.sampled_from(["from", "to"]))
    rows[i][column] = draw(NOT_A_DATE)
    return (f"error: row {i + 2}: {column} = ", "must be a date")


def _to_before_from(header, rows, draw):
    i = _row_index(rows, draw)
    start = date.fromisoformat(rows[i]["from"])
    rows[i]["to"] = draw(st.dates(min_value=date(1900, 1, 1), max_value=start - timedelta(days=1))).isoformat()
    return (f"error: row {i + 2}: to = ", "must not be before from")


def _bad_number(header, rows, draw):
    i = _row_index(rows, draw)
    column = draw(st.sampled_from(["observed_low", "observed_high"]))
    if draw(st.booleans()):
        rows[i][column] = draw(NOT_A_NUMBER)
        return (f"error: row {i + 2}: {column} = ", "must be a number")
    rows[i][column] = draw(NOT_FINITE_TEXTS)
    return (f"error: row {i + 2}: {column} = ", "must be a finite number")


def _negative_or_crossed(header, rows, draw):
    i = _row_index(rows, draw)
    if draw(st.booleans()):
        rows[i]["observed_low"] = repr(draw(st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False)))
        rows[i]["observed_high"] = ""
        return (f"error: row {i + 2}: observed_low = ", "must be >= 0")
    low = draw(st.floats(1, 1e6))
    rows[i]["observed_low"], rows[i]["observed_high"] = (
        repr(low),
        repr(draw(st.floats(0, low).filter(lambda h: h < low))),
    )
    return (f"error: row {i + 2}: observed_high = ", "observed_low <= observed_high")


def _observed_beyond_bound(header, rows, draw):
    i = _row_index(rows, draw)
    column = draw(st.sampled_from(["observed_low", "observed_high"]))
    value = draw(
        st.one_of(
            st.floats(public_record.MAX_OBSERVED, 1.7e308, exclude_min=True).map(repr),
            st.integers(public_record.MAX_OBSERVED + 1, 10**300).map(str),
        )
    )
    rows[i]["observed_low"] = value if column == "observed_low" else rows[i]["observed_low"]
    rows[i]["observed_high"] = value
    return (f"error: row {i + 2}: {column} = ", "must be at most")


def _none_not_zero_or_one(header, rows, draw):
    i = _row_index(rows, draw, lambda r: r["statistic"] == "none")
    low = draw(st.one_of(st.floats(0, 1e6).filter(lambda v: v not in (0, 1)), st.sampled_from([0.0, 1.0])))
    high = draw(st.one_of(st.just(None), st.floats(low, 1e6)).filter(lambda h: low not in (0, 1) or h != low))
    rows[i]["observed_low"], rows[i]["observed_high"] = repr(low), "" if high is None else repr(high)
    return (f"error: row {i + 2}: observed_low = ", "for none")


def _followed_within_row(**changes) -> dict:
    row = dict(
        RECORD_ROWS[0],
        check="followed_fuzz",
        statistic="followed_within",
        trigger="attack_rocket",
        days="3",
        observed_low="0",
        observed_high="1",
    )
    return {**row, **changes}


def _bad_followed_within(header, rows, draw):
    i = draw(st.integers(0, len(rows)))
    line = f"error: row {i + 2}: "
    choice = draw(st.sampled_from(["trigger", "days", "not_a_number", "share", "open"]))
    if choice == "trigger":
        row, expect = (
            _followed_within_row(trigger=draw(TEXT.filter(lambda t: t.strip() not in KNOWN_KINDS))),
            "trigger = ",
        )
    elif choice == "days":
        days = draw(
            st.one_of(
                st.floats(max_value=0, allow_nan=False, allow_infinity=False).map(repr),
                NOT_FINITE_TEXTS,
                st.floats(public_record.MAX_DAYS, 1e308, exclude_min=True).map(repr),
            )
        )  # beyond its bound
        row, expect = _followed_within_row(days=days), "days = "
    elif choice == "not_a_number":
        row, expect = _followed_within_row(days=draw(NOT_A_NUMBER)), "days = "
    elif choice == "share":
        row, expect = (
            _followed_within_row(observed_low="0", observed_high=repr(draw(st.floats(1, 1e9, exclude_min=True)))),
            "observed_high = ",
        )
    else:
        row, expect = _followed_within_row(observed_high=""), "observed_high = "
    rows.insert(i, row)
    return (line + expect,)


def _trigger_without_followed_within(header, rows, draw):
    i = _row_index(rows, draw)
    column = draw(st.sampled_from(["trigger", "days"]))
    rows[i][column] = draw(TEXT.filter(lambda t: t.strip() != ""))
    return (f"error: row {i + 2}: ", "must be empty for")


def _blank_source(header, rows, draw):
    i = _row_index(rows, draw)
    rows[i]["source"] = draw(st.sampled_from(["", " ", "\t", "  "]))
    return (f"error: row {i + 2}: source = ", "must name where")


def _unknown_use(header, rows, draw):
    i = _row_index(rows, draw)
    rows[i]["use"] = draw(TEXT.filter(lambda t: t.strip() and t.strip() not in RECORD_USES))
    return (f"error: row {i + 2}: use = ", "must be one of")


def _no_row_left(header, rows, draw):
    rows.clear()
    return ("error: record file holds no rows",)


REQUIRED_COLUMNS, RECORD_ID, STATISTIC_NAMES, RECORD_USES = (
    public_record.REQUIRED,
    public_record.ID,
    STATISTICS,
    public_record.USES,
)
HUGE_CELL = "x" * 200_000  # more than csv's field size limit
BROKEN_RECORDS = st.one_of(
    *(
        _record_edit(e)
        for e in (
            _missing_column,
            _bad_check_id,
            _duplicate_check,
            _unknown_statistic,
            _unknown_kind,
            _bad_date,
            _to_before_from,
            _bad_number,
            _negative_or_crossed,
            _observed_beyond_bound,
            _none_not_zero_or_one,
            _bad_followed_within,
            _trigger_without_followed_within,
            _blank_source,
            _unknown_use,
            _no_row_left,
        )
    ),
    UNDECODABLE.map(lambda b: _validate_case(b, ["record file cannot be read"])),
    BLANK.map(lambda t: _validate_case(t, ["error: header = "])),
    st.text(max_size=40).map(lambda t: _validate_case(t)),
    st.just(_validate_case(",".join(RECORD_HEADER) + "\n" + HUGE_CELL + "\n", ["record file cannot be read"])),
)


@fuzz(400)
@pytest.mark.slow
@given(case=BROKEN_RECORDS)
def test_broken_public_record_is_refused(tmp_path_factory, case):
    check_refused(tmp_path_factory, case)


def test_a_record_beyond_its_size_bound_is_refused(tmp_path_factory):
    """A record of more than 10 MB: refused before it is read (one case, a 10 MB file)."""
    row = record_text(RECORD_HEADER, RECORD_ROWS[:1]).splitlines()[1]
    text = record_text(RECORD_HEADER, []) + (row + "\n") * (RECORD_BYTES.most // len(row) + 1)
    check_refused(tmp_path_factory, _validate_case(text, ["record file holds", "more than 10 MB"]))


# ------------------------------------------------------------------------------ 9. calibration files
# configs/calibration.toml, its paths made absolute, broken one thing at a time. The header's
# leaves (budgets included) are walked from CalibrationHeader; the priors' families and
# arguments come from sim.calibration.priors.FAMILIES, the parameters they may name from the
# scenario schema (SCHEMA): a new family, argument, setting or parameter is fuzzed as it comes.
# `calibrate` is refused at load, before the pilot simulates anything.

CALIBRATION = "calibration.toml"
CALIBRATION_FILE = ROOT / "configs" / "calibration.toml"
CALIBRATION_SCHEMA = walk(CalibrationHeader)
CALIBRATION_PATHS = ("scenario", "record", "replay", "events")


def calibration_doc() -> dict:
    doc = tomllib.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    for key in CALIBRATION_PATHS:
        doc["calibration"][key] = str(CALIBRATION_FILE.parent / doc["calibration"][key])
    return doc


def _calibration_case(doc_or_text, expect=(), origin: str | None = CALIBRATION, extra=()) -> Case:
    content = toml_document(doc_or_text) if isinstance(doc_or_text, dict) else doc_or_text
    return Case(
        {CALIBRATION: content},
        ("calibrate", CALIBRATION, "--quick", "--quiet", "--workers", "1", "--out", OUT, *extra),
        tuple(expect),
        origin,
    )


def _calibration_edit(edit):
    @st.composite
    def strategy(draw):
        doc = calibration_doc()
        expect, origin = edit(doc, draw)
        return _calibration_case(doc, expect, origin)

    return strategy()


def _set_path(doc: dict, parts, value) -> None:
    for part in parts[:-1]:
        doc = doc[part]
    doc[parts[-1]] = value


def _interval(rule: Rule | None):
    """(low, low_inclusive, high, high_inclusive) of 'must be in (a, b]' and the like, or None."""
    if m := re.fullmatch(r"must be in ([\[(])(\S+), (\S+)([\])])", rule.text if rule else ""):
        return float(m[2].replace(",", "")), m[1] == "[", float(m[3].replace(",", "")), m[4] == "]"
    return None


def _outside(leaf: Leaf) -> st.SearchStrategy | None:
    """Numbers outside ``leaf``'s rule, open interval ends included."""
    bad = out_of_range(leaf)
    if bad is not None or leaf.kind not in (int, float) or (interval := _interval(leaf.rule)) is None:
        return bad
    low, low_in, high, high_in = interval
    return st.one_of(
        _numbers(leaf.kind, high=low, exclude_high=low_in), _numbers(leaf.kind, low=high, exclude_low=high_in)
    )


CALIBRATION_RANGED = tuple(leaf for leaf in CALIBRATION_SCHEMA.leaves if _outside(leaf) is not None)


def _calibration_wrong_type(doc, draw):
    change = draw(wrong_type_change(CALIBRATION_SCHEMA, "calibration."))
    _set_path(doc, change.parts, change.value)
    return change.expect, CALIBRATION


def _calibration_out_of_range(doc, draw):
    leaf = draw(st.sampled_from(CALIBRATION_RANGED))
    value = draw(_outside(leaf))
    _set_path(doc, ("calibration", *leaf.path.split(".")), value)
    return (
        f"error: calibration.{leaf.path} = ",
        leaf.rule.broken_by(value),
    ), CALIBRATION  # the rule as told of this value


def _calibration_missing(doc, draw):
    required = [leaf.path for leaf in CALIBRATION_SCHEMA.leaves if not leaf.optional]
    assert {"events", "distance", "npe_simulations"} <= {
        leaf.path.split(".")[-1] for leaf in CALIBRATION_SCHEMA.leaves if leaf.optional
    }
    path = draw(st.sampled_from(required + ["full", "quick"]))
    parts = ("calibration", *path.split("."))
    node = doc
    for part in parts[:-1]:
        node = node[part]
    del node[parts[-1]]
    return (
        f"error: calibration.{path.split('.')[0] if path in ('full', 'quick') else path} is missing (required)",
    ), CALIBRATION


def _calibration_unknown_key(doc, draw):
    section = draw(st.sampled_from(CALIBRATION_SCHEMA.sections))
    if draw(st.booleans()):
        name = draw(TEXT.filter(lambda n: n not in ("calibration", "priors")))
        doc[name] = draw(VALUES)
        return named(name, "is not a known key"), CALIBRATION
    name = draw(_unknown_name(section))
    _set_path(doc, ("calibration", *section.parts, name), draw(VALUES))
    return (f"error: calibration.{'.'.join((*section.parts, name))} = ", "is not a known key"), CALIBRATION


def _too_few_simulations(doc, draw):
    budget = doc["calibration"][draw(st.sampled_from(["full", "quick"]))]
    budget["max_simulations"] = draw(st.integers(1, 3 * budget["particles"] - 1))
    return ("max_simulations = ", "must be >= 3 x particles"), CALIBRATION


def _calibration_names_no_file(doc, draw):
    key = draw(st.sampled_from(CALIBRATION_PATHS))
    doc["calibration"][key] = draw(
        st.one_of(st.sampled_from(["", ".", "..", "/"]), TEXT.map(lambda t: f"zz_missing_{t}"))
    )
    return (f"error: calibration.{key} = ", "names no file"), CALIBRATION


def _unknown_distance(doc, draw):
    doc["calibration"]["distance"] = draw(TEXT.filter(lambda d: d not in DISTANCES))
    return ("error: calibration.distance = ", "must be one of"), CALIBRATION


# the parameters a prior may not name: a table, a parameter that is not a real number, or no parameter
def _real_valued(leaf: Leaf) -> bool:
    """A parameter declared ``float`` (not ``float | None``): what a prior may describe."""
    return typing.get_type_hints(type(prior_section(BASE, leaf.path)))[leaf.path.rsplit(".", 1)[1]] is float


PRIOR_NOT_REAL = tuple(leaf.path for leaf in SCHEMA.leaves if not _real_valued(leaf))
REAL_RANGED = tuple(leaf for leaf in RANGED if _real_valued(leaf))


def _prior_names_no_real_parameter(doc, draw):
    change = draw(
        st.one_of(
            unknown_key(SET_NAMES),
            below_a_parameter(SET_NAMES),
            st.sampled_from(SCHEMA.tables + PRIOR_NOT_REAL).map(lambda p: Change(tuple(p.split(".")), None, ())),
        )
    )
    doc["priors"][change.key] = {"family": "uniform", "low": 0.1, "high": 0.2}
    return (f'error: priors."{change.key}" = ',), CALIBRATION


def _pick_prior(doc, draw) -> tuple[str, dict]:
    path = draw(st.sampled_from(sorted(doc["priors"])))
    return path, doc["priors"][path]


def _prior_family(doc, draw):
    path, entry = _pick_prior(doc, draw)
    if draw(st.booleans()):
        del entry["family"]
    else:
        entry["family"] = draw(st.one_of(TEXT.filter(lambda f: f not in FAMILIES), INTS, FINITE, LISTS, TABLES))
    return (f'error: priors."{path}".family = ', "must be one of"), CALIBRATION


def _prior_arguments(doc, draw):
    path = draw(st.sampled_from(sorted(doc["priors"])))
    family = draw(st.sampled_from(sorted(FAMILIES)))
    arguments = {f.name: f for f in dataclasses.fields(FAMILIES[family])}
    entry = {"family": family, **_valid_arguments(family)}
    doc["priors"][path] = entry
    key = f'priors."{path}".'
    choice = draw(st.sampled_from(["unknown", "missing", "wrong_type", "not_finite"]))
    name = draw(st.sampled_from(sorted(arguments)))
    if choice == "unknown":
        unknown = draw(TEXT.filter(lambda k: k not in arguments and k != "family"))
        entry[unknown] = draw(VALUES)
        return (f"error: {key}{unknown} = ", "is not a known key"), CALIBRATION
    if choice == "missing":
        del entry[name]
        return (f"error: {key}{name} is missing",), CALIBRATION
    if choice == "wrong_type":
        entry[name] = draw(wrong_type(float))
        return (f"error: {key}{name} = ",), CALIBRATION
    entry[name] = draw(NON_FINITE)
    return (f"error: {key}{name} = ", "must be a finite number"), CALIBRATION


def _valid_arguments(family: str) -> dict:
    """Arguments of ``family`` that kill_prob (in [0, 1]) accepts, from the fields' names."""
    values = {"low": 0.3, "mode": 0.5, "high": 0.9, "median": 0.5, "log_sd": 0.1}
    return {f.name: values[f.name] for f in dataclasses.fields(FAMILIES[family])}


def _prior_bounds_crossed(doc, draw):
    path, entry = _pick_prior(doc, draw)
    family = draw(
        st.sampled_from(
            [f for f, kind in FAMILIES.items() if {"low", "high"} <= {x.name for x in dataclasses.fields(kind)}]
        )
    )
    low = draw(st.floats(1e-6, 1e3))
    entry.clear()
    entry.update({"family": family, **_valid_arguments(family), "low": low, "high": draw(st.floats(1e-9, low))})
    if "mode" in entry:
        entry["mode"] = low
    return (f'error: priors."{path}".high = ', "must be > low"), CALIBRATION


def _prior_mode_outside(doc, draw):
    path, entry = _pick_prior(doc, draw)
    entry.clear()
    entry.update(
        {
            "family": "triangular",
            "low": 0.3,
            "high": 0.9,
            "mode": draw(st.one_of(st.floats(-1e9, 0.3, exclude_max=True), st.floats(0.9, 1e9, exclude_min=True))),
        }
    )
    return (f'error: priors."{path}".mode = ', "must be within"), CALIBRATION


def _prior_not_positive(doc, draw):
    """A scale or a bound of a family whose rule is > 0 (lognormal's log_sd, loguniform's bounds)."""
    family, name = draw(
        st.sampled_from(
            [
                (f, x.name)
                for f, kind in FAMILIES.items()
                for x in dataclasses.fields(kind)
                if x.metadata.get("rule") is not None and x.metadata["rule"].text == "must be > 0"
            ]
        )
    )
    path, entry = _pick_prior(doc, draw)
    entry.clear()
    entry.update(
        {
            "family": family,
            **_valid_arguments(family),
            name: draw(st.one_of(st.floats(-1e9, 0), st.integers(-(2**40), 0))),
        }
    )
    return (f'error: priors."{path}".{name} = ', "must be > 0"), CALIBRATION


def _prior_outside_the_rule(doc, draw):
    """A uniform prior across an end of the parameter's rule: mass where the rule refuses a value."""
    leaf = draw(st.sampled_from(REAL_RANGED))
    low, inclusive, high = _bounds(leaf.rule)
    end = draw(st.sampled_from([low] if high is None else [low, high]))
    width = draw(st.floats(0.01, 100))
    doc["priors"][leaf.path] = {"family": "uniform", "low": end - width, "high": end + width}
    return (f'error: priors."{leaf.path}" = ', "puts prior mass where the parameter's rule refuses it"), CALIBRATION


HUGE = st.floats(1e300, 1.7e308)


def _prior_of_absurd_numbers(doc, draw):
    """Arguments near the largest float: a support across the whole line, or a spread whose ends overflow."""
    leaf = draw(st.sampled_from(REAL_RANGED))
    if draw(st.booleans()):
        entry = {"family": "uniform", "low": -draw(HUGE), "high": draw(HUGE)}
    else:
        entry = {
            "family": "lognormal",
            "median": draw(st.one_of(st.floats(1e-3, 1e3), HUGE)),
            "log_sd": draw(st.floats(1e3, 1.7e308)),
        }
    doc["priors"][leaf.path] = entry
    return (f'error: priors."{leaf.path}" = ', "puts prior mass where the parameter's rule refuses it"), CALIBRATION


def _priors_not_a_table(doc, draw):
    if draw(st.booleans()):
        doc["priors"] = draw(st.one_of(SCALARS, LISTS, st.just({})))
        return ("error: priors = ", "must be a table of priors"), CALIBRATION
    path, _ = _pick_prior(doc, draw)
    doc["priors"][path] = draw(st.one_of(SCALARS, LISTS))
    return (f'error: priors."{path}" = ', "must be a table with a family"), CALIBRATION


@st.composite
def _hold_out_no_fit_row(draw):
    fit = {r["check"] for r in RECORD_ROWS if r["use"] == "fit"}
    name = draw(
        st.one_of(
            st.sampled_from(sorted({r["check"] for r in RECORD_ROWS} - fit)),
            st.from_regex(r"[a-z_]{1,12}", fullmatch=True).filter(lambda n: n not in fit),
        )
    )
    return _calibration_case(
        calibration_doc(), ["error: --hold-out = ", "must name a row"], "command line", ("--hold-out", name)
    )


BROKEN_CALIBRATIONS = st.one_of(
    _unreadable_file("calibration").map(lambda c: _calibration_case(c[0], c[1])),
    BLANK.map(lambda t: _calibration_case(t, ["error: calibration.name is missing (required)"])),
    _hold_out_no_fit_row(),
    *(
        _calibration_edit(e)
        for e in (
            _calibration_wrong_type,
            _calibration_out_of_range,
            _calibration_missing,
            _calibration_unknown_key,
            _too_few_simulations,
            _calibration_names_no_file,
            _unknown_distance,
            _prior_names_no_real_parameter,
            _prior_family,
            _prior_arguments,
            _prior_bounds_crossed,
            _prior_mode_outside,
            _prior_not_positive,
            _prior_outside_the_rule,
            _prior_of_absurd_numbers,
            _priors_not_a_table,
        )
    ),
)


@fuzz(300)
@pytest.mark.slow
@given(case=BROKEN_CALIBRATIONS)
def test_broken_calibration_file_is_refused(tmp_path_factory, case):
    check_refused(tmp_path_factory, case)


# ------------------------------------------------------------------------------ 10. robustness experiments
# A cheap robustness experiment (two options, two states, one replication, ten days), broken one
# thing at a time: its states, [uncertain] ranges, [thresholds] and [precision]. The header's
# leaves come from ExperimentHeader (section 3 fuzzes them all); the design types from
# sim.design.types, the outcomes from the experiment, the keys from sim.design.robustness.

UNCERTAIN = "policy.us.strikes.revenge_prob"  # a probability no option of experiment_doc() sets


def robustness_doc() -> dict:
    doc = experiment_doc()
    doc["experiment"].update({"states": 2, "states_design": "lhs"})
    doc["uncertain"] = {UNCERTAIN: {"low": 0.1, "high": 0.9}}
    doc["thresholds"] = {"us_killed": {"max": 0.5}}
    doc["precision"] = {"regret_mean": {"us_killed": 0.2}, "satisficing": 0.3}
    return doc


def _robustness_edit(edit):
    @st.composite
    def strategy(draw):
        doc = robustness_doc()
        expect, origin = edit(doc, draw)
        return _experiment_case(doc, expect, origin)

    return strategy()


OUTCOMES_OF_DOC = tuple(experiment_doc()["experiment"]["outcomes"])
NOT_AN_OUTCOME = TEXT.filter(lambda n: n not in OUTCOMES_OF_DOC)
NOT_A_FINITE_NUMBER = st.one_of(NON_FINITE, st.booleans(), TEXT, DATES, LISTS, TABLES)


def _states_wrong(doc, draw):
    leaf = next(leaf for leaf in EXPERIMENT_SCHEMA.leaves if leaf.path == "states")
    if draw(st.booleans()):
        doc["experiment"]["states"] = draw(wrong_type(int))
        return ("error: experiment.states = ",), EXPERIMENT
    doc["experiment"]["states"] = draw(out_of_range(leaf))
    return ("error: experiment.states = ", leaf.rule.text), EXPERIMENT


def _states_design_wrong(doc, draw):
    unsized = [d for d in design_types() if not (design_type(d).bounded and design_type(d).sized)]
    doc["experiment"]["states_design"] = draw(
        st.one_of(st.sampled_from(unsized + ["saltelli"]), TEXT.filter(lambda d: d not in design_types()))
    )
    return ("error: experiment.states_design = ",), EXPERIMENT


def _uncertain_wrong(doc, draw):
    choice = draw(
        st.sampled_from(["table", "entry", "unknown", "missing", "crossed", "not_finite", "path", "outside", "fixed"])
    )
    spec = doc["uncertain"][UNCERTAIN]
    if choice == "table":
        doc["uncertain"] = draw(st.one_of(SCALARS, LISTS, st.just({})))
        return ("error: uncertain = ",), EXPERIMENT
    if choice == "entry":
        doc["uncertain"][UNCERTAIN] = draw(st.one_of(SCALARS, LISTS))
        return (f"error: uncertain.{UNCERTAIN} = ", "must be a table with low and high"), EXPERIMENT
    if choice == "unknown":
        name = draw(TEXT.filter(lambda k: k not in ("low", "high")))
        spec[name] = draw(VALUES)
        return (f"error: uncertain.{UNCERTAIN}.{name} = ", "is not a known key"), EXPERIMENT
    if choice == "missing":
        bound = draw(st.sampled_from(["low", "high"]))
        del spec[bound]
        return (f"error: uncertain.{UNCERTAIN}.{bound} is missing",), EXPERIMENT
    if choice == "crossed":
        high = draw(st.floats(0, 1))
        spec.update({"low": draw(st.floats(high, 1)), "high": high})
        return ("error: uncertain.", "must be < high"), EXPERIMENT
    if choice == "not_finite":
        spec[draw(st.sampled_from(["low", "high"]))] = draw(NOT_A_FINITE_NUMBER)
        return ("error: uncertain.",), EXPERIMENT
    if choice == "path":  # no parameter, a table, or a parameter that is not a number
        change = draw(
            st.one_of(
                unknown_key(SET_NAMES),
                below_a_parameter(SET_NAMES),
                names_a_table(),
                st.sampled_from([leaf.path for leaf in SCHEMA.leaves if leaf.kind not in (int, float)]).map(
                    lambda p: Change(tuple(p.split(".")), None, ())
                ),
            )
        )
        doc["uncertain"] = {change.key: {"low": 0.1, "high": 0.9}}
        return (), None  # named as an [uncertain] entry or as the state that sets it
    if choice == "outside":  # a range across an end of the parameter's rule
        leaf = draw(st.sampled_from(REAL_RANGED))
        low, _, high = _bounds(leaf.rule)
        end = draw(st.sampled_from([low] if high is None else [low, high]))
        doc["uncertain"] = {leaf.path: {"low": end - 1, "high": end + 1}}
        return ("error: ",), None  # refused by the states that break the rule, or by the range itself
    doc["scenarios"]["b"]["set"][UNCERTAIN] = draw(st.floats(0, 1).filter(lambda v: v != BASE_REVENGE_PROB))
    return ("error: scenarios.b = ", "an uncertain parameter the states vary"), EXPERIMENT


def _thresholds_wrong(doc, draw):
    choice = draw(st.sampled_from(["table", "outcome", "spec", "bound", "value"]))
    if choice == "table":
        doc["thresholds"] = draw(st.one_of(SCALARS, LISTS))
        return ("error: thresholds = ",), EXPERIMENT
    if choice == "outcome":
        name = draw(NOT_AN_OUTCOME)
        doc["thresholds"][name] = {"max": 1.0}
        return (f"error: thresholds.{name} = ", "must be one of the experiment's outcomes"), EXPERIMENT
    if choice == "spec":
        doc["thresholds"]["us_killed"] = draw(st.one_of(SCALARS, LISTS, st.just({}), st.just({"max": 1.0, "min": 0.0})))
        return ("error: thresholds.us_killed = ", "must be { max = value } or { min = value }"), EXPERIMENT
    if choice == "bound":
        name = draw(TEXT.filter(lambda b: b not in ("max", "min")))
        doc["thresholds"]["us_killed"] = {name: 1.0}
        return (f"error: thresholds.us_killed.{name} = ", "is not a known key"), EXPERIMENT
    bound = draw(st.sampled_from(["max", "min"]))
    doc["thresholds"]["us_killed"] = {bound: draw(NOT_A_FINITE_NUMBER)}
    return (f"error: thresholds.us_killed.{bound} = ", "must be a finite number"), EXPERIMENT


NOT_A_HALF_WIDTH = st.one_of(NOT_A_FINITE_NUMBER, st.floats(max_value=0, allow_nan=False), st.integers(-(2**40), 0))


def _robustness_precision_wrong(doc, draw):
    choice = draw(st.sampled_from(["table", "unknown", "regret", "outcome", "width", "share", "no_thresholds"]))
    precision = doc["precision"]
    if choice == "table":
        doc["precision"] = draw(st.one_of(SCALARS, LISTS, st.just({})))
        return ("error: precision = ",), EXPERIMENT
    if choice == "unknown":
        name = draw(TEXT.filter(lambda k: k not in ("regret_mean", "satisficing")))
        precision[name] = draw(VALUES)
        return (f"error: precision.{name} = ", "is not a known key"), EXPERIMENT
    if choice == "regret":
        precision["regret_mean"] = draw(st.one_of(SCALARS, LISTS))
        return ("error: precision.regret_mean = ", "must be a table"), EXPERIMENT
    if choice == "outcome":
        name = draw(NOT_AN_OUTCOME)
        precision["regret_mean"][name] = 0.1
        return (f"error: precision.regret_mean.{name} = ", "must be one of the experiment's outcomes"), EXPERIMENT
    if choice == "width":
        precision["regret_mean"]["us_killed"] = draw(NOT_A_HALF_WIDTH)
        return ("error: precision.regret_mean.us_killed = ", "must be a positive finite number"), EXPERIMENT
    if choice == "share":
        precision["satisficing"] = draw(NOT_A_HALF_WIDTH)
        return ("error: precision.satisficing = ", "must be a positive finite number"), EXPERIMENT
    del doc["thresholds"]
    return ("error: precision.satisficing = ", "needs [thresholds]"), EXPERIMENT


def _robustness_tables_without_states(doc, draw):
    del doc["experiment"]["states"]
    keep = draw(st.sampled_from(["uncertain", "thresholds", "precision"]))
    for table in {"uncertain", "thresholds", "precision"} - {keep}:
        del doc[table]
    return (f"error: {keep} ", "needs experiment.states"), EXPERIMENT


def _states_with_a_posterior(doc, draw):
    doc["experiment"]["parameters_from"] = str(ROOT / "configs" / "data" / "posterior.parquet")
    return ("error: experiment.parameters_from = ", "cannot be combined with experiment.states"), EXPERIMENT


BASE_REVENGE_PROB = load_scenario(BASELINE).policy.us.strikes.revenge_prob
BROKEN_ROBUSTNESS = st.one_of(
    *(
        _robustness_edit(e)
        for e in (
            _states_wrong,
            _states_design_wrong,
            _uncertain_wrong,
            _thresholds_wrong,
            _robustness_precision_wrong,
            _robustness_tables_without_states,
            _states_with_a_posterior,
        )
    ),
)


@fuzz(300)
@pytest.mark.slow
@given(case=BROKEN_ROBUSTNESS)
def test_broken_robustness_experiment_is_refused(tmp_path_factory, case):
    check_refused(tmp_path_factory, case)


# ------------------------------------------------------------------------------ 11. runs by precision
# `experiment --precision OUTCOME=HALF_WIDTH --max-replications N` (sim.design.precision): a
# malformed or unknown half-width, a budget below the start or without a precision, an experiment
# of one scenario or with states of the world. All refused before the first stage runs.

PRECISION_EXPERIMENT = toml_document(experiment_doc())


def _precision_case(argv_tail, expect=(), origin=None, doc=None) -> Case:
    content = PRECISION_EXPERIMENT if doc is None else toml_document(doc)
    return Case({EXPERIMENT: content}, ("experiment", EXPERIMENT, *BATCH, *argv_tail), tuple(expect), origin)


def _accepted_half_width(text: str) -> bool:
    outcome, sign, width = text.partition("=")
    try:
        value = float(width)
    except ValueError:
        return False
    return bool(sign and outcome.strip()) and math.isfinite(value) and value > 0


@st.composite
def bad_precision_request(draw):
    good = ("--precision", "us_killed=0.5")
    choice = draw(
        st.sampled_from(
            ["malformed", "outcome", "budget_alone", "budget_below", "budget_text", "one_scenario", "states"]
        )
    )
    if choice == "malformed":
        text = draw(
            st.one_of(
                st.builds(
                    lambda o, w: f"{o}={w}",
                    st.sampled_from(["us_killed", "", " "]),
                    st.one_of(st.floats(max_value=0).map(repr), NOT_FINITE_TEXTS, TEXT, st.just("")),
                ),
                TEXT.filter(lambda t: "=" not in t),
            ).filter(lambda t: not _accepted_half_width(t))
        )
        return _precision_case(
            ("--precision", text) if draw(st.booleans()) else (f"--precision={text}",), ["argument --precision"]
        )
    if choice == "outcome":
        name = draw(TEXT.filter(lambda n: "=" not in n and n.strip() and n.strip() not in OUTCOMES_OF_DOC))
        return _precision_case(
            (*good, f"--precision={name}={draw(st.floats(1e-6, 1e6))}"),
            ["error: precision = ", "must name an outcome of the experiment"],
            EXPERIMENT,
        )
    if choice == "budget_alone":
        return _precision_case(
            ("--max-replications", str(draw(st.integers(1, 1000)))), ["max_replications applies only"]
        )
    if choice == "budget_below":
        start = draw(st.integers(2, 50))
        return _precision_case(
            (*good, "--replications", str(start), "--max-replications", str(draw(st.integers(1, start - 1)))),
            ["error: max_replications = ", f"must be an integer >= the experiment's replications ({start})"],
            EXPERIMENT,
        )
    if choice == "budget_text":
        text = draw(
            st.one_of(
                st.integers(-(2**70), 0).map(str),
                st.integers(REPLICATIONS.most + 1, 2**70).map(str),
                st.floats().map(repr),
                TEXT,
            ).filter(lambda t: not _accepted(t, 1) or int(t) > REPLICATIONS.most)
        )
        return _precision_case((*good, f"--max-replications={text}"), ["argument --max-replications"])
    doc = experiment_doc()
    if choice == "one_scenario":
        del doc["scenarios"]["b"]
        return _precision_case(good, ["error: precision = ", "needs an experiment of two scenarios"], EXPERIMENT, doc)
    doc = robustness_doc()
    return _precision_case(good, ["--precision applies to experiments without states of the world"], None, doc)


@fuzz(150)
@pytest.mark.slow
@given(case=bad_precision_request())
def test_bad_precision_request_is_refused(tmp_path_factory, case):
    check_refused(tmp_path_factory, case)


def test_the_base_files_of_the_new_generators_are_valid(tmp_path_factory):
    """The record, calibration and robustness files that sections 8-11 break one thing of load as
    they are, and what the mutations derive from is not empty."""
    assert set(REQUIRED_COLUMNS) <= set(RECORD_HEADER) and len(RECORD_ROWS) > 10 and STATISTIC_NAMES and KNOWN_KINDS
    assert {"full.particles", "quick.particles"} <= {leaf.path for leaf in CALIBRATION_SCHEMA.leaves}
    assert len(CALIBRATION_RANGED) >= 10 and len(REAL_RANGED) > 30 and PRIOR_NOT_REAL
    with example_folder(
        tmp_path_factory,
        {
            RECORD: record_text(RECORD_HEADER, RECORD_ROWS + [_followed_within_row()]),
            CALIBRATION: toml_document(calibration_doc()),
            EXPERIMENT: toml_document(robustness_doc()),
        },
    ):
        assert len(public_record.load_record(RECORD)) == len(RECORD_ROWS) + 1
        assert load_calibration(CALIBRATION).priors
        assert len(load_experiment(EXPERIMENT).batch.scenarios) == 4  # two options in two states
    for family in FAMILIES:
        with example_folder(tmp_path_factory, {}):
            doc = calibration_doc()
            doc["priors"] = {"cram.kill_prob": {"family": family, **_valid_arguments(family)}}
            Path(CALIBRATION).write_text(toml_document(doc), encoding="utf-8")
            load_calibration(CALIBRATION)


# ------------------------------------------------------------------------------ 12. absurd sizes of the new families
# Broken input that the generators above once found accepted at load: the command started work
# (hours of simulation, or gigabytes of design) before refusing it, if it ever did. Each case is
# the minimal example found, run with the first piece of work replaced by an exception, so that
# the test is quick whether or not the bound is there; the property is the one of check_refused.


class ReachedWork(Exception):
    """Raised where the command would have started work: the input got past the loaders."""


def _stop_work_at(monkeypatch, *targets: str) -> None:
    def refuse(*args, **kwargs):
        raise ReachedWork(f"the input was accepted at load: reached {targets}")

    for target in targets:
        monkeypatch.setattr(target, refuse)


ABSURD_BUDGETS = {
    "particles": {"particles": 10**12, "max_simulations": 3 * 10**12},
    "max_simulations": {"max_simulations": 10**18},
    "max_generations": {"max_generations": 10**15},
}


@pytest.mark.parametrize("budget", sorted(ABSURD_BUDGETS))
def test_an_absurd_calibration_budget_is_refused_at_load(tmp_path_factory, monkeypatch, budget):
    doc = calibration_doc()
    doc["calibration"]["quick"].update(ABSURD_BUDGETS[budget])
    _stop_work_at(monkeypatch, "sim.api.calibration._calibrate_in")
    check_refused(tmp_path_factory, _calibration_case(doc, [f"error: calibration.quick.{budget} = "]))


@pytest.mark.parametrize("states", [10**8, 10**9])  # beyond the bounds on design points and on runs
def test_absurdly_many_states_are_refused_at_load(tmp_path_factory, monkeypatch, states):
    doc = robustness_doc()
    doc["experiment"]["states"] = states
    _stop_work_at(monkeypatch, "sim.design.robustness.make_design")
    check_refused(tmp_path_factory, _experiment_case(doc, ["error: experiment.states = "]))


def test_a_precision_budget_beyond_the_batch_bound_is_refused_at_load(tmp_path_factory, monkeypatch):
    _stop_work_at(monkeypatch, "sim.api.experiment.run_batch")
    argv = ("--precision", "us_killed=0.001", "--max-replications", str(REPLICATIONS.most))  # 2 scenarios x 10^7 runs
    check_refused(tmp_path_factory, _precision_case(argv, ["max_replications"]))


FAR_DATES = {  # a fitted row far from any horizon: the baselines' fit window spans millennia (minutes), or overflows
    "from_year_1": {"from": "0001-01-01"},
    "to_year_9999": {"to": "9999-12-31"},
}


@pytest.mark.parametrize("dates", sorted(FAR_DATES))
def test_a_record_row_of_absurd_dates_is_refused_at_load(tmp_path_factory, monkeypatch, dates):
    rows = [dict(RECORD_ROWS[0], **FAR_DATES[dates])]
    _stop_work_at(monkeypatch, "sim.api.validation.fit_window", "sim.api.validation.run_batch")
    check_refused(tmp_path_factory, _validate_case(record_text(RECORD_HEADER, rows), ["error: row 2: "]))
