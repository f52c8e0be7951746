"""A fake CREMA-D tree."""

from __future__ import annotations

import zlib
from pathlib import Path

from emoscope.testing.corpora.common import fake_utterance
from emoscope.testing.media import write_video
from emoscope.testing.synth import speechlike

EMOTIONS = ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD")


def fake_recording(path: Path, *, seconds: float = 0.3, sr: int = 16000) -> Path:
    """A tiny audio-visual file (container from the extension) whose sound depends on its stem,
    like :func:`~emoscope.testing.corpora.common.fake_utterance`."""
    seed = zlib.crc32(path.stem.encode())
    y = speechlike(seconds=seconds, sr=sr, f0=120 + seed % 150, seed=seed)
    return write_video(path, y, sr, fps=5, size=(16, 16))


def make_cremad(root: str | Path, *, actors: tuple[int, ...] = (1001, 1002, 1003, 1004),
                sentences: tuple[str, ...] = ("DFA", "IEO"),
                emotions: tuple[str, ...] = EMOTIONS, video_actors: tuple[int, ...] = (),
                demographics: bool = True, ext: str = ".wav", seconds: float = 0.3) -> Path:
    """CREMA-D layout: ``AudioWAV/<ACTOR>_<SEN>_<EMO>_<LEVEL>.<ext>``.

    ``IEO`` is recorded at ``LO``, ``MD`` and ``HI`` (neutral at ``XX``), the other sentences at
    ``XX``, as in the real corpus. ``video_actors`` also get ``VideoFlash/<stem>.flv`` recordings.
    With ``demographics``, ``VideoDemographics.csv`` gives made-up values: odd actors male, even
    female, age 20 + the last two digits, race "Asian" for 1001 and "Caucasian" otherwise,
    ethnicity "Not Hispanic". Returns the corpus root.
    """
    base = Path(root)
    for a in actors:
        for sen in sentences:
            for emo in emotions:
                levels = ("LO", "MD", "HI") if sen == "IEO" and emo != "NEU" else ("XX",)
                for level in levels:
                    stem = f"{a}_{sen}_{emo}_{level}"
                    fake_utterance(base / "AudioWAV" / stem, ext=ext, seconds=seconds)
                    if a in video_actors:
                        fake_recording(base / "VideoFlash" / f"{stem}.flv", seconds=seconds)
    if demographics:
        lines = ['"ActorID","Age","Sex","Race","Ethnicity"']
        for a in actors:
            sex = "Male" if a % 2 else "Female"
            race = "Asian" if a == 1001 else "Caucasian"
            lines.append(f'{a},{20 + a % 100},"{sex}","{race}","Not Hispanic"')
        (base / "VideoDemographics.csv").write_text("\n".join(lines) + "\n")
    (base / "processedResults").mkdir(parents=True, exist_ok=True)
    (base / "processedResults" / "summaryTable.csv").write_text(
        '"","FileName","VoiceVote","VoiceLevel"\n"1","1001_DFA_ANG_XX","A","60"\n')
    return base
