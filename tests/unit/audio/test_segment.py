"""Fixed-length segments and pad-or-crop: counts, contents, padding levels, determinism, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emoscope.audio import fixed_segments, pad_or_crop
from emoscope.errors import AudioError, ConfigError, EmptyAudioError
from emoscope.testing import chirp, speechlike

SR = 16000


def ramp(seconds: float, sr: int = SR) -> np.ndarray:
    """Distinct, non-zero sample values, so that every sample's origin can be checked."""
    n = round(seconds * sr)
    return (0.5 * (np.arange(n) + 1) / n).astype(np.float32)


def test_exact_multiple_is_a_reshape():
    y = ramp(9.0)
    segs = fixed_segments(y, SR, seconds=3.0)
    assert segs.shape == (3, 3 * SR) and segs.dtype == np.float32
    np.testing.assert_array_equal(segs, y.reshape(3, -1))


@pytest.mark.parametrize(
    ("duration", "seconds", "hop", "expected"),
    [
        (10.0, 3.0, None, 4),  # 3 full + 1 partial
        (10.0, 3.0, 1.0, 8),  # 1 + ceil((10 - 3) / 1)
        (10.0, 3.0, 1.5, 6),  # 1 + ceil(7 / 1.5)
        (9.0, 3.0, 1.5, 5),  # ends on a boundary: no partial
        (3.0, 3.0, 1.0, 1),
        (1.0, 3.0, 1.0, 1),  # shorter than a segment: one padded segment
        (10.0, 2.0, 4.0, 3),  # hop > seconds: starts at 0, 4, 8
        (11.0, 2.0, 4.0, 3),  # starts at 0, 4, 8 (8..10 is full, 12 is past the end)
        (13.0, 2.0, 4.0, 4),  # 12..13 is a partial segment
    ],
)
def test_segment_count(duration, seconds, hop, expected):
    y = ramp(duration)
    segs = fixed_segments(y, SR, seconds=seconds, hop=hop)
    assert segs.shape == (expected, round(seconds * SR))
    if hop is not None and hop <= seconds and duration > seconds:
        assert expected == 1 + math.ceil((duration - seconds) / hop)


def test_overlapping_segments_hold_the_right_samples():
    y = ramp(10.0)
    segs = fixed_segments(y, SR, seconds=3.0, hop=1.0)
    for i, seg in enumerate(segs[:-1]):
        np.testing.assert_array_equal(seg, y[i * SR : i * SR + 3 * SR])
    # the last segment covers the end: 7 s .. 10 s, full
    np.testing.assert_array_equal(segs[-1], y[7 * SR :])


def test_noise_padding_of_a_short_clip():
    y = speechlike(seconds=1.0, amplitude=0.3)
    segs = fixed_segments(y, SR, seconds=2.0, pad="noise", noise_db=-60.0, seed=0)
    assert segs.shape == (1, 2 * SR)
    np.testing.assert_array_equal(segs[0, :SR], y)
    tail = segs[0, SR:].astype(np.float64)
    assert np.sqrt(np.mean(tail**2)) == pytest.approx(1e-3, rel=0.05)  # -60 dBFS RMS
    assert abs(tail.mean()) < 1e-4 and np.all(tail != 0)


