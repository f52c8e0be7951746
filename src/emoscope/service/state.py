"""What a running service holds: the model, the store, the limits, the job runner.

:class:`Service` is ``app.state.service`` while the app runs; the routes and the WebSocket read
it from there. :func:`emoscope.service.app.create_app` builds it at start-up and only wires.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emoscope.errors import AudioTooLongError
from emoscope.service.compute import ComputePool
from emoscope.service.jobs import JobRunner
from emoscope.service.limits import Limits
from emoscope.service.store import AnalysisRecord, Store

if TYPE_CHECKING:
    from emoscope.inference.predictor import Prediction, Predictor

__all__ = ["Service", "model_version", "warm_up"]


def model_version(predictor: Predictor) -> str:
    """A short digest (12 hex digits) of the bundle's files: a new model, a new version."""
    h = hashlib.sha256()
    root = Path(predictor.bundle.path)
    for name in ("bundle.json", "weights.safetensors", "model.pkl"):
        p = root / name
        if p.is_file():
            h.update(name.encode())
            with open(p, "rb") as fh:
                for block in iter(functools.partial(fh.read, 1 << 20), b""):
                    h.update(block)
    return h.hexdigest()[:12]


@dataclass
class Service:
    """What a running app holds (``app.state.service``).

    Attributes
    ----------
    predictor : Predictor
        One for every request, warmed up.
    store : Store
    limits : Limits
    token : str or None
    compute : ComputePool
        Predictions and stream pushes.
    jobs : JobRunner
        Background analyses.
    upload_dir : Path
        The server's folder for uploads in progress.
    version : str
        The model's version (:func:`model_version`).
    info : dict
        The model's description (``GET /v1/models``).
    streams : int
        WebSocket streams open now.
    """

    predictor: Predictor
    store: Store
    limits: Limits
    token: str | None
    compute: ComputePool
    jobs: JobRunner
    upload_dir: Path
    version: str
    info: dict[str, Any] = field(default_factory=dict)
    streams: int = 0

    def predict_file(self, path: Path) -> tuple[Prediction, float]:
        """The prediction and duration (seconds) of a clip stored at ``path``.

        Raises
        ------
        AudioError
            Not audio, empty, silent, too short, or longer than ``limits.max_clip_duration``.
        """
        from emoscope.audio.io import audio_info, load_audio

        limit = self.limits.max_clip_duration
        seconds = audio_info(path).duration
        if seconds > limit:
            raise AudioTooLongError(f"the clip is {seconds:.1f} s long, longer than the "
                                    f"{limit:g} s this server takes in one prediction; send "
                                    "long recordings to POST /v1/analyses")
        y, sr = load_audio(path, sample_rate=self.predictor.sample_rate, max_duration=limit)
        probs = self.predictor.predict_proba([y], sr)[0]
        return self.predictor.prediction(probs), y.shape[-1] / sr

    def queue_analysis(self, path: Path, *, filename: str | None, vad: bool,
                       handed_over: threading.Event) -> AnalysisRecord:
        """Store a new analysis and submit its job (in the slot reserved for it), then set
        ``handed_over``: from then on the job owns the slot and the file at ``path``."""
        record = self.store.create(filename=filename, model_version=self.version)
        self.jobs.submit(record.id, path, vad=vad)
        handed_over.set()
        return record

    def check_recording(self, path: Path) -> float:
        """The duration of a recording for a background analysis, read from its header.

        Raises
        ------
        AudioError
            Not audio, empty, or longer than ``limits.max_duration``.
        """
        from emoscope.audio.io import audio_info

        seconds = audio_info(path).duration
        if seconds > self.limits.max_duration:
            raise AudioTooLongError(f"the recording is {seconds:.1f} s long, longer than the "
                                    f"{self.limits.max_duration:g} s this server analyses")
        return seconds


def warm_up(predictor: Predictor) -> None:
    """The first prediction and the first VAD frames, before any client waits for them."""
    from emoscope.inference.stream import StreamingPredictor

    predictor.warmup()
    engine = StreamingPredictor(predictor, vad=True)
    rng = np.random.default_rng(0)
    engine.push((0.01 * rng.standard_normal(predictor.sample_rate)).astype(np.float32),
                predictor.sample_rate)
    engine.flush()
