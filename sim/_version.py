"""The package version, written once, in pyproject.toml.

A source checkout (``pip install -e .``, or ``PYTHONPATH`` on the checkout) reads its own
pyproject.toml, so that an editable install made before the version changed does not report
the old one; an installed copy reads its distribution's metadata (importlib.metadata). Neither:
``0+unknown``, a version that sorts before every release.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "militia-pressure-sim"
UNKNOWN = "0+unknown"


def version() -> str:
    return _checkout_version() or _installed_version() or UNKNOWN


def _checkout_version() -> str | None:
    """The version in the pyproject.toml beside the ``sim`` package, if it is this project's."""
    try:
        with open(Path(__file__).resolve().parent.parent / "pyproject.toml", "rb") as file:
            project = tomllib.load(file).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    found = project.get("version") if project.get("name") == DISTRIBUTION else None
    return found if isinstance(found, str) else None


def _installed_version() -> str | None:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
