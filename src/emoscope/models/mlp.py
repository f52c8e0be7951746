"""A multi-layer perceptron on functionals (eGeMAPS, ComParE, MFCC statistics, pooled SSL).

::

    (B, D)
    [Linear -> Norm -> ReLU -> Dropout] per hidden size     (B, hidden[-1])
    Linear(hidden[-1], n_classes)

The input is used as given: standardising the features (mean and scale from the training fold
only) is the trainer's job, as it is for the sklearn models. With ``norm="batch"``, training
needs batches of at least 2 items; evaluation works at any batch size (running statistics).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from emoscope.models.base import ModelConfig, TorchModel, register_model


@dataclass(frozen=True)
class MLPConfig(ModelConfig):
    """Options of :class:`MLP`.

    Attributes
    ----------
    hidden : tuple of int
        Hidden layer sizes (may be empty: a linear classifier).
    dropout : float
        Dropout after each hidden layer.
    norm : "batch", "layer" or "none"
        Normalisation after each hidden linear layer.
    input_dropout : float
        Dropout on the input features.
    """

    hidden: tuple[int, ...] = (256, 128)
    dropout: float = 0.3
    norm: Literal["batch", "layer", "none"] = "batch"
    input_dropout: float = 0.0

    def validate(self) -> None:
        self._positive("hidden")
        self._probability("dropout", "input_dropout")


@register_model("mlp", input_kinds=("vector",))
class MLP(TorchModel):
    """Feed-forward classifier. Input ``(B, D)``; output logits ``(B, n_classes)``."""

    Config = MLPConfig
    config: MLPConfig

    def __init__(self, config: MLPConfig | None = None, *, input_shape: tuple[int, ...],
                 n_classes: int) -> None:
        super().__init__(config, input_shape=input_shape, n_classes=n_classes)
        c = self.config
        norms = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm, "none": lambda _: nn.Identity()}
        layers: list[nn.Module] = [nn.Dropout(c.input_dropout)] if c.input_dropout else []
        width = self.input_shape[0]
        for units in c.hidden:
            layers += [nn.Linear(width, units, bias=c.norm != "batch"), norms[c.norm](units),
                       nn.ReLU(), nn.Dropout(c.dropout)]
            width = units
        layers.append(nn.Linear(width, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        self.check_batch(x)
        return self.net(x)  # (B, D) -> (B, n_classes)
