"""The face-frames and face-track features: shapes, options in the cache key, extraction of a
manifest's video_path through the cache, failures reported."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emoscope import corpora, features
from emoscope.errors import ConfigError
from emoscope.testing.faces import write_av_clip, write_noise_video
from emoscope.train.paired import write_face_report


def test_face_frames_shape_and_range(tmp_path):
    path = write_av_clip(tmp_path / "c.mp4", 2, seconds=1.5)
    grey = features.create("face-frames", n_frames=5, duration=None, work_height=0)
    x = grey.from_file(path)
    assert x.shape == (5, 1, 60, 100) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0 and x.std() > 0.05
    colour = features.create("face-frames", n_frames=5, duration=None, colour=True,
                             height=30, width=20)
    assert colour.from_file(path).shape == (5, 3, 30, 20)
    assert grey.kind == "video" and grey.input_column == "video_path"


def test_default_is_20_frames_over_3_s(tmp_path):
    path = write_av_clip(tmp_path / "c.mp4", 0, seconds=1.5)
    x = features.create("face-frames").from_file(path)
    assert x.shape == (20, 1, 60, 100)
    shown = x.reshape(20, -1).max(axis=1) > 0  # the 1.5 s clip fills the middle of 3 s
    assert shown.tolist() == [False] * 5 + [True] * 10 + [False] * 5


def test_every_option_is_in_the_cache_key():
    base = features.create("face-frames")
    keys = {base.cache_key()}
    for opt in (dict(n_frames=10), dict(height=64), dict(colour=True), dict(margin=0.1),
                dict(fallback="skip"), dict(detector="haar-alt2"), dict(smooth=1),
                dict(duration=None), dict(min_neighbors=6), dict(work_height=240)):
        keys.add(features.create("face-frames", **opt).cache_key())
    assert len(keys) == 11


@pytest.mark.parametrize("bad", [dict(trim="energy"), dict(fallback="blur"), dict(n_frames=0),
                                 dict(detector="dnn"), dict(smooth=0), dict(margin=-0.1)])
def test_bad_options_are_refused(bad):
    with pytest.raises(ConfigError):
        features.create("face-frames", **bad)


def test_a_waveform_is_refused():
    with pytest.raises(ConfigError, match="reads video files"):
        features.create("face-frames")(np.zeros(16000, np.float32), 16000)


def test_extract_features_reads_video_path_through_the_cache(ravdess_av, tmp_path):
    df = corpora.load("ravdess", ravdess_av, modality="audio-visual").head(4).copy()
    noise = write_noise_video(tmp_path / "noise.mp4")
    extra = df.iloc[:2].copy()
    extra["id"] = ["noise", "no-video"]
    extra["video_path"] = [str(noise), None]
    df = pd.concat([df, extra], ignore_index=True)
    ext = features.create("face-frames", n_frames=4, duration=None, fallback="skip",
                          work_height=0)
    fs = features.extract_features(df, ext, cache=tmp_path / "cache", progress=False)
    assert sorted(fs) == sorted(df["id"][:4]) and fs.computed == 4
    reasons = dict(fs.failed)
    assert "no face found in any of 4 sampled frames" in reasons[str(noise)]
    assert any("video_path" in r for r in reasons.values())  # the row without a video
    assert fs[df["id"][0]].shape == (4, 1, 60, 100)
    again = features.extract_features(df, ext, cache=tmp_path / "cache", progress=False)
    assert again.reused == 4 and again.computed == 0
    # the centre fallback keeps the noise clip, and the face report tells it had no face
    centre = features.create("face-frames", n_frames=4, duration=None, work_height=0)
    kept = features.extract_features(df, centre, cache=tmp_path / "cache", progress=False)
    assert "noise" in kept
    report = write_face_report(tmp_path / "faces.csv", df, centre, cache=tmp_path / "cache")
    by_id = report.set_index("id")
    assert bool(by_id.loc["noise", "no_face"]) and by_id.loc["noise", "detected"] == 0
    assert (by_id.drop(index="noise")["detected"] == 4).all()
    assert (tmp_path / "faces.csv").read_text().startswith("id,video_path,frames")


def test_a_manifest_without_video_path_is_a_clear_error(tmp_path):
    df = pd.DataFrame({"id": ["a"], "path": ["a.wav"]})
    with pytest.raises(ConfigError, match="video_path"):
        features.extract_features(df, features.create("face-frames"), cache=tmp_path,
                                  progress=False)
