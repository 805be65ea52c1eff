"""A folder that takes no file (read-only, full, no permission) is one clean error.

pyarrow, matplotlib and ``open()`` raise bare ``OSError``s that name the temporary file,
and on a read-only file system removing that temporary fails too: the output is named
instead, and the first error is the one reported.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from lfvsim.atomic import atomic_path, write_text_atomic
from lfvsim.errors import InputError


@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC, errno.EACCES])
def test_a_write_error_names_the_output_not_the_temporary(tmp_path: Path, code: int) -> None:
    target = tmp_path / "o.csv"
    with pytest.raises(InputError) as caught, atomic_path(target) as tmp:
        raise OSError(code, os.strerror(code), str(tmp))
    message = str(caught.value)
    assert message.startswith(f"cannot write '{target}': {os.strerror(code)};")
    assert ".tmp" not in message
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_an_error_naming_only_the_temporary_in_its_text_is_the_outputs(tmp_path: Path) -> None:
    # pyarrow: "Failed to open local file '<tmp>'. Detail: [errno 2] ...", errno unset.
    target = tmp_path / "o.parquet"
    with pytest.raises(InputError, match=r"cannot write '.*o\.parquet': Failed to open"):
        with atomic_path(target) as tmp:
            raise OSError(f"Failed to open local file '{tmp}'. Detail: [errno 2] gone")


def test_an_error_about_something_else_passes_through(tmp_path: Path) -> None:
    # An input that vanished mid-write is not the output's problem.
    with pytest.raises(FileNotFoundError, match=r"input\.csv"):
        with atomic_path(tmp_path / "o.csv"):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", "input.csv")


def test_a_failed_cleanup_does_not_hide_the_first_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a read-only file system unlink fails with EROFS (not ENOENT, which missing_ok takes).
    def read_only(self: Path, missing_ok: bool = False) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))

    monkeypatch.setattr(Path, "unlink", read_only)

    def refuse(self: Path, *args: object, **kwargs: object) -> int:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))

    monkeypatch.setattr(Path, "write_text", refuse)
    with pytest.raises(InputError, match="Read-only file system"):
        write_text_atomic(tmp_path / "seed.toml", "x = 1\n")
    with pytest.raises(InputError, match="Read-only file system"):
        with atomic_path(tmp_path / "o.png") as tmp:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp))


def test_a_folder_holding_only_lfvsims_ledger_is_not_someone_elses(tmp_path: Path) -> None:
    # A plot written into the folder and deleted leaves the ledger: lfvsim's own record.
    from lfvsim.atomic import LEDGER, atomic_directory, check_output_folder

    folder = tmp_path / "out"
    folder.mkdir()
    write_text_atomic(folder / "kept.txt", "mine\n")
    (folder / "kept.txt").unlink()
    assert (folder / LEDGER).exists()
    assert check_output_folder(folder) == [LEDGER]  # not refused: kept on replacement
    with atomic_directory(folder) as staged:
        (staged / "summary.json").write_text("{}\n", encoding="utf-8")
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [LEDGER, "lfvsim-manifest.json", "summary.json"]
    )
    (folder / "user.txt").write_text("theirs\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"\(user\.txt\)"):  # the ledger is never named
        check_output_folder(folder)
