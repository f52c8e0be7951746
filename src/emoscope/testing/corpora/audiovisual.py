"""Fake audio-visual corpora: RAVDESS and CREMA-D trees of generated clips with drawn faces.

Every clip shows a face whose expression follows its emotion and sounds a tone whose pitch and
rhythm follow it too (:mod:`emoscope.testing.faces`), so a model can learn the labels from
either stream; the face's place and size and the tone's pitch vary a little with the file.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from emoscope.testing.faces import write_av_clip

__all__ = ["make_cremad_av", "make_ravdess_av"]

CREMAD_EMOTIONS = ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD")


def _seed(stem: str) -> int:
    return zlib.crc32(stem.encode())


def make_ravdess_av(root: str | Path, *, actors: tuple[int, ...] = (1, 2, 3, 4),
                    emotions: tuple[int, ...] = (1, 3, 4, 5),
                    statements: tuple[str, ...] = ("01", "02"),
                    repetitions: tuple[str, ...] = ("01",),
                    modalities: tuple[str, ...] = ("01",), seconds: float = 1.5,
                    fps: int = 10) -> Path:
    """RAVDESS audio-visual layout: ``Actor_NN/MM-01-EE-01-SS-RR-NN.mp4`` speech clips.

    Parameters
    ----------
    root : path
    actors, emotions : tuple of int
        RAVDESS actor numbers and emotion codes (1 neutral, 3 happy, 4 sad, 5 angry, ...);
        the drawn expression is class ``emotion - 1``.
    statements, repetitions : tuple of str
    modalities : tuple of str
        ``"01"``: audio-visual MP4 (with sound), ``"02"``: video-only MP4 (no sound stream),
        ``"03"``: audio-only WAV (the clip's sound track).
    seconds, fps : float, int

    Returns
    -------
    Path
        The corpus root.
    """
    from emoscope.testing.faces import av_clip
    from emoscope.testing.synth import write_audio

    base = Path(root)
    for a in actors:
        folder = base / f"Actor_{a:02d}"
        for e in emotions:
            for st in statements:
                for rep in repetitions:
                    tail = f"01-{e:02d}-01-{st}-{rep}-{a:02d}"
                    seed = _seed(tail)
                    if "01" in modalities:
                        write_av_clip(folder / f"01-{tail}.mp4", e - 1, seconds=seconds,
                                      fps=fps, seed=seed)
                    if "02" in modalities:
                        write_av_clip(folder / f"02-{tail}.mp4", e - 1, seconds=seconds,
                                      fps=fps, seed=seed, audio=False)
                    if "03" in modalities:
                        _, y = av_clip(e - 1, seconds=seconds, fps=fps, seed=seed)
                        write_audio(folder / f"03-{tail}.wav", y, 16000)
    return base


def make_cremad_av(root: str | Path, *, actors: tuple[int, ...] = (1001, 1002, 1003, 1004),
                   sentences: tuple[str, ...] = ("DFA", "ITH"),
                   emotions: tuple[str, ...] = ("ANG", "HAP", "NEU", "SAD"),
                   audio: bool = False, seconds: float = 1.5, fps: int = 10) -> Path:
    """CREMA-D layout: ``VideoFlash/<ACTOR>_<SEN>_<EMO>_XX.flv`` recordings (FLV, as the
    release), optionally ``AudioWAV/`` copies of their sound, and ``VideoDemographics.csv``
    (odd actors male, even female).

    The drawn expression is class ``CREMAD_EMOTIONS.index(emotion)``. Returns the corpus root.
    """
    from emoscope.testing.faces import av_clip
    from emoscope.testing.synth import write_audio

    base = Path(root)
    for a in actors:
        for sen in sentences:
            for emo in emotions:
                stem = f"{a}_{sen}_{emo}_XX"
                label = CREMAD_EMOTIONS.index(emo)
                write_av_clip(base / "VideoFlash" / f"{stem}.flv", label, seconds=seconds,
                              fps=fps, seed=_seed(stem))
                if audio:
                    _, y = av_clip(label, seconds=seconds, fps=fps, seed=_seed(stem))
                    write_audio(base / "AudioWAV" / f"{stem}.wav", y, 16000)
    lines = ['"ActorID","Age","Sex","Race","Ethnicity"']
    lines += [f'{a},{20 + a % 100},"{"Male" if a % 2 else "Female"}","Caucasian",'
              '"Not Hispanic"' for a in actors]
    (base / "VideoDemographics.csv").write_text("\n".join(lines) + "\n")
    return base
