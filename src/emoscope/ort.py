"""onnxruntime sessions: the one builder every ONNX model in emoscope is run with (exported
models, Silero VAD).

Sessions run on the CPU, operators one after the other, with a given number of threads per
operator; a file onnxruntime cannot run raises :class:`~emoscope.errors.BundleError` with
onnxruntime's first line of explanation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from emoscope.errors import BundleError, ConfigError

__all__ = ["onnx_session", "ort_errors"]


def ort_errors() -> tuple[type[BaseException], ...]:
    """onnxruntime's own exception types (not exported under one base class)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    names = ("Fail", "InvalidArgument", "InvalidProtobuf", "NoSuchFile", "NoModel",
             "InvalidGraph", "NotImplemented", "RuntimeException", "ModelLoaded",
             "EngineError", "EPFail")
    found = tuple(t for n in names if isinstance(t := getattr(state, n, None), type))
    return (*found, RuntimeError, OSError, ValueError)


def onnx_session(model: str | os.PathLike[str] | bytes, *, intra_op_threads: int = 1) -> Any:
    """An onnxruntime CPU session for a model file (or its bytes).

    Parameters
    ----------
    model : path or bytes
        An ``.onnx`` file, or a serialised model.
    intra_op_threads : int
        Threads one operator may use (1: the calling thread only; 0: onnxruntime's default,
        one per core). Operators run one after the other (sequential execution).

    Returns
    -------
    onnxruntime.InferenceSession

    Raises
    ------
    BundleError
        No such file, or not a model onnxruntime can run.
    ConfigError
        ``intra_op_threads`` negative or not an integer.
    """
    if (not isinstance(intra_op_threads, int) or isinstance(intra_op_threads, bool)
            or intra_op_threads < 0):
        raise ConfigError(f"intra_op_threads must be an integer >= 0 (0: onnxruntime's "
                          f"default), got {intra_op_threads!r}")
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = intra_op_threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3  # errors only: no warnings about unused initialisers
    source = "the exported model" if isinstance(model, bytes) else str(model)
    if not isinstance(model, bytes):
        if not Path(model).is_file():
            raise BundleError(f"{source}: no such ONNX file")
        model = str(model)
    try:
        return ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])
    except ort_errors() as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BundleError(f"{source}: not a model onnxruntime can run ({first})") from None
