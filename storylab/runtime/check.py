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

__all__ = ["ProgramReport", "check_program", "load_program", "successors"]


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


def _texts(program: NarrativeProgram) -> Iterator[tuple[str, str, bool]]:
    """(path, text, is_template) for every expression and template in the program."""

    def effects(path: str, fx: Effects | None) -> Iterator[tuple[str, str, bool]]:
        if fx is not None:
            for name, value in fx.variables.items():
                if isinstance(value, str):
                    yield f"{path}.variables.{name}", value, False

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
        elif isinstance(node, ExternalCallNode):
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


def _declared_vars(program: NarrativeProgram) -> Iterator[tuple[str, str]]:
    """(path, name) for every variable an effect or call writes."""
    for i, node in enumerate(program.nodes):
        if isinstance(node, ExternalCallNode) and node.store_as is not None:
            yield f"nodes[{i}].store_as", node.store_as
    for path, fx in _effect_groups(program):
        for name in fx.variables:
            yield f"{path}.variables.{name}", name


def _structure(program: NarrativeProgram, src: str) -> Iterator[Problem]:
    ids: set[str] = set()
    for i, node in enumerate(program.nodes):
        if node.id in ids:
            yield Problem(src, f"nodes[{i}].id", f"a unique node id ({node.id!r} repeats)")
        ids.add(node.id)
    if program.entry not in ids:
        yield Problem(src, "entry", f"an existing node id (no node {program.entry!r})")
    for i, edge in enumerate(program.edges):
        for end, target in (("from", edge.from_), ("to", edge.to)):
            if target not in ids:
                yield Problem(src, f"edges[{i}].{end}", f"an existing node id (no node {target!r})")
    edge_ids = Counter(e.id for e in program.edges if e.id is not None)
    for dup in sorted(e for e, n in edge_ids.items() if n > 1):
        yield Problem(src, "edges", f"unique edge ids ({dup!r} repeats)")
    for i, node in enumerate(program.nodes):
        if not isinstance(node, ChoiceNode):
            continue
        if not node.choices:
            yield Problem(src, f"nodes[{i}].choices", "at least one choice")
        seen: set[str] = set()
        for j, choice in enumerate(node.choices):
            if choice.id in seen:
                yield Problem(
                    src,
                    f"nodes[{i}].choices[{j}].id",
                    f"a unique choice id ({choice.id!r} repeats)",
                )
            seen.add(choice.id)
            if choice.to is not None and choice.to not in ids:
                yield Problem(
                    src,
                    f"nodes[{i}].choices[{j}].to",
                    f"an existing node id (no node {choice.to!r})",
                )
        if node.fallback is not None and node.fallback not in ids:
            yield Problem(
                src, f"nodes[{i}].fallback", f"an existing node id (no node {node.fallback!r})"
            )
    for old, new in program.renames.nodes.items():
        if new not in ids:
            yield Problem(src, f"renames.nodes.{old}", f"an existing node id (no node {new!r})")
    for old, new in program.renames.variables.items():
        if new not in program.variables:
            yield Problem(src, f"renames.variables.{old}", f"a declared variable (no {new!r})")


def _expressions(program: NarrativeProgram, src: str) -> Iterator[Problem]:
    ids = {n.id for n in program.nodes}
    for path, text, is_template in _texts(program):
        try:
            refs = compile_template(text).refs if is_template else compile_expression(text).refs
        except ExpressionError as exc:
            pos = exc.position
            where = f"{exc.message} at position {pos}: {text[:pos]}«here»{text[pos:]}"
            yield Problem(
                src, path, f"a valid {'template' if is_template else 'expression'} ({where})"
            )
            continue
        for ref in sorted(refs):
            if ref[0] == "var" and ref[1] not in program.variables:
                yield Problem(
                    src, path, f"a declared variable (var.{ref[1]} is not in 'variables')"
                )
            if ref[0] == "visits" and ref[1] not in ids:
                yield Problem(
                    src, path, f"an existing node id in visits/visited (no node {ref[1]!r})"
                )
    for path, name in _declared_vars(program):
        if name not in program.variables:
            yield Problem(src, path, f"a declared variable ({name!r} is not in 'variables')")


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
                src, path, f"a node reachable from the entry ({node.id!r} is unreachable)"
            )
        if node.end:
            continue
        out_edges = edges_from.get(node.id, [])
        if isinstance(node, ChoiceNode):
            if not nexts[node.id] and not out_edges:
                yield Problem(
                    src, path, f"a way out of choice node {node.id!r} (no targets, no edges)"
                )
            elif node.fallback is None and all(c.conditions or c.once_only for c in node.choices):
                yield Problem(
                    src, path, f"a fallback: every choice of {node.id!r} can be unavailable"
                )
        elif not out_edges:
            yield Problem(
                src, path, f"a way out of {node.id!r} (a dead end; mark endings 'end: true')"
            )
        elif all(e.conditions for e in out_edges):
            yield Problem(
                src,
                path,
                f"an unconditional edge out of {node.id!r} (every way out is conditional)",
            )


#: Session state with no default: reading it before anything set it fails the step.
_NO_DEFAULT = {"player": "player", "quest": "quests"}


def _unset_reads(program: NarrativeProgram, src: str) -> Iterator[Problem]:
    """Warn once per ``player.*``/``quest.*`` name read but set by no effect of the program."""
    set_here = {("quest", name) for _, fx in _effect_groups(program) for name in fx.quests}
    warned: set[tuple[str, str]] = set()
    for path, text, is_template in _texts(program):
        refs = compile_template(text).refs if is_template else compile_expression(text).refs
        for ref in sorted(refs):
            name = (ref[0], ref[-1])
            if ref[0] in _NO_DEFAULT and name not in set_here and name not in warned:
                warned.add(name)
                field = _NO_DEFAULT[ref[0]]
                yield Problem(
                    src,
                    path,
                    f"state set before play ({ref[0]}.{ref[-1]} is read but no effect sets it;"
                    f" give it in a state file: {field}: {{{ref[-1]}: ...}})",
                )


def check_program(program: NarrativeProgram, source: str | Path = "<program>") -> ProgramReport:
    """Every error and warning in ``program``; ``source`` labels the problems.

    Warnings: unreachable nodes, dead ends, choices that can all be unavailable, and state
    read with no default (``player.*``, ``quest.*``) that no effect of the program sets.
    """
    src = str(source)
    errors = [*_structure(program, src), *_expressions(program, src)]
    warnings = [*_warnings(program, src), *_unset_reads(program, src)] if not errors else []
    return ProgramReport(tuple(errors), tuple(warnings))


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
