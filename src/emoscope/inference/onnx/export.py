"""ONNX export of a torch model bundle: one self-describing ``.onnx`` file, checked on export.

>>> from emoscope.inference.onnx import export_onnx, read_onnx_metadata
>>> export_onnx("runs/default/bundle", "model.onnx")                    # doctest: +SKIP
PosixPath('model.onnx')
>>> read_onnx_metadata("model.onnx")["check"]["max_abs_diff"]           # doctest: +SKIP
2.9802322387695312e-08

What is exported
    The bundle's model with a softmax appended: input ``features`` (float32, the bundle's
    *standardised* features), output ``probabilities`` (float32, ``(batch, n_labels)``, rows sum
    to 1, columns in the order of ``labels``). Input shapes by feature kind:

    ============ ================================ ==========================================
    kind         ``features``                     dynamic axes
    ============ ================================ ==========================================
    vector       ``(batch, dim)``                 batch
    sequence     ``(batch, frames, dim)``         batch, frames
    image        ``(batch, channels, H, W)``      batch (H and W are fixed by the feature)
    ============ ================================ ==========================================

    A batch of sequences must hold sequences of one length (no padding, no lengths input): the
    graph has no mask, so run unequal lengths one by one, as :class:`OnnxPredictor
    <emoscope.inference.onnx.predictor.OnnxPredictor>` does. The feature extraction itself is
    not in the graph: it stays numpy/librosa code (and the encoder, for ``ssl`` features).

Self-describing: metadata inside the file, no sidecar
    Everything else needed to predict is stored in the model's ``metadata_props`` under the key
    ``"emoscope"``, as one JSON object, so the ``.onnx`` file cannot be separated from its
    description. Any onnxruntime reads it
    (``InferenceSession(path).get_modelmeta().custom_metadata_map["emoscope"]``, also in C++,
    C#, Java and JavaScript), as does :func:`read_onnx_metadata`. Its keys:

    - ``format`` (``"emoscope-onnx"``), ``format_version``, ``emoscope_version``, ``exported``;
    - ``labels``: the output columns' names;
    - ``features``: the bundle's feature spec (``emoscope.features.create(spec)`` rebuilds the
      extractor: name, version, every option);
    - ``standardizer``: ``{"mean": [...], "std": [...]}`` per feature dimension, or ``null``;
      applied as ``(x - mean) / std`` to vector and sequence features (per frame) before the
      model, never to images;
    - ``model``: the bundle's model spec; ``input`` and ``output``: names, kinds and shapes;
    - ``opset``, ``exporter``; ``check``: the largest ``|torch - onnx|`` difference of the
      probabilities measured on export (``max_abs_diff``), the tolerance and the clips used;
    - ``bundle``: where it came from (path, creation time, fold, metrics summary) and
      ``model_card``: the bundle's MODEL_CARD.md text.

How it is exported
    With torch's TorchScript-based exporter (``torch.onnx.export(..., dynamo=False)``), which
    needs the ``onnx`` package but not ``onnxscript``. In torch 2.13 the default ``dynamo=True``
    exporter (which needs ``onnxscript``) fails on these models: it specialises the number of
    frames of an LSTM on the example input, cannot decompose the CRNN-ASP graph, and gives a
    fully connected layer the wrong input size after adaptive pooling. The TorchScript exporter
    maps ``nn.GRU``/``nn.LSTM``/``nn.RNN`` to ONNX's own recurrent operators (no unrolling), so
    the number of frames stays free. Two rewrites, on a copy of the model, make every model
    family exportable without changing its function:

    - the conv blocks' channels-last reordering (a memory layout, not a computation: an
      ``empty_like(...).copy_`` the exporter has no operator for) is skipped while exporting
      (:mod:`emoscope.models.layers`);
    - for image models (fixed input size), adaptive pooling gets static sizes: an axis kept
      as it is (``None`` in ``output_size``) gets its concrete size, and an average pooling
      whose input size is not a multiple of its output size becomes the equal slices and
      means (the exporter translates only whole multiples; :mod:`emoscope.models.export`).

Checked on export
    The model is traced on one generated clip, then the graph is run in onnxruntime on the
    features of four others of other lengths and kinds of sound (speech-like, a chirp, a tone
    in noise, quiet speech-like; each alone, and together), against the torch path of
    :class:`~emoscope.inference.predictor.Predictor`. When a probability differs by more than
    ``atol`` (``1e-4``), or a log-probability (of probabilities above ``1e-4``) by more than
    ``1e-3``, nothing is written and an :class:`~emoscope.errors.EmoscopeError` says by how
    much. The usual cause is a model whose ``forward`` turns a size into a Python number
    (``float(x.shape[-1])``, ``int(...)``): the tracer freezes it at the traced clip's size.
    Only torch bundles export (scikit-learn models would need ``skl2onnx``).
"""

