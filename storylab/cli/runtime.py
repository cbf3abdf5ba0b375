"""``storylab play``, ``storylab check`` and ``storylab schema``: narrative programs."""

from __future__ import annotations

import argparse
import sys
from importlib import import_module
from typing import TYPE_CHECKING, Any

from storylab._files import write_atomic
from storylab.cli._output import print_json, to_json

if TYPE_CHECKING:
    from storylab.runtime import NarrativeStepResult


def _run_play(args: argparse.Namespace) -> int:
    from storylab.runtime import (
        NarrativeEngine,
        Session,
        StepError,
        format_transcript,
        load_program,
        load_state,
    )

    programs = [load_program(p) for p in [args.program, *args.also]]
    main = programs[0]
    engine = NarrativeEngine(programs)
    npc = args.npc or (main.metadata.characters[0].id if main.metadata.characters else "npc")
    session = load_state(args.state) if args.state else Session("cli")
    inputs = [x.strip() for x in args.inputs.split(",") if x.strip()] if args.inputs else []
    results: list[NarrativeStepResult] = []
    error = None
    try:
        results.append(engine.start(session, npc, main.id, args.entry, explain=args.explain))
        for item in inputs:
            given = None if item == "-" else item
            results.append(engine.step(session, npc, given, explain=args.explain))
    except StepError as exc:
        error = str(exc)
    if args.json:
        out: dict[str, Any] = {"steps": [r.to_dict() for r in results], "error": error}
        out["final_state"] = session.to_dict()
        print_json(out)
    else:
        sys.stdout.write(format_transcript(results))
        if results:
            print(f"[transcript hash {results[-1].transcript_hash}]")
    if error is not None:
        print(f"storylab: error: {error}", file=sys.stderr)
        return 2
    return 0


def _run_check(args: argparse.Namespace) -> int:
    from storylab._data import DataError, read_document
    from storylab.runtime import check_program, parse_program

    failed = 0
    for path in args.programs:
        try:
            program = parse_program(read_document(path), path)
        except DataError as exc:
            failed += 1
            for problem in exc.problems:
                print(f"error: {problem}")
            continue
        report = check_program(program, path)
        for problem in report.errors:
            print(f"error: {problem}")
        for problem in report.warnings:
            print(f"warning: {problem}")
        if report.errors:
            failed += 1
        else:
            summary = f"{len(program.nodes)} nodes, {len(program.edges)} edges"
            print(f"{path}: ok ({summary}, {len(report.warnings)} warning(s))")
    return 1 if failed else 0


#: format -> "module:function" returning its JSON Schema (imported when asked for).
SCHEMAS = {
    "program": "storylab.runtime.program:program_json_schema",
    "world": "storylab.world.manifest:world_json_schema",
}


def _run_schema(args: argparse.Namespace) -> int:
    module, func = SCHEMAS[args.format].split(":")
    schema = getattr(import_module(module), func)()
    if args.out:
        write_atomic(args.out, to_json(schema) + "\n")
    else:
        print_json(schema)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the runtime commands."""
    p = sub.add_parser(
        "play",
        help="play a narrative program and print the transcript",
        description="Start a narrative program for an NPC, play the given choices step by "
        "step and print the transcript (or the steps and final state as JSON).",
    )
    p.add_argument("program", metavar="PROGRAM", help="a program file (YAML or JSON)")
    p.add_argument("--inputs", help="choice ids to play, comma-separated ('-' steps a wait)")
    p.add_argument("--npc", help="the NPC to run it for (default: its first character)")
    p.add_argument("--entry", help="start at this node instead of the entry")
    p.add_argument("--state", metavar="FILE", help="starting session state (YAML or JSON)")
    p.add_argument("--also", nargs="*", default=[], metavar="PROGRAM", help="more programs")
    p.add_argument("--explain", action="store_true", help="also list hidden choices and why")
    p.add_argument("--json", action="store_true", help="print the steps and final state as JSON")
    p.set_defaults(run=_run_play)

    p = sub.add_parser(
        "check",
        help="check narrative programs; errors and warnings",
        description="Check narrative programs: errors (exit 1), then warnings (unreachable "
        "nodes, dead ends, state read but never set).",
    )
    p.add_argument("programs", nargs="+", metavar="PROGRAM", help="program files (YAML or JSON)")
    p.set_defaults(run=_run_check)

    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of a storylab format",
        description="Print (or write) the JSON Schema of a storylab file format, for editors.",
    )
    p.add_argument("format", choices=sorted(SCHEMAS), help="the format whose schema to print")
    p.add_argument("--out", metavar="FILE", help="write it to FILE instead")
    p.set_defaults(run=_run_schema)
