"""``storylab world check|run|why-not``: world manifests, their simulation and their gating."""

from __future__ import annotations

import argparse

from storylab._data import DataError


def _run_check(args: argparse.Namespace) -> int:
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


def register(sub: argparse._SubParsersAction) -> None:
    """Add the world commands."""
    world = sub.add_parser(
        "world",
        help="check, simulate and question world manifests",
        description="World manifests: places, NPCs, schedules, relationships, interactions.",
    )
    wsub = world.add_subparsers(dest="world_command", required=True, metavar="SUBCOMMAND")
    p = wsub.add_parser(
        "check",
        help="validate worlds and list every problem; exit 1 on any",
        description="Validate world files (or folders holding world.yaml) and their programs.",
    )
    p.add_argument("worlds", nargs="+", metavar="WORLD", help="a world file or folder")
    p.set_defaults(run=_run_check)
