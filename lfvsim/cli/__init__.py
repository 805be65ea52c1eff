"""The ``lfvsim`` command line: parse, call the library, print.

Each command lives in its own module and registers itself on :data:`app`.
"""

from lfvsim.cli import run  # noqa: F401  (registers the command)
from lfvsim.cli.app import app, entry_point

__all__ = ["app", "entry_point"]
