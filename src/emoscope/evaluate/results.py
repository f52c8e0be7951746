"""The results of an evaluation run: ``metrics.json`` and ``predictions.csv``.

A run under a protocol produces one :class:`FoldResult` per fold (the test utterances' true and
predicted labels, ids, speakers and optionally class probabilities). :func:`build_results` scores
them into the ``metrics.json`` dictionary, whose shape tools rely on::

    {
      "protocol": "ravdess-si6",            # protocol name
      "leaky": false,                       # true when test speakers were also trained on
      "labels": ["neutral", "calm", ...],   # the ordered label set
      "folds": [
        {
          "fold": 1,                        # 1-based
          "name": "fold-1",
          "ua": 0.61, "wa": 0.63, "macro_f1": 0.60,
          "n_test": 240,
          "ci95": {"ua": [0.55, 0.67], "wa": [...], "macro_f1": [...]},
          "per_class": {"neutral": {"precision": ..., "recall": ..., "f1": ..., "support": 16}},
          "confusion": [[...], ...],        # counts, rows true, columns predicted, label order
          "per_speaker": {"01": {"n": 60, "wa": ..., "ua": ..., "macro_f1": ...}, ...}
        }, ...
      ],
      "mean": {"ua": ..., "wa": ..., "macro_f1": ...},
      "std": {"ua": ..., "wa": ..., "macro_f1": ...}
    }

plus optional top-level keys (:data:`OPTIONAL_KEYS`: ``"model"``, ``"features"``, ``"config"``,
``"train_seconds"``, ``"created"``). Scores are fractions in ``[0, 1]``; ``std`` is the sample
standard deviation over folds (0.0 for one fold); ``ci95`` holds 95 % percentile bootstrap
intervals (see :func:`emoscope.evaluate.metrics.bootstrap_intervals`); ``per_speaker`` is ``{}``
when the speakers are unknown.

:func:`write_metrics` checks the shape before writing and :func:`read_metrics` after reading, so a
``metrics.json`` on disk is always one tools can read. :func:`write_predictions` writes every
test utterance's prediction as ``predictions.csv``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from emoscope.errors import ConfigError
from emoscope.evaluate.bootstrap import bootstrap_intervals, per_group_metrics
from emoscope.evaluate.metrics import (
    classification_metrics,
    encode_labels,
    summarize_folds,
)
from emoscope.evaluate.metrics_schema import (
    FOLD_KEYS,
    OPTIONAL_KEYS,
    SCORE_KEYS,
    TOP_KEYS,
    InvalidMetrics,
    validate_metrics,
)

__all__ = [
    "FOLD_KEYS",
    "OPTIONAL_KEYS",
    "SCORE_KEYS",
    "TOP_KEYS",
    "FoldResult",
    "build_results",
    "read_metrics",
    "validate_metrics",
    "write_metrics",
    "write_predictions",
]

_BOOTSTRAP = ("utterance", "speaker")


@dataclass(eq=False)
class FoldResult:
    """The test predictions of one fold.

    Attributes
    ----------
    fold : int
        1-based fold index.
    name : str
        The fold's name in its protocol (``"fold-1"``, ``"speaker-OAF"``).
    y_true, y_pred : sequence of str or int [shape=(n,)]
        True and predicted labels: names, or integer indices into the label set.
    ids : sequence of str [shape=(n,)]
        Manifest ids of the test utterances.
    speakers : sequence of str [shape=(n,)], optional
        Speaker of each utterance (per-speaker scores and the speaker bootstrap need them).
    probabilities : np.ndarray [shape=(n, k)], optional
        Class probabilities (or scores), columns in label order.

    Raises
    ------
    ConfigError
        A fold index below 1, lengths that differ, probabilities of the wrong shape.
    """

    fold: int
    name: str
    y_true: Sequence[str] | Sequence[int] | np.ndarray
    y_pred: Sequence[str] | Sequence[int] | np.ndarray
    ids: Sequence[str] | np.ndarray
    speakers: Sequence[str] | np.ndarray | None = None
    probabilities: np.ndarray | None = None

    def __post_init__(self) -> None:
        if isinstance(self.fold, bool) or not isinstance(self.fold, int | np.integer) \
                or self.fold < 1:
            raise ConfigError(f"fold index must be an integer >= 1, got {self.fold!r}")
        self.fold = int(self.fold)
        n = len(self.y_true)
        lengths = {"y_pred": len(self.y_pred), "ids": len(self.ids)}
        if self.speakers is not None:
            lengths["speakers"] = len(self.speakers)
        wrong = {k: v for k, v in lengths.items() if v != n}
        if wrong:
            raise ConfigError(f"fold {self.fold}: y_true has {n} values but "
                              + ", ".join(f"{k} has {v}" for k, v in wrong.items()))
        if self.probabilities is not None:
            prob = np.asarray(self.probabilities, dtype=np.float64)
            if prob.ndim != 2 or prob.shape[0] != n:
                raise ConfigError(f"fold {self.fold}: probabilities must have shape (n={n}, k), "
                                  f"got {prob.shape}")
            self.probabilities = prob

    @classmethod
    def from_probabilities(cls, fold: int, name: str, *, y_true: Sequence[int],
                           probabilities: np.ndarray, ids: Sequence[str],
                           speakers: Sequence[str] | None = None) -> FoldResult:
        """A fold scored by its class probabilities ``(n, k)``: the prediction of each
        utterance is its most probable class (``y_true``: label indices)."""
        probs = np.asarray(probabilities)
        return cls(fold, name, list(y_true), probs.argmax(1).tolist() if len(probs) else [],
                   list(ids), None if speakers is None else list(speakers), probs)

    def __len__(self) -> int:
        return len(self.y_true)

    def metrics(
        self,
        *,
        labels: Sequence[str],
        n_boot: int = 1000,
        seed: int = 0,
        bootstrap: str = "utterance",
    ) -> dict[str, Any]:
        """This fold's entry of ``metrics.json`` (keys :data:`FOLD_KEYS`, in that order).

        Parameters
        ----------
        labels : sequence of str
            The ordered label set.
        n_boot : int
            Resamples of the 95 % bootstrap intervals.
        seed : int
        bootstrap : {"utterance", "speaker"}
            Resample utterances, or whole speakers (a cluster bootstrap, which needs
            ``speakers``; wider, and the honest interval for new speakers when the fold has
            several test speakers).

        Raises
        ------
        ConfigError
            Unknown labels, an unknown ``bootstrap``, ``"speaker"`` without speakers, or
            probabilities with a column count other than ``len(labels)``.
        """
        if bootstrap not in _BOOTSTRAP:
            raise ConfigError(f"bootstrap must be one of {', '.join(_BOOTSTRAP)}, "
                              f"got {bootstrap!r}")
        if bootstrap == "speaker" and self.speakers is None:
            raise ConfigError(f"fold {self.fold}: the speaker bootstrap needs speakers")
        self._check_probabilities(labels)
        m = classification_metrics(self.y_true, self.y_pred, labels=labels)
        ci = bootstrap_intervals(self.y_true, self.y_pred, labels=labels, metrics=SCORE_KEYS,
                                 n_boot=n_boot, seed=seed, alpha=0.05,
                                 groups=self.speakers if bootstrap == "speaker" else None)
        per_speaker = {} if self.speakers is None else per_group_metrics(
            self.y_true, self.y_pred, self.speakers, labels=labels)
        return {
            "fold": self.fold,
            "name": str(self.name),
            "ua": m["ua"],
            "wa": m["wa"],
            "macro_f1": m["macro_f1"],
            "n_test": m["n"],
            "ci95": {k: [lo, hi] for k, (lo, hi) in ci.items()},
            "per_class": m["per_class"],
            "confusion": m["confusion"],
            "per_speaker": per_speaker,
        }

    def _check_probabilities(self, labels: Sequence[str]) -> None:
        if self.probabilities is not None and self.probabilities.shape[1] != len(labels):
            raise ConfigError(f"fold {self.fold}: probabilities have "
                              f"{self.probabilities.shape[1]} columns for {len(labels)} labels")


def build_results(
    protocol_name: str,
    leaky: bool,
    labels: Sequence[str],
    fold_results: Sequence[FoldResult],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    bootstrap: str = "utterance",
    **extra: Any,
) -> dict[str, Any]:
    """Score every fold and assemble the ``metrics.json`` dictionary.

    Parameters
    ----------
    protocol_name : str
    leaky : bool
        The protocol's leaky flag (:attr:`emoscope.protocols.base.Protocol.leaky`).
    labels : sequence of str
        The ordered label set.
    fold_results : sequence of FoldResult
        One per fold; fold indices must be distinct. Entries are written sorted by index.
    n_boot, seed, bootstrap
        The 95 % intervals (see :meth:`FoldResult.metrics`); every fold uses the same seed.
    **extra
        Optional top-level keys, among :data:`OPTIONAL_KEYS` (``model``, ``features``,
        ``config``, ``train_seconds``, ``created``); they must be JSON-serialisable.

    Returns
    -------
    results : dict
        Keys :data:`TOP_KEYS` in order, then the ``extra`` keys given.

    Raises
    ------
    ConfigError
        No folds, repeated fold indices, an unknown extra key, bad labels.
    """
    unknown = [k for k in extra if k not in OPTIONAL_KEYS]
    if unknown:
        raise ConfigError(f"unknown metrics.json key(s) {', '.join(unknown)}; "
                          f"optional keys: {', '.join(OPTIONAL_KEYS)}")
    if not fold_results:
        raise ConfigError("no fold results")
    indices = [fr.fold for fr in fold_results]
    if len(set(indices)) != len(indices):
        raise ConfigError(f"repeated fold indices: {sorted(indices)}")
    names = [str(lab) for lab in labels]
    folds = [fr.metrics(labels=names, n_boot=n_boot, seed=seed, bootstrap=bootstrap)
             for fr in sorted(fold_results, key=lambda fr: fr.fold)]
    summary = summarize_folds(folds, keys=SCORE_KEYS)
    out: dict[str, Any] = {
        "protocol": str(protocol_name),
        "leaky": bool(leaky),
        "labels": names,
        "folds": folds,
        "mean": summary["mean"],
        "std": summary["std"],
    }
    out.update(extra)
    return out


def write_metrics(path: str | os.PathLike[str], results: Mapping[str, Any]) -> Path:
    """Check ``results`` (see :func:`validate_metrics`) and write it as indented UTF-8 JSON.

    The file is written to a temporary name and renamed, so a reader never sees half a file.
    Parent folders are created.

    Raises
    ------
    ConfigError
        The dictionary does not have the ``metrics.json`` shape, or holds values JSON cannot
        represent (NaN, infinities, arrays, ...).
    """
    try:
        validate_metrics(results)
    except InvalidMetrics as exc:
        raise ConfigError(f"not a metrics.json dictionary: {exc}") from None
    try:
        text = json.dumps(results, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"metrics cannot be written as JSON: {exc}") from exc
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; results are meant to be shared
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def read_metrics(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a ``metrics.json`` and check its shape (see :func:`validate_metrics`).

    Raises
    ------
    ConfigError
        The file is missing or unreadable, is not JSON, or does not have the shape; the
        message names the file and the first problem.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read metrics ({exc})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{p}: not valid JSON ({exc})") from exc
    try:
        return validate_metrics(data)
    except InvalidMetrics as exc:
        raise ConfigError(f"{p}: malformed metrics.json: {exc}") from None


def write_predictions(
    path: str | os.PathLike[str],
    fold_results: Sequence[FoldResult],
    *,
    labels: Sequence[str],
) -> Path:
    """Write every test prediction as CSV, one row per utterance and fold.

    Columns: ``fold`` (1-based), ``id``, ``speaker`` (empty when unknown), ``true``,
    ``predicted`` (label names, also when the fold result holds indices), then
    ``p_<label>`` per label in label order when any fold has probabilities (empty for folds
    without). Rows are in fold order, then in the fold's order. Parent folders are created.

    Raises
    ------
    ConfigError
        No fold results, unknown labels, probabilities with the wrong number of columns.
    """
    if not fold_results:
        raise ConfigError("no fold results")
    names = [str(lab) for lab in labels]
    with_prob = any(fr.probabilities is not None for fr in fold_results)
    frames = []
    for fr in sorted(fold_results, key=lambda fr: fr.fold):
        fr._check_probabilities(names)
        t = encode_labels(fr.y_true, names, what=f"fold {fr.fold} y_true")
        pr = encode_labels(fr.y_pred, names, what=f"fold {fr.fold} y_pred")
        n = len(fr)
        cols: dict[str, Any] = {
            "fold": np.full(n, fr.fold, dtype=np.int64),
            "id": [str(i) for i in fr.ids],
            "speaker": [""] * n if fr.speakers is None else [str(s) for s in fr.speakers],
            "true": np.asarray(names, dtype=object)[t],
            "predicted": np.asarray(names, dtype=object)[pr],
        }
        if with_prob:
            prob = fr.probabilities if fr.probabilities is not None \
                else np.full((n, len(names)), np.nan)
            for j, lab in enumerate(names):
                cols[f"p_{lab}"] = prob[:, j]
        frames.append(pd.DataFrame(cols))
    df = pd.concat(frames, ignore_index=True)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(p, index=False, float_format="%.6g")
    return p
