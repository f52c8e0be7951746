"""A classifier head on self-supervised encoder states (the ``ssl`` feature; the encoder frozen).

::

    sequence (B, T, H), lengths (pooling="none")      vector (B, H) or (B, 2H) (pooled)
    LayerNorm(H) per frame                            LayerNorm(D)
    attentive statistics pooling, masked: (B, 2H)     -
    [Linear -> ReLU -> Dropout] per hidden size       (B, hidden[-1])
    Linear(hidden[-1], n_classes)

The per-frame LayerNorm puts encoder layers of very different scales on one footing (set
``input_norm=False`` to feed them as they are); it works frame by frame, so padding stays
irrelevant.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from emoscope.models.base import ModelConfig, TorchModel, register_model
from emoscope.models.layers import AttentiveStatsPool, lengths_to_mask


@dataclass(frozen=True)
class SSLHeadConfig(ModelConfig):
    """Options of :class:`SSLHead`.

    Attributes
    ----------
    input_norm : bool
        LayerNorm over the hidden dimension first (per frame for sequences).
    attention_dim : int
        Bottleneck of the pooling's attention (sequences only).
    hidden : tuple of int
        Hidden layer sizes of the MLP (may be empty).
    dropout : float
        Dropout on the pooled vector and after each hidden layer.
    """

    input_norm: bool = True
    attention_dim: int = 128
    hidden: tuple[int, ...] = (256,)
    dropout: float = 0.2

    def validate(self) -> None:
        self._positive("attention_dim", "hidden")
        self._probability("dropout")


@register_model("ssl-head", input_kinds=("sequence", "vector"))
class SSLHead(TorchModel):
    """[LayerNorm] -> [attentive statistics pooling] -> MLP.

    Input: ``(B, T, H)`` with ``lengths``, or ``(B, D)``. Output: logits ``(B, n_classes)``.
    """

    Config = SSLHeadConfig
    config: SSLHeadConfig

    def __init__(self, config: SSLHeadConfig | None = None, *, input_shape: tuple[int, ...],
                 n_classes: int) -> None:
        super().__init__(config, input_shape=input_shape, n_classes=n_classes)
        c = self.config
        dim = self.input_shape[-1]
        self.norm = nn.LayerNorm(dim) if c.input_norm else nn.Identity()
        self.pool = (AttentiveStatsPool(dim, c.attention_dim)
                     if self.input_kind == "sequence" else None)
        width = 2 * dim if self.pool is not None else dim
        layers: list[nn.Module] = [nn.Dropout(c.dropout)]
        for units in c.hidden:
            layers += [nn.Linear(width, units), nn.ReLU(), nn.Dropout(c.dropout)]
            width = units
        layers.append(nn.Linear(width, n_classes))
        self.mlp = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        lengths = self.check_batch(x, lengths)
        x = self.norm(x)  # (B, T, H) or (B, D)
        if self.pool is not None:
            mask = None if lengths is None else lengths_to_mask(lengths, x.shape[1])
            x = self.pool(x, mask)  # (B, 2H)
        return self.mlp(x)  # (B, n_classes)
