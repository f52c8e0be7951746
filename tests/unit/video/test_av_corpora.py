"""RAVDESS audio-visual and video-only files and CREMA-D VideoFlash in manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from emoscope import corpora
from emoscope.errors import ConfigError
from emoscope.testing.corpora.audiovisual import make_cremad_av, make_ravdess_av


@pytest.fixture(scope="module")
def three_modalities(tmp_path_factory):
    """One actor, two emotions, all three RAVDESS modalities."""
    return make_ravdess_av(tmp_path_factory.mktemp("rav3"), actors=(2,), emotions=(3, 5),
                           statements=("01",), modalities=("01", "02", "03"), seconds=0.6)


def test_ravdess_default_pairs_audio_with_the_audio_visual_file(three_modalities):
    df = corpora.load("ravdess", three_modalities)
    assert len(df) == 2 and (df.modality == "audio").all()
    assert df.path.str.endswith(".wav").all()
    assert df.video_path.map(lambda p: Path(p).name.startswith("01-")).all()
    assert df.id.tolist() == ["03-01-03-01-01-01-02", "03-01-05-01-01-01-02"]
    assert df.label.tolist() == ["happy", "angry"] and (df.speaker == "02").all()


def test_ravdess_video_only_files(three_modalities):
    df = corpora.load("ravdess", three_modalities, modality="video")
    assert (df.modality == "video").all()
    assert df.video_path.map(lambda p: Path(p).name.startswith("02-")).all()
    assert (df.path == df.video_path).all()  # no sound: only video features can use it
    both = corpora.load("ravdess", three_modalities, modality=["audio-visual", "video"])
    assert (both.modality == "audio-visual").all()  # the MP4 with sound is preferred
    assert both.video_path.map(lambda p: Path(p).name.startswith("01-")).all()
    with pytest.raises(ConfigError, match="modality"):
        corpora.load("ravdess", three_modalities, modality="smell")


def test_ravdess_audio_visual_only(ravdess_av):
    df = corpora.load("ravdess", ravdess_av, modality="audio-visual")
    assert len(df) == 32 and (df.path == df.video_path).all()
    assert sorted(df.label.unique()) == ["angry", "happy", "neutral", "sad"]


def test_cremad_videoflash(tmp_path):
    root = make_cremad_av(tmp_path, actors=(1001, 1002), sentences=("DFA",),
                          emotions=("ANG", "SAD"), audio=True, seconds=0.6)
    df = corpora.load("crema-d", root)
    assert len(df) == 4 and df.path.str.endswith(".wav").all()
    assert df.video_path.str.endswith(".flv").all()
    assert df.gender.tolist() == ["male", "male", "female", "female"]
    only_video = corpora.load("crema-d", root, modality="audio-visual")
    assert only_video.path.str.endswith(".flv").all()
