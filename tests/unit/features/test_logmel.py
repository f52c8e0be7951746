"""Log-mel extractor: the contract (shape, dtype, rates, stereo, errors, cache key) and known
values (a tone peaks in its own mel band; x4 amplitude adds log(16) to every band)."""

from __future__ import annotations

import dataclasses
import warnings

import librosa
import numpy as np
import pytest

from emoscope import features
from emoscope.errors import AudioError, ConfigError, UnknownNameError
from emoscope.features.functional import empty_mel_bands, log_mel
from emoscope.testing import chirp, noise, speechlike, tone

SR = 16000


def frames(n: int, hop: int = 160) -> int:
    return 1 + n // hop


@pytest.mark.parametrize("signal", [
    lambda: speechlike(seconds=1.0), lambda: noise(seconds=0.7), lambda: chirp(seconds=0.5),
])
@pytest.mark.parametrize("options", [
    {}, {"n_mels": 40, "hop_length": 80}, {"normalize": "utterance"},
])
def test_shape_dtype_finite_deterministic(signal, options):
    y = signal()
    ext = features.create("logmel", **options)
    out = ext(y, SR)
    assert ext.kind == "sequence"
    assert out.dtype == np.float32
    assert out.shape == (frames(len(y), ext.config.hop_length), ext.config.n_mels)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out, features.create("logmel", **options)(y.copy(), SR))


def test_alias_and_functional_agree():
    y = speechlike(seconds=0.5)
    out = features.create("log-mel")(y, SR)
    np.testing.assert_array_equal(out, log_mel(y, SR, n_mels=64, n_fft=400, hop_length=160))
    assert out.min() >= np.log(1e-10) - 1e-4


@pytest.mark.parametrize("freq", [300.0, 440.0, 1000.0, 1234.0, 2500.0, 5000.0, 7000.0])
def test_tone_peaks_in_the_band_centred_nearest_its_frequency(freq):
    ext = features.create("logmel")
    centres = librosa.mel_frequencies(ext.config.n_mels + 2, fmin=0.0, fmax=SR / 2)[1:-1]
    out = ext(tone(freq, seconds=0.5), SR)
    band = int(out[3:-3].mean(axis=0).argmax())
    assert band == int(np.abs(centres - freq).argmin())


def test_tone_at_a_band_centre_with_a_restricted_range():
    ext = features.create("logmel", n_mels=32, fmin=100.0, fmax=4000.0)
    centres = librosa.mel_frequencies(34, fmin=100.0, fmax=4000.0)[1:-1]
    for k in (5, 17, 28):
        assert int(ext(tone(centres[k], seconds=0.5), SR).mean(axis=0).argmax()) == k


def test_four_times_louder_adds_log16_to_every_band():
    y = noise(seconds=0.5, amplitude=0.05, seed=3)
    ext = features.create("logmel")
    quiet, loud = ext(y, SR), ext(4 * y, SR)
    assert (quiet > np.log(1e-6)).all()  # well above the floor everywhere
    np.testing.assert_allclose(loud - quiet, np.log(16.0), atol=2e-3)


@pytest.mark.parametrize("normalize", ["mean", "utterance"])
def test_per_utterance_normalisation(normalize):
    y = speechlike(seconds=1.0)
    out = features.create("logmel", normalize=normalize)(y, SR)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-4)
    if normalize == "utterance":
        np.testing.assert_allclose(out.std(axis=0), 1.0, atol=1e-3)
    else:
        raw = features.create("logmel")(y, SR)
        np.testing.assert_allclose(out.std(axis=0), raw.std(axis=0), rtol=1e-4)


