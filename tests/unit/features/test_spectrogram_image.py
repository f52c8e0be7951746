"""Spectrogram images: the contract (shape, dtype, rates, stereo, errors, cache key) and known
values (a tone's row, the fixed dB range, ImageNet statistics, the resize)."""

from __future__ import annotations

import dataclasses

import librosa
import numpy as np
import pytest

from emoscope import features
from emoscope.errors import AudioError, ConfigError
from emoscope.features.functional import resize_bilinear, stft_db
from emoscope.features.spectrogram_image import IMAGENET_MEAN, IMAGENET_STD
from emoscope.testing import chirp, noise, speechlike, tone

SR = 16000


@pytest.mark.parametrize("signal", [
    lambda: speechlike(seconds=1.0), lambda: noise(seconds=0.7), lambda: chirp(seconds=0.5),
    lambda: speechlike(seconds=6.0),
])
@pytest.mark.parametrize("options", [{}, {"mel": True, "max_freq": 4000.0},
                                     {"height": 128, "width": 64, "channels": 1}])
def test_shape_dtype_range_deterministic(signal, options):
    y = signal()
    ext = features.create("spectrogram-image", **options)
    out = ext(y, SR)
    c = ext.config
    assert ext.kind == "image"
    assert out.dtype == np.float32
    assert out.shape == (c.channels, c.height, c.width)
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
    assert out.max() > 0.3  # not blank
    for ch in out[1:]:
        np.testing.assert_array_equal(ch, out[0])  # replicated channels
    np.testing.assert_array_equal(out, features.create("spectrogram-image", **options)(y, SR))


def _expected_row(freq: float, c) -> float:
    """Where a tone lands: its source row (0 = top, the highest frequency) after the resize."""
    if c.mel:
        centres = librosa.mel_frequencies(c.n_mels + 2, fmin=0.0, fmax=c.max_freq or SR / 2)
        k, n_rows = float(np.abs(centres[1:-1] - freq).argmin()), c.n_mels
    else:
        k = freq * c.n_fft / SR  # FFT bin
        n_rows = int(np.floor((c.max_freq or SR / 2) * c.n_fft / SR)) + 1
    src = n_rows - 1 - k  # low frequencies at the bottom
    return (src + 0.5) * c.height / n_rows - 0.5  # pixel centres kept by the resize


@pytest.mark.parametrize("options", [
    {}, {"max_freq": 4000.0}, {"max_freq": 4000.0, "height": 100, "width": 50},
    {"n_fft": 1024, "win_length": 800, "max_freq": 6000.0},
    {"mel": True}, {"mel": True, "n_mels": 64, "max_freq": 4000.0},
])
@pytest.mark.parametrize("freq", [250.0, 1000.0, 3000.0])
def test_brightest_row_is_the_tone_frequency(options, freq):
    ext = features.create("spectrogram-image", **options)
    out = ext(tone(freq, seconds=1.0), SR)
    row = int(out[0].mean(axis=1).argmax())
    assert abs(row - _expected_row(freq, ext.config)) <= 1.0
    # higher tones sit higher in the picture
    above = int(ext(tone(freq * 1.25, seconds=1.0), SR)[0].mean(axis=1).argmax())
    assert above < row


def test_cropped_frequencies_are_gone():
    ext = features.create("spectrogram-image", max_freq=2000.0)
    # (the first and last columns hold the broadband click of the tone's abrupt start and end)
    high = ext(tone(5000.0, seconds=1.0), SR)[..., 20:-20]
    low = ext(tone(1000.0, seconds=1.0), SR)[..., 20:-20]
    assert high.max() < 0.01 and low.max() > 0.8


def test_fixed_db_range_a_quieter_copy_is_darker():
    y = speechlike(seconds=1.0, amplitude=0.5)
    ext = features.create("spectrogram-image")
    loud, quiet = ext(y, SR), ext(y / 4, SR)
    assert quiet.mean() < loud.mean() - 0.05
    assert quiet.max() < loud.max() - 0.1
    # -12.04 dB over an 80 dB range, wherever neither copy is clipped (before the resize)
    shift = 20 * np.log10(4) / 80
    ext_full = features.create("spectrogram-image", height=257, width=101, channels=1)
    a, b = ext_full(y, SR)[0], ext_full(y / 4, SR)[0]
    inside = (a > shift + 0.01) & (a < 0.99)
    assert inside.sum() > 2000
    np.testing.assert_allclose((a - b)[inside], shift, atol=1e-3)


def test_full_scale_sine_reads_0_db():
    db = stft_db(tone(1000.0, seconds=0.5, amplitude=1.0), n_fft=512, hop_length=160)
    np.testing.assert_allclose(db[5:-5, 32], 0.0, atol=0.01)  # bin 32 = 1000 Hz
    db = stft_db(tone(1000.0, seconds=0.5, amplitude=0.1), n_fft=800, hop_length=160,
                 win_length=400)
    np.testing.assert_allclose(db[5:-5, 50], -20.0, atol=0.01)


