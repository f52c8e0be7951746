"""The margin contrastive loss on hand-built pairs, the pairs of a batch, pre-training."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from emoscope import models
from emoscope.errors import ConfigError
from emoscope.train.contrastive import contrastive_loss, contrastive_pairs, pretrain_contrastive
from emoscope.video.config import ContrastiveConfig


def test_loss_of_hand_built_pairs():
    za = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    zv = torch.tensor([[3.0, 4.0],    # positive at distance 5: 5**2 = 25
                       [0.0, 0.0],    # positive at distance 0: 0
                       [0.6, 0.8],    # negative at distance 1 < margin 2: (2 - 1)**2 = 1
                       [0.0, 2.5]])   # negative beyond the margin: 0
    same = torch.tensor([1.0, 1.0, 0.0, 0.0])
    loss = contrastive_loss(za, zv, same, margin=2.0)
    assert loss.item() == pytest.approx((25 + 0 + 1 + 0) / 4, rel=1e-5)
    # a negative at distance 0 costs margin**2, a positive at the margin costs margin**2 too
    one = torch.zeros(1, 3)
    assert contrastive_loss(one, one, torch.zeros(1), margin=1.5).item() == pytest.approx(
        2.25, abs=1e-5)
    assert contrastive_loss(one, one + torch.tensor([[1.5, 0, 0]]), torch.ones(1),
                            margin=1.5).item() == pytest.approx(2.25, abs=1e-5)


def test_loss_gradient_pulls_positives_and_pushes_negatives():
    za = torch.tensor([[0.0, 0.0], [0.0, 0.0]], requires_grad=True)
    zv = torch.tensor([[1.0, 0.0], [0.5, 0.0]])
    contrastive_loss(za, zv, torch.tensor([1.0, 0.0]), margin=1.0).backward()
    assert za.grad[0, 0] < 0  # moving toward zv[0] (+x) lowers the loss
    assert za.grad[1, 0] > 0  # moving away from zv[1] lowers it
    assert math.isfinite(contrastive_loss(za, za.detach(), torch.zeros(2)).item())


def test_loss_checks_shapes():
    with pytest.raises(ConfigError):
        contrastive_loss(torch.zeros(2, 3), torch.zeros(3, 3), torch.zeros(2))
    with pytest.raises(ConfigError):
        contrastive_loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3))


def test_pairs_positive_hard_and_super_hard():
    y = np.array([0, 0, 1, 1, 2])
    a, v, same = contrastive_pairs(y, hard=1, super_hard=1, rng=np.random.default_rng(0))
    assert a[:5].tolist() == v[:5].tolist() == [0, 1, 2, 3, 4] and (same[:5] == 1).all()
    neg = same == 0
    hard = neg & (y[a] != y[v])
    super_hard = neg & (y[a] == y[v])
    assert (a[neg] != v[neg]).all()  # a negative is always another clip
    assert np.bincount(a[hard], minlength=5).tolist() == [1, 1, 1, 1, 1]
    assert np.bincount(a[super_hard], minlength=5).tolist() == [1, 1, 1, 1, 0]  # 4 has no twin
    a2, _, _ = contrastive_pairs(y, hard=3, super_hard=0, rng=np.random.default_rng(0))
    assert np.bincount(a2, minlength=5).tolist() == [4, 4, 4, 4, 4]


def test_pretraining_records_its_history_and_resumes(paired_av, tmp_path, tiny):
    df, paired = paired_av
    df = df[df.statement == 1]  # 16 clips
    labels = sorted(set(df.label))
    ids = list(df.id)
    y = [labels.index(lab) for lab in df.label]
    x0 = paired[ids[0]]

    def build():
        torch.manual_seed(0)
        return models.build_model("av-fusion", input_shape=tuple(p.shape for p in x0),
                                  n_classes=4, audio=tiny["audio_stream"],
                                  video=tiny["video_stream"])

    cfg = ContrastiveConfig(epochs=3, lr=3e-3)
    m = build()
    hist = pretrain_contrastive(m, cfg, paired, kind=paired.kind, train_ids=ids, train_y=y,
                                batch_size=8, checkpoint=tmp_path / "pre.pt")
    assert [r["epoch"] for r in hist] == [1, 2, 3]
    assert all(math.isfinite(r["contrastive_loss"]) for r in hist)  # learning: next test
    assert all(0 <= r["positive_distance"] <= 2 and 0 <= r["negative_distance"] <= 2
               for r in hist)
    again = build()
    assert pretrain_contrastive(again, cfg, paired, kind=paired.kind, train_ids=ids, train_y=y,
                                checkpoint=tmp_path / "pre.pt", resume=True) == hist
    for k, v in m.state_dict().items():
        assert torch.equal(v, again.state_dict()[k]), k
    with pytest.raises(ConfigError, match="no audio and video streams"):
        pretrain_contrastive(models.build_model("video-3dcnn", input_shape=x0[1].shape,
                                                n_classes=4), cfg, paired, kind=paired.kind,
                             train_ids=ids, train_y=y)


def test_pretraining_brings_a_clips_audio_and_face_together(paired_av, tiny):
    """After pre-training, a clip's audio embedding lies closer to its own frames' embedding
    than to the frames of clips of other emotions (on the generated corpus, whose faces and
    tones vary by emotion and clip)."""
    from emoscope.train.contrastive import _embeddings
    from emoscope.train.data import FeatureDataset, PartStandardizer, collate

    df, paired = paired_av
    labels = sorted(set(df.label))
    ids = list(df.id)
    y = np.array([labels.index(lab) for lab in df.label])
    x0 = paired[ids[0]]

    def distances(model, cfg):
        std = PartStandardizer.fit(paired, ids, paired.kind)
        ds = FeatureDataset(paired, ids, list(y), kind=paired.kind, standardizer=std)
        b = collate([ds[i] for i in range(len(ds))])
        model.eval()
        with torch.no_grad():
            za, zv = _embeddings(model, b.x, cfg)
        d = torch.cdist(za, zv).numpy()
        own = float(np.diag(d).mean())
        other = float(d[y[:, None] != y[None, :]].mean())
        return own, other, float(za.std(0).mean())

    # one thread: the 12 epochs on 16 clips end in the same place on every machine (with two,
    # float sums in another order sent this run to a degenerate optimum on some workers)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        m = models.build_model("av-fusion", input_shape=tuple(p.shape for p in x0),
                               n_classes=4, audio=tiny["audio_stream"],
                               video=tiny["video_stream"])
        cfg = ContrastiveConfig(epochs=12, lr=3e-3)
        pretrain_contrastive(m, cfg, paired, kind=paired.kind, train_ids=ids,
                             train_y=list(y), batch_size=8)
        own, other, spread = distances(m, cfg)
    finally:
        torch.set_num_threads(threads)
    assert spread > 0.05  # the embeddings depend on the clip (no collapse)
    assert own < other - 0.05, (own, other)
