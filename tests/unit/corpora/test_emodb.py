"""EmoDB loader on fake trees with the real naming scheme."""

from __future__ import annotations

import pytest

from emoscope import corpora
from emoscope.errors import CorpusError
from emoscope.testing.corpora.common import fake_utterance
from emoscope.testing.corpora.emodb import make_emodb


@pytest.fixture(scope="module")
def emodb_root(tmp_path_factory):
    return make_emodb(tmp_path_factory.mktemp("emodb"))


@pytest.mark.parametrize("ext", [".wav", ".flac"])
def test_fake_tree(tmp_path, ext):
    root = make_emodb(tmp_path, ext=ext)
    df = corpora.load("emo-db", root)
    assert len(df) == 4 * 2 * 7 + 1  # speakers x texts x emotions, plus a second take
    assert df.path.str.endswith(ext).all()
    counts = df.label.value_counts().to_dict()
    assert counts.pop("angry") == 9 and set(counts.values()) == {8}
    assert sorted(counts) == ["boredom", "disgust", "fearful", "happy", "neutral", "sad"]
    assert df.groupby("speaker").size().to_dict() == {"03": 15, "08": 14, "09": 14, "10": 14}
    assert df.gender.value_counts().to_dict() == {"male": 29, "female": 28}
    assert df.attrs["labels"] == ["angry", "boredom", "disgust", "fearful", "happy", "sad",
                                  "neutral"]
    assert df.attrs["skipped"] == []  # lablaut/ and erkennung.txt are not media


def test_parsed_fields(emodb_root):
    df = corpora.load("emodb", emodb_root).set_index("id")
    r = df.loc["08b01Ta"]
    assert (r.label, r.raw_label, r.speaker, r.gender, r.age, r.text_id, r.version) == (
        "sad", "T", "08", "female", 34, "b01", "a")
    assert r.transcript == "Was sind denn das für Tüten, die da unter dem Tisch stehen?"
    assert df.loc["03a01Wb"].version == "b"
    assert df.loc["10a01La"].label == "boredom" and df.loc["10a01La"].gender == "male"
    # erkennung.txt of the fake: 80 + (file number % 20) per cent; the first file is 03a01Wa
    assert df.loc["03a01Wa"].agreement == pytest.approx(0.80)
    assert df.agreement.between(0.8, 0.99).all()


def test_ratings_found_above_the_audio_folder_and_optional(emodb_root, tmp_path):
    assert "agreement" in corpora.load("emodb", emodb_root / "wav").columns
    df = corpora.load("emodb", make_emodb(tmp_path, speakers=("16",), ratings=False))
    assert "agreement" not in df.columns and set(df.gender) == {"female"}


def test_label_subset_with_corpus_codes(emodb_root):
    df = corpora.load("emodb", emodb_root, labels=["W", "L"])
    assert df.attrs["labels"] == ["angry", "boredom"]
    assert len(df) == 17


def test_odd_names_are_skipped(tmp_path):
    root = make_emodb(tmp_path, speakers=("11",), texts=("a02",))
    for stem in ("11a02Xa", "04a02Wa", "11a03Wa", "11a02W", "readme"):
        fake_utterance(root / "wav" / stem)
    fake_utterance(root / "copy" / "11a02Wa", ext=".flac")  # a second copy of one utterance
    df = corpora.load("emodb", root)
    assert len(df) == 8
    skipped = dict(df.attrs["skipped"])
    assert len(skipped) == 6
    assert sum("another copy" in reason for reason in skipped.values()) == 1


def test_empty_folder(tmp_path):
    (tmp_path / "wav").mkdir()
    with pytest.raises(CorpusError, match="no emodb utterances"):
        corpora.load("emodb", tmp_path)
