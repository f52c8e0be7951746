"""A user's own manifest: a CSV, TSV, JSON or JSON-lines file listing audio files and labels.

``root`` is the file itself. Formats, by extension (content is sniffed for others):

=============== ===========================================================================
``.csv``        comma-separated, header row (UTF-8, a byte-order mark is fine)
``.tsv``        tab-separated, header row
``.json``       a list of objects, ``[{"path": "a.wav", "label": "angry"}, ...]``
``.jsonl``      one object per line (also ``.ndjson``)
=============== ===========================================================================

Columns (keys):

=========== ===========================================================================
path        required; relative paths resolve against the manifest file's folder
label       required; any canonical name or synonym (``angry``, ``anger``, ``ang``), or a name
            mapped by the ``raw_label_map`` option
speaker     optional; ``unknown`` when absent or empty (speaker-independent protocols then
            cannot be built)
gender      optional; ``male``/``m``, ``female``/``f``/``w``, or empty for ``unknown``
id          optional; by default the file stem, or the path relative to the manifest's folder
            (without extension) for files whose stems collide. Ids must be unique.
anything    kept as extra columns (a ``corpus`` column is kept as ``source_corpus``, since
else        ``corpus`` is always ``manifest``)
=========== ===========================================================================

``raw_label`` is the label as written (unless the file has its own ``raw_label`` column).
A manifest written by ``df.to_csv`` from any emoscope manifest loads back this way.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from emoscope.corpora.base import make_manifest, register_corpus
from emoscope.corpora.labels import canonical_emotion
from emoscope.errors import ConfigError, CorpusError

REQUIRED = ("path", "label")
GENDERS = {
    "male": "male", "m": "male", "man": "male",
    "female": "female", "f": "female", "w": "female", "woman": "female",
    "unknown": "unknown", "u": "unknown", "": "unknown",
}
MISSING_CHOICES = ("error", "skip")
#: How many missing files a :class:`CorpusError` names.
SHOW_MISSING = 5


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or (
        isinstance(value, str) and not value.strip())


def read_records(path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows of a CSV/TSV/JSON/JSON-lines file, and where each row is (``line 3``, ``item 2``)
    for error messages.

    Raises
    ------
    CorpusError
        The file cannot be parsed.
    """
    p = Path(path)
    ext = p.suffix.lower()
    text = p.read_text(encoding="utf-8-sig")
    head = text.lstrip()[:1]
    try:
        if ext in (".json", ".jsonl", ".ndjson") or (ext not in (".csv", ".tsv")
                                                      and head in ("[", "{")):
            if head == "[":
                data = json.loads(text)
                if not all(isinstance(r, dict) for r in data):
                    raise CorpusError(f"{p}: a JSON manifest must be a list of objects")
                return data, [f"item {i + 1}" for i in range(len(data))]
            records, where = [], []
            for lineno, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    rec = json.loads(line)
                    if not isinstance(rec, dict):
                        raise CorpusError(f"{p}: line {lineno} is not a JSON object")
                    records.append(rec)
                    where.append(f"line {lineno}")
            return records, where
        sep = "\t" if ext == ".tsv" else ","
        table = pd.read_csv(p, sep=sep, encoding="utf-8-sig",
                            dtype={c: str for c in ("path", "label", "speaker", "gender", "id")})
    except (json.JSONDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError,
            UnicodeDecodeError) as exc:
        raise CorpusError(f"{p}: cannot parse the manifest: {exc}") from None
    table.columns = [str(c).strip() for c in table.columns]
    # a header-less first column is a saved index (``df.to_csv(path)``): not data
    table = table.drop(columns=[c for c in table.columns if re.fullmatch(r"Unnamed: \d+", c)])
    records = table.astype(object).where(table.notna(), None).to_dict("records")
    return records, [f"line {i + 2}" for i in range(len(records))]


def _norm_gender(value: Any, where: str, p: Path) -> str:
    key = "" if _blank(value) else str(value).strip().lower()
    if key not in GENDERS:
        raise CorpusError(f"{p}: {where}: gender {value!r} is not male, female or unknown")
    return GENDERS[key]


