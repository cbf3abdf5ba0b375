"""Small ipywidgets factories for notebooks. Each returns a widget; plotting stays in
:mod:`storylab.viz`. This is the only module that imports ipywidgets.

Widgets work headless: building and clicking them needs no browser, so notebooks that
show them run under nbval.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets

from storylab.runtime.engine import NarrativeEngine
from storylab.runtime.playtest import apply_overrides
from storylab.runtime.program import NarrativeProgram
from storylab.runtime.results import NarrativeStepResult, StepError, format_transcript
from storylab.runtime.state import Session

__all__ = ["program_player"]


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
