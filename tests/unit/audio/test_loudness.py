"""Loudness, RMS and peak normalisation: levels reached, never clipping, silence, bad input."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from emoscope.audio import integrated_loudness, normalize_loudness, normalize_peak, normalize_rms
from emoscope.audio.loudness import DEFAULT_MAX_PEAK
from emoscope.errors import AudioError, ConfigError, EmptyAudioError
from emoscope.testing import chirp, noise, speechlike, tone

SR = 16000


def measured_lufs(y: np.ndarray, sr: int = SR) -> float:
    data = y.astype(np.float64)
    return float(pyloudnorm.Meter(sr).integrated_loudness(data if data.ndim == 1 else data.T))


def rms_dbfs(y: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(y, dtype=np.float64))))


SIGNALS = {
    "tone": lambda: tone(1000, seconds=2.0, amplitude=0.05),
    "noise": lambda: noise(seconds=1.5, amplitude=0.01, seed=1),
    "speechlike": lambda: speechlike(seconds=2.0, amplitude=0.8),
    "chirp_44k": lambda: chirp(100, 8000, seconds=1.0, sr=44100, amplitude=0.3),
}


@pytest.mark.parametrize("name", sorted(SIGNALS))
@pytest.mark.parametrize("target", [-35.0, -23.0, -16.0])
def test_reaches_target_loudness(name, target):
    y = SIGNALS[name]()
    sr = 44100 if name.endswith("44k") else SR
    out = normalize_loudness(y, sr, target_lufs=target)
    assert out.dtype == np.float32 and out.shape == y.shape
    assert abs(measured_lufs(out, sr) - target) < 0.5
    assert np.abs(out).max() <= DEFAULT_MAX_PEAK
    # one gain for the whole clip: the shape of the waveform is kept
    gain = float(np.dot(out, y) / np.dot(y, y))
    np.testing.assert_allclose(out, gain * y, atol=1e-6)


def test_does_not_modify_its_input():
    y = tone(440, seconds=1.0, amplitude=0.01)
    before = y.copy()
    normalize_loudness(y, SR)
    normalize_rms(y)
    normalize_peak(y)
    np.testing.assert_array_equal(y, before)


@pytest.mark.parametrize("max_peak", [1.0, DEFAULT_MAX_PEAK, 0.5])
def test_never_clips_when_the_target_is_too_loud(max_peak):
    # a peaky signal (clicks) asked to be very loud: the gain is limited by the peak
    y = noise(seconds=1.0, amplitude=0.001, seed=2)
    y[::4000] = 0.5
    out = normalize_loudness(y, SR, target_lufs=-3.0, max_peak=max_peak)
    assert np.abs(out).max() <= max_peak
    assert np.isclose(np.abs(out).max(), max_peak, rtol=1e-5)
    assert measured_lufs(out) < -3.0


def test_input_above_full_scale_is_brought_under_it():
    y = tone(1000, seconds=1.0, amplitude=3.0)  # a float signal out of [-1, 1]
    out = normalize_loudness(y, SR, target_lufs=-1.0)
    assert np.abs(out).max() <= DEFAULT_MAX_PEAK


def test_short_clip_falls_back_to_rms():
    y = tone(1000, seconds=0.2, amplitude=0.01)  # shorter than one 400 ms block
    with pytest.raises(AudioError, match="shorter than one"):
        integrated_loudness(y, SR)
    out = normalize_loudness(y, SR, target_lufs=-20.0)
    assert abs(rms_dbfs(out) - (-20.0)) < 0.01


def test_rms_fallback_agrees_with_lufs_for_a_1k_tone():
    # the fallback's premise: for a 1 kHz tone, LUFS and RMS dBFS coincide
    y = tone(1000, seconds=1.0, amplitude=0.1)
    assert abs(integrated_loudness(y, SR) - rms_dbfs(y)) < 0.1


@pytest.mark.parametrize("seconds", [0.1, 1.0])
def test_silence_is_returned_unchanged(seconds):
    y = np.zeros(int(seconds * SR), dtype=np.float64)
    out = normalize_loudness(y, SR)
    assert out.dtype == np.float32 and not out.any()
    assert integrated_loudness(np.zeros(SR, np.float32), SR) == -np.inf
    assert not normalize_peak(np.zeros(100, np.float32)).any()
    assert not normalize_rms(np.zeros(100, np.float32)).any()


def test_below_the_absolute_gate_is_left_alone():
    y = noise(seconds=1.0, amplitude=10 ** (-85 / 20), seed=3)  # about -85 LUFS
    out = normalize_loudness(y, SR)
    np.testing.assert_array_equal(out, y)


def test_multichannel_gets_one_gain():
    left = speechlike(seconds=1.0, amplitude=0.1, seed=1)
    y = np.stack([left, 0.5 * left])
    out = normalize_loudness(y, SR, target_lufs=-20.0)
    assert out.shape == (2, SR)
    assert abs(measured_lufs(out) - (-20.0)) < 0.5
    np.testing.assert_allclose(out[1], 0.5 * out[0], atol=1e-7)


def test_integrated_loudness_matches_pyloudnorm():
    y = speechlike(seconds=1.2, amplitude=0.3)
    assert integrated_loudness(y, SR) == pytest.approx(measured_lufs(y), abs=1e-9)


@pytest.mark.parametrize("peak", [0.1, 0.95, 1.0])
def test_normalize_peak(peak):
    y = chirp(seconds=0.5, amplitude=0.2)
    out = normalize_peak(y, peak=peak)
    assert out.dtype == np.float32
    assert np.abs(out).max() == pytest.approx(peak, rel=1e-6)
    assert np.abs(out).max() <= peak


@pytest.mark.parametrize("target", [-40.0, -20.0, -15.0])  # noise peaks at ~4.5x its RMS
def test_normalize_rms(target):
    y = noise(seconds=1.0, amplitude=0.01, seed=4)
    out = normalize_rms(y, target_dbfs=target)
    assert out.dtype == np.float32
    assert rms_dbfs(out) == pytest.approx(target, abs=0.01)


def test_normalize_rms_is_peak_limited():
    y = tone(1000, seconds=1.0, amplitude=0.1)
    out = normalize_rms(y, target_dbfs=0.0)  # a sine cannot reach 0 dBFS RMS without clipping
    assert np.abs(out).max() <= DEFAULT_MAX_PEAK
    assert rms_dbfs(out) == pytest.approx(20 * np.log10(DEFAULT_MAX_PEAK / np.sqrt(2)), abs=0.01)


BAD_WAVEFORMS = [
    (np.zeros(0, np.float32), EmptyAudioError),
    (np.array([0.1, np.nan, 0.2], np.float32), AudioError),
    (np.array([0.1, np.inf], np.float64), AudioError),
    (np.zeros((2, 2, 100), np.float32), AudioError),
    (np.zeros((1000, 2), np.float32), AudioError),  # (n, channels) instead of (channels, n)
    (np.zeros(1000, np.int16), AudioError),
    (np.zeros((0, 0), np.float32), EmptyAudioError),
]


@pytest.mark.parametrize(("y", "error"), BAD_WAVEFORMS)
def test_bad_waveforms_raise_our_errors(y, error):
    with pytest.raises(error):
        normalize_loudness(y, SR)
    with pytest.raises(error):
        normalize_peak(y)
    with pytest.raises(error):
        normalize_rms(y)


@pytest.mark.parametrize("seconds", [0.1, 1.0])
def test_more_than_five_channels_is_refused(seconds):
    with pytest.raises(AudioError, match="5 channels"):
        normalize_loudness(np.full((6, int(seconds * SR)), 0.1, np.float32), SR)


@pytest.mark.parametrize("sr", [0, -16000, 16000.5, float("nan"), "16k", None])
def test_bad_sample_rates_raise(sr):
    with pytest.raises(AudioError):
        normalize_loudness(tone(seconds=0.5), sr)


@pytest.mark.parametrize(
    "kwargs",
    [{"target_lufs": float("nan")}, {"target_lufs": "loud"}, {"max_peak": 0.0},
     {"max_peak": 1.5}, {"max_peak": -1.0}],
)
def test_bad_options_raise_config_error(kwargs):
    with pytest.raises(ConfigError):
        normalize_loudness(tone(seconds=0.5), SR, **kwargs)


@pytest.mark.parametrize(("func", "kwargs"), [
    (normalize_peak, {"peak": 0.0}), (normalize_peak, {"peak": 1.01}),
    (normalize_rms, {"target_dbfs": 3.0}), (normalize_rms, {"max_peak": 2.0}),
])
def test_bad_level_options_raise_config_error(func, kwargs):
    with pytest.raises(ConfigError):
        func(tone(seconds=0.1), **kwargs)
