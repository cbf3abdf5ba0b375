"""The supervisor: runs, retries, expiry, cancel, recovery, conflicts, events and results."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from storylab.intents import (
    IntentStore,
    Supervisor,
    apply_effect,
    build_context,
)
from storylab.intents.runs import claim, register
from storylab.intents.supervisor import execute_runs
from storylab.runtime import ConflictError, OfflineProvider, Session


@pytest.fixture
def store(tmp_path):
    with IntentStore(tmp_path / "play.db") as s:
        people = {"ann": {"affinity": 0.2}, "bo": {"affinity": 0.0}}
        s.sessions.create(Session("inn", relationships=people))
        yield s


def _fast(store, provider=None, **kw):
    kw = {"poll": 0.005, "backoff": 0.0, **kw}
    return Supervisor(store, provider, **kw)


class Failing:
    """Fails the first ``n`` generations, then answers like the offline provider."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def generate(self, request):
        self.calls += 1
        if self.calls <= self.n:
            raise RuntimeError(f"model unavailable (call {self.calls})")
        return OfflineProvider().generate(request)


class Gate:
    """Blocks every generation until released (a slow model)."""

    def __init__(self):
        self.started, self.release = threading.Event(), threading.Event()

    def generate(self, request):
        self.started.set()
        self.release.wait(10)
        return OfflineProvider().generate(request)


def test_a_direct_control_intent_runs_to_the_end_and_answers_after_a_restart(store):
    intent = store.create_intent("inn", "direct_control", {"author": "ann", "text": "Hi"})
    stats = _fast(store).run(once=True, timeout=30)
    assert (stats.started, stats.finished, stats.failed) == (1, 1, 0)
    with IntentStore(store.path) as again:
        result = again.result(intent.id)
        assert result.status == "finished" and result.texts == ["Hi", "bo: reply to the player"]
        # both effects commit in one transaction: one session version
        assert [e.result_ref for e in result.effects] == ["inn@2", "inn@2"]
        assert again.sessions.version("inn") == 2
        progress = again.progress(intent.id)
        assert (progress.applied, progress.planned, progress.done) == (2, 0, True)
        assert list(again.turns("inn").participant) == ["ann", "bo"]
        assert again.sessions.load("inn").flags["intents.turns"] == 2
    kinds = [e.kind for e in store.events(intent.id)]
    assert kinds[3:] == ["run_started", "effect_applied", "chunk", "effect_applied", "finished"]


def test_a_failing_provider_is_retried_then_the_intent_fails_with_its_error(store):
    flaky = store.create_intent("inn", "story_constraint", {"description": "rain"})
    stats = _fast(store, Failing(2), max_attempts=3).run(once=True, timeout=30)
    assert store.result(flaky.id).status == "finished" and stats.retried == 2
    doomed = store.create_intent("inn", "story_constraint", {"description": "snow"})
    stats = _fast(store, Failing(99), max_attempts=2).run(once=True, timeout=30)
    result = store.result(doomed.id)
    assert result.status == "failed" and "model unavailable (call 2)" in result.error
    assert [e.status for e in result.effects] == ["failed"]
    events = [e for e in store.events(doomed.id) if e.kind in ("retried", "failed")]
    assert [e.kind for e in events] == ["retried", "failed"]
    assert events[0].data["attempt"] == 1 and "call 1" in events[0].data["error"]
    assert list(store.runs(doomed.id).status) == ["failed", "failed"]


def test_a_failed_generation_still_commits_the_effects_before_it(store):
    intent = store.create_intent("inn", "direct_control", {"author": "ann", "text": "Hi"})
    stats = _fast(store, Failing(99), max_attempts=1).run(once=True, timeout=30)
    assert stats.failed == 1
    result = store.result(intent.id)
    assert [e.status for e in result.effects] == ["applied", "failed"]
    assert result.effects[0].result_ref == "inn@2" and "call 1" in result.error
    assert list(store.turns("inn").content) == ["Hi"]
    assert store.sessions.load("inn").flags["intents.turns"] == 1


