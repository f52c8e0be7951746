"""Typed configuration: dataclasses in, YAML out, dotted command-line overrides.

Every shipped experiment is a YAML file in ``configs/``; it maps onto :class:`ExperimentConfig`.
Loading checks every key and every type before any work starts, and names what is wrong:

>>> load_config("configs/default.yaml", overrides=["train.lr=3e-4"])   # doctest: +SKIP
>>> load_config("bad.yaml")                                          # doctest: +SKIP
ConfigError: bad.yaml: unknown key 'train.lrr' (known: batch_size, epochs, lr, ...)

Every section is a typed object after loading, parsed once by :mod:`emoscope.schema` (the one
validator): ``features`` by the registered extractor's config
(:class:`~emoscope.features.FeatureSection`), ``model`` by the registered model's
(:class:`~emoscope.models.ModelSection`), ``augment`` as an
:class:`~emoscope.augment.AugmentConfig` and ``video`` as an
:class:`~emoscope.video.config.AudioVisualConfig` (``None``: audio only).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from emoscope.augment.config import AugmentConfig
from emoscope.errors import ConfigError
from emoscope.features.base import FeatureSection
from emoscope.models.base import ModelSection
from emoscope.schema import config_from_dict, config_to_dict
from emoscope.video.config import AudioVisualConfig, check_audio_visual

__all__ = [
    "DataConfig",
    "ExperimentConfig",
    "ProtocolConfig",
    "TrainConfig",
    "apply_overrides",
    "config_from_dict",
    "config_to_dict",
    "load_config",
    "save_config",
]

@dataclass(frozen=True)
class DataConfig:
    """Which corpus (or corpora), and which labels of it.

    Attributes
    ----------
    corpus : str
        A registered corpus (``emoscope corpora``); with ``corpora``, a name for the mix.
    root : str, optional
        Its folder; usually given on the command line (``--data-root``).
    corpora : dict, optional
        Several corpora read together: corpus name -> folder, relative to the data root (or
        absolute), e.g. ``{tess: TESS, ravdess: RAVDESS}`` with ``--data-root ../shared/data``.
        Protocols then name speakers ``<corpus>:<speaker>`` (``ravdess:02``), so that no two
        corpora share one.
    labels : list of str, optional
        Keep only these labels (canonical names or the corpus's own codes), in this order.
    label_map : dict, optional
        Merge labels first, e.g. ``{excited: happy}``.
    options : dict
        Corpus loader options (``vocal_channel``, ``label_set``, ...).
    """

    corpus: str
    root: str | None = None
    corpora: dict[str, str] | None = None
    labels: list[str] | None = None
    label_map: dict[str, str] | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProtocolConfig:
    """How the manifest is split.

    Attributes
    ----------
    name : str
        A protocol kind (``speaker-kfold``, ``loso``, ``random``, ...) or a named protocol
        (``ravdess-si6``, ...).
    file : str, optional
        A protocols JSON for named protocols (default: the shipped standard protocols).
    options : dict
        The kind's options (``k``, ``seed``, ``test_fraction``, ...).
    valid_fraction, valid_speakers :
        The validation split, drawn from training speakers (see :mod:`emoscope.protocols`).
    """

    name: str
    file: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    valid_fraction: float | None = 0.1
    valid_speakers: int | None = None


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation, sampling and the training loop.

    Attributes
    ----------
    epochs, batch_size : int
    optimizer : {"adam", "adamw", "sgd"}
    lr, weight_decay : float
    schedule : {"none", "cosine", "onecycle", "plateau"}
    warmup_epochs : int
        Linear warm-up before the schedule (cosine).
    early_stopping : int, optional
        Stop after this many epochs without a better validation UA; the best epoch's weights
        are kept. ``None`` trains all epochs (still keeping the best-on-validation weights).
    balance : {"none", "class_weights", "oversample"}
        Class balancing on the training set.
    label_smoothing : float
    grad_clip : float, optional
        Clip the gradient norm.
    standardize : bool
        Standardise vector features with training-set statistics.
    max_frames : int, optional
        Random crop of sequence features to at most this many frames in training (whole
        utterances at evaluation).
    seed : int
        Seeds everything: initialisation, batches, augmentation.
    threads : int, optional
        Torch threads (default: all cores).
    feature_workers : int
        Processes for feature extraction.
    """

    epochs: int = 50
    batch_size: int = 64
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    schedule: Literal["none", "cosine", "onecycle", "plateau"] = "none"
    warmup_epochs: int = 0
    early_stopping: int | None = None
    balance: Literal["none", "class_weights", "oversample"] = "none"
    label_smoothing: float = 0.0
    grad_clip: float | None = None
    standardize: bool = True
    max_frames: int | None = None
    seed: int = 0
    threads: int | None = None
    feature_workers: int = 1


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment: data, protocol, features, model, training, augmentation.

    Attributes
    ----------
    name : str
    data : DataConfig
    protocol : ProtocolConfig
    features : FeatureSection
        The registered extractor and its config (``{"name": ..., **options}`` in YAML).
    model : ModelSection
        The registered model and its config (``{"name": ..., **options}`` in YAML).
    train : TrainConfig
    augment : AugmentConfig
        All off by default.
    description : str
    video : AudioVisualConfig, optional
        Audio-visual experiments: the face-frames feature and the contrastive pre-training;
        ``None``: audio only (or video only, when ``features`` reads video).
    """

    name: str
    data: DataConfig
    protocol: ProtocolConfig
    features: FeatureSection
    model: ModelSection
    train: TrainConfig = field(default_factory=TrainConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    description: str = ""
    video: AudioVisualConfig | None = None

    def __post_init__(self) -> None:
        check_audio_visual(self.video, model=self.model, augment=self.augment)


def _parse_scalar(text: str) -> Any:
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str):  # YAML 1.1 reads 3e-4 as a string
        try:
            return float(value)
        except ValueError:
            return value
    return value


def apply_overrides(data: dict[str, Any], overrides: list[str] | None) -> dict[str, Any]:
    """Apply ``a.b.c=value`` overrides (values parsed as YAML) to a nested dict, in a copy.

    Values are not checked here: :func:`load_config` checks the result, every section by the
    config that parses it.
    """
    import copy

    out = copy.deepcopy(data)
    for item in overrides or []:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not key=value")
        path, raw = item.split("=", 1)
        keys = [k.strip() for k in path.strip().split(".") if k.strip()]
        if not keys:
            raise ConfigError(f"override {item!r} has no key")
        node = out
        for k in keys[:-1]:
            nxt = node.setdefault(k, {})
            if not isinstance(nxt, dict):
                raise ConfigError(f"override {item!r}: '{k}' is not a section")
            node = nxt
        node[keys[-1]] = _parse_scalar(raw)
    return out


def load_config(source: str | os.PathLike[str] | dict[str, Any], *,
                overrides: list[str] | None = None) -> ExperimentConfig:
    """Read an experiment config (YAML file or dict), apply overrides, check everything.

    Raises
    ------
    ConfigError
        Missing or unreadable file, bad YAML, unknown keys, wrong types, unknown feature or
        model names or options.
    """
    import yaml

    where = ""
    if isinstance(source, dict):
        data = source
    else:
        p = Path(source)
        where = f"{p}: "
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{p}: no such config file") from None
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{p}: not a readable YAML config ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}a config must be a mapping of sections")
    try:
        cfg = config_from_dict(ExperimentConfig, apply_overrides(data, overrides))
    except ConfigError as exc:
        raise ConfigError(f"{where}{exc}") from None
    return cfg


def save_config(cfg: ExperimentConfig, path: str | os.PathLike[str]) -> Path:
    """Write the resolved config as YAML (what a run directory keeps)."""
    import yaml

    p = Path(path)
    p.write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False), encoding="utf-8")
    return p
