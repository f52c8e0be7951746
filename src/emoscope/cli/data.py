"""Corpora, protocols and features: ``doctor``, ``explore``, ``corpora``, ``manifest``,
``protocols``, ``folds``, ``features``, ``extract``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from emoscope.cli.common import (
    RAY_ADDRESS_HELP,
    RAY_HELP,
    err,
    out,
    parse_options,
    print_json,
    print_skipped,
)
from emoscope.errors import EmoscopeError


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
                          progress=not as_json, corpus_options=parse_options(option))
    if as_json:
        print_json(report.to_dict())
    else:
        render_report(report, console=out)
    if strict and report.problems:
        raise typer.Exit(1)


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
                         corpus_options=parse_options(option))
    print_skipped(result.bad_files)
    if as_json:
        print_json(result.to_dict())
    else:
        out.print(f"wrote {result.html} ({len(result.pngs)} plots)", highlight=False)


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
                      **parse_options(option))
    if output is None:
        df.to_csv(sys.stdout, index=False)
    elif output.suffix.lower() == ".json":
        df.to_json(output, orient="records", indent=2)
    else:
        df.to_csv(output, index=False)
    print_skipped(df.attrs.get("skipped", []))
    if output is not None:
        err.print(f"wrote {len(df)} rows to {output}")


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
    from emoscope import corpora, protocols

    keep = labels.split(",") if labels else None
    df = corpora.load(corpus, folder, labels=keep)
    other = None
    if protocols.is_kind(protocol) and protocols.get(protocol).name == "cross-corpus":
        if test_folder is None or test_corpus is None:
            raise typer.BadParameter("cross-corpus needs --test-folder and --test-corpus")
        other = corpora.load(test_corpus, test_folder, labels=keep)
    result = protocols.resolve(protocol, df, options=parse_options(set_), path=protocols_file,
                               test_manifest=other)
    if output is not None:
        output.write_text(json.dumps(result.to_dict(ids=True), indent=2, default=str) + "\n")
        err.print(f"wrote {len(result.folds)} fold(s) to {output}")
    if as_json:
        print_json(result.to_dict(ids=False))
    else:
        print(result.summary())


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
    ray: Annotated[bool, typer.Option("--ray", help=RAY_HELP)] = False,
    ray_address: Annotated[str | None, typer.Option(
        "--ray-address", metavar="ADDRESS", help=RAY_ADDRESS_HELP)] = None,
) -> None:
    """Extract a feature for every file of a corpus into the on-disk cache."""
    from emoscope import corpora, features

    df = corpora.load(corpus, folder)
    ext = features.create(feature, **parse_options(set_))
    if ray or ray_address is not None:  # ---- distributed (emoscope.distributed.ray_features)
        from emoscope.distributed.ray_features import extract_features_ray

        fs = extract_features_ray(df, ext, cache=cache, address=ray_address or "local",
                                  workers=workers)
    else:
        fs = features.extract_features(df, ext, cache=cache, workers=workers or 1)
    print_skipped(fs.failed)
    err.print(f"{ext.name}: {len(fs)} extracted ({fs.computed} computed, {fs.reused} from the "
              f"cache at {fs.cache.root}), {len(fs.failed)} skipped", highlight=False)
    if output is not None:
        fs.to_frame().to_csv(output)
        err.print(f"wrote {output}")
