"""The typer application and what every command shares: errors and the entry point.

Commands are registered lazily: a command's module (and the library it calls) is imported
when that command runs or shows its help, and ``lfvsim --help`` lists the commands from
:data:`COMMANDS` without importing any of them, so that help starts fast.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

from lfvsim import __version__
from lfvsim.budget import BudgetError, allow_wording
from lfvsim.errors import InputError

__all__ = [
    "ALLOW_ENV",
    "ALLOW_OPTION",
    "COMMANDS",
    "Group",
    "app",
    "entry_point",
    "input_errors",
    "load_commands",
    "report_interrupt",
]

#: How the user of a command with ``--allow-large`` lifts the budget.
ALLOW_OPTION = "--allow-large (LFVSIM_ALLOW_LARGE=1)"
#: How the user of a command without it does.
ALLOW_ENV = "LFVSIM_ALLOW_LARGE=1"


#: The word ``--help`` shows for an option's value when the option names none (metavar).
_VALUE_WORDS = {"int": "INTEGER", "float": "NUMBER", "str": "TEXT"}


def _human_help_types() -> None:
    """Show every parameter's value in words in ``--help``, never as a Python type.

    typer's rich help (0.2x, with its vendored click) prints the annotation: ``<int range>``,
    ``<path>``, ``<list[Path]>`` beside an argument already named ``FILE``, and a type after
    every flag, as if ``--json`` took a value. Here a flag shows none (click's own help
    shows flags bare); an argument its metavar alone, in the name column (its help lists
    any choices, which beside it left the help no room); an option its metavar, else its
    choices, else a word (FILE, INTEGER, NUMBER, TEXT). The usage line names a required
    argument as click does (``SCENARIO``, not ``{SCENARIO}``) and marks a repeatable one
    with one ``...``. Only the help text changes, never the parsing.
    """
    from typer.core import TyperArgument, TyperOption

    if getattr(TyperOption.display_type_rich, "in_words", False):
        return

    def choices(param: Any) -> str | None:
        values = param.type_descriptor.choices
        return None if values is None else "|".join(str(getattr(v, "value", v)) for v in values)

    def option_type(self: TyperOption, ctx: Any) -> str | None:
        if self.is_flag:
            return None
        if self.metavar is not None:
            return str(self.metavar)
        listed = choices(self)
        if listed is not None:
            return listed
        descriptor = self.type_descriptor
        if descriptor.is_path:
            return "FILE"
        annotation = descriptor.annotation
        return _VALUE_WORDS.get(getattr(annotation, "__name__", ""), "VALUE")

    def argument_type(self: TyperArgument, ctx: Any) -> str | None:
        return None if self.metavar is not None else option_type(self, ctx)  # type: ignore[arg-type]

    def usage_name(self: TyperArgument) -> str:
        name = str(self.display_name_raw)
        name = name if self.required else f"[{name}]"
        if self.nargs != 1 and not name.rstrip("]").endswith("..."):
            name += "..."
        return name

    option_type.in_words = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = option_type  # type: ignore[method-assign]
    TyperArgument.display_type_rich = argument_type  # type: ignore[method-assign,assignment]
    TyperArgument._usage_display_name = usage_name  # type: ignore[method-assign]


_human_help_types()


def _wrap_not_cut() -> None:
    """Make rich help wrap option names and help text instead of cutting them with '…'.

    typer's rich help lays the options out in a table whose columns, when the terminal is
    narrow (80 columns when output is not a terminal), are shrunk with an ellipsis, long
    option names included; and it keeps the docstring's single line breaks, so a
    paragraph breaks mid-sentence. Here the names and types never shrink, help text folds
    a word too long for its column, and a paragraph's lines join into one, which rich
    wraps to the width. The help module is patched when help is first shown, so that
    starting a command does not import it.
    """
    for cls in (TyperCommand, TyperGroup):
        shown = cls.format_help
        if getattr(shown, "wraps_help", False):
            continue

        def format_help(self: Any, ctx: Any, formatter: Any, shown: Any = shown) -> None:
            _patch_rich_help()
            shown(self, ctx, formatter)

        format_help.wraps_help = True  # type: ignore[attr-defined]
        cls.format_help = format_help  # type: ignore[method-assign]


def _patch_rich_help() -> None:
    from typer import rich_utils

    if getattr(rich_utils, "_lfvsim_wraps", False):
        return
    from rich.columns import Columns
    from rich.table import Column, Table
    from rich.text import Text

    class WrappingTable(Table):
        """A table whose columns (made by its first row) fold instead of cutting."""

        def add_row(self, *renderables: Any, **kwargs: Any) -> None:
            if not self.columns:
                last = len(renderables) - 1
                for index in range(len(renderables)):
                    self.columns.append(
                        Column(
                            _index=index,
                            no_wrap=index < last,  # names and types keep their width
                            overflow="fold",
                            highlight=self.highlight,
                        )
                    )
            super().add_row(*renderables, **kwargs)

    def fix_linebreaks(paragraphs: list[str], markup_mode: Any) -> str:
        return "\n\n".join(
            paragraph
            if paragraph.startswith("\b")
            or any(line.lstrip().startswith(("-", "*", "•")) for line in paragraph.splitlines())
            else paragraph.replace("\n", " ")
            for paragraph in paragraphs
        )

    def folding_columns(items: list[Any]) -> Columns:
        """An option's help (text, default, env var): a word too long folds, not cut."""
        for item in items:
            if isinstance(item, Text):
                item.overflow = "fold"
        return Columns(items)

    rich_utils.Table = WrappingTable  # type: ignore[misc]
    rich_utils.Columns = folding_columns  # type: ignore[misc,assignment]
    rich_utils._fix_linebreaks = fix_linebreaks
    rich_utils._lfvsim_wraps = True  # type: ignore[attr-defined]


