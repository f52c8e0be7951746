"""Shared pieces of the fake corpus builders."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from emoscope.testing.synth import speechlike, write_audio


def fake_utterance(path: Path, *, seconds: float = 0.5, sr: int = 16000, ext: str = ".wav",
                   channels: int = 1) -> Path:
    """Write one short speech-like file whose content depends on its name (no two identical)."""
    seed = zlib.crc32(path.stem.encode())
    y = speechlike(seconds=seconds, sr=sr, f0=120 + seed % 150, seed=seed)
    if channels > 1:
        y = np.stack([y] * channels)
    return write_audio(path.with_suffix(ext), y, sr)
