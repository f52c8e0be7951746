"""A fake RAVDESS tree."""

from __future__ import annotations

from pathlib import Path

from emoscope.testing.corpora.common import fake_utterance


def make_ravdess(root: str | Path, *, actors: tuple[int, ...] = (1, 2, 3, 4),
                 emotions: tuple[int, ...] = tuple(range(1, 9)), song: bool = False,
                 ext: str = ".wav", seconds: float = 0.4) -> Path:
    """RAVDESS layout: ``Actor_NN/03-VV-EE-II-SS-RR-NN.<ext>`` (audio-only speech, and song).

    One repetition per statement and intensity keeps it small. Returns the corpus root.
    """
    base = Path(root)
    for a in actors:
        for vc in ("01", "02") if song else ("01",):
            top = "audio_speech_actors_01-24" if vc == "01" else "audio_song_actors_01-24"
            for e in emotions:
                if vc == "02" and e in (7, 8):  # song has no disgust or surprise
                    continue
                for inten in ("01",) if e == 1 else ("01", "02"):
                    for st in ("01", "02"):
                        stem = f"03-{vc}-{e:02d}-{inten}-{st}-01-{a:02d}"
                        fake_utterance(base / top / f"Actor_{a:02d}" / stem, ext=ext,
                                       seconds=seconds)
    return base
