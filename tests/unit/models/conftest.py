"""The torch-model contract, as helpers every model's test file uses (through ``contract``)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch

from emoscope import models


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def batch(input_shape, n=4, *, lengths=None, pad_value=0.0, seed=0):
    """A random batch for ``input_shape``; for sequences zero-padded (or ``pad_value``) past
    ``lengths`` (default: varying lengths, the first full)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, *input_shape, generator=g)
    if len(input_shape) != 2:
        return x, None
    t = input_shape[0]
    if lengths is None:
        lengths = torch.tensor([t, *[max(1, t - 3 * i - 1) for i in range(1, n)]])[:n]
    lengths = torch.as_tensor(lengths, dtype=torch.int64)
    valid = torch.arange(t)[None, :, None] < lengths[:, None, None]
    return torch.where(valid, x, torch.full_like(x, pad_value)), lengths


def check_shapes(name, input_shape, n_classes=3, **config):
    """Logits of shape (B, n_classes) in train and eval mode, and for a batch of one in eval."""
    torch.manual_seed(0)
    model = models.build_model(name, input_shape=input_shape, n_classes=n_classes, **config)
    x, lengths = batch(input_shape)
    model.train()
    assert model(x, lengths).shape == (4, n_classes)
    model.eval()
    with torch.no_grad():
        out = model(x, lengths)
        one = model(x[:1], None if lengths is None else lengths[:1])
    assert out.shape == (4, n_classes) and one.shape == (1, n_classes)
    assert torch.isfinite(out).all()
    return model


def check_padding_invariance(name, input_shape, *, pad_value=0.0, **config):
    """In eval mode each item gives the same logits alone (unpadded) as in a padded batch."""
    torch.manual_seed(0)
    model = models.build_model(name, input_shape=input_shape, n_classes=3, **config).eval()
    t = input_shape[0]
    lengths = [t, 1, 2, t // 2 + 1, t - 1]
    x, lengths = batch(input_shape, n=len(lengths), lengths=lengths, pad_value=pad_value)
    with torch.no_grad():
        together = model(x, lengths)
        for i, n in enumerate(lengths.tolist()):
            alone = model(x[i:i + 1, :n])
            alone_with_lengths = model(x[i:i + 1, :n], lengths[i:i + 1])
            assert (together[i] - alone[0]).abs().max() < 1e-5, (i, n)
            assert torch.equal(alone, alone_with_lengths)


def check_rebuild(name, input_shape, n_classes=3, **config):
    """model_spec (through JSON) + state_dict rebuild the same function; init is seeded."""
    torch.manual_seed(1)
    model = models.build_model(name, input_shape=input_shape, n_classes=n_classes, **config)
    torch.manual_seed(1)
    twin = models.build_model(name, input_shape=input_shape, n_classes=n_classes, **config)
    state = model.state_dict()
    assert all(torch.equal(v, twin.state_dict()[k]) for k, v in state.items())
    assert all(v.is_contiguous() for v in state.values())  # safetensors-friendly
    spec = json.loads(json.dumps(models.model_spec(model)))
    assert spec["name"] == models.MODELS.canonical(name) and spec["n_classes"] == n_classes
    torch.manual_seed(2)
    again = models.build_model(spec)
    again.load_state_dict(state)
    assert again.config == model.config
    model.eval()
    again.eval()
    x, lengths = batch(input_shape)
    with torch.no_grad():
        assert torch.equal(model(x, lengths), again(x, lengths))


def check_overfits(name, input_shape, *, steps=40, lr=1e-2, **config):
    """16 noisy items of 2 classes (shifted by -1 or +1) are learned perfectly in a few dozen
    steps: gradients flow and reach every parameter."""
    torch.manual_seed(0)
    model = models.build_model(name, input_shape=input_shape, n_classes=2, **config)
    y = torch.arange(16) % 2
    x, lengths = batch(input_shape, n=16, seed=3)
    shift = (2.0 * y - 1).view(-1, *[1] * len(input_shape))
    if lengths is not None:  # only on valid frames: padding stays zero
        shift = shift * (torch.arange(input_shape[0])[None, :, None] < lengths[:, None, None])
    x = x + shift
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(model(x, lengths), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(x, lengths).argmax(1) == y).float().mean().item()
    assert acc == 1.0, f"{name}: training accuracy {acc} after {steps} steps"
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"{name}: no gradient for {missing}"


@pytest.fixture(scope="session")
def contract():
    return SimpleNamespace(batch=batch, shapes=check_shapes, padding=check_padding_invariance,
                           rebuild=check_rebuild, overfits=check_overfits)
