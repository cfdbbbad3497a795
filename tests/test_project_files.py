"""LICENSE, CHANGELOG.md and CITATION.cff: present, valid and of the version in pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_citation_changelog_and_license_agree_with_pyproject():
    yaml = pytest.importorskip("yaml")  # PyYAML comes with the test install (dask.distributed needs it)
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    version = PYPROJECT["project"]["version"]
    assert citation["cff-version"] == "1.2.0" and citation["version"] == version
    assert citation["license"] == PYPROJECT["project"]["license"] == "MIT"
    assert citation["title"] and citation["authors"]
    assert "repository-code" not in citation  # no invented address
    assert f"## [{version}] - " in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "Copyright (c) 2026 The militia-pressure-sim authors" in (ROOT / "LICENSE").read_text(encoding="utf-8")
