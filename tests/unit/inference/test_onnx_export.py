"""ONNX export and OnnxPredictor: every torch model family exports and agrees with torch on
generated audio, the file describes itself, and every refusal is one of our errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emoscope import models
from emoscope.errors import BundleError, ConfigError, EmoscopeError
from emoscope.inference import Predictor
from emoscope.inference.onnx import (
    INPUT_NAME,
    OUTPUT_NAME,
    export_onnx,
    read_onnx_metadata,
)
from emoscope.inference.onnx import export as onnx_export
from emoscope.inference.onnx.predictor import OnnxPredictor
from emoscope.testing import chirp, noise, speechlike, tone
from emoscope.testing.bundles import DEFAULT_LABELS, make_bundle

ATOL = 1e-4

#: Small configs so that each export takes a second; models not named here use their defaults.
TINY: dict[str, dict] = {
    "crnn-asp": {"channels": [4, 8, 8], "time_pool": [2, 2, 1], "rnn_hidden": 16,
                 "attention_dim": 8, "hidden": 16},
    "tdnn-asp": {"channels": 16, "dilations": [1, 2], "se_bottleneck": 4, "aggregate": 16,
                 "attention_dim": 8, "hidden": 16},
    "tess-lstm": {"hidden": 32, "dense": [16]},
    "mlp": {"hidden": [32, 16]},
    "iemocap-cnn": {"channels": [4, 8, 8], "hidden": 16},
    "iemocap-cnn-rnn": {"channels": [4, 8, 8], "rnn_hidden": 16, "hidden": 16},
    "iemocap-cnn-lstm": {"channels": [4, 8, 8], "rnn_hidden": 16, "hidden": 16},
    "ssl-head": {"hidden": [16], "attention_dim": 8},
    "layer-weighted-mlp": {"n_layers": 4, "hidden": [16]},  # mfcc-mean: 4 blocks of 10
    "layer-weighted-asp": {"n_layers": 4, "hidden": 16, "attention_dim": 8},  # 32 mels: 4 x 8
}
#: A feature of each kind (ssl-head gets the ssl feature of a tiny encoder instead).
FEATURE_OF_KIND: dict[str, tuple[str, dict]] = {
    "vector": ("mfcc-mean", {}),
    "sequence": ("logmel", {"n_mels": 32}),
    "image": ("spectrogram-image", {"height": 32, "width": 48}),
}


def _cases() -> list[tuple[str, str]]:
    """Every registered torch model, with every audio feature kind it takes (video and
    audio-visual models refuse export: tests/unit/video/test_av_experiment.py)."""
    out = []
    for name in models.available():
        cls = models.MODELS.get(name)
        if cls.family == "torch":
            out += [(name, kind) for kind in cls.input_kinds if kind in FEATURE_OF_KIND]
    return sorted(set(out))


CASES = _cases()
#: Known exporter refusals: model code that the tracer specialises (the export is refused).
KNOWN_BAD: dict[tuple[str, str], str] = {}


def _params() -> list:
    return [pytest.param(m, k, id=f"{m}-{k}",
                         marks=[pytest.mark.xfail(reason=KNOWN_BAD[(m, k)], raises=EmoscopeError,
                                                  strict=False)] if (m, k) in KNOWN_BAD else [])
            for m, k in CASES]


def _clips() -> list[np.ndarray]:
    """Generated audio of several lengths; two of one length (so they batch together)."""
    return [speechlike(seconds=0.6, f0=220.0, seed=1),
            speechlike(seconds=1.4, f0=140.0, seed=2),
            chirp(120.0, 3000.0, seconds=2.9) * 0.3,
            (tone(200.0, seconds=1.4) * 0.2 + noise(seconds=1.4, amplitude=0.02)),
            speechlike(seconds=1.4, f0=180.0, seed=5)]


class _Bundles(dict):
    """Bundles made on first use, one per case (the ssl encoder too), shared by the module."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.encoder: Path | None = None

    def __missing__(self, key: tuple[str, str]) -> Path:
        model, kind = key
        if model == "ssl-head":
            if self.encoder is None:
                from emoscope.testing.ssl import make_tiny_encoder

                self.encoder = make_tiny_encoder(self.root / "encoder", hidden_size=16)
            feature, options = "ssl", {"model_path": str(self.encoder),
                                       "pooling": "none" if kind == "sequence" else "mean"}
        else:
            feature, options = FEATURE_OF_KIND[kind]
        self[key] = make_bundle(self.root / f"{model}-{kind}", feature=feature,
                                feature_options=options, model=model,
                                model_options=TINY.get(model))
        return self[key]


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> _Bundles:
    return _Bundles(tmp_path_factory.mktemp("onnx-bundles"))


