"""The random stratified (leaky) protocol."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emoscope import protocols
from emoscope.errors import ConfigError, ProtocolError
from emoscope.protocols import LEAKY_WARNING


def test_one_fold_partitions_the_manifest(make_df, sound):
    df = make_df(6, per_label=10)
    p = protocols.random_split(df, test_fraction=0.25, seed=0)
    sound(p, df)
    (f,) = p.folds
    assert set(f.train) | set(f.test) == set(df["id"])
    assert len(f.test) == 60 and len(f.train) == 180
    assert f.valid == ()


def test_is_stratified(make_df):
    df = make_df(5, labels=("angry", "happy", "sad"), per_label=8)  # 40 per label
    df = pd.concat([df, make_df(5, labels=("neutral",), per_label=16, corpus="fake")
                    .assign(id=lambda d: d["id"] + "x")], ignore_index=True)  # 80 neutral
    (f,) = protocols.random_split(df, test_fraction=0.25, seed=3).folds
    lab = df.set_index("id")["label"]
    counts = lab.loc[list(f.test)].value_counts()
    assert counts.to_dict() == {"neutral": 20, "angry": 10, "happy": 10, "sad": 10}


def test_is_leaky_and_says_so(make_df):
    p = protocols.build("random", make_df(), seed=0)
    assert p.leaky and p.folds[0].leaky
    assert LEAKY_WARNING in str(p) and p.to_dict()["warning"] == LEAKY_WARNING


def test_leaky_is_computed_not_assumed(make_df):
    # every utterance its own speaker: nothing can be shared
    df = make_df(1, per_label=10)
    df["speaker"] = [f"s{i}" for i in range(len(df))]
    p = protocols.random_split(df, seed=0)
    assert not p.leaky
    assert "LEAKY" not in str(p)


def test_same_seed_same_split_other_seed_other_split(make_df):
    df = make_df()
    a = protocols.random_split(df, seed=7)
    assert a.folds == protocols.random_split(df, seed=7).folds
    assert a.folds != protocols.random_split(df, seed=8).folds
    assert a.fingerprint != protocols.random_split(df, seed=8).fingerprint


@pytest.mark.parametrize("frac", [0, 1, 1.5, -0.1, "0.2", None, True])
def test_bad_test_fraction(make_df, frac):
    with pytest.raises(ConfigError, match="test_fraction"):
        protocols.random_split(make_df(), test_fraction=frac)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", None, True])
def test_bad_seed(make_df, seed):
    with pytest.raises(ConfigError, match="seed"):
        protocols.random_split(make_df(), seed=seed)


def test_valid_speakers_is_refused(make_df):
    with pytest.raises(ConfigError, match="valid_fraction"):
        protocols.random_split(make_df(), valid_speakers=1)


def test_class_too_small_to_stratify(make_df):
    df = make_df(2)
    df.loc[0, "label"] = "calm"  # one calm utterance
    with pytest.raises(ProtocolError, match="stratify"):
        protocols.random_split(df)


def test_validation_is_utterance_level(make_df, sound):
    df = make_df(4, per_label=10)
    p = protocols.random_split(df, test_fraction=0.25, seed=0, valid_fraction=0.25)
    sound(p, df)
    (f,) = p.folds
    assert len(f.valid) == 30 and len(f.train) == 90 and len(f.test) == 40
    assert f.valid_leaky
    assert not set(f.valid) & set(f.test)
    assert set(np.unique(df.set_index("id").loc[list(f.valid), "label"])) == set(df["label"])
