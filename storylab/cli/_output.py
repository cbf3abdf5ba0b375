"""Printing helpers shared by the command modules."""

from __future__ import annotations

import json
from typing import Any


def print_json(data: Any) -> None:
    """Print ``data`` as stable, indented JSON."""
    print(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False, default=str))


def print_table(rows: list[dict[str, Any]]) -> None:
    """Print rows of equal keys as an aligned text table."""
    if not rows:
        print("(nothing)")
        return
    keys = list(rows[0])
    cells = [[str(r.get(k, "")) for k in keys] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    print("  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip())
