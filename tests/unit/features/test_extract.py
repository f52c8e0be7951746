"""Corpus-wide extraction: parallel equals serial, the cache is reused, bad files are skipped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emoscope import corpora
from emoscope.audio import load_audio
from emoscope.errors import ConfigError
from emoscope.features import FeatureCache, cached_paths, create, extract_features
from emoscope.testing import chirp, write_audio
from emoscope.testing.corpora.tess import make_tess


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    root = make_tess(tmp_path_factory.mktemp("tess"), words=("back", "bar"))
    df = corpora.load("tess", root)
    bad_dir = root / "broken"
    bad_dir.mkdir()
    (bad_dir / "YAF_empty_sad.wav").write_bytes(b"")
    (bad_dir / "YAF_text_sad.wav").write_text("not audio\n" * 20)
    bad = pd.DataFrame({"id": ["YAF_empty_sad", "YAF_text_sad"],
                        "path": [str(bad_dir / "YAF_empty_sad.wav"),
                                 str(bad_dir / "YAF_text_sad.wav")]})
    return pd.concat([df[["id", "path"]], bad], ignore_index=True)


def test_serial_extraction_skips_bad_files_and_matches_direct_calls(tmp_path, manifest):
    ext = create("mfcc-mean", n_mfcc=13)
    fs = extract_features(manifest, ext, cache=tmp_path, progress=False)
    assert len(fs) == 28 and fs.computed == 28 and fs.reused == 0
    assert [p.rsplit("/", 1)[-1] for p, _ in fs.failed] == ["YAF_empty_sad.wav",
                                                           "YAF_text_sad.wav"]
    assert "empty" in fs.failed[0][1] and "not a readable" in fs.failed[1][1]
    row = manifest.iloc[3]
    y, sr = load_audio(row.path)
    np.testing.assert_allclose(fs[row.id], ext(y, sr), rtol=1e-6)
    frame = fs.to_frame()
    assert frame.shape == (28, 13) and list(frame.columns[:2]) == ["mfcc0_mean", "mfcc1_mean"]
    assert all(p.is_file() for p in cached_paths(fs).values())


def test_second_run_reuses_the_cache(tmp_path, manifest):
    first = extract_features(manifest, "mfcc-mean", cache=tmp_path, progress=False)
    again = extract_features(manifest, "mfcc-mean", cache=tmp_path, progress=False)
    assert again.computed == 0 and again.reused == 28
    np.testing.assert_array_equal(first.stack(), again.stack())


def test_two_workers_give_the_same_features(tmp_path, manifest):
    serial = extract_features(manifest, "mfcc-mean", cache=tmp_path / "a", progress=False)
    par = extract_features(manifest, "mfcc-mean", cache=tmp_path / "b", workers=2,
                           progress=False)
    assert par.keys == serial.keys and par.failed == serial.failed
    np.testing.assert_array_equal(par.stack(list(serial)), serial.stack())


def test_segments_of_a_long_file(tmp_path):
    p = write_audio(tmp_path / "long.wav", chirp(seconds=3.0, f0=100, f1=3000), 16000)
    df = pd.DataFrame({"id": ["a", "b"], "path": [str(p)] * 2, "start": [0.0, 2.0],
                       "end": [1.0, 3.0]})
    fs = extract_features(df, "mfcc-mean", cache=tmp_path / "c", progress=False)
    assert fs.keys["a"] != fs.keys["b"]
    assert not np.allclose(fs["a"], fs["b"])


def test_paths_as_ids_and_bad_options(tmp_path, manifest):
    paths = list(manifest.path[:3])
    fs = extract_features(paths, "mfcc-mean", cache=FeatureCache(tmp_path), progress=False)
    assert set(fs) == set(paths)
    with pytest.raises(ConfigError):
        extract_features(paths, "mfcc-mean", cache=tmp_path, workers=0, progress=False)
    with pytest.raises(ConfigError):
        extract_features(pd.DataFrame({"id": ["a", "a"], "path": paths[:2]}), "mfcc-mean",
                         cache=tmp_path, progress=False)
    with pytest.raises(ConfigError):
        create("mfcc-mean", bogus=1)


def test_membership_does_not_read_the_cache(tmp_path, monkeypatch):
    from emoscope.features import FeatureSet

    ext = create("mfcc-mean", n_mfcc=4)
    cache = FeatureCache(tmp_path)
    cache.put("k0", ext, np.zeros(4, np.float32))
    fs = FeatureSet(ext, cache, {"a": "k0"})
    monkeypatch.setattr(FeatureCache, "get", lambda *a, **k: pytest.fail("read from disk"))
    assert "a" in fs and "b" not in fs
