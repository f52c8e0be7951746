"""Rewrites that make a trained model exportable to ONNX without changing what it computes.

They act on a copy of the model (the export's), beside the layers they rewrite:

- :func:`static_adaptive_pools`: for image models (one fixed input size), adaptive pooling gets
  static sizes; an average pooling whose input size is not a multiple of its output size
  becomes the equal slices and means (the exporter translates only whole multiples);
- :func:`with_softmax`: the model followed by a softmax over the classes, the exported graph.

The conv blocks' channels-last reordering needs no rewrite: the layer skips it while exporting
(:func:`torch.onnx.is_in_onnx_export`, see :mod:`emoscope.models.layers`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["fixed_adaptive_avg_pool2d", "static_adaptive_pools", "with_softmax"]


def _windows(n_in: int, n_out: int) -> list[tuple[int, int]]:
    """Adaptive pooling's windows along one axis: ``[floor(i n_in / n_out),
    ceil((i + 1) n_in / n_out))`` for each output index ``i``."""
    return [((i * n_in) // n_out, -(-((i + 1) * n_in) // n_out)) for i in range(n_out)]


def fixed_adaptive_avg_pool2d(in_hw: tuple[int, int], out_hw: tuple[int, int]) -> Any:
    """An ``nn.Module`` equal to ``AdaptiveAvgPool2d(out_hw)`` on inputs of size ``in_hw``,
    built from slices and means, which ONNX expresses whatever the sizes (the exporter's own
    translation needs each input size to be a multiple of the output size)."""
    import torch
    from torch import nn

    class FixedAdaptiveAvgPool2d(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rows = _windows(in_hw[0], out_hw[0])
            self.cols = _windows(in_hw[1], out_hw[1])
            self.keep_rows, self.keep_cols = in_hw[0] == out_hw[0], in_hw[1] == out_hw[1]

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            # a window's mean is the mean over its rows of the means over its columns (every
            # row of a window has the same columns), so the two axes pool one after the other
            if not self.keep_rows:
                x = torch.cat([x[..., a:b, :].mean(dim=-2, keepdim=True)
                               for a, b in self.rows], dim=-2)  # (B, C, out_h, W)
            if not self.keep_cols:
                x = torch.cat([x[..., a:b].mean(dim=-1, keepdim=True)
                               for a, b in self.cols], dim=-1)  # (B, C, out_h, out_w)
            return x

    return FixedAdaptiveAvgPool2d()


def static_adaptive_pools(net: Any, example: Any) -> None:
    """Make adaptive pooling static for one fixed input size (images), in place.

    Each adaptive pooling layer sees one input size, observed on ``example``. An axis kept as
    it is (``None`` in ``output_size``) gets its concrete size; an ``AdaptiveAvgPool2d`` whose
    input size is not a multiple of its output size is replaced by an equal module of slices
    and means (:func:`fixed_adaptive_avg_pool2d`).
    """
    import torch
    from torch import nn

    adaptive = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
                nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)
    pools = {name: m for name, m in net.named_modules() if isinstance(m, adaptive)}
    if not pools:
        return
    seen: dict[int, tuple[int, ...]] = {}

    def record(mod: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        seen[id(mod)] = tuple(args[0].shape)

    hooks = [m.register_forward_pre_hook(record) for m in pools.values()]
    try:
        with torch.inference_mode():
            net(example)
    finally:
        for h in hooks:
            h.remove()
    for name, m in pools.items():
        if id(m) not in seen:
            continue  # not on this input's path
        dims = len(m.output_size) if isinstance(m.output_size, tuple | list) else 1
        size = seen[id(m)][-dims:]
        wanted = m.output_size if isinstance(m.output_size, tuple | list) else (m.output_size,)
        out = tuple(s if o is None else int(o) for o, s in zip(wanted, size, strict=True))
        if isinstance(m, nn.AdaptiveAvgPool2d) and any(s % o for s, o in zip(size, out,
                                                                             strict=True)):
            parent_name, _, child = name.rpartition(".")
            parent = net.get_submodule(parent_name) if parent_name else net
            parent._modules[child] = fixed_adaptive_avg_pool2d(
                (size[0], size[1]), (out[0], out[1]))
        else:
            m.output_size = out if dims > 1 else out[0]


def with_softmax(net: Any) -> Any:
    """``net`` followed by a softmax over the classes, as one ``nn.Module`` in eval mode."""
    import torch
    from torch import nn

    class WithSoftmax(nn.Module):
        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.model = inner

        def forward(self, features: torch.Tensor) -> torch.Tensor:
            return torch.softmax(self.model(features), dim=-1)  # (B, n_classes)

    return WithSoftmax(net).eval()
