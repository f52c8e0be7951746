"""A fake EmoDB tree."""

from __future__ import annotations

from pathlib import Path

from emoscope.testing.corpora.common import fake_utterance


def make_emodb(root: str | Path, *, speakers: tuple[str, ...] = ("03", "08", "09", "10"),
               texts: tuple[str, ...] = ("a01", "b01"), emotions: str = "WLEAFTN",
               ratings: bool = True, ext: str = ".wav", seconds: float = 0.3) -> Path:
    """EmoDB layout: ``wav/<SS><TTT><E><V>.<ext>`` (version ``a``), plus a second take
    ``<first speaker><first text>Wb``, a ``lablaut/`` label file and, with ``ratings``, an
    ``erkennung.txt`` (Latin-1, decimal comma) giving every file a recognition rate of
    ``80 + (number of the file) % 20`` per cent. Returns the corpus root.
    """
    base = Path(root)
    stems = [f"{s}{t}{e}a" for s in speakers for t in texts for e in emotions]
    stems.append(f"{speakers[0]}{texts[0]}Wb")
    for stem in stems:
        fake_utterance(base / "wav" / stem, ext=ext, seconds=seconds)
    (base / "lablaut").mkdir(parents=True, exist_ok=True)
    (base / "lablaut" / f"{stems[0]}xx.lablaut").write_text("0 #\n")
    if ratings:
        lines = ["Satz\terkannt"]
        lines += [f"{stem}.wav\t{80 + i % 20},0" for i, stem in enumerate(stems)]
        (base / "erkennung.txt").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    return base
