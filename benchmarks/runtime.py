"""Narrative runtime benchmark: storylab side by side with the ink runtime ``bink``.

Both runtimes play the same generated story (``benchmarks/stories.py``): ink source
compiled with the npm package ``inkjs`` (installed into ``benchmarks/.ink`` on first use)
for bink, a ``NarrativeProgram`` for storylab. The long playthrough's picks are worked
out on a plain reference interpreter first; every step of both runtimes is checked
against it (text and options on offer) before any number counts. See
``docs/performance.md`` (Runtime) for exactly what is timed.

Measured, per story size: the story's load time, choice-to-choice steps per second (a
step = one player input played to the next choice), node executions per second, the first
and last 2,000 steps of one long playthrough, save-plus-load time and the saved state's
size; on a 200-node story, playthroughs per second. Ratios are storylab / bink for rates
and bink / storylab for times and sizes (above 1: storylab is better).

Usage::

    pip install -e .[bench]            # bink
    python benchmarks/runtime.py       # full run, under a minute (plus ~30 s the first time)
    python benchmarks/runtime.py --quick
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stories import (
    END_TEXT,
    GenStory,
    ReferencePlayer,
    compile_ink,
    generate_story,
    to_ink,
    to_program_data,
)

__all__ = ["main"]

#: Every rate and time below is CPU time of this process: the machine may be shared, and
#: both runtimes run in this one thread, so CPU time compares them fairly.
clock = time.process_time
#: Steps per chunk of the long playthrough: the runtimes take turns chunk by chunk, and a
#: rate is the median of its chunks' rates.
CHUNK = 1000


@dataclass
class Plan:
    """The long playthrough worked out on the reference interpreter before any runtime
    plays it: the option picked at every step, and what each step must show."""

    picks: list[int]
    texts: list[str]
    offered: list[list[str]]
    executed: int


def plan(story: GenStory, draws: np.ndarray) -> Plan:
    """Pick uniformly among the options other than *Farewell.* (so the story never ends),
    one draw per step, on the reference interpreter."""
    ref = ReferencePlayer(story)
    out = Plan([], [], [], 0)
    for r in draws:
        assert ref.offered is not None
        out.picks.append(_pick([o.text for o in ref.offered], r))
        ref.choose(out.picks[-1])
        out.texts.append("".join(line + "\n" for line in ref.text))
        out.offered.append([o.text for o in ref.offered or ()])
    out.executed = ref.executed
    return out


def _pick(texts: list[str], r: float) -> int:
    keep = [i for i, t in enumerate(texts) if t != END_TEXT]
    return keep[int(r * len(keep))]


@dataclass
class Run:
    """One runtime on the long playthrough.

    ``play(picks)`` is the timed part: it plays the picks and returns the runtime's own
    outputs; ``shown(outputs)`` turns them into (text, option texts) per step for the
    check, outside the timed part; ``save_load()`` times save plus load.
    """

    name: str
    load_s: float
    play: Callable[[list[int]], list[Any]]
    shown: Callable[[list[Any]], list[tuple[str, list[str]]]]
    save_load: Callable[[], tuple[float, float, int]]
    chunk: int = CHUNK
    chunks: list[float] = field(default_factory=list)
    save_load_ms: float = 0.0
    first_save_load_ms: float = 0.0
    state_bytes: int = 0

    def rate(self, lo: int = 0, hi: int | None = None) -> float:
        """Steps per second over chunks ``lo:hi``: the median of their rates, so that one
        stall caused by other load on the machine does not decide it."""
        return float(np.median([self.chunk / s for s in self.chunks[lo:hi]]))

    def window(self, first: bool, steps: int) -> float:
        """Steps per second over the first or last ``steps`` steps (whole chunks)."""
        k = steps // self.chunk
        times = self.chunks[:k] if first else self.chunks[-k:]
        return k * self.chunk / sum(times)


def bink_long(story_json: str) -> Run:
    """bink on the long playthrough. A step: take the option, continue to the next choice
    (bink returns the text) and read the options on offer."""
    from bink.story import Story

    t0 = clock()
    ink = Story(story_json)
    gc.collect()  # the load's garbage is the load's cost, not the first steps'
    load_s = clock() - t0
    ink.continue_maximally()

    def play(picks: list[int]) -> list[Any]:
        out = []
        for pick in picks:
            ink.choose_choice_index(pick)
            out.append((ink.continue_maximally(), list(ink.get_current_choices())))
        return out

    def shown(outputs: list[Any]) -> list[tuple[str, list[str]]]:
        return outputs

    return Run(
        "bink", load_s, play, shown, lambda: _timed_save_load(ink.save_state, ink.load_state)
    )


def _timed_save_load(
    save: Callable[[], str], load: Callable[[str], object]
) -> tuple[float, float, int]:
    """Save plus load: (mean ms over repeats, ms of the first pair after playing, bytes)."""
    t0 = clock()
    blob = save()
    load(blob)
    once = clock() - t0
    reps = max(3, min(50, int(0.5 / max(once, 1e-6))))
    t0 = clock()
    for _ in range(reps):
        blob = save()
        load(blob)
    return (clock() - t0) / reps * 1000, once * 1000, len(blob)


def storylab_long(story: GenStory) -> Run:
    """storylab on the long playthrough. A step: ``engine.step`` with the id of the option
    picked; its result carries the lines and the options on offer."""
    from storylab.runtime import NarrativeEngine, Session

    data = to_program_data(story)  # the program data, made before the clock as bink's JSON is
    t0 = clock()
    engine = NarrativeEngine([data])  # validated, checked and compiled
    del data  # freeing the data is part of the load
    gc.collect()  # the load's garbage is the load's cost, not the first steps'
    load_s = clock() - t0
    session = Session()
    result = engine.start(session, "reader", engine.program_ids[0])
    step = engine.step

    def play(picks: list[int]) -> list[Any]:
        nonlocal result
        out = []
        for pick in picks:
            result = step(session, "reader", result.choices[pick].id)
            out.append(result)
        return out

    def shown(outputs: list[Any]) -> list[tuple[str, list[str]]]:
        return [
            ("".join(f"{x.speaker}: {x.text}\n" for x in r.lines), [c.text for c in r.choices])
            for r in outputs
        ]

    return Run(
        "storylab",
        load_s,
        play,
        shown,
        lambda: _timed_save_load(lambda: engine.save(session), engine.load),
    )


def race(runs: list[Run], plan: Plan, chunk: int = CHUNK) -> None:
    """Play the plan on every runtime, taking turns chunk by chunk so that both meet the
    same machine conditions. Only ``play`` is timed; every step is checked against the
    reference interpreter right after its chunk, before any number counts."""
    if len(plan.picks) % chunk:
        raise ValueError(f"{len(plan.picks)} steps are not whole chunks of {chunk}")
    for run in runs:
        run.chunk = chunk
    for start in range(0, len(plan.picks), chunk):
        picks = plan.picks[start : start + chunk]
        for run in runs:
            t0 = clock()
            outputs = run.play(picks)
            run.chunks.append(clock() - t0)
            for k, (text, offered) in enumerate(run.shown(outputs), start):
                if text != plan.texts[k] or offered != plan.offered[k]:
                    raise AssertionError(f"{run.name} diverged at step {k}: {text!r} {offered!r}")


def storylab_playthroughs(story: GenStory, count: int, cap: int, seed: int) -> tuple[float, int]:
    """The storylab engine on :func:`bink_playthroughs`' workload."""
    from storylab.runtime import NarrativeEngine, Session, parse_program

    program = parse_program(to_program_data(story))
    engine = NarrativeEngine([program])
    draws = np.random.default_rng(seed).random((count, cap))
    steps = 0
    t0 = clock()
    for row in draws:
        session = Session()
        result = engine.start(session, "reader", program.id)
        for r in row:
            offered = result.choices
            if not offered:
                break
            result = engine.step(session, "reader", offered[int(r * len(offered))].id)
            steps += 1
    return clock() - t0, steps


