"""Batch prediction on Ray: many files scored by Ray workers that each load the bundle once.

>>> from emoscope.inference.batch import find_audio_files
>>> from emoscope.distributed.ray_batch import predict_files_ray
>>> result = predict_files_ray(find_audio_files(["archive/"]), bundle="runs/x/bundle",
...                            address="auto")                              # doctest: +SKIP
>>> result.predictions[0].label, result.skipped[:1], result.stats.workers  # doctest: +SKIP

The files are cut into chunks in input order; each Ray worker runs
:func:`emoscope.inference.batch.predict_files` on its chunks (same decoding, features, batching
and reasons for skipped files as one process), and the driver puts the results back in input
order. A file that cannot be used is listed in ``skipped`` with its reason; a worker that dies
loses only its chunk, whose files are listed as skipped too.

``emoscope predict PATHS --ray [ADDRESS]`` calls :func:`predict_files_ray`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
from emoscope.errors import ConfigError
from emoscope.inference.batch import BatchResult, FilePrediction
from emoscope.inference.predictor import DEFAULT_MAX_DURATION
from emoscope.progress import track

__all__ = ["RayBatchResult", "predict_files_ray"]

PathLike = str | os.PathLike[str]

#: One file's outcome as a worker sends it back:
#: ``(index, label, probabilities in label order, duration, reason)``; ``reason`` is set and the
#: rest ``None`` for a skipped file.
Row = tuple[int, str | None, list[float] | None, float | None, str | None]


@dataclass
class RayBatchResult(BatchResult):
    """A :class:`~emoscope.inference.batch.BatchResult` with how the Ray run went."""

    labels: list[str] = field(default_factory=list)
    stats: RayStats = field(default_factory=RayStats)


class PredictWorker:
    """What a Ray worker process keeps: one :class:`~emoscope.inference.Predictor`, loaded
    once and used for every chunk the process runs.

    Parameters
    ----------
    bundle : str, optional
        The bundle folder (``None``: the shipped model, as installed on the worker).
    trusted : bool
    batch_size : int
    max_duration : float, optional
    threads : int
        Torch threads of this worker (one per CPU it was given).
    stamp : int
        The bundle's modification time: a changed bundle at the same path is loaded anew.
    """

    def __init__(self, *, bundle: str | None, trusted: bool, batch_size: int,
                 max_duration: float | None, threads: int = 1, stamp: int = 0) -> None:
        import torch

        from emoscope.inference import Predictor

        torch.set_num_threads(threads)
        self.predictor = Predictor.from_bundle(bundle, trusted=trusted)
        self.batch_size, self.max_duration = batch_size, max_duration

    def labels(self) -> list[str]:
        """The bundle's labels, in probability order."""
        return list(self.predictor.labels)

    def _predict(self, paths: list[str]) -> BatchResult:
        from emoscope.inference.batch import predict_files

        return predict_files(self.predictor, paths, batch_size=self.batch_size,
                             max_duration=self.max_duration, progress=False)

    def predict(self, chunk: list[tuple[int, str]]) -> tuple[list[Row], tuple[str, float]]:
        """Predict a chunk of ``(index, path)``: one :data:`Row` per file, in chunk order,
        and ``(worker id, peak memory MB)``."""
        paths = [p for _, p in chunk]
        try:
            results = [self._predict(paths)]
        except Exception:  # an unexpected failure: file by file, so it costs one file only
            results = []
            for p in paths:
                try:
                    results.append(self._predict([p]))
                except Exception as exc:
                    results.append(BatchResult(skipped=[(Path(p), str(exc) or
                                                         type(exc).__name__)]))
        done = {str(fp.path): fp for r in results for fp in r.predictions}
        bad = {str(p): reason for r in results for p, reason in r.skipped}
        labels = self.predictor.labels
        rows: list[Row] = []
        for index, p in chunk:
            fp = done.get(str(Path(p)))
            if fp is None:
                rows.append((index, None, None, None, bad.get(str(Path(p)), "not predicted")))
            else:
                rows.append((index, fp.label, [fp.probabilities[lab] for lab in labels],
                             float(fp.duration), None))
        return rows, (worker_id(), peak_rss_mb())


