"""Decode any audio file, or the audio track of a video, into float32 numpy arrays.

Two back-ends, tried in order:

* **soundfile** (libsndfile): WAV (8/16/24/32-bit integer and 32/64-bit float), FLAC, OGG Vorbis and
  Opus, MP3, AIFF and more. libsndfile reads the format from the content, so AIFF data behind a
  ``.wav`` name decodes as AIFF.
* **PyAV** (FFmpeg): everything else, notably the audio track of video files (mp4, avi, flv, mkv)
  and AAC/M4A.

Every failure becomes an :class:`~emoscope.errors.AudioError` naming the file and the reason.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from emoscope.audio.dsp import StreamResampler, resample, to_mono
from emoscope.audio.formats import sniff_format
from emoscope.errors import AudioDecodeError, AudioTooLongError, ConfigError, EmptyAudioError

__all__ = ["AudioInfo", "audio_info", "iter_blocks", "load_audio"]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds, read from its header (no full decode).

    Attributes
    ----------
    path : str
    sample_rate : int
        Native rate in Hz.
    channels : int
    frames : int
        Samples per channel (estimated from the stream duration for compressed video tracks).
    duration : float
        Seconds.
    format : str
        Container format found in the content (``wav``, ``aiff``, ``flac``, ``mp4``, ...).
    subtype : str or None
        Sample encoding when known (``PCM_16``, ``FLOAT``, ``VORBIS``, ``aac``, ...).
    backend : str
        ``"soundfile"`` or ``"av"``: which decoder reads the file.
    """

    path: str
    sample_rate: int
    channels: int
    frames: int
    duration: float
    format: str
    subtype: str | None
    backend: str


def _check_file(path: PathLike) -> Path:
    p = Path(path)
    if not p.exists():
        raise AudioDecodeError("no such file", path=p)
    if not p.is_file():
        raise AudioDecodeError("not a regular file", path=p)
    if p.stat().st_size == 0:
        raise EmptyAudioError("empty file (0 bytes)", path=p)
    return p


