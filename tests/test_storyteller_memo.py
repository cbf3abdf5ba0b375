"""The phase-search memo: plans are byte-identical with and without it, and it hits when a
phase problem recurs (and only then)."""

from pathlib import Path

import pytest

from storylab.archives import extract_world_state, load_bundle
from storylab.storyteller import (
    PhaseMemo,
    PhaseProblem,
    StorylineComposer,
    action_library,
    memo_stats,
    phase_memo,
    template_library,
)
from storylab.storyteller import memo as memo_module
from storylab.storyteller.memo import memo_key
from storylab.theory import NarrativeState, WorldState
from storylab.tuning.costs import ActionCosts

ARCHIVES = Path(__file__).resolve().parents[1] / "data" / "archives" / "generated"
PAIRS = template_library().pairs()
CASES = [
    (template, genre, seed, costs)
    for i, (template, genre) in enumerate(PAIRS[::3])
    for seed, costs in (
        (i, None),
        (i + 100, ActionCosts(scale={"relationship": 0.6, "conflict": 1.4})),
    )
]


def _json(plan) -> str:
    return plan.model_dump_json()


@pytest.mark.parametrize(("template", "genre", "seed", "costs"), CASES)
def test_plans_are_byte_identical_with_and_without_the_memo(template, genre, seed, costs):
    plain = StorylineComposer(costs=costs, memo=False)
    reference = _json(plain.compose(template, genre, seed=seed))
    assert plain.memo_stats_ == {"hits": 0, "misses": len(plain.problems_)}
    memo = PhaseMemo(maxsize=64)
    memoised = StorylineComposer(costs=costs, memo=memo)
    assert _json(memoised.compose(template, genre, seed=seed)) == reference
    assert memoised.memo_stats_ == {"hits": 0, "misses": len(memoised.problems_)}
    assert _json(memoised.compose(template, genre, seed=seed)) == reference  # from the memo
    assert memoised.memo_stats_ == {"hits": len(memoised.problems_), "misses": 0}
    other = _json(memoised.compose(template, genre, seed=seed + 1))  # new ranks: searched
    assert other == _json(plain.compose(template, genre, seed=seed + 1))


def test_a_callable_cost_is_keyed_by_its_values_not_its_identity():
    memo = PhaseMemo()
    scale = {"conflict": 2.0}
    by_category = ActionCosts(scale=scale)
    as_mapping = {a.id: by_category(a) for a in action_library()}
    first = StorylineComposer(costs=by_category, memo=memo).compose("icarus", "war", seed=5)
    composer = StorylineComposer(costs=as_mapping, memo=memo)
    assert _json(composer.compose("icarus", "war", seed=5)) == _json(first)
    assert composer.memo_stats_["misses"] == 0
    # a cost that changes any step's cost is another search, even where the plan is the same
    changed = StorylineComposer(costs=ActionCosts(scale={"conflict": 2.1}), memo=memo)
    changed.compose("icarus", "war", seed=5)
    assert changed.memo_stats_["hits"] == 0


def test_clamped_action_counts_recur_and_hit():
    template = template_library().get("rags_to_riches")
    low, _ = template.action_count_range
    assert low > 2
    memo = PhaseMemo()
    composer = StorylineComposer(memo=memo)
    first = composer.compose(template, "status", seed=2, actions=1)
    again = composer.compose(template, "status", seed=2, actions=low - 1)  # clamps to `low` too
    assert again.action_count.resolved == first.action_count.resolved == low
    assert composer.memo_stats_ == {"hits": len(template.phases), "misses": 0}
    assert again.phases == first.phases


def test_worlds_that_differ_only_in_facts_no_precondition_reads_share_searches():
    memo = PhaseMemo()
    narrative = NarrativeState.for_genre("western", value=0.0)
    base = WorldState(facts={"weather": "rain"}, narrative=narrative)
    other = WorldState(facts={"weather": "sun", "realm.size": 3}, narrative=narrative)
    composer = StorylineComposer(memo=memo)
    a = composer.compose("man_in_a_hole", "western", seed=1, initial=base)
    b = composer.compose("man_in_a_hole", "western", seed=1, initial=other)
    assert composer.memo_stats_["misses"] == 0
    assert a.phases == b.phases
    read = composer.problems_[0].keys[0]  # a fact some precondition reads
    changed = WorldState(facts={read: True}, narrative=narrative)
    c = composer.compose("man_in_a_hole", "western", seed=1, initial=changed)
    assert composer.memo_stats_["misses"] >= 1
    assert _json(c) == _json(
        StorylineComposer(memo=False).compose("man_in_a_hole", "western", seed=1, initial=changed)
    )


