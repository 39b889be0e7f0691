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


def test_plural_of_each_kind():
    assert [Registry(k).plural for k in ("dataset", "model family", "embedding strategy")] == [
        "datasets",
        "model families",
        "embedding strategies",
    ]


def test_option_rows_show_key_type_default_description():
    from typing import Literal

    from pydantic import BaseModel, Field, PositiveInt

    from recexp.registry import option_rows

    class Options(BaseModel):
        strategy: Literal["demo"] = "demo"  # the entry's own name: left out
        blocks: list[PositiveInt] | None = Field(None, description="block sizes")
        sizing: Literal["keras_io", "compact"] = "keras_io"
        dim: int
        tags: list[str] = Field(default_factory=list)

    assert option_rows(Options) == [
        ("blocks", "list[int] | None", "None", "block sizes"),
        ("sizing", "'keras_io' | 'compact'", "'keras_io'", ""),
        ("dim", "int", "required", ""),
        ("tags", "list[str]", "[]", ""),
    ]


def test_cli_list_one_registry_one_entry_and_unknown():
    from typer.testing import CliRunner

    from recexp.cli import app

    runner = CliRunner()
    wide = {"COLUMNS": "200"}
    result = runner.invoke(app, ["list", "mixed_dim"], env=wide)
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "qr_compression" in x)
    assert "list[float] | None" in line and "quotient-remainder" in line
    assert "strategy" not in result.output.split("┩")[1]  # the discriminator is left out

    result = runner.invoke(app, ["list", "embeddings"], env=wide)
    assert result.exit_code == 0
    assert "embedding strategies" in result.output and "optimizers" not in result.output
    assert {"full", "hashing", "mixed_dim", "quotient_remainder"} <= set(result.output.split())

    result = runner.invoke(app, ["list", "mixd"], env=wide)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "list: no registry or entry called 'mixd' (did you mean 'mixed_dim'?); "
        "registries: datasets, models, embeddings, optimizers"
    ]
