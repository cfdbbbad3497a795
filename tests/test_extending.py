"""The extension walk-throughs of docs/extending.md hold.

Each section of the page is applied to a fresh copy of the project (its ``sim/`` and
``configs/``): every code block goes where its first line says, then the section's check runs
in the copy. The files the section changed must be exactly the files its blocks name, as many
as the page promises (a threat kind: its module, the schema and the TOML; an outcome: one file;
a policy lever: the levers, the actor and the TOML; a design type: one file).

The walk-throughs are independent, so the last test applies all four to one full copy of the
project (its tests too) and runs the fast suite there: the tests, the CLI and the API derive
their lists of threats, outcomes and design types from the registries, so following the page
leaves no test to edit.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "extending.md"
BLOCK = re.compile(r"```(?:python|toml)\n(.*?)```", re.S)
PLACE = re.compile(
    r"# (?:new file: (?P<new>\S+)|(?P<path>\S+), (?:(?P<where>before|after) (?:the|(?P<each>each)) line containing: (?P<text>.+)|at the end))$"
)
SECTIONS = {  # section title -> number of files it may touch
    "Add a threat kind": 3,
    "Add an outcome": 1,
    "Add a policy lever": 3,
    "Add a design type": 1,
}


def sections() -> dict[str, list[str]]:
    """Section title -> its code blocks, in order."""
    found: dict[str, list[str]] = {}
    for chunk in re.split(r"^## ", PAGE.read_text(encoding="utf-8"), flags=re.M)[1:]:
        title = chunk.splitlines()[0].split(":")[0].strip()
        found[title] = BLOCK.findall(chunk)
    return found


def apply(block: str, copy: Path) -> str:
    """Put one block where its first line says; return the path it changed."""
    first, _, body = block.partition("\n")
    place = PLACE.fullmatch(first.strip())
    assert place, f"a block must say where it goes: {first!r}"
    if place["new"]:
        target = copy / place["new"]
        assert not target.exists(), f"{place['new']} already exists"
        target.write_text(body)
        return place["new"]
    target = copy / place["path"]
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    if place["where"] is None:
        lines.append(body)
    else:
        hits = [i for i, line in enumerate(lines) if place["text"] in line]
        assert hits and (place["each"] or len(hits) == 1), (
            f"{place['text']!r} found {len(hits)} times in {place['path']}"
        )
        for i in reversed(hits):
            lines.insert(i if place["where"] == "before" else i + 1, body)
    target.write_text("".join(lines))
    return place["path"]


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_the_page_has_the_four_walk_throughs():
    assert list(sections()) == list(SECTIONS)


@pytest.mark.slow
@pytest.mark.parametrize("title", list(SECTIONS))
def test_a_walk_through_works_and_touches_only_the_files_it_names(title, tmp_path):
    copy = tmp_path / "project"
    for part in ("sim", "configs"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    before = digest(copy)
    blocks = sections()[title]
    checks = [b for b in blocks if b.startswith("# check\n")]
    named = {apply(b, copy) for b in blocks if b not in checks}
    changed = {path for path, sha in digest(copy).items() if before.get(path) != sha}
    assert changed == named and len(changed) == SECTIONS[title], sorted(changed)
    assert len(checks) == 1, "each walk-through ends with one check"
    result = subprocess.run(
        [sys.executable, "-c", checks[0]],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=600,
        env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow
def test_the_fast_suite_passes_with_every_walk_through_applied(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".git", "results", "__pycache__", ".pytest_cache", ".hypothesis", ".venv", "*.egg-info"
        ),
    )
    for blocks in sections().values():
        for block in blocks:
            if not block.startswith("# check\n"):
                apply(block, copy)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "not slow", "-q", "-p", "no:cacheprovider", "-n", "0"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=3600,
        env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout[-5000:]
