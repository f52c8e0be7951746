"""A trained model bundle scored on a whole corpus (cross-corpus), on the bundle's labels.

>>> res = evaluate_bundle("runs/x/bundle", corpus="tess", data_root="../shared/data/TESS")
...                                                                  # doctest: +SKIP
>>> res.results["folds"][0]["ua"]                                    # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from emoscope.bundle import load_bundle
from emoscope.errors import EmoscopeError

__all__ = ["BundleEvaluation", "evaluate_bundle"]


@dataclass(frozen=True)
class BundleEvaluation:
    """What :func:`evaluate_bundle` found.

    Attributes
    ----------
    results : dict
        The ``metrics.json`` dictionary (one fold: the whole corpus).
    labels : list of str
        The bundle's labels (the corpus's utterances of other labels are left out).
    skipped : list of (str, str)
        Files that could not be used, with the reason.
    """

    results: dict[str, Any]
    labels: list[str]
    skipped: list[tuple[str, str]]


def evaluate_bundle(bundle: str | os.PathLike[str], *, corpus: str,
                    data_root: str | os.PathLike[str], trusted: bool = False,
                    cache: str | os.PathLike[str] | None = None,
                    progress: bool = True) -> BundleEvaluation:
    """Score ``bundle`` on every utterance of ``corpus`` whose label the bundle knows.

    Parameters
    ----------
    bundle : path
        A model bundle folder.
    corpus : str
        A registered corpus name; ``data_root`` is its folder.
    trusted : bool
        Allow a pickled scikit-learn model.
    cache : path, optional
        The feature cache.

    Raises
    ------
    BundleError
        An unreadable bundle.
    CorpusError
        An unreadable corpus.
    EmoscopeError
        The corpus has none of the bundle's labels.
    """
    from emoscope import corpora, features
    from emoscope.evaluate.results import FoldResult, build_results

    b = load_bundle(bundle, trusted=trusted)
    df = corpora.load(corpus, data_root)
    df = df[df["label"].isin(b.labels)]
    if df.empty:
        raise EmoscopeError(f"{corpus} has none of the bundle's labels "
                            f"({', '.join(b.labels)})")
    fs = features.extract_features(df, b.extractor, cache=cache, progress=progress)
    ids = [i for i in df["id"] if i in fs]
    probs = b.predict_proba_features(fs, ids)
    index = {lab: k for k, lab in enumerate(b.labels)}
    rows = df.set_index("id").loc[ids]
    fold = FoldResult.from_probabilities(
        1, corpus, y_true=[index[lab] for lab in rows["label"]], probabilities=probs, ids=ids,
        speakers=rows["speaker"].astype(str).tolist())
    results = build_results(f"evaluate-{corpus}", False, b.labels, [fold],
                            model=b.meta["model"]["name"], features=b.meta["features"])
    return BundleEvaluation(results, list(b.labels), list(fs.failed))
