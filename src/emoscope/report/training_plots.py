"""Plots of a training run: confusion matrix, learning curves, scores per fold.

Like :mod:`emoscope.report.plots`, every function returns a :class:`matplotlib.figure.Figure`
built on the Agg canvas without pyplot (no window, nothing left registered); save one with
:func:`emoscope.report.plots.save_figure`. Scores are fractions in ``[0, 1]`` in the data and
percentages on the plots.

>>> results = read_metrics("runs/ravdess/metrics.json")             # doctest: +SKIP
>>> fold = results["folds"][0]                                      # doctest: +SKIP
>>> fig = confusion_matrix_figure(fold["confusion"], results["labels"])  # doctest: +SKIP
>>> save_figure(fold_bars_figure(results), "folds.png")             # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from emoscope.errors import ConfigError
from emoscope.report.figures import new_figure, tick_labels

__all__ = ["METRIC_COLORS", "confusion_matrix_figure", "fold_bars_figure", "layer_weights_figure",
           "learning_curves_figure"]

#: Colours of the three headline scores, shared by every plot here.
METRIC_COLORS: dict[str, str] = {"ua": "#1f77b4", "wa": "#ff7f0e", "macro_f1": "#2ca02c"}
_METRIC_NAMES = {"ua": "UA", "wa": "WA", "macro_f1": "macro-F1"}


def _text_color(rgba: Sequence[float]) -> str:
    r, g, b = rgba[:3]
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"


def confusion_matrix_figure(
    confusion: Sequence[Sequence[int]] | np.ndarray,
    labels: Sequence[str],
    *,
    normalize: bool = True,
    title: str | None = None,
) -> Figure:
    """A confusion matrix as a heatmap, true labels as rows and predictions as columns.

    With ``normalize`` the colours and the large numbers are row percentages (each row is the
    share of that class's utterances given each prediction, so the diagonal is the per-class
    recall) and each cell also shows its count in brackets; without it, colours and numbers are
    counts. Empty cells show a grey ``0``. Row labels carry each class's number of utterances;
    a row without utterances is left blank.

    Parameters
    ----------
    confusion : array-like [shape=(k, k)]
        Counts, rows true and columns predicted, in label order (the ``confusion`` of a fold in
        ``metrics.json``, or a sum over folds).
    labels : sequence of str [shape=(k,)]
    normalize : bool
    title : str, optional
        Default: ``"Confusion matrix"`` with the UA and WA of the matrix.

    Returns
    -------
    fig : Figure
        Two Axes: the heatmap (one text annotation per cell, ``k * k`` in all) and its colour
        bar.

    Raises
    ------
    ConfigError
        A matrix that is not ``k x k`` for ``k`` labels, or negative counts.
    """
    cm = np.asarray(confusion, dtype=np.float64)
    names = [str(lab) for lab in labels]
    k = len(names)
    if k == 0 or cm.shape != (k, k):
        raise ConfigError(f"confusion must be {k} x {k} for {k} labels, got shape {cm.shape}")
    if (cm < 0).any() or not np.isfinite(cm).all():
        raise ConfigError("confusion counts must be finite and non-negative")
    support = cm.sum(axis=1)  # (k,)
    pct = np.divide(100.0 * cm, support[:, None], out=np.zeros_like(cm),
                    where=support[:, None] > 0)
    values = pct if normalize else cm
    side = max(4.5, 0.8 * k + 2.2)
    fig = new_figure(side + 1.3, side)
    ax = fig.add_subplot()
    vmax = 100.0 if normalize else max(1.0, float(cm.max()))
    im = ax.imshow(values, cmap="Blues", vmin=0.0, vmax=vmax, interpolation="nearest")
    big = 9 if k <= 10 else 7
    for (i, j), v in np.ndenumerate(values):
        color = _text_color(im.cmap(im.norm(v)))
        if support[i] == 0:
            text = ""
        elif cm[i, j] == 0:  # keep empty cells quiet so the confusions stand out
            text, color = "0", "#9a9a9a"
        elif normalize:
            text = f"{v:.0f}%\n({int(cm[i, j])})"
        else:
            text = f"{int(v)}"
        ax.text(j, i, text, ha="center", va="center", fontsize=big, linespacing=1.1,
                color=color, fontweight="bold" if i == j and text else "normal")
    tick_labels(ax, names, room=ax.get_figure().get_figwidth() - 2.5)
    ax.set_yticks(np.arange(k), [f"{lab} ({int(n)})" for lab, n in zip(names, support,
                                                                          strict=True)],
                  fontsize=9)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true (utterances)")
    if title is None:
        n = cm.sum()
        tp = np.diag(cm)
        present = support > 0
        ua = float(np.mean(tp[present] / support[present])) if present.any() else 0.0
        wa = float(tp.sum() / n) if n else 0.0
        title = f"Confusion matrix: UA {100 * ua:.1f}%, WA {100 * wa:.1f}% ({int(n)} utterances)"
    ax.set_title(title, fontsize=11)
    ax.set_xticks(np.arange(-0.5, k), minor=True)
    ax.set_yticks(np.arange(-0.5, k), minor=True)
    ax.grid(which="minor", color="white", linewidth=1)
    ax.tick_params(which="minor", length=0)
    fig.colorbar(im, ax=ax, shrink=0.85,
                 label="% of the true class" if normalize else "utterances")
    return fig


def _column(history: Sequence[Mapping[str, Any]], key: str) -> np.ndarray | None:
    """``key`` of every row as floats (NaN where missing); None when no row has it."""
    values = [row.get(key) for row in history]
    if all(v is None for v in values):
        return None
    out = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    return None if np.isnan(out).all() else out


def learning_curves_figure(history: Sequence[Mapping[str, Any]]) -> Figure:
    """Losses and validation UA per epoch, with the best epoch marked.

    Parameters
    ----------
    history : sequence of mapping
        One row per epoch, e.g. ``{"epoch": 3, "train_loss": 1.21, "valid_loss": 1.34,
        "valid_ua": 0.52, "lr": 1e-3}``. Every key is optional (``epoch`` defaults to the
        row's 1-based position); ``train_ua`` and ``valid_wa`` are drawn too when present.
        Scores are fractions in ``[0, 1]``.

    Returns
    -------
    fig : Figure
        Two Axes: the losses (left) and the scores (right), plus a third, twin Axes on the right
        panel for the learning rate (log scale) when ``lr`` changes during the run. The best
        epoch (highest ``valid_ua``, else lowest ``valid_loss``) is a dashed vertical line on
        both panels.

    Raises
    ------
    ConfigError
        An empty history, or rows without any loss or score to draw.
    """
    if not history:
        raise ConfigError("the training history is empty")
    epochs = _column(history, "epoch")
    if epochs is None or np.isnan(epochs).any():
        epochs = np.arange(1, len(history) + 1, dtype=np.float64)
    series = {key: _column(history, key) for key in
              ("train_loss", "valid_loss", "train_ua", "valid_ua", "valid_wa", "lr")}
    if all(series[k] is None for k in ("train_loss", "valid_loss", "train_ua", "valid_ua",
                                       "valid_wa")):
        raise ConfigError("the training history has no train_loss, valid_loss or valid_ua")

    best: int | None = None
    if series["valid_ua"] is not None:
        best, best_by = int(np.nanargmax(series["valid_ua"])), "valid UA"
    elif series["valid_loss"] is not None:
        best, best_by = int(np.nanargmin(series["valid_loss"])), "valid loss"

    fig = new_figure(12.0, 4.4)
    ax_loss, ax_ua = fig.subplots(1, 2)
    marker = "o" if len(history) <= 30 else None
    style = {"linewidth": 1.6, "marker": marker, "markersize": 3}
    for key, color, name in (("train_loss", "#1f77b4", "train"),
                             ("valid_loss", "#d62728", "valid")):
        if series[key] is not None:
            ax_loss.plot(epochs, series[key], color=color, label=name, **style)
    ax_loss.set_title("Loss")
    ax_loss.set_ylabel("loss")

    for key, color, name, ls in (("train_ua", "#1f77b4", "train UA", "-"),
                                 ("valid_ua", "#d62728", "valid UA", "-"),
                                 ("valid_wa", "#ff7f0e", "valid WA", "--")):
        if series[key] is not None:
            ax_ua.plot(epochs, 100.0 * series[key], color=color, label=name, linestyle=ls,
                       **style)
    ax_ua.set_title("Scores")
    ax_ua.set_ylabel("%")
    for ax in (ax_loss, ax_ua):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.set_axisbelow(True)
    if best is not None:
        e = epochs[best]
        desc = f"best epoch {e:g} ({best_by}"
        if series["valid_ua"] is not None:
            desc += f" {100 * series['valid_ua'][best]:.1f}%"
        elif series["valid_loss"] is not None:
            desc += f" {series['valid_loss'][best]:.3f}"
        desc += ")"
        for ax in (ax_loss, ax_ua):
            ax.axvline(e, color="#555555", linestyle=":", linewidth=1.3,
                       label=desc if ax is ax_ua else None)
        if series["valid_ua"] is not None:
            ax_ua.plot([e], [100.0 * series["valid_ua"][best]], marker="*", markersize=14,
                       color="#d62728", markeredgecolor="black", linestyle="none")
        elif series["valid_loss"] is not None:
            ax_loss.plot([e], [series["valid_loss"][best]], marker="*", markersize=14,
                         color="#d62728", markeredgecolor="black", linestyle="none")

    lr = series["lr"]
    handles, names = ax_ua.get_legend_handles_labels()
    if lr is not None and np.nanmax(lr) > np.nanmin(lr) and np.nanmin(lr) > 0:
        ax_lr = ax_ua.twinx()
        (line,) = ax_lr.plot(epochs, lr, color="#7f7f7f", linewidth=1.0, linestyle="-.",
                             drawstyle="steps-post")
        ax_lr.set_yscale("log")
        ax_lr.set_ylabel("learning rate", color="#555555")
        ax_lr.tick_params(axis="y", labelsize=8, colors="#555555")
        handles, names = [*handles, line], [*names, "learning rate"]
    ax_ua.legend(handles, names, fontsize=8, loc="lower right", framealpha=0.9)
    if ax_loss.get_legend_handles_labels()[0]:
        ax_loss.legend(fontsize=8, loc="upper right", framealpha=0.9)
    fig.suptitle(f"Learning curves ({len(history)} epochs)", fontsize=12)
    return fig


def fold_bars_figure(results: Mapping[str, Any]) -> Figure:
    """UA, WA and macro-F1 of every fold as grouped bars, with the mean over folds as lines.

    Parameters
    ----------
    results : mapping
        A ``metrics.json`` dictionary (:func:`emoscope.evaluate.results.build_results` or
        :func:`~emoscope.evaluate.results.read_metrics`): ``folds`` with ``name``, ``ua``,
        ``wa``, ``macro_f1`` and optionally ``ci95`` (drawn as error bars); ``mean``, ``std``,
        ``protocol``, ``leaky`` and ``labels`` are used when present (the chance level is
        ``1 / len(labels)``).

    Returns
    -------
    fig : Figure
        One Axes: three bars per fold (``patches``: the UA bars of every fold, then the WA
        bars, then the macro-F1 bars), each labelled with its value in %, a dashed line per
        metric at its mean and a dotted one at chance. A leaky protocol says so in the title.

    Raises
    ------
    ConfigError
        No folds, or a fold without the three scores.
    """
    folds = list(results.get("folds") or [])
    if not folds:
        raise ConfigError("no folds to plot")
    keys = ("ua", "wa", "macro_f1")
    for i, f in enumerate(folds):
        missing = [k for k in keys if k not in f]
        if missing:
            raise ConfigError(f"fold {i + 1} has no {', '.join(missing)}")
    names = [str(f.get("name", f.get("fold", i + 1))) for i, f in enumerate(folds)]
    n = len(folds)
    width_in = min(20.0, max(7.5, 1.5 * n + 3.0))
    fig = new_figure(width_in, 4.8)
    ax = fig.add_subplot()
    width = 0.26
    x = np.arange(n)
    mean = results.get("mean") or {}
    std = results.get("std") or {}
    for m, key in enumerate(keys):
        vals = np.array([100.0 * float(f[key]) for f in folds])
        err = None
        if all(isinstance(f.get("ci95"), Mapping) and key in f["ci95"] for f in folds):
            ci = np.array([[100.0 * float(v) for v in f["ci95"][key]] for f in folds])
            err = np.vstack([np.clip(vals - ci[:, 0], 0, None), np.clip(ci[:, 1] - vals, 0, None)])
        mu = 100.0 * float(mean.get(key, vals.mean() / 100.0))
        label = f"{_METRIC_NAMES[key]} (mean {mu:.1f}"
        label += f" ± {100.0 * float(std[key]):.1f})" if key in std else ")"
        bars = ax.bar(x + (m - 1) * width, vals, width, color=METRIC_COLORS[key], label=label,
                      yerr=err, capsize=3 if err is not None else 0,
                      error_kw={"elinewidth": 0.9, "ecolor": "#333333"},
                      edgecolor="black", linewidth=0.4)
        # values inside the bars, clear of the error bars around the bar tops
        ax.bar_label(bars, fmt="%.1f", fontsize=7 if n <= 8 else 6, label_type="center",
                     color="white", fontweight="bold", rotation=0 if n <= 8 else 90)
        ax.axhline(mu, color=METRIC_COLORS[key], linestyle="--", linewidth=1.2, alpha=0.9)
    labels = results.get("labels")
    if labels:
        ax.axhline(100.0 / len(labels), color="#555555", linestyle=":", linewidth=1.2,
                   label=f"chance ({100.0 / len(labels):.1f})")
    tick_labels(ax, names, room=fig.get_figwidth() - 1.5)
    ax.set_xlabel("fold")
    ax.set_ylabel("%")
    ncols = 4 if width_in >= 9.5 else 2
    tops = [float(v) for f in folds for k in keys for v in (f.get("ci95") or {}).get(k, [f[k]])]
    top = 100.0 * max(tops)  # the highest bar or error bar
    ax.set_ylim(0, min(100.0, top) + (20.0 if ncols == 4 else 28.0))  # room for the legend
    ax.set_yticks(np.arange(0, 101, 20))
    ax.legend(fontsize=8, loc="upper left", ncols=ncols, framealpha=0.9)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    proto = results.get("protocol")
    title = f"Scores per fold: {proto}" if proto else "Scores per fold"
    title += f" ({n} fold{'s' if n != 1 else ''})"
    if results.get("leaky"):
        from emoscope.protocols.base import LEAKY_WARNING  # (importing protocols costs seconds)

        title += f"\n{LEAKY_WARNING}"
    ax.set_title(title, fontsize=11, color="#b00000" if results.get("leaky") else "black")
    return fig


def layer_weights_figure(weights: Mapping[str, Sequence[float]]) -> Figure:
    """The learned weight of each encoder layer, per fold (a layer-weighted head's softmax).

    Parameters
    ----------
    weights : mapping of str to sequence of float
        Fold name -> one weight per layer (each sequence sums to 1), all of one length.

    Returns
    -------
    fig : Figure
        Grouped bars: layers on x, one bar per fold, the equal weight ``1 / n_layers`` dashed.

    Raises
    ------
    ConfigError
        No folds, or folds with different numbers of layers.
    """
    if not weights:
        raise ConfigError("no layer weights to draw")
    rows = {name: np.asarray(w, dtype=np.float64) for name, w in weights.items()}
    sizes = {len(w) for w in rows.values()}
    if len(sizes) != 1 or 0 in sizes:
        raise ConfigError(f"every fold needs the same number of layer weights, got {sorted(sizes)}")
    n = sizes.pop()
    fig = new_figure(max(4.0, 0.6 * n + 2.0), 3.2)
    ax = fig.add_subplot()
    width = 0.8 / len(rows)
    for k, (name, w) in enumerate(rows.items()):
        ax.bar(np.arange(n) + (k - (len(rows) - 1) / 2) * width, w, width, label=name)
    ax.axhline(1.0 / n, color="0.4", linestyle="--", linewidth=1, label="equal")
    ax.set_xticks(np.arange(n))
    ax.set_xlabel("encoder layer (hidden state)")
    ax.set_ylabel("learned weight")
    ax.set_title("Learned layer weights")
    ax.legend(fontsize=7, ncol=min(len(rows) + 1, 4))
    return fig
