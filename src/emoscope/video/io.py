"""Decode video frames with PyAV (FFmpeg): the header, the frame times to sample, the frames.

A clip's frames are sampled at fixed times rather than all decoded into memory: the decoder
runs through the stream once and keeps, for each requested time, the frame on screen at that
moment (the last frame whose timestamp is not after it). Only the chosen frames are converted
to arrays, scaled to a working height first, so memory holds ``n_frames`` small images however
long or large the video is.

>>> times, valid = sample_times(4.2, n_frames=20, window=3.0)   # the middle 3 s, 20 frames
>>> frames, shown = read_frames("clip.mp4", times, height=360)  # doctest: +SKIP
>>> frames.shape                                                # doctest: +SKIP
(20, 360, 640, 3)

The sound track of the same file is read by :func:`emoscope.audio.load_audio`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emoscope.errors import ConfigError, VideoDecodeError, VideoError

__all__ = ["VideoInfo", "read_frames", "sample_times", "video_info"]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds, from its header (no frame decoded).

    Attributes
    ----------
    path : str
    width, height : int
        Frame size in pixels.
    fps : float
        Average frame rate (0.0 when the container does not say).
    duration : float
        Seconds of video (the stream's, else the container's; 0.0 when unknown).
    codec : str
    has_audio : bool
        Whether the file also carries a sound track.
    """

    path: str
    width: int
    height: int
    fps: float
    duration: float
    codec: str
    has_audio: bool


def _reason(exc: BaseException) -> str:
    from emoscope.audio.io import _reason as audio_reason

    return audio_reason(exc)


def _open(path: PathLike):  # returns a PyAV InputContainer with a video stream
    import av

    p = Path(path)
    if not p.is_file():
        raise VideoDecodeError("no such file" if not p.exists() else "not a regular file",
                               path=p)
    if p.stat().st_size == 0:
        raise VideoDecodeError("empty file (0 bytes)", path=p)
    try:
        container = av.open(str(p), mode="r")
    except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
        raise VideoDecodeError(f"not a readable video file ({_reason(exc)})", path=p) from None
    if not container.streams.video:
        container.close()
        raise VideoDecodeError("the file has no video stream", path=p)
    return container


