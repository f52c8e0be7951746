"""TESS and RAVDESS loaders on fake trees with the real naming schemes."""

from __future__ import annotations

import pandas as pd
import pytest

from emoscope import corpora
from emoscope.errors import ConfigError, CorpusError
from emoscope.testing.corpora.common import fake_utterance
from emoscope.testing.corpora.ravdess import make_ravdess
from emoscope.testing.corpora.tess import make_tess
from emoscope.testing.media import write_video
from emoscope.testing.synth import speechlike


@pytest.mark.parametrize("ext", [".wav", ".flac"])
def test_tess_fake_tree(tmp_path, ext):
    root = make_tess(tmp_path, words=("back", "bar"), ext=ext)
    df = corpora.load("tess", root)
    assert len(df) == 2 * 7 * 2
    assert set(df.columns) >= set(corpora.MANIFEST_COLUMNS) | {"raw_label", "word"}
    assert df.groupby("speaker").size().to_dict() == {"OAF": 14, "YAF": 14}
    assert set(df.gender) == {"female"}
    assert df.attrs["labels"] == ["angry", "disgust", "fearful", "happy", "neutral",
                                  "surprised", "sad"]
    # the original's OA_ typo: speaker taken from its folder
    row = df[df.id == "OA_back_neutral"].iloc[0]
    assert row.speaker == "OAF" and row.label == "neutral" and row.word == "back"
    # ps is pleasant surprise
    assert set(df[df.raw_label == "ps"].label) == {"surprised"}
    assert df.path.str.endswith(ext).all()


def test_tess_label_subset_with_corpus_codes(tmp_path):
    root = make_tess(tmp_path, words=("back",))
    df = corpora.load("tess", root, labels=["ps", "fear", "angry"])
    assert df.attrs["labels"] == ["surprised", "fearful", "angry"]
    assert sorted(df.label.unique()) == ["angry", "fearful", "surprised"]
    with pytest.raises(ConfigError, match="unknown emotion label 'joyful'"):
        corpora.load("tess", root, labels=["joyful"])
    with pytest.raises(CorpusError, match="calm"):
        corpora.load("tess", root, labels=["calm"])


def test_tess_odd_names_are_skipped_and_listed(tmp_path):
    root = make_tess(tmp_path, words=("back",))
    fake_utterance(root / "extra" / "readme_notes.wav")
    fake_utterance(root / "extra" / "XYZ_word_angry.wav")
    df = corpora.load("tess", root)
    skipped = dict(df.attrs["skipped"])
    assert len(df) == 14 and len(skipped) == 2
    assert any("unknown TESS speaker" in r for r in skipped.values())


def test_ravdess_speech_and_song(tmp_path):
    root = make_ravdess(tmp_path, actors=(1, 2), song=True)
    speech = corpora.load("ravdess", root)
    assert len(speech) == 2 * (2 + 7 * 4)  # neutral: 2 statements; others: 2 x 2 intensities
    assert set(speech.vocal_channel) == {"speech"}
    both = corpora.load("ravdess", root, vocal_channel=["speech", "song"])
    assert set(both.vocal_channel) == {"speech", "song"}
    assert not set(both[both.vocal_channel == "song"].label) & {"disgust", "surprised"}
    r = speech.set_index("id").loc["03-01-05-02-01-01-02"]
    assert (r.label, r.speaker, r.gender, r.intensity, r.statement) == (
        "angry", "02", "female", "strong", 1)
    assert speech[speech.speaker == "01"].gender.unique().tolist() == ["male"]
    with pytest.raises(ConfigError):
        corpora.load("ravdess", root, vocal_channel="opera")


def test_ravdess_audio_visual_pairs(tmp_path):
    make_ravdess(tmp_path, actors=(3,), emotions=(5,))
    # the audio-visual twin of one audio file, and one audio-visual file with no audio twin
    av_dir = tmp_path / "Video_Speech_Actor_03" / "Actor_03"
    write_video(av_dir / "01-01-05-01-01-01-03.mp4", speechlike(seconds=0.5), 16000)
    write_video(av_dir / "01-01-05-01-01-02-03.mp4", speechlike(seconds=0.5), 16000)
    write_video(av_dir / "02-01-05-01-01-01-03.mp4", None)  # video only: no sound, not listed
    df = corpora.load("ravdess", tmp_path).set_index("id")
    paired = df.loc["03-01-05-01-01-01-03"]
    assert paired.path.endswith(".wav") and paired.video_path.endswith("01-01-05-01-01-01-03.mp4")
    lone = df.loc["03-01-05-01-01-02-03"]
    assert lone.path.endswith(".mp4") and lone.modality == "audio-visual"
    audio_only = corpora.load("ravdess", tmp_path, modality="audio")
    assert audio_only.path.str.endswith(".wav").all()


def test_missing_or_empty_root(tmp_path):
    with pytest.raises(CorpusError, match="no such folder"):
        corpora.load("tess", tmp_path / "nope")
    with pytest.raises(CorpusError, match="no tess utterances"):
        corpora.load("tess", tmp_path)


def test_manifest_validation():
    bad = pd.DataFrame({"id": ["a", "a"], "path": ["x", "y"], "label": ["sad", "sad"],
                        "speaker": ["1", "2"], "gender": ["male"] * 2, "corpus": ["c"] * 2})
    with pytest.raises(CorpusError, match="duplicate ids"):
        corpora.validate_manifest(bad)
    with pytest.raises(CorpusError, match="lacks the column"):
        corpora.validate_manifest(bad.drop(columns=["speaker"]))
