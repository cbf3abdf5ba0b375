"""Checking a narrative program beyond its schema: references, expressions, reachability.

Errors make a program unplayable (a missing node, an expression that does not parse, an
undeclared variable); warnings point at likely mistakes (unreachable nodes, dead ends).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from storylab._data import DataError, Problem, read_document
from storylab.runtime.expressions import ExpressionError, compile_expression
from storylab.runtime.program import (
    CallNode,
    ChoiceNode,
    DialogueNode,
    Edge,
    Effects,
    ExternalCallNode,
    NarrativeProgram,
    WaitNode,
    parse_program,
)
from storylab.runtime.templates import compile_template

__all__ = [
    "ProgramReport",
    "check_and_count",
    "check_program",
    "effect_expressions",
    "load_program",
    "successors",
]


@dataclass(frozen=True)
class ProgramReport:
    """What :func:`check_program` found: errors (unplayable) and warnings."""

    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """Whether the program has no errors."""
        return not self.errors


def successors(program: NarrativeProgram) -> dict[str, list[str]]:
    """Every node's possible next nodes (edges, choice targets and fallbacks), in order."""
    out: dict[str, list[str]] = {n.id: [] for n in program.nodes}
    for edge in program.edges:
        if edge.from_ in out:
            out[edge.from_].append(edge.to)
    for node in program.nodes:
        if isinstance(node, ChoiceNode):
            out[node.id].extend(c.to for c in node.choices if c.to is not None)
            if node.fallback is not None:
                out[node.id].append(node.fallback)
    return {k: list(dict.fromkeys(v)) for k, v in out.items()}


def effect_expressions(path: str, fx: Effects | None) -> Iterator[tuple[str, str]]:
    """(path, text) for every expression of the effects ``fx`` found at ``path``."""
    if fx is not None:
        for name, value in fx.variables.items():
            if isinstance(value, str):
                yield f"{path}.variables.{name}", value
        for name, value in fx.set.items():
            if isinstance(value, str):
                yield f"{path}.set.{name}", value


def _texts(program: NarrativeProgram) -> Iterator[tuple[str, str, bool]]:
    """(path, text, is_template) for every expression and template in the program."""

    def effects(path: str, fx: Effects | None) -> Iterator[tuple[str, str, bool]]:
        for where, text in effect_expressions(path, fx):
            yield where, text, False

    for i, node in enumerate(program.nodes):
        base = f"nodes[{i}]"
        yield from effects(f"{base}.on_enter", node.on_enter)
        yield from effects(f"{base}.on_exit", node.on_exit)
        if isinstance(node, DialogueNode):
            yield f"{base}.text", node.text, True
        elif isinstance(node, ChoiceNode):
            if node.prompt is not None:
                yield f"{base}.prompt", node.prompt, True
            for j, choice in enumerate(node.choices):
                yield f"{base}.choices[{j}].text", choice.text, True
                for k, cond in enumerate(choice.conditions):
                    yield f"{base}.choices[{j}].conditions[{k}]", cond, False
                yield from effects(f"{base}.choices[{j}].effects", choice.effects)
        elif isinstance(node, WaitNode) and node.condition is not None:
            yield f"{base}.condition", node.condition, False
        elif isinstance(node, ExternalCallNode | CallNode):
            for name, value in node.args.items():
                if isinstance(value, str):
                    yield f"{base}.args.{name}", value, False
        elif node.type == "action":
            yield from effects(f"{base}.effects", node.effects)
    for i, edge in enumerate(program.edges):
        for k, cond in enumerate(edge.conditions):
            yield f"edges[{i}].conditions[{k}]", cond, False
        yield from effects(f"edges[{i}].effects", edge.effects)


def _effect_groups(program: NarrativeProgram) -> list[tuple[str, Effects]]:
    """(path, effects) for every block of effects in the program."""
    groups: list[tuple[str, Effects | None]] = []
    for i, node in enumerate(program.nodes):
        groups += [(f"nodes[{i}].on_enter", node.on_enter), (f"nodes[{i}].on_exit", node.on_exit)]
        if node.type == "action":
            groups.append((f"nodes[{i}].effects", node.effects))
        if isinstance(node, ChoiceNode):
            groups += [
                (f"nodes[{i}].choices[{j}].effects", c.effects) for j, c in enumerate(node.choices)
            ]
    groups += [(f"edges[{i}].effects", e.effects) for i, e in enumerate(program.edges)]
    return [(path, fx) for path, fx in groups if fx is not None]


