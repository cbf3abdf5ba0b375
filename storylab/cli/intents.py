"""``storylab intents``: list, show, create and run intents in a store; stream their events."""

from __future__ import annotations

import argparse
import json
import signal
from pathlib import Path
from typing import Any

from storylab.cli._args import bounded_float, bounded_int, command_group
from storylab.cli._output import print_frames, print_json, print_table


def _open(path: str, *, create: bool = False) -> Any:
    from storylab.intents import IntentStore

    if not create and not Path(path).exists():
        raise FileNotFoundError(f"{path}: no such store")
    return IntentStore(path)


def _run_list(args: argparse.Namespace) -> int:
    with _open(args.db) as store:
        frame = store.intents(args.scenario)
    cols = ["id", "scenario", "kind", "status", "attempts", "applied", "effects", "error"]
    print_frames({"intents": frame[cols]})
    return 0


def _run_show(args: argparse.Namespace) -> int:
    with _open(args.db) as store:
        intent = store.intent(args.id)
        progress = store.progress(args.id)
    if args.json:
        from dataclasses import asdict

        print_json({**asdict(intent), "progress": asdict(progress)})
        return 0
    print(f"{intent.id}  {intent.kind} in {intent.scenario} (session {intent.session_id})")
    print(f"status {intent.status}, attempts {intent.attempts}, last event {progress.last_event}")
    if intent.error:
        print(f"error: {intent.error}")
    rows = [
        {
            "index": e.index,
            "kind": e.kind,
            "status": e.status,
            "who": e.payload.get("participant") or e.payload.get("npc") or e.payload.get("name"),
            "turn": "" if e.turn_no is None else e.turn_no,
            "output": e.output or e.error or "",
        }
        for e in intent.effects
    ]
    print_table(rows)
    return 0


def _run_create(args: argparse.Namespace) -> int:
    from storylab._data import read_document
    from storylab.intents import PendingIntentExists

    text = args.inputs
    inputs = read_document(text) if Path(text).is_file() else read_document("<--inputs>", text=text)
    with _open(args.db, create=True) as store:
        try:
            intent = store.create_intent(args.scenario, args.kind, inputs, session_id=args.session)
        except PendingIntentExists as exc:
            raise ValueError(str(exc)) from None
    print(intent.id)
    return 0


def _provider(args: argparse.Namespace) -> Any:
    from storylab.intents import HTTPProvider, OfflineProvider

    if args.provider == "offline":
        if args.url:
            raise ValueError("--url is for --provider http")
        return OfflineProvider()
    if not args.url:
        raise ValueError("--provider http needs --url (an OpenAI-compatible API base)")
    return HTTPProvider(args.url, args.model, timeout=args.timeout)


def _run_run(args: argparse.Namespace) -> int:
    from storylab.intents import Supervisor

    provider = _provider(args)
    with _open(args.db) as store:
        sup = Supervisor(
            store,
            provider,
            max_attempts=args.attempts,
            deadline=args.deadline,
            max_in_flight=args.workers,
            progress=not args.quiet,
        )
    previous = signal.signal(signal.SIGINT, lambda *_: sup.stop())
    try:
        stats = sup.run(once=args.once)
    finally:
        signal.signal(signal.SIGINT, previous)
    print(
        f"started {stats.started}, finished {stats.finished}, retried {stats.retried}, "
        f"failed {stats.failed}, expired {stats.expired}, recovered {stats.recovered}"
    )
    return 0


def _run_events(args: argparse.Namespace) -> int:
    with _open(args.db) as store:
        try:
            for event in store.events(args.id, follow=args.follow, timeout=args.timeout):
                data = json.dumps(event.data, ensure_ascii=False, sort_keys=True)
                print(f"{event.seq:>6}  {event.kind:<15} {data}", flush=True)
        except KeyboardInterrupt:
            return 0
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``intents`` command group."""
    cmds = command_group(
        sub,
        "intents",
        help="persisted intents: list, show, create, run (the supervisor), events",
        description="Intents and their effects stored in a session SQLite file.",
    )

    p = cmds.add_parser("list", help="one line per intent", description="List the intents.")
    p.add_argument("db", metavar="DB", help="the SQLite store")
    p.add_argument("--scenario", help="only this scenario's intents")
    p.set_defaults(run=_run_list)

    p = cmds.add_parser("show", help="an intent and its effects", description="Show an intent.")
    p.add_argument("db", metavar="DB", help="the SQLite store")
    p.add_argument("id", metavar="ID", help="the intent id")
    p.add_argument("--json", action="store_true", help="print it as JSON")
    p.set_defaults(run=_run_show)

    p = cmds.add_parser(
        "create", help="create an intent", description="Create a pending intent; print its id."
    )
    p.add_argument("db", metavar="DB", help="the SQLite store (created when missing)")
    p.add_argument("scenario", metavar="SCENARIO", help="the scenario it belongs to")
    p.add_argument(
        "kind", metavar="KIND", help="direct_control, story_constraint or a composer intent type"
    )
    p.add_argument("--inputs", required=True, help="the inputs: a YAML/JSON file or inline JSON")
    p.add_argument("--session", help="the session it changes (default: the scenario)")
    p.set_defaults(run=_run_create)

    p = cmds.add_parser(
        "run",
        help="supervise: run pending intents until Ctrl-C (or --once)",
        description="Run the supervisor on a store; Ctrl-C stops it cleanly.",
    )
    p.add_argument("db", metavar="DB", help="the SQLite store")
    p.add_argument(
        "--provider", choices=["offline", "http"], default="offline", help="generation provider"
    )
    p.add_argument("--url", help="OpenAI-compatible API base for --provider http")
    p.add_argument("--model", default="local", help="model name sent to the HTTP provider")
    p.add_argument(
        "--timeout",
        type=bounded_float(0.001, 3600),
        default=60.0,
        help="HTTP timeout in seconds (default 60)",
    )
    p.add_argument("--once", action="store_true", help="stop when no intent is pending")
    p.add_argument(
        "--attempts",
        type=bounded_int(1, 100),
        default=3,
        help="runs per intent before it fails, 1-100 (default 3)",
    )
    p.add_argument(
        "--deadline",
        type=bounded_float(0.001, 86_400),
        default=120.0,
        help="seconds a run may take (default 120)",
    )
    p.add_argument(
        "--workers", type=bounded_int(1, 64), default=2, help="runs at once, 1-64 (default 2)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_run_run)

    p = cmds.add_parser(
        "events", help="an intent's events", description="Print an intent's events, oldest first."
    )
    p.add_argument("db", metavar="DB", help="the SQLite store")
    p.add_argument("id", metavar="ID", help="the intent id")
    p.add_argument("--follow", action="store_true", help="keep printing until the intent ends")
    p.add_argument(
        "--timeout",
        type=bounded_float(0.0, 86_400),
        help="with --follow: give up after this many quiet seconds",
    )
    p.set_defaults(run=_run_events)
