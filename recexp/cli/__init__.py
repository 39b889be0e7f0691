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


def main() -> None:
    app()


__all__ = ["app", "main"]
