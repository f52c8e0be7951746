"""Whisper-encoder feature benchmark: emoscope's ``whisper`` feature against the naive loop.

Two measurements in one run, on the same machine and threads:

* ``emoscope``: ``extract_features`` of every file of the corpus into an empty cache with the
  ``whisper`` feature (all hidden states pooled to mean+std): Whisper's log-mel without padding
  to 30 s, clips of similar length encoded together with the padding masked;
* ``naive loop``: what a script usually does: each clip through ``transformers``'
  ``WhisperFeatureExtractor`` (padded to 30 s) and ``WhisperModel``'s encoder, one at a time,
  every hidden state pooled the same way; timed on the first ``--naive-files`` files (it is about
  ten times slower), and the same files through emoscope's feature one at a time, so the ratio
  is measured side by side.

    python benchmarks/whisper_features.py --data-root ../shared/data/RAVDESS \\
        --model ../shared/models/whisper-base --out benchmarks/results/whisper_features.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model

from emoscope import corpora, features
from emoscope.audio.io import load_audio


def naive(model_dir: Path, paths: list[str]) -> tuple[float, float]:
    """Seconds of wall time and of audio for the naive loop over ``paths``."""
    from safetensors.torch import load_file
    from transformers import WhisperConfig, WhisperFeatureExtractor
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    cfg = WhisperConfig.from_pretrained(model_dir)
    enc = WhisperEncoder(cfg)
    enc.load_state_dict({k.removeprefix("model.encoder."): v.float()
                         for k, v in load_file(str(model_dir / "model.safetensors")).items()})
    enc.eval()
    fe = WhisperFeatureExtractor(feature_size=cfg.num_mel_bins)
    audio = 0.0
    t0 = time.perf_counter()
    for p in paths:
        y, _ = load_audio(p, sample_rate=16000)
        audio += y.shape[-1] / 16000
        x = torch.from_numpy(fe(y, sampling_rate=16000, return_tensors="np").input_features)
        with torch.inference_mode():
            states = enc(x, output_hidden_states=True).hidden_states
        np.concatenate([np.concatenate([s[0].mean(0).numpy(), s[0].std(0).numpy()])
                        for s in states])
    return time.perf_counter() - t0, audio


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", type=Path, required=True)
    ap.add_argument("--corpus", default="ravdess")
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--naive-files", type=int, default=48)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    df = corpora.load(args.corpus, args.data_root)
    ext = features.create("whisper", model_path=str(args.model))
    paths = list(df["path"])
    ext(load_audio(paths[0], sample_rate=16000)[0], 16000)  # load the model once, warm up

    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        fs = features.extract_features(df, ext, cache=cache, progress=False)
        full_s = time.perf_counter() - t0
    audio_s = float(sum(load_audio_info(p) for p in paths))

    sub = paths[: args.naive_files]
    naive_s, sub_audio = naive(args.model, sub)
    t0 = time.perf_counter()
    for p in sub:
        ext(load_audio(p, sample_rate=16000)[0], 16000)
    ours_one_s = time.perf_counter() - t0

    threads = torch.get_num_threads()
    result = {
        "corpus": args.corpus, "files": len(paths), "extracted": len(fs),
        "skipped": len(fs.failed), "audio_hours": round(audio_s / 3600, 3),
        "emoscope_seconds": round(full_s, 1),
        "emoscope_x_real_time_per_core": round(audio_s / full_s / threads, 1),
        "naive_files": len(sub), "naive_seconds": round(naive_s, 2),
        "emoscope_one_at_a_time_seconds": round(ours_one_s, 2),
        "naive_over_emoscope_one_at_a_time": round(naive_s / ours_one_s, 2),
        "naive_over_emoscope_batched_per_audio_second": round(
            (naive_s / sub_audio) / (full_s / audio_s), 2),
        "naive_extrapolated_full_seconds": round(naive_s / sub_audio * audio_s, 0),
        "torch_threads": threads, "cpu": cpu_model(), "cores": os.cpu_count(),
        "python": platform.python_version(), "torch": torch.__version__,
        "model": str(args.model),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


def load_audio_info(path: str) -> float:
    from emoscope.audio.io import audio_info

    return float(audio_info(path).duration)


if __name__ == "__main__":
    main()
