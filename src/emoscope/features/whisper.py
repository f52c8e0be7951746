"""Hidden states of a frozen Whisper encoder, pooled per layer: the ``whisper`` feature.

The weights are never downloaded: ``model_path`` names a local folder in the Hugging Face
layout (see :mod:`emoscope.features.whisper_encoder`), e.g. ``../shared/models/whisper-base``.

>>> ext = features.create("whisper", model_path="models/whisper-base", layers=(2, 3))
...                                                                        # doctest: +SKIP
>>> ext(y, sr).shape          # 2 layers x (mean, std) x 512                # doctest: +SKIP
(2048,)

Each clip goes through Whisper's own log-mel front end
(:mod:`emoscope.features.whisper_frontend`) and the encoder without the padding to 30 s, every
hidden state in one pass (0 = after the convolutions and positions, then each layer; the last
one after the final layer norm). The middle layers carry the most emotion (see
``../shared/models/README.md``): keep them with ``layers``.

The cache key adds a fingerprint of the folder (its ``config.json`` and weights file) to the
options, so that replacing the weights in the same folder never returns features of the old
ones. Extractor instances hold no model (it is loaded once per process and folder content), so
they pickle cheaply to worker processes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from emoscope.errors import ConfigError
from emoscope.features.base import FeatureConfig, FeatureExtractor, register_feature

__all__ = ["WhisperFeature", "WhisperFeatureConfig"]


class _Columns:
    """``x[cols]``: one layer subset of every layer's pooled vector (picklable)."""

    def __init__(self, cols: np.ndarray) -> None:
        self.cols = cols

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x[self.cols])


@dataclass(frozen=True)
class WhisperFeatureConfig(FeatureConfig):
    """Options of :class:`WhisperFeature`.

    Attributes
    ----------
    model_path : str
        A local folder holding a Whisper checkpoint in the Hugging Face layout. Required.
    layers : tuple of int, optional
        Which hidden states, in this order (``0``: after the convolutions, ``i``: after layer
        ``i``; negative values count from the end). ``None``: all of them.
    pooling : {"mean+std", "mean", "frames", "none"}
        ``"mean+std"``: each kept layer's mean then standard deviation over frames,
        concatenated, ``(n_layers * 2 * d_model,)``; ``"mean"``: ``(n_layers * d_model,)``;
        ``"frames"``: every kept layer at each frame, ``(n_frames, n_layers * d_model)`` (50
        frames a second; layer blocks in ``layers``' order, for sequence heads such as
        ``layer-weighted-asp``), cached as float16; ``"none"``: the frames averaged over the
        kept layers, ``(n_frames, d_model)``.
    """

    model_path: str = ""
    layers: tuple[int, ...] | None = None
    pooling: Literal["mean+std", "mean", "frames", "none"] = "mean+std"


