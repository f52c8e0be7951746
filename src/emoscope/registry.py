"""A tiny decorator registry used by corpora, features, models and protocols.

>>> CORPORA = Registry("corpus")
>>> @CORPORA.register("tess")
... def prepare_tess(root): ...
>>> CORPORA.get("tess") is prepare_tess
True
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

from emoscope.errors import ConfigError, UnknownNameError

T = TypeVar("T")

__all__ = ["Registry", "import_plugins"]


def import_plugins(package: str, path: Iterable[str], *, infrastructure: Iterable[str]) -> None:
    """Import every module of ``package`` except its ``infrastructure`` and private ones, so that
    each corpus, feature, model or protocol file registers itself by being there."""
    skip = set(infrastructure)
    for mod in pkgutil.iter_modules(list(path)):
        if mod.name not in skip and not mod.name.startswith("_"):
            importlib.import_module(f"{package}.{mod.name}")


class Registry(Generic[T]):
    """Maps lower-case names (and aliases) to registered objects.

    Parameters
    ----------
    kind : str
        What the registry holds ("corpus", "feature", ...); used in error messages.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, *, aliases: tuple[str, ...] = ()) -> Callable[[T], T]:
        """Decorator that registers its target under ``name`` (and ``aliases``)."""

        def deco(obj: T) -> T:
            keys = [self._norm(name), *(self._norm(a) for a in aliases)]
            taken = [k for k in keys if k in self._items or k in self._aliases]
            if taken or len(set(keys)) != len(keys):
                raise ConfigError(f"{self.kind} name(s) {taken or keys} registered twice")
            self._items[keys[0]] = obj
            for alias in keys[1:]:
                self._aliases[alias] = keys[0]
            return obj

        return deco

    def get(self, name: str) -> T:
        """Return the object registered as ``name``; raise :class:`UnknownNameError` otherwise."""
        key = self._norm(name)
        key = self._aliases.get(key, key)
        try:
            return self._items[key]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise UnknownNameError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def canonical(self, name: str) -> str:
        """The registered name that ``name`` (a name or an alias) refers to."""
        self.get(name)
        key = self._norm(name)
        return self._aliases.get(key, key)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = self._norm(name)
        return key in self._items or key in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    @staticmethod
    def _norm(name: str) -> str:
        return name.strip().lower().replace("_", "-")
