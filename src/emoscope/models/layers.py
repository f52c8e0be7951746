"""Layers shared by the models: masks from lengths, masked pooling, packed RNNs, conv blocks.

Everything here ignores padding: a padded frame never changes the result for the valid ones.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = [
    "AttentiveStatsPool",
    "ConvBlock",
    "lengths_to_mask",
    "masked_mean",
    "masked_std",
    "run_rnn",
]


def lengths_to_mask(lengths: torch.Tensor | None, max_len: int, *,
                    batch: int | None = None, device: torch.device | None = None) -> torch.Tensor:
    """Boolean mask ``(B, max_len)``, True on valid frames (``t < lengths[b]``).

    ``lengths=None`` means every frame is valid (then ``batch`` is required).
    """
    if lengths is None:
        if batch is None:
            raise ValueError("lengths_to_mask: batch is required when lengths is None")
        return torch.ones(batch, max_len, dtype=torch.bool, device=device)
    steps = torch.arange(max_len, device=lengths.device)
    return steps[None, :] < lengths[:, None]  # (B, max_len)


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over valid frames: ``x (B, T, D)``, ``mask (B, T)`` -> ``(B, D)``."""
    w = mask.to(x.dtype).unsqueeze(-1)  # (B, T, 1)
    return (x * w).sum(1) / w.sum(1).clamp_min(1.0)


def masked_std(x: torch.Tensor, mask: torch.Tensor, *, eps: float = 1e-5) -> torch.Tensor:
    """Standard deviation (biased, floored at ``sqrt(eps)``) over valid frames -> ``(B, D)``."""
    mean = masked_mean(x, mask)
    var = masked_mean((x - mean.unsqueeze(1)) ** 2, mask)
    return var.clamp_min(eps).sqrt()


class AttentiveStatsPool(nn.Module):
    """Attentive statistics pooling (Okabe et al., 2018), masked.

    Frame scores ``e_t = v . tanh(W h_t + b)``; weights ``a = softmax(e)`` over the valid frames
    only; output ``[sum_t a_t h_t, sqrt(sum_t a_t h_t^2 - mean^2)]``.

    Shapes: ``x (B, T, dim)``, ``mask (B, T)`` bool or None -> ``(B, 2 * dim)``.
    """

    def __init__(self, dim: int, attention_dim: int = 128, *, eps: float = 1e-5) -> None:
        super().__init__()
        self.attention = nn.Sequential(nn.Linear(dim, attention_dim), nn.Tanh(),
                                       nn.Linear(attention_dim, 1))
        self.eps = eps
        self.out_dim = 2 * dim

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is not None:
            x = x.masked_fill(~mask.unsqueeze(-1), 0.0)  # whatever padding held
        scores = self.attention(x).squeeze(-1)  # (B, T)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        alpha = torch.softmax(scores, dim=1).unsqueeze(-1)  # (B, T, 1), 0 on padding
        mean = (alpha * x).sum(1)  # (B, dim)
        # E[(h - mean)^2] rather than E[h^2] - mean^2: no cancellation for large activations
        var = (alpha * (x - mean.unsqueeze(1)) ** 2).sum(1)
        return torch.cat([mean, var.clamp_min(self.eps).sqrt()], dim=1)  # (B, 2 * dim)


def classifier_head(in_dim: int, n_classes: int, *, hidden: int | None,
                    dropout: float) -> nn.Sequential:
    """``Dropout -> [Linear(in_dim, hidden) -> ReLU -> Dropout] -> Linear(., n_classes)``.

    Shapes: ``(B, in_dim) -> (B, n_classes)`` logits; ``hidden=None`` goes straight to the
    output layer.
    """
    layers: list[nn.Module] = [nn.Dropout(dropout)]
    width = in_dim
    if hidden is not None:
        layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
        width = hidden
    layers.append(nn.Linear(width, n_classes))
    return nn.Sequential(*layers)


def run_rnn(rnn: nn.RNNBase, x: torch.Tensor,
            lengths: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Run a batch-first RNN/GRU/LSTM over the valid frames only.

    Returns ``(out, last)``: ``out (B, T, dirs * hidden)`` (zeros on padding) and ``last
    (B, dirs * hidden)``, the top layer's final state (for a bidirectional RNN: the forward
    direction at the last valid frame and the backward direction at the first, concatenated).
    With ``lengths=None`` no packing is done (every frame valid; exportable to ONNX).
    """
    if lengths is None:
        out, h = rnn(x)
    else:
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, h = rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    if isinstance(h, tuple):  # LSTM: (h_n, c_n)
        h = h[0]
    dirs = 2 if rnn.bidirectional else 1
    last = h[-dirs:].transpose(0, 1).reshape(x.shape[0], -1)  # (B, dirs * hidden)
    return out, last


def _channels_last(x: torch.Tensor) -> torch.Tensor:
    """``x`` in channels-last memory order (with one channel ``.contiguous`` would keep NCHW
    strides, which count as both orders, and the convolution would pick its slow path).

    While exporting to ONNX, ``x`` as it is: a memory layout is not a computation, and ONNX
    (whose exporter has no operator for the reordering copy) has no notion of it."""
    if torch.onnx.is_in_onnx_export():
        return x
    if x.shape[1] == 1:
        return torch.empty_like(x, memory_format=torch.channels_last).copy_(x)
    return x.contiguous(memory_format=torch.channels_last)


class ConvBlock(nn.Module):
    """``Conv2d(3x3, same padding) [-> BatchNorm] -> ReLU -> MaxPool2d(pool)``.

    With ``lengths`` (on the time axis, ``time_axis`` of the ``(B, C, H, W)`` input), frames past
    each item's length are zeroed after the ReLU, so the next convolution sees zeros there just
    as it sees zero padding at the end of an item alone; pooling uses ``ceil_mode`` and the new
    lengths are ``ceil(lengths / time_pool)``.
    """

    def __init__(self, in_channels: int, out_channels: int, *, pool: tuple[int, int],
                 batch_norm: bool = False, time_axis: int = 2) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=not batch_norm)
        self.norm = nn.BatchNorm2d(out_channels) if batch_norm else nn.Identity()
        self.pool = nn.MaxPool2d(pool, ceil_mode=True) if pool != (1, 1) else nn.Identity()
        self.time_axis = time_axis
        self.time_pool = pool[time_axis - 2]

    def forward(self, x: torch.Tensor,
                lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        # channels-last runs oneDNN's fast path on CPU (2-3x here); the weights stay contiguous
        # in the state dict (safetensors, ONNX) and are reordered per call, which is cheap
        x = F.conv2d(_channels_last(x), _channels_last(self.conv.weight), self.conv.bias,
                     padding=1)
        x = torch.relu(self.norm(x))
        if lengths is not None:
            mask = lengths_to_mask(lengths, x.shape[self.time_axis])  # (B, T)
            shape = [x.shape[0], 1, 1, 1]
            shape[self.time_axis] = x.shape[self.time_axis]
            x = x * mask.view(shape).to(x.dtype)  # activations >= 0, so max-pool ignores zeros
            lengths = (lengths + self.time_pool - 1) // self.time_pool
        return self.pool(x), lengths
