"""Evaluation: classification metrics, bootstrap intervals, ``metrics.json`` and predictions.

:mod:`emoscope.evaluate.metrics` scores predictions (UA, WA, macro-F1, per-class scores,
confusion matrices, per-speaker breakdowns, bootstrap intervals, fold summaries);
:mod:`emoscope.evaluate.results` turns a run's per-fold predictions into ``metrics.json`` and
``predictions.csv`` and reads ``metrics.json`` back; :mod:`emoscope.evaluate.fusion` scores the
late fusion of two finished runs.
"""

from emoscope.evaluate.bootstrap import bootstrap_intervals, per_group_metrics
from emoscope.evaluate.metrics import (
    METRICS,
    classification_metrics,
    encode_labels,
    scores_from_confusion,
    summarize_folds,
)
from emoscope.evaluate.results import (
    FOLD_KEYS,
    OPTIONAL_KEYS,
    SCORE_KEYS,
    TOP_KEYS,
    FoldResult,
    build_results,
    read_metrics,
    validate_metrics,
    write_metrics,
    write_predictions,
)

__all__ = [
    "FOLD_KEYS",
    "METRICS",
    "OPTIONAL_KEYS",
    "SCORE_KEYS",
    "TOP_KEYS",
    "FoldResult",
    "bootstrap_intervals",
    "build_results",
    "classification_metrics",
    "encode_labels",
    "per_group_metrics",
    "read_metrics",
    "scores_from_confusion",
    "summarize_folds",
    "validate_metrics",
    "write_metrics",
    "write_predictions",
]
