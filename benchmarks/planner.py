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
wall time of a whole storyline composition. Run from the repository root::

    python benchmarks/planner.py            # six pairs, one per template
    python benchmarks/planner.py --quick    # one pair, no pyperplan
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one pair, no pyperplan")
    parser.add_argument("--repeat", type=int, default=5, help="storylab timing runs (median)")
    parser.add_argument("--fd-timeout", type=float, default=300.0)
    parser.add_argument("--pyperplan-timeout", type=float, default=60.0)
    parser.add_argument("--pyperplan-all", action="store_true", help="pyperplan on every phase")
    parser.add_argument("--no-pyperplan", action="store_true")
    parser.add_argument("--keep", metavar="DIR", help="keep the exported PDDL files here")
    args = parser.parse_args(argv)
    pairs = PAIRS[2:3] if args.quick else PAIRS
    args.no_pyperplan = args.no_pyperplan or args.quick
    print(HEADER)
    with tempfile.TemporaryDirectory(prefix="storylab-bench-") as tmp:
        out = Path(args.keep or tmp)
        rows = [r for t, g in pairs for r in bench_pair(t, g, args, out)]
    agree = all(
        None not in (r["fd_cost"], r["storylab_cost"])
        and abs(r["storylab_cost"] - r["fd_cost"]) < 1e-9
        for r in rows
    )
    pp_rows = [r for r in rows if r["pp_cost"] is not None]
    pp_agree = all(abs(r["storylab_cost"] - r["pp_cost"]) < 1e-9 for r in pp_rows)
    fd_ratio = [r["fd_s"] / (r["storylab_ms"] / 1000) for r in rows]
    pp_ratio = [r["pp_s"] / (r["storylab_ms"] / 1000) for r in rows if r["pp_s"] is not None]
    stories = compose_times(pairs, args.repeat)
    print()
    print(f"phase problems: {len(rows)}; storylab optimal cost == Fast Downward: {agree}")
    print(f"pyperplan solved {len(pp_rows)} of {len(pp_ratio)} in time; costs agree: {pp_agree}")
    fd_summary = f"median {statistics.median(fd_ratio):,.0f}x, min {min(fd_ratio):,.0f}x"
    print(f"Fast Downward / storylab wall time: {fd_summary} (bar: >= 10x)")
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
    return 0 if agree and pp_agree else 1


if __name__ == "__main__":
    sys.exit(main())
