"""An on-disk feature cache keyed by audio content and feature config.

Layout::

    <root>/<feature name>/<extractor cache key>/spec.json        the extractor's name and config
    <root>/<feature name>/<extractor cache key>/<ab>/<audio key>.npy

* The audio key is a hash of the file's bytes (plus the segment, for a row cut from a longer
  file), so a renamed or copied file still hits and an edited one misses.
* The extractor key covers its name, version and every config field (and, for model-based
  features, the model's files), so a changed option never returns a stale array.
* Writes are atomic: the array goes to a uniquely named temporary file in the same folder, is
  flushed to disk, then renamed over the final name (``os.replace``). A worker killed mid-write
  leaves only a ``.tmp`` file that no read ever takes for an entry; parallel writers of the same
  entry each rename a complete file, so the last one wins with identical content.
* Reads never trust a file blindly: an entry that does not load as a ``.npy`` array is deleted
  and treated as a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np

from emoscope.errors import AudioDecodeError, ConfigError
from emoscope.features.base import FeatureExtractor
from emoscope.files import atomic_path, atomic_write_bytes

__all__ = ["FeatureCache", "default_cache_dir", "file_hash"]

_HASH_MEMO: dict[tuple[str, int, int], str] = {}


def default_cache_dir() -> Path:
    """``$EMOSCOPE_CACHE``, else ``$XDG_CACHE_HOME/emoscope``, else ``~/.cache/emoscope``."""
    env = os.environ.get("EMOSCOPE_CACHE", "").strip()
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "emoscope"


def file_hash(path: str | os.PathLike[str]) -> str:
    """Hex digest (128-bit BLAKE2b) of a file's bytes, memoised by path, size and mtime.

    Raises
    ------
    AudioDecodeError
        The file cannot be read.
    """
    p = os.fspath(path)
    try:
        st = os.stat(p)
    except OSError as exc:
        raise AudioDecodeError(f"cannot read the file ({exc.strerror})", path=p) from None
    memo_key = (os.path.abspath(p), st.st_size, st.st_mtime_ns)
    hit = _HASH_MEMO.get(memo_key)
    if hit is not None:
        return hit
    h = hashlib.blake2b(digest_size=16)
    try:
        with open(p, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    except OSError as exc:
        raise AudioDecodeError(f"cannot read the file ({exc.strerror})", path=p) from None
    digest = h.hexdigest()
    if len(_HASH_MEMO) > 1_000_000:
        _HASH_MEMO.clear()
    _HASH_MEMO[memo_key] = digest
    return digest


class FeatureCache:
    """Feature arrays on disk, one ``.npy`` per (audio, extractor).

    Parameters
    ----------
    root : str or PathLike, optional
        The cache folder; :func:`default_cache_dir` when omitted.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()
        self._folders: dict[int, tuple[FeatureExtractor, Path]] = {}
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"{self.root}: cannot create the feature cache ({exc.strerror})") \
                from None

    def __repr__(self) -> str:
        return f"FeatureCache({str(self.root)!r})"

    def folder(self, extractor: FeatureExtractor) -> Path:
        """The folder holding ``extractor``'s entries (created, with its ``spec.json``)."""
        memo = self._folders.get(id(extractor))
        if memo is not None and memo[0] is extractor:
            return memo[1]
        d = self.root / extractor.name / extractor.cache_key()
        spec = d / "spec.json"
        if not spec.exists():
            d.mkdir(parents=True, exist_ok=True)
            self._atomic_write_bytes(spec, json.dumps(extractor.spec(), indent=2,
                                                      default=str).encode())
        self._folders[id(extractor)] = (extractor, d)
        return d

    def path(self, audio_key: str, extractor: FeatureExtractor) -> Path:
        """Where the entry for ``audio_key`` and ``extractor`` lives."""
        return self.folder(extractor) / audio_key[:2] / f"{audio_key}.npy"

    def get(self, audio_key: str, extractor: FeatureExtractor) -> np.ndarray | None:
        """The cached array (float32, also for entries stored at half precision), or ``None``
        on a miss (a broken entry is removed and missed)."""
        p = self.path(audio_key, extractor)
        try:
            arr = np.load(p, allow_pickle=False)
            return arr.astype(np.float32) if arr.dtype == np.float16 else arr
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError):
            p.unlink(missing_ok=True)
            return None

    def __contains__(self, item: tuple[str, FeatureExtractor]) -> bool:
        return self.path(*item).is_file()

    def put(self, audio_key: str, extractor: FeatureExtractor, array: np.ndarray) -> Path:
        """Store ``array`` atomically; returns the entry's path."""
        p = self.path(audio_key, extractor)
        if not p.parent.is_dir():
            p.parent.mkdir(parents=True, exist_ok=True)
        # readers see the old entry, nothing, or the whole new one (emoscope.files)
        with atomic_path(p) as tmp, open(tmp, "wb") as fh:
            if extractor.cache_dtype is not None:
                array = np.asarray(array).astype(extractor.cache_dtype)
            np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
        return p

    def _atomic_write_bytes(self, path: Path, data: bytes) -> None:
        atomic_write_bytes(path, data)

    def clean_temporary(self, *, older_than: float = 3600.0) -> int:
        """Delete leftover ``.tmp`` files of killed writers older than ``older_than`` seconds;
        returns how many were removed."""
        now, n = time.time(), 0
        for tmp in self.root.rglob(".*.tmp"):
            try:
                if now - tmp.stat().st_mtime > older_than:
                    tmp.unlink()
                    n += 1
            except OSError:
                continue
        return n

    def size_bytes(self) -> int:
        """Total size of the cache's entries."""
        return sum(p.stat().st_size for p in self.root.rglob("*.npy"))
