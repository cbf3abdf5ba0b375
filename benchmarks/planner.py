"""storylab's GOAP planner side by side with Fast Downward and pyperplan.

For each template x genre pair the storyline is composed (seed 0, medium urgency); every
phase problem the composer posed is then solved by

* storylab: building the compiled ``PhaseProblem`` plus exact A* (no urgency limits), the
  median of ``--repeat`` runs;
* Fast Downward (``up-fast-downward``): ``astar(ipdb())`` on the exported PDDL with action
  costs; wall time of the whole run (interpreter, translation, search);
* pyperplan: A* with the blind heuristic (uniform cost; quicker here than hmax) on the
  unit-cost compilation (pyperplan has no action costs), within ``--pyperplan-timeout``
  seconds; by default on each pair's first phase only.

It prints one row per phase (costs, wall times, expansions per second, ratios) and a
summary: whether every optimal cost agrees, the ratio medians and minima, and the median
wall time of a whole storyline composition.

The *foreign* section (``--foreign N``, 50 by default) solves the problems of
``benchmarks/planner_libraries.py`` (seeded libraries storylab was not tuned on, fact-heavy
and spectrum-heavy goals, chains, cost spreads) with storylab's exact A* (median of
``--repeat`` runs, the problem rebuilt each time), Fast Downward ``astar(lmcut())`` on the
exported PDDL, and a plain Python A* written here (dict world states, the reference action
semantics, an admissible heuristic: the larger of the spectrum distance over the best
movement per cost, the missing ticks over the best ticks per cost, and, for each unmet goal
fact, the cheapest step with an effect on it). It asserts equal optimal costs and reports
the ratios against the bars (>= 10x Fast Downward wherever it needs over 1 s; >= 5x the
plain A* at the median). Run from the repository root::

    python benchmarks/planner.py            # six pairs, one per template, and 50 foreign
    python benchmarks/planner.py --quick    # one pair, no pyperplan, 9 foreign
    python benchmarks/planner.py --foreign-only
"""

from __future__ import annotations

import argparse
import dataclasses
import heapq
import itertools
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from planner_libraries import ForeignProblem, export, generate_problems

from storylab.storyteller import StorylineComposer, astar_search
from storylab.storyteller.pddl import encode_phase_task, phase_task
from storylab.storyteller.pddl_planners import run_fast_downward, run_pyperplan

#: One compatible genre per template: every template is measured.
PAIRS = [
    ("rags_to_riches", "love"),
    ("tragedy", "crime"),
    ("man_in_a_hole", "action"),
    ("icarus", "thriller"),
    ("cinderella", "romance"),
    ("oedipus", "mystery"),
]


