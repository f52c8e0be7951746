"""Small in-memory manifests for the protocol tests (no audio needed)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import pytest

from emoscope.protocols import Fold, Protocol

LABELS = ("angry", "happy", "neutral", "sad")


def fake_manifest(
    n_speakers: int = 6,
    *,
    labels: Sequence[str] = LABELS,
    per_label: int = 5,
    corpus: str = "fake",
    speakers: Sequence[str] | None = None,
    sessions: dict[str, str] | None = None,
) -> pd.DataFrame:
    """``per_label`` utterances of every label for every speaker; speakers ``"01"``, ``"02"``..."""
    spk = list(speakers) if speakers is not None else [f"{i + 1:02d}" for i in range(n_speakers)]
    rows = []
    for j, s in enumerate(spk):
        for lab in labels:
            for k in range(per_label):
                row = dict(id=f"{corpus}-{s}-{lab}-{k}", path=f"/x/{corpus}/{s}/{lab}{k}.wav",
                           label=lab, speaker=s, gender="female" if j % 2 else "male",
                           corpus=corpus)
                if sessions is not None:
                    row["session"] = sessions[s]
                rows.append(row)
    df = pd.DataFrame(rows)
    df.attrs.update(corpus=corpus, labels=list(labels))
    return df


@pytest.fixture
def make_df() -> Callable[..., pd.DataFrame]:
    return fake_manifest


def assert_sound(protocol: Protocol, manifest: pd.DataFrame) -> None:
    """Every fold disjoint, known ids, honest speaker lists; leaky matches the folds."""
    from emoscope.protocols import check_fold

    for fold in protocol.folds:
        check_fold(fold, speaker_independent=not protocol.leaky, manifest=manifest)
    assert protocol.leaky == any(f.leaky for f in protocol.folds)


@pytest.fixture
def sound() -> Callable[[Protocol, pd.DataFrame], None]:
    return assert_sound


def tested_ids(folds: Sequence[Fold]) -> list[str]:
    return [i for f in folds for i in f.test]


@pytest.fixture
def tested() -> Callable[[Sequence[Fold]], list[str]]:
    return tested_ids
