"""The shape of ``metrics.json``: its keys, and :func:`validate_metrics`, which checks a results
dictionary against them (see :mod:`emoscope.evaluate.results` for what each key holds).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from emoscope.errors import ConfigError

__all__ = ["FOLD_KEYS", "OPTIONAL_KEYS", "SCORE_KEYS", "TOP_KEYS", "InvalidMetrics",
           "validate_metrics"]

#: The headline scores, in the order they are reported.
SCORE_KEYS: tuple[str, ...] = ("ua", "wa", "macro_f1")
#: The required top-level keys of ``metrics.json``, in file order.
TOP_KEYS: tuple[str, ...] = ("protocol", "leaky", "labels", "folds", "mean", "std")
#: The keys of every fold entry, in file order.
FOLD_KEYS: tuple[str, ...] = ("fold", "name", "ua", "wa", "macro_f1", "n_test", "ci95",
                              "per_class", "confusion", "per_speaker")
#: Top-level keys ``build_results`` accepts besides :data:`TOP_KEYS`.
OPTIONAL_KEYS: tuple[str, ...] = ("model", "features", "config", "train_seconds", "created")

_PER_CLASS_KEYS = ("precision", "recall", "f1", "support")
_PER_SPEAKER_KEYS = ("n", "wa", "ua", "macro_f1")

class InvalidMetrics(ConfigError):
    """A results dictionary that is not the shape of ``metrics.json``."""


def _fail(where: str, what: str) -> NoReturn:
    raise InvalidMetrics(f"{where}: {what}")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_score(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) \
        and 0.0 <= v <= 1.0


def _need_dict(v: Any, where: str, keys: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(v, Mapping):
        _fail(where, f"must be an object, got {type(v).__name__}")
    missing = [k for k in keys if k not in v]
    if missing:
        _fail(where, f"missing key(s) {', '.join(missing)}")
    return v


def _need_scores(d: Mapping[str, Any], where: str, keys: Sequence[str]) -> None:
    for k in keys:
        if not _is_score(d[k]):
            _fail(f"{where}.{k}", f"must be a number in [0, 1], got {d[k]!r}")


def _validate_fold(f: Any, where: str, labels: list[str]) -> None:
    f = _need_dict(f, where, FOLD_KEYS)
    if not _is_int(f["fold"]) or f["fold"] < 1:
        _fail(f"{where}.fold", f"must be an integer >= 1, got {f['fold']!r}")
    if not isinstance(f["name"], str):
        _fail(f"{where}.name", "must be a string")
    _need_scores(f, where, SCORE_KEYS)
    if not _is_int(f["n_test"]) or f["n_test"] < 0:
        _fail(f"{where}.n_test", f"must be a non-negative integer, got {f['n_test']!r}")
    ci = _need_dict(f["ci95"], f"{where}.ci95", SCORE_KEYS)
    for k, v in ci.items():
        if not (isinstance(v, list) and len(v) == 2 and all(_is_score(x) for x in v)
                and v[0] <= v[1]):
            _fail(f"{where}.ci95.{k}", f"must be [low, high] in [0, 1], got {v!r}")
    per_class = _need_dict(f["per_class"], f"{where}.per_class", labels)
    for lab, pc in per_class.items():
        if lab not in labels:
            _fail(f"{where}.per_class", f"unknown label {lab!r}")
        pc = _need_dict(pc, f"{where}.per_class.{lab}", _PER_CLASS_KEYS)
        _need_scores(pc, f"{where}.per_class.{lab}", ("precision", "recall", "f1"))
        if not _is_int(pc["support"]) or pc["support"] < 0:
            _fail(f"{where}.per_class.{lab}.support", "must be a non-negative integer")
    cm = f["confusion"]
    k = len(labels)
    if not (isinstance(cm, list) and len(cm) == k
            and all(isinstance(r, list) and len(r) == k for r in cm)):
        _fail(f"{where}.confusion", f"must be {k} rows of {k} counts")
    if not all(_is_int(x) and x >= 0 for r in cm for x in r):
        _fail(f"{where}.confusion", "must hold non-negative integer counts")
    if sum(map(sum, cm)) != f["n_test"]:
        _fail(f"{where}.confusion", f"counts sum to {sum(map(sum, cm))}, not n_test "
                                    f"{f['n_test']}")
    per_speaker = _need_dict(f["per_speaker"], f"{where}.per_speaker", ())
    for spk, ps in per_speaker.items():
        ps = _need_dict(ps, f"{where}.per_speaker.{spk}", _PER_SPEAKER_KEYS)
        _need_scores(ps, f"{where}.per_speaker.{spk}", ("wa", "ua", "macro_f1"))
        if not _is_int(ps["n"]) or ps["n"] < 0:
            _fail(f"{where}.per_speaker.{spk}.n", "must be a non-negative integer")


def validate_metrics(results: Any) -> dict[str, Any]:
    """Check that ``results`` has the ``metrics.json`` shape; return it unchanged.

    Required keys are checked with their types and ranges (scores in ``[0, 1]``, confusion
    ``k x k`` counts summing to ``n_test``, per-class entries for every label, distinct fold
    indices); unknown extra keys are allowed, so that files written by a newer emoscope still
    read.

    Raises
    ------
    ConfigError
        The first problem found, with where it is (``folds[2].ci95.ua: ...``).
    """
    top = _need_dict(results, "metrics", TOP_KEYS)
    if not isinstance(top["protocol"], str):
        _fail("protocol", "must be a string")
    if not isinstance(top["leaky"], bool):
        _fail("leaky", f"must be true or false, got {top['leaky']!r}")
    labels = top["labels"]
    if not (isinstance(labels, list) and labels and all(isinstance(x, str) for x in labels)):
        _fail("labels", "must be a non-empty list of strings")
    if len(set(labels)) != len(labels):
        _fail("labels", "repeated labels")
    folds = top["folds"]
    if not (isinstance(folds, list) and folds):
        _fail("folds", "must be a non-empty list")
    for i, f in enumerate(folds):
        _validate_fold(f, f"folds[{i}]", labels)
    indices = [f["fold"] for f in folds]
    if len(set(indices)) != len(indices):
        _fail("folds", f"repeated fold indices {indices}")
    for key in ("mean", "std"):
        d = _need_dict(top[key], key, SCORE_KEYS)
        _need_scores(d, key, SCORE_KEYS)
    return results
