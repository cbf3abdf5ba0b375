"""Monte-Carlo playthroughs: a random player visits the world, for outcome metrics.

Every ``step_hours`` the player picks one available NPC x interaction uniformly at random,
plays it (picking uniformly among the choices offered), then time advances. Each step's
draws come from a generator seeded with ``(seed, step)``, so two variants played with the
same seed use the same random numbers at the same step (common random numbers): their
difference comes from the variant, not from the dice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from storylab.world.gating import available
from storylab.world.interactions import simulate_interaction
from storylab.world.session import WorldSession

if TYPE_CHECKING:
    from storylab.runtime.results import NarrativeStepResult
    from storylab.world.manifest import World

__all__ = ["playthrough"]


def playthrough(
    world: World, seed: int, *, hours: float = 12.0, step_hours: float = 2.0
) -> dict[str, float]:
    """Play ``hours`` of ``world`` with a random player; return outcome metrics.

    Metrics: ``interactions`` (played), ``idle_steps`` (nothing available), ``flags_set``,
    ``with_<npc>`` (interactions played with each NPC), ``mean_<axis>`` over NPCs of each
    axis with the player, and ``<axis>_<npc>`` for each NPC and axis.

    >>> import storylab
    >>> from pathlib import Path
    >>> from storylab.world import load_world
    >>> world = load_world(Path(storylab.__file__).parents[1] / "data/worlds/harbor-district")
    >>> playthrough(world, 1, hours=4) == playthrough(world, 1, hours=4)
    True
    """
    if not hours > 0 or not step_hours > 0:
        raise ValueError(f"hours and step_hours must be positive, got {hours} and {step_hours}")
    ws = WorldSession(world, id=f"playthrough-{seed}")
    played = idle = 0
    met = dict.fromkeys(world.npcs, 0)
    for step in range(int(hours // step_hours)):
        rng = np.random.default_rng([seed, step])
        table = available(ws)
        offered = table[table["available"]]
        if offered.empty:
            idle += 1
        else:
            row = offered.iloc[int(rng.integers(len(offered)))]

            def choose(result: NarrativeStepResult, rng: np.random.Generator = rng) -> str:
                return result.choices[int(rng.integers(len(result.choices)))].id

            result = simulate_interaction(ws, row["npc"], row["interaction"], choose)
            ws.session = result.session
            ws.changes.extend(result.changes)
            played += 1
            met[row["npc"]] += 1
        ws.advance(step_hours)
    metrics: dict[str, float] = {
        "interactions": played,
        "idle_steps": idle,
        "flags_set": sum(
            1 for k, v in ws.session.flags.items() if v is True and not k.startswith("used:")
        ),
    }
    metrics.update({f"with_{npc}": count for npc, count in met.items()})
    for axis, spec in world.stats.axes.items():
        values = [ws.session.relationships[n].get(axis, spec.default) for n in world.npcs]
        metrics[f"mean_{axis}"] = float(np.mean(values))
        for npc, value in zip(world.npcs, values, strict=True):
            metrics[f"{axis}_{npc}"] = float(value)
    return metrics
