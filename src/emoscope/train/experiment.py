"""Run an experiment: manifest -> protocol -> cached features -> a model per fold -> results.

A run directory holds::

    config.yaml            the resolved config (after --set overrides)
    metrics.json           per-fold and mean UA / WA / macro-F1 (emoscope.evaluate.results)
    predictions.csv        every test prediction with class probabilities
    confusion.png          pooled over folds;  folds.png: scores per fold
    report.html            all of it on one page
    skipped.txt            files that could not be used, with the reason (when any)
    folds/fold-K/          checkpoint.pt (torch, per epoch), history.json, learning_curves.png,
                           result.json (the fold's test predictions; a resumed run skips the fold)
    bundle/                the model bundle of the fold with the best validation UA
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from emoscope import corpora, features, protocols
from emoscope.config import ExperimentConfig, save_config
from emoscope.errors import ConfigError
from emoscope.evaluate.results import FoldResult, build_results, write_metrics, write_predictions
from emoscope.protocols.base import Protocol
from emoscope.train.context import LocalContext, check_distributable
from emoscope.train.fold import FoldOutcome, train_sklearn_fold, train_torch_fold

__all__ = ["RunResult", "build_protocol", "for_protocol", "load_manifest", "run_experiment"]


@dataclass
class RunResult:
    """What :func:`run_experiment` wrote and measured."""

    run_dir: Path
    results: dict[str, Any]
    protocol: Protocol
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    bundle: Path | None = None


def load_manifest(cfg: ExperimentConfig, data_root: str | os.PathLike[str] | None
                  ) -> pd.DataFrame:
    """The config's corpus manifest, with its label subset and merges applied."""
    root = data_root or cfg.data.root
    if root is None:
        raise ConfigError("no data root: pass --data-root or set data.root in the config")
    if not cfg.data.corpora:
        return corpora.load(cfg.data.corpus, root, labels=cfg.data.labels,
                            label_map=cfg.data.label_map, **cfg.data.options)
    if cfg.data.options:
        raise ConfigError("data.options apply to one corpus; with data.corpora leave them out")
    parts, labels, skipped = [], [], []
    for name, folder in cfg.data.corpora.items():
        df = corpora.load(name, Path(root) / folder, label_map=cfg.data.label_map)
        labels += [lab for lab in df.attrs.get("labels", sorted(df["label"].unique()))
                   if lab not in labels]
        skipped += list(df.attrs.get("skipped", []))
        parts.append(df)
    df = pd.concat(parts, ignore_index=True)
    if df["id"].duplicated().any():
        df["id"] = df["corpus"].astype(str) + "/" + df["id"].astype(str)
    df.attrs = {"corpus": cfg.data.corpus, "root": str(root), "labels": labels,
                "skipped": skipped}
    if cfg.data.labels is not None:
        df = corpora.select_labels(df, cfg.data.labels)
    return df


def build_protocol(cfg: ExperimentConfig, manifest: pd.DataFrame,
                   name: str | None = None) -> Protocol:
    """The config's protocol (or ``name``, which overrides it): a registered kind or a named
    protocol from a protocols JSON. The validation split comes from training speakers."""
    pname = name or cfg.protocol.name
    valid = {"valid_fraction": cfg.protocol.valid_fraction,
             "valid_speakers": cfg.protocol.valid_speakers}
    return protocols.resolve(pname, manifest, options={**cfg.protocol.options, **valid},
                             path=cfg.protocol.file)


def for_protocol(cfg: ExperimentConfig, name: str | None = None) -> ExperimentConfig:
    """``cfg`` with its corpus switched to the one a named protocol is defined on.

    A config names one corpus (``data.corpus``) but is meant to be benchmarked on several:
    ``--protocol tess-cross-speaker`` with a RAVDESS config reads TESS. Corpus options
    (``data.options``) belong to the config's corpus, so a switch with options set is refused.
    A protocol kind (``loso``, ...) or a protocol of the config's own corpus changes nothing.
    """
    import dataclasses

    pname = name or cfg.protocol.name
    if protocols.is_kind(pname):
        return cfg  # a kind, not a named protocol
    spec = protocols.load_protocols(cfg.protocol.file).get(pname)
    corpus = None if spec is None else spec.get("corpus")
    if corpus is None or corpus == cfg.data.corpus:
        return cfg
    if cfg.data.options:
        raise ConfigError(f"protocol {pname} is defined on {corpus}, but the config reads "
                          f"{cfg.data.corpus} with options {cfg.data.options}; set data.corpus")
    return dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, corpus=corpus))


