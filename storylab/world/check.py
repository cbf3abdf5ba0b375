"""Cross-reference checks of a world manifest, and :func:`load_world`.

Every problem is reported at once with its path: unknown locations, NPCs, roles, axes and
programs referenced anywhere, program nodes that do not exist, overlapping schedule blocks,
derived values that do not evaluate, programs rated above the world.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from storylab._data import DataError, Problem, parse_model, read_document
from storylab.runtime.check import effect_expressions, load_program
from storylab.runtime.expressions import ExpressionError, compile_expression
from storylab.runtime.program import ChoiceNode, Effects, NarrativeProgram
from storylab.world.clock import block_intervals, expand_days, overlaps, parse_day_time
from storylab.world.manifest import World
from storylab.world.relations import derive

__all__ = ["check_world", "load_world", "parse_world", "vary_world"]

_RATINGS = ["general", "teen", "mature", "adult"]


def _program_effects(program: NarrativeProgram) -> Iterator[tuple[str, Effects]]:
    """(path, effects) for every effects block of a program."""
    for i, node in enumerate(program.nodes):
        for name in ("on_enter", "on_exit", "effects"):
            fx = getattr(node, name, None)
            if isinstance(fx, Effects):
                yield f"nodes[{i}].{name}", fx
        if isinstance(node, ChoiceNode):
            for j, choice in enumerate(node.choices):
                if choice.effects is not None:
                    yield f"nodes[{i}].choices[{j}].effects", choice.effects
    for i, edge in enumerate(program.edges):
        if edge.effects is not None:
            yield f"edges[{i}].effects", edge.effects


class _Checker:
    def __init__(self, world: World, programs: dict[str, NarrativeProgram], src: str):
        self.w, self.programs, self.src = world, programs, src
        self.problems: list[Problem] = []
        self.days = list(world.clock.days)
        self.roles = set(world.roles) | {n.role for n in world.npcs.values() if n.role}
        self.derived_ok = True

    def add(self, path: str, expected: str) -> None:
        self.problems.append(Problem(self.src, path, expected))

    def known(self, path: str, value: str, pool: Any, kind: str) -> None:
        if value not in pool:
            self.add(path, f"a known {kind} ({value!r} is not one; known: {_list(pool)})")

    def target(self, path: str, program: str | None, node: str | None) -> None:
        if program is None:
            if node is not None:
                self.add(path + ".node", "a 'program' to go with the node")
            return
        if program not in self.programs:
            self.known(path + ".program", program, self.programs, "program (linked in 'programs')")
            return
        if node is not None and node not in {n.id for n in self.programs[program].nodes}:
            self.add(path + ".node", f"a node of program {program!r} ({node!r} does not exist)")

    def effects(self, path: str, fx: Effects) -> None:
        for where, text in effect_expressions(path, fx):
            try:
                compile_expression(text)
            except ExpressionError as exc:
                self.add(where, f"an expression ({_first(exc)})")
        for who, row in fx.relationships.items():
            if who != "self":
                self.known(f"{path}.relationships.{who}", who, self.w.npcs, "NPC (or 'self')")
            for axis in row:
                if axis not in self.w.stats.axes:
                    where = f"{path}.relationships.{who}.{axis}"
                    self.known(where, axis, self.w.stats.axes, "axis")

    def run(self) -> list[Problem]:
        w = self.w
        try:
            _, minute = parse_day_time(w.clock.start, self.days)
        except ValueError as exc:
            self.add("clock.start", str(exc))
        else:
            if minute % (60 // w.clock.ticks_per_hour):
                self.add("clock.start", "a start on a tick (a multiple of the tick's minutes)")
        for section in ("locations", "npcs", "interactions"):
            for key, entry in getattr(w, section).items():
                if entry.id != key:
                    self.add(f"{section}.{key}.id", f"the entry's key {key!r} (got {entry.id!r})")
        for key, loc in w.locations.items():
            for i, spot in enumerate(loc.hotspots):
                self.target(f"locations.{key}.hotspots[{i}]", spot.program, spot.node)
        self.derived()
        for key, npc in w.npcs.items():
            self.npc(key, npc)
        for role, npc_id in w.roles.items():
            self.known(f"roles.{role}", npc_id, w.npcs, "NPC")
        for key, inter in w.interactions.items():
            self.interaction(key, inter)
        if w.ambient is not None:
            self.known("ambient.axis", w.ambient.axis, w.stats.axes, "axis")
        if w.player.location is not None:
            self.known("player.location", w.player.location, w.locations, "location")
        for pid, program in self.programs.items():
            rating = program.metadata.content_rating
            if _RATINGS.index(rating) > _RATINGS.index(w.content_rating):
                wanted = f"programs rated {w.content_rating} or below ({pid} is {rating})"
                self.add("programs", wanted)
            for path, fx in _program_effects(program):
                self.effects(f"programs[{pid}].{path}", fx)
        return self.problems

    def npc(self, key: str, npc: Any) -> None:
        w, base = self.w, f"npcs.{key}"
        if npc.home is not None:
            self.known(f"{base}.home", npc.home, w.locations, "location")
        spans = []
        for i, block in enumerate(npc.schedule):
            path = f"{base}.schedule[{i}]"
            for day in expand_days(block.day, self.days):
                self.known(f"{path}.day", day, self.days, "day (or 'daily')")
            self.known(f"{path}.location", block.location, w.locations, "location")
            if block.start == block.end:
                self.add(f"{path}.end", f"an end other than the start ({block.start})")
            spans.append(block_intervals(block.day, block.start, block.end, self.days))
        for i, j, minute in overlaps(spans):
            day, rest = divmod(minute, 1440)
            when = f"{self.days[day]} {rest // 60:02d}:{rest % 60:02d}"
            self.add(f"{base}.schedule[{j}]", f"no overlap with schedule[{i}] (both at {when})")
        for other, row in npc.relationships.items():
            if other != "player":
                self.known(f"{base}.relationships.{other}", other, w.npcs, "NPC (or 'player')")
            if other == key:
                self.add(f"{base}.relationships.{other}", "another NPC or 'player', not itself")
            for axis, value in row.items():
                spec = w.stats.axes.get(axis)
                if spec is None:
                    self.known(f"{base}.relationships.{other}.{axis}", axis, w.stats.axes, "axis")
                elif not spec.min <= value <= spec.max:
                    self.add(
                        f"{base}.relationships.{other}.{axis}",
                        f"a value in [{spec.min:g}, {spec.max:g}] (got {value:g})",
                    )
        if self.derived_ok:
            axes = {a: spec.default for a, spec in w.stats.axes.items()}
            axes.update(npc.relationships.get("player", {}))
            try:
                derive(w, key, axes)
            except ExpressionError as exc:
                self.derived_ok = False
                self.add("stats.derived", f"values that evaluate for npcs.{key} ({_first(exc)})")

    def derived(self) -> None:
        for name, spec in self.w.stats.derived.items():
            texts = [("expression", spec.expression)] if spec.expression is not None else []
            texts += [(f"cases[{i}].when", c.when) for i, c in enumerate(spec.cases)]
            for where, text in texts:
                try:
                    compile_expression(text)
                except ExpressionError as exc:
                    self.derived_ok = False
                    self.add(f"stats.derived.{name}.{where}", f"an expression ({_first(exc)})")

    def interaction(self, key: str, inter: Any) -> None:
        w, base = self.w, f"interactions.{key}"
        for i, npc_id in enumerate(inter.npcs):
            self.known(f"{base}.npcs[{i}]", npc_id, w.npcs, "NPC")
        for i, role in enumerate(inter.roles):
            self.known(f"{base}.roles[{i}]", role, self.roles, "role")
        gatings = [(f"{base}.gating", inter.gating)]
        self.target(base, inter.program, inter.node)
        self.effects(f"{base}.effects", inter.effects)
        for npc_id, over in inter.overrides.items():
            path = f"{base}.overrides.{npc_id}"
            self.known(path, npc_id, w.npcs, "NPC")
            if over.gating is not None:
                gatings.append((f"{path}.gating", over.gating))
            if over.program is not None or over.node is not None:
                self.target(path, over.program or inter.program, over.node)
            if over.effects is not None:
                self.effects(f"{path}.effects", over.effects)
        moods = _moods(w)
        for path, gate in gatings:
            for i, loc in enumerate(gate.location):
                self.known(f"{path}.location[{i}]", loc, w.locations, "location")
            for i, day in enumerate(gate.days):
                self.known(f"{path}.days[{i}]", day, self.days, "day")
            for i, mood in enumerate(gate.mood):
                if moods is not None:
                    self.known(f"{path}.mood[{i}]", mood, moods, "mood (a value 'mood' can take)")
            for name in gate.bounds:
                prefix, _, axis = name.partition("_")
                if prefix not in ("min", "max") or not axis:
                    self.add(f"{path}.{name}", "a gating field or min_<axis> / max_<axis>")
                else:
                    self.known(f"{path}.{name}", axis, w.stats.axes, "axis")


def _moods(world: World) -> set[str] | None:
    """The values the derived ``mood`` can take, when it is given by cases."""
    mood = world.stats.derived.get("mood")
    if mood is None or not mood.cases:
        return None
    return {str(c.value) for c in mood.cases} | {str(mood.default)}


def _first(exc: Exception) -> str:
    return str(exc).splitlines()[0]


def _list(pool: Any) -> str:
    names = sorted(str(p) for p in pool)
    return ", ".join(names[:12]) + (", ..." if len(names) > 12 else "") if names else "none"


def check_world(
    world: World, programs: dict[str, NarrativeProgram] | None = None, source: str = "<world>"
) -> list[Problem]:
    """Every cross-reference problem of ``world`` (empty when it is consistent).

    ``programs`` are the linked programs by id (default: those the world carries).
    """
    return _Checker(world, dict(world.program_map if programs is None else programs), source).run()


def parse_world(data: Any, source: str | Path = "<world>") -> World:
    """Validate world data against the model, load its programs, check everything.

    Program paths are relative to ``source``'s folder.

    Raises
    ------
    DataError
        Listing every problem (schema first; then programs and cross-references).
    """
    src = str(source)
    world = parse_model(World, data, src)
    programs: dict[str, NarrativeProgram] = {}
    problems: list[Problem] = []
    base = Path(src).parent
    for i, rel in enumerate(world.programs):
        try:
            program = load_program(base / rel)
        except DataError as exc:
            problems += exc.problems
            continue
        if program.id in programs:
            problems.append(Problem(src, f"programs[{i}]", f"a program id once ({program.id!r})"))
        programs[program.id] = program
    problems += check_world(world, programs, src)
    if problems:
        raise DataError(problems)
    return world.with_programs(programs, src)


def load_world(path: str | Path) -> World:
    """Read, validate and check a world file (or a folder holding ``world.yaml``).

    >>> import storylab
    >>> repo = Path(storylab.__file__).parents[1]
    >>> world = load_world(repo / "data" / "worlds" / "harbor-district")
    >>> world.npcs["captain"].name, len(world.locations) >= 6
    ('Captain Mara', True)
    """
    path = Path(path)
    if path.is_dir():
        path = path / "world.yaml"
    return parse_world(read_document(path), path)


def vary_world(world: World, changes: Mapping[str, Any]) -> World:
    """A copy of ``world`` with values replaced by their dotted paths
    (``{"npcs.captain.personality.extraversion": 0.9}``), validated and checked again
    against the same programs.

    Raises
    ------
    DataError
        When a path does not name a value of the world, or the result is not valid.
    """
    data = world.model_dump(by_alias=True)
    bad = []
    for path, value in changes.items():
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or (last not in node and parents[-1:] != ["gating"]):
            bad.append(Problem(world.source, path, "the path of a value in the world"))
            continue
        node[last] = value
    if bad:
        raise DataError(bad)
    label = f"{world.source} (varied)"
    varied = parse_model(World, data, label)
    problems = check_world(varied, dict(world.program_map), label)
    if problems:
        raise DataError(problems)
    return varied.with_programs(world.program_map, world.source)