@pytest.mark.parametrize("db_min, value", [(-80.0, 0.0), (-120.0, 20 / 120)])
def test_imagenet_normalisation_of_a_constant_image(db_min, value):
    silence = np.zeros(SR // 2, dtype=np.float32)  # -100 dB everywhere
    plain = features.create("spectrogram-image", db_min=db_min)(silence, SR)
    np.testing.assert_allclose(plain, value, atol=1e-6)
    out = features.create("spectrogram-image", db_min=db_min, imagenet_norm=True)(silence, SR)
    for ch, (m, s) in enumerate(zip(IMAGENET_MEAN, IMAGENET_STD, strict=True)):
        assert out[ch].mean() == pytest.approx((value - m) / s, abs=1e-5)
        assert out[ch].std() == pytest.approx(0.0, abs=1e-6)


def test_imagenet_normalisation_of_a_spectrogram():
    y = speechlike(seconds=1.0)
    plain = features.create("spectrogram-image")(y, SR)
    out = features.create("spectrogram-image", imagenet_norm=True)(y, SR)
    mean = np.array(IMAGENET_MEAN, dtype=np.float32)[:, None, None]
    std = np.array(IMAGENET_STD, dtype=np.float32)[:, None, None]
    np.testing.assert_allclose(out, (plain - mean) / std, atol=1e-5)


# torch.nn.functional.interpolate(x, size=(3, 4), mode="bilinear", align_corners=False,
# antialias=True) of the 4x6 image below, computed once with torch 2.13 (not imported here:
# it costs seconds)
_TORCH_3x4 = [[0.510171, 0.826069, 1.252391, 1.738950],
              [2.984426, 3.646251, 4.374181, 5.123417],
              [6.821816, 7.694686, 8.628706, 9.568762]]
_TORCH_7x9_CORNERS = [0.0, 1.118034, 7.636753, 11.030413]
_TORCH_7x9_ROW3 = [2.813308, 3.041465, 3.349773, 3.67038, 4.002634, 4.342471, 4.693406,
                   5.054961, 5.328784]


def test_resize_is_torchs_antialiased_bilinear():
    img = np.arange(24, dtype=np.float32).reshape(4, 6) ** 1.5 / 10
    np.testing.assert_allclose(resize_bilinear(img, height=3, width=4), _TORCH_3x4, atol=2e-6)
    up = resize_bilinear(img, height=7, width=9)
    np.testing.assert_allclose(up[[0, 0, -1, -1], [0, -1, 0, -1]], _TORCH_7x9_CORNERS, atol=2e-6)
    np.testing.assert_allclose(up[3], _TORCH_7x9_ROW3, atol=2e-6)
    np.testing.assert_allclose(resize_bilinear(img, height=4, width=6), img, atol=1e-6)
    np.testing.assert_allclose(resize_bilinear(np.full((50, 900), 0.3), height=224, width=224),
                               0.3, atol=1e-6)
    assert resize_bilinear(np.ones((3, 5, 7)), height=2, width=2).shape == (3, 2, 2)
    with pytest.raises(ConfigError):
        resize_bilinear(img, height=0, width=4)


@pytest.mark.parametrize("sr", [8000, 22050, 44100])
def test_other_sample_rates_are_resampled(sr):
    ext = features.create("spectrogram-image", max_freq=4000.0)
    out = ext(tone(1000.0, seconds=1.0, sr=sr), sr)
    ref = ext(tone(1000.0, seconds=1.0), SR)
    assert out.shape == ref.shape == (3, 224, 224)
    assert out[0].mean(axis=1).argmax() == ref[0].mean(axis=1).argmax()
    np.testing.assert_allclose(out[0, :, 20:-20], ref[0, :, 20:-20], atol=0.02)


def test_stereo_is_mixed_down():
    a, b = speechlike(seconds=0.5, seed=1), noise(seconds=0.5, seed=2)
    ext = features.create("spectrogram-image")
    mixed = np.mean(np.stack([a, b]), axis=0, dtype=np.float64).astype(np.float32)
    np.testing.assert_allclose(ext(np.stack([a, b]), SR), ext(mixed, SR), atol=1e-5)
    np.testing.assert_array_equal(ext(np.stack([a, a]), SR), ext(a, SR))


def test_too_short_raises_and_one_window_is_enough():
    ext = features.create("spectrogram-image")
    with pytest.raises(AudioError, match="shorter than one"):
        ext(np.full(10, 0.1, dtype=np.float32), SR)
    out = ext(noise(seconds=512 / SR), SR)
    assert out.shape == (3, 224, 224) and np.isfinite(out).all()


@pytest.mark.parametrize("options", [
    {"height": 0}, {"height": -5}, {"width": 0}, {"db_min": 0.0, "db_max": 0.0},
    {"db_min": 10.0}, {"max_freq": 9000.0}, {"max_freq": 10.0}, {"channels": 2},
    {"channels": 1, "imagenet_norm": True}, {"win_length": 1024}, {"hop_length": 0},
    {"mel": True, "n_mels": 0}, {"mel": True, "max_freq": 2000.0}, {"bogus": 1},
])
def test_bad_options_raise_config_error(options):
    with pytest.raises(ConfigError):
        features.create("spectrogram-image", **options)


def test_cache_key_changes_with_every_option():
    ext = features.create("spectrogram-image")
    changed = {"trim": "energy", "trim_db": 30.0, "duration": 3.0,
               "sample_rate": 8000, "n_fft": 1024, "hop_length": 80, "win_length": 400,
               "mel": True, "n_mels": 64, "max_freq": 4000.0, "db_min": -60.0, "db_max": -10.0,
               "height": 128, "width": 128, "channels": 1, "imagenet_norm": True}
    assert set(changed) == {f.name for f in dataclasses.fields(ext.config)}
    keys = {ext.cache_key()} | {features.create("spectrogram-image", **{k: v}).cache_key()
                                for k, v in changed.items()}
    assert len(keys) == len(changed) + 1
