"""Face frames: the video side of audio-visual emotion recognition, as cached features.

Unlike the audio features, these read a video file (the manifest's ``video_path`` column),
not a waveform: ``n_frames`` frames are sampled (by default 20 over the middle 3 s, the same
window as an audio feature with ``duration: 3.0``), the face is detected in each (OpenCV's
bundled Haar cascade), the boxes are smoothed over time, and each frame's face is cropped and
resized. See :mod:`emoscope.video`.

================ ============================================ ===========================
name             output                                       what
================ ============================================ ===========================
``face-frames``  ``(n_frames, channels, height, width)``      face crops in [0, 1]
``face-track``   ``(n_frames, 6)``                            boxes (fractions of the frame),
                                                              detected, shown
================ ============================================ ===========================

>>> ext = features.create("face-frames", n_frames=20, height=60, width=100)
>>> ext.from_file("01-01-05-01-01-01-01.mp4").shape                  # doctest: +SKIP
(20, 1, 60, 100)
>>> fs = features.extract_features(manifest, ext)    # reads manifest.video_path, cached

Every option is part of the cache key. A clip without a detectable face gets centre crops
(``fallback: centre``) or is skipped and reported (``fallback: skip``); the ``face-track``
feature (:func:`emoscope.video.report.face_report`) tells which clips had no face.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from emoscope.errors import ConfigError
from emoscope.features.base import FeatureConfig, FeatureExtractor, register_feature


@dataclass(frozen=True)
class FaceTrackConfig(FeatureConfig):
    """Options of :class:`FaceTrackFeature` (and the detection part of face frames).

    Attributes
    ----------
    n_frames : int
        Frames sampled per clip.
    duration : float or None
        Seconds the frames span, centred on the clip (the audio features' ``duration``: the
        middle of a longer clip; a shorter one gets blank frames on both sides). ``None``
        spreads ``n_frames`` over the whole clip.
    detector : str
        ``"haar-default"``, ``"haar-alt"`` or ``"haar-alt2"`` (OpenCV's frontal-face cascades).
    scale_factor, min_neighbors, min_face : float, int, float
        Detector settings (see :class:`emoscope.video.detect.FaceDetector`).
    smooth : int
        Frames of the moving average over the boxes (1: none).
    fallback : {"centre", "skip"}
        A clip with no face in any frame: centre crops, or skipped (reported as failed).
    work_height : int
        Frames are scaled to this height before detection and cropping (0: native size).
    height, width : int
        Crop size (the face-track keeps them: the centre fallback takes their aspect ratio).
    """

    duration: float | None = 3.0
    n_frames: int = 20
    detector: str = "haar-default"
    scale_factor: float = 1.1
    min_neighbors: int = 4
    min_face: float = 0.15
    smooth: int = 5
    fallback: str = "centre"
    work_height: int = 360
    height: int = 60
    width: int = 100


@dataclass(frozen=True)
class FaceFramesConfig(FaceTrackConfig):
    """Options of :class:`FaceFrames`: :class:`FaceTrackConfig` plus the crops' look.

    Attributes
    ----------
    colour : bool
        Three RGB channels instead of one grey channel.
    margin : float
        Room around the detected box (0.2: 20 % wider and taller) before the crop is widened
        to ``height : width``.
    """

    colour: bool = False
    margin: float = 0.2


class _VideoFeature(FeatureExtractor):
    """Shared checks and decoding of the video features (reads files, not waveforms)."""

    Config = FaceTrackConfig
    input_column: ClassVar[str] = "video_path"
    config: FaceTrackConfig

    def validate_config(self) -> None:
        from emoscope.video.detect import CASCADES
        from emoscope.video.track import FALLBACKS

        c = self.config
        if c.trim != "none":
            raise ConfigError(f"{self.name}: trim must be 'none' (frames cannot follow the "
                              "audio's silence trim)")
        if c.n_frames < 1:
            raise ConfigError(f"n_frames must be >= 1, got {c.n_frames}")
        if c.detector not in CASCADES:
            raise ConfigError(f"detector must be one of {', '.join(CASCADES)}, got "
                              f"{c.detector!r}")
        if not c.scale_factor > 1.0 or c.min_neighbors < 0 or not 0 < c.min_face <= 1:
            raise ConfigError("scale_factor must be > 1, min_neighbors >= 0 and min_face in "
                              f"(0, 1]; got {c.scale_factor}, {c.min_neighbors}, {c.min_face}")
        if c.smooth < 1:
            raise ConfigError(f"smooth must be >= 1 frame, got {c.smooth}")
        if c.fallback not in FALLBACKS:
            raise ConfigError(f"fallback must be one of {', '.join(FALLBACKS)}, got "
                              f"{c.fallback!r}")
        if c.work_height < 0 or c.work_height == 1:
            raise ConfigError(f"work_height must be 0 (native) or >= 2, got {c.work_height}")
        if c.height < 1 or c.width < 1:
            raise ConfigError(f"height and width must be >= 1, got {c.height}x{c.width}")

    def extract(self, y: np.ndarray) -> np.ndarray:
        raise ConfigError(f"{self.name} reads video files, not waveforms: use "
                          f"from_file(path) or extract_features (the manifest's video_path)")

    def track(self, path: str | os.PathLike[str], *, offset: float = 0.0,
              duration: float | None = None, max_duration: float | None = None) -> Any:
        """The :class:`~emoscope.video.track.FaceTrack` of one clip with these options."""
        from emoscope.video.detect import FaceDetector
        from emoscope.video.track import face_track

        c = self.config
        det = FaceDetector(c.detector, scale_factor=c.scale_factor,
                           min_neighbors=c.min_neighbors, min_face=c.min_face)
        return face_track(path, n_frames=c.n_frames, window=c.duration, offset=offset,
                          duration=duration, detector=det, smooth=c.smooth,
                          fallback=c.fallback, crop_size=(c.height, c.width),
                          work_height=c.work_height or None, max_duration=max_duration)


@register_feature("face-track")
class FaceTrackFeature(_VideoFeature):
    """Where the face is in each sampled frame.

    Output: ``(n_frames, 6)`` float32 rows ``x, y, w, h`` (the smoothed box, as fractions of
    the frame's width and height), ``detected`` (1 where the detector found a face), ``shown``
    (1 for frames inside the clip).
    """

    Config = FaceTrackConfig
    kind = "sequence"
    config: FaceTrackConfig

    def from_file(self, path: str | os.PathLike[str], *, offset: float = 0.0,
                  duration: float | None = None,
                  max_duration: float | None = None) -> np.ndarray:
        """The face track of a video file (``duration`` seconds from ``offset``)."""
        return self.track(path, offset=offset, duration=duration,
                          max_duration=max_duration).as_array()


@register_feature("face-frames", aliases=("faces",))
class FaceFrames(_VideoFeature):
    """Face crops of ``n_frames`` frames of a video clip.

    Output: ``(n_frames, channels, height, width)`` float32 in [0, 1] (``channels`` 1 for grey,
    3 for colour); frames outside the clip are zero.
    """

    Config = FaceFramesConfig
    kind = "video"
    config: FaceFramesConfig

    def validate_config(self) -> None:
        super().validate_config()
        if self.config.margin < 0:
            raise ConfigError(f"margin must be >= 0, got {self.config.margin}")

    def from_file(self, path: str | os.PathLike[str], *, offset: float = 0.0,
                  duration: float | None = None,
                  max_duration: float | None = None) -> np.ndarray:
        """The face crops of a video file (``duration`` seconds from ``offset``).

        Raises
        ------
        VideoError
            Unreadable video, too long.
        NoFaceError
            No face in any frame with ``fallback="skip"``.
        """
        from emoscope.video.track import crop_faces

        c = self.config
        t = self.track(path, offset=offset, duration=duration, max_duration=max_duration)
        return crop_faces(t.frames, t.boxes, size=(c.height, c.width), margin=c.margin,
                          grey=not c.colour, shown=t.shown)
