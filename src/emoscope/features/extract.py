"""Extract features for a whole manifest: in parallel, through the cache, with bounded memory.

Workers decode, extract and write each entry to the :class:`~emoscope.features.cache.FeatureCache`
themselves and hand back only the entry's key, so the parent never holds the corpus's arrays: the
result is a :class:`FeatureSet` that loads arrays from the cache on demand.

>>> fs = extract_features(manifest, create("logmel"), workers=2)     # doctest: +SKIP
>>> fs["03-01-05-01-01-01-01"].shape                                 # doctest: +SKIP
(331, 64)
>>> fs.failed                                                        # doctest: +SKIP
[('bad.wav', 'not a readable audio or video file (...)')]
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import multiprocessing as mp
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from emoscope.audio.io import load_audio
from emoscope.errors import ConfigError, EmoscopeError
from emoscope.features.base import FeatureExtractor, create
from emoscope.features.cache import FeatureCache, file_hash
from emoscope.progress import track

__all__ = ["FeatureSet", "WaveformVariant", "cached_paths", "extract_features"]


@dataclass(frozen=True)
class WaveformVariant:
    """One augmented copy of every file: the waveform goes through a
    :class:`~emoscope.augment.pipeline.WaveformAugmenter` before the extractor.

    The copy is deterministic: file ``f``'s waveform is augmented with the generator
    ``np.random.default_rng([seed, index, h(f)])``, where ``h`` comes from the file's content
    hash, so a copy is the same in every process, run and fold, and is cached under its own key
    (the file's key, the copy's index and a hash of the augmentation options).

    Attributes
    ----------
    augment : dict
        :meth:`AugmentConfig.to_dict` of the augmentation (its waveform options are used).
    seed : int
    index : int
        Which copy (``>= 1``; distinct copies draw different augmentations).
    """

    augment: dict[str, Any]
    seed: int
    index: int

    def key_suffix(self) -> str:
        """What this copy appends to a file's cache key."""
        from emoscope.augment.config import AugmentConfig

        c = AugmentConfig.from_dict(self.augment)
        names = ("noise_prob", "snr_db", "gain_prob", "gain_db", "shift_prob", "shift_s",
                 "shift_mode", "speed_prob", "speed_factors", "pitch_prob", "pitch_semitones")
        opts = json.dumps({n: c.to_dict()[n] for n in names}, sort_keys=True)
        digest = hashlib.blake2b(f"{opts}:{self.seed}".encode(), digest_size=6).hexdigest()
        return f"-wav{self.index}-{digest}"


@dataclass(frozen=True)
class _Item:
    id: str
    path: str
    start: float | None = None
    end: float | None = None


@dataclass
class FeatureSet(Mapping[str, np.ndarray]):
    """Features of a manifest, read from the cache on demand (a read-only mapping id -> array).

    Attributes
    ----------
    extractor : FeatureExtractor
    cache : FeatureCache
    keys : dict of str to str
        Manifest id -> audio key of its cache entry (only successfully extracted ids).
    failed : list of (str, str)
        ``(path, reason)`` of every item that could not be extracted, in manifest order.
    computed, reused : int
        Entries extracted in this run, and entries found in the cache.
    stored_as : FeatureExtractor, optional
        The extractor whose cache entries hold the arrays, when it is not ``extractor``
        (see :meth:`~emoscope.features.base.FeatureExtractor.cached_view`).
    view : callable, optional
        Takes ``extractor``'s array out of a ``stored_as`` entry.
    """

    extractor: FeatureExtractor
    cache: FeatureCache
    keys: dict[str, str]
    failed: list[tuple[str, str]] = field(default_factory=list)
    computed: int = 0
    reused: int = 0
    stored_as: FeatureExtractor | None = None
    view: Callable[[np.ndarray], np.ndarray] | None = None

    def __getitem__(self, item_id: str) -> np.ndarray:
        key = self.keys[item_id]
        arr = self.cache.get(key, self.stored_as or self.extractor)
        if arr is None:  # evicted since: recompute is the caller's job
            raise KeyError(f"{item_id}: cache entry vanished from {self.cache.root}")
        return arr if self.view is None else self.view(arr)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys)

    def __contains__(self, item_id: object) -> bool:
        # Mapping's default would load the array from disk to answer
        return item_id in self.keys

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def kind(self) -> str:
        """The kind of every item (the extractor's: ``"vector"``, ``"sequence"``, ...)."""
        return self.extractor.kind

    def stack(self, ids: Sequence[str] | None = None) -> np.ndarray:
        """Stack same-shaped features: ``(len(ids), *shape)`` float32 (vector features, or
        fixed-size images)."""
        ids = list(self.keys) if ids is None else list(ids)
        if not ids:
            raise ConfigError("no features to stack")
        return np.stack([self[i] for i in ids]).astype(np.float32, copy=False)

    def to_frame(self, ids: Sequence[str] | None = None) -> pd.DataFrame:
        """Vector features as a DataFrame indexed by id, columns named by the extractor."""
        if self.extractor.kind != "vector":
            raise ConfigError(f"{self.extractor.name} gives {self.extractor.kind} features; "
                              "only vector features make a table")
        ids = list(self.keys) if ids is None else list(ids)
        x = self.stack(ids)
        names = self.extractor.feature_names() or [f"f{i}" for i in range(x.shape[1])]
        return pd.DataFrame(x, index=pd.Index(ids, name="id"), columns=names)