from __future__ import annotations

import copy
import io
import json
import os
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emoscope.errors import ConfigError, EmoscopeError
from emoscope.files import atomic_write_bytes
from emoscope.inference.onnx.runtime import (
    INPUT_NAME,
    METADATA_KEY,
    ONNX_FORMAT,
    ONNX_FORMAT_VERSION,
    OUTPUT_NAME,
    onnx_session,
    ort_version,
)

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_OPSET",
    "MAX_OPSET",
    "MIN_OPSET",
    "export_bundle",
    "export_onnx",
]

#: Opset written when none is asked for (run by onnxruntime >= 1.12 and most other runtimes).
DEFAULT_OPSET = 17
#: Opsets :func:`export_onnx` accepts (13: softmax over one axis; 20: the TorchScript
#: exporter's newest).
MIN_OPSET, MAX_OPSET = 13, 20
#: Largest ``|torch - onnx|`` difference of a probability accepted on export.
DEFAULT_ATOL = 1e-4
#: Largest ``|log p_torch - log p_onnx|`` accepted on export, over probabilities above
#: :data:`LOG_FLOOR` (more sensitive than the probabilities when the model is unsure).
LOG_ATOL = 1e-3
LOG_FLOOR = 1e-4
#: Duration (seconds) of the generated clip the model is traced with, and of the clips (a
#: speech-like sound, a chirp, a tone in noise, quiet speech-like) the export is checked on.
TRACE_SECONDS = 1.6
CHECK_SECONDS = (0.7, 2.3, 3.7, 5.1)


def _check_opset(opset: int | None) -> int:
    if opset is None:
        return DEFAULT_OPSET
    if not isinstance(opset, int) or isinstance(opset, bool) or not (
            MIN_OPSET <= opset <= MAX_OPSET):
        raise ConfigError(f"opset must be an integer in [{MIN_OPSET}, {MAX_OPSET}], got "
                          f"{opset!r}")
    return opset


def _short(exc: BaseException) -> str:
    """The first line of an exporter error, without the graph dump some of them append."""
    text = str(exc).split(" [Caused by", 1)[0].strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line[:300]


def _input_shape(kind: str, model: Any) -> list[int | str]:
    """The graph input's shape, with names for dynamic axes."""
    shape = list(model.input_shape)
    if kind == "vector":
        return ["batch", shape[0]]
    if kind == "sequence":
        return ["batch", "frames", shape[-1]]
    return ["batch", *shape]  # image: (channels, H, W) fixed by the feature


def _probe_features(predictor: Any) -> tuple[np.ndarray, list[np.ndarray]]:
    """The bundle's standardised features of generated clips: one to trace the model with,
    and several others, of other lengths and kinds of sound, to check the graph on (a size the
    tracer froze as a constant shows only on an input of another size)."""
    from emoscope.audio.synth import chirp, noise, speechlike, tone

    sr = predictor.sample_rate
    trace = speechlike(seconds=TRACE_SECONDS, sr=sr, seed=11)
    s1, s2, s3, s4 = CHECK_SECONDS
    clips = [speechlike(seconds=s1, sr=sr, f0=220.0, seed=1),
             chirp(100.0, 0.45 * sr, seconds=s2, sr=sr, amplitude=0.3),
             tone(150.0, seconds=s3, sr=sr, amplitude=0.2)
             + noise(seconds=s3, sr=sr, amplitude=0.03, seed=3),
             speechlike(seconds=s4, sr=sr, f0=110.0, amplitude=0.05, seed=4)]
    return (predictor.features(trace, sr),
            [predictor.features(np.asarray(c, np.float32), sr) for c in clips])


def _check_groups(kind: str, feats: Sequence[np.ndarray]) -> list[list[np.ndarray]]:
    """Batches to compare torch and onnxruntime on: each item alone, and several together
    (sequences cut to one length, since the graph takes no padding)."""
    groups = [[f] for f in feats]
    if kind == "sequence":
        n = min(f.shape[0] for f in feats)
        groups.append([f[:n] for f in feats])
    else:
        groups.append(list(feats))
    return groups


