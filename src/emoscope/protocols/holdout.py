"""``holdout-speakers``: one fold testing on named speakers, training on everyone else.

The protocol of a final model: train on (nearly) all the data and keep a few named speakers
unseen, so that the model still comes with an honest speaker-independent figure. Unlike the
random split it never shares a speaker between training and test.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from emoscope.errors import ConfigError, ProtocolError
from emoscope.protocols.base import Protocol, natural_sorted, register_protocol
from emoscope.protocols.splits import check_seed, make_protocol, table

__all__ = ["holdout_speakers"]


@register_protocol(
    "holdout-speakers",
    aliases=("holdout",),
    description="one fold: test on the named speakers, train on all the others",
)
def holdout_speakers(
    manifest: pd.DataFrame,
    *,
    speakers: Sequence[str] | None = None,
    seed: int = 0,
    valid_fraction: float | None = None,
    valid_speakers: int | None = None,
    name: str | None = None,
) -> Protocol:
    """One speaker-independent fold whose test set is the utterances of ``speakers``.

    Parameters
    ----------
    manifest : pd.DataFrame
    speakers : sequence of str
        The test speakers, as in the manifest's ``speaker`` column (``"ravdess:02"`` when
        several corpora are read together).
    seed : int
        Seeds the validation split only.
    valid_fraction, valid_speakers : optional
        A validation set of whole training speakers (see :mod:`emoscope.protocols.splits`).
    name : str, optional
        ``holdout-speakers`` by default.

    Returns
    -------
    Protocol
        One fold, ``holdout``.

    Raises
    ------
    ConfigError
        No speakers given.
    ProtocolError
        A named speaker is not in the manifest, or no training speaker is left.
    """
    seed = check_seed(seed)
    if not speakers or isinstance(speakers, str):
        raise ConfigError("holdout-speakers needs a list of test speakers (options.speakers)")
    t = table(manifest)
    wanted = [str(s) for s in speakers]
    present = set(t.speakers.tolist())
    missing = [s for s in wanted if s not in present]
    if missing:
        known = ", ".join(natural_sorted(present)[:8])
        raise ProtocolError(f"test speaker(s) {', '.join(missing)} not in the manifest "
                            f"(speakers: {known}, ...)")
    is_test = np.isin(t.speakers, wanted)
    if is_test.all():
        raise ProtocolError("holdout-speakers: every speaker is a test speaker; none is left "
                            "to train on")
    return make_protocol(
        t,
        [("holdout", np.flatnonzero(~is_test), np.flatnonzero(is_test))],
        name=name or "holdout-speakers",
        kind="holdout-speakers",
        description=f"test on {', '.join(natural_sorted(wanted))}; train on the other "
                    f"{len(present) - len(set(wanted))} speakers",
        options={"speakers": natural_sorted(wanted)},
        speaker_independent=True,
        seed=seed,
        valid_fraction=valid_fraction,
        valid_speakers=valid_speakers,
    )
