"""Waveform augmentation in training: cached augmented copies, drawn per epoch and item."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emoscope.config import config_to_dict, load_config
from emoscope.errors import ConfigError
from emoscope.features import FeatureCache, FeatureSet, WaveformVariant, create, extract_features
from emoscope.testing.corpora.tess import make_tess
from emoscope.train.data import FeatureDataset
from emoscope.train.experiment import run_experiment

NOISY = {"noise_prob": 1.0, "snr_db": [5.0, 5.0], "gain_prob": 1.0, "gain_db": [-6.0, -3.0]}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    base = tmp_path_factory.mktemp("wv")
    return make_tess(base / "tess", words=("back", "bar", "base"))


def _paths(root):
    return sorted(str(p) for p in root.rglob("*.wav"))[:6]


def test_a_copy_differs_from_the_file_and_is_deterministic_and_cached(corpus, tmp_path):
    paths = _paths(corpus)
    ext = create("mfcc-mean", n_mfcc=13)
    clean = extract_features(paths, ext, cache=tmp_path, progress=False)
    v1 = WaveformVariant(NOISY, 0, 1)
    a = extract_features(paths, ext, cache=tmp_path, progress=False, variant=v1)
    assert a.computed == len(paths) and list(a) == list(clean)
    for i in paths:
        assert not np.allclose(a[i], clean[i], atol=1e-3)  # 5 dB SNR changes the MFCCs
    again = extract_features(paths, ext, cache=tmp_path, progress=False, variant=v1)
    assert again.reused == len(paths) and again.computed == 0
    fresh = extract_features(paths, ext, cache=tmp_path / "other", progress=False, variant=v1)
    for i in paths:  # the same copy in another process/cache: same draws
        np.testing.assert_array_equal(fresh[i], a[i])
    b = extract_features(paths, ext, cache=tmp_path, progress=False,
                         variant=WaveformVariant(NOISY, 0, 2))
    assert all(not np.array_equal(a[i], b[i]) for i in paths)
    assert v1.key_suffix() != WaveformVariant(NOISY, 1, 1).key_suffix()
    assert v1.key_suffix() != WaveformVariant({**NOISY, "snr_db": [6.0, 6.0]}, 0, 1).key_suffix()


def test_dataset_draws_originals_and_copies_deterministically(tmp_path):
    ext = create("mfcc-mean", n_mfcc=4)
    cache = FeatureCache(tmp_path)
    sets = []
    for v in range(3):  # value v marks the source
        keys = {}
        for i in range(8):
            cache.put(f"k{i}-{v}", ext, np.full(4, float(v), np.float32))
            keys[f"id{i}"] = f"k{i}-{v}"
        sets.append(FeatureSet(ext, cache, keys))
    ds = FeatureDataset(sets[0], list(sets[0]), [0] * 8, kind="vector", seed=3,
                        variants=sets[1:])
    seen = []
    for epoch in range(6):
        ds.set_epoch(epoch)
        seen += [int(ds[i][0][0]) for i in range(8)]
    assert set(seen) == {0, 1, 2}
    ds2 = FeatureDataset(sets[0], list(sets[0]), [0] * 8, kind="vector", seed=3,
                         variants=sets[1:])
    ds2.set_epoch(5)
    ds.set_epoch(5)
    assert [ds[i][0][0] for i in range(8)] == [ds2[i][0][0] for i in range(8)]
    partial = FeatureSet(ext, cache, {"id0": "k0-1"})  # a copy missing for most ids
    ds3 = FeatureDataset(sets[0], list(sets[0]), [0] * 8, kind="vector", variants=[partial])
    for epoch in range(4):
        ds3.set_epoch(epoch)
        assert all(ds3[i][0][0] == 0.0 for i in range(1, 8))


def _cfg(model: str, **augment):
    return load_config({"name": "w", "data": {"corpus": "tess"},
                        "protocol": {"name": "tess-cross-speaker"},
                        "features": {"name": "mfcc-mean", "n_mfcc": 13},
                        "model": {"name": model}, "train": {"epochs": 2, "batch_size": 8},
                        "augment": {**NOISY, "waveform_variants": 2, **augment}})


@pytest.mark.parametrize("model", ["mlp", "svm"])
def test_experiment_trains_with_waveform_augmentation(corpus, tmp_path, model):
    run = run_experiment(_cfg(model), out_dir=tmp_path / "run", data_root=corpus,
                         progress=False, cache=tmp_path / "cache")
    names = [p.name for p in (tmp_path / "cache").rglob("*.npy")]
    n_files = len(list(corpus.rglob("*.wav")))
    assert sum("-wav1-" in n for n in names) == n_files  # every file trains in some fold
    assert sum("-wav2-" in n for n in names) == n_files
    assert len(names) == 3 * n_files
    assert 0.0 <= run.results["mean"]["ua"] <= 1.0
    saved = json.loads((tmp_path / "run" / "bundle" / "bundle.json").read_text())
    assert saved["training"]["augment"]["waveform_variants"] == 2


def test_augmented_training_is_repeatable_and_differs_from_clean(corpus, tmp_path):
    cfg = _cfg("mlp")
    a = run_experiment(cfg, out_dir=tmp_path / "a", data_root=corpus, progress=False,
                       cache=tmp_path / "cache")
    b = run_experiment(cfg, out_dir=tmp_path / "b", data_root=corpus, progress=False,
                       cache=tmp_path / "cache")
    pa = (tmp_path / "a" / "predictions.csv").read_text()
    assert pa == (tmp_path / "b" / "predictions.csv").read_text()
    assert a.results["mean"] == b.results["mean"]
    clean = load_config({**config_to_dict(cfg), "augment": {}})
    run_experiment(clean, out_dir=tmp_path / "c", data_root=corpus, progress=False,
                   cache=tmp_path / "cache")
    assert pa != (tmp_path / "c" / "predictions.csv").read_text()


def test_bad_variant_count_is_a_config_error(corpus, tmp_path):
    with pytest.raises(ConfigError, match="waveform_variants"):
        run_experiment(_cfg("mlp", waveform_variants=0), out_dir=tmp_path / "r",
                       data_root=corpus, progress=False)
