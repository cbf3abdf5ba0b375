"""The graph's named queries, each one SQL statement over indexed edges, results as DataFrames.

"Where is this character used" is the heart of them: :meth:`QueriesMixin.uses` follows a
template to its instances (one per world), the NPCs they play, the roles the worlds bind to
them and so the scenes and programs of the programs each world runs, the scenes that name
them directly, the programs whose cast they are, the generations and assets made for them,
and the characters they are related to. The other queries are views of that answer or
short walks of their own.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import TYPE_CHECKING, Any

from storylab._data import UnknownNameError
from storylab.graph.model import CONTENT_RATINGS, node_key

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["USES_COLUMNS", "QueriesMixin"]

#: Columns of :meth:`QueriesMixin.uses`.
USES_COLUMNS = ["key", "kind", "label", "world", "via", "rating", "tags"]

_USES = """
WITH
c AS MATERIALIZED (SELECT id, kind, world FROM graph_nodes WHERE id = :c),
inst AS MATERIALIZED (
    SELECT e.dst AS id, e.world AS world FROM c
    CROSS JOIN graph_edges e ON e.src = c.id AND e.kind = 'instantiates'
    UNION ALL SELECT id, world FROM c WHERE kind = 'instance'),
npc AS MATERIALIZED (
    SELECT e.dst AS id, i.world AS world FROM inst i
    CROSS JOIN graph_edges e ON e.src = i.id AND e.kind = 'plays'),
holder AS MATERIALIZED (
    SELECT id, world FROM inst UNION ALL SELECT id, world FROM npc
    UNION ALL SELECT id, NULL FROM c WHERE kind = 'template'),
bound AS MATERIALIZED (
    SELECT e.dst AS role, e.world AS world FROM holder h
    CROSS JOIN graph_edges e ON e.src = h.id AND e.kind = 'fills_role'),
ran AS MATERIALIZED (
    SELECT e.dst AS program, w.world AS world FROM (SELECT DISTINCT world FROM bound) w
    CROSS JOIN graph_nodes wn ON wn.key = 'world:' || w.world
    CROSS JOIN graph_edges e ON e.src = wn.id AND e.kind = 'runs'),
cast_scene AS MATERIALIZED (
    SELECT s.dst AS scene, ran.program AS program, ran.world AS world FROM ran
    CROSS JOIN graph_edges s ON s.src = ran.program AND s.kind = 'contains'
    CROSS JOIN graph_edges r ON r.src = s.dst AND r.kind = 'has_role'
        AND (r.world IS NULL OR r.world = ran.world)
    CROSS JOIN bound b ON b.role = r.dst AND b.world = ran.world),
content AS MATERIALIZED (
    SELECT e.src AS id, e.skind AS kind, COALESCE(n.world, i.world) AS world FROM
    (SELECT id, world FROM inst UNION ALL SELECT id, NULL FROM c WHERE kind = 'template') i
    CROSS JOIN graph_edges e ON e.dst = i.id AND e.kind = 'for'
    CROSS JOIN graph_nodes n ON n.id = e.src),
uses (id, kind, world, via) AS (
    SELECT id, 'instance', world, 'instantiates' FROM inst WHERE id != :c
    UNION ALL SELECT id, 'npc', world, 'plays' FROM npc
    UNION ALL SELECT scene, 'scene', world, 'role' FROM cast_scene
    UNION ALL SELECT program, 'program', world, 'scene' FROM cast_scene
    UNION ALL SELECT ran.program, 'program', ran.world, 'role' FROM ran
        CROSS JOIN graph_edges r ON r.src = ran.program AND r.kind = 'has_role'
        CROSS JOIN bound b ON b.role = r.dst AND b.world = ran.world
    UNION ALL SELECT e.src, 'scene', e.world, 'names' FROM holder h
        CROSS JOIN graph_edges e ON e.dst = h.id AND e.kind = 'names'
    UNION ALL SELECT e.dst, 'program', e.world, 'cast' FROM holder h
        CROSS JOIN graph_edges e ON e.src = h.id AND e.kind = 'appears_in'
    UNION ALL SELECT id, kind, world, 'for' FROM content
    UNION ALL SELECT e.dst, 'asset', g.world, 'produced' FROM content g
        CROSS JOIN graph_edges e ON e.src = g.id AND e.kind = 'produced' WHERE g.kind = 'generation'
    UNION ALL SELECT e.dst, e.dkind, e.world, 'related_to' FROM holder h
        CROSS JOIN graph_edges e ON e.src = h.id AND e.kind = 'related_to'
    UNION ALL SELECT e.src, e.skind, e.world, 'related_to' FROM holder h
        CROSS JOIN graph_edges e ON e.dst = h.id AND e.kind = 'related_to')
