"""TESS: the Toronto Emotional Speech Set.

Source: Dupuis & Pichora-Fuller (2010), University of Toronto, https://tspace.library.utoronto.ca
Licence: CC BY-NC-ND 4.0 (non-commercial, no derivatives).

Two actresses, OAF (aged 64) and YAF (aged 26), say "Say the word ___" for 200 target words in
seven emotions: 2800 files. Layout::

    TESS_Toronto_emotional_speech_set_data/<SPEAKER>_<emotion>/<SPEAKER>_<word>_<emotion>.wav

Folder names vary in case and spelling between copies (``OAF_Fear``, ``YAF_pleasant_surprise``), so
the label comes from the last ``_`` field of the file stem. One file keeps the original's typo in
its name (``OA_bite_neutral``); its speaker is taken from its folder.
"""

from __future__ import annotations

import os

import pandas as pd

from emoscope.corpora.base import find_media_files, make_manifest, register_corpus

LABEL_MAP = {
    "angry": "angry",
    "disgust": "disgust",
    "fear": "fearful",
    "happy": "happy",
    "neutral": "neutral",
    "ps": "surprised",
    "sad": "sad",
}
SPEAKERS = ("OAF", "YAF")
AGES = {"OAF": 64, "YAF": 26}


@register_corpus(
    "tess",
    label_map=LABEL_MAP,
    default_labels=("angry", "disgust", "fearful", "happy", "neutral", "surprised", "sad"),
    description="Toronto Emotional Speech Set: 2 female speakers, 200 words, 7 emotions",
    licence="CC BY-NC-ND 4.0",
    url="https://tspace.library.utoronto.ca/handle/1807/24487",
)
def prepare_tess(root: str | os.PathLike[str]) -> pd.DataFrame:
    """Manifest of a TESS folder (any audio extension).

    Extra columns: ``raw_label`` (``ps`` for pleasant surprise), ``word``, ``age``.
    """
    rows, skipped = [], []
    for path in find_media_files(root):
        parts = path.stem.split("_")
        raw = parts[-1].lower() if len(parts) >= 3 else ""
        if raw not in LABEL_MAP:
            skipped.append((str(path), "name is not <SPEAKER>_<word>_<emotion>"))
            continue
        speaker = parts[0].upper()
        if speaker not in SPEAKERS:
            folder = path.parent.name.split("_")[0].upper()
            if folder not in SPEAKERS:
                skipped.append((str(path), f"unknown TESS speaker {parts[0]!r}"))
                continue
            speaker = folder
        rows.append(
            dict(id=path.stem, path=path, raw_label=raw, speaker=speaker, gender="female",
                 word="_".join(parts[1:-1]).lower(), age=AGES[speaker])
        )
    return make_manifest(rows, corpus="tess", root=root, label_map=LABEL_MAP,
                         labels=LABEL_MAP.values(), skipped=skipped)
