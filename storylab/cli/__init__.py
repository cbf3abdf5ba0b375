"""The ``storylab`` command: thin wrappers that parse arguments, call one function, print.

Adding a command group
----------------------
Each command group is one module here with a ``register(subparsers)`` function, listed in
:data:`COMMAND_GROUPS`. ``register`` adds subparsers, each with a ``description`` and a
``help`` on every option, and sets ``run=_run_x``; the parser calls ``args.run(args)``, which
returns the exit status.

Keep the module top light, so ``storylab --help`` starts at once: at module level import
only the standard library, ``storylab._files`` and ``storylab.cli._output``/``_args``; import
your layer (and pandas, scipy, matplotlib) *inside* the ``_run_x`` function::

    def _run_simulate(args: argparse.Namespace) -> int:
        from storylab.world import simulate  # imported when the command runs

        print_json(simulate(args.manifest, seed=args.seed))
        return 0

``tests/test_cli_startup.py`` checks that no command module loads pandas, scipy or
matplotlib at import. Numbers come through the bounded types of :mod:`storylab.cli._args`,
files the command writes through :func:`storylab._files.write_atomic` (or
:func:`storylab._files.replacing` for ``savefig``), JSON through
:func:`storylab.cli._output.print_json` (always valid JSON).

Errors
------
Raise the library's own errors (``DataError``, ``ValueError`` subclasses, ``KeyError``
from ``UnknownNameError``, ``OSError`` naming its path); :func:`main` prints each as one
line ``storylab: error: ...`` and exits 2. Anything else is a bug: it is still one line
(``storylab: internal error ...``), with exit status 3.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Sequence
from typing import NoReturn

from storylab.cli import (
    archives,
    graph,
    intents,
    pddl,
    play,
    runtime,
    storyteller,
    theory,
    world,
)
from storylab.cli._output import missing_extra, one_line

__all__ = ["COMMAND_GROUPS", "build_parser", "main"]

#: Modules that add subcommands, in the order they appear in ``--help``.
COMMAND_GROUPS = [theory, storyteller, pddl, archives, runtime, play, world, intents, graph]

#: Exit status of a refused input (bad argument, bad file, library error).
EXIT_USAGE = 2
#: Exit status of an unexpected error (a bug in storylab; reported on one line too).
EXIT_INTERNAL = 3


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (usage is one ``--help`` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {one_line(message)} (see --help)\n")


def _version() -> str:
    from storylab import __version__

    return f"storylab {__version__}"


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = _Parser(prog="storylab", description="Design and study stories with numbers.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(sub)
    return parser


def _library_errors() -> tuple[type[BaseException], ...]:
    """The errors storylab raises on purpose for bad input (each printed as one line)."""
    from storylab._data import UnknownNameError
    from storylab.runtime.store import ConflictError

    return (ValueError, UnknownNameError, ConflictError, OSError, sqlite3.Error)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for bad input, 3 for a bug)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help, --version and argument errors
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    try:
        return int(args.run(args) or 0)
    except BrokenPipeError:  # output piped into `head` and friends
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0
    except KeyboardInterrupt:
        print("storylab: interrupted", file=sys.stderr)
        return 130
    except _library_errors() as exc:
        print(f"storylab: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except ImportError as exc:  # an optional extra that is not installed
        print(f"storylab: error: {missing_extra(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # last resort (a bug, MemoryError, RecursionError): one line
        kind = type(exc).__name__
        print(f"storylab: internal error ({kind}): {one_line(exc)}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
