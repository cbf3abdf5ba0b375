"""A composed :class:`~storylab.storyteller.StorylinePlan` as a playable narrative program.

:func:`to_program` lays the plan out for the runtime:

- ``begin`` (branch): a session that has not begun the storyline goes through ``setup``
  (an action node writing the plan's starting world), one that has goes straight on; so
  the program of a re-planned rest of the story continues a session where it stands.
- per phase a scene node ``phase<n>``, then per planned action one dialogue node per intent
  (its generation request carries the intent: program ``intent.<type>``, the prompt names
  the role, the character and what happens) and an action node (label: the action id)
  applying the action: the primary and secondary spectrums as runtime arc values (arcs add
  the planned change), the facts as flags (set to their planned values), the position ticks
  on the arc ``storyline_ticks`` and a flag ``storyline_core_<id>`` for a core event;
- between phases a choice ``phase<n>.end``: ``continue`` as planned, or ``deviate.<id>``,
  an action of the library applicable in the planned state there that moves the primary
  spectrum against the next phase's planned direction; a deviation stops at
  ``phase<n>.resume`` (one choice, ``go_on``), where a host may re-plan;
- ``ending`` (an intended end). The quest ``storyline_completed`` holds the last phase done.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from storylab.runtime import NarrativeProgram, parse_program
from storylab.storyteller import (
    ActionLibrary,
    PlanningConfig,
    StoryAction,
    StoryIntentType,
    StorylinePlan,
    action_library,
    apply_action,
    apply_chain,
    planning_config,
)
from storylab.theory import ActantRole, FactValue, WorldState

__all__ = [
    "BEGUN_FLAG",
    "COMPLETED_QUEST",
    "TICKS_ARC",
    "core_flag",
    "deviations",
    "fact_flag",
    "intent_line",
    "phase_of_node",
    "program_yaml",
    "resume_node",
    "to_program",
]

#: The flag that says a session has begun the storyline (its world was set up).
BEGUN_FLAG = "storyline_begun"
#: The arc that counts the position ticks played.
TICKS_ARC = "storyline_ticks"
#: The quest stage holding the number of the last phase played to its end.
COMPLETED_QUEST = "storyline_completed"

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PHASE = re.compile(r"^phase([0-9]+)$")
_ROUND = 10


def fact_flag(key: str) -> str:
    """The runtime flag holding world fact ``key`` (each ``.`` becomes ``__``).

    >>> fact_flag("antagonist.known")
    'antagonist__known'
    """
    name = key.replace(".", "__")
    if "__" in key or not _NAME.match(name):
        raise ValueError(
            f"fact {key!r}: a key of letters, digits, '_' and single dots, to be a runtime flag"
        )
    return name


def core_flag(action_id: str) -> str:
    """The flag a core event sets when it plays."""
    return f"storyline_core_{action_id}"


def phase_of_node(node_id: str) -> int | None:
    """The phase number of a phase's scene node id (``phase3`` -> 3), else ``None``."""
    match = _PHASE.match(node_id)
    return int(match.group(1)) if match else None


def resume_node(phase: int) -> str:
    """The id of the node where a deviation after ``phase`` stops."""
    return f"phase{phase}.resume"


def _flag_value(key: str, value: FactValue) -> bool | int | float | str:
    if isinstance(value, frozenset):
        raise ValueError(f"fact {key!r} holds a set, which a runtime flag cannot hold")
    return value


def _changed(before: WorldState, after: WorldState) -> dict[str, Any]:
    return {
        fact_flag(k): _flag_value(k, v)
        for k, v in after.facts.items()
        if k not in before.facts or before.facts[k] != v
    }


def intent_line(
    kind: StoryIntentType, role: ActantRole | None, character: str | None, description: str
) -> str:
    """How an intent reads in a line or a prompt: ``[type · role: character] what happens``."""
    who = f"{role.value}: {character or 'uncast'}" if role is not None else "story"
    return f"[{kind.value} · {who}] {description}"


def _text(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_]+", "_", name.strip()).strip("_").lower()
    return slug or "character"


def _cast(
    plan: StorylinePlan, cast: Mapping[ActantRole | str, str] | None
) -> dict[ActantRole, str]:
    if cast is None:
        return {role: _slug(name) for role, name in plan.actants.items()}
    roles = {r.value for r in ActantRole}
    unknown = [str(r) for r in cast if str(r) not in roles]
    if unknown:
        raise ValueError(f"cast: actant roles ({', '.join(sorted(roles))}), got {unknown}")
    return {ActantRole(role): str(character) for role, character in cast.items()}


def _ticks(action: StoryAction, genre: str, config: PlanningConfig) -> int:
    return config.ticks(action.narrative_effect_for(genre).position_advance)


