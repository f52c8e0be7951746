"""The IEMOCAP study's CNN on spectrogram images (the ``spectrogram-image`` feature).

::

    (B, C, H, W)
    [Conv2d 3x3 -> ReLU -> MaxPool 2] x 3       channels 32, 64, 128: (B, 128, H/8, W/8)
    AdaptiveAvgPool2d(pool)                      (B, 128, 4, 4): any H, W works
    Linear(128*4*4, 256) -> ReLU -> Dropout(0.2) -> Linear(256, n_classes)

The study flattened a fixed-size map straight into the first fully connected layer; the adaptive
pooling here keeps that layer small (0.5 M weights instead of 26 M at 224 x 224) and lets any
image size through. ``pool=(28, 28)`` at 224 x 224 is the study's flatten exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from emoscope.models.base import ModelConfig, TorchModel, register_model
from emoscope.models.layers import ConvBlock


@dataclass(frozen=True)
class IemocapCNNConfig(ModelConfig):
    """Options of :class:`IemocapCNN`.

    Attributes
    ----------
    channels : tuple of int
        Output channels of the conv blocks, one block each ((32, 64, 128)).
    batch_norm : bool
        BatchNorm after each convolution (not in the study).
    pool : tuple of (int, int)
        Size of the adaptive average pooling before the fully connected layers.
    hidden : int
        Units of the first fully connected layer.
    dropout : float
        Dropout before the last fully connected layer.
    """

    channels: tuple[int, ...] = (32, 64, 128)
    batch_norm: bool = False
    pool: tuple[int, int] = (4, 4)
    hidden: int = 256
    dropout: float = 0.2

    def validate(self) -> None:
        self._positive("channels", "pool", "hidden")
        self._probability("dropout")


def conv_blocks(in_channels: int, channels: tuple[int, ...], *, batch_norm: bool) -> nn.ModuleList:
    """The study's conv stack: per entry of ``channels``, 3x3 conv -> [BN] -> ReLU -> max-pool 2."""
    blocks, width = [], in_channels
    for c in channels:
        blocks.append(ConvBlock(width, c, pool=(2, 2), batch_norm=batch_norm))
        width = c
    return nn.ModuleList(blocks)


@register_model("iemocap-cnn", input_kinds=("image",))
class IemocapCNN(TorchModel):
    """Conv blocks -> adaptive pooling -> two fully connected layers.

    Input: images ``(B, channels, H, W)``. Output: logits ``(B, n_classes)``.
    """

    Config = IemocapCNNConfig
    config: IemocapCNNConfig

    def __init__(self, config: IemocapCNNConfig | None = None, *, input_shape: tuple[int, ...],
                 n_classes: int) -> None:
        super().__init__(config, input_shape=input_shape, n_classes=n_classes)
        c = self.config
        self.convs = conv_blocks(self.input_shape[0], c.channels, batch_norm=c.batch_norm)
        self.pool = nn.AdaptiveAvgPool2d(c.pool)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c.channels[-1] * c.pool[0] * c.pool[1], c.hidden), nn.ReLU(),
            nn.Dropout(c.dropout), nn.Linear(c.hidden, n_classes))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        self.check_batch(x)
        for block in self.convs:
            x, _ = block(x)  # (B, C_i, H / 2^i, W / 2^i)
        return self.head(self.pool(x))  # (B, C, *pool) -> (B, n_classes)
