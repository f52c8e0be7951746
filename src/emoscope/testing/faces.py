"""Generated audio-visual clips: drawn faces whose expression depends on a class, with a
matching sound track, written into real video containers.

No audio-visual corpus can ship with the tests, so they draw one. Each face is shaded like a
photograph seen in grey (a dark hair line, a lit face fading to darker edges, brows, eyes with
pupils, a nose shadow, a mouth), which is what OpenCV's Haar cascades respond to; a flat
cartoon circle is not found. The class sets the mouth (how wide it opens and how fast it moves)
and the tilt of the brows; the sound is a harmonic tone whose pitch and loudness rhythm also
follow the class, so both streams carry the label.

>>> frames, y = av_clip(2, seconds=1.5)                         # class 2
>>> write_video("01-01-03-01-01-01-01.mp4", y, 16000, frames=frames, fps=10)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from emoscope.testing.media import write_video

__all__ = ["av_clip", "draw_face", "noise_clip", "write_av_clip", "write_noise_video"]

#: Frame size of generated clips: (width, height).
CLIP_SIZE = (128, 96)


def _expression(label: int) -> tuple[float, float, float]:
    """(mouth opening 0..1, mouth movement in Hz, brow tilt in -1..1) of class ``label``."""
    opening = (0.15, 0.9, 0.45, 0.7, 0.3, 1.0, 0.6, 0.2)[label % 8]
    speed = (0.5, 3.0, 1.0, 5.0, 2.0, 4.0, 1.5, 6.0)[label % 8]
    tilt = (0.0, 0.6, -0.8, 0.9, -0.4, 0.3, -0.9, 0.7)[label % 8]
    return opening, speed, tilt


def draw_face(height: int, width: int, *, label: int = 0, t: float = 0.0,
              centre: tuple[float, float] = (0.5, 0.5), scale: float = 1.0,
              background: tuple[int, int, int] = (70, 90, 110)) -> np.ndarray:
    """One frame showing a shaded face with the expression of class ``label`` at time ``t``.

    Parameters
    ----------
    height, width : int
        Frame size in pixels.
    label : int
        Class index (0-7 give distinct expressions; larger ones repeat).
    t : float
        Seconds into the clip (the mouth moves).
    centre : (float, float)
        Face centre as fractions of the frame (x, y).
    scale : float
        Face size relative to the default (a face about 0.6 of the frame height tall).
    background : (int, int, int)
        RGB of the background.

    Returns
    -------
    np.ndarray [shape=(height, width, 3)], uint8 RGB
    """
    import cv2

    img = np.empty((height, width, 3), np.uint8)
    img[:] = background
    cx, cy = round(centre[0] * width), round(centre[1] * height)
    fw, fh = max(4, round(0.22 * height * scale)), max(6, round(0.30 * height * scale))
    opening, speed, tilt = _expression(label)
    # hair: a dark cap above the face
    cv2.ellipse(img, (cx, cy - fh // 5), (round(fw * 1.08), round(fh * 1.05)), 0, 180, 360,
                (60, 40, 40), -1)
    # the face: lit in the middle, darker towards the edge
    for k in range(8, 0, -1):
        f = k / 8
        c = 150 + round(70 * (1 - f))
        cv2.ellipse(img, (cx, cy), (max(1, round(fw * f)), max(1, round(fh * f))), 0, 0, 360,
                    (c, c - 10, c - 30), -1)
    ex, ey = round(fw * 0.42), round(fh * 0.22)
    thick = max(2, fh // 18)
    for s in (-1, 1):
        # brows: the inner end moves up or down with the tilt
        inner = (cx + s * (ex - round(fw * 0.22)), cy - ey - round(fh * (0.17 + 0.06 * tilt)))
        outer = (cx + s * (ex + round(fw * 0.22)), cy - ey - round(fh * 0.17))
        cv2.line(img, inner, outer, (40, 30, 30), thick)
        cv2.ellipse(img, (cx + s * ex, cy - ey), (max(1, round(fw * 0.2)),
                                                  max(1, round(fh * 0.08))), 0, 0, 360,
                    (235, 235, 235), -1)
        cv2.circle(img, (cx + s * ex, cy - ey), max(1, round(fh * 0.07)), (20, 20, 20), -1)
    cv2.line(img, (cx, cy - round(fh * 0.1)), (cx, cy + round(fh * 0.18)), (140, 120, 110),
             max(2, fh // 20))
    cv2.ellipse(img, (cx, cy + round(fh * 0.2)), (max(1, round(fw * 0.15)),
                                                 max(1, round(fh * 0.05))), 0, 0, 360,
                (130, 110, 100), -1)
    # the mouth opens and closes at the class's pace
    open_now = opening * (0.55 + 0.45 * np.sin(2 * np.pi * speed * t))
    mouth_h = max(2, round(fh * 0.04 + fh * 0.16 * open_now))
    cv2.ellipse(img, (cx, cy + round(fh * 0.5)), (max(2, round(fw * 0.35)), mouth_h), 0, 0, 360,
                (120, 40, 40), -1)
    return img


def av_clip(label: int, *, seconds: float = 1.5, fps: int = 10, sr: int = 16000,
            size: tuple[int, int] = CLIP_SIZE, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Frames and sound of one generated clip of class ``label``.

    The face sits at a slightly random place and size (from ``seed``) and drifts slowly; the
    sound is a harmonic tone at ``180 * 1.25 ** (label % 8)`` Hz (jittered by a few per cent)
    whose loudness pulses at the mouth's pace, with a little noise.

    Parameters
    ----------
    label : int
    seconds : float
    fps : int
    sr : int
    size : (int, int)
        ``(width, height)`` of the frames.
    seed : int

    Returns
    -------
    frames : np.ndarray [shape=(round(seconds * fps), height, width, 3)], uint8 RGB
    y : np.ndarray [shape=(round(seconds * sr),)], float32
    """
    rng = np.random.default_rng([seed, label])
    w, h = size
    n = max(1, round(seconds * fps))
    x0, y0 = rng.uniform(0.42, 0.58), rng.uniform(0.45, 0.55)
    scale = rng.uniform(0.9, 1.1)
    drift = rng.uniform(-0.04, 0.04, size=2)
    frames = np.stack([draw_face(h, w, label=label, t=i / fps,
                                 centre=(x0 + drift[0] * i / n, y0 + drift[1] * i / n),
                                 scale=scale) for i in range(n)])
    _, speed, _ = _expression(label)
    t = np.arange(round(seconds * sr)) / sr
    f0 = 180.0 * 1.25 ** (label % 8) * rng.uniform(0.97, 1.03)
    tone = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 5))
    env = 0.6 + 0.4 * np.sin(2 * np.pi * speed * t)
    y = 0.2 * tone * env / 2.1 + 0.005 * rng.standard_normal(len(t))
    return frames, y.astype(np.float32)


