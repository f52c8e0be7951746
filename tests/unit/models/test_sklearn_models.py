"""svm, logreg, gbt: scikit-learn pipelines behind the model contract."""

from __future__ import annotations

import numpy as np
import pytest

from emoscope import models
from emoscope.errors import ConfigError

NAMES = ["svm", "logreg", "gbt"]
FAST = {"svm": {}, "logreg": {}, "gbt": {"max_iter": 20}}


def data(n=60, dim=5, classes=(0, 1, 3), seed=0):
    """Separable blobs of the given label indices (class 2 missing by default)."""
    rng = np.random.default_rng(seed)
    y = np.array([classes[i % len(classes)] for i in range(n)])
    x = rng.normal(size=(n, dim)) + 3.0 * y[:, None] * (np.arange(dim) == 0)
    return x, y


def build(name, **opts):
    return models.build_model(name, input_shape=(5,), n_classes=4, **{**FAST[name], **opts})


@pytest.mark.parametrize("name", NAMES)
def test_missing_class_gets_zero_probability(name):
    x, y = data()
    model = build(name).fit(x, y)
    p = model.predict_proba(x)
    assert p.shape == (60, 4) and np.allclose(p.sum(1), 1) and np.all(p[:, 2] == 0)
    assert model.classes_.tolist() == [0, 1, 3]
    assert (model.predict(x) == y).mean() > 0.9
    assert model.family == "sklearn" and models.model_spec(model)["name"] == name


@pytest.mark.parametrize("name", NAMES)
def test_class_weight_sample_weight_and_seed(name):
    x, y = data(n=45, classes=(0, 0, 1))
    w = np.where(y == 1, 2.0, 1.0)
    a = build(name, class_weight="balanced", seed=3).fit(x, y, sample_weight=w)
    b = build(name, class_weight="balanced", seed=3).fit(x, y, sample_weight=w)
    assert np.array_equal(a.predict_proba(x), b.predict_proba(x))
    assert build(name, standardize=False).fit(x, y).predict_proba(x).shape == (45, 4)


@pytest.mark.parametrize("name", NAMES)
def test_bad_data(name):
    x, y = data()
    model = build(name)
    with pytest.raises(ConfigError, match="not fitted"):
        model.predict_proba(x)
    with pytest.raises(ConfigError, match=r"shape \(N, 5\)"):
        model.fit(x[:, :3], y)
    with pytest.raises(ConfigError, match=r"in \[0, 4\)"):
        model.fit(x, y + 1)
    with pytest.raises(ConfigError, match="integer label"):
        model.fit(x, y.astype(float))
    with pytest.raises(ConfigError, match="single class"):
        model.fit(x, np.zeros(60, dtype=int))
    with pytest.raises(ConfigError, match="sample_weight"):
        model.fit(x, y, sample_weight=-np.ones(60))
    x_nan = x.copy()
    x_nan[0, 0] = np.nan
    with pytest.raises(ConfigError, match="finite"):
        model.fit(x_nan, y)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(10, 5), (3, 8, 8)])
def test_wrong_kind(name, shape):
    with pytest.raises(ConfigError, match=f"'{name}' takes vector features"):
        models.build_model(name, input_shape=shape, n_classes=4)


@pytest.mark.parametrize(("name", "opts", "match"), [
    ("svm", {"C": 0}, "C=0.0 must be positive"),
    ("svm", {"gamma": "big"}, "gamma='big'"),
    ("svm", {"kernel": "rbf2"}, "kernel='rbf2'"),
    ("logreg", {"max_iter": 1.5}, "max_iter=1.5 should be int"),
    ("gbt", {"max_depth": 0}, "max_depth=0 must be positive"),
    ("gbt", {"class_weight": "auto"}, "class_weight='auto'"),
    ("gbt", {"n_estimators": 10}, "unknown option.*n_estimators"),
])
def test_bad_options(name, opts, match):
    with pytest.raises(ConfigError, match=match):
        models.build_model(name, input_shape=(5,), n_classes=4, **opts)


@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("classes", [(0, 1, 3), (1, 2)])
def test_logreg_state_is_plain_arrays(standardize, classes):
    x, y = data(classes=classes)
    model = build("logreg", standardize=standardize).fit(x, y)
    state = model.get_state()
    assert state["format"] == "arrays" and "blob" not in state
    assert all(isinstance(v, np.ndarray) for v in state["arrays"].values())
    again = models.SklearnModel.from_state(state)
    assert np.array_equal(again.predict_proba(x), model.predict_proba(x))
    bad = {**state, "arrays": {**state["arrays"], "coef": state["arrays"]["coef"][:, :2]}}
    with pytest.raises(ConfigError, match="bad array state"):
        models.SklearnModel.from_state(bad)


@pytest.mark.parametrize("name", ["svm", "gbt"])
def test_pickled_state_needs_trust(name):
    x, y = data()
    model = build(name).fit(x, y)
    state = model.get_state()
    assert state["format"] == "pickle" and isinstance(state["blob"], bytes)
    with pytest.raises(ConfigError, match="trusted=True"):
        models.SklearnModel.from_state(state)
    again = models.SklearnModel.from_state(state, trusted=True)
    assert np.array_equal(again.predict_proba(x), model.predict_proba(x))
    corrupt = {**state, "blob": state["blob"][:-1] + b"x"}
    with pytest.raises(ConfigError, match="corrupt"):
        models.SklearnModel.from_state(corrupt, trusted=True)
    with pytest.warns(UserWarning, match="scikit-learn 0.1"):
        models.SklearnModel.from_state({**state, "sklearn_version": "0.1"}, trusted=True)


def test_state_errors():
    with pytest.raises(ConfigError, match="nothing to save"):
        build("logreg").get_state()
    with pytest.raises(ConfigError, match="not an emoscope sklearn model state"):
        models.SklearnModel.from_state({"format": "arrays"})
    torch_spec = models.model_spec(models.build_model("mlp", input_shape=(5,), n_classes=4))
    with pytest.raises(ConfigError, match="not an sklearn model"):
        models.SklearnModel.from_state({"spec": torch_spec, "format": "arrays"})
    x, y = data()
    state = build("svm").fit(x, y).get_state()
    with pytest.raises(ConfigError, match="expected a state in 'arrays' format"):
        build("logreg").load_state(state)


def test_svm_calibration_folds_follow_the_smallest_class():
    x, y = data(n=20, classes=(0, 1))
    y[:] = 0
    y[[1, 3, 5]] = 1  # three examples of class 1: three folds
    model = build("svm").fit(x, y)
    assert model.pipeline[-1].cv == 3 and model.predict_proba(x).shape == (20, 4)
    y[[3, 5]] = 0  # one example: no calibration possible
    with pytest.raises(ConfigError, match="at least 2 training examples"):
        build("svm").fit(x, y)
