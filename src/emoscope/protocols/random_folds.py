"""``random``: one stratified random utterance split (leaky).

The classic "80/20" split of much of the literature: utterances are drawn at random, stratified by
label, so the same speakers (and, in TESS, the same words) appear in training and test. Results on
it overestimate how a model does on a new voice; every output of the protocol says so. It is kept
for comparison with published figures (``tess-random-80-20``), never as the headline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from emoscope.errors import ConfigError
from emoscope.protocols.base import Protocol, register_protocol
from emoscope.protocols.splits import (
    check_fraction,
    check_seed,
    make_protocol,
    stratified_holdout,
    table,
)

__all__ = ["random_protocol", "random_split"]


@register_protocol(
    "random",
    aliases=("random-stratified", "random-split"),
    speaker_independent=False,
    description="one stratified random utterance split; LEAKY (speakers shared)",
)
def random_split(
    manifest: pd.DataFrame,
    *,
    test_fraction: float = 0.2,
    seed: int = 0,
    valid_fraction: float | None = None,
    valid_speakers: int | None = None,
    name: str | None = None,
) -> Protocol:
    """One fold: a random test set of ``test_fraction`` of the utterances, stratified by label.

    Parameters
    ----------
    manifest : pd.DataFrame
        A manifest (``id``, ``label``, ``speaker`` columns at least).
    test_fraction : float
        Fraction of the utterances to test on, strictly between 0 and 1.
    seed : int
        Seeds the split (sklearn ``train_test_split``): same seed, same split.
    valid_fraction : float, optional
        Fraction of the training utterances to hold out for validation, drawn like the test set
        (stratified, utterance-level; the fold is marked ``valid_leaky``).
    valid_speakers : None
        Not supported: a random protocol holds out utterances, not speakers.
    name : str, optional
        The protocol's name; ``random-<test %>-seed<seed>`` by default.

    Returns
    -------
    Protocol
        One fold named ``"random"``; ``leaky`` is True whenever a test speaker is also a training
        speaker (always, in practice).

    Raises
    ------
    ConfigError
        Bad fraction or seed, or ``valid_speakers`` given.
    ProtocolError
        A label has too few utterances to stratify.
    """
    test_fraction = check_fraction(test_fraction, "test_fraction")
    seed = check_seed(seed)
    if valid_speakers is not None:
        raise ConfigError("the random protocol holds out utterances; use valid_fraction, "
                          "not valid_speakers")
    pct = round(100 * (1 - test_fraction))
    return random_protocol(manifest, test_fraction=test_fraction, split_seed=seed,
                           valid_seed=seed, valid_fraction=valid_fraction,
                           name=name or f"random-{pct}-{100 - pct}-seed{seed}")


def random_protocol(
    manifest: pd.DataFrame,
    *,
    test_fraction: float,
    split_seed: int,
    valid_seed: int,
    valid_fraction: float | None,
    name: str,
) -> Protocol:
    """:func:`random_split` with separate seeds for the test split and the validation split."""
    t = table(manifest)
    train_idx, test_idx = stratified_holdout(np.arange(len(t)), t.labels, test_fraction,
                                             seed=split_seed, strict=True)
    return make_protocol(
        t,
        [("random", train_idx, test_idx)],
        name=name,
        kind="random",
        description=(f"stratified random utterance split, {test_fraction:g} tested, "
                     f"seed {split_seed}; speakers are shared between train and test"),
        options={"test_fraction": test_fraction, "split_seed": split_seed},
        speaker_independent=False,
        seed=valid_seed,
        valid_fraction=valid_fraction,
        valid_speakers=None,
        valid_by="utterance",
    )
