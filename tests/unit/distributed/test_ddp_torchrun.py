"""``emoscope train --distributed`` under a real two-process ``torchrun`` (gloo, CPU).

One tiny corpus and config for the module: a single-process run, an uninterrupted distributed
run, and a distributed run killed after its second epoch and resumed. Every distributed run goes
through a launcher that makes any write by rank 1 into the run directory fail the run.

Tolerance: DDP's gradient is mathematically the global batch's (the ranks' losses are scaled
by their share, see ``emoscope.distributed.ddp.rank_share``); what differs is float32 summation
order (a two-way all-reduce instead of one batched sum), which Adam carries into the weights at
the level of float32 rounding. Measured on this config: test probabilities within 9e-8 of the
single-process run, training losses within 8e-8 (relative); the test allows 1e-5. A killed and
resumed distributed run is bitwise equal to an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from emoscope.cli import main

TOLERANCE = 1e-5
EPOCHS = 4

CONFIG = f"""\
name: ddp-test
data: {{corpus: ravdess}}
protocol: {{name: random, options: {{test_fraction: 0.25}}, valid_fraction: 0.2}}
features: {{name: mfcc-mean, n_mfcc: 13}}
model: {{name: mlp, hidden: [32], norm: layer, dropout: 0.0}}
train: {{epochs: {EPOCHS}, batch_size: 7, lr: 0.01, schedule: cosine,
        balance: class_weights, threads: 1}}
"""

#: Rank 1 may not write into the run directory; EMOSCOPE_TEST_KILL_AT kills rank 0 right after
#: it writes that epoch's checkpoint (torchrun then stops rank 1), as a crash would.
LAUNCHER = textwrap.dedent("""\
    import builtins, io, os, sys

    run = os.path.realpath(os.environ["EMOSCOPE_TEST_RUN_DIR"])
    rank = int(os.environ["RANK"])

    def inside(path):
        return os.path.realpath(os.fspath(path)).startswith(run)

    if rank != 0:
        real_open, real_replace, real_mkdir = builtins.open, os.replace, os.mkdir

        def guarded_open(file, mode="r", *args, **kwargs):
            if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wax+") \\
                    and inside(file):
                raise PermissionError(f"rank {rank} wrote {file}")
            return real_open(file, mode, *args, **kwargs)

        def guarded_replace(src, dst, *args, **kwargs):
            if inside(dst):
                raise PermissionError(f"rank {rank} wrote {dst}")
            return real_replace(src, dst, *args, **kwargs)

        def guarded_mkdir(path, *args, **kwargs):
            if inside(path):
                raise PermissionError(f"rank {rank} made {path}")
            return real_mkdir(path, *args, **kwargs)

        builtins.open = io.open = guarded_open
        os.replace, os.mkdir = guarded_replace, guarded_mkdir

    kill_at = int(os.environ.get("EMOSCOPE_TEST_KILL_AT", "0"))
    if kill_at:
        from emoscope.train import loop

        save = loop._save_atomic

        def save_then_die(obj, path):
            save(obj, path)
            if obj["epoch"] == kill_at:
                os._exit(17)

        loop._save_atomic = save_then_die

    from emoscope.cli import main

    sys.exit(main(sys.argv[1:]))
