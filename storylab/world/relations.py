"""Relationship axes: bounds, decay, personality compatibility, derived values, provenance.

Derived values (mood, tier, ...) are declared in the manifest as expressions of the
runtime's safe language (:mod:`storylab.runtime.expressions`): they read ``rel.self.<axis>``
(the NPC's axes with the player), ``var.<trait>`` (OCEAN traits, then the derived values
declared before) and ``npc``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from storylab.runtime.expressions import Env, compile_expression

if TYPE_CHECKING:
    from storylab.world.manifest import World

__all__ = [
    "Change",
    "Derivation",
    "clamp",
    "compatibility",
    "decay",
    "derive",
    "initial_axes",
]


@dataclass(frozen=True)
class Change:
    """One recorded change of an axis: when, who, how much, and why.

    ``source`` is ``interaction:<id>``, ``program:<id>``, ``override``, ``decay`` or
    ``ambient``.
    """

    tick: int
    npc: str
    other: str
    axis: str
    before: float
    after: float
    source: str


@dataclass(frozen=True)
class Derivation:
    """A derived value and what produced it (the case that held, or the expression)."""

    name: str
    value: Any
    reason: str


def clamp(world: World, axis: str, value: Any) -> Any:
    """``value`` (a number or an array) held within ``axis``'s bounds."""
    spec = world.stats.axes[axis]
    out = np.clip(value, spec.min, spec.max)
    return float(out) if np.ndim(out) == 0 else out


def decay(world: World, axis: str, value: Any, days: float) -> Any:
    """``value`` (a number or an array) after ``days`` of decay towards the axis's
    baseline, never past it."""
    spec = world.stats.axes[axis]
    step, target = spec.decay_per_day * days, spec.target
    out = np.where(
        value > target, np.maximum(target, value - step), np.minimum(target, value + step)
    )
    return float(out) if np.ndim(out) == 0 else out


def compatibility(a: Any, b: Any) -> float:
    """Personality compatibility in [-1, 1]: ``1 - 2 * mean |trait difference|``.

    ``a`` and ``b`` are :class:`~storylab.world.Personality` values or arrays of the five
    traits (broadcasting, for many pairs at once).
    """
    pa, pb = (np.asarray(_traits(p), dtype=float) for p in (a, b))
    return 1.0 - 2.0 * np.abs(pa - pb).mean(axis=-1)


def _traits(p: Any) -> Any:
    if hasattr(p, "model_dump"):
        return list(p.model_dump().values())
    return p


def initial_axes(world: World, npc: str, other: str = "player") -> dict[str, float]:
    """Every axis of ``npc`` towards ``other`` at world time 0 (manifest value or default)."""
    given = world.npcs[npc].relationships.get(other, {})
    return {axis: float(given.get(axis, spec.default)) for axis, spec in world.stats.axes.items()}


def derive(
    world: World,
    npc: str,
    axes: Mapping[str, Any],
    personality: Mapping[str, float] | None = None,
) -> dict[str, Derivation]:
    """Every derived value for ``npc`` whose axes with the player are ``axes``.

    ``personality`` replaces the NPC's traits (an override). Raises the expression
    language's errors when a declared expression does not parse or evaluate.
    """
    variables: dict[str, Any] = dict(
        personality if personality is not None else world.npcs[npc].personality.model_dump()
    )
    env = Env(relationships={npc: dict(axes)}, variables=variables, npc=npc)
    out: dict[str, Derivation] = {}
    for name, spec in world.stats.derived.items():
        if spec.expression is not None:
            value = compile_expression(spec.expression).evaluate(env)
            item = Derivation(name, value, spec.expression)
        else:
            item = Derivation(name, spec.default, "default")
            for case in spec.cases:
                if compile_expression(case.when).evaluate(env):
                    item = Derivation(name, case.value, case.when)
                    break
        out[name] = item
        variables[name] = item.value
    return out
