"""The ``lfvsim`` command line: parse, call the library, print.

Each command lives in its own module and registers itself on :data:`app`; the import
order below is the order ``lfvsim --help`` lists them in.
"""

# ruff: noqa: I001, F401
from lfvsim.cli import run, compare, experiments, trace, aws, plot, backtest, calibrate
from lfvsim.cli.app import app, entry_point

__all__ = ["app", "entry_point"]
