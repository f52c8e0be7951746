"""The one validator: typed, frozen config dataclasses from plain dicts (YAML, JSON, CLI).

Every config in emoscope is a frozen dataclass with annotated fields. This module turns a dict
into one, checking every key and every type, and says what is wrong in one line. It sits on
the bottom floor (it imports nothing but :mod:`emoscope.errors`), so that the experiment config,
the feature, model and augmentation configs and the video section all use it without knowing
each other.

Two entry points, for the two places a config comes from:

- :func:`config_from_dict`: a section of an experiment file, where a key is named by its dotted
  path (``'train.epochs' = 'ten' should be int``, ``unknown key 'train.lrr' (known: ...)``);
- :func:`options_from_dict`: the options of one registered component, named by its config class
  (``LogMelConfig: option n_mels='64' should be int``,
  ``LogMelConfig: unknown option(s) bogus; known: ...``).

Both accept what YAML 1.1 and JSON give: lists for tuple fields, ``"1e-4"`` for a float.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Train:
...     epochs: int = 10
...     lr: float = 1e-3
>>> config_from_dict(Train, {"lr": "3e-4"}, where="train")
Train(epochs=10, lr=0.0003)
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Literal, TypeVar

from emoscope.errors import ConfigError

__all__ = [
    "check_fields",
    "check_type",
    "coerce",
    "config_from_dict",
    "config_to_dict",
    "fits_type",
    "options_from_dict",
    "plain",
    "split_named",
    "type_name",
]

T = TypeVar("T")


def check_type(value: Any, hint: Any) -> tuple[bool, Any]:
    """Whether ``value`` fits the annotation ``hint``, and the value to store.

    Handles the simple types configs use: ``bool``, ``int`` (not bool), ``float`` (ints become
    floats), ``str``, ``None``, unions, ``Literal``, ``tuple[X, ...]`` and ``tuple[X, Y]`` (element
    types checked; lists become tuples, as YAML and JSON give lists), ``list[X]``, ``dict`` and
    nested frozen dataclasses given as themselves.
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


def type_name(hint: Any) -> str:
    """A readable name of an annotation (``int``, ``float | None``, ``tuple[int, int]``)."""
    return (hint.__name__ if isinstance(hint, type) else str(hint)).replace("typing.", "")


def _fields(cls: type) -> dict[str, dataclasses.Field[Any]]:
    if not (dataclasses.is_dataclass(cls) and isinstance(cls, type)):
        raise TypeError(f"{cls!r} is not a dataclass")
    return {f.name: f for f in dataclasses.fields(cls)}


