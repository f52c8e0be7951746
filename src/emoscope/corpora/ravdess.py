"""RAVDESS: the Ryerson Audio-Visual Database of Emotional Speech and Song.

Source: Livingstone & Russo (2018), PLoS ONE 13(5), https://zenodo.org/record/1188976
Licence: CC BY-NC-SA 4.0.

24 actors (odd numbers male, even female), two statements, speech (8 emotions) and song (6),
as audio-only WAV and as audio-visual / video-only MP4. File stems are seven fields
``MM-VV-EE-II-SS-RR-AA``:

== ===========================================================================================
MM modality: 01 audio-visual, 02 video only, 03 audio only
VV vocal channel: 01 speech, 02 song
EE emotion: 01 neutral 02 calm 03 happy 04 sad 05 angry 06 fearful 07 disgust 08 surprised
II intensity: 01 normal, 02 strong (neutral has no strong)
SS statement: 01 "Kids are talking by the door", 02 "Dogs are sitting by the door"
RR repetition: 01, 02
AA actor: 01-24
== ===========================================================================================
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import pandas as pd

from emoscope.corpora.base import find_media_files, make_manifest, register_corpus
from emoscope.errors import ConfigError

LABEL_MAP = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
MODALITIES = {"01": "audio-visual", "02": "video", "03": "audio"}
VOCAL_CHANNELS = {"01": "speech", "02": "song"}
INTENSITIES = {"01": "normal", "02": "strong"}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}


def _choice(value: str | Iterable[str], allowed: Iterable[str], what: str) -> set[str]:
    vals = {value} if isinstance(value, str) else set(value)
    if not vals:
        raise ConfigError(f"choose at least one RAVDESS {what} from {sorted(allowed)}")
    bad = vals - set(allowed)
    if bad:
        raise ConfigError(f"unknown RAVDESS {what} {sorted(bad)}; choose from {sorted(allowed)}")
    return vals


@register_corpus(
    "ravdess",
    label_map=LABEL_MAP,
    default_labels=tuple(LABEL_MAP.values()),
    description="RAVDESS: 24 actors, speech and song, audio and audio-visual, 8 emotions",
    licence="CC BY-NC-SA 4.0",
    url="https://zenodo.org/record/1188976",
)
def prepare_ravdess(
    root: str | os.PathLike[str],
    *,
    vocal_channel: str | Iterable[str] = "speech",
    modality: str | Iterable[str] = ("audio", "audio-visual"),
) -> pd.DataFrame:
    """Manifest of a RAVDESS folder.

    Parameters
    ----------
    root : str or PathLike
    vocal_channel : str or iterable of str
        ``"speech"``, ``"song"`` or both.
    modality : str or iterable of str
        Which files to list, by the modality code: ``"audio"`` (03, audio-only files),
        ``"audio-visual"`` (01, MP4 with sound) and/or ``"video"`` (02, MP4 without sound).
        The files of one recording make one row: the audio-only file is its ``path`` when
        there is one, and an MP4 its ``video_path`` (the audio-visual one when both MP4s are
        listed: the pictures are the same). A row without an audio-only file takes the
        audio-visual MP4 as its ``path`` (its sound track is decoded), or else the video-only
        MP4 (``modality`` ``"video"``: it has no sound, so only video features can use it).
        Video-only files are not listed by default.

    Extra columns: ``raw_label``, ``modality``, ``vocal_channel``, ``intensity``, ``statement``,
    ``repetition``, ``video_path``.
    """
    channels = _choice(vocal_channel, VOCAL_CHANNELS.values(), "vocal channel")
    modalities = _choice(modality, ("audio", "audio-visual", "video"), "modality")
    by_key: dict[tuple[str, ...], dict] = {}
    skipped = []
    for path in find_media_files(root):
        f = path.stem.split("-")
        if (len(f) != 7 or f[0] not in MODALITIES or f[1] not in VOCAL_CHANNELS
                or f[2] not in LABEL_MAP or f[3] not in INTENSITIES or f[4] not in STATEMENTS
                or f[5] not in ("01", "02") or not f[6].isdigit()):
            skipped.append((str(path), "name is not MM-VV-EE-II-SS-RR-AA with RAVDESS codes"))
            continue
        mod, vc = MODALITIES[f[0]], VOCAL_CHANNELS[f[1]]
        if vc not in channels or mod not in modalities:
            continue
        actor = int(f[6])
        row = by_key.setdefault(tuple(f[1:]), dict(
            id="-".join(["03", *f[1:]]), audio=None, video=None, silent=None, raw_label=f[2],
            speaker=f"{actor:02d}", gender="male" if actor % 2 else "female",
            vocal_channel=vc, intensity=INTENSITIES[f[3]], statement=int(f[4]),
            repetition=int(f[5]),
        ))
        row[{"audio": "audio", "audio-visual": "video", "video": "silent"}[mod]] = path
    rows = []
    for row in by_key.values():
        audio, video, silent = row.pop("audio"), row.pop("video"), row.pop("silent")
        kind = "audio" if audio else "audio-visual" if video else "video"
        video = video or silent  # the same pictures; the audio-visual file has sound too
        rows.append(dict(row, path=audio or video, modality=kind,
                         video_path=None if video is None else str(video.resolve())))
    return make_manifest(rows, corpus="ravdess", root=root, label_map=LABEL_MAP,
                         labels=LABEL_MAP.values(), skipped=skipped)
