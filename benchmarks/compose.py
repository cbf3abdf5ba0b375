"""How fast storylab composes storylines, and how its planner compares with a plain A*.

Two measurements in one run:

1. Whole storylines: every template x compatible genre composed at medium urgency. *Cold*
   clears the memoised search domains and cost-to-go tables before each composition; *warm*
   composes again with them in place (a new seed each time). Median and max per setting.
2. Optimality of the urgency limits: every phase of the medium-urgency plans re-solved by
   exact A* (limits lifted); how often the medium plan's cost is the optimum; and the same
   searches with the textbook ratio heuristic in place of the cost-to-go table.
3. Phase problems, side by side: the first phase of several storylines solved by storylab's
   exact A* (limits lifted) and by a reference *plain* A* over pydantic ``WorldState`` objects
   with a textbook heuristic (max of primary distance / best delta-per-cost and remaining
   ticks / best ticks-per-cost), both optimal. Reports both costs and the time ratio.

Usage::

    python benchmarks/compose.py            # full run
    python benchmarks/compose.py --quick    # a few pairs, one repeat
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import math
import os
import statistics
import time

from storylab.storyteller import (
    PhaseProblem,
    StorylineComposer,
    action_library,
    apply_action,
    assign_core_events,
    astar_search,
    planning_config,
    template_library,
)
from storylab.storyteller.heuristic import ratio_heuristic
from storylab.storyteller.progress import ActionCountResolver
from storylab.storyteller.search_space import clear_caches
from storylab.theory import NarrativeState, WorldState, secondary_spectrum


def plain_astar(problem: PhaseProblem, time_limit: float) -> tuple[float | None, int]:
    """Textbook A* on WorldState objects for the same phase problem: (cost, expansions)."""
    lib, cfg, genre = action_library(), planning_config(), problem.genre
    secondary = secondary_spectrum(genre)
    actions = lib.for_genre(genre)
    follow_ups = {a.chained_action for a in actions if a.chained_action}
    chains = [
        lib.chain(a.id)
        for a in actions
        if a.id not in follow_ups and not any(x.id in problem.excluded for x in lib.chain(a.id))
    ]
    step = cfg.spectrum_step
    lo, hi = problem.goal_lo * step, problem.goal_hi * step
    c_lo, c_hi = problem.corridor_lo * step - 1e-9, problem.corridor_hi * step + 1e-9
    ticks_of = {
        c[0].id: sum(cfg.ticks(a.narrative_effect_for(genre).position_advance) for a in c)
        for c in chains
    }
    cost_of = {c[0].id: sum(a.cost for a in c) for c in chains}
    best_move = max(
        abs(sum(a.narrative_effect_for(genre).primary_delta for a in c)) / cost_of[c[0].id]
        for c in chains
    )
    best_ticks = max(ticks_of[c[0].id] / cost_of[c[0].id] for c in chains)

    def h(world: WorldState, ticks: int) -> float:
        value = world.narrative.primary_value
        distance = max(0.0, lo - value, value - hi)
        return max(distance / best_move, max(0, problem.floor_ticks - ticks) / best_ticks)

    start = problem.world
    counter = itertools.count()
    frontier = [(h(start, problem.start_ticks), next(counter), 0.0, start, problem.start_ticks, ())]
    closed = set()
    expanded, started = 0, time.perf_counter()
    while frontier:
        if time.perf_counter() - started > time_limit:
            return None, expanded
        _, _, g, world, ticks, done = heapq.heappop(frontier)
        key = (world, ticks, done)
        if key in closed:
            continue
        closed.add(key)
        value = world.narrative.primary_value
        if (
            ticks > problem.start_ticks
            and lo - 1e-9 <= value <= hi + 1e-9
            and ticks >= problem.floor_ticks
            and set(problem.required) <= set(done)
        ):
            return g, expanded
        expanded += 1
        for chain in chains:
            current = world
            for action in chain:
                if not all(current.satisfies(p) for p in action.preconditions):
                    break
                current = apply_action(current, action, genre, secondary)
            else:
                t = ticks + ticks_of[chain[0].id]
                if t >= problem.ceiling_ticks:
                    continue
                if not c_lo <= current.narrative.primary_value <= c_hi:
                    continue
                new_done = tuple(
                    sorted(set(done) | {a.id for a in chain if a.id in problem.required})
                )
                g2 = g + cost_of[chain[0].id]
                heapq.heappush(
                    frontier, (g2 + h(current, t), next(counter), g2, current, t, new_done)
                )
    return math.inf, expanded


def storylines(pairs: list[tuple[str, str]], repeats: int) -> list[dict]:
    composer = StorylineComposer()
    rows = []
    for template, genre in pairs:
        clear_caches()
        cpu = time.process_time()
        composer.compose(template, genre, seed=0)
        cold_cpu = time.process_time() - cpu
        cold = composer.timings_["total_s"]
        warm, warm_cpu = [], []
        for seed in range(1, repeats + 1):
            cpu = time.process_time()
            plan = composer.compose(template, genre, seed=seed)
            warm_cpu.append(time.process_time() - cpu)
            warm.append(composer.timings_["total_s"])
        rows.append(
            {
                "template": template,
                "genre": genre,
                "actions": len(plan.actions),
                "complete": plan.complete,
                "cold_ms": 1000 * cold,
                "warm_ms": 1000 * statistics.median(warm),
                "cold_cpu_ms": 1000 * cold_cpu,
                "warm_cpu_ms": 1000 * statistics.median(warm_cpu),
            }
        )
    return rows


def phase_problems(pairs: list[tuple[str, str]], time_limit: float) -> list[dict]:
    rows = []
    lib = action_library()
    for template, genre in pairs:
        tpl = template_library().get(template)
        count = ActionCountResolver().resolve(tpl, genre).resolved
        core = [a.id for a in lib.core_events(genre)]
        slots = assign_core_events(core, len(tpl.phases))
        value = planning_config().snap(tpl.start_value())
        world = WorldState(narrative=NarrativeState.for_genre(genre, value=value))
        problem = PhaseProblem(
            world=world,
            phase=tpl.phase(1),
            genre=genre,
            total_ticks=count * planning_config().ticks_per_action,
            required=slots[0],
            excluded=tuple(e for s in slots[1:] for e in s),
        )
        clear_caches()
        started = time.perf_counter()
        ours = astar_search(problem)
        ours_s = time.perf_counter() - started
        started = time.perf_counter()
        ref_cost, ref_expanded = plain_astar(problem, time_limit)
        ref_s = time.perf_counter() - started
        rows.append(
            {
                "problem": f"{template}/{genre}/1",
                "actions": sum(len(s) for s in ours.steps),
                "storylab_cost": ours.cost,
                "plain_cost": "timeout" if ref_cost is None else ref_cost,
                "storylab_ms": 1000 * ours_s,
                "plain_ms": 1000 * ref_s,
                "storylab_expanded": ours.stats.expanded,
                "plain_expanded": ref_expanded,
                "speedup": ref_s / ours_s,
            }
        )
    return rows


def optimality_gap(pairs: list[tuple[str, str]], cap: int) -> list[dict]:
    """Every phase of medium-urgency plans, re-solved by exact A* (up to ``cap`` expansions)
    and by the medium beam with the textbook ratio heuristic instead of the table."""
    composer = StorylineComposer()
    limits = planning_config().limits("medium")
    rows = []
    for template, genre in pairs:
        plan = composer.compose(template, genre, seed=0)
        for phase, problem in zip(plan.phases, composer.problems_, strict=True):
            ratio = astar_search(
                problem,
                max_iterations=limits.max_iterations,
                beam_width=limits.beam_width,
                heuristic=ratio_heuristic(problem),
            )
            started = time.perf_counter()
            exact = astar_search(problem, max_iterations=cap)
            rows.append(
                {
                    "medium": phase.cost,
                    "medium_reached": phase.search.stop_reason == "goal",
                    "medium_ratio": ratio.cost if ratio.reached else None,
                    "exact": exact.cost if exact.reached else None,
                    "exact_s": time.perf_counter() - started,
                    "expanded": exact.stats.expanded,
                    "exact_ratio_expanded": astar_search(
                        problem, max_iterations=cap, heuristic=ratio_heuristic(problem)
                    ).stats.expanded,
                }
            )
    return rows


def _table(rows: list[dict]) -> None:
    def fmt(v: object) -> str:
        return f"{v:.2f}" if isinstance(v, float) else str(v)

    keys = list(rows[0])
    cells = [[fmt(r[k]) for k in keys] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    print("  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True)))
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few pairs, one repeat")
    parser.add_argument("--repeats", type=int, default=3, help="warm compositions per pair")
    parser.add_argument("--time-limit", type=float, default=20.0, help="plain A* cap, seconds")
    parser.add_argument("--exact-cap", type=int, default=200_000, help="exact A* expansions cap")
    args = parser.parse_args()
    pairs = template_library().pairs()
    if args.quick:
        pairs, args.repeats = pairs[::10], 1
    rows = storylines(pairs, args.repeats)
    cold = [r["cold_ms"] for r in rows]
    warm = [r["warm_ms"] for r in rows]
    print(f"whole storylines, medium urgency, {len(rows)} template x genre pairs")
    print(f"  cold: median {statistics.median(cold):.1f} ms, max {max(cold):.1f} ms")
    print(f"  warm: median {statistics.median(warm):.1f} ms, max {max(warm):.1f} ms")
    cpu_cold = statistics.median(r["cold_cpu_ms"] for r in rows)
    cpu_warm = statistics.median(r["warm_cpu_ms"] for r in rows)
    print(f"  CPU time (less sensitive to other load): median cold {cpu_cold:.1f} ms,")
    print(f"    warm {cpu_warm:.1f} ms; load average {os.getloadavg()[0]:.1f}")
    print(f"  complete: {sum(r['complete'] for r in rows)}/{len(rows)}\n")
    gap = optimality_gap(pairs if not args.quick else pairs[:2], args.exact_cap)
    solved = [r for r in gap if r["exact"] is not None]
    equal = sum(abs(r["medium"] - r["exact"]) < 1e-9 for r in solved)
    worst = max((r["medium"] / r["exact"] for r in solved), default=1.0)
    times = [r["exact_s"] for r in solved]
    print(f"medium urgency vs exact A* on all {len(gap)} phases of those plans:")
    print(f"  exact A* finished on {len(solved)} (cap {args.exact_cap} expansions);")
    print(f"  medium cost = optimum on {equal}/{len(solved)}, worst ratio {worst:.3f}")
    if times:
        print(
            f"  exact A* time: median {1000 * statistics.median(times):.1f} ms,"
            f" max {max(times):.2f} s; expansions max {max(r['expanded'] for r in solved)}"
        )
    ratio_ok = [r for r in gap if r["medium_ratio"] is not None]
    dearer = sum(r["medium_ratio"] > r["medium"] + 1e-9 for r in ratio_ok)
    cheaper = sum(r["medium_ratio"] < r["medium"] - 1e-9 for r in ratio_ok)
    table_exp = sum(r["expanded"] for r in solved)
    ratio_exp = sum(r["exact_ratio_expanded"] for r in solved)
    print("  the same with the textbook ratio heuristic instead of the cost-to-go table:")
    print(
        f"    medium beam reaches {len(ratio_ok)}/{len(gap)} phases (table:"
        f" {sum(r['medium_reached'] for r in gap)}); its plan is dearer on {dearer},"
        f" cheaper on {cheaper}"
    )
    print(
        f"    exact A* expansions: {ratio_exp} with the ratio bound, {table_exp} with the table\n"
    )
    phase_pairs = pairs[::3] if not args.quick else pairs[:2]
    print("first-phase problems: storylab exact A* vs a plain A* on WorldState (both optimal)")
    _table(phase_problems(phase_pairs, args.time_limit))


if __name__ == "__main__":
    main()