class _Builder:
    """Collects nodes and edges; ``add`` links a node after the one named ``after``."""

    def __init__(self, plan: StorylinePlan, roles: dict[ActantRole, str]):
        self.plan, self.roles = plan, roles
        self.config = planning_config()
        self.nodes: list[dict[str, Any]] = []
        self.edges: list[dict[str, Any]] = []

    def add(self, node: dict[str, Any], after: str | None = None) -> str:
        self.nodes.append(node)
        if after is not None:
            self.edges.append({"from": after, "to": node["id"]})
        return node["id"]

    def effects(self, before: WorldState, after: WorldState, action: StoryAction) -> dict:
        assert before.narrative is not None and after.narrative is not None
        arcs: dict[str, float] = {}
        for spectrum, value in after.narrative.values.items():
            delta = round(value - before.narrative.values.get(spectrum, 0.0), _ROUND)
            if delta:
                arcs[spectrum.value] = delta
        arcs[TICKS_ARC] = _ticks(action, self.plan.genre, self.config)
        flags = _changed(before, after)
        if action.core_event:
            flags[core_flag(action.id)] = True
        out: dict[str, Any] = {"arcs": arcs}
        if flags:
            out["flags"] = flags
        return out

    def action(
        self,
        prefix: str,
        action: StoryAction,
        before: WorldState,
        after: WorldState,
        last: str | None,
    ) -> str:
        """Dialogue nodes ``<prefix>.say<j>`` (one per intent) and the action node ``prefix``."""
        description = action.description_for(self.plan.genre)
        for j, spec in enumerate(action.intents or (None,)):
            node: dict[str, Any] = {"id": f"{prefix}.say{j}", "type": "dialogue"}
            if spec is None:
                node["text"] = _text(description)
            else:
                role = spec.target_role
                character = self.roles.get(role) if role is not None else None
                node["text"] = _text(intent_line(spec.type, role, character, description))
                node["generation_program"] = f"intent.{spec.type.value}"
                if character is not None:
                    node["speaker"] = character
            last = self.add(node, last)
        effects = self.effects(before, after, action)
        return self.add(
            {"id": prefix, "type": "action", "label": action.id, "effects": effects}, last
        )


def deviations(
    plan: StorylinePlan,
    phase: int,
    world: WorldState,
    count: int = 1,
    *,
    library: ActionLibrary | None = None,
) -> list[tuple[StoryAction, ...]]:
    """Up to ``count`` chains a player could take instead of the phase after ``phase``.

    Each is an action of the plan's genre (with its chained follow-ups, no core event)
    applicable in ``world`` whose change of the primary spectrum goes against the next
    phase's planned direction (either way when that phase is flat); the biggest change
    first, then the cheapest, then by id.

    Raises
    ------
    ValueError
        When no action of the library fits.
    """
    library = library or action_library()
    assert world.narrative is not None
    now = world.narrative.primary_value
    following = next(p for p in plan.phases if p.number == phase + 1)
    if following.actions:
        direction = following.actions[-1].primary_value - now
    else:
        lo, hi = following.target_state.primary_min, following.target_state.primary_max
        direction = (lo + hi) / 2 - now
    ranked = []
    for head in library.for_genre(plan.genre):
        chain = library.chain(head.id)
        if any(a.core_event for a in chain):
            continue
        try:
            states = apply_chain(world, chain, plan.genre, plan.secondary_spectrum)
        except ValueError:
            continue
        assert states[-1].narrative is not None
        change = round(states[-1].narrative.primary_value - now, _ROUND)
        if change and (direction == 0 or change * direction < 0):
            ranked.append((-abs(change), sum(a.cost for a in chain), head.id, chain))
    if not ranked:
        raise ValueError(
            f"no action of {plan.genre} applicable after phase {phase} moves the story against"
            " the next phase's direction"
        )
    return [entry[3] for entry in sorted(ranked, key=lambda e: e[:3])[:count]]


def _setup(
    plan: StorylinePlan, world: WorldState, library: ActionLibrary, config: PlanningConfig
) -> dict[str, Any]:
    assert world.narrative is not None
    arcs = {s.value: v for s, v in world.narrative.values.items()}
    arcs[TICKS_ARC] = _start_ticks(plan, library, config)
    done = set(plan.required_core_events) - set(plan.missing_core_events)
    done -= {a.action_id for a in plan.actions}
    flags: dict[str, Any] = {BEGUN_FLAG: True}
    flags.update((fact_flag(k), _flag_value(k, v)) for k, v in world.facts.items())
    flags.update((core_flag(e), True) for e in sorted(done))
    return {
        "id": "setup",
        "type": "action",
        "label": "setup",
        "effects": {"flags": flags, "arcs": arcs},
    }


def _start_ticks(plan: StorylinePlan, library: ActionLibrary, config: PlanningConfig) -> int:
    """Ticks played before the plan starts (0 for a whole story; more for a re-planned rest)."""
    ahead = sum(_ticks(library.get(a.action_id), plan.genre, config) for a in plan.actions)
    share = plan.trajectory[0].story_share if plan.trajectory else 0.0
    return round(share * ahead / (1.0 - share)) if ahead and share < 1.0 else 0


