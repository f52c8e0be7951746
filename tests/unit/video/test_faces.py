"""Face detection on drawn faces, smoothing, cropping, the fallback for clips without a face."""

from __future__ import annotations

import numpy as np
import pytest

from emoscope.errors import ConfigError, NoFaceError
from emoscope.testing.faces import draw_face, noise_clip, write_av_clip, write_noise_video
from emoscope.video import (
    FaceDetector,
    centre_boxes,
    crop_faces,
    detect_faces,
    face_track,
    read_frames,
    smooth_boxes,
)


@pytest.mark.parametrize("label", range(8))
def test_the_bundled_cascade_finds_every_drawn_expression(label):
    frames = np.stack([draw_face(96, 128, label=label, t=t) for t in (0.0, 0.13, 0.31)])
    boxes = detect_faces(frames, detector=FaceDetector())
    assert np.isfinite(boxes).all()
    cx, cy = boxes[:, 0] + boxes[:, 2] / 2, boxes[:, 1] + boxes[:, 3] / 2
    assert np.all(np.abs(cx - 64) < 8) and np.all(np.abs(cy - 48) < 12)


@pytest.mark.parametrize("ext", [".mp4", ".flv"])
def test_faces_are_found_in_encoded_videos(tmp_path, ext):
    path = write_av_clip(tmp_path / f"c{ext}", 3, seconds=1.5, seed=4)
    frames, shown = read_frames(path, np.linspace(0.05, 1.45, 8))
    boxes = detect_faces(frames, detector=FaceDetector(), shown=shown)
    assert np.isfinite(boxes).all(axis=1).sum() == 8


def test_no_face_in_noise():
    frames, _ = noise_clip(seconds=0.5, seed=1)
    for name in ("haar-default", "haar-alt2"):
        assert np.isnan(detect_faces(frames, detector=FaceDetector(name))).all()


def test_detector_checks_its_options():
    with pytest.raises(ConfigError, match="unknown face detector"):
        FaceDetector("yunet")
    with pytest.raises(ConfigError):
        FaceDetector(scale_factor=1.0)
    with pytest.raises(ConfigError, match="grey uint8"):
        FaceDetector().detect(np.zeros((10, 10, 3), np.uint8))


def test_smooth_boxes_fills_gaps_and_averages():
    nan = [np.nan] * 4
    boxes = np.array([nan, [0, 0, 10, 10], nan, [4, 4, 10, 10], nan])
    filled = smooth_boxes(boxes, window=1)
    # centres 5 and 9: held before the first, interpolated between, held after the last
    np.testing.assert_allclose(filled[:, 0] + 5, [5, 5, 7, 9, 9])
    np.testing.assert_allclose(filled[:, 2], 10)
    jitter = np.array([[0, 0, 10, 10], [2, 0, 10, 10], [0, 0, 10, 10], [2, 0, 10, 10]], float)
    smooth = smooth_boxes(jitter, window=2)
    np.testing.assert_allclose(smooth[:, 0], [1, 1, 1, 2])  # mean of (self, next), edge kept
    assert smooth_boxes(np.full((3, 4), np.nan)) is None
    with pytest.raises(ConfigError):
        smooth_boxes(boxes, window=0)


def test_centre_boxes_take_the_crop_aspect():
    b = centre_boxes(2, (96, 128), size=(60, 100))
    np.testing.assert_allclose(b[0], [0, (96 - 76.8) / 2, 128, 76.8])
    b = centre_boxes(1, (100, 100), size=(100, 50))  # a tall crop in a square frame
    np.testing.assert_allclose(b[0], [25, 0, 50, 100])


def test_crop_faces_shapes_values_and_padding():
    frame = np.zeros((40, 40, 3), np.uint8)
    frame[10:30, 10:30] = 255  # a white square
    frames = np.stack([frame, frame])
    boxes = np.array([[10, 10, 20, 20], [30, 30, 20, 20]], float)  # the second half outside
    out = crop_faces(frames, boxes, size=(20, 20), margin=0.0, grey=True)
    assert out.shape == (2, 1, 20, 20) and out.dtype == np.float32
    assert out[0].min() == pytest.approx(1.0)  # exactly the white square
    assert out[1, 0, 15:, 15:].max() == 0.0  # outside the frame: black
    colour = crop_faces(frames, boxes, size=(10, 30), grey=False, shown=np.array([True, False]))
    assert colour.shape == (2, 3, 10, 30) and not colour[1].any()


def test_face_track_of_a_clip(tmp_path):
    path = write_av_clip(tmp_path / "c.mp4", 1, seconds=1.5, seed=2)
    t = face_track(path, n_frames=6, window=None, work_height=None)
    assert t.detected.all() and not t.fallback
    assert t.frames.shape == (6, 96, 128, 3) and t.boxes.shape == (6, 4)
    arr = t.as_array()
    assert arr.shape == (6, 6) and (arr[:, 4:] == 1).all()
    assert np.all((arr[:, :4] > 0) & (arr[:, :4] < 1))
    # a 1.5 s clip in a 3 s window: frames at -0.5, 0, 0.5, 1, 1.5, 2 s; the outer ones blank
    padded = face_track(path, n_frames=6, window=3.0, work_height=None)
    assert padded.shown.tolist() == [False, True, True, True, False, False]
    assert padded.detected.tolist() == padded.shown.tolist()


def test_noise_video_reports_no_face_instead_of_crashing(tmp_path):
    path = write_noise_video(tmp_path / "noise.mp4", seconds=1.0)
    with pytest.raises(NoFaceError, match="no face found in any of 6 sampled frames"):
        face_track(path, n_frames=6, window=None, fallback="skip")
    t = face_track(path, n_frames=6, window=None, fallback="centre", crop_size=(60, 100))
    assert t.fallback and not t.detected.any()
    np.testing.assert_allclose(t.boxes[0, 2] / t.boxes[0, 3], 100 / 60)