def noise_clip(*, seconds: float = 1.0, fps: int = 10, sr: int = 16000,
               size: tuple[int, int] = CLIP_SIZE, seed: int = 0
               ) -> tuple[np.ndarray, np.ndarray]:
    """Frames of uniform random pixels and a white-noise sound track: a clip with no face.

    Returns
    -------
    frames : np.ndarray [shape=(round(seconds * fps), height, width, 3)], uint8
    y : np.ndarray [shape=(round(seconds * sr),)], float32
    """
    rng = np.random.default_rng(seed)
    n = max(1, round(seconds * fps))
    frames = rng.integers(0, 256, size=(n, size[1], size[0], 3), dtype=np.uint8)
    y = (0.1 * rng.standard_normal(round(seconds * sr))).astype(np.float32)
    return frames, y


def write_av_clip(path: str | os.PathLike[str], label: int, *, seconds: float = 1.5,
                  fps: int = 10, sr: int = 16000, size: tuple[int, int] = CLIP_SIZE,
                  seed: int = 0, audio: bool = True) -> Path:
    """Write :func:`av_clip` into a video container (mp4, flv, avi, mkv, mov: from the
    extension); ``audio=False`` writes a silent video without a sound stream (RAVDESS's
    video-only files). Returns the path."""
    frames, y = av_clip(label, seconds=seconds, fps=fps, sr=sr, size=size, seed=seed)
    return write_video(path, y if audio else None, sr, fps=fps, frames=frames)


def write_noise_video(path: str | os.PathLike[str], *, seconds: float = 1.0, fps: int = 10,
                      sr: int = 16000, size: tuple[int, int] = CLIP_SIZE, seed: int = 0) -> Path:
    """Write :func:`noise_clip` into a video container. Returns the path."""
    frames, y = noise_clip(seconds=seconds, fps=fps, sr=sr, size=size, seed=seed)
    return write_video(path, y, sr, fps=fps, frames=frames)
