"""Batch prediction and feature extraction on a local two-CPU Ray, against one process:
identical labels, probabilities within 1e-6, the same skipped files with the same reasons."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from emoscope.cli import main
from emoscope.inference import Predictor
from emoscope.inference.batch import FilePrediction, find_audio_files, predict_files
from emoscope.inference.output import write_parquet
from emoscope.testing import speechlike, write_audio
from emoscope.testing.bundles import DEFAULT_LABELS, make_bundle

ray = pytest.importorskip("ray")

PROB_TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def ray_cluster():
    """One local Ray (2 CPUs) for the module; its session files in a short temp folder (Ray's
    socket paths must stay short), removed afterwards."""
    tmp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    ray.init(address="local", num_cpus=2, include_dashboard=False, _temp_dir=tmp,
             log_to_driver=False, logging_level=logging.WARNING)
    yield ray
    ray.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bundle(tmp_path_factory.mktemp("ray_bundle") / "bundle")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Nine good clips of different lengths and four bad files, in a tree."""
    root = tmp_path_factory.mktemp("ray_in") / "in"
    for i in range(1, 10):
        write_audio(root / f"clip{i}.wav", speechlike(seconds=0.6 + 0.3 * i, seed=i))
    (root / "corrupt.wav").write_bytes((root / "clip1.wav").read_bytes()[:40])
    (root / "empty.wav").touch()
    (root / "sub").mkdir()
    (root / "sub" / "text.wav").write_text("this is not audio\n" * 30)
    write_audio(root / "sub" / "silent.flac", np.zeros(16000, np.float32))
    return root


def _same(local: list[FilePrediction], remote: list[FilePrediction]) -> None:
    assert [p.path for p in remote] == [p.path for p in local]
    assert [p.label for p in remote] == [p.label for p in local]
    assert [p.duration for p in remote] == [p.duration for p in local]
    for a, b in zip(local, remote, strict=True):
        assert list(b.probabilities) == list(a.probabilities) == list(DEFAULT_LABELS)
        assert max(abs(a.probabilities[k] - b.probabilities[k]) for k in a.probabilities) \
            <= PROB_TOLERANCE


def test_predict_on_ray_matches_one_process(ray_cluster, bundle, folder):
    from emoscope.distributed.ray_batch import predict_files_ray

    files = find_audio_files([folder])
    local = predict_files(Predictor.from_bundle(bundle), files, batch_size=4, progress=False)
    remote = predict_files_ray(files, bundle=bundle, workers=2, batch_size=4, chunk_size=3,
                               progress=False)
    _same(local.predictions, remote.predictions)
    assert remote.skipped == local.skipped and len(local.skipped) == 4
    assert remote.stats.workers == 2 and remote.stats.chunks == 5
    assert remote.stats.failed_chunks == 0
    assert remote.stats.worker_peak_rss_mb and all(
        v > 10 for v in remote.stats.worker_peak_rss_mb.values())


def test_a_missing_bundle_fails_before_any_work(ray_cluster, folder, tmp_path):
    from emoscope.distributed.ray_batch import predict_files_ray
    from emoscope.errors import BundleError

    with pytest.raises(BundleError):
        predict_files_ray(find_audio_files([folder]), bundle=tmp_path / "nothing")


def _skipped_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("skipped ")]


def test_cli_predict_ray_writes_parquet_in_input_order(ray_cluster, bundle, folder, tmp_path,
                                                       capsys):
    local_csv = tmp_path / "local.csv"
    assert main(["predict", str(folder), "--bundle", str(bundle), "--out", str(local_csv)]) == 0
    local_err = capsys.readouterr().err
    address = ray_cluster.get_runtime_context().gcs_address
    out = tmp_path / "ray.parquet"
    assert main(["predict", str(folder), "--bundle", str(bundle), "--ray-address", address,
                 "--workers", "2", "--out", str(out)]) == 0
    ray_err = capsys.readouterr().err
    assert _skipped_lines(ray_err) == _skipped_lines(local_err) and _skipped_lines(ray_err)
    assert "predicted 9 file(s), skipped 4" in ray_err
    got, want = pd.read_parquet(out), pd.read_csv(local_csv)
    assert list(got.columns) == ["path", "label", "duration", *DEFAULT_LABELS]
    assert got["path"].tolist() == want["path"].tolist()
    assert got["label"].tolist() == want["label"].tolist()
    assert np.abs(got[list(DEFAULT_LABELS)].to_numpy()
                  - want[list(DEFAULT_LABELS)].to_numpy()).max() <= 5e-7  # CSV: 6 decimals


def test_cli_predict_bare_ray_flag_and_csv(ray_cluster, bundle, folder, capsys):
    assert main(["predict", str(folder), "--bundle", str(bundle), "--format", "csv",
                 "--ray"]) == 0
    ray_out = capsys.readouterr().out
    assert main(["predict", str(folder), "--bundle", str(bundle), "--format", "csv"]) == 0
    assert ray_out == capsys.readouterr().out


def test_cli_predict_ray_refusals(bundle, folder, capsys):
    assert main(["predict", str(folder), "--bundle", str(bundle), "--workers", "2"]) == 2
    assert main(["predict", str(folder), "--bundle", str(bundle), "--timeline", "--ray"]) == 2
    assert main(["predict", str(folder), "--bundle", str(bundle), "--format", "parquet"]) == 2
    assert "--out FILE.parquet" in capsys.readouterr().err


