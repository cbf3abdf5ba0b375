"""Counter-based random numbers keyed by (seed, tick, NPC): no state, no iteration order.

Each NPC has a 64-bit key (the first 8 bytes of the BLAKE2b hash of its id, little
endian). A draw is a pure function of (seed, tick, stream, key) built on the SplitMix64
finaliser ``mix``::

    base = mix((mix(seed) + (8 * tick + stream) * 0x9E3779B97F4A7C15) mod 2**64)
    u    = (mix(base XOR key) >> 11) / 2**53          # uniform in [0, 1)

for streams 0 to 7, so an NPC's draws never depend on which other NPCs exist or in what
order they are visited, and a vectorised run equals a loop over NPCs bit for bit.

>>> keys = npc_keys(["captain", "guard"])
>>> u = uniforms(7, 3, 0, keys)
>>> bool(((0 <= u) & (u < 1)).all()), float(uniforms(7, 3, 0, keys[:1])[0]) == float(u[0])
(True, True)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

__all__ = ["mix64", "npc_keys", "uniforms"]

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def mix64(z: int) -> int:
    """The SplitMix64 finaliser on one Python integer (mod 2**64)."""
    z &= _MASK
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def _mix_array(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


def npc_keys(ids: Sequence[str]) -> np.ndarray:
    """The 64-bit key of each NPC id."""
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(i.encode(), digest_size=8).digest(), "little")
            for i in ids
        ],
        dtype=np.uint64,
    )


def uniforms(seed: int, tick: int, stream: int, keys: np.ndarray) -> np.ndarray:
    """One uniform draw in [0, 1) per key, for ``seed``, ``tick`` and ``stream``."""
    if not 0 <= stream < 8:
        raise ValueError(f"a stream from 0 to 7, got {stream}")
    base = mix64(mix64(seed) + (8 * tick + stream) * _GOLDEN)
    with np.errstate(over="ignore"):
        z = _mix_array(keys ^ np.uint64(base))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
