"""The one exception type that means "the user's input is wrong"."""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(ValueError):
    """Bad input: a malformed scenario, trace or option.

    The message is one line that names the problem and the fix; the CLI prints it
    without a traceback and exits with status 2.
    """
