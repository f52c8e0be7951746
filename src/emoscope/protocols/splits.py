"""The machinery every protocol builder shares: manifest checks, option checks, validation splits.

A builder decides which rows each fold trains and tests on; :func:`make_protocol` then draws each
fold's validation set from its training side, builds the :class:`~emoscope.protocols.base.Fold`
objects, runs :func:`~emoscope.protocols.base.check_fold` on each and computes ``leaky``.

Validation sets
---------------
``valid_fraction`` (a fraction of the *training side*) or ``valid_speakers`` (a number of speakers);
neither means no validation set. They are drawn from the training side only, never from the test:

- with two or more training speakers, whole speakers are held out: ``valid_speakers`` of them,
  or ``round(valid_fraction * n_training_speakers)`` (at most all but one). Which ones is chosen,
  seeded, among candidate speaker subsets so that training and validation both keep every label
  and the validation label proportions (and size, for ``valid_fraction``) are closest to the
  training side's: stratification by speaker, best effort;
- with a single training speaker (``tess-cross-speaker``), or too few for ``valid_fraction`` to
  round to one whole speaker (fewer than 5 at 0.1: of TESS's two speakers, one would be half the
  training set), whole speakers are not held out; the validation set is then a stratified
  utterance split (``valid_fraction``, or :data:`FALLBACK_VALID_FRACTION` when ``valid_speakers``
  was given) and the fold is marked ``valid_leaky=True``;
- utterance-level (leaky) protocols such as ``random`` draw validation the way they draw the test:
  a stratified utterance split, also marked ``valid_leaky``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Literal

import numpy as np
import pandas as pd

from emoscope.errors import ConfigError, ProtocolError
from emoscope.protocols.base import (
    Fold,
    Protocol,
    check_fold,
    label_order,
    natural_sorted,
    speaker_keys,
)

__all__ = [
    "FALLBACK_VALID_FRACTION",
    "Table",
    "check_fraction",
    "check_seed",
    "check_valid_options",
    "make_protocol",
    "stratified_holdout",
    "table",
]

#: Validation fraction of an utterance-level fallback split when only ``valid_speakers`` was given.
FALLBACK_VALID_FRACTION = 0.1

#: Up to this many candidate speaker subsets, all are tried; above, ``_SAMPLED`` are drawn.
_MAX_CANDIDATES = 2000
_SAMPLED = 500


@dataclass(frozen=True)
class Table:
    """A checked manifest as aligned arrays (row ``i`` of each is row ``i`` of ``df``)."""

    df: pd.DataFrame
    ids: np.ndarray
    labels: np.ndarray
    speakers: np.ndarray
    label_set: tuple[str, ...]
    label_codes: np.ndarray
    speaker_codes: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def table(manifest: pd.DataFrame, *, require: Sequence[str] = ()) -> Table:
    """Check that ``manifest`` can be split and return it as a :class:`Table`.

    Raises
    ------
    ProtocolError
        Not a data frame, no rows, missing ``id``/``label``/``speaker`` (or ``require``) columns,
        duplicate ids, rows without a label or speaker.
    """
    if not isinstance(manifest, pd.DataFrame):
        raise ProtocolError("expected a manifest (pandas DataFrame), got "
                            f"{type(manifest).__name__}")
    cols = ["id", "label", "speaker", *require]
    missing = [c for c in cols if c not in manifest.columns]
    if missing:
        raise ProtocolError(f"manifest lacks the column(s) {', '.join(missing)}")
    if len(manifest) == 0:
        raise ProtocolError("manifest is empty")
    for col in cols:
        if manifest[col].isna().any():
            raise ProtocolError(f"manifest has rows without a {col}")
    ids = manifest["id"].astype(str).to_numpy().astype(object)
    dup = pd.Series(ids)[pd.Series(ids).duplicated()]
    if len(dup):
        raise ProtocolError(f"manifest has duplicate ids, e.g. {dup.iloc[0]!r}")
    labels = manifest["label"].astype(str).to_numpy().astype(object)
    label_set = label_order(labels, manifest.attrs.get("labels", ()))
    speakers = speaker_keys(manifest)
    label_codes = pd.Index(label_set).get_indexer(labels)
    speaker_codes = pd.Index(natural_sorted(speakers)).get_indexer(speakers)
    return Table(manifest, ids, labels, speakers, label_set, label_codes, speaker_codes)


def check_seed(seed: Any) -> int:
    """``seed`` as an int. Raises :class:`ConfigError` for anything else."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def check_fraction(value: Any, what: str) -> float:
    """``value`` as a float strictly between 0 and 1. Raises :class:`ConfigError` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number) \
            or not 0.0 < float(value) < 1.0:
        raise ConfigError(f"{what} must be a number strictly between 0 and 1, got {value!r}")
    return float(value)


def check_valid_options(
    valid_fraction: float | None, valid_speakers: int | None
) -> tuple[float | None, int | None]:
    """Check the validation options every builder takes.

    Raises
    ------
    ConfigError
        Both given, a fraction outside (0, 1), or a speaker count below 1.
    """
    if valid_fraction is not None and valid_speakers is not None:
        raise ConfigError("give valid_fraction or valid_speakers, not both")
    if valid_fraction is not None:
        valid_fraction = check_fraction(valid_fraction, "valid_fraction")
    if valid_speakers is not None and (
        isinstance(valid_speakers, bool) or not isinstance(valid_speakers, int | np.integer)
        or valid_speakers < 1
    ):
        raise ConfigError(f"valid_speakers must be a positive integer, got {valid_speakers!r}")
    return valid_fraction, None if valid_speakers is None else int(valid_speakers)


def stratified_holdout(
    idx: np.ndarray,
    labels: np.ndarray,
    fraction: float,
    *,
    seed: int,
    strict: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Split row indices ``idx`` into (kept, held out), stratified by ``labels[idx]``.

    When stratification is impossible (a label with a single row, fewer held-out rows than labels)
    a ``strict`` split raises :class:`ProtocolError`; otherwise it falls back to a plain seeded
    shuffle split.
    """
    from sklearn.model_selection import train_test_split  # imported on use: slow

    if len(idx) < 2:
        raise ProtocolError(f"cannot split {len(idx)} utterance(s) in two")
    y = labels[idx]
    try:
        keep, hold = train_test_split(idx, test_size=fraction, random_state=seed, shuffle=True,
                                      stratify=y)
    except ValueError as e:
        if strict:
            counts = pd.Series(y).value_counts()
            raise ProtocolError(
                f"cannot stratify a {fraction:g} split of {len(idx)} utterances by label "
                f"(smallest class: {counts.index[-1]!r} with {counts.iloc[-1]}): {e}"
            ) from None
        keep, hold = train_test_split(idx, test_size=fraction, random_state=seed, shuffle=True)
    return np.sort(keep), np.sort(hold)


