"""Generated signals: tones, noise, chirps and a speech-like harmonic signal.

Tests build fake corpora from them (:mod:`emoscope.testing` re-exports them), and the ONNX
export checks its graph on them: sounds of known content that need no recording.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf

from emoscope.errors import ConfigError

__all__ = ["chirp", "noise", "speechlike", "tone", "write_audio"]


def tone(freq: float = 440.0, *, seconds: float = 1.0, sr: int = 16000,
         amplitude: float = 0.5) -> np.ndarray:
    """A sine tone. Returns np.ndarray [shape=(round(seconds*sr),)], float32."""
    t = np.arange(round(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def noise(*, seconds: float = 1.0, sr: int = 16000, amplitude: float = 0.1,
          seed: int = 0) -> np.ndarray:
    """White Gaussian noise with standard deviation ``amplitude``. Shape (n,), float32."""
    rng = np.random.default_rng(seed)
    return (amplitude * rng.standard_normal(round(seconds * sr))).astype(np.float32)


def chirp(f0: float = 100.0, f1: float = 4000.0, *, seconds: float = 1.0, sr: int = 16000,
          amplitude: float = 0.5) -> np.ndarray:
    """A linear sweep from ``f0`` to ``f1`` Hz. Shape (n,), float32."""
    t = np.arange(round(seconds * sr)) / sr
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * seconds))
    return (amplitude * np.sin(phase)).astype(np.float32)


def speechlike(*, seconds: float = 1.5, sr: int = 16000, f0: float = 180.0,
               amplitude: float = 0.3, seed: int = 0) -> np.ndarray:
    """A voiced, syllable-rate-modulated harmonic signal with a gliding pitch.

    Close enough to speech for loudness, trimming and feature tests; it is *not* recognised as
    speech by a trained VAD (use real recordings for that). Shape (n,), float32.
    """
    rng = np.random.default_rng(seed)
    n = round(seconds * sr)
    t = np.arange(n) / sr
    pitch = f0 * (1 + 0.15 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, np.pi)))
    phase = 2 * np.pi * np.cumsum(pitch) / sr
    y = sum(np.sin(k * phase) / k for k in range(1, 12))
    env = 0.5 * (1 - np.cos(2 * np.pi * 4.0 * t))  # ~4 syllables per second
    y = y * env + 0.01 * rng.standard_normal(n)
    return (amplitude * y / np.max(np.abs(y))).astype(np.float32)


def write_audio(path: str | os.PathLike[str], y: np.ndarray, sr: int = 16000, *,
                format: str | None = None, subtype: str | None = None) -> Path:
    """Write ``y`` (shape (n,) or (channels, n)) with soundfile; parent folders are created.

    ``format`` overrides the one implied by the extension (e.g. AIFF data behind ``.wav``).
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    data = y.T if y.ndim == 2 else y
    if format is None and p.suffix.lower() not in (".wav", ".flac", ".ogg", ".aiff", ".aif",
                                                   ".mp3", ".opus"):
        raise ConfigError(f"cannot infer a format from {p.suffix!r}; pass format=")
    if format is None and p.suffix.lower() == ".opus":
        format, subtype = "OGG", subtype or "OPUS"
    sf.write(str(p), data, sr, format=format, subtype=subtype)
    return p
