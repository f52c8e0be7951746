"""Train on one corpus, test on another."""

from __future__ import annotations

import pandas as pd
import pytest

from emoscope import protocols
from emoscope.errors import ConfigError, ProtocolError


@pytest.fixture
def both(make_df) -> pd.DataFrame:
    a = make_df(3, corpus="alpha", labels=("angry", "happy", "neutral", "calm"))
    b = make_df(2, corpus="beta", labels=("happy", "sad", "angry", "neutral"))
    return pd.concat([a, b], ignore_index=True)


def test_one_direction_on_shared_labels(both, sound):
    p = protocols.build("cross-corpus", both, train_corpus="alpha", test_corpus="beta")
    sound(p, both)
    assert p.labels == ("neutral", "happy", "angry")  # canonical order
    (f,) = p.folds
    assert f.name == "alpha->beta"
    lab = both.set_index("id")
    assert set(lab.loc[list(f.train), "corpus"]) == {"alpha"}
    assert set(lab.loc[list(f.test), "corpus"]) == {"beta"}
    assert set(lab.loc[list(f.train + f.test), "label"]) == {"neutral", "happy", "angry"}
    assert len(f.train) == 3 * 3 * 5 and len(f.test) == 2 * 3 * 5
    assert f.test_speakers == ("beta:01", "beta:02")
    assert not p.leaky and "LEAKY" not in str(p)


def test_the_other_corpus_is_implied(both):
    p = protocols.cross_corpus(both, test_corpus="ALPHA")
    assert [f.name for f in p.folds] == ["beta->alpha"]


def test_both_directions_by_default(both, sound):
    p = protocols.cross_corpus(both)
    sound(p, both)
    assert [f.name for f in p.folds] == ["alpha->beta", "beta->alpha"]


def test_label_subset(both):
    p = protocols.cross_corpus(both, train_corpus="alpha", labels=["anger", "joy"])
    assert p.labels == ("angry", "happy")
    with pytest.raises(ProtocolError, match="sad"):
        protocols.cross_corpus(both, train_corpus="alpha", labels=["sad"])


def test_no_shared_label(make_df):
    df = pd.concat([make_df(2, corpus="a", labels=("calm",)),
                    make_df(2, corpus="b", labels=("sad",))], ignore_index=True)
    with pytest.raises(ProtocolError, match="share no label"):
        protocols.cross_corpus(df)


def test_same_corpus_twice(both):
    with pytest.raises(ConfigError, match="both"):
        protocols.cross_corpus(both, train_corpus="alpha", test_corpus="alpha")


def test_unknown_corpus(both):
    with pytest.raises(ProtocolError, match="gamma"):
        protocols.cross_corpus(both, train_corpus="gamma")


def test_three_corpora_need_names(both, make_df):
    three = pd.concat([both, make_df(2, corpus="gamma")], ignore_index=True)
    with pytest.raises(ProtocolError, match="3 corpora"):
        protocols.cross_corpus(three)
    p = protocols.cross_corpus(three, train_corpus="gamma", test_corpus="beta")
    assert len(p.folds[0].train) == 2 * 4 * 5  # gamma and beta share all four labels


def test_needs_a_corpus_column(make_df):
    with pytest.raises(ProtocolError, match="corpus"):
        protocols.cross_corpus(make_df().drop(columns="corpus"))


def test_ids_must_differ_across_corpora(make_df):
    a = make_df(2, corpus="a")
    b = make_df(2, corpus="b").assign(id=a["id"])
    with pytest.raises(ProtocolError, match="both corpora"):
        protocols.cross_corpus(pd.concat([a, b], ignore_index=True))


def test_validation_from_training_corpus(both, sound):
    p = protocols.cross_corpus(both, train_corpus="alpha", valid_speakers=1)
    sound(p, both)
    (f,) = p.folds
    assert len(f.valid_speakers) == 1 and f.valid_speakers[0].startswith("alpha:")
