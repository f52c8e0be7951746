"""Exported emoscope models at run time: onnxruntime sessions and the description inside
each ``.onnx`` file (see :mod:`emoscope.inference.onnx.export` for what it holds).

>>> meta = read_onnx_metadata("model.onnx")                  # doctest: +SKIP
>>> session = onnx_session("model.onnx", intra_op_threads=1)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from emoscope.errors import BundleError
from emoscope.ort import onnx_session

__all__ = [
    "INPUT_NAME",
    "METADATA_KEY",
    "ONNX_FORMAT",
    "ONNX_FORMAT_VERSION",
    "OUTPUT_NAME",
    "metadata_from_session",
    "onnx_session",
    "ort_version",
    "read_onnx_metadata",
]

#: ``format`` of the ``"emoscope"`` metadata entry.
ONNX_FORMAT = "emoscope-onnx"
#: Version of that metadata's layout; files of a newer version are refused.
ONNX_FORMAT_VERSION = 1
#: The ``metadata_props`` key holding the JSON description.
METADATA_KEY = "emoscope"
#: Names of the graph's input and output.
INPUT_NAME = "features"
OUTPUT_NAME = "probabilities"


def _check_metadata(meta: Any, source: str) -> dict[str, Any]:
    if not isinstance(meta, dict) or meta.get("format") != ONNX_FORMAT:
        raise BundleError(f"{source}: not an emoscope ONNX export (no {ONNX_FORMAT!r} "
                          f"description in its {METADATA_KEY!r} metadata)")
    try:
        version = int(meta.get("format_version", 0))
    except (TypeError, ValueError):
        version = -1
    if version < 1:
        raise BundleError(f"{source}: bad format_version {meta.get('format_version')!r}")
    if version > ONNX_FORMAT_VERSION:
        raise BundleError(f"{source}: emoscope ONNX format {version} is newer than this "
                          f"emoscope reads ({ONNX_FORMAT_VERSION}); upgrade emoscope")
    missing = [k for k in ("labels", "features", "model", "input", "output") if k not in meta]
    if missing:
        raise BundleError(f"{source}: incomplete emoscope metadata (missing "
                          f"{', '.join(missing)})")
    return meta


def metadata_from_session(session: Any, *, source: str = "the ONNX model") -> dict[str, Any]:
    """The ``"emoscope"`` description of a model loaded in an onnxruntime session.

    Raises
    ------
    BundleError
        No such description (not exported by emoscope), unreadable, or of a newer format.
    """
    raw = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    if raw is None:
        return _check_metadata(None, source)
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BundleError(f"{source}: corrupt {METADATA_KEY!r} metadata ({exc})") from None
    return _check_metadata(meta, source)


def read_onnx_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON description stored in an exported ``.onnx`` file (see the module docstring).

    Raises
    ------
    BundleError
        No such file, not an ONNX model, or not one exported by emoscope.
    """
    import onnx

    p = Path(path)
    if not p.is_file():
        raise BundleError(f"{p}: no such ONNX file")
    try:
        model = onnx.load(str(p), load_external_data=False)
    except Exception as exc:  # protobuf's DecodeError and onnx's own errors share no base
        raise BundleError(f"{p}: not an ONNX model ({type(exc).__name__})") from None
    props = {e.key: e.value for e in model.metadata_props}
    if METADATA_KEY not in props:
        return _check_metadata(None, str(p))
    try:
        meta = json.loads(props[METADATA_KEY])
    except json.JSONDecodeError as exc:
        raise BundleError(f"{p}: corrupt {METADATA_KEY!r} metadata ({exc})") from None
    return _check_metadata(meta, str(p))


# --------------------------------------------------------------------------------------------
# Export


def ort_version() -> str:
    import onnxruntime as ort

    return str(ort.__version__)
