"""``ResumeFrom``: where a storyline stands when the composer resumes it mid-story.

Lazy planning (plan a phase only when it is reached, from the world as it then is) needs the
composer to start at a later phase, from a world that was played rather than projected:
how far the story has come (position ticks) and which core events already happened.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from storylab._data import Frozen
from storylab.storyteller.templates import StoryTemplate

__all__ = ["ResumeFrom"]


class ResumeFrom(Frozen):
    """A mid-story starting point for :meth:`StorylineComposer.compose`.

    Parameters
    ----------
    phase : int
        The first phase to plan (1-based); the phases before it were played.
    ticks_done : int
        Position ticks the played part advanced the story.
    core_events_done : tuple of str
        Core events (action ids) the played part already contains.
    """

    phase: int = Field(ge=1)
    ticks_done: int = Field(ge=0)
    core_events_done: tuple[str, ...] = ()

    def start_index(self, template: StoryTemplate, core_events: Sequence[str]) -> int:
        """The 0-based index of the first phase to plan in ``template``.

        Raises
        ------
        ValueError
            When the phase is past the template's last one, or a done core event is not one
            of ``core_events`` (the genre's).
        """
        if self.phase > len(template.phases):
            raise ValueError(
                f"resume.phase: a phase of {template.name} (1-{len(template.phases)}),"
                f" got {self.phase}"
            )
        unknown = [e for e in self.core_events_done if e not in core_events]
        if unknown:
            raise ValueError(
                f"resume.core_events_done: core events of the genre ({', '.join(core_events)}),"
                f" got {unknown}"
            )
        return self.phase - 1
