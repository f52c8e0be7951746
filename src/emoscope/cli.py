"""The ``emoscope`` command: a thin layer that parses arguments and calls the library.

Every error emoscope raises on purpose is printed as one line (``error: ...``) with exit code 1;
usage errors exit with 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from emoscope import __version__
from emoscope.errors import EmoscopeError

app = typer.Typer(
    name="emoscope",
    help="Speech emotion recognition: check corpora, build honest evaluation folds, and more.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


#: --ray's help (predict, extract); a bare --ray is normalised to --ray=local by main().
_RAY_HELP = ("Run on Ray: a cluster ADDRESS (auto, ray://HEAD:10001, HEAD:6379), or nothing for "
             "a local Ray started for this run (put --ray after the paths, or write "
             "--ray=ADDRESS).")


def _bare_ray_flag(argv: list[str]) -> list[str]:
    """``--ray`` takes an optional address: a bare ``--ray`` (last, or followed by an option or
    an existing path) becomes ``--ray=local``; ``--ray ADDRESS`` is left as it is."""
    out = list(argv)
    for i, arg in enumerate(out):
        if arg == "--":
            break
        if arg != "--ray":
            continue
        nxt = out[i + 1] if i + 1 < len(out) else None
        if nxt is None or nxt.startswith("-") or Path(nxt).exists():
            out[i] = "--ray=local"
    return out


def _version(value: bool) -> None:
    if value:
        print(f"emoscope {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Speech emotion recognition: check corpora, build honest evaluation folds, and more."""


def _parse_options(pairs: list[str] | None) -> dict[str, Any]:
    """``key=value`` pairs (values parsed as YAML scalars/lists) into a dict."""
    import yaml

    opts: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise typer.BadParameter(f"expected key=value, got {pair!r}")
        k, v = pair.split("=", 1)
        opts[k.strip().replace("-", "_")] = yaml.safe_load(v)
    return opts


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


@app.command()
def doctor(
    folder: Annotated[Path, typer.Argument(help="A corpus folder.")],
    corpus: Annotated[str | None, typer.Option(
        "--corpus", "-c", help="Read the folder as this corpus (see `emoscope corpora`); "
                               "detected when omitted.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Write the full report as JSON.")] = False,
    workers: Annotated[int | None, typer.Option(
        help="Decoding threads (default: all CPUs).")] = None,
    silence_db: Annotated[float, typer.Option(help="Peak level (dBFS) below which a file is "
                                                   "silent.")] = -60.0,
    clip_fraction: Annotated[float, typer.Option(help="Fraction of full-scale samples above "
                                                      "which a file is clipped.")] = 0.001,
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="Corpus loader option key=value (repeatable), "
                               "e.g. -o vocal_channel=song.")] = None,
    strict: Annotated[bool, typer.Option(help="Exit with status 1 when any problem is "
                                              "found.")] = False,
) -> None:
    """Check a corpus folder before training on it.

    Reports unreadable, empty, truncated, silent, clipped and duplicate files, unusual sample
    rates and channel counts, formats that do not match their extension, files that break the
    corpus's naming scheme, and label/speaker counts.
    """
    from emoscope.doctor import InspectOptions, check_corpus, render_report

    opts = InspectOptions(silence_dbfs=silence_db, clip_fraction=clip_fraction)
    report = check_corpus(folder, corpus=corpus, options=opts, workers=workers,
                          progress=not as_json, corpus_options=_parse_options(option))
    if as_json:
        _print_json(report.to_dict())
    else:
        render_report(report, console=out)
    if strict and report.problems:
        raise typer.Exit(1)


