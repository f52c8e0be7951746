"""Audio-visual experiments: face frames paired with the audio features, and the face report.

:func:`emoscope.train.experiment.run_experiment` calls :func:`video_inputs` after extracting
the config's (audio) features. With a ``video`` section the face frames are extracted too
(cached like every feature) and paired with the audio features by manifest id, so that the
trainer sees items ``(spectrogram image, face frames)``; a clip missing either side is
skipped and listed with its reason. Whenever face frames are used (a ``video`` section, or a
video-only config whose ``features`` are ``face-frames``), ``faces.csv`` tells for every clip
how many of its sampled frames had a detected face.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from emoscope import features
from emoscope.errors import ConfigError

__all__ = ["PairedFeatures", "image_part_transform", "video_inputs", "write_face_report"]


@dataclass
class PairedFeatures(Mapping[str, tuple[np.ndarray, ...]]):
    """Several feature sets of one manifest, read together: id -> (array of each set).

    Only ids present in every set are items; the first set's extractor is the bundle's
    ``features`` (the audio side).

    Attributes
    ----------
    parts : tuple of FeatureSet
    failed : list of (str, str)
        ``(path, reason)`` of every item missing from some set.
    """

    parts: tuple[features.FeatureSet, ...]
    failed: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.parts) < 2:
            raise ConfigError("PairedFeatures needs at least two feature sets")
        self._ids = [i for i in self.parts[0] if all(i in p for p in self.parts[1:])]
        self._set = set(self._ids)

    @property
    def kind(self) -> str:
        """The parts' kinds joined by ``+`` (``"image+video"``)."""
        return "+".join(p.kind for p in self.parts)

    @property
    def extractor(self) -> features.FeatureExtractor:
        """The first part's extractor (the audio feature)."""
        return self.parts[0].extractor

    def __getitem__(self, item_id: str) -> tuple[np.ndarray, ...]:
        if item_id not in self._set:
            raise KeyError(item_id)
        return tuple(p[item_id] for p in self.parts)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._set

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


def image_part_transform(transform: Any, index: int = 0) -> Any:
    """Wrap an item transform ``(x, rng) -> x`` so that it changes only part ``index`` of tuple
    items (the spectrogram image's crop and rotation in an audio-visual experiment)."""

    def apply(x: tuple[np.ndarray, ...], rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        return (*x[:index], transform(x[index], rng), *x[index + 1:])

    return apply


def write_face_report(path: str | os.PathLike[str], rows: pd.DataFrame,
                      extractor: features.FeatureExtractor, *,
                      cache: str | os.PathLike[str] | features.FeatureCache | None = None,
                      progress: bool = False, workers: int = 1) -> pd.DataFrame:
    """Write ``faces.csv``: per clip, how many sampled frames showed a detected face.

    The ``face-track`` feature with the detection options of ``extractor`` (a ``face-frames``
    extractor) is extracted (and cached) for ``rows``, with the centre fallback so that every
    readable clip gets a line.

    Returns
    -------
    pd.DataFrame
        Columns ``id, video_path, frames, detected, no_face`` (``no_face``: not one frame had
        a face; such clips got the centre crop or were skipped, as the config says).
    """
    c = extractor.config.to_dict()
    track_options = {k: v for k, v in c.items()
                     if k in features.FEATURES.get("face-track").Config.__dataclass_fields__}
    track = features.create("face-track", **{**track_options, "fallback": "centre"})
    fs = features.extract_features(rows, track, cache=cache, progress=progress,
                                   workers=workers)
    paths = dict(zip(rows["id"].astype(str), rows.get("video_path", rows["path"]),
                     strict=True))
    lines = []
    for i in fs:
        t = fs[i]  # (n_frames, 6): x, y, w, h, detected, shown
        lines.append({"id": i, "video_path": paths.get(i), "frames": int(t[:, 5].sum()),
                      "detected": int(t[:, 4].sum()), "no_face": bool(t[:, 4].sum() == 0)})
    table = pd.DataFrame(lines, columns=["id", "video_path", "frames", "detected", "no_face"])
    table.to_csv(path, index=False)
    return table


def video_inputs(cfg: Any, rows: pd.DataFrame, fs: features.FeatureSet, *,
                 cache: str | os.PathLike[str] | None, progress: bool, run_dir: Path
                 ) -> features.FeatureSet | PairedFeatures:
    """The items an experiment trains on: ``fs`` itself, or with a ``video`` section ``fs``
    paired with the face frames of ``rows``; writes ``faces.csv`` when faces are used.

    Raises
    ------
    ConfigError
        No clip has both sides.
    """
    av = cfg.video
    if av is None:
        if fs.extractor.input_column == "video_path":  # a video-only config
            write_face_report(run_dir / "faces.csv", rows, fs.extractor, cache=cache,
                              progress=progress, workers=cfg.train.feature_workers)
        return fs
    video = features.create(av.features)
    vfs = features.extract_features(rows, video, cache=cache,
                                    workers=cfg.train.feature_workers, progress=progress)
    if av.face_report:
        write_face_report(run_dir / "faces.csv", rows, video, cache=cache, progress=progress,
                          workers=cfg.train.feature_workers)
    # every row is either extracted or failed in each set: the failures cover the unpaired
    paired = PairedFeatures((fs, vfs), list(fs.failed) + list(vfs.failed))
    if not len(paired):
        raise ConfigError("no clip has both its audio features and its face frames; nothing to "
                          "train on (see the skipped files)")
    return paired
