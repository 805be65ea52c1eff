"""What lfvsim's machine-readable output holds: its schema version and every key.

Every JSON object a command prints with ``--json`` and every table lfvsim writes carries
``schema_version`` (in a table, a column with the same value in every row). Keys are only
ever added within a version; removing a key or changing what one means bumps it.

:data:`OUTPUTS` is the documented key list of each output. The README's
"Machine-readable output" key lists are :func:`markdown` of it, and a test checks both the
README and the real outputs against it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lfvsim.errors import InputError

if TYPE_CHECKING:  # pandas loads where a table is read: the command line starts without it
    import pandas as pd

__all__ = [
    "OUTPUTS",
    "SCHEMA_VERSION",
    "Output",
    "check_schema_version",
    "markdown",
    "stamped",
    "stamped_table",
    "unstamped_table",
]

SCHEMA_VERSION = 1
"""Version of every JSON object and table below."""


@dataclass(frozen=True)
class Output:
    """One machine-readable output.

    Attributes
    ----------
    where : str
        The commands and files that produce it.
    keys : tuple of str
        Keys (JSON) or columns (tables) always present, in order.
    optional : tuple of str
        Keys present only in some cases, said in ``note``.
    dotted : bool
        Also one column per varied scenario key, named like ``autoscaler.cooldown_s``.
    note : str
        What else a reader should know.
    """

    where: str
    keys: tuple[str, ...]
    optional: tuple[str, ...] = ()
    dotted: bool = False
    note: str = ""


_SUMMARY = """requests attempts retries served throttled unavailable throttled_at_max
    throttled_scaling throttled_burst throttled_capacity_lost unavailable_not_hosted
    throttle_rate throttle_rate_worst_hour throttle_rate_minute_p99 minute_percentile
    throttle_rate_minute_percentile first_attempt_throttle_rate failure_rate retrying_at_end
    latency_mean_s latency_p50_s latency_p95_s latency_p99_s latency_max_s wait_mean_s
    unit_hours cost_usd"""
_SUMMARY_END = """cost_per_1000_images_usd price_per_unit_hour_usd mean_units peak_units
    peak_wanted_units scale_out_events scale_in_events duration_h hosted_h"""
_CONFIGURATION = """min_units max_units replications monthly_cost_usd monthly_cost_interval_usd
    throttle_rate throttle_rate_upper latency_p99_s latency_p99_upper_s mean_units peak_units
    throttle_rate_worst_hour throttle_rate_worst_hour_upper throttle_rate_minute_p99
    throttle_rate_minute_p99_upper minute_percentile throttle_rate_minute_percentile
    throttle_rate_minute_percentile_upper"""


def _keys(text: str) -> tuple[str, ...]:
    return tuple(text.split())


OUTPUTS: Mapping[str, Output] = {
    "run": Output(
        "`lfvsim run --json`; `summary.json` in a `run --out` folder",
        _keys(
            f"""schema_version {_SUMMARY} {_SUMMARY_END} min_units max_units policy seed
            waiting_at_end trace notes"""
        ),
    ),
    "timeline": Output(
        "`timeline.csv` in a `run --out` folder: one row per minute",
        _keys(
            """timestamp offered_requests SuccessfulRequestCount ThrottledCount
            throttled_at_max throttled_scaling throttled_burst throttled_capacity_lost
            unavailable_requests waiting_requests retried_requests InServiceInferenceUnits
            DesiredInferenceUnits MinInferenceUnits MaxInferenceUnits hosted billed_units
            utilization latency_p50_s latency_p99_s schema_version"""
        ),
    ),
    "units": Output(
        "`units.csv` in a `run --out` folder: one row per inference unit",
        _keys(
            """unit_id zone billed_from_s in_service_from_s retired_at_s drained_at_s billed_to_s
            served ended_by schema_version"""
        ),
    ),
    "events": Output(
        "`events.csv` in a `run --out` folder: one row per unit failure or zone outage",
        _keys(
            """kind zone start_s end_s units_lost capacity_lost_unit_s offered_during
            throttled_during schema_version"""
        ),
    ),
    "replications": Output(
        "`lfvsim run --replications N --json`; `summary.json` in a `run --replications N "
        "--out` folder",
        _keys(
            f"""schema_version {_SUMMARY} monthly_cost_usd {_SUMMARY_END} min_units max_units
            policy seed waiting_at_end replications seeds ci95 hours_per_month trace notes"""
        ),
        note="Figures are means over the replications; `ci95` maps each metric to its 95% "
        "interval.",
    ),
    "replications-table": Output(
        "`replications.csv` in a `run --replications N --out` folder: one row per replication",
        _keys(
            f"""replication seed {_SUMMARY} monthly_cost_usd {_SUMMARY_END} min_units max_units
            policy waiting_at_end schema_version"""
        ),
    ),
    "sweep": Output(
        "`lfvsim sweep -o FILE`, `lfvsim recommend -o FILE` (CSV or Parquet): one row per "
        "configuration and replication",
        _keys(
            f"""min_units max_units oracle_bound replication seed {_SUMMARY} monthly_cost_usd
            {_SUMMARY_END} policy waiting_at_end sweep_scenario sweep_trace trace_scale
            schema_version"""
        ),
        optional=_keys(
            """reused_from_max_units stopped_early slo_max_throttle_rate slo_max_p99_latency_s
            slo_confidence slo_max_worst_hour_rate slo_max_minute_rate slo_minute_percentile"""
        ),
        dotted=True,
        note="With `--vary`, one more column per varied scenario key, named by the key "
        "(`autoscaler.provisioning_delay_s`). `sweep_scenario` and `sweep_trace` are "
        "fingerprints of the scenario and the traffic; `reused_from_max_units` is the Max a "
        "row was copied from (a larger Max repeats its runs exactly; empty: simulated); "
        "`recommend -o` and `sweep -o` with an SLO add it (`slo_*`), and a configuration "
        "`recommend` or `sweep` stopped early has fewer replications; its rows are marked "
        "in `stopped_early` (present when some could stop early): "
        "`pass` (clearly meets the SLO but clearly costs more than the cheapest that "
        "does) or `fail` (clearly fails it); empty: every replication ran. "
        "`throttle_rate_minute_percentile` "
        "is the `minute_percentile`-th percentile of per-minute throttle rates "
        "(`--minute-percentile`, 99 by default).",
    ),
    "recommend": Output(
        "`lfvsim recommend --json`",
        _keys(
            """schema_version met min_units max_units monthly_cost_usd monthly_cost_interval_usd
            throttle_rate throttle_rate_upper latency_p99_s latency_p99_upper_s mean_units
            peak_units throttle_rate_worst_hour throttle_rate_worst_hour_upper
            throttle_rate_minute_p99 throttle_rate_minute_p99_upper
            throttle_rate_minute_percentile throttle_rate_minute_percentile_upper replications
            max_throttle_rate max_p99_latency_s confidence max_worst_hour_rate max_minute_rate
            minute_percentile hours_per_month start_model_request runner_up one_more_max_unit
            oracle binding advice closest seed requests duration_h traffic search outlook"""
        ),
        optional=_keys("variants depends_on max_units_changes"),
        note="`variants`, `depends_on` and `max_units_changes` only with `--vary`; `search` "
        "(what was simulated and skipped, and why) is null with `--vary`; `outlook` "
        "(headroom, busier day) is null when nothing meets the SLO. "
        "`runner_up` and `closest` are configurations (below) or null; "
        "`start_model_request` is the request AWS takes, with AWS's key names.",
    ),
    "recommend-search": Output(
        "`search` in `lfvsim recommend --json`",
        _keys(
            """min_units max_units derived_from_traffic oracle_peak_units configurations
            simulated skipped reasons replications runs_simulated runs_full_grid
            stopped_early_passing stopped_early_failing early_stop stop_reasons"""
        ),
        note="`simulated` and `skipped` count configurations, `runs_*` simulations; "
        "`early_stop` is the sequential rule (`looks`: the replication counts it judges at; "
        "`interim_error`: the error it spends on the interim looks), null with "
        "`--no-early-stop` and with 3 replications or fewer (no interim look: nothing "
        "stops early).",
    ),
    "recommend-configuration": Output(
        "`runner_up` and `closest` in `lfvsim recommend --json`", _keys(_CONFIGURATION)
    ),
    "recommend-one-more-max-unit": Output(
        "`one_more_max_unit` in `lfvsim recommend --json`",
        _keys(
            f"""{_CONFIGURATION} monthly_cost_difference_usd monthly_cost_difference_interval_usd
            throttle_rate_difference throttle_rate_difference_interval"""
        ),
    ),
    "recommend-oracle": Output(
        "`oracle` in `lfvsim recommend --json`",
        _keys(f"{_CONFIGURATION} gap_usd gap_interval_usd gap_percent"),
    ),
    "compare": Output(
        "`lfvsim compare --json`: a list, one object per mode",
        _keys(
            """schema_version mode min_units max_units monthly_cost_usd cost_usd unit_hours
            hosted_h throttle_rate unavailable failure_rate latency_p99_s seed"""
        ),
    ),
    "trace-inspect": Output(
        "`lfvsim trace inspect --json`",
        _keys(
            """schema_version source layout start duration_s requests mean_tps peak_tps_1min
            peak_1min_at peak_tps_1s peak_1s_at peak_to_mean_1min peak_to_mean_1s burstiness
            dispersion_1s sampled seed notes"""
        ),
        note="`seed` is the seed of the sampled arrivals, null when `sampled` is false (a "
        "trace of requests: nothing was drawn).",
    ),
    "compare-arrivals": Output(
        "`lfvsim trace compare-arrivals --json`: a list, one object per arrival model",
        _keys(
            """schema_version arrivals description requests throttled throttle_rate
            latency_p50_s latency_p99_s wait_mean_s unit_hours cost_usd peak_units
            scale_out_events peak_tps_1s dispersion_1s"""
        ),
    ),
    "backtest": Output(
        "`lfvsim backtest --json`",
        _keys(
            """schema_version minutes_compared in_service_mae_units in_service_equal_share
            desired_mae_units desired_equal_share unit_hours_observed unit_hours_simulated
            unit_hours_relative_error cost_observed_usd cost_simulated_usd cost_relative_error
            throttled_observed throttled_simulated throttled_relative_error replications
            in_service_within_replays_share scale_outs scale_ins flags notes"""
        ),
        note="`scale_outs` and `scale_ins` are objects with `observed`, `simulated`, "
        "`matched` and `mean_lag_min`; relative errors are fractions, null when undefined; "
        "`flags` lists where the replay disagrees beyond its own sampling noise (a misfit); "
        "`in_service_within_replays_share` is the share of minutes whose observed units in "
        "service lie within the range of `replications` replays; unit-hours and cost are "
        "the replays' mean, the other figures the first replay's.",
    ),
    "calibrate": Output(
        "`lfvsim calibrate --json`",
        _keys(
            """schema_version estimates throttling burstiness not_estimated history_notes
            periods period notes"""
        ),
        note="`estimates` is a list of objects with `parameter`, `informed`, `value`, `low`, "
        "`high`, `events`, `detail` and `weak` (`low`/`high` may hold a bound when `informed` "
        "is false; `weak` marks an informed value whose interval holds others that fit as "
        "well), the chosen structure of throttling's among them; `throttling` compares the "
        "two structures (null when the history has no throttling metrics): `chosen` "
        "(`slots`, `rate` or null), `log_likelihood` and `aic` by structure, "
        "`aic_difference` (the other's AIC minus the chosen one's, null unless both were "
        "fitted), `meaning`, and `other_estimates` (the structure not chosen, like "
        "`estimates`); `burstiness` is the fit of arrivals inside a minute (null when the history "
        "has no throttling metrics): `arrivals` (`batch` when batches fit better than "
        "Poisson, `poisson` when the interval of the batch mean size holds 1, null when not "
        "informed), `batch_mean_size` and `slots` (the slots fitted with it, null when not "
        "fitted) like `estimates`, `log_likelihood` of `poisson` and `batch`, `aic_difference` "
        "(Poisson's quasi-AIC minus the batch model's), `dispersion`, `meaning` and `replays`; "
        "`not_estimated` names the scenario keys left as assumed; `period` is "
        "the history's first and last minute, `notes` what was not estimated and why.",
    ),
    "trace-counts": Output(
        "`lfvsim trace synth`, `trace convert`, `trace import-cloudwatch` to .csv or .parquet: "
        "one row per interval",
        _keys("timestamp count schema_version"),
    ),
    "trace-requests": Output(
        "`lfvsim trace synth`/`trace convert --requests` to .csv or .parquet: one row per request",
        _keys("timestamp schema_version"),
    ),
}
"""Every machine-readable output, by name."""

_NOT_VERSIONED = (
    "CloudWatch exports (`trace synth -o FILE.json`, `run --cloudwatch-json`) and StartModel "
    "requests (`start-model-input`, `start_model_request`) follow AWS's own formats and carry no "
    "`schema_version`; the `.parts` folder of a resumable sweep is lfvsim's private store."
)


def stamped(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` with ``schema_version`` as its first key."""
    return {"schema_version": SCHEMA_VERSION, **obj}