@register_feature("whisper")
class WhisperFeature(FeatureExtractor):
    """Pooled hidden states of a frozen Whisper encoder (see the module docstring)."""

    Config = WhisperFeatureConfig
    version = "1"
    batch_size = 16

    def validate_config(self) -> None:
        from emoscope.features.whisper_encoder import inspect_folder

        cfg = self.config
        if not cfg.model_path:
            raise ConfigError("whisper: model_path is required (a local folder with a Whisper "
                              "checkpoint, e.g. ../shared/models/whisper-base)")
        if cfg.sample_rate != 16000:
            raise ConfigError(f"whisper: the encoder reads 16 kHz audio; sample_rate must be "
                              f"16000, got {cfg.sample_rate}")
        self._info = inspect_folder(cfg.model_path)
        n_states = self._info.n_layers + 1
        layers = cfg.layers if cfg.layers is not None else tuple(range(n_states))
        if not layers:
            raise ConfigError("whisper: layers must name at least one hidden state")
        bad = [k for k in layers if not -n_states <= k < n_states]
        if bad:
            raise ConfigError(f"whisper: layer(s) {bad} out of range; this encoder has hidden "
                              f"states 0 to {n_states - 1}")
        self._layers = tuple(k % n_states for k in layers)
        self.kind = "sequence" if cfg.pooling in ("frames", "none") else "vector"
        # frame sequences are large (1.2 MB a 3 s clip for 6 layers of Whisper base):
        # the cache keeps them at half the size; the encoder's weights are float16 anyway
        self.cache_dtype = np.dtype(np.float16) if cfg.pooling == "frames" else None

    @property
    def hidden_size(self) -> int:
        """``d_model`` of the encoder."""
        return self._info.hidden_size

    @property
    def layer_indices(self) -> tuple[int, ...]:
        """The kept hidden states, as non-negative indices."""
        return self._layers

    def output_width(self) -> int:
        """Values per clip (pooled) or per frame (``pooling="frames"`` or ``"none"``)."""
        if self.config.pooling == "none":
            return self.hidden_size
        if self.config.pooling == "frames":
            return len(self._layers) * self.hidden_size
        per_layer = 2 if self.config.pooling == "mean+std" else 1
        return len(self._layers) * per_layer * self.hidden_size

    def weights_fingerprint(self) -> str:
        """The model folder's fingerprint (see
        :func:`emoscope.features.whisper_encoder.folder_fingerprint`)."""
        from emoscope.features.whisper_encoder import folder_fingerprint

        return folder_fingerprint(self._info)

    def cache_key(self) -> str:
        """The options' key and the model folder's content."""
        blob = f"{super().cache_key()}:{self.weights_fingerprint()}".encode()
        return hashlib.blake2b(blob, digest_size=12).hexdigest()

    def cached_view(self) -> tuple[FeatureExtractor, Callable[[np.ndarray], np.ndarray]] | None:
        """Pooled features of a subset of layers are read out of every layer's pooled
        features (one encoder pass and one cache entry per file for every subset: probing
        layer by layer costs one extraction); frames and ``layers=None`` have no view (every
        layer spelled out, ``[0, ..., n]``, is a view of ``layers=None``'s entries)."""
        if self.config.pooling in ("frames", "none") or self.config.layers is None:
            return None
        every = WhisperFeature(self.config, layers=None)
        width = self.output_width() // len(self._layers)
        cols = np.concatenate([np.arange(k * width, (k + 1) * width) for k in self._layers])
        return every, _Columns(cols)

    def feature_names(self) -> list[str] | None:
        if self.kind != "vector":
            return None
        stats = ("mean", "std") if self.config.pooling == "mean+std" else ("mean",)
        return [f"L{k}_{s}{i}" for k in self._layers for s in stats
                for i in range(self.hidden_size)]

    def extract(self, y: np.ndarray) -> np.ndarray:
        return self.extract_batch([y])[0]

    def extract_batch(self, waveforms: list[np.ndarray]) -> list[np.ndarray]:
        """Clips of similar length are encoded together (``batch_size`` at a time, padding
        masked: a clip's features do not depend on its batch)."""
        from emoscope.features.whisper_encoder import encode, load_encoder
        from emoscope.features.whisper_frontend import log_mel

        mels = [log_mel(y, n_mels=self._info.n_mels) for y in waveforms]
        encoder = load_encoder(self._info, self.weights_fingerprint())
        order = sorted(range(len(mels)), key=lambda i: mels[i].shape[-1])
        out: list[np.ndarray] = [np.empty(0, np.float32)] * len(mels)
        for s in range(0, len(order), self.batch_size):
            idx = order[s:s + self.batch_size]
            for i, states in zip(idx, encode(encoder, [mels[i] for i in idx]), strict=True):
                out[i] = self._pool(states)
        return out

    def _pool(self, states: list[np.ndarray]) -> np.ndarray:
        kept = [states[k] for k in self._layers]  # each (frames, d)
        if self.config.pooling == "none":
            return np.mean(kept, axis=0).astype(np.float32)
        if self.config.pooling == "frames":
            return np.concatenate(kept, axis=1).astype(np.float32)  # (frames, layers * d)
        parts = []
        for s in kept:
            parts.append(s.mean(axis=0))
            if self.config.pooling == "mean+std":
                parts.append(s.std(axis=0))
        return np.concatenate(parts).astype(np.float32)
