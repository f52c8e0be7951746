"""Class balancing for training sets: loss weights, oversampling, undersampling.

Apply these to a fold's *training* ids only; validation and test sets keep the corpus's real class
proportions (UA already weighs every class equally).

>>> class_weights(["sad", "sad", "sad", "angry"])
{'angry': 2.0, 'sad': 0.6666666666666666}
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from emoscope.errors import ConfigError, ProtocolError

__all__ = ["SCHEMES", "class_weights", "oversample", "undersample"]

#: Weighting schemes of :func:`class_weights`.
SCHEMES = ("balanced", "inverse_sqrt")


def class_weights(
    labels: Iterable[str],
    *,
    scheme: Literal["balanced", "inverse_sqrt"] = "balanced",
    classes: Iterable[str] | None = None,
) -> dict[str, float]:
    """Per-class loss weights from the training labels.

    Parameters
    ----------
    labels : iterable of str [shape=(n,)]
        The training set's labels, one per utterance.
    scheme : {"balanced", "inverse_sqrt"}
        ``"balanced"``: ``n / (n_classes * count)``, as scikit-learn's ``class_weight="balanced"``;
        every class then carries the same total weight. ``"inverse_sqrt"``: proportional to
        ``1 / sqrt(count)``, a milder correction. Both are scaled so that the mean weight per
        utterance is 1.
    classes : iterable of str, optional
        The classes to weigh, in order (the model's label set); the labels present, sorted, by
        default.

    Returns
    -------
    dict
        Class -> weight, in ``classes`` order.

    Raises
    ------
    ConfigError
        Unknown scheme, or no labels.
    ProtocolError
        A class in ``classes`` has no training utterance, or a label is not in ``classes``.
    """
    if scheme not in SCHEMES:
        raise ConfigError(f"unknown class weighting scheme {scheme!r}; choose from "
                          f"{', '.join(SCHEMES)}")
    counts = pd.Series(list(labels), dtype=object).value_counts()
    if counts.empty:
        raise ConfigError("no labels to weigh")
    order = list(classes) if classes is not None else sorted(counts.index)
    absent = [c for c in order if c not in counts.index]
    if absent:
        raise ProtocolError(f"class(es) {', '.join(map(str, absent))} have no training utterance")
    extra = [c for c in counts.index if c not in set(order)]
    if extra:
        raise ProtocolError(f"label(s) {', '.join(map(str, extra))} are not in classes")
    n = np.array([counts[c] for c in order], dtype=float)
    raw = 1.0 / n if scheme == "balanced" else 1.0 / np.sqrt(n)
    w = raw * n.sum() / (raw * n).sum()  # mean weight per utterance is 1
    return {c: float(x) for c, x in zip(order, w, strict=True)}


def oversample(ids: Sequence[str], labels: Sequence[str], *, seed: int = 0) -> list[str]:
    """Repeat utterances of the smaller classes until every class has the largest class's count.

    Parameters
    ----------
    ids, labels : sequence of str [shape=(n,)]
        Training ids and their labels.
    seed : int
        Seeds which utterances are repeated (drawn with replacement).

    Returns
    -------
    list of str
        Every id once, in the given order, followed by the repeats (ids occur more than once).

    Raises
    ------
    ConfigError
        ``ids`` and ``labels`` differ in length.
    """
    ids_a, lab_a = _pair(ids, labels)
    if not len(ids_a):
        return []
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(lab_a, return_counts=True)
    target = counts.max()
    extra: list[str] = []
    for c, n in zip(classes, counts, strict=True):
        if n < target:
            members = ids_a[lab_a == c]
            extra += list(rng.choice(members, size=target - n, replace=True))
    return [str(i) for i in ids_a] + [str(i) for i in extra]


def undersample(ids: Sequence[str], labels: Sequence[str], *, seed: int = 0) -> list[str]:
    """Keep a random subset of each class, as many as the smallest class has.

    Parameters
    ----------
    ids, labels : sequence of str [shape=(n,)]
        Training ids and their labels.
    seed : int
        Seeds which utterances are kept.

    Returns
    -------
    list of str
        The kept ids, in the given order.

    Raises
    ------
    ConfigError
        ``ids`` and ``labels`` differ in length.
    """
    ids_a, lab_a = _pair(ids, labels)
    if not len(ids_a):
        return []
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(lab_a, return_counts=True)
    target = counts.min()
    keep = np.zeros(len(ids_a), dtype=bool)
    for c in classes:
        members = np.flatnonzero(lab_a == c)
        keep[rng.choice(members, size=target, replace=False)] = True
    return [str(i) for i in ids_a[keep]]


def _pair(ids: Sequence[str], labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    ids_a = np.asarray(list(ids), dtype=object)
    lab_a = np.asarray([str(x) for x in labels], dtype=object)
    if len(ids_a) != len(lab_a):
        raise ConfigError(f"{len(ids_a)} ids but {len(lab_a)} labels")
    return ids_a, lab_a
