"""Classification metrics, bootstrap intervals, per-speaker scores and fold summaries."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score

from emoscope.errors import ConfigError
from emoscope.evaluate import (
    bootstrap_intervals,
    classification_metrics,
    encode_labels,
    per_group_metrics,
    scores_from_confusion,
    summarize_folds,
)

ABC = ["a", "b", "c"]
# 4 a, 2 b, 1 c; confusion rows a [3, 1, 0], b [0, 1, 1], c [0, 0, 1]
HAND_TRUE = ["a", "a", "a", "a", "b", "b", "c"]
HAND_PRED = ["a", "a", "a", "b", "b", "c", "c"]


def noisy(n: int, k: int, *, acc: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random true labels and predictions right with probability ``acc``."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, k, n)
    p = np.where(rng.random(n) < acc, t, rng.integers(0, k, n))
    return t, p


def test_hand_computed_example_ua_differs_from_wa():
    m = classification_metrics(HAND_TRUE, HAND_PRED, labels=ABC)
    assert m["n"] == 7
    assert m["wa"] == pytest.approx(5 / 7)
    assert m["ua"] == pytest.approx((3 / 4 + 1 / 2 + 1) / 3)  # 0.75
    assert m["ua"] != pytest.approx(m["wa"])
    assert m["ua_all"] == pytest.approx(m["ua"])  # every class present
    assert m["confusion"] == [[3, 1, 0], [0, 1, 1], [0, 0, 1]]
    pc = m["per_class"]
    assert list(pc) == ABC
    assert pc["a"] == pytest.approx({"precision": 1.0, "recall": 0.75, "f1": 6 / 7,
                                     "support": 4})
    assert pc["b"] == pytest.approx({"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2})
    assert pc["c"] == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3,
                                     "support": 1})
    assert m["macro_f1"] == pytest.approx((6 / 7 + 0.5 + 2 / 3) / 3)


def test_values_are_plain_python_and_json_ready():
    m = classification_metrics(np.array(HAND_TRUE), np.array(HAND_PRED), labels=ABC)
    for key in ("wa", "ua", "ua_all", "macro_f1"):
        assert type(m[key]) is float and 0.0 <= m[key] <= 1.0
    assert type(m["n"]) is int
    for pc in m["per_class"].values():
        assert all(type(pc[k]) is float for k in ("precision", "recall", "f1"))
        assert type(pc["support"]) is int
    assert all(type(x) is int for row in m["confusion"] for x in row)
    assert json.loads(json.dumps(m)) == m


def test_perfect_predictions_score_one():
    y = ["a", "b", "c", "c", "b", "a", "a"]
    m = classification_metrics(y, y, labels=ABC)
    assert m["wa"] == m["ua"] == m["ua_all"] == m["macro_f1"] == 1.0
    assert all(pc["precision"] == pc["recall"] == pc["f1"] == 1.0
               for pc in m["per_class"].values())


def test_class_never_predicted_and_class_absent():
    labels = ["a", "b", "c", "d"]  # c is never predicted, d is neither true nor predicted
    m = classification_metrics(["a", "a", "b", "c"], ["a", "b", "b", "a"], labels=labels)
    assert m["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert m["per_class"]["d"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert m["ua"] == pytest.approx((0.5 + 1.0 + 0.0) / 3)  # over classes in y_true
    assert m["ua_all"] == pytest.approx(1.5 / 4)  # over all labels
    assert m["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 0.0) / 3)  # d left out
    assert m["confusion"][3] == [0, 0, 0, 0]


def test_no_warnings_on_zero_division(recwarn):
    classification_metrics(["a", "a"], ["b", "b"], labels=ABC)
    assert not [w for w in recwarn if "zero" in str(w.message).lower()]


def test_integer_indices_and_containers_agree():
    by_name = classification_metrics(HAND_TRUE, HAND_PRED, labels=ABC)
    codes_t = [ABC.index(x) for x in HAND_TRUE]
    codes_p = np.array([ABC.index(x) for x in HAND_PRED], dtype=np.int32)
    assert classification_metrics(codes_t, codes_p, labels=ABC) == by_name
    assert classification_metrics(pd.Series(HAND_TRUE, dtype="category"),
                                  pd.Series(HAND_PRED), labels=tuple(ABC)) == by_name


@pytest.mark.parametrize("seed", range(6))
def test_matches_sklearn_and_numpy_twin(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 9))
    labels = [f"l{i}" for i in range(k)]
    t, p = noisy(int(rng.integers(5, 200)), k, acc=float(rng.random()), seed=seed)
    m = classification_metrics(t, p, labels=labels)
    assert m["ua"] == pytest.approx(balanced_accuracy_score(t, p) if
                                    set(p) <= set(t) else m["ua"])
    assert m["macro_f1"] == pytest.approx(f1_score(t, p, average="macro", zero_division=0))
    twin = scores_from_confusion(np.array(m["confusion"]))
    for key in ("ua", "wa", "macro_f1", "ua_all"):
        assert float(twin[key]) == pytest.approx(m[key])


def test_ua_is_balanced_accuracy_when_predictions_stay_in_true_classes():
    t, p = noisy(300, 5, acc=0.6, seed=11)
    assert classification_metrics(t, p, labels=list("vwxyz"))["ua"] == pytest.approx(
        balanced_accuracy_score(t, p))


@pytest.mark.parametrize(("y_true", "y_pred", "needle"), [
    (["a", "x"], ["a", "b"], "'x'"),
    (["a", "b"], ["zz", "yy"], "'zz', 'yy'"),
    ([0, 3], [0, 1], "3"),
    ([0, -1], [0, 1], "-1"),
    (["a", None], ["a", "b"], "None"),
])
def test_unknown_labels_are_named(y_true, y_pred, needle):
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(")):
        classification_metrics(y_true, y_pred, labels=ABC)


@pytest.mark.parametrize(("y_true", "y_pred", "labels"), [
    (["a", "b"], ["a"], ABC),            # lengths differ
    ([], [], ABC),                       # nothing to score
    ([0.0, 1.0], [0.0, 1.0], ABC),       # floats are neither names nor indices
    ([True, False], [True, True], ABC),  # booleans neither
    (["a"], ["a"], []),                  # no labels
    (["a"], ["a"], ["a", "a"]),          # repeated labels
    (["a"], ["a"], "abc"),               # one string is not a label list
    ([["a"]], [["a"]], ABC),             # not one-dimensional
])
def test_bad_input_raises_config_error(y_true, y_pred, labels):
    with pytest.raises(ConfigError):
        classification_metrics(y_true, y_pred, labels=labels)


def test_encode_labels():
    assert encode_labels(["c", "a", 1], ABC).tolist() == [2, 0, 1]
    assert encode_labels(np.array([2, 0]), ABC).dtype == np.int64


# --- bootstrap -------------------------------------------------------------------------------

def test_bootstrap_contains_point_estimate_and_is_ordered():
    labels = [f"l{i}" for i in range(8)]
    t, p = noisy(1440, 8, acc=0.6, seed=1)
    m = classification_metrics(t, p, labels=labels)
    ci = bootstrap_intervals(t, p, labels=labels, metrics=("ua", "wa", "macro_f1", "ua_all"))
    assert list(ci) == ["ua", "wa", "macro_f1", "ua_all"]
    for key, (lo, hi) in ci.items():
        assert type(lo) is float and type(hi) is float
        assert 0.0 <= lo < m[key] < hi <= 1.0


def test_bootstrap_narrower_with_more_data():
    t, p = noisy(100, 4, acc=0.6, seed=2)
    small = bootstrap_intervals(t, p, labels=list("abcd"), n_boot=500)
    large = bootstrap_intervals(np.tile(t, 16), np.tile(p, 16), labels=list("abcd"), n_boot=500)
    for key in small:
        w_small = small[key][1] - small[key][0]
        w_large = large[key][1] - large[key][0]
        assert w_large < 0.5 * w_small  # ~1/4 in theory (sqrt of 16)


def test_bootstrap_deterministic_by_seed():
    t, p = noisy(300, 4, acc=0.5, seed=3)
    a = bootstrap_intervals(t, p, labels=list("abcd"), seed=7)
    assert bootstrap_intervals(t, p, labels=list("abcd"), seed=7) == a
    assert bootstrap_intervals(t, p, labels=list("abcd"), seed=8) != a
    spk = np.arange(300) % 6
    g = bootstrap_intervals(t, p, labels=list("abcd"), seed=7, groups=spk)
    assert bootstrap_intervals(t, p, labels=list("abcd"), seed=7, groups=spk) == g


def test_bootstrap_matches_naive_resampling():
    """The multinomial shortcut has the distribution of drawing utterances with replacement."""
    t, p = noisy(400, 4, acc=0.55, seed=4)
    k, n, boot = 4, t.size, 4000
    idx = np.random.default_rng(99).integers(0, n, (boot, n))
    cells = (t[idx] * k + p[idx]) + (np.arange(boot)[:, None] * k * k)
    cm = np.bincount(cells.ravel(), minlength=boot * k * k).reshape(boot, k, k)
    naive = np.quantile(scores_from_confusion(cm)["ua"], [0.025, 0.975])
    fast = bootstrap_intervals(t, p, labels=list("abcd"), metrics=["ua"], n_boot=boot)["ua"]
    assert fast == pytest.approx(tuple(naive), abs=0.01)


def test_cluster_bootstrap_resamples_speakers():
    """Speakers of very different accuracy: the speaker interval is much wider, and matches a
    naive bootstrap that draws speakers with replacement."""
    rng = np.random.default_rng(5)
    k, per, accs = 4, 50, [0.3, 0.9, 0.5, 0.8, 0.4, 0.7]
    t = rng.integers(0, k, per * len(accs))
    spk = np.repeat([f"s{i}" for i in range(len(accs))], per)
    acc = np.repeat(accs, per)
    p = np.where(rng.random(t.size) < acc, t, (t + 1) % k)
    labels = list("abcd")
    utt = bootstrap_intervals(t, p, labels=labels, metrics=["wa"])["wa"]
    clu = bootstrap_intervals(t, p, labels=labels, metrics=["wa"], groups=spk)["wa"]
    wa = float(np.mean(t == p))
    assert clu[0] < wa < clu[1]
    assert clu[1] - clu[0] > 2 * (utt[1] - utt[0])
    # naive: the mean of 6 speaker accuracies drawn with replacement (equal sizes)
    draws = np.random.default_rng(0).integers(0, 6, (20000, 6))
    per_spk = np.array([np.mean((t == p)[spk == f"s{i}"]) for i in range(6)])
    naive = np.quantile(per_spk[draws].mean(axis=1), [0.025, 0.975])
    assert clu == pytest.approx(tuple(naive), abs=0.02)


def test_cluster_bootstrap_with_one_speaker_is_degenerate():
    t, p = noisy(50, 3, acc=0.6, seed=6)
    ci = bootstrap_intervals(t, p, labels=ABC, groups=["OAF"] * 50)
    wa = float(np.mean(t == p))
    assert ci["wa"] == pytest.approx((wa, wa))


def test_bootstrap_fast():
    labels = [f"l{i}" for i in range(8)]
    t, p = noisy(1440, 8, acc=0.6, seed=7)
    spk = np.arange(1440) % 24
    start = time.perf_counter()
    bootstrap_intervals(t, p, labels=labels, n_boot=1000)
    bootstrap_intervals(t, p, labels=labels, n_boot=1000, groups=spk)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("kwargs", [
    {"metrics": ("ua", "accuracy")},
    {"metrics": ()},
    {"n_boot": 0},
    {"n_boot": 10.5},
    {"alpha": 0.0},
    {"alpha": 1.5},
    {"groups": ["s1", "s2"]},  # wrong length
])
def test_bootstrap_bad_options(kwargs):
    with pytest.raises(ConfigError):
        bootstrap_intervals(HAND_TRUE, HAND_PRED, labels=ABC, **kwargs)


# --- per speaker, fold summaries -------------------------------------------------------------

def test_per_group_metrics():
    groups = ["10", "2", "2", "10", "2", "10", "2"]
    out = per_group_metrics(HAND_TRUE, HAND_PRED, groups, labels=ABC)
    assert list(out) == ["2", "10"]  # natural order
    # speaker 2: true a a b c, pred a a b c -> perfect; speaker 10: true a a b, pred a b c
    assert out["2"] == {"n": 4, "wa": 1.0, "ua": 1.0, "macro_f1": 1.0}
    assert out["10"]["n"] == 3
    assert out["10"]["wa"] == pytest.approx(1 / 3)
    assert out["10"]["ua"] == pytest.approx((0.5 + 0.0) / 2)  # classes a, b present
    # f1: a 2/3, b 0, c 0 (predicted, never true)
    assert out["10"]["macro_f1"] == pytest.approx((2 / 3) / 3)
    assert sum(v["n"] for v in out.values()) == len(HAND_TRUE)
    with pytest.raises(ConfigError):
        per_group_metrics(HAND_TRUE, HAND_PRED, groups[:3], labels=ABC)


def test_per_group_matches_metrics_of_each_group():
    t, p = noisy(200, 4, acc=0.6, seed=8)
    spk = np.random.default_rng(8).integers(0, 5, 200)
    out = per_group_metrics(t, p, spk, labels=list("abcd"))
    for s in range(5):
        m = classification_metrics(t[spk == s], p[spk == s], labels=list("abcd"))
        assert out[str(s)] == pytest.approx({"n": m["n"], "wa": m["wa"], "ua": m["ua"],
                                             "macro_f1": m["macro_f1"]})


def test_summarize_folds_exact():
    folds = [{"ua": 0.5, "wa": 0.6, "macro_f1": 0.4},
             {"ua": 0.7, "wa": 0.6, "macro_f1": 0.5},
             {"ua": 0.9, "wa": 0.6, "macro_f1": 0.6}]
    s = summarize_folds(folds)
    assert s["mean"] == pytest.approx({"ua": 0.7, "wa": 0.6, "macro_f1": 0.5})
    assert s["std"] == pytest.approx({"ua": 0.2, "wa": 0.0, "macro_f1": 0.1})  # ddof=1
    assert summarize_folds(folds[:1]) == {"mean": {"ua": 0.5, "wa": 0.6, "macro_f1": 0.4},
                                          "std": {"ua": 0.0, "wa": 0.0, "macro_f1": 0.0}}
    assert summarize_folds(folds, keys=("ua",)) == {"mean": {"ua": pytest.approx(0.7)},
                                                    "std": {"ua": pytest.approx(0.2)}}


@pytest.mark.parametrize("folds", [[], [{"ua": 0.5}], [{"ua": "x", "wa": 1, "macro_f1": 1}]])
def test_summarize_folds_rejects(folds):
    with pytest.raises(ConfigError):
        summarize_folds(folds)


def test_unweighted_accuracy_is_the_reports_ua():
    """The training loop's epoch selection scores UA as the reports do (classes absent from
    y_true ignored, a class never predicted counts 0)."""
    from emoscope.evaluate.metrics import classification_metrics, unweighted_accuracy

    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 3, 50), rng.integers(0, 4, 50)  # class 3 only ever predicted
    labels = ["a", "b", "c", "d"]
    want = classification_metrics(y, p, labels=labels)["ua"]
    assert unweighted_accuracy(y, p, 4) == pytest.approx(want)
    assert unweighted_accuracy(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 0]), 4) == 0.5
    assert unweighted_accuracy(np.array([], int), np.array([], int), 2) == 0.0
