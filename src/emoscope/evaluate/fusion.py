"""Late fusion of finished runs: score the weighted mean of their test probabilities.

Two runs of the same protocol (for example a CRNN on log-mel and logistic regression on
eGeMAPS, or an audio-only and a video-only run) each wrote ``predictions.csv`` with one row per
test clip and a ``p_<label>`` column per class. :func:`late_fusion_scores` averages their
probabilities clip by clip, takes the arg-max, and scores it per fold exactly as the runs
themselves were scored. The weight is an argument, never fitted on the test clips.

>>> s = late_fusion_scores("runs/a/predictions.csv", "runs/b/predictions.csv")  # doctest: +SKIP
>>> round(s["ua"], 3), s["n_folds"]                                             # doctest: +SKIP
(0.549, 6)
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from emoscope.errors import ConfigError

__all__ = ["late_fusion_scores"]


def late_fusion_scores(first: str | os.PathLike[str], second: str | os.PathLike[str], *,
                       weight: float = 0.5) -> dict[str, Any]:
    """Scores of ``weight * p_first + (1 - weight) * p_second`` on the clips both runs predicted.

    Parameters
    ----------
    first, second : path
        ``predictions.csv`` of two runs of the same protocol: columns ``fold``, ``id``,
        ``true`` and one ``p_<label>`` per class, in the same label order.
    weight : float
        Weight of the first run's probabilities, in [0, 1].

    Returns
    -------
    dict
        ``ua``, ``wa``, ``macro_f1`` (means over folds), their ``<key>_std``, ``folds`` (per
        fold: ``fold``, ``n``, ``ua``, ``wa``, ``macro_f1``), ``n_folds``, ``n`` (clips both
        runs predicted), and the inputs: ``first``, ``second``, ``weight``.

    Raises
    ------
    ConfigError
        ``weight`` outside [0, 1], a file without the needed columns, runs with different
        labels, true labels that disagree for a clip, or no clip in common.
    """
    from emoscope.evaluate.metrics import classification_metrics

    if not 0.0 <= weight <= 1.0:
        raise ConfigError(f"the fusion weight must be in [0, 1], got {weight}")
    a, b = _read_predictions(first), _read_predictions(second)
    pcols = [c for c in a.columns if c.startswith("p_")]
    if pcols != [c for c in b.columns if c.startswith("p_")]:
        raise ConfigError(f"{first} and {second} have different labels")
    both = a.merge(b, on=["fold", "id"], suffixes=("_a", "_b"))
    if both.empty:
        raise ConfigError(f"{first} and {second} have no test clip in common")
    if (both["true_a"] != both["true_b"]).any():
        bad = both.loc[both["true_a"] != both["true_b"], "id"].iloc[0]
        raise ConfigError(f"the two runs disagree on the true label of {bad!r}")
    labels = [c[2:] for c in pcols]
    probs = (weight * both[[f"{c}_a" for c in pcols]].to_numpy()
             + (1 - weight) * both[[f"{c}_b" for c in pcols]].to_numpy())  # (n, n_classes)
    both["fused"] = [labels[k] for k in probs.argmax(1)]
    folds = []
    for fold, g in both.groupby("fold", sort=True):
        m = classification_metrics(g["true_a"], g["fused"], labels=labels)
        folds.append({"fold": int(fold), "n": len(g),
                      **{k: float(m[k]) for k in ("ua", "wa", "macro_f1")}})
    out: dict[str, Any] = {"first": str(first), "second": str(second), "weight": weight,
                           "n_folds": len(folds), "n": len(both), "folds": folds}
    for key in ("ua", "wa", "macro_f1"):
        vals = [f[key] for f in folds]
        out[key], out[f"{key}_std"] = float(np.mean(vals)), float(np.std(vals))
    return out


def _read_predictions(path: str | os.PathLike[str]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype={"id": str})
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise ConfigError(f"cannot read predictions {path}: {e}") from e
    missing = [c for c in ("fold", "id", "true") if c not in df.columns]
    if missing or not any(c.startswith("p_") for c in df.columns):
        raise ConfigError(f"{path} is not a predictions.csv (needs fold, id, true and p_<label> "
                          f"columns; missing: {', '.join(missing) or 'p_<label>'})")
    return df
