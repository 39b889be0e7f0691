"""The ``recexp`` command line: one short module per group of commands, each command
parsing its arguments and calling one function of the package.

    train.py      train
    tune.py       tune, sweep
    recommend.py  recommend
    inspect.py    validate, summary, list
    compare.py    compare
    plots.py      plot, report
    data.py       data list | fetch | info | add
"""

from importlib import import_module

from recexp.cli.app import app

for _module in (
    "train",
    "tune",
    "recommend",
    "inspect",
    "compare",
    "plots",
    "data",
):  # --help lists them so
    import_module(f"recexp.cli.{_module}")


def _is(error: BaseException, name: str) -> bool:
    """Whether ``error`` is click's ``name`` (Typer 0.29 carries its own copy of click,
    so the class is matched by name)."""
    return any(c.__name__ == name for c in type(error).__mro__)


def main() -> None:
    """``recexp``: a usage error (a missing argument, an unknown option) is one line,
    ``recexp train: Missing argument 'spec'. (recexp train --help)``, exit code 2, as
    every other error, not Typer's boxed panel."""
    import sys

    try:
        code = app(standalone_mode=False)
    except Exception as error:
        if _is(error, "NoArgsIsHelpError"):  # the help is shown already
            sys.exit(2)
        if _is(error, "UsageError"):
            ctx = getattr(error, "ctx", None)
            where = ctx.command_path if ctx is not None else "recexp"
            print(f"{where}: {error.format_message()} ({where} --help)", file=sys.stderr)  # type: ignore[attr-defined]
            sys.exit(2)
        if _is(error, "ClickException"):
            print(f"recexp: {error.format_message()}", file=sys.stderr)  # type: ignore[attr-defined]
            sys.exit(getattr(error, "exit_code", 1))
        if _is(error, "Abort"):  # Ctrl-C outside a command's own handling
            print("interrupted", file=sys.stderr)
            sys.exit(130)
        raise
    if isinstance(code, int) and code:
        sys.exit(code)


__all__ = ["app", "main"]
