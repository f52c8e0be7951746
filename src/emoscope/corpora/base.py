"""The Manifest (one row per utterance) and the corpus registry.

A manifest is a :class:`pandas.DataFrame` with at least the columns of :data:`MANIFEST_COLUMNS`:

========== ===================================================================================
id         unique utterance id within the corpus (usually the file stem)
path       absolute path of the audio (or video) file
label      canonical emotion (:class:`~emoscope.corpora.labels.Emotion`)
speaker    the corpus's own speaker id, as a string ("OAF", "01", "1001", "Ses01_F")
gender     ``male``, ``female`` or ``unknown``
corpus     registered corpus name
========== ===================================================================================

plus ``raw_label`` (the corpus's own label) and whatever else the corpus knows (``intensity``,
``statement``, ``session``, ``transcript``, ``video_path``, ...). ``start`` and ``end``, when
present and not null, are the seconds of ``path`` the utterance occupies (a row cut from a longer
recording); every reader of audio honours them. Nothing downstream needs to know which corpus a
manifest came from.

``df.attrs`` carries ``corpus``, ``root``, ``labels`` (the label set, in order) and ``skipped``
(files under the root that did not follow the corpus's naming scheme, with the reason).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from emoscope.audio.formats import MEDIA_EXTENSIONS
from emoscope.corpora.labels import Emotion, Gender, canonical_emotion, resolve_labels
from emoscope.errors import CorpusError
from emoscope.registry import Registry

__all__ = [
    "CORPORA",
    "MANIFEST_COLUMNS",
    "CorpusSpec",
    "find_media_files",
    "load",
    "make_manifest",
    "register_corpus",
    "select_labels",
    "validate_manifest",
]

#: Columns every manifest has, in this order.
MANIFEST_COLUMNS: tuple[str, ...] = ("id", "path", "label", "speaker", "gender", "corpus")


@dataclass(frozen=True)
class CorpusSpec:
    """A registered corpus: its loader and what a user should know about it.

    Attributes
    ----------
    name : str
    prepare : callable
        ``prepare(root, **options) -> pd.DataFrame``: the manifest.
    label_map : mapping
        The corpus's own label codes -> canonical emotion names.
    description, licence, url : str
    default_labels : tuple of str
        The corpus's usual label set, canonical names, in its customary order.
    """

    name: str
    prepare: Callable[..., pd.DataFrame]
    label_map: Mapping[str, str]
    description: str = ""
    licence: str = ""
    url: str = ""
    default_labels: tuple[str, ...] = field(default_factory=tuple)


#: Every corpus emoscope knows, by name.
CORPORA: Registry[CorpusSpec] = Registry("corpus")


def register_corpus(
    name: str,
    *,
    label_map: Mapping[str, str],
    default_labels: Iterable[str],
    description: str = "",
    licence: str = "",
    url: str = "",
    aliases: tuple[str, ...] = (),
) -> Callable[[Callable[..., pd.DataFrame]], Callable[..., pd.DataFrame]]:
    """Register a ``prepare_<corpus>(root, **options)`` function as corpus ``name``."""
    for canon in label_map.values():
        Emotion(canon)  # a typo in a mapping fails at import, not at run time

    def deco(fn: Callable[..., pd.DataFrame]) -> Callable[..., pd.DataFrame]:
        spec = CorpusSpec(name, fn, dict(label_map), description, licence, url,
                          tuple(default_labels))
        CORPORA.register(name, aliases=aliases)(spec)
        return fn

    return deco


def find_media_files(root: str | os.PathLike[str]) -> Iterator[Path]:
    """Every audio or video file under ``root`` (recursive, sorted, hidden entries skipped)."""
    base = Path(root)
    if not base.exists():
        raise CorpusError(f"{base}: no such folder")
    if base.is_file():
        raise CorpusError(f"{base}: expected a folder, got a file")
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in sorted(filenames):
            if not fn.startswith(".") and Path(fn).suffix.lower() in MEDIA_EXTENSIONS:
                yield Path(dirpath) / fn


def make_manifest(
    rows: list[dict[str, Any]],
    *,
    corpus: str,
    root: str | os.PathLike[str],
    label_map: Mapping[str, str] | None = None,
    labels: Iterable[str] = (),
    skipped: list[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """Build and validate a manifest from per-utterance rows.

    Each row needs ``id, path, speaker, gender`` and either ``label`` (canonical) or
    ``raw_label`` (mapped through ``label_map``). Rows are sorted by ``id``.

    Raises
    ------
    CorpusError
        No rows (nothing following the naming scheme was found), or duplicate ids.
    """
    if not rows:
        hint = f" ({len(skipped)} media files did not follow its naming scheme)" if skipped else ""
        raise CorpusError(f"{root}: no {corpus} utterances found{hint}")
    df = pd.DataFrame(rows)
    if "label" not in df.columns:
        if label_map is None:
            raise CorpusError(f"{corpus}: rows carry raw labels but no label map was given")
        df["label"] = [canonical_emotion(r, label_map) for r in df["raw_label"]]
    df["corpus"] = corpus
    df["path"] = [str(Path(p).resolve()) for p in df["path"]]
    df["speaker"] = df["speaker"].astype(str)
    rest = [c for c in df.columns if c not in MANIFEST_COLUMNS]
    df = df[list(MANIFEST_COLUMNS) + rest].sort_values("id", kind="stable").reset_index(drop=True)
    present = set(df["label"])
    ordered = [lab for lab in dict.fromkeys(labels) if lab in present]
    df.attrs.update(
        corpus=corpus,
        root=str(Path(root).resolve()),
        labels=ordered + sorted(present - set(ordered)),
        skipped=list(skipped or []),
    )
    return validate_manifest(df)


def validate_manifest(df: pd.DataFrame) -> pd.DataFrame:
    """Check that ``df`` is a usable manifest; return it unchanged.

    Raises
    ------
    CorpusError
        Missing columns, empty or duplicate ids, missing labels or speakers, a label outside the
        canonical vocabulary, a gender other than male/female/unknown.
    """
    missing = [c for c in MANIFEST_COLUMNS if c not in df.columns]
    if missing:
        raise CorpusError(f"manifest lacks the column(s) {', '.join(missing)}")
    if df["id"].isna().any() or (df["id"].astype(str) == "").any():
        raise CorpusError("manifest has rows without an id")
    dup = df["id"][df["id"].duplicated()]
    if len(dup):
        raise CorpusError(f"manifest has duplicate ids, e.g. {dup.iloc[0]!r}")
    for col in ("label", "speaker", "path"):
        if df[col].isna().any():
            raise CorpusError(f"manifest has rows without a {col}")
    bad = set(df["label"]) - set(Emotion._value2member_map_)
    if bad:
        raise CorpusError(f"manifest has label(s) outside the canonical vocabulary: "
                          f"{', '.join(sorted(map(str, bad)))}")
    bad = set(df["gender"].fillna("unknown")) - set(Gender._value2member_map_)
    if bad:
        raise CorpusError(f"manifest has gender value(s) {sorted(map(str, bad))}; "
                          "use male, female or unknown")
    return df


def select_labels(
    df: pd.DataFrame,
    labels: Iterable[str] | None = None,
    *,
    label_map: Mapping[str, str] | None = None,
    corpus_map: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Merge labels, then keep a subset.

    Parameters
    ----------
    df : pd.DataFrame
        A manifest.
    labels : iterable of str, optional
        Labels to keep (canonical names, synonyms, or the corpus's own codes), in the order the
        label set should have. All labels are kept when ``None``.
    label_map : mapping, optional
        Merges applied first, e.g. ``{"excited": "happy"}`` (IEMOCAP's usual 4-class set).
    corpus_map : mapping, optional
        The corpus's own codes, so that ``labels`` may use them (``"ps"`` for TESS).

    Returns
    -------
    pd.DataFrame
        A new manifest; ``attrs["labels"]`` is the resulting label set.
    """
    out = df.copy()
    out.attrs = dict(df.attrs)
    if label_map:
        merge = {canonical_emotion(k, corpus_map): canonical_emotion(v, corpus_map)
                 for k, v in label_map.items()}
        out["label"] = out["label"].map(lambda x: merge.get(x, x))
    if labels is None:
        present = set(out["label"])
        keep = [lab for lab in df.attrs.get("labels", []) if lab in present]
        keep += sorted(present - set(keep))
    else:
        keep = resolve_labels(labels, corpus_map)
        absent = [lab for lab in keep if lab not in set(out["label"])]
        if absent:
            raise CorpusError(f"label(s) {', '.join(absent)} not in this manifest; it has "
                              f"{', '.join(sorted(set(out['label'])))}")
        out = out[out["label"].isin(keep)].reset_index(drop=True)
    out.attrs["labels"] = keep
    return out


def load(
    name: str,
    root: str | os.PathLike[str],
    *,
    labels: Iterable[str] | None = None,
    label_map: Mapping[str, str] | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Load a corpus's manifest.

    Parameters
    ----------
    name : str
        A registered corpus (``tess``, ``ravdess``, ``crema-d``, ``emodb``, ``savee``, ``iemocap``,
        ``folder``, ``manifest``); see :func:`available`.
    root : str or PathLike
        The corpus folder as distributed (any level above the audio files works), or for
        ``manifest`` a CSV/JSON file.
    labels : iterable of str, optional
        Keep only these labels (see :func:`select_labels`).
    label_map : mapping, optional
        Merge labels first, e.g. ``{"excited": "happy"}``. (Loaders that map a user's own label
        names take that mapping as ``raw_label_map``.)
    **options
        Corpus-specific options, documented on each ``prepare_<corpus>`` function.

    Returns
    -------
    pd.DataFrame
        The manifest (columns :data:`MANIFEST_COLUMNS` and more).
    """
    spec = CORPORA.get(name)
    df = spec.prepare(root, **options)
    if labels is not None or label_map:
        df = select_labels(df, labels, label_map=label_map, corpus_map=spec.label_map)
    return df
