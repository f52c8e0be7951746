"""Classification metrics of emotion predictions: UA, WA, macro-F1, confusion, fold summaries.

Bootstrap intervals and per-speaker scores are in :mod:`emoscope.evaluate.bootstrap`.

Every function takes the true and the predicted labels of the same utterances, either as label
strings or as integer indices into ``labels`` (the ordered label set of the protocol), and
returns plain Python numbers, ready for JSON.

The three headline metrics (see ``benchmarks/PROTOCOLS.md``):

``wa``
    Weighted accuracy: plain accuracy, the fraction of utterances predicted right.
``ua``
    Unweighted average recall (UAR): the mean of the per-class recalls over the classes
    **present in** ``y_true``. A class with no test utterance has no recall, so it is left out
    rather than counted as 0 (this is what :func:`sklearn.metrics.balanced_accuracy_score`
    does). ``ua_all`` is the mean over *all* labels, absent classes counting 0; the two agree
    whenever every class is in the test set.
``macro_f1``
    The mean of the per-class F1 scores over the classes present in ``y_true`` or ``y_pred``
    (what :func:`sklearn.metrics.f1_score` does with ``average="macro"`` and no ``labels``): a
    class that is predicted but never true counts 0 (its predictions are all wrong), a class
    neither true nor predicted is left out.

Precision, recall and F1 of a class without predictions (or without true utterances) are 0
(``zero_division=0``), never NaN and never a warning.

>>> m = classification_metrics(["a", "a", "b"], ["a", "b", "b"], labels=["a", "b"])
>>> m["wa"], m["ua"]
(0.6666666666666666, 0.75)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from emoscope.errors import ConfigError

__all__ = [
    "METRICS",
    "classification_metrics",
    "encode_labels",
    "encode_pair",
    "scores_from_confusion",
    "summarize_folds",
    "unweighted_accuracy",
]

#: The scalar metrics :func:`bootstrap_intervals` and :func:`scores_from_confusion` know.
METRICS: tuple[str, ...] = ("ua", "wa", "macro_f1", "ua_all")



def _check_labels(labels: Sequence[str]) -> list[str]:
    if isinstance(labels, str):
        raise ConfigError("labels must be a sequence of label names, not one string")
    out = [str(lab) for lab in labels]
    if not out:
        raise ConfigError("labels is empty")
    if len(set(out)) != len(out):
        dup = sorted({lab for lab in out if out.count(lab) > 1})
        raise ConfigError(f"labels repeated: {', '.join(dup)}")
    return out


def _short(values: Sequence[Any], limit: int = 8) -> str:
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (f", ... (+{len(values) - limit})" if len(values) > limit else "")


def encode_labels(y: Sequence[str] | Sequence[int] | np.ndarray, labels: Sequence[str], *,
                  what: str = "y") -> np.ndarray:
    """Label strings (or integer indices) as indices into ``labels``.

    Parameters
    ----------
    y : sequence of str or int, or np.ndarray [shape=(n,)]
        Label names, or integers ``0 <= i < len(labels)`` indexing ``labels``.
    labels : sequence of str
        The ordered label set.
    what : str
        How the error message names ``y`` (``"y_true"``, ``"y_pred"``).

    Returns
    -------
    codes : np.ndarray [shape=(n,)], int64

    Raises
    ------
    ConfigError
        A label not in ``labels`` (all such labels are named), an index out of range, or values
        that are neither strings nor integers (floats, booleans, missing values).
    """
    names = _check_labels(labels)
    arr = np.asarray(y)
    if arr.dtype.kind == "U" and not isinstance(y, np.ndarray):
        arr = np.asarray(list(y), dtype=object)  # numpy would turn a mixed ["a", 1] into str
    if arr.ndim != 1:
        raise ConfigError(f"{what} must be one-dimensional, got shape {arr.shape}")
    k = len(names)
    if arr.dtype.kind in "iu":
        bad = np.unique(arr[(arr < 0) | (arr >= k)])
        if bad.size:
            raise ConfigError(f"{what}: label indices out of range 0..{k - 1}: "
                              f"{_short(bad.tolist())}")
        return arr.astype(np.int64)
    if arr.dtype.kind not in "UOS" and arr.size:
        raise ConfigError(f"{what} must hold label names or integer indices, "
                          f"got {arr.dtype} values")
    index = {lab: i for i, lab in enumerate(names)}
    codes = np.empty(arr.size, dtype=np.int64)
    unknown: dict[Any, None] = {}
    for j, v in enumerate(arr.tolist()):
        if isinstance(v, bytes):
            v = v.decode()
        if isinstance(v, str):
            i = index.get(v)
        elif isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_):
            i = int(v) if 0 <= v < k else None
        else:
            i = None
        if i is None:
            unknown[v] = None
        else:
            codes[j] = i
    if unknown:
        raise ConfigError(f"{what}: unknown label(s) {_short(list(unknown))}; "
                          f"the labels are {', '.join(names)}")
    return codes


def encode_pair(y_true, y_pred, labels) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The label names, and ``y_true`` and ``y_pred`` as integer indices into them, checked to
    be of one length and not empty (see :func:`encode_labels`)."""
    names = _check_labels(labels)
    t = encode_labels(y_true, names, what="y_true")
    p = encode_labels(y_pred, names, what="y_pred")
    if t.size != p.size:
        raise ConfigError(f"y_true has {t.size} labels but y_pred has {p.size}")
    if t.size == 0:
        raise ConfigError("nothing to score: y_true and y_pred are empty")
    return names, t, p