@app.command()
def explore(
    folder: Annotated[Path, typer.Argument(help="A corpus folder.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for report.html and its PNGs.")],
    corpus: Annotated[str | None, typer.Option(
        "--corpus", "-c", help="Corpus name; detected when omitted.")] = None,
    examples: Annotated[int, typer.Option(help="Example files per emotion in the waveform and "
                                               "spectrogram plots.")] = 1,
    workers: Annotated[int | None, typer.Option(help="Threads reading file headers.")] = None,
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="Corpus loader option key=value (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Describe a corpus with plots: class, speaker and gender counts, durations, and a waveform
    and spectrogram per emotion, in OUT/report.html."""
    from emoscope.report import explore as run_explore

    result = run_explore(folder, corpus=corpus, out_dir=out_dir, workers=workers,
                         progress=not as_json, max_examples_per_label=examples,
                         corpus_options=_parse_options(option))
    for path, reason in result.bad_files:
        err.print(f"skipped {path}: {reason}", highlight=False)
    if as_json:
        _print_json(result.to_dict())
    else:
        out.print(f"wrote {result.html} ({len(result.pngs)} plots)", highlight=False)


@app.command()
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


@app.command()
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


# ---- audio-visual: compare audio-only, video-only and fused runs (emoscope.video) ----------
@app.command()
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
# ---- end audio-visual ----------------------------------------------------------------------


@app.command()
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
        _print_json(s)
        return
    for f in s["folds"]:
        out.print(f"  fold {f['fold']}: UA {f['ua']:.3f}  WA {f['wa']:.3f}  macro-F1 "
                  f"{f['macro_f1']:.3f}  (n={f['n']})", highlight=False)
    out.print(f"  mean: UA {s['ua']:.3f} ± {s['ua_std']:.3f}  WA {s['wa']:.3f} ± "
              f"{s['wa_std']:.3f}  macro-F1 {s['macro_f1']:.3f} ± {s['macro_f1_std']:.3f}  "
              f"({s['n']} clips in both runs)", highlight=False)


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
    for path, reason in result.skipped:
        err.print(f"skipped {path}: {reason}", highlight=False)
    leak = "  [LEAKY: speakers shared between train and test]" if r["leaky"] else ""
    out.print(f"{cfg.name}: {r['protocol']}, {len(r['folds'])} fold(s){leak}", highlight=False)
    for f in r["folds"]:
        out.print(f"  {f['name']}: UA {f['ua']:.3f}  WA {f['wa']:.3f}  macro-F1 "
                  f"{f['macro_f1']:.3f}  (n={f['n_test']})", highlight=False)
    m, s = r["mean"], r["std"]
    out.print(f"  mean: UA {m['ua']:.3f} ± {s['ua']:.3f}  WA {m['wa']:.3f} ± {s['wa']:.3f}  "
              f"macro-F1 {m['macro_f1']:.3f} ± {s['macro_f1']:.3f}", highlight=False)
    out.print(f"wrote {result.run_dir}/ (report.html, metrics.json"
              f"{', bundle/' if result.bundle else ''}) in {result.seconds:.0f} s",
              highlight=False)


@app.command()
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
    import numpy as np

    from emoscope import corpora, features
    from emoscope.bundle import load_bundle
    from emoscope.evaluate.results import FoldResult, build_results, write_metrics

    b = load_bundle(bundle, trusted=trusted)
    df = corpora.load(corpus, data_root)
    df = df[df["label"].isin(b.labels)]
    if df.empty:
        raise EmoscopeError(f"{corpus} has none of the bundle's labels "
                            f"({', '.join(b.labels)})")
    fs = features.extract_features(df, b.extractor, cache=cache)
    ids = [i for i in df["id"] if i in fs]
    probs = b.predict_proba_features(fs, ids)
    idx = {lab: k for k, lab in enumerate(b.labels)}
    rows = df.set_index("id").loc[ids]
    fr = FoldResult(1, corpus, [idx[lab] for lab in rows["label"]],
                    np.asarray(probs).argmax(1).tolist(), ids,
                    rows["speaker"].astype(str).tolist(), probs)
    results = build_results(f"evaluate-{corpus}", False, b.labels, [fr],
                            model=b.meta["model"]["name"], features=b.meta["features"])
    for path, reason in fs.failed:
        err.print(f"skipped {path}: {reason}", highlight=False)
    f = results["folds"][0]
    out.print(f"{corpus} ({f['n_test']} utterances, labels {', '.join(b.labels)}): "
              f"UA {f['ua']:.3f}  WA {f['wa']:.3f}  macro-F1 {f['macro_f1']:.3f}",
              highlight=False)
    if output is not None:
        write_metrics(output, results)
        err.print(f"wrote {output}")


@app.command("corpora")
def list_corpora() -> None:
    """List the corpora emoscope can read, with their licences."""
    from rich.table import Table

    from emoscope import corpora

    t = Table()
    for col in ("name", "description", "licence"):
        t.add_column(col)
    for name in corpora.available():
        spec = corpora.get(name)
        t.add_row(name, spec.description, spec.licence)
    out.print(t)


@app.command()
def manifest(
    folder: Annotated[Path, typer.Argument(help="A corpus folder (or, for --corpus manifest, "
                                                "a CSV/JSON file).")],
    corpus: Annotated[str, typer.Option("--corpus", "-c", help="Corpus name.")],
    output: Annotated[Path | None, typer.Option("--out", help="Write CSV (or .json) here; "
                                                               "stdout when omitted.")] = None,
    labels: Annotated[str | None, typer.Option(help="Comma-separated labels to keep.")] = None,
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="Corpus loader option key=value (repeatable).")] = None,
) -> None:
    """Write a corpus's manifest (one row per utterance) as CSV or JSON."""
    from emoscope import corpora

    df = corpora.load(corpus, folder, labels=labels.split(",") if labels else None,
                      **_parse_options(option))
    if output is None:
        df.to_csv(sys.stdout, index=False)
    elif output.suffix.lower() == ".json":
        df.to_json(output, orient="records", indent=2)
    else:
        df.to_csv(output, index=False)
    for path, reason in df.attrs.get("skipped", []):
        err.print(f"skipped {path}: {reason}", highlight=False)
    if output is not None:
        err.print(f"wrote {len(df)} rows to {output}")


@app.command("protocols")
def list_protocols(
    protocols_file: Annotated[Path | None, typer.Option(
        "--file", help="A protocols JSON (default: $EMOSCOPE_PROTOCOLS, else the shipped "
                       "standard protocols).")] = None,
) -> None:
    """List the protocol kinds and the named benchmark protocols."""
    from rich.table import Table

    from emoscope import protocols

    t = Table(title="protocol kinds (emoscope folds --protocol KIND)", title_justify="left")
    t.add_column("kind")
    t.add_column("description")
    t.add_column("options")
    for kind, desc in protocols.describe().items():
        import inspect

        opts = ", ".join(k if v is inspect.Parameter.empty else f"{k}={v}"
                         for k, v in protocols.options(kind).items())
        t.add_row(kind, desc, opts)
    out.print(t)
    t = Table(title="named protocols (emoscope folds --protocol NAME)", title_justify="left")
    for col in ("name", "corpus", "kind", "note"):
        t.add_column(col)
    for name, spec in protocols.load_protocols(protocols_file).items():
        t.add_row(name, str(spec.get("corpus", "")), str(spec.get("kind", "")),
                  str(spec.get("note", "")))
    out.print(t)


@app.command()
def folds(
    folder: Annotated[Path, typer.Argument(help="The corpus folder (the training corpus for "
                                                "cross-corpus).")],
    corpus: Annotated[str, typer.Option("--corpus", "-c", help="Corpus name.")],
    protocol: Annotated[str, typer.Option(
        "--protocol", "-p", help="A protocol kind (random, speaker-kfold, loso, loso-session, "
                                 "cross-corpus) or a named protocol (ravdess-si6, ...).")],
    protocols_file: Annotated[Path | None, typer.Option(
        "--protocols-file", help="JSON with named protocols (default: $EMOSCOPE_PROTOCOLS, "
                                 "else the shipped standard protocols).")] = None,
    test_folder: Annotated[Path | None, typer.Option(
        help="cross-corpus: the test corpus folder.")] = None,
    test_corpus: Annotated[str | None, typer.Option(
        help="cross-corpus: the test corpus name.")] = None,
    labels: Annotated[str | None, typer.Option(help="Comma-separated labels to keep.")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", "-s", help="Protocol option key=value (repeatable), e.g. -s k=6 -s "
                            "valid_fraction=0.1.")] = None,
    output: Annotated[Path | None, typer.Option(
        "--out", help="Write the folds, with every id, as JSON.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the folds as JSON.")] = False,
) -> None:
    """Build evaluation folds for a corpus and show them (speaker-independent by default)."""
    import pandas as pd

    from emoscope import corpora, protocols

    keep = labels.split(",") if labels else None
    df = corpora.load(corpus, folder, labels=keep)
    opts = _parse_options(set_)
    kinds = set(protocols.available())
    is_kind = protocol in kinds or protocol.replace("_", "-") in kinds or _is_alias(protocol)
    if is_kind and protocols.get(protocol).name == "cross-corpus":
        if test_folder is None or test_corpus is None:
            raise typer.BadParameter("cross-corpus needs --test-folder and --test-corpus")
        other = corpora.load(test_corpus, test_folder, labels=keep)
        merged = pd.concat([df, other], ignore_index=True)
        opts.setdefault("train_corpus", df.attrs["corpus"])
        opts.setdefault("test_corpus", other.attrs["corpus"])
        result = protocols.build("cross-corpus", merged, **opts)
    elif is_kind:
        result = protocols.build(protocol, df, **opts)
    else:
        result = protocols.predefined(df, protocol, path=protocols_file, **opts)
    if output is not None:
        output.write_text(json.dumps(result.to_dict(ids=True), indent=2, default=str) + "\n")
        err.print(f"wrote {len(result.folds)} fold(s) to {output}")
    if as_json:
        _print_json(result.to_dict(ids=False))
    else:
        print(result.summary())


