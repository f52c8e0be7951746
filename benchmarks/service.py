"""Service benchmark: throughput and latency of ``POST /v1/predict``, memory over a soak, and
the label latency of concurrent WebSocket streams, against a real ``emoscope serve``.

The server. ``emoscope serve`` runs in a subprocess on a free loopback port with the shipped
default model (or ``--bundle``) and a temporary SQLite database, exactly as a user starts it
(its compute threads: one per usable CPU, one torch/BLAS thread each). ``--server-cpus 1``
pins it to those CPUs (the load generator then gets the rest).

Load. Each request uploads one 3 s clip (a RAVDESS utterance, one per actor, cut or
zero-padded to 3 s at 16 kHz, sent as a multipart WAV as a browser would) and waits for the
answer; ``--concurrency`` workers do so in a closed loop for ``--duration`` seconds (bounded in
time and so in count). The client is an asyncio client (httpx, one process, one connection per
worker), the same closed-loop measurement as wrk's at a fixed number of connections. wrk itself
cannot send multipart uploads without Lua scripting and is no Python dependency; locust would
add gevent and a heavier per-request client that competes with the server for this 2-core
machine's CPUs. Requests per second count answered 200s; latency is from sending the request to
reading the whole answer (p50, p99).

Memory. The server's resident set (``VmRSS`` of its process) after warm-up, then during and
after a soak: the same load for ``--soak-seconds`` (default 300, the 5 minutes of the issue),
sampled every 5 s.

Streams. ``--streams`` (default 10) WebSocket clients at once, each sending a recording of
``--stream-seconds`` (RAVDESS utterances of different actors, 1 s of silence between them) as
16-bit PCM in 100 ms messages at real-time speed, then ``stop``. For each speech event, the label
latency is the wall-clock time from sending the message that holds the audio at the event's
``end`` (the last sample of its window, in stream time) to receiving the event: what a listener
waits beyond the audio itself.

Needs the test extras (``pip install -e ".[test]"``: httpx) and ``../shared/data/RAVDESS``.

    python benchmarks/service.py --json                  # writes benchmarks/results/service.json
    python benchmarks/service.py --duration 5 --soak-seconds 5 --stream-seconds 5   # a quick try
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _machine import cpu_model

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "RAVDESS"
DEFAULT_JSON = REPO / "benchmarks" / "results" / "service.json"
SAMPLE_RATE = 16000
CLIP_SECONDS = 3.0
BLOCK_SECONDS = 0.1


def speech_files(data: Path, n: int) -> list[Path]:
    """The first speech file of each actor folder (actors in order), up to ``n``."""
    root = data / "audio_speech_actors_01-24"
    actors = sorted(p for p in root.glob("Actor_*") if p.is_dir())
    files = []
    for actor in actors[:n]:
        found = sorted(p for p in actor.iterdir() if p.suffix.lower() in (".wav", ".flac"))
        if found:
            files.append(found[0])
    if not files:
        raise SystemExit(f"no RAVDESS speech files under {root} (use --data-root)")
    return files


def clips(files: list[Path]) -> list[bytes]:
    """Each file cut or zero-padded to 3 s at 16 kHz, as 16-bit WAV bytes."""
    import numpy as np
    import soundfile as sf

    from emoscope.audio.io import load_audio

    out = []
    n = round(CLIP_SECONDS * SAMPLE_RATE)
    for path in files:
        y, _ = load_audio(path, sample_rate=SAMPLE_RATE)
        y = np.pad(y, (0, max(0, n - y.shape[0])))[:n]
        buf = io.BytesIO()
        sf.write(buf, y, SAMPLE_RATE, format="WAV", subtype="PCM_16")
        out.append(buf.getvalue())
    return out


def stream_audio(files: list[Path], seconds: float) -> bytes:
    """``seconds`` of utterances with 1 s of silence between them, as 16-bit PCM at 16 kHz."""
    import numpy as np

    from emoscope.audio.io import load_audio

    parts, total, k = [], 0, 0
    n = round(seconds * SAMPLE_RATE)
    while total < n:
        y, _ = load_audio(files[k % len(files)], sample_rate=SAMPLE_RATE)
        parts += [y, np.zeros(SAMPLE_RATE, np.float32)]
        total += y.shape[0] + SAMPLE_RATE
        k += 1
    x = np.concatenate(parts)[:n]
    return (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """The resident set of process ``pid`` now, in MB (``VmRSS``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def percentile_ms(values: list[float], q: float) -> float | None:
    import numpy as np

    return round(float(np.percentile(np.asarray(values) * 1000.0, q)), 1) if values else None


# ---------------------------------------------------------------------------------- server


class Server:
    """``emoscope serve`` in a subprocess, stopped on exit."""

    def __init__(self, *, bundle: Path | None, db: Path, streams: int, cpus: str | None,
                 log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "emoscope.cli", "serve", "--port", str(self.port),
               "--db", f"sqlite:///{db}", "--max-streams", str(streams + 2),
               "--max-jobs", "1"]
        if bundle is not None:
            cmd += ["--bundle", str(bundle)]
        env = {k: v for k, v in os.environ.items() if k != "EMOSCOPE_TOKEN"}
        affinity = {int(c) for c in cpus.split(",")} if cpus else None
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                preexec_fn=(lambda: os.sched_setaffinity(0, affinity)) if affinity else None)

    def wait_ready(self, timeout: float = 180.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"the server did not start in {timeout:g} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ------------------------------------------------------------------------------------ load


async def load(base: str, bodies: list[bytes], *, seconds: float, concurrency: int,
               on_tick: Any = None) -> dict[str, Any]:
    """Closed-loop ``POST /v1/predict`` for ``seconds`` with ``concurrency`` workers."""
    import httpx

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + seconds

    async def worker(k: int, client: httpx.AsyncClient) -> None:
        i = k
        while time.monotonic() < deadline:
            body = bodies[i % len(bodies)]
            i += concurrency
            t0 = time.perf_counter()
            r = await client.post("/v1/predict", files={"file": ("clip.wav", body,
                                                                 "audio/wav")})
            dt = time.perf_counter() - t0
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            if r.status_code == 200:
                latencies.append(dt)

    async def ticker() -> None:
        while (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(5.0, left))
            on_tick()

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    t0 = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        tasks = [worker(k, client) for k in range(concurrency)]
        if on_tick is not None:
            tasks.append(ticker())
        await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - t0
    return {"seconds": round(elapsed, 2), "concurrency": concurrency,
            "requests_ok": len(latencies), "statuses": {str(k): v for k, v in statuses.items()},
            "requests_per_second": round(len(latencies) / elapsed, 2),
            "p50_ms": percentile_ms(latencies, 50), "p99_ms": percentile_ms(latencies, 99)}


# ---------------------------------------------------------------------------------- streams


async def one_stream(base: str, pcm: bytes) -> dict[str, Any]:
    """Send ``pcm`` at real time; the label latency of every speech event."""
    from websockets.asyncio.client import connect

    url = base.replace("http://", "ws://") + "/v1/stream"
    block = round(BLOCK_SECONDS * SAMPLE_RATE) * 2  # bytes of 16-bit samples
    sent: list[tuple[float, float]] = []  # (stream time at the block's end, wall-clock)
    latencies: list[float] = []
    events = 0
    async with connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "start", "sample_rate": SAMPLE_RATE,
                                  "format": "pcm_s16le"}))
        assert json.loads(await ws.recv())["type"] == "ready"

        async def sender() -> None:
            t0 = time.perf_counter()
            for k, i in enumerate(range(0, len(pcm), block)):
                await asyncio.sleep(max(0.0, t0 + k * BLOCK_SECONDS - time.perf_counter()))
                chunk = pcm[i:i + block]
                await ws.send(chunk)
                sent.append(((i + len(chunk)) / 2 / SAMPLE_RATE, time.perf_counter()))
            await ws.send(json.dumps({"type": "stop"}))

        task = asyncio.create_task(sender())
        async for raw in ws:
            now = time.perf_counter()
            msg = json.loads(raw)
            if msg["type"] == "end":
                break
            if msg["type"] == "error":
                raise RuntimeError(f"stream error: {msg}")
            if msg["type"] == "event" and msg["speech"]:
                events += 1
                when = next((w for t, w in sent if t >= msg["end"] - 1e-6), None)
                if when is not None:
                    latencies.append(now - when)
        await task
    return {"events": events, "latencies": latencies}