def _undeclared_writes(program: NarrativeProgram) -> Iterator[tuple[str, str]]:
    """(path, name) for every variable an effect or call writes that is not declared (the
    paths are made only for effects that write variables)."""
    declared = program.variables

    def writes(where: str, at: int, fx: Effects | None) -> Iterator[tuple[str, str]]:
        if fx is None or not (fx.variables or fx.set):
            return
        path = where.format(at)
        for name in fx.variables:
            if name not in declared:
                yield f"{path}.variables.{name}", name
        for target in fx.set:
            if target.startswith("var.") and target[4:] not in declared:
                yield f"{path}.set.{target}", target[4:]

    for i, node in enumerate(program.nodes):
        yield from writes("nodes[{}].on_enter", i, node.on_enter)
        yield from writes("nodes[{}].on_exit", i, node.on_exit)
        if node.type == "action":
            yield from writes("nodes[{}].effects", i, node.effects)
        elif isinstance(node, ChoiceNode):
            for j, c in enumerate(node.choices):
                yield from writes(f"nodes[{i}].choices[{{}}].effects", j, c.effects)
        elif isinstance(node, ExternalCallNode) and node.store_as not in (None, *declared):
            yield f"nodes[{i}].store_as", node.store_as  # type: ignore[misc]
    for i, edge in enumerate(program.edges):
        yield from writes("edges[{}].effects", i, edge.effects)


def _structure(program: NarrativeProgram, src: str) -> Iterator[Problem]:
    ids: set[str] = set()
    for i, node in enumerate(program.nodes):
        if node.id in ids:
            yield Problem(
                src, f"nodes[{i}].id", f"a unique node id ({node.id!r} repeats)", "duplicate_id"
            )
        ids.add(node.id)
    if program.entry not in ids:
        yield Problem(
            src, "entry", f"an existing node id (no node {program.entry!r})", "unknown_entry"
        )
    for i, edge in enumerate(program.edges):
        for end, target in (("from", edge.from_), ("to", edge.to)):
            if target not in ids:
                yield Problem(
                    src,
                    f"edges[{i}].{end}",
                    f"an existing node id (no node {target!r})",
                    "unknown_node",
                )
    edge_ids = Counter(e.id for e in program.edges if e.id is not None)
    for dup in sorted(e for e, n in edge_ids.items() if n > 1):
        yield Problem(src, "edges", f"unique edge ids ({dup!r} repeats)", "duplicate_id")
    for i, node in enumerate(program.nodes):
        if not isinstance(node, ChoiceNode):
            continue
        if not node.choices:
            yield Problem(src, f"nodes[{i}].choices", "at least one choice", "no_choices")
        seen: set[str] = set()
        for j, choice in enumerate(node.choices):
            if choice.id in seen:
                yield Problem(
                    src,
                    f"nodes[{i}].choices[{j}].id",
                    f"a unique choice id ({choice.id!r} repeats)",
                    "duplicate_id",
                )
            seen.add(choice.id)
            if choice.to is not None and choice.to not in ids:
                yield Problem(
                    src,
                    f"nodes[{i}].choices[{j}].to",
                    f"an existing node id (no node {choice.to!r})",
                    "unknown_node",
                )
        if node.fallback is not None and node.fallback not in ids:
            yield Problem(
                src,
                f"nodes[{i}].fallback",
                f"an existing node id (no node {node.fallback!r})",
                "unknown_node",
            )
    for old, new in program.renames.nodes.items():
        if new not in ids:
            yield Problem(
                src,
                f"renames.nodes.{old}",
                f"an existing node id (no node {new!r})",
                "unknown_node",
            )
    for old, new in program.renames.variables.items():
        if new not in program.variables:
            yield Problem(
                src,
                f"renames.variables.{old}",
                f"a declared variable (no {new!r})",
                "undeclared_variable",
            )


#: Session state with no default: reading it before anything set it fails the step.
_NO_DEFAULT = {"player": "player", "quest": "quests"}


def _expressions(
    program: NarrativeProgram,
    src: str,
    counted: set[str],
    reads: dict[tuple[str, str], str],
) -> Iterator[Problem]:
    """Problems in the expressions and templates. Adds the node ids whose visit counts
    they read to ``counted``, and the ``player``/``quest`` names they read to ``reads``
    (with the path of the first read), in one pass over the texts."""
    ids, declared = {n.id for n in program.nodes}, program.variables
    for path, text, is_template in _texts(program):
        try:
            refs = compile_template(text).refs if is_template else compile_expression(text).refs
        except ExpressionError as exc:
            pos = exc.position
            where = f"{exc.message} at position {pos}: {text[:pos]}«here»{text[pos:]}"
            yield Problem(
                src,
                path,
                f"a valid {'template' if is_template else 'expression'} ({where})",
                "invalid_expression",
            )
            continue
        if not refs:
            continue
        wrong = False
        for ref in refs:  # the common case: nothing wrong, nothing to sort
            root = ref[0]
            if root == "visits":
                counted.add(ref[1])
                wrong = wrong or ref[1] not in ids
            elif root == "var":
                wrong = wrong or ref[1] not in declared
            elif root in _NO_DEFAULT:
                for read in sorted(r for r in refs if r[0] in _NO_DEFAULT):
                    reads.setdefault((read[0], read[-1]), path)
        if not wrong:
            continue
        for ref in sorted(refs):
            if ref[0] == "var" and ref[1] not in declared:
                yield Problem(
                    src,
                    path,
                    f"a declared variable (var.{ref[1]} is not in 'variables')",
                    "undeclared_variable",
                )
            if ref[0] == "visits" and ref[1] not in ids:
                yield Problem(
                    src,
                    path,
                    f"an existing node id in visits/visited (no node {ref[1]!r})",
                    "unknown_node",
                )
    for path, name in _undeclared_writes(program):
        yield Problem(
            src,
            path,
            f"a declared variable ({name!r} is not in 'variables')",
            "undeclared_variable",
        )


