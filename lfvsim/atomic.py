"""Writing output files all or nothing, so an interrupted or failed write leaves no part."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lfvsim.errors import InputError

__all__ = ["OUTPUT_FILES", "atomic_directory", "atomic_path", "write_text_atomic"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Permissions of written files: what ``open()`` would give them (temporary files start
#: private).
FILE_MODE = 0o666 & ~_umask()


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path``, moved onto it when the block succeeds.

    On any error the temporary file is removed and ``path`` is left as it was.

    Raises
    ------
    InputError
        ``path`` is a folder, or its folder does not exist.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"output '{path}' is a folder; give a file path")
    if not path.parent.is_dir():
        raise InputError(f"output folder '{path.parent}' does not exist; create it first")
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        yield tmp
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path``, all of it or nothing."""
    with atomic_path(path) as tmp:
        try:
            tmp.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write '{path}': {exc.strerror}; check the path") from None


#: Files that lfvsim writes into an output folder; a new output replaces all of them, so
#: a folder never mixes two runs.
OUTPUT_FILES = (
    "timeline.csv",
    "units.csv",
    "events.csv",
    "replications.csv",
    "summary.json",
    "scenario.toml",
)


@contextmanager
def atomic_directory(directory: str | Path) -> Iterator[Path]:
    """A staging folder whose files are moved into ``directory`` when the block succeeds.

    ``directory`` is created if needed. Files of an earlier lfvsim output
    (:data:`OUTPUT_FILES`) that the block does not write are removed, other files are
    kept. On any error nothing is moved and the staging folder is removed.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"output '{directory}' is a file; give a folder path")
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = tempfile.TemporaryDirectory(dir=directory.parent, prefix=".lfvsim-")
    except OSError as exc:
        raise InputError(
            f"cannot write into '{directory}': {exc.strerror}; check the path"
        ) from None
    with staging as tmp:
        staged = Path(tmp)
        yield staged
        directory.mkdir(exist_ok=True)
        written = {f.name for f in staged.iterdir()}
        for f in sorted(staged.iterdir()):
            os.chmod(f, FILE_MODE)
            os.replace(f, directory / f.name)
        for name in set(OUTPUT_FILES) - written:
            (directory / name).unlink(missing_ok=True)