"""
_USES_ROWS = (
    _USES
    + """
SELECT n.key, u.kind, n.label, u.world, u.via, n.rating, n.tags, u.id
FROM (SELECT id, kind, world, MIN(via) AS via FROM uses GROUP BY id, kind, world) u
CROSS JOIN graph_nodes n ON n.id = u.id
ORDER BY u.kind, u.world, n.key
"""
)
_USES_COUNTS = (
    _USES
    + """
SELECT CASE via WHEN 'related_to' THEN 'related' ELSE kind END AS k, world, COUNT(*)
FROM (SELECT id, kind, world, MIN(via) AS via FROM uses GROUP BY id, kind, world)
GROUP BY k, world ORDER BY k, COALESCE(world, '')
"""
)


def _frame(rows: list[tuple[Any, ...]], columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rows, columns=columns)


def _tags(stored: str | None) -> tuple[str, ...]:
    return tuple(stored.strip(",").split(",")) if stored else ()


class QueriesMixin:
    """The named queries of :class:`~storylab.graph.CharacterGraph`.

    Every character argument is a template id (``mara``), or a node key
    (``template:mara``, ``instance:harbor_district/captain``). The filters every query
    takes: ``world`` keeps rows of that world; ``tag`` rows whose node carries the tag;
    ``arc`` rows whose node is made for the arc (a ``for`` edge to ``arc:<name>``) or
    tagged ``arc:<name>``; ``rating`` rows rated that or milder (rows with no rating of
    their own, such as NPCs and scenes, are kept).
    """

    _db: sqlite3.Connection

    # -- lookups ----------------------------------------------------------------------------
    def _lookup(self, key: str, kinds: tuple[str, ...], what: str) -> tuple[int, str]:
        row = self._db.execute("SELECT id, kind FROM graph_nodes WHERE key = ?", (key,)).fetchone()
        if row is None or row[1] not in kinds:
            kind = kinds[0]
            known = self._db.execute(
                "SELECT key FROM graph_nodes WHERE kind = ? AND source IS NOT NULL "
                "ORDER BY key LIMIT 20",
                (kind,),
            ).fetchall()
            raise UnknownNameError(what, key, [k for (k,) in known])
        return row

    def _character(self, character: str) -> tuple[int, str]:
        key = character if ":" in character else node_key("template", character)
        return self._lookup(key, ("template", "instance"), "character")

    def _filter(
        self,
        rows: list[tuple[Any, ...]],
        *,
        world: str | None,
        tag: str | None,
        arc: str | None,
        rating: str | None,
        id_at: int = -1,
    ) -> list[tuple[Any, ...]]:
        """Keep the rows (``key, kind, label, world, via, rating, tags, ...``) that pass."""
        if rating is not None and rating not in CONTENT_RATINGS:
            raise ValueError(f"rating: one of {', '.join(CONTENT_RATINGS)}, got {rating!r}")
        allowed = set(CONTENT_RATINGS[: CONTENT_RATINGS.index(rating) + 1]) if rating else None
        made_for: set[int] = set()
        if arc is not None:
            made_for = {
                r[0]
                for r in self._db.execute(
                    "SELECT e.src FROM graph_nodes a JOIN graph_edges e "
                    "ON e.dst = a.id AND e.kind = 'for' WHERE a.key = ?",
                    (node_key("arc", arc),),
                )
            }
        out = []
        for row in rows:
            tags = row[6] or ""
            if world is not None and row[3] != world:
                continue
            if tag is not None and f",{tag}," not in tags:
                continue
            if arc is not None and row[id_at] not in made_for and f",arc:{arc}," not in tags:
                continue
            if allowed is not None and row[5] is not None and row[5] not in allowed:
                continue
            out.append(row)
        return out

    # -- where is this character used ----------------------------------------------------
    def _uses(self, character: str, **filters: Any) -> list[tuple[Any, ...]]:
        cid, _ = self._character(character)
        rows = self._db.execute(_USES_ROWS, {"c": cid}).fetchall()
        return self._filter(rows, **_filters(filters)) if any(filters.values()) else rows

    def uses(self, character: str, **filters: Any) -> pd.DataFrame:
        """Everything a character is used in, one row per node and world it is linked in:
        ``key, kind, label, world, via, rating, tags`` (``via`` is how: ``instantiates``,
        ``plays``, ``role``, ``scene``, ``names``, ``cast``, ``for``, ``produced`` or
        ``related_to``)."""
        rows = self._uses(character, **filters)
        return _frame([(*r[:6], _tags(r[6])) for r in rows], USES_COLUMNS)

    def usage(self, character: str, **filters: Any) -> pd.DataFrame:
        """How often a character is used, by node kind and world: ``kind, world, count``
        (related characters count as kind ``related``)."""
        if any(filters.values()):
            rows = self._uses(character, **filters)
            counts = Counter(("related" if r[4] == "related_to" else r[1], r[3]) for r in rows)
            rows = sorted(((k, w, n) for (k, w), n in counts.items()), key=_by_kind_world)
        else:
            cid, _ = self._character(character)
            rows = self._db.execute(_USES_COUNTS, {"c": cid}).fetchall()
        return _frame(rows, ["kind", "world", "count"])

    def scenes_for_character(self, character: str, **filters: Any) -> pd.DataFrame:
        """The scenes a character appears in (by a role its world binds, or named directly):
        ``scene, world, via``."""
        rows = [r for r in self._uses(character, **filters) if r[1] == "scene"]
        return _frame([(r[0][6:], r[3], r[4]) for r in rows], ["scene", "world", "via"])

    def assets_for_character(self, character: str, **filters: Any) -> pd.DataFrame:
        """The assets made for a character (tagged for it, or produced by a generation
        for it): ``asset, label, world, via, rating, tags``."""
        rows = [r for r in self._uses(character, **filters) if r[1] == "asset"]
        cols = ["asset", "label", "world", "via", "rating", "tags"]
        return _frame([(r[0], r[2], r[3], r[4], r[5], _tags(r[6])) for r in rows], cols)

    def generations_for(
        self,
        character: str | None = None,
        scene: str | None = None,
        arc: str | None = None,
        **filters: Any,
    ) -> pd.DataFrame:
        """Generations made for a character, a scene and/or an arc (all given must hold):
        ``generation, label, world, rating, tags``."""
        if character is None and scene is None and arc is None:
            raise ValueError("generations_for needs a character, a scene or an arc")
        sets = []
        if character is not None:
            rows = self._uses(character, **filters)
            sets.append({r[7]: r[3] for r in rows if r[1] == "generation"})
        for kind, name in (("scene", scene), ("arc", arc)):
            if name is None:
                continue
            target = name if name.startswith(f"{kind}:") else node_key(kind, name)
            tid, _ = self._lookup(target, (kind,), kind)
            found = self._db.execute(
                "SELECT e.src, n.world FROM graph_edges e JOIN graph_nodes n ON n.id = e.src "
                "WHERE e.dst = ? AND e.kind = 'for' AND n.kind = 'generation'",
                (tid,),
            ).fetchall()
            sets.append(dict(found))
        ids = set.intersection(*(set(s) for s in sets))
        world = {i: next((s[i] for s in sets if s[i] is not None), None) for i in ids}
        rows = self._db.execute(
            f"SELECT key, kind, label, NULL, 'for', rating, tags, id FROM graph_nodes "
            f"WHERE id IN ({','.join('?' * len(ids))}) ORDER BY key",
            sorted(ids),
        ).fetchall()
        rows = [(*r[:3], world[r[7]], *r[4:]) for r in rows]
        if any(filters.values()) and character is None:
            rows = self._filter(rows, **_filters(filters))
        cols = ["generation", "label", "world", "rating", "tags"]
        return _frame([(r[0], r[2], r[3], r[5], _tags(r[6])) for r in rows], cols)

    def characters_for_npc(self, npc: str, *, world: str | None = None) -> pd.DataFrame:
        """The characters playing an NPC: ``npc, instance, template, world``.

        ``npc`` is a key (``npc:harbor_district/captain``), ``world/id``, or an id looked
        up in ``world`` (in every world when none is given).
        """
        if npc.startswith("npc:"):
            keys = [npc]
        elif "/" in npc or world is not None:
            keys = [node_key("npc", npc if "/" in npc else f"{world}/{npc}")]
        else:
            keys = [
                k
                for (k,) in self._db.execute(
                    "SELECT key FROM graph_nodes WHERE kind = 'npc' AND key LIKE ? ESCAPE '!'",
                    ("npc:%/" + npc.replace("!", "!!").replace("%", "!%").replace("_", "!_"),),
                )
            ]
        ids = [self._lookup(k, ("npc",), "NPC")[0] for k in keys] if keys else []
        if not ids:
            raise UnknownNameError("NPC", npc, [])
        rows = self._db.execute(
            f"""SELECT n.key, i.key, t.key, i.world FROM graph_nodes n
                JOIN graph_edges p ON p.dst = n.id AND p.kind = 'plays'
                JOIN graph_nodes i ON i.id = p.src
                LEFT JOIN graph_edges e ON e.dst = i.id AND e.kind = 'instantiates'
                LEFT JOIN graph_nodes t ON t.id = e.src
                WHERE n.id IN ({",".join("?" * len(ids))}) ORDER BY n.key, i.key""",
            ids,
        ).fetchall()
        return _frame(rows, ["npc", "instance", "template", "world"])

    def character_graph(self, character: str, depth: int = 1, **filters: Any) -> pd.DataFrame:
        """Everything linked to a character, and to the characters it is related to, out to
        ``depth`` relationship hops: ``key, kind, label, world, via, rating, tags, hop``.

        Hop 0 is the character and what it is used in; hop ``n`` the characters ``n``
        relationships away and what they are used in.
        """
        if depth < 0:
            raise ValueError(f"depth: 0 or more, got {depth}")
        cid, _ = self._character(character)
        start = self._db.execute(
            "SELECT key, kind, label, world, 'self', rating, tags, id FROM graph_nodes WHERE id=?",
            (cid,),
        ).fetchone()
        rows, seen, frontier = [(*start, 0)], {cid}, [start[0]]
        for hop in range(depth + 1):
            following = []
            for key in frontier:
                for row in self._uses(key, **filters):
                    related = row[4] == "related_to"
                    if row[7] in seen or (related and hop == depth):
                        continue
                    seen.add(row[7])
                    rows.append((*row, hop + related))
                    if related:
                        following.append(row[0])
            frontier = following
        out = [(*r[:6], _tags(r[6]), r[8]) for r in rows]
        return _frame(out, [*USES_COLUMNS, "hop"])

    def characters(self, *, world: str | None = None) -> pd.DataFrame:
        """The character templates, with how many worlds instantiate each:
        ``template, label, instances``."""
        where = "AND e.world = :w" if world is not None else ""
        rows = self._db.execute(
            f"""SELECT t.key, t.label, COUNT(e.dst) FROM graph_nodes t
                LEFT JOIN graph_edges e ON e.src = t.id AND e.kind = 'instantiates' {where}
                WHERE t.kind = 'template' AND t.source IS NOT NULL
                GROUP BY t.id HAVING :w IS NULL OR COUNT(e.dst) > 0 ORDER BY t.key""",
            {"w": world},
        ).fetchall()
        return _frame(rows, ["template", "label", "instances"])


def _by_kind_world(row: tuple[Any, ...]) -> tuple[str, str]:
    return row[0], row[1] or ""


def _filters(filters: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(filters) - {"world", "tag", "arc", "rating"})
    if unknown:
        raise TypeError(f"unknown filters {unknown}; filters: world, tag, arc, rating")
    return {k: filters.get(k) for k in ("world", "tag", "arc", "rating")}