def _walk(
    plan: StorylinePlan, library: ActionLibrary
) -> Iterator[tuple[Any, WorldState, WorldState]]:
    """(planned action, world before, world after) along the plan."""
    world = plan.initial_state.to_world()
    for item in plan.actions:
        action = library.get(item.action_id)
        after = apply_action(world, action, plan.genre, plan.secondary_spectrum)
        yield item, world, after
        world = after


def to_program(
    plan: StorylinePlan,
    cast: Mapping[ActantRole | str, str] | None = None,
    *,
    deviation_count: int = 1,
    library: ActionLibrary | None = None,
) -> NarrativeProgram:
    """The plan as a :class:`~storylab.runtime.NarrativeProgram` (see the module docstring).

    Parameters
    ----------
    plan : StorylinePlan
        A composed (or re-planned) storyline.
    cast : mapping, optional
        Actant role -> runtime character id; by default the plan's actants, their names
        turned into ids.
    deviation_count : int
        Deviations offered at each phase boundary (at least one).
    library : ActionLibrary, optional
        The action library the plan was composed with (the packaged one by default).

    Raises
    ------
    ValueError
        When a boundary has no deviation, or a fact cannot be a runtime flag.
    DataError
        When a cast character id is not a valid node-style id.
    """
    if deviation_count < 1:
        raise ValueError(f"deviation_count: at least 1, got {deviation_count}")
    library = library or action_library()
    roles = _cast(plan, cast)
    b = _Builder(plan, roles)
    first = plan.phases[0].number
    b.add({"id": "begin", "type": "branch"})
    b.edges.append({"from": "begin", "to": f"phase{first}", "conditions": [f"flags.{BEGUN_FLAG}"]})
    b.add(_setup(plan, plan.initial_state.to_world(), library, b.config), "begin")
    steps = list(_walk(plan, library))
    last: str | None = "setup"
    done = 0
    for index, phase in enumerate(plan.phases):
        scene = {
            "id": f"phase{phase.number}",
            "type": "scene",
            "scene_id": f"{plan.template.value}.{phase.name}",
            "roles": {r.value: c for r, c in sorted(roles.items())},
        }
        last = b.add(scene, last)
        world = steps[done][1] if done < len(steps) else plan.projected_end_state.to_world()
        for item, before, after in steps[done : done + len(phase.actions)]:
            prefix = f"phase{phase.number}.{item.sequence_index}.{item.action_id}"
            last = b.action(prefix, library.get(item.action_id), before, after, last)
            world = after
        done += len(phase.actions)
        completed = {"quests": {COMPLETED_QUEST: phase.number}}
        if index == len(plan.phases) - 1:
            text = f"The story ends ({plan.template.value}, {plan.genre})."
            b.add(
                {
                    "id": "ending",
                    "type": "dialogue",
                    "text": text,
                    "end": True,
                    "on_enter": completed,
                },
                last,
            )
            break
        nxt = plan.phases[index + 1]
        end_id = f"phase{phase.number}.end"
        chains = deviations(plan, phase.number, world, deviation_count, library=library)
        choices = [
            {
                "id": "continue",
                "text": _text(f"Go on as planned: {nxt.name}"),
                "to": f"phase{nxt.number}",
            }
        ]
        for chain in chains:
            choices.append(
                {
                    "id": f"deviate.{chain[0].id}",
                    "text": _text(chain[0].description_for(plan.genre)),
                    "to": f"{end_id}.{chain[0].id}.{chain[0].id}.say0",
                }
            )
        b.add(
            {
                "id": end_id,
                "type": "choice",
                "on_enter": completed,
                "prompt": f"Phase {phase.number} ({phase.name}) is over. What happens next?",
                "choices": choices,
            },
            last,
        )
        resume = resume_node(phase.number)
        for chain in chains:
            here: str | None = None
            states = apply_chain(world, chain, plan.genre, plan.secondary_spectrum)
            for action, before, after in zip(chain, [world, *states], states, strict=False):
                here = b.action(f"{end_id}.{chain[0].id}.{action.id}", action, before, after, here)
            b.edges.append({"from": here, "to": resume})
        b.add(
            {
                "id": resume,
                "type": "choice",
                "prompt": "The story bends. Go on?",
                "choices": [{"id": "go_on", "text": "Go on", "to": f"phase{nxt.number}"}],
            }
        )
        last = None
    characters = [
        {"id": c, "role": r.value, **({"name": plan.actants[r]} if cast is None else {})}
        for r, c in sorted(roles.items())
    ]
    data = {
        "id": f"storyline-{plan.id}",
        "kind": "storyline",
        "title": f"{plan.template.value} ({plan.genre})",
        "entry": "begin",
        "nodes": b.nodes,
        "edges": b.edges,
        "metadata": {
            "tags": ["storyline", plan.template.value, plan.genre],
            "characters": characters,
        },
    }
    return parse_program(data, f"program of plan {plan.id}")


def program_yaml(program: NarrativeProgram) -> str:
    """``program`` as YAML text (``storylab play`` and :func:`~storylab.runtime.load_program`
    read it back unchanged)."""
    data = program.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
