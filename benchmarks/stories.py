"""Seeded generator of equivalent branching stories for the runtime benchmark and tests.

One abstract story graph (``GenStory``) is emitted twice: as ink source for the ink
runtime ``bink`` (``to_ink``) and as a storylab program (``to_program_data``, a dict for
``storylab.runtime.parse_program``).
Both play the same graph node for node, so the same choice sequence visits the same
nodes on both sides; the benchmark checks that before it reports any number.

Graph shape: ``n`` nodes, each a *dialogue* line, an *action* (variable effects), a
*branch* (conditional routing with an else) or a *choice* (two to four options, the
first unconditional, later ones guarded by conditions and carrying effects). Dialogue,
action and branch nodes only lead to later nodes, so every auto-advancing chain ends at
a choice node; choice options lead anywhere, so the story loops and can be played for
as long as wanted. Some choice nodes carry a ``Farewell.`` option that ends the story.

The ink compiler comes from the npm package ``inkjs``; ``ensure_inkjs`` installs it into
``benchmarks/.ink`` (gitignored) on first use, and ``compile_ink`` caches compiled JSON
there by content hash.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "END_TEXT",
    "INKJS_VERSION",
    "Cond",
    "Effect",
    "GenNode",
    "GenStory",
    "Option",
    "ReferencePlayer",
    "compile_ink",
    "ensure_inkjs",
    "generate_story",
    "to_ink",
    "to_program_data",
]

END_TEXT = "Farewell."
INKJS_VERSION = "2.4.0"
CACHE = Path(__file__).resolve().parent / ".ink"

INT_VARS = ("affinity", "trust", "gold", "courage")
BOOL_VARS = ("met_smith", "has_key", "oath_sworn")
SPEAKERS = ("Mara", "Tomas", "Ysolde", "Narrator")
WORDS = (
    "the road bends toward the river and the lanterns are lit",
    "a bell rings twice somewhere beyond the market",
    "rain taps on the shutters while the fire settles",
    "the smith hammers a blade that is not meant for sale",
    "travellers argue about the toll at the old bridge",
    "a letter lies unopened on the table by the door",
)


@dataclass(frozen=True)
class Cond:
    """``var op value`` on an integer variable, a boolean flag, or a visited node."""

    kind: str  # "int" | "flag" | "visited"
    name: str
    op: str = ">="
    value: int = 0


@dataclass(frozen=True)
class Effect:
    """Add ``delta`` to an integer variable, or set a flag to true."""

    name: str
    delta: int = 0
    flag: bool = False


@dataclass(frozen=True)
class Option:
    """One choice: its text, an optional condition, effects and a target (None ends)."""

    text: str
    cond: Cond | None
    effects: tuple[Effect, ...]
    target: int | None


@dataclass(frozen=True)
class GenNode:
    """One node of the abstract graph."""

    index: int
    kind: str  # "dialogue" | "action" | "branch" | "choice"
    speaker: str = ""
    text: str = ""
    uses: str = ""  # an integer variable interpolated into the text, or ""
    effects: tuple[Effect, ...] = ()
    target: int | None = None
    cond: Cond | None = None
    else_target: int | None = None
    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class GenStory:
    """A generated story: its nodes and initial variable values."""

    seed: int
    nodes: tuple[GenNode, ...]
    ints: tuple[str, ...] = INT_VARS
    flags: tuple[str, ...] = BOOL_VARS

    def name(self, index: int) -> str:
        """The node's name on both sides (``n<index>``)."""
        return f"n{index}"


def _cond(rng: np.random.Generator, n: int) -> Cond:
    roll = rng.random()
    if roll < 0.6:
        op = ">=" if rng.random() < 0.7 else "<"
        return Cond("int", INT_VARS[rng.integers(len(INT_VARS))], op, int(rng.integers(1, 6)))
    if roll < 0.85:
        return Cond("flag", BOOL_VARS[rng.integers(len(BOOL_VARS))])
    return Cond("visited", f"n{rng.integers(n)}")


def _effects(rng: np.random.Generator, most: int) -> tuple[Effect, ...]:
    out = []
    for _ in range(int(rng.integers(1, most + 1))):
        if rng.random() < 0.75:
            name = INT_VARS[rng.integers(len(INT_VARS))]
            out.append(Effect(name, delta=int(rng.choice([-2, -1, 1, 1, 2]))))
        else:
            out.append(Effect(BOOL_VARS[rng.integers(len(BOOL_VARS))], flag=True))
    return tuple(out)


def _forward(rng: np.random.Generator, i: int, n: int) -> int:
    return int(min(n - 1, i + rng.integers(1, 16)))


