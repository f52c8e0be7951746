"""The ``whisper`` feature on the real Whisper-base encoder and a real RAVDESS clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emoscope import features
from emoscope.audio.io import load_audio

MODEL = Path(__file__).resolve().parents[3] / "shared" / "models" / "whisper-base"


@pytest.fixture(scope="module")
def whisper_base():
    if not (MODEL / "model.safetensors").is_file():
        pytest.skip("../shared/models/whisper-base is not present")
    return MODEL


def test_real_encoder_on_a_real_clip(whisper_base, shared_data):
    clip = next((shared_data / "RAVDESS").rglob("03-01-05-*.flac"))
    y, sr = load_audio(clip)
    ext = features.create("whisper", model_path=str(whisper_base))
    v = ext(y, sr)
    assert ext.layer_indices == tuple(range(7)) and ext.hidden_size == 512
    assert v.shape == (7 * 2 * 512,) and np.isfinite(v).all()
    # the encoder-only folder's float16 weights load as float32, deterministically
    np.testing.assert_array_equal(v, ext(y, sr))
    frames = features.create("whisper", model_path=str(whisper_base), layers=(3,),
                             pooling="none")(y, sr)
    assert frames.shape[1] == 512 and abs(frames.shape[0] - y.shape[-1] / sr * 50) <= 1
