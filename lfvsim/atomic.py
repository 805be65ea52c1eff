"""Writing output files all or nothing, and never over a file lfvsim did not write.

Three rules, shared by every command:

* **Temporary names.** Every file or folder is first written under
  ``.NAME.lfvsim-PID-RANDOM.tmp`` beside its target and renamed onto it when complete.
  A write killed before its rename leaves such a name behind; the next write into the same
  folder removes those whose process is gone (:func:`clean_stale`).
* **Whose file it is.** After each rename lfvsim records the file in the folder's ledger,
  ``.lfvsim-written`` (file name, inode, size, modification time). A file may be replaced
  only if the ledger says lfvsim wrote it and it is unchanged since; anything else (a user's
  file, a file edited since) is refused unless ``--force`` (:func:`allow_replace`).
* **Run folders.** A folder written by ``lfvsim run --out`` carries ``lfvsim-manifest.json``
  (its files, their sizes and SHA-256). It is staged whole and swapped in with one atomic
  exchange of the two folders, so a reader sees the old run or the new one, never a mix;
  :func:`verify_run_folder` refuses a folder whose files do not match its manifest.
"""

from __future__ import annotations

import contextvars
import errno
import fcntl
import json
import os
import re
import shutil
import signal
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lfvsim.errors import InputError