_wrap_not_cut()


class Command(NamedTuple):
    """Where a command is registered, and the first paragraph of its help."""

    module: str
    help: str


#: Every command of ``lfvsim``, in the order ``lfvsim --help`` lists them. The help is the
#: first paragraph of the command's docstring; tests/test_startup.py checks that both
#: agree with what the modules register.
COMMANDS = {
    "run": Command(
        "lfvsim.cli.run",
        "Replay a trace against Min/Max inference units and report cost and throttling.",
    ),
    "compare": Command(
        "lfvsim.cli.compare",
        "Always on, auto-scaled, scheduled or batch: cost and service side by side.",
    ),
    "sweep": Command(
        "lfvsim.cli.experiments",
        "Simulate every (Min, Max) configuration with replications and common random numbers.",
    ),
    "recommend": Command(
        "lfvsim.cli.experiments",
        "The cheapest Min/Max whose SLO holds at a confidence level, and its StartModel request.",
    ),
    "seed": Command(
        "lfvsim.cli.aws",
        "Write a scenario for a real model, from what DescribeModel says about it.",
    ),
    "start-model-input": Command(
        "lfvsim.cli.aws",
        "Print the StartModel (Rekognition: StartProjectVersion) request for a scenario.",
    ),
    "plot": Command(
        "lfvsim.cli.plot", "Draw one figure of a run or of a sweep into an image file."
    ),
    "report": Command(
        "lfvsim.cli.plot",
        "Write a report to share: summary, recommendation, figures, StartModel request.",
    ),
    "backtest": Command(
        "lfvsim.cli.backtest",
        "Replay the observed load with the observed Min/Max, and compare with the history.",
    ),
    "calibrate": Command(
        "lfvsim.cli.calibrate",
        "Set what the history shows directly (each estimate with an interval), keep the rest.",
    ),
    "trace": Command("lfvsim.cli.trace", "Make, inspect, import and convert traffic traces."),
}


class Group(TyperGroup):
    """A typer group whose subcommands' ``--help`` starts without pydantic.

    typer (0.2x) checks an option's value with a pydantic TypeAdapter unless the value is
    already a bool. A group's own ``--help`` left out (``lfvsim run --help``) has the value
    None, so typer imported pydantic (about 0.1 s) to pass that None on. False, a bool,
    means the same: no help.
    """

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None and option.default is None:
            option.default = False
        return option


