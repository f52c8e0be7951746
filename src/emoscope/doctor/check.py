"""Check a corpus folder: every file decoded once, problems listed, the corpus described.

>>> report = check_corpus("../shared/data/RAVDESS", corpus="ravdess")   # doctest: +SKIP
>>> report.duplicates                                                   # doctest: +SKIP
[['.../Actor_07/03-01-03-01-02-01-07.flac', '.../Actor_07/03-01-03-01-02-02-07.flac']]
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

import pandas as pd

from emoscope import corpora
from emoscope.doctor.inspect import FileReport, InspectOptions, inspect_file
from emoscope.errors import CorpusError
from emoscope.progress import track

__all__ = ["ERROR_CODES", "DoctorReport", "Problem", "check_corpus", "detect_corpus"]

#: Problem codes that make a file unusable; every other code is a warning.
ERROR_CODES = frozenset({"unreadable", "empty", "truncated"})
#: Corpora that need options to mean anything, so they are never auto-detected.
_NOT_DETECTED = frozenset({"folder", "manifest"})


@dataclass(frozen=True)
class Problem:
    """One finding about one file."""

    path: str
    code: str
    message: str

    @property
    def severity(self) -> str:
        """``"error"`` (the file cannot be used) or ``"warning"``."""
        return "error" if self.code in ERROR_CODES else "warning"

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "code": self.code, "severity": self.severity,
                "message": self.message}


@dataclass
class DoctorReport:
    """Everything ``emoscope doctor`` found.

    Attributes
    ----------
    root : str
    corpus : str or None
        The corpus the files were read as (given, or detected).
    files : list of FileReport
    problems : list of Problem
        Per-file problems, plus ``duplicate``, ``unusual-rate``, ``unusual-channels`` and
        ``naming`` (a file the corpus loader could not place).
    duplicates : list of list of str
        Groups of files holding identical decoded audio.
    manifest : pd.DataFrame or None
        The corpus manifest, when a corpus was given or detected.
    """

    root: str
    corpus: str | None
    files: list[FileReport]
    problems: list[Problem] = field(default_factory=list)
    duplicates: list[list[str]] = field(default_factory=list)
    manifest: pd.DataFrame | None = None
    corpus_error: str | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def summary(self) -> dict[str, Any]:
        """Counts and distributions: files, hours, rates, channels, formats, durations."""
        ok = [f for f in self.files if f.readable]
        durs = [f.duration for f in ok if f.duration is not None]
        return {
            "files": len(self.files),
            "readable": len(ok),
            "unreadable": len(self.files) - len(ok),
            "hours": round(sum(durs) / 3600, 4),
            "duration_s": {"min": round(min(durs), 3), "median": round(median(durs), 3),
                           "max": round(max(durs), 3)} if durs else None,
            "sample_rates": dict(sorted(Counter(f.sample_rate for f in ok).items())),
            "channels": dict(sorted(Counter(f.channels for f in ok).items())),
            "formats": dict(sorted(Counter(f.format or "?" for f in ok).items())),
            "problems": dict(sorted(Counter(p.code for p in self.problems).items())),
        }

    def counts(self) -> dict[str, Any] | None:
        """Label, speaker and gender counts from the manifest (``None`` without a corpus)."""
        m = self.manifest
        if m is None:
            return None

        def vc(col: str) -> dict[str, int]:
            return {str(k): int(v) for k, v in m[col].value_counts().sort_index().items()}

        return {
            "utterances": len(m),
            "labels": vc("label"),
            "speakers": vc("speaker"),
            "genders": vc("gender"),
            "label_by_speaker": {
                str(spk): {str(lab): int(n) for lab, n in row.items()}
                for spk, row in pd.crosstab(m["speaker"], m["label"]).iterrows()
            },
        }

    def to_dict(self) -> dict[str, Any]:
        """The whole report, JSON-ready."""
        return {
            "root": self.root,
            "corpus": self.corpus,
            "corpus_error": self.corpus_error,
            "summary": self.summary(),
            "counts": self.counts(),
            "duplicates": self.duplicates,
            "problems": [p.to_dict() for p in self.problems],
            "files": [f.to_dict() for f in self.files],
        }


def detect_corpus(root: str | os.PathLike[str]) -> tuple[str, pd.DataFrame] | None:
    """Guess which registered corpus a folder holds: the loader that places the most files.

    Returns ``(name, manifest)`` or ``None`` when no loader places at least half of the media
    files.
    """
    n_media = sum(1 for _ in corpora.find_media_files(root))
    best: tuple[str, pd.DataFrame] | None = None
    for name in corpora.available():
        if name in _NOT_DETECTED:
            continue
        try:
            df = corpora.load(name, root)
        except Exception:
            continue
        if best is None or len(df) > len(best[1]):
            best = (name, df)
    if best is None or len(best[1]) * 2 < n_media:
        return None
    return best


def _majority_checks(files: Iterable[FileReport]) -> list[Problem]:
    ok = [f for f in files if f.readable]
    if not ok:
        return []
    out = []
    rate = Counter(f.sample_rate for f in ok).most_common(1)[0][0]
    chans = Counter(f.channels for f in ok).most_common(1)[0][0]
    for f in ok:
        if f.sample_rate != rate:
            out.append(Problem(f.path, "unusual-rate",
                               f"{f.sample_rate} Hz (most files: {rate} Hz)"))
        elif f.sample_rate is not None and f.sample_rate < 16000:
            out.append(Problem(f.path, "unusual-rate", f"{f.sample_rate} Hz is below 16 kHz"))
        if f.channels != chans:
            out.append(Problem(f.path, "unusual-channels",
                               f"{f.channels} channels (most files: {chans})"))
        elif f.channels is not None and f.channels > 2:
            out.append(Problem(f.path, "unusual-channels", f"{f.channels} channels"))
    return out


def check_corpus(
    root: str | os.PathLike[str],
    *,
    corpus: str | None = None,
    options: InspectOptions | None = None,
    workers: int | None = None,
    progress: bool = True,
    corpus_options: dict[str, Any] | None = None,
) -> DoctorReport:
    """Decode every media file under ``root`` once and report what is wrong and what is there.

    Parameters
    ----------
    root : str or PathLike
        A corpus folder.
    corpus : str, optional
        Read the folder as this registered corpus (label/speaker counts, naming problems);
        detected when ``None`` (see :func:`detect_corpus`).
    options : InspectOptions, optional
        Thresholds of the per-file checks.
    workers : int, optional
        Decoding threads (default: the number of CPUs).
    progress : bool
        Draw a progress bar on stderr.
    corpus_options : dict, optional
        Passed to the corpus loader.

    Raises
    ------
    CorpusError
        ``root`` is not a folder, or holds no media files.
    """
    base = Path(root)
    paths = list(corpora.find_media_files(base))
    if not paths:
        raise CorpusError(f"{base}: no audio or video files found")
    manifest, corpus_error = None, None
    if corpus is not None:
        name = corpora.CORPORA.canonical(corpus)
        try:
            manifest = corpora.load(name, base, **(corpus_options or {}))
        except CorpusError as exc:
            corpus_error = str(exc)
    else:
        found = detect_corpus(base)
        name = None
        if found is not None:
            name, manifest = found

    opt = options or InspectOptions()
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        reports = list(track(pool.map(lambda p: inspect_file(p, opt), paths), total=len(paths),
                             description="checking", enabled=progress))

    problems = [Problem(r.path, c, m) for r in reports for c, m in r.problems]
    problems += _majority_checks(reports)

    groups: dict[str, list[str]] = defaultdict(list)
    for r in reports:
        if r.content_hash is not None:
            groups[r.content_hash].append(r.path)
    duplicates = [sorted(g) for g in groups.values() if len(g) > 1]
    duplicates.sort()
    for g in duplicates:
        for path in g:
            others = ", ".join(Path(o).name for o in g if o != path)
            problems.append(Problem(path, "duplicate", f"same audio as {others}"))

    if manifest is not None:
        for path, reason in manifest.attrs.get("skipped", []):
            problems.append(Problem(str(path), "naming", reason))
    problems.sort(key=lambda p: (p.severity != "error", p.path, p.code))
    return DoctorReport(str(base.resolve()), name, reports, problems, duplicates, manifest,
                        corpus_error)
