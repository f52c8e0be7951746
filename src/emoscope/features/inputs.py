"""A model bundle's input pipeline: from a waveform or a file to what its model takes.

Training and inference see the same preprocessing because both go through the bundle's
pipeline: decode (any format the audio layer reads, or a video's sound track), mono mix-down,
resampling, the silence check, the feature extractor (its own trim and fixed duration) and the
standardiser fitted on the training set.

:class:`AudioInputs` is the pipeline of audio bundles; the audio-visual and video-only pipelines
(:mod:`emoscope.video.inputs`) follow the same interface, so the Predictor, the timelines and the
service never ask which kind of bundle they hold.

>>> inputs = AudioInputs(extractor, standardizer)          # doctest: +SKIP
>>> x, seconds = inputs.load("clip.wav", max_duration=600)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from emoscope.errors import AudioError, AudioTooLongError, ConfigError

__all__ = ["LONG_HINT", "AudioInputs", "InputPipeline", "with_path"]

#: How a too-long file's error message points to the right tool.
LONG_HINT = "use a timeline (--timeline) for long recordings"

#: One example for the model: an array, or a tuple of arrays (one per input, audio-visual).
Example = np.ndarray | tuple[np.ndarray, ...]


def with_path(exc: AudioError, path: str | os.PathLike[str]) -> AudioError:
    """``exc`` with ``path`` leading its message (unchanged when it names one already)."""
    return exc if exc.path is not None else type(exc)(exc.reason, path=path)


class InputPipeline:
    """The interface every bundle's input pipeline has.

    Attributes
    ----------
    extractor : FeatureExtractor
        The (first) feature extractor; its ``config.sample_rate`` is the model's rate.
    standardizer : Standardizer or PartStandardizer or None
    needs_video : bool
        Whether the model looks at a video's frames: it then predicts from video files only.
    """

    needs_video: bool = False

    def __init__(self, extractor: Any, standardizer: Any = None) -> None:
        self.extractor = extractor
        self.standardizer = standardizer

    @property
    def sample_rate(self) -> int:
        """The rate the audio feature is computed at (any input rate is resampled)."""
        return int(self.extractor.config.sample_rate)

    def from_waveform(self, waveform: np.ndarray, sample_rate: int) -> Example:
        """The model's input for one clip of audio."""
        raise NotImplementedError

    def from_file(self, path: str | os.PathLike[str], *, offset: float = 0.0,
                  duration: float | None = None, max_duration: float | None = None) -> Example:
        """The model's input for ``duration`` seconds of ``path`` from ``offset`` (the rest of
        the file when ``None``)."""
        raise NotImplementedError

    def duration(self, path: str | os.PathLike[str]) -> float:
        """How long ``path`` lasts, in seconds, from its header."""
        raise NotImplementedError

    def load(self, path: str | os.PathLike[str], *, max_duration: float | None = None
             ) -> tuple[Example, float]:
        """The model's input for a whole file, and the file's duration in seconds."""
        raise NotImplementedError


class AudioInputs(InputPipeline):
    """The pipeline of audio bundles: decode, silence check, feature, standardiser."""

    def from_waveform(self, waveform: np.ndarray, sample_rate: int) -> np.ndarray:
        """The bundle's (standardised) features of one clip.

        Parameters
        ----------
        waveform : np.ndarray [shape=(n,) or (channels, n)], floating point
        sample_rate : int

        Returns
        -------
        np.ndarray
            ``(dim,)``, ``(frames, dim)`` or ``(channels, height, width)`` by feature kind,
            float32, C-contiguous.

        Raises
        ------
        AudioError
            Not a float waveform; empty, non-finite, silent, or too short for the feature.
        """
        from emoscope.audio.loudness import check_not_silent

        y = np.asarray(waveform)
        if not np.issubdtype(y.dtype, np.floating):
            raise AudioError(f"expected a float waveform, got {y.dtype}")
        if not np.isfinite(y).all():
            raise AudioError("waveform holds NaN or infinite samples")
        check_not_silent(y)
        x = self.extractor(y, sample_rate)
        if self.standardizer is not None and self.extractor.kind in ("vector", "sequence"):
            x = self.standardizer(x)
        return np.ascontiguousarray(x, dtype=np.float32)

    def from_file(self, path: str | os.PathLike[str], *, offset: float = 0.0,
                  duration: float | None = None, max_duration: float | None = None
                  ) -> np.ndarray:
        """Decode a stretch of ``path`` and return :meth:`from_waveform` of it.

        Raises
        ------
        AudioError
            Unreadable, empty, silent, too short, or longer than ``max_duration`` seconds (the
            message then suggests a timeline); the path leads the message.
        """
        from emoscope.audio.io import load_audio

        try:
            y, sr = load_audio(path, offset=offset, duration=duration,
                               sample_rate=self.sample_rate, max_duration=max_duration)
        except AudioTooLongError as exc:
            raise AudioTooLongError(f"{exc.reason}; {LONG_HINT}", path=path) from None
        try:
            return self.from_waveform(y, sr)
        except AudioError as exc:
            raise with_path(exc, path) from None

    def duration(self, path: str | os.PathLike[str]) -> float:
        """How long ``path`` lasts, in seconds (from its header)."""
        from emoscope.audio.io import audio_info

        return float(audio_info(path).duration)

    def load(self, path: str | os.PathLike[str], *, max_duration: float | None = None
             ) -> tuple[np.ndarray, float]:
        """The features of a whole file and its duration in seconds (the waveform is
        dropped).

        Raises
        ------
        AudioError
            As :meth:`from_file`.
        """
        from emoscope.audio.io import load_audio

        try:
            y, sr = load_audio(path, sample_rate=self.sample_rate, max_duration=max_duration)
        except AudioTooLongError as exc:
            raise AudioTooLongError(f"{exc.reason}; {LONG_HINT}", path=path) from None
        try:
            return self.from_waveform(y, sr), y.shape[-1] / sr
        except AudioError as exc:
            raise with_path(exc, path) from None


def refuse_waveform() -> ConfigError:
    """The error of a pipeline that needs a video file, given a waveform."""
    return ConfigError("this model also looks at the video: predict from a video file "
                       "(predict_file, emoscope predict clip.mp4), not from a waveform")
