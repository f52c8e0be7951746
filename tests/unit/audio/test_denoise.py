"""Band-pass and spectral gating: what is removed, what is kept, shapes, dtypes and errors."""

from __future__ import annotations

import numpy as np
import pytest

from emoscope.audio import bandpass, denoise, spectral_gate
from emoscope.errors import AudioError, ConfigError, EmptyAudioError
from emoscope.testing import chirp, noise, tone

SR = 16000


def tone_level_db(y: np.ndarray, freq: float, sr: int = SR) -> float:
    """Amplitude (dB re 1) of the component at ``freq``, away from the filter's edge effects."""
    edge = sr // 4
    t = np.arange(y.shape[-1]) / sr
    mid = slice(edge, -edge)
    amp = 2 * np.abs(np.mean(y[mid] * np.exp(-2j * np.pi * freq * t[mid])))
    return float(20 * np.log10(amp))


def snr_db(out: np.ndarray, clean: np.ndarray) -> float:
    """SNR of ``out`` against the best-scaled ``clean``: what is not the signal counts as noise."""
    out, clean = out.astype(np.float64), clean.astype(np.float64)
    a = np.dot(out, clean) / np.dot(clean, clean)
    residual = out - a * clean
    return float(10 * np.log10(np.sum((a * clean) ** 2) / np.sum(residual**2)))


def test_bandpass_removes_30hz_and_keeps_1khz():
    y = tone(30, seconds=2.0, amplitude=0.4) + tone(1000, seconds=2.0, amplitude=0.4)
    out = bandpass(y, SR)
    assert out.dtype == np.float32 and out.shape == y.shape
    assert tone_level_db(y, 30) - tone_level_db(out, 30) > 30
    assert abs(tone_level_db(y, 1000) - tone_level_db(out, 1000)) < 1


def test_bandpass_removes_hiss_above_high():
    y = tone(7900, seconds=2.0, amplitude=0.4) + tone(1000, seconds=2.0, amplitude=0.4)
    out = bandpass(y, SR, low=80.0, high=4000.0)
    assert tone_level_db(y, 7900) - tone_level_db(out, 7900) > 30
    assert abs(tone_level_db(y, 1000) - tone_level_db(out, 1000)) < 1


@pytest.mark.parametrize(("low", "high", "kept", "removed"), [
    (None, 2000.0, 500.0, 6000.0),  # low-pass only
    (2000.0, None, 6000.0, 500.0),  # high-pass only
])
def test_one_sided_filters(low, high, kept, removed):
    y = tone(kept, seconds=1.0, amplitude=0.3) + tone(removed, seconds=1.0, amplitude=0.3)
    out = bandpass(y, SR, low=low, high=high)
    assert abs(tone_level_db(out, kept) - tone_level_db(y, kept)) < 1
    assert tone_level_db(y, removed) - tone_level_db(out, removed) > 30


def test_high_is_clamped_below_nyquist():
    # 7600 Hz is above the Nyquist frequency of 8 kHz audio: it is clamped instead of failing
    y = tone(1000, seconds=1.0, sr=8000, amplitude=0.3)
    out = bandpass(y, 8000, low=80.0, high=7600.0)
    assert out.shape == y.shape and np.isfinite(out).all()
    assert abs(tone_level_db(out, 1000, 8000) - tone_level_db(y, 1000, 8000)) < 1


def test_bandpass_multichannel_and_float64():
    y = np.stack([tone(30, seconds=1.0), tone(1000, seconds=1.0)]).astype(np.float64)
    out = bandpass(y, SR)
    assert out.shape == (2, SR) and out.dtype == np.float32
    assert tone_level_db(out[0], 30) < -40
    np.testing.assert_allclose(out[1], bandpass(y[1], SR))


@pytest.mark.parametrize("n", [1, 2, 10, 40, 100])
def test_bandpass_on_very_short_clips(n):
    out = bandpass(np.full(n, 0.1, np.float32), SR)
    assert out.shape == (n,) and out.dtype == np.float32 and np.isfinite(out).all()


def test_no_cut_offs_is_a_copy():
    y = tone(seconds=0.1)
    out = bandpass(y, SR, low=None, high=None)
    np.testing.assert_array_equal(out, y)
    assert out is not y


@pytest.mark.parametrize("kwargs", [
    {"low": 4000.0, "high": 1000.0},
    {"low": 1000.0, "high": 1000.0},
    {"low": 7700.0},  # above high=7600
    {"low": 7900.0, "high": None},  # at Nyquist
    {"low": -10.0},
    {"high": 0.0},
    {"order": 0},
    {"order": 2.5},
    {"low": float("nan")},
])
def test_bad_bandpass_options(kwargs):
    with pytest.raises(ConfigError):
        bandpass(tone(seconds=0.1), SR, **kwargs)


