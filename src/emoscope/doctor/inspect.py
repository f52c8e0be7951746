"""Look at one media file: can it be decoded, and what is wrong with it.

The file is read block by block, so a huge file costs bounded memory. Everything a corpus check
needs comes out of one pass: format, rate, channels, duration, peak, RMS, clipping, and a hash of
the decoded samples (equal hashes mean identical audio, whatever the container or metadata).
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from emoscope.audio.formats import EXTENSION_FORMATS
from emoscope.audio.io import audio_info, iter_blocks
from emoscope.errors import AudioError, EmptyAudioError

__all__ = ["FileReport", "InspectOptions", "inspect_file", "wav_truncation"]


@dataclass(frozen=True)
class InspectOptions:
    """Thresholds of the per-file checks.

    Attributes
    ----------
    silence_dbfs : float
        A file whose peak is below this level (dB full scale) is silent.
    clip_level : float
        A sample with ``|x| >= clip_level`` counts as clipped.
    clip_fraction : float
        A file with more than this fraction of clipped samples is clipped.
    min_duration, max_duration : float
        Shorter or longer files (seconds) are flagged.
    """

    silence_dbfs: float = -60.0
    clip_level: float = 0.999
    clip_fraction: float = 0.001
    min_duration: float = 0.2
    max_duration: float = 600.0


@dataclass
class FileReport:
    """What :func:`inspect_file` found. ``problems`` holds ``(code, message)`` pairs.

    Problem codes: ``unreadable``, ``empty``, ``truncated``, ``format-mismatch``, ``silent``,
    ``clipped``, ``too-short``, ``too-long``.
    """

    path: str
    readable: bool = False
    format: str | None = None
    subtype: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    duration: float | None = None
    peak: float | None = None
    rms_dbfs: float | None = None
    clipped_fraction: float | None = None
    content_hash: str | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        d = asdict(self)
        d["problems"] = [{"code": c, "message": m} for c, m in self.problems]
        return d


def wav_truncation(path: str | os.PathLike[str]) -> str | None:
    """For a RIFF/WAVE file, say whether its data chunk is shorter than its header declares.

    Returns
    -------
    str or None
        A message such as ``"data chunk declares 64000 bytes, file holds 31978"``, or ``None``
        when the file is whole or is not a RIFF/WAVE file.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            size = os.fstat(fh.fileno()).st_size
            while True:
                hdr = fh.read(8)
                if len(hdr) < 8:
                    return None
                cid, clen = hdr[:4], struct.unpack("<I", hdr[4:])[0]
                if cid == b"data":
                    have = size - fh.tell()
                    if clen != 0xFFFFFFFF and have < clen:
                        return f"data chunk declares {clen} bytes, file holds {have}"
                    return None
                fh.seek(clen + (clen & 1), os.SEEK_CUR)
    except OSError:
        return None


def inspect_file(path: str | os.PathLike[str], options: InspectOptions | None = None) -> FileReport:
    """Decode ``path`` once, block by block, and report its properties and problems.

    Never raises for a bad file: an undecodable file is a report with ``readable=False`` and an
    ``unreadable`` (or ``empty``) problem.
    """
    opt = options or InspectOptions()
    p = Path(path)
    rep = FileReport(path=str(p))
    try:
        info = audio_info(p)
    except EmptyAudioError as exc:
        rep.problems.append(("empty", exc.reason))
        return rep
    except AudioError as exc:
        rep.problems.append(("unreadable", exc.reason))
        return rep
    rep.format, rep.subtype = info.format, info.subtype
    rep.sample_rate, rep.channels = info.sample_rate, info.channels
    expected = EXTENSION_FORMATS.get(p.suffix.lower())
    if expected is not None and info.format not in expected:
        rep.problems.append(
            ("format-mismatch", f"{info.format.upper()} data behind a {p.suffix} name")
        )
    trunc = wav_truncation(p)
    if trunc:
        rep.problems.append(("truncated", trunc))

    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{info.sample_rate}:{info.channels}:".encode())
    n = 0
    peak = 0.0
    sumsq = 0.0
    clipped = 0
    try:
        for block in iter_blocks(p, block_seconds=20.0, mono=False):
            digest.update(np.ascontiguousarray(block, dtype=np.float32).tobytes())
            a = np.abs(block)
            n += block.shape[-1]
            peak = max(peak, float(a.max(initial=0.0)))
            sumsq += float(np.square(block, dtype=np.float64).sum()) / block.shape[0]
            clipped += int((a >= opt.clip_level).any(axis=0).sum())
    except AudioError as exc:
        rep.problems.append(("unreadable", exc.reason))
        return rep
    if n == 0:
        rep.problems.append(("empty", "no audio samples"))
        return rep
    rep.readable = True
    rep.duration = n / info.sample_rate
    rep.peak = peak
    rms = np.sqrt(sumsq / n)
    rep.rms_dbfs = float(20 * np.log10(rms)) if rms > 0 else float("-inf")
    rep.clipped_fraction = clipped / n
    rep.content_hash = digest.hexdigest()
    if peak == 0.0:
        rep.problems.append(("silent", "digital silence (every sample is zero)"))
    elif 20 * np.log10(peak) < opt.silence_dbfs:
        rep.problems.append(("silent", f"peak {20 * np.log10(peak):.1f} dBFS is below "
                                       f"{opt.silence_dbfs:g} dBFS"))
    if rep.clipped_fraction > opt.clip_fraction:
        rep.problems.append(("clipped", f"{100 * rep.clipped_fraction:.2f} % of samples at full "
                                        "scale"))
    if rep.duration < opt.min_duration:
        rep.problems.append(("too-short", f"{rep.duration:.3f} s"))
    if rep.duration > opt.max_duration:
        rep.problems.append(("too-long", f"{rep.duration:.0f} s"))
    return rep