@pytest.fixture(scope="module")
def crnn(bundles: _Bundles) -> Path:
    return bundles[("crnn-asp", "sequence")]


@pytest.fixture(scope="module")
def crnn_onnx(crnn: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_onnx(crnn, tmp_path_factory.mktemp("onnx") / "crnn.onnx")


# ------------------------------------------------------------------------ every model family


def test_cases_cover_the_known_families() -> None:
    names = {m for m, _ in CASES}
    assert {"mlp", "tess-lstm", "iemocap-cnn", "iemocap-cnn-rnn", "iemocap-cnn-lstm",
            "crnn-asp", "ssl-head"} <= names
    assert ("tess-lstm", "sequence") in CASES and ("tess-lstm", "vector") in CASES


@pytest.mark.parametrize(("model", "kind"), _params())
def test_every_family_exports_and_agrees_with_torch(model: str, kind: str, bundles: _Bundles,
                                                    tmp_path: Path) -> None:
    bundle = bundles[(model, kind)]
    out = export_onnx(bundle, tmp_path / "m.onnx")
    assert out == tmp_path / "m.onnx" and out.is_file()
    meta = read_onnx_metadata(out)
    assert meta["check"]["max_abs_diff"] < ATOL
    assert meta["input"]["kind"] == kind and meta["model"]["name"] == model

    torch_p, onnx_p = Predictor.from_bundle(bundle), OnnxPredictor.from_onnx(out)
    clips = _clips()
    want = torch_p.predict_proba(clips, 16000, batch_size=8)  # padded batches in torch
    got = onnx_p.predict_proba(clips, 16000, batch_size=8)
    assert got.shape == (len(clips), len(DEFAULT_LABELS)) and got.dtype == np.float32
    assert float(np.max(np.abs(want - got))) < ATOL
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)
    assert [torch_p.prediction(r).label for r in want] == [onnx_p.prediction(r).label
                                                             for r in got]


def test_graph_shapes_are_dynamic_where_they_should_be(crnn_onnx: Path) -> None:
    import onnxruntime as ort

    s = ort.InferenceSession(str(crnn_onnx), providers=["CPUExecutionProvider"])
    (inp,), (out,) = s.get_inputs(), s.get_outputs()
    assert (inp.name, out.name) == (INPUT_NAME, OUTPUT_NAME)
    assert inp.shape == ["batch", "frames", 32] and out.shape == ["batch", len(DEFAULT_LABELS)]
    for b, t in [(1, 7), (3, 160), (2, 1001)]:
        x = np.random.default_rng(t).standard_normal((b, t, 32)).astype(np.float32)
        p = s.run(None, {INPUT_NAME: x})[0]
        assert p.shape == (b, len(DEFAULT_LABELS))
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)


def test_image_graph_has_fixed_image_size(bundles: _Bundles, tmp_path: Path) -> None:
    out = export_onnx(bundles[("iemocap-cnn-rnn", "image")], tmp_path / "img.onnx")
    assert read_onnx_metadata(out)["input"]["shape"] == ["batch", 3, 32, 48]


@pytest.mark.parametrize("model", ["iemocap-cnn", "iemocap-cnn-rnn"])
def test_images_whose_size_pooling_does_not_divide(model: str, tmp_path: Path) -> None:
    """40 x 40 pixels: 5 x 5 after the conv blocks, pooled to 4 (not a whole multiple)."""
    bundle = make_bundle(tmp_path / "b", feature="spectrogram-image",
                         feature_options={"height": 40, "width": 40, "channels": 1},
                         model=model, model_options=TINY[model])
    out = export_onnx(bundle, tmp_path / "m.onnx")
    assert read_onnx_metadata(out)["check"]["max_abs_diff"] < ATOL
    clips = _clips()
    want = Predictor.from_bundle(bundle).predict_proba(clips, 16000)
    got = OnnxPredictor.from_onnx(out).predict_proba(clips, 16000)
    assert float(np.max(np.abs(want - got))) < ATOL


