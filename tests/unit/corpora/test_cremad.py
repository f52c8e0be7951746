"""CREMA-D loader on fake trees with the real naming scheme."""

from __future__ import annotations

import pytest

from emoscope import corpora
from emoscope.errors import ConfigError, CorpusError
from emoscope.testing.corpora.common import fake_utterance
from emoscope.testing.corpora.cremad import make_cremad

ACTORS = (1001, 1002)


@pytest.fixture(scope="module")
def cremad_root(tmp_path_factory):
    return make_cremad(tmp_path_factory.mktemp("cremad"), actors=ACTORS)


def test_alias_and_registry_name():
    assert corpora.CORPORA.canonical("cremad") == "crema-d"
    assert corpora.get("CREMA-D").default_labels == (
        "angry", "disgust", "fearful", "happy", "neutral", "sad")


@pytest.mark.parametrize("ext", [".wav", ".flac"])
def test_fake_tree(tmp_path, ext):
    root = make_cremad(tmp_path, actors=ACTORS, ext=ext)
    df = corpora.load("cremad", root)
    # per actor: DFA at XX (6) + IEO at LO/MD/HI for 5 emotions and NEU at XX (16)
    assert len(df) == 2 * 22
    assert df.path.str.endswith(ext).all()
    assert df.groupby("speaker").size().to_dict() == {"1001": 22, "1002": 22}
    assert df.label.value_counts().to_dict() == {
        "angry": 8, "disgust": 8, "fearful": 8, "happy": 8, "sad": 8, "neutral": 4}
    assert df.attrs["labels"] == ["angry", "disgust", "fearful", "happy", "neutral", "sad"]
    assert df.attrs["skipped"] == []
    assert df.corpus.unique().tolist() == ["crema-d"]


def test_parsed_fields_and_demographics(cremad_root):
    df = corpora.load("crema-d", cremad_root).set_index("id")
    r = df.loc["1001_IEO_HAP_MD"]
    assert (r.label, r.raw_label, r.speaker, r.text_id, r.intensity) == (
        "happy", "HAP", "1001", "IEO", "medium")
    assert r.transcript == "It's eleven o'clock"
    assert df.loc["1002_DFA_SAD_XX"].transcript == "Don't forget a jacket"
    assert df.loc["1002_DFA_SAD_XX"].intensity == "unspecified"
    assert df.intensity.value_counts().to_dict() == {
        "unspecified": 14, "low": 10, "medium": 10, "high": 10}
    # made-up demographics of the fake: odd actors male, age 20 + last two digits
    assert df.groupby("speaker").gender.first().to_dict() == {"1001": "male", "1002": "female"}
    assert df.groupby("speaker").age.first().to_dict() == {"1001": 21, "1002": 22}
    assert df.groupby("speaker").race.first().to_dict() == {"1001": "Asian", "1002": "Caucasian"}
    assert set(df.ethnicity) == {"Not Hispanic"}
    assert (df.modality == "audio").all() and df.video_path.isna().all()


def test_demographics_found_above_the_audio_folder_or_given(cremad_root, tmp_path):
    df = corpora.load("crema-d", cremad_root / "AudioWAV")
    assert set(df.gender) == {"male", "female"}
    bare = make_cremad(tmp_path / "bare", actors=(1003,), sentences=("TSI",), demographics=False)
    df = corpora.load("crema-d", bare)
    assert set(df.gender) == {"unknown"}
    assert not {"age", "race", "ethnicity"} & set(df.columns)
    df = corpora.load("crema-d", bare, demographics=cremad_root / "VideoDemographics.csv")
    # the given table does not list actor 1003
    assert set(df.gender) == {"unknown"} and df.age.isna().all()
    table = tmp_path / "demo.csv"
    table.write_text("ActorID,Age,Sex,Race,Ethnicity\n1003,40,Female,Asian,Hispanic\n")
    df = corpora.load("crema-d", bare, demographics=table)
    assert set(df.gender) == {"female"} and set(df.age) == {40} and set(df.race) == {"Asian"}


def test_bad_demographics_file(tmp_path):
    root = make_cremad(tmp_path, actors=(1001,), sentences=("TSI",), demographics=False)
    (root / "VideoDemographics.csv").write_text("ActorID,Age\n1001,30\n")
    with pytest.raises(CorpusError, match="Sex"):
        corpora.load("crema-d", root)
    with pytest.raises(CorpusError, match="no such demographics file"):
        corpora.load("crema-d", root, demographics=tmp_path / "nope.csv")


def test_audio_and_video_pairing(tmp_path):
    root = make_cremad(tmp_path, actors=(1005,), sentences=("WSI",), video_actors=(1005,))
    (root / "AudioWAV" / "1005_WSI_ANG_XX.wav").unlink()
    df = corpora.load("crema-d", root).set_index("id")
    assert len(df) == 6
    paired = df.loc["1005_WSI_SAD_XX"]
    assert paired.path.endswith("AudioWAV/1005_WSI_SAD_XX.wav")
    assert paired.video_path.endswith("VideoFlash/1005_WSI_SAD_XX.flv")
    assert paired.modality == "audio"
    lone = df.loc["1005_WSI_ANG_XX"]
    assert lone.path.endswith(".flv") and lone.modality == "audio-visual"
    audio = corpora.load("crema-d", root, modality="audio")
    assert len(audio) == 5 and audio.video_path.isna().all()
    video = corpora.load("crema-d", root, modality=["audio-visual"])
    assert len(video) == 6 and video.path.str.endswith(".flv").all()
    with pytest.raises(ConfigError, match="modality"):
        corpora.load("crema-d", root, modality="smell")


def test_wav_preferred_over_mp3_copy(tmp_path):
    root = make_cremad(tmp_path, actors=(1001,), sentences=("TSI",))
    fake_utterance(root / "AudioMP3" / "1001_TSI_ANG_XX", ext=".mp3")
    df = corpora.load("crema-d", root)
    assert len(df) == 6
    assert df.set_index("id").loc["1001_TSI_ANG_XX"].path.endswith(".wav")
    (skipped, reason), = df.attrs["skipped"]
    assert skipped.endswith("1001_TSI_ANG_XX.mp3") and "another copy" in reason


def test_odd_names_and_lfs_pointers(tmp_path):
    root = make_cremad(tmp_path, actors=(1001,), sentences=("TSI",))
    wav = root / "AudioWAV"
    for stem in ("1001_TSI_ANG", "0999_TSI_ANG_XX", "1001_XYZ_ANG_XX", "1001_TSI_JOY_XX",
                 "notes"):
        fake_utterance(wav / stem)
    fake_utterance(wav / "1040_ITH_SAD_X")  # a misnamed file in older copies
    (wav / "1002_TSI_SAD_XX.wav").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12345\n")
    df = corpora.load("crema-d", root)
    skipped = dict(df.attrs["skipped"])
    assert len(df) == 7 and len(skipped) == 6
    assert sum("git-lfs" in reason for reason in skipped.values()) == 1
    r = df.set_index("id").loc["1040_ITH_SAD_XX"]
    assert (r.speaker, r.label, r.intensity) == ("1040", "sad", "unspecified")


def test_empty_or_missing_folder(tmp_path):
    with pytest.raises(CorpusError, match="no crema-d utterances"):
        corpora.load("crema-d", tmp_path)
    with pytest.raises(CorpusError, match="no such folder"):
        corpora.load("crema-d", tmp_path / "nope")