def stamped_table(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` with a last column ``schema_version``, for writing."""
    return table.assign(schema_version=SCHEMA_VERSION)


def check_schema_version(value: Any, where: str) -> None:
    """Refuse output of a newer schema than this lfvsim reads (keys may mean other things)."""
    if value is None or (isinstance(value, float) and value != value):
        # A table row without the value: the file was cut (or edited) after lfvsim wrote it.
        raise InputError(
            f"'{where}' has a row without schema_version: the file is cut or damaged; "
            "write it again with lfvsim"
        )
    try:
        version = int(value)
    except (TypeError, ValueError):
        raise InputError(
            f"'{where}' has schema_version {value!r}, not a number; write it again with lfvsim"
        ) from None
    if version > SCHEMA_VERSION:
        raise InputError(
            f"'{where}' has schema_version {version}, newer than this lfvsim reads "
            f"({SCHEMA_VERSION}); upgrade lfvsim"
        )


def unstamped_table(table: pd.DataFrame, where: str) -> pd.DataFrame:
    """``table`` as read back, without its ``schema_version`` column (checked first).

    Tables written before the column existed have none and are read as they are.
    """
    import pandas as pd

    if "schema_version" not in table.columns:
        return table
    for value in pd.unique(table["schema_version"]):
        check_schema_version(value, where)
    return table.drop(columns="schema_version")


def markdown() -> str:
    """The README's "Machine-readable output" key lists, as Markdown."""
    lines = []
    for name, out in OUTPUTS.items():
        item = f"**{name}**: {out.where}. Keys: {', '.join(f'`{k}`' for k in out.keys)}."
        if out.optional:
            item += f" Sometimes also: {', '.join(f'`{k}`' for k in out.optional)}."
        if out.note:
            item += f" {out.note}"
        lines.append(_wrap(item, "- ", "  "))
    return "\n".join([*lines, "", _wrap(_NOT_VERSIONED, "", "")]) + "\n"


def _wrap(text: str, first: str, rest: str) -> str:
    return textwrap.fill(
        text,
        width=90,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )
