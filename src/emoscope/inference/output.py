"""Write file predictions as a table (people), CSV (spreadsheets) or JSON (programs).

JSON is a list with one object per file::

    [{"path": "a.wav", "label": "angry", "probabilities": {"angry": 0.81, ...},
      "duration": 2.5,
      "segments": [{"start": 0.0, "end": 3.0, "label": "angry",      # --timeline only
                    "probabilities": {...}}, ...]}]

CSV has one row per file, ``path,label,duration,<one column per label>``; when the files carry
timeline segments it has one row per segment instead, ``path,start,end,label,<labels>``.
Probabilities are rounded to 6 decimals, times to 3 (seconds).

Parquet (:func:`write_parquet`, ``--out results.parquet``) holds the CSV's rows and columns as
typed columns (strings and float64), probabilities and times unrounded.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from emoscope.errors import ConfigError
from emoscope.inference.batch import FilePrediction, SegmentLike

__all__ = [
    "FORMATS",
    "PARQUET",
    "format_from_path",
    "render_table",
    "to_records",
    "write_csv",
    "write_json",
    "write_parquet",
    "write_predictions",
]

#: The output formats of :func:`write_predictions`.
FORMATS = ("table", "csv", "json")
#: The binary format of :func:`write_parquet` (to a file only).
PARQUET = "parquet"

_PROB_DIGITS = 6
_TIME_DIGITS = 3


def _probs(probabilities: Mapping[str, float], labels: Sequence[str]) -> dict[str, float]:
    return {lab: round(float(probabilities[lab]), _PROB_DIGITS) for lab in labels}


def _labels_of(predictions: Sequence[FilePrediction]) -> list[str]:
    return list(predictions[0].probabilities) if predictions else []


def _segment_record(seg: SegmentLike, labels: Sequence[str]) -> dict[str, Any]:
    return {"start": round(float(seg.start), _TIME_DIGITS),
            "end": round(float(seg.end), _TIME_DIGITS), "label": seg.label,
            "probabilities": _probs(seg.probabilities, labels)}


def to_records(predictions: Sequence[FilePrediction], *,
               labels: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """JSON-ready dicts, one per file (``segments`` only for files that have a timeline).

    Parameters
    ----------
    predictions : sequence of FilePrediction
    labels : sequence of str, optional
        Order of the probability keys (default: the first prediction's order).
    """
    labs = list(labels) if labels is not None else _labels_of(predictions)
    records = []
    for p in predictions:
        rec: dict[str, Any] = {"path": str(p.path), "label": p.label,
                               "probabilities": _probs(p.probabilities, labs),
                               "duration": round(float(p.duration), _TIME_DIGITS)}
        if p.segments is not None:
            rec["segments"] = [_segment_record(s, labs) for s in p.segments]
        records.append(rec)
    return records


def write_json(predictions: Sequence[FilePrediction], file: TextIO, *,
               labels: Sequence[str] | None = None) -> None:
    """Write :func:`to_records` as an indented JSON list."""
    file.write(json.dumps(to_records(predictions, labels=labels), indent=2) + "\n")


def write_csv(predictions: Sequence[FilePrediction], file: TextIO, *,
              labels: Sequence[str] | None = None) -> None:
    """Write one row per file (``path,label,duration,<labels>``), or one row per segment
    (``path,start,end,label,<labels>``) when any file has a timeline."""
    labs = list(labels) if labels is not None else _labels_of(predictions)
    w = csv.writer(file, lineterminator="\n")
    if not any(p.segments is not None for p in predictions):
        w.writerow(["path", "label", "duration", *labs])
        for p in predictions:
            w.writerow([str(p.path), p.label, round(float(p.duration), _TIME_DIGITS),
                        *_probs(p.probabilities, labs).values()])
        return
    w.writerow(["path", "start", "end", "label", *labs])
    for p in predictions:
        for seg in p.segments if p.segments is not None else []:
            rec = _segment_record(seg, labs)
            w.writerow([str(p.path), rec["start"], rec["end"], rec["label"],
                        *rec["probabilities"].values()])
        if p.segments is None:
            w.writerow([str(p.path), 0.0, round(float(p.duration), _TIME_DIGITS), p.label,
                        *_probs(p.probabilities, labs).values()])


def render_table(predictions: Sequence[FilePrediction], *,
                 labels: Sequence[str] | None = None) -> Table:
    """A rich table: path, label, its probability, then every label's probability (3 decimals);
    a file's timeline segments follow it as indented ``start–end s`` rows."""
    labs = list(labels) if labels is not None else _labels_of(predictions)
    t = Table()
    t.add_column("path", overflow="fold")
    t.add_column("label")
    t.add_column("p", justify="right")
    for lab in labs:
        t.add_column(lab, justify="right")

    def row(name: str, label: str, probs: Mapping[str, float], *, style: str | None) -> None:
        t.add_row(name, label, f"{probs[label]:.3f}", *(f"{probs[lab]:.3f}" for lab in labs),
                  style=style)

    for p in predictions:
        row(str(p.path), p.label, p.probabilities, style=None)
        for seg in p.segments or []:
            row(f"  {seg.start:.1f}–{seg.end:.1f} s", seg.label, seg.probabilities,
                style="dim")
    return t


def format_from_path(path: str | os.PathLike[str] | None) -> str:
    """``"json"`` for ``*.json``, ``"csv"`` for ``*.csv``, ``"parquet"`` for ``*.parquet``,
    else ``"table"``."""
    suffix = Path(path).suffix.lower() if path is not None else ""
    return {".json": "json", ".csv": "csv", ".parquet": PARQUET}.get(suffix, "table")


def write_parquet(predictions: Sequence[FilePrediction], path: str | os.PathLike[str], *,
                  labels: Sequence[str] | None = None) -> None:
    """Write the rows of :func:`write_csv` as a Parquet file (pyarrow), unrounded: one row per
    file (``path, label, duration, <labels>``), or one per timeline segment (``path, start,
    end, label, <labels>``) when any file has a timeline.

    Raises
    ------
    ConfigError
        pyarrow is not installed (it comes with ``pip install 'emoscope[ray]'``).
    """
    import importlib.util

    import pandas as pd

    if importlib.util.find_spec("pyarrow") is None:
        raise ConfigError("Parquet output needs pyarrow: pip install 'emoscope[ray]'")

    labs = list(labels) if labels is not None else _labels_of(predictions)
    rows: list[dict[str, Any]] = []
    timeline = any(p.segments is not None for p in predictions)
    for p in predictions:
        if not timeline:
            rows.append({"path": str(p.path), "label": p.label, "duration": float(p.duration),
                         **{lab: float(p.probabilities[lab]) for lab in labs}})
            continue
        parts = p.segments if p.segments is not None else [None]
        for seg in parts:
            start, end = (0.0, float(p.duration)) if seg is None else (float(seg.start),
                                                                       float(seg.end))
            src = p if seg is None else seg
            rows.append({"path": str(p.path), "start": start, "end": end, "label": src.label,
                         **{lab: float(src.probabilities[lab]) for lab in labs}})
    head = ["path", "start", "end", "label"] if timeline else ["path", "label", "duration"]
    frame = pd.DataFrame(rows, columns=[*head, *labs])
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)


def write_predictions(predictions: Sequence[FilePrediction], *, format: str = "table",
                      labels: Sequence[str] | None = None, file: TextIO | None = None) -> None:
    """Write ``predictions`` in one of :data:`FORMATS` to ``file`` (default: stdout).

    Raises
    ------
    ConfigError
        An unknown format.
    """
    if format not in FORMATS:
        raise ConfigError(f"unknown output format {format!r}; choose one of "
                          f"{', '.join(FORMATS)}")
    fh = sys.stdout if file is None else file
    if format == "json":
        write_json(predictions, fh, labels=labels)
    elif format == "csv":
        write_csv(predictions, fh, labels=labels)
    else:
        console = Console(file=fh, soft_wrap=True, width=None if fh.isatty() else 200)
        console.print(render_table(predictions, labels=labels))
