"""Feature-extraction benchmark: emoscope's cached, parallel extraction vs a plain per-file loop.

For each feature (log-mel, MFCC, eGeMAPS) over every file of a corpus it measures, each run in a
fresh process so that peak memory is its own:

* ``emoscope, 1 worker`` and ``emoscope, N workers``: ``extract_features`` into an empty cache;
* ``emoscope, cached``: the same call again (every entry reused);
* ``plain loop``: what a script usually does: ``librosa.load`` each file and compute the feature
  with librosa (or opensmile for eGeMAPS), keeping every result in a list.

Throughput is seconds of audio processed per second of wall time per core used; peak memory is
the largest resident set of the process and of any worker.

    python benchmarks/features.py --data-root ../shared/data/RAVDESS --corpus ravdess \
        --out benchmarks/results/features.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import cpu_model

FEATURES = {"logmel": "logmel", "mfcc": "mfcc-mean", "egemaps": "egemaps"}



def _peak_rss_mb() -> float:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(self_kb, child_kb) / 1024


def _manifest(corpus: str, root: str):
    from emoscope import corpora

    return corpora.load(corpus, root)


def run_one(mode: str, feature: str, corpus: str, root: str, workers: int, cache: str) -> dict:
    """One measurement, in this process."""
    from emoscope.audio import audio_info

    df = _manifest(corpus, root)
    paths = list(df.path)
    audio_s = sum(audio_info(p).duration for p in paths)  # from headers, outside the timing
    t0 = time.perf_counter()
    if mode == "plain":
        import librosa
        import numpy as np

        results = []
        if feature == "egemaps":
            import opensmile

            smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                                    feature_level=opensmile.FeatureLevel.Functionals)
        for p in paths:
            y, sr = librosa.load(p, sr=16000)
            if feature == "logmel":
                s = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=400, hop_length=160,
                                                   n_mels=64)
                results.append(np.log(np.maximum(s, 1e-10)).T)
            elif feature == "mfcc":
                results.append(librosa.feature.mfcc(y=y, sr=sr, n_mfcc=40, n_fft=400,
                                                    hop_length=160).mean(axis=1))
            else:
                results.append(smile.process_signal(y, sr).to_numpy()[0])
        n_ok = len(results)
        failed = 0
    else:
        from emoscope.features import extract_features

        fs = extract_features(df, FEATURES[feature], cache=cache, workers=workers,
                              progress=False)
        n_ok, failed = len(fs), len(fs.failed)
    wall = time.perf_counter() - t0
    cores = workers if mode == "emoscope" else 1
    return {
        "mode": mode, "feature": feature, "workers": cores, "files": len(paths),
        "extracted": n_ok, "failed": failed, "audio_seconds": round(audio_s, 1),
        "wall_seconds": round(wall, 2),
        "audio_s_per_s_per_core": round(audio_s / wall / cores, 1),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


def markdown(result: dict) -> str:
    """The result as the Markdown table used in BENCHMARKS.md."""
    lines = [
        "| feature | run | wall (s) | audio s / s / core | peak memory (MB) | files |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        lines.append(f"| {r['feature']} | {r['mode']} | {r['wall_seconds']:.1f} | "
                     f"{r['audio_s_per_s_per_core']:.0f} | {r['peak_rss_mb']:.0f} | "
                     f"{r['extracted']}/{r['files']} |")
    m = result["machine"]
    lines.append("")
    hours = result["rows"][0]["audio_seconds"] / 3600
    cpu = m["processor"] or m["platform"]
    lines.append(f"{result['corpus']} ({hours:.2f} h of audio), {m['cpus']} CPUs ({cpu}), "
                 f"Python {m['python']}, {result['date']}.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root")
    ap.add_argument("--corpus", default="ravdess")
    ap.add_argument("--features", default="logmel,mfcc,egemaps")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--repeats", type=int, default=3,
                    help="Runs of each fast measurement (the median is reported); eGeMAPS, "
                         "which takes minutes, runs once.")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--markdown", type=Path, default=None,
                    help="Print the Markdown table of an existing results JSON and exit.")
    ap.add_argument("--one", nargs=4, metavar=("MODE", "FEATURE", "WORKERS", "CACHE"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text())))
        return
    if not args.data_root:
        ap.error("--data-root is required")
    if args.one:
        mode, feature, workers, cache = args.one
        print(json.dumps(run_one(mode, feature, args.corpus, args.data_root, int(workers),
                                 cache)))
        return
    rows = []
    for feature in args.features.split(","):
        with tempfile.TemporaryDirectory() as cache:
            plan = [("plain", 1, cache), ("emoscope", 1, cache + "/w1"),
                    ("emoscope", args.workers, cache + "/wn"), ("emoscope", args.workers,
                                                                cache + "/wn")]
            repeats = 1 if feature == "egemaps" else args.repeats
            for i, (mode, workers, c) in enumerate(plan):
                runs = []
                for r in range(repeats):
                    if i in (1, 2) and r > 0:  # a cold cache for every cold run
                        shutil.rmtree(c, ignore_errors=True)
                    cmd = [sys.executable, __file__, "--data-root", args.data_root, "--corpus",
                           args.corpus, "--one", mode, feature, str(workers), c]
                    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                    runs.append(json.loads(out.strip().splitlines()[-1]))
                runs.sort(key=lambda row: row["wall_seconds"])
                row = runs[len(runs) // 2]  # the median run
                row["repeats"] = repeats
                row["mode"] = {0: "plain librosa loop" if feature != "egemaps"
                               else "plain opensmile loop", 1: "emoscope, 1 worker",
                               2: f"emoscope, {workers} workers",
                               3: f"emoscope, cached rerun ({workers} workers)"}[i]
                rows.append(row)
                print(json.dumps(row), flush=True)
    result = {
        "corpus": args.corpus, "data_root": str(Path(args.data_root).resolve()),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "processor": cpu_model()},
        "date": time.strftime("%Y-%m-%d"), "rows": rows,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
