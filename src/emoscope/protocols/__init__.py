"""Evaluation protocols: turn a manifest into folds of train, validation and test ids.

>>> from emoscope import corpora, protocols
>>> df = corpora.load("ravdess", "../shared/data/RAVDESS")                       # doctest: +SKIP
>>> p = protocols.build("speaker-kfold", df, k=6, seed=0, valid_fraction=0.1)    # doctest: +SKIP
>>> p = protocols.predefined(df, "ravdess-si6",
...                          path="../shared/benchmarks/protocols.json")         # doctest: +SKIP
>>> print(p)                                                                      # doctest: +SKIP

Protocols are speaker-independent by default; the ``random`` protocol (and any other whose test
speakers also train) is *leaky* and says ``LEAKY: speakers shared between train and test`` in
everything it prints. Every builder takes ``valid_fraction`` or ``valid_speakers`` for a validation
set drawn from the training speakers only (see :mod:`emoscope.protocols.splits`), and runs
:func:`check_fold` on every fold it makes.

Adding a protocol means adding one module here whose builder is decorated with
:func:`register_protocol`; it is imported automatically.
"""

from __future__ import annotations

import inspect
from typing import Any

from emoscope.protocols.balance import class_weights, oversample, undersample
from emoscope.protocols.base import (
    LEAKY_WARNING,
    PROTOCOLS,
    Fold,
    Protocol,
    ProtocolSpec,
    check_fold,
    register_protocol,
)
from emoscope.protocols.splits import FALLBACK_VALID_FRACTION
from emoscope.registry import import_plugins

import_plugins(__name__, __path__, infrastructure={"base", "balance", "resolve", "splits"})

from emoscope.protocols.cross import cross_corpus  # noqa: E402
from emoscope.protocols.kfold import speaker_kfold  # noqa: E402
from emoscope.protocols.loso import leave_one_speaker_out  # noqa: E402
from emoscope.protocols.protocol_file import load_protocols, predefined  # noqa: E402
from emoscope.protocols.random_folds import random_split  # noqa: E402
from emoscope.protocols.resolve import build, is_kind, resolve  # noqa: E402
from emoscope.protocols.session import leave_one_session_out  # noqa: E402


def available() -> list[str]:
    """Names of every registered protocol kind."""
    return PROTOCOLS.names()


def get(kind: str) -> ProtocolSpec:
    """The registered :class:`ProtocolSpec` of ``kind`` (a name or an alias)."""
    return PROTOCOLS.get(kind)


def describe() -> dict[str, str]:
    """Protocol kind -> one-line description, for listings."""
    return {name: PROTOCOLS.get(name).description for name in PROTOCOLS.names()}


def options(kind: str) -> dict[str, Any]:
    """The options protocol ``kind`` takes, with their defaults.

    Required options (``predefined``'s ``name``) have the default ``inspect.Parameter.empty``.
    """
    sig = inspect.signature(PROTOCOLS.get(kind).build)
    return {n: p.default for n, p in list(sig.parameters.items())[1:]}


__all__ = [
    "FALLBACK_VALID_FRACTION",
    "LEAKY_WARNING",
    "PROTOCOLS",
    "Fold",
    "Protocol",
    "ProtocolSpec",
    "available",
    "build",
    "check_fold",
    "class_weights",
    "cross_corpus",
    "describe",
    "get",
    "is_kind",
    "leave_one_session_out",
    "leave_one_speaker_out",
    "load_protocols",
    "options",
    "oversample",
    "predefined",
    "random_split",
    "register_protocol",
    "resolve",
    "speaker_kfold",
    "undersample",
]
