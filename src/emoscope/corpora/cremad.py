"""CREMA-D: the Crowd-sourced Emotional Multimodal Actors Dataset.

Source: Cao, Cooper, Keutmann, Gur, Nenkova & Verma (2014), IEEE Transactions on Affective
Computing 5(4), 377-390; https://github.com/CheyneyComputerScience/CREMA-D
Licence: Open Database License (ODbL 1.0); the individual contents under the Database Contents
License (DbCL 1.0).

91 actors (IDs 1001-1091, aged 20-74) say 12 sentences in six emotions: 7442 clips, each an
audio-visual recording. The release (a git-lfs repository) holds::

    AudioWAV/<ACTOR>_<SENTENCE>_<EMOTION>_<LEVEL>.wav   audio taken from the recordings
    AudioMP3/<same stem>.mp3                           the audio played to the raters
    VideoFlash/<same stem>.flv                         the audio-visual recordings
    VideoDemographics.csv                              ActorID, Age, Sex, Race, Ethnicity
    processedResults/summaryTable.csv, ...             the raters' votes

File stems have four ``_`` fields, e.g. ``1001_DFA_ANG_XX``:

======== =================================================================================
ACTOR    1001-1091
SENTENCE IEO "It's eleven o'clock", TIE "That is exactly what happened",
         IOM "I'm on my way to the meeting", IWW "I wonder what this is about",
         TAI "The airplane is almost full", MTI "Maybe tomorrow it will be cold",
         IWL "I would like a new alarm clock", ITH "I think I have a doctor's appointment",
         DFA "Don't forget a jacket", ITS "I think I've seen this before",
         TSI "The surface is slick", WSI "We'll stop in a couple of minutes"
EMOTION  ANG anger, DIS disgust, FEA fear, HAP happy, NEU neutral, SAD sad
LEVEL    LO low, MD medium, HI high, XX unspecified (only IEO is recorded at three levels)
======== =================================================================================

The label is the emotion the actor was asked to portray. The raters' perceived emotions
(``processedResults/summaryTable.csv``, ``tabulatedVotes.csv``, ``finished*Responses.csv``) are
not read. Older copies name one file ``1040_ITH_SAD_X``; a one-letter ``X`` level is read as
``XX``. A clone made without git-lfs holds small text pointers instead of media; they are listed
in ``df.attrs["skipped"]``.

Speaker gender is not part of the file name: it comes from ``VideoDemographics.csv`` (found
anywhere under the root, or in the folder just above it), or from the ``demographics`` option.
Without it every ``gender`` is ``unknown``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from emoscope.audio.formats import VIDEO_EXTENSIONS
from emoscope.corpora.base import find_media_files, make_manifest, register_corpus
from emoscope.errors import ConfigError, CorpusError

LABEL_MAP = {
    "ANG": "angry",
    "DIS": "disgust",
    "FEA": "fearful",
    "HAP": "happy",
    "NEU": "neutral",
    "SAD": "sad",
}
SENTENCES = {
    "IEO": "It's eleven o'clock",
    "TIE": "That is exactly what happened",
    "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about",
    "TAI": "The airplane is almost full",
    "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock",
    "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket",
    "ITS": "I think I've seen this before",
    "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}
INTENSITIES = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified", "X": "unspecified"}
ACTORS = range(1001, 1092)
DEMOGRAPHICS_FILE = "VideoDemographics.csv"
#: When several audio files share a stem (AudioWAV and AudioMP3), the first of these wins.
AUDIO_PREFERENCE = (".wav", ".flac")
MODALITIES = ("audio", "audio-visual")


def _choice(value: str | Iterable[str], allowed: Iterable[str], what: str) -> set[str]:
    vals = {value} if isinstance(value, str) else set(value)
    bad = vals - set(allowed)
    if bad or not vals:
        raise ConfigError(f"unknown CREMA-D {what} {sorted(bad)}; choose from {sorted(allowed)}")
    return vals


def _is_lfs_pointer(path: Path) -> bool:
    """True for a git-lfs pointer file (a clone made without ``git lfs``)."""
    try:
        if path.stat().st_size > 1024:
            return False
        with open(path, "rb") as f:
            return f.read(40).startswith(b"version https://git-lfs")
    except OSError:
        return False


def _find_demographics(root: Path) -> Path | None:
    target = DEMOGRAPHICS_FILE.lower()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in sorted(filenames):
            if fn.lower() == target:
                return Path(dirpath) / fn
    parent = root.resolve().parent / DEMOGRAPHICS_FILE
    return parent if parent.is_file() else None


def read_demographics(path: str | os.PathLike[str]) -> dict[str, dict]:
    """Per-actor ``gender``, ``age``, ``race``, ``ethnicity`` from ``VideoDemographics.csv``.

    Raises
    ------
    CorpusError
        The file is missing or lacks the ``ActorID`` or ``Sex`` column.
    """
    p = Path(path)
    if not p.is_file():
        raise CorpusError(f"{p}: no such demographics file")
    table = pd.read_csv(p, dtype=str, encoding="utf-8-sig")
    table.columns = [c.strip() for c in table.columns]
    missing = [c for c in ("ActorID", "Sex") if c not in table.columns]
    if missing:
        raise CorpusError(f"{p}: lacks the column(s) {', '.join(missing)}; expected "
                          "ActorID, Age, Sex, Race, Ethnicity")
    out = {}
    for rec in table.to_dict("records"):
        actor = str(rec["ActorID"]).strip()
        sex = str(rec["Sex"]).strip().lower()
        age = pd.to_numeric(rec.get("Age"), errors="coerce")
        out[actor] = dict(
            gender=sex if sex in ("male", "female") else "unknown",
            age=None if pd.isna(age) else int(age),
            race=None if pd.isna(rec.get("Race")) else str(rec.get("Race")).strip(),
            ethnicity=(None if pd.isna(rec.get("Ethnicity"))
                       else str(rec.get("Ethnicity")).strip()),
        )
    return out


@register_corpus(
    "crema-d",
    label_map=LABEL_MAP,
    default_labels=("angry", "disgust", "fearful", "happy", "neutral", "sad"),
    description="CREMA-D: 91 actors, 12 sentences, 6 emotions, audio and audio-visual",
    licence="ODbL 1.0 (contents: DbCL 1.0)",
    url="https://github.com/CheyneyComputerScience/CREMA-D",
    aliases=("cremad",),
)
def prepare_cremad(
    root: str | os.PathLike[str],
    *,
    modality: str | Iterable[str] = MODALITIES,
    demographics: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Manifest of a CREMA-D folder (any audio extension; FLV/MP4 recordings).

    Parameters
    ----------
    root : str or PathLike
    modality : str or iterable of str
        Which files to list: ``"audio"`` (AudioWAV, AudioMP3) and/or ``"audio-visual"``
        (VideoFlash). When an audio file and the recording of the same stem both exist they make
        one row: the audio is its ``path``, the recording its ``video_path``. A lone recording
        makes a row whose ``path`` is the recording (its sound track is decoded). When several
        audio files share a stem, WAV is preferred over FLAC over the rest (MP3); the others are
        listed in ``df.attrs["skipped"]``.
    demographics : str or PathLike, optional
        ``VideoDemographics.csv`` to read gender, age, race and ethnicity from. By default it is
        looked for under ``root`` (and in the folder just above it); without one, every gender
        is ``unknown`` and there are no ``age``, ``race``, ``ethnicity`` columns.

    Extra columns: ``raw_label``, ``text_id`` (sentence code), ``transcript``, ``intensity``
    (``low``, ``medium``, ``high``, ``unspecified``), ``modality``, ``video_path``, and with
    demographics ``age``, ``race``, ``ethnicity``.
    """
    modalities = _choice(modality, MODALITIES, "modality")
    base = Path(root)
    by_id: dict[str, dict] = {}
    skipped: list[tuple[str, str]] = []
    for path in find_media_files(base):
        f = path.stem.split("_")
        if (len(f) != 4 or not f[0].isdigit() or int(f[0]) not in ACTORS
                or f[1] not in SENTENCES or f[2] not in LABEL_MAP or f[3] not in INTENSITIES):
            skipped.append((str(path), "name is not ACTOR_SENTENCE_EMOTION_LEVEL with CREMA-D "
                                       "codes (e.g. 1001_DFA_ANG_XX)"))
            continue
        if _is_lfs_pointer(path):
            skipped.append((str(path), "a git-lfs pointer, not media (run `git lfs pull`)"))
            continue
        mod = "audio-visual" if path.suffix.lower() in VIDEO_EXTENSIONS else "audio"
        if mod not in modalities:
            continue
        level = "XX" if f[3] == "X" else f[3]
        uid = "_".join([f[0], f[1], f[2], level])
        row = by_id.setdefault(uid, dict(
            id=uid, audio=[], video=[], raw_label=f[2], speaker=f[0], text_id=f[1],
            transcript=SENTENCES[f[1]], intensity=INTENSITIES[level],
        ))
        row["video" if mod == "audio-visual" else "audio"].append(path)

    table = _find_demographics(base) if demographics is None else Path(demographics)
    people = read_demographics(table) if table is not None else None
    rows = []
    for row in by_id.values():
        audio = _pick(row.pop("audio"), AUDIO_PREFERENCE, skipped)
        video = _pick(row.pop("video"), (".flv", ".mp4"), skipped)
        row.update(path=audio or video, modality="audio" if audio else "audio-visual",
                   video_path=None if video is None else str(video.resolve()))
        if people is None:
            row["gender"] = "unknown"
        else:
            row.update(people.get(row["speaker"], dict(gender="unknown", age=None, race=None,
                                                       ethnicity=None)))
        rows.append(row)
    return make_manifest(rows, corpus="crema-d", root=root, label_map=LABEL_MAP,
                         labels=LABEL_MAP.values(), skipped=skipped)


def _pick(paths: list[Path], preference: tuple[str, ...],
          skipped: list[tuple[str, str]]) -> Path | None:
    """The preferred file among copies of one utterance; the others go to ``skipped``."""
    if not paths:
        return None
    rank = {ext: i for i, ext in enumerate(preference)}
    ordered = sorted(paths, key=lambda p: (rank.get(p.suffix.lower(), len(rank)), str(p)))
    for other in ordered[1:]:
        skipped.append((str(other), f"another copy of the same utterance is used: {ordered[0]}"))
    return ordered[0]
