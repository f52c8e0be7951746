"""Validation sets drawn from training speakers, for every protocol."""

from __future__ import annotations

import pandas as pd
import pytest

from emoscope import protocols
from emoscope.errors import ConfigError, ProtocolError
from emoscope.protocols.splits import FALLBACK_VALID_FRACTION

SESSIONS = {f"{i:02d}": f"S{(i + 1) // 2}" for i in range(1, 13)}


def _build(kind: str, df: pd.DataFrame, **kw) -> protocols.Protocol:
    if kind == "predefined":
        spec = {"kind": "speaker-folds", "test_speakers": [[1, 2, 3], [4, 5, 6]]}
        return protocols.build(kind, df, name=spec, **kw)
    if kind == "cross-corpus":
        other = df.assign(corpus="other", id=df["id"] + "-o")
        return protocols.build(kind, pd.concat([df, other], ignore_index=True), **kw)
    if kind == "speaker-kfold":
        kw.setdefault("k", 4)
    return protocols.build(kind, df, **kw)


SPEAKER_KINDS = ["speaker-kfold", "loso", "loso-session", "predefined", "cross-corpus"]


@pytest.mark.parametrize("kind", SPEAKER_KINDS)
@pytest.mark.parametrize("opt", [dict(valid_fraction=0.2), dict(valid_speakers=2)])
def test_whole_training_speakers_held_out(make_df, sound, kind, opt):
    df = make_df(12, sessions=SESSIONS)
    p = _build(kind, df, seed=0, **opt)
    sound(p, p_manifest(df, kind))
    for f in p.folds:
        assert f.valid and not f.valid_leaky
        assert len(f.valid_speakers) == 2 or kind == "speaker-kfold"
        assert not set(f.valid_speakers) & set(f.train_speakers)
        assert not set(f.valid_speakers) & set(f.test_speakers)
        assert not set(f.valid) & set(f.test)


def p_manifest(df: pd.DataFrame, kind: str) -> pd.DataFrame:
    if kind == "cross-corpus":
        return pd.concat([df, df.assign(corpus="other", id=df["id"] + "-o")], ignore_index=True)
    return df


def test_fraction_sets_the_number_of_speakers(make_df):
    df = make_df(21)
    p = protocols.build("loso", df, valid_fraction=0.1)  # 20 training speakers -> 2
    assert all(len(f.valid_speakers) == 2 and len(f.train_speakers) == 18 for f in p.folds)


def test_valid_keeps_every_label_when_it_can(make_df):
    # speakers say two labels each; validation of 2 speakers can and must cover all four
    parts = [make_df(speakers=[f"{i:02d}"], labels=labs)
             for i, labs in enumerate([("angry", "sad"), ("happy", "neutral")] * 5)]
    df = pd.concat(parts, ignore_index=True)
    for seed in range(4):
        p = protocols.build("loso", df, valid_speakers=2, seed=seed)
        lab = df.set_index("id")["label"]
        for f in p.folds:
            assert lab.loc[list(f.valid)].nunique() == 4
            assert lab.loc[list(f.train)].nunique() == 4


def test_one_training_speaker_falls_back_to_utterances(make_df, sound):
    df = make_df(2, per_label=10)
    p = protocols.build("loso", df, valid_fraction=0.2, seed=0)
    sound(p, df)
    lab = df.set_index("id")["label"]
    for f in p.folds:
        assert f.valid_leaky and f.valid_speakers == f.train_speakers
        assert len(f.valid) == 8 and len(f.train) == 32
        assert (lab.loc[list(f.valid)].value_counts() == 2).all()  # stratified
        assert not set(f.valid) & set(f.test)
    assert "validation shares speakers with training" in str(p)
    assert not p.leaky  # the test stays speaker-independent


def test_fallback_fraction_with_valid_speakers(make_df):
    df = make_df(2, per_label=10)
    p = protocols.build("loso", df, valid_speakers=1)
    assert all(len(f.valid) == round(40 * FALLBACK_VALID_FRACTION) for f in p.folds)
    assert all(f.valid_leaky for f in p.folds)


def test_too_few_speakers_for_the_fraction_falls_back(make_df):
    p = protocols.build("loso", make_df(3), valid_fraction=0.1)  # 0.1 * 2 rounds to 0 speakers
    assert all(f.valid and f.valid_leaky for f in p.folds)


def test_cannot_hold_out_every_training_speaker(make_df):
    with pytest.raises(ProtocolError, match="cannot hold out 3"):
        protocols.build("loso", make_df(4), valid_speakers=3)


@pytest.mark.parametrize(
    ("opt", "match"),
    [(dict(valid_fraction=0.1, valid_speakers=1), "not both"),
     (dict(valid_fraction=1.0), "valid_fraction"), (dict(valid_fraction=0), "valid_fraction"),
     (dict(valid_speakers=0), "valid_speakers"), (dict(valid_speakers=1.5), "valid_speakers")],
)
def test_bad_validation_options(make_df, opt, match):
    with pytest.raises(ConfigError, match=match):
        protocols.build("loso", make_df(), **opt)


def test_validation_is_seeded(make_df):
    df = make_df(12)
    a = protocols.build("speaker-kfold", df, k=3, valid_speakers=2, seed=4)
    assert a.folds == protocols.build("speaker-kfold", df, k=3, valid_speakers=2, seed=4).folds
    b = protocols.build("loso", df, valid_speakers=2, seed=0)
    c = protocols.build("loso", df, valid_speakers=2, seed=1)
    assert [f.test for f in b.folds] == [f.test for f in c.folds]
    assert [f.valid for f in b.folds] != [f.valid for f in c.folds]


def test_no_validation_by_default(make_df):
    p = protocols.build("loso", make_df())
    assert all(f.valid == () and f.valid_speakers == () for f in p.folds)
