"""Typed configuration: dataclasses in, YAML out, dotted command-line overrides.

Every shipped experiment is a YAML file in ``configs/``; it maps onto :class:`ExperimentConfig`.
Loading checks every key and every type before any work starts, and names what is wrong:

>>> load_config("configs/default.yaml", overrides=["train.lr=3e-4"])   # doctest: +SKIP
>>> load_config("bad.yaml")                                          # doctest: +SKIP
ConfigError: bad.yaml: unknown key 'train.lrr' (known: batch_size, epochs, lr, ...)

The ``features``, ``model`` and ``augment`` sections are checked by the registered extractor,
model and augmentation configs they name.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from emoscope.errors import ConfigError

__all__ = [
    "DataConfig",
    "ExperimentConfig",
    "ProtocolConfig",
    "TrainConfig",
    "apply_overrides",
    "check_type",
    "coerce",
    "config_from_dict",
    "config_to_dict",
    "fits_type",
    "load_config",
    "save_config",
]

T = TypeVar("T")


def check_type(value: Any, hint: Any) -> tuple[bool, Any]:
    """Whether ``value`` fits the annotation ``hint``, and the value to store.

    Handles the simple types configs use: ``bool``, ``int`` (not bool), ``float`` (ints become
    floats), ``str``, ``None``, unions, ``Literal``, ``tuple[X, ...]`` and ``tuple[X, Y]`` (element
    types checked; lists become tuples, as YAML and JSON give lists), ``list[X]`` and ``dict``.
    """
    origin = typing.get_origin(hint)
    if hint is Any:
        return True, value
    if origin in (typing.Union, types.UnionType):
        for h in typing.get_args(hint):
            ok, out = check_type(value, h)
            if ok:
                return True, out
        return False, value
    if origin is Literal:
        return value in typing.get_args(hint), value
    if hint is type(None):
        return value is None, value
    if hint is bool:
        return isinstance(value, bool), value
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return ok, float(value) if ok else value
    if origin in (tuple, list):
        if not isinstance(value, tuple | list):
            return False, value
        args = typing.get_args(hint)
        if origin is list or (len(args) == 2 and args[1] is Ellipsis):
            args = (args[0] if args else Any,) * len(value)
        elif args and len(args) != len(value):
            return False, value
        out = []
        for v, h in zip(value, args or (Any,) * len(value), strict=True):
            ok, item = check_type(v, h)
            if not ok:
                return False, value
            out.append(item)
        return True, tuple(out) if origin is tuple else out
    if origin is dict:
        return isinstance(value, dict), value
    if isinstance(hint, type):
        return isinstance(value, hint), value
    return True, value


def fits_type(value: Any, hint: Any) -> bool:
    """Whether ``value`` fits the annotation ``hint`` (see :func:`check_type`)."""
    return check_type(value, hint)[0]


def coerce(value: Any, hint: Any) -> Any:
    """``value``, or a number parsed from it when ``hint`` wants a float and YAML 1.1 left a
    string such as ``"1e-4"``; lists become tuples for tuple fields."""
    if isinstance(value, list) and typing.get_origin(hint) is tuple:
        value = tuple(value)
    if isinstance(value, str) and not fits_type(value, hint) and fits_type(0.5, hint):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _type_name(hint: Any) -> str:
    return (hint.__name__ if isinstance(hint, type) else str(hint)).replace("typing.", "")


def config_from_dict(cls: type[T], data: Any, *, where: str = "") -> T:
    """Build dataclass ``cls`` from a dict, recursing into nested dataclass fields.

    Raises
    ------
    ConfigError
        An unknown key, a wrong type, or a missing required key, named by its dotted path.
    """
    prefix = f"{where}." if where else ""
    if not isinstance(data, dict):
        raise ConfigError(f"'{where or cls.__name__}' should be a mapping, got "
                          f"{type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"unknown key '{prefix}{unknown[0]}' (known: "
                          f"{', '.join(sorted(fields))})")
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            kwargs[name] = config_from_dict(hint, value, where=f"{prefix}{name}")
            continue
        ok, checked = check_type(coerce(value, hint), hint)
        if not ok:
            raise ConfigError(f"'{prefix}{name}' = {value!r} should be {_type_name(hint)}")
        kwargs[name] = checked
    missing = [n for n, f in fields.items() if n not in kwargs
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ConfigError(f"missing key '{prefix}{missing[0]}'")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where or cls.__name__}: {exc}") from None


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """A dataclass config as plain dicts/lists (tuples become lists), YAML/JSON-ready."""

    def plain(v: Any) -> Any:
        if isinstance(v, tuple | list):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(dataclasses.asdict(cfg))


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

    ``features`` and ``model`` are ``{"name": ..., **options}`` mappings checked by the
    registered extractor and model they name; ``augment`` maps onto the augmentation config.
    ``video`` (audio-visual experiments) holds the face-frames feature and the contrastive
    pre-training (:class:`emoscope.video.config.AudioVisualConfig`); empty: audio only.
    """

    name: str
    data: DataConfig
    protocol: ProtocolConfig
    features: dict[str, Any]
    model: dict[str, Any]
    train: TrainConfig = field(default_factory=TrainConfig)
    augment: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    video: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for section in ("features", "model"):
            if "name" not in getattr(self, section):
                raise ConfigError(f"'{section}' needs a 'name'")


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

    ``features`` and ``model`` sections accept new keys (their registered configs check them
    later); elsewhere a key must already exist in the dataclass.
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
        _check_sections(cfg)
    except ConfigError as exc:
        raise ConfigError(f"{where}{exc}") from None
    return cfg


def _check_sections(cfg: ExperimentConfig) -> None:
    """Let the registered extractor, model and augmentation configs check their sections."""
    from emoscope import features

    opts = {k: v for k, v in cfg.features.items() if k != "name"}
    features.FEATURES.get(cfg.features["name"]).Config.from_dict(opts)
    from emoscope import models

    model_cls = models.MODELS.get(cfg.model["name"])
    model_cls.Config.from_dict({k: v for k, v in cfg.model.items() if k != "name"})
    if cfg.augment:
        from emoscope.augment import AugmentConfig

        AugmentConfig.from_dict(cfg.augment)
    if cfg.video:  # audio-visual
        from emoscope.video.config import check_audio_visual

        check_audio_visual(cfg)


def save_config(cfg: ExperimentConfig, path: str | os.PathLike[str]) -> Path:
    """Write the resolved config as YAML (what a run directory keeps)."""
    import yaml

    p = Path(path)
    p.write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False), encoding="utf-8")
    return p