def generate_story(n: int, seed: int = 0) -> GenStory:
    """Generate an ``n``-node story graph, the same for the same ``(n, seed)``."""
    if n < 2:
        raise ValueError(f"a story needs at least 2 nodes, got {n}")
    rng = np.random.default_rng(seed)
    nodes = []
    for i in range(n):
        roll = rng.random()
        kind = "choice" if i == n - 1 or roll < 0.4 else "dialogue"
        if kind != "choice":
            kind = "dialogue" if roll < 0.7 else ("action" if roll < 0.85 else "branch")
        speaker = SPEAKERS[rng.integers(len(SPEAKERS))]
        text = WORDS[rng.integers(len(WORDS))]
        uses = INT_VARS[rng.integers(len(INT_VARS))] if rng.random() < 0.3 else ""
        if kind == "dialogue":
            node = GenNode(i, kind, speaker, text, uses, target=_forward(rng, i, n))
        elif kind == "action":
            node = GenNode(i, kind, effects=_effects(rng, 2), target=_forward(rng, i, n))
        elif kind == "branch":
            node = GenNode(
                i,
                kind,
                cond=_cond(rng, n),
                target=_forward(rng, i, n),
                else_target=_forward(rng, i, n),
            )
        else:
            options = []
            for k in range(int(rng.integers(2, 5))):
                guarded = k > 0 and rng.random() < 0.6
                options.append(
                    Option(
                        text=f"Option {k + 1}: {WORDS[rng.integers(len(WORDS))][:24]}",
                        cond=_cond(rng, n) if guarded else None,
                        effects=_effects(rng, 2) if rng.random() < 0.5 else (),
                        target=int(rng.integers(n)),
                    )
                )
            if rng.random() < 0.1:
                options.append(Option(END_TEXT, None, (), None))
            node = GenNode(i, kind, speaker, text, uses, options=tuple(options))
        nodes.append(node)
    return GenStory(seed=seed, nodes=tuple(nodes))


def _ink_cond(c: Cond) -> str:
    if c.kind == "int":
        return f"{c.name} {c.op} {c.value}"
    return c.name if c.kind == "flag" else f"{c.name} > 0"


def _ink_effects(effects: tuple[Effect, ...], indent: str) -> list[str]:
    lines = []
    for e in effects:
        if e.flag:
            lines.append(f"{indent}~ {e.name} = true")
        else:
            lines.append(f"{indent}~ {e.name} = {e.name} + {e.delta}".replace("+ -", "- "))
    return lines


def _ink_line(node: GenNode) -> str:
    tail = f" ({{{node.uses}}})" if node.uses else ""
    return f"{node.speaker}: {node.text}{tail}."


def _divert(target: int | None) -> str:
    return "-> END" if target is None else f"-> n{target}"


def to_ink(story: GenStory) -> str:
    """The story as ink source (one knot per node, entry ``n0``)."""
    lines = [f"VAR {v} = 0" for v in story.ints] + [f"VAR {f} = false" for f in story.flags]
    lines.append("-> n0")
    for node in story.nodes:
        lines.append(f"=== n{node.index} ===")
        if node.kind == "dialogue":
            lines += [_ink_line(node), _divert(node.target)]
        elif node.kind == "action":
            lines += [*_ink_effects(node.effects, ""), _divert(node.target)]
        elif node.kind == "branch":
            assert node.cond is not None
            lines += [
                f"{{ {_ink_cond(node.cond)}:",
                f"    {_divert(node.target)}",
                "- else:",
                f"    {_divert(node.else_target)}",
                "}",
            ]
        else:
            lines.append(_ink_line(node))
            for opt in node.options:
                guard = f"{{{_ink_cond(opt.cond)}}} " if opt.cond else ""
                lines.append(f"+ {guard}[{opt.text}]")
                lines += _ink_effects(opt.effects, "    ")
                lines.append(f"    {_divert(opt.target)}")
    return "\n".join(lines) + "\n"


def _sl_cond(c: Cond) -> str:
    if c.kind == "int":
        return f"var.{c.name} {c.op} {c.value}"
    return f"flags.{c.name}" if c.kind == "flag" else f'visited("{c.name}")'


def _sl_effects(effects: tuple[Effect, ...]) -> dict[str, Any] | None:
    deltas: dict[str, int] = {}
    flags: dict[str, bool] = {}
    for e in effects:
        if e.flag:
            flags[e.name] = True
        else:
            deltas[e.name] = deltas.get(e.name, 0) + e.delta
    out: dict[str, Any] = {}
    if deltas:
        out["variables"] = {
            k: f"var.{k} {'-' if d < 0 else '+'} {abs(d)}" for k, d in deltas.items()
        }
    if flags:
        out["flags"] = flags
    return out or None


def _sl_line(node: GenNode) -> dict[str, Any]:
    tail = f" ({{var.{node.uses}}})" if node.uses else ""
    return {"type": "dialogue", "speaker": node.speaker, "text": f"{node.text}{tail}."}


