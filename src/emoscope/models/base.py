"""The model contract: a typed config dataclass, a registry, and a spec to rebuild from.

Every model takes one kind of feature (see :mod:`emoscope.features.base`); the kind follows from
the shape of one example:

============== ====================== ======================================================
kind           one example            a batch given to ``forward``
============== ====================== ======================================================
``"vector"``   ``(dim,)``             ``x: (B, dim)``
``"sequence"`` ``(n_frames, dim)``    ``x: (B, T, dim)`` zero-padded, ``lengths: (B,)`` int64
``"image"``    ``(channels, H, W)``   ``x: (B, channels, H, W)``
``"video"``    ``(T, channels, H, W)`` ``x: (B, T, channels, H, W)`` (face frames)
============== ====================== ======================================================

A model with several inputs (audio-visual fusion) takes a tuple of shapes, e.g.
``((3, 64, 64), (20, 1, 60, 100))``; its kind joins the parts' kinds (``"image+video"``) and
``forward`` receives a tuple of tensors (and a tuple of lengths, or ``None``).

Two families share the contract:

- ``"torch"``: an :class:`TorchModel` (an ``nn.Module``) whose ``forward(x, lengths=None)``
  returns logits ``(B, n_classes)`` (softmax belongs to the loss). Sequence models ignore
  padding: an item gives the same logits alone as inside a padded batch (in eval mode).
- ``"sklearn"``: an :class:`emoscope.models.sklearn_models.SklearnModel` with ``fit`` and
  ``predict_proba``; vector input only.

Both are built the same way, and :func:`model_spec` is all a checkpoint needs to rebuild one
(nanoGPT's habit: the checkpoint stores the config it was built from)::

    >>> model = build_model("mlp", input_shape=(88,), n_classes=4, hidden=(128,))
    >>> spec = model_spec(model)   # {"name": "mlp", "config": {...}, "input_shape": [88], ...}
    >>> again = build_model(spec)  # same architecture; then again.load_state_dict(...)

Writing a new model means one file in this package with a ``@register_model`` class; the
package imports it automatically.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from emoscope.errors import ConfigError
from emoscope.registry import Registry
from emoscope.schema import check_fields, options_from_dict, split_named

__all__ = [
    "FAMILIES",
    "INPUT_KINDS",
    "MODELS",
    "ModelConfig",
    "ModelSection",
    "TorchModel",
    "build_model",
    "check_input_kind",
    "input_kind",
    "model_spec",
    "n_parameters",
    "register_model",
]

#: Feature kinds, by the number of dimensions of one example.
INPUT_KINDS = {1: "vector", 2: "sequence", 3: "image", 4: "video"}
#: Model families.
FAMILIES = ("torch", "sklearn")


# --------------------------------------------------------------------------------------------
# Configs


def _hint_name(hint: Any) -> str:
    name = hint.__name__ if isinstance(hint, type) else str(hint)
    return name.replace("typing.", "")


@dataclass(frozen=True)
class ModelConfig:
    """Base of every model's config: frozen, typed, checked on construction.

    Subclasses add their own fields (with defaults) and may override :meth:`validate` to refuse
    inconsistent values. Wrong types, unknown keys and bad values raise
    :class:`~emoscope.errors.ConfigError` naming the option, whether the config comes from
    :meth:`from_dict` or is constructed directly. Tuple options accept lists.
    """

    def __post_init__(self) -> None:
        check_fields(self)
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ConfigError` for out-of-range or inconsistent values."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/YAML-ready dict of every field (tuples become lists)."""
        def plain(v: Any) -> Any:
            return [plain(x) for x in v] if isinstance(v, tuple | list) else v

        return {k: plain(v) for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Build from a dict; unknown keys raise :class:`ConfigError` naming them (see
        :func:`emoscope.schema.options_from_dict`)."""
        return options_from_dict(cls, data, numbers_from_strings=False)

    # small checks subclasses use in validate()
    def _positive(self, *names: str) -> None:
        for name in names:
            value = getattr(self, name)
            values = value if isinstance(value, tuple) else (value,)
            if any(v is not None and v <= 0 for v in values):
                raise ConfigError(f"{type(self).__name__}: option {name}={value!r} must be "
                                  "positive")

    def _probability(self, *names: str) -> None:
        for name in names:
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"{type(self).__name__}: option {name}={value!r} must be in "
                                  "[0, 1)")


# --------------------------------------------------------------------------------------------
# Input kinds


def input_kind(input_shape: Sequence[int]) -> str:
    """The feature kind of one example of shape ``input_shape`` ("vector", "sequence", "image").

    For a sequence the number of frames may be given as anything (it varies): only the last
    dimension is used.
    """
    shape = tuple(input_shape)
    if shape and all(isinstance(d, tuple | list) for d in shape):  # several inputs
        return "+".join(input_kind(part) for part in shape)
    if shape and shape[0] is None and len(shape) == 2:  # (None, dim): frames vary
        shape = (1, shape[1])
    if len(shape) not in INPUT_KINDS or not all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape):
        raise ConfigError(f"input_shape must be 1 to 4 positive integers (vector (dim,), "
                          f"sequence (n_frames, dim), image (channels, H, W), video (frames, "
                          f"channels, H, W)), or a tuple of such shapes; got {input_shape!r}")
    return INPUT_KINDS[len(shape)]


def check_input_kind(cls: type, input_shape: Sequence[int]) -> str:
    """The kind of ``input_shape``; :class:`ConfigError` naming model and kind when ``cls``
    does not take it."""
    kind = input_kind(input_shape)
    kinds = getattr(cls, "input_kinds", ())
    if kind not in kinds:
        name = getattr(cls, "name", "") or cls.__name__
        raise ConfigError(f"model {name!r} takes {' or '.join(kinds)} features; got {kind} "
                          f"features of shape {tuple(input_shape)}")
    return kind


def _check_n_classes(n_classes: Any) -> int:
    if not isinstance(n_classes, int) or isinstance(n_classes, bool) or n_classes < 2:
        raise ConfigError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    return n_classes


# --------------------------------------------------------------------------------------------
# Torch models


class TorchModel(nn.Module):
    """Base of the torch models: stores ``config``, ``input_shape``, ``n_classes``, ``input_kind``
    and checks the batch given to ``forward``.

    Subclasses set ``Config``, build their layers in ``__init__`` after calling
    ``super().__init__(config, input_shape=..., n_classes=...)`` and implement
    ``forward(x, lengths=None) -> logits (B, n_classes)``. ``name``, ``input_kinds`` and
    ``family`` are set by :func:`register_model`.
    """

    name: ClassVar[str] = ""
    Config: ClassVar[type[ModelConfig]] = ModelConfig
    input_kinds: ClassVar[tuple[str, ...]] = ()
    family: ClassVar[str] = "torch"

    def __init__(self, config: ModelConfig | dict[str, Any] | None = None, *,
                 input_shape: Sequence[int], n_classes: int) -> None:
        super().__init__()
        self.config = _make_config(type(self), config)
        self.input_kind = check_input_kind(type(self), input_shape)
        self.input_shape = _freeze_shape(input_shape)
        self.n_classes = _check_n_classes(n_classes)

    def extra_repr(self) -> str:
        return f"input_shape={self.input_shape}, n_classes={self.n_classes}"

    def check_batch(self, x: torch.Tensor,
                    lengths: torch.Tensor | None = None) -> torch.Tensor | None:
        """Raise :class:`ConfigError` unless ``x`` is a batch of this model's input; return
        ``lengths`` for a sequence (``None`` when all frames are valid), else ``None``.

        Checked: the number of dimensions, the feature dimension (vector, sequence) or channel
        count (image), and for sequences that ``lengths`` is ``(B,)`` within ``[1, T]``.
        """
        kind, shape = self.input_kind, self.input_shape
        if "+" in kind:  # several inputs: check each part
            parts = kind.split("+")
            if not isinstance(x, tuple | list) or len(x) != len(parts):
                raise ConfigError(f"{self.name}: expected a tuple of {len(parts)} batches "
                                  f"({kind}), got {type(x).__name__}")
            lens = lengths if isinstance(lengths, tuple | list) else (None,) * len(parts)
            out = tuple(_check_part(self.name, k, sh, xi, li)
                        for k, sh, xi, li in zip(parts, shape, x, lens, strict=True))
            return None if all(o is None for o in out) else out  # type: ignore[return-value]
        return _check_part(self.name, kind, shape, x, lengths)


def _freeze_shape(shape: Sequence[Any]) -> tuple[Any, ...]:
    """``shape`` as (nested) tuples."""
    return tuple(_freeze_shape(d) if isinstance(d, tuple | list) else d for d in shape)


def _check_part(name: str, kind: str, shape: tuple[Any, ...], x: torch.Tensor,
                lengths: torch.Tensor | None) -> torch.Tensor | None:
    """:meth:`TorchModel.check_batch` for one input of kind ``kind`` built for ``shape``."""
    want = {"vector": 2, "sequence": 3, "image": 4, "video": 5}[kind]
    if not isinstance(x, torch.Tensor) or x.dim() != want:
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ConfigError(f"{name}: expected a {kind} batch of {want} dimensions, got "
                          f"shape {got}")
    if x.shape[-1] != shape[-1] and kind in ("vector", "sequence"):
        raise ConfigError(f"{name} was built for {kind} features of dim {shape[-1]}; "
                          f"got shape {tuple(x.shape)}")
    if kind == "image" and x.shape[1] != shape[0]:
        raise ConfigError(f"{name} was built for {shape[0]}-channel images; got shape "
                          f"{tuple(x.shape)}")
    if kind == "video" and x.shape[2] != shape[1]:
        raise ConfigError(f"{name} was built for {shape[1]}-channel frames; got shape "
                          f"{tuple(x.shape)}")
    if kind != "sequence" or lengths is None:
        return None
    if lengths.shape != (x.shape[0],) or lengths.dtype.is_floating_point:
        raise ConfigError(f"{name}: lengths must be an integer tensor of shape "
                          f"({x.shape[0]},), got {lengths.dtype} {tuple(lengths.shape)}")
    if not (torch.jit.is_tracing() or torch.compiler.is_compiling()) and (
            bool((lengths < 1).any()) or bool((lengths > x.shape[1]).any())):
        raise ConfigError(f"{name}: lengths must be in [1, {x.shape[1]}] (the padded "
                          f"length), got {lengths.tolist()}")
    return lengths


def n_parameters(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of parameters (elements) of a torch model."""
    if not isinstance(model, nn.Module):
        raise ConfigError(f"n_parameters needs a torch model, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


# --------------------------------------------------------------------------------------------
# Registry, building, specs

#: Every registered model class, by name.
MODELS: Registry[type] = Registry("model")


def register_model(name: str, *, input_kinds: tuple[str, ...], family: str = "torch",
                   aliases: tuple[str, ...] = ()) -> Callable[[type], type]:
    """Class decorator: register a model class as ``name``.

    Parameters
    ----------
    name : str
    input_kinds : tuple of str
        The feature kinds it takes ("vector", "sequence", "image").
    family : {"torch", "sklearn"}
        ``"torch"`` classes subclass :class:`TorchModel`; ``"sklearn"`` classes have ``fit``
        and ``predict_proba``.
    aliases : tuple of str
    """
    if family not in FAMILIES:
        raise ConfigError(f"family must be one of {', '.join(FAMILIES)}, got {family!r}")
    bad = [k for k in input_kinds
           if not all(part in INPUT_KINDS.values() for part in k.split("+"))]
    if not input_kinds or bad:
        raise ConfigError(f"input_kinds must be some of {', '.join(INPUT_KINDS.values())} "
                          f"(several inputs joined by '+'), got {input_kinds!r}")

    def deco(cls: type) -> type:
        if not (isinstance(cls, type) and issubclass(getattr(cls, "Config", object),
                                                       ModelConfig)):
            raise ConfigError(f"{cls!r} needs a Config that subclasses ModelConfig")
        if family == "torch" and not issubclass(cls, TorchModel):
            raise ConfigError(f"{cls.__name__} is not a TorchModel subclass")
        if family == "sklearn" and not all(callable(getattr(cls, m, None))
                                           for m in ("fit", "predict_proba")):
            raise ConfigError(f"{cls.__name__} needs fit and predict_proba")
        cls.name = name
        cls.input_kinds = tuple(input_kinds)
        cls.family = family
        MODELS.register(name, aliases=aliases)(cls)
        return cls

    return deco


def _make_config(cls: type, config: ModelConfig | dict[str, Any] | None) -> ModelConfig:
    want = cls.Config
    if config is None:
        return want()
    if isinstance(config, dict):
        return want.from_dict(config)
    if type(config) is not want:
        raise ConfigError(f"{cls.__name__} needs a {want.__name__}, got {type(config).__name__}")
    return config


def build_model(name_or_spec: str | dict[str, Any], *, input_shape: Sequence[int] | None = None,
                n_classes: int | None = None, **overrides: Any) -> Any:
    """Build a registered model.

    Parameters
    ----------
    name_or_spec : str or dict
        A registered name, or a :func:`model_spec` dict (its ``config``, ``input_shape`` and
        ``n_classes`` are used unless given here).
    input_shape : tuple of int
        The shape of one example: ``(dim,)``, ``(n_frames, dim)`` (any ``n_frames``) or
        ``(channels, H, W)``. Required with a name.
    n_classes : int
        Number of output classes (>= 2). Required with a name.
    **overrides
        Config options (over the spec's config when a spec is given).

    Raises
    ------
    ConfigError
        Unknown name (:class:`~emoscope.errors.UnknownNameError`), bad options, or a feature kind
        the model does not take.
    """
    if isinstance(name_or_spec, dict):
        spec = name_or_spec
        if "name" not in spec:
            raise ConfigError(f"a model spec needs a 'name'; got keys {sorted(spec)}")
        name, options = spec["name"], {**spec.get("config", {}), **overrides}
        input_shape = spec.get("input_shape") if input_shape is None else input_shape
        n_classes = spec.get("n_classes") if n_classes is None else n_classes
    elif isinstance(name_or_spec, str):
        name, options = name_or_spec, overrides
    else:
        raise ConfigError(f"build_model needs a name or a spec dict, got "
                          f"{type(name_or_spec).__name__}")
    cls = MODELS.get(name)
    if input_shape is None or n_classes is None:
        raise ConfigError(f"build_model({name!r}) needs input_shape and n_classes")
    check_input_kind(cls, input_shape)  # before the config, so the kind error comes first
    return cls(cls.Config.from_dict(options), input_shape=tuple(input_shape),
               n_classes=n_classes)


@dataclass(frozen=True)
class ModelSection:
    """A ``model`` section of an experiment config, parsed by the registered model.

    Attributes
    ----------
    name : str
        The registered name, as written.
    config : ModelConfig
        The model's config (the registered class's ``Config``).
    """

    name: str
    config: ModelConfig

    @classmethod
    def from_section(cls, data: Any, *, where: str = "model") -> ModelSection:
        """Parse ``{"name": ..., **options}``.

        Raises
        ------
        ConfigError
            Not a mapping, no ``name``, an unknown model
            (:class:`~emoscope.errors.UnknownNameError`) or bad options.
        """
        name, options = split_named(data, where=where)
        return cls(name=name, config=MODELS.get(name).Config.from_dict(options))

    @property
    def model_class(self) -> type:
        """The registered model class."""
        return MODELS.get(self.name)

    def build(self, *, input_shape: Sequence[Any], n_classes: int) -> Any:
        """The model this section describes, for examples of ``input_shape``.

        Raises
        ------
        ConfigError
            A feature kind the model does not take, or a bad ``n_classes``.
        """
        cls = self.model_class
        check_input_kind(cls, input_shape)
        return cls(self.config, input_shape=tuple(input_shape), n_classes=n_classes)

    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., **every option}``: what :meth:`from_section` reads back."""
        return {"name": self.name, **self.config.to_dict()}


def model_spec(model: Any) -> dict[str, Any]:
    """``{"name", "config", "input_shape", "n_classes"}``, JSON-ready: enough for
    :func:`build_model` to rebuild the same architecture (the weights are separate)."""
    for attr in ("name", "config", "input_shape", "n_classes"):
        if not hasattr(model, attr):
            raise ConfigError(f"{type(model).__name__} is not an emoscope model (no {attr})")
    return {"name": model.name, "config": model.config.to_dict(),
            "input_shape": list(model.input_shape), "n_classes": model.n_classes}
