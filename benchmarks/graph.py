"""The character identity graph, storylab's SQLite graph beside a networkx graph.

A seeded generator writes a large identity graph source by source (about 1.1 million
nodes at ``--scale 1``: 5,500 worlds of 40 NPCs, 10 programs of 3 scenes each, 40
generations with their assets; 50,000 character templates from archives; 200 action
blocks), with a few problems of every kind planted: NPCs playing no character, roles a
scene needs that the world leaves unbound, generations for a character-specific scene
with no character tag, dangling block references, two instances of one template in a
world, hard-coded NPCs (found while reading), templates defined twice.

Each engine runs in its own process (so each peak RSS is its own) and does the same:

* **storylab**: ``CharacterGraph.ingest`` into a SQLite file, ``usage(character)`` and
  ``check()``;
* **networkx**: the same fragments into a ``networkx.MultiDiGraph`` (nodes and edges with
  the same attributes), the same usage walk in Python, and the same checks as Python
  loops over the graph.

Measured: ingest time, the median latency of "where is this character used"
(``usage``, the same DataFrame on both sides) over sampled characters, the whole
consistency check, and the process's peak RSS. The answers (every sampled usage frame,
every problem's check, source, location and subject) must be equal.

Usage::

    python benchmarks/graph.py                  # scale 1: about 1.1 million nodes
    python benchmarks/graph.py --scale 0.05     # quick
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from storylab.graph import Finding, Fragment, GraphEdge, GraphNode

__all__ = ["generate", "main"]

clock = time.perf_counter
RATINGS = ("general", "teen", "mature", "adult")
ROLES = [f"r{i}" for i in range(30)]


# the generator -------------------------------------------------------------------------------
def generate(scale: float, seed: int = 0) -> Iterator[Fragment]:
    """The fragments of a seeded identity graph of about ``scale`` × 1.1 million nodes."""
    rng = np.random.default_rng(seed)
    worlds = max(2, int(5500 * scale))
    templates = 9 * worlds
    for start in range(0, templates, 1000):
        nodes = [
            GraphNode(f"template:t{k}", f"Character {k}", at=f"character[{k}]")
            for k in range(start, min(templates, start + 1000))
        ]
        yield Fragment(f"archives/{start}.yaml", "archive", f"a{start}", nodes)
    blocks = [GraphNode(f"block:b{i}", f"b{i}", at=f"blocks[{i}]") for i in range(200)]
    yield Fragment("blocks.yaml", "action-blocks", "b", blocks)
    # a template a world's cast defines again
    again = [GraphNode(f"template:t{k}", "again", at="cast[0]") for k in range(0, templates, 997)]
    yield Fragment("casts.yaml", "world", "c", again)
    for w in range(worlds):
        yield from _world(rng, w, templates)


def _world(rng: np.random.Generator, w: int, templates: int) -> Iterator[Fragment]:
    wid, wk = f"w{w}", f"world:w{w}"
    nodes = [GraphNode(wk, f"World {w}", wid, RATINGS[w % 4])]
    edges: list[GraphEdge] = []
    findings: list[Finding] = []
    picks = rng.choice(templates, 40, replace=False)
    if rng.random() < 0.05:
        picks[1] = picks[0]  # two instances of one template
    holders = []
    for j in range(40):
        npc = f"npc:{wid}/n{j}"
        nodes.append(GraphNode(npc, f"NPC {j}", wid, at=f"npcs.n{j}"))
        if rng.random() < 0.98 or j < 2:
            inst = f"instance:{wid}/n{j}"
            nodes.append(GraphNode(inst, f"NPC {j}", wid, at=f"npcs.n{j}"))
            edges.append(
                GraphEdge(f"template:t{picks[j]}", inst, "instantiates", wid, f"npcs.n{j}")
            )
            edges.append(GraphEdge(inst, npc, "plays", wid, f"npcs.n{j}"))
            holders.append(inst)
        else:
            holders.append(npc)
    for j in range(40):
        other = holders[int(rng.integers(40))]
        if other != holders[j]:
            axes = {"affinity": int(rng.integers(-50, 50))}
            edges.append(GraphEdge(holders[j], other, "related_to", wid, f"npcs.n{j}.rel", axes))
    bound = rng.choice(len(ROLES), 20, replace=False)
    for r, j in zip(bound, rng.choice(40, 20, replace=False), strict=True):
        edges.append(GraphEdge(holders[j], f"role:{ROLES[r]}", "fills_role", wid, f"roles.{r}"))
    scenes = []
    for p in range(10):
        pid = f"{wid}p{p}"
        pk = f"program:{pid}"
        edges.append(GraphEdge(wk, pk, "runs", wid, "programs"))
        yield _program(rng, pid, bound, scenes)
        for j in rng.choice(40, 2, replace=False):
            edges.append(GraphEdge(holders[j], pk, "appears_in", wid, f"programs[{pid}].cast"))
        if rng.random() < 0.02:
            scene = scenes[-1]
            j = int(rng.integers(40))
            at = f"programs[{pid}].nodes[0].roles.boss"
            edges.append(GraphEdge(scene, f"npc:{wid}/n{j}", "names", wid, at, {"role": "boss"}))
            findings.append(Finding("hardcoded_npc", at, f"hard-codes 'n{j}' for role 'boss'"))
    yield Fragment(f"worlds/{wid}.yaml", "world", f"w{w}", nodes, edges, findings)
    yield _generations(rng, wid, holders, picks, scenes)


def _program(rng: np.random.Generator, pid: str, bound: np.ndarray, scenes: list[str]) -> Fragment:
    pk = f"program:{pid}"
    nodes = [GraphNode(pk, pid, rating=RATINGS[int(rng.integers(4))], tags=("generated",))]
    edges = []
    for s in range(3):
        sk = f"scene:{pid}s{s}"
        scenes.append(sk)
        nodes.append(GraphNode(sk, sk, at=f"nodes[{s}]"))
        edges.append(GraphEdge(pk, sk, "contains", at=f"nodes[{s}]"))
        for r in rng.choice(bound, 2, replace=False):
            role = ROLES[r] if rng.random() > 0.01 else "r_unbound"
            edges.append(GraphEdge(sk, f"role:{role}", "has_role", at=f"nodes[{s}].roles.{role}"))
    for i, b in enumerate(rng.choice(200, 2, replace=False)):
        block = f"block:b{b}" if rng.random() > 0.01 else "block:missing"
        edges.append(GraphEdge(pk, block, "uses_block", at=f"nodes[{3 + i}]"))
    return Fragment(f"programs/{pid}.yaml", "program", pid, nodes, edges)


def _generations(
    rng: np.random.Generator, wid: str, holders: list[str], picks: np.ndarray, scenes: list[str]
) -> Fragment:
    nodes, edges = [], []
    for g in range(40):
        gk, ak = f"generation:{wid}g{g}", f"asset:{wid}g{g}"
        at = f"intents.{wid}g{g}"
        rating = RATINGS[int(rng.integers(4))]
        nodes.append(GraphNode(gk, "story_constraint", rating=rating, at=at))
        nodes.append(GraphNode(ak, f"turn {g}", rating=rating, at=at))
        edges.append(GraphEdge(gk, ak, "produced", at=at))
        if rng.random() < 0.99:
            j = int(rng.integers(40))
            target = holders[j] if rng.random() < 0.5 else f"template:t{picks[j]}"
            edges.append(GraphEdge(gk, target, "for", at=f"{at}.inputs.character"))
        if rng.random() < 0.7:
            edges.append(GraphEdge(gk, scenes[int(rng.integers(len(scenes)))], "for", at=at))
        if rng.random() < 0.3:
            edges.append(GraphEdge(gk, f"arc:a{int(rng.integers(50))}", "for", at=at))
    return Fragment(f"play.db#{wid}", "intents", f"g{wid}", nodes, edges)


# the networkx reference ----------------------------------------------------------------------
class NxGraph:
    """The same graph and the same answers, on a ``networkx.MultiDiGraph``."""

    def __init__(self) -> None:
        import networkx as nx

        self.g = nx.MultiDiGraph()
        self.findings: list[tuple[str, str, str, str]] = []
        self.duplicates: list[tuple[str, str, str]] = []

    def ingest(self, fragments: Iterator[Fragment]) -> None:
        g = self.g
        for f in fragments:
            for n in f.nodes:
                kind = n.key.partition(":")[0]
                attrs = g.nodes.get(n.key)
                if attrs is not None and attrs.get("source") is not None:
                    if kind != "scene":  # a scene is defined by every program launching it
                        self.duplicates.append((f.name, n.at, n.key))
                    continue
                g.add_node(
                    n.key, kind=kind, source=f.name, world=n.world, label=n.label,
                    rating=n.rating, tags=n.tags, at=n.at,
                )  # fmt: skip
            for e in f.edges:
                for k in (e.src, e.dst):
                    if k not in g:
                        g.add_node(k, kind=k.partition(":")[0], source=None, world=None)
                g.add_edge(e.src, e.dst, key=(e.kind, e.at), world=e.world, source=f.name, at=e.at)
            self.findings += [(x.check, f.name, x.at, "") for x in f.findings]

    # where is this character used
    def _out(self, node: str, kind: str) -> list[tuple[str, dict]]:
        return [
            (v, a) for v, ks in self.g.succ[node].items() for k, a in ks.items() if k[0] == kind
        ]

    def _in(self, node: str, kind: str) -> list[tuple[str, dict]]:
        return [
            (u, a) for u, ks in self.g.pred[node].items() for k, a in ks.items() if k[0] == kind
        ]

    def uses(self, key: str) -> list[tuple[str, str, Any, str]]:
        g, kind = self.g, self.g.nodes[key]["kind"]
        inst = [(v, d["world"]) for v, d in self._out(key, "instantiates")]
        if kind == "instance":
            inst.append((key, g.nodes[key]["world"]))
        npcs = [(v, w) for i, w in inst for v, _ in self._out(i, "plays")]
        holders = inst + npcs + ([(key, None)] if kind == "template" else [])
        bound = {(v, d["world"]) for h, _ in holders for v, d in self._out(h, "fills_role")}
        rows: list[tuple[str, str, Any, str]] = []
        rows += [(i, "instance", w, "instantiates") for i, w in inst if i != key]
        rows += [(n, "npc", w, "plays") for n, w in npcs]
        for world in sorted({w for _, w in bound if f"world:{w}" in g}):
            for p, _ in self._out(f"world:{world}", "runs"):
                for r, _ in self._out(p, "has_role"):
                    if (r, world) in bound:
                        rows.append((p, "program", world, "role"))
                for s, _ in self._out(p, "contains"):
                    for r, d in self._out(s, "has_role"):
                        if (r, world) in bound and d["world"] in (None, world):
                            rows += [(s, "scene", world, "role"), (p, "program", world, "scene")]
        for h, _ in holders:
            rows += [(s, "scene", d["world"], "names") for s, d in self._in(h, "names")]
            rows += [(p, "program", d["world"], "cast") for p, d in self._out(h, "appears_in")]
            for other, d in self._out(h, "related_to") + self._in(h, "related_to"):
                rows.append((other, g.nodes[other]["kind"], d["world"], "related_to"))
        made = inst + ([(key, None)] if kind == "template" else [])
        for target, world in made:
            for c, _ in self._in(target, "for"):
                attrs = g.nodes[c]
                rows.append((c, attrs["kind"], attrs["world"] or world, "for"))
                if attrs["kind"] == "generation":
                    for a, _ in self._out(c, "produced"):
                        rows.append((a, "asset", attrs["world"] or world, "produced"))
        best: dict[tuple[str, str, Any], str] = {}
        for node, k, world, via in rows:
            if (node, k, world) not in best or via < best[(node, k, world)]:
                best[(node, k, world)] = via
        return [(n, k, w, via) for (n, k, w), via in best.items()]

    def usage(self, key: str):
        counts = Counter(
            ("related" if via == "related_to" else k, w) for _, k, w, via in self.uses(key)
        )
        rows = sorted(((k, w, n) for (k, w), n in counts.items()), key=lambda r: (r[0], r[1] or ""))
        return _frame(rows)

    # the checks
    def check(self) -> list[tuple[str, str, str, str]]:
        g, out = self.g, list(self.findings)
        out += [("defined_twice", *d) for d in self.duplicates]
        nodes = g.nodes
        bound = set()
        instances: dict[tuple[str, Any], list[tuple[str, str, str]]] = defaultdict(list)
        for u, v, (k, _), d in g.edges(keys=True, data=True):
            if k == "fills_role":
                bound.add((v, d["world"]))
            elif k == "instantiates":
                instances[(u, d["world"])].append((d["source"], d["at"], v))
        for u, v, (k, _), d in g.edges(keys=True, data=True):
            if k in ("names", "fills_role", "appears_in"):
                npc = v if k == "names" else u
                n = nodes[npc]
                if n["kind"] == "npc" and n["source"] is not None and not self._in(npc, "plays"):
                    out.append(("npc_without_character", d["source"], d["at"], npc))
            elif k == "runs":
                world = d["world"]
                for r, e in self._out(v, "has_role"):
                    if (r, world) not in bound:
                        out.append(("role_unbound", e["source"], e["at"], r))
                for s, _ in self._out(v, "contains"):
                    for r, e in self._out(s, "has_role"):
                        if e["world"] in (None, world) and (r, world) not in bound:
                            out.append(("role_unbound", e["source"], e["at"], r))
        for (_, _), found in instances.items():
            if len(found) > 1:
                out += [("duplicate_instance", *x) for x in found]
        for key, n in nodes.items():
            kind = n["kind"]
            if kind == "scene" and (self._out(key, "has_role") or self._out(key, "names")):
                for c, d in self._in(key, "for"):
                    tagged = any(
                        nodes[t]["kind"] in ("template", "instance") for t, _ in self._out(c, "for")
                    )
                    if not tagged:
                        out.append(("untagged_content", d["source"], d["at"], c))
            if n["source"] is None and kind not in ("role", "arc"):
                for _, d in self._all(key):
                    out.append(("dangling", d["source"], d["at"], key))
        return sorted(set(out))

    def _all(self, key: str) -> list[tuple[str, dict]]:
        g = self.g
        found = [(v, d) for v, ds in g.succ[key].items() for d in ds.values()]
        return found + [(u, d) for u, ds in g.pred[key].items() for d in ds.values()]


def _frame(rows):
    import pandas as pd

    return pd.DataFrame(rows, columns=["kind", "world", "count"])


# one engine in one process -------------------------------------------------------------------
def _run_engine(engine: str, scale: float, seed: int, samples: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed + 1)
    worlds = max(2, int(5500 * scale))
    keys = [f"template:t{k}" for k in rng.choice(9 * worlds, samples, replace=False)]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = clock()
        if engine == "storylab":
            from storylab.graph import CharacterGraph

            graph: Any = CharacterGraph(Path(tmp) / "graph.db")
            graph.ingest(generate(scale, seed))
        else:
            graph = NxGraph()
            graph.ingest(generate(scale, seed))
        ingest_s = clock() - t0
        frames = [graph.usage(k) for k in keys]  # warm, and the answers
        times = []
        for k in keys:
            t = clock()
            graph.usage(k)
            times.append(clock() - t)
        t = clock()
        problems = graph.check()
        check_s = clock() - t
        if engine == "storylab":
            cols = ["check", "source", "location", "subject"]
            problems = sorted(set(map(tuple, problems[cols].values.tolist())))
            graph.close()
    return {
        "engine": engine,
        "ingest_s": ingest_s,
        "usage_ms": 1000 * statistics.median(times),
        "check_s": check_s,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "usage": [f.astype(object).where(f.notna(), None).values.tolist() for f in frames],
        "problems": [list(p) for p in problems],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: about 1.1M nodes")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generator")
    parser.add_argument("--samples", type=int, default=200, help="characters to query")
    parser.add_argument("--engine", choices=["storylab", "networkx"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine:
        print(json.dumps(_run_engine(args.engine, args.scale, args.seed, args.samples)))
        return 0
    results = {}
    for engine in ("networkx", "storylab"):
        cmd = [sys.executable, __file__, "--engine", engine, "--scale", str(args.scale)]
        cmd += ["--seed", str(args.seed), "--samples", str(args.samples)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        results[engine] = json.loads(out)
    nx_, sl = results["networkx"], results["storylab"]
    assert sl["usage"] == nx_["usage"], "the usage answers differ"
    only = {
        side: sorted(set(map(tuple, a["problems"])) - set(map(tuple, b["problems"])))[:10]
        for side, a, b in (("storylab", sl, nx_), ("networkx", nx_, sl))
    }
    assert sl["problems"] == nx_["problems"], f"the consistency problems differ: {only}"
    counts = Counter(p[0] for p in sl["problems"])
    print(f"scale {args.scale}, seed {args.seed}: problems {dict(sorted(counts.items()))}")
    print("| measure | networkx | storylab | storylab/networkx |")
    print("|---|---:|---:|---:|")
    for name, key, unit in (
        ("ingest", "ingest_s", "s"),
        ("usage query, median", "usage_ms", "ms"),
        ("whole consistency check", "check_s", "s"),
        ("peak memory", "peak_mb", "MB"),
    ):
        a, b = nx_[key], sl[key]
        print(f"| {name} | {a:,.3g} {unit} | {b:,.3g} {unit} | {b / a:.2f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
