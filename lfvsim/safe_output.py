"""Text that lfvsim writes for people and other programs, made safe to paste or open.

Three kinds of output carry strings that a user (or a file from AWS) controls:

- shell commands printed to copy: every word quoted for a POSIX shell
  (:func:`shell_command`);
- CSV tables opened in a spreadsheet: cells that a spreadsheet would evaluate as a
  formula get a leading apostrophe (:func:`csv_safe_cell`, :func:`csv_safe_frame`);
- TOML files lfvsim reads back: values written by a real TOML writer (tomli-w) and
  comments kept on one line without control characters (:func:`toml_value`,
  :func:`toml_comment`).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any

import pandas as pd
import tomli_w

__all__ = [
    "CSV_FORMULA_PREFIXES",
    "csv_restored_cell",
    "csv_restored_frame",
    "csv_safe_cell",
    "csv_safe_frame",
    "shell_command",
    "toml_comment",
    "toml_value",
]

#: First characters that make a spreadsheet evaluate a cell (OWASP's list for CSV injection).
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def shell_command(*words: object) -> str:
    """A command line to copy into a POSIX shell: every word quoted where it needs it.

    >>> shell_command("lfvsim", "run", "q.toml;touch PWNED;#.toml")
    "lfvsim run 'q.toml;touch PWNED;#.toml'"
    """
    return shlex.join(str(w) for w in words)


#: First characters that get the apostrophe: a formula's, and the apostrophe itself, so
#: that :func:`csv_restored_cell` can tell an added apostrophe from one in the value.
_ESCAPED_PREFIXES = (*CSV_FORMULA_PREFIXES, "'")


def csv_safe_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, prefixed with ``'``.

    Only strings change: numbers (negative ones included) are returned as they are, so
    numeric columns keep their values. Text that starts with ``'`` gets one more, so that
    :func:`csv_restored_cell` gives every value back exactly.
    """
    if isinstance(value, str) and value.startswith(_ESCAPED_PREFIXES):
        return "'" + value
    return value


def csv_restored_cell(value: Any) -> Any:
    """The value :func:`csv_safe_cell` was given: its added apostrophe removed.

    >>> csv_restored_cell("'=1+2"), csv_restored_cell("''quoted"), csv_restored_cell(3)
    ('=1+2', "'quoted", 3)
    """
    if isinstance(value, str) and value.startswith("'"):
        return value[1:]
    return value


def csv_restored_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A table read from a CSV written with :func:`csv_safe_frame`, as it was before:
    text cells and column names without the apostrophes added."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column):
            out[name] = column.map(csv_restored_cell)
    return out.rename(columns=lambda c: csv_restored_cell(c) if isinstance(c, str) else c)


def csv_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells and column names are neutralised with :func:`csv_safe_cell`.

    Numeric, boolean and datetime columns are left untouched; only object and string
    columns (where user-controlled text lives) are mapped.
    """
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column):
            out[name] = column.map(csv_safe_cell)
    return out.rename(columns=lambda c: csv_safe_cell(c) if isinstance(c, str) else c)


def toml_value(value: Any) -> str:
    """One TOML value on one line: scalars written by tomli-w, tables and arrays inline.

    Strings may hold any Unicode, emoji and control characters included: tomli-w writes
    the escapes TOML allows, so the text reads back to the same string.
    """
    if hasattr(value, "model_dump"):  # a pydantic section inside a list
        value = value.model_dump(exclude_none=True)
    if isinstance(value, Mapping):
        items = ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, PurePath):
        value = str(value)
    if not isinstance(value, str | int | float | bool | datetime | date | time):
        value = str(value)
    text = tomli_w.dumps({"v": value})
    return text.removeprefix("v = ").rstrip("\n")


def toml_comment(text: str) -> str:
    """Text for after ``#``: one line, control characters shown as escapes.

    TOML forbids control characters other than tab in comments, and a newline would end
    the comment; both would make the file unreadable.
    """
    flat = " ".join(str(text).split())
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in flat)


def _key(key: Any) -> str:
    text = str(key)
    if text and all(c.isascii() and (c.isalnum() or c in "_-") for c in text):
        return text
    return toml_value(text)
