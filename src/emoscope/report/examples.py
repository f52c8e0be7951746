"""Plots of example files per emotion: waveforms and log-mel spectrograms in a grid.

They take :class:`Example` objects (see :func:`emoscope.report.explore.choose_examples`) and
return a :class:`matplotlib.figure.Figure` (see :mod:`emoscope.report.figures`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from emoscope.errors import ConfigError
from emoscope.report.figures import label_colors, new_figure

__all__ = ["Example", "log_mel", "spectrogram_grid", "waveform_grid"]


@dataclass(frozen=True)
class Example:
    """One decoded example utterance for the waveform and spectrogram plots.

    Attributes
    ----------
    label, id, path : str
    y : np.ndarray [shape=(n,)], float32
        Mono samples (possibly only the first seconds of the file).
    sr : int
        Sample rate of ``y``.
    duration : float
        Length of the whole file in seconds (``y`` may be shorter).
    """

    label: str
    id: str
    path: str
    y: np.ndarray
    sr: int
    duration: float


def _grid_shape(examples: Sequence[Example]) -> tuple[list[str], int, int, list[list[Example]]]:
    if not examples:
        raise ConfigError("no examples to plot")
    groups: dict[str, list[Example]] = {}
    for ex in examples:
        groups.setdefault(ex.label, []).append(ex)
    labels = list(groups)
    per = max(len(g) for g in groups.values())
    if per > 1:  # one row per label, one column per example
        return labels, len(labels), per, [groups[lab] for lab in labels]
    ncols = 1 if len(labels) <= 3 else 2
    nrows = math.ceil(len(labels) / ncols)
    return labels, nrows, ncols, [groups[lab] for lab in labels]


def _example_axes(fig: Figure, examples: Sequence[Example], *, sharey: bool = True,
                  right: float = 0.25) -> list[tuple[object, Example]]:
    """Lay the examples out on a grid (cells left over stay empty); (axes, example) pairs.

    The margins are fixed in inches (``right`` inches free on the right) rather than computed
    by a layout engine, which would cost a second per figure of many subplots.
    """
    _labels, nrows, ncols, groups = _grid_shape(examples)
    width, height = fig.get_size_inches()
    left, top, bottom, gap_h, gap_w = 0.75, 0.75, 0.5, 0.75, 0.75
    axes_h = (height - top - bottom - gap_h * (nrows - 1)) / nrows
    axes_w = (width - left - right - gap_w * (ncols - 1)) / ncols
    gs = fig.add_gridspec(nrows, ncols, left=left / width, right=1 - right / width,
                          top=1 - top / height, bottom=bottom / height,
                          hspace=gap_h / axes_h, wspace=gap_w / axes_w)
    pairs = []
    per_label = ncols if max(len(g) for g in groups) > 1 else 1
    first = None
    for k, group in enumerate(groups):
        for j, ex in enumerate(group):
            row, col = (k, j) if per_label > 1 else divmod(k, ncols)
            ax = fig.add_subplot(gs[row, col], sharex=first, sharey=first if sharey else None)
            first = first or ax
            pairs.append((ax, ex))
    return pairs


def _example_title(ex: Example) -> str:
    ident = ex.id if len(ex.id) <= 40 else ex.id[:37] + "..."
    return f"{ex.label}: {ident} ({ex.duration:.2f} s)"


def waveform_grid(examples: Sequence[Example]) -> Figure:
    """Waveforms of example utterances, one subplot each, titled with label and file id.

    One example per label: a grid of one or two columns in label order. Several per label: one
    row per label. All subplots share the time axis (seconds) and the amplitude scale, so that
    lengths and loudness compare at a glance. Returns a Figure with one Axes per example.
    """
    _labels, nrows, ncols, _ = _grid_shape(examples)
    fig = new_figure(min(20.0, 6.0 * ncols), 2.0 * nrows + 0.6, layout=None)
    peak = max(float(np.max(np.abs(ex.y))) if ex.y.size else 0.0 for ex in examples)
    peak = peak * 1.05 if peak > 0 else 1.0
    colors = label_colors(list(dict.fromkeys(ex.label for ex in examples)))
    for ax, ex in _example_axes(fig, examples):
        t, lo, hi = _envelope(ex.y, ex.sr)
        if hi is None:
            ax.plot(t, lo, color=colors[ex.label], linewidth=0.5)
        else:
            ax.fill_between(t, lo, hi, color=colors[ex.label], linewidth=0.3)
        ax.set_ylim(-peak, peak)
        ax.set_title(_example_title(ex), fontsize=9)
        ax.set_xlabel("time (s)", fontsize=8)
        ax.set_ylabel("amplitude", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle("Waveforms: " + _per_label(examples), fontsize=11,
                 y=1 - 0.12 / fig.get_figheight(), va="top")
    return fig


def _per_label(examples: Sequence[Example]) -> str:
    labels = [ex.label for ex in examples]
    counts = {labels.count(lab) for lab in set(labels)}
    k = max(counts)
    if k == 1:
        return "one example per label"
    return f"{k} examples per label" if len(counts) == 1 else f"up to {k} examples per label"


def _envelope(y: np.ndarray, sr: int, *, points: int = 4000
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(t, y, None)`` for short signals, else ``(t, min, max)`` per block of samples.

    The min/max envelope draws exactly what a full-resolution plot shows, with few points.
    """
    if y.size <= 2 * points:
        return np.arange(y.size) / sr, y, None
    block = math.ceil(y.size / points)
    n = y.size // block * block
    blocks = y[:n].reshape(-1, block)
    t = (np.arange(blocks.shape[0]) * block + block / 2) / sr
    return t, blocks.min(axis=1), blocks.max(axis=1)


