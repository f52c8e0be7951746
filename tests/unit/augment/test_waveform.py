"""Waveform augmentations: exact SNR and gain, shifts, speed and pitch perturbation."""

from __future__ import annotations

import numpy as np
import pytest

from emoscope.augment import add_noise, gain, pitch_shift, speed_perturb, time_shift
from emoscope.errors import AudioError, ConfigError, EmptyAudioError
from emoscope.testing import noise, speechlike, tone

SR = 16000


def snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    c = clean.astype(np.float64)
    return float(10 * np.log10(np.mean(c**2) / np.mean((noisy.astype(np.float64) - c) ** 2)))


def peak_freq(y: np.ndarray, sr: int = SR) -> float:
    """Frequency of the strongest sinusoid (zero-padded FFT + parabolic interpolation)."""
    n = 8 * len(y)
    mag = np.abs(np.fft.rfft(y * np.hanning(len(y)), n=n))
    k = int(np.argmax(mag))
    a, b, c = np.log(mag[k - 1:k + 2])
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * sr / n


# --- add_noise ---------------------------------------------------------------------------------

@pytest.mark.parametrize("target", [-5.0, 0.0, 10.0, 30.0])
@pytest.mark.parametrize("clip", [False, True])
def test_add_noise_hits_the_snr(target: float, clip: bool) -> None:
    y = speechlike(seconds=1.0, amplitude=0.05)
    nz = noise(seconds=0.3, amplitude=0.2, seed=3) if clip else None
    out = add_noise(y, snr_db=target, rng=np.random.default_rng(0), noise=nz)
    assert out.dtype == np.float32 and out.shape == y.shape
    assert snr_db(y, out) == pytest.approx(target, abs=0.1)


def test_add_noise_loops_a_short_clip() -> None:
    y = tone(440, seconds=0.5, amplitude=0.1)
    clip = noise(seconds=0.01, amplitude=0.1, seed=1)  # 160 samples
    out = add_noise(y, snr_db=10, rng=np.random.default_rng(0), noise=clip)
    d = out.astype(np.float64) - y
    np.testing.assert_allclose(d[160:], d[:-160], atol=1e-6)
    assert snr_db(y, out) == pytest.approx(10, abs=0.1)


def test_add_noise_clipping_protection_keeps_the_snr() -> None:
    y = tone(440, seconds=0.5, amplitude=0.9)
    free = add_noise(y, snr_db=0, rng=np.random.default_rng(5), max_peak=None)
    safe = add_noise(y, snr_db=0, rng=np.random.default_rng(5))
    assert np.abs(free).max() > 1.0
    assert np.abs(safe).max() <= 0.99 + 1e-6
    scale = 0.99 / np.abs(free.astype(np.float64)).max()
    np.testing.assert_allclose(safe, free * scale, atol=1e-6)


