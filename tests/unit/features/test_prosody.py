"""Prosody: the contract (shape, dtype, rates, stereo, errors, cache key) and known values
(F0 of harmonic tones and glides, +12 dB for x4 amplitude, silence and noise unvoiced)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from emoscope import features
from emoscope.errors import AudioError, ConfigError
from emoscope.testing import chirp, noise, speechlike

SR = 16000
F0, ENERGY, PERIODICITY, VOICED = range(4)


def harmonic(f0: float | np.ndarray, *, seconds: float = 1.0, sr: int = SR,
             amplitude: float = 0.3) -> np.ndarray:
    """Eight harmonics with 1/k amplitudes on a constant or per-sample (a glide) F0."""
    n = round(seconds * sr)
    pitch = np.broadcast_to(np.asarray(f0, dtype=np.float64), (n,))
    phase = 2 * np.pi * np.cumsum(pitch) / sr
    y = sum(np.sin(k * phase) / k for k in range(1, 9))
    return (amplitude * y / np.max(np.abs(y))).astype(np.float32)


def glide(f_start: float, f_end: float, *, seconds: float = 1.0, sr: int = SR) -> np.ndarray:
    return harmonic(np.linspace(f_start, f_end, round(seconds * sr)), seconds=seconds, sr=sr)


@pytest.mark.parametrize("signal", [
    lambda: speechlike(seconds=1.0), lambda: noise(seconds=0.7), lambda: chirp(seconds=0.5),
    lambda: np.zeros(SR // 2, dtype=np.float32),
])
@pytest.mark.parametrize("output", ["sequence", "functionals"])
def test_shape_dtype_finite_deterministic(signal, output):
    y = signal()
    ext = features.create("prosody", output=output)
    out = ext(y, SR)
    assert out.dtype == np.float32 and np.isfinite(out).all()
    if output == "sequence":
        assert ext.kind == "sequence"
        assert out.shape == (1 + len(y) // 160, 4)
        assert set(np.unique(out[:, VOICED])) <= {0.0, 1.0}
        assert (out[:, F0][out[:, VOICED] == 0] == 0).all()
        assert ((out[:, PERIODICITY] >= 0) & (out[:, PERIODICITY] <= 1)).all()
    else:
        assert ext.kind == "vector"
        assert out.shape == (17,) and len(ext.feature_names()) == 17
    np.testing.assert_array_equal(out, features.create("prosody", output=output)(y, SR))


@pytest.mark.parametrize("f0", [100.0, 200.0, 333.0])
def test_f0_of_a_harmonic_tone(f0):
    out = features.create("prosody")(harmonic(f0), SR)
    voiced = out[:, VOICED] == 1
    assert voiced.mean() > 0.9
    np.testing.assert_allclose(out[voiced, F0], f0, atol=3.0)


def test_glide_rises_and_tracks():
    out = features.create("prosody")(glide(150.0, 300.0), SR)
    voiced = out[:, VOICED] == 1
    assert voiced.mean() > 0.9
    t = np.arange(len(out)) * 160 / SR
    truth = 150.0 + 150.0 * t  # Hz at each frame centre
    np.testing.assert_allclose(out[voiced, F0], truth[voiced], rtol=0.04)
    f = out[voiced, F0]
    assert np.median(f[-20:]) > np.median(f[:20]) + 100
    assert np.corrcoef(t[voiced], f)[0, 1] > 0.99
    falling = features.create("prosody")(glide(300.0, 150.0), SR)
    assert falling[falling[:, VOICED] == 1, F0][-10:].mean() < 170


def test_silence_is_unvoiced_with_zero_f0_functionals():
    ext = features.create("prosody", output="functionals")
    out = ext(np.zeros(SR, dtype=np.float32), SR)
    stats = dict(zip(ext.feature_names(), out.tolist(), strict=True))
    assert stats["voiced_fraction"] == 0.0
    assert all(v == 0.0 for k, v in stats.items() if k.startswith("f0_"))
    assert stats["energy_db_mean"] == pytest.approx(-100.0)
    seq = features.create("prosody")(np.zeros(SR, dtype=np.float32), SR)
    assert (seq[:, VOICED] == 0).all() and (seq[:, F0] == 0).all()


def test_noise_is_mostly_unvoiced():
    out = features.create("prosody")(noise(seconds=1.0, amplitude=0.1, seed=4), SR)
    assert out[:, VOICED].mean() < 0.05


def test_a_quiet_tail_below_the_dynamic_range_is_unvoiced():
    y = np.concatenate([harmonic(200.0, seconds=0.5), harmonic(200.0, seconds=0.5) * 1e-3])
    out = features.create("prosody")(y, SR)
    assert out[10:40, VOICED].all() and not out[60:, VOICED].any()  # -60 dB: 20 dB too quiet
    loose = features.create("prosody", dynamic_range_db=80.0, silence_db=-90.0)(y, SR)
    assert loose[60:-5, VOICED].all()


def test_four_times_louder_is_12_db_more_energy_and_the_same_pitch():
    y = speechlike(seconds=1.0, amplitude=0.1)
    ext = features.create("prosody")
    quiet, loud = ext(y, SR), ext(4 * y, SR)
    np.testing.assert_allclose(loud[:, ENERGY] - quiet[:, ENERGY], 20 * np.log10(4), atol=1e-3)
    np.testing.assert_array_equal(loud[:, VOICED], quiet[:, VOICED])
    np.testing.assert_allclose(loud[:, F0], quiet[:, F0], atol=1e-3)
    fq, fl = (features.create("prosody", output="functionals")(x, SR) for x in (y, 4 * y))
    energy = slice(8, 16)  # mean, std, min, max, range, p20, p50, p80
    np.testing.assert_allclose(fl[energy] - fq[energy], [12.0412, 0, 12.0412, 12.0412, 0,
                                                         12.0412, 12.0412, 12.0412], atol=1e-3)
    np.testing.assert_allclose(fl[:8], fq[:8], atol=1e-3)  # F0
    assert fl[16] == fq[16]  # voiced fraction


def test_energy_of_a_sine_in_db_full_scale():
    y = (0.5 * np.sin(2 * np.pi * 200.0 * np.arange(SR) / SR)).astype(np.float32)
    out = features.create("prosody")(y, SR)
    np.testing.assert_allclose(out[5:-5, ENERGY], 20 * np.log10(0.5 / np.sqrt(2)), atol=0.05)


def test_semitone_scale_and_functionals():
    y = harmonic(200.0)
    ext = features.create("prosody", output="functionals", f0_scale="semitones")
    stats = dict(zip(ext.feature_names(), ext(y, SR).tolist(), strict=True))
    semis = 12 * np.log2(200.0 / 27.5)
    assert stats["f0_st_mean"] == pytest.approx(semis, abs=0.05)
    assert stats["f0_st_range"] < 0.1 and stats["voiced_fraction"] > 0.9
    hz = features.create("prosody", output="functionals")
    names = hz.feature_names()
    assert names[:8] == ["f0_hz_mean", "f0_hz_std", "f0_hz_min", "f0_hz_max", "f0_hz_range",
                         "f0_hz_p20", "f0_hz_p50", "f0_hz_p80"]
    glide_stats = dict(zip(names, hz(glide(150.0, 300.0), SR).tolist(), strict=True))
    assert 140 < glide_stats["f0_hz_min"] < 160 and 290 < glide_stats["f0_hz_max"] < 310
    assert glide_stats["f0_hz_p20"] < glide_stats["f0_hz_p50"] < glide_stats["f0_hz_p80"]
    seq = features.create("prosody", f0_scale="semitones")(y, SR)
    voiced = seq[:, VOICED] == 1
    np.testing.assert_allclose(seq[voiced, F0], semis, atol=0.05)


@pytest.mark.parametrize("sr", [8000, 22050, 44100])
def test_other_sample_rates_are_resampled(sr):
    out = features.create("prosody")(harmonic(200.0, sr=sr), sr)
    assert out.shape == (101, 4)
    voiced = out[:, VOICED] == 1
    assert voiced.mean() > 0.9
    np.testing.assert_allclose(out[voiced, F0], 200.0, atol=3.0)


def test_stereo_is_mixed_down():
    a, b = harmonic(200.0, seconds=0.5), noise(seconds=0.5, amplitude=0.01, seed=2)
    ext = features.create("prosody")
    mixed = np.mean(np.stack([a, b]), axis=0, dtype=np.float64).astype(np.float32)
    np.testing.assert_array_equal(ext(np.stack([a, b]), SR), ext(mixed, SR))
    np.testing.assert_array_equal(ext(np.stack([a, a]), SR), ext(a, SR))


def test_too_short_raises_and_one_frame_is_enough():
    ext = features.create("prosody")
    with pytest.raises(AudioError, match="shorter than one"):
        ext(np.full(10, 0.1, dtype=np.float32), SR)
    out = ext(harmonic(200.0, seconds=800 / SR), SR)
    assert out.shape == (6, 4) and np.isfinite(out).all()


@pytest.mark.parametrize("options", [
    {"fmin": 500.0, "fmax": 400.0}, {"fmin": 0.0}, {"fmax": 9000.0},
    {"fmin": 30.0},  # two periods of 30 Hz do not fit into 800 samples
    {"frame_length": 801}, {"hop_length": 0}, {"voicing_threshold": 1.5},
    {"dynamic_range_db": 0.0}, {"f0_scale": "mel"}, {"output": "table"}, {"bogus": 1},
])
def test_bad_options_raise_config_error(options):
    with pytest.raises(ConfigError):
        features.create("prosody", **options)


def test_cache_key_changes_with_every_option():
    ext = features.create("prosody")
    changed = {"trim": "energy", "trim_db": 30.0, "duration": 3.0,
               "sample_rate": 8000, "fmin": 75.0, "fmax": 400.0, "frame_length": 1024,
               "hop_length": 80, "voicing_threshold": 0.6, "silence_db": -50.0,
               "dynamic_range_db": 30.0, "f0_scale": "semitones", "output": "functionals"}
    assert set(changed) == {f.name for f in dataclasses.fields(ext.config)}
    keys = {ext.cache_key()} | {features.create("prosody", **{k: v}).cache_key()
                                for k, v in changed.items()}
    assert len(keys) == len(changed) + 1
