"""Figure helpers every report plot uses: Agg figures, saving, label order and colours.

Figures are built with the object API on the Agg canvas (``Figure`` + ``FigureCanvasAgg``),
never through pyplot, so nothing here changes the caller's backend, opens a window, or leaves a
figure registered in pyplot's global list: a figure is freed when it is dropped.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from emoscope.errors import ConfigError

__all__ = ["DPI", "GENDER_COLORS", "label_colors", "label_order", "new_figure", "require_columns",
           "save_figure", "tick_labels"]

#: Bar colours of the gender values.
GENDER_COLORS: dict[str, str] = {"female": "#d95f02", "male": "#1b9e77", "unknown": "#999999"}
#: Resolution of saved figures (dots per inch).
DPI = 100


def new_figure(width: float, height: float, *, layout: str | None = "constrained") -> Figure:
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


def require_columns(df: pd.DataFrame, *columns: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ConfigError(f"the plot needs the column(s) {', '.join(missing)}")
    if df.empty:
        raise ConfigError("nothing to plot: the manifest has no rows")


def tick_labels(ax, names: Sequence[str], *, axis: str = "x",
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


