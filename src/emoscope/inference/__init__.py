"""Inference: the Predictor (from a model bundle), long-audio timelines, streaming, ONNX."""

from emoscope.inference.predictor import (
    DEFAULT_MAX_DURATION,
    Prediction,
    Predictor,
    check_not_silent,
    default_bundle_path,
)

__all__ = [
    "DEFAULT_MAX_DURATION",
    "Prediction",
    "Predictor",
    "check_not_silent",
    "default_bundle_path",
]
