"""Build the model shipped inside emoscope (``src/emoscope/assets/default_model``).

    python scripts/build_default_model.py --data-root ../shared/data

Trains ``configs/shipped_default.yaml`` (the recipe of ``configs/default.yaml`` on TESS and
RAVDESS together), copies the run's bundle into the package, and records on its model card the
recipe's speaker-independent figure on ``ravdess-si6`` from
``benchmarks/results/models/default_ravdess-si6.json`` (``python benchmarks/models.py --config
configs/default.yaml --protocol ravdess-si6`` measures it).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "src" / "emoscope" / "assets" / "default_model"
REFERENCE = REPO / "benchmarks" / "results" / "models" / "default_ravdess-si6.json"


def main(argv: list[str] | None = None) -> int:
    from emoscope.config import load_config
    from emoscope.train.bundle import add_reference_metrics, load_bundle
    from emoscope.train.experiment import run_experiment

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-root", type=Path, required=True,
                    help="The folder holding TESS/ and RAVDESS/.")
    ap.add_argument("--config", type=Path, default=REPO / "configs" / "shipped_default.yaml")
    ap.add_argument("--out", type=Path, default=REPO / "runs" / "shipped_default")
    ap.add_argument("--cache", type=Path, default=None, help="Feature cache folder.")
    a = ap.parse_args(argv)

    cfg = load_config(a.config)
    result = run_experiment(cfg, out_dir=a.out, data_root=a.data_root, cache=a.cache)
    if result.bundle is None:
        raise SystemExit("the run wrote no bundle")
    if TARGET.exists():
        shutil.rmtree(TARGET)
    shutil.copytree(result.bundle, TARGET)
    if REFERENCE.is_file():
        ref = json.loads(REFERENCE.read_text())
        ref["source"] = f"`{ref.get('command', 'benchmarks/models.py')}`"
        add_reference_metrics(TARGET, [ref])
    else:
        print(f"warning: {REFERENCE} is missing; the model card has no ravdess-si6 figure",
              file=sys.stderr)
    b = load_bundle(TARGET)  # loads, safely, from the package folder
    size = sum(f.stat().st_size for f in TARGET.iterdir()) / 1e6
    m = result.results
    print(f"wrote {TARGET.relative_to(REPO)} ({size:.1f} MB, labels {', '.join(b.labels)}); "
          f"held-out speakers: UA {m['mean']['ua']:.3f}, WA {m['mean']['wa']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
