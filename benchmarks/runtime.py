"""Narrative runtime benchmark: storylab side by side with the ink runtime ``bink``.

Both runtimes play the same generated story (``benchmarks/stories.py``): ink source
compiled with the npm package ``inkjs`` (installed into ``benchmarks/.ink`` on first use)
for bink, a ``NarrativeProgram`` for storylab. Every run is checked against a plain
reference interpreter before its numbers count.

Measured, per story size: choice-to-choice steps per second (a step = one player input
played to the next choice), node executions per second, the first and last 2,000 steps of
one long playthrough, and save-plus-load time; on a 200-node story, playthroughs per
second. Ratios are storylab / bink.

Usage::

    pip install -e .[bench]            # bink
    python benchmarks/runtime.py       # full run, a few minutes
    python benchmarks/runtime.py --quick
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stories import (
    END_TEXT,
    GenStory,
    ReferencePlayer,
    compile_ink,
    generate_story,
    to_ink,
)

__all__ = ["main"]


@dataclass
class Run:
    """What one runtime did on one long playthrough."""

    name: str
    load_s: float
    picks: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    stamps: list[float] = field(default_factory=list)
    save_load_ms: float = 0.0
    state_bytes: int = 0

    def steps_per_s(self) -> float:
        return (len(self.stamps) - 1) / (self.stamps[-1] - self.stamps[0])

    def window(self, first: bool, size: int) -> float:
        part = self.stamps[: size + 1] if first else self.stamps[-size - 1 :]
        return size / (part[-1] - part[0])


def check(story: GenStory, run: Run) -> int:
    """Replay ``run``'s picks on the reference interpreter; return node executions."""
    ref = ReferencePlayer(story)
    for k, pick in enumerate(run.picks):
        ref.choose(pick)
        expected = "".join(line + "\n" for line in ref.text)
        if run.texts[k] != expected:
            raise AssertionError(f"{run.name} diverged at step {k}: {run.texts[k]!r}")
    return ref.executed


def _pick(texts: list[str], r: float) -> int:
    keep = [i for i, t in enumerate(texts) if t != END_TEXT]
    return keep[int(r * len(keep))]


def bink_long(story_json: str, draws: np.ndarray) -> Run:
    """One long bink playthrough that never takes the ending option."""
    from bink.story import Story

    t0 = time.perf_counter()
    ink = Story(story_json)
    run = Run("bink", time.perf_counter() - t0)
    ink.continue_maximally()
    run.stamps.append(time.perf_counter())
    for r in draws:
        pick = _pick(list(ink.get_current_choices()), r)
        ink.choose_choice_index(pick)
        run.texts.append(ink.continue_maximally())
        run.picks.append(pick)
        run.stamps.append(time.perf_counter())
    run.save_load_ms, run.state_bytes = _timed_save_load(ink.save_state, ink.load_state)
    return run


def _timed_save_load(save: Callable[[], str], load: Callable[[str], object]) -> tuple[float, int]:
    reps = 50
    t0 = time.perf_counter()
    for _ in range(reps):
        blob = save()
        load(blob)
    return (time.perf_counter() - t0) / reps * 1000, len(blob)


def bink_playthroughs(story_json: str, count: int, cap: int, seed: int) -> tuple[float, int]:
    """Play ``count`` seeded uniform playthroughs (capped at ``cap`` steps); return (s, steps)."""
    from bink.story import Story

    ink = Story(story_json)
    draws = np.random.default_rng(seed).random((count, cap))
    steps = 0
    t0 = time.perf_counter()
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
    return time.perf_counter() - t0, steps


def _row(table: list[tuple[str, ...]], label: str, ink: float, fmt: str = "{:,.0f}") -> None:
    table.append((label, fmt.format(ink)))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="story sizes, comma-separated")
    parser.add_argument("--steps", type=int, default=6000, help="steps of the long playthrough")
    parser.add_argument("--window", type=int, default=2000, help="first/last window in steps")
    parser.add_argument("--playthroughs", type=int, default=2000, help="bink playthroughs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.quick:
        sizes, args.steps, args.window, args.playthroughs = [200, 1000], 1200, 400, 200
    table: list[tuple[str, ...]] = []
    for n in sizes:
        story = generate_story(n, args.seed)
        story_json = compile_ink(to_ink(story))
        draws = np.random.default_rng(args.seed + 1).random(args.steps)
        ink = bink_long(story_json, draws)
        executed = check(story, ink)
        secs = ink.stamps[-1] - ink.stamps[0]
        _row(table, f"{n} nodes: load story (ms)", ink.load_s * 1000, "{:.1f}")
        _row(table, f"{n} nodes: steps/s", ink.steps_per_s())
        _row(table, f"{n} nodes: node executions/s", executed / secs)
        _row(table, f"{n} nodes: first {args.window} steps/s", ink.window(True, args.window))
        _row(table, f"{n} nodes: last {args.window} steps/s", ink.window(False, args.window))
        _row(table, f"{n} nodes: save+load (ms)", ink.save_load_ms, "{:.3f}")
    story = generate_story(200, args.seed)
    secs, steps = bink_playthroughs(compile_ink(to_ink(story)), args.playthroughs, 500, args.seed)
    _row(table, "200 nodes: playthroughs/s", args.playthroughs / secs)
    _row(table, "200 nodes: mean steps per playthrough", steps / args.playthroughs, "{:.1f}")
    width = max(len(r[0]) for r in table)
    print(f"{'measure':<{width}}  {'bink':>12}")
    for label, *cells in table:
        print(f"{label:<{width}}  " + "  ".join(f"{c:>12}" for c in cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
