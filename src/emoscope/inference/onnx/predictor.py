"""A :class:`~emoscope.inference.predictor.Predictor` whose model runs in onnxruntime.

Same API and same preprocessing as the torch Predictor (the feature extractor and standardiser
run exactly as there); only the model is an ONNX graph (see
:mod:`emoscope.inference.onnx`), run on the CPU provider with one intra-op thread by
default:

>>> from emoscope.inference.onnx.predictor import OnnxPredictor
>>> p = OnnxPredictor.from_bundle("runs/default/bundle")   # exported in memory  # doctest: +SKIP
>>> p = OnnxPredictor.from_onnx("model.onnx")              # no bundle needed     # doctest: +SKIP
>>> p.predict(y, sr)                                                              # doctest: +SKIP
Prediction(label='angry', probabilities={'angry': 0.81, ...})

:meth:`OnnxPredictor.from_onnx` needs only the ``.onnx`` file (its metadata describes the
features, the standardiser and the labels) and does not import torch, unless the feature itself
does (the ``ssl`` feature runs its encoder, which must exist at the recorded ``model_path``).

A batch of sequences of unequal lengths is run as one onnxruntime call per length (no padding,
since the graph has no mask), so every clip gets the probabilities it gets alone, as in the
torch path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emoscope.errors import BundleError, ConfigError, EmoscopeError
from emoscope.features.inputs import AudioInputs
from emoscope.inference.onnx.runtime import (
    INPUT_NAME,
    OUTPUT_NAME,
    metadata_from_session,
    onnx_session,
)
from emoscope.inference.predictor import Predictor

__all__ = ["OnnxBundle", "OnnxPredictor"]


@dataclass(frozen=True)
class _Standardize:
    """``(x - mean) / std`` per last dimension (the same arithmetic as training's
    ``Standardizer``, without importing torch)."""

    mean: np.ndarray
    std: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.std).astype(np.float32, copy=False)


@dataclass
class OnnxBundle:
    """What a Predictor needs of a bundle, rebuilt from an exported file's description.

    Attributes
    ----------
    path : Path
        The ``.onnx`` file.
    meta : dict
        Its description (:func:`~emoscope.inference.onnx.read_onnx_metadata`).
    extractor : FeatureExtractor
    labels : list of str
    standardizer : callable or None
    model : None
        No torch model: the graph runs in onnxruntime.
    """

    path: Path
    meta: dict[str, Any]
    extractor: Any
    labels: list[str]
    standardizer: Any
    model: Any = field(default=None)
    #: Exported graphs take audio only.
    video_extractor: Any = field(default=None)

    @property
    def family(self) -> str:
        return "onnx"

    @property
    def inputs(self) -> AudioInputs:
        """The audio input pipeline (decode, feature, standardiser), as a bundle's."""
        return AudioInputs(self.extractor, self.standardizer)


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True,
                                                                      default=str)