@app.command("features")
def list_features() -> None:
    """List the feature extractors with their kind and options."""
    from rich.table import Table

    from emoscope import features

    t = Table()
    for col in ("name", "kind", "options (defaults)"):
        t.add_column(col)
    for name in features.available():
        try:
            ext = features.create(name)
        except EmoscopeError as exc:  # an extractor with a required option
            t.add_row(name, "", f"needs options: {exc}")
            continue
        opts = ", ".join(f"{k}={v}" for k, v in ext.config.to_dict().items())
        t.add_row(name, ext.kind, opts)
    out.print(t)


@app.command()
def extract(
    folder: Annotated[Path, typer.Argument(help="A corpus folder.")],
    corpus: Annotated[str, typer.Option("--corpus", "-c", help="Corpus name.")],
    feature: Annotated[str, typer.Option("--feature", "-f", help="Feature name (see "
                                                                 "`emoscope features`).")],
    set_: Annotated[list[str] | None, typer.Option(
        "--set", "-s", help="Feature option key=value (repeatable), e.g. -s n_mels=80.")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Worker processes (default 1); with --ray, Ray workers (default: the "
                    "cluster's CPUs).")] = None,
    cache: Annotated[Path | None, typer.Option(help="Cache folder (default: $EMOSCOPE_CACHE "
                                                    "or ~/.cache/emoscope).")] = None,
    output: Annotated[Path | None, typer.Option(
        "--out", help="Vector features: also write them as a CSV table (id x feature).")] = None,
    ray: Annotated[str | None, typer.Option("--ray", metavar="[ADDRESS]", help=_RAY_HELP)] = None,
) -> None:
    """Extract a feature for every file of a corpus into the on-disk cache."""
    from emoscope import corpora, features

    df = corpora.load(corpus, folder)
    ext = features.create(feature, **_parse_options(set_))
    if ray is not None:  # ---- distributed (emoscope.distributed.ray_features)
        from emoscope.distributed.ray_features import extract_features_ray

        fs = extract_features_ray(df, ext, cache=cache, address=ray, workers=workers)
    else:
        fs = features.extract_features(df, ext, cache=cache, workers=workers or 1)
    for path, reason in fs.failed:
        err.print(f"skipped {path}: {reason}", highlight=False)
    err.print(f"{ext.name}: {len(fs)} extracted ({fs.computed} computed, {fs.reused} from the "
              f"cache at {fs.cache.root}), {len(fs.failed)} skipped", highlight=False)
    if output is not None:
        fs.to_frame().to_csv(output)
        err.print(f"wrote {output}")


