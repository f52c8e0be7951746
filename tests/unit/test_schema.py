"""The one validator: typed config dataclasses from dicts, one-line messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

from emoscope.errors import ConfigError
from emoscope.schema import (
    check_fields,
    config_from_dict,
    config_to_dict,
    options_from_dict,
)


@dataclass(frozen=True)
class _Inner:
    k: int = 2


@dataclass(frozen=True)
class _Named:
    name: str
    size: int = 1

    @classmethod
    def from_section(cls, data: Any, *, where: str) -> _Named:
        if not isinstance(data, dict) or "name" not in data:
            raise ConfigError(f"'{where}' needs a 'name'")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size}


@dataclass(frozen=True)
class _Outer:
    lr: float
    inner: _Inner = field(default_factory=_Inner)
    named: _Named | None = None
    mode: Literal["a", "b"] = "a"
    sizes: tuple[int, ...] = (1,)


def test_sections_parse_nested_and_by_their_own_parser():
    cfg = config_from_dict(_Outer, {"lr": "1e-4", "inner": {"k": 3},
                                    "named": {"name": "x", "size": 4}, "sizes": [2, 3]})
    assert cfg == _Outer(lr=1e-4, inner=_Inner(3), named=_Named("x", 4), sizes=(2, 3))
    assert config_from_dict(_Outer, {"lr": 1, "named": None}).named is None
    assert config_to_dict(cfg) == {"lr": 1e-4, "inner": {"k": 3},
                                   "named": {"name": "x", "size": 4}, "mode": "a",
                                   "sizes": [2, 3]}


@pytest.mark.parametrize(("data", "message"), [
    ({"lr": 1, "inner": {"kk": 1}}, r"unknown key 'top.inner.kk' \(known: k\)"),
    ({"lr": "fast"}, r"'top.lr' = 'fast' should be float"),
    ({"lr": 1, "mode": "c"}, r"'top.mode' = 'c' should be Literal\['a', 'b'\]"),
    ({"lr": 1, "named": {"size": 2}}, r"'top.named' needs a 'name'"),
    ({}, r"missing key 'top.lr'"),
    ([1], r"'top' should be a mapping, got list"),
])
def test_section_errors_name_the_dotted_path(data, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(_Outer, data, where="top")


@dataclass(frozen=True)
class _Options:
    n: int = 1
    rate: float = 0.5
    pair: tuple[int, int] = (1, 2)

    def __post_init__(self) -> None:
        check_fields(self)
        if self.n < 1:
            raise ConfigError(f"n must be >= 1, got {self.n}")


def test_options_coerce_what_yaml_gives():
    assert options_from_dict(_Options, {"rate": "1e-2", "pair": [3, 4]}) == _Options(
        rate=0.01, pair=(3, 4))
    with pytest.raises(ConfigError, match=r"_Options: option rate='1e-2' should be float"):
        options_from_dict(_Options, {"rate": "1e-2"}, numbers_from_strings=False)


@pytest.mark.parametrize(("data", "message"), [
    ({"m": 1, "a": 2}, r"^_Options: unknown option\(s\) a, m; known: n, pair, rate$"),
    ({"n": 1.5}, r"^_Options: option n=1.5 should be int$"),
    ({"pair": [1]}, r"^_Options: option pair=\[1\] should be tuple\[int, int\]$"),
    ({"n": 0}, r"^_Options: n must be >= 1, got 0$"),
    ("n=1", r"^_Options: expected a mapping of options, got str$"),
])
def test_option_errors_are_one_line_naming_the_class(data, message):
    with pytest.raises(ConfigError, match=message):
        options_from_dict(_Options, data)


def test_direct_construction_is_checked():
    with pytest.raises(ConfigError, match=r"_Options: option n='2' should be int"):
        _Options(n="2")  # type: ignore[arg-type]
    assert _Options(rate=1).rate == 1.0 and isinstance(_Options(rate=1).rate, float)
