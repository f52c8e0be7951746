"""The Predictor: a model bundle turned into ``waveform -> per-label probabilities``.

Every way of using a trained model (files, long recordings, live audio, the HTTP service) goes
through a :class:`Predictor`, so they all see the same preprocessing as training did: the
bundle's feature extractor (mono mix-down, resampling, silence trim, the feature itself), its
standardiser and its model.

>>> from emoscope.inference import Predictor
>>> p = Predictor.from_bundle()                     # the shipped default model  # doctest: +SKIP
>>> p.predict(y, sr)                                # doctest: +SKIP
Prediction(label='angry', probabilities={'angry': 0.81, ...})
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emoscope.audio.loudness import SILENCE_DBFS, check_not_silent
from emoscope.bundle import Bundle, load_bundle
from emoscope.errors import BundleError
from emoscope.features.inputs import LONG_HINT

__all__ = [
    "DEFAULT_MAX_DURATION",
    "LONG_HINT",
    "SILENCE_DBFS",
    "Prediction",
    "Predictor",
    "check_not_silent",
    "default_bundle_path",
]

#: Longest clip :meth:`Predictor.predict_file` accepts, in seconds (use a timeline beyond).
DEFAULT_MAX_DURATION = 600.0


@dataclass(frozen=True)
class Prediction:
    """One clip's result: the most probable label and every label's probability."""

    label: str
    probabilities: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "probabilities": dict(self.probabilities)}


def default_bundle_path() -> Path:
    """Where the shipped default model lives (inside the installed package).

    ``EMOSCOPE_DEFAULT_BUNDLE`` overrides it (a bundle folder).
    """
    env = os.environ.get("EMOSCOPE_DEFAULT_BUNDLE")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "assets" / "default_model"


class Predictor:
    """Per-label probabilities from waveforms, with a model bundle's whole pipeline.

    Build it with :meth:`from_bundle`. It is not thread-safe for concurrent calls that change
    torch's thread count; concurrent ``predict`` calls are otherwise fine (no state is kept).

    Attributes
    ----------
    labels : list of str
        The output order of :meth:`predict_proba` columns.
    sample_rate : int
        The rate the model's features are computed at (any input rate is resampled).
    bundle : emoscope.bundle.Bundle
    inputs : emoscope.features.inputs.InputPipeline
        The bundle's input pipeline (waveform or file -> model input).
    """

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.labels: list[str] = list(bundle.labels)
        self.extractor = bundle.extractor
        self.inputs = bundle.inputs
        self.sample_rate: int = self.inputs.sample_rate
        #: Audio-visual bundles: the face-frames extractor beside the audio one (else None).
        self.video_extractor = bundle.video_extractor

    @property
    def needs_video(self) -> bool:
        """Whether the model looks at a video's frames (audio-visual or video-only bundles):
        it then predicts from video files only (:meth:`predict_file`), not from waveforms."""
        return self.inputs.needs_video

    @classmethod
    def from_bundle(cls, path: str | os.PathLike[str] | None = None, *,
                    trusted: bool = False) -> Predictor:
        """Load a bundle folder (``None``: the shipped default model).

        Parameters
        ----------
        path : path, optional
        trusted : bool
            Allow a pickled scikit-learn model (SVM, gradient boosting) to be unpickled; only
            for bundles from a source you trust.

        Raises
        ------
        BundleError
            Missing, corrupt, incomplete or too new a bundle; no default model installed.
        """
        if path is None:
            path = default_bundle_path()
            if not (Path(path) / "bundle.json").is_file():
                raise BundleError(f"no default model found at {path}; pass a bundle "
                                  "(--bundle DIR) or reinstall emoscope")
        return cls(load_bundle(path, trusted=trusted))

    def __repr__(self) -> str:
        m = self.bundle.meta
        return (f"{type(self).__name__}({m['model']['name']} on {m['features']['name']}, "
                f"labels={self.labels}, from {self.bundle.path})")

    @property
    def info(self) -> dict[str, Any]:
        """The bundle's description: labels, model, features, metrics, version, model card."""
        m = self.bundle.meta
        card = self.bundle.path / "MODEL_CARD.md"
        return {"labels": self.labels, "model": m["model"]["name"],
                "features": m["features"], "metrics": m.get("metrics"),
                "emoscope_version": m.get("emoscope_version"), "created": m.get("created"),
                "model_card": card.read_text() if card.is_file() else None}

    def warmup(self) -> None:
        """Run one prediction on generated audio, so that the first real call does not pay for
        lazy imports and first-call allocations (live use, servers)."""
        rng = np.random.default_rng(0)
        t = np.arange(self.sample_rate) / self.sample_rate
        y = (0.1 * np.sin(2 * np.pi * 220.0 * t) + 0.01 * rng.standard_normal(t.shape))
        self.predict(y.astype(np.float32), self.sample_rate)

    # ---------------------------------------------------------------- features -> probabilities

    def features(self, waveform: np.ndarray, sample_rate: int) -> np.ndarray:
        """The bundle's (standardised) features of one clip.

        Parameters
        ----------
        waveform : np.ndarray [shape=(n,) or (channels, n)], floating point
        sample_rate : int

        Returns
        -------
        np.ndarray
            ``(dim,)``, ``(frames, dim)`` or ``(channels, height, width)`` by feature kind.

        Raises
        ------
        AudioError
            Empty, non-finite, silent, or too short for the feature.
        """
        return self.inputs.from_waveform(waveform, sample_rate)

    def proba_from_features(self, feats: Sequence[np.ndarray]) -> np.ndarray:
        """Probabilities ``(len(feats), n_labels)`` from :meth:`features` outputs."""
        return self.bundle.proba(list(feats), batch_size=max(1, len(feats)))

    # ------------------------------------------------------------------------- public calls

    def predict_proba(self, waveforms: Sequence[np.ndarray], sample_rate: int, *,
                      batch_size: int = 16) -> np.ndarray:
        """Probabilities of several clips at one rate.

        Parameters
        ----------
        waveforms : sequence of np.ndarray [shape=(n_i,) or (channels, n_i)]
        sample_rate : int
        batch_size : int
            Clips per forward pass.

        Returns
        -------
        np.ndarray [shape=(len(waveforms), len(labels))], float32, rows sum to 1

        Raises
        ------
        AudioError
            For the first bad clip: one bad clip fails the call (to skip bad files and go on,
            use :func:`emoscope.inference.batch.predict_files`).
        """
        out = []
        for s in range(0, len(waveforms), batch_size):
            feats = [self.features(w, sample_rate) for w in waveforms[s:s + batch_size]]
            out.append(self.proba_from_features(feats))
        if not out:
            return np.zeros((0, len(self.labels)), np.float32)
        return np.concatenate(out)

    def prediction(self, probs: np.ndarray) -> Prediction:
        """A :class:`Prediction` from one row of probabilities ``(n_labels,)``."""
        p = np.asarray(probs, dtype=np.float64)
        return Prediction(self.labels[int(np.argmax(p))],
                          {lab: float(v) for lab, v in zip(self.labels, p, strict=True)})

    def predict(self, waveform: np.ndarray, sample_rate: int) -> Prediction:
        """The label and probabilities of one clip (any rate, mono or multichannel).

        Raises
        ------
        AudioError
            Empty, non-finite, silent, or too short a waveform.
        """
        return self.prediction(self.predict_proba([waveform], sample_rate)[0])

    def load_features(self, path: str | os.PathLike[str], *,
                      max_duration: float | None = DEFAULT_MAX_DURATION
                      ) -> tuple[np.ndarray | tuple[np.ndarray, ...], float]:
        """Decode a file (any format the audio layer reads, or a video's audio track) and
        return its features (as :meth:`features`) and its duration in seconds; the waveform
        is dropped. An audio-visual bundle returns ``(audio features, face frames)`` of a
        video file (see :mod:`emoscope.video.inputs`).

        Raises
        ------
        AudioError
            Unreadable, empty, silent, too short, or longer than ``max_duration`` seconds (the
            message then suggests a timeline for long recordings); the path leads the message.
        VideoError
            For bundles that look at the video: no video stream, no face (``fallback: skip``).
        """
        return self.inputs.load(path, max_duration=max_duration)

    def predict_file(self, path: str | os.PathLike[str], *,
                     max_duration: float | None = DEFAULT_MAX_DURATION) -> Prediction:
        """The label and probabilities of a whole file (see :meth:`load_features`)."""
        x, _ = self.load_features(path, max_duration=max_duration)
        return self.prediction(self.proba_from_features([x])[0])
