"""Video: frames, faces and the audio-visual side of emoscope.

=========================== ==================================================================
module                      what
=========================== ==================================================================
``emoscope.video.io``       decode frames with PyAV: header, sample times, the frames at them
``emoscope.video.detect``   face detection with OpenCV's bundled Haar cascades
``emoscope.video.track``    face tracks: boxes smoothed over time, crops, the centre fallback
``emoscope.video.config``   the ``video`` section of an experiment config
``emoscope.video.compare``  audio-only vs video-only vs fused: one table
``emoscope.video.inputs``   the audio-visual and video-only input pipelines a bundle carries
=========================== ==================================================================

The training side lives in :mod:`emoscope.train`: :mod:`emoscope.train.paired` (face frames paired
with audio features, ``faces.csv``) and :mod:`emoscope.train.contrastive` (contrastive audio-video
pre-training). The features are ``face-frames`` and ``face-track``
(:mod:`emoscope.features.face_frames`);
the models ``video-3dcnn``, ``av-fusion`` and ``av-late-fusion`` (:mod:`emoscope.models`).

>>> from emoscope.video import face_track, crop_faces
>>> t = face_track("01-01-05-01-01-01-01.mp4", n_frames=20, window=3.0)   # doctest: +SKIP
>>> crop_faces(t.frames, t.boxes, size=(60, 100)).shape                   # doctest: +SKIP
(20, 1, 60, 100)
"""

from __future__ import annotations

from emoscope.video.detect import CASCADES, FaceDetector, detect_faces
from emoscope.video.io import VideoInfo, read_frames, sample_times, video_info
from emoscope.video.track import (
    FALLBACKS,
    FaceTrack,
    centre_boxes,
    crop_faces,
    face_track,
    smooth_boxes,
)

__all__ = [
    "CASCADES",
    "FALLBACKS",
    "FaceDetector",
    "FaceTrack",
    "VideoInfo",
    "centre_boxes",
    "crop_faces",
    "detect_faces",
    "face_track",
    "read_frames",
    "sample_times",
    "smooth_boxes",
    "video_info",
]
