"""How the encoder recipe (``configs/default.yaml``) was chosen: its variants on the tuning folds.

Every variant runs ``emoscope benchmark`` on ``si6-folds-1-4`` (folds 1 and 4 of
``ravdess-si6``, ``benchmarks/tuning/si6_folds_1_4.json``), never on the other four test folds,
and the table compares them (per-fold UA, mean, wall time). Finished variants are read back
from their run directories, so a rerun only runs what is missing.

    python benchmarks/tuning/encoder_recipe.py --shared ../shared --cache runs/cache
    python benchmarks/tuning/encoder_recipe.py --markdown      # the stored table
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROTOCOLS_FILE = "benchmarks/tuning/si6_folds_1_4.json"
RESULTS = REPO / "benchmarks" / "results" / "tuning" / "encoder_recipe.json"

L16 = "features.layers=[1, 2, 3, 4, 5, 6]"
#: (name, config, --set overrides): what each variant changes against configs/default.yaml.
VARIANTS: list[tuple[str, str, list[str]]] = [
    ("states 2-5, C=0.005, speed copies (the default)", "configs/default.yaml", []),
    ("states 1-6", "configs/default.yaml", [L16]),
    ("states 1-6, no speed copies", "configs/default.yaml", [L16, "augment.speed_prob=0"]),
    ("states 1-6, C=0.01", "configs/default.yaml", [L16, "model.C=0.01"]),
    ("states 1-6, C=0.02", "configs/default.yaml", [L16, "model.C=0.02"]),
    ("states 1-6, C=0.0025", "configs/default.yaml", [L16, "model.C=0.0025"]),
    ("states 0-6", "configs/default.yaml", ["features.layers=[0, 1, 2, 3, 4, 5, 6]"]),
    ("state 3, C=0.1, no copies (the reference probe)", "configs/default.yaml",
     ["features.layers=[3]", "model.C=0.1", "augment.speed_prob=0"]),
    ("layer-weighted MLP (whisper_layer_mlp.yaml)", "configs/whisper_layer_mlp.yaml", []),
    ("layer-weighted MLP, mixup 0.4 on the pooled vectors", "configs/whisper_layer_mlp.yaml",
     ["augment.mixup_alpha=0.4"]),
    ("layer-weighted ASP over frames (whisper_layer_asp.yaml)", "configs/whisper_layer_asp.yaml",
     []),
]


def run(name: str, config: str, sets: list[str], *, shared: Path, cache: Path | None,
        runs: Path) -> dict:
    """Run one variant (unless its run directory already holds metrics); its summary row."""
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")[:40]
    out = runs / slug
    cmd = ["emoscope", "benchmark", "--protocol", "si6-folds-1-4", "--protocols-file",
           PROTOCOLS_FILE, "--config", config, "--data-root", str(shared / "data" / "RAVDESS"),
           "--out", str(out)]
    for s in sets:
        cmd += ["--set", s]
    if cache is not None:
        cmd += ["--cache", str(cache)]
    shown = " ".join(shlex.quote(c) for c in cmd).replace(str(shared), "../shared")
    metrics_file = REPO / out / "metrics.json"
    wall = None
    if not metrics_file.is_file():
        print(f"$ {shown}", flush=True)
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=REPO, check=True)
        wall = round(time.perf_counter() - t0, 1)
    m = json.loads(metrics_file.read_text())
    return {"variant": name, "config": config, "sets": sets, "command": shown,
            "fold_ua": [round(f["ua"], 4) for f in m["folds"]],
            "mean_ua": round(m["mean"]["ua"], 4), "wall_seconds": wall}


def markdown(rows: list[dict]) -> str:
    lines = ["| variant | fold 1 UA | fold 4 UA | mean UA | wall (s) |",
             "|---|---:|---:|---:|---:|"]
    for r in rows:
        wall = "" if r["wall_seconds"] is None else f"{r['wall_seconds']:.0f}"
        lines.append(f"| {r['variant']} | {r['fold_ua'][0]:.3f} | {r['fold_ua'][1]:.3f} | "
                     f"**{r['mean_ua']:.3f}** | {wall} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--cache", type=Path, help="Feature cache, e.g. runs/cache.")
    ap.add_argument("--runs", type=Path, default=Path("runs/tuning/encoder_recipe"))
    ap.add_argument("--only", action="append", help="Run only the variants with these names.")
    ap.add_argument("--markdown", action="store_true", help="Print the stored table.")
    a = ap.parse_args(argv)
    if a.markdown:
        print(markdown(json.loads(RESULTS.read_text())["rows"]))
        return 0
    stored = {r["variant"]: r for r in json.loads(RESULTS.read_text())["rows"]} \
        if RESULTS.is_file() else {}
    for name, config, sets in VARIANTS:
        if a.only and name not in a.only:
            continue
        row = run(name, config, sets, shared=a.shared.resolve(), cache=a.cache, runs=a.runs)
        if row["wall_seconds"] is None and name in stored:  # read back: keep the measured time
            row["wall_seconds"] = stored[name]["wall_seconds"]
        stored[name] = row
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        order = [v[0] for v in VARIANTS]
        RESULTS.write_text(json.dumps({"protocol": "si6-folds-1-4", "rows": sorted(
            stored.values(), key=lambda r: order.index(r["variant"]) if r["variant"] in order
            else len(order))}, indent=1) + "\n")
        print(markdown([row]).splitlines()[-1], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
