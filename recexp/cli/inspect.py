"""``recexp validate``, ``recexp summary`` and ``recexp list``: look before training."""

from __future__ import annotations

from typing import Annotated

import typer

from recexp.cli.app import SetOption, SpecArg, app
from recexp.errors import one_line_errors


@app.command()
def validate(spec: SpecArg, set_: SetOption = None) -> None:
    """Check a spec and print it resolved, every default filled in.

    [bold]Example[/]

      recexp validate configs/neumf.yaml --set model.mlp_dim=64
    """
    import sys

    import yaml

    from recexp.config import load_spec
    from recexp.memory import dense_l2_warning

    with one_line_errors():
        config = load_spec(spec, set_)
    print(yaml.safe_dump(config.resolved(), sort_keys=False), end="")
    warning = dense_l2_warning(config)
    if warning:
        print(f"{spec}: warning: {warning}", file=sys.stderr)


@app.command()
def summary(spec: SpecArg, set_: SetOption = None) -> None:
    """Build the model (no training) and print its Keras summary and parameter counts.

    [bold]Example[/]

      recexp summary configs/neumf.yaml
    """
    from recexp.config import load_spec

    with one_line_errors(str(spec)):
        config = load_spec(spec, set_)
        from recexp.data import prepare
        from recexp.models.build import build_recommender

        data = prepare(config.dataset, config.seed)
        info = build_recommender(config, data).summary()
    print(info.text)
    print(f"vocabulary: {data.n_users:,} users x {data.n_items:,} items")
    totals = info.as_dict()
    print(
        f"parameters: {info.params:,} (trainable {info.trainable_params:,}; "
        f"embeddings {totals['embedding_params']:,}, "
        f"{totals['embedding_bytes'] / 2**20:.2f} MiB)"
    )
    for table in info.embeddings:
        print(
            f"  {table['name']}: {table['strategy']}, vocabulary {table['vocabulary']:,}, "
            f"params {table['parameters']:,}, compression {table['compression'] or 0:.2f}x"
            + _blocks(table)
        )


def _blocks(table: dict[str, object]) -> str:
    """``; blocks 100/843 ids x 32/16 wide in 100/114 rows`` for mixed-dim tables."""
    sizes, dims, rows = (table.get(k) for k in ("block_sizes", "block_dims", "block_rows"))
    if not (isinstance(sizes, list) and isinstance(dims, list) and isinstance(rows, list)):
        return ""
    text = f"; blocks {'/'.join(map(str, sizes))} ids x {'/'.join(map(str, dims))} wide"
    return text + f" in {'/'.join(map(str, rows))} rows"


@app.command("list")
def list_(
    name: Annotated[
        str | None,
        typer.Argument(
            help="A registry (datasets, models, embeddings, optimizers) to list, or an "
            "entry (e.g. mixed_dim) whose spec options to show.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Show the registries, one of them, or one entry's spec options.

    [bold]Examples[/]

      recexp list                 # datasets, model families, embedding strategies, optimizers
      recexp list embeddings      # one registry
      recexp list mixed_dim       # the options of one entry: key, type, default, description
    """
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from recexp.config import registries as all_registries
    from recexp.registry import find, option_rows

    registries = all_registries()
    console = Console()
    if name is not None and name not in registries:
        with one_line_errors():
            found = find(name, registries)
        for registry, entry in found:
            table = Table(title=f"{registry.kind} {entry.name}: {entry.help}", title_justify="left")
            for column in ("key", "type", "default", "description"):
                table.add_column(column, style="bold" if column == "key" else None)
            for row in option_rows(entry.options):
                table.add_row(*(Text(cell) for cell in row))
            console.print(table)
        return
    for registry in [registries[name]] if name else registries.values():
        table = Table(title=registry.plural, title_justify="left")
        table.add_column("name", style="bold")
        table.add_column("description")
        for entry in registry:
            table.add_row(entry.name, entry.help)
        console.print(table)
    if name is None:
        console.print("[dim]recexp list NAME shows the spec options of one entry.[/]")