class OnnxPredictor(Predictor):
    """Per-label probabilities from waveforms, the model run by onnxruntime.

    Build it with :meth:`from_bundle` or :meth:`from_onnx`. ``predict``, ``predict_proba``,
    ``predict_file``, ``features`` and ``prediction`` behave as in :class:`Predictor`.
    Concurrent calls are fine (onnxruntime sessions are thread-safe).

    Attributes
    ----------
    session : onnxruntime.InferenceSession
    metadata : dict
        The exported file's description (labels, features, standardiser, model, check).
    onnx_path : Path or None
        The file the graph was loaded from (``None`` when exported in memory).
    intra_op_threads : int
    """

    def __init__(self, bundle: Any, session: Any, *, metadata: dict[str, Any],
                 onnx_path: str | os.PathLike[str] | None = None,
                 intra_op_threads: int = 1) -> None:
        super().__init__(bundle)
        self.session = session
        self.metadata = metadata
        self.onnx_path = None if onnx_path is None else Path(onnx_path)
        self.intra_op_threads = intra_op_threads
        spec = metadata["input"]
        self._kind: str = spec["kind"]
        self._shape: list[int | str] = list(spec["shape"])

    # ------------------------------------------------------------------------- construction

    @classmethod
    def from_bundle(cls, path: str | os.PathLike[str] | None = None,
                    onnx_path: str | os.PathLike[str] | None = None, *,
                    trusted: bool = False, intra_op_threads: int = 1,
                    opset: int | None = None) -> OnnxPredictor:
        """A bundle's pipeline with its model in onnxruntime.

        Parameters
        ----------
        path : path, optional
            A torch bundle folder (``None``: the shipped default model).
        onnx_path : path, optional
            An existing export of this bundle (``export_onnx`` or ``emoscope export``).
            ``None``: export now, in memory (a few seconds, checked against torch as on
            export; nothing is written).
        trusted : bool
            As for :meth:`Predictor.from_bundle`; a scikit-learn bundle is refused anyway.
        intra_op_threads : int
            onnxruntime threads per operator (1; 0: one per core).
        opset : int, optional
            Opset of the in-memory export (default 17); ignored with ``onnx_path``.

        Raises
        ------
        BundleError
            Missing, corrupt or incomplete bundle or ONNX file, or an ONNX file exported from
            another bundle (labels, features, standardiser or model differ).
        ConfigError
            A scikit-learn bundle, or a model the exporter cannot translate.
        EmoscopeError
            The in-memory export disagrees with torch.
        """
        from emoscope.inference.onnx.export import export_bundle

        base = Predictor.from_bundle(path, trusted=trusted)
        bundle = base.bundle
        if bundle.family != "torch":
            raise ConfigError(f"{bundle.path}: only torch bundles export to ONNX; this one "
                              f"holds a scikit-learn model ({bundle.meta['model']['name']})")
        if onnx_path is None:
            data, meta = export_bundle(bundle, opset=opset)
            session = onnx_session(data, intra_op_threads=intra_op_threads)
            return cls(bundle, session, metadata=meta, intra_op_threads=intra_op_threads)
        session = onnx_session(onnx_path, intra_op_threads=intra_op_threads)
        meta = metadata_from_session(session, source=str(onnx_path))
        m = bundle.meta
        for key, ours in (("labels", list(bundle.labels)), ("features", m["features"]),
                          ("model", m["model"]), ("standardizer", m.get("standardizer"))):
            if not _same(meta.get(key), ours):
                raise BundleError(f"{onnx_path}: was not exported from {bundle.path} (its "
                                  f"{key} differ); export it again with `emoscope export`")
        return cls(bundle, session, metadata=meta, onnx_path=onnx_path,
                   intra_op_threads=intra_op_threads)

    @classmethod
    def from_onnx(cls, onnx_path: str | os.PathLike[str], *,
                  intra_op_threads: int = 1) -> OnnxPredictor:
        """A Predictor from an exported ``.onnx`` file alone (no bundle folder, no torch model).

        Parameters
        ----------
        onnx_path : path
            A file written by :func:`~emoscope.inference.onnx.export_onnx`.
        intra_op_threads : int
            onnxruntime threads per operator (1; 0: one per core).

        Raises
        ------
        BundleError
            No such file, not an ONNX model, not exported by emoscope, a newer format, or a
            feature extractor that cannot be rebuilt from its description.
        """
        from emoscope import features

        p = Path(onnx_path)
        session = onnx_session(p, intra_op_threads=intra_op_threads)
        meta = metadata_from_session(session, source=str(p))
        try:
            extractor = features.create(meta["features"])
        except BundleError:
            raise
        except EmoscopeError as exc:
            raise BundleError(f"{p}: cannot rebuild its feature extractor: {exc}") from None
        std = meta.get("standardizer")
        standardizer = None if std is None else _Standardize(
            np.asarray(std["mean"], np.float32), np.asarray(std["std"], np.float32))
        bundle = OnnxBundle(p, meta, extractor, list(meta["labels"]), standardizer)
        return cls(bundle, session, metadata=meta, onnx_path=p,
                   intra_op_threads=intra_op_threads)

    # ----------------------------------------------------------------------------- describe

    def __repr__(self) -> str:
        m = self.metadata
        where = self.onnx_path if self.onnx_path is not None else f"{self.bundle.path} (in memory)"
        return (f"OnnxPredictor({m['model']['name']} on {m['features']['name']}, "
                f"labels={self.labels}, from {where}, onnxruntime, "
                f"{self.intra_op_threads} intra-op thread(s))")

    @property
    def info(self) -> dict[str, Any]:
        """The description: labels, model, features, metrics, version, model card, and the
        export (file, opset, difference to torch measured on export)."""
        m = self.metadata
        source = m.get("bundle") or {}
        return {"labels": self.labels, "model": m["model"]["name"], "features": m["features"],
                "metrics": source.get("metrics"),
                "emoscope_version": source.get("emoscope_version"),
                "created": source.get("created"), "model_card": m.get("model_card"),
                "runtime": "onnxruntime",
                "onnx": {"path": None if self.onnx_path is None else str(self.onnx_path),
                         "opset": m.get("opset"), "exported": m.get("exported"),
                         "max_abs_diff": (m.get("check") or {}).get("max_abs_diff")}}

    # ---------------------------------------------------------------- features -> probabilities

    def _check_shape(self, x: np.ndarray) -> None:
        want = self._shape[1:]  # without the batch axis
        ok = x.ndim == len(want) and all(isinstance(w, str) or w == d
                                         for w, d in zip(want, x.shape, strict=True))
        if not ok:
            shown = ", ".join(str(w) for w in want)
            raise ConfigError(f"the ONNX model takes {self._kind} features of shape ({shown}); "
                              f"got {tuple(x.shape)}")

    def proba_from_features(self, feats: Sequence[np.ndarray]) -> np.ndarray:
        """Probabilities ``(len(feats), n_labels)`` from :meth:`features` outputs.

        Items of one shape run as one batch; sequences of different lengths run separately
        (no padding), so each gets the probabilities it gets alone.

        Raises
        ------
        ConfigError
            An item whose shape the graph does not take.
        """
        n = len(feats)
        out = np.zeros((n, len(self.labels)), np.float32)
        if not n:
            return out
        arrays = [np.ascontiguousarray(f, dtype=np.float32) for f in feats]
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, a in enumerate(arrays):
            self._check_shape(a)
            groups.setdefault(a.shape, []).append(i)
        for idx in groups.values():
            x = np.stack([arrays[i] for i in idx])  # (b, ...) one shape
            out[idx] = self.session.run([OUTPUT_NAME], {INPUT_NAME: x})[0]
        return out
