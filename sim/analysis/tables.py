"""Tables as text: numbers to a few significant digits, and GitHub-flavoured Markdown tables."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import pandas as pd

# What Markdown (GitHub's and Python-Markdown alike) reads as markup in a line of text: escaped by a
# backslash, or, for what Python-Markdown cannot escape so ('<', '&', '~'), written as an entity.
MARKDOWN_ESCAPED = re.compile(r"([\\`*_{}\[\]()#!|])")
MARKDOWN_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "~": "&#126;"}
SIGNIFICANT_DIGITS = 3
EMPTY = "–"


def fmt(value: float, digits: int = SIGNIFICANT_DIGITS) -> str:
    """``value`` to ``digits`` significant digits, positional unless very large or small."""
    if value is None or pd.isna(value):
        return EMPTY
    value = float(value)
    if value == 0:
        return "0"
    if not math.isfinite(value) or not 1e-4 <= abs(value) < 1e6:
        return f"{value:.{digits - 1}e}"
    # The exponent after rounding (9.996 -> 10.0, not 10.00).
    decimals = digits - 1 - int(f"{value:.{digits - 1}e}".split("e")[1])
    return f"{round(value, decimals):.{max(decimals, 0)}f}"


P_FLOOR = 1e-16  # below it a p-value is beyond double precision of 1 - CDF: printed as "<1e-16"


def p_value(p: float) -> str:
    """A p-value to three significant digits; ``<1e-16`` below what a double resolves (a p-value
    that underflowed to 0 is not 0)."""
    if p is None or pd.isna(p):
        return EMPTY
    return f"<{P_FLOOR:.0e}" if float(p) < P_FLOOR else fmt(p)


def markdown_text(text: str) -> str:
    """Free text (an experiment's description, a file name) as Markdown that shows it as written,
    on one line: no link, image, emphasis, code, HTML or heading of its own, in any viewer."""
    text = MARKDOWN_ESCAPED.sub(r"\\\1", " ".join(str(text).split()))
    return re.sub(r"[&<>~]", lambda m: MARKDOWN_ENTITIES[m.group(0)], text)


UNESCAPED_PIPE = re.compile(r"(?<!\\)((?:\\\\)*)\|")  # a '|' after an even number of backslashes


def markdown_code(text: str) -> str:
    """Free text (a path, a file name) as a Markdown code span that shows it as written, on one
    line: fenced by more backticks than any run of them inside, so it cannot close the span."""
    text = " ".join(str(text).split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table: a '|' in a cell escaped (one that :func:`markdown_text`
    escaped already is kept as it is), a line break made a space, so a cell never splits its row."""
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(_cell(c) for c in line) + " |" for line in lines)


def _cell(value: object) -> str:
    return UNESCAPED_PIPE.sub(r"\1\\|", re.sub(r"[\r\n]+", " ", str(value)))


def markdown_frame(table: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (numbers through :func:`fmt`, empty cells blank)."""
    rows = [[fmt(v) if isinstance(v, float) else str(v) for v in row] for row in table.itertuples(index=False)]
    return markdown_table([str(c) for c in table.columns], rows)