def _duration(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return 0.0


def video_info(path: PathLike) -> VideoInfo:
    """Read a video's header: frame size, rate, duration, codec, whether it has sound.

    Raises
    ------
    VideoDecodeError
        Missing, empty or unreadable file, or one without a video stream.
    """
    with _open(path) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.base_rate
        return VideoInfo(str(path), int(stream.codec_context.width),
                         int(stream.codec_context.height), float(rate) if rate else 0.0,
                         _duration(container, stream), stream.codec_context.name,
                         bool(container.streams.audio))


def sample_times(duration: float, *, n_frames: int, window: float | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The times at which to take ``n_frames`` frames of a clip of ``duration`` seconds.

    The frames are the centres of ``n_frames`` equal slices of a window: the whole clip
    (``window=None``), or ``window`` seconds centred on the clip's middle. The centred window
    matches the audio features' ``duration`` option (the middle of a longer clip, a shorter
    one zero-padded on both sides), so frame ``k`` shows what the audio heard at the same
    moment; times outside the clip are marked invalid (their frames stay blank, as the padded
    audio is silent).

    Parameters
    ----------
    duration : float
        Length of the clip in seconds (> 0).
    n_frames : int
        Frames to take (>= 1); the default recipe is 20 per 3 s.
    window : float, optional
        Seconds the frames span.

    Returns
    -------
    times : np.ndarray [shape=(n_frames,)], float64
        Seconds from the start of the clip, increasing (may be negative or past the end).
    valid : np.ndarray [shape=(n_frames,)], bool
        Whether each time lies inside the clip.
    """
    if not duration > 0:
        raise ConfigError(f"duration must be positive, got {duration}")
    if not isinstance(n_frames, int) or n_frames < 1:
        raise ConfigError(f"n_frames must be a positive integer, got {n_frames!r}")
    if window is not None and not window > 0:
        raise ConfigError(f"window must be positive (seconds), got {window}")
    span = duration if window is None else window
    start = (duration - span) / 2.0
    times = start + (np.arange(n_frames) + 0.5) * span / n_frames
    return times, (times >= 0.0) & (times < duration)


def read_frames(path: PathLike, times: np.ndarray, *, offset: float = 0.0,
                height: int | None = None, max_duration: float | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """The frames on screen at ``times`` (seconds after ``offset``), as RGB images.

    Parameters
    ----------
    path : str or PathLike
    times : np.ndarray [shape=(n,)]
        Increasing times in seconds, relative to ``offset`` (see :func:`sample_times`).
    offset : float
        Where the clip starts in the file (a segment of a longer video); the decoder seeks
        to the key frame before it.
    height : int, optional
        Scale frames to this height (aspect kept, width rounded to even) before converting
        them; the native size when ``None``.
    max_duration : float, optional
        Refuse videos longer than this many seconds (checked on the header).

    Returns
    -------
    frames : np.ndarray [shape=(n, H, W, 3)], uint8
        RGB. A time before the first frame takes the first frame; a time after the last frame
        has ended stays black.
    shown : np.ndarray [shape=(n,)], bool
        Whether a frame was found for each time.

    Raises
    ------
    VideoDecodeError
        Unreadable file, no video stream, no decodable frame, or a corrupt stream before the
        first requested frame.
    VideoError
        Longer than ``max_duration``.
    """
    import av

    t = np.asarray(times, dtype=np.float64)
    if t.ndim != 1 or len(t) == 0:
        raise ConfigError(f"times must be a non-empty 1-D array, got shape {t.shape}")
    if np.any(np.diff(t) < 0):
        raise ConfigError("times must be increasing")
    if offset < 0:
        raise ConfigError(f"offset must be >= 0, got {offset}")
    if height is not None and height < 2:
        raise ConfigError(f"height must be at least 2 pixels, got {height}")
    p = Path(path)
    targets = offset + t
    with _open(p) as container:
        stream = container.streams.video[0]
        total = _duration(container, stream)
        if max_duration is not None and total > max_duration:
            raise VideoError(f"{total:.1f} s is longer than the allowed {max_duration:g} s",
                             path=p)
        cw, ch = int(stream.codec_context.width), int(stream.codec_context.height)
        if cw <= 0 or ch <= 0:
            raise VideoDecodeError("video stream without a frame size", path=p)
        out_h = ch if height is None else int(height)
        out_w = cw if height is None else max(2, 2 * round(cw * out_h / ch / 2))
        frames = np.zeros((len(t), out_h, out_w, 3), np.uint8)
        shown = np.zeros(len(t), bool)
        rate = stream.average_rate or stream.base_rate
        frame_step = 1.0 / float(rate) if rate else 0.0
        first = float(targets[0])
        if first > 2.0:  # seek to the key frame before the first wanted time
            try:
                container.seek(int((first - 1.0) * av.time_base), backward=True,
                               any_frame=False)
            except av.FFmpegError:
                container.seek(0)

        def to_array(frame: av.VideoFrame) -> np.ndarray:
            return frame.to_ndarray(width=out_w, height=out_h, format="rgb24")

        k, prev, prev_arr, prev_time, decoded = 0, None, None, 0.0, 0
        try:
            for frame in container.decode(stream):
                decoded += 1
                ft = frame.time
                if ft is None:  # no timestamp: count frames
                    ft = (decoded - 1) * frame_step
                while k < len(t) and targets[k] < ft:
                    # the wanted moment came before this frame: the previous one was on screen
                    src = prev if prev is not None else frame
                    if prev is not None and prev_arr is None:
                        prev_arr = to_array(prev)
                    frames[k] = prev_arr if prev is not None else to_array(src)
                    shown[k] = True
                    k += 1
                if k >= len(t):
                    break
                prev, prev_arr, prev_time = frame, None, float(ft)
        except av.FFmpegError as exc:
            if prev is None and not shown.any():
                raise VideoDecodeError(f"corrupt video stream ({_reason(exc)})",
                                       path=p) from None
            # a truncated file: keep what decoded, as players do
        if prev is None and not shown.any():
            raise VideoDecodeError("no video frames in the file", path=p)
        # wanted times after the last frame: it stays on screen for one frame's duration
        last_arr = None
        while k < len(t) and prev is not None and targets[k] < prev_time + max(frame_step,
                                                                                1e-3):
            last_arr = to_array(prev) if last_arr is None else last_arr
            frames[k] = last_arr
            shown[k] = True
            k += 1
    return frames, shown
