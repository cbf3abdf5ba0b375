"""Consistency checks over the whole graph, each one SQL statement (plus the problems found
while reading sources), every problem with the source and the place in it.

Checks (:data:`CHECKS`): NPCs named by scenes, roles or casts that play no character;
speakers missing from a program's cast; roles a scene or cast needs that a world running
the program binds to nothing; generations and assets for a character-specific scene
without a character tag; dangling references; two instances of one template in one
world; programs that hard-code an NPC where a role is expected; a node defined twice.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CHECKS", "PROBLEM_COLUMNS", "ChecksMixin"]

#: Columns of :meth:`ChecksMixin.check`.
PROBLEM_COLUMNS = ["check", "source", "location", "subject", "message"]

#: Each check: what it finds (the found-while-reading ones come from ``graph_findings``).
CHECKS: dict[str, str] = {
    "npc_without_character": "an NPC a scene, role binding or cast names plays no character",
    "speaker_not_in_cast": "a dialogue speaker is not in the program's cast",
    "role_unbound": "a role a scene or cast of a program needs is bound to nothing in a "
    "world that runs the program",
    "untagged_content": "a generation or asset for a character-specific scene has no character tag",
    "dangling": "a reference to a node no source defines",
    "duplicate_instance": "two instances of one template in one world",
    "hardcoded_npc": "a program hard-codes an NPC where a role is expected",
    "defined_twice": "two sources (or one twice) define the same node",
}

_SQL: dict[str, str] = {
    "npc_without_character": """
        WITH named (edge, npc) AS (
            SELECT rowid, dst FROM graph_edges
            WHERE kind = 'names' AND skind = 'scene' AND dkind = 'npc'
            UNION ALL
            SELECT rowid, src FROM graph_edges
            WHERE kind IN ('fills_role', 'appears_in') AND skind = 'npc')
        SELECT s.name, e.at, n.key,
               CASE e.kind WHEN 'names' THEN 'a scene names ' WHEN 'fills_role'
                    THEN 'the world binds a role to ' ELSE 'a program''s cast names ' END
               || n.key || ', which plays no character'
        FROM named CROSS JOIN graph_nodes n ON n.id = named.npc
        CROSS JOIN graph_edges e ON e.rowid = named.edge
        CROSS JOIN graph_sources s ON s.id = e.source
        WHERE n.source IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM graph_edges p WHERE p.dst = n.id AND p.kind = 'plays')""",
    "role_unbound": """
        WITH bound AS MATERIALIZED (
            SELECT dst AS role, world FROM graph_edges
            WHERE kind = 'fills_role' AND skind IN ('instance', 'template', 'npc')
              AND world IS NOT NULL),
        needs (edge, role, world) AS (
            SELECT hr.rowid, hr.dst, r.world FROM graph_edges r
            CROSS JOIN graph_edges c ON c.src = r.dst AND c.kind = 'contains'
            CROSS JOIN graph_edges hr ON hr.src = c.dst AND hr.kind = 'has_role'
            WHERE r.kind = 'runs' AND r.skind = 'world' AND r.dkind = 'program'
              AND (hr.world IS NULL OR hr.world = r.world)
            UNION ALL
            SELECT hr.rowid, hr.dst, r.world FROM graph_edges r
            CROSS JOIN graph_edges hr ON hr.src = r.dst AND hr.kind = 'has_role'
            WHERE r.kind = 'runs' AND r.skind = 'world' AND r.dkind = 'program'),
        unbound AS MATERIALIZED (
            SELECT edge, role, world FROM needs
            WHERE NOT EXISTS (
                SELECT 1 FROM bound b WHERE b.role = needs.role AND b.world = needs.world))
        SELECT s.name, e.at, rn.key,
               rn.key || ' (needed by ' || o.key || ') is bound to nothing in world '
               || x.world
        FROM unbound x CROSS JOIN graph_edges e ON e.rowid = x.edge
        CROSS JOIN graph_nodes rn ON rn.id = x.role
        CROSS JOIN graph_nodes o ON o.id = e.src
        CROSS JOIN graph_sources s ON s.id = e.source""",
    "untagged_content": """
        WITH untagged (content) AS MATERIALIZED (
            SELECT src FROM graph_edges
            WHERE kind = 'for' AND skind IN ('generation', 'asset') AND dkind = 'scene'
            EXCEPT
            SELECT src FROM graph_edges
            WHERE kind = 'for' AND skind IN ('generation', 'asset')
              AND dkind IN ('template', 'instance'))
        SELECT s.name, f.at, c.key, c.key || ' is for ' || sc.key
               || ', a character-specific scene, but is tagged for no character'
        FROM untagged u
        CROSS JOIN graph_edges f ON f.src = u.content AND f.kind = 'for'
        CROSS JOIN graph_nodes sc ON sc.id = f.dst
        CROSS JOIN graph_nodes c ON c.id = f.src
        CROSS JOIN graph_sources s ON s.id = f.source
        WHERE f.dkind = 'scene'
          AND EXISTS (SELECT 1 FROM graph_edges r WHERE r.src = f.dst
                      AND r.kind IN ('has_role', 'names'))""",
    "dangling": """
        WITH stub AS MATERIALIZED (
            SELECT id, key FROM graph_nodes
            WHERE source IS NULL AND kind NOT IN ('role', 'arc'))
        SELECT s.name, e.at, stub.key,
               'a ' || e.kind || ' edge refers to ' || stub.key || ', which no source defines'
        FROM stub CROSS JOIN graph_edges e ON e.dst = stub.id
        CROSS JOIN graph_sources s ON s.id = e.source
        UNION ALL
        SELECT s.name, e.at, stub.key,
               'a ' || e.kind || ' edge refers to ' || stub.key || ', which no source defines'
        FROM stub CROSS JOIN graph_edges e ON e.src = stub.id
        CROSS JOIN graph_sources s ON s.id = e.source""",
    "duplicate_instance": """
        WITH twice AS (
            SELECT src, world, COUNT(*) AS n FROM graph_edges
            WHERE kind = 'instantiates' AND skind = 'template' AND dkind = 'instance'
            GROUP BY src, world HAVING COUNT(*) > 1)
        SELECT s.name, e.at, i.key,
               t.key || ' has ' || twice.n || ' instances in world ' || twice.world || ', '
               || i.key || ' among them'
        FROM twice
        CROSS JOIN graph_edges e ON e.kind = 'instantiates' AND e.skind = 'template'
            AND e.dkind = 'instance' AND e.src = twice.src AND e.world = twice.world
        CROSS JOIN graph_nodes i ON i.id = e.dst
        CROSS JOIN graph_nodes t ON t.id = e.src
        CROSS JOIN graph_sources s ON s.id = e.source""",
    "defined_twice": """
        SELECT s.name, d.at, d.key,
               d.key || ' is defined again here (first by ' || COALESCE(o.name, '?') || ')'
        FROM graph_duplicates d JOIN graph_sources s ON s.id = d.source
        LEFT JOIN graph_nodes n ON n.key = d.key LEFT JOIN graph_sources o ON o.id = n.source""",
}


class ChecksMixin:
    """The consistency checks of :class:`~storylab.graph.CharacterGraph`."""

    _db: sqlite3.Connection

    def check(self, checks: list[str] | None = None) -> pd.DataFrame:
        """Every problem the graph has: ``check, source, location, subject, message``, sorted.

        ``checks`` picks some of :data:`CHECKS` (default: all); an empty frame means the
        graph is consistent.
        """
        import pandas as pd

        names = list(CHECKS) if checks is None else list(checks)
        unknown = sorted(set(names) - set(CHECKS))
        if unknown:
            raise ValueError(f"unknown checks {unknown}; checks: {', '.join(CHECKS)}")
        rows: list[tuple[str, ...]] = []
        for name in names:
            if name in _SQL:
                found = self._db.execute(_SQL[name]).fetchall()
            else:
                found = self._db.execute(
                    "SELECT s.name, f.at, '', f.message FROM graph_findings f "
                    "JOIN graph_sources s ON s.id = f.source WHERE f.check_name = ?",
                    (name,),
                ).fetchall()
            rows += [(name, *r) for r in found]
        rows.sort()
        return pd.DataFrame(rows, columns=PROBLEM_COLUMNS)