def _targets(manifest: pd.DataFrame, labels: list[str]) -> dict[str, int]:
    index = {lab: i for i, lab in enumerate(labels)}
    return {i: index[lab] for i, lab in zip(manifest["id"], manifest["label"], strict=True)
            if lab in index}


def run_experiment(
    cfg: ExperimentConfig,
    *,
    out_dir: str | os.PathLike[str],
    data_root: str | os.PathLike[str] | None = None,
    protocol: str | None = None,
    resume: bool = False,
    progress: bool = True,
    cache: str | os.PathLike[str] | None = None,
    save_bundle: bool = True,
    distributed: Any = None,
) -> RunResult:
    """Train and evaluate the config's model on every fold of its protocol.

    Parameters
    ----------
    cfg : ExperimentConfig
    out_dir : path
        The run directory (created).
    data_root : path, optional
        The corpus folder (else ``cfg.data.root``).
    protocol : str, optional
        Overrides ``cfg.protocol.name``.
    resume : bool
        Continue a killed run: finished folds are read back, the current fold continues from
        its last epoch checkpoint.
    progress : bool
        Progress bars for features and epochs.
    cache : path, optional
        Feature cache folder.
    save_bundle : bool
        Write ``bundle/`` (the fold with the best validation UA).
    distributed : emoscope.distributed.ddp.DistContext, optional
        Train with PyTorch DDP across the processes ``torchrun`` started (see
        :func:`emoscope.distributed.ddp.distributed_session`): every rank runs this function;
        rank 0 alone writes the run directory, the others return a result without metrics.
    """
    from emoscope.progress import EpochProgress

    aug = cfg.augment
    t0 = time.perf_counter()
    cfg = for_protocol(cfg, protocol)
    # distributed (emoscope.distributed.ddp): every rank runs; the main process writes
    if distributed is not None:
        check_distributable(cfg)
    ctx = distributed if distributed is not None else LocalContext()
    progress = progress and ctx.is_main
    main = ctx.is_main
    run_dir = Path(out_dir)
    if main:
        run_dir.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(cfg, data_root)
    prot = build_protocol(cfg, manifest, protocol)
    labels = list(prot.labels)
    ids = {i for f in prot.folds for i in (*f.train, *f.valid, *f.test)}
    rows = manifest[manifest["id"].isin(ids)]
    y = _targets(rows, labels)
    if main:
        save_config(cfg, run_dir / "config.yaml")

    extractor = features.create(cfg.features)
    if distributed is not None:  # each rank extracts its share into the cache first
        ctx.extract_share(rows, extractor, cache=cache, workers=cfg.train.feature_workers,
                          progress=progress)
    fs = features.extract_features(rows, extractor, cache=cache,
                                   workers=cfg.train.feature_workers, progress=progress)
    if not len(fs):
        raise ConfigError("no file of the corpus could be read; nothing to train on")
    from emoscope.train.paired import video_inputs

    fs = video_inputs(cfg, rows, fs, cache=cache, progress=progress, run_dir=run_dir)
    skipped = list(fs.failed)
    variants = _waveform_variants(cfg, aug, rows, prot, extractor, cache, progress)
    if skipped and main:
        (run_dir / "skipped.txt").write_text("".join(f"{p}\t{r}\n" for p, r in skipped))
    family = cfg.model.model_class.family
    speakers = dict(zip(rows["id"], rows["speaker"].astype(str), strict=True))

    fold_results: list[FoldResult] = []
    outcomes: list[FoldOutcome] = []
    with EpochProgress(enabled=progress) as bar:
        for k, fold in enumerate(prot.folds, start=1):
            fold_dir = run_dir / "folds" / f"fold-{k}"
            if main:
                fold_dir.mkdir(parents=True, exist_ok=True)
            done = fold_dir / "result.json"
            finished = resume and main and done.is_file()
            finished = ctx.broadcast(finished)  # the main process says which folds are done
            if finished and not main:
                continue
            if finished:
                outcome = FoldOutcome.from_json(json.loads(done.read_text()))
            elif family == "sklearn":
                outcome = train_sklearn_fold(cfg, fold, fs, y, labels, variants)
            else:
                outcome = train_torch_fold(cfg, fold, fs, y, labels, fold_dir, resume,
                                           bar.fold(f"fold {k}/{len(prot.folds)}",
                                                    cfg.train.epochs), variants, ctx=ctx)
            test_ids = outcome.test_ids
            fr = FoldResult.from_probabilities(
                k, fold.name, y_true=[y[i] for i in test_ids],
                probabilities=outcome.probabilities, ids=test_ids,
                speakers=[speakers[i] for i in test_ids])
            fold_results.append(fr)
            outcomes.append(outcome)
            if not main:  # distributed: rank 0 writes the fold's files
                continue
            if not finished:
                outcome.write(done)
            _write_fold_plots(fold_dir, outcome.history)
    if not main:  # distributed: the other ranks wait for the main process's outputs
        ctx.barrier()
        return RunResult(run_dir, {}, prot, skipped, time.perf_counter() - t0, None)

    train_seconds = sum(o.train_seconds for o in outcomes)
    results = build_results(prot.name, prot.leaky, labels, fold_results,
                             model=cfg.model.name, features=extractor.spec(),
                             train_seconds=round(train_seconds, 1),
                             created=time.strftime("%Y-%m-%dT%H:%M:%S"))
    write_metrics(run_dir / "metrics.json", results)
    write_predictions(run_dir / "predictions.csv", fold_results, labels=labels)
    _write_run_plots(run_dir, results, labels)
    _write_layer_weights(run_dir, prot, outcomes)
    bundle = None
    if save_bundle:
        from emoscope.bundle import save_bundle as write_bundle

        best = _best_fold(outcomes)
        if outcomes[best].trained.has_weights:
            bundle = write_bundle(run_dir / "bundle", extractor=extractor, labels=labels,
                                  trained=outcomes[best].trained, metrics=results, config=cfg,
                                  fold_name=prot.folds[best].name, protocol=prot)
    seconds = time.perf_counter() - t0
    from emoscope.report.training_report import write_training_report

    write_training_report(run_dir, results=results, config=cfg, protocol=prot,
                          skipped=skipped, seconds=seconds)
    ctx.barrier()  # distributed: release the ranks waiting for the main process's outputs
    return RunResult(run_dir, results, prot, skipped, seconds, bundle)


