"""World time: ticks, days of the week, clock times, schedule blocks on the week's ring.

World time is counted in hours since the world's start (``Session.world_time``, the unit
the runtime's wait and action delays use). A tick is ``1 / ticks_per_hour`` hours. A week
is ``len(days) * 24`` hours; schedules repeat every week. A schedule block whose end is not
after its start runs across midnight into the next day, and the last day's night runs into
the first day of the next week.

>>> minutes_of("18:30"), minutes_of("24:00")
(1110, 1440)
>>> block_intervals(["sun"], "22:00", "02:00", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
[(9960, 10080), (0, 120)]
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "DAY_MINUTES",
    "TIME_PATTERN",
    "block_intervals",
    "expand_days",
    "minutes_of",
    "overlaps",
    "parse_day_time",
]

DAY_MINUTES = 24 * 60

#: ``HH:MM`` from 00:00 to 24:00.
TIME_PATTERN = r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$"

_DAY_TIME = re.compile(r"^\s*(?:(?P<day>[A-Za-z_][A-Za-z0-9_]*)\s+)?(?P<hm>\d\d:\d\d)\s*$")


def minutes_of(text: str) -> int:
    """Minutes after midnight of a ``HH:MM`` clock time (``24:00`` is 1440).

    Raises
    ------
    ValueError
        When ``text`` is not ``HH:MM`` between 00:00 and 24:00.
    """
    if not re.match(TIME_PATTERN, text):
        raise ValueError(f"a clock time HH:MM between 00:00 and 24:00, got {text!r}")
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def parse_day_time(text: str, days: Sequence[str]) -> tuple[int | None, int]:
    """``"tue 18:00"`` -> (day index, minute of day); ``"18:00"`` -> (None, minute).

    Raises
    ------
    ValueError
        When the day is not one of ``days`` or the time is not ``HH:MM``.
    """
    match = _DAY_TIME.match(text)
    if match is None:
        raise ValueError(f"a time like 'tue 18:00' or '18:00', got {text!r}")
    day = match["day"]
    if day is not None and day not in days:
        raise ValueError(f"a day of the week ({', '.join(days)}), got {day!r}")
    minute = minutes_of(match["hm"])
    if minute == DAY_MINUTES:
        raise ValueError(f"a time of day before 24:00, got {match['hm']!r}")
    return (None if day is None else list(days).index(day)), minute


def expand_days(day: str | Sequence[str], days: Sequence[str]) -> list[str]:
    """The day names a schedule block's ``day`` stands for (``daily`` is every day)."""
    if isinstance(day, str):
        return list(days) if day == "daily" else [day]
    return list(day)


def block_intervals(
    day: str | Sequence[str], start: str, end: str, days: Sequence[str]
) -> list[tuple[int, int]]:
    """Half-open minute intervals on the week ring a schedule block covers.

    A block ending at or before its start runs past midnight; one running past the end of
    the week wraps to its start (two intervals). Unknown day names are skipped (the manifest
    check reports them).
    """
    week = len(days) * DAY_MINUTES
    s, e = minutes_of(start), minutes_of(end)
    if e <= s:
        e += DAY_MINUTES
    out: list[tuple[int, int]] = []
    for name in expand_days(day, days):
        if name not in days:
            continue
        base = list(days).index(name) * DAY_MINUTES
        lo, hi = base + s, base + e
        if hi > week:
            out += [(lo, week), (0, hi - week)]
        else:
            out.append((lo, hi))
    return out


def overlaps(spans: Sequence[Sequence[tuple[int, int]]]) -> list[tuple[int, int, int]]:
    """Pairs of blocks that share time: ``(i, j, first shared minute)`` with ``i < j``, each
    pair once, for blocks given as their intervals (a sweep over the sorted intervals).

    >>> overlaps([[(0, 60)], [(60, 120)], [(30, 90)]])
    [(0, 2, 30), (1, 2, 60)]
    """
    marks = sorted((lo, hi, k) for k, intervals in enumerate(spans) for lo, hi in intervals)
    found: dict[tuple[int, int], int] = {}
    open_: list[tuple[int, int]] = []  # (end, block) of intervals still open
    for lo, hi, k in marks:
        open_ = [(end, other) for end, other in open_ if end > lo]
        for _, other in open_:
            if other != k:
                pair = (min(k, other), max(k, other))
                found[pair] = min(found.get(pair, lo), lo)
        open_.append((hi, k))
    return sorted((i, j, minute) for (i, j), minute in found.items())
