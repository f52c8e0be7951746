"""A fake TESS tree."""

from __future__ import annotations

from pathlib import Path

from emoscope.testing.corpora.common import fake_utterance

EMOTIONS = ("angry", "disgust", "fear", "happy", "neutral", "ps", "sad")
FOLDER_NAMES = {"ps": "pleasant_surprise"}


def make_tess(root: str | Path, *, words: tuple[str, ...] = ("back", "bar", "base"),
              ext: str = ".wav", seconds: float = 0.4) -> Path:
    """TESS layout: ``<top>/<SPK>_<emotion>/<SPK>_<word>_<emotion>.<ext>``.

    Folder spellings vary as in real copies (``OAF_Fear``, ``YAF_pleasant_surprise``), and the
    original's ``OA_<word>_neutral`` typo is reproduced for the first word. Returns the corpus root.
    """
    base = Path(root) / "TESS_Toronto_emotional_speech_set_data"
    for spk in ("OAF", "YAF"):
        for emo in EMOTIONS:
            folder = f"{spk}_{FOLDER_NAMES.get(emo, emo)}"
            folder = folder.title().replace("Oaf", "OAF").replace("Yaf", "YAF") \
                if spk == "OAF" else folder
            for i, word in enumerate(words):
                stem = f"{spk}_{word}_{emo}"
                if spk == "OAF" and emo == "neutral" and i == 0:
                    stem = f"OA_{word}_{emo}"
                fake_utterance(base / folder / stem, ext=ext, seconds=seconds)
    return Path(root)
