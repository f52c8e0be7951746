"""``predefined``: folds defined in a protocols file (the benchmark's ``protocols.json``).

A protocols file is a JSON object mapping protocol names to definitions::

    {
      "ravdess-si6": {
        "corpus": "ravdess",
        "labels": ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"],
        "kind": "speaker-folds",
        "test_speakers": [[1, 11, 20, 21], [4, 10, 12, 14], ...],
        "note": "..."
      },
      "tess-random-80-20": {
        "corpus": "tess", "labels": [...], "kind": "random-stratified",
        "test_fraction": 0.2, "seed": 0
      }
    }

Definition keys
---------------
kind
    ``"speaker-folds"``: one fold per list in ``test_speakers``; each tests on those speakers and
    trains on every other speaker. ``"random-stratified"``: the ``random`` protocol with
    ``test_fraction`` and ``seed``.
corpus (optional)
    The corpus the protocol is defined on; a manifest of another corpus is refused, and a
    manifest mixing corpora is restricted to this one.
labels (optional)
    The label set, in order, as canonical names, synonyms or the corpus's own codes (TESS's
    ``"fear"`` and ``"ps"`` become ``fearful`` and ``surprised``). Other labels are dropped.
test_speakers
    Speakers may be numbers or strings. A number and a manifest speaker that is all digits are
    compared as numbers (``1`` matches RAVDESS actor ``"01"``); anything else is compared as text,
    ignoring case. A test speaker absent from the manifest is an error, never an empty test set.
note (optional)
    Printed as the protocol's description.

The file is the one the caller passes, or the one named by the ``EMOSCOPE_PROTOCOLS`` environment
variable; the package ships none (the benchmark's lives in ``../shared/benchmarks/``).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from emoscope.corpora.base import CORPORA, select_labels
from emoscope.errors import ConfigError, CorpusError, ProtocolError, UnknownNameError
from emoscope.protocols.base import Protocol, natural_sorted, register_protocol
from emoscope.protocols.random_folds import random_protocol
from emoscope.protocols.splits import check_fraction, check_seed, make_protocol, table

__all__ = ["ENV_VAR", "KINDS", "load_protocols", "predefined", "protocols_path"]

#: Environment variable naming the default protocols file.
ENV_VAR = "EMOSCOPE_PROTOCOLS"

#: The definition kinds a protocols file may use.
KINDS = ("speaker-folds", "random-stratified")


#: The benchmark protocols shipped with emoscope (``ravdess-si6``, ``tess-cross-speaker``,
#: ``tess-random-80-20``): the same definitions as the project's ``benchmarks/protocols.json``.
STANDARD_PROTOCOLS = Path(__file__).with_name("standard.json")


def protocols_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The protocols file to read: ``path``, else ``$EMOSCOPE_PROTOCOLS``, else the shipped
    :data:`STANDARD_PROTOCOLS`.

    Raises
    ------
    ConfigError
        The file does not exist.
    """
    if path is None:
        path = os.environ.get(ENV_VAR, "").strip() or STANDARD_PROTOCOLS
    p = Path(path).expanduser()
    if not p.is_file():
        raise ConfigError(f"{p}: no such protocols file")
    return p


def load_protocols(path: str | os.PathLike[str] | None = None) -> dict[str, dict[str, Any]]:
    """Read a protocols file: protocol name -> definition.

    Parameters
    ----------
    path : str or PathLike, optional
        The JSON file; ``$EMOSCOPE_PROTOCOLS``, else the shipped standard protocols, when
        omitted.

    Raises
    ------
    ConfigError
        No file, invalid JSON, not an object of objects, or a definition without a known ``kind``.
    """
    p = protocols_path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"{p}: not a readable JSON protocols file ({e})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a JSON object of protocol definitions")
    for name, spec in data.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"{p}: protocol {name!r} is not a JSON object")
        if spec.get("kind") not in KINDS:
            raise ConfigError(f"{p}: protocol {name!r} has kind {spec.get('kind')!r}; "
                              f"known kinds: {', '.join(KINDS)}")
    return data