def test_silence_is_the_floor_and_normalisation_keeps_it_finite():
    y = np.zeros(SR // 2, dtype=np.float32)
    np.testing.assert_allclose(features.create("logmel")(y, SR), np.log(1e-10), rtol=1e-6)
    np.testing.assert_array_equal(features.create("logmel", normalize="utterance")(y, SR), 0.0)


@pytest.mark.parametrize("sr", [8000, 22050, 44100])
def test_other_sample_rates_are_resampled(sr):
    ext = features.create("logmel")
    out = ext(tone(1000.0, seconds=1.0, sr=sr), sr)
    ref = ext(tone(1000.0, seconds=1.0), SR)
    assert out.shape == ref.shape == (frames(SR), 64)
    assert int(out[3:-3].mean(axis=0).argmax()) == int(ref[3:-3].mean(axis=0).argmax())
    # the bands that hold the tone agree closely once resampled
    strong = ref[3:-3].mean(axis=0) > ref.max() - 10
    np.testing.assert_allclose(out[3:-3, strong], ref[3:-3, strong], atol=0.05)


def test_stereo_is_mixed_down():
    a, b = speechlike(seconds=0.5, seed=1), noise(seconds=0.5, seed=2)
    ext = features.create("logmel")
    mixed = np.mean(np.stack([a, b]), axis=0, dtype=np.float64).astype(np.float32)
    np.testing.assert_allclose(ext(np.stack([a, b]), SR), ext(mixed, SR), atol=1e-5)
    np.testing.assert_array_equal(ext(np.stack([a, a]), SR), ext(a, SR))


def test_too_short_raises_and_one_window_is_enough():
    ext = features.create("logmel")
    with pytest.raises(AudioError, match="shorter than one"):
        ext(np.ones(10, dtype=np.float32) * 0.1, SR)
    with pytest.raises(AudioError):
        features.create("logmel", win_length=200)(np.ones(199, dtype=np.float32), SR)
    assert ext(noise(seconds=400 / SR), SR).shape == (frames(400), 64)


@pytest.mark.parametrize("options", [
    {"bogus": 1}, {"n_mels": 0}, {"win_length": 401}, {"hop_length": 0}, {"fmax": 9000.0},
    {"fmin": 5000.0, "fmax": 4000.0}, {"floor": 0.0}, {"normalize": "global"},
    {"n_mels": 128, "fmax": 2000.0},  # bands narrower than an FFT bin would stay empty
])
def test_bad_options_raise_config_error(options):
    with pytest.raises(ConfigError):
        features.create("logmel", **options)


@pytest.mark.parametrize("sr, n_fft, n_mels, fmin, fmax", [
    (16000, 400, 64, 0.0, None), (16000, 400, 128, 0.0, 2000.0), (8000, 256, 80, 100.0, None),
    (22050, 512, 128, 300.0, 4000.0), (16000, 1024, 40, 0.0, 8000.0),
])
def test_empty_mel_bands_agrees_with_librosa(sr, n_fft, n_mels, fmin, fmax):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fb = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    expected = [int(i) for i in np.flatnonzero(fb.max(axis=1) == 0)]
    assert empty_mel_bands(sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax) == expected


def test_unknown_name():
    with pytest.raises(UnknownNameError):
        features.create("log-mell")


def test_cache_key_changes_with_every_option():
    ext = features.create("logmel")
    changed = {"trim": "energy", "trim_db": 30.0, "duration": 3.0,
               "sample_rate": 8000, "n_mels": 80, "n_fft": 512, "hop_length": 100,
               "win_length": 320, "fmin": 20.0, "fmax": 7600.0, "floor": 1e-8,
               "normalize": "utterance"}
    assert set(changed) == {f.name for f in dataclasses.fields(ext.config)}
    keys = {ext.cache_key()}
    for name, value in changed.items():
        keys.add(features.create("logmel", **{name: value}).cache_key())
    assert len(keys) == len(changed) + 1
    assert features.create("log-mel").cache_key() == ext.cache_key()


def test_trim_cuts_leading_and_trailing_silence():
    sr = 16000
    t = np.arange(sr) / sr
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    y = np.concatenate([np.zeros(sr, np.float32), tone, np.zeros(2 * sr, np.float32)])
    plain = features.create("logmel")(y, sr)
    trimmed = features.create("logmel", trim="energy")(y, sr)
    assert plain.shape[0] == 1 + len(y) // 160
    assert abs(trimmed.shape[0] - 100) <= 10  # about the one second of tone
    assert features.create("logmel", trim="energy").cache_key() != features.create(
        "logmel").cache_key()


def test_trim_rejects_unknown_method():
    with pytest.raises(ConfigError, match="trim"):
        features.create("logmel", trim="silence")
    with pytest.raises(ConfigError, match="trim_db"):
        features.create("logmel", trim="energy", trim_db=0.0)


@pytest.mark.parametrize("seconds", [0.5, 3.0, 7.25])
def test_duration_gives_fixed_length_clips(seconds):
    sr = 16000
    y = (0.3 * np.sin(2 * np.pi * 220 * np.arange(int(seconds * sr)) / sr)).astype(np.float32)
    x = features.create("logmel", duration=3.0)(y, sr)
    assert x.shape == (1 + 3 * sr // 160, 64)


def test_duration_keeps_the_middle_and_rejects_nonsense():
    sr = 16000
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(sr) / sr).astype(np.float32)
    y = np.concatenate([np.zeros(sr, np.float32), tone, np.zeros(sr, np.float32)])
    mid = features.create("logmel", duration=1.0)(y, sr)
    assert (mid[5:-5].max(axis=1) > -10).all()  # every frame holds the tone, no silence
    assert (features.create("logmel")(y[:sr], sr).max(axis=1) < -20).all()
    with pytest.raises(ConfigError, match="duration"):
        features.create("logmel", duration=0.0)