""")


def _setup(root: Path) -> dict[str, Path]:
    from emoscope import corpora, features
    from emoscope.testing.corpora.ravdess import make_ravdess

    corpus = make_ravdess(root / "corpus", actors=(1, 2, 3, 4), emotions=(1, 3, 4, 5))
    cfg = root / "ddp.yaml"
    cfg.write_text(CONFIG)
    launcher = root / "launch.py"
    launcher.write_text(LAUNCHER)
    cache = root / "cache"  # features extracted once, here: the runs only read them
    features.extract_features(corpora.load("ravdess", corpus),
                              features.create("mfcc-mean", n_mfcc=13), cache=cache,
                              progress=False)
    return {"root": root, "corpus": corpus, "cfg": cfg, "launcher": launcher, "cache": cache}


def _torchrun(s: dict[str, Path], out: Path, *extra: str, kill_at: int = 0
              ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "EMOSCOPE_TEST_RUN_DIR": str(out),
           "EMOSCOPE_TEST_KILL_AT": str(kill_at)}
    env.pop("EMOSCOPE_CACHE", None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
           "2", str(s["launcher"]), "train", str(s["cfg"]), "--data-root", str(s["corpus"]),
           "--out", str(out), "--cache", str(s["cache"]), "--distributed", *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900,
                          cwd=s["root"])


def _fold(run: Path) -> tuple[np.ndarray, list[dict[str, float]], dict]:
    saved = json.loads((run / "folds" / "fold-1" / "result.json").read_text())
    history = json.loads((run / "folds" / "fold-1" / "history.json").read_text())
    return np.asarray(saved["probabilities"]), history, saved["extra"]


def _check_matches_single_process(single: Path, run: Path) -> None:
    p1, h1, e1 = _fold(single)
    p2, h2, e2 = _fold(run)
    assert p1.shape == p2.shape and p1.shape[0] > 0
    assert np.abs(p1 - p2).max() <= TOLERANCE
    assert (p1.argmax(1) == p2.argmax(1)).all()
    assert len(h1) == len(h2) == EPOCHS and e1["best_epoch"] == e2["best_epoch"]
    for r1, r2 in zip(h1, h2, strict=True):
        assert r2["train_loss"] == pytest.approx(r1["train_loss"], rel=TOLERANCE)
        assert r2["valid_loss"] == pytest.approx(r1["valid_loss"], rel=TOLERANCE)
        assert r2["valid_ua"] == r1["valid_ua"]
    m1 = json.loads((single / "metrics.json").read_text())
    m2 = json.loads((run / "metrics.json").read_text())
    assert m1["mean"]["ua"] == m2["mean"]["ua"]
    from safetensors.torch import load_file

    w1 = load_file(single / "bundle" / "weights.safetensors")
    w2 = load_file(run / "bundle" / "weights.safetensors")
    assert w1.keys() == w2.keys()
    for k in w1:
        torch.testing.assert_close(w2[k], w1[k], rtol=0, atol=TOLERANCE)


def _check_rank_zero_wrote(run: Path, proc: subprocess.CompletedProcess[str]) -> None:
    # rank 1 ran under the launcher's write guard, and the run succeeded
    for name in ("config.yaml", "metrics.json", "predictions.csv", "report.html",
                 "bundle/bundle.json", "folds/fold-1/checkpoint.pt", "folds/fold-1/result.json"):
        assert (run / name).is_file(), name
    assert not [p for p in run.rglob("*") if p.name.endswith(".tmp")]
    assert proc.stdout.count("mean: UA") == 1  # one rank reports
    state = torch.load(run / "folds" / "fold-1" / "checkpoint.pt", weights_only=True)
    assert state["epoch"] == EPOCHS
    assert not any(k.startswith("module.") for k in state["model"])  # the bare model's keys


def test_two_process_training_matches_one_process_and_resumes_exactly(tmp_path):
    """One test (the runs are costly and depend on each other): a single-process run, an
    uninterrupted two-process run, and a two-process run killed after epoch 2 and resumed."""
    s = _setup(tmp_path)
    single = tmp_path / "single"
    assert main(["train", str(s["cfg"]), "--data-root", str(s["corpus"]), "--out",
                 str(single), "--cache", str(s["cache"])]) == 0

    run = tmp_path / "dist"
    proc = _torchrun(s, run)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_rank_zero_wrote(run, proc)
    _check_matches_single_process(single, run)

    killed = tmp_path / "killed"
    proc = _torchrun(s, killed, kill_at=2)
    assert proc.returncode != 0
    fold = killed / "folds" / "fold-1"
    assert torch.load(fold / "checkpoint.pt", weights_only=True)["epoch"] == 2
    assert not (fold / "result.json").exists() and not (killed / "metrics.json").exists()
    proc = _torchrun(s, killed, "--resume")
    assert proc.returncode == 0, proc.stderr[-3000:]
    p_whole, h_whole, _ = _fold(run)
    p_resumed, h_resumed, _ = _fold(killed)
    assert h_resumed == h_whole
    assert np.array_equal(p_resumed, p_whole)
    assert (killed / "predictions.csv").read_text() == (run / "predictions.csv").read_text()