# ------------------------------------------------------------------ self-describing metadata


def test_metadata_describes_the_bundle(crnn: Path, crnn_onnx: Path) -> None:
    bundle = json.loads((crnn / "bundle.json").read_text())
    meta = read_onnx_metadata(crnn_onnx)
    assert meta["format"] == "emoscope-onnx" and meta["format_version"] == 1
    assert meta["labels"] == list(DEFAULT_LABELS)
    assert meta["features"] == bundle["features"]
    assert meta["standardizer"] == bundle["standardizer"]
    assert meta["model"] == bundle["model"]
    assert meta["opset"] == onnx_export.DEFAULT_OPSET
    assert meta["output"] == {"name": OUTPUT_NAME, "dtype": "float32",
                              "shape": ["batch", 4], "softmax": True}
    assert meta["bundle"]["path"] == str(crnn.resolve())
    assert meta["model_card"] == (crnn / "MODEL_CARD.md").read_text()
    assert 0.0 <= meta["check"]["max_abs_diff"] < ATOL
    assert 0.0 <= meta["check"]["max_abs_log_diff"] < onnx_export.LOG_ATOL
    assert meta["check"]["trace_seconds"] not in meta["check"]["clip_seconds"]


def test_metadata_is_readable_with_onnxruntime_alone(crnn_onnx: Path) -> None:
    import onnxruntime as ort

    s = ort.InferenceSession(str(crnn_onnx), providers=["CPUExecutionProvider"])
    m = s.get_modelmeta()
    assert m.producer_name == "emoscope"
    assert json.loads(m.custom_metadata_map["emoscope"])["labels"] == list(DEFAULT_LABELS)


def test_standardising_by_hand_matches_the_predictor(crnn_onnx: Path) -> None:
    """What a non-Python consumer does: extractor, (x - mean) / std, run the graph."""
    import onnxruntime as ort

    from emoscope import features

    meta = read_onnx_metadata(crnn_onnx)
    y = speechlike(seconds=1.2, seed=9)
    x = features.create(meta["features"])(y, 16000)
    std = meta["standardizer"]
    x = ((x - np.asarray(std["mean"], np.float32)) / np.asarray(std["std"], np.float32))
    s = ort.InferenceSession(str(crnn_onnx), providers=["CPUExecutionProvider"])
    by_hand = s.run(None, {INPUT_NAME: x[None].astype(np.float32)})[0][0]
    np.testing.assert_allclose(by_hand, OnnxPredictor.from_onnx(crnn_onnx).predict_proba(
        [y], 16000)[0], atol=1e-6)


@pytest.mark.parametrize("opset", [13, 20])
def test_other_opsets(crnn: Path, tmp_path: Path, opset: int) -> None:
    out = export_onnx(crnn, tmp_path / "o.onnx", opset=opset)
    import onnx

    model = onnx.load(str(out))
    assert {o.version for o in model.opset_import if o.domain in ("", "ai.onnx")} == {opset}
    assert read_onnx_metadata(out)["opset"] == opset


# ----------------------------------------------------------------------------- OnnxPredictor


def test_from_bundle_in_memory_equals_torch(crnn: Path) -> None:
    p = OnnxPredictor.from_bundle(crnn)
    assert p.onnx_path is None and "in memory" in repr(p)
    assert p.metadata["check"]["max_abs_diff"] < ATOL
    clips = _clips()
    want = Predictor.from_bundle(crnn).predict_proba(clips, 16000)
    assert float(np.max(np.abs(p.predict_proba(clips, 16000) - want))) < ATOL
    pred = p.predict(clips[1], 16000)
    assert pred.label in DEFAULT_LABELS and list(pred.probabilities) == list(DEFAULT_LABELS)


def test_from_bundle_with_its_export(crnn: Path, crnn_onnx: Path) -> None:
    p = OnnxPredictor.from_bundle(crnn, crnn_onnx, intra_op_threads=2)
    assert p.onnx_path == crnn_onnx and p.intra_op_threads == 2
    assert p.info["runtime"] == "onnxruntime" and p.info["onnx"]["opset"] == 17
    assert p.info["model"] == "crnn-asp" and p.info["labels"] == list(DEFAULT_LABELS)


