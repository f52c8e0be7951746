"""Predictions along a long recording in fixed windows, each judged with the bundle's inputs.

The speech timeline (:func:`emoscope.inference.timeline.timeline`) follows the speech found by a
voice-activity detector; a model that also sees the face (audio-visual or video-only bundles)
judges every stretch, so here every window counts: ``window``-second windows start every
``hop`` seconds, each gets the bundle's probabilities from its input pipeline (for audio-visual
bundles the sound track and the face frames, decoded for that window only, so memory stays
bounded), and consecutive windows with the same label merge into one segment.

>>> tl = window_timeline("interview.mp4", Predictor.from_bundle("runs/av/bundle"))  # doctest: +SKIP
>>> [(s.start, s.end, s.label) for s in tl.segments]                               # doctest: +SKIP
[(0.0, 4.5, 'neutral'), (4.5, 9.0, 'angry'), ...]
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from emoscope.errors import AudioError, ConfigError, MediaError, VideoError
from emoscope.inference.timeline import Segment, Timeline

__all__ = ["window_timeline"]


def window_timeline(path: str | os.PathLike[str], predictor: Any, *, window: float = 3.0,
                   hop: float = 1.5) -> Timeline:
    """Label every stretch of a recording with the bundle's prediction of it.

    Parameters
    ----------
    path : str or PathLike
        A file the bundle's inputs read: for bundles that look at the video
        (``predictor.needs_video``) a video file with a sound track (audio-visual) or without
        (video-only).
    predictor : emoscope.inference.Predictor
    window, hop : float
        Window length and step in seconds (``0 < hop <= window``). Window ``k`` covers
        ``[k * hop, k * hop + window)``; its label stands for ``[k * hop, (k + 1) * hop)``
        (the last one to the end of the video).

    Returns
    -------
    Timeline
        Segments in time order covering the whole file; windows that cannot be used (no
        face with ``fallback: skip``, silence) are left out of the segments.

    Raises
    ------
    MediaError
        The file is not readable by the bundle's inputs (a :class:`VideoError` for a file
        that is not a readable video), or does not say how long it is.
    """
    if not 0 < hop <= window:
        raise ConfigError(f"need 0 < hop <= window, got hop={hop}, window={window}")
    inputs = predictor.inputs
    total = inputs.duration(path)
    if total <= 0:
        error = VideoError if inputs.needs_video else AudioError
        raise error("the file does not say how long it is", path=path)
    starts = np.arange(0.0, max(total - window, 0.0) + 1e-9, hop)
    spans: list[tuple[float, float, np.ndarray]] = []
    for k, start in enumerate(starts):
        try:
            x = inputs.from_file(path, offset=float(start),
                                 duration=min(window, total - float(start)))
        except MediaError:
            continue  # a window without a usable face or sound: left out
        probs = predictor.proba_from_features([x])[0]
        end = total if k == len(starts) - 1 else float(start) + hop
        spans.append((float(start), end, probs))
    labels = list(predictor.labels)
    segments: list[Segment] = []
    run: list[tuple[float, float, np.ndarray]] = []
    for span in [*spans, None]:
        same = (span is not None and run and int(np.argmax(span[2])) == int(np.argmax(run[-1][2]))
                and span[0] <= run[-1][1] + 1e-6)
        if run and not same:
            weights = np.array([e - b for b, e, _ in run])
            mean = np.average(np.stack([p for *_, p in run]), axis=0, weights=weights)
            segments.append(Segment(run[0][0], run[-1][1], labels[int(np.argmax(mean))],
                                    {lab: float(v) for lab, v in zip(labels, mean, strict=True)}))
            run = []
        if span is not None:
            run.append(span)
    return Timeline(segments, float(total), labels)
