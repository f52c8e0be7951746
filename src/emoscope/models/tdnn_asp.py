"""TDNN with squeeze-excitation, multi-layer aggregation and attentive statistics pooling.

A small ECAPA-TDNN-style network (Desplanques et al., 2020) over log-mel frames: 1-D
convolutions along time with the mel bands as channels, which on a CPU cost a fraction of the
2-D convolutions of :mod:`emoscope.models.crnn_asp` for the same receptive field.

::

    (B, T, F) frames, lengths (B,)
    (B, F, T)
    Conv1d(F, C, 5) -> BN -> ReLU                                    (B, C, T)
    [res block: Conv1d(C, C, k, dilation d) -> BN -> ReLU -> SE, + input] x len(dilations)
    concat the blocks' outputs -> Conv1d(C * n_blocks, agg, 1) -> BN -> ReLU   (B, agg, T)
    attentive statistics pooling over valid frames                    (B, 2 * agg)
    Dropout -> Linear(2 * agg, hidden) -> ReLU -> Dropout -> Linear(hidden, n_classes)

Padding is never seen: frames past each item's length are zeroed after every layer (so each
convolution sees zeros there, as at the end of an item alone) and the pooling is masked, so in
eval mode an item gives the same logits alone as in a padded batch. Without ``lengths``
nothing is masked, which keeps the model exportable.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from emoscope.errors import ConfigError
from emoscope.models.base import ModelConfig, TorchModel, register_model
from emoscope.models.layers import AttentiveStatsPool, classifier_head, lengths_to_mask


@dataclass(frozen=True)
class TDNNASPConfig(ModelConfig):
    """Options of :class:`TDNNASP`.

    Attributes
    ----------
    channels : int
        Width of the convolutional trunk.
    kernel_size : int
        Kernel of the residual blocks (odd).
    dilations : tuple of int
        One residual block per dilation.
    se_bottleneck : int
        Bottleneck of each block's squeeze-excitation (0: none).
    aggregate : int
        Channels after the multi-layer aggregation, pooled.
    attention_dim : int
    hidden : int or None
        Units of the layer before the output (``None``: straight to the output).
    dropout : float
    input_dropout : float
        Dropout on the input frames (a cheap regulariser on small corpora).
    """

    channels: int = 128
    kernel_size: int = 3
    dilations: tuple[int, ...] = (1, 2, 3, 4)
    se_bottleneck: int = 32
    aggregate: int = 256
    attention_dim: int = 128
    hidden: int | None = 128
    dropout: float = 0.3
    input_dropout: float = 0.0

    def validate(self) -> None:
        self._positive("channels", "kernel_size", "dilations", "aggregate", "attention_dim",
                       "hidden")
        self._probability("dropout", "input_dropout")
        if self.kernel_size % 2 == 0:
            raise ConfigError(f"TDNNASPConfig: kernel_size must be odd, got {self.kernel_size}")
        if self.se_bottleneck < 0:
            raise ConfigError(f"TDNNASPConfig: se_bottleneck must be >= 0, got "
                              f"{self.se_bottleneck}")


class _SE(nn.Module):
    """Squeeze-excitation over channels with a masked mean: ``(B, C, T) -> (B, C, T)``."""

    def __init__(self, channels: int, bottleneck: int) -> None:
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(channels, bottleneck), nn.ReLU(),
                                nn.Linear(bottleneck, channels), nn.Sigmoid())

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        if mask is None:  # the same arithmetic as a full mask, so results match exactly
            s = x.sum(-1) / x.shape[-1]
        else:
            m = mask.unsqueeze(1).to(x.dtype)  # (B, 1, T)
            s = (x * m).sum(-1) / m.sum(-1).clamp_min(1.0)
        return x * self.fc(s).unsqueeze(-1)


class _ResBlock(nn.Module):
    def __init__(self, channels: int, kernel: int, dilation: int, se: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel, padding=dilation * (kernel // 2),
                              dilation=dilation, bias=False)
        self.bn = nn.BatchNorm1d(channels)
        self.se = _SE(channels, se) if se else None

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        h = torch.relu(self.bn(self.conv(x)))
        if self.se is not None:
            h = self.se(h, mask)
        h = x + h
        return h if mask is None else h * mask.unsqueeze(1).to(h.dtype)


@register_model("tdnn-asp", input_kinds=("sequence",))
class TDNNASP(TorchModel):
    """Dilated 1-D convolutions with SE -> aggregation -> attentive statistics pooling.

    Input: ``(B, T, F)`` zero-padded frames and ``lengths (B,)``. Output: logits
    ``(B, n_classes)``.
    """

    Config = TDNNASPConfig
    config: TDNNASPConfig

    def __init__(self, config: TDNNASPConfig | None = None, *, input_shape: tuple[int, ...],
                 n_classes: int) -> None:
        super().__init__(config, input_shape=input_shape, n_classes=n_classes)
        c = self.config
        n_in = self.input_shape[-1]
        self.input_dropout = nn.Dropout(c.input_dropout)
        self.stem = nn.Sequential(nn.Conv1d(n_in, c.channels, 5, padding=2, bias=False),
                                  nn.BatchNorm1d(c.channels), nn.ReLU())
        self.blocks = nn.ModuleList(_ResBlock(c.channels, c.kernel_size, d, c.se_bottleneck)
                                    for d in c.dilations)
        self.aggregate = nn.Sequential(
            nn.Conv1d(c.channels * len(c.dilations), c.aggregate, 1, bias=False),
            nn.BatchNorm1d(c.aggregate), nn.ReLU())
        self.pool = AttentiveStatsPool(c.aggregate, c.attention_dim)
        self.head = classifier_head(self.pool.out_dim, n_classes, hidden=c.hidden,
                                    dropout=c.dropout)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        lengths = self.check_batch(x, lengths)
        mask = None if lengths is None else lengths_to_mask(lengths, x.shape[1])  # (B, T)
        h = self.input_dropout(x).transpose(1, 2).contiguous()  # (B, F, T)
        if mask is not None:
            h = h * mask.unsqueeze(1).to(h.dtype)
        h = self.stem(h)  # (B, C, T)
        if mask is not None:
            h = h * mask.unsqueeze(1).to(h.dtype)
        outs = []
        for block in self.blocks:
            h = block(h, mask)
            outs.append(h)
        h = self.aggregate(torch.cat(outs, dim=1)).transpose(1, 2).contiguous()  # (B, T, agg)
        return self.head(self.pool(h, mask))  # (B, 2 * aggregate) -> (B, n_classes)
