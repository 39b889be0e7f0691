import pytest

from recexp.errors import ConfigError
from recexp.registry import Registry


def make() -> Registry:
    reg: Registry = Registry("model family")

    @reg.register("neumf", help="fused")
    def neumf() -> str:
        return "n"

    @reg.register("mf")
    def mf() -> str:
        """Biased dot product."""
        return "m"

    return reg


def test_lookup_and_listing():
    reg = make()
    assert reg.get("mf").fn() == "m"
    assert reg.names() == ["mf", "neumf"]
    assert [e.help for e in reg] == ["Biased dot product.", "fused"]
    assert "mf" in reg and "gmf" not in reg and len(reg) == 2


def test_duplicate_registration_is_an_error():
    reg = make()
    with pytest.raises(ValueError, match="model family 'mf' is already registered"):
        reg.register("mf")(lambda: None)


def test_unknown_name_lists_choices_and_suggests():
    reg = make()
    with pytest.raises(ConfigError) as info:
        reg.get("nuemf", key="model.family")
    assert str(info.value) == (
        "model.family: unknown model family (did you mean 'neumf'?); "
        "expected one of: mf, neumf (got 'nuemf')"
    )
    with pytest.raises(ConfigError, match="^unknown model family; expected one of: mf, neumf"):
        reg.get("zzz")
