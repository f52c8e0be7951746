"""Training and scoring: ``train``, ``benchmark``, ``compare``, ``fuse``, ``evaluate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emoscope.cli.common import err, mean_text, out, print_json, print_skipped, scores_text


def train(
    config: Annotated[Path, typer.Argument(help="An experiment config (YAML), e.g. "
                                                "configs/default.yaml.")],
    data_root: Annotated[Path | None, typer.Option(help="The corpus folder (else data.root "
                                                        "in the config).")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", "-s", help="Override a config value: section.key=value (repeatable), e.g. "
                            "-s train.epochs=5.")] = None,
    output: Annotated[Path | None, typer.Option(
        "--out", help="Run directory (default: runs/<config name>).")] = None,
    resume: Annotated[bool, typer.Option(help="Continue a killed run in --out.")] = False,
    cache: Annotated[Path | None, typer.Option(help="Feature cache folder.")] = None,
    distributed: Annotated[bool, typer.Option(
        "--distributed", help="Train with PyTorch DDP in the processes torchrun starts: "
                              "torchrun --nproc_per_node N -m emoscope.cli train ... "
                              "--distributed (torch models only).")] = False,
) -> None:
    """Train and evaluate a config's model on every fold of its protocol; write metrics,
    plots, report.html and a model bundle into the run directory."""
    _run_training(config, data_root, set_, output, resume, cache, protocol=None,
                  distributed=distributed)


def benchmark(
    protocol: Annotated[str, typer.Option("--protocol", "-p", help="A named protocol "
                                          "(ravdess-si6, tess-cross-speaker, "
                                          "tess-random-80-20) or a protocol kind.")],
    config: Annotated[Path, typer.Option("--config", help="An experiment config (YAML).")],
    data_root: Annotated[Path, typer.Option(help="The corpus folder.")],
    output: Annotated[Path, typer.Option("--out", help="Run directory.")],
    set_: Annotated[list[str] | None, typer.Option(
        "--set", "-s", help="Override a config value: section.key=value (repeatable).")] = None,
    protocols_file: Annotated[Path | None, typer.Option(
        help="A protocols JSON (default: the shipped standard protocols).")] = None,
    resume: Annotated[bool, typer.Option(help="Continue a killed run in --out.")] = False,
    cache: Annotated[Path | None, typer.Option(help="Feature cache folder.")] = None,
) -> None:
    """Run every fold of a benchmark protocol with a config, in one process, with progress."""
    extra = list(set_ or [])
    if protocols_file is not None:
        extra.append(f"protocol.file={protocols_file}")
    _run_training(config, data_root, extra, output, resume, cache, protocol=protocol)


def compare(
    configs: Annotated[list[Path], typer.Argument(help="Experiment configs to run side by "
                                                       "side, e.g. configs/av/*.yaml.")],
    data_root: Annotated[Path, typer.Option(help="The corpus folder, for every config.")],
    output: Annotated[Path, typer.Option("--out", help="Output folder: one run per config "
                                                       "and comparison.csv / .md.")],
    set_: Annotated[list[str] | None, typer.Option(
        "--set", "-s", help="Override a value in every config: section.key=value.")] = None,
    protocol: Annotated[str | None, typer.Option("--protocol", "-p", help="Override every "
                                                 "config's protocol.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue killed runs in --out.")] = False,
    cache: Annotated[Path | None, typer.Option(help="Feature cache folder.")] = None,
) -> None:
    """Run several configs on one corpus and write one table comparing them (audio-only,
    video-only, fused; plus the late fusion of the audio-only and video-only runs)."""
    from emoscope.video.compare import compare_runs

    table = compare_runs(configs, out_dir=output, data_root=data_root,
                         overrides=list(set_ or []), protocol=protocol, cache=cache,
                         resume=resume)
    out.print((output / "comparison.md").read_text(), highlight=False)
    out.print(f"wrote {output}/comparison.csv and comparison.md ({len(table)} rows)",
              highlight=False)


def fuse(
    first: Annotated[Path, typer.Argument(help="A finished run folder (or its predictions.csv).")],
    second: Annotated[Path, typer.Argument(help="Another run of the same protocol.")],
    weight: Annotated[float, typer.Option(help="Weight of the first run's probabilities "
                                               "(fixed in advance, not fitted).")] = 0.5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score the late fusion of two finished runs: the weighted mean of their test
    probabilities, clip by clip, per fold as the runs were scored."""
    from emoscope.evaluate.fusion import late_fusion_scores

    paths = [p / "predictions.csv" if p.is_dir() else p for p in (first, second)]
    s = late_fusion_scores(*paths, weight=weight)
    if as_json:
        print_json(s)
        return
    for f in s["folds"]:
        out.print(f"  fold {f['fold']}: {scores_text(f)}  (n={f['n']})", highlight=False)
    std = {k: s[f"{k}_std"] for k in ("ua", "wa", "macro_f1")}
    out.print(f"  mean: {mean_text(s, std)}  ({s['n']} clips in both runs)", highlight=False)


