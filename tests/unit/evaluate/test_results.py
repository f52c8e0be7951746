"""metrics.json (build, write, read, validate) and predictions.csv."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest

from emoscope.errors import ConfigError
from emoscope.evaluate import (
    FoldResult,
    build_results,
    classification_metrics,
    read_metrics,
    validate_metrics,
    write_metrics,
    write_predictions,
)

LABELS = ["angry", "happy", "neutral", "sad"]
# the documented shape (emoscope.evaluate.results docstring), spelled out independently
DOC_TOP = ["protocol", "leaky", "labels", "folds", "mean", "std"]
DOC_FOLD = ["fold", "name", "ua", "wa", "macro_f1", "n_test", "ci95", "per_class", "confusion",
            "per_speaker"]
DOC_SCORES = ["ua", "wa", "macro_f1"]


def make_fold(k: int, *, n: int = 80, acc: float = 0.6, speakers: bool = True,
              probabilities: bool = True, as_indices: bool = False, seed: int = 0) -> FoldResult:
    rng = np.random.default_rng(seed + k)
    t = rng.integers(0, len(LABELS), n)
    p = np.where(rng.random(n) < acc, t, rng.integers(0, len(LABELS), n))
    spk = [f"{4 * (k - 1) + i % 4 + 1:02d}" for i in range(n)] if speakers else None
    prob = rng.dirichlet(np.ones(len(LABELS)), n) if probabilities else None
    true = t if as_indices else [LABELS[i] for i in t]
    pred = p if as_indices else [LABELS[i] for i in p]
    return FoldResult(k, f"fold-{k}", true, pred, [f"u{k}-{i}" for i in range(n)], spk, prob)


@pytest.fixture(scope="module")
def results():
    folds = [make_fold(k) for k in (3, 1, 2)]  # out of order on purpose
    return build_results("ravdess-si6", False, LABELS, folds, n_boot=200,
                         model="mlp", train_seconds=12.5)


def test_shape_matches_documented_keys_exactly(results):
    assert list(results) == [*DOC_TOP, "model", "train_seconds"]
    assert results["protocol"] == "ravdess-si6" and results["leaky"] is False
    assert results["labels"] == LABELS
    assert [f["fold"] for f in results["folds"]] == [1, 2, 3]
    for f in results["folds"]:
        assert list(f) == DOC_FOLD
        assert f["name"] == f"fold-{f['fold']}"
        assert list(f["ci95"]) == DOC_SCORES
        assert all(isinstance(v, list) and len(v) == 2 for v in f["ci95"].values())
        assert list(f["per_class"]) == LABELS
        assert all(list(pc) == ["precision", "recall", "f1", "support"]
                   for pc in f["per_class"].values())
        assert len(f["confusion"]) == len(LABELS)
        assert sum(map(sum, f["confusion"])) == f["n_test"] == 80
        assert list(f["per_speaker"]) == [f"{4 * (f['fold'] - 1) + i:02d}" for i in (1, 2, 3, 4)]
        assert all(list(v) == ["n", "wa", "ua", "macro_f1"] for v in f["per_speaker"].values())
        for key in DOC_SCORES:
            lo, hi = f["ci95"][key]
            assert lo <= f[key] <= hi
    assert list(results["mean"]) == DOC_SCORES and list(results["std"]) == DOC_SCORES


def test_fold_scores_are_classification_metrics(results):
    fr = make_fold(2)
    m = classification_metrics(fr.y_true, fr.y_pred, labels=LABELS)
    f = results["folds"][1]
    assert (f["ua"], f["wa"], f["macro_f1"]) == (m["ua"], m["wa"], m["macro_f1"])
    assert f["confusion"] == m["confusion"] and f["per_class"] == m["per_class"]
    uas = [f["ua"] for f in results["folds"]]
    assert results["mean"]["ua"] == pytest.approx(np.mean(uas))
    assert results["std"]["ua"] == pytest.approx(np.std(uas, ddof=1))


def test_round_trip(results, tmp_path):
    path = write_metrics(tmp_path / "run" / "metrics.json", results)
    assert path.name == "metrics.json"
    assert read_metrics(path) == results
    assert json.loads(path.read_text(encoding="utf-8")) == results
    assert not [p for p in path.parent.iterdir() if p.name != "metrics.json"]  # no temp files


def test_integer_labels_and_no_speakers(tmp_path):
    fr = make_fold(1, as_indices=True, speakers=False, probabilities=False)
    res = build_results("tess-random-80-20", True, LABELS, [fr], n_boot=100)
    f = res["folds"][0]
    assert f["per_speaker"] == {}
    assert res["leaky"] is True
    assert res["std"] == {"ua": 0.0, "wa": 0.0, "macro_f1": 0.0}
    assert read_metrics(write_metrics(tmp_path / "m.json", res)) == res


def test_speaker_bootstrap_is_wider():
    fr = make_fold(1, n=400, seed=5)
    utt = fr.metrics(labels=LABELS, n_boot=300)["ci95"]["wa"]
    spk = fr.metrics(labels=LABELS, n_boot=300, bootstrap="speaker")["ci95"]["wa"]
    assert spk != utt
    with pytest.raises(ConfigError, match="speakers"):
        make_fold(1, speakers=False).metrics(labels=LABELS, bootstrap="speaker")
    with pytest.raises(ConfigError):
        fr.metrics(labels=LABELS, bootstrap="cluster")


@pytest.mark.parametrize("kwargs", [
    {"fold": 0},
    {"fold": True},
    {"y_pred": ["angry"]},
    {"ids": ["a"]},
    {"speakers": ["s"]},
    {"probabilities": np.ones((3, 4))},
    {"probabilities": np.ones(2)},
])
def test_fold_result_rejects(kwargs):
    base = {"fold": 1, "name": "f", "y_true": ["angry", "sad"], "y_pred": ["sad", "sad"],
            "ids": ["x", "y"], "speakers": ["s1", "s2"], "probabilities": None}
    with pytest.raises(ConfigError):
        FoldResult(**{**base, **kwargs})


def test_build_results_rejects():
    fr = make_fold(1)
    with pytest.raises(ConfigError, match=r"unknown metrics\.json key"):
        build_results("p", False, LABELS, [fr], n_boot=10, accuracy=0.5)
    with pytest.raises(ConfigError, match="repeated fold"):
        build_results("p", False, LABELS, [fr, make_fold(1)], n_boot=10)
    with pytest.raises(ConfigError):
        build_results("p", False, LABELS, [], n_boot=10)
    with pytest.raises(ConfigError, match="columns"):  # 4 probability columns for 3 labels
        build_results("p", False, ["angry", "happy", "neutral"],
                      [make_fold(1, acc=1.0, as_indices=True, n=5)], n_boot=10)
    with pytest.raises(ConfigError, match="unknown label"):
        build_results("p", False, LABELS[:2], [make_fold(1, probabilities=False)], n_boot=10)


def _set(d, path, value):
    *head, last = path
    for key in head:
        d = d[key]
    if value is _DELETE:
        del d[last]
    else:
        d[last] = value


_DELETE = object()


@pytest.mark.parametrize(("path", "value", "where"), [
    (("protocol",), _DELETE, "protocol"),
    (("protocol",), 3, "protocol"),
    (("leaky",), "no", "leaky"),
    (("labels",), [], "labels"),
    (("labels",), ["angry", "angry", "neutral", "sad"], "labels"),
    (("folds",), [], "folds"),
    (("folds", 0, "ua"), 1.5, r"folds\[0\]\.ua"),
    (("folds", 0, "wa"), "0.5", r"folds\[0\]\.wa"),
    (("folds", 0, "macro_f1"), _DELETE, "macro_f1"),
    (("folds", 1, "fold"), 0, r"folds\[1\]\.fold"),
    (("folds", 1, "fold"), 1, "repeated fold"),
    (("folds", 0, "n_test"), 79, "confusion"),
    (("folds", 0, "ci95", "ua"), [0.9, 0.1], r"ci95\.ua"),
    (("folds", 0, "ci95", "wa"), _DELETE, "ci95"),
    (("folds", 0, "per_class", "sad"), _DELETE, "per_class"),
    (("folds", 0, "per_class", "sad", "support"), -1, "support"),
    (("folds", 0, "confusion"), [[1]], "confusion"),
    (("folds", 0, "confusion", 0, 0), 2.5, "confusion"),
    (("folds", 0, "per_speaker", "01", "ua"), None, "per_speaker"),
    (("mean", "ua"), _DELETE, "mean"),
    (("std",), [0.1], "std"),
])
def test_malformed_metrics_rejected(results, tmp_path, path, value, where):
    bad = copy.deepcopy(results)
    _set(bad, path, value)
    with pytest.raises(ConfigError, match=where):
        validate_metrics(bad)
    with pytest.raises(ConfigError, match=where):
        write_metrics(tmp_path / "metrics.json", bad)
    assert not (tmp_path / "metrics.json").exists()
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.json: malformed"):
        read_metrics(p)


@pytest.mark.parametrize("text", ["", "{", "[1, 2]", "null", '{"protocol": "x"}', "NaN"])
def test_not_metrics_json_rejected(tmp_path, text):
    p = tmp_path / "metrics.json"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"metrics\.json"):
        read_metrics(p)


def test_missing_file_and_unwritable_values(results, tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        read_metrics(tmp_path / "nope.json")
    with pytest.raises(ConfigError, match="JSON"):
        write_metrics(tmp_path / "m.json", {**results, "config": {"x": float("nan")}})
    with pytest.raises(ConfigError, match="JSON"):
        write_metrics(tmp_path / "m.json", {**results, "config": {"x": np.zeros(2)}})


def test_extra_keys_are_tolerated_when_reading(results, tmp_path):
    newer = copy.deepcopy(results)
    newer["something_new"] = 1
    newer["folds"][0]["extra"] = "x"
    p = tmp_path / "m.json"
    p.write_text(json.dumps(newer), encoding="utf-8")
    assert read_metrics(p) == newer


def test_predictions_csv(tmp_path):
    folds = [make_fold(2, n=6), make_fold(1, n=5, as_indices=True)]
    path = write_predictions(tmp_path / "out" / "predictions.csv", folds, labels=LABELS)
    df = pd.read_csv(path, dtype={"speaker": str})
    assert list(df.columns) == ["fold", "id", "speaker", "true", "predicted",
                                *[f"p_{lab}" for lab in LABELS]]
    assert df["fold"].tolist() == [1] * 5 + [2] * 6
    assert df["id"].tolist()[:2] == ["u1-0", "u1-1"]
    assert set(df["true"]) <= set(LABELS) and set(df["predicted"]) <= set(LABELS)
    fr = folds[1]
    assert df["true"].tolist()[:5] == [LABELS[i] for i in fr.y_true]  # indices decoded
    assert df["speaker"].tolist()[:2] == ["01", "02"]
    np.testing.assert_allclose(df.loc[:4, [f"p_{lab}" for lab in LABELS]].to_numpy(),
                               fr.probabilities, rtol=1e-5)


def test_predictions_csv_without_probabilities(tmp_path):
    no_prob = [make_fold(1, n=4, probabilities=False, speakers=False)]
    df = pd.read_csv(write_predictions(tmp_path / "a.csv", no_prob, labels=LABELS))
    assert list(df.columns) == ["fold", "id", "speaker", "true", "predicted"]
    assert df["speaker"].isna().all()
    mixed = [*no_prob, make_fold(2, n=3)]
    df = pd.read_csv(write_predictions(tmp_path / "b.csv", mixed, labels=LABELS))
    assert df.loc[:3, "p_angry"].isna().all() and df.loc[4:, "p_angry"].notna().all()
    with pytest.raises(ConfigError):
        write_predictions(tmp_path / "c.csv", [], labels=LABELS)
