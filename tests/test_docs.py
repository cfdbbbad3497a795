"""The documentation site: `mkdocs build --strict` is clean, and the README is a front door.

The build fails on any warning: a broken link between pages, a link to an anchor a page does not
have, a page in the nav that does not exist, a page of docs/ left out of the nav, or an API
reference (`::: sim.api`) mkdocstrings cannot render. A second build of a copy with one broken
link shows the build is strict in fact, not only in name.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MAX_README_LINES = 250
# Markdown links and images: [text](target) and ![alt](target), outside code.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess:
    try:
        import mkdocs  # noqa: F401  (the docs extra, part of the test extra)
    except ImportError:  # pragma: no cover
        pytest.fail('mkdocs is not installed: pip install -e ".[docs]" (the test extra includes it)')
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        cwd=config.parent,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def outside_code(text: str) -> str:
    keep, in_code = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code:
            keep.append(re.sub(r"`[^`]*`", "", line))
    return "\n".join(keep)


def heading_anchors(page: Path) -> set[str]:
    """The anchors GitHub (and MkDocs' toc) give a page's headings: lower case, punctuation
    dropped, spaces as hyphens."""
    anchors, in_code = set(), False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        m = None if in_code else re.match(r"#{1,6} (.+)", line)
        if m:
            anchors.add(re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-"))
    return anchors


@pytest.mark.slow
def test_mkdocs_build_strict_is_clean(tmp_path):
    site = tmp_path / "site"
    proc = mkdocs_build(ROOT / "mkdocs.yml", site)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING" not in proc.stderr, proc.stderr
    # Every page of docs/ became a page of the site, and the API reference was rendered.
    for page in sorted((ROOT / "docs").glob("*.md")):
        built = site / ("index.html" if page.stem == "index" else f"{page.stem}/index.html")
        assert built.is_file(), f"docs/{page.name} was not built"
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("run_experiment", "load_results", "calibrate", "validate"):
        assert f'id="sim.api.{name}"' in api, f"the API reference lacks sim.api.{name}"


@pytest.mark.slow
def test_mkdocs_build_strict_fails_on_a_broken_link(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "docs", copy / "docs")
    shutil.copytree(ROOT / "sim", copy / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    limits = copy / "docs" / "limits.md"
    limits.write_text(limits.read_text(encoding="utf-8") + "\nSee [a page](no_such_page.md).\n", encoding="utf-8")
    proc = mkdocs_build(copy / "mkdocs.yml", tmp_path / "site")
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "no_such_page.md" in proc.stderr, proc.stderr


def test_every_docs_page_is_in_the_nav_and_every_nav_page_exists():
    """Checked without building, so a fast run of the suite sees it too."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert re.search(r"^docs_dir: docs$", config, re.MULTILINE), "mkdocs.yml: docs_dir is not docs"
    assert re.search(r"^  name: material$", config, re.MULTILINE), "mkdocs.yml: the theme is not material"
    in_nav = set(re.findall(r"^\s+- (?:[^:\n]+: )?([\w./-]+\.md)$", config, re.MULTILINE))
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert in_nav == pages, f"in the nav only: {sorted(in_nav - pages)}; in docs/ only: {sorted(pages - in_nav)}"


def test_the_readme_is_a_front_door_whose_links_resolve():
    text = README.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines, more than {MAX_README_LINES}"
    targets = LINK.findall(outside_code(text))
    assert any(t.startswith("docs/") and t.endswith(".png") for t in targets), "README.md shows no figure from docs/"
    for target in targets:
        assert not re.match(r"[a-z]+:", target), f"README.md links outside the repository: {target}"
        path, _, anchor = target.partition("#")
        assert (ROOT / path).exists(), f"README.md links to {target}, which does not exist"
        if anchor:
            assert anchor in heading_anchors(ROOT / path), f"README.md links to {target}: no such heading"
    # The figure is made by a committed script, which the README names.
    assert "python docs/figures.py" in text and (ROOT / "docs" / "figures.py").is_file()


def test_docs_links_are_relative_so_they_work_on_github_too():
    for page in sorted((ROOT / "docs").glob("*.md")):
        for target in LINK.findall(outside_code(page.read_text(encoding="utf-8"))):
            if re.match(r"(https?|mailto):", target) or target.startswith("#"):
                continue
            assert not target.startswith("/"), f"docs/{page.name}: absolute link {target}"
            path = target.split("#", 1)[0]
            assert (page.parent / path).exists(), f"docs/{page.name}: {target} does not exist"
