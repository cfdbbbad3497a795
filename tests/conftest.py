"""Hypothesis profiles: a fast one for the quick loop, a thorough one for the full suite.

* ``thorough``: what the full suite (``pytest``) and CI run; as many examples as the property
  tests ran before they were split in two.
* ``fast``: the quick loop (``pytest -m "not slow"``) still checks the model's invariants
  (tests/test_properties.py), on a few examples, in seconds.

The profile is chosen, first match wins, by ``--hypothesis-profile NAME`` (hypothesis's own
option), by the environment variable ``HYPOTHESIS_PROFILE``, or else by the marker
expression: one that leaves out the slow tests (``-m "not slow"``) gets ``fast``, anything
else ``thorough``. Tests that set ``max_examples`` themselves (test_fuzz, test_design) keep
their count in both profiles.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE_VARIABLE = "HYPOTHESIS_PROFILE"
FAST_EXAMPLES, THOROUGH_EXAMPLES = 10, 60

_common = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("thorough", max_examples=THOROUGH_EXAMPLES, **_common)
settings.register_profile("fast", max_examples=FAST_EXAMPLES, **_common)


def profile_for(markexpr: str, environ: dict | None = None) -> str:
    """The profile for a run with marker expression ``markexpr`` (see the module docstring)."""
    environ = os.environ if environ is None else environ
    if environ.get(PROFILE_VARIABLE):
        return environ[PROFILE_VARIABLE]
    return "fast" if "not slow" in " ".join(markexpr.split()) else "thorough"


def pytest_configure(config) -> None:
    # Before the test modules are imported: a @settings decorator takes its unset values from
    # the profile loaded when it runs.
    global _loaded
    _loaded = config.getoption("hypothesis_profile", default=None)
    if _loaded:
        return  # hypothesis's plugin loaded the one asked for
    _loaded = profile_for(config.getoption("markexpr", default="") or "")
    settings.load_profile(_loaded)


_loaded = None


# The modules that take longest (a module is one unit of work for pytest-xdist's loadscope, so
# that its module-scoped fixtures are built once) start first: the many short modules then fill
# the other workers around them instead of leaving one long module to run alone at the end.
# Only the order changes; every test runs either way.
LONG_MODULES = (
    "test_extending.py",
    "test_readme.py",
    "test_calibration.py",
    "test_batch.py",
    "test_fuzz.py",
    "test_faults.py",
)


def pytest_collection_modifyitems(session, config, items) -> None:
    def rank(item) -> int:
        name = item.path.name
        return LONG_MODULES.index(name) if name in LONG_MODULES else len(LONG_MODULES)

    items.sort(key=rank)  # stable: the order within a module, and among the others, is kept


def pytest_report_header(config) -> str:
    return f"hypothesis profile: {_loaded} ({settings.default.max_examples} examples unless a test sets its own)"
