"""A fake SAVEE tree, in the original or the flat (Kaggle) layout."""

from __future__ import annotations

from pathlib import Path

from emoscope.testing.corpora.common import fake_utterance

SPEAKERS = ("DC", "JE", "JK", "KL")
CODES = ("a", "d", "f", "h", "n", "sa", "su")


def make_savee(root: str | Path, *, layout: str = "audiodata",
               speakers: tuple[str, ...] = SPEAKERS, numbers: tuple[int, ...] = (1, 2),
               ext: str = ".wav", seconds: float = 0.3) -> Path:
    """SAVEE layout: ``AudioData/<SPK>/<code><nn>.<ext>`` (``layout="audiodata"``) or
    ``ALL/<SPK>_<code><nn>.<ext>`` (``layout="flat"``); every code gets ``numbers``.
    Returns the corpus root.
    """
    if layout not in ("audiodata", "flat"):
        raise ValueError(f"layout must be 'audiodata' or 'flat', got {layout!r}")
    base = Path(root)
    for spk in speakers:
        for code in CODES:
            for n in numbers:
                if layout == "audiodata":
                    target = base / "AudioData" / spk / f"{code}{n:02d}"
                else:
                    target = base / "ALL" / f"{spk}_{code}{n:02d}"
                fake_utterance(target, ext=ext, seconds=seconds)
    if layout == "audiodata":
        (base / "AudioData" / "Info.txt").write_text("SAVEE audio data\n")
    return base
