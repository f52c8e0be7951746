"""``speaker-kfold``: k folds over speakers; every speaker is tested exactly once.

Speakers are dealt into ``k`` groups by scikit-learn's ``StratifiedGroupKFold`` (label proportions
kept as close as whole speakers allow), or ``GroupKFold``-style when ``stratify=False``; the
assignment is shuffled with ``seed``. Speaker-independent by construction.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from emoscope.errors import ConfigError, ProtocolError
from emoscope.protocols.base import Protocol, natural_sorted, register_protocol
from emoscope.protocols.splits import check_seed, make_protocol, table

__all__ = ["speaker_kfold"]


@register_protocol(
    "speaker-kfold",
    aliases=("speaker-k-fold", "kfold"),
    description="k folds over speakers (stratified by label, seeded); each speaker tested once",
)
def speaker_kfold(
    manifest: pd.DataFrame,
    *,
    k: int = 5,
    seed: int = 0,
    stratify: bool = True,
    valid_fraction: float | None = None,
    valid_speakers: int | None = None,
    name: str | None = None,
) -> Protocol:
    """``k`` speaker-disjoint folds; the union of their test sets is the whole manifest.

    Parameters
    ----------
    manifest : pd.DataFrame
    k : int
        Number of folds, at least 2 and at most the number of speakers.
    seed : int
        Shuffles the speaker assignment: same seed, same folds.
    stratify : bool
        Balance label proportions across folds (best effort, whole speakers).
    valid_fraction, valid_speakers : optional
        A validation set of whole training speakers per fold (see
        :mod:`emoscope.protocols.splits`).
    name : str, optional
        ``speaker-kfold-<k>`` by default.

    Returns
    -------
    Protocol
        Folds ``fold-1`` ... ``fold-<k>``.

    Raises
    ------
    ConfigError
        ``k`` is not an integer >= 2, or a bad seed.
    ProtocolError
        Fewer speakers than folds.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 2:
        raise ConfigError(f"k must be an integer >= 2, got {k!r}")
    k = int(k)
    seed = check_seed(seed)
    t = table(manifest)
    speakers = natural_sorted(t.speakers)
    if k > len(speakers):
        raise ProtocolError(f"cannot make {k} speaker folds from {len(speakers)} speaker(s)")
    test_sets = _assign(t.speakers, t.labels, speakers, k, seed, stratify)
    all_rows = np.arange(len(t))
    parts = [(f"fold-{i + 1}", np.setdiff1d(all_rows, test), test)
             for i, test in enumerate(test_sets)]
    return make_protocol(
        t,
        parts,
        name=name or f"speaker-kfold-{k}",
        kind="speaker-kfold",
        description=(f"{k} speaker-independent folds over {len(speakers)} speakers"
                     f"{', stratified by label' if stratify else ''}, seed {seed}"),
        options={"k": k, "stratify": stratify},
        speaker_independent=True,
        seed=seed,
        valid_fraction=valid_fraction,
        valid_speakers=valid_speakers,
    )


def _assign(
    spk: np.ndarray, labels: np.ndarray, speakers: tuple[str, ...], k: int, seed: int,
    stratify: bool,
) -> list[np.ndarray]:
    """Row indices of each fold's test set."""
    if stratify:
        with warnings.catch_warnings():
            # "The least populated class in y has only n members": stratification is best effort
            warnings.simplefilter("ignore", UserWarning)
            from sklearn.model_selection import StratifiedGroupKFold

            cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
            tests = [np.sort(test) for _, test in cv.split(spk, labels, groups=spk)]
        if all(len(test) for test in tests):
            return tests
    # plain, seeded: speakers shuffled, then each goes to the fold with the fewest utterances
    rng = np.random.default_rng(seed)
    order = [speakers[i] for i in rng.permutation(len(speakers))]
    sizes = pd.Series(spk).value_counts()
    order.sort(key=lambda s: -sizes[s])  # stable: ties keep the shuffled order
    load = np.zeros(k, dtype=int)
    n_spk = np.zeros(k, dtype=int)
    fold_of: dict[str, int] = {}
    for s in order:
        empty = np.flatnonzero(n_spk == 0)
        j = int(empty[0]) if len(empty) else int(np.argmin(load))
        fold_of[s] = j
        load[j] += sizes[s]
        n_spk[j] += 1
    fold = np.array([fold_of[s] for s in spk])
    return [np.flatnonzero(fold == j) for j in range(k)]
