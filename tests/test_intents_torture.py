"""Exactly once under SIGKILL: a supervisor process killed at random instants, restarted."""

import sqlite3
import sys

import pytest

from storylab.intents import IntentStore, Supervisor
from storylab.intents.torture import (
    TURNS_PER_SCENARIO,
    fingerprint,
    kill_repeatedly,
    seed_scenarios,
    supervisor_command,
    turn_counts,
)

BATCH = 25


def _pending(path):
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT COUNT(*) FROM intents WHERE status='pending'").fetchone()[0]
    finally:
        db.close()


def test_killed_workers_apply_every_effect_exactly_once(tmp_path):
    crashed, calm = tmp_path / "crashed.db", tmp_path / "calm.db"
    seeded = 0
    with IntentStore(crashed) as store:

        def more():
            nonlocal seeded
            if not _pending(crashed):  # keep the worker busy until every kill is made
                seed_scenarios(store, BATCH, start=seeded)
                seeded += BATCH
            return True

        kills = kill_repeatedly(
            supervisor_command(crashed), kills=4, seed=7, max_delay=0.4, more=more
        )
        assert kills == 4
        Supervisor(store, poll=0.002, backoff=0.0, max_attempts=10**6).run(once=True, timeout=120)
        statuses = set(store.intents().status)
        crashed_print = fingerprint(store)
        counts = turn_counts(store.sessions)
        runs = store.runs()
    with IntentStore(calm) as store:
        seed_scenarios(store, seeded)
        Supervisor(store, poll=0.002, backoff=0.0).run(once=True, timeout=120)
        calm_print = fingerprint(store)
    assert statuses == {"finished"}
    assert set(counts.values()) == {TURNS_PER_SCENARIO} and len(counts) == seeded
    assert crashed_print == calm_print
    # the kills did interrupt runs, which the next worker recovered
    # every interrupted run was settled (crashed and retried), none is left running
    assert set(runs.status) <= {"succeeded", "crashed"}


def test_a_worker_that_fails_on_its_own_is_reported_not_retried_forever():
    with pytest.raises(RuntimeError, match=r"(?s)exit 1.*No module named"):
        kill_repeatedly([sys.executable, "-c", "import no_such_module_here"], kills=3)