@pytest.mark.parametrize("noise_db", [-80.0, -40.0])
def test_noise_level_follows_noise_db(noise_db):
    segs = fixed_segments(ramp(0.5), SR, seconds=3.0, pad="noise", noise_db=noise_db, seed=1)
    tail = segs[0, SR // 2 :].astype(np.float64)
    assert 20 * np.log10(np.sqrt(np.mean(tail**2))) == pytest.approx(noise_db, abs=0.2)


def test_zero_padding():
    y = ramp(1.0)
    segs = fixed_segments(y, SR, seconds=2.0)
    np.testing.assert_array_equal(segs[0, :SR], y)
    assert not segs[0, SR:].any()


def test_repeat_padding_tiles_the_segment():
    y = ramp(1.0)
    segs = fixed_segments(y, SR, seconds=2.5, pad="repeat")
    np.testing.assert_array_equal(segs[0], np.concatenate([y, y, y[: SR // 2]]))


def test_pad_none_keeps_only_full_segments():
    assert fixed_segments(ramp(7.0), SR, seconds=3.0, pad="none").shape == (2, 3 * SR)
    assert fixed_segments(ramp(1.0), SR, seconds=3.0, pad="none").shape == (0, 3 * SR)


def test_min_fraction_drops_a_short_tail_but_never_the_only_segment():
    y = ramp(7.0)  # 2 full segments + 1 s (a third) of tail
    assert fixed_segments(y, SR, seconds=3.0, min_fraction=0.3).shape[0] == 3
    assert fixed_segments(y, SR, seconds=3.0, min_fraction=0.5).shape[0] == 2
    assert fixed_segments(ramp(1.0), SR, seconds=3.0, min_fraction=0.9).shape[0] == 1


def test_noise_is_deterministic_given_a_seed():
    y = ramp(1.3)
    a = fixed_segments(y, SR, seconds=1.0, pad="noise", seed=7)
    b = fixed_segments(y, SR, seconds=1.0, pad="noise", seed=7)
    c = fixed_segments(y, SR, seconds=1.0, pad="noise", seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(a[0], y[:SR])
    np.testing.assert_array_equal(a[1, : y.shape[0] - SR], y[SR:])


def test_float64_input_gives_float32():
    segs = fixed_segments(ramp(1.0).astype(np.float64), SR, seconds=0.5)
    assert segs.dtype == np.float32 and segs.shape == (2, SR // 2)


# ---------------------------------------------------------------------------------------------
# pad_or_crop


@pytest.mark.parametrize(
    ("position", "offset"), [("end", 0), ("center", 500)],
)
def test_pad_positions(position, offset):
    y = ramp(0.0625)  # 1000 samples
    out = pad_or_crop(y, 2000, position=position)
    assert out.shape == (2000,) and out.dtype == np.float32
    np.testing.assert_array_equal(out[offset : offset + 1000], y)
    assert not out[:offset].any() and not out[offset + 1000 :].any()


@pytest.mark.parametrize(("position", "offset"), [("end", 0), ("center", 500)])
def test_crop_positions(position, offset):
    y = ramp(0.125)  # 2000 samples
    out = pad_or_crop(y, 1000, position=position)
    np.testing.assert_array_equal(out, y[offset : offset + 1000])


def test_random_position_is_seeded_and_stays_in_range():
    y = ramp(0.125)  # 2000 samples
    outs = [pad_or_crop(y, 1500, position="random", seed=s) for s in range(20)]
    starts = {int(np.flatnonzero(y == o[0])[0]) for o in outs}
    assert len(starts) > 1 and all(0 <= s <= 500 for s in starts)
    np.testing.assert_array_equal(pad_or_crop(y, 1500, position="random", seed=3), outs[3])
    padded = pad_or_crop(y, 3000, position="random", seed=4)
    start = int(np.flatnonzero(padded)[0])
    np.testing.assert_array_equal(padded[start : start + 2000], y)


def test_noise_pad_or_crop():
    y = chirp(seconds=0.1, amplitude=0.5)
    out = pad_or_crop(y, 3200, pad="noise", noise_db=-50.0, seed=0)
    np.testing.assert_array_equal(out[:1600], y)
    assert np.sqrt(np.mean(out[1600:].astype(np.float64) ** 2)) == pytest.approx(
        10 ** (-50 / 20), rel=0.1
    )


def test_same_length_is_a_copy():
    y = ramp(0.1)
    out = pad_or_crop(y, y.shape[0])
    np.testing.assert_array_equal(out, y)
    out[0] = 1.0
    assert y[0] != 1.0


# ---------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("y", "error"),
    [
        (np.zeros(0, np.float32), EmptyAudioError),
        (np.zeros((2, SR), np.float32), AudioError),  # not mono
        (np.array([0.0, np.nan], np.float32), AudioError),
        (np.arange(100), AudioError),  # integers
    ],
)
def test_bad_waveforms(y, error):
    with pytest.raises(error):
        fixed_segments(y, SR)
    with pytest.raises(error):
        pad_or_crop(y, 10)


@pytest.mark.parametrize("sr", [0, -1, 0.5])
def test_bad_sample_rate(sr):
    with pytest.raises(AudioError):
        fixed_segments(ramp(1.0), sr)


@pytest.mark.parametrize(
    "kwargs",
    [{"seconds": 0.0}, {"seconds": -1.0}, {"seconds": 1e-6}, {"hop": 0.0}, {"pad": "mirror"},
     {"min_fraction": 1.5}, {"noise_db": float("nan")}, {"seed": -1}, {"seed": "abc"}],
)
def test_bad_segment_options(kwargs):
    with pytest.raises(ConfigError):
        fixed_segments(ramp(1.0), SR, **kwargs)


@pytest.mark.parametrize(
    ("length", "kwargs"),
    [(0, {}), (-5, {}), (10.5, {}), (10, {"pad": "repeat"}), (10, {"position": "start"})],
)
def test_bad_pad_or_crop_options(length, kwargs):
    with pytest.raises(ConfigError):
        pad_or_crop(ramp(0.1), length, **kwargs)
