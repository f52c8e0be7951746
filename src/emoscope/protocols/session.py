"""``loso-session``: leave one session out (IEMOCAP's customary 5 folds).

Needs a ``session`` column. It is speaker-independent when every speaker belongs to one session (as
in IEMOCAP, two actors per session); otherwise the protocol is reported as leaky.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from emoscope.errors import ProtocolError
from emoscope.protocols.base import Protocol, natural_sorted, register_protocol
from emoscope.protocols.splits import check_seed, make_protocol, table

__all__ = ["leave_one_session_out"]


@register_protocol(
    "loso-session",
    aliases=("leave-one-session-out",),
    speaker_independent=False,
    description="leave one session out (needs a session column; IEMOCAP)",
)
def leave_one_session_out(
    manifest: pd.DataFrame,
    *,
    seed: int = 0,
    valid_fraction: float | None = None,
    valid_speakers: int | None = None,
    name: str | None = None,
) -> Protocol:
    """One fold per value of the manifest's ``session`` column.

    Parameters
    ----------
    manifest : pd.DataFrame
        A manifest with a ``session`` column.
    seed : int
        Seeds the validation split only.
    valid_fraction, valid_speakers : optional
        A validation set of whole training speakers per fold (see
        :mod:`emoscope.protocols.splits`).
    name : str, optional
        ``loso-session`` by default.

    Returns
    -------
    Protocol
        Folds ``session-<value>``; ``leaky`` when a speaker appears in two sessions.

    Raises
    ------
    ProtocolError
        No ``session`` column, rows without a session, or fewer than two sessions.
    """
    seed = check_seed(seed)
    if isinstance(manifest, pd.DataFrame) and "session" not in manifest.columns:
        raise ProtocolError("leave-one-session-out needs a 'session' column; this manifest has "
                            f"{', '.join(map(str, manifest.columns))}")
    t = table(manifest, require=("session",))
    sess = t.df["session"].astype(str).to_numpy()
    sessions = natural_sorted(sess)
    if len(sessions) < 2:
        raise ProtocolError(f"leave-one-session-out needs two sessions or more; the manifest has "
                            f"{len(sessions)}")
    parts = [(f"session-{s}", np.flatnonzero(sess != s), np.flatnonzero(sess == s))
             for s in sessions]
    return make_protocol(
        t,
        parts,
        name=name or "loso-session",
        kind="loso-session",
        description=f"leave one session out: {len(sessions)} folds, one per session",
        options={},
        speaker_independent=False,
        seed=seed,
        valid_fraction=valid_fraction,
        valid_speakers=valid_speakers,
    )