def scores_from_confusion(confusion: np.ndarray) -> dict[str, np.ndarray]:
    """UA, WA, macro-F1 and ``ua_all`` of one or many confusion matrices at once.

    The numpy twin of :func:`classification_metrics` (same conventions, same numbers), used by
    the bootstrap to score thousands of resamples in one go.

    Parameters
    ----------
    confusion : np.ndarray [shape=(..., k, k)]
        Counts, rows true and columns predicted.

    Returns
    -------
    scores : dict of str to np.ndarray [shape=(...)]
        ``"ua"``, ``"wa"``, ``"macro_f1"``, ``"ua_all"``; float64 in ``[0, 1]`` (0 for an empty
        matrix).
    """
    c = np.asarray(confusion, dtype=np.float64)
    if c.ndim < 2 or c.shape[-1] != c.shape[-2]:
        raise ConfigError(f"a confusion matrix must be square, got shape {c.shape}")
    k = c.shape[-1]
    tp = np.diagonal(c, axis1=-2, axis2=-1)  # (..., k)
    support = c.sum(axis=-1)  # true counts per class
    predicted = c.sum(axis=-2)
    total = support.sum(axis=-1)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    f1_den = support + predicted
    f1 = np.divide(2.0 * tp, f1_den, out=np.zeros_like(tp), where=f1_den > 0)
    n_true = (support > 0).sum(axis=-1)
    n_any = (f1_den > 0).sum(axis=-1)
    return {
        "wa": np.divide(tp.sum(axis=-1), total, out=np.zeros_like(total), where=total > 0),
        "ua": np.divide(recall.sum(axis=-1), n_true, out=np.zeros_like(total),
                        where=n_true > 0),
        "ua_all": recall.sum(axis=-1) / k,
        "macro_f1": np.divide(f1.sum(axis=-1), n_any, out=np.zeros_like(total),
                              where=n_any > 0),
    }