def _export_bytes(bundle: Any, *, opset: int, example: np.ndarray) -> bytes:
    """Serialised ONNX model (no metadata yet) of ``bundle.model`` with a softmax."""
    import torch

    from emoscope.models.export import static_adaptive_pools, with_softmax

    net = copy.deepcopy(bundle.model).eval()
    kind = net.input_kind
    x = torch.from_numpy(np.ascontiguousarray(example, dtype=np.float32))
    if kind == "image":
        static_adaptive_pools(net, x)
    wrapped = with_softmax(net)
    axes: dict[str, dict[int, str]] = {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}}
    if kind == "sequence":
        axes[INPUT_NAME][1] = "frames"
    buf = io.BytesIO()
    name = bundle.meta["model"]["name"]
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the legacy exporter's DeprecationWarning, tracer
            torch.onnx.export(wrapped, (x,), buf, dynamo=False, input_names=[INPUT_NAME],
                              output_names=[OUTPUT_NAME], dynamic_axes=axes,
                              opset_version=opset, do_constant_folding=True)
    except EmoscopeError:
        raise
    except ModuleNotFoundError as exc:
        raise ConfigError(f"ONNX export needs the {exc.name!r} package (pip install "
                          f"{exc.name})") from None
    except (torch.onnx.errors.OnnxExporterError, RuntimeError, TypeError, ValueError) as exc:
        raise ConfigError(f"model {name!r} ({kind} input) cannot be exported to ONNX opset "
                          f"{opset}: {_short(exc)}") from None
    return buf.getvalue()


def _compare(predictor: Any, session: Any, groups: list[list[np.ndarray]]
             ) -> tuple[float, float]:
    """Largest ``|torch - onnxruntime|`` difference over ``groups``: of the probabilities, and
    of the log-probabilities above :data:`LOG_FLOOR` (``inf`` for non-finite output)."""
    worst_p = worst_log = 0.0
    for group in groups:
        ref = predictor.proba_from_features(group).astype(np.float64)
        got = session.run([OUTPUT_NAME], {INPUT_NAME: np.stack(group).astype(np.float32)})[0]
        if got.shape != ref.shape:
            raise EmoscopeError(f"the ONNX graph gives probabilities of shape {got.shape} where "
                                f"torch gives {ref.shape}")
        got = got.astype(np.float64)
        if not (np.isfinite(got).all() and np.isfinite(ref).all()):
            return np.inf, np.inf
        worst_p = max(worst_p, float(np.max(np.abs(ref - got))))
        keep = (ref > LOG_FLOOR) & (got > LOG_FLOOR)
        if keep.any():
            worst_log = max(worst_log, float(np.max(np.abs(np.log(ref[keep])
                                                           - np.log(got[keep])))))
    return worst_p, worst_log


def _describe(bundle: Any, *, kind: str, opset: int, check: dict[str, Any]) -> dict[str, Any]:
    import torch

    from emoscope import __version__

    m = bundle.meta
    card = bundle.path / "MODEL_CARD.md"
    return {
        "format": ONNX_FORMAT, "format_version": ONNX_FORMAT_VERSION,
        "emoscope_version": __version__, "exported": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "labels": list(bundle.labels), "features": m["features"],
        "standardizer": m.get("standardizer"), "model": m["model"],
        "input": {"name": INPUT_NAME, "kind": kind, "dtype": "float32",
                  "shape": _input_shape(kind, bundle.model),
                  "standardized": m.get("standardizer") is not None and kind != "image"},
        "output": {"name": OUTPUT_NAME, "dtype": "float32",
                   "shape": ["batch", len(bundle.labels)], "softmax": True},
        "opset": opset, "exporter": f"torch {torch.__version__} torch.onnx.export(dynamo=False)",
        "check": check,
        "bundle": {"path": str(Path(bundle.path).resolve()), "created": m.get("created"),
                   "fold": m.get("fold"), "emoscope_version": m.get("emoscope_version"),
                   "metrics": m.get("metrics")},
        "model_card": card.read_text() if card.is_file() else None,
    }


def _with_metadata(data: bytes, meta: dict[str, Any]) -> bytes:
    import onnx

    from emoscope import __version__

    model = onnx.load_model_from_string(data)
    model.producer_name = "emoscope"
    model.producer_version = __version__
    model.doc_string = (f"emoscope {meta['model']['name']} on {meta['features']['name']} "
                        f"features; labels: {', '.join(meta['labels'])}")
    del model.metadata_props[:]
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(meta, default=str)
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise ConfigError(f"the exported {meta['model']['name']!r} graph is not valid ONNX: "
                          f"{_short(exc)}") from None
    return model.SerializeToString()


