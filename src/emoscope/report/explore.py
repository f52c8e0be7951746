"""Explore a corpus: counts, durations, examples, written as PNGs and one HTML page.

The exploration every study starts with (the TESS study's first notebook), for any corpus::

    >>> from emoscope.report import explore
    >>> result = explore("../shared/data/TESS", out_dir="explore_tess")   # doctest: +SKIP
    >>> result.html                                                       # doctest: +SKIP
    PosixPath('explore_tess/report.html')

Memory stays bounded however large the corpus: durations come from the file headers (read in
parallel threads), and only the few example files are decoded (at most
:data:`EXAMPLE_SECONDS` of each).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import emoscope.report.plots as plots
from emoscope import corpora
from emoscope.audio.io import audio_info, load_audio
from emoscope.errors import ConfigError, CorpusError
from emoscope.progress import track
from emoscope.report.html import ReportFigure, write_report
from emoscope.sorting import natural_key

__all__ = [
    "EXAMPLE_SECONDS",
    "ExploreResult",
    "choose_examples",
    "explore",
    "label_by_speaker",
    "load_examples",
    "measure_durations",
    "summarize",
]

#: At most this many seconds of each example file are decoded and plotted.
EXAMPLE_SECONDS = 10.0
#: How many candidates per example slot are tried when an example file fails to decode.
_DECODE_TRIES = 5


@dataclass
class ExploreResult:
    """What :func:`explore` wrote and found.

    Attributes
    ----------
    html : Path
        ``<out_dir>/report.html``.
    figures : dict of str to Path
        Every PNG written, by name (``class_counts``, ``speakers``, ``durations``,
        ``label_by_speaker``, ``waveforms``, ``spectrograms``), in the report's order.
    summary : dict
        JSON-ready numbers (see :func:`summarize`).
    bad_files : list of (path, reason)
        Manifest files whose header could not be read; left out of every count and plot.
    skipped : list of (path, reason)
        Media files under the root that the corpus loader did not place (naming scheme).
    examples : list of dict
        The files shown in the waveform and spectrogram plots (``label, id, path, duration``).
    manifest : pd.DataFrame
        The readable rows, with ``duration`` (s), ``sample_rate`` and ``channels`` columns.
    notes : list of str
        Anything else worth knowing (e.g. an example that failed to decode).
    seconds : float
        Wall time of the exploration.
    """

    html: Path
    figures: dict[str, Path]
    summary: dict[str, Any]
    bad_files: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    manifest: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def pngs(self) -> list[Path]:
        """Every PNG written."""
        return list(self.figures.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: paths as strings, without the manifest."""
        return {
            "html": str(self.html),
            "figures": {k: str(v) for k, v in self.figures.items()},
            "summary": self.summary,
            "bad_files": [list(b) for b in self.bad_files],
            "skipped": [list(s) for s in self.skipped],
            "examples": self.examples,
            "notes": self.notes,
            "seconds": round(self.seconds, 3),
        }


def _header(path: str) -> tuple[float, int, int, str] | str:
    """``(duration, sample_rate, channels, format)`` from the header, or the reason it failed."""
    try:
        info = audio_info(path)
    except Exception as exc:  # any failure skips the file; the reason goes into the report
        return str(getattr(exc, "reason", None) or exc) or type(exc).__name__
    if not info.duration > 0:
        return "no audio samples (0 s)"
    return info.duration, info.sample_rate, info.channels, info.format


