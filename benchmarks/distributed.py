"""Distributed benchmark: batch prediction on Ray with 1 and 2 workers, and DDP training with
two processes against one.

**Prediction.** Every file of a corpus folder (all 1440 RAVDESS speech files by default) goes
through :func:`emoscope.distributed.ray_batch.predict_files_ray` on a fresh local Ray with
``W`` CPUs and ``W`` workers (W = 1, 2), after a warm-up on a few files (each worker process
loads the bundle once, then keeps it), and through one process without Ray
(:func:`emoscope.inference.batch.predict_files`) for reference. Reported: wall seconds, files
and audio seconds per second, the scaling ratio (2-worker over 1-worker throughput), and the
peak resident memory of each worker process. The labels of every run must agree.

**Training.** A fixed small config (log-mel + ``crnn-asp``, 3 epochs, batch 16, one random
fold, one thread per process) on the first ``--train-files`` files, features cached
beforehand: ``emoscope train`` in one process, then under ``torchrun --nproc_per_node 2 ...
--distributed``. Reported: wall seconds of each command (start-up included) and the time in
the training loop (``train_seconds`` of metrics.json), and the speed-ups.

    python benchmarks/distributed.py --json benchmarks/results/distributed.json
    python benchmarks/distributed.py --limit 40          # a quick check on 40 files
    python benchmarks/distributed.py --markdown benchmarks/results/distributed.json

Run it on an idle machine: two workers need two free cores.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _machine import cpu_model

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "RAVDESS"
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")}

TRAIN_CONFIG = """\
name: ddp-benchmark
data: {{corpus: ravdess}}
protocol: {{name: random, options: {{test_fraction: 0.2}}, valid_fraction: 0.1}}
features: {{name: logmel, n_mels: 64, trim: energy, trim_db: 40.0}}
model: {{name: crnn-asp}}
train: {{epochs: {epochs}, batch_size: 16, max_frames: 250, optimizer: adamw, lr: 0.002,
        seed: 0, threads: 1}}
