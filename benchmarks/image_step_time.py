"""Time one training step of the IEMOCAP study's image models at several image sizes.

One Adam step (forward, cross-entropy, backward, update) on a batch of 64 random single-channel
images, one torch thread; the fastest of ``--repeats`` steps after one warm-up is printed.

    OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/image_step_time.py --sizes 224 128 96
"""

from __future__ import annotations

import argparse
import time

import torch

from emoscope.models.base import build_model

MODELS = ("iemocap-cnn", "iemocap-cnn-rnn", "iemocap-cnn-lstm")


def step_seconds(name: str, size: int, *, batch: int = 64, repeats: int = 3) -> float:
    """Fastest wall time (s) of one training step of ``name`` on ``(batch, 1, size, size)``."""
    model = build_model(name, input_shape=(1, size, size), n_classes=8)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=0.01)
    x, y = torch.randn(batch, 1, size, size), torch.randint(0, 8, (batch,))
    times = []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    return min(times[1:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[224, 128, 96])
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(1)
    print("| model | " + " | ".join(f"{s} x {s}" for s in a.sizes) + " |")
    print("|---|" + "---:|" * len(a.sizes))
    for name in MODELS:
        cells = [f"{step_seconds(name, s, repeats=a.repeats):.2f} s" for s in a.sizes]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
