"""Speaker k-fold and leave-one-speaker-out."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from emoscope import corpora, protocols
from emoscope.errors import ConfigError, ProtocolError
from emoscope.testing.corpora.ravdess import make_ravdess


@pytest.mark.parametrize("k", [2, 3, 4, 12])
def test_every_utterance_and_speaker_tested_once(make_df, sound, tested, k):
    df = make_df(12)
    p = protocols.speaker_kfold(df, k=k, seed=0)
    sound(p, df)
    assert len(p.folds) == k and [f.name for f in p.folds] == [f"fold-{i + 1}" for i in range(k)]
    assert Counter(tested(p.folds)) == Counter(df["id"])
    spk = [s for f in p.folds for s in f.test_speakers]
    assert sorted(spk) == sorted(set(df["speaker"]))
    for f in p.folds:
        assert set(f.train) | set(f.test) == set(df["id"])
        assert not set(f.train_speakers) & set(f.test_speakers)
    assert not p.leaky and "LEAKY" not in str(p)


def test_folds_are_balanced_in_speakers(make_df):
    p = protocols.speaker_kfold(make_df(12), k=4, seed=0)
    assert [len(f.test_speakers) for f in p.folds] == [3, 3, 3, 3]


def test_stratification_keeps_labels_in_every_test_fold(make_df):
    # each speaker says only two of four labels: stratification must mix speakers
    parts = [make_df(speakers=[f"{i:02d}"], labels=labs, per_label=5)
             for i, labs in enumerate([("angry", "sad"), ("happy", "neutral")] * 4)]
    df = pd.concat(parts, ignore_index=True)
    df.attrs["labels"] = ["angry", "happy", "neutral", "sad"]
    lab = df.set_index("id")["label"]
    for seed in range(5):
        p = protocols.speaker_kfold(df, k=4, seed=seed)
        for f in p.folds:
            assert lab.loc[list(f.test)].nunique() == 4


def test_seeded(make_df):
    df = make_df(12)
    a = protocols.speaker_kfold(df, k=3, seed=0)
    assert a.folds == protocols.speaker_kfold(df, k=3, seed=0).folds
    others = [protocols.speaker_kfold(df, k=3, seed=s).folds for s in (1, 2, 3)]
    assert any(o != a.folds for o in others)


@pytest.mark.parametrize("stratify", [True, False])
def test_unstratified_also_partitions(make_df, sound, tested, stratify):
    df = make_df(7)
    p = protocols.speaker_kfold(df, k=3, seed=5, stratify=stratify)
    sound(p, df)
    assert sorted(tested(p.folds)) == sorted(df["id"])
    assert all(f.test for f in p.folds)


def test_more_folds_than_speakers(make_df):
    with pytest.raises(ProtocolError, match="3 speaker"):
        protocols.speaker_kfold(make_df(3), k=4)


@pytest.mark.parametrize("k", [1, 0, 2.5, "3", True])
def test_bad_k(make_df, k):
    with pytest.raises(ConfigError, match="k must be"):
        protocols.speaker_kfold(make_df(), k=k)


# --- leave one speaker out --------------------------------------------------------------------


def test_loso_one_fold_per_speaker(make_df, sound, tested):
    df = make_df(5)
    p = protocols.build("loso", df)
    sound(p, df)
    assert [f.name for f in p.folds] == [f"speaker-0{i}" for i in range(1, 6)]
    assert [f.test_speakers for f in p.folds] == [(f"0{i}",) for i in range(1, 6)]
    assert Counter(tested(p.folds)) == Counter(df["id"])
    assert all(len(f.train_speakers) == 4 for f in p.folds)
    assert not p.leaky


def test_loso_natural_speaker_order(make_df):
    p = protocols.build("loso", make_df(speakers=["10", "9", "1"]))
    assert [f.test_speakers[0] for f in p.folds] == ["1", "9", "10"]


def test_loso_needs_two_speakers(make_df):
    with pytest.raises(ProtocolError, match="two speakers"):
        protocols.build("leave-one-speaker-out", make_df(1))


@pytest.fixture(scope="module")
def ravdess(tmp_path_factory) -> pd.DataFrame:
    root = make_ravdess(tmp_path_factory.mktemp("ravdess"), actors=(1, 2, 3, 4, 5, 6))
    return corpora.load("ravdess", root)


def test_on_a_fake_ravdess_tree(ravdess, sound, tested):
    p = protocols.build("speaker-kfold", ravdess, k=3, seed=0)
    sound(p, ravdess)
    assert len(p.folds) == 3 and all(len(f.test_speakers) == 2 for f in p.folds)
    assert sorted(tested(p.folds)) == sorted(ravdess["id"])
    assert p.labels == tuple(ravdess.attrs["labels"])
    loso = protocols.build("loso", ravdess)
    assert [f.test_speakers for f in loso.folds] == [(f"0{i}",) for i in range(1, 7)]