def test_spectral_gate_with_a_noise_clip_raises_the_snr_of_a_tone():
    clean = tone(1000, seconds=2.0, amplitude=0.3)
    noisy = clean + noise(seconds=2.0, amplitude=0.1, seed=3)
    noise_only = noise(seconds=1.0, amplitude=0.1, seed=9)
    out = spectral_gate(noisy, SR, noise_clip=noise_only)
    assert out.dtype == np.float32 and out.shape == noisy.shape
    assert snr_db(out, clean) > snr_db(noisy, clean) + 6


@pytest.mark.parametrize("stationary", [True, False])
def test_spectral_gate_on_the_clip_itself_raises_the_snr_of_a_sweep(stationary):
    # a sweep visits each frequency briefly, as speech does, so the clip is its own noise profile
    clean = chirp(200, 4000, seconds=2.0, amplitude=0.3)
    noisy = clean + noise(seconds=2.0, amplitude=0.05, seed=3)
    out = spectral_gate(noisy, SR, stationary=stationary)
    assert out.dtype == np.float32 and out.shape == noisy.shape
    assert snr_db(out, clean) > snr_db(noisy, clean) + 3


def test_prop_decrease_zero_changes_almost_nothing():
    noisy = chirp(seconds=1.0, amplitude=0.3) + noise(seconds=1.0, amplitude=0.05)
    out = spectral_gate(noisy, SR, prop_decrease=0.0)
    # noisereduce smooths the mask with zero padding, which dims the lowest and highest bins;
    # inside the band the output is the input
    diff = bandpass(out - noisy, SR, low=300.0, high=7000.0)
    assert np.sqrt(np.mean(diff**2)) < 1e-3 * np.sqrt(np.mean(noisy**2))


def test_denoise_chains_both():
    clean = chirp(200, 4000, seconds=2.0, amplitude=0.3)
    hum = tone(30, seconds=2.0, amplitude=0.3)
    noisy = clean + noise(seconds=2.0, amplitude=0.05, seed=3) + hum
    out = denoise(noisy, SR)
    assert out.dtype == np.float32 and out.shape == noisy.shape
    assert tone_level_db(out, 30) < -50
    assert snr_db(out, clean) > snr_db(noisy, clean) + 6
    with_clip = denoise(noisy, SR, noise_clip=noise(seconds=1.0, amplitude=0.05, seed=9))
    assert with_clip.shape == noisy.shape


@pytest.mark.parametrize("n", [64, 500, 5000])
def test_spectral_gate_short_clips_keep_their_length(n):
    y = noise(seconds=n / SR, amplitude=0.1)
    out = spectral_gate(y, SR)
    assert out.shape == (n,) and out.dtype == np.float32 and np.isfinite(out).all()


def test_spectral_gate_multichannel_and_silence():
    y = np.stack([chirp(seconds=0.5, amplitude=0.3), noise(seconds=0.5, amplitude=0.1)])
    out = spectral_gate(y, SR)
    assert out.shape == y.shape and out.dtype == np.float32
    silent = spectral_gate(np.zeros(SR, np.float32), SR)
    assert silent.shape == (SR,) and not silent.any()


@pytest.mark.parametrize("sr", [8000, 44100])
def test_spectral_gate_other_rates(sr):
    y = chirp(seconds=0.5, sr=sr, amplitude=0.3) + noise(seconds=0.5, sr=sr, amplitude=0.05)
    assert spectral_gate(y, sr).shape == y.shape


@pytest.mark.parametrize(("y", "error"), [
    (np.zeros(0, np.float32), EmptyAudioError),
    (np.array([0.0, np.nan, 0.0], np.float32), AudioError),
    (np.zeros((SR, 2), np.float32), AudioError),  # (n, channels)
    (np.zeros((1, 2, SR), np.float32), AudioError),
    (np.zeros(SR, np.int32), AudioError),
    (np.zeros(20, np.float32), AudioError),  # too short for one STFT frame (spectral gating)
])
def test_bad_waveforms(y, error):
    with pytest.raises(error):
        denoise(y, SR)


def test_bad_sample_rate_and_options():
    y = chirp(seconds=0.5)
    with pytest.raises(AudioError):
        bandpass(y, 0)
    with pytest.raises(AudioError):
        spectral_gate(y, -1)
    with pytest.raises(ConfigError):
        spectral_gate(y, SR, prop_decrease=1.5)
    with pytest.raises(ConfigError):
        spectral_gate(y, SR, n_std_thresh=0.0)
    with pytest.raises(ConfigError):
        spectral_gate(y, SR, stationary=False, noise_clip=y)
    with pytest.raises(ConfigError):
        denoise(y, SR, stationary=False, noise_clip=y)
    with pytest.raises(AudioError):
        spectral_gate(y, SR, noise_clip=np.array([np.inf] * 1000, np.float32))