def monte_carlo_timing(story: GenStory, count: int, seed: int) -> tuple[float, float, float]:
    """Wall and CPU seconds of ``count`` seeded analysis playthroughs; mean steps."""
    from storylab.runtime import parse_program
    from storylab.runtime.analysis import monte_carlo

    program = parse_program(to_program_data(story))
    wall, cpu = time.perf_counter(), clock()
    result = monte_carlo(program, count, seed=seed, max_steps=500)
    wall, cpu = time.perf_counter() - wall, clock() - cpu
    return wall, cpu, float(result.playthroughs["steps"].mean())


def bink_playthroughs(story_json: str, count: int, cap: int, seed: int) -> tuple[float, int]:
    """Play ``count`` seeded uniform playthroughs (capped at ``cap`` steps); return (s, steps)."""
    from bink.story import Story

    ink = Story(story_json)
    draws = np.random.default_rng(seed).random((count, cap))
    steps = 0
    t0 = clock()
    for row in draws:
        ink.reset_state()
        ink.continue_maximally()
        for r in row:
            n = len(ink.get_current_choices())
            if n == 0:
                break
            ink.choose_choice_index(int(r * n))
            ink.continue_maximally()
            steps += 1
    return clock() - t0, steps


class Table:
    """Rows of ``measure, bink, storylab, ratio, bar``; printed as plain text."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []

    def add(
        self,
        label: str,
        ink: float | None,
        lab: float,
        *,
        fmt: str = "{:,.0f}",
        faster: str = "higher",
        bar: str = "",
    ) -> None:
        ratio = ""
        if ink is not None:
            ratio = f"{(lab / ink if faster == 'higher' else ink / lab):.2f}x"
        shown = "-" if ink is None else fmt.format(ink)
        self.rows.append((label, shown, fmt.format(lab), ratio, bar))

    def print(self) -> None:
        head = ("measure", "bink", "storylab", "storylab/bink", "bar")
        widths = [max(len(r[i]) for r in [head, *self.rows]) for i in range(5)]
        for row in [head, *self.rows]:
            cells = [row[0].ljust(widths[0])]
            cells += [c.rjust(w) for c, w in zip(row[1:4], widths[1:4], strict=True)]
            print("  ".join(cells) + "  " + row[4])


def _verdict(ok: bool, text: str) -> str:
    return f"{'PASS' if ok else 'FAIL'} ({text})"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="story sizes, comma-separated")
    parser.add_argument("--steps", type=int, default=6000, help="steps of the long playthrough")
    parser.add_argument("--window", type=int, default=2000, help="first/last window in steps")
    parser.add_argument("--chunk", type=int, default=CHUNK, help="steps per turn (divides both)")
    parser.add_argument("--playthroughs", type=int, default=1000, help="engine playthroughs")
    parser.add_argument("--monte-carlo", type=int, default=10_000, help="analysis playthroughs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.quick:
        sizes, args.steps, args.window, args.chunk = [200, 1000], 1500, 500, 500
        args.playthroughs, args.monte_carlo = 200, 1000
    bars = {1000: 3.0, 10000: 5.0}
    table = Table()
    for n in sizes:
        story = generate_story(n, args.seed)
        story_json = compile_ink(to_ink(story))
        steps = plan(story, np.random.default_rng(args.seed + 1).random(args.steps))
        ink, lab = bink_long(story_json), storylab_long(story)
        race([ink, lab], steps, args.chunk)
        for run in (ink, lab):
            run.save_load_ms, run.first_save_load_ms, run.state_bytes = run.save_load()
        executed = steps.executed
        table.add(
            f"{n} nodes: load story (ms)",
            ink.load_s * 1e3,
            lab.load_s * 1e3,
            fmt="{:,.1f}",
            faster="lower",
            bar=_verdict(lab.load_s <= ink.load_s, "<= bink") if n >= 10_000 else "",
        )
        need = bars.get(n)
        ratio = lab.rate() / ink.rate()
        bar = _verdict(ratio >= need, f">= {need:g}x") if need else ""
        table.add(f"{n} nodes: steps/s", ink.rate(), lab.rate(), bar=bar)
        per_step = executed / args.steps
        table.add(
            f"{n} nodes: node executions/s",
            ink.rate() * per_step,
            lab.rate() * per_step,
        )
        for first in (True, False):
            which = "first" if first else "last"
            table.add(
                f"{n} nodes: {which} {args.window} steps/s",
                ink.window(first, args.window),
                lab.window(first, args.window),
            )
        slow = lab.window(False, args.window) / lab.window(True, args.window)
        table.add(
            f"{n} nodes: last/first (storylab)",
            None,
            slow,
            fmt="{:.2f}",
            bar=_verdict(slow >= 0.8, ">= 0.80"),
        )
        table.add(
            f"{n} nodes: save+load (ms)",
            ink.save_load_ms,
            lab.save_load_ms,
            fmt="{:,.3f}",
            faster="lower",
            bar=_verdict(lab.save_load_ms < ink.save_load_ms, "< bink"),
        )
        table.add(
            f"{n} nodes: first save+load after the playthrough (ms)",
            ink.first_save_load_ms,
            lab.first_save_load_ms,
            fmt="{:,.3f}",
            faster="lower",
            bar=_verdict(lab.first_save_load_ms < 5, "< 5 ms"),
        )
        table.add(
            f"{n} nodes: saved state (bytes)",
            ink.state_bytes,
            lab.state_bytes,
            faster="lower",
            bar=_verdict(lab.state_bytes <= 2 * ink.state_bytes, "<= 2x bink"),
        )
    story = generate_story(200, args.seed)
    ink_s, ink_steps = bink_playthroughs(
        compile_ink(to_ink(story)), args.playthroughs, 500, args.seed
    )
    lab_s, lab_steps = storylab_playthroughs(story, args.playthroughs, 500, args.seed)
    if lab_steps != ink_steps:
        raise AssertionError(f"playthrough steps differ: bink {ink_steps}, storylab {lab_steps}")
    table.add(
        "200 nodes: engine playthroughs/s", args.playthroughs / ink_s, args.playthroughs / lab_s
    )
    wall, cpu, mean_steps = monte_carlo_timing(story, args.monte_carlo, args.seed)
    full = args.monte_carlo == 10_000
    table.add(
        f"200 nodes: analysis playthroughs/s ({args.monte_carlo:,})",
        args.playthroughs / ink_s,
        args.monte_carlo / cpu,
    )
    table.add(
        f"200 nodes: {args.monte_carlo:,} analysis playthroughs, CPU (s)",
        None,
        cpu,
        fmt="{:.2f}",
        bar=_verdict(cpu < 2, "< 2 s") if full else "",
    )
    table.add(
        f"200 nodes: {args.monte_carlo:,} analysis playthroughs, wall (s)", None, wall, fmt="{:.2f}"
    )
    table.add(
        "200 nodes: steps per engine playthrough",
        ink_steps / args.playthroughs,
        lab_steps / args.playthroughs,
        fmt="{:.1f}",
    )
    table.add("200 nodes: steps per analysis playthrough", None, mean_steps, fmt="{:.1f}")
    table.print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