def _reason(exc: BaseException) -> str:
    """The first line of a decoder's message, without the errno and file name that FFmpeg
    (PyAV) adds: the path already leads our error message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", text)
    text = re.sub(r":\s*'[^']*'$", "", text)
    return text[:200]


def _av_open(p: Path):  # returns a PyAV InputContainer
    import av

    try:
        container = av.open(str(p), mode="r")
    except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
        raise AudioDecodeError(f"not a readable audio or video file ({_reason(exc)})",
                               path=p) from None
    if not container.streams.audio:
        container.close()
        raise AudioDecodeError("the file has no audio stream", path=p)
    return container


#: Frame counts at or above this are libsndfile's "unknown" (2**63 - 1: a FLAC written to a
#: pipe has no total in its header).
_UNKNOWN_FRAMES = 2**62


def _av_info(p: Path) -> AudioInfo:
    with _av_open(p) as container:
        stream = container.streams.audio[0]
        sr = int(stream.sample_rate or stream.codec_context.sample_rate or 0)
        channels = int(stream.channels or stream.codec_context.channels or 0)
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        else:
            duration = 0.0
        fmt = sniff_format(p) or container.format.name.split(",")[0]
        if sr <= 0 or channels <= 0:
            raise AudioDecodeError("audio stream without a sample rate or channels", path=p)
        return AudioInfo(str(p), sr, channels, round(duration * sr), duration, fmt,
                         stream.codec_context.name, "av")


def audio_info(path: PathLike) -> AudioInfo:
    """Read a file's header: rate, channels, length and format, without decoding it.

    A header that does not say how long the file is (a FLAC written to a pipe) gives PyAV's
    estimate, or ``frames=0, duration=0.0`` when there is none; decoding still reads it all.

    Raises
    ------
    AudioDecodeError
        The file is missing, not audio, or corrupt.
    EmptyAudioError
        The file has zero bytes.
    """
    p = _check_file(path)
    try:
        info = sf.info(str(p))
    except (sf.LibsndfileError, sf.SoundFileError, RuntimeError):
        return _av_info(p)
    if info.frames >= _UNKNOWN_FRAMES:  # no length in the header: PyAV estimates or says 0
        return _av_info(p)
    if info.samplerate <= 0 or info.channels <= 0:
        raise AudioDecodeError("header without a sample rate or channels", path=p)
    fmt = sniff_format(p) or info.format.lower()
    return AudioInfo(str(p), int(info.samplerate), int(info.channels), int(info.frames),
                     info.frames / info.samplerate, fmt, info.subtype, "soundfile")


def _av_decode(p: Path, *, offset: float, duration: float | None) -> tuple[np.ndarray, int]:
    """Decode the first audio stream with PyAV; returns (channels, n) float32 and the rate."""
    import av

    chunks: list[np.ndarray] = []
    with _av_open(p) as container:
        stream = container.streams.audio[0]
        sr = int(stream.sample_rate or stream.codec_context.sample_rate)
        resampler = av.AudioResampler(format="fltp")
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
        except av.FFmpegError as exc:
            if not chunks:
                raise AudioDecodeError(f"corrupt audio stream ({_reason(exc)})", path=p) from None
            # a truncated file: keep what decoded, as players do
    if not chunks:
        if sniff_format(p) is None:  # FFmpeg guessed a format for arbitrary bytes
            raise AudioDecodeError("not a readable audio or video file (unrecognised content)",
                                   path=p)
        raise EmptyAudioError("no audio samples in the file", path=p)
    y = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    start = round(offset * sr)
    stop = None if duration is None else start + round(duration * sr)
    return y[:, start:stop], sr


def _refuse_long(seconds: float, max_duration: float, p: Path) -> None:
    if seconds > max_duration:
        raise AudioTooLongError(f"{seconds:.1f} s is longer than the allowed {max_duration:g} s",
                                path=p)


class _UnknownLength(RuntimeError):
    """libsndfile does not know how many frames the file holds (a FLAC written to a pipe has
    no total in its header and reports 2**63 - 1): decode it with PyAV, which streams."""


def _sf_decode(p: Path, *, offset: float, duration: float | None,
               max_duration: float | None = None) -> tuple[np.ndarray, int]:
    with sf.SoundFile(str(p)) as f:
        sr = f.samplerate
        if f.frames >= _UNKNOWN_FRAMES:
            raise _UnknownLength(str(p))
        if max_duration is not None:
            _refuse_long(f.frames / sr, max_duration, p)
        start = round(offset * sr)
        if start:
            f.seek(min(start, f.frames))
        frames = -1 if duration is None else round(duration * sr)
        y = f.read(frames=frames, dtype="float32", always_2d=True)
    return np.ascontiguousarray(y.T), sr


def load_audio(
    path: PathLike,
    *,
    sample_rate: int | None = None,
    mono: bool = True,
    offset: float = 0.0,
    duration: float | None = None,
    max_duration: float | None = None,
) -> tuple[np.ndarray, int]:
    """Decode an audio file (or a video's audio track) to float32 in [-1, 1].

    Parameters
    ----------
    path : str or PathLike
    sample_rate : int, optional
        Resample to this rate (soxr, high quality); the native rate when ``None``.
    mono : bool
        Average the channels into one.
    offset, duration : float
        Read only ``duration`` seconds starting at ``offset`` seconds.
    max_duration : float, optional
        Refuse files longer than this many seconds (checked on the header, before decoding).

    Returns
    -------
    y : np.ndarray [shape=(n,) if mono else (channels, n)], float32
    sr : int
        The rate of ``y``.

    Raises
    ------
    AudioDecodeError
        Missing, unreadable, corrupt or non-audio file; non-finite samples.
    EmptyAudioError
        No samples (or none in the requested range).
    AudioTooLongError
        Longer than ``max_duration``.
    """
    if offset < 0 or (duration is not None and duration <= 0) or (
            max_duration is not None and max_duration <= 0):
        raise ConfigError(f"offset must be >= 0 and durations > 0 (got offset={offset}, "
                          f"duration={duration}, max_duration={max_duration})")
    p = _check_file(path)
    try:
        y, sr = _sf_decode(p, offset=offset, duration=duration, max_duration=max_duration)
    except (sf.LibsndfileError, sf.SoundFileError, RuntimeError):
        if max_duration is not None:
            _refuse_long(audio_info(p).duration, max_duration, p)
        y, sr = _av_decode(p, offset=offset, duration=duration)
        if max_duration is not None:  # the header may not have said (an unknown length)
            _refuse_long(y.shape[-1] / sr, max_duration, p)
    if y.shape[-1] == 0:
        raise EmptyAudioError("no audio samples" + (" in the requested range" if offset else ""),
                              path=p)
    if not np.isfinite(y).all():
        raise AudioDecodeError("the audio holds NaN or infinite samples", path=p)
    if mono:
        y = to_mono(y)
    if sample_rate is not None and sample_rate != sr:
        y = resample(y, sr, sample_rate).astype(np.float32, copy=False)
        sr = sample_rate
    return y, sr


def iter_blocks(
    path: PathLike,
    *,
    block_seconds: float = 30.0,
    sample_rate: int | None = None,
    mono: bool = True,
) -> Iterator[np.ndarray]:
    """Read a long file block by block without holding it whole in memory.

    The blocks, concatenated, equal ``load_audio(path, sample_rate=..., mono=...)[0]`` (up to
    resampler rounding at the very end).

    Parameters
    ----------
    path : str or PathLike
    block_seconds : float
        Approximate length of each block, in seconds of the output rate.
    sample_rate : int, optional
        Resample to this rate on the fly (a streaming soxr resampler).
    mono : bool

    Yields
    ------
    np.ndarray [shape=(n,) if mono else (channels, n)], float32
    """
    if block_seconds <= 0:
        raise ConfigError(f"block_seconds must be positive, got {block_seconds}")
    p = _check_file(path)
    info = audio_info(p)
    out_sr = sample_rate or info.sample_rate
    channels = 1 if mono else info.channels
    rs = StreamResampler(info.sample_rate, out_sr, channels=channels)
    block_in = max(1, math.ceil(block_seconds * info.sample_rate))

    def _emit(raw: np.ndarray, last: bool) -> np.ndarray:
        if not np.isfinite(raw).all():
            raise AudioDecodeError("the audio holds NaN or infinite samples", path=p)
        x = to_mono(raw) if mono else raw
        return rs(x, last=last)

    if info.backend == "soundfile":
        try:
            with sf.SoundFile(str(p)) as f:
                while True:
                    raw = f.read(frames=block_in, dtype="float32", always_2d=True).T
                    last = raw.shape[1] < block_in
                    out = _emit(np.ascontiguousarray(raw), last)
                    if out.shape[-1]:
                        yield out
                    if last:
                        return
        except (sf.LibsndfileError, sf.SoundFileError, RuntimeError) as exc:
            raise AudioDecodeError(f"corrupt audio data ({_reason(exc)})", path=p) from None
        return

    import av

    buf: list[np.ndarray] = []
    buffered = 0
    with _av_open(p) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp")
        try:
            for frame in container.decode(stream):
                for o in resampler.resample(frame):
                    a = o.to_ndarray()
                    buf.append(a)
                    buffered += a.shape[1]
                if buffered >= block_in:
                    out = _emit(np.concatenate(buf, axis=1), False)
                    buf, buffered = [], 0
                    if out.shape[-1]:
                        yield out
            for o in resampler.resample(None):
                buf.append(o.to_ndarray())
        except av.FFmpegError:
            pass  # truncated stream: emit what decoded
    raw = np.concatenate(buf, axis=1) if buf else np.zeros((info.channels, 0), np.float32)
    out = _emit(raw.astype(np.float32, copy=False), True)
    if out.shape[-1]:
        yield out
