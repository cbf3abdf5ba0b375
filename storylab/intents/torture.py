"""Crash testing: kill a worker process with SIGKILL at random instants, restart, count.

:func:`kill_repeatedly` starts a worker command, waits for its ``ready`` line, lets it run
for a random (seeded) while, kills it with ``SIGKILL`` and starts it again, as many times as
asked. :func:`seed_scenarios` makes a deterministic workload (one session and one
``direct_control`` intent per scenario, so two turns per session) and :func:`fingerprint`
and :func:`turn_counts` tell afterwards whether each session equals a crash-free run and
how many turns each received (two each when nothing was lost or applied twice). The test
suite and ``benchmarks/intents.py`` share these.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from storylab.intents.store import IntentStore
from storylab.runtime.state import Session
from storylab.runtime.store import SessionStore

__all__ = [
    "TURNS_PER_SCENARIO",
    "fingerprint",
    "kill_repeatedly",
    "scenario_intent",
    "seed_scenarios",
    "supervisor_command",
    "turn_counts",
]

#: Turns each seeded scenario receives: the player's line and the reply.
TURNS_PER_SCENARIO = 2
_CAST = ("ann", "bo", "cy")

_WORKER = """
import sys
from storylab.intents import Supervisor
print("ready", flush=True)
Supervisor(sys.argv[1], max_attempts=10**6, backoff=0.0, poll=0.002, lease=1.0,
           max_in_flight=int(sys.argv[2])).run(once=True)
"""


def scenario_intent(index: int) -> tuple[Session, dict[str, Any]]:
    """Scenario ``index``'s session (the cast with fixed affinities) and its intent inputs."""
    sid = f"scene-{index:05d}"
    rel = {
        who: {"affinity": round(((index * 7 + k * 3) % 11) / 10 - 0.5, 2)}
        for k, who in enumerate(_CAST)
    }
    inputs = {"author": _CAST[index % 3], "text": f"line {index}: where were you?"}
    return Session(sid, relationships=rel), inputs


def seed_scenarios(store: IntentStore, count: int, *, start: int = 0) -> list[str]:
    """Create scenarios ``start .. start+count-1`` with their intents; return intent ids."""
    ids = []
    for i in range(start, start + count):
        session, inputs = scenario_intent(i)
        store.sessions.create(session)
        ids.append(store.create_intent(session.id, "direct_control", inputs).id)
    return ids


def turn_counts(sessions: SessionStore) -> dict[str, int]:
    """Turns each seeded session received (its ``intents.turns`` flag)."""
    return {
        sid: int(sessions.load(sid).flags.get("intents.turns", 0))
        for sid in sessions.ids()
        if sid.startswith("scene-")
    }


def fingerprint(store: IntentStore) -> dict[str, Any]:
    """Every seeded session's state (version included) and timeline, for comparing runs."""
    out = {}
    for sid in store.sessions.ids():
        turns = store.turns(sid)
        out[sid] = {
            "session": store.sessions.load(sid).to_dict(),
            "turns": list(zip(turns.participant, turns.content, strict=True)),
        }
    return out


def supervisor_command(path: str | Path, *, in_flight: int = 2) -> list[str]:
    """A worker process that supervises ``path`` until no intent is pending."""
    return [sys.executable, "-c", _WORKER, str(path), str(in_flight)]


def kill_repeatedly(
    command: Sequence[str],
    *,
    kills: int,
    seed: int = 0,
    max_delay: float = 0.3,
    more: Callable[[], bool] = lambda: True,
) -> int:
    """Start ``command``, wait for its ``ready`` line, kill it with SIGKILL after a random
    0..``max_delay`` seconds; repeat ``kills`` times or until ``more()`` is false (called
    before each start: it may add work). Returns the number of kills made; a worker that
    fails on its own raises ``RuntimeError`` with the end of its error output."""
    rng = np.random.default_rng(seed)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    made = 0
    while made < kills and more():
        with tempfile.TemporaryFile("w+") as errors:
            proc = subprocess.Popen(
                list(command), stdout=subprocess.PIPE, stderr=errors, env=env, text=True
            )
            try:
                assert proc.stdout is not None
                proc.stdout.readline()
                time.sleep(float(rng.uniform(0.0, max_delay)))
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    made += 1
            finally:
                proc.wait()
                proc.stdout.close()  # type: ignore[union-attr]
            if proc.returncode not in (0, -signal.SIGKILL):
                errors.seek(0)
                tail = errors.read()[-500:].strip()
                raise RuntimeError(f"the worker failed (exit {proc.returncode}): {tail}")
    return made
