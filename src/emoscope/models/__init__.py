"""Models: one file per family, each registered by name with a typed config.

>>> from emoscope import models
>>> model = models.build_model("crnn-asp", input_shape=(350, 64), n_classes=8)
>>> logits = model(x, lengths)            # x (B, T, 64) zero-padded, lengths (B,) int64
>>> spec = models.model_spec(model)       # stored in checkpoints: rebuild with build_model(spec)

======================= ============== ======================== ==================================
name                    family         input kinds              what
======================= ============== ======================== ==================================
``tess-lstm``           torch          vector, sequence         the TESS study's LSTM
``iemocap-cnn``         torch          image                    the IEMOCAP study's CNN
``iemocap-cnn-rnn``     torch          image                    ... CNN + tanh RNN
``iemocap-cnn-lstm``    torch          image                    ... CNN + LSTM
``mlp``                 torch          vector                   MLP on functionals
``crnn-asp``            torch          sequence                 conv + BiGRU + attentive stats pool
``ssl-head``            torch          sequence, vector         head on SSL encoder states
``layer-weighted-mlp``  torch          vector                   softmax-weighted layers + MLP
``svm``                 sklearn        vector                   SVC (rbf), Platt probabilities
``logreg``              sklearn        vector                   logistic regression
``gbt``                 sklearn        vector                   histogram gradient boosting
======================= ============== ======================== ==================================

Every module in this package except the infrastructure (``base``, ``batch``, ``layers``) defines
models and is imported automatically.
"""

from __future__ import annotations

from emoscope.models.base import (
    MODELS,
    ModelConfig,
    ModelSection,
    TorchModel,
    build_model,
    check_input_kind,
    input_kind,
    model_spec,
    n_parameters,
    register_model,
)
from emoscope.models.layers import AttentiveStatsPool, lengths_to_mask, masked_mean, masked_std
from emoscope.registry import import_plugins

import_plugins(__name__, __path__, infrastructure={"base", "batch", "layers"})

from emoscope.models.sklearn_models import SklearnModel  # noqa: E402 - imported above anyway


def available() -> list[str]:
    """Names of every registered model."""
    return MODELS.names()


__all__ = [
    "MODELS",
    "AttentiveStatsPool",
    "ModelConfig",
    "ModelSection",
    "SklearnModel",
    "TorchModel",
    "available",
    "build_model",
    "check_input_kind",
    "input_kind",
    "lengths_to_mask",
    "masked_mean",
    "masked_std",
    "model_spec",
    "n_parameters",
    "register_model",
]
