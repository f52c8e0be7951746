"""Exploration plots of a corpus: each function returns a :class:`matplotlib.figure.Figure`.

The figures are built with the object API on the Agg canvas (``Figure`` + ``FigureCanvasAgg``),
never through pyplot, so nothing here changes the caller's backend, opens a window, or leaves a
figure registered in pyplot's global list: a figure is freed when it is dropped. Save one with
:func:`save_figure`.

The plots take a manifest (:mod:`emoscope.corpora.base`); the label order is
``df.attrs["labels"]`` unless ``labels`` is given. The duration plots need a ``duration`` column
(seconds). The waveform and spectrogram plots of example files are in
:mod:`emoscope.report.examples`; the figure helpers in :mod:`emoscope.report.figures`.

>>> fig = class_counts(manifest)                    # doctest: +SKIP
>>> save_figure(fig, "class_counts.png")            # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from emoscope.errors import ConfigError
from emoscope.report.examples import Example, spectrogram_grid, waveform_grid
from emoscope.report.figures import (
    GENDER_COLORS,
    label_colors,
    label_order,
    new_figure,
    require_columns,
    save_figure,
    tick_labels,
)
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


def class_counts(df: pd.DataFrame, *, labels: Sequence[str] | None = None) -> Figure:
    """Utterances per label: one bar per label, in label order, with the count above each.

    Returns a Figure with one Axes whose ``patches`` are the bars, in label order.
    """
    require_columns(df, "label")
    order = label_order(df, labels)
    counts = df["label"].value_counts()
    heights = [int(counts.get(lab, 0)) for lab in order]
    colors = label_colors(order)
    fig = new_figure(max(5.0, 0.75 * len(order) + 2), 4.0)
    ax = fig.add_subplot()
    bars = ax.bar(np.arange(len(order)), heights, color=[colors[lab] for lab in order],
                  edgecolor="black", linewidth=0.5)
    ax.bar_label(bars, fontsize=8, padding=2)
    tick_labels(ax, order)
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
    require_columns(df, "speaker")
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
    fig = new_figure(width, 4.2)
    gs = fig.add_gridspec(1, 2, width_ratios=[spk_w, gen_w])
    rooms = [spk_w, gen_w]
    ax = fig.add_subplot(gs[0, 0])
    heights = [int(counts[s]) for s in speakers]
    colors = [GENDER_COLORS.get(spk_gender[s], "#666666") for s in speakers]
    bars = ax.bar(np.arange(len(speakers)), heights, color=colors, edgecolor="black",
                  linewidth=0.5)
    if len(speakers) <= 30:
        ax.bar_label(bars, fontsize=7, padding=2)
    tick_labels(ax, speakers, room=rooms[0])
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
    tick_labels(ax2, genders, room=rooms[1])
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
    require_columns(df, "duration", "label")
    d = df[df["duration"].notna()]
    if d.empty:
        raise ConfigError("nothing to plot: no file has a duration")
    dur = d["duration"].to_numpy(float)
    order = label_order(d, labels)
    colors = label_colors(order)
    med = float(np.median(dur))

    fig = new_figure(11.0, max(4.0, 0.35 * len(order) + 1.8))
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
    require_columns(df, "label", "speaker")
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
    fig = new_figure(min(24.0, max(5.5, per_col * len(cols) + 3.0)),
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
    tick_labels(ax, cols, room=fig.get_figwidth() - 2.8)
    tick_labels(ax, rows, axis="y")
    ax.set_xlabel("speaker" if wide else "label")
    ax.set_ylabel("label" if wide else "speaker")
    ax.set_title("Utterances per speaker and label")
    fig.colorbar(im, ax=ax, label="utterances", shrink=0.9)
    return fig
