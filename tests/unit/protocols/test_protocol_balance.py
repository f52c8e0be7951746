"""Class weights, oversampling and undersampling of training sets."""

from __future__ import annotations

from collections import Counter

import pytest

from emoscope.errors import ConfigError, ProtocolError
from emoscope.protocols import class_weights, oversample, undersample

LABELS = ["sad"] * 6 + ["angry"] * 3 + ["happy"] * 1
IDS = [f"u{i}" for i in range(len(LABELS))]


def test_balanced_weights():
    w = class_weights(LABELS)
    assert list(w) == ["angry", "happy", "sad"]
    assert w == pytest.approx({"sad": 10 / (3 * 6), "angry": 10 / (3 * 3), "happy": 10 / 3})
    # every class carries the same total weight
    totals = {c: w[c] * n for c, n in Counter(LABELS).items()}
    assert len({round(v, 9) for v in totals.values()}) == 1


def test_inverse_sqrt_weights():
    w = class_weights(LABELS, scheme="inverse_sqrt")
    assert w["happy"] / w["sad"] == pytest.approx(6 ** 0.5)
    assert w["happy"] > w["angry"] > w["sad"]


@pytest.mark.parametrize("scheme", ["balanced", "inverse_sqrt"])
def test_mean_weight_per_utterance_is_one(scheme):
    w = class_weights(LABELS, scheme=scheme)
    assert sum(w[lab] for lab in LABELS) / len(LABELS) == pytest.approx(1.0)


def test_equal_classes_weigh_one():
    assert class_weights(["a", "b", "a", "b"]) == {"a": 1.0, "b": 1.0}


def test_classes_set_the_order():
    w = class_weights(LABELS, classes=["sad", "happy", "angry"])
    assert list(w) == ["sad", "happy", "angry"]


def test_class_without_training_data():
    with pytest.raises(ProtocolError, match="calm"):
        class_weights(LABELS, classes=["sad", "happy", "angry", "calm"])
    with pytest.raises(ProtocolError, match="not in classes"):
        class_weights(LABELS, classes=["sad", "happy"])


@pytest.mark.parametrize(("labels", "scheme"), [(LABELS, "log"), ([], "balanced")])
def test_bad_weight_input(labels, scheme):
    with pytest.raises(ConfigError):
        class_weights(labels, scheme=scheme)


def test_oversample_equalises_and_keeps_everything():
    out = oversample(IDS, LABELS, seed=0)
    lab = dict(zip(IDS, LABELS, strict=True))
    assert Counter(lab[i] for i in out) == {"sad": 6, "angry": 6, "happy": 6}
    assert out[: len(IDS)] == IDS
    assert out == oversample(IDS, LABELS, seed=0)
    assert out != oversample(IDS, LABELS, seed=1)


def test_undersample_equalises_without_repeats():
    out = undersample(IDS, LABELS, seed=0)
    lab = dict(zip(IDS, LABELS, strict=True))
    assert Counter(lab[i] for i in out) == {"sad": 1, "angry": 1, "happy": 1}
    assert len(set(out)) == len(out)
    assert out == sorted(out, key=IDS.index)  # original order kept
    assert "u9" in out  # the only happy utterance
    seeds = {tuple(undersample(IDS, LABELS, seed=s)) for s in range(10)}
    assert len(seeds) > 1


@pytest.mark.parametrize("fn", [oversample, undersample])
def test_sampling_edge_cases(fn):
    assert fn([], [], seed=0) == []
    with pytest.raises(ConfigError, match="2 ids but 1 labels"):
        fn(["a", "b"], ["x"], seed=0)
