"""Feature extraction on Ray, into the same on-disk cache that training reads.

>>> from emoscope import corpora, features
>>> from emoscope.distributed.ray_features import extract_features_ray
>>> df = corpora.load("ravdess", "../shared/data/RAVDESS")               # doctest: +SKIP
>>> fs = extract_features_ray(df, features.create("logmel"), address="auto")  # doctest: +SKIP
>>> fs.failed                       # as extract_features gives it    # doctest: +SKIP

It is :func:`emoscope.features.extract_features` with Ray workers in place of local worker
processes: each Ray worker builds the extractor once and, for every file of its chunks, hashes
the file, looks in the :class:`~emoscope.features.cache.FeatureCache` and extracts only what is
missing, writing the entry itself (atomically) and handing back only its key. The driver reads
no audio, so the corpus can be far larger than this machine. The result is the same
:class:`~emoscope.features.extract.FeatureSet` (same keys, same ``failed`` reasons, in manifest
order), so a later ``emoscope train`` with the same cache computes nothing.

On a cluster the cache folder and the audio files must be at the same path on every node (a
shared filesystem). ``emoscope extract DIR --corpus C --feature F --ray [ADDRESS]`` calls it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd

from emoscope.distributed.ray_common import (
    RayStats,
    chunked,
    cluster_cpus,
    default_chunk_size,
    peak_rss_mb,
    ray_session,
    run_chunks,
    worker_id,
)
from emoscope.errors import ConfigError, EmoscopeError
from emoscope.features.base import FeatureExtractor, create
from emoscope.features.cache import FeatureCache
from emoscope.features.extract import FeatureSet, WaveformVariant
from emoscope.progress import track

__all__ = ["ExtractWorker", "extract_features_ray"]

#: One item's outcome: ``(id, key or None, reason or None, found in the cache)``.
Outcome = tuple[str, str | None, str | None, bool]


class ExtractWorker:
    """What a Ray worker process keeps: the extractor, built once, and the cache it writes to.

    Parameters
    ----------
    spec_json : str
        The extractor's :meth:`~emoscope.features.base.FeatureExtractor.spec` as JSON.
    cache_root : str
    max_duration : float, optional
    variant : WaveformVariant, optional
    """

    def __init__(self, *, spec_json: str, cache_root: str, max_duration: float | None,
                 variant: WaveformVariant | None = None) -> None:
        from emoscope.features import extract as ex

        ex._worker_init()  # one thread: parallelism comes from the workers
        self.spec_json, self.cache_root = spec_json, cache_root
        self.max_duration, self.variant = max_duration, variant
        self.extractor = ex._extractor(spec_json)
        self.cache = FeatureCache(cache_root)

    def extract(self, chunk: list[Any]) -> tuple[list[Outcome], tuple[str, float]]:
        """Hash, look up and (when missing) extract every item of ``chunk`` (the private
        ``_Item`` records of :mod:`emoscope.features.extract`)."""
        from emoscope.features import extract as ex

        out: list[Outcome] = []
        suffix = "" if self.variant is None else self.variant.key_suffix()
        for item in chunk:
            try:
                key = ex._audio_key(item) + suffix
            except EmoscopeError as exc:
                out.append((item.id, None, str(getattr(exc, "reason", exc)), False))
                continue
            if (key, self.extractor) in self.cache:
                out.append((item.id, key, None, True))
                continue
            item_id, got, error = ex._process(item, key, self.spec_json, self.cache_root,
                                              self.max_duration, self.variant)
            out.append((item_id, got, error, False))
        return out, (worker_id(), peak_rss_mb())


def extract_features_ray(
    source: pd.DataFrame | Sequence[str | os.PathLike[str]],
    extractor: FeatureExtractor | str | dict[str, Any],
    *,
    cache: FeatureCache | str | os.PathLike[str] | None = None,
    address: str | None = None,
    workers: int | None = None,
    chunk_size: int | None = None,
    progress: bool = True,
    max_duration: float | None = 3600.0,
    variant: WaveformVariant | None = None,
    stats: RayStats | None = None,
) -> FeatureSet:
    """Extract ``extractor``'s features for every row of a manifest (or every path) on Ray.

    Parameters
    ----------
    source, extractor, cache, max_duration, variant :
        As :func:`emoscope.features.extract_features`.
    address : str, optional
        ``None`` or ``"local"``: a local Ray for this call; else a cluster address.
    workers : int, optional
        Chunks processed at once (one CPU each); default: the cluster's CPUs.
    chunk_size : int, optional
        Files per work item (default: about four items per worker, at most 64 files).
    progress : bool
        A progress bar on stderr.
    stats : RayStats, optional
        Filled with how the run went (workers, peak memory per worker).

    Returns
    -------
    FeatureSet
        The same as :func:`~emoscope.features.extract_features` returns for these files:
        lazily loaded features, ``failed`` listing every skipped file with its reason.
    """
    from emoscope.features import extract as ex

    ext = create(extractor) if isinstance(extractor, str | dict) else extractor
    store = cache if isinstance(cache, FeatureCache) else FeatureCache(cache)
    shared = ext.cached_view()
    if shared is not None:  # fill the entries a later extract_features reads (a layer subset)
        stored_as, view = shared
        base = extract_features_ray(source, stored_as, cache=store, address=address,
                                    workers=workers, chunk_size=chunk_size, progress=progress,
                                    max_duration=max_duration, variant=variant, stats=stats)
        return ex._as_view(base, ext, view)
    store.folder(ext)  # spec.json once, before the workers race
    if workers is not None and workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}")
    items, errors = ex._items(source, ext.input_column)
    ids = [it.id for it in items]
    if len(set(ids)) != len(ids):
        raise ConfigError("ids must be unique")
    todo = [it for it in items if it.id not in errors]
    spec_json = json.dumps(ext.spec(), sort_keys=True, default=str)
    run = stats if stats is not None else RayStats()
    keys: dict[str, str] = {}
    reused = 0
    if todo:
        with ray_session(address, num_cpus=workers) as ray:
            n_workers = workers or cluster_cpus(ray)
            size = chunk_size or default_chunk_size(len(todo), n_workers, at_most=64)
            init = {"spec_json": spec_json, "cache_root": str(store.root.resolve()),
                    "max_duration": max_duration, "variant": variant}

            def outcomes() -> Iterator[Outcome]:
                for chunk, got, error in run_chunks(ray, ExtractWorker, init, "extract",
                                                    chunked(todo, size), workers=n_workers,
                                                    stats=run):
                    yield from (got if error is None
                                else [(it.id, None, error, False) for it in chunk])

            desc = ext.name if variant is None else f"{ext.name} (augmented copy {variant.index})"
            for item_id, key, error, hit in track(outcomes(), total=len(todo),
                                                  description=f"{desc} (Ray)",
                                                  enabled=progress):
                if key is None:
                    errors[item_id] = error or "extraction failed"
                else:
                    keys[item_id] = key
                    reused += hit
    by_id = {it.id: it for it in items}
    ordered = {i: keys[i] for i in ids if i in keys}
    failed = [(by_id[i].path, errors[i]) for i in ids if i in errors]
    return FeatureSet(ext, store, ordered, failed, computed=len(ordered) - reused,
                      reused=reused)
