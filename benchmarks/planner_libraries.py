"""Seeded generator of foreign action libraries and phase problems for the planner benchmark.

storylab's planner was tuned on its own library; these libraries are not storylab's. Each
problem draws its own library (through :func:`storylab.storyteller.build_actions`, validated
like a file) and a phase problem on it:

- **action counts** 8, 16 or 32; one-shot flags, counters that rise by one (tested with
  ``<`` and ``>=``) and flags that actions set and clear again;
- **chains**: some actions have a follow-up, some follow-ups also stand alone;
- **cost spreads**: ``narrow`` (1-3) or ``wide`` (0.5-10), in steps of 0.5;
- **goals**: ``facts`` (two to four fact conditions, the spectrum anywhere), ``spectrum`` (a
  narrow primary range away from the start, a position floor) or ``both``.

Problems are kept only if storylab's exact search solves them within its bound with at least
:data:`MIN_STEPS` steps, so every one has a plan and none is trivial; the spectrum corridor is
off (it is storylab's story-shaping choice, not part of a foreign problem), as is the variety
model. :func:`export` writes each one as PDDL.

>>> problems = generate_problems(3, seed=1)
>>> [p.name for p in problems]
['foreign-000-facts-8', 'foreign-001-spectrum-8', 'foreign-002-both-8']
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storylab.storyteller import ActionLibrary, PhaseProblem, astar_search, build_actions
from storylab.storyteller.config import VarietyModel
from storylab.storyteller.pddl import encode_phase_task, phase_task
from storylab.storyteller.pddl_task import PddlExport
from storylab.storyteller.templates import StoryPhase
from storylab.theory import NarrativeState, WorldState

__all__ = ["GENRE", "ForeignProblem", "export", "generate_problems", "make_problem"]

GENRE = "action"
KINDS = ("facts", "spectrum", "both")
SIZES = (8, 16, 32)
STEP = 0.05
#: Fewest steps in a kept problem's optimal plan.
MIN_STEPS = 4


@dataclass(frozen=True)
class ForeignProblem:
    """One generated problem: its name, library and compiled phase problem."""

    name: str
    kind: str
    library: ActionLibrary
    problem: PhaseProblem


def _action(rng: np.random.Generator, i: int, flags: int, counters: int, spread: str) -> dict:
    pre, eff = [], []
    for _ in range(rng.integers(0, 3)):
        if rng.random() < 0.6:
            f = f"flag{rng.integers(flags)}"
            pre.append({"key": f, "op": "==" if rng.random() < 0.5 else "!=", "value": True})
        else:
            c = f"count{rng.integers(counters)}"
            limit = int(rng.integers(1, 4))
            pre.append({"key": c, "op": ">=" if rng.random() < 0.5 else "<", "value": limit})
    for _ in range(rng.integers(1, 3)):
        if rng.random() < 0.6:
            eff.append({"key": f"flag{rng.integers(flags)}", "value": bool(rng.random() < 0.8)})
        else:
            eff.append(
                {"key": f"count{rng.integers(counters)}", "value": 1, "cardinality": "additive"}
            )
    top = 6 if spread == "narrow" else 20
    return {
        "id": f"act{i:02d}",
        "category": "conflict",
        "cost": float(rng.integers(1 if spread == "wide" else 2, top + 1)) / 2,
        "core_event": False,
        "genres": "all",
        "preconditions": _unique(pre),
        "effects": _unique(eff),
        "narrative_effect": {
            "primary_delta": round(float(rng.integers(-4, 5)) * STEP, 2),
            "position_advance": str(rng.choice(["micro", "standard", "macro"])),
        },
        "description": f"generated action {i}",
    }


def _unique(items: list[dict]) -> list[dict]:
    seen, out = set(), []
    for item in items:
        if item["key"] not in seen:
            seen.add(item["key"])
            out.append(item)
    return out


def _library(rng: np.random.Generator, size: int, spread: str) -> ActionLibrary:
    flags, counters = max(2, size // 4), max(1, size // 8)
    actions = [_action(rng, i, flags, counters, spread) for i in range(size)]
    for i in range(0, size - 1, 5):  # a chain every fifth action, to a later one
        j = int(rng.integers(i + 1, size))
        if not any(a.get("chained_action") == f"act{j:02d}" for a in actions):
            actions[i]["chained_action"] = f"act{j:02d}"
            actions[j]["standalone"] = bool(rng.random() < 0.5)
    produced = {e["key"] for a in actions for e in a["effects"]}
    read = {p["key"] for a in actions for p in a["preconditions"]}
    external = [{"key": k, "description": "given"} for k in sorted(read - produced)]
    return build_actions(actions, external_facts=external, source="generated")


def _phase(lo: float, hi: float, floor: float, facts: list[dict]) -> StoryPhase:
    return StoryPhase.model_validate(
        {
            "number": 1,
            "name": "generated",
            "position": {"center": 0.5, "floor": 0.0, "ceiling": 1.0, "validation_band": 0.0},
            "target_state": {"primary_min": lo, "primary_max": hi, "facts": facts},
            "transition": {"position_floor": floor, "position_ceiling": 1.0},
            "save_the_cat_beats": ["generated"],
        }
    )


def make_problem(
    rng: np.random.Generator, kind: str, size: int
) -> tuple[ActionLibrary, PhaseProblem]:
    """One library and phase problem of ``kind`` with ``size`` actions."""
    library = _library(rng, size, str(rng.choice(["narrow", "wide"])))
    keys = sorted({e.key for a in library for e in a.effects})
    facts: list[dict] = []
    if kind in ("facts", "both"):
        for key in rng.choice(keys, size=min(len(keys), int(rng.integers(2, 5))), replace=False):
            if key.startswith("flag"):
                facts.append({"key": str(key), "op": "==", "value": True})
            else:
                facts.append({"key": str(key), "op": ">=", "value": int(rng.integers(1, 4))})
    start = round(float(rng.integers(-8, 9)) * STEP, 2)
    if kind == "facts":
        lo, hi, floor = -1.0, 1.0, 0.0
    else:
        centre = round(
            float(np.clip(start + rng.choice([-1, 1]) * rng.integers(4, 12) * STEP, -0.9, 0.9)), 2
        )
        lo, hi, floor = (
            round(centre - STEP, 2),
            round(centre + STEP, 2),
            float(rng.choice([0.1, 0.2, 0.3])),
        )
    world = WorldState(facts={}, narrative=NarrativeState.for_genre(GENRE, value=start))
    problem = PhaseProblem(
        world=world,
        phase=_phase(lo, hi, floor, facts),
        genre=GENRE,
        total_ticks=int(rng.choice([40, 60, 80])),
        library=library,
        corridor=False,
        variety=VarietyModel(),
    )
    return library, problem


def generate_problems(n: int = 50, *, seed: int = 0, max_tries: int = 2000) -> list[ForeignProblem]:
    """``n`` solvable problems, kinds and sizes in turn (same seed, same problems)."""
    rng = np.random.default_rng(seed)
    out: list[ForeignProblem] = []
    for _ in range(max_tries):
        if len(out) == n:
            break
        kind, size = KINDS[len(out) % 3], SIZES[(len(out) // 3) % 3]
        library, problem = make_problem(rng, kind, size)
        found = astar_search(problem, max_iterations=50_000, max_nodes=200_000)
        if found.reached and len(found.steps) >= MIN_STEPS:
            name = f"foreign-{len(out):03d}-{kind}-{size}"
            out.append(ForeignProblem(name, kind, library, problem))
    if len(out) < n:
        raise RuntimeError(f"only {len(out)} solvable problems in {max_tries} tries")
    return out


def export(problem: ForeignProblem, outdir: str | Path) -> tuple[PddlExport, tuple[Path, Path]]:
    """The problem as PDDL (action costs), written to ``outdir``."""
    pddl = encode_phase_task(phase_task(problem.problem, problem.name))
    return pddl, pddl.write(outdir)