def export_bundle(bundle: Any, *, opset: int | None = None,
                  atol: float = DEFAULT_ATOL) -> tuple[bytes, dict[str, Any]]:
    """Export a loaded bundle: the serialised ONNX model and its description.

    The in-memory half of :func:`export_onnx` (used by
    :meth:`~emoscope.inference.onnx.predictor.OnnxPredictor.from_bundle` without writing a
    file). Parameters and errors as :func:`export_onnx`.

    Returns
    -------
    data : bytes
        The ``.onnx`` file's content, description included.
    meta : dict
        The description (see the module docstring).
    """
    from emoscope.inference.predictor import Predictor

    opset = _check_opset(opset)
    if not (isinstance(atol, int | float) and not isinstance(atol, bool) and atol > 0):
        raise ConfigError(f"atol must be a positive number, got {atol!r}")
    if bundle.family != "torch":
        raise ConfigError(f"{bundle.path}: only torch bundles export to ONNX; this one holds a "
                          f"scikit-learn model ({bundle.meta['model']['name']})")
    predictor = Predictor(bundle)
    if predictor.needs_video:  # audio-visual (emoscope.video): not exportable yet
        raise ConfigError(f"{bundle.path}: models that look at the video (face frames) do not "
                          "export to ONNX yet")
    kind = bundle.model.input_kind
    trace, feats = _probe_features(predictor)
    data = _export_bytes(bundle, opset=opset, example=np.stack([trace, trace]))
    session = onnx_session(data)
    diff, log_diff = _compare(predictor, session, _check_groups(kind, feats))
    name = bundle.meta["model"]["name"]
    if not (diff <= atol and log_diff <= LOG_ATOL):
        hint = (" (a size frozen when the model was traced? see the model's forward)"
                if kind == "sequence" else "")
        raise EmoscopeError(f"the ONNX export of {name!r} disagrees with torch{hint}: "
                            f"probabilities differ by up to {diff:.3g} (tolerance {atol:g}), "
                            f"log-probabilities by {log_diff:.3g} (tolerance {LOG_ATOL:g}); "
                            "nothing written")
    check = {"max_abs_diff": diff, "max_abs_log_diff": log_diff, "atol": atol,
             "log_atol": LOG_ATOL, "trace_seconds": TRACE_SECONDS,
             "clip_seconds": list(CHECK_SECONDS), "onnxruntime": ort_version()}
    meta = _describe(bundle, kind=kind, opset=opset, check=check)
    return _with_metadata(data, meta), meta


def _peek_family(path: Path) -> str | None:
    """The ``family`` recorded in a bundle's bundle.json, if readable (else ``None``)."""
    try:
        meta = json.loads((path / "bundle.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return meta.get("family") if isinstance(meta, dict) else None


def export_onnx(bundle_path: str | os.PathLike[str], out_path: str | os.PathLike[str], *,
                opset: int | None = None, atol: float = DEFAULT_ATOL) -> Path:
    """Export a torch model bundle's model to one self-describing ONNX file, checked on export.

    Parameters
    ----------
    bundle_path : path
        A bundle folder (see :mod:`emoscope.bundle`).
    out_path : path
        The ``.onnx`` file to write (folders are created; an existing file is replaced, only
        once the export has passed its check).
    opset : int, optional
        ONNX opset, in ``[13, 20]`` (default 17).
    atol : float
        Largest ``|torch - onnx|`` difference of a probability accepted by the check.

    Returns
    -------
    Path
        ``out_path``. Input ``features`` ``(batch, dim)``, ``(batch, frames, dim)`` or
        ``(batch, C, H, W)``; output ``probabilities`` ``(batch, n_labels)``; the description
        in the metadata (:func:`read_onnx_metadata`), with the difference measured.

    Raises
    ------
    BundleError
        Missing, corrupt or incomplete bundle.
    ConfigError
        A scikit-learn bundle (only torch bundles export), a bad ``opset`` or ``atol``, a model
        the exporter cannot translate (the message says why), ``out_path`` is a folder.
    EmoscopeError
        onnxruntime's probabilities differ from torch's by more than ``atol``.
    """
    from emoscope.bundle import load_bundle

    src, out = Path(bundle_path), Path(out_path)
    if out.is_dir():
        raise ConfigError(f"{out}: is a folder; give the .onnx file to write")
    if _peek_family(src) == "sklearn":  # before loading: a pickled model needs trusted=True
        raise ConfigError(f"{src}: only torch bundles export to ONNX; this one holds a "
                          "scikit-learn model")
    bundle = load_bundle(src)
    data, _ = export_bundle(bundle, opset=opset, atol=atol)
    out.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_bytes(out, data)
