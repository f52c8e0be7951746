"""The IEMOCAP study's video stream: a 3D CNN on a clip's face frames (``face-frames``).

Four 3D convolutions, three 3D max-pools, two fully connected layers::

    (B, T, C, H, W) -> (B, C, T, H, W)
    Conv3d 3x3x3 -> ReLU -> MaxPool3d (1, 2, 2)       space halved, time kept
    Conv3d 3x3x3 -> ReLU -> MaxPool3d (2, 2, 2)
    Conv3d 3x3x3 -> ReLU
    Conv3d 3x3x3 -> ReLU -> MaxPool3d (2, 2, 2)       (B, channels[-1], T/4, H/8, W/8)
    AdaptiveAvgPool3d(pool)                            (B, channels[-1], *pool)
    Linear(channels[-1] * prod(pool), hidden) -> ReLU  the last hidden layer (fusion uses it)
    Dropout -> Linear(hidden, n_classes)

As in :mod:`emoscope.models.iemocap_cnn`, an adaptive pooling before the first fully connected
layer keeps it small and lets any number of frames and any crop size through (the study
flattened a fixed-size map).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from emoscope.models.base import ModelConfig, TorchModel, register_model


@dataclass(frozen=True)
class Video3DCNNConfig(ModelConfig):
    """Options of :class:`Video3DCNN`.

    Attributes
    ----------
    channels : tuple of 4 int
        Output channels of the four 3D convolutions.
    batch_norm : bool
        BatchNorm after each convolution (not in the study).
    pool : tuple of 3 int
        ``(time, height, width)`` of the adaptive average pooling before the first fully
        connected layer.
    hidden : int
        Units of the first fully connected layer (the stream's last hidden layer).
    dropout : float
        Dropout before the output layer.
    """

    channels: tuple[int, int, int, int] = (32, 64, 128, 128)
    batch_norm: bool = False
    pool: tuple[int, int, int] = (2, 3, 4)
    hidden: int = 128
    dropout: float = 0.2

    def validate(self) -> None:
        self._positive("channels", "pool", "hidden")
        self._probability("dropout")


def _conv3d(cin: int, cout: int, *, batch_norm: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv3d(cin, cout, 3, padding=1, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm3d(cout))
    layers.append(nn.ReLU())
    return nn.Sequential(*layers)


@register_model("video-3dcnn", input_kinds=("video",))
class Video3DCNN(TorchModel):
    """Four 3D convolutions, three 3D max-pools, two fully connected layers.

    Input: face frames ``(B, T, channels, H, W)``. Output: logits ``(B, n_classes)``;
    :meth:`embed` gives the last hidden layer ``(B, hidden)``.
    """

    Config = Video3DCNNConfig
    config: Video3DCNNConfig

    def __init__(self, config: Video3DCNNConfig | None = None, *,
                 input_shape: tuple[int, ...], n_classes: int) -> None:
        super().__init__(config, input_shape=input_shape, n_classes=n_classes)
        c = self.config
        c1, c2, c3, c4 = c.channels
        bn = c.batch_norm
        self.features = nn.Sequential(
            _conv3d(self.input_shape[1], c1, batch_norm=bn),
            nn.MaxPool3d((1, 2, 2), ceil_mode=True),
            _conv3d(c1, c2, batch_norm=bn),
            nn.MaxPool3d(2, ceil_mode=True),
            _conv3d(c2, c3, batch_norm=bn),
            _conv3d(c3, c4, batch_norm=bn),
            nn.MaxPool3d(2, ceil_mode=True),
            nn.AdaptiveAvgPool3d(c.pool),
        )
        self.fc1 = nn.Sequential(nn.Flatten(), nn.Linear(c4 * c.pool[0] * c.pool[1] * c.pool[2],
                                                         c.hidden), nn.ReLU())
        self.out = nn.Sequential(nn.Dropout(c.dropout), nn.Linear(c.hidden, n_classes))

    @property
    def embed_dim(self) -> int:
        """Size of :meth:`embed`'s output."""
        return self.config.hidden

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer ``(B, hidden)`` of frames ``(B, T, channels, H, W)``."""
        self.check_batch(x)
        x = x.transpose(1, 2)  # (B, C, T, H, W): Conv3d's layout
        return self.fc1(self.features(x))  # (B, hidden)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        return self.out(self.embed(x))  # (B, n_classes)
