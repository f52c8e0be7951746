"""Model bundles: everything needed to predict, in one folder, loaded without running pickles.

::

    bundle/
      bundle.json          format version, labels, feature spec, model spec, standardiser,
                           metrics summary, training config, licence notes
      weights.safetensors  torch weights, or the arrays of an array-saved sklearn model
      model.pkl            only for sklearn models that cannot be saved as arrays (SVM, gradient
                           boosting): loaded only with ``trusted=True``
      MODEL_CARD.md        what it is, what it was trained on, how well it did, and on what

The Predictor (inference), the server and the ONNX export start from a bundle and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from emoscope.errors import BundleError, ConfigError

__all__ = ["BUNDLE_FORMAT", "BUNDLE_VERSION", "Bundle", "TrainedModel", "add_reference_metrics",
           "load_bundle", "save_bundle"]

BUNDLE_FORMAT = "emoscope-bundle"
BUNDLE_VERSION = 1


@dataclass(frozen=True)
class TrainedModel:
    """What a bundle keeps of one trained fold's model.

    Attributes
    ----------
    model_spec : dict
        :func:`emoscope.models.model_spec` of the model (rebuilds its architecture).
    family : {"torch", "sklearn"}
    state : dict of str to torch.Tensor, optional
        Torch weights.
    sklearn_state : dict, optional
        A scikit-learn model's ``get_state()``.
    standardizer : dict, optional
        The feature standardiser's ``to_dict()``.
    video_features : dict, optional
        Audio-visual models: the face-frames extractor's spec.
    """

    model_spec: dict[str, Any]
    family: str
    state: dict[str, Any] | None = None
    sklearn_state: dict[str, Any] | None = None
    standardizer: dict[str, Any] | None = None
    video_features: dict[str, Any] | None = None

    @property
    def has_weights(self) -> bool:
        """Whether the weights are here (a fold read back from ``result.json`` has none)."""
        return self.state is not None or self.sklearn_state is not None


@dataclass
class Bundle:
    """A loaded bundle: the rebuilt extractor and model, ready to predict."""

    path: Path
    meta: dict[str, Any]
    extractor: Any
    model: Any
    labels: list[str]
    standardizer: Any
    #: The face-frames extractor of an audio-visual bundle (``None``: audio only).
    video_extractor: Any = None

    @property
    def family(self) -> str:
        return self.meta["family"]

    @cached_property
    def inputs(self) -> Any:
        """The input pipeline from a waveform or a file to what the model takes:
        :class:`~emoscope.features.inputs.AudioInputs`, or for bundles that look at the video
        :class:`~emoscope.video.inputs.AudioVisualInputs` (audio-visual) or
        :class:`~emoscope.video.inputs.VideoInputs` (video only)."""
        if self.video_extractor is not None:
            from emoscope.video.inputs import AudioVisualInputs

            return AudioVisualInputs(self.extractor, self.video_extractor, self.standardizer)
        if getattr(self.extractor, "input_column", "path") != "path":
            from emoscope.video.inputs import VideoInputs

            return VideoInputs(self.extractor)
        from emoscope.features.inputs import AudioInputs

        return AudioInputs(self.extractor, self.standardizer)

    def proba(self, examples: Sequence[Any], *, batch_size: int = 64) -> np.ndarray:
        """Class probabilities of model inputs (the output of :attr:`inputs`).

        Parameters
        ----------
        examples : sequence of np.ndarray, or of tuples of arrays (audio-visual)
            Standardised features: ``(dim,)``, ``(frames, dim)``, ``(C, H, W)`` by kind.
        batch_size : int
            Examples per forward pass.

        Returns
        -------
        np.ndarray [shape=(len(examples), len(labels))], float32, rows sum to 1
        """
        if not len(examples):
            return np.zeros((0, len(self.labels)), np.float32)
        if self.family == "sklearn":
            return np.asarray(self.model.predict_proba(np.stack(examples)), np.float32)
        import torch

        from emoscope.models.batch import collate

        out = []
        for s in range(0, len(examples), batch_size):
            batch = collate([(f, 0, i) for i, f in enumerate(examples[s:s + batch_size])])
            lengths = batch.lengths
            if (lengths is not None and not isinstance(lengths, tuple)
                    and bool((lengths == lengths[0]).all())):
                lengths = None  # nothing padded: the plain (exportable) path, same logits
            with torch.inference_mode():
                logits = self.model(batch.x, lengths)
                out.append(torch.softmax(logits, dim=-1).numpy().astype(np.float32))
        return np.concatenate(out)

    def predict_proba_features(self, features: Any, ids: list[str], *,
                               batch_size: int = 64) -> np.ndarray:
        """Class probabilities ``(len(ids), n_labels)`` for ids of a
        :class:`~emoscope.features.FeatureSet` extracted with this bundle's extractor."""
        if features.extractor.cache_key() != self.extractor.cache_key():
            raise ConfigError("these features were not extracted with the bundle's extractor")
        std = self.standardizer
        out = []
        for s in range(0, len(ids), batch_size):
            chunk = [features[i] for i in ids[s:s + batch_size]]
            if std is not None:
                chunk = [std(x) for x in chunk]
            out.append(self.proba([_contiguous(x) for x in chunk], batch_size=batch_size))
        return np.concatenate(out) if out else np.zeros((0, len(self.labels)), np.float32)


