"""A head that learns how to weigh an encoder's layers (SUPERB style), then an MLP.

For the ``whisper`` feature's pooled layers: a vector of ``n_layers`` equal blocks (each layer's
mean and standard deviation over frames, ``layers`` in the feature's order)::

    (B, n_layers * D)  ->  (B, n_layers, D)
    softmax(w) over the layers, weighted sum                  (B, D)
    LayerNorm(D)
    [Linear -> ReLU -> Dropout] per hidden size               (B, hidden[-1])
    Linear(hidden[-1], n_classes)

The weights ``w`` start equal (every layer counts the same) and are learned with the rest;
:meth:`LayerWeightedMLP.layer_weights` reads them (the run's report plots them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from emoscope.errors import ConfigError
from emoscope.models.base import ModelConfig, TorchModel, register_model

__all__ = ["LayerWeightedMLP", "LayerWeightedMLPConfig"]


@dataclass(frozen=True)
class LayerWeightedMLPConfig(ModelConfig):
    """Options of :class:`LayerWeightedMLP`.

    Attributes
    ----------
    n_layers : int
        How many equal blocks the input holds (the feature's kept hidden states; 7 for every
        hidden state of Whisper base).
    hidden : tuple of int
        Hidden layer sizes of the MLP (may be empty: a linear classifier on the weighted sum).
    dropout : float
        Dropout on the weighted sum and after each hidden layer.
    """

    n_layers: int = 7
    hidden: tuple[int, ...] = (256,)
    dropout: float = 0.2

    def validate(self) -> None:
        self._positive("n_layers", "hidden")
        self._probability("dropout")


@register_model("layer-weighted-mlp", input_kinds=("vector",))
class LayerWeightedMLP(TorchModel):
    """Softmax-weighted sum of layer blocks, then an MLP. Input ``(B, n_layers * D)``."""

    Config = LayerWeightedMLPConfig
    config: LayerWeightedMLPConfig

    def __init__(self, config: LayerWeightedMLPConfig | None = None, *,
                 input_shape: tuple[int, ...], n_classes: int) -> None:
        super().__init__(config, input_shape=input_shape, n_classes=n_classes)
        c = self.config
        dim, rest = divmod(self.input_shape[0], c.n_layers)
        if rest or dim == 0:
            raise ConfigError(f"layer-weighted-mlp: {self.input_shape[0]} input values do not "
                              f"split into n_layers={c.n_layers} equal blocks; set n_layers to "
                              "the number of the feature's layers")
        self.block = dim
        self.layer_logits = nn.Parameter(torch.zeros(c.n_layers))  # equal weights at start
        layers: list[nn.Module] = [nn.LayerNorm(dim), nn.Dropout(c.dropout)]
        width = dim
        for units in c.hidden:
            layers += [nn.Linear(width, units), nn.ReLU(), nn.Dropout(c.dropout)]
            width = units
        layers.append(nn.Linear(width, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        self.check_batch(x)
        blocks = x.view(x.shape[0], self.config.n_layers, self.block)  # (B, L, D)
        w = torch.softmax(self.layer_logits, dim=0)  # (L,)
        z = (blocks * w[None, :, None]).sum(dim=1)  # (B, D)
        return self.net(z)

    def layer_weights(self) -> np.ndarray:
        """The learned weight of each layer block, ``(n_layers,)``, summing to 1."""
        with torch.no_grad():
            return torch.softmax(self.layer_logits, dim=0).numpy().copy()
