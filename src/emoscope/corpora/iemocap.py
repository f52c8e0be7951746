"""IEMOCAP: the Interactive Emotional Dyadic Motion Capture database.

Source: Busso, Bulut, Lee, Kazemzadeh, Mower, Kim, Chang, Lee & Narayanan (2008), "IEMOCAP:
interactive emotional dyadic motion capture database", Language Resources and Evaluation 42(4),
335-359; https://sail.usc.edu/iemocap/
Licence: released by USC SAIL on request, under a licence agreement, for research only; no
redistribution.

Ten actors in five sessions (one woman and one man per session) act scripted and improvised
dialogs, about 12 hours, 10039 evaluated utterances. Layout::

    IEMOCAP_full_release/Session{1..5}/
        sentences/wav/<dialog>/<utterance>.wav     one file per utterance
        dialog/EmoEvaluation/<dialog>.txt          labels, one summary line per utterance
        dialog/transcriptions/<dialog>.txt         what was said
        dialog/avi/DivX/<dialog>.avi               the dialog's video (both actors)

Dialogs are named ``Ses01F_impro01`` or ``Ses01F_script01_1``; the letter after the session
number tells which actor wore the motion-capture markers, not who speaks. Utterances append
``_F000`` or ``_M012``: that letter is the speaker's gender, and the speaker is
``Ses01_F`` (session + letter). A summary line in ``EmoEvaluation`` reads::

    [6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]

(start and end in seconds within the dialog, utterance, consensus category, then valence,
activation and dominance on 1-5 scales). The other lines (``C-E1: ...``, ``A-E2: ...``) hold each
annotator's ratings and are not read, nor are the ``Categorical``/``Attribute``/``Self-evaluation``
sub-folders. Categories: ``neu`` neutral, ``hap`` happy, ``sad``, ``ang`` angry, ``fru``
frustrated, ``exc`` excited, ``fea`` fearful, ``sur`` surprised, ``dis`` disgust, ``oth`` other,
``xxx`` no majority among the annotators. Transcription lines read
``Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.``

The usual protocol is leave-one-session-out (each session's two actors appear in no other).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from emoscope.audio.formats import VIDEO_EXTENSIONS
from emoscope.corpora.base import find_media_files, make_manifest, register_corpus, select_labels
from emoscope.errors import ConfigError, CorpusError

LABEL_MAP = {
    "neu": "neutral",
    "hap": "happy",
    "sad": "sad",
    "ang": "angry",
    "fru": "frustrated",
    "exc": "excited",
    "fea": "fearful",
    "sur": "surprised",
    "dis": "disgust",
    "oth": "other",
}
#: ``xxx`` (no majority) has no canonical emotion; with ``keep_unlabeled=True`` its rows get
#: this label and keep ``raw_label == "xxx"``.
UNLABELED = "xxx"
UNLABELED_LABEL = "other"
#: ``label_set`` -> (labels kept, merges applied first), for :func:`select_labels`.
LABEL_SETS: dict[str, tuple[tuple[str, ...] | None, dict[str, str]]] = {
    "all": (None, {}),
    "4class": (("neutral", "happy", "sad", "angry"), {"excited": "happy"}),
    "3class": (("angry", "happy", "sad"), {"excited": "happy"}),
}
SESSIONS = (1, 2, 3, 4, 5)
SESSION_DIR = re.compile(r"^Session([1-5])$", re.IGNORECASE)
SUMMARY = re.compile(
    r"^\[\s*(?P<start>[\d.]+)\s*-\s*(?P<end>[\d.]+)\s*\]\s+(?P<utt>\S+)\s+(?P<cat>[A-Za-z]+)"
    r"\s+\[\s*(?P<v>[^,\]]+),\s*(?P<a>[^,\]]+),\s*(?P<d>[^,\]]+)\]"
)
TRANSCRIPT = re.compile(r"^(?P<utt>\S+)\s+\[[\d.]+-[\d.]+\]:\s?(?P<text>.*)$")
UTTERANCE = re.compile(r"^Ses(?P<session>\d\d)[FM]_.+_(?P<gender>[FM])\d+$")


def find_sessions(root: str | os.PathLike[str]) -> dict[int, Path]:
    """The ``Session<N>`` folders at or up to three levels below ``root``.

    Raises
    ------
    CorpusError
        ``root`` does not exist, or holds no session folder.
    """
    base = Path(root)
    if not base.is_dir():
        raise CorpusError(f"{base}: no such folder")
    found: dict[int, Path] = {}
    level = [base]
    for _ in range(4):
        nxt = []
        for folder in level:
            m = SESSION_DIR.match(folder.name)
            if m:
                found.setdefault(int(m[1]), folder)
                continue
            try:
                nxt += sorted(p for p in folder.iterdir()
                              if p.is_dir() and not p.name.startswith("."))
            except OSError:
                continue
        level = nxt
    if not found:
        raise CorpusError(f"{base}: no IEMOCAP Session1..Session5 folders found (expected "
                          "IEMOCAP_full_release/Session<N>/dialog/EmoEvaluation/...)")
    return found


def read_evaluation(path: str | os.PathLike[str]) -> list[dict]:
    """The summary lines of one ``EmoEvaluation/<dialog>.txt``: dicts with ``utterance``,
    ``raw_label``, ``start``, ``end``, ``valence``, ``activation``, ``dominance``."""
    out = []
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        m = SUMMARY.match(line.strip())
        if m is None:
            continue
        out.append(dict(utterance=m["utt"], raw_label=m["cat"].lower(), start=float(m["start"]),
                        end=float(m["end"]), valence=_float(m["v"]), activation=_float(m["a"]),
                        dominance=_float(m["d"])))
    return out


def read_transcription(path: str | os.PathLike[str]) -> dict[str, str]:
    """Utterance id -> text, from one ``transcriptions/<dialog>.txt``."""
    out = {}
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        m = TRANSCRIPT.match(line.strip())
        if m is not None:
            out[m["utt"]] = m["text"].strip()
    return out


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _media_by_stem(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    out: dict[str, Path] = {}
    for p in find_media_files(folder):
        out.setdefault(p.stem, p)
    return out


def _text_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() == ".txt" and not p.name.startswith("."))


@register_corpus(
    "iemocap",
    label_map=LABEL_MAP,
    default_labels=tuple(LABEL_MAP.values()),
    description="IEMOCAP: 10 actors in 5 dyadic sessions, scripted and improvised, 10 categories "
                "and valence/activation/dominance",
    licence="by licence agreement with USC SAIL, research only",
    url="https://sail.usc.edu/iemocap/",
)
def prepare_iemocap(
    root: str | os.PathLike[str],
    *,
    label_set: str = "all",
    sessions: Iterable[int] | None = None,
    improvised: bool | None = None,
    keep_unlabeled: bool = False,
) -> pd.DataFrame:
    """Manifest of an IEMOCAP release (``IEMOCAP_full_release`` or any folder above or at its
    ``Session<N>`` folders; any audio extension).

    Parameters
    ----------
    root : str or PathLike
    label_set : {"all", "4class", "3class"}
        ``"all"``: every category. ``"4class"``: neutral, happy, sad, angry, with excited merged
        into happy (the common set: 5531 utterances in the full release). ``"3class"``: angry,
        happy (excited merged), sad. Any other subset or merge:
        ``emoscope.corpora.load("iemocap", root, labels=[...], label_map={"excited": "happy"})``.
    sessions : iterable of int, optional
        Sessions to list (1-5); a requested session missing under ``root`` is an error. By
        default every ``Session<N>`` folder found.
    improvised : bool, optional
        ``True``: improvised dialogs only; ``False``: scripted only; ``None``: both.
    keep_unlabeled : bool
        Keep utterances without a majority category (``xxx``): their ``label`` is ``other`` and
        their ``raw_label`` stays ``xxx``. They are dropped by default.

    Extra columns: ``raw_label``, ``session`` (1-5), ``dialog``, ``improvised``,
    ``dialog_start``, ``dialog_end`` (seconds within the whole dialog recording; ``path`` is the
    utterance's own file, so these are not offsets into it), ``transcript``, ``valence``,
    ``activation``, ``dominance``, ``video_path`` (the dialog's video, when present).

    Evaluated utterances whose audio file is missing, and audio files without an evaluation, are
    listed in ``df.attrs["skipped"]``.
    """
    if label_set not in LABEL_SETS:
        raise ConfigError(f"unknown IEMOCAP label_set {label_set!r}; choose from "
                          f"{', '.join(LABEL_SETS)}")
    if sessions is not None:
        wanted = sorted({int(s) for s in sessions})
        bad = [s for s in wanted if s not in SESSIONS]
        if bad or not wanted:
            raise ConfigError(f"IEMOCAP sessions are 1-5, got {bad or 'none'}")
    if improvised not in (None, True, False):
        raise ConfigError(f"improvised must be True, False or None, got {improvised!r}")
    found = find_sessions(root)
    if sessions is None:
        wanted = sorted(found)
    absent = [s for s in wanted if s not in found]
    if absent:
        raise CorpusError(f"{root}: no Session folder for session(s) {absent}; found "
                          f"{sorted(found)}")

    rows: list[dict] = []
    skipped: list[tuple[str, str]] = []
    for s in wanted:
        sdir = found[s]
        evaluations = _text_files(sdir / "dialog" / "EmoEvaluation")
        if not evaluations:
            raise CorpusError(f"{sdir}: no dialog/EmoEvaluation/<dialog>.txt files")
        wav_dir = sdir / "sentences" / "wav"
        audio = _media_by_stem(wav_dir)
        videos = {stem: p for stem, p in _media_by_stem(sdir / "dialog" / "avi").items()
                  if p.suffix.lower() in VIDEO_EXTENSIONS}
        evaluated: set[str] = set()
        for ev in evaluations:
            dialog = ev.stem
            text_file = sdir / "dialog" / "transcriptions" / ev.name
            transcripts = read_transcription(text_file) if text_file.is_file() else {}
            for rec in read_evaluation(ev):
                utt = rec["utterance"]
                evaluated.add(utt)
                m = UTTERANCE.match(utt)
                if m is None or rec["raw_label"] not in (*LABEL_MAP, UNLABELED):
                    skipped.append((str(ev), f"{utt}: not an IEMOCAP utterance id and category"))
                    continue
                if utt.rsplit("_", 1)[0] != dialog:
                    skipped.append((str(ev), f"{utt}: does not belong to dialog {dialog}"))
                    continue
                is_impro = "_impro" in dialog
                if improvised is not None and is_impro != improvised:
                    continue
                if rec["raw_label"] == UNLABELED and not keep_unlabeled:
                    continue
                wav = audio.get(utt)
                if wav is None:
                    skipped.append((str(wav_dir / dialog / f"{utt}.wav"),
                                    "evaluated utterance without an audio file"))
                    continue
                video = videos.get(dialog)
                gender = m["gender"]
                rows.append(dict(
                    id=utt, path=wav, label=LABEL_MAP.get(rec["raw_label"], UNLABELED_LABEL),
                    raw_label=rec["raw_label"], speaker=f"Ses{int(m['session']):02d}_{gender}",
                    gender="female" if gender == "F" else "male", session=s, dialog=dialog,
                    improvised=is_impro, dialog_start=rec["start"], dialog_end=rec["end"],
                    transcript=transcripts.get(utt), valence=rec["valence"],
                    activation=rec["activation"], dominance=rec["dominance"],
                    video_path=None if video is None else str(video.resolve()),
                ))
        for stem, p in audio.items():
            if stem not in evaluated:
                skipped.append((str(p), "no EmoEvaluation entry for this utterance"))
    df = make_manifest(rows, corpus="iemocap", root=root, labels=LABEL_MAP.values(),
                       skipped=skipped)
    keep, merge = LABEL_SETS[label_set]
    if keep is None:
        return df
    return select_labels(df, keep, label_map=merge, corpus_map=LABEL_MAP)
