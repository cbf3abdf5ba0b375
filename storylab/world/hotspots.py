"""What each hotspot starts: the program, the node, and the first line it would show.

Friction #2 of the designer's walkthrough: a hotspot linked to a scene by a remembered id,
with no preview. Here a hotspot names a program and a node (checked to exist when the world
loads), and :func:`hotspot_table` previews the first dialogue line reachable from the node.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import pandas as pd

from storylab.runtime.check import successors
from storylab.runtime.program import DialogueNode, NarrativeProgram

if TYPE_CHECKING:
    from storylab.world.manifest import World

__all__ = ["first_line", "hotspot_table"]


def first_line(program: NarrativeProgram, node: str | None = None) -> str | None:
    """The text (template) of the first dialogue node reachable from ``node`` (the entry by
    default), breadth first; ``None`` when there is none."""
    after = successors(program)
    start = node or program.entry
    seen, queue = {start}, deque([start])
    while queue:
        current = program.node(queue.popleft())
        if isinstance(current, DialogueNode):
            return current.text
        for nxt in after.get(current.id, []):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return None


def hotspot_table(world: World) -> pd.DataFrame:
    """One row per hotspot: ``location``, ``hotspot``, ``label``, ``program``, ``node``
    (the entry when the hotspot names none), ``title`` and ``first_line``.

    >>> import storylab
    >>> from pathlib import Path
    >>> from storylab.world import load_world
    >>> world = load_world(Path(storylab.__file__).parents[1] / "data/worlds/harbor-district")
    >>> hotspot_table(world).set_index("hotspot").loc["enter_tavern", "first_line"][:26]
    "You're new around here, {p"
    """
    rows = []
    for loc in world.locations.values():
        for spot in loc.hotspots:
            program = world.program_map[spot.program]
            node = spot.node or program.entry
            rows.append(
                {
                    "location": loc.id,
                    "hotspot": spot.id,
                    "label": spot.label,
                    "program": program.id,
                    "node": node,
                    "title": program.title,
                    "first_line": first_line(program, node),
                }
            )
    columns = ["location", "hotspot", "label", "program", "node", "title", "first_line"]
    return pd.DataFrame(rows, columns=columns)
