"""The ``recexp`` Typer app and what its commands share: spec and override arguments,
one-line errors, exit codes for Ctrl-C (130) and SIGTERM (143).

Heavy libraries (TensorFlow, Keras, pandas) are imported inside the commands that need
them, so ``recexp --help``, ``validate``, ``list`` and ``compare`` start fast.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from recexp import __version__
from recexp.errors import RecexpError

app = typer.Typer(
    name="recexp",
    help="Experiment runner for neural rating-prediction recommenders (Keras 3 + TensorFlow).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _flags_without_a_type() -> None:
    """Typer 0.29's help shows every flag with a type, ``--version <bool>``, as though it
    took a value; a flag takes none, so its type column stays empty (other options keep
    theirs). Left alone by a Typer without that hook."""
    from typer import core

    option = getattr(core, "TyperOption", None)
    shown = getattr(option, "display_type_rich", None)
    if option is None or shown is None or getattr(shown, "recexp", False):
        return

    def display_type_rich(self, ctx):  # type: ignore[no-untyped-def]
        return None if getattr(self, "is_flag", False) else shown(self, ctx)

    display_type_rich.recexp = True  # type: ignore[attr-defined]
    option.display_type_rich = display_type_rich


_flags_without_a_type()

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        "-s",
        help="Override a spec key: dotted.key=value (YAML-typed).",
        metavar="KEY=VALUE",
    ),
]
SpecArg = Annotated[Path, typer.Argument(help="YAML spec file.", show_default=False)]
RunsDirOption = Annotated[Path, typer.Option("--runs-dir", help="Where run directories go.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]
MlflowOption = Annotated[
    str | None,
    typer.Option(
        "--mlflow",
        help="Also log to MLflow at this tracking URI (a folder such as ./mlruns for a local "
        "store, or http://HOST:PORT); same as --set tracking.mlflow.uri=URI.",
        metavar="URI",
    ),
]


def with_mlflow(overrides: list[str] | None, uri: str | None) -> list[str]:
    """``--set`` overrides plus the one ``--mlflow URI`` stands for."""
    extra = [f"tracking.mlflow={{uri: {uri!r}}}"] if uri else []
    return [*(overrides or []), *extra]


def fail(error: RecexpError) -> NoReturn:
    """Report ``error`` as one line on stderr and exit with its code."""
    print(error.line(), file=sys.stderr)
    raise typer.Exit(error.exit_code)


@contextmanager
def exit_on_interrupt(note: str | None = None) -> Iterator[None]:
    """Ctrl-C ends a training command with "interrupted" (and ``note``) and exit code 130
    (SIGTERM: 143); the run directories already say so in their status.json."""
    from recexp.signals import exit_code

    try:
        yield
    except KeyboardInterrupt as error:
        print("interrupted" + (f" ({note})" if note else ""), file=sys.stderr)
        raise typer.Exit(exit_code(error)) from None


def quiet_downloads(quiet: bool) -> None:
    """``--quiet``: no download progress bar either."""
    if quiet:
        from recexp.data import download

        download.PROGRESS = False


def _version(value: bool) -> None:
    if value:
        print(f"recexp {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Experiment runner for neural rating-prediction recommenders."""
