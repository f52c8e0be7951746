import pytest

from emoscope.errors import ConfigError, UnknownNameError
from emoscope.registry import Registry


def test_register_get_alias_and_names():
    reg: Registry[object] = Registry("thing")

    @reg.register("Crema_D", aliases=("cremad",))
    def f():
        return 1

    assert reg.get("crema-d") is f
    assert reg.get("CREMAD") is f
    assert reg.canonical("cremad") == "crema-d"
    assert reg.names() == ["crema-d"]
    assert "crema_d" in reg and "nope" not in reg and 3 not in reg


def test_unknown_name_lists_known_ones():
    reg: Registry[object] = Registry("corpus")
    reg.register("tess")(object())
    with pytest.raises(UnknownNameError, match="unknown corpus 'x'; known: tess"):
        reg.get("x")


def test_double_registration_is_refused():
    reg: Registry[object] = Registry("thing")
    reg.register("a")(1)
    with pytest.raises(ConfigError):
        reg.register("A")(2)
    with pytest.raises(ConfigError):  # an alias may not shadow a name
        reg.register("b", aliases=("a",))(3)
    assert reg.get("a") == 1 and "b" not in reg
