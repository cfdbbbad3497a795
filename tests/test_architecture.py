"""The import graph of ``sim/`` is layered and acyclic.

Every import is counted, wherever it stands: at the top of a module, inside a function, or
under ``if TYPE_CHECKING:``. A module may import its own layer or a lower one, never a higher
one; and no chain of imports among modules leads back to where it started.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sim"

# Lowest first. ``sim`` is the package face (its version) and ``sim.project`` where the project's files are.
LAYERS = [
    ("sim", "sim.project"),
    ("sim.config",),
    ("sim.model",),
    ("sim.policy",),
    ("sim.replication",),
    ("sim.design",),
    ("sim.batch",),
    ("sim.calibration",),
    ("sim.analysis",),
    ("sim.api",),
    ("sim.cli",),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> int:
    best, level = -1, None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, level = len(prefix), index
    assert level is not None, f"{module} is in no layer: add its package to LAYERS"
    return level


def imports_of(module: str, path: Path | None = None) -> set[str]:
    """The modules of ``sim`` that ``module`` (read from ``path``, by default its file) imports,
    anywhere in its text."""
    path = MODULES[module] if path is None else path
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from sim.model import campaign` imports the submodule sim.model.campaign
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name.startswith("sim") and name != module:
                found.add(name)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_module_belongs_to_a_layer():
    for module in MODULES:
        layer_of(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_higher_layer(module):
    upward = sorted(m for m in GRAPH[module] if layer_of(m) > layer_of(module))
    assert not upward, f"{module} (layer {LAYERS[layer_of(module)][0]}) imports higher layers: {upward}"


def test_the_import_graph_has_no_cycle():
    # Tarjan's strongly connected components: a component of more than one module is a cycle
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_checker_sees_imports_under_type_checking_and_inside_functions(tmp_path):
    """The parser above counts the imports a layering rule must not miss."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from sim.cli.main import main\n"
        "def f():\n    from sim.api import load_scenario\n"
        "from sim.model import campaign\n"
    )
    path = tmp_path / "probe.py"
    path.write_text(source)
    assert imports_of("sim.config.probe", path) == {"sim.cli.main", "sim.api", "sim.model.campaign"}


@pytest.mark.slow
def test_importing_the_api_loads_neither_pyabc_nor_ema_workbench():
    """A core install leaves out the calibration's and the robustness analysis's packages:
    ``sim.api`` imports them only when a calibration or a robustness analysis runs."""
    heavy = ("pyabc", "ema_workbench", "sqlalchemy")
    code = f"import sim.api, sys; loaded = [m for m in {heavy!r} if m in sys.modules]; assert not loaded, loaded"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
