"""Inference: the Predictor (from a model bundle), files and folders, long-audio timelines,
streaming, ONNX.

>>> from emoscope.inference import Predictor, timeline, StreamingPredictor   # doctest: +SKIP

The ONNX path (``OnnxPredictor``, ``export_onnx``) is imported on first use, so ``onnx`` is only
loaded by those who use it.
"""

from typing import Any

from emoscope.inference.batch import BatchResult, FilePrediction, find_audio_files, predict_files
from emoscope.inference.predictor import (
    DEFAULT_MAX_DURATION,
    Prediction,
    Predictor,
    check_not_silent,
    default_bundle_path,
)
from emoscope.inference.stream import Event, StreamingPredictor
from emoscope.inference.timeline import Segment, Timeline, timeline

__all__ = [
    "DEFAULT_MAX_DURATION",
    "BatchResult",
    "Event",
    "FilePrediction",
    "OnnxPredictor",
    "Prediction",
    "Predictor",
    "Segment",
    "StreamingPredictor",
    "Timeline",
    "check_not_silent",
    "default_bundle_path",
    "export_onnx",
    "find_audio_files",
    "predict_files",
    "timeline",
]


def __getattr__(name: str) -> Any:
    if name == "OnnxPredictor":
        from emoscope.inference.onnx.predictor import OnnxPredictor

        return OnnxPredictor
    if name == "export_onnx":
        from emoscope.inference.onnx import export_onnx

        return export_onnx
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
