"""SpecAugment (numpy and torch), mixup, image crop and rotation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emoscope.augment import SpecAugment, mixup, random_crop, random_rotate, spec_augment
from emoscope.errors import AudioError, ConfigError


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# --- spec_augment (numpy) ----------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_spec_augment_exact_widths(seed: int) -> None:
    x = np.ones((100, 40), np.float32)
    f = spec_augment(x, freq_masks=1, freq_width=(8, 8), time_masks=0, rng=rng(seed))
    assert (f == 0).all(axis=0).sum() == 8 and (f == 0).sum() == 8 * 100
    t = spec_augment(x, freq_masks=0, time_masks=1, time_width=(20, 20), rng=rng(seed))
    assert (t == 0).all(axis=1).sum() == 20 and (t == 0).sum() == 20 * 40
    both = spec_augment(x, freq_masks=1, freq_width=(8, 8), time_masks=1,
                        time_width=(20, 20), rng=rng(seed))
    assert (both == 0).sum() == 8 * 100 + 20 * 40 - 8 * 20
    assert (x == 1).all()  # input untouched


@pytest.mark.parametrize("seed", range(10))
def test_spec_augment_max_widths_are_bounds(seed: int) -> None:
    x = np.ones((100, 40), np.float32)
    out = spec_augment(x, rng=rng(seed), mask_value=-1.0)  # 2 x <= 8 bins, 2 x <= 20 frames
    masked_cols = (out == -1).all(axis=0).sum()
    masked_rows = (out == -1).all(axis=1).sum()
    assert masked_cols <= 16 and masked_rows <= 40
    assert set(np.unique(out)) <= {-1.0, 1.0}


def test_spec_augment_never_masks_padding() -> None:
    lengths = np.array([50, 100, 7, 0])
    x = np.full((4, 100, 40), 5.0, np.float32)
    for b, n in enumerate(lengths):
        x[b, :n] = 1.0
    for seed in range(20):
        out = spec_augment(x, freq_masks=3, freq_width=(10, 10), time_masks=3,
                           time_width=(30, 30), rng=rng(seed), lengths=lengths)
        for b, n in enumerate(lengths):
            assert (out[b, n:] == 5.0).all()
            assert (out[b, :n] != 5.0).all()
        # a time mask wider than the valid frames covers them all, no more
        assert (out[2, :7] == 0).all()


def test_spec_augment_mean_value_and_determinism() -> None:
    x = np.random.default_rng(1).normal(3.0, 1.0, (60, 20)).astype(np.float32)
    out = spec_augment(x, freq_masks=1, freq_width=(5, 5), time_masks=0, rng=rng(2),
                       mask_value="mean")
    changed = out != x
    assert np.allclose(out[changed], x.mean())
    a = spec_augment(x, rng=rng(3))
    assert np.array_equal(a, spec_augment(x, rng=rng(3)))
    assert not np.array_equal(a, spec_augment(x, rng=rng(4)))


@pytest.mark.parametrize("kwargs", [
    {"freq_masks": -1}, {"time_masks": 1.5}, {"freq_width": (8, 2)}, {"time_width": (1, 2, 3)},
    {"mask_value": "median"}, {"lengths": 101}, {"lengths": -1}, {"rng": None},
])
def test_spec_augment_bad_options(kwargs) -> None:
    opts = {"rng": rng(), **kwargs}
    with pytest.raises(ConfigError):
        spec_augment(np.zeros((100, 40), np.float32), **opts)


@pytest.mark.parametrize("bad", [np.zeros(10, np.float32), np.zeros((2, 3), np.int64),
                                 np.full((3, 3), np.nan), [[0.0]]])
def test_spec_augment_bad_arrays(bad) -> None:
    with pytest.raises(AudioError):
        spec_augment(bad, rng=rng())


# --- SpecAugment (torch) -----------------------------------------------------------------------

def test_specaugment_module_is_identity_in_eval() -> None:
    m = SpecAugment().eval()
    x = torch.randn(3, 50, 40)
    assert m(x, torch.tensor([50, 20, 10])) is x


def test_specaugment_module_masks_inside_lengths() -> None:
    m = SpecAugment(freq_masks=2, freq_width=(6, 6), time_masks=2, time_width=(15, 15))
    assert m.training
    lengths = torch.tensor([100, 60, 5, 0])
    x = torch.full((4, 100, 32), 5.0)
    for b, n in enumerate(lengths.tolist()):
        x[b, :n] = 1.0
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        out = m(x, lengths, generator=g)
        assert out.shape == x.shape
        for b, n in enumerate(lengths.tolist()):
            assert (out[b, n:] == 5.0).all()
            assert ((out[b, :n] == 0) | (out[b, :n] == 1)).all()
        assert (out[2, :5] == 0).all()
    one = SpecAugment(freq_masks=1, freq_width=(6, 6), time_masks=0)(x[:2], lengths[:2])
    for b, n in enumerate((100, 60)):
        assert int((one[b, :n] == 0).all(dim=0).sum()) == 6
        assert int((one[b] == 0).sum()) == 6 * n


def test_specaugment_module_generator_reproducible_and_grad() -> None:
    m = SpecAugment(mask_value="mean")
    x = torch.randn(2, 80, 40, requires_grad=True)
    a = m(x, generator=torch.Generator().manual_seed(1))
    b = m(x, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    a.sum().backward()
    assert x.grad is not None


def test_specaugment_module_bad_options() -> None:
    with pytest.raises(ConfigError):
        SpecAugment(freq_masks=-1)
    with pytest.raises(ConfigError):
        SpecAugment()(torch.zeros(2, 10, 4), torch.tensor([11, 3]))
    with pytest.raises(AudioError):
        SpecAugment()(torch.zeros(10, 4))


# --- mixup -------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_mixup_numpy_convex(seed: int) -> None:
    b = 6
    x, y = np.eye(b, dtype=np.float32), np.eye(b, dtype=np.float32)
    xm, ym = mixup(x, y, alpha=0.4, rng=rng(seed))
    np.testing.assert_allclose(ym.sum(axis=1), 1.0, rtol=1e-6)
    assert (ym >= 0).all() and (ym <= 1).all()
    np.testing.assert_allclose(xm, ym)  # x and labels mixed with the same lam and permutation
    assert xm.dtype == np.float32


def test_mixup_torch_and_int_labels() -> None:
    x = torch.randn(8, 3, 5)
    y = torch.nn.functional.one_hot(torch.arange(8) % 4, 4)  # int64
    xm, ym = mixup(x, y, alpha=1.0, rng=rng(0))
    assert isinstance(xm, torch.Tensor) and xm.shape == x.shape
    assert ym.dtype == torch.float32
    torch.testing.assert_close(ym.sum(dim=1), torch.ones(8))
    xm2, _ = mixup(x, y, alpha=1.0, rng=rng(0))
    assert torch.equal(xm, xm2)


def test_mixup_alpha_zero_is_off_and_bad_input() -> None:
    x, y = np.ones((4, 2), np.float32), np.eye(4, dtype=np.float32)
    xm, ym = mixup(x, y, alpha=0, rng=rng())
    assert xm is x and ym is y
    with pytest.raises(ConfigError):
        mixup(x, y, alpha=-1, rng=rng())
    with pytest.raises(AudioError):
        mixup(x, y[:3], alpha=0.2, rng=rng())
    with pytest.raises(AudioError):
        mixup(torch.from_numpy(x), y, alpha=0.2, rng=rng())


# --- images ------------------------------------------------------------------------------------

def image(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((3, 64, 48)).astype(np.float32)


@pytest.mark.parametrize("seed", range(4))
def test_random_crop_keeps_shape(seed: int) -> None:
    img = image(seed)
    out = random_crop(img, pixels=10, rng=rng(seed))
    assert out.shape == img.shape and out.dtype == img.dtype
    assert out.min() >= img.min() - 1e-6 and out.max() <= img.max() + 1e-6
    assert np.array_equal(out, random_crop(img, pixels=10, rng=rng(seed)))


def test_random_crop_zero_and_constant() -> None:
    img = image()
    assert np.array_equal(random_crop(img, pixels=0, rng=rng()), img)
    const = np.full((1, 5, 5), 0.25, np.float32)
    np.testing.assert_allclose(random_crop(const, pixels=10, rng=rng()), const)


def test_random_crop_is_a_zoom() -> None:
    # a horizontal ramp stays monotonic and spans a sub-range after cropping
    ramp = np.tile(np.linspace(0, 1, 48, dtype=np.float32), (1, 32, 1))
    out = random_crop(ramp, pixels=10, rng=rng(3))
    assert (np.diff(out[0, 0]) >= -1e-6).all()


def test_random_rotate() -> None:
    img = image()
    assert np.array_equal(random_rotate(img, max_degrees=0, rng=rng()), img)
    out = random_rotate(img, max_degrees=10, rng=rng(1))
    assert out.shape == img.shape and out.dtype == img.dtype
    # a tiny angle is nearly the identity on a smooth image
    yy, xx = np.mgrid[0:64, 0:48]
    smooth = np.stack([np.sin(xx / 9.0) * np.cos(yy / 7.0)] * 2).astype(np.float32)
    near = random_rotate(smooth, max_degrees=0.01, rng=rng())
    np.testing.assert_allclose(near, smooth, atol=0.01)


def test_rotation_direction_and_geometry() -> None:
    from emoscope.augment.spectrogram import _rotate

    img = image()[:, :9, :9]
    np.testing.assert_allclose(_rotate(img, 90.0, 0.0), np.rot90(img, 1, axes=(1, 2)),
                               atol=1e-6)
    np.testing.assert_allclose(_rotate(img, -90.0, 0.0), np.rot90(img, -1, axes=(1, 2)),
                               atol=1e-6)


def test_random_rotate_fill() -> None:
    img = image() + 2.0  # channel minima above 2
    out = random_rotate(img, max_degrees=180, rng=rng(2))
    for c in range(3):
        assert out[c, 0, 0] == pytest.approx(img[c].min()) or out[c, -1, -1] == pytest.approx(
            img[c].min())
    zero = random_rotate(img, max_degrees=180, rng=rng(2), fill=0.0)
    assert (zero == 0).any()


@pytest.mark.parametrize("call", [
    lambda: random_crop(image(), pixels=-1, rng=rng()),
    lambda: random_rotate(image(), max_degrees=200, rng=rng()),
    lambda: random_rotate(image(), rng=rng(), fill="max"),
    lambda: random_rotate(image(), rng=None),
])
def test_image_bad_options(call) -> None:
    with pytest.raises(ConfigError):
        call()


@pytest.mark.parametrize("bad", [np.zeros((8, 8), np.float32), np.zeros((1, 4, 4), np.uint8)])
def test_image_bad_arrays(bad) -> None:
    with pytest.raises(AudioError):
        random_crop(bad, rng=rng())
    with pytest.raises(AudioError):
        random_rotate(bad, rng=rng())
