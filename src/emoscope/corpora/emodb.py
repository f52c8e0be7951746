"""EmoDB: the Berlin Database of Emotional Speech.

Source: Burkhardt, Paeschke, Rolfes, Sendlmeier & Weiss (2005), "A database of German emotional
speech", Proc. Interspeech 2005, 1517-1520; http://emodb.bilderbar.info
Licence: no formal licence is stated; the authors distribute it freely for research (audEERING's
audformat version marks its usage "unrestricted"). Cite the paper.

Ten actors (five female, five male) say ten German sentences in seven emotions, recorded at TU
Berlin; the public set keeps the 535 utterances that listeners recognised well. Layout::

    wav/<SS><TTT><E><V>.wav        e.g. wav/03a01Fa.wav
    erkennung.txt                  recognition rate of each utterance in a listening test
    erklaerung.txt, lablaut/, labsilb/, silb/   documentation and phonetic labels (not read)

======== ===================================================================================
SS       speaker: 03 m 31, 08 f 34, 09 f 21, 10 m 32, 11 m 26, 12 m 30, 13 f 32, 14 f 35,
         15 m 25, 16 f 31 (gender, age)
TTT      text: a01 a02 a04 a05 a07 (short), b01 b02 b03 b09 b10 (long); see :data:`TEXTS`
E        emotion: W anger (Wut), L boredom (Langeweile), E disgust (Ekel), A fear (Angst),
         F happiness (Freude), T sadness (Trauer), N neutral
V        version: a, b, c, ... (several takes of one sentence and emotion)
======== ===================================================================================

When ``erkennung.txt`` lies in the root or above the audio folder, its ``erkannt`` column (the
percentage of listeners who recognised the intended emotion) becomes ``agreement`` (0-1).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from emoscope.corpora.base import find_media_files, make_manifest, register_corpus

LABEL_MAP = {
    "W": "angry",
    "L": "boredom",
    "E": "disgust",
    "A": "fearful",
    "F": "happy",
    "T": "sad",
    "N": "neutral",
}
#: Speaker code -> (gender, age at recording).
SPEAKERS = {
    "03": ("male", 31),
    "08": ("female", 34),
    "09": ("female", 21),
    "10": ("male", 32),
    "11": ("male", 26),
    "12": ("male", 30),
    "13": ("female", 32),
    "14": ("female", 35),
    "15": ("male", 25),
    "16": ("female", 31),
}
#: Text code -> the German sentence.
TEXTS = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}
STEM = re.compile(r"^(?P<speaker>\d\d)(?P<text>[ab]\d\d)(?P<emotion>[WLEAFTN])(?P<version>[a-z])$")
RATINGS_FILE = "erkennung.txt"


def read_ratings(path: str | os.PathLike[str]) -> dict[str, float]:
    """Utterance stem -> share of listeners who recognised its emotion (0-1), from
    ``erkennung.txt`` (whitespace-separated, Latin-1, decimal comma, columns ``Satz`` and
    ``erkannt``). Returns an empty mapping when the file does not have those columns.
    """
    lines = Path(path).read_text(encoding="latin-1").replace("\xa0", " ").splitlines()
    if not lines:
        return {}
    head = lines[0].split()
    if "Satz" not in head or "erkannt" not in head:
        return {}
    i_name, i_rate = head.index("Satz"), head.index("erkannt")
    out = {}
    for line in lines[1:]:
        f = line.split()
        if len(f) <= max(i_name, i_rate):
            continue
        try:
            out[Path(f[i_name]).stem] = float(f[i_rate].replace(",", ".")) / 100.0
        except ValueError:
            continue
    return out


def _find_ratings(root: Path, audio_dirs: set[Path]) -> Path | None:
    for folder in [root, *sorted(audio_dirs), *sorted({d.parent for d in audio_dirs})]:
        candidate = folder / RATINGS_FILE
        if candidate.is_file():
            return candidate
    return None


@register_corpus(
    "emodb",
    label_map=LABEL_MAP,
    default_labels=("angry", "boredom", "disgust", "fearful", "happy", "sad", "neutral"),
    description="Berlin EmoDB: 10 German actors, 10 sentences, 7 emotions",
    licence="free for research (no formal licence; audformat: unrestricted); cite the paper",
    url="http://emodb.bilderbar.info",
    aliases=("emo-db",),
)
def prepare_emodb(root: str | os.PathLike[str]) -> pd.DataFrame:
    """Manifest of an EmoDB folder (any audio extension).

    Extra columns: ``raw_label`` (the German letter code), ``age``, ``text_id`` (``a01``...),
    ``transcript`` (the German sentence), ``version``, and ``agreement`` when ``erkennung.txt``
    is present.
    """
    rows, skipped = [], []
    seen: dict[str, Path] = {}
    for path in find_media_files(root):
        m = STEM.match(path.stem)
        if m is None or m["speaker"] not in SPEAKERS or m["text"] not in TEXTS:
            skipped.append((str(path), "name is not <speaker><text><emotion><version> with EmoDB "
                                       "codes (e.g. 03a01Fa)"))
            continue
        if path.stem in seen:
            skipped.append((str(path), f"another copy of the same utterance is used: "
                                       f"{seen[path.stem]}"))
            continue
        seen[path.stem] = path
        gender, age = SPEAKERS[m["speaker"]]
        rows.append(dict(id=path.stem, path=path, raw_label=m["emotion"], speaker=m["speaker"],
                         gender=gender, age=age, text_id=m["text"],
                         transcript=TEXTS[m["text"]], version=m["version"]))
    ratings_file = _find_ratings(Path(root), {p.parent for p in seen.values()})
    if ratings_file is not None:
        ratings = read_ratings(ratings_file)
        if ratings:
            for row in rows:
                row["agreement"] = ratings.get(row["id"])
    return make_manifest(rows, corpus="emodb", root=root, label_map=LABEL_MAP,
                         labels=LABEL_MAP.values(), skipped=skipped)
