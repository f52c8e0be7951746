"""Decoding frames with PyAV: headers, sample times, frames at those times, bad files."""

from __future__ import annotations

import numpy as np
import pytest

from emoscope.errors import ConfigError, VideoDecodeError, VideoError
from emoscope.testing.faces import write_av_clip
from emoscope.testing.media import write_video
from emoscope.testing.synth import tone, write_audio
from emoscope.video.io import read_frames, sample_times, video_info


@pytest.mark.parametrize("ext", [".mp4", ".flv"])
def test_video_info(tmp_path, ext):
    path = write_av_clip(tmp_path / f"clip{ext}", 1, seconds=1.5, fps=10)
    info = video_info(path)
    assert (info.width, info.height) == (128, 96)
    assert info.fps == pytest.approx(10.0)
    assert info.duration == pytest.approx(1.5, abs=0.15)
    assert info.has_audio


def test_silent_video_has_no_audio(tmp_path):
    info = video_info(write_av_clip(tmp_path / "v.mp4", 0, audio=False))
    assert not info.has_audio


def test_sample_times_whole_clip_and_centred_window():
    t, ok = sample_times(2.0, n_frames=4)
    np.testing.assert_allclose(t, [0.25, 0.75, 1.25, 1.75])
    assert ok.all()
    t, ok = sample_times(1.0, n_frames=4, window=2.0)  # window longer than the clip: padded
    np.testing.assert_allclose(t, [-0.25, 0.25, 0.75, 1.25])
    assert ok.tolist() == [False, True, True, False]
    t, ok = sample_times(6.0, n_frames=20, window=3.0)  # the middle 3 s, 20 frames
    assert t[0] == pytest.approx(1.575) and t[-1] == pytest.approx(4.425) and ok.all()


@pytest.mark.parametrize("bad", [dict(duration=0.0, n_frames=3), dict(duration=1.0, n_frames=0),
                                 dict(duration=1.0, n_frames=3, window=-1.0)])
def test_sample_times_refuses_bad_options(bad):
    duration = bad.pop("duration")
    with pytest.raises(ConfigError):
        sample_times(duration, **bad)


def test_read_frames_picks_the_frame_on_screen(tmp_path):
    # frame i is grey level 7 * i (write_video's moving grey frames), 10 fps
    path = write_video(tmp_path / "ramp.mp4", None, fps=10, size=(32, 32), seconds=1.0)
    frames, shown = read_frames(path, np.array([0.0, 0.25, 0.51, 0.95, 5.0]))
    assert frames.shape == (5, 32, 32, 3) and frames.dtype == np.uint8
    assert shown.tolist() == [True, True, True, True, False]
    levels = frames[:4].reshape(4, -1).mean(axis=1)
    np.testing.assert_allclose(levels, [0, 14, 35, 63], atol=4)  # frames 0, 2, 5, 9
    assert not frames[4].any()  # past the end: black


def test_read_frames_scales_to_a_working_height(tmp_path):
    path = write_av_clip(tmp_path / "c.mp4", 2, seconds=1.0)
    frames, _ = read_frames(path, np.array([0.5]), height=48)
    assert frames.shape == (1, 48, 64, 3)


def test_read_frames_with_an_offset(tmp_path):
    path = write_video(tmp_path / "long.mp4", None, fps=10, size=(32, 32), seconds=4.0)
    frames, shown = read_frames(path, np.array([0.05, 0.5]), offset=2.5)
    assert shown.all()
    np.testing.assert_allclose(frames.reshape(2, -1).mean(axis=1), [175, 210], atol=4)


def test_bad_files_are_video_errors(tmp_path):
    wav = write_audio(tmp_path / "a.wav", tone(seconds=0.5))
    with pytest.raises(VideoDecodeError, match="no video stream"):
        video_info(wav)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 50)
    with pytest.raises(VideoDecodeError):
        read_frames(junk, np.array([0.1]))
    with pytest.raises(VideoDecodeError, match="no such file"):
        video_info(tmp_path / "missing.mp4")
    empty = tmp_path / "empty.flv"
    empty.write_bytes(b"")
    with pytest.raises(VideoDecodeError, match="empty"):
        video_info(empty)
    long = write_video(tmp_path / "long.mp4", None, fps=5, size=(16, 16), seconds=3.0)
    with pytest.raises(VideoError, match="longer than"):
        read_frames(long, np.array([0.1]), max_duration=1.0)
