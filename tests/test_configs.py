"""Every value in every config file carries its unit and its source; the unit is the one the
schema declares, and the source is a section of the project's own sources document."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.calibration.priors import prior_unit
from sim.calibration.settings import CalibrationHeader
from sim.config.provenance import unit_mismatches
from sim.design.experiment import ExperimentHeader
from sim.design.sweep import SweepHeader

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "configs").rglob("*.toml"))
SOURCES = ROOT / "docs" / "sources.md"
ASSIGNMENT = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*=")
DOCUMENTED = re.compile(r"#\s*(?P<unit>[^;#]+?)\s*;\s*source:\s*(?P<source>\S.*)$")
CITATION = re.compile(r"docs/sources\.md#([\w-]+)")
HEADERS = {"experiment": ExperimentHeader, "sweep": SweepHeader, "calibration": CalibrationHeader, "priors": prior_unit}


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


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_unit_is_the_one_the_schema_declares(path):
    problems = unit_mismatches(path, HEADERS)
    assert not problems, "\n".join(problems)


def test_the_unit_check_sees_a_wrong_unit(tmp_path):
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("[cram]\nkill_prob = 0.6  # rounds; source: assumption\n")
    assert unit_mismatches(wrong) == [
        f"{wrong}:2: cram.kill_prob is documented in 'rounds'; the schema declares 'probability'"
    ]


DOCS = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "sources.md")]


@pytest.mark.parametrize(
    "path", [*CONFIGS, *DOCS, *sorted((ROOT / "configs").rglob("*.csv"))], ids=lambda p: str(p.relative_to(ROOT))
)
def test_sources_are_the_projects_own(path):
    """Citations point into docs/sources.md and at anchors that exist there; nothing points
    outside the repository."""
    text = path.read_text(encoding="utf-8")
    assert "../shared" not in text and "DOMAIN.md" not in text and not re.search(r"\bseeds? 00\d", text)
    anchors = set(re.findall(r'<a id="([\w-]+)"></a>', SOURCES.read_text(encoding="utf-8")))
    missing = sorted(set(CITATION.findall(text)) - anchors)
    assert not missing, f"{path.name} cites sections docs/sources.md does not have: {missing}"