class LazyGroup(Group):
    """The ``lfvsim`` group: it imports a command's module when the command is asked for.

    Listing the commands (``lfvsim --help``) shows :data:`COMMANDS` without importing.
    """

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(COMMANDS[cmd_name].module)  # registers it on app
            built = typer.main.get_command(app)  # every command registered so far
            for name, command in getattr(built, "commands", {}).items():
                self.commands.setdefault(name, command)
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        with self._listed():
            super().format_help(ctx, formatter)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and self.get_command(ctx, args[0]) is None:
            with self._listed():  # typer suggests the closest of every command's names
                return super().resolve_command(ctx, args)
        return super().resolve_command(ctx, args)

    @contextmanager
    def _listed(self) -> Iterator[None]:
        """Stand-ins for the commands not imported yet, for as long as the block runs."""
        listed = {
            name: TyperCommand(name, help=command.help)
            for name, command in COMMANDS.items()
            if name not in self.commands
        }
        self.commands.update(listed)
        try:
            yield
        finally:
            for name in listed:
                if self.commands.get(name) is listed[name]:
                    del self.commands[name]


def load_commands() -> None:
    """Import every command's module (for code that walks all commands at once)."""
    for command in COMMANDS.values():
        importlib.import_module(command.module)


app = typer.Typer(
    cls=LazyGroup,
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
    environment variable; never the library's keyword. Its advice names the options
    (``--min/--max``, ``--replications``), not the library's arguments.
    """
    try:
        with allow_wording(ALLOW_OPTION if allow_large_option else ALLOW_ENV):
            yield
    except InputError as exc:
        message = str(exc)
        if isinstance(exc, BudgetError):  # the library's advice, in the options' words
            from lfvsim.cli.budgeting import cli_wording

            message = cli_wording(message)
        typer.echo(f"lfvsim: error: {message}", err=True)
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
        typer.echo(f"lfvsim: error: {_usage_message(exc, ctx)} (see '{where}')", err=True)
        sys.exit(exc.exit_code)
    if type(code).__name__ == "Abort" or (code == 130 and not _REPORTED):
        _interrupted()  # typer turns Ctrl-C into a silent exit status 130
    sys.exit(code if isinstance(code, int) else 0)


def _usage_message(exc: Any, ctx: Any) -> str:
    """A usage error's one line, without click's and pydantic's wording where it misleads.

    An unknown option suggests only options whose names (without the dashes) are close:
    click's own match counts the shared ``--`` and so offers any option of a similar length
    (``--workers``: "Possible options: --force"). A value that is not one of a parameter's
    choices reads ``KIND: 'x' is not one of a, b, c``, not pydantic's "Value error, ...".
    """
    name = type(exc).__name__
    if name == "NoSuchOption" and ctx is not None:
        exc.possibilities = _close_options(str(exc.option_name), ctx)
        return str(exc.format_message())
    message = str(exc.format_message())
    if name == "BadParameter" and "Value error, " in message:
        message = message.replace("Value error, ", "").rstrip(".")
        parsed = re.fullmatch(r"Invalid value for (.+?): (.*) is not one of (.*)", message)
        if parsed:
            label, value, choices = parsed.groups()
            listed = ", ".join(choice.strip().strip("'") for choice in choices.split(","))
            message = f"{label.strip(chr(39))}: {value} is not one of {listed}"
    return message


def _close_options(option: str, ctx: Any) -> list[str]:
    """The command's long options whose names are close to ``option``'s."""
    import difflib

    known = {
        name.lstrip("-"): name
        for param in ctx.command.params
        for name in (*param.opts, *param.secondary_opts)
        if name.startswith("--")
    }
    close = difflib.get_close_matches(option.lstrip("-"), list(known), n=3, cutoff=0.75)
    return [known[name] for name in close]


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