def to_program_data(story: GenStory, program_id: str = "generated") -> dict[str, Any]:
    """The story as storylab program data: node ``n<i>`` per abstract node (a choice node
    becomes its line ``n<i>`` followed by the choice ``n<i>.choice``)."""
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for node in story.nodes:
        name = f"n{node.index}"
        if node.kind == "dialogue":
            nodes.append({"id": name, **_sl_line(node)})
            edges.append({"from": name, "to": f"n{node.target}"})
        elif node.kind == "action":
            nodes.append({"id": name, "type": "action", "effects": _sl_effects(node.effects)})
            edges.append({"from": name, "to": f"n{node.target}"})
        elif node.kind == "branch":
            assert node.cond is not None
            nodes.append({"id": name, "type": "branch"})
            edges.append(
                {"from": name, "to": f"n{node.target}", "conditions": [_sl_cond(node.cond)]}
            )
            edges.append({"from": name, "to": f"n{node.else_target}"})
        else:
            nodes.append({"id": name, **_sl_line(node)})
            edges.append({"from": name, "to": f"{name}.choice"})
            choices = []
            for k, opt in enumerate(node.options):
                choice: dict[str, Any] = {"id": f"c{k}", "text": opt.text}
                if opt.cond is not None:
                    choice["conditions"] = [_sl_cond(opt.cond)]
                effects = _sl_effects(opt.effects)
                if effects is not None:
                    choice["effects"] = effects
                if opt.target is not None:
                    choice["to"] = f"n{opt.target}"
                choices.append(choice)
            end = any(o.target is None for o in node.options)
            nodes.append({"id": f"{name}.choice", "type": "choice", "choices": choices, "end": end})
    return {
        "id": program_id,
        "entry": "n0",
        "variables": dict.fromkeys(story.ints, 0),
        "nodes": nodes,
        "edges": edges,
    }


def ensure_inkjs(cache: Path = CACHE) -> Path:
    """Path to the ``inkjs-compiler`` script, installing ``inkjs`` with npm if missing."""
    script = cache / "node_modules" / "inkjs" / "bin" / "inkjs-compiler.js"
    if script.exists():
        return script
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to install the ink compiler (npm package inkjs)")
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--prefix", str(cache), "--no-save", f"inkjs@{INKJS_VERSION}"],
        check=True,
        capture_output=True,
    )
    return script


def compile_ink(source: str, cache: Path = CACHE) -> str:
    """Compile ink source to runtime JSON with inkjs, caching the result by content hash."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    out = cache / "stories" / f"{digest}.json"
    if not out.exists():
        script = ensure_inkjs(cache)
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is needed to run the ink compiler")
        out.parent.mkdir(parents=True, exist_ok=True)
        src = out.with_suffix(".ink")
        src.write_text(source)
        done = subprocess.run(
            [node, str(script), "-o", str(out), str(src)], capture_output=True, text=True
        )
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"inkjs failed on {src}:\n{done.stdout}{done.stderr}")
    return out.read_text(encoding="utf-8-sig")


class ReferencePlayer:
    """A plain interpreter of a ``GenStory`` with ink's semantics, used to check both
    runtimes play the same story and to count node executions.

    ``offered`` holds the options on offer (``None`` once the story ended), ``text`` the
    lines emitted since the last choice and ``executed`` the nodes run so far.
    """

    def __init__(self, story: GenStory) -> None:
        self.story = story
        self.ints = dict.fromkeys(story.ints, 0)
        self.flags = dict.fromkeys(story.flags, False)
        self.visited: set[str] = set()
        self.executed = 0
        self.offered: list[Option] | None = None
        self.text: list[str] = []
        self._enter(0)

    def _holds(self, c: Cond) -> bool:
        if c.kind == "flag":
            return self.flags[c.name]
        if c.kind == "visited":
            return c.name in self.visited
        value = self.ints[c.name]
        return value >= c.value if c.op == ">=" else value < c.value

    def _apply(self, effects: tuple[Effect, ...]) -> None:
        for e in effects:
            if e.flag:
                self.flags[e.name] = True
            else:
                self.ints[e.name] += e.delta

    def _line(self, node: GenNode) -> str:
        tail = f" ({self.ints[node.uses]})" if node.uses else ""
        return f"{node.speaker}: {node.text}{tail}."

    def _enter(self, index: int | None) -> None:
        self.text = []
        while index is not None:
            node = self.story.nodes[index]
            self.visited.add(f"n{index}")
            self.executed += 1
            if node.kind == "dialogue":
                self.text.append(self._line(node))
                index = node.target
            elif node.kind == "action":
                self._apply(node.effects)
                index = node.target
            elif node.kind == "branch":
                assert node.cond is not None
                index = node.target if self._holds(node.cond) else node.else_target
            else:
                self.text.append(self._line(node))
                self.offered = [o for o in node.options if o.cond is None or self._holds(o.cond)]
                return
        self.offered = None

    def choose(self, k: int) -> None:
        """Take the ``k``-th option on offer and play to the next choice."""
        assert self.offered is not None
        option = self.offered[k]
        self._apply(option.effects)
        self._enter(option.target)
