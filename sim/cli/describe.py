"""``run.py describe``: the STRESS-DES model description of a scenario, experiment or sweep file,
or of a results folder (see :mod:`sim.analysis.describe`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.analysis.describe import describe
from sim.batch.atomic import write_atomic


def add_describe_command(commands) -> None:
    parser = commands.add_parser(
        "describe",
        help="write the model description (STRESS-DES layout) of a scenario, experiment or sweep file, or a results folder",
    )
    parser.add_argument("file", type=Path, help="a scenario, experiment or sweep TOML file, or a results folder")
    parser.add_argument("--out", type=Path, metavar="PATH", help="also write the description to this file (Markdown)")


def command_describe(args: argparse.Namespace, argv: list[str]) -> str:
    """The description as text; with ``--out``, written to that file too (whole or not at all)."""
    text = describe(args.file)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(args.out, lambda p: p.write_text(text, encoding="utf-8"))
    return text
