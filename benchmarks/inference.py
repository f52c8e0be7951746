"""Inference benchmark: per-clip latency of the torch and the ONNX (onnxruntime) paths.

One clip of real speech (a RAVDESS file cut or zero-padded to 3 s at 16 kHz) goes through
:class:`emoscope.inference.Predictor` (torch) and
:class:`emoscope.inference.onnx.predictor.OnnxPredictor` (onnxruntime), on one thread each
(``torch.set_num_threads(1)``, ``intra_op_num_threads=1``, and one BLAS/OpenMP thread for the
feature extraction). Each path runs in a fresh process, so that its peak memory (largest
resident set, imports included) is its own; the ONNX one loads the exported file alone
(``OnnxPredictor.from_onnx``), as a deployment would, and so does not import torch for log-mel
features. After a warm-up, every run times the feature extraction (decoded waveform ->
standardised features) and the model (features -> probabilities) separately; the table gives
their median and 90th percentile and those of their sum, and the real-time factor (median
total latency / clip duration).

    python benchmarks/inference.py --json benchmarks/results/inference.json --markdown

``--bundle DIR`` benchmarks a trained bundle; by default a freshly made, randomly initialised
``crnn-asp`` on 64 log-mel bands (:func:`emoscope.testing.bundles.make_bundle`: the shipped
architecture and pipeline, untrained weights, which time the same). ``--markdown FILE`` prints
the table of an existing results JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _machine import cpu_model

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "RAVDESS"
#: An angry, normal-intensity sentence by actor 1 (3.6 s originally).
DEFAULT_CLIP = "audio_speech_actors_01-24/Actor_01/03-01-05-01-01-01-01.flac"
SAMPLE_RATE = 16000
#: Environment of the measuring processes: one thread for every numeric library.
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")}



def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (other work on the machine skews timings)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def clip(path: Path, seconds: float) -> Any:
    """The file decoded at 16 kHz mono, cut or zero-padded at the end to ``seconds``."""
    import numpy as np

    from emoscope.audio.io import load_audio

    y, _ = load_audio(path, sample_rate=SAMPLE_RATE)
    n = round(seconds * SAMPLE_RATE)
    return np.pad(y, (0, max(0, n - y.shape[-1])))[:n].astype(np.float32)


def peak_rss_mb() -> float:
    """This process's largest resident set, in MB.

    ``VmHWM`` from /proc (Linux): unlike ``getrusage``'s ``ru_maxrss``, which survives
    ``execve`` and so counts the parent's memory at the time it started this process.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stats(values: list[float]) -> dict[str, float]:
    """Median, 90th percentile, mean and minimum, in milliseconds."""
    import numpy as np

    ms = np.asarray(values) * 1000.0
    return {"median_ms": round(float(np.median(ms)), 3),
            "p90_ms": round(float(np.percentile(ms, 90)), 3),
            "mean_ms": round(float(ms.mean()), 3), "min_ms": round(float(ms.min()), 3)}


def measure(backend: str, bundle: str, onnx: str, audio: str, seconds: float, runs: int,
            warmup: int) -> dict[str, Any]:
    """One backend's measurement, in this process."""
    t0 = time.perf_counter()
    if backend == "torch":
        import torch

        torch.set_num_threads(1)
        torch.set_num_interop_threads(1)
        from emoscope.inference import Predictor

        predictor = Predictor.from_bundle(bundle)
    else:
        from emoscope.inference.onnx.predictor import OnnxPredictor

        predictor = OnnxPredictor.from_onnx(onnx, intra_op_threads=1)
    load_s = time.perf_counter() - t0
    y = clip(Path(audio), seconds)
    for _ in range(warmup):
        predictor.predict_proba([y], SAMPLE_RATE)
    feat_t, model_t, total_t = [], [], []
    for _ in range(runs):
        a = time.perf_counter()
        x = predictor.features(y, SAMPLE_RATE)
        b = time.perf_counter()
        probs = predictor.proba_from_features([x])
        c = time.perf_counter()
        feat_t.append(b - a)
        model_t.append(c - b)
        total_t.append(c - a)
    total = stats(total_t)
    return {
        "backend": backend, "runs": runs, "warmup": warmup, "clip_seconds": seconds,
        "feature_shape": list(x.shape), "load_seconds": round(load_s, 3),
        "features": stats(feat_t), "model": stats(model_t), "total": total,
        "rtf": round(total["median_ms"] / 1000.0 / seconds, 5),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "torch_imported": "torch" in sys.modules,
        "probabilities": [float(p) for p in probs[0]],
    }


def _load(result: dict[str, Any]) -> str:
    la = result.get("load_average") or {}
    before, after = la.get("before"), la.get("after")
    if not before or not after:
        return "load average unknown"
    return (f"1-minute load average {before[0]:.1f} before and {after[0]:.1f} after (other "
            "work on the machine)")


