"""The IEMOCAP study's CNN-RNN and CNN-LSTM on spectrogram images.

The conv blocks of :mod:`emoscope.models.iemocap_cnn`, then the image's columns (time, left to
right) as a sequence into a recurrent layer; its last state feeds the classifier::

    (B, C, H, W)
    [Conv2d 3x3 -> ReLU -> MaxPool 2] x 3         (B, 128, H/8, W/8)
    AdaptiveAvgPool2d((freq_bins, None))           (B, 128, 4, W/8): frequency summarised
    columns as frames                              (B, W/8, 512)
    RNN / LSTM (hidden 128, dropout 0.1)           last state (B, 128), dropout 0.1
    Linear(128, 128) -> ReLU -> Dropout(0.2) -> Linear(128, n_classes)

``"iemocap-cnn-rnn"`` uses a vanilla ``nn.RNN`` with tanh (the study's "RNN"; ``cell="gru"``
swaps in a GRU), ``"iemocap-cnn-lstm"`` an ``nn.LSTM``. The RNN's dropout of 0.1 is applied
between stacked layers (``rnn_layers > 1``) and on its final state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from emoscope.models.base import ModelConfig, TorchModel, register_model
from emoscope.models.iemocap_cnn import conv_blocks
from emoscope.models.layers import run_rnn

_CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


@dataclass(frozen=True)
class IemocapCRNNConfig(ModelConfig):
    """Options of the IEMOCAP CNN-RNN / CNN-LSTM.

    Attributes
    ----------
    channels : tuple of int
        Conv block output channels ((32, 64, 128)).
    batch_norm : bool
        BatchNorm after each convolution (not in the study).
    freq_bins : int
        Rows the frequency axis is average-pooled to; a frame has ``channels[-1] * freq_bins``
        values.
    cell : "rnn", "gru" or "lstm"
        Recurrent cell (``"rnn"``: tanh).
    rnn_hidden, rnn_layers : int
        Recurrent layer size and depth.
    rnn_dropout : float
        Dropout between recurrent layers and on the final state.
    hidden : int
        Units of the fully connected layer after the recurrent one.
    dropout : float
        Dropout before the last fully connected layer.
    """

    channels: tuple[int, ...] = (32, 64, 128)
    batch_norm: bool = False
    freq_bins: int = 4
    cell: Literal["rnn", "gru", "lstm"] = "rnn"
    rnn_hidden: int = 128
    rnn_layers: int = 1
    rnn_dropout: float = 0.1
    hidden: int = 128
    dropout: float = 0.2

    def validate(self) -> None:
        self._positive("channels", "freq_bins", "rnn_hidden", "rnn_layers", "hidden")
        self._probability("rnn_dropout", "dropout")


@dataclass(frozen=True)
class IemocapCLSTMConfig(IemocapCRNNConfig):
    """Options of the IEMOCAP CNN-LSTM: :class:`IemocapCRNNConfig` with ``cell="lstm"``."""

    cell: Literal["rnn", "gru", "lstm"] = "lstm"


@register_model("iemocap-cnn-rnn", input_kinds=("image",))
class IemocapCRNN(TorchModel):
    """Conv blocks -> columns as frames -> RNN -> two fully connected layers.

    Input: images ``(B, channels, H, W)``, time along ``W``. Output: logits ``(B, n_classes)``.
    """

    Config = IemocapCRNNConfig
    config: IemocapCRNNConfig

    def __init__(self, config: IemocapCRNNConfig | None = None, *, input_shape: tuple[int, ...],
                 n_classes: int) -> None:
        super().__init__(config, input_shape=input_shape, n_classes=n_classes)
        c = self.config
        self.convs = conv_blocks(self.input_shape[0], c.channels, batch_norm=c.batch_norm)
        self.freq_pool = nn.AdaptiveAvgPool2d((c.freq_bins, None))
        self.rnn = _CELLS[c.cell](c.channels[-1] * c.freq_bins, c.rnn_hidden,
                                  num_layers=c.rnn_layers, batch_first=True,
                                  dropout=c.rnn_dropout if c.rnn_layers > 1 else 0.0)
        self.head = nn.Sequential(
            nn.Dropout(c.rnn_dropout),
            nn.Linear(c.rnn_hidden, c.hidden), nn.ReLU(),
            nn.Dropout(c.dropout), nn.Linear(c.hidden, n_classes))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        self.check_batch(x)
        for block in self.convs:
            x, _ = block(x)  # (B, C_i, H / 2^i, W / 2^i)
        x = self.freq_pool(x)  # (B, C, freq_bins, W')
        x = x.flatten(1, 2).transpose(1, 2)  # (B, W', C * freq_bins): one frame per column
        _, last = run_rnn(self.rnn, x, None)  # (B, rnn_hidden)
        return self.head(last)  # (B, n_classes)


@register_model("iemocap-cnn-lstm", input_kinds=("image",))
class IemocapCLSTM(IemocapCRNN):
    """:class:`IemocapCRNN` with an LSTM (``cell="lstm"`` by default)."""

    Config = IemocapCLSTMConfig
    config: IemocapCLSTMConfig
