"""Analysis of narrative programs beyond what ink and Yarn Spinner offer.

- :func:`reachability`: what the entry can reach, where the program can end, dead ends
  and *traps* (reachable nodes from which no ending can be reached), on the static graph.
- :func:`enumerate_paths`: every playthrough up to a bound on choices, played with the
  program's conditions and effects (not just the graph), one row per path.
- :func:`monte_carlo`: N seeded simulated players with a uniform or weighted choice
  policy; coverage per node and edge, final values per playthrough, a per-step frame of
  any playthrough on demand.
- :func:`~storylab.runtime.playtest.playtest` (re-exported): start anywhere with state
  overrides, play scripted inputs, get the transcript and the state diff.

Playthroughs run on a lean interpreter of the engine's compiled program
(:mod:`storylab.runtime._fastplay`); :meth:`MonteCarloResult.frame` replays one on the
real engine.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from storylab.runtime._fastplay import Tables, make_env, run_to_choice, take
from storylab.runtime.check import successors
from storylab.runtime.compiled import compile_program
from storylab.runtime.expressions import Env, EvaluationError
from storylab.runtime.playtest import (
    PlaytestResult,
    apply_overrides,
    fill_unset,
    flatten_env,
    playtest,
)
from storylab.runtime.program import NarrativeProgram
from storylab.runtime.results import StepError
from storylab.runtime.state import Session
from storylab.runtime.working import Handler

__all__ = [
    "MonteCarloResult",
    "PathReport",
    "PlaytestResult",
    "ReachabilityReport",
    "enumerate_paths",
    "monte_carlo",
    "playtest",
    "reachability",
]

Outcome = Literal["finished", "waiting", "max_steps", "error"]
_BATCH = 1024


@dataclass(frozen=True)
class ReachabilityReport:
    """The static shape of a program (conditions ignored: an edge may be taken).

    Attributes
    ----------
    reachable : tuple of str
        Nodes the entry can reach, in breadth-first order (the entry first).
    unreachable : tuple of str
    exits : tuple of str
        Nodes where the program can finish (no way on, or a choice without a target on a
        node without edges).
    dead_ends : tuple of str
        Exits not marked ``end: true``: the program stops there, probably by mistake.
    traps : tuple of str
        Reachable nodes from which no exit can be reached: a player there never finishes.
    depth : dict
        Fewest nodes from the entry to each reachable node (the entry is 0).
    """

    program: str
    entry: str
    reachable: tuple[str, ...]
    unreachable: tuple[str, ...]
    exits: tuple[str, ...]
    dead_ends: tuple[str, ...]
    traps: tuple[str, ...]
    depth: Mapping[str, int]
    types: Mapping[str, str] = field(repr=False)

    @property
    def ok(self) -> bool:
        """No unreachable nodes, dead ends or traps."""
        return not (self.unreachable or self.dead_ends or self.traps)

    def frame(self) -> pd.DataFrame:
        """One row per node: ``node``, ``type``, ``reachable``, ``depth`` (−1 when
        unreachable), ``exit``, ``dead_end``, ``trap``."""
        exits, dead, traps = set(self.exits), set(self.dead_ends), set(self.traps)
        return pd.DataFrame(
            [
                (n, t, n in self.depth, self.depth.get(n, -1), n in exits, n in dead, n in traps)
                for n, t in self.types.items()
            ],
            columns=["node", "type", "reachable", "depth", "exit", "dead_end", "trap"],
        )

    def summary(self) -> str:
        """A few readable lines."""
        n = len(self.types)
        lines = [f"{self.program}: {len(self.reachable)}/{n} nodes reachable from {self.entry}"]
        for label, ids in (
            ("unreachable", self.unreachable),
            ("exits", self.exits),
            ("dead ends", self.dead_ends),
            ("traps (no way to an exit)", self.traps),
        ):
            lines.append(f"  {label}: {', '.join(ids) if ids else 'none'}")
        return "\n".join(lines)


def _exits(program: NarrativeProgram, nexts: Mapping[str, list[str]]) -> list[str]:
    has_edges = {e.from_ for e in program.edges}
    out = []
    for node in program.nodes:
        if node.id in has_edges:
            continue
        if node.type != "choice" or any(c.to is None for c in node.choices) or not nexts[node.id]:
            out.append(node.id)
    return out


def reachability(program: NarrativeProgram) -> ReachabilityReport:
    """Reachability, exits, dead ends and traps of ``program``'s graph.

    >>> from storylab.runtime import NarrativeProgram
    >>> p = NarrativeProgram.model_validate({"id": "p", "entry": "a", "nodes": [
    ...     {"id": "a", "type": "dialogue", "text": "Hi"},
    ...     {"id": "b", "type": "dialogue", "text": "Bye", "end": True},
    ...     {"id": "lost", "type": "comment"}], "edges": [{"from": "a", "to": "b"}]})
    >>> r = reachability(p)
    >>> r.unreachable, r.exits, r.dead_ends
    (('lost',), ('b', 'lost'), ('lost',))
    """
    nexts = successors(program)
    depth = {program.entry: 0}
    todo = deque([program.entry])
    while todo:
        node = todo.popleft()
        for nxt in nexts.get(node, ()):
            if nxt not in depth:
                depth[nxt] = depth[node] + 1
                todo.append(nxt)
    exits = _exits(program, nexts)
    back: dict[str, list[str]] = {n: [] for n in nexts}
    for src, targets in nexts.items():
        for dst in targets:
            back[dst].append(src)
    finishing = set(exits)
    todo = deque(exits)
    while todo:
        for prev in back[todo.popleft()]:
            if prev not in finishing:
                finishing.add(prev)
                todo.append(prev)
    ends = {n.id for n in program.nodes if n.end}
    return ReachabilityReport(
        program=program.id,
        entry=program.entry,
        reachable=tuple(depth),
        unreachable=tuple(n.id for n in program.nodes if n.id not in depth),
        exits=tuple(exits),
        dead_ends=tuple(n for n in exits if n not in ends),
        traps=tuple(n for n in depth if n not in finishing),
        depth=depth,
        types={n.id: n.type for n in program.nodes},
    )


def _start(
    program: NarrativeProgram,
    session: Session | None,
    overrides: Mapping[str, Any] | None,
    npc: str,
    weights: Mapping[str, float] | None,
    handlers: Mapping[str, Handler] | None,
) -> tuple[Tables, Session, dict[str, Any]]:
    compiled = compile_program(program)
    missing = sorted(compiled.handlers - set(handlers or {}))
    if missing:
        raise StepError(
            f"program {program.id!r} calls unregistered handler(s): {missing}",
            "unknown_handler",
            program=program.id,
            handlers=tuple(missing),
        )
    tables = Tables(compiled, weights, handlers)
    start = apply_overrides(session or Session(), npc, program, overrides)
    comp = start.components.get(npc)
    variables = {**program.variables, **(comp.variables.get(program.id, {}) if comp else {})}
    return tables, start, variables


def _copy_env(env: Env) -> Env:
    return Env(
        flags=dict(env.flags),
        relationships={k: dict(v) for k, v in env.relationships.items()},
        inventory=dict(env.inventory),
        arcs=dict(env.arcs),
        quests=dict(env.quests),
        player=env.player,
        variables=dict(env.variables),
        visits=dict(env.visits),
        npc=env.npc,
        world_time=env.world_time,
    )


@dataclass(frozen=True)
class PathReport:
    """Every playthrough up to ``max_choices`` choices (see :func:`enumerate_paths`).

    ``paths`` has one row per path: ``choices`` and ``nodes`` (tuples), ``length`` (choices
    made), ``outcome`` (``finished``, ``waiting``, ``max_steps`` when the bound cut it,
    ``error``), ``end_node``, ``error`` and the final values (``var.*``, ``rel.*``, ...).
    ``truncated`` says ``max_paths`` stopped the enumeration early.
    """

    program: str
    max_choices: int
    paths: pd.DataFrame
    truncated: bool


def enumerate_paths(
    program: NarrativeProgram,
    *,
    max_choices: int = 6,
    max_paths: int = 10_000,
    session: Session | None = None,
    overrides: Mapping[str, Any] | None = None,
    npc: str = "npc",
    handlers: Mapping[str, Handler] | None = None,
    max_nodes_per_step: int = 10_000,
) -> PathReport:
    """Play every sequence of choices on offer, up to ``max_choices`` of them.

    Conditions and effects apply as in play, so a path exists only if a player could take
    it from the starting state (``session`` with ``overrides``).
    """
    if max_choices < 0 or max_paths < 1:
        raise ValueError("max_choices must be >= 0 and max_paths >= 1")
    t, start, variables = _start(program, session, overrides, npc, None, handlers)
    sink = [0] * len(t.edges)
    rows: list[dict[str, Any]] = []

    def emit(
        env: Env, picks: list[str], trail: list[int], outcome: str, end: int, err: str
    ) -> None:
        rows.append(
            {
                "choices": tuple(picks),
                "nodes": tuple(t.ids[i] for i in trail),
                "length": len(picks),
                "outcome": outcome,
                "end_node": t.ids[end] if end >= 0 else None,
                "error": err,
                **flatten_env(env),
            }
        )

    def explore(env: Env, taken: dict, i: int, picks: list[str], trail: list[int]) -> None:
        if len(rows) >= max_paths:
            return
        try:
            status, at, offered = run_to_choice(t, env, taken, i, sink, max_nodes_per_step, trail)
        except (StepError, EvaluationError) as exc:
            emit(env, picks, trail, "error", trail[-1] if trail else -1, str(exc))
            return
        if status != "choice" or len(picks) >= max_choices:
            emit(env, picks, trail, status if status != "choice" else "max_steps", at, "")
            return
        for c in offered:
            if len(rows) >= max_paths:
                return
            env2, taken2, trail2 = _copy_env(env), dict(taken), list(trail)
            try:
                nxt = take(t, env2, taken2, at, c, sink)
            except (StepError, EvaluationError) as exc:
                emit(env2, [*picks, c[0]], trail2, "error", at, str(exc))
                continue
            if nxt < 0:
                emit(env2, [*picks, c[0]], trail2, "finished", at, "")
            else:
                explore(env2, taken2, nxt, [*picks, c[0]], trail2)

    explore(make_env(start, npc, variables), {}, t.entry, [], [])
    paths = fill_unset(pd.DataFrame(rows))
    return PathReport(program.id, max_choices, paths, len(rows) >= max_paths)


@dataclass(frozen=True)
class MonteCarloResult:
    """What :func:`monte_carlo` found.

    Attributes
    ----------
    playthroughs : DataFrame
        One row per playthrough: ``player``, ``seed``, ``outcome``, ``steps`` (choices
        made), ``nodes`` (node entries), ``end_node``, ``error``, ``choices`` (tuple of ids,
        enough to replay it) and every final value (``var.*``, ``rel.*``, ``flags.*``...).
    node_coverage : DataFrame
        One row per node: ``node``, ``type``, ``visits``, ``playthroughs`` (how many
        entered it), ``share`` (of playthroughs).
    edge_coverage : DataFrame
        One row per way between nodes: ``from``, ``to``, ``via``, ``traversals``,
        ``per_playthrough`` (mean traversals per playthrough).
    """

    program: NarrativeProgram = field(repr=False)
    seed: int | None
    playthroughs: pd.DataFrame = field(repr=False)
    node_coverage: pd.DataFrame = field(repr=False)
    edge_coverage: pd.DataFrame = field(repr=False)
    session: Session = field(repr=False)
    npc: str = "npc"
    handlers: Mapping[str, Handler] = field(default_factory=dict, repr=False)

    @property
    def node_share(self) -> float:
        """Fraction of nodes entered by at least one playthrough."""
        return float((self.node_coverage["playthroughs"] > 0).mean())

    @property
    def edge_share(self) -> float:
        """Fraction of edges taken by at least one playthrough."""
        if self.edge_coverage.empty:
            return 1.0
        return float((self.edge_coverage["traversals"] > 0).mean())

    def finals(self) -> pd.DataFrame:
        """The final-value columns of :attr:`playthroughs` (one row per playthrough)."""
        fixed = {"player", "seed", "outcome", "steps", "nodes", "end_node", "error", "choices"}
        return self.playthroughs[[c for c in self.playthroughs.columns if c not in fixed]]

    def distributions(self) -> pd.DataFrame:
        """Summary statistics of every numeric final value (``describe`` of :meth:`finals`)."""
        numeric = self.finals().select_dtypes(include="number")
        return numeric.describe().T

    def replay(self, player: int) -> PlaytestResult:
        """Replay playthrough ``player`` on the real engine (transcript, diff, frame)."""
        row = self.playthroughs.iloc[player]
        return playtest(
            self.program, row["choices"], session=self.session, npc=self.npc, handlers=self.handlers
        )

    def frame(self, player: int) -> pd.DataFrame:
        """Playthrough ``player``, one row per step with every value after it."""
        return self.replay(player).frame


def _normalise(seed: int | np.random.Generator | None) -> tuple[np.random.Generator, int | None]:
    if isinstance(seed, np.random.Generator):
        return seed, None
    if seed is None:
        entropy = np.random.SeedSequence().entropy
        seed = int(entropy) if isinstance(entropy, int) else None
    return np.random.default_rng(seed), seed


def monte_carlo(
    program: NarrativeProgram,
    n: int = 1000,
    *,
    seed: int | np.random.Generator | None = None,
    weights: Mapping[str, float] | None = None,
    max_steps: int = 200,
    session: Session | None = None,
    overrides: Mapping[str, Any] | None = None,
    npc: str = "npc",
    handlers: Mapping[str, Handler] | None = None,
    max_nodes_per_step: int = 10_000,
) -> MonteCarloResult:
    """Play ``program`` ``n`` times with simulated players.

    Each player picks among the choices on offer uniformly, or in proportion to
    ``weights`` (choice id or ``node/choice`` -> weight, default 1; when every offered
    weight is 0 the pick is uniform). A playthrough stops when the program finishes, waits
    on a condition, fails (``error``), or after ``max_steps`` choices. Player ``k`` draws
    its randoms from positions ``k * max_steps`` onward of the seeded stream, so the same
    seed gives the same playthroughs whatever ``n``. Every playthrough starts from
    ``session``'s facts (with ``overrides``) and the program's variables; visit counts and
    once-only choices start empty.

    >>> from storylab.runtime import NarrativeProgram
    >>> coin = NarrativeProgram.model_validate({"id": "coin", "entry": "toss", "nodes": [
    ...     {"id": "toss", "type": "choice", "choices": [
    ...         {"id": "heads", "text": "Heads", "to": "won"}, {"id": "tails", "text": "Tails"}]},
    ...     {"id": "won", "type": "dialogue", "text": "You win.", "end": True}]})
    >>> mc = monte_carlo(coin, 1000, seed=1, weights={"heads": 3})
    >>> round(float(mc.node_coverage.set_index("node").loc["won", "share"]), 1)
    0.8
    """
    if n < 1 or max_steps < 1:
        raise ValueError("n and max_steps must be at least 1")
    t, start, variables = _start(program, session, overrides, npc, weights, handlers)
    rng, seed_used = _normalise(seed)
    weighted = any(c[7] != 1.0 for rows in t.choices for c in rows)
    edge_counts = [0] * len(t.edges)
    visits, reached = dict.fromkeys(t.ids, 0), dict.fromkeys(t.ids, 0)
    base: list[tuple] = []
    finals: list[dict[str, Any]] = []
    for first in range(0, n, _BATCH):
        draws = rng.random((min(_BATCH, n - first), max_steps))
        for k, row in enumerate(draws):
            u = row.tolist()
            env = make_env(start, npc, variables)
            taken: dict[str, bool] = {}
            picks: list[str] = []
            i, err, outcome, end = t.entry, "", "max_steps", -1
            try:
                while True:
                    status, at, offered = run_to_choice(
                        t, env, taken, i, edge_counts, max_nodes_per_step
                    )
                    if status != "choice":
                        outcome, end = status, at
                        break
                    if len(picks) == max_steps:
                        end = at
                        break
                    x = u[len(picks)]
                    c = offered[int(x * len(offered))] if not weighted else _pick(offered, x)
                    picks.append(c[0])
                    i = take(t, env, taken, at, c, edge_counts)
                    if i < 0:
                        outcome, end = "finished", -1 - i
                        break
            except (StepError, EvaluationError) as exc:
                outcome, err = "error", str(exc)
            for nid, count in env.visits.items():
                visits[nid] += count
                reached[nid] += 1
            base.append(
                (
                    first + k,
                    seed_used,
                    outcome,
                    len(picks),
                    sum(env.visits.values()),
                    t.ids[end] if end >= 0 else None,
                    err,
                    tuple(picks),
                )
            )
            finals.append(flatten_env(env))
    frame = pd.DataFrame(
        base,
        columns=["player", "seed", "outcome", "steps", "nodes", "end_node", "error", "choices"],
    )
    frame = pd.concat([frame, fill_unset(pd.DataFrame.from_records(finals))], axis=1)
    nodes = pd.DataFrame(
        {
            "node": t.ids,
            "type": [n.type for n in program.nodes],
            "visits": [visits[i] for i in t.ids],
            "playthroughs": [reached[i] for i in t.ids],
        }
    )
    nodes["share"] = nodes["playthroughs"] / n
    edges = pd.DataFrame(t.edges, columns=["from", "to", "via"])
    edges["traversals"] = edge_counts
    edges["per_playthrough"] = edges["traversals"] / n
    return MonteCarloResult(
        program, seed_used, frame, nodes, edges, start, npc, dict(handlers or {})
    )


def _pick(offered: list, x: float) -> Any:
    total = sum(c[7] for c in offered)
    if total <= 0:
        return offered[int(x * len(offered))]
    target, acc = x * total, 0.0
    for c in offered:
        acc += c[7]
        if target < acc:
            return c
    return offered[-1]
