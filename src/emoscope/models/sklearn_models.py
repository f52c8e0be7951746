"""Classical classifiers on vector features: SVM, logistic regression, gradient-boosted trees.

Each is a :class:`SklearnModel`: a ``StandardScaler`` (fitted on the training data only) and the
estimator in one pipeline, seeded from ``config.seed``, with the same construction and spec as
the torch models (:func:`emoscope.models.build_model`, :func:`emoscope.models.model_spec`)::

    >>> model = build_model("svm", input_shape=(88,), n_classes=4, C=10.0)
    >>> model.fit(X_train, y_train)                 # y: label indices 0..n_classes-1
    >>> model.predict_proba(X_test).shape           # (N, 4), columns in label-index order

``predict_proba`` always has ``n_classes`` columns in label-index order: a class missing from the
training data gets probability 0.

Persistence (:meth:`SklearnModel.get_state`, :meth:`SklearnModel.from_state`):

- ``"logreg"`` is stored as plain arrays (scaler mean and scale, coefficients, intercepts):
  safe to load from anywhere, exact, and independent of scikit-learn's pickle format.
- ``"svm"`` and ``"gbt"`` are stored as a pickle of the fitted pipeline, because their fitted
  state lives in scikit-learn's private attributes. Unpickling can run arbitrary code, so
  :meth:`~SklearnModel.from_state` refuses such a state unless ``trusted=True``: load them only
  from a run directory you produced yourself, never from a bundle someone sent you. A pickle
  written by another scikit-learn version may fail to load (a warning says so).
"""

from __future__ import annotations

import hashlib
import pickle
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from emoscope.errors import ConfigError
from emoscope.models.base import (
    ModelConfig,
    _check_n_classes,
    _make_config,
    build_model,
    check_input_kind,
    model_spec,
    register_model,
)

if TYPE_CHECKING:  # scikit-learn takes seconds to import: only when a model is fitted or loaded
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

__all__ = ["GBT", "SVM", "GBTConfig", "LogReg", "LogRegConfig", "SVMConfig", "SklearnConfig",
           "SklearnModel"]


@dataclass(frozen=True)
class SklearnConfig(ModelConfig):
    """Options every sklearn model has.

    Attributes
    ----------
    class_weight : "balanced" or None
        Weight classes inversely to their frequency in the training data.
    standardize : bool
        Put a ``StandardScaler`` before the estimator.
    seed : int
        ``random_state`` of the estimator.
    """

    class_weight: Literal["balanced"] | None = None
    standardize: bool = True
    seed: int = 0


