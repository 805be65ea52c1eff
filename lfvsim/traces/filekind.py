"""What an input file is, told from its first bytes: text, compressed or other binary data.

Readers ask before parsing, so that a gzip, ZIP or Parquet file given where text is
expected is refused by name ("a gzip-compressed file") with the fix, not as "not UTF-8".
"""

from __future__ import annotations

from pathlib import Path

from lfvsim.errors import InputError

__all__ = [
    "HEAD_BYTES",
    "UTF16_BOMS",
    "is_binary",
    "packed_kind",
    "read_head",
    "refuse_unless_json_text",
]

#: How much of a file its kind is told from.
HEAD_BYTES = 4096

#: Byte-order marks of UTF-16 text (Windows PowerShell 5 redirects output so).
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

#: First bytes of compressed files and archives people may pass instead of the file inside.
_COMPRESSED: dict[tuple[bytes, ...], str] = {
    (b"\x1f\x8b",): "a gzip-compressed file",
    (b"PK\x03\x04",): "a ZIP archive or an Excel workbook",
    tuple(b"BZh%d" % level for level in range(1, 10)): "a bzip2-compressed file",
    (b"\xfd7zXZ\x00",): "an xz-compressed file",
    (b"\x28\xb5\x2f\xfd",): "a zstd-compressed file",
}


def read_head(path: Path) -> bytes:
    """The first :data:`HEAD_BYTES` bytes of ``path`` (all of a shorter file)."""
    with path.open("rb") as f:
        return f.read(HEAD_BYTES)


def packed_kind(head: bytes) -> str | None:
    """What compressed file or archive ``head`` starts, in words, or None."""
    return next((name for magic, name in _COMPRESSED.items() if head.startswith(magic)), None)


def is_binary(head: bytes) -> bool:
    """Whether the first bytes of a file are not UTF-8 text (a NUL byte, or bad UTF-8).

    A multi-byte character cut by the end of ``head`` (a file's first bytes, not all of it)
    is still text.
    """
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return len(head) < HEAD_BYTES or exc.start < len(head) - 3
    return False


def refuse_unless_json_text(path: Path, head: bytes, what: str, fix: str) -> None:
    """An InputError naming what ``path`` is when it cannot be JSON text.

    Parameters
    ----------
    path : Path
        The file, named in the message as given.
    head : bytes
        Its first bytes (:func:`read_head`).
    what : str
        What the file should be, e.g. "CloudWatch JSON".
    fix : str
        How to make one, e.g. "save the AWS CLI's output as is (--output json)".
    """
    if not head:
        raise InputError(f"{path}: the file is empty, not {what}; {fix}")
    packed = packed_kind(head)
    if packed is not None:
        raise InputError(
            f"{path}: {packed}, not {what}; extract the JSON file inside it and give that"
        )
    if head.startswith(b"PAR1"):
        raise InputError(f"{path}: a Parquet file, not {what}; {fix}")
    if head.startswith(UTF16_BOMS):
        return  # UTF-16 text, read as such
    if is_binary(head):
        raise InputError(f"{path}: binary data, not {what} (not UTF-8 text); {fix}")
