"""A harbour week: storylab's world simulation beside Mesa and a plain-Python reference.

The model, the same on every side: ``N`` NPCs, 12 locations, weekly schedules of 2-8 hour
blocks (a weekday and a weekend pattern per NPC), 168 hourly ticks. Each tick every NPC
moves by its schedule; three interaction gates are evaluated per NPC (``talk``: present;
``trade``: at the market, docks or warehouse between 08:00 and 18:00; ``drink``: at the
tavern, drinking, trust with the player at least 0); and each NPC meets one random other
NPC at its location and adds ``0.5 * compatibility`` (``1 - 2 * mean |OCEAN difference|``)
to its affinity towards it, clamped to [-100, 100]. Random draws are counter-based,
keyed by (seed, tick, NPC) (``storylab/world/rng.py``; each side has its own copy), and the
partner is drawn among the co-located NPCs ordered by key, so all three sides must end with
the same relationship table: the benchmark checks its hash and the gate counts.

* **storylab**: ``storylab.world.simulate`` on the manifest (vectorised over NPCs);
* **Mesa** 3: one ``mesa.Agent`` per NPC, ``agents.do("move")`` then ``agents.do("meet")``
  per tick (``pip install "storylab[bench]"``);
* **reference**: the same loops in plain Python with dicts.

Reported: NPC-steps per second (NPCs x ticks / seconds of simulation; building the
world is timed apart) and storylab's ratio to each.

Usage::

    python benchmarks/world.py                  # 1,000 and 10,000 NPCs
    python benchmarks/world.py --npcs 500       # quick
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections import defaultdict
from typing import Any

import numpy as np

__all__ = ["main"]

clock = time.perf_counter
LOCATIONS = [
    "docks", "market", "tavern", "warehouse", "office", "alleys", "lighthouse", "chapel",
    "shipyard", "customs", "bathhouse", "ropewalk",
]  # fmt: skip
ACTIVITIES = ["working", "drinking", "trading", "resting", "walking"]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
TRAITS = ["openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"]
RATE, TICKS = 0.5, 168
TRADE_AT, DRINK_AT = {"market", "docks", "warehouse"}, {"tavern"}


# -- the world, as a manifest ---------------------------------------------------------------
def _day_blocks(rng: np.random.Generator) -> list[tuple[int, int, str, str]]:
    """Blocks of 2-8 hours covering a day: (start hour, end hour, location, activity)."""
    out, hour = [], 0
    while hour < 24:
        end = min(24, hour + int(rng.integers(2, 9)))
        out.append((hour, end, LOCATIONS[rng.integers(12)], ACTIVITIES[rng.integers(5)]))
        hour = end
    return out


def manifest(npcs: int, seed: int = 0) -> dict[str, Any]:
    """The benchmark world as manifest data."""
    rng = np.random.default_rng(seed)
    people = {}
    for i in range(npcs):
        schedule = []
        for days, blocks in ((DAYS[:5], _day_blocks(rng)), (DAYS[5:], _day_blocks(rng))):
            for start, end, where, what in blocks:
                schedule.append(
                    {
                        "day": days,
                        "start": f"{start:02d}:00",
                        "end": f"{end:02d}:00",
                        "location": where,
                        "activity": what,
                    }
                )
        people[f"npc_{i:05d}"] = {
            "name": f"NPC {i}",
            "personality": dict(zip(TRAITS, rng.random(5).round(3).tolist(), strict=True)),
            "schedule": schedule,
        }
    return {
        "kind": "world",
        "id": "harbor_week",
        "name": "Harbour week",
        "clock": {"ticks_per_hour": 1, "start": "mon 00:00"},
        "locations": {loc: {"name": loc.title()} for loc in LOCATIONS},
        "npcs": people,
        "stats": {"axes": {"affinity": {}, "trust": {}}},
        "ambient": {"axis": "affinity", "rate": RATE, "chance": 1.0},
        "interactions": {
            "talk": {"label": "Talk"},
            "trade": {
                "label": "Trade",
                "gating": {"location": sorted(TRADE_AT), "time": {"from": "08:00", "to": "18:00"}},
            },
            "drink": {
                "label": "Drink",
                "gating": {"location": sorted(DRINK_AT), "activity": ["drinking"], "min_trust": 0},
            },
        },
    }


def tables(data: dict[str, Any]) -> tuple[list[str], list[list[str]], list[list[str]], list]:
    """Plain tables for the other sides: ids, location and activity per hour of the week
    (168 per NPC), personalities."""
    ids, where, what, traits = [], [], [], []
    for npc_id, npc in data["npcs"].items():
        loc, act = [""] * 168, [""] * 168
        for block in npc["schedule"]:
            start, end = int(block["start"][:2]), int(block["end"][:2])
            for day in block["day"]:
                base = DAYS.index(day) * 24
                for h in range(start, end):
                    loc[base + h], act[base + h] = block["location"], block["activity"]
        ids.append(npc_id)
        where.append(loc)
        what.append(act)
        traits.append([npc["personality"][t] for t in TRAITS])
    return ids, where, what, traits


# -- counter-based draws, in plain Python (as storylab/world/rng.py) ------------------------
MASK, GOLDEN = (1 << 64) - 1, 0x9E3779B97F4A7C15


def mix64(z: int) -> int:
    z &= MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def key(npc_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(npc_id.encode(), digest_size=8).digest(), "little")


def uniform(base: int, k: int) -> float:
    return (mix64(base ^ k) >> 11) * (1.0 / (1 << 53))


def base_of(seed: int, tick: int, stream: int) -> int:
    return mix64(mix64(seed) + (8 * tick + stream) * GOLDEN)


def compat(a: list[float], b: list[float]) -> float:
    return 1.0 - 2.0 * (sum(abs(x - y) for x, y in zip(a, b, strict=True)) / 5)


def gates(loc: str, act: str, hour: int) -> tuple[int, int, int]:
    trade = loc in TRADE_AT and 8 <= hour < 18
    drink = loc in DRINK_AT and act == "drinking"  # trust with the player: 0 >= 0
    return 1, int(trade), int(drink)


def final_hash(affinity: dict[tuple[str, str], float], ids: list[str]) -> str:
    from storylab.world import relationship_hash

    rows = [(a, b, "affinity", v) for (a, b), v in affinity.items()]
    rows += [(i, "player", axis, 0.0) for i in ids for axis in ("affinity", "trust")]
    return relationship_hash(rows)


# -- the plain-Python reference ---------------------------------------------------------------
def reference(ids, where, what, traits, seed: int) -> tuple[str, list[int]]:
    keys = [key(i) for i in ids]
    order = sorted(range(len(ids)), key=lambda i: keys[i])
    affinity: dict[tuple[str, str], float] = {}
    counts = [0, 0, 0]
    for t in range(TICKS):
        hour = t % 24
        groups: dict[str, list[int]] = defaultdict(list)
        place: dict[int, int] = {}
        for i in order:  # in key order, so each group is sorted by key
            group = groups[where[i][t]]
            place[i] = len(group)
            group.append(i)
        b0, b1 = base_of(seed, t, 0), base_of(seed, t, 1)
        for i in range(len(ids)):
            for g, ok in enumerate(gates(where[i][t], what[i][t], hour)):
                counts[g] += ok
            group = groups[where[i][t]]
            if len(group) < 2 or not uniform(b0, keys[i]) < 1.0:
                continue
            r = int(uniform(b1, keys[i]) * (len(group) - 1))
            j = group[r] if r < place[i] else group[r + 1]
            pair = (ids[i], ids[j])
            value = affinity.get(pair, 0.0) + RATE * compat(traits[i], traits[j])
            affinity[pair] = min(100.0, max(-100.0, value))
    return final_hash(affinity, ids), counts


# -- Mesa ---------------------------------------------------------------------------------------
def mesa_model(ids, where, what, traits, seed: int) -> Any:
    import mesa

    class Harbour(mesa.Model):
        def __init__(self) -> None:
            super().__init__(seed=seed)
            self.tick, self.affinity, self.counts = 0, {}, [0, 0, 0]
            self.groups: dict[str, list] = {}
            for i, npc_id in enumerate(ids):
                NPC(self, npc_id, where[i], what[i], traits[i])
            self.by_key = sorted(self.agents, key=lambda a: a.key)

        def step(self) -> None:
            self.agents.do("move")
            groups: dict[str, list] = defaultdict(list)
            for agent in self.by_key:
                group = groups[agent.loc]
                agent.place = len(group)
                group.append(agent)
            self.groups = groups
            self.b0, self.b1 = base_of(seed, self.tick, 0), base_of(seed, self.tick, 1)
            self.agents.do("meet")
            self.tick += 1

    class NPC(mesa.Agent):
        def __init__(self, model, npc_id, loc, act, personality) -> None:
            super().__init__(model)
            self.npc_id, self.key = npc_id, key(npc_id)
            self.week_loc, self.week_act, self.personality = loc, act, personality
            self.loc = self.activity = ""
            self.place = 0

        def move(self) -> None:
            t = self.model.tick
            self.loc, self.activity = self.week_loc[t % 168], self.week_act[t % 168]

        def meet(self) -> None:
            m = self.model
            for g, ok in enumerate(gates(self.loc, self.activity, m.tick % 24)):
                m.counts[g] += ok
            group = m.groups[self.loc]
            if len(group) < 2 or not uniform(m.b0, self.key) < 1.0:
                return
            r = int(uniform(m.b1, self.key) * (len(group) - 1))
            other = group[r] if r < self.place else group[r + 1]
            pair = (self.npc_id, other.npc_id)
            value = m.affinity.get(pair, 0.0) + RATE * compat(self.personality, other.personality)
            m.affinity[pair] = min(100.0, max(-100.0, value))

    return Harbour()


# -- the race -------------------------------------------------------------------------------------
def race(npcs: int, seed: int, mesa_too: bool) -> dict[str, Any]:
    from storylab.world import parse_world, simulate

    data = manifest(npcs)
    start = clock()
    world = parse_world(data, "<harbor week>")
    load_s = clock() - start
    start = clock()
    run = simulate(world, days=7, seed=seed)
    ours_s = clock() - start
    counts = run.availability.groupby("interaction")["available"].sum()
    ours = (run.final_hash(), [int(counts[k]) for k in ("talk", "trade", "drink")])
    plain = tables(data)
    start = clock()
    ref = reference(*plain, seed)
    ref_s = clock() - start
    out = {"npcs": npcs, "load_s": load_s, "storylab_s": ours_s, "reference_s": ref_s}
    out["same_as_reference"] = ours == ref
    if mesa_too:
        model = mesa_model(*plain, seed)
        start = clock()
        for _ in range(TICKS):
            model.step()
        out["mesa_s"] = clock() - start
        out["same_as_mesa"] = ours == (final_hash(model.affinity, plain[0]), model.counts)
    out["hash"] = ours[0]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--npcs", type=int, nargs="+", default=[1_000, 10_000], help="sizes")
    parser.add_argument("--seed", type=int, default=1, help="seed of the draws")
    parser.add_argument("--no-mesa", action="store_true", help="skip Mesa")
    args = parser.parse_args(argv)
    print(
        "| NPCs | build + check (s) | storylab (s) | storylab NPC-steps/s | Mesa NPC-steps/s "
        "| reference NPC-steps/s | storylab / Mesa | storylab / reference | same hash |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
    ok = True
    for n in args.npcs:
        r = race(n, args.seed, not args.no_mesa)
        steps = n * TICKS
        ours, refs = steps / r["storylab_s"], steps / r["reference_s"]
        mesa = steps / r["mesa_s"] if "mesa_s" in r else float("nan")
        same = r["same_as_reference"] and r.get("same_as_mesa", True)
        ok &= same
        print(
            f"| {n:,} | {r['load_s']:.2f} | {r['storylab_s']:.3f} | {ours:,.0f} | {mesa:,.0f} "
            f"| {refs:,.0f} | {ours / mesa:.1f}x | {ours / refs:.1f}x | {'yes' if same else 'NO'} |"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