# ---------------------------------------------------------------- worker side

_WORKER_EXTRACTORS: dict[str, FeatureExtractor] = {}
_WORKER_AUGMENTERS: dict[str, Any] = {}
_POOL_LIMITS: Any = None


def _worker_init() -> None:
    """One thread per worker: parallelism comes from processes, not from BLAS/torch pools.

    Forked workers inherit thread pools the parent already started, so environment variables
    come too late; threadpoolctl resizes the live BLAS/OpenMP pools instead.
    """
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    from threadpoolctl import threadpool_limits

    global _POOL_LIMITS
    _POOL_LIMITS = threadpool_limits(limits=1)
    if "torch" in sys.modules:  # only model-based features use torch; don't import it here
        sys.modules["torch"].set_num_threads(1)


def _extractor(spec_json: str) -> FeatureExtractor:
    ext = _WORKER_EXTRACTORS.get(spec_json)
    if ext is None:
        ext = _WORKER_EXTRACTORS[spec_json] = create(json.loads(spec_json))
    return ext


def _warm_up(ext: FeatureExtractor) -> None:
    """Run the extractor once on a second of quiet noise, so that its libraries are imported
    (and JIT-compiled) once in the parent rather than once per worker."""
    rng = np.random.default_rng(0)
    with contextlib.suppress(EmoscopeError):
        ext(0.01 * rng.standard_normal(ext.config.sample_rate).astype(np.float32),
            ext.config.sample_rate)


def _audio_key(item: _Item) -> str:
    key = file_hash(item.path)
    if item.start is not None or item.end is not None:
        key += f"-{item.start or 0:.4f}-{item.end or 0:.4f}".replace(".", "_")
    return key


def _augment(y: np.ndarray, sr: int, key: str, variant: WaveformVariant) -> np.ndarray:
    from emoscope.augment.config import AugmentConfig
    from emoscope.augment.pipeline import WaveformAugmenter

    spec = json.dumps(variant.augment, sort_keys=True)
    aug = _WORKER_AUGMENTERS.get(spec)
    if aug is None:
        aug = _WORKER_AUGMENTERS[spec] = WaveformAugmenter(AugmentConfig.from_dict(
            variant.augment))
    file_part = int(hashlib.blake2b(key.encode(), digest_size=7).hexdigest(), 16)
    return aug(y, sr, rng=np.random.default_rng([variant.seed, variant.index, file_part]))


def _process(item: _Item, key: str, spec_json: str, cache_root: str,
             max_duration: float | None, variant: WaveformVariant | None = None
             ) -> tuple[str, str | None, str | None]:
    """Extract one item into the cache under ``key``: ``(id, key or None, error or None)``."""
    try:
        ext = _extractor(spec_json)
        cache = FeatureCache(cache_root)
        offset = item.start or 0.0
        duration = None if item.end is None else max(0.0, item.end - offset)
        if ext.input_column != "path":  # a video feature decodes its own file
            if variant is not None:
                raise ConfigError(f"{ext.name}: augmented waveform copies apply to audio "
                                  "features only")
            cache.put(key, ext, ext.from_file(item.path, offset=offset,
                                              duration=duration or None,
                                              max_duration=max_duration))
            return item.id, key, None
        y, sr = load_audio(item.path, offset=offset, duration=duration or None,
                           max_duration=max_duration)
        if variant is not None:
            y = _augment(y, sr, key, variant)
        cache.put(key, ext, ext(y, sr))
        return item.id, key, None
    except EmoscopeError as exc:
        return item.id, None, str(getattr(exc, "reason", exc))


