"""Protocols read from a protocols JSON (the benchmark's protocols.json format)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from emoscope import corpora, protocols
from emoscope.errors import ConfigError, ProtocolError, UnknownNameError
from emoscope.protocols.protocol_file import ENV_VAR
from emoscope.testing.corpora.ravdess import make_ravdess
from emoscope.testing.corpora.tess import make_tess

TESS_LABELS = ["angry", "disgust", "fear", "happy", "neutral", "ps", "sad"]
DEFS = {
    "ravdess-fake": {
        "corpus": "ravdess",
        "labels": ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"],
        "kind": "speaker-folds",
        "test_speakers": [[1, 4], ["2", "03"]],
        "note": "two folds of two actors",
    },
    "ravdess-4class": {
        "corpus": "ravdess",
        "labels": ["neutral", "happy", "sad", "angry"],
        "kind": "speaker-folds",
        "test_speakers": [[1], [2], [3], [4]],
    },
    "ravdess-bad-speaker": {
        "corpus": "ravdess",
        "kind": "speaker-folds",
        "test_speakers": [[1, 25], [26]],
    },
    "tess-cross-speaker": {
        "corpus": "tess",
        "labels": TESS_LABELS,
        "kind": "speaker-folds",
        "test_speakers": [["OAF"], ["YAF"]],
    },
    "tess-random-80-20": {
        "corpus": "tess",
        "labels": TESS_LABELS,
        "kind": "random-stratified",
        "test_fraction": 0.2,
        "seed": 0,
    },
}


@pytest.fixture(scope="module")
def ravdess(tmp_path_factory) -> pd.DataFrame:
    return corpora.load("ravdess", make_ravdess(tmp_path_factory.mktemp("ravdess"),
                                                actors=(1, 2, 3, 4)))


@pytest.fixture(scope="module")
def tess(tmp_path_factory) -> pd.DataFrame:
    return corpora.load("tess", make_tess(tmp_path_factory.mktemp("tess"),
                                          words=("back", "bar", "base", "bath", "bean")))


@pytest.fixture
def path(tmp_path) -> Path:
    p = tmp_path / "protocols.json"
    p.write_text(json.dumps(DEFS))
    return p


def test_load_protocols(path):
    defs = protocols.load_protocols(path)
    assert set(defs) == set(DEFS)
    assert defs["tess-cross-speaker"]["kind"] == "speaker-folds"


def test_int_speakers_match_zero_padded_ids(ravdess, path, sound, tested):
    p = protocols.predefined(ravdess, "ravdess-fake", path=path)
    sound(p, ravdess)
    assert p.name == "ravdess-fake" and p.kind == "predefined"
    assert p.description == "two folds of two actors"
    assert [f.test_speakers for f in p.folds] == [("01", "04"), ("02", "03")]
    assert [f.train_speakers for f in p.folds] == [("02", "03"), ("01", "04")]
    assert Counter(tested(p.folds)) == Counter(ravdess["id"])
    assert not p.leaky
    assert p.labels == tuple(DEFS["ravdess-fake"]["labels"])


def test_labels_restrict_the_manifest(ravdess, path, sound):
    p = protocols.predefined(ravdess, "ravdess-4class", path=path)
    sound(p, ravdess)
    assert p.labels == ("neutral", "happy", "sad", "angry")
    lab = ravdess.set_index("id")["label"]
    ids = [i for f in p.folds for i in f.test]
    assert set(lab.loc[ids]) == {"neutral", "happy", "sad", "angry"}
    assert len(ids) == (ravdess["label"].isin(p.labels)).sum()


def test_tess_codes_fear_and_ps_are_mapped(tess, path, sound):
    p = protocols.predefined(tess, "tess-cross-speaker", path=path)
    sound(p, tess)
    assert p.labels == ("angry", "disgust", "fearful", "happy", "neutral", "surprised", "sad")
    assert [f.test_speakers for f in p.folds] == [("OAF",), ("YAF",)]
    assert [len(f.test) for f in p.folds] == [35, 35]
    assert not p.leaky


def test_random_stratified_definition_is_leaky(tess, path, sound):
    p = protocols.predefined(tess, "tess-random-80-20", path=path)
    sound(p, tess)
    assert p.leaky and "LEAKY" in str(p)
    assert p.kind == "predefined" and p.name == "tess-random-80-20"
    (f,) = p.folds
    assert len(f.test) == 14 and len(f.train) == 56
    assert p.folds == protocols.predefined(tess, "tess-random-80-20", path=path).folds


def test_seed_only_moves_validation_of_a_random_definition(tess, path):
    a = protocols.predefined(tess, "tess-random-80-20", path=path, valid_fraction=0.25)
    b = protocols.predefined(tess, "tess-random-80-20", path=path, valid_fraction=0.25, seed=9)
    assert a.folds[0].test == b.folds[0].test
    assert a.folds[0].valid != b.folds[0].valid


def test_build_by_kind(ravdess, path):
    p = protocols.build("predefined", ravdess, name="ravdess-fake", path=path)
    assert len(p.folds) == 2


def test_definition_given_as_dict(tess):
    spec = dict(DEFS["tess-cross-speaker"], name="mine", test_speakers=[["oaf"]])
    p = protocols.predefined(tess, spec)
    assert p.name == "mine" and p.folds[0].test_speakers == ("OAF",)
    assert p.options["source"] is None


def test_env_var_names_the_file(ravdess, path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(path))
    assert len(protocols.predefined(ravdess, "ravdess-fake").folds) == 2


def test_standard_protocols_ship_with_the_package(ravdess, monkeypatch):
    from emoscope.protocols.protocol_file import STANDARD_PROTOCOLS

    monkeypatch.delenv(ENV_VAR, raising=False)
    assert set(protocols.load_protocols()) >= {"ravdess-si6", "tess-cross-speaker",
                                                "tess-random-80-20"}
    assert STANDARD_PROTOCOLS.is_file()
    with pytest.raises(UnknownNameError, match="ravdess-fake"):
        protocols.predefined(ravdess, "ravdess-fake")


def test_missing_file(ravdess, tmp_path):
    with pytest.raises(ConfigError, match="no such"):
        protocols.predefined(ravdess, "ravdess-fake", path=tmp_path / "nope.json")


@pytest.mark.parametrize(
    ("text", "match"),
    [("{not json", "JSON"), ("[1, 2]", "object"), ('{"p": 3}', "not a JSON object"),
     ('{"p": {"kind": "magic"}}', "kind")],
)
def test_malformed_files(tmp_path, text, match):
    p = tmp_path / "p.json"
    p.write_text(text)
    with pytest.raises(ConfigError, match=match):
        protocols.load_protocols(p)


def test_unknown_protocol_name(ravdess, path):
    with pytest.raises(UnknownNameError, match=r"ravdess-si7.*known: ravdess-4class"):
        protocols.predefined(ravdess, "ravdess-si7", path=path)


def test_unknown_speakers_are_named(ravdess, path):
    with pytest.raises(ProtocolError, match=r"speaker\(s\) 25, 26 not in the manifest"):
        protocols.predefined(ravdess, "ravdess-bad-speaker", path=path)


def test_wrong_corpus(tess, path):
    with pytest.raises(ProtocolError, match="defined on corpus 'ravdess'"):
        protocols.predefined(tess, "ravdess-fake", path=path)


def test_label_absent_from_manifest(ravdess):
    spec = dict(DEFS["ravdess-4class"], labels=["neutral", "boredom"])
    with pytest.raises(ProtocolError, match="boredom"):
        protocols.predefined(ravdess, spec)


def test_mixed_manifest_is_restricted_to_the_protocols_corpus(ravdess, tess, path):
    both = pd.concat([ravdess, tess], ignore_index=True)
    p = protocols.predefined(both, "tess-cross-speaker", path=path)
    assert [f.test_speakers for f in p.folds] == [("OAF",), ("YAF",)]
    assert all(i.startswith(("OA", "YAF")) for f in p.folds for i in f.train + f.test)


def test_ambiguous_numeric_speakers(make_df):
    df = make_df(speakers=["1", "01"])
    spec = {"kind": "speaker-folds", "test_speakers": [[1]]}
    with pytest.raises(ProtocolError, match="same speaker number"):
        protocols.predefined(df, spec)


@pytest.mark.parametrize("groups", [[], [[]], [1, 2], "OAF", [[1.5]]])
def test_bad_test_speakers(make_df, groups):
    with pytest.raises(ConfigError):
        protocols.predefined(make_df(), {"kind": "speaker-folds", "test_speakers": groups})


def test_validation_speakers(ravdess, path, sound):
    p = protocols.predefined(ravdess, "ravdess-4class", path=path, valid_speakers=1)
    sound(p, ravdess)
    for f in p.folds:
        assert len(f.valid_speakers) == 1 and len(f.train_speakers) == 2
        assert not f.valid_leaky


def test_mixed_manifest_needs_a_corpus_in_the_definition(make_df):
    df = pd.concat([make_df(2, corpus="a"), make_df(2, corpus="b")], ignore_index=True)
    with pytest.raises(ProtocolError, match="names no corpus"):
        protocols.predefined(df, {"kind": "speaker-folds", "test_speakers": [[1]]})
