"""Small ipywidgets factories for notebooks. Each returns a widget; plotting stays in
:mod:`storylab.viz`. This is the only module that imports ipywidgets
(``pip install "storylab[notebooks]"``).

Widgets work headless: building and clicking them needs no browser, and a panel draws once
into its output area when built, so notebooks that show them run under nbval.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
from IPython.display import display

from storylab.graph import CharacterGraph, neighbourhood
from storylab.runtime.engine import NarrativeEngine
from storylab.runtime.playtest import apply_overrides
from storylab.runtime.program import NarrativeProgram
from storylab.runtime.results import NarrativeStepResult, StepError, format_transcript
from storylab.runtime.state import Session
from storylab.storyteller import ActionCategory, StorylineComposer, template_library
from storylab.theory import arc
from storylab.tuning.costs import ActionCosts
from storylab.viz.arcs import plot_trajectory
from storylab.viz.graph import plot_neighbourhood
from storylab.viz.world import plot_presence
from storylab.world.schedule import format_time

__all__ = [
    "character_browser",
    "composition_panel",
    "cost_sliders",
    "genre_picker",
    "program_player",
    "redraw",
    "template_picker",
    "time_slider",
]


# runtime -------------------------------------------------------------------------------------
def _html(results: list[NarrativeStepResult], note: str) -> str:
    body = html.escape(format_transcript(results)) + (f"\n{html.escape(note)}" if note else "")
    return f"<pre style='white-space: pre-wrap; margin: 0'>{body}</pre>"


def program_player(
    program: NarrativeProgram,
    *,
    engine: NarrativeEngine | None = None,
    session: Session | None = None,
    npc: str = "npc",
    node: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> widgets.VBox:
    """A player for ``program``: the transcript so far and one button per choice on offer.

    Play happens on a copy of ``session`` (with ``overrides``), starting at ``node`` (the
    entry by default). A *Wait* button advances world time when the program waits for it;
    *Restart* starts over. The returned box keeps the live session as ``box.session`` and
    the results as ``box.results``.
    """
    if engine is None:
        engine = NarrativeEngine([program])
    elif program.id not in engine.program_ids:
        engine.add_program(program)
    view = widgets.HTML()
    buttons = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap"))
    box = widgets.VBox([view, buttons])

    def show(note: str = "") -> None:
        view.value = _html(box.results, note)
        last = box.results[-1]
        row: list[widgets.Button] = []
        for offer in last.choices:
            button = widgets.Button(description=offer.text, tooltip=offer.id)
            button.on_click(lambda _, choice=offer.id: act(choice))
            row.append(button)
        comp = box.session.components.get(npc)
        if last.status == "waiting" and comp is not None and comp.wait_until is not None:
            wait = widgets.Button(description="Wait", button_style="info")
            wait.on_click(lambda _: act(None, wait=True))
            row.append(wait)
        restart = widgets.Button(description="Restart", button_style="warning")
        restart.on_click(lambda _: begin())
        buttons.children = (*row, restart)

    def act(choice: str | None, wait: bool = False) -> None:
        try:
            if wait:
                comp = box.session.components[npc]
                engine.advance_time(box.session, comp.wait_until - box.session.world_time)
            box.results.append(engine.step(box.session, npc, choice))
        except StepError as exc:
            show(f"[error: {exc}]")
            return
        show()

    def begin() -> None:
        box.session = apply_overrides(session or Session(), npc, program, overrides)
        box.results = [engine.start(box.session, npc, program.id, node)]
        show()

    begin()
    return box


# tuning -------------------------------------------------------------------------------------
def template_picker(value: str | None = None) -> widgets.Dropdown:
    """A dropdown of the packaged templates (by arc name)."""
    names = list(template_library().names)
    return widgets.Dropdown(options=names, value=value or names[0], description="template")


def genre_picker(template: widgets.Dropdown, value: str | None = None) -> widgets.Dropdown:
    """A dropdown of the genres ``template``'s current choice supports; it follows the
    template dropdown, keeping its genre when the new template supports it too."""

    def supported(name: str) -> list[str]:
        return [g for t, g in template_library().pairs() if t == name]

    options = supported(template.value)
    picker = widgets.Dropdown(
        options=options, value=value if value in options else options[0], description="genre"
    )

    def follow(change: dict[str, Any]) -> None:
        current = picker.value
        picker.options = supported(change["new"])
        picker.value = current if current in picker.options else picker.options[0]

    template.observe(follow, names="value")
    return picker


def cost_sliders(
    costs: ActionCosts | None = None, *, bound: float = 1.0
) -> dict[str, widgets.FloatLogSlider]:
    """One log-scale slider per action category, factors in ``[e^-bound, e^bound]``."""
    scale = (costs or ActionCosts()).scale
    exponent = bound / 2.302585092994046  # the slider's exponents are base 10
    return {
        c.value: widgets.FloatLogSlider(
            value=scale.get(c, 1.0),
            base=10,
            min=-exponent,
            max=exponent,
            step=exponent / 20,
            description=c.value,
            continuous_update=False,
        )
        for c in ActionCategory
    }


def redraw(draw: Callable[..., Any], controls: Mapping[str, widgets.Widget]) -> widgets.Output:
    """An output area that calls ``draw(**values)`` now and whenever a control changes.

    ``draw`` makes a figure (with :mod:`storylab.viz` functions); the figure is shown in
    the output area and closed.
    """

    import matplotlib.pyplot as plt  # only storylab.viz imports matplotlib at module level

    def show(**values: Any) -> None:
        before = set(plt.get_fignums())
        draw(**values)
        for number in sorted(set(plt.get_fignums()) - before):
            figure = plt.figure(number)
            display(figure)
            plt.close(figure)

    return widgets.interactive_output(show, dict(controls))


def composition_panel(
    template: str | None = None, genre: str | None = None, *, seed: int = 0
) -> widgets.VBox:
    """Template and genre pickers, cost sliders and a seed, redrawing one composition's
    trajectory over its arc whenever a control changes."""
    pick_template = template_picker(template)
    pick_genre = genre_picker(pick_template, genre)
    sliders = cost_sliders()
    pick_seed = widgets.BoundedIntText(value=seed, min=0, max=10_000, description="seed")

    def draw(template: str, genre: str, seed: int, **scale: float) -> None:
        costs = ActionCosts(scale={k: round(v, 4) for k, v in scale.items()})
        plan = StorylineComposer(costs=costs).compose(template, genre, seed=seed)
        points = plan.trajectory
        ax = plot_trajectory(
            [p.primary for p in points],
            [p.story_share for p in points],
            arc=arc(template),
            scale="spectrum",
            label=f"{template} × {genre}",
        )
        state = "complete" if plan.complete else "incomplete"
        ax.set_title(f"{len(points) - 1} actions, cost {plan.total_cost:g}, {state}")

    controls = {"template": pick_template, "genre": pick_genre, "seed": pick_seed, **sliders}
    output = redraw(draw, controls)
    pickers = widgets.HBox([pick_template, pick_genre, pick_seed])
    return widgets.VBox([pickers, widgets.VBox(list(sliders.values())), output])


# world ---------------------------------------------------------------------------------------
def time_slider(run: Any, *, day: int | None = None, value: float = 0.0) -> widgets.VBox:
    """A slider over a :class:`~storylab.world.WorldRun`'s time (hours; one day when
    ``day`` is given) redrawing who is where, with the time marked, and the presence table
    at that time: "where will the captain be at 6 PM?"."""
    hours = run.presence["hours"]
    step = 1.0 / run.world.clock.ticks_per_hour
    low, high = float(hours.min()), float(hours.max())
    if day is not None:
        low, high = (day - 1) * 24.0, min(high, day * 24.0 - step)
    slider = widgets.FloatSlider(
        value=min(max(value, low), high),
        min=low,
        max=high,
        step=step,
        description="hours",
        continuous_update=False,
    )
    label = widgets.Label()
    table = widgets.Output()

    def draw(at: float) -> None:
        label.value = format_time(run.world, at)
        plot_presence(run, day=day, at=at)
        frame = run.presence
        rows = frame[frame["hours"] == at][["npc", "location", "activity"]]
        table.clear_output()
        with table:
            display(rows.reset_index(drop=True))

    output = redraw(draw, {"at": slider})
    return widgets.VBox([widgets.HBox([slider, label]), output, table])


# graph ---------------------------------------------------------------------------------------
def character_browser(
    graph: CharacterGraph, character: str | None = None, *, depth: int = 0
) -> widgets.VBox:
    """Pick a character: its instances by world, NPCs, scenes, programs, generations and
    assets (one table), and a drawing of its neighbourhood out to ``depth`` relationship
    hops.

    Raises
    ------
    ValueError
        When the graph has no character templates.
    """
    names = list(graph.characters()["template"])
    if not names:
        raise ValueError("the graph has no character templates to browse")
    pick = widgets.Dropdown(options=names, value=character or names[0], description="character")
    hops = widgets.BoundedIntText(value=depth, min=0, max=3, description="depth")

    def draw(character: str, depth: int) -> None:
        uses = graph.uses(character)[["kind", "key", "label", "world", "via"]]
        display(widgets.HTML(uses.fillna("").to_html(index=False, border=0)))
        plot_neighbourhood(neighbourhood(graph, character, depth), centre=character)

    output = redraw(draw, {"character": pick, "depth": hops})
    return widgets.VBox([widgets.HBox([pick, hops]), output])
