"""Building many objects at once without the garbage collector's repeated passes.

Loading a large program makes hundreds of thousands of objects that all stay alive. While
they are made, CPython's collector runs again and again and walks every one of them each
time it reaches the oldest generation (most of a 10,000-node load went there). None of
them is garbage, so :func:`collection_paused` switches automatic collection off while a
program is parsed, checked and compiled, and back on after (as it was, even on errors);
the next collection, automatic or not, walks them once.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collection_paused"]


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause automatic garbage collection inside the block (restored as it was)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
