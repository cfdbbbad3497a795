"""``run.py describe``: the STRESS-DES model description of a scenario, experiment or sweep file,
or of a results folder (see :mod:`sim.analysis.describe`)."""

from __future__ import annotations

import argparse

from sim.analysis.describe import describe
from sim.batch.atomic import write_atomic
from sim.cli.grammar import add_describe_command  # noqa: F401 (re-exported: its home was here)


def command_describe(args: argparse.Namespace, argv: list[str]) -> str:
    """The description as text; with ``--out``, written to that file too (whole or not at all)."""
    text = describe(args.file)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(args.out, lambda p: p.write_text(text, encoding="utf-8"))
    return text
