"""Self-supervised speech encoder states (wav2vec 2.0, HuBERT, WavLM, ...) through ``transformers``.

The weights are never downloaded here: ``model_path`` names a local folder that already holds a
``transformers`` checkpoint (``config.json`` plus ``model.safetensors`` or ``pytorch_model.bin``,
and usually ``preprocessor_config.json``), for instance one fetched beforehand with
``hf download microsoft/wavlm-base-plus --local-dir models/wavlm-base-plus``.

>>> ext = features.create("ssl", model_path="models/wavlm-base-plus", layer=6,
...                       pooling="mean+std")                               # doctest: +SKIP
>>> ext(y, sr).shape                                                         # doctest: +SKIP
(1536,)

The model is loaded lazily, once per process and folder (the two most recently used models stay
in memory), in float32 on the CPU, in evaluation mode; torch's thread settings are left alone.
Extractor instances hold no model, so they pickle cheaply to worker processes.

Long input is encoded in windows of at most about ``max_seconds`` whose frames tile the
utterance exactly: the frames of the pieces are the frames an unchunked pass would give (same
count, same positions; only the transformer's context is bounded by the window).

The cache key adds a fingerprint of the folder (its config files, and the name, size, mtime and
first MiB of each weights file) to the config, so that replacing the model in the same folder
never returns features of the old one.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emoscope.errors import AudioError, ConfigError
from emoscope.features.base import FeatureConfig, FeatureExtractor, register_feature

if TYPE_CHECKING:
    import torch

__all__ = ["POOLINGS", "SUPPORTED_MODEL_TYPES", "SSLEncoder", "SSLEncoderConfig"]

#: ``model_type`` values (``config.json``) of the wav2vec 2.0 family this extractor reads:
#: raw-waveform input, a strided convolution front end, and encoder hidden states.
SUPPORTED_MODEL_TYPES = ("wav2vec2", "wav2vec2-conformer", "hubert", "wavlm", "data2vec-audio",
                         "unispeech", "unispeech-sat")
#: ``pooling`` values: ``"none"`` keeps the frames (a sequence), the others give a vector.
POOLINGS = ("none", "mean", "mean+std")

_HOW_TO_GET = ("download the weights beforehand (e.g. `hf download facebook/wav2vec2-base "
               "--local-dir DIR`) and set model_path to that local folder")
_FINGERPRINT_BYTES = 1 << 20
_MAX_MODELS = 2
_MODELS: OrderedDict[tuple[str, str], Any] = OrderedDict()  # (folder, fingerprint) -> model
_MODELS_LOCK = threading.Lock()
_FINGERPRINTS: dict[str, tuple[tuple[Any, ...], str]] = {}  # folder -> (stats, digest)
_FINGERPRINTS_LOCK = threading.Lock()


@dataclass(frozen=True)
class SSLEncoderConfig(FeatureConfig):
    """Options of :class:`SSLEncoder`.

    Attributes
    ----------
    model_path : str
        A local folder holding a ``transformers`` checkpoint of a supported model type
        (:data:`SUPPORTED_MODEL_TYPES`). Required.
    layer : int or "mean"
        Which encoder hidden state: ``0`` is the projected convolutional features, ``i`` the
        output of transformer layer ``i``, negative values count from the end (``-1``: the last
        layer); ``"mean"`` averages all of them (``0`` to the last).
    pooling : str
        ``"none"``: the frames, shape ``(n_frames, hidden)``; ``"mean"``: ``(hidden,)``;
        ``"mean+std"``: mean then standard deviation over frames, ``(2 * hidden,)``.
    max_seconds : float or None
        Encode in windows of at most about this many seconds, to bound memory (attention is
        quadratic in length); ``None``: the whole input at once.
    normalize_input : bool or None
        Scale the waveform to zero mean and unit variance first, as ``Wav2Vec2FeatureExtractor``
        does; ``None``: follow ``do_normalize`` in the folder's ``preprocessor_config.json``
        (``True`` when the file is absent, that class's default).
    """

    model_path: str = ""
    layer: int | str = -1
    pooling: str = "mean"
    max_seconds: float | None = 30.0
    normalize_input: bool | None = None


@dataclass(frozen=True)
class _ModelInfo:
    """What the extractor needs to know about a model folder without loading the model."""

    folder: Path
    model_type: str
    hidden_size: int
    num_layers: int
    stride: int  # input samples per output frame
    receptive_field: int  # input samples seen by one output frame
    do_normalize: bool
    sampling_rate: int | None
    files: tuple[Path, ...]  # config and weights files, for the fingerprint


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"ssl: cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"ssl: {path} does not hold a JSON object")
    return data


def _inspect_folder(model_path: str) -> _ModelInfo:
    """Check that ``model_path`` is a usable local model folder and describe it.

    Raises
    ------
    ConfigError
        Missing or empty ``model_path``, no ``config.json``, no PyTorch weights, or a model type
        this extractor does not read.
    """
    if not model_path:
        raise ConfigError(f"ssl: model_path is required; {_HOW_TO_GET}")
    folder = Path(model_path).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"ssl: model_path {str(folder)!r} is not a folder; nothing is "
                          f"downloaded here: {_HOW_TO_GET}")
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise ConfigError(f"ssl: {str(folder)!r} is not a transformers model folder (no "
                          f"config.json); {_HOW_TO_GET}")
    weights = sorted(p for p in folder.iterdir() if p.is_file() and (
        p.name.endswith((".safetensors", ".safetensors.index.json"))
        or (p.name.startswith("pytorch_model") and p.name.endswith((".bin", ".bin.index.json")))))
    if not any(p.name.endswith((".safetensors", ".bin")) for p in weights):
        raise ConfigError(f"ssl: {str(folder)!r} has a config.json but no PyTorch weights "
                          f"(model.safetensors or pytorch_model.bin); {_HOW_TO_GET}")
    cfg = _read_json(config_file)
    model_type = cfg.get("model_type")
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ConfigError(f"ssl: {str(folder)!r} holds a {model_type!r} model; supported: "
                          f"{', '.join(SUPPORTED_MODEL_TYPES)}")
    try:
        kernels = [int(k) for k in cfg.get("conv_kernel", (10, 3, 3, 3, 3, 2, 2))]
        strides = [int(s) for s in cfg.get("conv_stride", (5, 2, 2, 2, 2, 2, 2))]
        hidden_size = int(cfg.get("hidden_size", 768))
        num_layers = int(cfg.get("num_hidden_layers", 12))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"ssl: {config_file}: malformed value: {exc}") from None
    if len(kernels) != len(strides) or not kernels:
        raise ConfigError(f"ssl: {config_file}: conv_kernel and conv_stride differ in length")
    stride, receptive_field = 1, 1
    for k, s in zip(kernels, strides, strict=True):
        receptive_field += (k - 1) * stride
        stride *= s
    files = [config_file, *weights]
    do_normalize, sampling_rate = True, None
    pre_file = folder / "preprocessor_config.json"
    if pre_file.is_file():
        pre = _read_json(pre_file)
        do_normalize = bool(pre.get("do_normalize", True))
        sampling_rate = pre.get("sampling_rate")
        files.insert(1, pre_file)
    return _ModelInfo(folder=folder.resolve(), model_type=str(model_type),
                      hidden_size=hidden_size, num_layers=num_layers, stride=stride,
                      receptive_field=receptive_field, do_normalize=do_normalize,
                      sampling_rate=None if sampling_rate is None else int(sampling_rate),
                      files=tuple(files))


def _fingerprint(info: _ModelInfo) -> str:
    """A digest of the folder's config files and weights (name, size, mtime, first MiB);
    recomputed only when a file's size or mtime changes."""
    try:
        stats = tuple((p.name, st.st_size, st.st_mtime_ns)
                      for p in info.files for st in [p.stat()])
    except OSError as exc:
        raise ConfigError(f"ssl: model folder {str(info.folder)!r} changed: {exc}") from None
    key = str(info.folder)
    with _FINGERPRINTS_LOCK:
        memo = _FINGERPRINTS.get(key)
        if memo is not None and memo[0] == stats:
            return memo[1]
    h = hashlib.blake2b(repr(stats).encode(), digest_size=12)
    for p in info.files:
        try:
            with p.open("rb") as f:
                h.update(f.read(_FINGERPRINT_BYTES))
        except OSError as exc:
            raise ConfigError(f"ssl: cannot read {p}: {exc}") from None
    digest = h.hexdigest()
    with _FINGERPRINTS_LOCK:
        _FINGERPRINTS[key] = (stats, digest)
    return digest


def _load_model(info: _ModelInfo, fingerprint: str) -> Any:
    """The model of ``info.folder`` (float32, CPU, eval mode), loaded once per fingerprint."""
    key = (str(info.folder), fingerprint)
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is not None:
            _MODELS.move_to_end(key)
            return model
        for old in [k for k in _MODELS if k[0] == key[0]]:  # the folder's previous content
            del _MODELS[old]
        import torch
        from transformers import AutoModel

        try:
            model = AutoModel.from_pretrained(str(info.folder), local_files_only=True,
                                              dtype=torch.float32)
        except Exception as exc:  # any loader failure (OSError, SafetensorError, ...)
            raise ConfigError(f"ssl: cannot load the model in {str(info.folder)!r}: "
                              f"{type(exc).__name__}: {exc}") from exc
        model.eval()
        _MODELS[key] = model
        while len(_MODELS) > _MAX_MODELS:
            _MODELS.popitem(last=False)
        return model


@register_feature("ssl")
class SSLEncoder(FeatureExtractor):
    """Hidden states of a self-supervised speech encoder, per frame or pooled.

    Output (``hidden`` from the model, e.g. 768 for base models, 1024 for large ones; one frame
    per ``stride`` samples, 20 ms for the usual front end):

    ============== ========================== ==========
    ``pooling``    shape                      ``kind``
    ============== ========================== ==========
    ``"none"``     ``(n_frames, hidden)``     sequence
    ``"mean"``     ``(hidden,)``              vector
    ``"mean+std"`` ``(2 * hidden,)``          vector
    ============== ========================== ==========

    with ``n_frames = (n - receptive_field) // stride + 1`` for ``n`` input samples (the
    convolution front end's arithmetic; 400 and 320 samples for the usual one). Input shorter
    than the receptive field (25 ms usually) raises :class:`~emoscope.errors.AudioError`.

    ``kind`` is per instance: it follows ``pooling``.
    """

    Config = SSLEncoderConfig
    kind = "vector"
    config: SSLEncoderConfig

    def validate_config(self) -> None:
        c = self.config
        if c.pooling not in POOLINGS:
            raise ConfigError(f"ssl: pooling must be one of {', '.join(POOLINGS)}; "
                              f"got {c.pooling!r}")
        if c.max_seconds is not None and not (
                isinstance(c.max_seconds, int | float) and not isinstance(c.max_seconds, bool)
                and math.isfinite(c.max_seconds) and c.max_seconds > 0):
            raise ConfigError(f"ssl: max_seconds must be a positive number or None; "
                              f"got {c.max_seconds!r}")
        if c.normalize_input not in (None, True, False):
            raise ConfigError(f"ssl: normalize_input must be true, false or None; "
                              f"got {c.normalize_input!r}")
        layer_ok = c.layer == "mean" or (isinstance(c.layer, int)
                                         and not isinstance(c.layer, bool))
        if not layer_ok:
            raise ConfigError(f"ssl: layer must be an integer or 'mean'; got {c.layer!r}")
        info = _inspect_folder(c.model_path)
        if isinstance(c.layer, int) and not -(info.num_layers + 1) <= c.layer <= info.num_layers:
            raise ConfigError(f"ssl: layer {c.layer} is out of range for a model with "
                              f"{info.num_layers} layers (0 to {info.num_layers}, or "
                              f"{-(info.num_layers + 1)} to -1)")
        if info.sampling_rate is not None and info.sampling_rate != c.sample_rate:
            raise ConfigError(f"ssl: the model expects {info.sampling_rate} Hz input "
                              f"(preprocessor_config.json); set sample_rate={info.sampling_rate}")
        self._info = info
        # ``kind`` depends on the config here; base.FeatureExtractor declares it a ClassVar.
        self.kind = "sequence" if c.pooling == "none" else "vector"

    @property
    def hidden_size(self) -> int:
        """Width of one frame's state."""
        return self._info.hidden_size

    @property
    def normalize(self) -> bool:
        """Whether the waveform is scaled to zero mean and unit variance first."""
        c = self.config.normalize_input
        return self._info.do_normalize if c is None else c

    def n_frames(self, n_samples: int) -> int:
        """Frames the encoder gives for ``n_samples`` input samples (0 when too short)."""
        rf, stride = self._info.receptive_field, self._info.stride
        return 0 if n_samples < rf else (n_samples - rf) // stride + 1

    def weights_fingerprint(self) -> str:
        """A digest identifying the model files now in ``model_path``."""
        return _fingerprint(self._info)

    def cache_key(self) -> str:
        """The config's key combined with :meth:`weights_fingerprint`."""
        blob = f"{super().cache_key()}:{self.weights_fingerprint()}".encode()
        return hashlib.blake2b(blob, digest_size=12).hexdigest()

    def feature_names(self) -> list[str] | None:
        if self.config.pooling == "none":
            return None
        names = [f"mean{i}" for i in range(self.hidden_size)]
        if self.config.pooling == "mean+std":
            names += [f"std{i}" for i in range(self.hidden_size)]
        return names

    def _chunks(self, total: int) -> list[tuple[int, int]]:
        """Split ``total`` frames into near-equal ``(first, stop)`` runs within max_seconds."""
        if self.config.max_seconds is None:
            return [(0, total)]
        max_samples = self.config.max_seconds * self.config.sample_rate
        per = max(1, int((max_samples - self._info.receptive_field) // self._info.stride) + 1)
        k = -(-total // per)
        edges = [total * i // k for i in range(k + 1)]
        return list(itertools.pairwise(edges))

    def extract(self, y: np.ndarray) -> np.ndarray:
        import torch

        info = self._info
        total = self.n_frames(y.shape[-1])
        if total == 0:
            sr = self.config.sample_rate
            raise AudioError(f"ssl: {y.shape[-1] / sr * 1000:.1f} ms of audio is too short; the "
                             f"encoder needs at least {info.receptive_field} samples "
                             f"({info.receptive_field / sr * 1000:.0f} ms)")
        x = y.astype(np.float64)
        if self.normalize:  # as Wav2Vec2FeatureExtractor, over the whole utterance
            x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
        x32 = x.astype(np.float32)
        model = _load_model(info, _fingerprint(info))
        parts: list[np.ndarray] = []
        with torch.inference_mode():
            for first, stop in self._chunks(total):
                piece = x32[first * info.stride:(stop - 1) * info.stride + info.receptive_field]
                out = model(torch.from_numpy(piece)[None], output_hidden_states=True)
                h = self._select(out.hidden_states)  # (frames, hidden)
                if h.shape[0] != stop - first:
                    raise ConfigError(f"ssl: the model in {str(info.folder)!r} gave {h.shape[0]} "
                                      f"frames for {piece.shape[0]} samples, not {stop - first}; "
                                      f"its front end is not the one config.json describes")
                parts.append(h.numpy())
        seq = np.concatenate(parts).astype(np.float32, copy=False)  # (n_frames, hidden)
        if self.config.pooling == "none":
            return seq
        mean = seq.mean(axis=0, dtype=np.float64)
        if self.config.pooling == "mean":
            return mean.astype(np.float32)
        return np.concatenate([mean, seq.std(axis=0, dtype=np.float64)]).astype(np.float32)

    def _select(self, hidden_states: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """The configured layer (or the mean of all) of one batch-of-one pass: (frames, hidden)."""
        if self.config.layer == "mean":
            return sum(hidden_states[1:], hidden_states[0])[0] / len(hidden_states)
        return hidden_states[int(self.config.layer)][0]
