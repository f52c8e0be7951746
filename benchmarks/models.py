"""Benchmark model families on the standard protocols and render the results table.

Each job runs ``emoscope benchmark`` in its own process (the exact command is recorded with the
result), then its ``metrics.json`` is copied to ``benchmarks/results/models/`` together with the
command, wall time and machine.

    # every model family's config on the three standard protocols (hours on 2 CPUs)
    python benchmarks/models.py --shared ../shared
    # a subset
    python benchmarks/models.py --shared ../shared --config configs/egemaps_svm.yaml \
        --protocol ravdess-si6
    # a variant of a config (its --set values show in the table's config column)
    python benchmarks/models.py --config configs/iemocap_cnn_study.yaml --cache runs/cache \
        --set features.height=96 --set features.width=96 --tag 96px
    # the markdown table of every stored result
    python benchmarks/models.py --markdown
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

from _machine import cpu_model

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "models"
PROTOCOLS = {"ravdess-si6": "RAVDESS", "tess-cross-speaker": "TESS", "tess-random-80-20": "TESS"}
CONFIGS = [
    "configs/default.yaml",
    "configs/tess_lstm_study.yaml",
    "configs/iemocap_cnn_study.yaml",
    "configs/iemocap_cnn_rnn_study.yaml",
    "configs/iemocap_cnn_lstm_study.yaml",
    "configs/iemocap_cnn_study_3s.yaml",
    "configs/iemocap_cnn_rnn_study_3s.yaml",
    "configs/iemocap_cnn_lstm_study_3s.yaml",
    "configs/egemaps_mlp.yaml",
    "configs/egemaps_svm.yaml",
    "configs/egemaps_logreg.yaml",
    "configs/egemaps_gbt.yaml",
]


def machine() -> str:
    """One line: CPUs, CPU model, Python and torch versions."""
    import torch

    return (f"{os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}, "
            f"torch {torch.__version__}")


def _corpus_overrides(config: str, protocol: str) -> list[str]:
    """``--set`` values that point a config with corpus options (the IEMOCAP study's
    ``label_set``) at the protocol's corpus; ``emoscope benchmark`` switches plain configs
    itself and refuses to drop another corpus's options silently."""
    import yaml

    from emoscope.protocols.protocol_file import load_protocols

    data = (yaml.safe_load((REPO / config).read_text()) or {}).get("data", {})
    corpus = load_protocols()[protocol]["corpus"]
    if data.get("corpus") == corpus or not data.get("options"):
        return []
    return [f"data.corpus={corpus}", "data.options={}"]


def run_job(config: str, protocol: str, *, shared: Path, runs: Path, cache: Path | None,
            overrides: list[str], tag: str | None) -> Path:
    """Run one ``emoscope benchmark``; store its metrics with the command; return the file."""
    name = Path(config).stem
    key = f"{name}{'-' + tag if tag else ''}_{protocol}"
    out = runs / key
    root = shared / "data" / PROTOCOLS[protocol]
    cmd = ["emoscope", "benchmark", "--protocol", protocol, "--config", config,
           "--data-root", str(root), "--out", str(out)]
    for o in _corpus_overrides(config, protocol) + list(overrides):
        cmd += ["--set", o]
    if cache is not None:
        cmd += ["--cache", str(cache)]
    shown = " ".join(shlex.quote(c) for c in cmd).replace(str(shared), "../shared")
    print(f"$ {shown}", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{key}: emoscope benchmark failed with exit code {proc.returncode}")
    metrics = json.loads((REPO / out / "metrics.json").read_text())  # REPO / abs = abs
    metrics.update(config=config, command=shown,
                   wall_seconds=round(wall, 1), machine=machine(),
                   cached_features=cache is not None)
    RESULTS.mkdir(parents=True, exist_ok=True)
    dest = RESULTS / f"{key}.json"
    dest.write_text(json.dumps(metrics, indent=1) + "\n")
    print(f"{key}: UA {metrics['mean']['ua']:.3f} ± {metrics['std']['ua']:.3f} in {wall:.0f} s "
          f"-> {dest.relative_to(REPO)}", flush=True)
    return dest


def _fmt(m: dict, key: str, n: int) -> str:
    mean, std = m["mean"][key], m["std"][key]
    return f"{mean:.3f}" if n == 1 else f"{mean:.3f} ± {std:.3f}"


#: ``--set`` keys that do not change the recipe (the corpus switch, the thread count).
_NOT_RECIPE = ("data.corpus=", "data.options=", "'data.options=", "train.threads=")


def _recipe_overrides(command: str) -> list[str]:
    """The ``--set`` values of a stored command that change the config's recipe."""
    words = shlex.split(command)
    sets = [words[i + 1] for i, w in enumerate(words[:-1]) if w == "--set"]
    return [v for v in sets if not v.startswith(_NOT_RECIPE)]


def markdown(paths: list[Path]) -> str:
    """A table row per stored result (those written by :func:`run_job`)."""
    order = {p: i for i, p in enumerate(PROTOCOLS)}
    rows = []
    for p in paths:
        m = json.loads(p.read_text())
        if "command" not in m:
            continue
        rows.append((order.get(m["protocol"], 99), -m["mean"]["ua"], m))
    lines = ["| protocol | config | model | features | UA | WA | macro-F1 | training (s) "
             "| wall (s) | command |", "|---|---|---|---|---|---|---|---:|---:|---|"]
    for _, _, m in sorted(rows, key=lambda r: (r[0], r[1])):
        n = len(m["folds"])
        leak = " (**LEAKY**)" if m["leaky"] else ""
        changed = ", ".join(_recipe_overrides(m["command"]))
        lines.append(
            f"| `{m['protocol']}`{leak} | `{Path(m['config']).name}`"
            f"{f' with `{changed}`' if changed else ''} | {m['model']} | "
            f"{m['features']['name']} | {_fmt(m, 'ua', n)} | {_fmt(m, 'wa', n)} | "
            f"{_fmt(m, 'macro_f1', n)} | {m.get('train_seconds', 0):.0f} | "
            f"{m['wall_seconds']:.0f} | `{m['command']}` |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared",
                    help="The shared folder holding data/TESS and data/RAVDESS.")
    ap.add_argument("--config", action="append", help="Config(s) to run (default: all).")
    ap.add_argument("--protocol", action="append", choices=list(PROTOCOLS),
                    help="Protocol(s) to run (default: all three).")
    ap.add_argument("--set", action="append", default=[], help="Config override.")
    ap.add_argument("--tag", help="Suffix of the result name (for variants made with --set).")
    ap.add_argument("--runs", type=Path, default=Path("runs/benchmarks"),
                    help="Where run directories go.")
    ap.add_argument("--cache", type=Path, help="Feature cache, e.g. runs/cache (training "
                    "time excludes features either way; with a warm cache wall time does too).")
    ap.add_argument("--markdown", action="store_true", help="Print the results table.")
    a = ap.parse_args(argv)
    if a.markdown:
        print(markdown(sorted(RESULTS.glob("*.json"))))
        return 0
    for config in a.config or CONFIGS:
        for protocol in a.protocol or list(PROTOCOLS):
            run_job(config, protocol, shared=a.shared.resolve(), runs=a.runs, cache=a.cache,
                    overrides=a.set, tag=a.tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