"""


def _versions() -> dict[str, str]:
    import ray
    import torch

    from emoscope import __version__

    return {"python": platform.python_version(), "torch": torch.__version__,
            "ray": ray.__version__, "emoscope": __version__}


def _files(data_root: Path, limit: int | None) -> list[Path]:
    from emoscope.inference.batch import find_audio_files

    files = find_audio_files([data_root])
    return files[:limit] if limit else files


def _audio_seconds(files: list[Path]) -> float:
    import soundfile as sf

    total = 0.0
    for f in files:
        with contextlib.suppress(RuntimeError):
            total += sf.info(str(f)).duration
    return total


# ------------------------------------------------------------------------------ prediction

def bench_predict(files: list[Path], bundle: Path | None, workers_list: list[int],
                  batch_size: int) -> dict[str, Any]:
    """Time local prediction and Ray prediction with each worker count."""
    import ray
    import torch

    from emoscope.distributed.ray_batch import predict_files_ray
    from emoscope.inference import Predictor
    from emoscope.inference.batch import predict_files

    audio_s = _audio_seconds(files)
    runs: list[dict[str, Any]] = []
    torch.set_num_threads(1)
    predictor = Predictor.from_bundle(bundle)
    predict_files(predictor, files[:2], batch_size=batch_size, progress=False)  # warm-up
    t0 = time.perf_counter()
    local = predict_files(predictor, files, batch_size=batch_size, progress=False)
    dt = time.perf_counter() - t0
    labels = [p.label for p in local.predictions]
    runs.append({"mode": "one process (no Ray)", "workers": 1, "seconds": round(dt, 2),
                 "files_per_s": round(len(files) / dt, 2),
                 "audio_s_per_s": round(audio_s / dt, 2), "worker_peak_rss_mb": []})
    for w in workers_list:
        tmp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
        ray.init(address="local", num_cpus=w, include_dashboard=False, _temp_dir=tmp,
                 log_to_driver=False, logging_level=logging.WARNING)
        try:
            t0 = time.perf_counter()
            predict_files_ray(files[:2 * w], bundle=bundle, workers=w, batch_size=batch_size,
                              chunk_size=1, progress=False)  # each worker loads the bundle
            warm = time.perf_counter() - t0
            t0 = time.perf_counter()
            res = predict_files_ray(files, bundle=bundle, workers=w, batch_size=batch_size,
                                    progress=False)
            dt = time.perf_counter() - t0
        finally:
            ray.shutdown()
            shutil.rmtree(tmp, ignore_errors=True)
        if [p.label for p in res.predictions] != labels:
            raise SystemExit(f"{w} Ray workers disagree with one process")
        runs.append({"mode": f"Ray, {w} worker{'s' if w > 1 else ''}", "workers": w,
                     "seconds": round(dt, 2), "warm_up_s": round(warm, 2),
                     "files_per_s": round(len(files) / dt, 2),
                     "audio_s_per_s": round(audio_s / dt, 2),
                     "worker_peak_rss_mb": sorted(round(v, 1) for v in
                                                  res.stats.worker_peak_rss_mb.values())})
    by_w = {r["workers"]: r["files_per_s"] for r in runs if r["mode"].startswith("Ray")}
    scaling = round(by_w[2] / by_w[1], 3) if 1 in by_w and 2 in by_w else None
    return {"files": len(files), "audio_seconds": round(audio_s, 1),
            "skipped": len(local.skipped), "bundle": str(bundle or "shipped default"),
            "batch_size": batch_size, "runs": runs, "scaling_2_vs_1": scaling}


# ------------------------------------------------------------------------------- training

def _subset(files: list[Path], data_root: Path, dest: Path) -> Path:
    """A corpus folder of symlinks to ``files``, keeping their paths under ``data_root``."""
    for f in files:
        link = dest / f.relative_to(data_root)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(f.resolve())
    return dest


def _run(cmd: list[str], cwd: Path) -> float:
    env = {**os.environ, **ONE_THREAD}
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    return dt


def bench_ddp(files: list[Path], data_root: Path, epochs: int) -> dict[str, Any]:
    """One-process and two-process (DDP) training of the same small config."""
    import numpy as np

    from emoscope import corpora, features
    from emoscope.config import load_config

    work = Path(tempfile.mkdtemp(prefix="ddp-bench-"))
    try:
        corpus = _subset(files, data_root, work / "corpus")
        cfg_path = work / "config.yaml"
        cfg_path.write_text(TRAIN_CONFIG.format(epochs=epochs))
        cache = work / "cache"
        cfg = load_config(cfg_path)
        features.extract_features(corpora.load("ravdess", corpus), features.create(cfg.features),
                                  cache=cache, workers=2, progress=False)
        common = ["train", str(cfg_path), "--data-root", str(corpus), "--cache", str(cache)]
        single = _run([sys.executable, "-m", "emoscope.cli", *common, "--out",
                       str(work / "single")], work)
        ddp = _run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                    "--nproc_per_node", "2", "-m", "emoscope.cli", *common, "--out",
                    str(work / "ddp"), "--distributed"], work)
        m1 = json.loads((work / "single" / "metrics.json").read_text())
        m2 = json.loads((work / "ddp" / "metrics.json").read_text())
        p1 = np.asarray(json.loads((work / "single" / "folds" / "fold-1" / "result.json")
                                   .read_text())["probabilities"])
        p2 = np.asarray(json.loads((work / "ddp" / "folds" / "fold-1" / "result.json")
                                   .read_text())["probabilities"])
        t1, t2 = float(m1["train_seconds"]), float(m2["train_seconds"])
        return {
            "files": len(files), "config": cfg_path.read_text(),
            "runs": [{"mode": "one process", "processes": 1, "wall_s": round(single, 2),
                      "train_s": t1, "test_ua": round(m1["mean"]["ua"], 4)},
                     {"mode": "DDP (torchrun, gloo)", "processes": 2, "wall_s": round(ddp, 2),
                      "train_s": t2, "test_ua": round(m2["mean"]["ua"], 4)}],
            "speedup_wall": round(single / ddp, 3),
            "speedup_train": round(t1 / t2, 3) if t2 else None,
            "max_abs_prob_diff": float(np.abs(p1 - p2).max()),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------------------------- reporting

def markdown(result: dict[str, Any]) -> str:
    """The results as markdown tables."""
    lines = []
    pr = result.get("predict")
    if pr:
        lines += [f"Batch prediction: {pr['files']} files ({pr['audio_seconds']:.0f} s of "
                  f"audio), bundle {pr['bundle']}, batch {pr['batch_size']}", "",
                  "| run | wall s | files/s | audio s/s | peak MB per worker |",
                  "|---|---:|---:|---:|---|"]
        for r in pr["runs"]:
            mem = ", ".join(f"{v:.0f}" for v in r["worker_peak_rss_mb"]) or "–"
            lines.append(f"| {r['mode']} | {r['seconds']:.1f} | {r['files_per_s']:.1f} | "
                         f"{r['audio_s_per_s']:.1f} | {mem} |")
        if pr.get("scaling_2_vs_1") is not None:
            lines += ["", f"Scaling, 2 workers over 1: {pr['scaling_2_vs_1']:.2f}x"]
    dd = result.get("ddp")
    if dd:
        lines += ["", f"Training: {dd['files']} files, log-mel + crnn-asp, one thread per "
                      "process", "", "| run | processes | wall s | training loop s | test UA |",
                  "|---|---:|---:|---:|---:|"]
        for r in dd["runs"]:
            lines.append(f"| {r['mode']} | {r['processes']} | {r['wall_s']:.1f} | "
                         f"{r['train_s']:.1f} | {r['test_ua']:.3f} |")
        lines += ["", f"Speed-up of DDP: {dd['speedup_wall']:.2f}x wall, "
                      f"{dd['speedup_train']}x training loop; max |p_single - p_ddp| = "
                      f"{dd['max_abs_prob_diff']:.1e}"]
    m = result.get("machine", {})
    if m:
        lines += ["", f"Machine: {m.get('cpu')}, {m.get('cores')} cores; load before: "
                      f"{m.get('load_before')}"]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", type=Path, default=DEFAULT_DATA,
                    help="A folder of audio files (default: ../shared/data/RAVDESS).")
    ap.add_argument("--bundle", type=Path, default=None,
                    help="A model bundle (default: the shipped model).")
    ap.add_argument("--limit", type=int, default=None, help="Only the first N files.")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--train-files", type=int, default=240,
                    help="Files of the training benchmark (the first N; at most --limit).")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--skip-predict", action="store_true")
    ap.add_argument("--skip-ddp", action="store_true")
    ap.add_argument("--json", type=Path, default=None, help="Write the results here.")
    ap.add_argument("--markdown", type=Path, default=None, metavar="JSON",
                    help="Only print the tables of an existing results JSON.")
    args = ap.parse_args()
    if args.markdown is not None:
        print(markdown(json.loads(args.markdown.read_text())))
        return
    files = _files(args.data_root, args.limit)
    if not files:
        raise SystemExit(f"no audio files in {args.data_root}")
    result: dict[str, Any] = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(),
                    "load_before": [round(x, 2) for x in os.getloadavg()], **_versions()},
    }
    if not args.skip_predict:
        result["predict"] = bench_predict(files, args.bundle, args.workers, args.batch_size)
    if not args.skip_ddp:
        n = min(args.train_files, len(files))
        result["ddp"] = bench_ddp(files[:n], args.data_root, args.epochs)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(result))


if __name__ == "__main__":
    main()
