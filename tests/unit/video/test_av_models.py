"""The 3D CNN video stream and the two fusion models."""

from __future__ import annotations

import json

import pytest
import torch

from emoscope import models
from emoscope.errors import ConfigError
from emoscope.models.av_fusion import crnn_embed

AUDIO = (1, 32, 32)
VIDEO = (6, 1, 24, 40)
SMALL_A = {"channels": [4, 8, 8], "rnn_hidden": 8, "hidden": 12}
SMALL_V = {"channels": [2, 4, 4, 4], "hidden": 12}


def _batch(n=3):
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, *AUDIO, generator=g), torch.rand(n, *VIDEO, generator=g)


def test_video_3dcnn_shapes():
    m = models.build_model("video-3dcnn", input_shape=VIDEO, n_classes=4, **SMALL_V)
    x = _batch()[1]
    assert m(x).shape == (3, 4) and m.embed(x).shape == (3, 12)
    one = models.build_model("video-3dcnn", input_shape=(1, 3, 8, 8), n_classes=2,
                             channels=[2, 2, 2, 2])  # a single tiny frame still goes through
    assert one(torch.rand(2, 1, 3, 8, 8)).shape == (2, 2)
    with pytest.raises(ConfigError, match="1-channel frames"):
        m(torch.rand(2, 6, 3, 24, 40))
    with pytest.raises(ConfigError, match="takes video"):
        models.build_model("video-3dcnn", input_shape=AUDIO, n_classes=4)


def test_the_default_3dcnn_has_the_study_layout():
    m = models.build_model("video-3dcnn", input_shape=(20, 1, 60, 100), n_classes=8)
    convs = [mod for mod in m.modules() if isinstance(mod, torch.nn.Conv3d)]
    pools = [mod for mod in m.modules() if isinstance(mod, torch.nn.MaxPool3d)]
    linears = [mod for mod in m.modules() if isinstance(mod, torch.nn.Linear)]
    assert (len(convs), len(pools), len(linears)) == (4, 3, 2)


@pytest.mark.parametrize("name", ["av-fusion", "av-late-fusion"])
def test_fusion_models(name):
    torch.manual_seed(0)
    m = models.build_model(name, input_shape=(AUDIO, VIDEO), n_classes=4, audio=SMALL_A,
                           video=SMALL_V).eval()
    assert m.input_kind == "image+video"
    x = _batch()
    out = m(x)
    assert out.shape == (3, 4) and torch.isfinite(out).all()
    za, zv = m.embed_pair(x)
    assert za.shape == (3, 12) and zv.shape == (3, 12)
    spec = json.loads(json.dumps(models.model_spec(m)))  # nested shapes survive JSON
    again = models.build_model(spec)
    again.load_state_dict(m.state_dict())
    assert torch.allclose(again.eval()(x), out)
    with pytest.raises(ConfigError, match="tuple of 2"):
        m(x[0])


def test_fusion_concatenates_the_last_hidden_layers():
    torch.manual_seed(0)
    m = models.build_model("av-fusion", input_shape=(AUDIO, VIDEO), n_classes=3, audio=SMALL_A,
                           video=SMALL_V).eval()
    x = _batch()
    za, zv = m.embed_pair(x)
    assert m.out[1].in_features == 24
    assert torch.allclose(m(x), m.out(torch.cat([za, zv], 1)))
    # the audio embedding is the CNN+RNN's forward pass without its output layer
    assert torch.allclose(m.audio.head[-1](crnn_embed(m.audio, x[0])), m.audio(x[0]))


def test_late_fusion_mixes_probabilities():
    torch.manual_seed(0)
    m = models.build_model("av-late-fusion", input_shape=(AUDIO, VIDEO), n_classes=4,
                           audio=SMALL_A, video=SMALL_V, audio_weight=0.25).eval()
    x = _batch()
    pa = torch.softmax(m.audio(x[0]), -1)
    pv = torch.softmax(m.video(x[1]), -1)
    assert torch.allclose(m(x).exp(), 0.25 * pa + 0.75 * pv, atol=1e-6)
    assert torch.allclose(torch.softmax(m(x), -1), 0.25 * pa + 0.75 * pv, atol=1e-6)


@pytest.mark.parametrize("bad", [dict(audio={"channelz": [1]}), dict(video={"hidden": 0}),
                                 dict(audio_model="transformer"), dict(dropout=1.5)])
def test_fusion_options_are_checked(bad):
    with pytest.raises(ConfigError):
        models.build_model("av-fusion", input_shape=(AUDIO, VIDEO), n_classes=4, **bad)