def test_archives_that_yield_the_same_read_facts_hit():
    reader = StorylineComposer(memo=False)
    reader.compose("cinderella", "society", seed=0)
    keys = reader.problems_[0].keys
    groups: dict[tuple, list[WorldState]] = {}
    for path in sorted(ARCHIVES.glob("archive-*.yaml"))[:60]:
        world = extract_world_state(load_bundle(path), "society")
        read = tuple(world.facts.get(k) for k in keys), world.narrative.primary_value
        groups.setdefault(read, []).append(world)
    twins = next(g for g in groups.values() if len(g) > 1)[:2]
    assert twins[0].facts != twins[1].facts  # they differ only in facts nothing reads
    memo = PhaseMemo()
    composer = StorylineComposer(memo=memo)
    plans = []
    for world in twins:
        plans.append(composer.compose("cinderella", "society", seed=0, initial=world))
        plain = StorylineComposer(memo=False).compose(
            "cinderella", "society", seed=0, initial=world
        )
        assert _json(plans[-1]) == _json(plain)
    assert composer.memo_stats_ == {"hits": len(reader.problems_), "misses": 0}
    assert plans[0].phases == plans[1].phases


def test_the_key_holds_every_input_of_the_search():
    phase = template_library().get("oedipus").phase(2)
    world = WorldState(narrative=NarrativeState.for_genre("love", value=0.4))
    problem = PhaseProblem(world=world, phase=phase, genre="love", total_ticks=160)
    key = memo_key(problem, max_iterations=500, beam_width=15, ranks=None)
    assert key == memo_key(
        PhaseProblem(world=world, phase=phase, genre="love", total_ticks=160),
        max_iterations=500,
        beam_width=15,
        ranks=None,
    )
    variants = [
        memo_key(problem, max_iterations=200, beam_width=15, ranks=None),
        memo_key(problem, max_iterations=500, beam_width=10, ranks=None),
        memo_key(problem, max_iterations=500, beam_width=15, ranks=range(len(problem.steps))),
    ]
    for change in (
        {"total_ticks": 200},
        {"start_ticks": 8},
        {"genre": "romance"},
        {"costs": {problem.steps[0].ids[0]: 9.0}},
        {"required": (problem.domain.core[0],)},
        {"excluded": (problem.domain.core[-1],)},
        {"phase": template_library().get("oedipus").phase(3)},
    ):
        if "genre" in change:
            change["world"] = WorldState(narrative=NarrativeState.for_genre("romance", value=0.4))
        fields = {"world": world, "phase": phase, "genre": "love", "total_ticks": 160} | change
        variants.append(
            memo_key(PhaseProblem(**fields), max_iterations=500, beam_width=15, ranks=None)
        )
    variants.append(
        memo_key(
            PhaseProblem(
                world=WorldState(narrative=NarrativeState.for_genre("love", value=-0.2)),
                phase=phase,
                genre="love",
                total_ticks=160,
            ),
            max_iterations=500,
            beam_width=15,
            ranks=None,
        )
    )
    assert len({key, *variants}) == len(variants) + 1


def test_the_memo_is_bounded_and_least_recently_used():
    memo = PhaseMemo(maxsize=2)
    composer = StorylineComposer(memo=memo)
    composer.compose("man_in_a_hole", "action", seed=0)  # 4 phases: only the last 2 stay
    assert len(memo) == 2 and memo.stats()["misses"] == 4
    composer.compose("man_in_a_hole", "action", seed=0)
    assert composer.memo_stats_ == {"hits": 0, "misses": 4}  # evicted before they recurred
    memo.resize(0)
    assert len(memo) == 0
    composer.compose("man_in_a_hole", "action", seed=0)
    assert composer.memo_stats_ == {"hits": 0, "misses": 4} and len(memo) == 0
    memo.clear()
    assert memo.stats() == {"hits": 0, "misses": 0, "hit_rate": 0.0, "size": 0, "maxsize": 0}


def test_the_shared_memo_and_its_switches(monkeypatch):
    shared = phase_memo()
    before = memo_stats()
    composer = StorylineComposer()
    composer.compose("icarus", "crime", seed=11)
    composer.compose("icarus", "crime", seed=11)
    after = memo_stats()
    assert after["hits"] - before["hits"] >= composer.memo_stats_["hits"] > 0
    assert shared is phase_memo()
    monkeypatch.setenv("STORYLAB_PHASE_MEMO", "0")
    assert memo_module._shared_size() == 0
    monkeypatch.setenv("STORYLAB_PHASE_MEMO", "")
    assert memo_module._shared_size() == memo_module.DEFAULT_MEMO_SIZE
    monkeypatch.setenv("STORYLAB_PHASE_MEMO", "lots")
    with pytest.raises(ValueError, match="STORYLAB_PHASE_MEMO"):
        memo_module._shared_size()


def test_bad_memo_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="maxsize"):
        PhaseMemo(maxsize=-1)
    with pytest.raises(ValueError, match="maxsize"):
        PhaseMemo().resize(-3)
    with pytest.raises(TypeError, match="memo must be"):
        StorylineComposer(memo="yes").compose("icarus", "crime", seed=0)
