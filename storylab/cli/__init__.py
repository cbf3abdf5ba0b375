"""The ``storylab`` command: thin wrappers that parse arguments, call one function, print.

Each command group lives in its own module with a ``register(subparsers)`` function; the
parser calls ``args.run(args)``, which returns the exit status.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from storylab._data import DataError, UnknownNameError
from storylab._files import WriteError
from storylab.cli import archives, pddl, runtime, storyteller, theory

__all__ = ["main"]

#: Modules that add subcommands, in the order they appear in ``--help``.
COMMAND_GROUPS = [theory, storyteller, pddl, archives, runtime]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(
        prog="storylab", description="Design and study stories with numbers."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for bad input)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except BrokenPipeError:  # output piped into `head` and friends
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0
    except (DataError, UnknownNameError, ValueError, FileNotFoundError, WriteError) as exc:
        print(f"storylab: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
