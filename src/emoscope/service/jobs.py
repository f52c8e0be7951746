"""Background analyses of long recordings: a bounded queue in front of a few worker threads.

``POST /v1/analyses`` reserves a slot (:meth:`JobRunner.reserve`, 429 when ``max_jobs``
analyses are already queued or running), stores the upload in a temporary file of the
server's, and hands both to :meth:`JobRunner.submit`. A worker marks the analysis ``running``,
computes its timeline (:func:`emoscope.inference.timeline.timeline`) and stores it (``done``),
or stores why it could not (``failed``). The temporary file is deleted in every case.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from emoscope.errors import AudioError, EmoscopeError
from emoscope.inference.timeline import timeline
from emoscope.service.errors import BusyError, StoreError, error_for
from emoscope.service.store import INTERRUPTED, Store

if TYPE_CHECKING:
    from emoscope.inference.predictor import Predictor

__all__ = ["JobRunner"]

log = logging.getLogger("emoscope.service")

#: What the owner of an analysis that failed unexpectedly reads (the details are in the log).
INTERNAL_FAILURE = "the analysis failed because of an error in the server; see its log"


class JobRunner:
    """Run analyses in the background, at most ``max_jobs`` queued or running.

    Parameters
    ----------
    predictor : Predictor
    store : Store
    max_jobs : int
        Analyses queued or running at once.
    workers : int
        Analyses computed at once.
    """

    def __init__(self, predictor: Predictor, store: Store, *, max_jobs: int,
                 workers: int) -> None:
        self.predictor = predictor
        self.store = store
        self.max_jobs = max_jobs
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="emoscope-job")
        self._lock = threading.Lock()
        self._slots = 0  # reserved, queued or running

    @property
    def in_flight(self) -> int:
        """Analyses reserved, queued or running."""
        with self._lock:
            return self._slots

    def reserve(self) -> None:
        """Take a slot for an analysis about to be submitted.

        Raises
        ------
        BusyError
            ``max_jobs`` analyses are already queued or running.
        """
        with self._lock:
            if self._slots >= self.max_jobs:
                raise BusyError(f"the server is already analysing {self.max_jobs} "
                                "recording(s); try again when one has finished")
            self._slots += 1

    def release(self) -> None:
        """Give back a slot taken with :meth:`reserve` that was not submitted."""
        with self._lock:
            self._slots = max(0, self._slots - 1)

    def submit(self, analysis_id: str, path: Path, *, vad: bool = True) -> None:
        """Analyse the recording at ``path`` (a file of the server's, deleted afterwards) in
        the background, in the slot reserved for it."""
        future = self._pool.submit(self._run, analysis_id, path, vad)
        future.add_done_callback(lambda f: self._done(analysis_id, path, f))

    def _run(self, analysis_id: str, path: Path, vad: bool) -> None:
        try:
            self.store.set_running(analysis_id)
            result = timeline(path, self.predictor, vad=vad)
            self.store.finish(analysis_id, result)
        except AudioError as exc:
            self._fail(analysis_id, exc.reason)
        except EmoscopeError as exc:
            log.warning("analysis %s failed: %s", analysis_id, exc)
            self._fail(analysis_id, error_for(exc)[2])
        except Exception:
            log.exception("analysis %s failed unexpectedly", analysis_id)
            self._fail(analysis_id, INTERNAL_FAILURE)

    def _fail(self, analysis_id: str, message: str) -> None:
        try:
            self.store.fail(analysis_id, message)
        except StoreError:
            log.exception("cannot record the failure of analysis %s", analysis_id)

    def _done(self, analysis_id: str, path: Path, future: Future[None]) -> None:
        if future.cancelled():  # dropped from the queue at shutdown
            self._fail(analysis_id, INTERRUPTED)
        path.unlink(missing_ok=True)
        with self._lock:
            self._slots = max(0, self._slots - 1)

    def shutdown(self) -> None:
        """Drop queued analyses (marked ``failed``); a running one finishes on its own."""
        self._pool.shutdown(wait=False, cancel_futures=True)
