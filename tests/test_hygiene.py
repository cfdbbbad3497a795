"""Hygiene of the test suite itself: no test asserts on wall-clock time.

A check of speed that reads a clock fails on a loaded machine and passes on a quiet one for
the wrong reason; the suite checks how work grows by counting operations instead (calls,
records, events). A clock may still be read for a hang guard: a deadline a generous time
ahead (``deadline = time.monotonic() + 60``), whose expiry fails the test as "hung". What is
refused is measuring a duration (a clock read in a subtraction) and a deadline too short to
be a hang guard.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
HANG_GUARD_S = 30  # the shortest deadline that is a hang guard, not a check of speed

CLOCKS = {
    "time",
    "time_ns",
    "perf_counter",
    "perf_counter_ns",
    "monotonic",
    "monotonic_ns",
    "process_time",
    "process_time_ns",
    "thread_time",
    "thread_time_ns",
    "clock_gettime",
    "clock_gettime_ns",
}
DATETIME_CLOCKS = {"now", "utcnow", "today"}
TIMING_MODULES = {"timeit"}


def _is_clock_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute):
        base = func.value.attr if isinstance(func.value, ast.Attribute) else getattr(func.value, "id", "")
        if func.attr in CLOCKS and base == "time":
            return True
        if func.attr in DATETIME_CLOCKS and base in ("datetime", "date"):
            return True
        return func.attr in ("timeit", "repeat") and base == "timeit"
    return isinstance(func, ast.Name) and func.id in CLOCKS - {"time"}  # from time import perf_counter


def _constants(tree: ast.Module) -> dict[str, float]:
    """Module-level ``NAME = <number>`` assignments."""
    found = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, (int, float))
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def clock_problems(source: str, name: str = "<test>") -> list[str]:
    """Each place in ``source`` that measures a duration with a clock or sets a deadline shorter
    than a hang guard, as ``name:line: what``."""
    tree = ast.parse(source)
    constants = _constants(tree)
    read_from_clock = {  # names that hold a clock reading: start = time.perf_counter()
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and _is_clock_call(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }

    def is_clock(node: ast.AST) -> bool:
        return _is_clock_call(node) or (isinstance(node, ast.Name) and node.id in read_from_clock)

    problems = []
    for node in ast.walk(tree):
        where = f"{name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [node.module] if isinstance(node, ast.ImportFrom) else [alias.name for alias in node.names]
            if any(module in TIMING_MODULES for module in modules):
                problems.append(f"{where}: imports timeit (time a test's work by counting operations)")
        if isinstance(node, ast.Call) and _is_clock_call(node) and "timeit" in ast.unparse(node.func):
            problems.append(f"{where}: times code with timeit")
        if not isinstance(node, ast.BinOp):
            continue
        if isinstance(node.op, ast.Sub) and (is_clock(node.left) or is_clock(node.right)):
            problems.append(f"{where}: measures a duration ({ast.unparse(node)}); count operations instead")
        if isinstance(node.op, ast.Add) and (_is_clock_call(node.left) or _is_clock_call(node.right)):
            ahead = node.right if _is_clock_call(node.left) else node.left
            seconds = ahead.value if isinstance(ahead, ast.Constant) else constants.get(getattr(ahead, "id", ""))
            if not isinstance(seconds, (int, float)) or seconds < HANG_GUARD_S:
                problems.append(
                    f"{where}: a deadline of {ast.unparse(ahead)} is not a hang guard of {HANG_GUARD_S} s or more"
                )
    return problems


def test_no_test_measures_wall_clock_time():
    problems = [
        p for path in sorted(TESTS.rglob("*.py")) for p in clock_problems(path.read_text(encoding="utf-8"), path.name)
    ]
    assert not problems, "tests that read a clock to check speed:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "source",
    [
        "import time\nstart = time.perf_counter()\nwork()\nassert time.perf_counter() - start < 2",
        "from time import perf_counter\nt0 = perf_counter()\nwork()\nelapsed = perf_counter() - t0",
        "import time\ndef f():\n    best = min(best, time.time() - start)",
        "from datetime import datetime\nbegin = datetime.now()\nassert (datetime.now() - begin).seconds < 1",
        "import time\ndeadline = time.monotonic() + 0.5\nwork()\nassert time.monotonic() < deadline",
        "import timeit\nassert timeit.timeit(work, number=3) < 1",
    ],
    ids=["elapsed", "from-import", "best-of", "datetime", "short-deadline", "timeit"],
)
def test_the_scan_finds_a_check_of_speed(source):
    assert clock_problems(source)


@pytest.mark.parametrize(
    "source",
    [
        "import time\nGUARD = 60\ndeadline = time.monotonic() + GUARD\nwhile busy():\n"
        "    assert time.monotonic() < deadline, 'hung'\n    time.sleep(0.1)",
        "import time\ndeadline = time.monotonic() + 120\nwhile not done() and time.monotonic() < deadline:\n    time.sleep(0.1)",
        "import subprocess\nsubprocess.run(['true'], timeout=60)",
        "assert table['time_d'].is_monotonic_increasing",
        "assert manifest['elapsed_s'] >= 0",
    ],
    ids=["hang-guard-constant", "hang-guard-literal", "subprocess-timeout", "monotonic-column", "recorded-elapsed"],
)
def test_the_scan_lets_hang_guards_be(source):
    assert clock_problems(source) == []


# --- hypothesis profiles (tests/conftest.py) -------------------------------------------------


@pytest.mark.parametrize(
    ("markexpr", "environ", "profile"),
    [
        ("not slow", {}, "fast"),
        ("not  slow and not chromium", {}, "fast"),
        ("", {}, "thorough"),
        ("slow", {}, "thorough"),
        ("not slow", {"HYPOTHESIS_PROFILE": "thorough"}, "thorough"),
        ("", {"HYPOTHESIS_PROFILE": "fast"}, "fast"),
    ],
)
def test_the_quick_loop_gets_the_fast_profile_and_the_full_suite_the_thorough_one(markexpr, environ, profile):
    from conftest import profile_for

    assert profile_for(markexpr, environ) == profile
