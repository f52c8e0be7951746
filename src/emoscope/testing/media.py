"""Write small video files with a sound track (PyAV), for tests of audio-from-video decoding."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

__all__ = ["write_video"]

#: (audio codec, video codec) that each container accepts and FFmpeg's bundled encoders provide.
_CODECS = {
    ".mp4": ("aac", "mpeg4"),
    ".m4v": ("aac", "mpeg4"),
    ".mov": ("aac", "mpeg4"),
    ".mkv": ("libopus", "mpeg4"),
    ".avi": ("mp3", "mpeg4"),
    ".flv": ("aac", "flv"),
}


def write_video(path: str | os.PathLike[str], y: np.ndarray | None, sr: int = 16000, *,
                fps: int = 10, size: tuple[int, int] = (64, 48),
                seconds: float | None = None, frames: np.ndarray | None = None) -> Path:
    """Write a video with moving grey frames (or ``frames``) and ``y`` as its (mono) sound
    track.

    Parameters
    ----------
    path : str or PathLike
        ``.mp4``, ``.avi``, ``.flv``, ``.mkv``, ``.mov``; the container follows the extension.
    y : np.ndarray [shape=(n,)] or None
        The sound track; ``None`` writes a silent video with no audio stream.
    sr : int
    fps : int
    size : (width, height)
    seconds : float, optional
        Video length; defaults to the audio's.
    frames : np.ndarray [shape=(n, H, W, 3)], uint8 RGB, optional
        The pictures to encode, one per frame (``size`` and ``seconds`` then follow from
        them); moving grey frames when omitted.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    acodec, vcodec = _CODECS[p.suffix.lower()]
    if frames is not None:
        size, seconds = (frames.shape[2], frames.shape[1]), len(frames) / fps
    dur = seconds if seconds is not None else (len(y) / sr if y is not None else 1.0)
    with av.open(str(p), mode="w") as out:
        vs = out.add_stream(vcodec, rate=fps)
        vs.width, vs.height = size
        vs.pix_fmt = "yuv420p"
        a_stream = None
        if y is not None:
            rate = sr if acodec != "libopus" else 48000
            a_stream = out.add_stream(acodec, rate=rate)
            a_stream.layout = "mono"
        for i in range(max(1, round(dur * fps))):
            img = (frames[i] if frames is not None
                   else np.full((size[1], size[0], 3), (i * 7) % 255, np.uint8))
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            for pkt in vs.encode(frame):
                out.mux(pkt)
        for pkt in vs.encode():
            out.mux(pkt)
        if a_stream is not None and y is not None:
            from emoscope.audio.dsp import resample

            data = resample(y.astype(np.float32), sr, a_stream.rate) if a_stream.rate != sr else y
            fsize = a_stream.codec_context.frame_size or 1024
            pts = 0
            for start in range(0, len(data), fsize):
                chunk = np.ascontiguousarray(data[start:start + fsize], dtype=np.float32)
                if len(chunk) < fsize and a_stream.codec_context.frame_size:
                    chunk = np.pad(chunk, (0, fsize - len(chunk)))
                # PyAV converts fltp to the encoder's own sample format when encoding
                frame = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
                frame.sample_rate = a_stream.rate
                frame.pts = pts
                frame.time_base = Fraction(1, a_stream.rate)
                pts += chunk.shape[0]
                for pkt in a_stream.encode(frame):
                    out.mux(pkt)
            for pkt in a_stream.encode():
                out.mux(pkt)
    return p
