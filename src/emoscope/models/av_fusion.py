"""Audio-visual fusion: the IEMOCAP study's CNN+RNN audio stream beside its 3D CNN video stream.

Both models take a pair of inputs: a spectrogram image ``(B, C, H, W)`` (the ``spectrogram-image``
feature) and a clip's face frames ``(B, T, C', H', W')`` (``face-frames``)::

    av-fusion (the study's):
      audio: CNN + RNN (emoscope.models.iemocap_crnn) up to its last hidden layer  (B, h_a)
      video: 3D CNN (emoscope.models.video_cnn3d) up to its last hidden layer      (B, h_v)
      concatenate                                                                  (B, h_a + h_v)
      Dropout -> Linear(h_a + h_v, n_classes): one output layer

    av-late-fusion:
      each stream with its own classifier; the output is the log of the weighted mean of the
      two streams' probabilities, w * p_audio + (1 - w) * p_video (log-probabilities are valid
      logits: their softmax is the mixture itself)

Both expose :meth:`embed_pair` (the two last hidden layers), which the contrastive
pre-training of :mod:`emoscope.train.contrastive` pulls together for the same clip and pushes
apart for different clips.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from emoscope.errors import ConfigError
from emoscope.models.base import ModelConfig, TorchModel, register_model
from emoscope.models.iemocap_crnn import IemocapCLSTM, IemocapCRNN
from emoscope.models.layers import run_rnn
from emoscope.models.video_cnn3d import Video3DCNN

__all__ = ["AVFusion", "AVFusionConfig", "AVLateFusion", "AVLateFusionConfig", "crnn_embed"]

_AUDIO = {"iemocap-cnn-rnn": IemocapCRNN, "iemocap-cnn-lstm": IemocapCLSTM}


def crnn_embed(model: IemocapCRNN, x: torch.Tensor) -> torch.Tensor:
    """The last hidden layer ``(B, hidden)`` of the IEMOCAP CNN+RNN for images ``(B, C, H, W)``:
    its forward pass without the output layer (``model.head[-1]`` of this is ``model(x)``)."""
    model.check_batch(x)
    for block in model.convs:
        x, _ = block(x)  # (B, C_i, H / 2^i, W / 2^i)
    x = model.freq_pool(x)  # (B, C, freq_bins, W')
    x = x.flatten(1, 2).transpose(1, 2)  # (B, W', C * freq_bins)
    _, last = run_rnn(model.rnn, x, None)  # (B, rnn_hidden)
    return model.head[:-1](last)  # (B, hidden)


def _check_streams(cfg: Any) -> None:
    """Build the two streams' configs so that a bad option fails when the config is made."""
    _AUDIO[cfg.audio_model].Config.from_dict(dict(cfg.audio))
    Video3DCNN.Config.from_dict(dict(cfg.video))


@dataclass(frozen=True)
class AVFusionConfig(ModelConfig):
    """Options of :class:`AVFusion`.

    Attributes
    ----------
    audio_model : {"iemocap-cnn-rnn", "iemocap-cnn-lstm"}
        The audio stream.
    audio : dict
        Its options (:class:`~emoscope.models.iemocap_crnn.IemocapCRNNConfig`).
    video : dict
        The 3D CNN's options (:class:`~emoscope.models.video_cnn3d.Video3DCNNConfig`).
    dropout : float
        Dropout on the concatenated hidden layers, before the output layer.
    """

    audio_model: Literal["iemocap-cnn-rnn", "iemocap-cnn-lstm"] = "iemocap-cnn-rnn"
    audio: dict[str, Any] = field(default_factory=dict)
    video: dict[str, Any] = field(default_factory=dict)
    dropout: float = 0.2

    def validate(self) -> None:
        self._probability("dropout")
        _check_streams(self)


