"""Where each config value comes from, and in which unit: the comment beside it in the files.

Every assignment in a config file reads ``key = value  # unit; source: ...``. The unit is
declared once, in the schema (:func:`sim.config.schema.param`); the comment repeats it for the
reader and :func:`unit_mismatches` checks that the two agree. The source cites
``docs/sources.md#<section>``, a source document (``docs/sources.md#s1``), ``assumption`` or a
calibration.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.config.limits import CONFIG_BYTES, read_bounded_text
from sim.config.loader import parameter_field
from sim.config.scenario import Scenario

TABLE = re.compile(r"^\s*\[([^\]]+)\]\s*(#.*)?$")
ASSIGNMENT = re.compile(r"^\s*([A-Za-z_][\w\-]*)\s*=.*#\s*(?P<unit>[^;#]+?)\s*;\s*source:\s*(?P<source>.+?)\s*$")


def documented(path: str | Path) -> list[tuple[int, str, str, str, str]]:
    """(line, table, key, unit, source) of every documented assignment of one file."""
    found, table = [], ""
    for number, line in enumerate(_text(path).splitlines(), start=1):
        header = TABLE.match(line)
        if header:
            table = header.group(1).strip()
            continue
        match = ASSIGNMENT.match(line)
        if match:
            found.append((number, table, match.group(1), match.group("unit"), match.group("source")))
    return found


def sources(path: str | Path) -> dict[str, tuple[str, str, str]]:
    """Dotted key -> (unit, source, file) for every documented parameter of a scenario
    file and the files it extends (the file that sets a value last wins)."""
    path = Path(path)
    found: dict[str, tuple[str, str, str]] = {}
    parent = tomllib.loads(_text(path)).get("extends")
    if isinstance(parent, str):
        found.update(sources(path.parent / parent))
    for _, table, key, unit, source in documented(path):
        dotted = f"{table.replace(chr(34), '')}.{key}" if table else key
        found[dotted] = (unit, source, str(path))
    return found


def unit_of(schema: type, dotted: str) -> str | None:
    """The unit the schema declares for a parameter (None if ``dotted`` names none)."""
    field = parameter_field(schema, dotted)
    return field.metadata.get("unit") if isinstance(field, dataclasses.Field) else None


UnitRule = Callable[[str, str, dict], "str | None"]  # (table, key, the parsed file) -> the declared unit


def unit_mismatches(path: str | Path, headers: dict[str, type | UnitRule] | None = None) -> list[str]:
    """Lines of a config file whose unit comment differs from the schema's unit.

    ``headers`` maps the top tables of experiment, sweep or calibration files (``experiment``,
    ``sweep``, ``calibration``) to their schemas (a nested table such as ``[calibration.full]``
    is read in its schema), or to a rule that finds the unit from the table, the key and the
    parsed file (the priors of a calibration file); a sweep's ``[parameters."dotted.path"]``
    bounds, and a robustness experiment's ``[uncertain."dotted.path"]`` bounds, carry the unit of
    the parameter they vary; a ``[thresholds]`` line bounds an outcome's mean per replication,
    and a ``[precision]`` line asks a half-width of mean regret (in the same unit) or of a share of
    states;
    everything else is read against the
    scenario schema.
    """
    headers = headers or {}
    document = tomllib.loads(_text(path))
    problems = []
    for number, table, key, unit, _ in documented(path):
        top = table.split(".")[0]
        if top in headers and not isinstance(headers[top], type):
            declared = headers[top](table, key, document)
        elif top in headers:
            declared = unit_of(headers[top], ".".join([*table.split(".")[1:], key]))
        elif top in ("parameters", "uncertain"):
            declared = unit_of(Scenario, table.split(".", 1)[1].strip('"'))
        elif top == "thresholds":
            declared = THRESHOLD_UNIT
        elif top == "precision":
            declared = PRECISION_UNITS.get(key)
        elif top == "scenarios":
            declared = EXPERIMENT_ENTRY_UNITS.get(key)
        else:
            declared = unit_of(Scenario, f"{table.replace(chr(34), '')}.{key}" if table else key)
        if declared != unit:
            problems.append(
                f"{path}:{number}: {table}.{key} is documented in {unit!r}; the schema declares {declared!r}"
            )
    return problems


THRESHOLD_UNIT = "mean per replication"  # a threshold bounds an outcome's mean in a state
PRECISION_UNITS = {
    "regret_mean": THRESHOLD_UNIT,
    "satisficing": "share of states",
}  # a robustness experiment's half-widths
EXPERIMENT_ENTRY_UNITS: dict[str, Any] = {"file": "path", "set": "table of dotted parameters"}


def _text(path: str | Path) -> str:
    """A config file's text, read as the loader reads it (a regular file of bounded size)."""
    return read_bounded_text(Path(path), "config file", CONFIG_BYTES)