@app.command()
def predict(
    paths: Annotated[list[Path], typer.Argument(help="Audio or video files, or folders "
                                                     "(searched recursively).")],
    bundle: Annotated[Path | None, typer.Option(help="A model bundle folder (default: the "
                                                     "shipped model).")] = None,
    timeline: Annotated[bool, typer.Option("--timeline", help="Predict along each file, window "
                                           "by window (long recordings).")] = False,
    format_: Annotated[str | None, typer.Option(
        "--format", help="table, csv or json (default: from --out's extension, else "
                         "table).")] = None,
    output: Annotated[Path | None, typer.Option("--out", help="Write the results here instead "
                                                              "of stdout.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Files per model forward "
                                                        "pass.")] = 16,
    trusted: Annotated[bool, typer.Option(help="Allow a pickled sklearn model (only for "
                                               "bundles you made).")] = False,
    ray: Annotated[str | None, typer.Option("--ray", metavar="[ADDRESS]", help=_RAY_HELP)] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="With --ray: Ray workers "
                                                "(default: the cluster's CPUs).")] = None,
) -> None:
    """Predict the emotion of audio files (or a video's sound), whole or along a timeline.

    Files that cannot be used (corrupt, empty, silent, not audio, too long) are listed on
    stderr and the others go on; the exit code is 1 only when no file could be predicted.
    """
    from emoscope.inference import Predictor
    from emoscope.inference.batch import find_audio_files, predict_files, predict_timelines
    from emoscope.inference.output import (
        FORMATS,
        PARQUET,
        format_from_path,
        write_parquet,
        write_predictions,
    )

    fmt = format_ or format_from_path(output)
    if fmt not in (*FORMATS, PARQUET):
        raise typer.BadParameter(f"--format must be one of {', '.join((*FORMATS, PARQUET))}, "
                                 f"got {fmt!r}")
    if fmt == PARQUET and output is None:
        raise typer.BadParameter("--format parquet writes a file: give --out FILE.parquet")
    if ray is None and workers is not None:
        raise typer.BadParameter("--workers counts Ray workers: use it with --ray")
    if ray is not None and timeline:
        raise typer.BadParameter("--timeline does not run on Ray yet: drop --ray")
    files = find_audio_files(paths)
    if not files:
        raise EmoscopeError(f"no audio or video files in {', '.join(map(str, paths))}")
    predictor = Predictor.from_bundle(bundle, trusted=trusted)
    if ray is not None:  # ---- distributed (emoscope.distributed.ray_batch): Ray workers
        from emoscope.distributed.ray_batch import predict_files_ray

        result = predict_files_ray(files, bundle=bundle, trusted=trusted, address=ray,
                                   workers=workers, batch_size=batch_size)
    elif timeline:
        result = predict_timelines(predictor, files)
    else:
        result = predict_files(predictor, files, batch_size=batch_size)
    for path, reason in result.skipped:
        err.print(f"skipped {path}: {reason}", highlight=False)
    n_ok, n_bad = len(result.predictions), len(result.skipped)
    if not n_ok:
        raise EmoscopeError(f"no file could be predicted ({n_bad} skipped)")
    if output is None:
        write_predictions(result.predictions, format=fmt, labels=predictor.labels)
    elif fmt == PARQUET:
        write_parquet(result.predictions, output, labels=predictor.labels)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        with open(output, "w", encoding="utf-8", newline="") as fh:
            write_predictions(result.predictions, format=fmt, labels=predictor.labels, file=fh)
    wrote = f"; wrote {output}" if output is not None else ""
    err.print(f"predicted {n_ok} file(s), skipped {n_bad}{wrote}", highlight=False)


