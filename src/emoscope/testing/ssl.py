"""Tiny randomly initialised speech encoders, saved as local ``transformers`` model folders.

They let tests exercise the ``"ssl"`` feature without downloading anything: a few hundred
kilobytes, built from ``transformers``' config classes and saved with ``save_pretrained``
(safetensors) next to a ``Wav2Vec2FeatureExtractor`` ``preprocessor_config.json``.

>>> path = make_tiny_encoder(tmp_path / "wavlm", kind="wavlm")              # doctest: +SKIP
>>> features.create("ssl", model_path=str(path), pooling="none")(y, 16000).shape  # doctest: +SKIP
(1599, 32)                                                                  # for 1 s at 16 kHz
"""

from __future__ import annotations

import os
from pathlib import Path

from emoscope.errors import ConfigError

__all__ = ["TINY_RECEPTIVE_FIELD", "TINY_STRIDE", "make_tiny_encoder"]

#: The tiny front end: kernels (10, 3), strides (5, 2): one frame per 10 samples, each seeing 20.
TINY_STRIDE = 10
TINY_RECEPTIVE_FIELD = 20

_KINDS = ("wav2vec2", "hubert", "wavlm", "data2vec-audio", "unispeech", "unispeech-sat",
          "wav2vec2-conformer")


def make_tiny_encoder(path: str | os.PathLike[str], *, kind: str = "wav2vec2",
                      hidden_size: int = 32, num_layers: int = 2, seed: int = 0,
                      sample_rate: int = 16000, do_normalize: bool = True) -> Path:
    """Build and save a tiny random encoder of the wav2vec 2.0 family; return its folder.

    Parameters
    ----------
    path : str or PathLike
        Folder to write (created; existing files are overwritten).
    kind : str
        ``model_type``: ``"wav2vec2"``, ``"hubert"``, ``"wavlm"`` (or ``"data2vec-audio"``,
        ``"unispeech"``, ``"unispeech-sat"``, ``"wav2vec2-conformer"``).
    hidden_size : int
        Width of the states (even: two attention heads).
    num_layers : int
        Transformer layers; the model has ``num_layers + 1`` hidden states.
    seed : int
        Seed of the random initialisation: equal seeds, equal weights.
    sample_rate, do_normalize
        Written to ``preprocessor_config.json``.

    Returns
    -------
    Path
        The folder, holding ``config.json``, ``model.safetensors`` and
        ``preprocessor_config.json``. The front end gives ``(n - 20) // 10 + 1`` frames for
        ``n`` samples (:data:`TINY_RECEPTIVE_FIELD`, :data:`TINY_STRIDE`).
    """
    if kind not in _KINDS:
        raise ConfigError(f"kind must be one of {', '.join(_KINDS)}; got {kind!r}")
    if hidden_size < 2 or hidden_size % 2 or num_layers < 1:
        raise ConfigError("hidden_size must be even and >= 2, num_layers >= 1")
    import torch
    from transformers import CONFIG_MAPPING, AutoModel, Wav2Vec2FeatureExtractor

    config = CONFIG_MAPPING[kind](
        hidden_size=hidden_size, num_hidden_layers=num_layers, num_attention_heads=2,
        intermediate_size=2 * hidden_size, conv_dim=(hidden_size, hidden_size),
        conv_kernel=(10, 3), conv_stride=(5, 2), num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AutoModel.from_config(config)
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)  # model.safetensors
    Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=sample_rate, padding_value=0.0,
                             do_normalize=do_normalize,
                             return_attention_mask=False).save_pretrained(out)
    return out
