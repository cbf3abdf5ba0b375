"""Checking calls between programs: unknown callees, their arguments, and call cycles.

A call node plays another program as a sub-conversation and goes on when it returns, so a
program can only finish if some way from its entry to an end passes only call nodes whose
callees can finish in turn. :func:`check_calls` works that out for a set of programs
(a least fixed point: first the programs that finish without calling anything, then those
that only need those, and so on) and reports:

* ``unknown_program`` (error): a call node names a program not in the set;
* ``unknown_argument`` (error): a call passes an argument the callee does not declare as a
  variable;
* ``call_cycle`` (error): a program that could finish if its calls returned, but every way
  to its end calls a program that (through more calls) needs this one to finish first: a
  recursion with no way out, which would only end at the call-depth limit;
* ``call_never_returns`` (warning): every way to the end calls a program that cannot finish
  on its own (a hub that only the host's ``finish`` ends).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from storylab._data import Problem
from storylab.runtime.check import ProgramReport, successors
from storylab.runtime.program import CallNode, ChoiceNode, NarrativeProgram

__all__ = ["check_calls", "finishable"]


def _exits(program: NarrativeProgram) -> set[str]:
    """Nodes where the program can end: no edges out, and (for a choice node) a choice
    without a target."""
    has_edges = {e.from_ for e in program.edges}
    out = set()
    for node in program.nodes:
        if node.id in has_edges:
            continue
        if isinstance(node, ChoiceNode) and all(c.to is not None for c in node.choices):
            continue
        out.add(node.id)
    return out


def _can_finish(program: NarrativeProgram, passable: set[str], nexts: dict[str, list[str]]) -> bool:
    """Whether some way from the entry reaches an end, passing call nodes only when their
    callee is in ``passable``."""
    calls = {n.id: n.program for n in program.nodes if isinstance(n, CallNode)}
    exits = _exits(program)
    seen, todo = set(), [program.entry] if program.entry in nexts else []
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        if node in calls and calls[node] not in passable:
            continue  # the call never returns: nothing after it is reached this way
        if node in exits:
            return True
        todo.extend(n for n in nexts.get(node, ()) if n not in seen)
    return False


def finishable(programs: Iterable[NarrativeProgram]) -> frozenset[str]:
    """The ids of the programs that can finish, calls included (unknown callees count as
    returning; :func:`check_calls` reports them)."""
    index = {p.id: p for p in programs}
    nexts = {p.id: successors(p) for p in index.values()}
    unknown = {n.program for p in index.values() for n in p.nodes if isinstance(n, CallNode)} - set(
        index
    )
    done: set[str] = set()
    changed = True
    while changed:
        changed = False
        for pid, program in index.items():
            if pid not in done and _can_finish(program, done | unknown, nexts[pid]):
                done.add(pid)
                changed = True
    return frozenset(done)


def _cycle(start: str, blocked_by: Mapping[str, list[str]]) -> list[str] | None:
    """A cycle of blocking calls from ``start`` back to it, as program ids, if any."""
    stack, seen = [(start, [start])], set()
    while stack:
        pid, path = stack.pop()
        for callee in blocked_by.get(pid, ()):
            if callee == start:
                return [*path, start]
            if callee not in seen:
                seen.add(callee)
                stack.append((callee, [*path, callee]))
    return None


def check_calls(
    programs: Iterable[NarrativeProgram], sources: Mapping[str, str] | None = None
) -> ProgramReport:
    """Problems in the calls between ``programs`` (see the module docstring for the codes).

    ``sources`` maps a program id to the label its problems carry (its file); by default
    ``program <id>``.
    """
    index = {p.id: p for p in programs}
    label = {pid: (sources or {}).get(pid, f"program {pid}") for pid in index}
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for pid, program in index.items():
        for i, node in enumerate(program.nodes):
            if not isinstance(node, CallNode):
                continue
            callee = index.get(node.program)
            if callee is None:
                errors.append(
                    Problem(
                        label[pid],
                        f"nodes[{i}].program",
                        f"a known program (no program {node.program!r}; known: "
                        f"{', '.join(sorted(index))})",
                        "unknown_program",
                    )
                )
                continue
            for name in node.args:
                if name not in callee.variables:
                    errors.append(
                        Problem(
                            label[pid],
                            f"nodes[{i}].args.{name}",
                            f"a variable {node.program!r} declares ({name!r} is not one)",
                            "unknown_argument",
                        )
                    )
    done = finishable(index.values())
    everyone = set(index)
    nexts = {pid: successors(p) for pid, p in index.items()}
    stuck = [
        pid for pid in index if pid not in done and _can_finish(index[pid], everyone, nexts[pid])
    ]
    blocked_by = {
        pid: sorted(
            ({n.program for n in index[pid].nodes if isinstance(n, CallNode)} - done) & everyone
        )
        for pid in stuck
    }
    for pid in stuck:
        cycle = _cycle(pid, blocked_by)
        program = index[pid]
        culprits = {cycle[1]} if cycle is not None else set(blocked_by[pid])
        first = next(
            i
            for i, n in enumerate(program.nodes)
            if isinstance(n, CallNode) and n.program in culprits
        )
        if cycle is not None:
            errors.append(
                Problem(
                    label[pid],
                    f"nodes[{first}].program",
                    "a call that can return (every way to the end of "
                    f"{pid!r} goes through the call cycle {' -> '.join(cycle)}, which never ends)",
                    "call_cycle",
                )
            )
        else:
            warnings.append(
                Problem(
                    label[pid],
                    f"nodes[{first}].program",
                    f"a call that returns (every way to the end of {pid!r} calls "
                    f"{', '.join(blocked_by[pid])}, which cannot finish on its own)",
                    "call_never_returns",
                )
            )
    return ProgramReport(tuple(errors), tuple(warnings))
