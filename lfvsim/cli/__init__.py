"""The ``lfvsim`` command line: parse, call the library, print.

Each command lives in its own module and registers itself on :data:`app`; the module is
imported when its command runs or shows its help (see :data:`lfvsim.cli.app.COMMANDS`,
which also sets the order ``lfvsim --help`` lists them in).
"""

from lfvsim.cli.app import app, entry_point

__all__ = ["app", "entry_point"]