def test_add_noise_silent_input_unchanged_and_deterministic() -> None:
    z = np.zeros(1000, np.float32)
    out = add_noise(z, snr_db=10, rng=np.random.default_rng(0))
    assert out is not z and np.array_equal(out, z)
    y = speechlike(seconds=0.5)
    a = add_noise(y, snr_db=10, rng=np.random.default_rng(7))
    b = add_noise(y, snr_db=10, rng=np.random.default_rng(7))
    c = add_noise(y, snr_db=10, rng=np.random.default_rng(8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_add_noise_silent_clip_raises() -> None:
    with pytest.raises(AudioError, match="silent"):
        add_noise(tone(), snr_db=10, rng=np.random.default_rng(0), noise=np.zeros(100))


# --- gain --------------------------------------------------------------------------------------

@pytest.mark.parametrize("db", [-20.0, -6.0, -0.5, 0.0, 3.0, 12.0])
def test_gain_is_exact_in_db(db: float) -> None:
    y = tone(440, seconds=0.25, amplitude=0.05)
    out = gain(y, db=db)
    level = 20 * np.log10(np.sqrt(np.mean(out.astype(np.float64) ** 2) /
                                  np.mean(y.astype(np.float64) ** 2)))
    assert level == pytest.approx(db, abs=1e-4)
    assert out.dtype == np.float32


def test_gain_clipping_protection() -> None:
    y = tone(440, seconds=0.25, amplitude=0.5)
    assert np.abs(gain(y, db=12)).max() <= 0.99
    np.testing.assert_allclose(gain(y, db=12, max_peak=None), y * 10 ** (12 / 20), rtol=1e-5)
    np.testing.assert_allclose(gain(y, db=12, max_peak=0.8), y * 1.6, rtol=1e-5)


# --- time_shift --------------------------------------------------------------------------------

def _find_roll(y: np.ndarray, rolled: np.ndarray, k: int) -> int:
    hits = [s for s in range(-k, k + 1) if np.array_equal(np.roll(y, s), rolled)]
    assert len(hits) == 1
    return hits[0]


@pytest.mark.parametrize("seed", range(6))
def test_time_shift_roll_and_pad(seed: int) -> None:
    y = noise(seconds=0.05, amplitude=0.3, seed=seed)  # 800 samples, no zeros
    k = round(0.01 * SR)
    rolled = time_shift(y, max_shift_s=0.01, sr=SR, rng=np.random.default_rng(seed))
    assert rolled.shape == y.shape
    assert np.sum(rolled.astype(np.float64) ** 2) == pytest.approx(np.sum(y.astype(np.float64)
                                                                          ** 2))
    s = _find_roll(y, rolled, k)
    padded = time_shift(y, max_shift_s=0.01, sr=SR, rng=np.random.default_rng(seed),
                        mode="pad")
    assert padded.shape == y.shape
    if s > 0:
        assert not padded[:s].any() and np.array_equal(padded[s:], y[:-s])
    elif s < 0:
        assert not padded[s:].any() and np.array_equal(padded[:s], y[-s:])
    else:
        assert np.array_equal(padded, y)


def test_time_shift_zero_is_identity_and_shift_capped() -> None:
    y = noise(seconds=0.01)
    assert np.array_equal(time_shift(y, max_shift_s=0, sr=SR, rng=np.random.default_rng(0)), y)
    out = time_shift(y, max_shift_s=10.0, sr=SR, rng=np.random.default_rng(0), mode="pad")
    assert out.any()  # at most n - 1 samples: something is always left


# --- speed_perturb -----------------------------------------------------------------------------

@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_speed_perturb_changes_length_and_pitch(factor: float) -> None:
    y = tone(440, seconds=1.0)
    out = speed_perturb(y, sr=SR, factor=factor)
    assert out.dtype == np.float32
    assert abs(len(out) - len(y) / factor) <= 2
    assert peak_freq(out) == pytest.approx(440 * factor, abs=0.5)


def test_speed_perturb_one_is_a_copy() -> None:
    y = tone(seconds=0.1)
    out = speed_perturb(y, sr=SR, factor=1.0)
    assert out is not y and np.array_equal(out, y)


# --- pitch_shift -------------------------------------------------------------------------------

@pytest.mark.parametrize(("semitones", "expected"), [(1.0, 466.16), (-2.0, 392.0)])
def test_pitch_shift_keeps_length_moves_tone(semitones: float, expected: float) -> None:
    y = tone(440, seconds=1.0)
    out = pitch_shift(y, sr=SR, semitones=semitones)
    assert out.shape == y.shape and out.dtype == np.float32
    assert peak_freq(out[2048:-2048]) == pytest.approx(expected, abs=1.0)


def test_pitch_shift_zero_and_short_input() -> None:
    y = tone(seconds=0.1)
    assert np.array_equal(pitch_shift(y, sr=SR, semitones=0), y)
    assert pitch_shift(y[:100], sr=SR, semitones=2).shape == (100,)
    assert pitch_shift(y[:5], sr=SR, semitones=2).shape == (5,)  # shorter than any FFT


# --- bad input ---------------------------------------------------------------------------------

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("call", [
    lambda y: add_noise(y, snr_db=float("nan"), rng=RNG),
    lambda y: add_noise(y, snr_db=10, rng=0),
    lambda y: add_noise(y, snr_db=10, rng=RNG, max_peak=0),
    lambda y: gain(y, db=float("inf")),
    lambda y: gain(y, db="3"),
    lambda y: time_shift(y, max_shift_s=-1, sr=SR, rng=RNG),
    lambda y: time_shift(y, max_shift_s=0.1, sr=SR, rng=RNG, mode="wrap"),
    lambda y: speed_perturb(y, sr=SR, factor=0),
    lambda y: speed_perturb(y, sr=SR, factor=5),
    lambda y: pitch_shift(y, sr=SR, semitones=30),
])
def test_bad_options_raise_config_error(call) -> None:
    with pytest.raises(ConfigError):
        call(tone(seconds=0.1))


@pytest.mark.parametrize("bad", [
    np.zeros((2, 100), np.float32), np.arange(100), np.array([0.1, np.nan]),
])
@pytest.mark.parametrize("call", [
    lambda y: add_noise(y, snr_db=10, rng=RNG),
    lambda y: gain(y, db=3),
    lambda y: time_shift(y, max_shift_s=0.1, sr=SR, rng=RNG),
    lambda y: speed_perturb(y, sr=SR, factor=1.1),
    lambda y: pitch_shift(y, sr=SR, semitones=1),
])
def test_bad_waveforms_raise_audio_error(call, bad) -> None:
    with pytest.raises(AudioError):
        call(bad)


def test_empty_and_bad_rate() -> None:
    with pytest.raises(EmptyAudioError):
        gain(np.zeros(0, np.float32), db=1)
    with pytest.raises(AudioError):
        speed_perturb(tone(seconds=0.1), sr=0, factor=1.1)
