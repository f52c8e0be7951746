"""What Ray batch prediction and feature extraction share: connecting to (or starting) Ray,
and feeding chunks of work to Ray workers that each set themselves up once.

An ``address`` of ``None`` or ``"local"`` starts a Ray instance on this machine for the run and
shuts it down afterwards; anything else (``"auto"``, ``"ray://head:10001"``, ``"head:6379"``) is
passed to :func:`ray.init` to join a running cluster. When this process is already connected
to Ray (``ray.is_initialized()``), that connection is used as it is and left open.

On a cluster every path a worker reads or writes (audio files, model bundle, feature cache) must
be the same on every node: a shared filesystem.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from emoscope.errors import ConfigError

__all__ = ["LOCAL", "RayStats", "chunked", "cluster_cpus", "default_chunk_size", "import_ray",
           "peak_rss_mb", "ray_session", "run_chunks", "worker_id"]

#: The address that means "start a local Ray for this run".
LOCAL = "local"

T = TypeVar("T")


def import_ray() -> Any:
    """The ``ray`` module, or a :class:`ConfigError` saying how to install it."""
    try:
        import ray
    except ModuleNotFoundError as exc:
        if exc.name != "ray":
            raise
        raise ConfigError("Ray is not installed: pip install 'emoscope[ray]'") from None
    return ray


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB.

    ``VmHWM`` from /proc on Linux (``getrusage``'s ``ru_maxrss`` survives ``execve`` and so may
    count the memory of the process that started this one), else ``ru_maxrss``.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / 2**20


@dataclass
class RayStats:
    """How a Ray run went.

    Attributes
    ----------
    workers : int
        Actors used.
    chunks : int
        Work items sent to them.
    worker_peak_rss_mb : dict of str to float
        Peak resident memory of each worker process (``"node:pid"``), in MB.
    failed_chunks : int
        Chunks lost to a worker that died (their files are listed as failed).
    """

    workers: int = 0
    chunks: int = 0
    worker_peak_rss_mb: dict[str, float] = field(default_factory=dict)
    failed_chunks: int = 0


@contextlib.contextmanager
def ray_session(address: str | None = None, *, num_cpus: int | None = None) -> Iterator[Any]:
    """Ray for the ``with`` block: the current connection, a cluster's, or a local instance.

    Parameters
    ----------
    address : str, optional
        ``None`` or ``"local"``: start Ray on this machine (with ``num_cpus`` CPUs, default all)
        and shut it down afterwards. Otherwise a cluster address for :func:`ray.init`.
    num_cpus : int, optional
        CPUs of a local instance.

    Yields
    ------
    module
        The ``ray`` module.
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    quiet = {"logging_level": logging.WARNING, "log_to_driver": False}
    if address in (None, "", LOCAL):
        # "local": always a new instance, never a cluster found through RAY_ADDRESS
        ray.init(address=LOCAL, num_cpus=num_cpus, include_dashboard=False, **quiet)
    else:
        try:
            ray.init(address=address, **quiet)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise ConfigError(f"cannot connect to Ray at {address}: {exc}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def cluster_cpus(ray: Any) -> int:
    """Whole CPUs of the connected cluster (at least 1)."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


#: Worker objects of this process (a Ray worker runs many tasks): built once per set-up.
_WORKERS: dict[tuple[str, str], Any] = {}


def _worker(worker_class: type, init_kwargs: dict[str, Any]) -> Any:
    """This process's ``worker_class(**init_kwargs)``, built on first use."""
    key = (f"{worker_class.__module__}.{worker_class.__qualname__}",
           repr(sorted(init_kwargs.items())))
    obj = _WORKERS.get(key)
    if obj is None:
        obj = _WORKERS[key] = worker_class(**init_kwargs)
    return obj


def _call(worker_class: type, init_kwargs: dict[str, Any], method: str, chunk: Any) -> Any:
    """The body of a Ray task: one chunk through this worker's (cached) object."""
    return getattr(_worker(worker_class, init_kwargs), method)(chunk)


def run_chunks(
    ray: Any,
    worker_class: type,
    init_kwargs: dict[str, Any],
    method: str,
    chunks: Sequence[T],
    *,
    workers: int,
    stats: RayStats,
) -> Iterator[tuple[T, Any | None, str | None]]:
    """Run ``worker_class(**init_kwargs).method(chunk)`` for every chunk, ``workers`` at a time.

    Each chunk is a Ray task of one CPU; a Ray worker process builds the object once (the
    model bundle or the extractor) and keeps it for every later chunk it runs, in this call
    and the next ones on the same cluster. At most ``workers`` chunks run at once. The method
    returns ``(result, (worker_id, peak_rss_mb))``.

    Yields
    ------
    chunk, result, error
        In completion order; ``error`` is set (and ``result`` is ``None``) when the chunk was
        lost to a failing worker.
    """
    if workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}")
    task = ray.remote(num_cpus=1, max_retries=1)(_call)
    init_ref = ray.put(init_kwargs)
    pending: dict[Any, int] = {}  # future -> chunk index
    queue = list(range(len(chunks)))[::-1]
    stats.workers = min(workers, len(chunks))

    def submit() -> None:
        while queue and len(pending) < workers:
            c = queue.pop()
            pending[task.remote(worker_class, init_ref, method, chunks[c])] = c

    submit()
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            c = pending.pop(done[0])
            submit()
            stats.chunks += 1
            try:
                result, (worker, rss) = ray.get(done[0])
            except ray.exceptions.RayError as exc:
                stats.failed_chunks += 1
                text = str(exc).strip()
                first = text.splitlines()[0] if text else type(exc).__name__
                yield chunks[c], None, f"the Ray worker failed ({first})"
            else:
                stats.worker_peak_rss_mb[worker] = max(stats.worker_peak_rss_mb.get(worker, 0.0),
                                                       rss)
                yield chunks[c], result, None
    finally:
        for fut in pending:
            with contextlib.suppress(Exception):
                ray.cancel(fut)


def worker_id() -> str:
    """``"node:pid"`` of the calling process (inside a Ray worker: its node's IP)."""
    try:
        import ray

        node = ray.util.get_node_ip_address()
    except Exception:  # outside Ray, or an old Ray
        node = "local"
    return f"{node}:{os.getpid()}"


def chunked(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` in consecutive lists of ``size`` (the last may be shorter)."""
    if size < 1:
        raise ConfigError(f"chunk size must be >= 1, got {size}")
    return [list(items[s:s + size]) for s in range(0, len(items), size)]


def default_chunk_size(n: int, workers: int, *, at_most: int) -> int:
    """About four chunks per worker (load balance), at most ``at_most`` items each."""
    return max(1, min(at_most, -(-n // (4 * max(1, workers)))))
