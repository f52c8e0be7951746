"""Corpus loaders: each file in this package registers one corpus and produces a Manifest.

>>> from emoscope import corpora
>>> df = corpora.load("tess", "../shared/data/TESS")          # doctest: +SKIP
>>> df[["id", "label", "speaker"]].head()                      # doctest: +SKIP

Adding a corpus means adding one module here that decorates its ``prepare_<name>`` function with
:func:`~emoscope.corpora.base.register_corpus`; it is imported automatically.
"""

from __future__ import annotations

from emoscope.corpora.base import (
    CORPORA,
    MANIFEST_COLUMNS,
    CorpusSpec,
    find_media_files,
    load,
    make_manifest,
    register_corpus,
    select_labels,
    validate_manifest,
)
from emoscope.corpora.labels import Emotion, Gender, canonical_emotion, resolve_labels
from emoscope.registry import import_plugins

import_plugins(__name__, __path__, infrastructure={"base", "labels"})


def available() -> list[str]:
    """Names of every registered corpus."""
    return CORPORA.names()


def get(name: str) -> CorpusSpec:
    """The registered :class:`CorpusSpec` called ``name``."""
    return CORPORA.get(name)


__all__ = [
    "CORPORA",
    "MANIFEST_COLUMNS",
    "CorpusSpec",
    "Emotion",
    "Gender",
    "available",
    "canonical_emotion",
    "find_media_files",
    "get",
    "load",
    "make_manifest",
    "register_corpus",
    "resolve_labels",
    "select_labels",
    "validate_manifest",
]