def predict_files_ray(
    paths: Sequence[PathLike],
    *,
    bundle: PathLike | None = None,
    trusted: bool = False,
    address: str | None = None,
    workers: int | None = None,
    batch_size: int = 16,
    chunk_size: int | None = None,
    max_duration: float | None = DEFAULT_MAX_DURATION,
    progress: bool = True,
) -> RayBatchResult:
    """Predict every file of ``paths`` on Ray workers; as
    :func:`~emoscope.inference.batch.predict_files`, in parallel.

    Parameters
    ----------
    paths : sequence of path
        Files (see :func:`~emoscope.inference.batch.find_audio_files` to expand folders).
    bundle : path, optional
        A model bundle folder readable by every worker (``None``: the shipped model).
    trusted : bool
        Allow a pickled scikit-learn model.
    address : str, optional
        ``None`` or ``"local"``: a local Ray started for this call; else a cluster address
        (see :func:`~emoscope.distributed.ray_common.ray_session`).
    workers : int, optional
        Chunks processed at once (one CPU each); default: the cluster's CPUs.
    batch_size : int
        Feature arrays per model forward pass, in each worker.
    chunk_size : int, optional
        Files per work item (default: about four items per worker, at most ``4 * batch_size``
        files each).
    max_duration : float, optional
        Longer files are skipped; ``None``: no limit.
    progress : bool
        A progress bar on stderr (files done).

    Returns
    -------
    RayBatchResult
        ``predictions`` and ``skipped`` in the order of ``paths``, as
        :func:`~emoscope.inference.batch.predict_files` gives them; ``stats`` says how many
        workers ran and their peak memory.

    Raises
    ------
    ConfigError
        Bad options, Ray missing or unreachable.
    BundleError
        The bundle cannot be loaded (by the first worker).
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
    if workers is not None and workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}")
    files = [Path(p) for p in paths]
    result = RayBatchResult(labels=_bundle_labels(bundle, trusted))  # a bad bundle fails here
    if not files:
        return result
    with ray_session(address, num_cpus=workers) as ray:
        n_workers = workers or cluster_cpus(ray)
        size = chunk_size or default_chunk_size(len(files), n_workers, at_most=4 * batch_size)
        chunks = chunked([(i, str(f)) for i, f in enumerate(files)], size)
        where = None if bundle is None else Path(bundle).resolve()
        stamp = 0 if where is None else (where / "bundle.json").stat().st_mtime_ns
        init = {"bundle": None if where is None else str(where), "trusted": trusted,
                "batch_size": batch_size, "max_duration": max_duration, "stamp": stamp}
        rows: dict[int, Row] = {}

        def outcomes() -> Iterator[Row]:
            for chunk, got, error in run_chunks(ray, PredictWorker, init, "predict", chunks,
                                                workers=n_workers, stats=result.stats):
                if error is not None:
                    got = [(i, None, None, None, error) for i, _ in chunk]
                yield from got

        for row in track(outcomes(), total=len(files), description="predicting (Ray)",
                         unit="files", enabled=progress):
            rows[row[0]] = row
    for i, f in enumerate(files):
        _, label, probs, duration, reason = rows[i]
        if reason is not None or label is None or probs is None or duration is None:
            result.skipped.append((f, reason or "not predicted"))
            continue
        result.predictions.append(FilePrediction(
            f, label, dict(zip(result.labels, probs, strict=True)), duration))
    return result


def _bundle_labels(bundle: PathLike | None, trusted: bool) -> list[str]:
    """The bundle's labels, loading it here first: a missing or corrupt bundle is one
    :class:`~emoscope.errors.BundleError` before any worker starts."""
    from emoscope.inference import Predictor

    return list(Predictor.from_bundle(bundle, trusted=trusted).labels)
