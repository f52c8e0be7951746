"""Features of one video file for a bundle that looks at the video (audio-visual or video-only).

:meth:`emoscope.inference.Predictor.load_features` hands video files here when its bundle has a
face-frames extractor: the sound track goes through the bundle's audio pipeline (decode, mono,
resample, the audio feature, its standardiser) and the frames through the face pipeline
(sample, detect, smooth, crop), exactly as in training.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from emoscope.errors import AudioError, VideoError

__all__ = ["load_video_features", "window_features"]


def window_features(predictor: Any, path: str | os.PathLike[str], *, offset: float = 0.0,
                    duration: float | None = None, max_duration: float | None = None
                    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The bundle's inputs for ``duration`` seconds of ``path`` from ``offset`` (the whole file
    when ``None``).

    Returns
    -------
    np.ndarray or (np.ndarray, np.ndarray)
        Video-only bundles: the face frames ``(T, C, H, W)``. Audio-visual bundles: the
        standardised audio feature and the face frames.

    Raises
    ------
    AudioError
        Unusable sound track (the path leads the message).
    VideoError
        Unusable video, or no face with ``fallback: skip``.
    """
    from emoscope.audio.io import load_audio
    from emoscope.inference.predictor import check_not_silent

    if predictor.video_extractor is None:  # a video-only bundle: the frames are all it needs
        return predictor.extractor.from_file(path, offset=offset, duration=duration,
                                             max_duration=max_duration)
    try:
        y, sr = load_audio(path, offset=offset, duration=duration,
                           sample_rate=predictor.sample_rate, max_duration=max_duration)
        check_not_silent(y)
        xa = predictor.extractor(y, sr)
    except AudioError as exc:
        if exc.path is None:
            raise type(exc)(exc.reason, path=path) from None
        raise
    xv = predictor.video_extractor.from_file(path, offset=offset, duration=duration,
                                             max_duration=max_duration)
    x: tuple[np.ndarray, np.ndarray] = (xa, xv)
    std = predictor.bundle.standardizer
    if std is not None:
        x = std(x)
    return tuple(np.ascontiguousarray(p, dtype=np.float32) for p in x)  # type: ignore[return-value]


def load_video_features(predictor: Any, path: str | os.PathLike[str], *,
                        max_duration: float | None = None
                        ) -> tuple[np.ndarray | tuple[np.ndarray, np.ndarray], float]:
    """The bundle's inputs for a whole video file and its duration in seconds.

    Raises
    ------
    AudioError, VideoError
        As :func:`window_features`; a file longer than ``max_duration`` seconds is refused
        with a hint to use a timeline.
    """
    from emoscope.inference.predictor import LONG_HINT
    from emoscope.video.io import video_info

    info = video_info(path)
    if max_duration is not None and info.duration > max_duration:
        raise VideoError(f"{info.duration:.1f} s is longer than the allowed {max_duration:g} s;"
                         f" {LONG_HINT}", path=path)
    return window_features(predictor, path, max_duration=max_duration), info.duration
