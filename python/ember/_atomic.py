"""Atomic file writes: every file ember writes (checkpoints, downloads, logs, plots) goes
through ``atomic_open``, so a crash or a kill at any point leaves either the old file or the
new one, never a truncated mix."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["atomic_open", "atomic_write_bytes"]


def _fsync_dir(directory: str) -> None:
    # The rename is durable only once the directory entry is; some systems can't open dirs.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb", **kwargs: Any) -> Iterator[IO]:
    """``with atomic_open(path, "w") as f: ...`` writes a temporary file in ``path``'s
    directory; when the block ends normally it is flushed, fsynced and renamed over ``path``
    (then the directory is fsynced). If the block raises, the temporary file is removed and
    ``path`` is untouched."""
    if "w" not in mode or any(c in mode for c in "ax+"):
        raise ValueError(f"[atomic_open] mode must be a plain write mode, got {mode!r}")
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                               dir=directory)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 would surprise other readers
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_open(path, "wb") as f:
        f.write(data)
