"""A fake folder-per-label corpus."""

from __future__ import annotations

from pathlib import Path

from emoscope.testing.corpora.common import fake_utterance


def make_folder_corpus(root: str | Path, *,
                       labels: tuple[str, ...] = ("angry", "happy", "neutral", "sad"),
                       speakers: tuple[str, ...] = ("spk1", "spk2"), per_speaker: int = 2,
                       ext: str = ".wav", seconds: float = 0.3) -> Path:
    """Layout ``<root>/<label>/<speaker>_<nn>.<ext>``; takes after the first go one level deeper,
    into ``<label>/more/``. Stems repeat across label folders, as they often do.
    Returns the corpus root.
    """
    base = Path(root)
    for label in labels:
        for spk in speakers:
            for n in range(1, per_speaker + 1):
                folder = base / label if n == 1 else base / label / "more"
                fake_utterance(folder / f"{spk}_{n:02d}", ext=ext, seconds=seconds)
    return base