class SklearnModel:
    """A scikit-learn pipeline behind emoscope's model contract (vector input only).

    Subclasses set ``Config`` and implement :meth:`make_estimator`. ``name``, ``input_kinds``
    and ``family`` are set by :func:`~emoscope.models.register_model`.
    """

    name: ClassVar[str] = ""
    Config: ClassVar[type[SklearnConfig]] = SklearnConfig
    input_kinds: ClassVar[tuple[str, ...]] = ("vector",)
    family: ClassVar[str] = "sklearn"
    #: How :meth:`get_state` stores the fitted pipeline: "arrays" or "pickle".
    state_format: ClassVar[str] = "pickle"

    def __init__(self, config: SklearnConfig | dict[str, Any] | None = None, *,
                 input_shape: tuple[int, ...], n_classes: int) -> None:
        self.config = _make_config(type(self), config)
        self.input_kind = check_input_kind(type(self), input_shape)
        self.input_shape = tuple(input_shape)
        self.n_classes = _check_n_classes(n_classes)
        self.pipeline: Pipeline | None = None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config.to_dict().items())
        return (f"{type(self).__name__}({args}; input_shape={self.input_shape}, "
                f"n_classes={self.n_classes}, fitted={self.fitted})")

    def make_estimator(self, y: np.ndarray | None = None) -> Any:
        """A new, unfitted scikit-learn classifier built from ``config`` (``y``: the training
        labels it is about to be fitted on, when known)."""
        raise NotImplementedError

    def make_pipeline(self, y: np.ndarray | None = None) -> Pipeline:
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        steps = [("scaler", StandardScaler())] if self.config.standardize else []
        return Pipeline([*steps, ("clf", self.make_estimator(y))])

    @property
    def fitted(self) -> bool:
        return self.pipeline is not None

    @property
    def classes_(self) -> np.ndarray:
        """Label indices seen in training (the columns the estimator itself predicts)."""
        if self.pipeline is None:
            raise ConfigError(f"{self.name}: not fitted yet; call fit first")
        return self.pipeline[-1].classes_

    # -- data checks ---------------------------------------------------------------------------

    def _check_x(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.input_shape[0] or x.shape[0] == 0:
            raise ConfigError(f"{self.name}: expected X of shape (N, {self.input_shape[0]}) with "
                              f"N >= 1, got {x.shape}")
        if not np.issubdtype(x.dtype, np.number) or not np.isfinite(x).all():
            raise ConfigError(f"{self.name}: X must be finite numbers")
        return x.astype(np.float64, copy=False)

    def fit(self, x: Any, y: Any, *, sample_weight: Any = None) -> SklearnModel:
        """Fit on ``x (N, dim)`` and label indices ``y (N,)`` in ``[0, n_classes)``.

        At least two classes must be present; ``sample_weight (N,)`` is passed to the
        estimator. Refitting starts from scratch.
        """
        x = self._check_x(x)
        y = np.asarray(y)
        if y.shape != (x.shape[0],) or not np.issubdtype(y.dtype, np.integer):
            raise ConfigError(f"{self.name}: y must be {x.shape[0]} integer label indices, got "
                              f"{y.dtype} {y.shape}")
        if y.min() < 0 or y.max() >= self.n_classes:
            raise ConfigError(f"{self.name}: label indices must be in [0, {self.n_classes}), got "
                              f"{y.min()}..{y.max()}")
        if len(np.unique(y)) < 2:
            raise ConfigError(f"{self.name}: the training data holds a single class")
        params = {}
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=np.float64)
            if w.shape != y.shape or not np.isfinite(w).all() or (w < 0).any():
                raise ConfigError(f"{self.name}: sample_weight must be {len(y)} finite "
                                  "non-negative numbers")
            params["clf__sample_weight"] = w
        pipeline = self.make_pipeline(y)
        pipeline.fit(x, y, **params)
        self.pipeline = pipeline
        return self

    def predict_proba(self, x: Any) -> np.ndarray:
        """Class probabilities ``(N, n_classes)`` in label-index order (0 for classes absent
        from the training data)."""
        if self.pipeline is None:
            raise ConfigError(f"{self.name}: not fitted yet; call fit first")
        x = self._check_x(x)
        p = self.pipeline.predict_proba(x)  # (N, n_seen), columns = classes_
        out = np.zeros((x.shape[0], self.n_classes), dtype=np.float64)
        out[:, self.classes_] = p
        return out

    def predict(self, x: Any) -> np.ndarray:
        """Most probable label index per row, ``(N,)``."""
        return self.predict_proba(x).argmax(axis=1)

    # -- persistence ---------------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        """The fitted model as ``{"spec", "format", "sklearn_version", ...}``.

        ``format="arrays"``: ``"arrays"`` maps names to numpy arrays (no code on load).
        ``format="pickle"``: ``"blob"`` holds pickled bytes and ``"sha256"`` their digest; see
        the module docstring before loading one.
        """
        if self.pipeline is None:
            raise ConfigError(f"{self.name}: not fitted yet; nothing to save")
        import sklearn

        state: dict[str, Any] = {"spec": model_spec(self), "format": self.state_format,
                                 "sklearn_version": sklearn.__version__}
        if self.state_format == "arrays":
            state["arrays"] = self._to_arrays()
        else:
            blob = pickle.dumps(self.pipeline, protocol=pickle.HIGHEST_PROTOCOL)
            state.update(blob=blob, sha256=hashlib.sha256(blob).hexdigest())
        return state

    @staticmethod
    def from_state(state: dict[str, Any], *, trusted: bool = False) -> SklearnModel:
        """Rebuild a fitted model from :meth:`get_state` output.

        Raises
        ------
        ConfigError
            A malformed state, or a pickled one without ``trusted=True``.
        """
        if not isinstance(state, dict) or "spec" not in state or "format" not in state:
            raise ConfigError("not an emoscope sklearn model state (needs 'spec' and 'format')")
        model = build_model(state["spec"])
        if not isinstance(model, SklearnModel):
            raise ConfigError(f"{state['spec'].get('name')!r} is not an sklearn model")
        model.load_state(state, trusted=trusted)
        return model

    def load_state(self, state: dict[str, Any], *, trusted: bool = False) -> None:
        """Load the fitted pipeline of :meth:`get_state` into this (same-spec) model."""
        import sklearn
        from sklearn.pipeline import Pipeline

        fmt = state.get("format")
        if fmt != self.state_format:
            raise ConfigError(f"{self.name}: expected a state in {self.state_format!r} format, "
                              f"got {fmt!r}")
        if state.get("sklearn_version") != sklearn.__version__:
            warnings.warn(f"{self.name}: state written by scikit-learn "
                          f"{state.get('sklearn_version')}, loading with {sklearn.__version__}",
                          stacklevel=2)
        if fmt == "arrays":
            self.pipeline = self._from_arrays(state["arrays"])
            return
        if not trusted:
            raise ConfigError(f"{self.name}: this state is a pickle, which can run arbitrary "
                              "code when loaded; pass trusted=True only for a run directory "
                              "you produced yourself")
        blob = state.get("blob")
        if not isinstance(blob, bytes) or hashlib.sha256(blob).hexdigest() != state.get("sha256"):
            raise ConfigError(f"{self.name}: the pickled state is missing or corrupt "
                              "(sha256 mismatch)")
        try:
            pipeline = pickle.loads(blob)
        except Exception as exc:  # an unpickling failure has many possible types
            raise ConfigError(f"{self.name}: cannot unpickle the state: {exc}") from None
        if not isinstance(pipeline, Pipeline):
            raise ConfigError(f"{self.name}: the pickled state is not a Pipeline")
        self.pipeline = pipeline

    def _to_arrays(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _from_arrays(self, arrays: dict[str, np.ndarray]) -> Pipeline:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SVMConfig(SklearnConfig):
    """Options of :class:`SVM` (``sklearn.svm.SVC`` with Platt-scaled probabilities).

    Attributes
    ----------
    C : float
        Regularisation (larger: less).
    kernel : "rbf", "linear", "poly" or "sigmoid"
    gamma : float, "scale" or "auto"
        Kernel coefficient.
    """

    C: float = 1.0
    kernel: Literal["rbf", "linear", "poly", "sigmoid"] = "rbf"
    gamma: float | Literal["scale", "auto"] = "scale"

    def validate(self) -> None:
        self._positive("C")
        if isinstance(self.gamma, float):
            self._positive("gamma")


@register_model("svm", input_kinds=("vector",), family="sklearn")
class SVM(SklearnModel):
    """Support vector machine with Platt-scaled probabilities.

    ``SVC(probability=True)`` is deprecated since scikit-learn 1.9; its replacement is used:
    ``CalibratedClassifierCV(SVC(), method="sigmoid", ensemble=False)``: the SVC is fitted on all
    the training data and one sigmoid per class (one-vs-rest, renormalised) is fitted on
    out-of-fold decision values from a stratified ``min(5, smallest class count)``-fold split
    (unshuffled, so deterministic). Every class present needs at least 2 training examples.
    Stored as a pickle (trusted directories only).
    """

    Config = SVMConfig
    config: SVMConfig

    def make_estimator(self, y: np.ndarray | None = None) -> CalibratedClassifierCV:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import SVC

        c = self.config
        folds = 5
        if y is not None:
            folds = min(5, int(np.unique(y, return_counts=True)[1].min()))
            if folds < 2:
                raise ConfigError(f"{self.name}: calibrating probabilities needs at least 2 "
                                  "training examples of every class present")
        svc = SVC(C=c.C, kernel=c.kernel, gamma=c.gamma, class_weight=c.class_weight,
                  random_state=c.seed)
        return CalibratedClassifierCV(svc, method="sigmoid", cv=folds, ensemble=False)


@dataclass(frozen=True)
class LogRegConfig(SklearnConfig):
    """Options of :class:`LogReg` (multinomial ``LogisticRegression``, L2, lbfgs).

    Attributes
    ----------
    C : float
        Inverse regularisation strength.
    max_iter : int
        Solver iterations.
    """

    C: float = 1.0
    max_iter: int = 1000

    def validate(self) -> None:
        self._positive("C", "max_iter")


@register_model("logreg", input_kinds=("vector",), family="sklearn")
class LogReg(SklearnModel):
    """Logistic regression. Stored as plain arrays (safe to load from anywhere)."""

    Config = LogRegConfig
    config: LogRegConfig
    state_format = "arrays"

    def make_estimator(self, y: np.ndarray | None = None) -> LogisticRegression:
        from sklearn.linear_model import LogisticRegression

        c = self.config
        return LogisticRegression(C=c.C, max_iter=c.max_iter, class_weight=c.class_weight,
                                  random_state=c.seed)

    def _to_arrays(self) -> dict[str, np.ndarray]:
        assert self.pipeline is not None
        clf = self.pipeline[-1]
        arrays = {"coef": clf.coef_, "intercept": clf.intercept_, "classes": clf.classes_}
        if self.config.standardize:
            scaler = self.pipeline[0]
            arrays.update(scaler_mean=scaler.mean_, scaler_scale=scaler.scale_,
                          scaler_var=scaler.var_)
        return {k: np.array(v) for k, v in arrays.items()}

    def _from_arrays(self, arrays: dict[str, np.ndarray]) -> Pipeline:
        dim = self.input_shape[0]
        try:
            coef = np.asarray(arrays["coef"], dtype=np.float64)
            intercept = np.asarray(arrays["intercept"], dtype=np.float64)
            classes = np.asarray(arrays["classes"]).astype(np.int64)
            rows = 1 if len(classes) == 2 else len(classes)
            if (coef.shape != (rows, dim) or intercept.shape != (rows,) or
                    len(classes) < 2 or classes.min() < 0 or classes.max() >= self.n_classes):
                raise ValueError("inconsistent shapes")
            pipeline = self.make_pipeline()
            clf = pipeline[-1]
            clf.coef_, clf.intercept_, clf.classes_ = coef, intercept, classes
            clf.n_features_in_ = dim
            clf.n_iter_ = np.zeros(1, dtype=np.int32)
            if self.config.standardize:
                scaler = pipeline[0]
                scaler.mean_ = np.asarray(arrays["scaler_mean"], dtype=np.float64)
                scaler.scale_ = np.asarray(arrays["scaler_scale"], dtype=np.float64)
                scaler.var_ = np.asarray(arrays["scaler_var"], dtype=np.float64)
                if not scaler.mean_.shape == scaler.scale_.shape == scaler.var_.shape == (dim,):
                    raise ValueError("inconsistent scaler shapes")
                scaler.n_features_in_ = dim
                scaler.n_samples_seen_ = np.int64(0)
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigError(f"{self.name}: bad array state ({exc})") from None
        return pipeline


@dataclass(frozen=True)
class GBTConfig(SklearnConfig):
    """Options of :class:`GBT` (``HistGradientBoostingClassifier``).

    Attributes
    ----------
    learning_rate : float
    max_iter : int
        Boosting iterations (trees per class).
    max_depth : int or None
        Tree depth limit (``None``: leaves limited by ``max_leaf_nodes`` only).
    max_leaf_nodes : int
    l2_regularization : float
    """

    learning_rate: float = 0.1
    max_iter: int = 200
    max_depth: int | None = None
    max_leaf_nodes: int = 31
    l2_regularization: float = 0.0

    def validate(self) -> None:
        self._positive("learning_rate", "max_iter", "max_depth", "max_leaf_nodes")
        if self.l2_regularization < 0:
            raise ConfigError(f"GBTConfig: option l2_regularization={self.l2_regularization} "
                              "must be >= 0")


@register_model("gbt", input_kinds=("vector",), family="sklearn")
class GBT(SklearnModel):
    """Histogram gradient-boosted trees (scaling does not matter to them; kept for uniformity).
    Stored as a pickle (trusted directories only)."""

    Config = GBTConfig
    config: GBTConfig

    def make_estimator(self, y: np.ndarray | None = None) -> HistGradientBoostingClassifier:
        from sklearn.ensemble import HistGradientBoostingClassifier

        c = self.config
        return HistGradientBoostingClassifier(
            learning_rate=c.learning_rate, max_iter=c.max_iter, max_depth=c.max_depth,
            max_leaf_nodes=c.max_leaf_nodes, l2_regularization=c.l2_regularization,
            class_weight=c.class_weight, random_state=c.seed)
