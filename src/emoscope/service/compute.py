"""CPU-bound work off the event loop: a bounded thread pool that coroutines await.

Decoding, features and the model run in :class:`ComputePool`'s threads, never on the event loop,
so one slow prediction does not stall other requests or the WebSocket streams. With one torch
(and BLAS) thread per worker (:func:`configure_threads`), ``workers`` requests are computed at
once, one per core, and the rest wait their turn.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

__all__ = ["ComputePool", "configure_threads", "usable_cpus"]

P = ParamSpec("P")
T = TypeVar("T")

def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def configure_threads() -> Callable[[], None]:
    """One intra-op thread for torch and one for BLAS/OpenMP libraries, process-wide; returns
    a function that restores the previous settings.

    The service computes several requests at once, one per worker thread; letting each also
    spread over every core would oversubscribe the CPU and slow everyone down. Torch reads the
    setting in each thread when it first computes, so call this before the workers start.
    """
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    limits = threadpool_limits(limits=1)

    def restore() -> None:
        limits.restore_original_limits()
        torch.set_num_threads(before)

    return restore


class ComputePool:
    """A fixed number of worker threads for CPU-bound calls, awaited from coroutines.

    Parameters
    ----------
    workers : int
        Threads, so calls computed at once.
    name : str
        Prefix of the threads' names.
    """

    def __init__(self, workers: int, *, name: str = "emoscope-compute") -> None:
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` in a worker thread and return its result.

        Cancelling the awaiting task (a request timeout, a client gone) drops the call if it
        has not started yet; a call already running finishes and its result is dropped.
        """
        return await asyncio.wrap_future(self._pool.submit(fn, *args, **kwargs))

    def shutdown(self) -> None:
        """Drop queued calls and let running ones finish on their own."""
        self._pool.shutdown(wait=False, cancel_futures=True)
