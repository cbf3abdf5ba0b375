"""Played against planned: distances, arcs, and Monte-Carlo players with re-planning on and off.

Trajectories are compared on a common grid of story share (the played story's length is
its own, so both are read as functions of the share done, as :func:`~storylab.theory.
classify_arcs` reads them): the distance is the root-mean-square gap between the played
and the planned primary spectrum, and the played arc is what ``classify_arcs`` says.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

from storylab.play.player import Playthrough, StoryPlayer
from storylab.play.replan import GRID_POINTS
from storylab.runtime import NarrativeEngine
from storylab.storyteller import StorylineComposer, StorylinePlan
from storylab.theory import ActantRole, classify_arcs

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["arc_share", "played_vs_planned", "simulate_players"]


def _on_grid(x: Sequence[float], y: Sequence[float], grid: np.ndarray) -> np.ndarray:
    return np.interp(grid, np.asarray(x, dtype=float), np.asarray(y, dtype=float))


def played_vs_planned(
    plan: StorylinePlan, playthroughs: Sequence[Playthrough], *, points: int = GRID_POINTS
) -> pd.DataFrame:
    """One row per playthrough: what was played against what ``plan`` planned.

    Columns: ``replanning``, ``choices``, ``deviations``, ``replans``, ``finished``,
    ``played`` and ``planned`` (the primary spectrum on the grid of ``points`` story
    shares, as tuples), ``distance`` (root-mean-square gap), ``arc`` (what
    :func:`~storylab.theory.classify_arcs` calls the played trajectory; missing when it
    abstains), ``reason`` (why it abstained), ``follows_template`` (``arc`` is the plan's
    template) and ``core_events_missing`` (the genre's core events never played).

    Raises
    ------
    ValueError
        With no playthroughs, fewer than 11 points, or a playthrough with no action.
    """
    import pandas as pd

    if not playthroughs:
        raise ValueError("playthroughs: at least one")
    if points < 11:
        raise ValueError(f"points: at least 11 (the classifier's minimum), got {points}")
    empty = [i for i, p in enumerate(playthroughs) if len(p.ticks) < 2]
    if empty:
        raise ValueError(f"playthroughs {empty} played no action")
    grid = np.linspace(0.0, 1.0, points)
    planned = _on_grid(
        [p.story_share for p in plan.trajectory], [p.primary for p in plan.trajectory], grid
    )
    played = np.stack([_on_grid(p.story_share, p.primary, grid) for p in playthroughs])
    fits = classify_arcs(played, grid)
    rows = []
    for i, p in enumerate(playthroughs):
        done = set(p.actions)
        rows.append(
            {
                "replanning": p.replanning,
                "choices": p.choices,
                "deviations": p.deviations,
                "replans": p.replans,
                "finished": p.finished,
                "played": tuple(np.round(played[i], 10).tolist()),
                "planned": tuple(np.round(planned, 10).tolist()),
                "distance": float(np.sqrt(np.mean((played[i] - planned) ** 2))),
                "core_events_missing": tuple(e for e in plan.required_core_events if e not in done),
            }
        )
    frame = pd.DataFrame(rows)
    frame["arc"] = fits["best"].to_numpy()
    frame["reason"] = fits["reason"].to_numpy()
    frame["follows_template"] = (fits["best"].astype(object) == plan.template.value).to_numpy()
    return frame


def _pick(
    rng: np.random.Generator, offered: Sequence[Any], node: str, weights: Mapping[str, float]
) -> str:
    w = np.array(
        [weights.get(f"{node}/{c.id}", weights.get(c.id, 1.0)) for c in offered], dtype=float
    )
    if len(offered) == 1:  # no decision: no draw, so conditions stay in step
        return offered[0].id
    x = rng.random()
    if w.sum() <= 0:
        return offered[int(x * len(offered))].id
    index = int(np.searchsorted(np.cumsum(w) / w.sum(), x, side="right"))
    return offered[min(index, len(offered) - 1)].id


def _play(
    player: StoryPlayer, rng: np.random.Generator, weights: Mapping[str, float], max_steps: int
) -> Playthrough:
    result = player.start()
    for _ in range(max_steps):
        if result.status != "choice":
            break
        result = player.step(_pick(rng, result.choices, result.node or "", weights))
    return player.playthrough()


def simulate_players(
    plan: StorylinePlan,
    n: int = 100,
    *,
    seed: int = 0,
    weights: Mapping[str, float] | None = None,
    replanning: Sequence[bool] = (False, True),
    cast: Mapping[ActantRole | str, str] | None = None,
    composer: StorylineComposer | None = None,
    candidates: int = 1,
    share_replans: bool = True,
    max_steps: int = 200,
    progress: bool = True,
) -> pd.DataFrame:
    """Monte-Carlo: ``n`` simulated players play ``plan``, with re-planning off and on.

    Players choose as the runtime's (:func:`~storylab.runtime.monte_carlo`): uniformly
    among the choices on offer, or in proportion to ``weights`` (choice id or
    ``node/choice`` -> weight, 1 by default); ``{"continue": 3}`` makes a player who
    follows the plan three times as often as each deviation. Player ``k`` draws from the
    stream ``(seed, k)`` in every condition, one draw per decision between two or more
    choices (common random numbers), so the conditions differ only by re-planning.

    ``candidates`` is passed to each re-plan (see :func:`~storylab.play.replan`). With
    ``share_replans`` players share the re-plans they reach (deterministic, so the stories
    are the same); without, every player re-plans for itself (to time re-planning).

    Returns
    -------
    pandas.DataFrame
        :func:`played_vs_planned` rows with ``player``, ``seed``, ``elapsed_s`` and
        ``replan_s`` (the wall-clock seconds of each re-plan the player computed; a re-plan
        seen before comes from a shared cache).
    """
    import pandas as pd

    if n < 1:
        raise ValueError(f"n: at least 1, got {n}")
    weights = dict(weights or {})
    composer = composer or StorylineComposer()
    engine = NarrativeEngine()
    shared: dict = {}
    frames = []
    bar = tqdm(total=n * len(replanning), disable=not progress, desc="players")
    for on in replanning:
        runs, extra = [], []
        for k in range(n):
            started = time.perf_counter()
            player = StoryPlayer(
                plan,
                cast=cast,
                replanning=on,
                composer=composer,
                seed=seed,
                candidates=candidates,
                engine=engine,
                cache=shared if share_replans else {},
            )
            runs.append(_play(player, np.random.default_rng([seed, k]), weights, max_steps))
            extra.append((k, seed, time.perf_counter() - started, tuple(player.replan_seconds)))
            bar.update()
        frame = played_vs_planned(plan, runs)
        frame.insert(0, "player", [e[0] for e in extra])
        frame["seed"] = [e[1] for e in extra]
        frame["elapsed_s"] = [e[2] for e in extra]
        frame["replan_s"] = [e[3] for e in extra]
        frames.append(frame)
    bar.close()
    return pd.concat(frames, ignore_index=True)


def arc_share(frame: pd.DataFrame) -> pd.DataFrame:
    """Per re-planning setting: players, share that follows the template's arc, share that
    abstained, mean distance, deviations and re-plans (from :func:`simulate_players`)."""
    grouped = frame.groupby("replanning")
    return grouped.agg(
        players=("follows_template", "size"),
        follows_template=("follows_template", "mean"),
        abstained=("arc", lambda s: float(s.isna().mean())),
        distance=("distance", "mean"),
        deviations=("deviations", "mean"),
        replans=("replans", "mean"),
    )