def make_protocol(
    t: Table,
    parts: Sequence[tuple[str, np.ndarray, np.ndarray]],
    *,
    name: str,
    kind: str,
    description: str,
    options: Mapping[str, Any],
    speaker_independent: bool,
    seed: int,
    valid_fraction: float | None,
    valid_speakers: int | None,
    valid_by: Literal["speaker", "utterance"] = "speaker",
    labels: Sequence[str] | None = None,
) -> Protocol:
    """Turn ``(fold name, train rows, test rows)`` triples into a checked :class:`Protocol`.

    Parameters
    ----------
    t : Table
    parts : sequence of (str, np.ndarray, np.ndarray)
        Per fold: its name, the row indices of its training side (validation is drawn from it)
        and those of its test set.
    speaker_independent : bool
        Passed to :func:`check_fold`: a fold sharing speakers between train and test is a bug.
    seed : int
        Fold ``i``'s validation split uses a seed derived from ``(seed, i)``.
    valid_fraction, valid_speakers
        See the module docstring.
    valid_by : {"speaker", "utterance"}
        How validation is held out when the training side has several speakers.
    labels : sequence of str, optional
        The protocol's label set; ``t.label_set`` by default.

    Raises
    ------
    ProtocolError
        A fold fails :func:`check_fold`, or a validation set cannot be drawn.
    """
    valid_fraction, valid_speakers = check_valid_options(valid_fraction, valid_speakers)
    folds = []
    for i, (fold_name, train_idx, test_idx) in enumerate(parts):
        train_idx = np.sort(np.asarray(train_idx, dtype=int))
        test_idx = np.sort(np.asarray(test_idx, dtype=int))
        valid_idx = np.array([], dtype=int)
        if (valid_fraction is not None or valid_speakers is not None) and len(train_idx):
            fold_seed = int(np.random.SeedSequence([seed, i]).generate_state(1)[0])
            train_idx, valid_idx = _split_valid(t, train_idx, valid_fraction, valid_speakers,
                                                seed=fold_seed, by=valid_by, fold=fold_name)
        train_spk = natural_sorted(t.speakers[train_idx])
        valid_spk = natural_sorted(t.speakers[valid_idx])
        fold = Fold(
            name=fold_name,
            train=tuple(t.ids[train_idx]),
            valid=tuple(t.ids[valid_idx]),
            test=tuple(t.ids[test_idx]),
            test_speakers=natural_sorted(t.speakers[test_idx]),
            train_speakers=train_spk,
            valid_speakers=valid_spk,
            valid_leaky=bool(set(train_spk) & set(valid_spk)),
        )
        folds.append(check_fold(fold, speaker_independent=speaker_independent))
    opts = dict(options)
    opts.update(seed=seed, valid_fraction=valid_fraction, valid_speakers=valid_speakers)
    return Protocol(
        name=name,
        kind=kind,
        leaky=any(f.leaky for f in folds),
        labels=tuple(labels) if labels is not None else t.label_set,
        folds=folds,
        description=description,
        options=opts,
    )


