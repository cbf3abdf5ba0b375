"""``storylab world check|run|why-not``: world manifests, their simulation and their gating."""

from __future__ import annotations

import argparse
from typing import Any

from storylab.cli._args import bounded_int, command_group, seed
from storylab.cli._output import print_frames, print_json, print_table


def _run_check(args: argparse.Namespace) -> int:
    from storylab._data import DataError
    from storylab.world import load_world

    failed = 0
    for path in args.worlds:
        try:
            world = load_world(path)
        except DataError as exc:
            failed += 1
            for problem in exc.problems:
                print(f"error: {problem}")
            continue
        summary = (
            f"{len(world.locations)} locations, {len(world.npcs)} NPCs, "
            f"{len(world.interactions)} interactions, {len(world.program_map)} programs"
        )
        print(f"{world.source}: ok ({summary})")
    return 1 if failed else 0


def _run_run(args: argparse.Namespace) -> int:
    from storylab.world import load_world, simulate

    run = simulate(load_world(args.world), days=args.days, seed=args.seed, progress=False)
    final = run.final
    if not args.all:
        final = final[final.b == "player"]
    print_frames(
        {"final": final[["a", "b", "axis", "value"]]},
        as_json=args.json,
        meta={
            "world": run.world.id,
            "days": run.days,
            "seed": run.seed,
            "final_hash": run.final_hash(),
            "moves": len(run.events),
            "meetings": int((run.relationships.source == "ambient").sum()),
        },
        footer=f"[{run.world.id}: {run.days} day(s), seed {run.seed}, hash {run.final_hash()}]",
        digits=6,
    )
    return 0


def _session(world: Any, path: str | None) -> Any:
    """The world's starting session with a state file's facts laid over it."""
    from storylab.runtime import load_state
    from storylab.world import WorldSession

    ws = WorldSession(world, id="cli")
    if path is not None:
        state, facts = load_state(path), ws.session
        for npc, row in state.relationships.items():
            facts.relationships.setdefault(npc, {}).update(row)
        facts.flags.update(state.flags)
        facts.inventory.update(state.inventory)
        facts.player.update(state.player)
        facts.world_time = state.world_time
        ws = WorldSession(world, facts)
    return ws


def _run_why_not(args: argparse.Namespace) -> int:
    from storylab.world import available, format_time, load_world, parse_at

    world = load_world(args.world)
    ws = _session(world, args.state)
    at = None if args.at is None else _number_or_text(args.at)
    table = available(ws, args.npc, at)
    when = format_time(world, ws.time if at is None else parse_at(world, at))
    if args.json:
        rows = [
            {
                "npc": r.npc,
                "interaction": r.interaction,
                "available": bool(r.available),
                "cooldown_left": r.cooldown_left,
                "failures": [
                    {"requirement": f.requirement, "actual": f.actual, "required": f.required}
                    for f in r.failures
                ],
            }
            for r in table.itertuples()
        ]
        print_json({"world": world.id, "at": when, "interactions": rows})
    else:
        print(f"{world.name} at {when}")
        print_table(
            [
                {
                    "npc": r.npc,
                    "interaction": r.interaction,
                    "available": "yes" if r.available else "no",
                    "why not": r.why_not,
                }
                for r in table.itertuples()
            ]
        )
    return 0


def _run_playtests(args: argparse.Namespace) -> int:
    from storylab.world.playtests import run_playtest

    failed = 0
    for path in args.files:
        outcome = run_playtest(path)
        if outcome.ok:
            print(f"ok    {path} ({outcome.name}, {len(outcome.played.steps)} step(s))")
        else:
            failed += 1
            print(f"FAIL  {path} ({outcome.name}): {outcome.difference}")
    return 1 if failed else 0


def _number_or_text(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def register(sub: argparse._SubParsersAction) -> None:
    """Add the world commands."""
    wsub = command_group(
        sub,
        "world",
        help="check, simulate and question world manifests",
        description="World manifests: places, NPCs, schedules, relationships, interactions.",
    )
    p = wsub.add_parser(
        "check",
        help="validate worlds and list every problem; exit 1 on any",
        description="Validate world files (or folders holding world.yaml) and their programs.",
    )
    p.add_argument("worlds", nargs="+", metavar="WORLD", help="a world file or folder")
    p.set_defaults(run=_run_check)

    p = wsub.add_parser(
        "run",
        help="simulate days of a world and print the final relationships",
        description="Simulate a world (schedules, gates, ambient drift) and print the result.",
    )
    p.add_argument("world", metavar="WORLD", help="a world file or folder")
    p.add_argument(
        "--days",
        type=bounded_int(1, 3650),
        default=7,
        help="whole days to simulate, 1-3650 (default 7)",
    )
    p.add_argument("--seed", type=seed, default=0, help="seed of the random draws (default 0)")
    p.add_argument("--all", action="store_true", help="NPC-to-NPC rows too, not only the player's")
    p.add_argument("--json", action="store_true", help="print JSON with the final hash")
    p.set_defaults(run=_run_run)

    p = wsub.add_parser(
        "why-not",
        help="list each NPC's interactions: available, or every failed requirement",
        description="Evaluate every interaction's gating and say why each refused one fails.",
    )
    p.add_argument("world", metavar="WORLD", help="a world file or folder")
    p.add_argument("--npc", help="only this NPC")
    p.add_argument("--at", help="world time: hours since the start, or like 'tue 18:00'")
    p.add_argument("--state", metavar="FILE", help="session facts laid over the world's start")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_run_why_not)

    psub = command_group(
        sub,
        "playtest",
        help="replay saved world playtests",
        description="Saved playtests: scripted runs with their expected transcript and diff.",
    )
    p = psub.add_parser(
        "run",
        help="replay playtests; print the first differing step of each failure; exit 1 on any",
        description="Replay saved playtests (YAML) and compare them with their expectations.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="playtest files")
    p.set_defaults(run=_run_playtests)