__all__ = [
    "MANIFEST",
    "allow_replace",
    "atomic_directory",
    "atomic_path",
    "check_output_folder",
    "check_output_parent",
    "check_replaceable",
    "clean_stale",
    "record_written",
    "temp_path",
    "verify_run_folder",
    "write_document",
    "write_text_atomic",
]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Permissions of written files: what ``open()`` would give them (temporary files start
#: private).
FILE_MODE = 0o666 & ~_umask()
DIR_MODE = 0o777 & ~_umask()

#: The ledger of files lfvsim wrote into a folder.
LEDGER = ".lfvsim-written"
#: The manifest of a run folder.
MANIFEST = "lfvsim-manifest.json"

_TEMP = re.compile(r"^\.(?P<name>.+)\.lfvsim-(?P<pid>\d+)-[0-9a-f]{8}\.tmp$")
_FORCE: contextvars.ContextVar[bool] = contextvars.ContextVar("lfvsim_force", default=False)


# --- temporary names --------------------------------------------------------------------------


def temp_path(path: str | Path) -> Path:
    """The temporary name for ``path``: ``.NAME.lfvsim-PID-RANDOM.tmp`` beside it."""
    import uuid  # here, not at the top (nor hashlib, ctypes): every --help imports this module

    path = Path(path)
    return path.parent / f".{path.name}.lfvsim-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def clean_stale(folder: str | Path, name: str | None = None) -> int:
    """Remove temporary files and folders left in ``folder`` by killed writes.

    Only names of the form :func:`temp_path` gives are touched, and only those whose
    process has ended (a write still going on in another process is left alone). With
    ``name``, only the temporaries of that target. Returns how many were removed.
    """
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        match = _TEMP.match(entry.name)
        if match is None or (name is not None and match["name"] != name):
            continue
        if _alive(int(match["pid"])):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed += 1
        except OSError:
            pass
    return removed


# --- a hook for the interruption tests ---------------------------------------------------------

_steps = 0


def _step() -> None:
    """Count a write step; ``LFVSIM_TEST_SIGNAL_AT=N:SIGNAME`` signals this process after
    the N-th (tests only: they check that an interruption at any step leaves the old output
    or the whole new one)."""
    global _steps
    spec = os.environ.get("LFVSIM_TEST_SIGNAL_AT")
    if not spec:
        return
    _steps += 1
    at, _, name = spec.partition(":")
    if _steps == int(at):
        os.kill(os.getpid(), getattr(signal, name or "SIGKILL"))


# --- whose file it is -------------------------------------------------------------------------


@contextmanager
def allow_replace(force: bool = True) -> Iterator[None]:
    """Within the block, outputs may replace existing files lfvsim did not write (``--force``)."""
    token = _FORCE.set(force)
    try:
        yield
    finally:
        _FORCE.reset(token)


def _stamp(path: Path) -> list[int] | None:
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def _read_ledger(folder: Path) -> dict[str, list[list[int]]]:
    try:
        data = json.loads((folder / LEDGER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no ledger, or a damaged one: nothing counts as lfvsim's (the safe side)
    return data if isinstance(data, dict) else {}


def written_by_lfvsim(path: str | Path) -> bool:
    """Whether lfvsim wrote ``path`` and it is unchanged since (per the folder's ledger)."""
    path = Path(path)
    stamp = _stamp(path)
    entry = _read_ledger(path.parent).get(path.name)
    return stamp is not None and isinstance(entry, list) and stamp in entry


def check_replaceable(paths: Iterable[str | Path]) -> None:
    """Refuse to go on if an output would replace a file lfvsim did not write.

    Raises
    ------
    InputError
        A path exists, is not lfvsim's (or was changed since lfvsim wrote it), and
        :func:`allow_replace` is not in force; or a path is a folder.
    """
    for path in map(Path, paths):
        if path.is_dir():
            raise InputError(f"output '{path}' is a folder; give a file path")
        if _FORCE.get() or not os.path.lexists(path) or written_by_lfvsim(path):
            continue
        raise InputError(
            f"output '{path}' exists and was not written by lfvsim (or was changed since); "
            "choose another name, or add --force to replace it"
        )


@contextmanager
def _locked_folder(folder: Path) -> Iterator[None]:
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def record_written(paths: Iterable[str | Path], *, as_name: str | Path | None = None) -> None:
    """Record in their folders' ledgers that lfvsim wrote ``paths`` (as they are now).

    With ``as_name``, the one path given is a temporary file about to be renamed to
    ``as_name``: it is recorded under that name before the rename (a rename keeps the
    inode, size and modification time), so a kill right after the rename still leaves a
    file lfvsim knows as its own; the file there now stays recorded too until it is gone.
    Entries of files that are gone or changed are dropped on the way.
    """
    by_folder: dict[Path, list[tuple[str, Path]]] = {}
    for path in map(Path, paths):
        name = Path(as_name).name if as_name is not None else path.name
        by_folder.setdefault(path.parent, []).append((name, path))
    for folder, files in by_folder.items():
        with _locked_folder(folder):
            ledger = {}
            for name, stamps in _read_ledger(folder).items():
                now = _stamp(folder / name)
                if isinstance(stamps, list) and now in stamps:
                    ledger[name] = [now]
            for name, path in files:
                stamp = _stamp(path)
                if stamp is not None:
                    ledger[name] = [*ledger.get(name, []), stamp]
            tmp = temp_path(folder / LEDGER)
            try:
                tmp.write_text(json.dumps(ledger, sort_keys=True), encoding="utf-8")
                os.chmod(tmp, FILE_MODE)
                os.replace(tmp, folder / LEDGER)
            except BaseException:
                _discard(tmp)
                raise


# --- single files -----------------------------------------------------------------------------


def check_output_parent(path: str | Path) -> None:
    """Refuse an output whose folder does not exist, rather than create a mistyped one.

    Raises
    ------
    InputError
        The folder of ``path`` does not exist.
    """
    parent = Path(path).parent
    if not parent.is_dir():
        raise InputError(f"output folder '{parent}' does not exist; create it first")


@contextmanager
def atomic_path(path: str | Path, *, ledger: bool = True) -> Iterator[Path]:
    """A temporary path beside ``path``, moved onto it when the block succeeds.

    On any error the temporary file is removed and ``path`` is left as it was. The file is
    then recorded as lfvsim's. Stale temporaries of ``path`` from killed writes are removed.
    ``ledger=False`` for files in lfvsim's own hidden folders (a sweep's parts): no
    ownership check, no record.

    Raises
    ------
    InputError
        ``path`` is a folder, its folder does not exist, or it is a file lfvsim did not
        write (see :func:`check_replaceable`).
    """
    path = Path(path)
    check_output_parent(path)
    if ledger:
        check_replaceable([path])
    clean_stale(path.parent, path.name)
    tmp = temp_path(path)
    try:
        yield tmp
        os.chmod(tmp, FILE_MODE)
        if ledger:
            record_written([tmp], as_name=path)
        _step()
        os.replace(tmp, path)
    except OSError as exc:
        _discard(tmp)
        if exc.errno in _CANNOT_WRITE or str(tmp) in str(exc):
            # pyarrow, matplotlib and open() raise these bare, naming the temporary file
            # if anything: name the output instead.
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise InputError(
                f"cannot write '{path}': {reason}; write elsewhere, or free the folder "
                "(space, permission) first"
            ) from None
        raise
    except BaseException:
        _discard(tmp)
        raise
    _step()


#: Errors of writing into a folder, as opposed to reading an input: the output's problem.
_CANNOT_WRITE = frozenset(
    {errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EPERM}
)


def _discard(tmp: Path) -> None:
    """Remove a temporary file on the way out of a failed write, keeping the first error.

    On a read-only or full file system the unlink fails too (EROFS, not ENOENT); that
    second error would hide the first one.
    """
    try:
        tmp.unlink(missing_ok=True)
    except OSError:
        pass


def write_text_atomic(path: str | Path, text: str, *, ledger: bool = True) -> None:
    """Write ``text`` (UTF-8) to ``path``, all of it or nothing (see :func:`atomic_path`)."""
    with atomic_path(path, ledger=ledger) as tmp:
        try:
            tmp.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write '{path}': {exc.strerror}; check the path") from None


def write_document(
    path: str | Path, render: Callable[[str], tuple[str, dict[str, bytes]]]
) -> list[Path]:
    """Write a document and the images it links so that it is never seen mixed.

    ``render(prefix)`` returns the document's text and its images, ``{name: bytes}``, each
    name starting with ``prefix``. The prefix is ``STEM-HASH`` (a hash of the images), so
    new images never replace the ones an earlier document links; they are written first,
    and the document is renamed in last: the one step that switches from the old document
    to the new. Then images of earlier documents of that name (lfvsim's own, not linked
    now) are removed. Returns the files written, the document first.
    """
    import hashlib

    path = Path(path)
    _, images = render(path.stem)
    h = hashlib.sha256()
    for name in sorted(images):
        h.update(images[name])
    prefix = f"{path.stem}-{h.hexdigest()[:8]}"
    text, images = render(prefix)
    targets = {path.parent / name: data for name, data in images.items()}
    check_replaceable([path, *targets])
    for target, data in targets.items():
        with atomic_path(target) as tmp:
            tmp.write_bytes(data)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    ours = re.compile(rf"^{re.escape(path.stem)}-[0-9a-f]{{8}}-.+\.png$")
    for old in path.parent.iterdir():
        if ours.match(old.name) and old not in targets and written_by_lfvsim(old):
            old.unlink(missing_ok=True)
    return [path, *targets]


# --- run folders ------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _manifest(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        return None
    return data


def _mismatched(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """Files of the manifest that are missing or differ from what was written."""
    bad = []
    for name, want in manifest["files"].items():
        path = folder / name
        try:
            if path.stat().st_size != want.get("bytes") or _sha256(path) != want.get("sha256"):
                bad.append(name)
        except (OSError, AttributeError):
            bad.append(name)
    return bad


def verify_run_folder(folder: str | Path) -> dict[str, Any]:
    """Check that ``folder`` holds one whole lfvsim run: every file as its manifest says.

    Returns
    -------
    dict
        The manifest.

    Raises
    ------
    InputError
        No manifest (not written by this lfvsim, or never finished), or a file missing or
        different from what the run wrote (a half-written or mixed folder).
    """
    folder = Path(folder)
    manifest = _manifest(folder)
    if manifest is None:
        raise InputError(
            f"'{folder}' has no readable {MANIFEST}: not a run folder written whole by "
            f"lfvsim; write it again with lfvsim run SCENARIO --out {folder}"
        )
    bad = _mismatched(folder, manifest)
    if bad:
        raise InputError(
            f"'{folder}': {', '.join(sorted(bad))} missing or changed since the run wrote "
            f"{'it' if len(bad) == 1 else 'them'} (a half-written or mixed folder); write it "
            f"again with lfvsim run SCENARIO --out {folder}"
        )
    return manifest


def _foreign_entries(directory: Path) -> list[str]:
    """Entries of an existing output folder that lfvsim did not write into it."""
    names = sorted(os.listdir(directory))
    if not names:
        return []
    manifest = _manifest(directory)
    if manifest is None:
        return names
    ours = set(manifest["files"]) | {MANIFEST}
    foreign = [n for n in names if n not in ours]
    # Only names really in the folder: a manifest's names are never followed elsewhere.
    return foreign + [n for n in _mismatched(directory, manifest) if n in names]


def check_output_folder(directory: str | Path) -> list[str]:
    """Refuse an output folder that holds files lfvsim did not write, unless ``--force``.

    Returns
    -------
    list of str
        The entries that are not lfvsim's (kept when the folder is replaced).

    Raises
    ------
    InputError
        ``directory`` is a file, or holds such entries and :func:`allow_replace` is not in
        force.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"output '{directory}' is a file; give a folder path")
    foreign = _foreign_entries(directory) if directory.is_dir() else []
    # The ledger is lfvsim's own record of the other files: kept, never a reason to refuse.
    blocking = [n for n in foreign if n != LEDGER]
    if blocking and not _FORCE.get():
        shown = ", ".join(blocking[:3]) + (", ..." if len(blocking) > 3 else "")
        raise InputError(
            f"output folder '{directory}' holds files lfvsim did not write or that changed "
            f"since ({shown}); choose another folder, or add --force to replace its lfvsim "
            "files (other files are kept)"
        )
    return foreign


_libc = None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False if the
    system cannot."""
    import ctypes
    import ctypes.util

    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    func = getattr(_libc, "renameat2", None)
    if func is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if func(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


@contextmanager
def atomic_directory(directory: str | Path, kind: str = "run") -> Iterator[Path]:
    """A staging folder that replaces ``directory`` whole when the block succeeds.

    The block writes its files into the staging folder; a manifest of them
    (:data:`MANIFEST`) is added, and the staging folder is swapped with ``directory`` in
    one atomic exchange, so ``directory`` holds the old output or the whole new one, never
    a mix. An existing ``directory`` is replaced only if it is empty or holds one lfvsim
    output, unchanged; with :func:`allow_replace`, other files in it are kept (moved into
    the new folder), never deleted. On any error nothing changes and the staging folder
    is removed.

    Raises
    ------
    InputError
        ``directory`` is a file, or holds files lfvsim did not write (without ``--force``).
    """
    directory = Path(directory)
    foreign = check_output_folder(directory)
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        clean_stale(directory.parent, directory.name)
        staged = temp_path(directory)
        staged.mkdir()
    except OSError as exc:
        raise InputError(
            f"cannot write into '{directory}': {exc.strerror}; check the path"
        ) from None
    try:
        yield staged
        files = {}
        for f in sorted(staged.iterdir()):
            os.chmod(f, FILE_MODE)
            files[f.name] = {"bytes": f.stat().st_size, "sha256": _sha256(f)}
            _step()
        # No time or random id in it: the same run gives the same folder, byte for byte.
        manifest = {"lfvsim": _version(), "kind": kind, "files": files}
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        os.chmod(staged / MANIFEST, FILE_MODE)
        foreign = check_output_folder(directory)  # again: files may have come meanwhile
        for name in foreign:
            # --force: keep what is not lfvsim's; hard links, so a kill before the swap
            # leaves the originals where they were.
            if name not in files:
                _link_tree(directory / name, staged / name)
        os.chmod(staged, DIR_MODE)
        _step()
        _swap_in(staged, directory)
        _step()
    finally:
        if staged.exists():
            shutil.rmtree(staged, ignore_errors=True)


def _version() -> str:
    # From the installed metadata: this floor does not import the package itself.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lfvsim")
    except PackageNotFoundError:
        return "unknown"


def _link_tree(src: Path, dst: Path) -> None:
    if src.is_dir() and not src.is_symlink():
        shutil.copytree(src, dst, symlinks=True, copy_function=os.link)
    else:
        os.link(src, dst, follow_symlinks=False)


def _swap_in(staged: Path, directory: Path) -> None:
    """Put ``staged`` at ``directory``; what was there ends at ``staged`` (then removed)."""
    try:
        os.rename(staged, directory)  # no folder there, or an empty one
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
    if not _exchange(staged, directory):
        # No atomic exchange on this file system: move the old folder aside under a
        # temporary name first (for a moment there is no folder, never a mixed one).
        aside = temp_path(directory)
        os.rename(directory, aside)
        os.rename(staged, directory)
        os.rename(aside, staged)
