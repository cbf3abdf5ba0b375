"""``storylab simulate-players``: do played stories keep their arc, with and without re-planning?"""

from __future__ import annotations

import argparse

from storylab._files import replacing
from storylab.cli._args import bounded_float, bounded_int, seed
from storylab.cli._library import add_library_options, library_options
from storylab.cli._output import print_frames

__all__ = ["register"]

_WEIGHT = bounded_float(0.0, 1e6)


def _weights(items: list[str] | None) -> dict[str, float]:
    out = {}
    for item in items or []:
        choice, sep, value = item.partition("=")
        if not sep or not choice:
            raise ValueError(f"--weight takes CHOICE=WEIGHT, got {item!r}")
        try:
            out[choice] = _WEIGHT(value)
        except argparse.ArgumentTypeError as exc:
            raise ValueError(f"--weight {choice}: {exc}") from None
    return out


def _run(args: argparse.Namespace) -> int:
    from storylab.play import arc_share, simulate_players
    from storylab.storyteller import StorylineComposer

    weights = _weights(args.weight)
    composer = StorylineComposer(**library_options(args))
    plan = composer.compose(args.template, args.genre, subgenre=args.subgenre, seed=args.plan_seed)
    frame = simulate_players(
        plan,
        args.players,
        seed=args.seed,
        weights=weights,
        composer=composer,
        candidates=args.candidates,
        progress=False,
    )
    table = arc_share(frame).reset_index()
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from storylab.viz.play import plot_arc_share

        ax = plot_arc_share(frame.assign(template=plan.template.value))
        with replacing(args.plot) as tmp:
            ax.figure.savefig(tmp, dpi=120)
    print_frames(
        {"settings": table},
        as_json=args.json,
        meta={
            "plan": plan.id,
            "template": plan.template.value,
            "genre": plan.genre,
            "players": args.players,
            "seed": args.seed,
        },
        title=f"{plan.template.value} · {plan.genre} · plan {plan.id} · {args.players} players",
        digits=4,
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``simulate-players``."""
    p = sub.add_parser(
        "simulate-players",
        help="simulated players play a composed story, with and without re-planning",
        description="Compose a storyline, export it as a program, and let simulated players"
        " play it with re-planning off and on: the share whose played story the classifier"
        " still calls the template's arc, the distance to the plan, deviations and re-plans.",
    )
    p.add_argument("--template", required=True, help="arc template (see `storylab compose`)")
    p.add_argument("--genre", required=True, help="genre (see `storylab spectrums`)")
    p.add_argument("--subgenre", help="subgenre of the genre")
    add_library_options(p)
    p.add_argument("--plan-seed", type=seed, default=0, help="the composer's seed (default 0)")
    p.add_argument(
        "--players", type=bounded_int(1, 100_000), default=100, help="players (default 100)"
    )
    p.add_argument("--seed", type=seed, default=0, help="the players' seed (default 0)")
    p.add_argument(
        "--weight",
        action="append",
        metavar="CHOICE=WEIGHT",
        help="weight of a choice id (default 1 each), e.g. continue=3; repeat for several",
    )
    p.add_argument(
        "--candidates",
        type=bounded_int(1, 20),
        default=1,
        help="candidate rests per re-plan; the one closest to the arc is kept (default 1)",
    )
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.add_argument("--plot", metavar="FILE.png", help="draw the shares as bars")
    p.set_defaults(run=_run)
