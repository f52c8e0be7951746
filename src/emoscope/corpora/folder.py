"""A generic corpus: one folder per label.

Layout::

    <root>/<label>/<file>            e.g. my_data/angry/clip_001.wav
    <root>/<label>/<any>/<sub>/<file>

The label is the name of the top folder below ``root``, mapped to the canonical vocabulary
(:class:`~emoscope.corpora.labels.Emotion`: ``angry``, ``Anger``, ``ang`` all give ``angry``).
The vocabulary is closed: a folder whose name is not a known emotion is an error naming the folder,
unless the ``raw_label_map`` option maps it (to a canonical name, or to ``None`` to leave the
folder out). Files directly in ``root`` are listed in ``df.attrs["skipped"]``.

Speakers: with ``speaker_pattern`` (a regular expression with a named group ``speaker``, searched
in each file stem) every file gets its speaker; without it every speaker is ``unknown``, so
speaker-independent protocols cannot be built (only random splits, which leak speakers). Gender
is always ``unknown``. Ids are the file paths relative to ``root`` without extension
(``angry/clip_001``), so equal stems in different folders do not collide.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from emoscope.corpora.base import find_media_files, make_manifest, register_corpus
from emoscope.corpora.labels import canonical_emotion
from emoscope.errors import ConfigError, CorpusError


def _speaker_regex(pattern: str | re.Pattern[str] | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"speaker_pattern {pattern!r} is not a regular expression: {exc}") \
            from None
    if "speaker" not in rx.groupindex:
        raise ConfigError(f"speaker_pattern {rx.pattern!r} needs a named group (?P<speaker>...)")
    return rx


def _folder_label(name: str, raw_label_map: Mapping[str, str | None]) -> str | None:
    lowered = {k.lower(): v for k, v in raw_label_map.items()}
    if name in raw_label_map or name.lower() in lowered:
        target = raw_label_map.get(name, lowered.get(name.lower()))
        return None if target is None else canonical_emotion(target)
    try:
        return canonical_emotion(name)
    except ConfigError:
        raise CorpusError(
            f"folder {name!r} is not a known emotion; rename it, or map it with "
            f"raw_label_map={{{name!r}: '<emotion>'}} (or None to leave it out)"
        ) from None


@register_corpus(
    "folder",
    label_map={},
    default_labels=(),
    description="Any folder with one sub-folder per emotion label",
)
def prepare_folder(
    root: str | os.PathLike[str],
    *,
    speaker_pattern: str | re.Pattern[str] | None = None,
    raw_label_map: Mapping[str, str | None] | None = None,
) -> pd.DataFrame:
    """Manifest of a folder-per-label corpus (any audio or video extension).

    Parameters
    ----------
    root : str or PathLike
    speaker_pattern : str, optional
        A regular expression with a named group ``speaker``, searched in each file stem, e.g.
        ``r"^(?P<speaker>[^_]+)_"`` for ``spk01_take3``. Files it does not match are listed in
        ``df.attrs["skipped"]``. Without it every speaker is ``unknown``.
    raw_label_map : mapping, optional
        Folder name -> canonical emotion (or ``None`` to leave the folder out), for folders whose
        names are not emotions emoscope knows, e.g. ``{"mad": "angry", "misc": None}``.
        (Named so because ``emoscope.corpora.load``'s own ``label_map`` merges labels after
        loading.)

    Extra columns: ``raw_label`` (the folder name).

    Raises
    ------
    CorpusError
        A folder name that is not an emotion and is not in ``raw_label_map``; no media files.
    """
    rx = _speaker_regex(speaker_pattern)
    mapping = dict(raw_label_map or {})
    for target in mapping.values():
        if target is not None:
            canonical_emotion(target)  # a typo in the map fails before the scan
    base = Path(root)
    labels: dict[str, str | None] = {}
    rows, skipped = [], []
    for path in find_media_files(base):
        rel = path.relative_to(base)
        if len(rel.parts) < 2:
            skipped.append((str(path), "not inside a label folder"))
            continue
        folder = rel.parts[0]
        if folder not in labels:
            labels[folder] = _folder_label(folder, mapping)
        if labels[folder] is None:
            continue
        speaker = "unknown"
        if rx is not None:
            m = rx.search(path.stem)
            if m is None or not m["speaker"]:
                skipped.append((str(path), f"stem does not match speaker_pattern {rx.pattern!r}"))
                continue
            speaker = m["speaker"]
        rows.append(dict(id=rel.with_suffix("").as_posix(), path=path, label=labels[folder],
                         raw_label=folder, speaker=speaker, gender="unknown", rel=rel.as_posix()))
    ids = pd.Series([r["id"] for r in rows], dtype=object)
    clash = set(ids[ids.duplicated()])
    for r in rows:
        rel = r.pop("rel")
        if r["id"] in clash:  # the same name with two extensions: keep the extension in the id
            r["id"] = rel
    return make_manifest(rows, corpus="folder", root=root, skipped=skipped)