def markdown(result: dict[str, Any]) -> str:
    """The result as a Markdown table."""
    lines = [
        "| path | features median / p90 (ms) | model median / p90 (ms) | "
        "total median / p90 (ms) | real-time factor | peak memory (MB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    names = {"torch": "torch (Predictor)", "onnx": "ONNX (OnnxPredictor, onnxruntime)"}
    for r in result["rows"]:
        f, m, t = r["features"], r["model"], r["total"]
        lines.append(f"| {names[r['backend']]} | {f['median_ms']:.1f} / {f['p90_ms']:.1f} | "
                     f"{m['median_ms']:.1f} / {m['p90_ms']:.1f} | "
                     f"{t['median_ms']:.1f} / {t['p90_ms']:.1f} | {r['rtf']:.4f} | "
                     f"{r['peak_rss_mb']:.0f} |")
    mc, b = result["machine"], result["bundle"]
    rows = {r["backend"]: r for r in result["rows"]}
    speedup = ""
    if {"torch", "onnx"} <= rows.keys():
        ratio = rows["torch"]["model"]["median_ms"] / max(rows["onnx"]["model"]["median_ms"],
                                                           1e-9)
        speedup = f" Model speed-up of ONNX over torch: {ratio:.2f}x."
    lines += ["", f"{b['model']} on {b['features']} features {tuple(b['feature_shape'])}, "
                  f"{b['parameters'] / 1e6:.2f} M parameters ({b['source']}); one "
                  f"{result['clip_seconds']:g} s clip ({result['clip']}), {result['runs']} "
                  f"runs after {result['warmup']} warm-up, one thread.{speedup} "
                  f"max |torch - onnx| on this clip: {result['max_abs_diff']:.1e}. "
                  f"{mc['cpus']} CPUs ({mc['processor']}), {_load(result)}, "
                  f"Python {mc['python']}, torch {mc['torch']}, "
                  f"onnxruntime {mc['onnxruntime']}, {result['date']}."]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", type=Path, default=None,
                    help="A torch model bundle (default: a fresh crnn-asp on log-mel).")
    ap.add_argument("--data-root", type=Path, default=DEFAULT_DATA,
                    help="The RAVDESS folder (default: ../shared/data/RAVDESS).")
    ap.add_argument("--audio", type=Path, default=None,
                    help=f"The clip's file (default: {DEFAULT_CLIP} under --data-root).")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--json", type=Path, default=None, help="Write the results here.")
    ap.add_argument("--markdown", nargs="?", const="-", default=None, metavar="JSON",
                    help="Print the Markdown table (of this run, or of an existing results "
                         "JSON and exit).")
    ap.add_argument("--worker", nargs=3, metavar=("BACKEND", "BUNDLE", "ONNX"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.markdown not in (None, "-"):
        print(markdown(json.loads(Path(args.markdown).read_text())))
        return
    audio = args.audio or args.data_root / DEFAULT_CLIP
    if args.worker:
        backend, bundle, onnx = args.worker
        print(json.dumps(measure(backend, bundle, onnx, str(audio), args.seconds, args.runs,
                                 args.warmup)))
        return
    if not audio.is_file():
        ap.error(f"{audio}: no such file (give --data-root or --audio)")

    import numpy as np
    import onnxruntime
    import torch

    from emoscope.bundle import load_bundle
    from emoscope.inference.onnx import export_onnx, read_onnx_metadata
    from emoscope.models import n_parameters
    from emoscope.testing.bundles import make_bundle

    load_before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        bundle, source = args.bundle, str(args.bundle)
        if bundle is None:
            bundle = make_bundle(Path(tmp) / "crnn-asp", feature="logmel", model="crnn-asp")
            source = "make_bundle: untrained crnn-asp, default config"
        onnx_path = export_onnx(bundle, Path(tmp) / "model.onnx")
        meta = read_onnx_metadata(onnx_path)
        onnx_bytes = onnx_path.stat().st_size
        parameters = n_parameters(load_bundle(bundle).model)
        rows = []
        for backend in ("torch", "onnx"):
            cmd = [sys.executable, __file__, "--audio", str(audio), "--seconds",
                   str(args.seconds), "--runs", str(args.runs), "--warmup", str(args.warmup),
                   "--worker", backend, str(bundle), str(onnx_path)]
            done = subprocess.run(cmd, check=True, capture_output=True, text=True,
                                  env={**os.environ, **ONE_THREAD})
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"{backend}: total median {rows[-1]['total']['median_ms']:.1f} ms",
                  file=sys.stderr, flush=True)
    diff = float(np.max(np.abs(np.subtract(rows[0]["probabilities"],
                                           rows[1]["probabilities"]))))
    result = {
        "clip": str(audio.relative_to(args.data_root)) if audio.is_relative_to(args.data_root)
        else str(audio),
        "clip_seconds": args.seconds, "runs": args.runs, "warmup": args.warmup,
        "bundle": {"source": source, "model": meta["model"]["name"],
                   "features": meta["features"]["name"],
                   "feature_shape": rows[0]["feature_shape"],
                   "parameters": parameters, "onnx_opset": meta["opset"],
                   "onnx_bytes": onnx_bytes,
                   "export_max_abs_diff": meta["check"]["max_abs_diff"]},
        "max_abs_diff": diff,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "processor": cpu_model(),
                    "torch": torch.__version__, "onnxruntime": onnxruntime.__version__},
        "load_average": {"before": load_before, "after": load_average()},
        "date": time.strftime("%Y-%m-%d"), "rows": rows,
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if args.markdown == "-":
        print(markdown(result))
    else:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