def _warnings(program: NarrativeProgram, src: str) -> Iterator[Problem]:
    nexts = successors(program)
    index = {n.id: i for i, n in enumerate(program.nodes)}
    edges_from: dict[str, list[Edge]] = {}
    for edge in program.edges:
        edges_from.setdefault(edge.from_, []).append(edge)
    seen, todo = set(), [program.entry] if program.entry in nexts else []
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(n for n in nexts.get(current, ()) if n not in seen)
    for node in program.nodes:
        path = f"nodes[{index[node.id]}]"
        if node.id not in seen:
            yield Problem(
                src,
                path,
                f"a node reachable from the entry ({node.id!r} is unreachable)",
                "unreachable",
            )
        if node.end:
            continue
        out_edges = edges_from.get(node.id, [])
        if isinstance(node, ChoiceNode):
            if not nexts[node.id] and not out_edges:
                yield Problem(
                    src,
                    path,
                    f"a way out of choice node {node.id!r} (no targets, no edges)",
                    "dead_end",
                )
            elif node.fallback is None and all(c.conditions or c.once_only for c in node.choices):
                yield Problem(
                    src,
                    path,
                    f"a fallback: every choice of {node.id!r} can be unavailable",
                    "no_fallback",
                )
        elif not out_edges:
            yield Problem(
                src,
                path,
                f"a way out of {node.id!r} (a dead end; mark endings 'end: true')",
                "dead_end",
            )
        elif all(e.conditions for e in out_edges):
            yield Problem(
                src,
                path,
                f"an unconditional edge out of {node.id!r} (every way out is conditional)",
                "conditional_exits",
            )


def _unset_reads(
    program: NarrativeProgram, src: str, reads: dict[tuple[str, str], str]
) -> Iterator[Problem]:
    """Warn once per ``player.*``/``quest.*`` name read (``reads``, from
    :func:`_expressions`) but set by no effect of the program."""
    if not reads:
        return
    groups = _effect_groups(program)
    set_here = {("quest", name) for _, fx in groups for name in fx.quests}
    set_here |= {("quest", t[6:]) for _, fx in groups for t in fx.set if t.startswith("quest.")}
    for (root, name), path in reads.items():
        if (root, name) not in set_here:
            yield Problem(
                src,
                path,
                f"state set before play ({root}.{name} is read but no effect sets it;"
                f" give it in a state file: {_NO_DEFAULT[root]}: {{{name}: ...}})",
                "unset_state",
            )


def check_program(program: NarrativeProgram, source: str | Path = "<program>") -> ProgramReport:
    """Every error and warning in ``program``; ``source`` labels the problems.

    Warnings: unreachable nodes, dead ends, choices that can all be unavailable, and state
    read with no default (``player.*``, ``quest.*``) that no effect of the program sets.
    """
    return check_and_count(program, source)[0]


def check_and_count(
    program: NarrativeProgram, source: str | Path = "<program>"
) -> tuple[ProgramReport, frozenset[str]]:
    """:func:`check_program`'s report, and the node ids whose visit counts the program's
    expressions read (the counts a save keeps)."""
    src, counted, reads = str(source), set(), {}
    errors = [*_structure(program, src), *_expressions(program, src, counted, reads)]
    warnings = [*_warnings(program, src), *_unset_reads(program, src, reads)] if not errors else []
    return ProgramReport(tuple(errors), tuple(warnings)), frozenset(counted)


def load_program(path: str | Path) -> NarrativeProgram:
    """Read and check a program file; warnings are not errors.

    Raises
    ------
    DataError
        On schema problems or any error :func:`check_program` finds.
    """
    program = parse_program(read_document(path), path)
    report = check_program(program, path)
    if report.errors:
        raise DataError(report.errors)
    return program