def _hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    """HTK mel scale."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=float) / 700.0)


def _mel_to_hz(m: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(m, dtype=float) / 2595.0) - 1.0)


def _mel_filterbank(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Triangular filters evenly spaced in mel from 0 to ``sr / 2``, shape (n_mels, n_fft//2+1)."""
    bins = np.fft.rfftfreq(n_fft, 1.0 / sr)
    edges = _mel_to_hz(np.linspace(0.0, float(_hz_to_mel(sr / 2)), n_mels + 2))
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (bins[None, :] - lo) / np.maximum(mid - lo, 1e-9)
    down = (hi - bins[None, :]) / np.maximum(hi - mid, 1e-9)
    return np.maximum(0.0, np.minimum(up, down))


def log_mel(y: np.ndarray, sr: int, *, n_mels: int = 80, top_db: float = 80.0,
            ) -> tuple[np.ndarray, int]:
    """Log-mel power spectrogram in dB relative to its maximum (range ``[-top_db, 0]``).

    Hann windows of ~25 ms (a power of two samples), centred, hop 10 ms; ``n_mels`` triangular
    bands evenly spaced on the HTK mel scale from 0 Hz to ``sr / 2``. Plain numpy, for display
    only (the features package has the model-facing spectrograms).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    sr : int

    Returns
    -------
    S_db : np.ndarray [shape=(n_mels, frames)], ``frames = 1 + n // hop_length``
    hop_length : int
    """
    n_fft = 2 ** math.ceil(math.log2(max(16.0, 0.025 * sr)))
    hop = max(1, sr // 100)
    x = np.pad(np.asarray(y, dtype=np.float32), n_fft // 2)
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]  # (frames, n_fft)
    window = np.hanning(n_fft + 1)[:-1].astype(np.float32)  # periodic Hann
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2  # (frames, n_fft // 2 + 1)
    mel = _mel_filterbank(sr, n_fft, n_mels) @ power.T  # (n_mels, frames)
    db = 10.0 * np.log10(np.maximum(mel, 1e-10))
    db -= db.max()
    return np.maximum(db, -top_db).astype(np.float32), hop


def _hz_ticks(fmax: float) -> tuple[list[float], list[str]]:
    """Tick positions (mel) and labels (Hz) for a mel-spaced frequency axis."""
    hz = [f for f in (0, 500, 1000, 2000, 4000, 8000, 16000) if f <= fmax]
    labels = [f"{f // 1000}k" if f >= 1000 else str(f) for f in hz]
    return [float(_hz_to_mel(f)) for f in hz], labels


def spectrogram_grid(examples: Sequence[Example], *, n_mels: int = 80,
                     top_db: float = 80.0) -> Figure:
    """Log-mel spectrograms of example utterances (dB re each file's maximum), one per subplot.

    Same layout as :func:`waveform_grid`: time in seconds, frequency in Hz on a mel-spaced axis
    (shared, so files of different sample rates compare), one colour bar for all. Returns a
    Figure with one Axes per example plus the colour bar's.
    """
    _labels, nrows, ncols, _ = _grid_shape(examples)
    fig = new_figure(min(22.0, 6.4 * ncols + 1.0), 2.2 * nrows + 0.6, layout=None)
    image = None
    fmax = max(ex.sr for ex in examples) / 2
    ticks, tick_labels = _hz_ticks(fmax)
    tmax = 0.0
    pairs = _example_axes(fig, examples, right=1.2)
    for ax, ex in pairs:
        S_db, hop = log_mel(ex.y, ex.sr, n_mels=n_mels, top_db=top_db)
        extent = (0.0, S_db.shape[1] * hop / ex.sr, 0.0, float(_hz_to_mel(ex.sr / 2)))
        tmax = max(tmax, extent[1])
        image = ax.imshow(S_db, origin="lower", aspect="auto", extent=extent, cmap="magma",
                          vmin=-top_db, vmax=0.0, interpolation="nearest")
        ax.set_yticks(ticks, tick_labels)
        ax.set_ylim(0.0, float(_hz_to_mel(fmax)))
        ax.set_title(_example_title(ex), fontsize=9)
        ax.set_xlabel("time (s)", fontsize=8)
        ax.set_ylabel("frequency (Hz)", fontsize=8)
        ax.tick_params(labelsize=7)
    pairs[0][0].set_xlim(0.0, tmax)  # shared: each imshow reset it to its own extent
    width, height = fig.get_size_inches()
    cax = fig.add_axes((1 - 0.95 / width, 0.5 / height, 0.15 / width, 1 - 1.25 / height))
    fig.colorbar(image, cax=cax, label="dB re max")
    fig.suptitle("Log-mel spectrograms: " + _per_label(examples), fontsize=11,
                 y=1 - 0.12 / height, va="top")
    return fig
