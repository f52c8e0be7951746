"""Streaming benchmark: latency from the start of an utterance to its first label, the
real-time factor of the streaming path, and peak memory of a timeline over a one-hour file.

Latency. Each RAVDESS utterance (one per actor, default 24) is embedded in a stream: 1 s of
quiet noise (-60 dBFS), the utterance, 1 s of quiet noise. The stream is pushed into
:class:`emoscope.inference.StreamingPredictor` in 20 ms chunks (a typical audio callback) as
fast as the machine allows, timing every push. The utterance's onset is where its speech
starts (its first 32 ms frame within 40 dB of its loudest, the energy rule of the feature
trim). The first label of the utterance is emitted by some push; the latency is

    (stream time at the end of that push - onset) + the time that push took to compute,

that is, what a live listener waits after the speaker starts: the audio the engine needs
(``min_speech`` and the VAD's decision) plus the compute that runs on it. The real-time factor
is total compute time / stream duration over all streams.

Memory. A one-hour 16 kHz FLAC is built from RAVDESS utterances separated by 0.5-2.5 s of quiet
noise (deterministic) in a temporary folder; :func:`emoscope.inference.timeline` runs over it in
a fresh process (block-wise reading), and again over its first minute; the peak resident set
(``VmHWM``) of each process shows whether memory grows with length.

Everything runs on one thread (torch and BLAS). Without ``--bundle`` the shipped default model
is used.

    python benchmarks/streaming.py --json benchmarks/results/streaming.json --markdown
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _machine import cpu_model

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "RAVDESS"
SAMPLE_RATE = 16000
CHUNK_SECONDS = 0.02
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")}


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)


def utterances(data: Path, n: int) -> list[Path]:
    """One speech file per actor (actors 1..n), cycling through the 8 emotions."""
    out = []
    for a in range(1, n + 1):
        emotion = (a - 1) % 8 + 1
        name = f"03-01-{emotion:02d}-{'01' if emotion == 1 else '02'}-01-01-{a:02d}.flac"
        p = data / "audio_speech_actors_01-24" / f"Actor_{a:02d}" / name
        if p.is_file():
            out.append(p)
    if not out:
        raise SystemExit(f"no RAVDESS speech files under {data}")
    return out


def onset_seconds(y: Any, sr: int) -> float:
    """Start of speech: the first 32 ms frame whose RMS is within 40 dB of the loudest."""
    import numpy as np

    frame = int(0.032 * sr)
    n = y.shape[0] // frame
    rms = np.sqrt(np.mean(y[: n * frame].reshape(n, frame).astype(np.float64) ** 2, axis=1))
    db = 20 * np.log10(np.maximum(rms, 1e-10))
    return float(np.argmax(db >= db.max() - 40.0) * frame / sr)


def quiet(n: int, rng: Any) -> Any:
    """``n`` samples of white noise at -60 dBFS RMS."""
    import numpy as np

    return (1e-3 * rng.standard_normal(n)).astype(np.float32)


def measure_latency(bundle: str | None, files: list[Path], *, vad: bool) -> dict[str, Any]:
    """Latency to the first label of every utterance, and the streaming real-time factor."""
    import numpy as np

    from emoscope.audio.io import load_audio
    from emoscope.inference import Predictor, StreamingPredictor

    _one_thread()
    predictor = Predictor.from_bundle(bundle)
    predictor.warmup()
    engine = StreamingPredictor(predictor, vad=vad)
    rng = np.random.default_rng(0)
    chunk = round(CHUNK_SECONDS * SAMPLE_RATE)
    latencies, misses, compute, audio = [], 0, 0.0, 0.0
    push_times: list[float] = []
    for path in files:
        y, _ = load_audio(path, sample_rate=SAMPLE_RATE)
        lead = SAMPLE_RATE
        stream = np.concatenate([quiet(lead, rng), y, quiet(SAMPLE_RATE, rng)])
        onset = lead / SAMPLE_RATE + onset_seconds(y, SAMPLE_RATE)
        engine.reset()
        first = None
        for s in range(0, stream.shape[0], chunk):
            t0 = time.perf_counter()
            events = engine.push(stream[s:s + chunk], SAMPLE_RATE)
            dt = time.perf_counter() - t0
            push_times.append(dt)
            compute += dt
            if first is None and any(e.speech for e in events):
                first = min(s + chunk, stream.shape[0]) / SAMPLE_RATE - onset + dt
        t0 = time.perf_counter()
        events = engine.flush()
        compute += time.perf_counter() - t0
        audio += stream.shape[0] / SAMPLE_RATE
        if first is None:
            misses += 1
        else:
            latencies.append(first)
    lat = np.asarray(latencies) * 1000.0
    pushes = np.asarray(push_times) * 1000.0
    return {
        "vad": "silero" if vad else "energy", "utterances": len(files), "missed": misses,
        "chunk_ms": CHUNK_SECONDS * 1000, "window_s": engine.window, "hop_s": engine.hop,
        "min_speech_s": engine.min_speech,
        "latency_ms": {"median": round(float(np.median(lat)), 1),
                       "p90": round(float(np.percentile(lat, 90)), 1),
                       "min": round(float(lat.min()), 1), "max": round(float(lat.max()), 1)},
        "push_ms": {"median": round(float(np.median(pushes)), 3),
                    "p99": round(float(np.percentile(pushes, 99)), 2),
                    "max": round(float(pushes.max()), 2)},
        "rtf": round(compute / audio, 4), "audio_seconds": round(audio, 1),
    }


def build_long_file(files: list[Path], out: Path, seconds: float) -> float:
    """Write ``seconds`` of utterances and quiet gaps to ``out`` (16 kHz FLAC, block-wise)."""
    import numpy as np
    import soundfile as sf

    from emoscope.audio.io import load_audio

    rng = np.random.default_rng(1)
    clips = [load_audio(p, sample_rate=SAMPLE_RATE)[0] for p in files]
    total, k = 0, 0
    target = round(seconds * SAMPLE_RATE)
    with sf.SoundFile(out, "w", samplerate=SAMPLE_RATE, channels=1, format="FLAC",
                      subtype="PCM_16") as f:
        while total < target:
            gap = quiet(int(rng.uniform(0.5, 2.5) * SAMPLE_RATE), rng)
            part = np.concatenate([gap, clips[k % len(clips)]])[: target - total]
            f.write(part)
            total += part.shape[0]
            k += 1
    return total / SAMPLE_RATE


def _timeline_child(bundle: str | None, path: str) -> dict[str, Any]:
    """One timeline over ``path`` in this process: time, segments, peak memory."""
    from emoscope.audio.io import audio_info
    from emoscope.inference import Predictor, timeline

    _one_thread()
    t0 = time.perf_counter()
    predictor = Predictor.from_bundle(bundle)
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    tl = timeline(path, predictor)
    seconds = time.perf_counter() - t0
    duration = audio_info(path).duration
    return {"audio_seconds": round(duration, 1), "seconds": round(seconds, 1),
            "load_seconds": round(load, 2), "rtf": round(seconds / duration, 4),
            "segments": len(tl.segments), "peak_rss_mb": round(peak_rss_mb(), 1)}


def peak_rss_mb() -> float:
    """This process's largest resident set (``VmHWM``), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def in_child(args: list[str]) -> dict[str, Any]:
    """Run this script with ``args`` in a fresh process (one thread); its JSON result."""
    env = {**os.environ, **ONE_THREAD}
    out = subprocess.run([sys.executable, __file__, *args], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def markdown(r: dict[str, Any]) -> str:
    lines = ["| stream (VAD) | utterances | first label after onset: median / p90 / max | "
             "push of 20 ms: median / p99 | real-time factor |", "|---|---:|---|---|---:|"]
    for s in r["streaming"]:
        la, pu = s["latency_ms"], s["push_ms"]
        lines.append(f"| {s['vad']} | {s['utterances'] - s['missed']}/{s['utterances']} | "
                     f"{la['median']:.0f} / {la['p90']:.0f} / {la['max']:.0f} ms | "
                     f"{pu['median']:.2f} / {pu['p99']:.1f} ms | {s['rtf']:.4f} |")
    lines += ["", "| timeline over | wall | real-time factor | segments | peak memory |",
              "|---|---:|---:|---:|---:|"]
    for t in r["timeline"]:
        lines.append(f"| {t['audio_seconds'] / 60:.0f} min file | {t['seconds']:.0f} s | "
                     f"{t['rtf']:.4f} | {t['segments']} | {t['peak_rss_mb']:.0f} MB |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", help="Model bundle (default: the shipped model).")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="The RAVDESS folder.")
    ap.add_argument("--utterances", type=int, default=24)
    ap.add_argument("--hours", type=float, default=1.0, help="Length of the long file.")
    ap.add_argument("--json", type=Path, help="Write the results here.")
    ap.add_argument("--markdown", action="store_true", help="Print the tables.")
    ap.add_argument("--child", choices=["latency", "timeline"], help=argparse.SUPPRESS)
    ap.add_argument("--vad", choices=["silero", "energy"], default="silero",
                    help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    a = ap.parse_args()
    bundle_args = ["--bundle", a.bundle] if a.bundle else []
    if a.child == "latency":
        files = utterances(a.data, a.utterances)
        print(json.dumps(measure_latency(a.bundle, files, vad=a.vad == "silero")))
        return
    if a.child == "timeline":
        print(json.dumps(_timeline_child(a.bundle, a.path)))
        return

    load_before = list(os.getloadavg())
    result: dict[str, Any] = {
        "bundle": a.bundle or "shipped default (src/emoscope/assets/default_model)",
        "machine": {"cpus": os.cpu_count(), "cpu": cpu_model(),
                    "python": platform.python_version()},
        "date": time.strftime("%Y-%m-%d"), "streaming": [], "timeline": []}
    for vad in ("silero", "energy"):
        r = in_child(["--child", "latency", "--vad", vad, "--utterances", str(a.utterances),
                      "--data", str(a.data), *bundle_args])
        result["streaming"].append(r)
        print(f"streaming ({vad}): {r}", file=sys.stderr)
    files = utterances(a.data, a.utterances)
    with tempfile.TemporaryDirectory() as tmp:
        for seconds in (60.0, a.hours * 3600.0):
            path = Path(tmp) / f"long-{int(seconds)}.flac"
            build_long_file(files, path, seconds)
            r = in_child(["--child", "timeline", "--path", str(path), *bundle_args])
            result["timeline"].append(r)
            print(f"timeline: {r}", file=sys.stderr)
    result["load_average"] = {"before": [round(x, 2) for x in load_before],
                              "after": [round(x, 2) for x in os.getloadavg()]}
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(result, indent=1) + "\n")
    if a.markdown:
        print(markdown(result))


if __name__ == "__main__":
    main()