def _contiguous(x: Any) -> Any:
    if isinstance(x, tuple):
        return tuple(np.ascontiguousarray(p, dtype=np.float32) for p in x)
    return np.ascontiguousarray(x, dtype=np.float32)


def _training_data(meta: dict[str, Any]) -> list[str]:
    """Lines naming each training corpus with its licence (from the corpus registry)."""
    from emoscope.corpora.base import CORPORA

    data = meta["training"]["data"]
    names = list(data.get("corpora") or []) or [data["corpus"]]
    lines = []
    for name in names:
        try:
            spec = CORPORA.get(name)
            lic = spec.licence or "see the corpus's own terms"
            desc = (spec.description or name).rstrip(".")
            lines.append(f"- `{name}`: {desc}. Licence: {lic}.")
        except Exception:  # a corpus registered by a plugin that is not installed here
            lines.append(f"- `{name}`: see the corpus's licence.")
    return lines


def _chosen(meta: dict[str, Any]) -> str:
    """How the bundle's epoch was chosen, from its training config."""
    prot = meta.get("training", {}).get("protocol", {})
    if prot.get("valid_fraction") is None and prot.get("valid_speakers") is None:
        return "the last epoch: no validation split"
    return "the best validation UA"


def _card(meta: dict[str, Any]) -> str:
    m = meta["metrics"]
    leak = " (LEAKY: speakers shared between train and test)" if m.get("leaky") else ""

    def fmt(d: dict[str, Any], key: str) -> str:
        sd = d.get("std", {}).get(key)
        out = f"{d.get('mean', {}).get(key, float('nan')):.3f}"
        return out if sd is None or d.get("n_folds", 2) == 1 else f"{out} ± {sd:.3f}"

    inputs = meta["features"]["name"]
    if meta.get("video_features"):
        inputs += f" + {meta['video_features']['name']} (audio-visual)"
    lines = [
        f"# emoscope model: {meta['model']['name']} on {inputs}",
        "",
        f"Labels: {', '.join(meta['labels'])}.",
        "",
        "## Evaluation",
        "",
        f"Protocol `{m.get('protocol')}`{leak}, mean over {m.get('n_folds')} fold(s): "
        f"UA {fmt(m, 'ua')}, WA {fmt(m, 'wa')}, macro-F1 {fmt(m, 'macro_f1')}.",
        f"These weights are the model of fold `{meta['fold']}` ({_chosen(meta)}).",
    ]
    for ref in meta.get("reference_metrics") or []:
        kind = "LEAKY" if ref.get("leaky") else "speaker-independent"
        lines += ["", f"The same recipe, evaluated on `{ref['protocol']}` "
                  f"({ref.get('n_folds')} {kind} fold(s)): UA {fmt(ref, 'ua')}, "
                  f"WA {fmt(ref, 'wa')}, macro-F1 {fmt(ref, 'macro_f1')}"
                  f"{' (' + ref['source'] + ')' if ref.get('source') else ''}."]
    lines += [
        "",
        "## Training data",
        "",
        *_training_data(meta),
        "",
        "Acted emotional speech: expect lower accuracy on natural, spontaneous speech, other "
        "languages and noisy recordings. Check each corpus's licence before any use; the "
        "non-commercial ones bind models trained on them too.",
        "",
        f"Created {meta['created']} with emoscope {meta['emoscope_version']}.",
        "",
    ]
    return "\n".join(lines)


def _reference(r: dict[str, Any]) -> dict[str, Any]:
    return {"protocol": r["protocol"], "leaky": bool(r["leaky"]), "n_folds": len(r["folds"]),
            "mean": r["mean"], "std": r["std"], "source": r.get("source")}