def _waveform_variants(cfg: ExperimentConfig, aug: Any, rows: pd.DataFrame, prot: Protocol,
                       extractor: Any, cache: str | os.PathLike[str] | None, progress: bool,
                       ) -> list[features.FeatureSet]:
    """The augmented copies of every file some fold trains on (none when no waveform
    augmentation is on): ``aug.waveform_variants`` feature sets, cached like the originals."""
    if not aug.waveform_enabled:
        return []
    train = {i for f in prot.folds for i in (*f.train, *f.valid)}
    train_rows = rows[rows["id"].isin(train)]
    out = []
    for index in range(1, aug.waveform_variants + 1):
        variant = features.WaveformVariant(aug.to_dict(), cfg.train.seed, index)
        out.append(features.extract_features(train_rows, extractor, cache=cache,
                                             workers=cfg.train.feature_workers,
                                             progress=progress, variant=variant))
    return out


def _best_fold(outcomes: list[FoldOutcome]) -> int:
    scores = [o.best_valid_ua for o in outcomes]
    if all(s is None for s in scores):
        return 0
    return int(np.argmax([-1.0 if s is None else s for s in scores]))


def _write_layer_weights(run_dir: Path, prot: Protocol, outcomes: list[FoldOutcome]) -> None:
    """A layer-weighted head's learned weights per fold: ``layer_weights.json`` and a plot."""
    weights = {f.name: o.layer_weights for f, o in zip(prot.folds, outcomes, strict=True)
               if o.layer_weights is not None}
    if not weights:
        return
    from emoscope.report.figures import save_figure
    from emoscope.report.training_plots import layer_weights_figure

    (run_dir / "layer_weights.json").write_text(json.dumps(weights, indent=1))
    save_figure(layer_weights_figure(weights), run_dir / "layer_weights.png")


def _write_fold_plots(fold_dir: Path, history: list[dict[str, float]]) -> None:
    if not history:
        return
    from emoscope.report.figures import save_figure
    from emoscope.report.training_plots import learning_curves_figure

    save_figure(learning_curves_figure(history), fold_dir / "learning_curves.png")


def _write_run_plots(run_dir: Path, results: dict[str, Any], labels: list[str]) -> None:
    from emoscope.report.figures import save_figure
    from emoscope.report.training_plots import confusion_matrix_figure, fold_bars_figure

    pooled = np.sum([np.asarray(f["confusion"]) for f in results["folds"]], axis=0)
    save_figure(confusion_matrix_figure(pooled.tolist(), labels,
                                        title="Confusion, pooled over folds"),
                run_dir / "confusion.png")
    save_figure(fold_bars_figure(results), run_dir / "folds.png")
