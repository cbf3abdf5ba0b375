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
            SELECT rowid, dst FROM graph_edges WHERE kind = 'names'
            UNION ALL
            SELECT rowid, src FROM graph_edges WHERE kind IN ('fills_role', 'appears_in'))
        SELECT s.name, e.at, n.key,
               CASE e.kind WHEN 'names' THEN 'a scene names ' WHEN 'fills_role'
                    THEN 'the world binds a role to ' ELSE 'a program''s cast names ' END
               || n.key || ', which plays no character'
        FROM named CROSS JOIN graph_nodes n ON n.id = named.npc
        CROSS JOIN graph_edges e ON e.rowid = named.edge
        CROSS JOIN graph_sources s ON s.id = e.source
        WHERE n.kind = 'npc' AND n.source IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM graph_edges p WHERE p.dst = n.id AND p.kind = 'plays')""",
    "role_unbound": """
        WITH needs (source, at, owner, role, world) AS (
            SELECT hr.source, hr.at, sc.key, hr.dst, r.world FROM graph_edges r
            JOIN graph_edges c ON c.src = r.dst AND c.kind = 'contains'
            JOIN graph_edges hr ON hr.src = c.dst AND hr.kind = 'has_role'
                AND (hr.world IS NULL OR hr.world = r.world)
            JOIN graph_nodes sc ON sc.id = c.dst
            WHERE r.kind = 'runs'
            UNION
            SELECT hr.source, hr.at, p.key, hr.dst, r.world FROM graph_edges r
            JOIN graph_edges hr ON hr.src = r.dst AND hr.kind = 'has_role'
            JOIN graph_nodes p ON p.id = r.dst
            WHERE r.kind = 'runs')
        SELECT s.name, x.at, rn.key,
               rn.key || ' (needed by ' || x.owner || ') is bound to nothing in world '
               || x.world
        FROM needs x JOIN graph_nodes rn ON rn.id = x.role
        JOIN graph_sources s ON s.id = x.source
        WHERE NOT EXISTS (SELECT 1 FROM graph_edges f
                          WHERE f.dst = x.role AND f.kind = 'fills_role' AND f.world = x.world)""",
    "untagged_content": """
        SELECT s.name, f.at, c.key, c.key || ' is for ' || sc.key
               || ', a character-specific scene, but is tagged for no character'
        FROM graph_nodes sc
        JOIN graph_edges f ON f.dst = sc.id AND f.kind = 'for'
        JOIN graph_nodes c ON c.id = f.src
        JOIN graph_sources s ON s.id = f.source
        WHERE sc.kind = 'scene'
          AND EXISTS (SELECT 1 FROM graph_edges r
                      WHERE r.src = sc.id AND r.kind IN ('has_role', 'names'))
          AND NOT EXISTS (SELECT 1 FROM graph_edges g JOIN graph_nodes t ON t.id = g.dst
                          WHERE g.src = f.src AND g.kind = 'for'
                            AND t.kind IN ('template', 'instance'))""",
    "dangling": """
        WITH stub AS (
            SELECT id, key FROM graph_nodes n
            WHERE n.source IS NULL AND n.kind NOT IN ('role', 'arc')
              AND NOT (n.kind = 'scene' AND EXISTS (
                  SELECT 1 FROM graph_edges c WHERE c.dst = n.id AND c.kind = 'contains')))
        SELECT s.name, e.at, stub.key,
               'a ' || e.kind || ' edge refers to ' || stub.key || ', which no source defines'
        FROM stub JOIN graph_edges e ON e.dst = stub.id JOIN graph_sources s ON s.id = e.source
        UNION ALL
        SELECT s.name, e.at, stub.key,
               'a ' || e.kind || ' edge refers to ' || stub.key || ', which no source defines'
        FROM stub JOIN graph_edges e ON e.src = stub.id JOIN graph_sources s ON s.id = e.source""",
    "duplicate_instance": """
        WITH twice AS (
            SELECT src, world FROM graph_edges WHERE kind = 'instantiates'
            GROUP BY src, world HAVING COUNT(*) > 1)
        SELECT s.name, e.at, i.key,
               t.key || ' has ' || (SELECT COUNT(*) FROM graph_edges x WHERE x.src = e.src
                   AND x.kind = 'instantiates' AND x.world = e.world)
               || ' instances in world ' || e.world || ', ' || i.key || ' among them'
        FROM twice
        JOIN graph_edges e ON e.src = twice.src AND e.kind = 'instantiates'
            AND e.world = twice.world
        JOIN graph_nodes i ON i.id = e.dst JOIN graph_nodes t ON t.id = e.src
        JOIN graph_sources s ON s.id = e.source""",
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