@register_corpus(
    "manifest",
    label_map={},
    default_labels=(),
    description="Your own CSV/TSV/JSON/JSON-lines manifest (path, label, optional speaker, ...)",
    aliases=("csv",),
)
def prepare_manifest_file(
    root: str | os.PathLike[str],
    *,
    missing: str = "error",
    raw_label_map: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Manifest read from a user's own manifest file.

    Parameters
    ----------
    root : str or PathLike
        The CSV/TSV/JSON/JSON-lines file (not a folder).
    missing : {"error", "skip"}
        What to do with rows whose audio file does not exist: raise a :class:`CorpusError`
        giving how many and the first few, or leave them out (listed in ``df.attrs["skipped"]``).
    raw_label_map : mapping, optional
        The file's own label names -> canonical emotions, e.g. ``{"mad": "angry"}``.
        (``emoscope.corpora.load``'s own ``label_map`` merges labels after loading.)

    Raises
    ------
    CorpusError
        Not a file, unparseable, no ``path``/``label`` column, an empty or unknown label (the row
        is named), a bad gender, duplicate ids, or missing files with ``missing="error"``.
    """
    if missing not in MISSING_CHOICES:
        raise ConfigError(f"missing must be one of {', '.join(MISSING_CHOICES)}, got {missing!r}")
    mapping = dict(raw_label_map or {})
    for target in mapping.values():
        canonical_emotion(target)  # a typo in the map fails here, not row by row
    p = Path(root)
    if not p.exists():
        raise CorpusError(f"{p}: no such manifest file")
    if p.is_dir():
        raise CorpusError(f"{p}: expected a manifest file (CSV or JSON), got a folder; for a "
                          "folder with one sub-folder per label use the 'folder' corpus")
    records, where = read_records(p)
    if records:
        columns = set().union(*(r.keys() for r in records))
        absent = [c for c in REQUIRED if c not in columns]
        if absent:
            raise CorpusError(f"{p}: lacks the column(s) {', '.join(absent)}; it has "
                              f"{', '.join(sorted(map(str, columns)))}")
    folder = p.resolve().parent
    rows, skipped, lost = [], [], []
    for rec, at in zip(records, where, strict=True):
        rec = dict(rec)
        if _blank(rec.get("path")):
            raise CorpusError(f"{p}: {at}: no path")
        raw = rec.get("label")
        if _blank(raw):
            raise CorpusError(f"{p}: {at} ({rec['path']}): no label")
        try:
            label = canonical_emotion(str(raw), mapping)
        except ConfigError as exc:
            raise CorpusError(f"{p}: {at} ({rec['path']}): {exc}; map it with "
                              f"raw_label_map={{{str(raw)!r}: '<emotion>'}}") from None
        audio = Path(str(rec["path"]).strip()).expanduser()
        audio = audio if audio.is_absolute() else folder / audio
        if not audio.is_file():
            lost.append(str(audio))
            skipped.append((str(audio), f"{at}: no such file"))
            continue
        if "corpus" in rec:
            rec["source_corpus"] = rec.pop("corpus")
        speaker = rec.pop("speaker", None)
        gender = _norm_gender(rec.pop("gender", None), at, p)
        raw_label = rec.pop("raw_label", None)
        rows.append(dict(
            id=rec.pop("id", None), path=audio, label=label,
            raw_label=str(raw) if _blank(raw_label) else raw_label,
            speaker="unknown" if _blank(speaker) else str(speaker).strip(), gender=gender,
            **{k: v for k, v in rec.items() if k not in ("path", "label")},
        ))
    if lost and missing == "error":
        raise CorpusError(f"{p}: {len(lost)} of {len(records)} listed files do not exist, e.g. "
                          f"{', '.join(lost[:SHOW_MISSING])} (pass missing='skip' to leave them "
                          "out)")
    _assign_ids(rows, folder)
    return make_manifest(rows, corpus="manifest", root=p, skipped=skipped)


def _assign_ids(rows: list[dict[str, Any]], folder: Path) -> None:
    """Fill empty ids with the file stem; where stems collide, with the path relative to the
    manifest's folder (without extension, or with it if that still collides)."""
    todo = [r for r in rows if _blank(r.get("id"))]
    for r in rows:
        if not _blank(r.get("id")):
            r["id"] = str(r["id"]).strip()
    stems = pd.Series([Path(r["path"]).stem for r in todo], dtype=object)
    rels = pd.Series([Path(os.path.relpath(Path(r["path"]).resolve(), folder)).as_posix()
                      for r in todo], dtype=object)
    bare = pd.Series([PurePosixPath(rel).with_suffix("").as_posix() for rel in rels], dtype=object)
    stem_clash, bare_clash = set(stems[stems.duplicated()]), set(bare[bare.duplicated()])
    for r, stem, rel, no_ext in zip(todo, stems, rels, bare, strict=True):
        if stem not in stem_clash:
            r["id"] = stem
        elif no_ext not in bare_clash:
            r["id"] = no_ext
        else:
            r["id"] = rel
