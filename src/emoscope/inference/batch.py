"""Predict many files at once: find them, decode each, batch the model, skip the bad ones.

>>> from emoscope.inference import Predictor
>>> from emoscope.inference.batch import find_audio_files, predict_files
>>> p = Predictor.from_bundle()                                      # doctest: +SKIP
>>> result = predict_files(p, find_audio_files(["clips/"]))          # doctest: +SKIP
>>> result.predictions[0].label, result.skipped                      # doctest: +SKIP
('angry', [(PosixPath('clips/broken.wav'), 'not a readable audio or video file ...')])

Memory stays bounded however many files there are: each file is decoded, turned into the
bundle's features and its waveform dropped; only up to ``batch_size`` feature arrays wait for
the model at a time.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from emoscope.audio.formats import MEDIA_EXTENSIONS
from emoscope.errors import ConfigError, MediaError
from emoscope.inference.predictor import DEFAULT_MAX_DURATION
from emoscope.progress import track
from emoscope.sorting import natural_key

if TYPE_CHECKING:
    from emoscope.inference.predictor import Predictor

__all__ = [
    "BatchResult",
    "FilePrediction",
    "SegmentLike",
    "find_audio_files",
    "predict_files",
    "predict_timelines",
]

PathLike = str | os.PathLike[str]

#: Appended to the reason a file is too long for a whole-file prediction.


class SegmentLike(Protocol):
    """What a timeline segment offers (see ``emoscope.inference.timeline.Segment``)."""

    @property
    def start(self) -> float: ...

    @property
    def end(self) -> float: ...

    @property
    def label(self) -> str: ...

    @property
    def probabilities(self) -> dict[str, float]: ...


@dataclass(frozen=True)
class FilePrediction:
    """One file's result.

    Attributes
    ----------
    path : Path
    label : str
        The most probable label.
    probabilities : dict of str to float
        Every label's probability, in the bundle's label order; they sum to 1.
    duration : float
        Seconds of decoded audio.
    segments : list of SegmentLike, optional
        The timeline of the file (``--timeline``), ``None`` for a whole-file prediction.
    """

    path: Path
    label: str
    probabilities: dict[str, float]
    duration: float
    segments: list[SegmentLike] | None = None


@dataclass
class BatchResult:
    """Predictions of the files that worked and ``(path, reason)`` of those that did not."""

    predictions: list[FilePrediction] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def _tree_key(path: Path, root: Path) -> list[tuple[str | int, ...]]:
    return [natural_key(part) for part in path.relative_to(root).parts]


def _walk(root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found.extend(Path(dirpath) / name for name in filenames
                     if not name.startswith(".")
                     and Path(name).suffix.lower() in MEDIA_EXTENSIONS)
    return sorted(found, key=lambda p: _tree_key(p, root))


def find_audio_files(paths: Iterable[PathLike]) -> list[Path]:
    """The files to predict, in the order given, folders expanded.

    Parameters
    ----------
    paths : iterable of path
        Files are kept whatever their extension (and also when missing, so that the batch
        reports them); folders are walked recursively, keeping files with a known audio or
        video extension, skipping hidden files and folders, in natural order
        (``clip2`` before ``clip10``).

    Returns
    -------
    list of Path
        Each file once, first occurrence first.
    """
    out: list[Path] = []
    seen: set[str] = set()
    for given in paths:
        p = Path(given)
        for f in _walk(p) if p.is_dir() else [p]:
            key = os.path.realpath(f)
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


def _file_features(predictor: Predictor, path: Path, *,
                   max_duration: float | None) -> tuple[np.ndarray, float]:
    """Decode ``path`` and return its bundle features and duration in seconds."""
    return predictor.load_features(path, max_duration=max_duration)


def predict_files(predictor: Predictor, paths: Sequence[PathLike], *, batch_size: int = 16,
                  max_duration: float | None = DEFAULT_MAX_DURATION,
                  progress: bool = True) -> BatchResult:
    """Predict every file of ``paths``; the ones that cannot be used are skipped with a reason.

    Parameters
    ----------
    predictor : Predictor
    paths : sequence of path
        Files (see :func:`find_audio_files` to expand folders).
    batch_size : int
        Feature arrays per model forward pass.
    max_duration : float, optional
        Longer files are skipped (their reason suggests a timeline); ``None``: no limit.
    progress : bool
        Draw a progress bar (files done, rate, time left) on stderr when it is a terminal.

    Returns
    -------
    BatchResult
        ``predictions`` in the order of ``paths``; ``skipped`` holds corrupt, empty, silent,
        non-audio, too long and too short files with the reason.
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
    result = BatchResult()
    pending: list[tuple[Path, np.ndarray, float]] = []

    def flush() -> None:
        probs = predictor.proba_from_features([f for _, f, _ in pending])  # (n, n_labels)
        for (path, _, duration), row in zip(pending, probs, strict=True):
            pred = predictor.prediction(row)
            result.predictions.append(
                FilePrediction(path, pred.label, pred.probabilities, duration))
        pending.clear()

    for given in track(paths, total=len(paths), description="predicting", unit="files",
                       enabled=progress):
        path = Path(given)
        try:
            feats, duration = _file_features(predictor, path, max_duration=max_duration)
        except MediaError as exc:
            result.skipped.append((path, exc.reason))
            continue
        pending.append((path, feats, duration))
        if len(pending) >= batch_size:
            flush()
    if pending:
        flush()
    return result


def predict_timelines(predictor: Predictor, paths: Sequence[PathLike], *,
                      progress: bool = True) -> BatchResult:
    """An emotion timeline of every file (:func:`emoscope.inference.timeline.timeline`).

    Each :class:`FilePrediction` carries the file's ``segments``; its ``label`` and
    ``probabilities`` are the timeline's (the mean over the speech, weighted by segment
    duration) and ``duration`` the recording's length. Files without speech are skipped.

    Raises
    ------
    ConfigError
        The timeline module is not part of this emoscope.
    """
    try:
        from emoscope.inference.timeline import timeline
    except ModuleNotFoundError as exc:
        if exc.name != "emoscope.inference.timeline":
            raise
        raise ConfigError("timeline is not available in this emoscope") from None
    if getattr(predictor, "needs_video", False):  # fused predictions along a video
        from emoscope.inference.windows import window_timeline as timeline
    result = BatchResult()
    for given in track(paths, total=len(paths), description="timelines", unit="files",
                       enabled=progress):
        path = Path(given)
        try:
            tl = timeline(path, predictor)
        except MediaError as exc:
            result.skipped.append((path, exc.reason))
            continue
        if not tl.segments or tl.label is None:
            result.skipped.append((path, "no speech found"))
            continue
        probs = {lab: float(tl.probabilities[lab]) for lab in predictor.labels}
        result.predictions.append(FilePrediction(path, tl.label, probs, float(tl.duration),
                                                 list(tl.segments)))
    return result
