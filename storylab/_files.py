"""Writing files atomically: a temporary file beside the target, renamed over it on success.

A failure (read-only folder, full disk, a directory in the way) leaves the old file as it
was and no partial file behind, and raises :class:`WriteError` naming the path.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["WriteError", "replacing", "write_atomic"]


class WriteError(OSError):
    """A file storylab could not write; the message names the path and the reason."""

    def __str__(self) -> str:
        return str(self.args[0])


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


@contextlib.contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; it replaces ``path`` only if the block succeeds.

    For writers that need a file name (``savefig``, a zip writer); see :func:`write_atomic`
    for text and bytes. The temporary file keeps the target's suffix, so writers that infer
    a format from it still do.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with replacing(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    target = Path(path)
    if target.is_dir():
        raise WriteError(f"cannot write {target}: it is a directory")
    try:
        fd, name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=f".tmp{target.suffix}"
        )
    except OSError as exc:
        raise WriteError(f"cannot write {target}: {_reason(exc)}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, target)
    except WriteError:  # already names its path (a nested ``replacing``)
        raise
    except OSError as exc:
        raise WriteError(f"cannot write {target}: {_reason(exc)}") from None
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: str | Path, data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` all at once (temporary file, fsync, rename); return the path."""
    target = Path(path)
    raw = data.encode(encoding) if isinstance(data, str) else data
    with replacing(target) as tmp, open(tmp, "wb") as handle:
        handle.write(raw)
        handle.flush()
        os.fsync(handle.fileno())
    return target
