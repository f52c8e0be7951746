"""MFCC + deltas: the contract (shape, dtype, rates, stereo, errors, cache key) and known values
(deltas of a stationary tone vanish; the regression deltas match librosa's; CMVN)."""

from __future__ import annotations

import dataclasses

import librosa
import numpy as np
import pytest

from emoscope import features
from emoscope.errors import AudioError, ConfigError
from emoscope.features.functional import delta, mfcc, stack_deltas
from emoscope.testing import chirp, noise, speechlike, tone

SR = 16000
EDGE = 6  # frames touched by the centred padding (2) and two +-2-frame regressions


@pytest.mark.parametrize("signal", [
    lambda: speechlike(seconds=1.0), lambda: noise(seconds=0.7), lambda: chirp(seconds=0.5),
])
@pytest.mark.parametrize("deltas", [0, 1, 2])
def test_shape_dtype_finite_deterministic(signal, deltas):
    y = signal()
    ext = features.create("mfcc-delta", deltas=deltas)
    out = ext(y, SR)
    assert ext.kind == "sequence"
    assert out.dtype == np.float32
    assert out.shape == (1 + len(y) // 160, 13 * (deltas + 1))
    assert np.isfinite(out).all()
    assert ext.feature_names() is not None and len(ext.feature_names()) == out.shape[1]
    np.testing.assert_array_equal(out, features.create("mfcc-delta", deltas=deltas)(y, SR))


def test_columns_are_static_delta_delta_delta():
    y = speechlike(seconds=1.0)
    out = features.create("mfcc-delta", n_mfcc=20, n_mels=64)(y, SR)
    static = mfcc(y, SR, n_mfcc=20, n_mels=64, n_fft=400, hop_length=160)
    assert out.shape[1] == 60
    np.testing.assert_array_equal(out[:, :20], static)
    np.testing.assert_allclose(out[:, 20:40], delta(static), atol=1e-5)
    np.testing.assert_allclose(out[:, 40:], delta(delta(static)), atol=1e-5)


@pytest.mark.parametrize("freq", [440.0, 1000.0, 2500.0])
def test_deltas_of_a_stationary_tone_vanish(freq):
    out = features.create("mfcc-delta")(tone(freq, seconds=1.0), SR)[EDGE:-EDGE]
    scale = np.abs(out[:, :13]).max()
    assert scale > 10
    assert np.abs(out[:, 13:]).max() < 1e-3 * scale
    # while a sweep moves them
    sweep = features.create("mfcc-delta")(chirp(200, 4000, seconds=1.0), SR)[EDGE:-EDGE]
    assert np.abs(sweep[:, 13:26]).mean() > 1.0


@pytest.mark.parametrize("width", [3, 5, 9])
def test_regression_deltas_match_librosa_and_a_ramp(width):
    x = np.random.default_rng(0).standard_normal((40, 4)).astype(np.float32)
    ref = librosa.feature.delta(x, width=width, order=1, axis=0, mode="nearest")
    np.testing.assert_allclose(delta(x, width=width), ref, atol=1e-5)
    ramp = np.arange(30, dtype=np.float32)[:, None] * np.array([[0.5, -2.0]], dtype=np.float32)
    half = width // 2
    slope = delta(ramp, width=width)[half:-half]
    np.testing.assert_allclose(slope, [[0.5, -2.0]] * (30 - 2 * half), atol=1e-5)
    assert stack_deltas(ramp, order=2, width=width).shape == (30, 6)
    # any number of frames, even one
    assert delta(x[:1], width=width).shape == (1, 4)


@pytest.mark.parametrize("normalize", ["mean", "utterance"])
def test_cmvn(normalize):
    out = features.create("mfcc-delta", normalize=normalize)(speechlike(seconds=1.0), SR)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-3)
    if normalize == "utterance":
        np.testing.assert_allclose(out.std(axis=0), 1.0, atol=1e-3)


@pytest.mark.parametrize("sr", [8000, 22050, 44100])
def test_other_sample_rates_are_resampled(sr):
    ext = features.create("mfcc-delta")
    y = speechlike(seconds=1.0, sr=sr)
    out = ext(y, sr)
    assert out.shape == (101, 39) and out.dtype == np.float32 and np.isfinite(out).all()
    # a tone below 4 kHz reads the same from any rate
    a = ext(tone(700.0, seconds=1.0, sr=sr), sr)[EDGE:-EDGE, :13]
    b = ext(tone(700.0, seconds=1.0), SR)[EDGE:-EDGE, :13]
    np.testing.assert_allclose(a[:, :4], b[:, :4], rtol=0.02, atol=1.0)


def test_stereo_is_mixed_down():
    a, b = speechlike(seconds=0.5, seed=1), noise(seconds=0.5, seed=2)
    ext = features.create("mfcc-delta")
    mixed = np.mean(np.stack([a, b]), axis=0, dtype=np.float64).astype(np.float32)
    np.testing.assert_allclose(ext(np.stack([a, b]), SR), ext(mixed, SR), atol=1e-3)
    np.testing.assert_array_equal(ext(np.stack([a, a]), SR), ext(a, SR))


def test_too_short_raises_and_one_window_is_enough():
    ext = features.create("mfcc-delta")
    with pytest.raises(AudioError, match="shorter than one"):
        ext(np.full(10, 0.1, dtype=np.float32), SR)
    out = ext(noise(seconds=400 / SR), SR)
    assert out.shape == (3, 39) and np.isfinite(out).all()


@pytest.mark.parametrize("options", [
    {"n_mfcc": 41, "n_mels": 40}, {"n_mfcc": 0}, {"deltas": 3}, {"deltas": -1},
    {"deltas": True}, {"delta_width": 4}, {"delta_width": 1}, {"normalize": "cmvn"},
    {"fmax": 8001.0}, {"hop_length": 0}, {"bogus": 1}, {"n_mels": 128, "fmax": 1000.0},
])
def test_bad_options_raise_config_error(options):
    with pytest.raises(ConfigError):
        features.create("mfcc-delta", **options)


def test_cache_key_changes_with_every_option():
    ext = features.create("mfcc-delta")
    changed = {"trim": "energy", "trim_db": 30.0, "duration": 3.0,
               "sample_rate": 8000, "n_mfcc": 20, "n_mels": 64, "n_fft": 512,
               "hop_length": 80, "fmin": 20.0, "fmax": 7000.0, "deltas": 1, "delta_width": 9,
               "normalize": "utterance"}
    assert set(changed) == {f.name for f in dataclasses.fields(ext.config)}
    keys = {ext.cache_key()} | {features.create("mfcc-delta", **{k: v}).cache_key()
                                for k, v in changed.items()}
    assert len(keys) == len(changed) + 1
