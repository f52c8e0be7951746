"""``cross-corpus``: train on one corpus, test on another.

The manifest is the concatenation of two (or more) corpora's manifests; its ``corpus`` column tells
them apart. Both sides are restricted to the labels they share, in canonical emotion order, so a
model never meets a class at test time that it could not learn. Speakers are named
``<corpus>:<speaker>``, so the protocol is speaker-independent by construction.

>>> both = pd.concat([corpora.load("ravdess", ...), corpora.load("tess", ...)])  # doctest: +SKIP
>>> protocols.build("cross-corpus", both, train_corpus="ravdess")                # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from emoscope.corpora.labels import resolve_labels
from emoscope.errors import ConfigError, ProtocolError
from emoscope.protocols.base import Protocol, label_order, register_protocol
from emoscope.protocols.splits import check_seed, make_protocol, table

__all__ = ["cross_corpus"]


@register_protocol(
    "cross-corpus",
    description="train on one corpus, test on another, on their shared labels",
)
def cross_corpus(
    manifest: pd.DataFrame,
    *,
    train_corpus: str | None = None,
    test_corpus: str | None = None,
    labels: Iterable[str] | None = None,
    seed: int = 0,
    valid_fraction: float | None = None,
    valid_speakers: int | None = None,
    name: str | None = None,
) -> Protocol:
    """Train on ``train_corpus``, test on ``test_corpus``.

    Parameters
    ----------
    manifest : pd.DataFrame
        A combined manifest (``pd.concat`` of corpus manifests) with a ``corpus`` column. Ids must
        be unique across corpora.
    train_corpus, test_corpus : str, optional
        Values of the ``corpus`` column (case-insensitive). When the manifest holds exactly two
        corpora, one may be omitted (it is the other); when both are omitted the protocol has two
        folds, one per direction.
    labels : iterable of str, optional
        Keep only these labels (canonical names or synonyms); each must be shared by both corpora.
        All shared labels by default.
    seed : int
        Seeds the validation split.
    valid_fraction, valid_speakers : optional
        A validation set of whole training-corpus speakers (see :mod:`emoscope.protocols.splits`).
    name : str, optional
        ``cross-corpus-<train>-<test>`` (or ``cross-corpus-<a>-<b>`` for both directions).

    Returns
    -------
    Protocol
        Folds named ``<train>-><test>``; ``leaky`` is False.

    Raises
    ------
    ConfigError
        Train and test corpus are the same, or a bad seed.
    ProtocolError
        No ``corpus`` column, a corpus not in the manifest, ids repeated across corpora, or no
        shared label.
    """
    seed = check_seed(seed)
    if not isinstance(manifest, pd.DataFrame) or "corpus" not in manifest.columns:
        raise ProtocolError("cross-corpus needs a combined manifest with a 'corpus' column")
    corpus = manifest["corpus"].astype(str)
    present = {c.lower(): c for c in pd.unique(corpus)}

    def pick(c: str | None) -> str | None:
        if c is None:
            return None
        if str(c).lower() not in present:
            raise ProtocolError(f"corpus {c!r} is not in the manifest; it holds "
                                f"{', '.join(present.values())}")
        return present[str(c).lower()]

    train_c, test_c = pick(train_corpus), pick(test_corpus)
    if train_c is None or test_c is None:
        others = [c for c in present.values() if c not in (train_c, test_c)]
        if len(present) != 2:
            raise ProtocolError(f"the manifest holds {len(present)} corpora "
                                f"({', '.join(present.values())}); name train_corpus and "
                                "test_corpus")
        if train_c is None and test_c is None:
            directions = [(others[0], others[1]), (others[1], others[0])]
        elif train_c is None:
            directions = [(others[0], test_c)]
        else:
            directions = [(train_c, others[0])]
    else:
        directions = [(train_c, test_c)]
    if any(a == b for a, b in directions):
        raise ConfigError(f"train and test corpus are both {directions[0][0]!r}")

    a, b = directions[0]
    label_a = set(manifest.loc[corpus == a, "label"].astype(str))
    label_b = set(manifest.loc[corpus == b, "label"].astype(str))
    shared = label_a & label_b
    if not shared:
        raise ProtocolError(f"corpora {a} and {b} share no label ({a}: "
                            f"{', '.join(sorted(label_a))}; {b}: {', '.join(sorted(label_b))})")
    if labels is not None:
        wanted = resolve_labels(labels)
        missing = [lab for lab in wanted if lab not in shared]
        if missing:
            raise ProtocolError(f"label(s) {', '.join(missing)} not shared by {a} and {b} "
                                f"(shared: {', '.join(label_order(shared))})")
        keep = tuple(wanted)
    else:
        keep = label_order(shared, manifest.attrs.get("labels", ()))
    df = manifest[corpus.isin([a, b]) & manifest["label"].astype(str).isin(keep)]
    df = df.reset_index(drop=True)
    df.attrs = {**manifest.attrs, "labels": list(keep)}
    dup = df["id"].astype(str)[df["id"].astype(str).duplicated()]
    if len(dup):
        raise ProtocolError(f"id {dup.iloc[0]!r} appears in both corpora; give ids a corpus "
                            "prefix before concatenating")
    t = table(df)
    rows_corpus = df["corpus"].astype(str).to_numpy()
    parts = [(f"{tr}->{te}", np.flatnonzero(rows_corpus == tr), np.flatnonzero(rows_corpus == te))
             for tr, te in directions]
    default = (f"cross-corpus-{a}-{b}" if len(directions) == 2
               else f"cross-corpus-{directions[0][0]}-{directions[0][1]}")
    return make_protocol(
        t,
        parts,
        name=name or default,
        kind="cross-corpus",
        description=(f"cross-corpus: {'; '.join(f'train {tr}, test {te}' for tr, te in directions)}"
                     f"; {len(keep)} shared labels"),
        options={"train_corpus": train_c, "test_corpus": test_c},
        speaker_independent=True,
        seed=seed,
        valid_fraction=valid_fraction,
        valid_speakers=valid_speakers,
        labels=keep,
    )
