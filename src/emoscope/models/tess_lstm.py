"""The TESS study's LSTM: the 40-MFCC mean vector read as a sequence of 40 one-value steps.

The study's Keras model, layer for layer (softmax left to the loss)::

    LSTM(256, input_shape=(40, 1))        # last state only (return_sequences=False)
    Dropout(0.2)
    Dense(128, activation="relu")
    Dropout(0.2)
    Dense(64, activation="relu")
    Dropout(0.2)
    Dense(n_classes, activation="softmax")

With ``init="keras"`` (default) the weights start as Keras would start them: Glorot-uniform
input kernels, orthogonal recurrent kernels, zero biases except the forget gate's (1, Keras's
``unit_forget_bias``), Glorot-uniform dense kernels. ``init="torch"`` keeps torch's defaults.
One difference remains: torch's LSTM has two bias vectors (``b_ih``, ``b_hh``) where Keras has
one, so it has ``4 * hidden`` more parameters (1024 at the default size); the function is the same.

Sequence input ``(B, T, F)`` (e.g. MFCC frames) also works: the LSTM then reads ``T`` steps of
``F`` values, packed by ``lengths`` so that padding is never seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from emoscope.models.base import ModelConfig, TorchModel, register_model
from emoscope.models.layers import run_rnn


@dataclass(frozen=True)
class TessLSTMConfig(ModelConfig):
    """Options of :class:`TessLSTM`.

    Attributes
    ----------
    hidden : int
        LSTM units (256 in the study).
    dense : tuple of int
        Hidden dense layers after the LSTM, each ReLU and followed by dropout ((128, 64)).
    dropout : float
        Dropout after the LSTM and after each hidden dense layer (0.2).
    init : "keras" or "torch"
        Weight initialisation (see the module docstring).
    """

    hidden: int = 256
    dense: tuple[int, ...] = (128, 64)
    dropout: float = 0.2
    init: Literal["keras", "torch"] = "keras"

    def validate(self) -> None:
        self._positive("hidden", "dense")
        self._probability("dropout")


@register_model("tess-lstm", input_kinds=("vector", "sequence"))
class TessLSTM(TorchModel):
    """LSTM -> dropout -> [dense ReLU -> dropout]* -> linear.

    Input: ``(B, D)`` (each of the ``D`` values is one time step of one feature) or ``(B, T, F)``
    with ``lengths``. Output: logits ``(B, n_classes)``.
    """

    Config = TessLSTMConfig
    config: TessLSTMConfig

    def __init__(self, config: TessLSTMConfig | None = None, *, input_shape: tuple[int, ...],
                 n_classes: int) -> None:
        super().__init__(config, input_shape=input_shape, n_classes=n_classes)
        c = self.config
        step_size = 1 if self.input_kind == "vector" else self.input_shape[-1]
        self.lstm = nn.LSTM(step_size, c.hidden, batch_first=True)
        layers: list[nn.Module] = [nn.Dropout(c.dropout)]
        width = c.hidden
        for units in c.dense:
            layers += [nn.Linear(width, units), nn.ReLU(), nn.Dropout(c.dropout)]
            width = units
        layers.append(nn.Linear(width, n_classes))
        self.head = nn.Sequential(*layers)
        if c.init == "keras":
            self._keras_init()

    def _keras_init(self) -> None:
        h = self.config.hidden
        for name, p in self.lstm.named_parameters():
            if name.startswith("weight_ih"):  # (4h, in), gates i, f, g, o: Keras's (in, 4h).T
                nn.init.xavier_uniform_(p)  # same fan_in and fan_out as Keras's glorot_uniform
            elif name.startswith("weight_hh"):  # (4h, h): Keras's orthogonal (h, 4h), transposed
                nn.init.orthogonal_(p)
            else:
                nn.init.zeros_(p)
        self.lstm.bias_ih_l0.data[h:2 * h] = 1.0  # forget gate (unit_forget_bias)
        for m in self.head:
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        lengths = self.check_batch(x, lengths)
        if self.input_kind == "vector":
            x = x.unsqueeze(-1)  # (B, D) -> (B, D, 1): D steps of one value
        _, last = run_rnn(self.lstm, x, lengths)  # (B, hidden)
        return self.head(last)  # (B, n_classes)