def add_reference_metrics(path: str | os.PathLike[str],
                          metrics: list[dict[str, Any]]) -> None:
    """Record figures of the same recipe on other protocols in a bundle (``bundle.json`` and
    the model card), e.g. the ``ravdess-si6`` benchmark of a model trained on all the data.

    Parameters
    ----------
    path : path
        A bundle folder.
    metrics : list of dict
        ``metrics.json`` contents; an optional ``source`` key says where they come from.
    """
    p = Path(path)
    meta = json.loads((p / "bundle.json").read_text())
    meta["reference_metrics"] = [_reference(r) for r in metrics]
    (p / "bundle.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
    (p / "MODEL_CARD.md").write_text(_card(meta))


def save_bundle(path: str | os.PathLike[str], *, extractor: Any, labels: list[str],
                trained: TrainedModel, metrics: dict[str, Any], config: Any,
                fold_name: str, protocol: Any,
                reference_metrics: list[dict[str, Any]] | None = None) -> Path:
    """Write a bundle folder from a trained fold (see :mod:`emoscope.train.experiment`).

    ``reference_metrics``: figures of the same recipe on other protocols (``metrics.json``
    dicts, optionally with a ``source`` note), shown on the model card.
    """
    from safetensors.numpy import save_file as save_numpy
    from safetensors.torch import save_file as save_torch

    from emoscope import __version__
    from emoscope.schema import config_to_dict

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {
        "format": BUNDLE_FORMAT, "format_version": BUNDLE_VERSION,
        "emoscope_version": __version__, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "labels": list(labels), "features": extractor.spec(), "model": trained.model_spec,
        "family": trained.family, "standardizer": trained.standardizer,
        "fold": fold_name,
        "metrics": {"protocol": metrics["protocol"], "leaky": metrics["leaky"],
                    "n_folds": len(metrics["folds"]), "mean": metrics["mean"],
                    "std": metrics["std"]},
        "training": config_to_dict(config),
    }
    if reference_metrics:
        meta["reference_metrics"] = [_reference(r) for r in reference_metrics]
    if not trained.has_weights:
        raise BundleError("this fold's weights are not at hand (read back from result.json)")
    if trained.video_features:  # audio-visual: the face-frames extractor's spec
        meta["video_features"] = trained.video_features
    if trained.family == "torch":
        save_torch(trained.state, str(out / "weights.safetensors"))
    else:
        state = trained.sklearn_state
        meta["sklearn"] = {"format": state["format"], "version": state["sklearn_version"]}
        if state["format"] == "arrays":
            save_numpy({k: np.ascontiguousarray(v) for k, v in state["arrays"].items()},
                       str(out / "weights.safetensors"))
        else:
            (out / "model.pkl").write_bytes(state["blob"])
            meta["sklearn"]["sha256"] = state["sha256"]
    (out / "bundle.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
    (out / "MODEL_CARD.md").write_text(_card(meta))
    return out


def _check_feature_width(path: Path, extractor: Any, model_spec: dict[str, Any]) -> None:
    """Refuse an extractor whose output width differs from what the model takes: a pretrained
    encoder folder replaced by one of another size (``output_width`` of the extractor)."""
    width = getattr(extractor, "output_width", None)
    shape = model_spec.get("input_shape") or []
    if width is None or not shape or isinstance(shape[-1], list | tuple):
        return
    if int(width()) != int(shape[-1]):
        raise BundleError(f"{path}: the {extractor.name} feature now gives {int(width())} values "
                          f"per frame or clip, but this bundle's model takes {shape[-1]} (was "
                          "its encoder folder replaced by one of another size?)")


def load_bundle(path: str | os.PathLike[str], *, trusted: bool = False) -> Bundle:
    """Load a bundle folder; no pickled code runs unless ``trusted`` (sklearn SVM/GBT only).

    Raises
    ------
    BundleError
        Missing or corrupt files, an unknown format or a newer format version, a pickled model
        without ``trusted``.
    """
    from safetensors import SafetensorError

    from emoscope import features, models
    from emoscope.features.standardize import standardizer_from_dict

    p = Path(path)
    if not p.exists():
        raise BundleError(f"{p}: no such model bundle")
    if not (p / "bundle.json").is_file():
        raise BundleError(f"{p}: not a model bundle (no bundle.json)")
    try:
        meta = json.loads((p / "bundle.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{p}: corrupt bundle.json ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{p}: not an emoscope model bundle")
    if int(meta.get("format_version", 0)) > BUNDLE_VERSION:
        raise BundleError(f"{p}: bundle format {meta.get('format_version')} is newer than this "
                          f"emoscope reads ({BUNDLE_VERSION}); upgrade emoscope")
    try:
        extractor = features.create(meta["features"])
        model = models.build_model(meta["model"])
        _check_feature_width(p, extractor, meta["model"])
        if meta["family"] == "torch":
            from safetensors.torch import load_file

            model.load_state_dict(load_file(str(p / "weights.safetensors")))
            model.eval()
        else:
            info = meta["sklearn"]
            state: dict[str, Any] = {"spec": meta["model"], "format": info["format"],
                                     "sklearn_version": info["version"]}
            if info["format"] == "arrays":
                from safetensors.numpy import load_file as load_numpy

                state["arrays"] = load_numpy(str(p / "weights.safetensors"))
            else:
                blob = (p / "model.pkl").read_bytes()
                if hashlib.sha256(blob).hexdigest() != info.get("sha256"):
                    raise BundleError(f"{p}: model.pkl does not match its recorded digest")
                state.update(blob=blob, sha256=info["sha256"])
            model.load_state(state, trusted=trusted)
    except (KeyError, TypeError) as exc:
        raise BundleError(f"{p}: incomplete bundle ({exc})") from None
    except (OSError, SafetensorError, RuntimeError) as exc:
        raise BundleError(f"{p}: unreadable weights ({exc})") from None
    std = meta.get("standardizer")
    video = meta.get("video_features")
    return Bundle(p, meta, extractor, model, list(meta["labels"]),
                  None if std is None else standardizer_from_dict(std),
                  None if not video else features.create(video))
