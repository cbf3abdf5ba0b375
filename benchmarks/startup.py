"""How long ``storylab --help`` takes to start, this tree beside another checkout.

Each side runs ``python -m storylab --help`` in a fresh process from its own source tree,
alternating, ``--runs`` times; reported are the medians of the child's CPU time (steadier
on a loaded machine) and wall time, and this tree's share of the other's, plus whether
pandas, scipy or matplotlib were imported (``-X importtime``).

Usage::

    git worktree add --detach /tmp/storylab-before b14c6f9   # before the lazy CLI
    python benchmarks/startup.py --before /tmp/storylab-before
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "scipy", "matplotlib")


def _run(root: Path) -> tuple[float, float]:
    start, before = time.perf_counter(), os.times()
    subprocess.run(
        [sys.executable, "-m", "storylab", "--help"], cwd=root, capture_output=True, check=True
    )
    after = os.times()
    used = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return used, time.perf_counter() - start


def _heavy(root: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "storylab", "--help"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    found = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    return [m for m in HEAVY if m in found]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the other checkout")
    parser.add_argument("--runs", type=int, default=7, help="runs per side (default 7)")
    args = parser.parse_args(argv)
    sides = {"before": args.before.resolve(), "this tree": ROOT}
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    wall: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(args.runs):
        for name, root in sides.items():
            c, w = _run(root)
            cpu[name].append(c)
            wall[name].append(w)
    print(f"{'side':<10} {'CPU s':>7} {'wall s':>7}  heavy modules imported")
    for name, root in sides.items():
        c, w = statistics.median(cpu[name]), statistics.median(wall[name])
        print(f"{name:<10} {c:>7.3f} {w:>7.3f}  {', '.join(_heavy(root)) or 'none'}")
    ratio = statistics.median(cpu["this tree"]) / statistics.median(cpu["before"])
    print(f"this tree / before (CPU): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
