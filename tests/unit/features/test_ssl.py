"""SSL encoder states on tiny random wav2vec2 / HuBERT / WavLM folders: shapes per pooling, layer
choice, chunking, determinism, input normalisation, folder checks and weight-aware cache keys."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from emoscope import features
from emoscope.errors import AudioError, ConfigError
from emoscope.testing import noise, speechlike
from emoscope.testing.ssl import TINY_RECEPTIVE_FIELD, TINY_STRIDE, make_tiny_encoder

SR = 16000
KINDS = ["wav2vec2", "hubert", "wavlm"]
HIDDEN = 32


def frames(n: int) -> int:
    return (n - TINY_RECEPTIVE_FIELD) // TINY_STRIDE + 1


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny models run many tiny ops: on a busy machine two threads wait on each other (tests
    only; the extractor itself leaves torch's thread settings alone)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("ssl")
    return {kind: str(make_tiny_encoder(root / kind, kind=kind, hidden_size=HIDDEN,
                                        num_layers=2, seed=0)) for kind in KINDS}


@pytest.fixture(scope="module")
def y():
    return speechlike(seconds=0.3, seed=1) + noise(seconds=0.3, amplitude=0.01, seed=2)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("pooling", "shape", "feature_kind"), [
    ("none", (frames(4800), HIDDEN), "sequence"),
    ("mean", (HIDDEN,), "vector"),
    ("mean+std", (2 * HIDDEN,), "vector"),
])
def test_shapes_per_pooling(models, y, kind, pooling, shape, feature_kind):
    ext = features.create("ssl", model_path=models[kind], pooling=pooling)
    x = ext(y, SR)
    assert ext.kind == feature_kind
    assert x.shape == shape and x.dtype == np.float32 and np.isfinite(x).all()
    names = ext.feature_names()
    assert (names is None) if pooling == "none" else (len(names) == shape[0])


@pytest.mark.parametrize("n", [TINY_RECEPTIVE_FIELD, 29, 30, 1001, 4803])
def test_frame_count_follows_the_conv_front_end(models, n):
    ext = features.create("ssl", model_path=models["wav2vec2"], pooling="none")
    x = ext(noise(seconds=n / SR, seed=n), SR)
    assert x.shape == (frames(n), HIDDEN) == (ext.n_frames(n), HIDDEN)


def test_too_short_raises_audio_error(models):
    ext = features.create("ssl", model_path=models["hubert"])
    with pytest.raises(AudioError, match="too short"):
        ext(noise(seconds=(TINY_RECEPTIVE_FIELD - 1) / SR), SR)


def test_layers_differ_and_last_is_minus_one(models, y):
    path = models["wavlm"]
    out = {layer: features.create("ssl", model_path=path, layer=layer, pooling="none")(y, SR)
           for layer in (0, 1, 2, -1, "mean")}
    assert not np.allclose(out[0], out[1])
    assert not np.allclose(out[1], out[2])
    np.testing.assert_array_equal(out[2], out[-1])
    np.testing.assert_allclose(out["mean"], (out[0] + out[1] + out[2]) / 3, atol=1e-5)


@pytest.mark.parametrize("layer", [3, -4, "last", True, 1.0])
def test_bad_layer_raises_config_error(models, layer):
    with pytest.raises(ConfigError, match="layer"):
        features.create("ssl", model_path=models["wav2vec2"], layer=layer)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [4803, 1234])
def test_chunking_keeps_the_shape_contract(models, kind, n):
    y = speechlike(seconds=n / SR, seed=n)
    whole = features.create("ssl", model_path=models[kind], pooling="none", max_seconds=None)
    chunked = features.create("ssl", model_path=models[kind], pooling="none", max_seconds=0.05)
    a, b = whole(y, SR), chunked(y, SR)
    assert a.shape == b.shape == (frames(n), HIDDEN)
    assert np.isfinite(b).all() and not np.allclose(a, b)  # the windows did change the context
    assert len(chunked._chunks(frames(n))) > 1


@pytest.mark.parametrize(("pooling", "shape"), [("mean", (HIDDEN,)), ("mean+std", (2 * HIDDEN,))])
def test_chunking_with_pooling(models, y, pooling, shape):
    ext = features.create("ssl", model_path=models["wavlm"], pooling=pooling, max_seconds=0.05)
    assert ext(y, SR).shape == shape


def test_chunks_tile_the_frames_within_max_seconds(models):
    ext = features.create("ssl", model_path=models["wav2vec2"], max_seconds=0.05)
    for total in (1, 47, 48, 49, 1000):
        runs = ext._chunks(total)
        assert runs[0][0] == 0 and runs[-1][1] == total
        assert all(a < b for a, b in runs)
        assert all(runs[i][1] == runs[i + 1][0] for i in range(len(runs) - 1))
        spans = [(b - a - 1) * TINY_STRIDE + TINY_RECEPTIVE_FIELD for a, b in runs]
        assert max(spans) <= 0.05 * SR
        assert max(b - a for a, b in runs) - min(b - a for a, b in runs) <= 1


def test_long_window_equals_no_chunking(models, y):
    a = features.create("ssl", model_path=models["hubert"], pooling="none", max_seconds=None)
    b = features.create("ssl", model_path=models["hubert"], pooling="none", max_seconds=60.0)
    np.testing.assert_array_equal(a(y, SR), b(y, SR))


def test_deterministic(models, y):
    a = features.create("ssl", model_path=models["wav2vec2"], pooling="mean+std")
    b = features.create("ssl", model_path=models["wav2vec2"], pooling="mean+std")
    np.testing.assert_array_equal(a(y, SR), a(y.copy(), SR))
    np.testing.assert_array_equal(a(y, SR), b(y, SR))


def test_same_seed_same_model_other_seed_other_model(tmp_path, y):
    p0 = make_tiny_encoder(tmp_path / "a", seed=0)
    p0b = make_tiny_encoder(tmp_path / "b", seed=0)
    p1 = make_tiny_encoder(tmp_path / "c", seed=1)
    x0, x0b, x1 = (features.create("ssl", model_path=str(p))(y, SR) for p in (p0, p0b, p1))
    np.testing.assert_array_equal(x0, x0b)
    assert not np.allclose(x0, x1)


def test_normalize_input_makes_scale_irrelevant(models, y):
    on = features.create("ssl", model_path=models["wav2vec2"], normalize_input=True)
    off = features.create("ssl", model_path=models["wav2vec2"], normalize_input=False)
    np.testing.assert_allclose(on(y, SR), on(3 * y, SR), atol=1e-4)
    assert not np.allclose(off(y, SR), off(3 * y, SR), atol=1e-4)
    default = features.create("ssl", model_path=models["wav2vec2"])  # do_normalize=True
    assert default.normalize and not off.normalize
    np.testing.assert_array_equal(default(y, SR), on(y, SR))


def test_normalize_default_follows_preprocessor_config(tmp_path):
    path = make_tiny_encoder(tmp_path / "m", do_normalize=False)
    assert not features.create("ssl", model_path=str(path)).normalize
    (path / "preprocessor_config.json").unlink()
    assert features.create("ssl", model_path=str(path)).normalize


def test_other_input_rates_are_resampled(models):
    ext = features.create("ssl", model_path=models["wavlm"], pooling="none")
    x = ext(noise(seconds=0.25, sr=8000), 8000)
    assert x.shape == (frames(4000), HIDDEN)


def test_model_sample_rate_must_match(tmp_path):
    path = make_tiny_encoder(tmp_path / "m", sample_rate=8000)
    with pytest.raises(ConfigError, match="8000"):
        features.create("ssl", model_path=str(path))
    assert features.create("ssl", model_path=str(path), sample_rate=8000).config.sample_rate


def test_missing_path_raises_config_error(tmp_path):
    with pytest.raises(ConfigError, match="download"):
        features.create("ssl", model_path=str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match="model_path is required"):
        features.create("ssl")


def test_empty_or_non_model_folder_raises_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"config\.json"):
        features.create("ssl", model_path=str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "wav2vec2"}))
    with pytest.raises(ConfigError, match="no PyTorch weights"):
        features.create("ssl", model_path=str(tmp_path))
    (tmp_path / "model.safetensors").write_bytes(b"not weights")
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ConfigError, match="supported"):
        features.create("ssl", model_path=str(tmp_path))
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read"):
        features.create("ssl", model_path=str(tmp_path))


def test_unloadable_weights_raise_config_error(tmp_path, y):
    path = make_tiny_encoder(tmp_path / "m")
    (path / "model.safetensors").write_bytes(b"garbage" * 100)
    ext = features.create("ssl", model_path=str(path))
    with pytest.raises(ConfigError, match="cannot load"):
        ext(y, SR)


@pytest.mark.parametrize("options", [{"pooling": "max"}, {"max_seconds": 0},
                                     {"max_seconds": -1.0}, {"normalize_input": "yes"},
                                     {"hidden": 3}])
def test_bad_options_raise_config_error(models, options):
    with pytest.raises(ConfigError):
        features.create("ssl", model_path=models["wav2vec2"], **options)


def test_cache_key_follows_the_weights(tmp_path, y):
    path = tmp_path / "model"
    make_tiny_encoder(path, seed=0)
    ext = features.create("ssl", model_path=str(path))
    key0, x0 = ext.cache_key(), ext(y, SR)
    assert ext.cache_key() == key0 == features.create("ssl", model_path=str(path)).cache_key()
    make_tiny_encoder(path, seed=1)  # another model, same folder, same file sizes
    assert ext.cache_key() != key0
    assert not np.allclose(ext(y, SR), x0)  # and the new weights are loaded


def test_cache_key_follows_the_config(models):
    path = models["wav2vec2"]
    keys = {features.create("ssl", model_path=path, **kw).cache_key()
            for kw in ({}, {"layer": 1}, {"pooling": "none"}, {"max_seconds": 10.0})}
    assert len(keys) == 4


def test_pickles_without_the_model(models, y):
    ext = features.create("ssl", model_path=models["hubert"], pooling="mean")
    x = ext(y, SR)
    blob = pickle.dumps(ext)
    assert len(blob) < 10_000
    np.testing.assert_array_equal(pickle.loads(blob)(y, SR), x)


def test_spec_rebuilds_the_extractor(models):
    ext = features.create("ssl", model_path=models["wavlm"], layer="mean", pooling="none")
    again = features.create(ext.spec())
    assert again.cache_key() == ext.cache_key() and again.kind == "sequence"