def _split_valid(
    t: Table,
    train_idx: np.ndarray,
    valid_fraction: float | None,
    valid_speakers: int | None,
    *,
    seed: int,
    by: str,
    fold: str,
) -> tuple[np.ndarray, np.ndarray]:
    n_spk = len(np.unique(t.speaker_codes[train_idx]))
    if valid_speakers is not None:
        n_valid = valid_speakers
        if n_spk >= 2 and valid_speakers >= n_spk:
            raise ProtocolError(f"fold {fold!r}: cannot hold out {valid_speakers} validation "
                                f"speaker(s) from {n_spk} training speaker(s)")
    else:
        assert valid_fraction is not None
        n_valid = min(round(valid_fraction * n_spk), n_spk - 1)
    if by == "utterance" or n_spk < 2 or n_valid < 1:
        frac = valid_fraction if valid_fraction is not None else FALLBACK_VALID_FRACTION
        return stratified_holdout(train_idx, t.labels, frac, seed=seed, strict=False)
    target = valid_fraction if valid_fraction is not None else n_valid / n_spk
    chosen = _choose_speakers(t, train_idx, n_valid, target, seed)
    is_valid = np.isin(t.speaker_codes[train_idx], chosen)
    return train_idx[~is_valid], train_idx[is_valid]


def _choose_speakers(
    t: Table,
    train_idx: np.ndarray,
    n_valid: int,
    target: float,
    seed: int,
) -> np.ndarray:
    """Codes of the ``n_valid`` speakers whose utterances look most like the training side."""
    rng = np.random.default_rng(seed)
    codes, s_code = np.unique(t.speaker_codes[train_idx], return_inverse=True)
    n_spk, n_lab = len(codes), len(t.label_set)
    counts = np.bincount(s_code * n_lab + t.label_codes[train_idx], minlength=n_spk * n_lab)
    counts = counts.reshape(n_spk, n_lab).astype(float)         # (n_speakers, n_labels)
    counts = counts[:, counts.sum(axis=0) > 0]                   # labels on the training side
    if math.comb(n_spk, n_valid) <= _MAX_CANDIDATES:
        cands = np.array(list(combinations(range(n_spk), n_valid)), dtype=int)
        cands = cands[rng.permutation(len(cands))]
    else:
        keys = rng.random((_SAMPLED, n_spk))
        cands = np.argpartition(keys, n_valid - 1, axis=1)[:, :n_valid]
    total = counts.sum(axis=0)                                  # (n_labels,)
    valid = counts[cands].sum(axis=1)                           # (n_cands, n_labels)
    train = total - valid
    miss_train = (train == 0).sum(axis=1)
    miss_valid = (valid == 0).sum(axis=1)
    n_v = valid.sum(axis=1, keepdims=True)
    dist = np.abs(valid / np.maximum(n_v, 1) - total / total.sum()).sum(axis=1)
    size = np.abs(n_v[:, 0] / total.sum() - target)
    best = np.lexsort((np.round(dist + size, 9), miss_valid, miss_train))[0]
    return codes[cands[best]]