@app.command()
def live(
    from_file: Annotated[Path | None, typer.Option(
        "--from-file", help="Play this audio file through the streaming path instead of the "
                            "microphone (in real time unless --fast).")] = None,
    fast: Annotated[bool, typer.Option("--fast", help="With --from-file: as fast as possible, "
                                                      "not in real time.")] = False,
    bundle: Annotated[Path | None, typer.Option(help="A model bundle folder (default: the "
                                                     "shipped model).")] = None,
    window: Annotated[float, typer.Option(help="Seconds of audio per prediction.")] = 3.0,
    hop: Annotated[float, typer.Option(help="Seconds between predictions during "
                                            "speech.")] = 0.5,
    device: Annotated[str | None, typer.Option(
        help="Input device index or name (`python -m sounddevice` lists them).")] = None,
    energy: Annotated[bool, typer.Option("--energy", help="Find speech by loudness instead of "
                                                          "Silero VAD (clean audio).")] = False,
    trusted: Annotated[bool, typer.Option(help="Allow a pickled sklearn model (only for "
                                               "bundles you made).")] = False,
) -> None:
    """Recognise emotions live from the microphone, or from a file played in real time.

    A terminal shows the current emotion, a bar per label, the elapsed time and whether
    someone speaks; a pipe gets one line per event. Ctrl-C stops with a summary.
    """
    from emoscope.inference import Predictor
    from emoscope.inference.live import run_live

    if from_file is not None:
        from emoscope.audio.io import audio_info

        audio_info(from_file)  # a missing or unreadable file fails before the model loads
    predictor = Predictor.from_bundle(bundle, trusted=trusted)
    run_live(predictor, source=from_file, fast=fast, window=window, hop=hop, vad=not energy,
             device=int(device) if device is not None and device.isdigit() else device,
             console=out)


