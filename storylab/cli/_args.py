"""Bounded argument types: a number outside its range is a one-line usage error; and
:func:`command_group`, a command with subcommands.

Use the types as ``type=`` of ``add_argument``; argparse reports the message with the option.

Examples
--------
>>> count = bounded_int(1, 10)
>>> count("3")
3
>>> count("11")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: an integer from 1 to 10, got '11'
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "SEED_MAX",
    "URGENCIES",
    "bounded_float",
    "bounded_int",
    "command_group",
    "input_file",
    "seed",
]

#: Largest seed the command line accepts (numpy seeds are non-negative; 2**63 - 1 keeps
#: every seed a JSON-safe signed 64-bit integer).
SEED_MAX = 2**63 - 1
_MAX_DIGITS = 40  # longer text is refused before conversion (no 5,000-digit integers)


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer from ``low`` to ``high`` inclusive."""

    def parse(text: str) -> int:
        expected = f"an integer from {low} to {high}, got {text[:20]!r}"
        if len(text) > _MAX_DIGITS:
            raise argparse.ArgumentTypeError(expected)
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(expected) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(expected)
        return value

    return parse


def bounded_float(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number from ``low`` to ``high`` inclusive."""

    def parse(text: str) -> float:
        expected = f"a number from {low:g} to {high:g}, got {text[:20]!r}"
        try:
            value = float(text) if len(text) <= _MAX_DIGITS else math.nan
        except ValueError:
            raise argparse.ArgumentTypeError(expected) from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(expected)
        return value

    return parse


#: The composer's urgency levels (``storylab.storyteller.Urgency``, kept here so that building
#: the parser loads no planner; ``tests/test_cli_startup.py`` checks that the two agree).
URGENCIES = ("low", "medium", "high", "exact")

#: The type of every ``--seed``: an integer from 0 to 2**63 - 1.
seed = bounded_int(0, SEED_MAX)


def input_file(path: str | Path) -> Path:
    """``path`` as an existing regular file; a ``DataError`` naming it otherwise."""
    from storylab._data import DataError, Problem

    found = Path(path)
    if found.is_dir():
        raise DataError([Problem(str(path), "", "a file, got a directory")])
    if not found.is_file():
        raise DataError([Problem(str(path), "", "file not found")])
    return found


def command_group(
    sub: argparse._SubParsersAction, name: str, *, help: str, description: str
) -> argparse._SubParsersAction:
    """Add command ``name`` whose subcommands are required; the action to add them to."""
    group = sub.add_parser(name, help=help, description=description)
    return group.add_subparsers(dest=f"{name}_command", required=True, metavar="SUBCOMMAND")