@register_protocol(
    "predefined",
    description="folds from a protocols JSON, by name (ravdess-si6, tess-cross-speaker, ...)",
    speaker_independent=False,
)
def predefined(
    manifest: pd.DataFrame,
    name: str | Mapping[str, Any],
    *,
    path: str | os.PathLike[str] | None = None,
    seed: int | None = None,
    valid_fraction: float | None = None,
    valid_speakers: int | None = None,
) -> Protocol:
    """Build a protocol defined in a protocols file (or given as a definition).

    Parameters
    ----------
    manifest : pd.DataFrame
        A manifest of the protocol's corpus.
    name : str or mapping
        A protocol name in the file (``"ravdess-si6"``), or a definition itself (a dict with the
        keys described in the module docstring, plus an optional ``"name"``).
    path : str or PathLike, optional
        The protocols file; ``$EMOSCOPE_PROTOCOLS`` when omitted. Unused for a definition.
    seed : int, optional
        Seeds the validation split; the definition's ``seed`` (or 0) by default. It never changes
        a ``random-stratified`` definition's test split.
    valid_fraction, valid_speakers : optional
        A validation set drawn from each fold's training speakers (see
        :mod:`emoscope.protocols.splits`).

    Returns
    -------
    Protocol
        ``kind="predefined"``, named after the protocol; folds ``fold-1`` ...

    Raises
    ------
    UnknownNameError
        ``name`` is not in the file.
    ConfigError
        No protocols file, or a malformed definition.
    ProtocolError
        The manifest is of another corpus, lacks a label of the definition, or lacks a test
        speaker (named in the message).
    """
    if isinstance(name, Mapping):
        spec = dict(name)
        pname = str(spec.get("name", "custom"))
        source = None
        if spec.get("kind") not in KINDS:
            raise ConfigError(f"protocol {pname!r} has kind {spec.get('kind')!r}; "
                              f"known kinds: {', '.join(KINDS)}")
    else:
        source = protocols_path(path)
        defs = load_protocols(source)
        if name not in defs:
            raise UnknownNameError(f"unknown protocol {name!r} in {source}; known: "
                                   f"{', '.join(sorted(defs)) or 'none'}")
        spec, pname = dict(defs[name]), str(name)
    df = _restrict(manifest, spec, pname)
    valid_seed = check_seed(seed if seed is not None else spec.get("seed", 0))
    options = {"definition": spec, "source": None if source is None else str(source)}
    description = str(spec.get("note", ""))

    if spec["kind"] == "random-stratified":
        if valid_speakers is not None:
            raise ConfigError(f"protocol {pname!r} holds out utterances; use valid_fraction, "
                              "not valid_speakers")
        split_seed = check_seed(spec.get("seed", 0))
        proto = random_protocol(
            df, test_fraction=check_fraction(spec.get("test_fraction", 0.2), "test_fraction"),
            split_seed=split_seed, valid_seed=valid_seed, valid_fraction=valid_fraction,
            name=pname)
        return dataclasses.replace(proto, kind="predefined",
                                   description=description or proto.description,
                                   options={**proto.options, **options})

    groups = spec.get("test_speakers")
    if not isinstance(groups, list) or not groups or not all(
            isinstance(g, list) and g for g in groups):
        raise ConfigError(f"protocol {pname!r}: test_speakers must be a non-empty list of "
                          "non-empty lists of speakers")
    t = table(df)
    lookup = _speaker_lookup(natural_sorted(t.df["speaker"].astype(str)))
    unknown, parts = [], []
    all_rows = np.arange(len(t))
    raw = t.df["speaker"].astype(str).to_numpy()
    for i, group in enumerate(groups):
        found = []
        for s in group:
            match = lookup.get(_speaker_key(s, pname))
            if match is None:
                unknown.append(str(s))
            else:
                found.append(match)
        test = np.flatnonzero(np.isin(raw, found))
        parts.append((f"fold-{i + 1}", np.setdiff1d(all_rows, test), test))
    if unknown:
        raise ProtocolError(f"protocol {pname!r}: test speaker(s) {', '.join(unknown)} not in "
                            f"the manifest (it has {', '.join(sorted(lookup.values()))})")
    return make_protocol(
        t,
        parts,
        name=pname,
        kind="predefined",
        description=description or f"{len(groups)} predefined speaker folds",
        options=options,
        speaker_independent=True,
        seed=valid_seed,
        valid_fraction=valid_fraction,
        valid_speakers=valid_speakers,
    )


def _restrict(manifest: pd.DataFrame, spec: Mapping[str, Any], pname: str) -> pd.DataFrame:
    """The manifest restricted to the definition's corpus and labels."""
    if not isinstance(manifest, pd.DataFrame):
        raise ProtocolError("expected a manifest (pandas DataFrame), got "
                            f"{type(manifest).__name__}")
    df = manifest
    corpus = spec.get("corpus")
    corpus_map = None
    if corpus is not None:
        want = _corpus_name(str(corpus))
        if "corpus" in df.columns:
            have = {_corpus_name(c): c for c in pd.unique(df["corpus"].astype(str))}
        else:
            have = {_corpus_name(str(df.attrs.get("corpus", ""))): None}
        if want not in have:
            raise ProtocolError(f"protocol {pname!r} is defined on corpus {corpus!r}; this "
                                f"manifest holds {', '.join(map(str, have)) or 'no corpus'}")
        if len(have) > 1:
            attrs = dict(df.attrs)
            df = df[df["corpus"].astype(str) == have[want]].reset_index(drop=True)
            df.attrs = attrs
        if want in CORPORA:
            corpus_map = CORPORA.get(want).label_map
    elif "corpus" in df.columns and df["corpus"].nunique() > 1:
        raise ProtocolError(f"protocol {pname!r} names no corpus, and the manifest mixes "
                            f"{', '.join(map(str, pd.unique(df['corpus'])))}")
    labels = spec.get("labels")
    if labels is not None:
        if not isinstance(labels, list) or not labels:
            raise ConfigError(f"protocol {pname!r}: labels must be a non-empty list")
        try:
            df = select_labels(df, [str(lab) for lab in labels], corpus_map=corpus_map)
        except CorpusError as e:
            raise ProtocolError(f"protocol {pname!r}: {e}") from None
    return df


def _corpus_name(name: str) -> str:
    try:
        return CORPORA.canonical(name)
    except UnknownNameError:
        return name.strip().lower()


def _speaker_key(s: Any, pname: str) -> tuple[str, Any]:
    """Numbers (and all-digit strings) compare as numbers, anything else as case-folded text."""
    if isinstance(s, bool) or not isinstance(s, int | str):
        raise ConfigError(f"protocol {pname!r}: speaker {s!r} is neither a number nor a string")
    if isinstance(s, int):
        return ("n", s)
    text = s.strip()
    if text.isascii() and text.isdigit():
        return ("n", int(text))
    return ("s", text.casefold())


def _speaker_lookup(speakers: tuple[str, ...]) -> dict[tuple[str, Any], str]:
    lookup: dict[tuple[str, Any], str] = {}
    for s in speakers:
        key = _speaker_key(s, "")
        if key in lookup:
            raise ProtocolError(f"speakers {lookup[key]!r} and {s!r} are the same speaker "
                                "number; cannot match protocol speakers unambiguously")
        lookup[key] = s
    return lookup