def _decode(item: _Item, key: str, max_duration: float | None,
            variant: WaveformVariant | None) -> tuple[np.ndarray, int] | str:
    """One item's waveform and rate (its augmented copy with ``variant``), or the reason it
    cannot be used."""
    try:
        offset = item.start or 0.0
        duration = None if item.end is None else max(0.0, item.end - offset)
        y, sr = load_audio(item.path, offset=offset, duration=duration or None,
                           max_duration=max_duration)
        return (_augment(y, sr, key, variant) if variant is not None else y), sr
    except EmoscopeError as exc:
        return str(getattr(exc, "reason", exc))


# ---------------------------------------------------------------- parent side

def _items(source: pd.DataFrame | Sequence[str | os.PathLike[str]], column: str = "path"
           ) -> tuple[list[_Item], dict[str, str]]:
    """The items to extract, reading file names from ``column``, and ``{id: reason}`` of the
    rows that name no file there (a row without a video, for a video feature)."""
    if isinstance(source, pd.DataFrame):
        if "id" not in source.columns or column not in source.columns:
            what = "" if column == "path" else " (this feature reads video files)"
            raise ConfigError(f"a manifest needs 'id' and '{column}' columns{what}")

        def opt(row: pd.Series, col: str) -> float | None:
            v = row.get(col)
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

        items, missing = [], {}
        for _, r in source.iterrows():
            f = r[column]
            if f is None or (isinstance(f, float) and math.isnan(f)) or str(f) == "":
                missing[str(r["id"])] = f"no file in the manifest's {column} column"
                items.append(_Item(str(r["id"]), str(r["path"])))
                continue
            items.append(_Item(str(r["id"]), str(f), opt(r, "start"), opt(r, "end")))
        return items, missing
    return [_Item(str(p), str(p)) for p in source], {}


