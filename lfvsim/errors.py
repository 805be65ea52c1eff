"""The one exception type that means "the user's input is wrong", and the file check."""

from __future__ import annotations

from pathlib import Path

__all__ = ["InputError", "require_file"]


class InputError(ValueError):
    """Bad input: a malformed scenario, trace or option.

    The message is one line that names the problem and the fix; the CLI prints it
    without a traceback and exits with status 2. Text quoted from the input (a path, a
    cell, a label) cannot break that line or drive the terminal: newlines and other
    control characters are shown as escapes.
    """

    def __str__(self) -> str:
        text = super().__str__()
        return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def require_file(path: str | Path, what: str) -> Path:
    """``path`` as a Path when it is a readable file; else an InputError naming ``what``.

    A folder is named as a folder (not as missing), since that is the usual mix-up.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"'{path}' is a folder, not a {what}; give the file inside it")
    if path.exists() and not path.is_file():
        # /dev/null, a pipe or a socket: there is something, but not a file to read.
        raise InputError(f"'{path}' is not a regular file; give the {what} itself")
    if not path.is_file():
        raise InputError(f"{what} '{path}' does not exist; check the path")
    return path
