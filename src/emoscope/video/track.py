"""Face tracks: per-frame boxes smoothed over time, and the face crops they give.

A Haar cascade detects each frame on its own, so its box jitters by a few pixels and now and
then misses a frame. The track fills the misses by linear interpolation between the frames
where a face was found (holding the nearest box before the first and after the last), then
smooths every coordinate (centre x, centre y, width, height) with a centred moving average.
A clip where no frame has a face gets the fallback: the centre of the frame, or nothing (the
clip is skipped with :class:`~emoscope.errors.NoFaceError`).

>>> track = face_track("clip.mp4", n_frames=20, window=3.0)      # doctest: +SKIP
>>> track.detected.sum(), track.fallback                          # doctest: +SKIP
(19, False)
>>> crops = crop_faces(track.frames, track.boxes, size=(60, 100), grey=True)
>>> crops.shape                                                   # doctest: +SKIP
(20, 1, 60, 100)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from emoscope.errors import ConfigError, NoFaceError
from emoscope.video.detect import FaceDetector, detect_faces
from emoscope.video.io import read_frames, sample_times, video_info

__all__ = ["FALLBACKS", "FaceTrack", "centre_boxes", "crop_faces", "face_track", "smooth_boxes"]

#: What to do with a clip where no face is found.
FALLBACKS = ("centre", "skip")


@dataclass
class FaceTrack:
    """The sampled frames of a clip and where its face is in each.

    Attributes
    ----------
    frames : np.ndarray [shape=(n, H, W, 3)], uint8
        RGB frames at the working height (blank where ``shown`` is false).
    times : np.ndarray [shape=(n,)]
        Seconds from the start of the clip.
    shown : np.ndarray [shape=(n,)], bool
        Frames inside the clip (the others are padding).
    detected : np.ndarray [shape=(n,)], bool
        Frames where the detector found a face.
    boxes : np.ndarray [shape=(n, 4)], float64
        Smoothed ``x, y, w, h`` per frame, in pixels of ``frames``.
    fallback : bool
        True when no face was found anywhere and ``boxes`` are centre crops.
    """

    frames: np.ndarray
    times: np.ndarray
    shown: np.ndarray
    detected: np.ndarray
    boxes: np.ndarray
    fallback: bool

    def as_array(self) -> np.ndarray:
        """The track as numbers: ``(n, 6)`` float32 rows ``x, y, w, h`` (as fractions of the
        frame width and height), ``detected``, ``shown``."""
        h, w = self.frames.shape[1:3]
        scale = np.array([w, h, w, h], np.float64)
        return np.column_stack([self.boxes / scale, self.detected, self.shown]).astype(
            np.float32)


def smooth_boxes(boxes: np.ndarray, *, window: int = 5) -> np.ndarray | None:
    """Fill frames without a face and smooth the track.

    Parameters
    ----------
    boxes : np.ndarray [shape=(n, 4)]
        ``x, y, w, h`` per frame, NaN rows where no face was found.
    window : int
        Frames of the centred moving average (odd or even, >= 1; 1 leaves the boxes as
        detected). Near the ends the average uses the edge value.

    Returns
    -------
    np.ndarray [shape=(n, 4)] or None
        Filled, smoothed boxes; ``None`` when no frame has a face.
    """
    b = np.asarray(boxes, dtype=np.float64)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ConfigError(f"boxes must have shape (n, 4), got {b.shape}")
    if not isinstance(window, int) or window < 1:
        raise ConfigError(f"window must be a positive integer, got {window!r}")
    ok = np.isfinite(b).all(axis=1)
    if not ok.any():
        return None
    # centre and size vary smoothly; corners do not when the size changes
    c = np.column_stack([b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2, b[:, 2], b[:, 3]])
    idx = np.arange(len(b))
    filled = np.column_stack([np.interp(idx, idx[ok], c[ok, j]) for j in range(4)])
    if window > 1 and len(b) > 1:
        left, right = (window - 1) // 2, window // 2
        padded = np.pad(filled, ((left, right), (0, 0)), mode="edge")
        kernel = np.ones(window) / window
        filled = np.column_stack([np.convolve(padded[:, j], kernel, mode="valid")
                                  for j in range(4)])
    cx, cy, w, h = filled.T
    return np.column_stack([cx - w / 2, cy - h / 2, w, h])


def centre_boxes(n: int, frame_size: tuple[int, int], *, size: tuple[int, int]) -> np.ndarray:
    """The fallback boxes: the largest region with the crop's aspect ratio centred in the frame.

    Parameters
    ----------
    n : int
        Frames.
    frame_size : (int, int)
        ``(H, W)`` of the frames.
    size : (int, int)
        ``(height, width)`` of the crops (only their ratio matters).

    Returns
    -------
    np.ndarray [shape=(n, 4)]
        The same ``x, y, w, h`` for every frame.
    """
    fh, fw = frame_size
    aspect = size[1] / size[0]  # width / height
    w = min(float(fw), fh * aspect)
    h = w / aspect
    return np.tile([(fw - w) / 2, (fh - h) / 2, w, h], (n, 1))


def crop_faces(frames: np.ndarray, boxes: np.ndarray, *, size: tuple[int, int] = (60, 100),
               margin: float = 0.2, grey: bool = True,
               shown: np.ndarray | None = None) -> np.ndarray:
    """Cut each frame's box out, widened to the crop's aspect ratio, and resize it.

    The box grows by ``margin`` (a fraction of its size, on each axis) around its centre, then
    along one axis until it has the aspect ratio of ``size``; parts outside the frame are
    black. Shrinking uses area averaging (no aliasing), enlarging bilinear interpolation.

    Parameters
    ----------
    frames : np.ndarray [shape=(n, H, W, 3)], uint8 RGB
    boxes : np.ndarray [shape=(n, 4)]
        ``x, y, w, h`` per frame (no NaN).
    size : (int, int)
        ``(height, width)`` of the crops.
    margin : float
        Extra room around the box (0.2: 20 % more width and height).
    grey : bool
        One grey channel (ITU-R BT.601 luma) instead of three RGB ones.
    shown : np.ndarray [shape=(n,)], bool, optional
        Frames to crop; the others stay zero.

    Returns
    -------
    np.ndarray [shape=(n, 1 or 3, height, width)], float32 in [0, 1]
    """
    import cv2

    arr = np.asarray(frames)
    b = np.asarray(boxes, dtype=np.float64)
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ConfigError(f"frames must have shape (n, H, W, 3), got {arr.shape}")
    if b.shape != (len(arr), 4) or not np.isfinite(b).all():
        raise ConfigError(f"boxes must be finite with shape ({len(arr)}, 4), got {b.shape}")
    if len(size) != 2 or min(size) < 1:
        raise ConfigError(f"size must be (height, width) >= 1, got {size}")
    if margin < 0:
        raise ConfigError(f"margin must be >= 0, got {margin}")
    out_h, out_w = int(size[0]), int(size[1])
    aspect = out_w / out_h
    out = np.zeros((len(arr), 1 if grey else 3, out_h, out_w), np.float32)
    fh, fw = arr.shape[1:3]
    for i, frame in enumerate(arr):
        if shown is not None and not shown[i]:
            continue
        x, y, w, h = b[i]
        cx, cy = x + w / 2, y + h / 2
        w, h = max(w, 1.0) * (1 + margin), max(h, 1.0) * (1 + margin)
        w, h = (h * aspect, h) if w / h < aspect else (w, w / aspect)
        x0, y0 = round(cx - w / 2), round(cy - h / 2)
        x1, y1 = max(x0 + 1, round(cx + w / 2)), max(y0 + 1, round(cy + h / 2))
        region = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
        sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, fw), min(y1, fh)
        if sx1 > sx0 and sy1 > sy0:
            region[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = frame[sy0:sy1, sx0:sx1]
        shrink = region.shape[0] > out_h
        img = cv2.resize(region, (out_w, out_h),
                         interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        if grey:
            out[i, 0] = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) / 255.0
        else:
            out[i] = img.transpose(2, 0, 1) / 255.0
    return out


def face_track(path: str | os.PathLike[str], *, n_frames: int = 20,
               window: float | None = 3.0, offset: float = 0.0, duration: float | None = None,
               detector: FaceDetector | None = None, smooth: int = 5,
               fallback: str = "centre", crop_size: tuple[int, int] = (60, 100),
               work_height: int | None = 360, max_duration: float | None = None) -> FaceTrack:
    """Sample a clip's frames and follow its face.

    Parameters
    ----------
    path : str or PathLike
        A video file.
    n_frames : int
        Frames to sample (see :func:`~emoscope.video.io.sample_times`).
    window : float, optional
        Seconds the frames span, centred on the clip (``None``: the whole clip).
    offset, duration : float
        The clip is ``duration`` seconds of the file from ``offset`` (``None``: to the end).
    detector : FaceDetector, optional
        The default :class:`FaceDetector` when omitted.
    smooth : int
        Moving-average length of :func:`smooth_boxes`.
    fallback : {"centre", "skip"}
        No face in any frame: centre boxes, or :class:`NoFaceError`.
    crop_size : (int, int)
        ``(height, width)`` of the crops to come (the centre fallback takes their aspect).
    work_height : int, optional
        Frames are scaled to this height before detection (``None``: native size).
    max_duration : float, optional
        Refuse longer videos.

    Raises
    ------
    VideoError
        Unreadable video, no frames, too long.
    NoFaceError
        No face in any frame with ``fallback="skip"``.
    """
    if fallback not in FALLBACKS:
        raise ConfigError(f"fallback must be one of {', '.join(FALLBACKS)}, got {fallback!r}")
    info = video_info(path)
    total = info.duration if info.duration > 0 else None
    if duration is None:
        clip = None if total is None else max(total - offset, 0.0)
    else:
        clip = duration if total is None else min(duration, max(total - offset, 0.0))
    if clip is None or clip <= 0:
        # no usable duration in the header: take the window itself as the clip
        clip = window or (duration or 1.0)
    times, valid = sample_times(clip, n_frames=n_frames, window=window)
    frames, shown = read_frames(path, np.clip(times, 0.0, None), offset=offset,
                                height=work_height, max_duration=max_duration)
    shown &= valid
    det = detector or FaceDetector()
    raw = detect_faces(frames, detector=det, shown=shown)
    detected = np.isfinite(raw).all(axis=1)
    boxes = smooth_boxes(raw, window=smooth)
    if boxes is None:
        if fallback == "skip":
            raise NoFaceError(f"no face found in any of {int(shown.sum())} sampled frames",
                              path=path)
        boxes = centre_boxes(len(frames), frames.shape[1:3], size=crop_size)
    return FaceTrack(frames, times, shown, detected, boxes, fallback=not detected.any())
