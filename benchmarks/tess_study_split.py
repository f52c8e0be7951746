"""Why did the TESS study see about 50 % validation accuracy? A measured experiment.

The study fed its files, in folder order, to Keras with ``validation_split=0.2``. Keras takes the
*last* 20 % of the arrays as validation data, before any shuffling. With TESS's folders in order
(``OAF_angry`` ... ``YAF_sad``), that is the last ~560 files: YAF's last emotions only.

This script trains the study's model (``configs/tess_lstm_study.yaml``: 40 MFCC means, LSTM(256),
Adam, 50 epochs, batch 64) three ways and reports accuracy on each validation set:

1. ``keras-last-20``: validation = the last 20 % of the files in folder order (the study's split);
2. ``stratified-80-20``: validation = a stratified random 20 % (``tess-random-80-20``'s test set);
3. each split's class make-up, which explains (1).

    python benchmarks/tess_study_split.py --data-root ../shared/data/TESS \
        --out benchmarks/results/models/tess_study_split.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import torch

from emoscope import corpora, features, protocols
from emoscope.config import load_config
from emoscope.evaluate.metrics import classification_metrics
from emoscope.train.data import FeatureDataset
from emoscope.train.loop import predict_proba, train_torch_model

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "tess_lstm_study.yaml"


def train_and_score(cfg, fs, labels, y, train_ids, valid_ids) -> dict:
    """Train on ``train_ids`` (best epoch chosen on ``valid_ids``, as Keras's callbacks would
    report it) and score on ``valid_ids``: the number the study looked at."""
    torch.manual_seed(cfg.train.seed)
    model = cfg.model.build(input_shape=fs[train_ids[0]].shape, n_classes=len(labels))
    res = train_torch_model(model, cfg.train, fs, kind="vector", train_ids=train_ids,
                            train_y=[y[i] for i in train_ids], valid_ids=valid_ids,
                            valid_y=[y[i] for i in valid_ids], n_classes=len(labels))
    ds = FeatureDataset(fs, valid_ids, [y[i] for i in valid_ids], kind="vector",
                        standardizer=res.standardizer)
    pred = predict_proba(res.model, ds).argmax(1)
    m = classification_metrics([y[i] for i in valid_ids], pred.tolist(), labels=labels)
    last = res.history[-1]
    return {"n_train": len(train_ids), "n_valid": len(valid_ids),
            "valid_classes": dict(Counter(labels[y[i]] for i in valid_ids)),
            "best_epoch": res.best_epoch, "best_valid_accuracy": m["wa"], "best_valid_ua": m["ua"],
            "last_epoch_valid_accuracy": last.get("valid_wa"),
            "train_seconds": round(res.seconds, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", required=True)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    cfg = load_config(CONFIG)
    df = corpora.load("tess", args.data_root)
    labels = list(df.attrs["labels"])
    y = {i: labels.index(lab) for i, lab in zip(df["id"], df["label"], strict=True)}
    fs = features.extract_features(df, features.create(cfg.features), progress=False)

    # the study's order: folders in order, files in order within each folder
    ordered = df.assign(folder=df["path"].map(lambda p: Path(p).parent.name.lower()),
                        name=df["path"].map(lambda p: Path(p).name)) \
        .sort_values(["folder", "name"])["id"].tolist()
    cut = int(len(ordered) * 0.8)
    keras = train_and_score(cfg, fs, labels, y, ordered[:cut], ordered[cut:])

    fold = protocols.predefined(df, "tess-random-80-20").folds[0]
    strat = train_and_score(cfg, fs, labels, y, list(fold.train + fold.valid), list(fold.test))

    result = {"config": str(CONFIG.name), "data_root": str(Path(args.data_root).resolve()),
              "date": time.strftime("%Y-%m-%d"),
              "keras-last-20": keras, "stratified-80-20": strat,
              "unseen_in_training": sorted(
                  set(keras["valid_classes"]) - {labels[y[i]] for i in ordered[:cut]})}
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