def test_from_bundle_refuses_another_bundles_export(crnn_onnx: Path, tmp_path: Path) -> None:
    other = make_bundle(tmp_path / "other", feature="logmel", feature_options={"n_mels": 32},
                        model="crnn-asp", model_options=TINY["crnn-asp"],
                        labels=("a", "b", "c", "d"))
    with pytest.raises(BundleError, match="was not exported from"):
        OnnxPredictor.from_bundle(other, crnn_onnx)


def test_from_onnx_needs_no_bundle(crnn: Path, crnn_onnx: Path, tmp_path: Path) -> None:
    alone = tmp_path / "alone.onnx"
    alone.write_bytes(crnn_onnx.read_bytes())
    p = OnnxPredictor.from_onnx(alone)
    assert p.labels == list(DEFAULT_LABELS) and p.sample_rate == 16000
    assert p.bundle.model is None and p.info["model_card"]
    assert "OnnxPredictor(crnn-asp on logmel" in repr(p)
    y = speechlike(seconds=1.1, seed=4)
    want = Predictor.from_bundle(crnn).predict(y, 16000).probabilities
    got = p.predict(y, 16000).probabilities
    assert max(abs(want[k] - got[k]) for k in want) < ATOL


def test_from_onnx_does_not_import_torch(crnn_onnx: Path) -> None:
    code = ("import sys\n"
            "from emoscope.inference.onnx.predictor import OnnxPredictor\n"
            "from emoscope.testing.synth import speechlike\n"
            f"p = OnnxPredictor.from_onnx({str(crnn_onnx)!r})\n"
            "print(p.predict(speechlike(seconds=1.0), 16000).label)\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() in DEFAULT_LABELS


def test_unequal_lengths_run_one_by_one(crnn_onnx: Path) -> None:
    p = OnnxPredictor.from_onnx(crnn_onnx)
    clips = _clips()
    feats = [p.features(c, 16000) for c in clips]
    together = p.proba_from_features(feats)
    alone = np.concatenate([p.proba_from_features([f]) for f in feats])
    np.testing.assert_allclose(together, alone, atol=1e-6)
    assert p.proba_from_features([]).shape == (0, len(DEFAULT_LABELS))


def test_wrong_feature_shape_is_a_config_error(crnn_onnx: Path) -> None:
    p = OnnxPredictor.from_onnx(crnn_onnx)
    with pytest.raises(ConfigError, match=r"sequence features of shape \(frames, 32\)"):
        p.proba_from_features([np.zeros((10, 40), np.float32)])
    with pytest.raises(ConfigError):
        p.proba_from_features([np.zeros(32, np.float32)])


@pytest.mark.parametrize("threads", [-1, 1.5, True])
def test_bad_thread_count(crnn_onnx: Path, threads: object) -> None:
    with pytest.raises(ConfigError, match="intra_op_threads"):
        OnnxPredictor.from_onnx(crnn_onnx, intra_op_threads=threads)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------- refusals


def _sklearn_bundle(path: Path) -> Path:
    from emoscope import features
    from emoscope.bundle import TrainedModel, save_bundle
    from emoscope.config import load_config

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((24, 40)), np.arange(24) % 4
    net = models.build_model("logreg", input_shape=(40,), n_classes=4).fit(x, y)
    cfg = load_config({"name": "tiny", "data": {"corpus": "folder"},
                       "protocol": {"name": "random"}, "features": {"name": "mfcc-mean"},
                       "model": {"name": "logreg"}})
    metrics = {"protocol": "none", "leaky": False, "folds": [], "mean": {}, "std": {}}
    trained = TrainedModel(model_spec=models.model_spec(net), family="sklearn",
                           sklearn_state=net.get_state())
    return save_bundle(path, extractor=features.create("mfcc-mean"), labels=list(DEFAULT_LABELS),
                       trained=trained, metrics=metrics, config=cfg, fold_name="untrained",
                       protocol=None)


def test_sklearn_bundle_is_refused_clearly(tmp_path: Path) -> None:
    bundle = _sklearn_bundle(tmp_path / "sk")
    with pytest.raises(ConfigError, match="only torch bundles export to ONNX"):
        export_onnx(bundle, tmp_path / "sk.onnx")
    with pytest.raises(ConfigError, match="only torch bundles export to ONNX"):
        OnnxPredictor.from_bundle(bundle)
    assert not (tmp_path / "sk.onnx").exists()


def test_missing_bundle_is_a_bundle_error(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no such model bundle"):
        export_onnx(tmp_path / "nope", tmp_path / "x.onnx")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError, match="not a model bundle"):
        export_onnx(tmp_path / "empty", tmp_path / "x.onnx")
    with pytest.raises(BundleError):
        OnnxPredictor.from_bundle(tmp_path / "nope")
    assert not (tmp_path / "x.onnx").exists()


@pytest.mark.parametrize("opset", [12, 21, "17", True])
def test_bad_opset(crnn: Path, tmp_path: Path, opset: object) -> None:
    with pytest.raises(ConfigError, match="opset"):
        export_onnx(crnn, tmp_path / "x.onnx", opset=opset)  # type: ignore[arg-type]


def test_output_that_is_a_folder(crnn: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder"):
        export_onnx(crnn, tmp_path)


def test_disagreement_is_refused_and_nothing_written(crnn: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "bad.onnx"
    out.write_bytes(b"previous")
    monkeypatch.setattr(onnx_export, "_compare", lambda *a, **k: (0.25, 0.0))
    with pytest.raises(EmoscopeError, match=r"disagrees with torch.*0\.25"):
        export_onnx(crnn, out)
    assert out.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["bad.onnx"]


def test_a_size_frozen_by_the_tracer_is_caught(crnn: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A real disagreement, no mock of the check: a pooling that divides by the number of
    frames as a Python float, which the tracer records as the traced clip's constant."""
    import torch

    from emoscope.models.layers import AttentiveStatsPool

    def frozen_mean(self: AttentiveStatsPool, x: torch.Tensor,
                    mask: torch.Tensor | None = None) -> torch.Tensor:
        mean = x.sum(1) / float(x.shape[1])  # (B, dim)
        return torch.cat([mean, mean], dim=1)  # (B, 2 * dim)

    monkeypatch.setattr(AttentiveStatsPool, "forward", frozen_mean)
    with pytest.raises(EmoscopeError, match=r"disagrees with torch \(a size frozen"):
        export_onnx(crnn, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_untranslatable_model_is_a_config_error(crnn: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    def fail(*args: object, **kwargs: object) -> None:
        raise torch.onnx.errors.UnsupportedOperatorError("aten::thing", 17, None)

    monkeypatch.setattr(torch.onnx, "export", fail)
    with pytest.raises(ConfigError, match=r"'crnn-asp' .* cannot be exported to ONNX opset 17"):
        export_onnx(crnn, tmp_path / "x.onnx")


def test_not_an_onnx_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"definitely not protobuf \x00\x01")
    with pytest.raises(BundleError, match="not a model onnxruntime can run"):
        OnnxPredictor.from_onnx(junk)
    with pytest.raises(BundleError, match="not an ONNX model"):
        read_onnx_metadata(junk)
    with pytest.raises(BundleError, match="no such ONNX file"):
        OnnxPredictor.from_onnx(tmp_path / "missing.onnx")


def test_onnx_without_our_metadata(crnn_onnx: Path, tmp_path: Path) -> None:
    import onnx

    model = onnx.load(str(crnn_onnx))
    del model.metadata_props[:]
    bare = tmp_path / "bare.onnx"
    onnx.save(model, str(bare))
    with pytest.raises(BundleError, match="not an emoscope ONNX export"):
        OnnxPredictor.from_onnx(bare)
    with pytest.raises(BundleError, match="not an emoscope ONNX export"):
        read_onnx_metadata(bare)
    newer = json.loads(onnx.load(str(crnn_onnx)).metadata_props[0].value)
    newer["format_version"] = 99
    entry = model.metadata_props.add()
    entry.key, entry.value = "emoscope", json.dumps(newer)
    onnx.save(model, str(bare))
    with pytest.raises(BundleError, match="newer than this emoscope reads"):
        OnnxPredictor.from_onnx(bare)
