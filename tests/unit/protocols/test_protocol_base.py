"""Fold, Protocol, check_fold, the registry and build()."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from emoscope import protocols
from emoscope.errors import ConfigError, ProtocolError, UnknownNameError
from emoscope.protocols import LEAKY_WARNING, Fold, Protocol, check_fold


def _fold(**kw) -> Fold:
    base = dict(name="f", train=("a", "b"), valid=("c",), test=("d",), test_speakers=("2",),
                train_speakers=("1",), valid_speakers=("1",))
    base.update(kw)
    return Fold(**base)


def _protocol(*folds: Fold) -> Protocol:
    folds = folds or (_fold(),)
    return Protocol(name="p", kind="test", leaky=any(f.leaky for f in folds),
                    labels=("angry", "sad"), folds=list(folds), description="d")


# --- Fold and Protocol ------------------------------------------------------------------------


def test_fold_leaky_is_speaker_overlap():
    assert not _fold().leaky
    leaky = _fold(test_speakers=("1", "2"))
    assert leaky.leaky
    assert leaky.shared_speakers == ("1",)


def test_fold_is_frozen():
    with pytest.raises(AttributeError):
        _fold().name = "x"  # type: ignore[misc]


def test_fold_round_trips_through_dict():
    f = _fold(valid_leaky=True)
    d = f.to_dict(ids=True)
    assert d["n_train"] == 2 and d["train"] == ["a", "b"]
    assert Fold.from_dict(d) == f
    assert "train" not in f.to_dict()


def test_fold_from_dict_without_ids_raises():
    with pytest.raises(ConfigError, match="ids"):
        Fold.from_dict(_fold().to_dict())


def test_clean_protocol_summary_says_speaker_independent():
    p = _protocol()
    assert "speaker-independent" in p.summary()
    assert "LEAKY" not in str(p)
    assert "warning" not in p.to_dict()
    assert p.warning == ""


def test_leaky_protocol_says_so_everywhere():
    p = _protocol(_fold(test_speakers=("1",)))
    assert p.leaky
    assert LEAKY_WARNING == "LEAKY: speakers shared between train and test"
    assert LEAKY_WARNING in str(p)
    assert LEAKY_WARNING in p.summary().splitlines()[0]
    d = p.to_dict()
    assert d["leaky"] is True and d["warning"] == LEAKY_WARNING
    assert d["speaker_independent"] is False
    assert p.warning == LEAKY_WARNING


def test_protocol_dict_is_json_and_round_trips():
    p = _protocol(_fold(), _fold(name="g", test_speakers=("1",)))
    d = p.to_dict(ids=True)
    back = Protocol.from_dict(json.loads(json.dumps(d)))
    assert back.folds == p.folds
    assert back.leaky is True and back.labels == p.labels
    assert back.fingerprint == p.fingerprint
    assert len(back) == 2 and [f.name for f in back] == ["f", "g"]


def test_fingerprint_changes_with_the_split():
    a = _protocol(_fold())
    assert a.fingerprint == _protocol(_fold()).fingerprint
    assert a.fingerprint != _protocol(_fold(train=("a",), valid=("b", "c"))).fingerprint


# --- check_fold -------------------------------------------------------------------------------


def test_check_fold_accepts_a_sound_fold():
    f = _fold()
    assert check_fold(f) is f


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (dict(train=()), "empty training"),
        (dict(test=()), "empty test"),
        (dict(train=("a", "a")), "repeated"),
        (dict(test=("a",)), "train and test"),
        (dict(valid=("b",)), "train and valid"),
        (dict(valid=("d",)), "valid and test"),
        (dict(test_speakers=("1",)), "speaker"),
        (dict(valid_speakers=("2",)), "speaker"),
    ],
)
def test_check_fold_rejects(kw, match):
    with pytest.raises(ProtocolError, match=match):
        check_fold(_fold(**kw))


def test_check_fold_allows_speaker_overlap_when_not_speaker_independent():
    check_fold(_fold(test_speakers=("1",)), speaker_independent=False)


def test_check_fold_against_manifest():
    df = pd.DataFrame(dict(id=list("abcd"), label=["sad"] * 4, speaker=["1", "1", "1", "2"]))
    check_fold(_fold(), manifest=df)
    with pytest.raises(ProtocolError, match="not in the manifest"):
        check_fold(_fold(test=("zz",)), manifest=df)
    with pytest.raises(ProtocolError, match="do not match"):
        check_fold(_fold(test_speakers=("3",)), manifest=df)


# --- registry and build -----------------------------------------------------------------------


def test_every_kind_is_registered():
    assert set(protocols.available()) == {"random", "speaker-kfold", "loso", "loso-session",
                                          "predefined", "cross-corpus", "holdout-speakers"}
    assert all(protocols.describe().values())


@pytest.mark.parametrize(
    ("alias", "kind"),
    [("leave-one-speaker-out", "loso"), ("leave_one_session_out", "loso-session"),
     ("random-stratified", "random"), ("Speaker-KFold", "speaker-kfold")],
)
def test_aliases(alias, kind):
    assert protocols.PROTOCOLS.canonical(alias) == kind
    assert protocols.get(alias).name == kind


def test_unknown_kind_raises_unknown_name():
    with pytest.raises(UnknownNameError, match="unknown protocol"):
        protocols.build("bogus", pd.DataFrame())


def test_build_rejects_unknown_option(make_df):
    with pytest.raises(ConfigError, match="no option"):
        protocols.build("loso", make_df(), k=3)


def test_build_requires_required_option(make_df):
    with pytest.raises(ConfigError, match="needs the option"):
        protocols.build("predefined", make_df())


def test_build_dispatches(make_df):
    p = protocols.build("speaker-kfold", make_df(), k=3, seed=1)
    assert p.kind == "speaker-kfold" and len(p.folds) == 3
    assert protocols.options("speaker-kfold")["k"] == 5


@pytest.mark.parametrize("kind", ["random", "speaker-kfold", "loso"])
@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda df: df.drop(columns="speaker"), "lacks the column"),
        (lambda df: df.iloc[:0], "empty"),
        (lambda df: pd.concat([df, df.iloc[:1]]), "duplicate ids"),
        (lambda df: df.assign(label=[None, *list(df["label"][1:])]), "without a label"),
    ],
)
def test_bad_manifests_raise_protocol_error(make_df, kind, mutate, match):
    with pytest.raises(ProtocolError, match=match):
        protocols.build(kind, mutate(make_df()))


def test_not_a_dataframe_raises(make_df):
    with pytest.raises(ProtocolError, match="DataFrame"):
        protocols.build("loso", [1, 2, 3])


def test_mixed_corpora_keep_speakers_apart(make_df):
    both = pd.concat([make_df(2, corpus="a"), make_df(2, corpus="b")], ignore_index=True)
    p = protocols.build("loso", both)
    assert [f.name for f in p.folds] == ["speaker-a:01", "speaker-a:02", "speaker-b:01",
                                         "speaker-b:02"]
    assert not p.leaky


def test_label_set_follows_manifest_order(make_df):
    df = make_df(labels=("angry", "neutral"))
    assert protocols.build("loso", df).labels == ("angry", "neutral")
    df.attrs = {}
    assert protocols.build("loso", df).labels == ("neutral", "angry")  # canonical emotion order
