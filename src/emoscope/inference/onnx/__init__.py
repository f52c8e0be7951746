"""ONNX: export a torch bundle to one self-describing ``.onnx`` file, and predict with it.

============================================ ================================================
module                                       what
============================================ ================================================
:mod:`emoscope.inference.onnx.export`        the export, checked against torch on export
:mod:`emoscope.inference.onnx.runtime`       onnxruntime sessions, the metadata in the file
:mod:`emoscope.inference.onnx.predictor`     :class:`OnnxPredictor`: a Predictor on onnxruntime
============================================ ================================================
"""

from emoscope.inference.onnx.export import (
    DEFAULT_ATOL,
    DEFAULT_OPSET,
    MAX_OPSET,
    MIN_OPSET,
    export_bundle,
    export_onnx,
)
from emoscope.inference.onnx.predictor import OnnxBundle, OnnxPredictor
from emoscope.inference.onnx.runtime import (
    INPUT_NAME,
    METADATA_KEY,
    ONNX_FORMAT,
    ONNX_FORMAT_VERSION,
    OUTPUT_NAME,
    metadata_from_session,
    onnx_session,
    read_onnx_metadata,
)

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_OPSET",
    "INPUT_NAME",
    "MAX_OPSET",
    "METADATA_KEY",
    "MIN_OPSET",
    "ONNX_FORMAT",
    "ONNX_FORMAT_VERSION",
    "OUTPUT_NAME",
    "OnnxBundle",
    "OnnxPredictor",
    "export_bundle",
    "export_onnx",
    "metadata_from_session",
    "onnx_session",
    "read_onnx_metadata",
]
