"""Shared layers: masks, masked statistics, attentive statistics pooling, packed RNNs."""

from __future__ import annotations

import pytest
import torch

from emoscope.models.layers import (
    AttentiveStatsPool,
    lengths_to_mask,
    masked_mean,
    masked_std,
    run_rnn,
)


def test_lengths_to_mask():
    mask = lengths_to_mask(torch.tensor([3, 1]), 4)
    assert mask.tolist() == [[True, True, True, False], [True, False, False, False]]
    assert lengths_to_mask(None, 3, batch=2).all()
    with pytest.raises(ValueError, match="batch"):
        lengths_to_mask(None, 3)


def test_masked_mean_and_std():
    x = torch.tensor([[[1.0], [3.0], [100.0]], [[2.0], [-5.0], [7.0]]])
    mask = lengths_to_mask(torch.tensor([2, 3]), 3)
    assert torch.allclose(masked_mean(x, mask), torch.tensor([[2.0], [4.0 / 3]]))
    want = torch.stack([x[0, :2].std(0, unbiased=False), x[1].std(0, unbiased=False)])
    assert torch.allclose(masked_std(x, mask), want)


def test_attentive_stats_pool_with_uniform_attention_is_mean_and_std():
    pool = AttentiveStatsPool(3, 4)
    torch.nn.init.zeros_(pool.attention[2].weight)  # every frame scores the same
    x = torch.randn(2, 5, 3)
    mask = lengths_to_mask(torch.tensor([5, 2]), 5)
    out = pool(x, mask)
    assert out.shape == (2, 6)
    assert torch.allclose(out[:, :3], masked_mean(x, mask), atol=1e-6)
    assert torch.allclose(out[:, 3:], masked_std(x, mask), atol=1e-5)


def test_attentive_stats_pool_ignores_padding_even_if_huge():
    pool = AttentiveStatsPool(4, 8)
    x = torch.randn(1, 6, 4)
    padded = torch.cat([x, torch.full((1, 3, 4), 1e30)], dim=1)
    mask = lengths_to_mask(torch.tensor([6]), 9)
    assert torch.allclose(pool(x), pool(padded, mask), atol=1e-6)


@pytest.mark.parametrize("cell", [torch.nn.GRU, torch.nn.LSTM, torch.nn.RNN])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_run_rnn_last_state_ignores_padding(cell, bidirectional):
    torch.manual_seed(0)
    rnn = cell(3, 5, batch_first=True, bidirectional=bidirectional)
    x = torch.randn(3, 7, 3)
    lengths = torch.tensor([7, 4, 1])
    out, last = run_rnn(rnn, x, lengths)
    dirs = 2 if bidirectional else 1
    assert out.shape == (3, 7, 5 * dirs) and last.shape == (3, 5 * dirs)
    assert torch.all(out[1, 4:] == 0)
    for i, n in enumerate(lengths.tolist()):
        out_i, last_i = run_rnn(rnn, x[i:i + 1, :n], None)
        assert torch.allclose(last[i], last_i[0], atol=1e-6)
        assert torch.allclose(out[i, :n], out_i[0], atol=1e-6)
        assert torch.allclose(out_i[0, -1, :5], last_i[0, :5], atol=1e-6)  # forward: last frame
