"""A fake user manifest file (CSV, TSV, JSON or JSON lines) with its audio files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from emoscope.testing.corpora.common import fake_utterance

#: The rows written: (relative path without extension, label as written, speaker, gender).
ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("audio/ann/ann_01", "anger", "ann", "f"),
    ("audio/ann/ann_02", "happy", "ann", "F"),
    ("audio/ann/ann_03", "Neutral", "ann", "female"),
    ("audio/bob/bob_01", "ang", "bob", "m"),
    ("audio/bob/bob_02", "sadness", "bob", "male"),
    ("audio/bob/bob_03", "neutral", "bob", ""),
    ("audio/cy/take/ann_01", "sad", "cy", ""),  # its stem collides with audio/ann/ann_01
)
FORMATS = {"csv": ".csv", "tsv": ".tsv", "json": ".json", "jsonl": ".jsonl"}


def make_manifest_file(root: str | Path, *, fmt: str = "csv", ext: str = ".wav",
                       seconds: float = 0.3) -> Path:
    """Write the audio of :data:`ROWS` under ``root`` and a manifest listing them with relative
    paths, columns ``path, label, speaker, gender, score`` (``score`` = row number / 10, an extra
    column), as ``root/manifest.<fmt>``. Returns the manifest file's path.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, got {fmt!r}")
    base = Path(root)
    records = []
    for i, (rel, label, spk, gender) in enumerate(ROWS):
        audio = fake_utterance(base / rel, ext=ext, seconds=seconds)
        records.append(dict(path=audio.relative_to(base).as_posix(), label=label, speaker=spk,
                            gender=gender, score=i / 10))
    target = base / f"manifest{FORMATS[fmt]}"
    if fmt in ("csv", "tsv"):
        with open(target, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(records[0]),
                                    delimiter="\t" if fmt == "tsv" else ",")
            writer.writeheader()
            writer.writerows(records)
    elif fmt == "json":
        target.write_text(json.dumps(records, indent=1))
    else:
        target.write_text("".join(json.dumps(r) + "\n" for r in records))
    return target
