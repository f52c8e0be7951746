"""Reports: plots that return matplotlib Figures, and a self-contained HTML page.

:func:`explore` is the corpus exploration (counts, durations, example waveforms and spectrograms)
written as PNGs beside ``report.html``.
"""

from emoscope.report.explore import (
    ExploreResult,
    choose_examples,
    explore,
    label_by_speaker,
    load_examples,
    measure_durations,
    summarize,
)
from emoscope.report.html import ReportFigure, render_report, write_report
from emoscope.report.plots import (
    Example,
    class_counts,
    duration_histogram,
    label_speaker_heatmap,
    save_figure,
    speaker_counts,
    spectrogram_grid,
    waveform_grid,
)

__all__ = [
    "Example",
    "ExploreResult",
    "ReportFigure",
    "choose_examples",
    "class_counts",
    "duration_histogram",
    "explore",
    "label_by_speaker",
    "label_speaker_heatmap",
    "load_examples",
    "measure_durations",
    "render_report",
    "save_figure",
    "speaker_counts",
    "spectrogram_grid",
    "summarize",
    "waveform_grid",
    "write_report",
]
