"""Model cards: training corpora with their licences, and reference figures of the recipe."""

from __future__ import annotations

import json

from emoscope.bundle import add_reference_metrics, load_bundle
from emoscope.testing.bundles import make_bundle


def _metrics(protocol, ua, *, leaky=False, n=6):
    folds = [{"fold": k, "ua": ua, "wa": ua, "macro_f1": ua} for k in range(n)]
    return {"protocol": protocol, "leaky": leaky, "folds": folds,
            "mean": {"ua": ua, "wa": ua + 0.01, "macro_f1": ua - 0.01},
            "std": {"ua": 0.05, "wa": 0.04, "macro_f1": 0.03}}


def test_card_names_corpus_and_licence(tmp_path):
    b = make_bundle(tmp_path / "b")
    card = (b / "MODEL_CARD.md").read_text()
    assert "`folder`" in card and "Licence" in card


def test_reference_metrics_reach_card_and_meta(tmp_path):
    b = make_bundle(tmp_path / "b")
    add_reference_metrics(b, [{**_metrics("ravdess-si6", 0.612), "source": "`cmd`"},
                              _metrics("tess-random-80-20", 0.99, leaky=True, n=1)])
    card = (b / "MODEL_CARD.md").read_text()
    assert "`ravdess-si6` (6 speaker-independent fold(s)): UA 0.612 ± 0.050" in card
    assert "WA 0.622 ± 0.040" in card and "(`cmd`)" in card
    assert "`tess-random-80-20` (1 LEAKY fold(s)): UA 0.990," in card
    meta = json.loads((b / "bundle.json").read_text())
    assert [r["protocol"] for r in meta["reference_metrics"]] == ["ravdess-si6",
                                                                  "tess-random-80-20"]
    assert load_bundle(b).labels == ["angry", "happy", "neutral", "sad"]  # still loads
