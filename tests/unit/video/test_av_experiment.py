"""Audio-visual training end to end: a fused model learns the generated classes, every shipped
audio-visual config runs, one table compares them, and bundles predict video files."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from emoscope import features, models
from emoscope.cli import main
from emoscope.config import TrainConfig, load_config
from emoscope.errors import ConfigError
from emoscope.inference import Predictor
from emoscope.inference.batch import predict_files
from emoscope.testing.corpora.audiovisual import make_ravdess_av
from emoscope.testing.faces import av_clip, write_noise_video
from emoscope.testing.media import write_video
from emoscope.train.data import FeatureDataset
from emoscope.train.loop import predict_proba, train_torch_model
from emoscope.video.compare import compare_runs

AV_CONFIGS = sorted((Path(__file__).resolve().parents[3] / "configs" / "av").glob("*.yaml"))


def test_fused_model_learns_the_generated_classes(paired_av, tiny):
    df, data = paired_av
    labels = sorted(set(df.label))
    y = {i: labels.index(lab) for i, lab in zip(df.id, df.label, strict=True)}
    train = [i for i, s in zip(df.id, df.speaker, strict=True) if s in ("01", "02")]
    test = [i for i in df.id if i not in train]  # two unseen actors
    torch.manual_seed(0)
    model = models.build_model("av-fusion", input_shape=tuple(p.shape for p in data[train[0]]),
                               n_classes=4, audio=tiny["audio_stream"],
                               video=tiny["video_stream"])
    res = train_torch_model(model, TrainConfig(epochs=20, batch_size=4, lr=3e-3, seed=0), data,
                            kind=data.kind, train_ids=train, train_y=[y[i] for i in train],
                            n_classes=4)
    probs = predict_proba(res.model, FeatureDataset(data, test, [y[i] for i in test],
                                                    kind=data.kind))
    accuracy = float((probs.argmax(1) == np.array([y[i] for i in test])).mean())
    assert len(test) == 16 and accuracy >= 0.6  # chance: 0.25
    assert res.history[-1]["train_loss"] < res.history[0]["train_loss"]


def _tiny_overrides(path: Path) -> list[str]:
    """Small sizes for a config, whatever its inputs and model."""
    raw = load_config(path)
    out = ["train.epochs=1", "train.batch_size=8", "protocol.name=speaker-kfold",
           "protocol.options={k: 2}"]
    f = raw.features.name
    if f == "face-frames":
        out += ["features.n_frames=4", "features.duration=null", "features.height=24",
                "features.width=40", "features.work_height=0"]
    else:
        out += ["features.height=32", "features.width=32", "features.duration=null"]
    if raw.video is not None:
        out += ["video.features.n_frames=4", "video.features.duration=null",
                "video.features.height=24", "video.features.width=40",
                "video.features.work_height=0"]
        if raw.video.pretrain.epochs:
            out += ["video.pretrain.epochs=1"]
    name = raw.model.name
    if name == "iemocap-cnn-rnn":
        out += ["model.channels=[4, 8, 8]", "model.rnn_hidden=8", "model.hidden=8"]
    elif name == "video-3dcnn":
        out += ["model.channels=[2, 4, 4, 4]", "model.hidden=8"]
    else:
        out += ["model.audio={channels: [4, 8, 8], rnn_hidden: 8, hidden: 8, batch_norm: true}",
                "model.video={channels: [2, 4, 4, 4], hidden: 8, batch_norm: true}"]
    return out


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """Every RAVDESS audio-visual config, tiny, on 3 generated actors, compared in one table."""
    base = tmp_path_factory.mktemp("compare")
    root = make_ravdess_av(base / "RAVDESS", actors=(1, 2, 3), emotions=(1, 3, 4, 5),
                           statements=("01",), seconds=1.0)
    configs = [load_config(p, overrides=_tiny_overrides(p)) for p in AV_CONFIGS
               if p.stem.startswith("ravdess")]
    table = compare_runs(configs, out_dir=base / "runs", data_root=root, cache=base / "cache",
                         progress=False)
    return table, base / "runs", root


def test_there_are_shipped_av_configs():
    names = {p.stem for p in AV_CONFIGS}
    assert {"ravdess_av_audio_only", "ravdess_av_video_only", "ravdess_av_fusion",
            "ravdess_av_fusion_contrastive", "ravdess_av_late_fusion",
            "cremad_av_fusion"} <= names


def test_every_ravdess_av_config_runs_and_one_table_compares_them(compared):
    table, runs, _ = compared
    assert table["inputs"].tolist() == ["audio", "audio+video", "audio+video", "audio+video",
                                        "video", "audio+video"]
    assert table["name"].iloc[-1] == "late fusion (mean of the two)"
    assert table["pretraining"].str.startswith("contrastive").sum() == 1
    assert table[["ua", "wa", "macro_f1"]].apply(lambda c: c.between(0, 1)).all().all()
    assert (runs / "comparison.md").read_text().count("\n") == 2 + len(table)
    assert pd.read_csv(runs / "comparison.csv").shape[0] == len(table)
    for name in table["name"][:-1]:
        run = runs / name
        assert (run / "metrics.json").is_file() and (run / "bundle" / "bundle.json").is_file()
        meta = json.loads((run / "bundle" / "bundle.json").read_text())
        assert ("video_features" in meta) == (name not in ("ravdess-av-audio-only",
                                                           "ravdess-av-video-only"))
        if name != "ravdess-av-audio-only":
            faces = pd.read_csv(run / "faces.csv")
            assert len(faces) == 12 and (faces["detected"] == 4).all()
    pre = json.loads((runs / "ravdess-av-fusion-contrastive" / "folds" / "fold-1" /
                      "result.json").read_text())["extra"]["pretrain_history"]
    assert len(pre) == 1 and np.isfinite(pre[0]["contrastive_loss"])


def test_the_cremad_config_runs_on_flash_videos(cremad_av, tmp_path):
    from emoscope.train.experiment import run_experiment

    path = next(p for p in AV_CONFIGS if p.stem == "cremad_av_fusion")
    cfg = load_config(path, overrides=_tiny_overrides(path))
    res = run_experiment(cfg, out_dir=tmp_path / "run", data_root=cremad_av, progress=False,
                         cache=tmp_path / "cache")
    assert len(res.results["folds"]) == 2 and not res.skipped
    assert res.bundle is not None and (res.bundle / "weights.safetensors").is_file()


def test_av_configs_refuse_what_they_cannot_do():
    path = next(p for p in AV_CONFIGS if p.stem == "ravdess_av_fusion")
    with pytest.raises(ConfigError, match="mixup"):
        load_config(path, overrides=["augment.mixup_alpha=0.2"])
    with pytest.raises(ConfigError, match="audio and video inputs"):
        load_config(path, overrides=["model={name: iemocap-cnn-rnn}"])
    with pytest.raises(ConfigError, match="video feature"):
        load_config(path, overrides=["video.features={name: logmel}"])
    with pytest.raises(ConfigError, match=r"unknown key 'video\.pretrain\.epoch'"):
        load_config(path, overrides=["video.pretrain.epoch=3"])


def test_fused_bundle_predicts_video_files(compared, capsys, tmp_path):
    _, runs, root = compared
    bundle = runs / "ravdess-av-fusion" / "bundle"
    p = Predictor.from_bundle(bundle)
    assert p.needs_video
    clip = next(Path(root).rglob("01-01-05-*.mp4"))
    pred = p.predict_file(clip)
    assert pred.label in p.labels and sum(pred.probabilities.values()) == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="video"):
        p.predict(np.zeros(16000, np.float32) + 0.1, 16000)
    assert main(["predict", str(clip), "--bundle", str(bundle), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["label"] == pred.label
    assert rows[0]["probabilities"] == pytest.approx(pred.probabilities, abs=1e-5)


def test_a_long_video_gets_a_fused_timeline(compared, capsys, tmp_path):
    _, runs, _ = compared
    bundle = runs / "ravdess-av-fusion" / "bundle"
    parts = [av_clip(k, seconds=2.5, seed=k) for k in (0, 3, 0)]
    frames = np.concatenate([f for f, _ in parts])
    long = write_video(tmp_path / "long.mp4", np.concatenate([y for _, y in parts]), 16000,
                       fps=10, frames=frames)
    assert main(["predict", str(long), "--bundle", str(bundle), "--timeline",
                 "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    segs = row["segments"]
    assert segs[0]["start"] == 0.0 and segs[-1]["end"] == pytest.approx(row["duration"])
    assert all(a["end"] == pytest.approx(b["start"]) for a, b in itertools.pairwise(segs))
    assert row["duration"] == pytest.approx(7.5, abs=0.2)


def test_no_face_is_reported_not_a_crash(compared, tmp_path):
    _, runs, root = compared
    p = Predictor.from_bundle(runs / "ravdess-av-fusion" / "bundle")
    noise = write_noise_video(tmp_path / "noise.mp4", seconds=1.0)
    assert len(predict_files(p, [noise], progress=False).predictions) == 1  # centre fallback
    spec = p.video_extractor.spec()  # the bundle's inputs, with faces required
    p.inputs.video_extractor = features.create(spec["name"],
                                               **{**spec["config"], "fallback": "skip"})
    clip = next(Path(root).rglob("01-01-03-*.mp4"))
    res = predict_files(p, [noise, clip], progress=False)
    assert [f.path for f in res.predictions] == [clip]
    ((path, reason),) = res.skipped
    assert path == noise and "no face found" in reason


def test_audio_only_bundle_still_reads_the_sound_track(compared):
    _, runs, root = compared
    p = Predictor.from_bundle(runs / "ravdess-av-audio-only" / "bundle")
    assert not p.needs_video
    assert p.predict_file(next(Path(root).rglob("*.mp4"))).label in p.labels
    video_only = Predictor.from_bundle(runs / "ravdess-av-video-only" / "bundle")
    assert video_only.needs_video
    assert video_only.predict_file(next(Path(root).rglob("*.mp4"))).label in p.labels


def test_av_bundles_do_not_export_to_onnx_yet(compared, tmp_path):
    from emoscope.inference.onnx import export_onnx

    _, runs, _ = compared
    with pytest.raises(ConfigError, match="do not export to ONNX yet"):
        export_onnx(runs / "ravdess-av-fusion" / "bundle", tmp_path / "m.onnx")
