"""A report's table of contents: a link to each section, the same on GitHub and in report.html.

A heading's anchor is made as GitHub makes it for a Markdown file (lower case; every character
but letters, digits, spaces, hyphens and underscores dropped; each space a hyphen), and
:mod:`sim.analysis.html` gives the headings of report.html the same ids, so one list of links
serves both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

CONTENTS = "Contents"
DROPPED = re.compile(r"[^\w\- ]")
LEVEL_TWO = re.compile(r"^## (.+)$", re.MULTILINE)


def anchor(heading: str) -> str:
    """The anchor of a heading's text: ``Where the answer reverses`` -> ``where-the-answer-reverses``.
    The second argument Python-Markdown's ``toc`` passes (its separator) is not needed."""
    return DROPPED.sub("", heading.strip().lower()).replace(" ", "-")


def contents_section(sections: Sequence[str]) -> str:
    """``## Contents`` and one link per level-2 heading of ``sections`` (Markdown), in order.

    Raises
    ------
    ValueError
        If two headings have the same anchor (a link could reach only the first).
    """
    headings = [h.strip() for section in sections for h in LEVEL_TWO.findall(section)]
    anchors = [anchor(h) for h in headings]
    if len(set(anchors)) != len(anchors):
        repeated = sorted({a for a in anchors if anchors.count(a) > 1})
        raise ValueError(f"sections with the same anchor: {repeated}")
    return f"## {CONTENTS}\n\n" + "\n".join(f"- [{h}](#{a})" for h, a in zip(headings, anchors))