def _run_training(config: Path, data_root: Path | None, overrides: list[str] | None,
                  output: Path | None, resume: bool, cache: Path | None,
                  protocol: str | None, *, distributed: bool = False) -> None:
    from emoscope.config import load_config
    from emoscope.train.experiment import run_experiment

    cfg = load_config(config, overrides=overrides)
    run_dir = output or Path("runs") / cfg.name
    if distributed:  # ---- distributed (emoscope.distributed.ddp): one rank of a torchrun launch
        from emoscope.distributed.ddp import check_distributable, distributed_session

        check_distributable(cfg)  # before the rendezvous: a refused config fails at once
        with distributed_session() as ctx:
            result = run_experiment(cfg, out_dir=run_dir, data_root=data_root,
                                    protocol=protocol, resume=resume, cache=cache,
                                    distributed=ctx)
        if not ctx.is_main:  # rank 0 reports
            return
    else:
        result = run_experiment(cfg, out_dir=run_dir, data_root=data_root, protocol=protocol,
                                resume=resume, cache=cache)
    r = result.results
    print_skipped(result.skipped)
    leak = "  [LEAKY: speakers shared between train and test]" if r["leaky"] else ""
    out.print(f"{cfg.name}: {r['protocol']}, {len(r['folds'])} fold(s){leak}", highlight=False)
    for f in r["folds"]:
        out.print(f"  {f['name']}: {scores_text(f)}  (n={f['n_test']})", highlight=False)
    out.print(f"  mean: {mean_text(r['mean'], r['std'])}", highlight=False)
    out.print(f"wrote {result.run_dir}/ (report.html, metrics.json"
              f"{', bundle/' if result.bundle else ''}) in {result.seconds:.0f} s",
              highlight=False)


def evaluate(
    bundle: Annotated[Path, typer.Argument(help="A model bundle folder.")],
    corpus: Annotated[str, typer.Option("--corpus", "-c", help="Corpus name.")],
    data_root: Annotated[Path, typer.Option(help="The corpus folder.")],
    output: Annotated[Path | None, typer.Option("--out", help="Write metrics.json here.")] = None,
    trusted: Annotated[bool, typer.Option(help="Allow a pickled sklearn model (only for "
                                               "bundles you made).")] = False,
    cache: Annotated[Path | None, typer.Option(help="Feature cache folder.")] = None,
) -> None:
    """Evaluate a model bundle on a whole corpus (e.g. cross-corpus), on the bundle's labels."""
    from emoscope.evaluate.results import write_metrics
    from emoscope.inference.evaluate import evaluate_bundle

    res = evaluate_bundle(bundle, corpus=corpus, data_root=data_root, trusted=trusted,
                          cache=cache)
    print_skipped(res.skipped)
    f = res.results["folds"][0]
    out.print(f"{corpus} ({f['n_test']} utterances, labels {', '.join(res.labels)}): "
              f"{scores_text(f)}", highlight=False)
    if output is not None:
        write_metrics(output, res.results)
        err.print(f"wrote {output}")
