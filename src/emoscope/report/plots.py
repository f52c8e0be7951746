"""Exploration plots of a corpus: each function returns a :class:`matplotlib.figure.Figure`.

The figures are built with the object API on the Agg canvas (``Figure`` + ``FigureCanvasAgg``),
never through pyplot, so nothing here changes the caller's backend, opens a window, or leaves a
figure registered in pyplot's global list: a figure is freed when it is dropped. Save one with
:func:`save_figure`.

The manifest-based plots take a manifest (:mod:`emoscope.corpora.base`); the label order is
``df.attrs["labels"]`` unless ``labels`` is given. The duration plots need a ``duration`` column
(seconds). The example plots take :class:`Example` objects (see
:func:`emoscope.report.explore.choose_examples`).

>>> fig = class_counts(manifest)                    # doctest: +SKIP
>>> save_figure(fig, "class_counts.png")            # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from emoscope.errors import ConfigError
from emoscope.sorting import natural_key

__all__ = [
    "GENDER_COLORS",
    "Example",
    "class_counts",
    "duration_histogram",
    "label_colors",
    "label_order",
    "label_speaker_heatmap",
    "save_figure",
    "speaker_counts",
    "spectrogram_grid",
    "waveform_grid",
]

#: Bar colours of the gender values.
GENDER_COLORS: dict[str, str] = {"female": "#d95f02", "male": "#1b9e77", "unknown": "#999999"}
#: Resolution of saved figures (dots per inch).
DPI = 100


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


def _figure(width: float, height: float, *, layout: str | None = "constrained") -> Figure:
    fig = Figure(figsize=(width, height), layout=layout)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = DPI) -> Path:
    """Write ``fig`` as a PNG (parent folders created).

    A figure made here is not registered with pyplot, so there is nothing to close: it is freed
    when the caller drops it. A pyplot-managed figure passed in is closed after saving.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, dpi=dpi, format="png", facecolor="white")
    manager = getattr(fig.canvas, "manager", None)
    if manager is not None:  # created through pyplot: drop it from pyplot's figure list
        import matplotlib.pyplot as plt

        plt.close(fig)
    return p


def label_order(df: pd.DataFrame, labels: Sequence[str] | None = None) -> list[str]:
    """Labels in display order: ``labels``, else ``df.attrs["labels"]``, then any others sorted.

    Only labels present in ``df`` are returned.
    """
    present = set(df["label"]) if "label" in df.columns else set()
    order = list(labels) if labels is not None else list(df.attrs.get("labels", []))
    out = [lab for lab in dict.fromkeys(order) if lab in present]
    return out + sorted(present - set(out), key=str)


