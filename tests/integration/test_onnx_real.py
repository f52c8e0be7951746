"""Torch and ONNX give the same probabilities on real speech (RAVDESS), for a CRNN-ASP bundle
exported to a file and run by onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emoscope.audio.io import load_audio
from emoscope.inference import Predictor
from emoscope.inference.onnx import export_onnx, read_onnx_metadata
from emoscope.inference.onnx.predictor import OnnxPredictor
from emoscope.testing.bundles import make_bundle

pytestmark = pytest.mark.integration

ATOL = 1e-4
#: Several actors (male and female), emotions, intensities and statements.
FILES = ("Actor_01/03-01-01-01-01-01-01", "Actor_02/03-01-05-02-01-01-02",
         "Actor_07/03-01-03-01-02-01-07", "Actor_12/03-01-04-02-02-02-12",
         "Actor_17/03-01-06-01-01-02-17", "Actor_24/03-01-08-02-02-01-24")


@pytest.fixture(scope="module")
def files(shared_data: Path) -> list[Path]:
    root = shared_data / "RAVDESS" / "audio_speech_actors_01-24"
    paths = [root / f"{name}.flac" for name in FILES]
    missing = [p for p in paths if not p.is_file()]
    assert not missing, f"missing RAVDESS files: {missing}"
    return paths


@pytest.fixture(scope="module")
def predictors(tmp_path_factory: pytest.TempPathFactory) -> tuple[Predictor, OnnxPredictor]:
    root = tmp_path_factory.mktemp("onnx-real")
    bundle = make_bundle(root / "crnn", feature="logmel", model="crnn-asp", seed=3)
    out = export_onnx(bundle, root / "crnn.onnx")
    assert read_onnx_metadata(out)["check"]["max_abs_diff"] < ATOL
    return Predictor.from_bundle(bundle), OnnxPredictor.from_onnx(out)


def test_files_agree(files: list[Path], predictors: tuple[Predictor, OnnxPredictor]) -> None:
    torch_p, onnx_p = predictors
    for path in files:
        want, got = torch_p.predict_file(path), onnx_p.predict_file(path)
        diff = max(abs(want.probabilities[k] - got.probabilities[k]) for k in want.probabilities)
        assert diff < ATOL, f"{path.name}: |torch - onnx| = {diff:.2e}"
        assert want.label == got.label


def test_batch_of_unequal_lengths_agrees(files: list[Path],
                                         predictors: tuple[Predictor, OnnxPredictor]) -> None:
    torch_p, onnx_p = predictors
    clips = [load_audio(p, sample_rate=16000)[0] for p in files]
    assert len({c.shape[-1] for c in clips}) > 1  # the torch path pads, the ONNX one does not
    want = torch_p.predict_proba(clips, 16000, batch_size=len(clips))
    got = onnx_p.predict_proba(clips, 16000, batch_size=len(clips))
    assert float(np.max(np.abs(want - got))) < ATOL


def test_long_recording_agrees(files: list[Path],
                               predictors: tuple[Predictor, OnnxPredictor]) -> None:
    """About 20 s of speech in one clip: the recurrent layer's long run stays in step."""
    torch_p, onnx_p = predictors
    y = np.concatenate([load_audio(p, sample_rate=16000)[0] for p in files])
    assert y.shape[-1] > 15 * 16000
    want = torch_p.predict_proba([y], 16000)
    got = onnx_p.predict_proba([y], 16000)
    assert float(np.max(np.abs(want - got))) < ATOL