def _median_time(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def _rate(expanded: int | None, seconds: float) -> str:
    return f"{expanded / seconds:,.0f}" if expanded and seconds > 0 else "-"


def _fmt(value: float | None, spec: str) -> str:
    return "-".rjust(int(spec.split(".")[0])) if value is None else format(value, spec)


def bench_pair(template: str, genre: str, args: argparse.Namespace, out: Path) -> list[dict]:
    """One row per phase of the composed storyline."""
    composer = StorylineComposer()
    plan = composer.compose(template, genre, seed=0)
    rows = []
    for phase, problem in zip(plan.phases, composer.problems_, strict=True):

        def solve(problem=problem):
            return astar_search(dataclasses.replace(problem))  # compiling it is timed too

        sl_s, search = _median_time(solve, args.repeat)
        task = phase_task(problem, f"{template}-{genre}-{phase.number}")
        export = encode_phase_task(task)
        where = out / f"{template}-{genre}-{phase.number}"
        fd = run_fast_downward(*export.write(where), timeout=args.fd_timeout)
        row = {
            "pair": f"{template}/{genre}",
            "phase": phase.number,
            "storylab_cost": search.cost if search.reached else None,
            "storylab_optimal": search.stats.optimal,
            "fd_cost": fd.cost / export.cost_scale if fd.solved else None,
            "fd_status": fd.status,
            "storylab_ms": sl_s * 1000,
            "fd_s": fd.wall_s,
            "storylab_exp_s": _rate(search.stats.expanded, sl_s),
            "fd_exp_s": _rate(fd.expanded, fd.wall_s),
            "pp_cost": None,
            "pp_s": None,
            "pp_status": "skipped",
            "pp_exp_s": "-",
        }
        if args.pyperplan_all or (phase.number == 1 and not args.no_pyperplan):
            unit = encode_phase_task(task, costs="unit")
            pp = run_pyperplan(
                *unit.write(where / "unit"), heuristic="blind", timeout=args.pyperplan_timeout
            )
            row.update(
                pp_cost=unit.plan_cost(pp.plan) if pp.solved else None,
                pp_s=pp.wall_s,
                pp_status=pp.status,
                pp_exp_s=_rate(pp.expanded, pp.wall_s),
            )
        rows.append(row)
        print(_line(row), flush=True)
    return rows


HEADER = (
    f"{'template/genre':<24} {'ph':>2} {'cost sl':>7} {'cost fd':>7} {'cost pp':>7} "
    f"{'sl ms':>8} {'fd s':>7} {'pp s':>8} {'fd/sl':>7} {'pp/sl':>8} "
    f"{'sl exp/s':>10} {'fd exp/s':>10} {'pp exp/s':>9}"
)


def _line(r: dict) -> str:
    sl = r["storylab_ms"] / 1000
    pp_ratio = r["pp_s"] / sl if r["pp_s"] is not None else None
    pp_mark = ">" if r["pp_status"] == "timeout" else " "
    fd_mark = ">" if r["fd_status"] == "timeout" else " "
    return (
        f"{r['pair']:<24} {r['phase']:>2} {_fmt(r['storylab_cost'], '7.2f')} "
        f"{_fmt(r['fd_cost'], '7.2f')} {_fmt(r['pp_cost'], '7.2f')} "
        f"{r['storylab_ms']:8.2f} {fd_mark}{r['fd_s']:6.2f} {pp_mark}{_fmt(r['pp_s'], '7.2f')} "
        f"{r['fd_s'] / sl:7.0f} {pp_mark}{_fmt(pp_ratio, '7.0f')} "
        f"{r['storylab_exp_s']:>10} {r['fd_exp_s']:>10} {r['pp_exp_s']:>9}"
    )


def compose_times(pairs: list[tuple[str, str]], repeat: int) -> list[float]:
    """Median wall time of a whole composition (all phases, medium urgency) per pair."""
    composer = StorylineComposer()
    return [
        _median_time(lambda t=t, g=g: composer.compose(t, g, seed=0), repeat)[0] for t, g in pairs
    ]


def plain_astar(problem, timeout: float) -> tuple[float | None, int, str]:
    """A plain A* on dict world states (the reference semantics); (cost, expanded, status)."""
    config = problem.config
    g = config.grid_max
    steps = [
        (
            s.actions,
            s.cost,
            s.ticks,
            tuple(
                config.to_grid(a.narrative_effect_for(problem.genre).primary_delta)
                for a in s.actions
            ),
        )
        for s in problem.steps
    ]
    goal = problem.goal_facts
    move = max((max(abs(sum(d)), 1) / c for _, c, _, d in steps), default=1.0)
    tick_rate = max(t / c for _, c, t, _ in steps)
    achievers = {
        c: min(
            (
                cost
                for acts, cost, _, _ in steps
                if any(e.key == c.key for a in acts for e in a.effects)
            ),
            default=math.inf,
        )
        for c in goal
    }

    def h(facts: dict, p: int, t: int) -> float:
        d = max(0, problem.goal_lo - p, p - problem.goal_hi)
        r = max(0, problem.floor_ticks - t)
        out = max(d / move, r / tick_rate)
        for c in goal:
            if not c.test(facts.get(c.key)):
                out = max(out, achievers[c])
        return out

    facts0 = {k: v for k, v in problem.world.facts.items()}
    start = (tuple(sorted(facts0.items())), problem.initial[1], problem.initial[2])
    best = {start: 0.0}
    counter = itertools.count()
    heap = [(h(facts0, start[1], start[2]), next(counter), start)]
    expanded, deadline = 0, time.perf_counter() + timeout
    while heap:
        if expanded % 256 == 0 and time.perf_counter() > deadline:
            return None, expanded, "timeout"
        f, _, state = heapq.heappop(heap)
        items, p, t = state
        cost = best[state]
        facts = dict(items)
        if f > cost + h(facts, p, t) + 1e-9:
            continue  # a stale entry
        if (
            expanded
            and problem.goal_lo <= p <= problem.goal_hi
            and t >= problem.floor_ticks
            and all(c.test(facts.get(c.key)) for c in goal)
        ):
            return cost, expanded, "solved"
        expanded += 1
        for actions, step_cost, ticks, deltas in steps:
            t2 = t + ticks
            if t2 >= problem.ceiling_ticks:
                continue
            new, ok = dict(facts), True
            for a in actions:
                if not all(c.test(new.get(c.key)) for c in a.preconditions):
                    ok = False
                    break
                for e in a.effects:
                    new[e.key] = e.apply(new)
            if not ok:
                continue
            p2 = p
            for d in deltas:
                p2 = max(-g, min(g, p2 + d))
            nxt = (tuple(sorted(new.items())), p2, t2)
            c2 = cost + step_cost
            if c2 < best.get(nxt, math.inf):
                best[nxt] = c2
                heapq.heappush(heap, (c2 + h(new, p2, t2), next(counter), nxt))
    return None, expanded, "exhausted"


def bench_foreign(args: argparse.Namespace, out: Path) -> list[dict]:
    """One row per generated problem: storylab, Fast Downward lmcut and the plain A*."""
    problems: list[ForeignProblem] = generate_problems(args.foreign, seed=args.foreign_seed)
    print(
        f"\n{'problem':<26} {'cost sl':>7} {'cost fd':>7} {'cost pa':>7} {'sl ms':>8} {'fd s':>7}"
        f" {'pa s':>8} {'fd/sl':>8} {'pa/sl':>8} {'sl exp':>7} {'pa exp':>8} {'sl MB':>6}"
    )
    rows = []
    for item in problems:
        sl_s, search = _median_time(
            lambda item=item: astar_search(dataclasses.replace(item.problem)), args.repeat
        )
        pddl, files = export(item, out / item.name)
        fd = run_fast_downward(*files, search="astar(lmcut())", timeout=args.fd_timeout)
        started = time.perf_counter()
        pa_cost, pa_expanded, pa_status = plain_astar(item.problem, args.plain_timeout)
        pa_s = time.perf_counter() - started
        row = {
            "problem": item.name,
            "kind": item.kind,
            "storylab_cost": search.cost if search.reached else None,
            "fd_cost": fd.cost / pddl.cost_scale if fd.solved else None,
            "fd_status": fd.status,
            "plain_cost": pa_cost,
            "plain_status": pa_status,
            "storylab_ms": sl_s * 1000,
            "fd_s": fd.wall_s,
            "plain_s": pa_s,
            "storylab_expanded": search.stats.expanded,
            "plain_expanded": pa_expanded,
            "storylab_mb": search.stats.peak_memory_mb,
        }
        rows.append(row)
        fd_mark = ">" if fd.status == "timeout" else " "
        pa_mark = ">" if pa_status == "timeout" else " "
        print(
            f"{item.name:<26} {_fmt(row['storylab_cost'], '7.2f')} {_fmt(row['fd_cost'], '7.2f')}"
            f" {_fmt(pa_cost, '7.2f')} {sl_s * 1000:8.2f} {fd_mark}{fd.wall_s:6.2f}"
            f" {pa_mark}{pa_s:7.2f} {fd_mark}{fd.wall_s / sl_s:7.0f} {pa_mark}{pa_s / sl_s:7.0f}"
            f" {search.stats.expanded:7d} {pa_expanded:8d} {search.stats.peak_memory_mb:6.2f}",
            flush=True,
        )
    return rows


def foreign_summary(rows: list[dict]) -> bool:
    """Print the foreign section's verdicts; whether the costs agree everywhere."""
    solved = [r for r in rows if r["fd_cost"] is not None]
    agree_fd = all(abs(r["storylab_cost"] - r["fd_cost"]) < 1e-9 for r in solved)
    plain = [r for r in rows if r["plain_cost"] is not None]
    agree_pa = all(abs(r["storylab_cost"] - r["plain_cost"]) < 1e-9 for r in plain)
    slow = [r for r in rows if r["fd_s"] > 1.0]
    fd_ratio = [r["fd_s"] / (r["storylab_ms"] / 1000) for r in slow]
    pa_ratio = [r["plain_s"] / (r["storylab_ms"] / 1000) for r in rows]
    print()
    print(
        f"foreign problems: {len(rows)}; storylab == Fast Downward lmcut on {len(solved)}"
        f" solved: {agree_fd}; == plain A* on {len(plain)} solved: {agree_pa}"
    )
    if fd_ratio:
        print(
            f"Fast Downward / storylab where Fast Downward needs > 1 s ({len(slow)} problems):"
            f" min {min(fd_ratio):,.1f}x, median {statistics.median(fd_ratio):,.1f}x (bar: >= 10x)"
        )
    else:
        print("Fast Downward needed over 1 s on none of the problems")
    print(
        f"plain A* / storylab: median {statistics.median(pa_ratio):,.1f}x,"
        f" min {min(pa_ratio):,.2f}x (bar: median >= 5x; plain timeouts count as the limit)"
    )
    return agree_fd and agree_pa


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one pair, no pyperplan")
    parser.add_argument("--repeat", type=int, default=5, help="storylab timing runs (median)")
    parser.add_argument("--fd-timeout", type=float, default=300.0)
    parser.add_argument("--pyperplan-timeout", type=float, default=60.0)
    parser.add_argument("--pyperplan-all", action="store_true", help="pyperplan on every phase")
    parser.add_argument("--no-pyperplan", action="store_true")
    parser.add_argument("--keep", metavar="DIR", help="keep the exported PDDL files here")
    parser.add_argument("--foreign", type=int, default=50, help="generated foreign problems")
    parser.add_argument("--foreign-seed", type=int, default=0, help="the generator's seed")
    parser.add_argument("--foreign-only", action="store_true", help="only the foreign section")
    parser.add_argument("--plain-timeout", type=float, default=60.0, help="plain A* limit (s)")
    args = parser.parse_args(argv)
    pairs = PAIRS[2:3] if args.quick else PAIRS
    args.no_pyperplan = args.no_pyperplan or args.quick
    if args.quick:
        args.foreign = min(args.foreign, 9)
    with tempfile.TemporaryDirectory(prefix="storylab-bench-") as tmp:
        out = Path(args.keep or tmp)
        if args.foreign_only:
            return 0 if foreign_summary(bench_foreign(args, out)) else 1
        print(HEADER)
        rows = [r for t, g in pairs for r in bench_pair(t, g, args, out)]
        foreign = bench_foreign(args, out) if args.foreign else []
    both = [r for r in rows if None not in (r["fd_cost"], r["storylab_cost"])]
    agree = len(both) == len(rows) and all(
        abs(r["storylab_cost"] - r["fd_cost"]) < 1e-9 for r in both
    )
    agree_both = all(abs(r["storylab_cost"] - r["fd_cost"]) < 1e-9 for r in both)
    slow = [r["fd_s"] / (r["storylab_ms"] / 1000) for r in rows if r["fd_s"] > 1.0]
    pp_rows = [r for r in rows if r["pp_cost"] is not None]
    pp_agree = all(abs(r["storylab_cost"] - r["pp_cost"]) < 1e-9 for r in pp_rows)
    fd_ratio = [r["fd_s"] / (r["storylab_ms"] / 1000) for r in rows]
    pp_ratio = [r["pp_s"] / (r["storylab_ms"] / 1000) for r in rows if r["pp_s"] is not None]
    stories = compose_times(pairs, args.repeat)
    print()
    print(f"phase problems: {len(rows)}; storylab optimal cost == Fast Downward: {agree}")
    optimal = sum(r["storylab_optimal"] for r in rows)
    fd_solved = sum(r["fd_cost"] is not None for r in rows)
    print(
        f"storylab optimal on {optimal} of {len(rows)}; Fast Downward solved {fd_solved};"
        f" costs equal on the {len(both)} both solved: {agree_both}"
    )
    print(f"pyperplan solved {len(pp_rows)} of {len(pp_ratio)} in time; costs agree: {pp_agree}")
    fd_summary = f"median {statistics.median(fd_ratio):,.0f}x, min {min(fd_ratio):,.0f}x"
    print(f"Fast Downward / storylab wall time: {fd_summary} (bar: >= 10x)")
    if slow:
        print(
            f"where Fast Downward needs over 1 s ({len(slow)} problems, timeouts at the limit):"
            f" min {min(slow):,.0f}x, median {statistics.median(slow):,.0f}x"
        )
    if pp_ratio:
        pp_summary = f"median {statistics.median(pp_ratio):,.0f}x, min {min(pp_ratio):,.0f}x"
        print(
            "pyperplan / storylab wall time (timeouts count as the limit):"
            f" {pp_summary} (bar: >= 100x)"
        )
    print(
        f"whole storyline (all phases, medium urgency): median"
        f" {statistics.median(stories) * 1000:.1f} ms, max {max(stories) * 1000:.1f} ms"
        " (bar: median < 50 ms)"
    )
    foreign_ok = foreign_summary(foreign) if foreign else True
    return 0 if agree and pp_agree and foreign_ok else 1


if __name__ == "__main__":
    sys.exit(main())