@app.command("export")
def export_model(
    bundle: Annotated[Path, typer.Argument(help="A torch model bundle folder.")],
    onnx: Annotated[Path, typer.Option("--onnx", help="The .onnx file to write.")],
    opset: Annotated[int | None, typer.Option(help="ONNX opset, 13 to 20 (default 17).")] = None,
) -> None:
    """Export a bundle's model to ONNX: one self-describing file (labels, features and
    standardiser in its metadata), checked against torch before it is written."""
    from emoscope.inference.onnx_export import export_onnx, read_onnx_metadata

    path = export_onnx(bundle, onnx, opset=opset)
    meta = read_onnx_metadata(path)
    inp, outp, check = meta["input"], meta["output"], meta["check"]
    shape = ", ".join(str(d) for d in inp["shape"])
    out.print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB, opset {meta['opset']}): "
              f"{meta['model']['name']} on {meta['features']['name']} features, "
              f"{inp['name']} ({shape}) -> {outp['name']} (batch, {len(meta['labels'])}); "
              f"labels {', '.join(meta['labels'])}", highlight=False)
    out.print(f"max |torch - onnx| = {check['max_abs_diff']:.2e} on "
              f"{len(check['clip_seconds'])} generated clips (tolerance {check['atol']:g})",
              highlight=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine "
                                           "only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    bundle: Annotated[Path | None, typer.Option(help="A model bundle folder (default: the "
                                                     "shipped model).")] = None,
    db: Annotated[str | None, typer.Option(
        "--db", envvar="EMOSCOPE_DB", show_envvar=True,
        help="Where analyses are stored: sqlite:///FILE, postgresql://USER@HOST/DB or a file "
             "path (default: emoscope.db in the user's data folder).")] = None,
    token: Annotated[str | None, typer.Option(
        envvar="EMOSCOPE_TOKEN", show_envvar=True,
        help="Require this bearer token on every API route and the WebSocket.")] = None,
    max_upload_mb: Annotated[float, typer.Option(min=0.001, help="Largest upload, in "
                                                                 "MB.")] = 200.0,
    max_duration: Annotated[float, typer.Option(min=1.0, help="Longest recording analysed or "
                                                              "streamed, in seconds.")] = 3600.0,
    max_clip_duration: Annotated[float, typer.Option(min=1.0, help="Longest clip for "
                                                     "/v1/predict, in seconds.")] = 600.0,
    max_jobs: Annotated[int, typer.Option(min=1, help="Background analyses queued or running "
                                                      "at once (429 past it).")] = 4,
    max_streams: Annotated[int, typer.Option(min=1, help="WebSocket streams open at "
                                                         "once.")] = 16,
    timeout: Annotated[float, typer.Option(min=0.1, help="Request timeout in seconds (504 past "
                                                         "it).")] = 120.0,
    workers: Annotated[int | None, typer.Option(min=1, help="Threads computing predictions "
                                                            "(default: the usable CPUs).")] = None,
    trusted: Annotated[bool, typer.Option(help="Allow a pickled sklearn model (only for "
                                               "bundles you made).")] = False,
) -> None:
    """Serve the HTTP and WebSocket API and the web page (open http://HOST:PORT/ and speak).

    Binds 127.0.0.1 unless told otherwise; set a token before listening on other addresses.
    Analyses are stored in SQLite by default, or in PostgreSQL with --db postgresql://...;
    the API is documented at /docs.
    """
    import copy

    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from emoscope.inference import Predictor
    from emoscope.service import Limits, Store, create_app

    if token is not None and not token.strip():
        raise typer.BadParameter("--token must not be empty")
    limits = Limits(max_upload_mb=max_upload_mb, max_duration=max_duration,
                    max_clip_duration=max_clip_duration, max_jobs=max_jobs,
                    max_streams=max_streams, request_timeout=timeout)
    predictor = Predictor.from_bundle(bundle, trusted=trusted)
    store = Store.open(db)
    if token is None and host not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"warning: listening on {host} without a token: anyone who can reach it can "
                  "use the API (set --token or EMOSCOPE_TOKEN)", highlight=False)
    shown = f"[{host}]" if ":" in host else host
    err.print(f"emoscope serve: http://{shown}:{port}/ (model {bundle or 'shipped default'}, "
              f"analyses in {store.display_url})", highlight=False)
    log_config = copy.deepcopy(LOGGING_CONFIG)  # the service's own log lines, uvicorn's way
    log_config["loggers"]["emoscope"] = {"handlers": ["default"], "level": "INFO",
                                         "propagate": False}
    try:
        uvicorn.run(create_app(predictor=predictor, store=store, token=token, limits=limits,
                               workers=workers),
                    host=host, port=port, log_level="info", log_config=log_config)
    finally:
        store.close()


def _is_alias(name: str) -> bool:
    from emoscope import protocols

    try:
        protocols.get(name)
    except EmoscopeError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``emoscope`` console script."""
    argv = _bare_ray_flag(sys.argv[1:] if argv is None else argv)  # --ray [ADDRESS]
    try:
        rc = app(args=argv, standalone_mode=False)
    except EmoscopeError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        err.print("aborted")
        return 130
    except Exception as exc:
        # usage errors of typer's bundled click: print them as click would, exit 2
        if hasattr(exc, "show") and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            return exc.exit_code
        raise
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":
    sys.exit(main())
