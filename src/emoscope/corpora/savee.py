"""SAVEE: the Surrey Audio-Visual Expressed Emotion database.

Source: Haq & Jackson (2009), "Speaker-dependent audio-visual emotion recognition", Proc. AVSP
2009, 53-58; Haq & Jackson (2010) in Machine Audition, IGI Global;
http://kahlan.eps.surrey.ac.uk/savee/
Licence: free of charge for research use, as stated on the database's web site; cite the papers.

Four male speakers (DC, JE, JK, KL; British English) read TIMIT sentences in seven emotions:
15 sentences per emotion and 30 neutral, 480 utterances. Two layouts are common::

    AudioData/<SPK>/<code><nn>.wav        the original release (e.g. AudioData/DC/a01.wav)
    <any folder>/<SPK>_<code><nn>.wav     the flat Kaggle copy (e.g. ALL/DC_a01.wav)

Codes: ``a`` anger, ``d`` disgust, ``f`` fear, ``h`` happiness, ``n`` neutral, ``sa`` sadness,
``su`` surprise; ``nn`` numbers the sentence (01-15, neutral 01-30). In the original layout the
speaker is the folder name. Both layouts give the same ids (``DC_a01``). Video files named the
same way (any video extension, e.g. ``<SPK>/a01.avi`` from the audio-visual release) are paired
with the audio as ``video_path``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from emoscope.audio.formats import VIDEO_EXTENSIONS
from emoscope.corpora.base import find_media_files, make_manifest, register_corpus
from emoscope.errors import ConfigError

LABEL_MAP = {
    "a": "angry",
    "d": "disgust",
    "f": "fearful",
    "h": "happy",
    "n": "neutral",
    "sa": "sad",
    "su": "surprised",
}
SPEAKERS = ("DC", "JE", "JK", "KL")
STEM = re.compile(r"^(?:(?P<speaker>[A-Za-z]{2})_)?(?P<code>sa|su|[adfhn])(?P<num>\d\d)$",
                  re.IGNORECASE)
MODALITIES = ("audio", "audio-visual")


def _choice(value: str | Iterable[str], allowed: Iterable[str], what: str) -> set[str]:
    vals = {value} if isinstance(value, str) else set(value)
    bad = vals - set(allowed)
    if bad or not vals:
        raise ConfigError(f"unknown SAVEE {what} {sorted(bad)}; choose from {sorted(allowed)}")
    return vals


@register_corpus(
    "savee",
    label_map=LABEL_MAP,
    default_labels=("angry", "disgust", "fearful", "happy", "neutral", "sad", "surprised"),
    description="SAVEE: 4 male British English speakers, 7 emotions, audio and audio-visual",
    licence="free for research use (University of Surrey)",
    url="http://kahlan.eps.surrey.ac.uk/savee/",
)
def prepare_savee(
    root: str | os.PathLike[str],
    *,
    modality: str | Iterable[str] = MODALITIES,
) -> pd.DataFrame:
    """Manifest of a SAVEE folder, original or flat layout (any audio extension).

    Parameters
    ----------
    root : str or PathLike
    modality : str or iterable of str
        ``"audio"`` and/or ``"audio-visual"`` (video clips). An audio file and a clip of the same
        utterance make one row (``path`` the audio, ``video_path`` the clip); a lone clip makes
        a row whose ``path`` is the clip.

    Extra columns: ``raw_label`` (``a``, ``sa``, ...), ``text_id`` (``a01``: the same sentence
    for every speaker), ``modality``, ``video_path``.
    """
    modalities = _choice(modality, MODALITIES, "modality")
    by_id: dict[str, dict] = {}
    skipped: list[tuple[str, str]] = []
    for path in find_media_files(root):
        m = STEM.match(path.stem)
        if m is None:
            skipped.append((str(path), "name is not <code><nn> or <SPK>_<code><nn> with SAVEE "
                                       "codes (e.g. a01, DC_sa03)"))
            continue
        speaker = (m["speaker"] or path.parent.name).upper()
        code, num = m["code"].lower(), int(m["num"])
        if speaker not in SPEAKERS:
            skipped.append((str(path), f"unknown SAVEE speaker {speaker!r} (name or folder "
                                       f"should be one of {', '.join(SPEAKERS)})"))
            continue
        if not 1 <= num <= (30 if code == "n" else 15):
            skipped.append((str(path), f"SAVEE has no sentence {code}{num:02d}"))
            continue
        mod = "audio-visual" if path.suffix.lower() in VIDEO_EXTENSIONS else "audio"
        if mod not in modalities:
            continue
        text_id = f"{code}{num:02d}"
        uid = f"{speaker}_{text_id}"
        row = by_id.setdefault(uid, dict(id=uid, audio=None, video=None, raw_label=code,
                                         speaker=speaker, gender="male", text_id=text_id))
        key = "video" if mod == "audio-visual" else "audio"
        if row[key] is not None:
            skipped.append((str(path), f"another copy of the same utterance is used: "
                                       f"{row[key]}"))
            continue
        row[key] = path
    rows = []
    for row in by_id.values():
        audio, video = row.pop("audio"), row.pop("video")
        rows.append(dict(row, path=audio or video, modality="audio" if audio else "audio-visual",
                         video_path=None if video is None else str(Path(video).resolve())))
    return make_manifest(rows, corpus="savee", root=root, label_map=LABEL_MAP,
                         labels=LABEL_MAP.values(), skipped=skipped)
