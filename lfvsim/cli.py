"""The ``lfvsim`` command line: parse, call the library, print."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from tqdm import tqdm

from lfvsim import __version__
from lfvsim.engine import simulate
from lfvsim.errors import InputError
from lfvsim.result import Result
from lfvsim.scenario import Scenario, load_scenario, render_toml

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
def _input_errors() -> Iterator[None]:
    """Bad input: one line on stderr, exit status 2, no traceback."""
    try:
        yield
    except InputError as exc:
        typer.echo(f"lfvsim: error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def run(
    scenario_path: Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario TOML file.")],
    trace: Annotated[
        Path | None, typer.Option(help="Replay this CSV trace instead of the scenario's traffic.")
    ] = None,
    min_units: Annotated[
        int | None, typer.Option(min=1, help="Override MinInferenceUnits.")
    ] = None,
    max_units: Annotated[
        int | None, typer.Option(min=1, help="Override MaxInferenceUnits.")
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Random seed.")] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="Write timeline.csv, units.csv, summary.json, scenario.toml here."),
    ] = None,
    show_config: Annotated[
        bool,
        typer.Option(
            "--show-config",
            help="Print the resolved scenario with every default and each assumption marked.",
        ),
    ] = False,
) -> None:
    """Replay a trace against Min/Max inference units and report cost and throttling."""
    with _input_errors():
        scenario = _scenario(scenario_path, trace, min_units, max_units)
        if show_config:
            typer.echo(render_toml(scenario), nl=False)
            return
        with _progress_bar() as progress:
            result = simulate(scenario, seed=seed, progress=progress)
        if out is not None:
            result.write(out)
    if json_output:
        typer.echo(result.to_json())
    else:
        typer.echo(format_summary(result, scenario_path))
        if out is not None:
            typer.echo(f"\nwrote {out}/: timeline.csv, units.csv, summary.json, scenario.toml")


def _scenario(
    path: Path, trace: Path | None, min_units: int | None, max_units: int | None
) -> Scenario:
    scenario = load_scenario(path)
    overrides: dict[str, Any] = {}
    if trace is not None:
        overrides["traffic"] = {"kind": "csv", "path": str(trace.resolve())}
    if min_units is not None:
        overrides["model.min_units"] = min_units
    if max_units is not None:
        overrides["model.max_units"] = max_units
    return (
        scenario.with_overrides(overrides, source="command-line options") if overrides else scenario
    )


@contextmanager
def _progress_bar() -> Iterator[Callable[[float, float], None] | None]:
    """A progress bar in simulated hours: on stderr, on a terminal, after two seconds."""
    if not sys.stderr.isatty():
        yield None
        return
    with tqdm(
        total=None, unit="h", desc="simulating", file=sys.stderr, delay=2.0, leave=False
    ) as bar:

        def update(done_s: float, total_s: float) -> None:
            bar.total = round(total_s / 3600, 2)
            bar.n = round(done_s / 3600, 2)
            bar.refresh()

        yield update


def format_summary(result: Result, scenario_path: Path | None = None) -> str:
    """The summary as a small aligned table."""
    s = result.summary
    sc = result.scenario
    max_text = "unset (no auto-scaling)" if s.max_units is None else str(s.max_units)
    rows = [
        ("requests", f"{s.requests:,}"),
        ("served", f"{s.served:,}"),
        ("throttled", f"{s.throttled:,}  ({100 * s.throttle_rate:.3g}%)"),
        (
            "latency p50/p95/p99",
            f"{s.latency_p50_s:.3f} / {s.latency_p95_s:.3f} / {s.latency_p99_s:.3f} s",
        ),
        ("mean wait", f"{s.wait_mean_s:.3f} s"),
        ("inference-unit hours", f"{s.unit_hours:,.2f}"),
        ("cost", f"USD {s.cost_usd:,.2f}  (USD {s.price_per_unit_hour_usd:.2f} per unit-hour)"),
        ("cost per 1,000 images", f"USD {s.cost_per_1000_images_usd:.4f}"),
        ("units in service", f"mean {s.mean_units:.2f}, peak {s.peak_units}"),
        ("scaling", f"{s.scale_out_events} scale-outs, {s.scale_in_events} scale-ins"),
    ]
    width = max(len(k) for k, _ in rows)
    head = [
        f"{sc.model.project} version {sc.model.version} in {sc.model.region}"
        + (f"  ({scenario_path})" if scenario_path else ""),
        f"MinInferenceUnits {s.min_units}, MaxInferenceUnits {max_text}, policy {s.policy}, "
        f"{s.duration_h:g} h simulated, seed {s.seed}",
        f"traffic: {result.trace_source}",
        "",
    ]
    body = [f"  {k:<{width}}  {v}" for k, v in rows]
    notes = ["", "notes:"] + [f"  - {n}" for n in result.notes]
    return "\n".join(head + body + notes)


def entry_point() -> None:
    """The ``lfvsim`` console script: usage errors as one line, exit status 2."""
    try:
        code = app(standalone_mode=False)
    except KeyboardInterrupt:
        typer.echo("lfvsim: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        # typer raises its (vendored) click's UsageError family here; match it by shape.
        if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
            raise
        if type(exc).__name__ == "NoArgsIsHelpError":
            typer.echo(exc.ctx.get_help())
            sys.exit(2)
        ctx = getattr(exc, "ctx", None)
        where = f"{ctx.command_path} --help" if ctx is not None else "lfvsim --help"
        typer.echo(f"lfvsim: error: {exc.format_message()} (see '{where}')", err=True)
        sys.exit(exc.exit_code)
    if type(code).__name__ == "Abort":
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    entry_point()
