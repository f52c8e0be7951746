"""The generic folder-per-label corpus."""

from __future__ import annotations

import pytest

from emoscope import corpora
from emoscope.errors import ConfigError, CorpusError
from emoscope.testing.corpora.common import fake_utterance
from emoscope.testing.corpora.folder import make_folder_corpus


@pytest.fixture(scope="module")
def folder_root(tmp_path_factory):
    return make_folder_corpus(tmp_path_factory.mktemp("folder"))


@pytest.mark.parametrize("ext", [".wav", ".flac"])
def test_fake_tree(tmp_path, ext):
    root = make_folder_corpus(tmp_path, ext=ext)
    df = corpora.load("folder", root)
    assert len(df) == 4 * 2 * 2
    assert df.path.str.endswith(ext).all()
    assert set(df.label.value_counts()) == {4}
    assert df.attrs["labels"] == ["angry", "happy", "neutral", "sad"]
    assert set(df.speaker) == {"unknown"} and set(df.gender) == {"unknown"}
    # equal stems in different folders do not collide
    assert {"angry/spk1_01", "happy/spk1_01", "sad/more/spk2_02"} <= set(df.id)


def test_speaker_pattern(folder_root, tmp_path):
    df = corpora.load("folder", folder_root, speaker_pattern=r"^(?P<speaker>spk\d)_")
    assert df.speaker.value_counts().to_dict() == {"spk1": 8, "spk2": 8}
    with pytest.raises(ConfigError, match="named group"):
        corpora.load("folder", folder_root, speaker_pattern=r"^(spk\d)_")
    with pytest.raises(ConfigError, match="not a regular expression"):
        corpora.load("folder", folder_root, speaker_pattern=r"(?P<speaker>")
    root = make_folder_corpus(tmp_path, labels=("sad",), speakers=("spk1",))
    fake_utterance(root / "sad" / "nobody")
    df = corpora.load("folder", root, speaker_pattern=r"^(?P<speaker>spk\d)_")
    assert len(df) == 2
    (path, reason), = df.attrs["skipped"]
    assert path.endswith("nobody.wav") and "speaker_pattern" in reason


def test_folder_names_are_mapped_to_canonical_labels(tmp_path):
    for folder in ("Anger", "happiness", "NEU", "fear"):
        fake_utterance(tmp_path / folder / "x1")
    fake_utterance(tmp_path / "loose_file")  # not in a label folder
    df = corpora.load("folder", tmp_path)
    assert sorted(df.label) == ["angry", "fearful", "happy", "neutral"]
    assert df.set_index("id").loc["Anger/x1"].raw_label == "Anger"
    (path, reason), = df.attrs["skipped"]
    assert path.endswith("loose_file.wav") and "label folder" in reason


def test_unknown_folder_names(tmp_path):
    make_folder_corpus(tmp_path, labels=("sad",), speakers=("a",), per_speaker=1)
    fake_utterance(tmp_path / "misc" / "x1")
    with pytest.raises(CorpusError, match="folder 'misc' is not a known emotion"):
        corpora.load("folder", tmp_path)
    df = corpora.load("folder", tmp_path, raw_label_map={"misc": None})
    assert df.id.tolist() == ["sad/a_01"]
    df = corpora.load("folder", tmp_path, raw_label_map={"MISC": "other"})
    assert df.set_index("id").loc["misc/x1"].label == "other"
    with pytest.raises(ConfigError, match="unknown emotion label 'otter'"):
        corpora.load("folder", tmp_path, raw_label_map={"misc": "otter"})


def test_same_stem_with_two_extensions(tmp_path):
    fake_utterance(tmp_path / "sad" / "clip", ext=".wav")
    fake_utterance(tmp_path / "sad" / "clip", ext=".flac")
    df = corpora.load("folder", tmp_path)
    assert sorted(df.id) == ["sad/clip.flac", "sad/clip.wav"]


def test_empty_or_missing_folder(tmp_path):
    with pytest.raises(CorpusError, match="no folder utterances"):
        corpora.load("folder", tmp_path)
    with pytest.raises(CorpusError, match="no such folder"):
        corpora.load("folder", tmp_path / "nope")