def measure_durations(
    df: pd.DataFrame, *, workers: int | None = None, progress: bool = True
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Read every file's header in parallel threads (nothing is decoded).

    Parameters
    ----------
    df : pd.DataFrame
        A manifest.
    workers : int, optional
        Threads (default: the number of CPUs).
    progress : bool
        Draw a progress bar on stderr.

    Returns
    -------
    readable : pd.DataFrame
        The rows whose header could be read, with columns ``duration`` (s), ``sample_rate``,
        ``channels`` and ``format`` (replacing any of the same name); ``attrs`` kept.
    bad : list of (path, reason)
        The other rows' files, in manifest order.
    """
    if workers is not None and workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    paths = [str(p) for p in df["path"]]
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(paths) or 1))
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        results = list(track(pool.map(_header, paths), total=len(paths),
                             description="reading headers", enabled=progress))
    ok = [not isinstance(r, str) for r in results]
    bad = [(p, r) for p, r in zip(paths, results, strict=True) if isinstance(r, str)]
    good = [r for r in results if not isinstance(r, str)]
    out = df.loc[ok].reset_index(drop=True)
    out["duration"] = pd.Series([g[0] for g in good], dtype=float)
    out["sample_rate"] = pd.Series([g[1] for g in good], dtype="int64")
    out["channels"] = pd.Series([g[2] for g in good], dtype="int64")
    out["format"] = pd.Series([g[3] for g in good], dtype=object)
    out.attrs = dict(df.attrs)
    return out, bad


def label_by_speaker(df: pd.DataFrame) -> pd.DataFrame:
    """Counts per speaker (rows, natural order) and label (columns, label order), plus ``gender``
    (each speaker's most frequent gender value) as the first column."""
    labels = plots.label_order(df)
    table = pd.crosstab(df["speaker"].astype(str), df["label"]).reindex(columns=labels,
                                                                        fill_value=0)
    table = table.loc[sorted(table.index, key=natural_key)]
    table.columns = [str(c) for c in table.columns]
    table.index.name = "speaker"
    if "gender" in df.columns:
        g = (df.assign(speaker=df["speaker"].astype(str), gender=df["gender"].fillna("unknown"))
             .groupby("speaker")["gender"].agg(lambda s: s.mode().iloc[0]))
        table.insert(0, "gender", g.reindex(table.index).to_numpy())
    return table


def _counts(s: pd.Series) -> dict[Any, int]:
    return {(k.item() if isinstance(k, np.generic) else k): int(v)
            for k, v in sorted(Counter(s).items(), key=lambda kv: str(kv[0]))}


def summarize(df: pd.DataFrame, *, bad_files: int = 0, not_placed: int = 0,
              root: str | None = None) -> dict[str, Any]:
    """The numbers at the top of the report, JSON-ready.

    ``df`` is a measured manifest (see :func:`measure_durations`). Keys: ``corpus``, ``root``,
    ``files``, ``unreadable``, ``not_placed``, ``speakers``, ``speakers_by_gender``, ``genders``,
    ``labels`` (in order), ``label_counts``, ``total_hours``, ``duration_s`` (``min``,
    ``median``, ``mean``, ``max``), ``sample_rates``, ``channels``, ``formats``,
    ``label_by_speaker`` (speaker -> label -> count).
    """
    labels = plots.label_order(df)
    dur = df["duration"].to_numpy(float) if "duration" in df.columns else np.array([])
    table = label_by_speaker(df) if len(df) else pd.DataFrame()
    spk_gender = table["gender"] if "gender" in table.columns else pd.Series(dtype=object)
    return {
        "corpus": str(df.attrs.get("corpus") or (df["corpus"].iloc[0] if len(df) else "")),
        "root": str(root if root is not None else df.attrs.get("root", "")),
        "files": len(df),
        "unreadable": int(bad_files),
        "not_placed": int(not_placed),
        "speakers": int(df["speaker"].nunique()),
        "speakers_by_gender": _counts(spk_gender),
        "genders": _counts(df["gender"].fillna("unknown")) if "gender" in df.columns else {},
        "labels": [str(lab) for lab in labels],
        "label_counts": {str(lab): int((df["label"] == lab).sum()) for lab in labels},
        "total_hours": round(float(dur.sum()) / 3600, 4),
        "duration_s": {
            "min": round(float(dur.min()), 3), "median": round(float(np.median(dur)), 3),
            "mean": round(float(dur.mean()), 3), "max": round(float(dur.max()), 3),
        } if dur.size else None,
        "sample_rates": _counts(df["sample_rate"]) if "sample_rate" in df.columns else {},
        "channels": _counts(df["channels"]) if "channels" in df.columns else {},
        "formats": _counts(df["format"]) if "format" in df.columns else {},
        "label_by_speaker": {
            str(spk): {str(lab): int(n) for lab, n in row.items() if lab != "gender"}
            for spk, row in table.iterrows()
        },
    }


def choose_examples(df: pd.DataFrame, *, per_label: int = 1) -> dict[str, list[int]]:
    """Candidate rows for the example plots, deterministically: per label, the rows ordered by
    distance of their duration to the label's median duration (ties by id).

    Returns label -> row positions (all of the label's rows, best first), in label order; the
    first ``per_label`` that decode are shown (see :func:`load_examples`).
    """
    if per_label < 1:
        raise ConfigError(f"per_label must be at least 1, got {per_label}")
    if "duration" not in df.columns:
        raise ConfigError("choose_examples needs a duration column (see measure_durations)")
    out: dict[str, list[int]] = {}
    for lab in plots.label_order(df):
        sub = df[df["label"] == lab]
        dist = (sub["duration"] - sub["duration"].median()).abs()
        order = pd.DataFrame({"dist": dist, "id": sub["id"].astype(str)}).sort_values(
            ["dist", "id"], kind="stable")
        out[lab] = [int(i) for i in order.index]
    return out


def load_examples(
    df: pd.DataFrame, *, per_label: int = 1, max_seconds: float = EXAMPLE_SECONDS
) -> tuple[list[plots.Example], list[str]]:
    """Decode up to ``per_label`` example files per label (the first ``max_seconds`` of each).

    Candidates come from :func:`choose_examples`; one that fails to decode is replaced by the
    next (up to a few tries per slot). Returns the examples, in label order, and notes about
    files that failed.
    """
    examples: list[plots.Example] = []
    notes: list[str] = []
    for lab, rows in choose_examples(df, per_label=per_label).items():
        got, tries = 0, 0
        for i in rows:
            if got == per_label or tries >= per_label * _DECODE_TRIES:
                break
            row = df.loc[i]
            tries += 1
            try:
                y, sr = load_audio(row["path"], duration=max_seconds)
            except Exception as exc:  # a corrupt body behind a good header: try the next file
                notes.append(f"example {row['id']} ({lab}) could not be decoded: "
                             f"{getattr(exc, 'reason', None) or exc}")
                continue
            examples.append(plots.Example(label=str(lab), id=str(row["id"]),
                                          path=str(row["path"]), y=y, sr=int(sr),
                                          duration=float(row["duration"])))
            got += 1
    return examples, notes


def _load_manifest(root: str | os.PathLike[str], corpus: str | None,
                   options: Mapping[str, Any] | None) -> pd.DataFrame:
    if corpus is not None:
        return corpora.load(corpus, root, **dict(options or {}))
    from emoscope.doctor.check import detect_corpus

    found = detect_corpus(root)
    if found is None:
        raise CorpusError(f"{root}: no known corpus recognised; name it with corpus= "
                          f"(one of {', '.join(corpora.available())})")
    name, df = found
    return corpora.load(name, root, **dict(options)) if options else df


def _captions(summary: dict[str, Any], df: pd.DataFrame, per_label: int) -> dict[str, str]:
    counts = summary["label_counts"]
    big = max(counts, key=counts.get)
    small = min(counts, key=counts.get)
    ratio = counts[big] / max(1, counts[small])
    d = summary["duration_s"]
    short = int((df["duration"] < 1.0).sum())
    long_ = int((df["duration"] > 20.0).sum())
    n_spk = summary["speakers"]
    genders = ", ".join(f"{v} {k}" for k, v in summary["speakers_by_gender"].items())
    which = "the file closest to its label's median duration" if per_label == 1 else \
        f"the {per_label} files closest to their label's median duration"
    return {
        "class_counts": (f"Utterances per label, in the corpus's label order. Largest: {big} "
                         f"({counts[big]}); smallest: {small} ({counts[small]}); ratio "
                         f"{ratio:.2f}" + ("" if ratio < 1.5 else " (imbalanced: prefer "
                                           "balanced accuracy or macro-F1)") + "."),
        "speakers": (f"Left: utterances per speaker, coloured by gender ({n_spk} speakers: "
                     f"{genders}). Right: utterances per gender, with the number of speakers."),
        "durations": (f"Left: histogram of file durations (header lengths), dashed line at the "
                      f"median {d['median']:.2f} s; range {d['min']:.2f}–{d['max']:.2f} s; "
                      f"{short} file(s) shorter than 1 s, {long_} longer than 20 s. Right: "
                      f"duration per label (box: quartiles, whiskers: 1.5 IQR)."),
        "label_by_speaker": ("Utterances per speaker (rows) and label (columns). Empty cells "
                             "limit which speaker-independent splits can be balanced."),
        "waveforms": (f"Waveforms of {which}, per label; shared time and amplitude axes "
                      f"(at most the first {EXAMPLE_SECONDS:g} s)."),
        "spectrograms": ("Log-mel spectrograms (80 bands, 25 ms windows, 10 ms hop; dB "
                         "relative to each file's maximum) of the same files as the "
                         "waveforms."),
    }


_TITLES = {
    "class_counts": "Class counts",
    "speakers": "Speakers and gender",
    "durations": "Durations",
    "label_by_speaker": "Labels by speaker",
    "waveforms": "Example waveforms",
    "spectrograms": "Example spectrograms",
}


def explore(
    root: str | os.PathLike[str],
    *,
    corpus: str | None = None,
    out_dir: str | os.PathLike[str],
    workers: int | None = None,
    progress: bool = True,
    max_examples_per_label: int = 1,
    corpus_options: Mapping[str, Any] | None = None,
) -> ExploreResult:
    """Describe a corpus in plots and one HTML page.

    Loads the manifest, reads every file's duration from its header (threads; unreadable files
    are listed and left out, never fatal), draws class counts, speaker and gender counts, the
    duration distribution, a label-by-speaker heatmap, and waveforms and log-mel spectrograms of
    example files, and writes them as PNGs beside ``report.html`` in ``out_dir``.

    Parameters
    ----------
    root : str or PathLike
        The corpus folder (for ``corpus="manifest"``, the manifest file).
    corpus : str, optional
        A registered corpus name; detected when ``None``
        (:func:`emoscope.doctor.check.detect_corpus`).
    out_dir : str or PathLike
        Created if needed; existing files of the same names are replaced.
    workers : int, optional
        Header-reading threads (default: the number of CPUs).
    progress : bool
        Draw a progress bar on stderr.
    max_examples_per_label : int
        Example files per label in the waveform and spectrogram plots (the ones closest to the
        label's median duration).
    corpus_options : mapping, optional
        Passed to the corpus loader.

    Returns
    -------
    ExploreResult

    Raises
    ------
    CorpusError
        ``root`` is missing, holds no media, or no corpus is recognised (``corpus=None``) or
        the named corpus's loader finds nothing.
    ConfigError
        Bad options (``max_examples_per_label`` < 1, ``workers`` < 1, unknown corpus name).
    """
    t0 = time.perf_counter()
    if not isinstance(max_examples_per_label, int) or max_examples_per_label < 1:
        raise ConfigError(f"max_examples_per_label must be a positive integer, "
                          f"got {max_examples_per_label!r}")
    manifest = _load_manifest(root, corpus, corpus_options)
    skipped = [(str(p), str(r)) for p, r in manifest.attrs.get("skipped", [])]
    df, bad = measure_durations(manifest, workers=workers, progress=progress)
    summary = summarize(df, bad_files=len(bad), not_placed=len(skipped))

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Path] = {}
    report_figures: list[ReportFigure] = []
    examples: list[plots.Example] = []
    notes: list[str] = []
    table = None
    if len(df):
        table = label_by_speaker(df)
        examples, notes = load_examples(df, per_label=max_examples_per_label)
        captions = _captions(summary, df, max_examples_per_label)
        makers = {
            "class_counts": lambda: plots.class_counts(df),
            "speakers": lambda: plots.speaker_counts(df),
            "durations": lambda: plots.duration_histogram(df),
            "label_by_speaker": lambda: plots.label_speaker_heatmap(df),
            "waveforms": lambda: plots.waveform_grid(examples),
            "spectrograms": lambda: plots.spectrogram_grid(examples),
        }
        for name, make in makers.items():
            if name in ("waveforms", "spectrograms") and not examples:
                continue
            figures[name] = plots.save_figure(make(), out / f"{name}.png")
            report_figures.append(ReportFigure(f"{name}.png", _TITLES[name], captions[name]))
    else:
        notes.append("no file could be read, so there is nothing to plot")
    if df.attrs.get("corpus") == "iemocap" or {"start", "end"} <= set(df.columns):
        notes.append("durations are those of the audio files; start/end columns were not used")

    example_rows = [{"label": ex.label, "id": ex.id, "path": ex.path,
                     "duration": round(ex.duration, 3)} for ex in examples]
    html = write_report(
        out / "report.html",
        summary=summary,
        figures=report_figures,
        label_by_speaker=table,
        examples=example_rows,
        bad_files=bad,
        skipped=skipped,
        notes=notes,
    )
    return ExploreResult(html=html, figures=figures, summary=summary, bad_files=bad,
                         skipped=skipped, examples=example_rows, manifest=df, notes=notes,
                         seconds=time.perf_counter() - t0)
