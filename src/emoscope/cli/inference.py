"""Using a model: ``predict``, ``live``, ``export``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emoscope.cli.common import RAY_ADDRESS_HELP, RAY_HELP, err, out, print_skipped
from emoscope.errors import EmoscopeError


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
    ray: Annotated[bool, typer.Option("--ray", help=RAY_HELP)] = False,
    ray_address: Annotated[str | None, typer.Option(
        "--ray-address", metavar="ADDRESS", help=RAY_ADDRESS_HELP)] = None,
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
    ray = ray or ray_address is not None
    if not ray and workers is not None:
        raise typer.BadParameter("--workers counts Ray workers: use it with --ray")
    if ray and timeline:
        raise typer.BadParameter("--timeline does not run on Ray yet: drop --ray")
    files = find_audio_files(paths)
    if not files:
        raise EmoscopeError(f"no audio or video files in {', '.join(map(str, paths))}")
    predictor = Predictor.from_bundle(bundle, trusted=trusted)
    if ray:  # ---- distributed (emoscope.distributed.ray_batch): Ray workers
        from emoscope.distributed.ray_batch import predict_files_ray

        result = predict_files_ray(files, bundle=bundle, trusted=trusted,
                                   address=ray_address or "local",
                                   workers=workers, batch_size=batch_size)
    elif timeline:
        result = predict_timelines(predictor, files)
    else:
        result = predict_files(predictor, files, batch_size=batch_size)
    print_skipped(result.skipped)
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


def export_model(
    bundle: Annotated[Path, typer.Argument(help="A torch model bundle folder.")],
    onnx: Annotated[Path, typer.Option("--onnx", help="The .onnx file to write.")],
    opset: Annotated[int | None, typer.Option(help="ONNX opset, 13 to 20 (default 17).")] = None,
) -> None:
    """Export a bundle's model to ONNX: one self-describing file (labels, features and
    standardiser in its metadata), checked against torch before it is written."""
    from emoscope.inference.onnx import export_onnx, read_onnx_metadata

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
