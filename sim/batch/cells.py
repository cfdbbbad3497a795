"""Every CSV the project writes from free text goes through here: a text cell that a
spreadsheet would read as a formula is neutralised (the OWASP rule for CSV injection).

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed
with a single quote, unless it is a plain number (``-3``, ``+1.5e-2``), which a spreadsheet
reads as that number. Numeric columns are left as they are.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from sim.batch.atomic import write_atomic

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def neutralise(cell: object) -> object:
    """``cell`` with a single quote before it if it is text a spreadsheet would run as a formula."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def neutralise_cells(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` whose text cells are neutralised (see the module docstring)."""
    text = [c for c in table.columns if table[c].dtype == object or pd.api.types.is_string_dtype(table[c].dtype)]
    if not text:
        return table
    table = table.copy()
    for column in text:
        table[column] = table[column].map(neutralise)
    return table


def write_csv(path: Path, table: pd.DataFrame) -> None:
    """The neutralised table as a CSV file, written atomically (as :func:`sim.batch.folder.write_csv`)."""
    safe = neutralise_cells(table)
    write_atomic(path, lambda p: safe.to_csv(p, index=False, float_format="%.6g"))
