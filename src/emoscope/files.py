"""Writing files so that a reader sees the old file, no file, or the whole new one.

Every file emoscope writes for another process to read (feature cache entries, training
checkpoints, exported models) goes through :func:`atomic_path`: the data goes to a temporary
file beside the target (``.<name>.<pid>.<random>.tmp``), which is renamed over the target
(``os.replace``, atomic on one file system) once complete. A writer killed midway leaves only
the temporary file, which no reader takes for the target.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["TEMP_SUFFIX", "atomic_path", "atomic_write_bytes"]

#: The suffix of temporary files (a cleaner may delete old ones).
TEMP_SUFFIX = ".tmp"


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path to write ``path``'s new content to; renamed over ``path`` when the
    ``with`` block ends without an exception, deleted in every case otherwise.

    >>> with atomic_path("model.onnx") as tmp:     # doctest: +SKIP
    ...     tmp.write_bytes(data)
    """
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}")
    try:
        yield tmp
        # no fsync: after a power cut a half-flushed file fails to load (a cache miss, a
        # checkpoint to redo), which is cheaper than syncing every write
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`); returns the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)
