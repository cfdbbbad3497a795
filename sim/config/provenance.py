"""Where each scenario value comes from: the unit and source written beside it in the files."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

TABLE = re.compile(r"^\s*\[([^\]]+)\]\s*(#.*)?$")
ASSIGNMENT = re.compile(r"^\s*([A-Za-z_][\w\-]*)\s*=.*#\s*(?P<unit>[^;#]+?)\s*;\s*source:\s*(?P<source>.+?)\s*$")


def sources(path: str | Path) -> dict[str, tuple[str, str, str]]:
    """Dotted key -> (unit, source, file) for every documented parameter of a scenario
    file and the files it extends (the file that sets a value last wins)."""
    path = Path(path)
    found: dict[str, tuple[str, str, str]] = {}
    text = path.read_text(encoding="utf-8")
    parent = tomllib.loads(text).get("extends")
    if isinstance(parent, str):
        found.update(sources(path.parent / parent))
    table = ""
    for line in text.splitlines():
        header = TABLE.match(line)
        if header:
            table = header.group(1).strip().replace('"', "") + "."
            continue
        match = ASSIGNMENT.match(line)
        if match:
            found[table + match.group(1)] = (match.group("unit"), match.group("source"), str(path))
    return found
