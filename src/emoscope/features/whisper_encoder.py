"""A Whisper encoder from a local Hugging Face folder, run without the padding to 30 s.

Loading (nothing is downloaded): ``config.json`` (``model_type: whisper``) plus
``model.safetensors`` or ``pytorch_model.bin``, from a full checkpoint (``openai/whisper-base``,
``-small``, ``-large-v3``: the decoder is ignored) or an encoder-only folder, with keys
``model.encoder.*``, ``encoder.*`` or bare. The encoder is kept in float32 on the CPU in
evaluation mode, once per process and folder content (see :func:`folder_fingerprint`).

Running (:func:`encode`): the positional embeddings are sliced to each clip's length instead of
padding every clip to 3000 mel frames, clips longer than 30 s are encoded in 30 s windows, and a
batch of clips of different lengths is masked so that a clip's states do not depend on its
batch: the mel frames past a clip's end are zeros (what the first convolution's own padding
gives), the first convolution's outputs past the end are zeroed before the second, and the
attention ignores the padded frames.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emoscope.errors import ConfigError

if TYPE_CHECKING:
    import torch

__all__ = ["MAX_FRAMES", "WhisperEncoderInfo", "encode", "folder_fingerprint", "inspect_folder",
           "load_encoder"]

#: Mel frames of one 30 s window (Whisper's context).
MAX_FRAMES = 3000
_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
_FINGERPRINT_BYTES = 1 << 20
_MAX_MODELS = 2
_MODELS: OrderedDict[tuple[str, str], Any] = OrderedDict()
_FINGERPRINTS: dict[tuple[tuple[str, int, int], ...], str] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class WhisperEncoderInfo:
    """What a model folder holds.

    Attributes
    ----------
    folder : Path
    weights : Path
        ``model.safetensors`` or ``pytorch_model.bin``.
    config : dict
        ``config.json``.
    """

    folder: Path
    weights: Path
    config: dict[str, Any]

    @property
    def n_mels(self) -> int:
        return int(self.config.get("num_mel_bins", 80))

    @property
    def hidden_size(self) -> int:
        return int(self.config["d_model"])

    @property
    def n_layers(self) -> int:
        return int(self.config["encoder_layers"])


def inspect_folder(model_path: str) -> WhisperEncoderInfo:
    """Check a Whisper model folder without loading its weights.

    Raises
    ------
    ConfigError
        One line naming the folder and what is missing or wrong.
    """
    folder = Path(model_path).expanduser()
    where = f"whisper: model folder {str(folder)!r}"
    if not folder.is_dir():
        raise ConfigError(f"{where} does not exist (put a Whisper checkpoint in the Hugging Face "
                          "layout there: config.json and model.safetensors)")
    cfg_path = folder / "config.json"
    if not cfg_path.is_file():
        raise ConfigError(f"{where} has no config.json")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{where}: unreadable config.json ({exc})") from None
    if not isinstance(config, dict) or config.get("model_type") != "whisper":
        got = config.get("model_type") if isinstance(config, dict) else None
        raise ConfigError(f"{where} holds a {got!r} model, not a Whisper one "
                          "(config.json model_type: whisper)")
    missing = [k for k in ("d_model", "encoder_layers", "encoder_attention_heads")
               if k not in config]
    if missing:
        raise ConfigError(f"{where}: config.json lacks {', '.join(missing)}")
    weights = next((folder / w for w in _WEIGHTS if (folder / w).is_file()), None)
    if weights is None:
        raise ConfigError(f"{where} has no weights ({' or '.join(_WEIGHTS)})")
    return WhisperEncoderInfo(folder, weights, config)


def folder_fingerprint(info: WhisperEncoderInfo) -> str:
    """A digest of the folder's ``config.json`` and weights file (name, size, mtime and first
    MiB): replacing the weights changes it, so cached features of the old ones are not reused."""
    files = (info.folder / "config.json", info.weights)
    try:
        stats = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    except OSError as exc:
        raise ConfigError(f"whisper: model folder {str(info.folder)!r} changed: {exc}") from None
    with _LOCK:
        if stats in _FINGERPRINTS:  # recomputed only when a file's size or mtime changes
            return _FINGERPRINTS[stats]
    h = hashlib.blake2b(repr([(n.rsplit("/", 1)[-1], z, t) for n, z, t in stats]).encode(),
                        digest_size=12)
    for p in files:
        try:
            with p.open("rb") as fh:
                h.update(fh.read(_FINGERPRINT_BYTES))
        except OSError as exc:
            raise ConfigError(f"whisper: cannot read {p}: {exc}") from None
    with _LOCK:
        _FINGERPRINTS[stats] = h.hexdigest()
    return _FINGERPRINTS[stats]


def _encoder_state(info: WhisperEncoderInfo) -> dict[str, Any]:
    if info.weights.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(info.weights))
    else:
        import torch

        state = torch.load(info.weights, map_location="cpu", weights_only=True)
    out = {}
    for key, value in state.items():
        k = key.removeprefix("model.")
        if k.startswith("decoder.") or k.startswith("proj_out"):
            continue
        out[k.removeprefix("encoder.")] = value.float()
    return out


def load_encoder(info: WhisperEncoderInfo, fingerprint: str) -> Any:
    """The folder's ``WhisperEncoder`` (float32, CPU, eval mode), loaded once per content.

    Raises
    ------
    ConfigError
        Weights that do not fit the config (missing or misshapen encoder tensors).
    """
    key = (str(info.folder), fingerprint)
    with _LOCK:
        if key in _MODELS:
            _MODELS.move_to_end(key)
            return _MODELS[key]
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    encoder = WhisperEncoder(WhisperConfig(**info.config))
    try:
        state = _encoder_state(info)
        result = encoder.load_state_dict(state, strict=False)
    except (OSError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"whisper: {info.weights} does not fit its config.json ({first})"
                          ) from None
    # the positions are a fixed sinusoid some checkpoints leave out
    missing = [k for k in result.missing_keys if k != "embed_positions.weight"]
    if missing:
        raise ConfigError(f"whisper: {info.weights} lacks encoder weights ({missing[0]}, ...; "
                          f"{len(missing)} missing)")
    encoder.eval()
    with _LOCK:
        _MODELS[key] = encoder
        while len(_MODELS) > _MAX_MODELS:
            _MODELS.popitem(last=False)
    return encoder


def _encode_window(encoder: Any, mels: torch.Tensor, lengths: torch.Tensor
                   ) -> list[torch.Tensor]:
    """Hidden states of mel frames ``(B, n_mels, T <= MAX_FRAMES)`` with valid ``lengths``."""
    import torch
    from torch.nn import functional as F

    t = mels.shape[-1]
    frames = torch.arange(t)
    x = F.gelu(encoder.conv1(mels * (frames < lengths[:, None])[:, None, :]))
    x = x * (frames < lengths[:, None])[:, None, :]  # the second conv sees zeros past the end
    x = F.gelu(encoder.conv2(x)).permute(0, 2, 1)  # (B, T2, d)
    t2 = x.shape[1]
    out_len = (lengths + 1) // 2
    h = x + encoder.embed_positions.weight[:t2]
    mask = None
    if bool((out_len < t2).any()):  # padded clips in the batch: attention ignores their tail
        keep = torch.arange(t2)[None, :] < out_len[:, None]  # (B, T2)
        mask = torch.zeros(keep.shape, dtype=h.dtype).masked_fill(~keep, torch.finfo(h.dtype).min)
        mask = mask[:, None, None, :]  # (B, 1, 1, T2)
    states = [h]
    for k, layer in enumerate(encoder.layers):
        h = layer(h, mask)
        h = h[0] if isinstance(h, tuple) else h
        states.append(encoder.layer_norm(h) if k == len(encoder.layers) - 1 else h)
    return states


def encode(encoder: Any, mels: list[Any]) -> list[list[Any]]:
    """Every hidden state of each clip's log-mel frames.

    Parameters
    ----------
    encoder : transformers WhisperEncoder
    mels : list of np.ndarray [shape=(n_mels, T_i)]
        Log-mel spectrograms (:func:`emoscope.features.whisper_frontend.log_mel`), encoded as
        one batch (in 30 s windows past 30 s).

    Returns
    -------
    list (one per clip) of list (one per hidden state: 0 = after the convolutions and
    positions, then each layer, the last one after the final layer norm) of np.ndarray
    [shape=(ceil(T_i / 2), d_model)], float32
    """
    import numpy as np
    import torch

    n_states = len(encoder.layers) + 1
    out: list[list[list[np.ndarray]]] = [[[] for _ in range(n_states)] for _ in mels]
    longest = max(m.shape[-1] for m in mels)
    with torch.inference_mode():
        for start in range(0, longest, MAX_FRAMES):
            idx = [i for i, m in enumerate(mels) if m.shape[-1] > start]
            parts = [mels[i][:, start:start + MAX_FRAMES] for i in idx]
            width = max(p.shape[-1] for p in parts)
            batch = np.zeros((len(parts), parts[0].shape[0], width), np.float32)
            for k, p in enumerate(parts):
                batch[k, :, : p.shape[-1]] = p
            lengths = torch.tensor([p.shape[-1] for p in parts])
            states = _encode_window(encoder, torch.from_numpy(batch), lengths)
            for k, i in enumerate(idx):
                n = (int(lengths[k]) + 1) // 2
                for s in range(n_states):
                    out[i][s].append(states[s][k, :n].numpy())
    return [[np.concatenate(chunks) for chunks in clip] for clip in out]