def label_colors(labels: Sequence[str]) -> dict[str, str]:
    """One colour per label (tab10, then tab20 for more than ten labels), stable by position."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(labels) <= 10 else "tab20"]
    return {lab: to_hex(cmap(i % cmap.N)) for i, lab in enumerate(labels)}


def _require(df: pd.DataFrame, *columns: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ConfigError(f"the plot needs the column(s) {', '.join(missing)}")
    if df.empty:
        raise ConfigError("nothing to plot: the manifest has no rows")


def _tick_labels(ax, names: Sequence[str], *, axis: str = "x",
                 room: float | None = None) -> None:
    """Set categorical tick labels; x labels are rotated when they would not fit side by side.

    ``room`` is the width in inches available to the axis (default: the figure's width).
    """
    fontsize = 9 if len(names) <= 30 else 7
    ticks = np.arange(len(names))
    text = [str(n) for n in names]
    if axis != "x":
        ax.set_yticks(ticks, text, fontsize=fontsize)
        return
    if room is None:
        room = ax.get_figure().get_figwidth() - 1.2
    longest = max((len(t) for t in text), default=0)
    needed = longest * fontsize * 0.0085 + 0.1  # inches per label, roughly
    if needed * len(text) <= room:
        ax.set_xticks(ticks, text, fontsize=fontsize)
    elif len(text) > 12:
        ax.set_xticks(ticks, text, fontsize=fontsize, rotation=90)
    else:
        ax.set_xticks(ticks, text, fontsize=fontsize, rotation=35, ha="right",
                      rotation_mode="anchor")


def class_counts(df: pd.DataFrame, *, labels: Sequence[str] | None = None) -> Figure:
    """Utterances per label: one bar per label, in label order, with the count above each.

    Returns a Figure with one Axes whose ``patches`` are the bars, in label order.
    """
    _require(df, "label")
    order = label_order(df, labels)
    counts = df["label"].value_counts()
    heights = [int(counts.get(lab, 0)) for lab in order]
    colors = label_colors(order)
    fig = _figure(max(5.0, 0.75 * len(order) + 2), 4.0)
    ax = fig.add_subplot()
    bars = ax.bar(np.arange(len(order)), heights, color=[colors[lab] for lab in order],
                  edgecolor="black", linewidth=0.5)
    ax.bar_label(bars, fontsize=8, padding=2)
    _tick_labels(ax, order)
    ax.set_xlabel("label")
    ax.set_ylabel("utterances")
    ax.set_title(f"Utterances per label ({len(df)} files, {len(order)} labels)")
    ax.set_ylim(0, max(heights) * 1.12 if heights and max(heights) else 1)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    return fig


def speaker_counts(df: pd.DataFrame) -> Figure:
    """Utterances per speaker (bars coloured by gender) and per gender, side by side.

    Returns a Figure with two Axes: speakers (one bar per speaker, sorted by speaker id) and
    genders (one bar per gender present).
    """
    _require(df, "speaker")
    gender = df["gender"].fillna("unknown") if "gender" in df.columns else \
        pd.Series("unknown", index=df.index)
    spk = df["speaker"].astype(str)
    counts = spk.value_counts()
    speakers = sorted(counts.index, key=natural_key)
    spk_gender = (pd.DataFrame({"speaker": spk, "gender": gender})
                  .groupby("speaker")["gender"].agg(lambda s: s.mode().iloc[0]))
    g_counts = gender.value_counts()
    genders = [g for g in GENDER_COLORS if g in g_counts.index]
    genders += sorted(set(g_counts.index) - set(genders))

    spk_w = min(18.0, max(3.0, 0.22 * len(speakers) + 1.0))  # inches of the speaker axes
    gen_w = max(2.4, 0.9 * len(genders) + 0.8)
    width = spk_w + gen_w + 1.6
    fig = _figure(width, 4.2)
    gs = fig.add_gridspec(1, 2, width_ratios=[spk_w, gen_w])
    rooms = [spk_w, gen_w]
    ax = fig.add_subplot(gs[0, 0])
    heights = [int(counts[s]) for s in speakers]
    colors = [GENDER_COLORS.get(spk_gender[s], "#666666") for s in speakers]
    bars = ax.bar(np.arange(len(speakers)), heights, color=colors, edgecolor="black",
                  linewidth=0.5)
    if len(speakers) <= 30:
        ax.bar_label(bars, fontsize=7, padding=2)
    _tick_labels(ax, speakers, room=rooms[0])
    ax.set_xlabel("speaker")
    ax.set_ylabel("utterances")
    ax.set_title(f"Utterances per speaker ({len(speakers)} speakers)")
    ax.set_ylim(0, max(heights) * 1.3)  # headroom for the counts and the legend
    ax.legend(handles=[Patch(color=GENDER_COLORS.get(g, "#666666"), label=g) for g in genders],
              fontsize=8, loc="upper right", ncols=len(genders), framealpha=0.9)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)

    ax2 = fig.add_subplot(gs[0, 1])
    gh = [int(g_counts[g]) for g in genders]
    gbars = ax2.bar(np.arange(len(genders)), gh,
                    color=[GENDER_COLORS.get(g, "#666666") for g in genders],
                    edgecolor="black", linewidth=0.5)
    n_spk = [int(spk_gender.eq(g).sum()) for g in genders]
    ax2.bar_label(gbars, labels=[f"{h}\n({n} spk)" for h, n in zip(gh, n_spk, strict=True)],
                  fontsize=8, padding=2)
    _tick_labels(ax2, genders, room=rooms[1])
    ax2.set_xlabel("gender")
    ax2.set_ylabel("utterances")
    ax2.set_title("Per gender")
    ax2.set_ylim(0, max(gh) * 1.25)
    ax2.grid(axis="y", alpha=0.3)
    ax2.set_axisbelow(True)
    return fig


def duration_histogram(df: pd.DataFrame, *, labels: Sequence[str] | None = None,
                       bins: int | None = None) -> Figure:
    """Distribution of utterance durations: a histogram with the median, and one box per label.

    ``df`` needs a ``duration`` column in seconds (rows where it is missing are left out).
    Returns a Figure with two Axes: the histogram (a dashed vertical line at the median) and
    horizontal box plots per label, in label order.
    """
    _require(df, "duration", "label")
    d = df[df["duration"].notna()]
    if d.empty:
        raise ConfigError("nothing to plot: no file has a duration")
    dur = d["duration"].to_numpy(float)
    order = label_order(d, labels)
    colors = label_colors(order)
    med = float(np.median(dur))

    fig = _figure(11.0, max(4.0, 0.35 * len(order) + 1.8))
    gs = fig.add_gridspec(1, 2, width_ratios=[1.4, 1.0])
    ax = fig.add_subplot(gs[0, 0])
    if bins is None:
        bins = int(np.clip(len(np.histogram_bin_edges(dur, bins="auto")) - 1, 5, 60))
    ax.hist(dur, bins=bins, color="#4c72b0", edgecolor="white", linewidth=0.5)
    ax.axvline(med, color="#c44e52", linestyle="--", linewidth=1.5,
               label=f"median {med:.2f} s")
    ax.legend(fontsize=8)
    ax.set_xlabel("duration (s)")
    ax.set_ylabel("files")
    ax.set_title(f"Durations of {len(dur)} files (total {dur.sum() / 3600:.2f} h)")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)

    ax2 = fig.add_subplot(gs[0, 1], sharex=ax)
    data = [d.loc[d["label"] == lab, "duration"].to_numpy(float) for lab in order]
    box = ax2.boxplot(data, orientation="horizontal", patch_artist=True, widths=0.6,
                      medianprops={"color": "black"},
                      flierprops={"markersize": 2, "alpha": 0.5})
    for patch, lab in zip(box["boxes"], order, strict=True):
        patch.set_facecolor(colors[lab])
        patch.set_alpha(0.8)
    ax2.set_yticks(np.arange(1, len(order) + 1), order, fontsize=9)
    ax2.invert_yaxis()  # first label on top
    ax2.axvline(med, color="#c44e52", linestyle="--", linewidth=1)
    ax2.set_xlabel("duration (s)")
    ax2.set_title("Duration per label")
    ax2.grid(axis="x", alpha=0.3)
    ax2.set_axisbelow(True)
    return fig


def label_speaker_heatmap(df: pd.DataFrame, *, labels: Sequence[str] | None = None) -> Figure:
    """Utterance counts per (speaker, label): speakers as rows and labels as columns (speakers
    as columns when there are more than 40 of them, so that the figure stays readable).

    Cells are annotated with their counts when there are not too many. Returns a Figure with two
    Axes: the heatmap and its colour bar.
    """
    _require(df, "label", "speaker")
    order = label_order(df, labels)
    table = pd.crosstab(df["speaker"].astype(str), df["label"]).reindex(columns=order,
                                                                        fill_value=0)
    speakers = sorted(table.index, key=natural_key)
    values = table.loc[speakers].to_numpy()  # (speakers, labels)
    wide = len(speakers) > 40
    if wide:
        values = values.T
    rows, cols = (order, speakers) if wide else (speakers, order)
    per_col = 0.2 if wide else 0.85
    fig = _figure(min(24.0, max(5.5, per_col * len(cols) + 3.0)),
                  min(16.0, max(3.0, 0.3 * len(rows) + 2.2)))
    ax = fig.add_subplot()
    im = ax.imshow(values, aspect="auto", cmap="viridis", interpolation="nearest",
                   vmin=0, vmax=max(1, int(values.max())))
    if values.size <= 400:
        for (i, j), v in np.ndenumerate(values):
            r, g, b, _ = im.cmap(im.norm(v))
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            ax.text(j, i, str(int(v)), ha="center", va="center", fontsize=8,
                    color="white" if dark else "black")
    _tick_labels(ax, cols, room=fig.get_figwidth() - 2.8)
    _tick_labels(ax, rows, axis="y")
    ax.set_xlabel("speaker" if wide else "label")
    ax.set_ylabel("label" if wide else "speaker")
    ax.set_title("Utterances per speaker and label")
    fig.colorbar(im, ax=ax, label="utterances", shrink=0.9)
    return fig


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
    fig = _figure(min(20.0, 6.0 * ncols), 2.0 * nrows + 0.6, layout=None)
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
    fig = _figure(min(22.0, 6.4 * ncols + 1.0), 2.2 * nrows + 0.6, layout=None)
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