@dataclass(frozen=True)
class AVLateFusionConfig(ModelConfig):
    """Options of :class:`AVLateFusion`.

    Attributes
    ----------
    audio_model, audio, video :
        As :class:`AVFusionConfig`.
    audio_weight : float
        ``w`` of ``w * p_audio + (1 - w) * p_video``, in [0, 1].
    """

    audio_model: Literal["iemocap-cnn-rnn", "iemocap-cnn-lstm"] = "iemocap-cnn-rnn"
    audio: dict[str, Any] = field(default_factory=dict)
    video: dict[str, Any] = field(default_factory=dict)
    audio_weight: float = 0.5

    def validate(self) -> None:
        if not 0.0 <= self.audio_weight <= 1.0:
            raise ConfigError(f"AVLateFusionConfig: option audio_weight={self.audio_weight!r} "
                              "must be in [0, 1]")
        _check_streams(self)


class _TwoStreams(TorchModel):
    """The audio and video streams, built from a pair of input shapes."""

    def __init__(self, config: Any, *, input_shape: tuple[Any, ...], n_classes: int) -> None:
        super().__init__(config, input_shape=input_shape, n_classes=n_classes)
        c = self.config
        audio_shape, video_shape = self.input_shape
        cls = _AUDIO[c.audio_model]
        self.audio = cls(cls.Config.from_dict(dict(c.audio)), input_shape=audio_shape,
                         n_classes=n_classes)
        self.video = Video3DCNN(Video3DCNN.Config.from_dict(dict(c.video)),
                                input_shape=video_shape, n_classes=n_classes)

    @property
    def embed_dims(self) -> tuple[int, int]:
        """Sizes of the two last hidden layers (audio, video)."""
        return self.audio.config.hidden, self.video.embed_dim

    def embed_pair(self, x: tuple[torch.Tensor, torch.Tensor]
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        """The two streams' last hidden layers ``(B, h_a)``, ``(B, h_v)`` for a batch
        ``(images (B, C, H, W), frames (B, T, C', H', W'))``."""
        self.check_batch(x)
        return crnn_embed(self.audio, x[0]), self.video.embed(x[1])


@register_model("av-fusion", input_kinds=("image+video",))
class AVFusion(_TwoStreams):
    """CNN+RNN audio stream and 3D CNN video stream, last hidden layers concatenated into one
    output layer.

    Input: ``(images (B, C, H, W), frames (B, T, C', H', W'))``. Output: logits
    ``(B, n_classes)``.
    """

    Config = AVFusionConfig
    config: AVFusionConfig

    def __init__(self, config: AVFusionConfig | None = None, *, input_shape: tuple[Any, ...],
                 n_classes: int) -> None:
        super().__init__(config, input_shape=input_shape, n_classes=n_classes)
        self.out = nn.Sequential(nn.Dropout(self.config.dropout),
                                 nn.Linear(sum(self.embed_dims), n_classes))

    def forward(self, x: tuple[torch.Tensor, torch.Tensor],
                lengths: Any = None) -> torch.Tensor:
        za, zv = self.embed_pair(x)  # (B, h_a), (B, h_v)
        return self.out(torch.cat([za, zv], dim=1))  # (B, n_classes)


@register_model("av-late-fusion", input_kinds=("image+video",))
class AVLateFusion(_TwoStreams):
    """Each stream classifies; their probabilities are mixed.

    Input: as :class:`AVFusion`. Output: ``log(w * p_audio + (1 - w) * p_video)``
    ``(B, n_classes)``, used as logits.
    """

    Config = AVLateFusionConfig
    config: AVLateFusionConfig

    def forward(self, x: tuple[torch.Tensor, torch.Tensor],
                lengths: Any = None) -> torch.Tensor:
        za, zv = self.embed_pair(x)
        pa = torch.softmax(self.audio.head[-1](za), dim=-1)  # (B, n_classes)
        pv = torch.softmax(self.video.out(zv), dim=-1)
        w = self.config.audio_weight
        return torch.log((w * pa + (1 - w) * pv).clamp_min(1e-12))  # (B, n_classes)