def unweighted_accuracy(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """UA (the mean recall over the classes present in ``y_true``) of integer labels, as
    :func:`scores_from_confusion` defines it; the training loop selects epochs by it.

    Parameters
    ----------
    y_true, y_pred : np.ndarray [shape=(n,)], int
        Class indices in ``[0, n_classes)``.
    n_classes : int

    Returns
    -------
    float
        In ``[0, 1]``; 0.0 when ``y_true`` is empty.
    """
    t = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    confusion = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(confusion, (t, p), 1)
    return float(scores_from_confusion(confusion)["ua"])


def classification_metrics(
    y_true: Sequence[str] | Sequence[int] | np.ndarray,
    y_pred: Sequence[str] | Sequence[int] | np.ndarray,
    *,
    labels: Sequence[str],
) -> dict[str, Any]:
    """Accuracy, UA, macro-F1, per-class scores and the confusion matrix of one test set.

    Parameters
    ----------
    y_true, y_pred : sequence of str or int, or np.ndarray [shape=(n,)]
        True and predicted labels of the same ``n`` utterances: label names, or integer indices
        into ``labels``.
    labels : sequence of str [shape=(k,)]
        The ordered label set; it fixes the order of ``per_class`` and of the confusion matrix.

    Returns
    -------
    metrics : dict
        ``wa`` (accuracy), ``ua`` (mean recall over the classes present in ``y_true``),
        ``ua_all`` (mean recall over all ``k`` labels, absent ones counting 0), ``macro_f1``
        (mean F1 over the classes present in ``y_true`` or ``y_pred``), ``per_class``
        (``{label: {"precision", "recall", "f1", "support"}}`` for every label, in label order),
        ``confusion`` (``k`` lists of ``k`` counts, rows true, columns predicted) and ``n``.
        Plain Python floats in ``[0, 1]`` and ints.

    Raises
    ------
    ConfigError
        Unknown labels (named), lengths that differ, empty inputs, repeated labels.
    """
    # imported here: sklearn.metrics pulls in scipy.stats, seconds that importing emoscope
    # (the CLI, the server) should not pay
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    names, t, p = encode_pair(y_true, y_pred, labels)
    idx = np.arange(len(names))
    cm = confusion_matrix(t, p, labels=idx)
    prec, rec, f1, support = precision_recall_fscore_support(
        t, p, labels=idx, zero_division=0)
    headline = scores_from_confusion(cm)  # UA, WA and macro-F1 are defined there, once
    return {
        **{k: float(headline[k]) for k in ("wa", "ua", "ua_all", "macro_f1")},
        "per_class": {
            lab: {"precision": float(prec[i]), "recall": float(rec[i]), "f1": float(f1[i]),
                  "support": int(support[i])}
            for i, lab in enumerate(names)
        },
        "confusion": cm.astype(int).tolist(),
        "n": int(t.size),
    }


def summarize_folds(
    fold_metrics: Sequence[Mapping[str, Any]],
    *,
    keys: Sequence[str] = ("ua", "wa", "macro_f1"),
) -> dict[str, dict[str, float]]:
    """Mean and standard deviation of fold metrics.

    The standard deviation is the *sample* one (``ddof=1``): the folds are a sample of the
    splits one could have made, and the sample std is what papers report next to a k-fold mean.
    With a single fold it is 0.0 (not NaN), so the result stays valid JSON.

    Parameters
    ----------
    fold_metrics : sequence of mapping
        One mapping per fold holding at least ``keys`` (e.g. :func:`classification_metrics`
        results, or the fold entries of ``metrics.json``).
    keys : sequence of str

    Returns
    -------
    summary : dict
        ``{"mean": {key: float}, "std": {key: float}}``.

    Raises
    ------
    ConfigError
        No folds, or a fold lacking a key or holding a non-numeric value.
    """
    if not fold_metrics:
        raise ConfigError("no fold metrics to summarise")
    keys = [keys] if isinstance(keys, str) else list(keys)
    mean: dict[str, float] = {}
    std: dict[str, float] = {}
    for key in keys:
        values = []
        for i, fm in enumerate(fold_metrics):
            if key not in fm:
                raise ConfigError(f"fold {i + 1} has no {key!r}")
            v = fm[key]
            if isinstance(v, bool) or not isinstance(v, int | float | np.number):
                raise ConfigError(f"fold {i + 1}: {key} is not a number ({v!r})")
            values.append(float(v))
        arr = np.asarray(values)
        mean[key] = float(arr.mean())
        std[key] = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return {"mean": mean, "std": std}