def extract_features(
    source: pd.DataFrame | Sequence[str | os.PathLike[str]],
    extractor: FeatureExtractor | str | dict[str, Any],
    *,
    cache: FeatureCache | str | os.PathLike[str] | None = None,
    workers: int = 1,
    progress: bool = True,
    max_duration: float | None = 3600.0,
    variant: WaveformVariant | None = None,
) -> FeatureSet:
    """Extract ``extractor``'s features for every row of a manifest (or every path).

    Parameters
    ----------
    source : pd.DataFrame or sequence of paths
        A manifest (``id``, ``path``, optionally ``start``/``end`` seconds) or file paths (the
        path is then the id). Video features read the manifest's ``video_path`` column instead
        of ``path`` (the extractor's ``input_column``); rows without one are listed in
        ``failed``.
    extractor : FeatureExtractor, str or spec dict
        What to extract (a name builds it with default options).
    cache : FeatureCache or path, optional
        Where entries go; :func:`~emoscope.features.cache.default_cache_dir` when omitted.
    workers : int
        Processes; 1 runs in this process. Each worker uses one thread.
    progress : bool
        A progress bar with counts and rate on stderr.
    max_duration : float, optional
        Files longer than this (seconds) are skipped as too long.
    variant : WaveformVariant, optional
        Extract an augmented copy of every file instead of the file itself (cached under its
        own keys; the ids stay the same).

    Returns
    -------
    FeatureSet
        Lazily loaded features; ``failed`` lists every skipped file with the reason.
    """
    ext = create(extractor) if isinstance(extractor, str | dict) else extractor
    store = cache if isinstance(cache, FeatureCache) else FeatureCache(cache)
    shared = ext.cached_view()
    if shared is not None:  # e.g. a layer subset of an encoder: one pass, one entry per file
        stored_as, view = shared
        base = extract_features(source, stored_as, cache=store, workers=workers,
                                progress=progress, max_duration=max_duration, variant=variant)
        return _as_view(base, ext, view)
    store.folder(ext)  # write spec.json once, before workers race
    if workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}")
    items, errors = _items(source, ext.input_column)
    ids = [it.id for it in items]
    if len(set(ids)) != len(ids):
        raise ConfigError("ids must be unique")
    spec_json = json.dumps(ext.spec(), sort_keys=True, default=str)
    root = str(store.root)

    # 1. the parent hashes every file and looks in the cache: hits cost one stat each
    keys: dict[str, str] = {}
    todo: list[tuple[_Item, str]] = []
    for it in items:
        if it.id in errors:  # no file to read in the extractor's column
            continue
        try:
            key = _audio_key(it) + ("" if variant is None else variant.key_suffix())
        except EmoscopeError as exc:
            errors[it.id] = str(getattr(exc, "reason", exc))
            continue
        if (key, ext) in store:
            keys[it.id] = key
        else:
            todo.append((it, key))
    reused = len(keys)

    # 2. only the misses are decoded and extracted, here or in worker processes
    def record(item_id: str, key: str | None, error: str | None) -> None:
        if key is None:
            errors[item_id] = error or "extraction failed"
        else:
            keys[item_id] = key

    desc = ext.name if variant is None else f"{ext.name} (augmented copy {variant.index})"
    if todo and workers == 1 and ext.batch_size > 1 and ext.input_column == "path":
        # an extractor that computes clips together (a neural encoder): decode a batch of
        # files, extract it in one call with the machine's threads, store, go on
        batch: list[tuple[_Item, str, np.ndarray, int]] = []
        for n, (it, key) in enumerate(track(todo, total=len(todo), description=desc,
                                            enabled=progress), start=1):
            decoded = _decode(it, key, max_duration, variant)
            if isinstance(decoded, str):
                record(it.id, None, decoded)
            else:
                batch.append((it, key, *decoded))
            if len(batch) >= 4 * ext.batch_size or (n == len(todo) and batch):
                results = ext.call_batch([(y, sr) for _, _, y, sr in batch])
                for (b_it, b_key, _, _), r in zip(batch, results, strict=True):
                    if isinstance(r, EmoscopeError):
                        record(b_it.id, None, str(getattr(r, "reason", r)))
                    else:
                        store.put(b_key, ext, r)
                        record(b_it.id, b_key, None)
                batch = []
    elif todo and (workers == 1 or len(todo) == 1):
        from threadpoolctl import threadpool_limits

        _WORKER_EXTRACTORS[spec_json] = ext
        # small per-file matrices: BLAS threads cost more than they give
        with threadpool_limits(limits=1):
            for it, key in track(todo, total=len(todo), description=desc, enabled=progress):
                record(*_process(it, key, spec_json, root, max_duration, variant))
    elif todo:
        _warm_up(ext)  # forked workers inherit the imported libraries instead of each importing
        if variant is not None:
            with contextlib.suppress(EmoscopeError):
                _augment(np.full(ext.config.sample_rate, 0.01, np.float32),
                         ext.config.sample_rate, "warm-up", variant)
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=ctx,
                                 initializer=_worker_init) as pool:
            futures = [pool.submit(_process, it, key, spec_json, root, max_duration, variant)
                       for it, key in todo]
            for fut in track(as_completed(futures), total=len(futures), description=desc,
                             enabled=progress):
                record(*fut.result())
    by_id = {it.id: it for it in items}
    ordered = {i: keys[i] for i in ids if i in keys}
    failed = [(by_id[i].path, errors[i]) for i in ids if i in errors]
    return FeatureSet(ext, store, ordered, failed, computed=len(ordered) - reused, reused=reused)


def _as_view(base: FeatureSet, ext: FeatureExtractor,
             view: Callable[[np.ndarray], np.ndarray]) -> FeatureSet:
    """``ext``'s features read through ``view`` out of ``base``'s entries (the extractor that
    ``ext.cached_view()`` named), as every extraction path returns them."""
    first = base.view
    return FeatureSet(ext, base.cache, base.keys, base.failed, computed=base.computed,
                      reused=base.reused, stored_as=base.stored_as or base.extractor,
                      view=view if first is None else lambda x: view(first(x)))


def cached_paths(fs: FeatureSet) -> dict[str, Path]:
    """Manifest id -> the ``.npy`` file of its entry (for tools that memory-map features).

    Raises
    ------
    ConfigError
        ``fs`` reads its arrays out of another extractor's entries (``fs.view``): the files
        hold more than its arrays.
    """
    if fs.view is not None:
        raise ConfigError(f"{fs.extractor.name}: these features are views of "
                          f"{(fs.stored_as or fs.extractor).name}'s cache entries; memory-map "
                          "those (extract them with that extractor) instead")
    return {i: fs.cache.path(k, fs.extractor) for i, k in fs.keys.items()}