def test_ray_is_a_flag_and_the_address_an_option(bundle, folder, capsys):
    # a path right after --ray stays a path (the flag takes no value)
    assert main(["predict", "--ray", str(folder), "--bundle", str(bundle), "--timeline"]) == 2
    assert "--timeline does not run on Ray yet" in capsys.readouterr().err
    # --ray-address alone means Ray too
    assert main(["predict", str(folder), "--bundle", str(bundle), "--timeline",
                 "--ray-address", "auto"]) == 2
    assert "--timeline does not run on Ray yet" in capsys.readouterr().err


def test_write_parquet_timeline_rows(tmp_path):
    from dataclasses import dataclass

    @dataclass
    class Seg:
        start: float
        end: float
        label: str
        probabilities: dict[str, float]

    probs = {"angry": 0.25, "sad": 0.75}
    preds = [FilePrediction(Path("a.wav"), "sad", probs, 4.0,
                            [Seg(0.0, 3.0, "sad", probs), Seg(3.0, 4.0, "angry",
                                                              {"angry": 0.9, "sad": 0.1})]),
             FilePrediction(Path("b.wav"), "sad", probs, 2.0)]
    write_parquet(preds, tmp_path / "t.parquet")
    df = pd.read_parquet(tmp_path / "t.parquet")
    assert list(df.columns) == ["path", "start", "end", "label", "angry", "sad"]
    assert df["path"].tolist() == ["a.wav", "a.wav", "b.wav"]
    assert df["end"].tolist() == [3.0, 4.0, 2.0] and df["angry"].tolist() == [0.25, 0.9, 0.25]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from emoscope.testing.corpora.ravdess import make_ravdess

    root = make_ravdess(tmp_path_factory.mktemp("ray_corpus") / "r", actors=(1, 2),
                        emotions=(1, 3, 5))
    good = next(root.rglob("03-01-03-01-01-01-01.wav"))
    good.write_bytes(good.read_bytes()[:60])  # a truncated file keeps its RAVDESS name
    return root


def test_extract_on_ray_matches_one_process_and_training_reads_it(ray_cluster, corpus,
                                                                  tmp_path):
    from emoscope import corpora, features
    from emoscope.distributed.ray_common import RayStats
    from emoscope.distributed.ray_features import extract_features_ray

    df = corpora.load("ravdess", corpus)
    ext = features.create("mfcc-mean", n_mfcc=13)
    stats = RayStats()
    remote = extract_features_ray(df, ext, cache=tmp_path / "ray", workers=2, chunk_size=4,
                                  progress=False, stats=stats)
    local = features.extract_features(df, ext, cache=tmp_path / "local", progress=False)
    assert remote.keys == local.keys and len(remote) == len(df) - 1
    assert remote.failed == local.failed and len(remote.failed) == 1
    assert remote.computed == len(remote) and remote.reused == 0
    for i in local:
        np.testing.assert_array_equal(remote[i], local[i])
    assert stats.workers == 2 and stats.failed_chunks == 0
    again = features.extract_features(df, ext, cache=tmp_path / "ray", progress=False)
    assert again.computed == 0 and again.reused == len(remote)  # what training would read
    twice = extract_features_ray(df, ext, cache=tmp_path / "ray", workers=2, progress=False)
    assert twice.computed == 0 and twice.reused == len(remote) and twice.keys == remote.keys


def test_extract_on_ray_fills_the_entries_a_view_reads(ray_cluster, corpus, tmp_path):
    """An extractor read through another one's entries (``cached_view``: a layer subset of an
    encoder) is extracted on Ray into those entries, so a later local run reuses them."""
    from emoscope import corpora, features
    from emoscope.distributed.ray_features import extract_features_ray

    df = corpora.load("ravdess", corpus)
    ext = features.create("mfcc-mean", n_mfcc=5)
    full = features.create("mfcc-mean", n_mfcc=13)
    ext.cached_view = lambda: (full, lambda x: x[:3])  # type: ignore[method-assign]
    remote = extract_features_ray(df, ext, cache=tmp_path / "ray", workers=2, progress=False)
    assert remote.stored_as is full and remote.computed == len(remote) == len(df) - 1
    local = features.extract_features(df, ext, cache=tmp_path / "ray", progress=False)
    assert local.computed == 0 and local.reused == len(remote)
    plain = features.extract_features(df, full, cache=tmp_path / "ray", progress=False)
    for i in plain:
        assert remote[i].shape == (3,)
        np.testing.assert_array_equal(remote[i], plain[i][:3])
        np.testing.assert_array_equal(local[i], remote[i])


def test_cli_extract_ray(ray_cluster, corpus, tmp_path, capsys):
    cache = tmp_path / "cache"
    args = ["extract", str(corpus), "-c", "ravdess", "-f", "mfcc-mean", "-s", "n_mfcc=13",
            "--cache", str(cache)]
    assert main([*args, "--ray", "--workers", "2"]) == 0
    err = capsys.readouterr().err
    assert "mfcc-mean: 19 extracted (19 computed" in err and "1 skipped" in err
    assert len(_skipped_lines(err)) == 1
    assert main(args) == 0
    assert "19 extracted (0 computed, 19 from the cache" in capsys.readouterr().err


def test_cli_predict_starts_and_stops_its_own_local_ray(bundle, folder, tmp_path):
    """Without an address, a fresh process starts a local Ray for the run and shuts it down."""
    ray_tmp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    env = {**os.environ, "RAY_TMPDIR": ray_tmp, "OMP_NUM_THREADS": "1"}
    env.pop("RAY_ADDRESS", None)
    out = tmp_path / "p.parquet"
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "emoscope.cli", "predict", str(folder), "--bundle",
             str(bundle), "--ray", "--workers", "1", "--out", str(out)],
            env=env, capture_output=True, text=True, timeout=600)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "predicted 9 file(s), skipped 4" in proc.stderr
    assert len(pd.read_parquet(out)) == 9