def _optional(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in \
        typing.get_args(hint)


def _section_type(hint: Any) -> type | None:
    """The dataclass a field holds (``X`` or ``X | None``), or ``None``."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = args[0] if len(args) == 1 else None
    return hint if dataclasses.is_dataclass(hint) and isinstance(hint, type) else None


def config_from_dict(cls: type[T], data: Any, *, where: str = "") -> T:
    """Build dataclass ``cls`` from a dict, recursing into nested dataclass fields.

    Parameters
    ----------
    cls : a dataclass type
    data : dict
        Its fields by name. A nested dataclass field takes a dict (checked the same way), or
        whatever its class's ``from_section(value, *, where)`` classmethod parses: that is how
        a section handed to a registry (``features``, ``model``) is parsed by the registered
        component's own config.
    where : str
        The dotted path of this section in the file (``"train"``), used in messages.

    Raises
    ------
    ConfigError
        Not a mapping, an unknown key, a wrong type, a missing required key (named by its dotted
        path), or a value the class refuses.
    """
    prefix = f"{where}." if where else ""
    if not isinstance(data, dict):
        raise ConfigError(f"'{where or cls.__name__}' should be a mapping, got "
                          f"{type(data).__name__}")
    fields = _fields(cls)
    unknown = sorted(set(data) - set(fields), key=str)
    if unknown:
        raise ConfigError(f"unknown key '{prefix}{unknown[0]}' (known: "
                          f"{', '.join(sorted(fields))})")
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        hint = hints[name]
        section = _section_type(hint)
        if section is not None and not (value is None and _optional(hint)):
            parse = getattr(section, "from_section", None)
            if callable(parse):  # a section that knows how to parse itself (a registry's)
                kwargs[name] = parse(value, where=f"{prefix}{name}")
                continue
            if isinstance(value, dict):
                kwargs[name] = config_from_dict(section, value, where=f"{prefix}{name}")
                continue
        ok, checked = check_type(coerce(value, hint), hint)
        if not ok:
            raise ConfigError(f"'{prefix}{name}' = {value!r} should be {type_name(hint)}")
        kwargs[name] = checked
    missing = [n for n, f in fields.items() if n not in kwargs
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ConfigError(f"missing key '{prefix}{missing[0]}'")
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}" if where else str(exc)) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where or cls.__name__}: {exc}") from None


def options_from_dict(cls: type[T], data: Any, *, numbers_from_strings: bool = True) -> T:
    """Build a component's config dataclass ``cls`` from its options.

    Messages name the class (``MLPConfig: option hidden='256' should be tuple[int, ...]``);
    every unknown option is listed with the known ones.

    Parameters
    ----------
    cls : a dataclass type
    data : dict
        Options by name; lists become tuples for tuple fields.
    numbers_from_strings : bool
        Read ``"1e-4"`` as a float where a float is wanted (YAML 1.1 leaves it a string).

    Raises
    ------
    ConfigError
        Not a mapping, unknown options, a value of the wrong type, or a value the class refuses
        (its ``__post_init__`` raising :class:`ConfigError`, ``TypeError`` or ``ValueError``).
    """
    name = cls.__name__
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: expected a mapping of options, got {type(data).__name__}")
    fields = _fields(cls)
    unknown = sorted(set(data) - set(fields), key=str)
    if unknown:
        raise ConfigError(f"{name}: unknown option(s) {', '.join(map(str, unknown))}; "
                          f"known: {', '.join(sorted(fields)) or 'none'}")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for key, value in data.items():
        hint = hints.get(key, Any)
        given = value
        if numbers_from_strings:
            value = coerce(value, hint)
        elif isinstance(value, list) and typing.get_origin(hint) is tuple:
            value = tuple(value)
        ok, checked = check_type(value, hint)
        if not ok:
            raise ConfigError(f"{name}: option {key}={given!r} should be {type_name(hint)}")
        values[key] = checked if isinstance(checked, tuple) else value
    try:
        return cls(**values)
    except ConfigError as exc:
        msg = str(exc)
        raise ConfigError(msg if msg.startswith(f"{name}:") else f"{name}: {msg}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}: {exc}") from None


def split_named(data: Any, *, where: str) -> tuple[str, dict[str, Any]]:
    """A section handed to a registry, ``{"name": ..., **options}``, as ``(name, options)``.

    Raises
    ------
    ConfigError
        Not a mapping, or no ``name``.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"'{where}' should be a mapping, got {type(data).__name__}")
    if "name" not in data:
        raise ConfigError(f"'{where}' needs a 'name'")
    return data["name"], {k: v for k, v in data.items() if k != "name"}


def check_fields(obj: Any) -> None:
    """Check every field of a frozen dataclass instance against its annotation, in place.

    For ``__post_init__``: a config built directly (not from a dict) is checked as strictly.
    Fitting values are stored as :func:`check_type` returns them (lists as tuples, ints as
    floats for float fields).

    Raises
    ------
    ConfigError
        ``<Class>: option <name>=<value> should be <type>``.
    """
    cls = type(obj)
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        ok, checked = check_type(value, hints.get(f.name, Any))
        if not ok:
            raise ConfigError(f"{cls.__name__}: option {f.name}={value!r} should be "
                              f"{type_name(hints[f.name])}")
        if checked is not value:
            object.__setattr__(obj, f.name, checked)


def plain(value: Any) -> Any:
    """A value as plain YAML/JSON data: dataclasses become dicts, tuples become lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [plain(x) for x in value]
    if isinstance(value, dict):
        return {k: plain(x) for k, x in value.items()}
    return value


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """A dataclass config as plain dicts/lists (tuples become lists), YAML/JSON-ready.

    A field whose value has a ``to_dict()`` method (a typed section of the experiment config)
    is written as that method returns it."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        to_dict = getattr(value, "to_dict", None)
        out[f.name] = plain(to_dict()) if callable(to_dict) else plain(value)
    return out
