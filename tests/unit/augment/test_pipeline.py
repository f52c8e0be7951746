"""AugmentConfig checks and the augmenters: probabilities, identity when off, determinism."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from emoscope.augment import (
    AugmentConfig,
    BatchAugmenter,
    FeatureAugmenter,
    ImageAugmenter,
    WaveformAugmenter,
    item_rng,
)
from emoscope.errors import ConfigError
from emoscope.testing import speechlike

SR = 16000
Y = speechlike(seconds=0.5, sr=SR)
ALL_WAVE = AugmentConfig(noise_prob=1.0, gain_prob=1.0, shift_prob=1.0, speed_prob=1.0,
                         speed_factors=(0.9, 1.1), shift_s=0.1)


# --- config ------------------------------------------------------------------------------------

def test_defaults_are_all_off() -> None:
    c = AugmentConfig()
    assert not (c.waveform_enabled or c.feature_enabled or c.image_enabled)
    assert c.mixup_alpha == 0
    assert all(getattr(c, f.name) == 0 for f in dataclasses.fields(c) if f.name.endswith("_prob"))


def test_from_dict_converts_lists_and_round_trips() -> None:
    c = AugmentConfig.from_dict({"noise_prob": 0.5, "snr_db": [10, 30],
                                 "speed_factors": [0.9, 1.0, 1.1], "shift_mode": "pad"})
    assert c.snr_db == (10, 30) and isinstance(c.speed_factors, tuple)
    assert c == AugmentConfig(noise_prob=0.5, snr_db=(10, 30), shift_mode="pad")
    assert AugmentConfig.from_dict(c.to_dict()) == c
    hash(c)  # frozen and hashable


def test_from_dict_names_unknown_keys() -> None:
    with pytest.raises(ConfigError, match=r"unknown option\(s\) noise_probb, snr") as exc:
        AugmentConfig.from_dict({"noise_probb": 1.0, "snr": [1, 2]})
    assert "known:" in str(exc.value)


@pytest.mark.parametrize("data", [
    {"noise_prob": "0.5"}, {"snr_db": 5}, {"snr_db": [1, 2, 3]}, {"freq_masks": 1.5},
    {"freq_masks": True}, {"shift_mode": "wrap"}, {"speed_factors": [0.9, "fast"]},
    {"mixup_alpha": None},
])
def test_from_dict_wrong_types(data) -> None:
    key = next(iter(data))
    with pytest.raises(ConfigError, match=key):
        AugmentConfig.from_dict(data)


@pytest.mark.parametrize("kwargs", [
    {"noise_prob": 1.5}, {"gain_prob": -0.1}, {"snr_db": (20, 5)}, {"snr_db": (0, np.inf)},
    {"shift_s": -1}, {"speed_factors": ()}, {"speed_factors": (0.0,)},
    {"pitch_semitones": (-30, 0)}, {"freq_width": -1}, {"mixup_alpha": -0.2},
    {"rotate_degrees": 200}, {"crop_pixels": -3}, {"snr_db": 10},
])
def test_out_of_range_values(kwargs) -> None:
    with pytest.raises(ConfigError):
        AugmentConfig(**kwargs)
    with pytest.raises(ConfigError):
        AugmentConfig.from_dict({k: list(v) if isinstance(v, tuple) else v
                                 for k, v in kwargs.items()})


def test_from_dict_not_a_mapping() -> None:
    with pytest.raises(ConfigError):
        AugmentConfig.from_dict([("noise_prob", 1.0)])  # type: ignore[arg-type]


# --- identity when off -------------------------------------------------------------------------

def test_all_off_is_identity() -> None:
    x = np.ones((50, 20), np.float32)
    img = np.ones((3, 16, 16), np.float32)
    assert WaveformAugmenter()(Y, SR, rng=np.random.default_rng(0)) is Y
    assert FeatureAugmenter(AugmentConfig())(x, np.random.default_rng(0)) is x
    assert ImageAugmenter(AugmentConfig(), seed=3)(img) is img


# --- determinism -------------------------------------------------------------------------------

def test_item_rng_matches_the_documented_recipe() -> None:
    a = item_rng(5, 2, 17).random(4)
    assert np.array_equal(a, np.random.default_rng([5, 2, 17]).random(4))
    assert np.array_equal(a, WaveformAugmenter(seed=5).rng_for(2, 17).random(4))
    with pytest.raises(ConfigError):
        item_rng(-1, 0, 0)


def test_waveform_augmenter_same_seed_same_output() -> None:
    a = WaveformAugmenter(ALL_WAVE, seed=1)
    b = WaveformAugmenter(ALL_WAVE, seed=1)
    out_a = a(Y, SR, rng=a.rng_for(0, 3))
    assert np.array_equal(out_a, b(Y, SR, rng=b.rng_for(0, 3)))
    assert not np.array_equal(out_a, a(Y, SR, rng=a.rng_for(0, 4)))
    assert not np.array_equal(out_a, a(Y, SR, rng=a.rng_for(1, 3)))
    assert not np.array_equal(out_a, WaveformAugmenter(ALL_WAVE, seed=2)(Y, SR, rng=item_rng(
        2, 0, 3)))
    # without rng: the augmenter's own stream, reproducible from the seed
    c, d = WaveformAugmenter(ALL_WAVE, seed=1), WaveformAugmenter(ALL_WAVE, seed=1)
    seq_c, seq_d = [c(Y, SR) for _ in range(2)], [d(Y, SR) for _ in range(2)]
    assert all(np.array_equal(u, v) for u, v in zip(seq_c, seq_d, strict=True))
    assert not np.array_equal(seq_c[0], seq_c[1])


def test_resumed_run_repeats_augmentations() -> None:
    aug = WaveformAugmenter(ALL_WAVE, seed=9)
    items = [speechlike(seconds=0.3, seed=i) for i in range(4)]
    first = {i: aug(items[i], SR, rng=aug.rng_for(3, i)) for i in range(4)}
    resumed = WaveformAugmenter(ALL_WAVE, seed=9)  # a new process, items in another order
    for i in (2, 0, 3, 1):
        assert np.array_equal(resumed(items[i], SR, rng=resumed.rng_for(3, i)), first[i])


def test_feature_and_image_augmenters_deterministic() -> None:
    cfg = AugmentConfig(specaugment_prob=1.0, crop_prob=1.0, rotate_prob=1.0)
    x = np.random.default_rng(0).random((80, 40)).astype(np.float32)
    img = np.random.default_rng(0).random((3, 32, 32)).astype(np.float32)
    fa, ia = FeatureAugmenter(cfg, seed=4), ImageAugmenter(cfg, seed=4)
    fx = fa(x, fa.rng_for(0, 1))  # positional rng: FeatureDataset's transform(x, rng)
    assert fx.shape == x.shape and not np.array_equal(fx, x)
    assert np.array_equal(fx, FeatureAugmenter(cfg, seed=4)(x, item_rng(4, 0, 1)))
    ix = ia(img, ia.rng_for(0, 1))
    assert ix.shape == img.shape and not np.array_equal(ix, img)
    assert np.array_equal(ix, ImageAugmenter(cfg, seed=4)(img, rng=item_rng(4, 0, 1)))


# --- what gets applied -------------------------------------------------------------------------

def test_probability_is_honoured() -> None:
    aug = WaveformAugmenter(AugmentConfig(noise_prob=0.5), seed=0)
    y = Y[:400]
    changed = [not np.array_equal(aug(y, SR, rng=aug.rng_for(0, i)), y) for i in range(300)]
    assert 0.38 < np.mean(changed) < 0.62


def test_speed_factor_changes_length() -> None:
    aug = WaveformAugmenter(AugmentConfig(speed_prob=1.0, speed_factors=(1.1,)))
    out = aug(Y, SR, rng=np.random.default_rng(0))
    assert abs(len(out) - len(Y) / 1.1) <= 2 and out.dtype == np.float32


def test_pitch_in_pipeline_keeps_length() -> None:
    aug = WaveformAugmenter(AugmentConfig(pitch_prob=1.0, pitch_semitones=(1.0, 2.0)))
    out = aug(Y, SR, rng=np.random.default_rng(0))
    assert out.shape == Y.shape and not np.array_equal(out, Y)


def test_noise_clips_are_used() -> None:
    clip = np.tile(np.array([0.1, -0.1], np.float32), 50)  # a Nyquist-rate square wave
    aug = WaveformAugmenter(AugmentConfig(noise_prob=1.0, snr_db=(10, 10)), noises=[clip])
    y = Y * 0.1
    d = aug(y, SR, rng=np.random.default_rng(0)).astype(np.float64) - y
    np.testing.assert_allclose(np.abs(d), np.abs(d[0]), rtol=1e-3)
    assert d[0] == pytest.approx(-d[1], rel=1e-3)


def test_feature_augmenter_honours_length() -> None:
    cfg = AugmentConfig(specaugment_prob=1.0, time_masks=3, freq_masks=3)
    x = np.ones((100, 20), np.float32)
    x[60:] = 7.0
    for i in range(10):
        out = FeatureAugmenter(cfg)(x, item_rng(0, 0, i), length=60)
        assert (out[60:] == 7.0).all()


def test_bad_augmenter_arguments() -> None:
    with pytest.raises(ConfigError):
        WaveformAugmenter({"noise_prob": 1.0})  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        WaveformAugmenter(seed=-1)
    with pytest.raises(ConfigError):
        WaveformAugmenter(ALL_WAVE)(Y, SR, rng=123)  # type: ignore[arg-type]


# --- batch level -------------------------------------------------------------------------------

def test_batch_augmenter_off_is_identity() -> None:
    x, y = torch.randn(4, 30, 8), torch.eye(4)
    aug = BatchAugmenter(AugmentConfig())
    assert not aug.enabled
    xo, yo = aug(x, torch.tensor([30, 20, 10, 5]), y, torch.Generator().manual_seed(0))
    assert xo is x and yo is y


def test_batch_augmenter_specaugment_and_mixup() -> None:
    lengths = torch.tensor([30, 20, 10, 5])
    x = torch.full((4, 30, 8), 5.0)
    for b, n in enumerate(lengths.tolist()):
        x[b, :n] = 1.0
    spec = BatchAugmenter(AugmentConfig(specaugment_prob=1.0, time_width=4, freq_width=2))
    out, y = spec(x, lengths, torch.eye(4), torch.Generator().manual_seed(0))
    assert (out == 0).any() and torch.equal(y, torch.eye(4))
    for b, n in enumerate(lengths.tolist()):
        assert (out[b, n:] == 5.0).all()
    both = BatchAugmenter(AugmentConfig(specaugment_prob=0.5, mixup_alpha=0.4))
    a = both(x, lengths, torch.eye(4), torch.Generator().manual_seed(3))
    b = both(x, lengths, torch.eye(4), torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    torch.testing.assert_close(a[1].sum(dim=1), torch.ones(4))
    img = torch.rand(4, 3, 8, 8)  # images: mixup only
    xi, yi = both(img, None, torch.eye(4), torch.Generator().manual_seed(1))
    assert xi.shape == img.shape and yi.shape == (4, 4)
