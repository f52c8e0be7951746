"""DDP pieces that need no second process: the loss shares that make the ranks' averaged
gradient the global batch's, a one-process context, and the refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from emoscope.cli import main
from emoscope.config import load_config
from emoscope.distributed.ddp import (
    DistContext,
    check_distributable,
    init_distributed,
    launched_by_torchrun,
    rank_share,
)
from emoscope.errors import ConfigError


@pytest.mark.parametrize("n", [1, 2, 7, 8, 9])
@pytest.mark.parametrize("world", [2, 3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_scaled_rank_gradients_average_to_the_global_gradient(n, world, weighted, smoothing):
    gen = torch.Generator().manual_seed(n * 10 + world)
    logits = torch.randn(n, 4, generator=gen, requires_grad=True)
    y = torch.randint(0, 4, (n,), generator=gen)
    w = torch.tensor([1.0, 2.5, 0.5, 3.0]) if weighted else None
    loss_fn = nn.CrossEntropyLoss(weight=w, label_smoothing=smoothing)
    (want,) = torch.autograd.grad(loss_fn(logits, y), logits)
    got = torch.zeros_like(logits)
    for rank in range(world):
        share = rank_share(y.numpy(), rank=rank, world_size=world,
                           class_weight=None if w is None else w.numpy())
        mine = torch.arange(n)[rank::world]
        if not len(mine):  # a rank without items joins with a weightless stand-in
            assert share == 0.0
            mine = torch.arange(1)
        (g,) = torch.autograd.grad(loss_fn(logits[mine], y[mine]) * share, logits)
        got += g / world  # DDP averages the ranks' gradients
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)


def test_shares_of_an_even_split_are_one():
    y = np.array([0, 1, 2, 3, 0, 1])
    assert [rank_share(y, rank=r, world_size=2) for r in (0, 1)] == [1.0, 1.0]
    assert rank_share(np.array([], dtype=int), rank=0, world_size=2) == 0.0


def test_one_process_context_is_the_identity(tmp_path):
    ctx = DistContext()
    assert ctx.is_main and ctx.salt("dropout") == "dropout"
    assert DistContext(rank=1, world_size=2).salt("dropout") == "dropout:rank1"
    ctx.barrier()
    assert ctx.broadcast({"a": 1}) == {"a": 1}
    assert ctx.all_gather(3) == [3] and ctx.all_reduce_sum(2.5) == 2.5
    model = nn.Linear(3, 2)
    assert ctx.wrap(model) is model


def test_local_batches_split_every_global_batch_by_rank():
    from emoscope.train.data import FeatureDataset

    feats = {f"u{i}": np.full(3, i, np.float32) for i in range(7)}
    ds = FeatureDataset(feats, list(feats), [i % 2 for i in range(7)], kind="vector")
    order = np.array([6, 0, 5, 1, 4, 2, 3])
    seen: list[list[int]] = [[], []]
    for rank in (0, 1):
        ctx = DistContext(rank=rank, world_size=2)
        for b, share, n in ctx.local_batches(ds, order, 3, targets=np.array(ds.targets)):
            assert n in (3, 1)
            if share:
                seen[rank] += b.x[:, 0].int().tolist()
    assert seen[0] == [6, 5, 1, 2, 3] and seen[1] == [0, 4]  # 3 = the last, lone item


def test_init_needs_torchrun(monkeypatch):
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(var, raising=False)
    assert not launched_by_torchrun()
    with pytest.raises(ConfigError, match="torchrun --nproc_per_node"):
        init_distributed()


def _config(tmp_path, model: str) -> object:
    return load_config({"name": "x", "data": {"corpus": "tess"},
                        "protocol": {"name": "tess-cross-speaker"},
                        "features": {"name": "mfcc-mean", "n_mfcc": 13},
                        "model": {"name": model}})


def test_sklearn_models_refuse_distributed(tmp_path):
    check_distributable(_config(tmp_path, "mlp"))
    with pytest.raises(ConfigError, match="scikit-learn model, which trains in one process"):
        check_distributable(_config(tmp_path, "svm"))


def test_cli_refuses_sklearn_and_plain_processes(tmp_path, capsys, monkeypatch):
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(var, raising=False)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("name: t\ndata: {corpus: tess}\nprotocol: {name: tess-cross-speaker}\n"
                   "features: {name: egemaps}\nmodel: {name: svm}\n")
    run = ["--data-root", str(tmp_path), "--out", str(tmp_path / "run"), "--distributed"]
    assert main(["train", str(cfg), *run]) == 1
    assert "scikit-learn model" in capsys.readouterr().err
    cfg.write_text(cfg.read_text().replace("svm", "mlp"))
    assert main(["train", str(cfg), *run]) == 1
    assert "needs the processes torchrun starts" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
