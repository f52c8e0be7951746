"""``loso``: leave one speaker out; one fold per speaker, each tested exactly once."""

from __future__ import annotations

import numpy as np
import pandas as pd

from emoscope.errors import ProtocolError
from emoscope.protocols.base import Protocol, natural_sorted, register_protocol
from emoscope.protocols.splits import check_seed, make_protocol, table

__all__ = ["leave_one_speaker_out"]


@register_protocol(
    "loso",
    aliases=("leave-one-speaker-out",),
    description="leave one speaker out: one fold per speaker",
)
def leave_one_speaker_out(
    manifest: pd.DataFrame,
    *,
    seed: int = 0,
    valid_fraction: float | None = None,
    valid_speakers: int | None = None,
    name: str | None = None,
) -> Protocol:
    """One fold per speaker: test on that speaker, train on all the others.

    Parameters
    ----------
    manifest : pd.DataFrame
    seed : int
        Seeds the validation split only (the folds themselves are not random).
    valid_fraction, valid_speakers : optional
        A validation set of whole training speakers per fold (see
        :mod:`emoscope.protocols.splits`).
    name : str, optional
        ``loso`` by default.

    Returns
    -------
    Protocol
        Folds ``speaker-<id>``, in natural speaker order.

    Raises
    ------
    ProtocolError
        Fewer than two speakers.
    """
    seed = check_seed(seed)
    t = table(manifest)
    speakers = natural_sorted(t.speakers)
    if len(speakers) < 2:
        raise ProtocolError(f"leave-one-speaker-out needs two speakers or more; the manifest has "
                            f"{len(speakers)}")
    parts = [(f"speaker-{s}", np.flatnonzero(t.speakers != s), np.flatnonzero(t.speakers == s))
             for s in speakers]
    return make_protocol(
        t,
        parts,
        name=name or "loso",
        kind="loso",
        description=f"leave one speaker out: {len(speakers)} folds, one per speaker",
        options={},
        speaker_independent=True,
        seed=seed,
        valid_fraction=valid_fraction,
        valid_speakers=valid_speakers,
    )