async def streams(base: str, pcm: list[bytes]) -> dict[str, Any]:
    results = await asyncio.gather(*(one_stream(base, p) for p in pcm))
    lat = [x for r in results for x in r["latencies"]]
    return {"streams": len(pcm), "stream_seconds": round(len(pcm[0]) / 2 / SAMPLE_RATE, 2),
            "speech_events": sum(r["events"] for r in results),
            "label_latency_p50_ms": percentile_ms(lat, 50),
            "label_latency_p99_ms": percentile_ms(lat, 99),
            "label_latency_max_ms": round(max(lat) * 1000, 1) if lat else None}


# ---------------------------------------------------------------------------------- report


def markdown(r: dict[str, Any]) -> str:
    ld, soak, ws, mem = r["load"], r["soak"], r["streams"], r["memory_mb"]
    lines = [
        "| measure | value |", "|---|---:|",
        f"| `POST /v1/predict`, 3 s clips, {ld['concurrency']} concurrent: requests/s | "
        f"{ld['requests_per_second']:.1f} |",
        f"| latency p50 / p99 (ms) | {ld['p50_ms']} / {ld['p99_ms']} |",
        f"| soak ({soak['seconds']:.0f} s, {soak['requests_ok']} requests): requests/s | "
        f"{soak['requests_per_second']:.1f} |",
        f"| server memory before / after soak / peak (MB) | {mem['before']:.0f} / "
        f"{mem['after']:.0f} / {mem['peak']:.0f} |",
        f"| {ws['streams']} WebSocket streams at real time ({ws['stream_seconds']:g} s each): "
        f"label latency p50 / p99 / max (ms) | {ws['label_latency_p50_ms']} / "
        f"{ws['label_latency_p99_ms']} / {ws['label_latency_max_ms']} |",
        "",
        f"Model: {r['model']}. Server: `emoscope serve` on loopback"
        f"{' pinned to CPUs ' + r['server_cpus'] if r['server_cpus'] else ''}; client: asyncio "
        f"httpx/websockets in one process. {r['machine']['cpus']} CPUs "
        f"({r['machine']['processor']}), load average {r['load_average']}, {r['date']}.",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", type=Path, default=None,
                    help="A model bundle (default: the shipped model).")
    ap.add_argument("--data-root", type=Path, default=DEFAULT_DATA, help="The RAVDESS folder.")
    ap.add_argument("--duration", type=float, default=30.0,
                    help="Seconds of the throughput/latency load.")
    ap.add_argument("--concurrency", type=int, default=4, help="Concurrent requests.")
    ap.add_argument("--soak-seconds", type=float, default=300.0,
                    help="Seconds of the memory soak.")
    ap.add_argument("--streams", type=int, default=10, help="Concurrent WebSocket streams.")
    ap.add_argument("--stream-seconds", type=float, default=30.0,
                    help="Seconds of audio per stream (sent in real time).")
    ap.add_argument("--server-cpus", default=None,
                    help="Pin the server to these CPUs, e.g. '1' or '0,1'.")
    ap.add_argument("--json", type=Path, nargs="?", const=DEFAULT_JSON, default=None,
                    help=f"Write the results as JSON (default path: {DEFAULT_JSON}).")
    args = ap.parse_args()
    for name in ("duration", "soak_seconds", "stream_seconds"):
        if getattr(args, name) <= 0:
            ap.error(f"--{name.replace('_', '-')} must be positive")
    if args.concurrency < 1 or args.streams < 1:
        ap.error("--concurrency and --streams must be at least 1")

    files = speech_files(args.data_root, 24)
    bodies = clips(files)
    pcm = [stream_audio(files[k:] + files[:k], args.stream_seconds)
           for k in range(args.streams)]
    with tempfile.TemporaryDirectory(prefix="emoscope-bench-") as tmp:
        server = Server(bundle=args.bundle, db=Path(tmp) / "bench.db", streams=args.streams,
                        cpus=args.server_cpus, log=Path(tmp) / "server.log")
        try:
            server.wait_ready()
            import httpx

            model = httpx.get(f"{server.base}/v1/models", timeout=10).json()
            load_before = os.getloadavg()
            asyncio.run(load(server.base, bodies, seconds=2.0, concurrency=args.concurrency))
            before = rss_mb(server.proc.pid)
            result_load = asyncio.run(load(server.base, bodies, seconds=args.duration,
                                           concurrency=args.concurrency))
            samples = [rss_mb(server.proc.pid)]
            result_soak = asyncio.run(load(
                server.base, bodies, seconds=args.soak_seconds, concurrency=args.concurrency,
                on_tick=lambda: samples.append(rss_mb(server.proc.pid))))
            after = rss_mb(server.proc.pid)
            result_streams = asyncio.run(streams(server.base, pcm))
            after_streams = rss_mb(server.proc.pid)
        finally:
            server.stop()
    import torch

    result = {
        "date": time.strftime("%Y-%m-%d"),
        "model": f"{model['model']} on {model['features']['name']} (version "
                 f"{model['version']})",
        "server_cpus": args.server_cpus,
        "load": result_load, "soak": result_soak, "streams": result_streams,
        "memory_mb": {"before": round(before, 1), "after": round(after, 1),
                      "peak": round(max([before, after, *samples]), 1),
                      "after_streams": round(after_streams, 1)},
        "load_average": [round(x, 2) for x in load_before],
        "machine": {"cpus": os.cpu_count(), "processor": cpu_model(),
                    "python": platform.python_version(), "torch": torch.__version__},
    }
    print(markdown(result))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
