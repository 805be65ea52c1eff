"""The typer application and what every command shares: errors and the entry point."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from lfvsim import __version__
from lfvsim.budget import allow_wording
from lfvsim.errors import InputError

__all__ = ["ALLOW_ENV", "ALLOW_OPTION", "app", "entry_point", "input_errors", "report_interrupt"]

#: How the user of a command with ``--allow-large`` lifts the budget.
ALLOW_OPTION = "--allow-large (LFVSIM_ALLOW_LARGE=1)"
#: How the user of a command without it does.
ALLOW_ENV = "LFVSIM_ALLOW_LARGE=1"


def _show_flags_bare() -> None:
    """Show boolean switches as flags in ``--help``: ``--json``, not ``--json <bool>``.

    typer's rich help (0.2x, with its vendored click) prints the value type after every
    option, flags included, as if ``--json`` or ``--help`` took a value; click's own help
    shows flags bare. Only the help text changes: parsing already treats them as flags.
    """
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "bare_flags", False):
        return

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    display_type_rich.bare_flags = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_show_flags_bare()

app = typer.Typer(
    help="Cost and capacity planning for models hosted on inference units "
    "(Amazon Lookout for Vision, Rekognition Custom Labels).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lfvsim {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Simulate auto-scaling, throttling and inference-unit cost."""


@contextmanager
def input_errors(allow_large_option: bool = False) -> Iterator[None]:
    """Bad input: one line on stderr, exit status 2, no traceback.

    A budget refusal inside, the library's included, names what the user can pass to lift
    it: ``--allow-large`` when the command has it (``allow_large_option``), else the
    environment variable; never the library's keyword.
    """
    try:
        with allow_wording(ALLOW_OPTION if allow_large_option else ALLOW_ENV):
            yield
    except InputError as exc:
        typer.echo(f"lfvsim: error: {exc}", err=True)
        raise typer.Exit(2) from None
    except (FileExistsError, FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        # A path the user gave that cannot be read or written (a file where a folder must
        # be, a folder that cannot be created, no permission).
        where = exc.filename or "a path"
        typer.echo(f"lfvsim: error: cannot use '{where}': {exc.strerror}; check the path", err=True)
        raise typer.Exit(2) from None


def entry_point() -> None:
    """The ``lfvsim`` console script: usage errors as one line, exit status 2."""
    try:
        code = app(standalone_mode=False)
    except KeyboardInterrupt:
        _interrupted()
    except Exception as exc:
        if type(exc).__name__ == "Abort":  # click's form of Ctrl-C
            _interrupted()
        # typer raises its (vendored) click's UsageError family here; match it by shape.
        if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
            raise
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            typer.echo(ctx.get_help())
            sys.exit(2)
        where = f"{ctx.command_path} --help" if ctx is not None else "lfvsim --help"
        typer.echo(f"lfvsim: error: {exc.format_message()} (see '{where}')", err=True)
        sys.exit(exc.exit_code)
    if type(code).__name__ == "Abort" or (code == 130 and not _REPORTED):
        _interrupted()  # typer turns Ctrl-C into a silent exit status 130
    sys.exit(code if isinstance(code, int) else 0)


_REPORTED = False


def report_interrupt(message: str) -> None:
    """Print the line a command gives for Ctrl-C itself (then it exits with status 130)."""
    global _REPORTED
    _REPORTED = True
    typer.echo(message, err=True)


def _interrupted() -> None:
    """Ctrl-C: one line, exit status 130; outputs are left as they were (all or nothing)."""
    typer.echo("lfvsim: interrupted", err=True)
    sys.exit(130)