def test_backoff_doubles_up_to_its_cap(store):
    sup = Supervisor(store, backoff=0.5, max_backoff=3.0)
    assert [sup.delay(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    with pytest.raises(ValueError, match="max_attempts"):
        Supervisor(store, max_attempts=0)


def test_a_run_past_its_deadline_expires_and_writes_nothing(store):
    gate = Gate()
    intent = store.create_intent("inn", "story_constraint", {"description": "slow"})
    sup = _fast(store, gate, deadline=0.2, max_attempts=1)
    stats = sup.run(once=True, timeout=30)
    gate.release.set()
    assert stats.expired == 1
    result = store.result(intent.id)
    assert result.status == "failed" and "deadline of 0.2 s" in result.error
    assert store.sessions.version("inn") == 1 and store.turns("inn").empty


def test_cancel_stops_a_running_intent_before_it_applies(store):
    gate = Gate()
    intent = store.create_intent("inn", "story_constraint", {"description": "slow"})
    sup = _fast(store, gate)
    done = threading.Thread(target=sup.run, kwargs={"once": True, "timeout": 30})
    done.start()
    assert gate.started.wait(10)
    assert sup.cancel(intent.id)
    gate.release.set()
    done.join(30)
    assert store.result(intent.id).status == "cancelled"
    assert store.sessions.version("inn") == 1 and store.turns("inn").empty
    assert list(store.runs(intent.id).status) == ["cancelled"]


def test_restart_recovers_what_a_silent_supervisor_left_running(store):
    intent = store.create_intent("inn", "direct_control", {"author": "ann", "text": "Hi"})
    gone = register(store)  # a supervisor that claims, then is never heard of again
    assert len(claim(store, gone, limit=5, deadline=60)) == 1
    time.sleep(0.05)
    stats = _fast(store, lease=0.01).run(once=True, timeout=30)
    assert stats.recovered == 1
    assert store.result(intent.id).status == "finished"
    runs = store.runs(intent.id)
    assert list(runs.status) == ["crashed", "succeeded"]
    assert f"its supervisor {gone} was silent" in runs.error[0]
    assert [e.kind for e in store.events(intent.id)].count("recovered") == 1


def test_a_live_supervisors_runs_are_left_alone(store):
    store.create_intent("inn", "story_constraint", {"description": "x"})
    other = register(store)
    claim(store, other, limit=1, deadline=60)
    stats = _fast(store, lease=60).run(once=False, timeout=0.2)
    assert stats.recovered == 0 and stats.started == 0


def test_recovery_fails_an_intent_out_of_attempts_with_the_reason(store):
    intent = store.create_intent("inn", "story_constraint", {"description": "x"})
    claim(store, register(store), limit=1, deadline=60)
    _fast(store, lease=0.001, max_attempts=1).run(once=True, timeout=30)
    result = store.result(intent.id)
    assert result.status == "failed" and "left running: its supervisor" in result.error


def test_an_effect_whose_session_moved_on_is_applied_from_fresh_state(store):
    intent = store.create_intent(
        "inn", "modify_relationship", {"description": "warmer", "character": "bo", "delta": 0.25}
    )
    (run,) = claim(store, register(store), limit=1, deadline=60)
    stale = store.sessions.load("inn")
    fresh = store.sessions.load("inn")
    fresh.relationships["bo"]["affinity"] = 0.5
    store.sessions.save(fresh)  # someone else writes first
    with pytest.raises(ConflictError):
        apply_effect(store, run, intent, intent.effects[0], stale)
    assert store.intent(intent.id).effects[0].status == "planned"
    _fast(store, lease=0.001).run(once=True, timeout=30)
    assert store.sessions.load("inn").relationships["bo"]["affinity"] == 0.75


def test_the_also_hook_rolls_back_the_session_with_the_bookkeeping(store):
    session = store.sessions.load("inn")
    session.flags["x"] = 1

    def boom(db):
        raise RuntimeError("bookkeeping failed")

    with pytest.raises(RuntimeError, match="bookkeeping"):
        store.sessions.save(session, also=boom)
    assert store.sessions.version("inn") == 1 and "x" not in store.sessions.load("inn").flags


def test_events_follow_live_until_the_intent_ends(store):
    intent = store.create_intent("inn", "direct_control", {"author": "ann", "text": "Hi"})
    seen = []

    def follow():
        with IntentStore(store.path) as reader:
            seen.extend(reader.events(intent.id, follow=True, timeout=30))

    reader = threading.Thread(target=follow)
    reader.start()
    _fast(store).run(once=True, timeout=30)
    reader.join(30)
    assert seen[0].kind == "created" and seen[-1].kind == "finished"
    assert seen == list(store.events(intent.id))
    assert list(store.events(intent.id, after=seen[-1].seq)) == []
    assert [e.kind for e in store.events(intent.id, after=seen[-2].seq)] == ["finished"]


def test_any_executor_and_many_scenarios(store):
    ids = [
        store.create_intent(f"s{i}", "story_constraint", {"description": f"scene {i}"}).id
        for i in range(6)
    ]
    with ThreadPoolExecutor(3) as pool:
        stats = _fast(store, executor=pool).run(once=True, timeout=60)
    assert stats.finished == 6
    assert {store.result(i).status for i in ids} == {"finished"}


def test_stop_from_another_thread_returns_promptly(store):
    sup = _fast(store)
    threading.Timer(0.1, sup.stop).start()
    stats = sup.run()
    assert stats.started == 0


def test_the_context_table_shows_turns_characters_and_the_intent(store):
    store.create_intent("inn", "direct_control", {"author": "ann", "text": "Hi"})
    _fast(store).run(once=True, timeout=30)
    ctx = build_context(store, "inn", "ann", description="answer", constraint="be brief")
    frame = ctx.to_frame()
    assert list(frame.part) == [
        "turn",
        "turn",
        "character",
        "character",
        "intent",
        "constraint",
        "actor",
    ]
    assert frame.text[0] == "Hi" and "tier" in frame.text[2]
    request = ctx.request()
    assert request.prompt == "ann: answer [constraint: be brief]" and request.npc == "ann"
    assert len(request.segments) == len(frame)
    assert build_context(store, "inn", "ann", description="x", window=1).to_frame().part[1] == (
        "character"
    )


def test_runs_execute_in_worker_processes_too(store):
    from concurrent.futures import ProcessPoolExecutor

    ids = [
        store.create_intent(f"p{i}", "story_constraint", {"description": f"scene {i}"}).id
        for i in range(3)
    ]
    with ProcessPoolExecutor(2) as pool:
        stats = _fast(store, executor=pool).run(once=True, timeout=120)
    assert stats.finished == 3 and {store.result(i).status for i in ids} == {"finished"}
    assert store.turns("p0").participant.tolist() == ["narrator"]  # no cast: the narrator


def test_a_group_commit_redoes_alone_a_run_whose_session_another_run_changed(store):
    first = store.create_intent("inn", "direct_control", {"author": "ann", "text": "One"})
    second = store.create_intent(
        "inn-2", "direct_control", {"author": "ann", "text": "Two"}, session_id="inn"
    )
    runs = claim(store, register(store), limit=5, deadline=60)
    # made from the same version, the second conflicts in the group and is redone alone
    # (or, on a slow machine, is made after the first committed): either way, in order
    outcomes = execute_runs(store.path, runs, OfflineProvider())
    assert [o["finished"] for o in outcomes] == [True, True]
    assert {store.result(i.id).status for i in (first, second)} == {"finished"}
    assert list(store.turns("inn").content) == [
        "One",
        "bo: reply to the player",
        "Two",
        "bo: reply to the player",
    ]
    assert store.sessions.version("inn") == 3
    assert [e.result_ref for e in store.result(second.id).effects] == ["inn@3", "inn@3"]


def test_a_group_commit_redoes_alone_the_others_when_one_run_lost_its_intent(store):
    store.sessions.create(Session("yard", relationships={"cy": {"affinity": 0.1}}))
    first = store.create_intent("inn", "direct_control", {"author": "ann", "text": "One"})
    second = store.create_intent("yard", "direct_control", {"author": "ann", "text": "Two"})

    class CancelsTheSecond:
        """Cancels the second intent while the group is being made (a user's request)."""

        def generate(self, request):
            with IntentStore(store.path) as other:
                other.cancel(second.id, "changed my mind")
            return OfflineProvider().generate(request)

    runs = claim(store, register(store), limit=5, deadline=60)
    outcomes = execute_runs(store.path, runs, CancelsTheSecond())
    assert outcomes[0]["finished"] and "cancelled" in outcomes[1]["stopped"]
    assert store.result(first.id).status == "finished"
    assert store.result(second.id).status == "cancelled"
    assert [e.status for e in store.result(second.id).effects] == ["failed", "failed"]
    assert list(store.turns("yard").content) == [] and store.sessions.version("yard") == 1
    assert list(store.turns("inn").content) == ["One", "bo: reply to the player"]
    assert [e.kind for e in store.events(first.id)][-1] == "finished"
