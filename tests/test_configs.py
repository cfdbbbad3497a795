"""Every parameter in every config file carries its unit and its source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "configs").rglob("*.toml"))
ASSIGNMENT = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*=")
DOCUMENTED = re.compile(r"#\s*(?P<unit>[^;#]+?)\s*;\s*source:\s*(?P<source>\S.*)$")


def test_there_are_configs():
    assert any(p.name == "baseline.toml" for p in CONFIGS)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_parameter_line_names_unit_and_source(path):
    undocumented = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = ASSIGNMENT.match(line)
        if match and match.group(1) != "extends" and not DOCUMENTED.search(line):
            undocumented.append(f"{path.name}:{number}: {line.strip()}")
    assert not undocumented, "parameters without '# unit; source: ...':\n" + "\n".join(undocumented)
