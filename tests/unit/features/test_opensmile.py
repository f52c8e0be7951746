"""openSMILE functionals: eGeMAPS and ComParE shapes and names, loudness and pitch respond as
they should, short input and silence, clipping, bad options."""

from __future__ import annotations

import numpy as np
import opensmile
import pytest

from emoscope import features
from emoscope.errors import AudioError, ConfigError
from emoscope.features.opensmile_functionals import MIN_SECONDS
from emoscope.testing import noise, speechlike, tone

SR = 16000


def harmonic(f0: float, *, seconds: float = 1.0, sr: int = SR, amplitude: float = 0.3):
    """A steady tone with 7 harmonics (1/k amplitudes): a clear pitch at ``f0``."""
    t = np.arange(round(seconds * sr)) / sr
    y = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 8))
    return (amplitude * y / np.max(np.abs(y))).astype(np.float32)


@pytest.fixture(scope="module")
def egemaps():
    return features.create("egemaps")


@pytest.fixture(scope="module")
def compare():
    return features.create("compare")


def column(ext, name: str) -> int:
    return ext.feature_names().index(name)


def test_egemaps_shape_dtype_finite(egemaps):
    x = egemaps(speechlike(seconds=1.0), SR)
    assert egemaps.kind == "vector"
    assert x.shape == (88,) and x.dtype == np.float32 and np.isfinite(x).all()


def test_egemaps_names_are_opensmiles(egemaps):
    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                            feature_level=opensmile.FeatureLevel.Functionals)
    assert egemaps.feature_names() == list(smile.feature_names)
    assert len(egemaps.feature_names()) == 88


def test_egemaps_matches_opensmile_directly(egemaps):
    y = speechlike(seconds=1.0, seed=3)
    direct = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                             feature_level=opensmile.FeatureLevel.Functionals)
    np.testing.assert_allclose(egemaps(y, SR), direct.process_signal(y, SR).to_numpy()[0],
                               rtol=1e-6)


def test_louder_copy_raises_loudness(egemaps):
    y = speechlike(seconds=1.0, amplitude=0.2)
    j = column(egemaps, "loudness_sma3_amean")
    quiet, loud = egemaps(y, SR)[j], egemaps(4 * y, SR)[j]
    assert loud > 1.5 * quiet > 0


def test_pitch_difference_in_semitones(egemaps):
    j = column(egemaps, "F0semitoneFrom27.5Hz_sma3nz_amean")
    low, high = egemaps(harmonic(200.0), SR)[j], egemaps(harmonic(300.0), SR)[j]
    assert high - low == pytest.approx(12 * np.log2(300 / 200), abs=0.5)
    assert low == pytest.approx(12 * np.log2(200 / 27.5), abs=0.5)


def test_compare_shape_and_names(compare):
    x = compare(speechlike(seconds=1.0), SR)
    assert x.shape == (6373,) and x.dtype == np.float32 and np.isfinite(x).all()
    names = compare.feature_names()
    assert len(names) == 6373 and len(set(names)) == 6373


@pytest.mark.parametrize("name", ["egemaps", "compare"])
@pytest.mark.parametrize("seconds", [0.001, 0.05, MIN_SECONDS - 1 / SR])
def test_too_short_raises_audio_error(name, seconds):
    ext = features.create(name)
    with pytest.raises(AudioError, match="too short"):
        ext(speechlike(seconds=seconds), SR)


@pytest.mark.parametrize("name", ["egemaps", "compare"])
def test_shortest_accepted_input_is_finite(name):
    x = features.create(name)(speechlike(seconds=MIN_SECONDS), SR)
    assert np.isfinite(x).all()


@pytest.mark.parametrize("sr", [8000, 44100])
def test_minimum_length_holds_at_other_input_rates(egemaps, sr):
    # the minimum applies after resampling to config.sample_rate
    with pytest.raises(AudioError, match="too short"):
        egemaps(tone(200, seconds=0.05, sr=sr), sr)
    assert np.isfinite(egemaps(tone(200, seconds=0.1, sr=sr), sr)).all()


@pytest.mark.parametrize("name", ["egemaps", "compare"])
@pytest.mark.parametrize("seconds", [0.06, 1.0])
def test_silence_is_finite(name, seconds):
    x = features.create(name)(np.zeros(round(seconds * SR), np.float32), SR)
    assert np.isfinite(x).all()


def test_noise_is_finite(egemaps):
    assert np.isfinite(egemaps(noise(seconds=0.5, seed=2), SR)).all()


def test_full_scale_is_clipped_not_wrapped(egemaps):
    # opensmile casts y * 32768 to int16: +1.0 and beyond would wrap to -1.0 without clipping
    y = harmonic(200.0, amplitude=1.5)
    clipped = np.clip(y, -1.0, 32767 / 32768)
    np.testing.assert_array_equal(egemaps(y, SR), egemaps(clipped, SR))
    j = column(egemaps, "loudness_sma3_amean")
    assert egemaps(y, SR)[j] > egemaps(harmonic(200.0, amplitude=0.5), SR)[j]


def test_deterministic(egemaps):
    y = speechlike(seconds=0.7, seed=5)
    np.testing.assert_array_equal(egemaps(y, SR), egemaps(y.copy(), SR))


@pytest.mark.filterwarnings("ignore:Feature set .* is deprecated:UserWarning")
def test_other_egemaps_version():
    x = features.create("egemaps", feature_set="eGeMAPSv01b")(speechlike(seconds=0.5), SR)
    assert x.shape == (88,) and np.isfinite(x).all()


@pytest.mark.parametrize(("name", "options"), [
    ("egemaps", {"feature_set": "ComParE_2016"}),
    ("egemaps", {"feature_set": "nope"}),
    ("compare", {"feature_set": "eGeMAPSv02"}),
    ("egemaps", {"n_mfcc": 13}),
])
def test_bad_options_raise_config_error(name, options):
    with pytest.raises(ConfigError):
        features.create(name, **options)


@pytest.mark.parametrize("bad", [np.zeros(0, np.float32), np.full(1600, np.nan, np.float32),
                                 np.zeros(1600, np.int16)])
def test_bad_waveform_raises_audio_error(egemaps, bad):
    with pytest.raises(AudioError):
        egemaps(bad, SR)


def test_cache_keys_differ():
    keys = {features.create("egemaps").cache_key(), features.create("compare").cache_key(),
            features.create("egemaps", sample_rate=22050).cache_key()}
    assert len(keys) == 3
