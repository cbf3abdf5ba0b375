"""Building many objects at once without the garbage collector's repeated passes.

Loading a large program makes tens of thousands of objects that all stay alive. While
they are made, CPython's collector runs again and again and walks every one of them each
time it reaches the oldest generation (most of a 10,000-node load went there). None of
them is garbage, so :class:`collection_paused` switches automatic collection off while a
program is parsed, checked and compiled, and back on after (as it was, even on errors);
the next collection, automatic or not, walks them once.

Switching it back on allocates nothing (a generator-based context manager would raise
``StopIteration`` there, an allocation that starts a young-generation pass over every
new object at once): the first pass comes at the caller's next allocation, or is the
caller's own full collection when it makes one right after the load (as the runtime
benchmark does), which then walks the new objects once rather than twice.
"""

from __future__ import annotations

import gc
from typing import Any

__all__ = ["collection_paused"]


class collection_paused:
    """Pause automatic garbage collection inside the ``with`` block (restored as it was)."""

    __slots__ = ("enabled",)

    def __enter__(self) -> None:
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            gc.enable()  # the last thing: nothing is allocated after it
