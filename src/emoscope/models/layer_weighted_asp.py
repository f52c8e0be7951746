"""Layer weighting over an encoder's frame sequences, then attentive statistics pooling.

For the ``whisper`` feature with ``pooling: frames``: each frame holds ``n_layers`` equal blocks
(the kept hidden states at that frame, in the feature's order)::

    (B, T, n_layers * D), lengths (B,)
    -> (B, T, n_layers, D); softmax(w) over the layers, weighted sum      (B, T, D)
    Linear(D, hidden) -> ReLU -> Dropout                                 (B, T, hidden)
    attentive statistics pooling over the valid frames                     (B, 2 * hidden)
    Dropout -> Linear(2 * hidden, n_classes)

The trainer standardises every frame dimension with training statistics, so the layers
arrive on one scale (no LayerNorm: it would also remove a shift shared by all dimensions).
The layer weights ``w`` start equal and are learned with the rest (:meth:`layer_weights`; the
run's report plots them). Padded frames are masked in the pooling, so in eval mode a clip gives
the same logits alone as in a padded batch. Without ``lengths`` every frame counts (single-clip
inference and export).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from emoscope.errors import ConfigError
from emoscope.models.base import ModelConfig, TorchModel, register_model
from emoscope.models.layers import AttentiveStatsPool, lengths_to_mask

__all__ = ["LayerWeightedASP", "LayerWeightedASPConfig"]


@dataclass(frozen=True)
class LayerWeightedASPConfig(ModelConfig):
    """Options of :class:`LayerWeightedASP`.

    Attributes
    ----------
    n_layers : int
        How many equal blocks each frame holds (the feature's kept hidden states).
    hidden : int
        Width of the frame projection before the pooling.
    attention_dim : int
        Width of the pooling's attention layer.
    dropout : float
        Dropout after the projection and before the classifier.
    """

    n_layers: int = 7
    hidden: int = 256
    attention_dim: int = 128
    dropout: float = 0.3

    def validate(self) -> None:
        self._positive("n_layers", "hidden", "attention_dim")
        self._probability("dropout")


@register_model("layer-weighted-asp", input_kinds=("sequence",))
class LayerWeightedASP(TorchModel):
    """Softmax-weighted sum of layer blocks per frame, a projection, attentive statistics
    pooling and a linear classifier. Input ``(B, T, n_layers * D)``."""

    Config = LayerWeightedASPConfig
    config: LayerWeightedASPConfig

    def __init__(self, config: LayerWeightedASPConfig | None = None, *,
                 input_shape: tuple[int, ...], n_classes: int) -> None:
        super().__init__(config, input_shape=input_shape, n_classes=n_classes)
        c = self.config
        dim, rest = divmod(self.input_shape[-1], c.n_layers)
        if rest or dim == 0:
            raise ConfigError(f"layer-weighted-asp: {self.input_shape[-1]} values a frame do "
                              f"not split into n_layers={c.n_layers} equal blocks; set n_layers "
                              "to the number of the feature's layers")
        self.block = dim
        self.layer_logits = nn.Parameter(torch.zeros(c.n_layers))  # equal weights at start
        self.project = nn.Sequential(nn.Linear(dim, c.hidden), nn.ReLU(), nn.Dropout(c.dropout))
        self.pool = AttentiveStatsPool(c.hidden, c.attention_dim)
        self.classify = nn.Sequential(nn.Dropout(c.dropout),
                                      nn.Linear(self.pool.out_dim, n_classes))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        lengths = self.check_batch(x, lengths)
        b, t = x.shape[0], x.shape[1]
        blocks = x.reshape(b, t, self.config.n_layers, self.block)  # (B, T, L, D)
        w = torch.softmax(self.layer_logits, dim=0)  # (L,)
        z = (blocks * w[None, None, :, None]).sum(dim=2)  # (B, T, D)
        h = self.project(z)  # (B, T, hidden)
        mask = None if lengths is None else lengths_to_mask(lengths, t)
        return self.classify(self.pool(h, mask))

    def layer_weights(self) -> np.ndarray:
        """The learned weight of each layer block, ``(n_layers,)``, summing to 1."""
        with torch.no_grad():
            return torch.softmax(self.layer_logits, dim=0).numpy().copy()
