"""The input pipelines of bundles that look at the video: audio-visual and video-only.

A bundle whose model sees faces carries one of these instead of
:class:`~emoscope.features.inputs.AudioInputs`: the sound track goes through the audio pipeline
(decode, mono, resample, the audio feature, its standardiser) and the frames through the face
pipeline (sample, detect, smooth, crop), exactly as in training. Both read video files only.

>>> inputs = bundle.inputs                                   # doctest: +SKIP
>>> (audio, frames), seconds = inputs.load("clip.mp4")       # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from emoscope.errors import AudioError, VideoError
from emoscope.features.inputs import LONG_HINT, InputPipeline, refuse_waveform, with_path

__all__ = ["AudioVisualInputs", "VideoInputs"]


class _VideoFile(InputPipeline):
    needs_video = True

    def from_waveform(self, waveform: np.ndarray, sample_rate: int) -> Any:
        """Refused: this model also needs the frames.

        Raises
        ------
        ConfigError
            Always, pointing to video files.
        """
        raise refuse_waveform()

    def duration(self, path: str | os.PathLike[str]) -> float:
        """How long the video lasts, in seconds (from its header)."""
        from emoscope.video.io import video_info

        return float(video_info(path).duration)

    def load(self, path: str | os.PathLike[str], *, max_duration: float | None = None
             ) -> tuple[Any, float]:
        """The inputs for a whole video file and its duration in seconds.

        Raises
        ------
        AudioError, VideoError
            As :meth:`from_file`; a file longer than ``max_duration`` seconds is refused with a
            hint to use a timeline.
        """
        seconds = self.duration(path)
        if max_duration is not None and seconds > max_duration:
            raise VideoError(f"{seconds:.1f} s is longer than the allowed {max_duration:g} s;"
                             f" {LONG_HINT}", path=path)
        return self.from_file(path, max_duration=max_duration), seconds


class VideoInputs(_VideoFile):
    """Video-only bundles: the face frames ``(T, C, H, W)`` are all the model takes."""

    def from_file(self, path: str | os.PathLike[str], *, offset: float = 0.0,
                  duration: float | None = None, max_duration: float | None = None
                  ) -> np.ndarray:
        """The face frames of ``duration`` seconds of ``path`` from ``offset``.

        Raises
        ------
        VideoError
            Unusable video, or no face with ``fallback: skip``.
        """
        return self.extractor.from_file(path, offset=offset, duration=duration,
                                        max_duration=max_duration)


class AudioVisualInputs(_VideoFile):
    """Audio-visual bundles: the standardised audio feature and the face frames.

    Parameters
    ----------
    extractor : FeatureExtractor
        The audio feature.
    video_extractor : FeatureExtractor
        The face-frames feature.
    standardizer : PartStandardizer, optional
    """

    def __init__(self, extractor: Any, video_extractor: Any, standardizer: Any = None) -> None:
        super().__init__(extractor, standardizer)
        self.video_extractor = video_extractor

    def from_file(self, path: str | os.PathLike[str], *, offset: float = 0.0,
                  duration: float | None = None, max_duration: float | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """The inputs for ``duration`` seconds of ``path`` from ``offset`` (the whole file
        when ``None``).

        Returns
        -------
        (np.ndarray, np.ndarray)
            The standardised audio feature and the face frames ``(T, C, H, W)``, float32.

        Raises
        ------
        AudioError
            Unusable sound track (the path leads the message).
        VideoError
            Unusable video, or no face with ``fallback: skip``.
        """
        from emoscope.audio.io import load_audio
        from emoscope.audio.loudness import check_not_silent

        try:
            y, sr = load_audio(path, offset=offset, duration=duration,
                               sample_rate=self.sample_rate, max_duration=max_duration)
            check_not_silent(y)
            xa = self.extractor(y, sr)
        except AudioError as exc:
            raise with_path(exc, path) from None
        xv = self.video_extractor.from_file(path, offset=offset, duration=duration,
                                            max_duration=max_duration)
        x: tuple[np.ndarray, np.ndarray] = (xa, xv)
        if self.standardizer is not None:
            x = self.standardizer(x)
        return tuple(np.ascontiguousarray(p, dtype=np.float32) for p in x)  # type: ignore[return-value]
