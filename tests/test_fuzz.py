"""Fuzzing the readers: any input gives a result or a clean one-line InputError, nothing else.

Each test draws a bounded number of inputs (``settings`` below) so that the suite stays
fast; ``pytest tests/test_fuzz.py --hypothesis-show-statistics`` shows how many were tried.
Inputs are shaped like the real formats (right keys, plausible values) with a share of
hostile values mixed in (inf, nan, 1e300, huge integers, wrong types, control characters,
emoji, epoch milliseconds), so that both the checks and the paths past them are reached.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args, get_origin

import tomli_w
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lfvsim.aws import LFV_STATUSES, parse_model_description, render_seeded_scenario, seed_scenario
from lfvsim.errors import InputError
from lfvsim.scenario import SECTIONS, Scenario, load_scenario, render_toml
from lfvsim.traces import read_trace
from lfvsim.traces.cloudwatch import read_cloudwatch_export
from lfvsim.traces.schema import TRAFFIC_KINDS, TRAFFIC_SECTION_CLASSES
from tests.conftest import ROOT

#: Inputs per test; LFVSIM_FUZZ_EXAMPLES=5000 LFVSIM_FUZZ_SEED=random searches longer.
EXAMPLES = int(os.environ.get("LFVSIM_FUZZ_EXAMPLES", "80"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    # The same inputs on every run of the suite, so a failure here is reproducible.
    derandomize=os.environ.get("LFVSIM_FUZZ_SEED") != "random",
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

T0 = datetime(2026, 1, 5, tzinfo=UTC)
T0_S = T0.timestamp()


def clean(call):
    """Run ``call``; an InputError must be one line. Returns the result or None.

    The outcome is recorded as a Hypothesis event (``--hypothesis-show-statistics``), so
    the share of inputs that got past every check is visible.
    """
    try:
        result = call()
    except InputError as exc:
        message = str(exc)
        assert message and "\n" not in message and "\r" not in message, repr(message)
        assert "Traceback" not in message
        event("refused")
        event("why: " + re.sub(r"[0-9]+", "N", message.split(": ", 2)[-1])[:50])
        return None
    event("accepted")
    return result


# --- shared value strategies ---------------------------------------------------------------------

hostile_floats = st.sampled_from(
    [math.inf, -math.inf, math.nan, 1e300, -1e300, 1e15, 1e-300, 0.0, -0.0, -1.0, 2.0**63]
)
hostile_ints = st.sampled_from([0, -1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63), 10**30])
hostile_text = st.sampled_from(
    ["", " ", "\x00", "\x7f", "\U0001f600", "a\nb", "=1+1", "-", "\u202e", "1e", "0x10", "Ø"]
)
scalars = st.one_of(
    st.integers(-5, 100),
    st.floats(-10, 1e4, allow_nan=False),
    hostile_floats,
    hostile_ints,
    st.booleans(),
    st.text(max_size=12),
    hostile_text,
)
json_values = st.recursive(
    st.one_of(
        st.none(), scalars.filter(lambda v: not (isinstance(v, float) and not math.isfinite(v)))
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


# --- scenario TOML -------------------------------------------------------------------------------

_SECTION_CLASSES: dict[str, Any] = {
    name: Scenario.model_fields[name].annotation for name in SECTIONS if name != "traffic"
}
_TRAFFIC_CLASS = dict(zip(TRAFFIC_KINDS, TRAFFIC_SECTION_CLASSES, strict=True))

toml_values = st.one_of(
    scalars,
    st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
    ),
    st.lists(scalars, max_size=3),
)


def plausible(field: Any) -> st.SearchStrategy:
    """Values near a field's default, of its type: most pass its checks."""
    if field.is_required():
        return st.none()  # required keys are set by the caller
    default = field.default
    if get_origin(field.annotation) is Literal:
        return st.sampled_from(get_args(field.annotation))
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, int):
        return st.integers(default, default + 3)
    if isinstance(default, float):
        return st.floats(default / 2, default * 2) if default > 0 else st.floats(0, 1)
    if isinstance(default, datetime):
        return st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC))
    return st.just(default)


@st.composite
def section(draw, cls: Any, hostile: bool) -> dict[str, Any]:
    keys = draw(st.lists(st.sampled_from(sorted(cls.model_fields)), max_size=3, unique=True))
    out = {}
    for key in keys:
        value = draw(toml_values if hostile else plausible(cls.model_fields[key]))
        if value is not None and key != "kind":
            out[key] = value
    return out


@st.composite
def scenarios(draw) -> str:
    """A scenario as TOML text: real sections and keys; plausible values or hostile ones."""
    hostile = draw(st.booleans())
    kind = draw(st.sampled_from(TRAFFIC_KINDS))
    traffic: dict[str, Any] = {"rate_tps": 2.0, "mean_tps": 2.0, "peak_tps": 2.0, "path": "t.csv"}
    traffic = {k: v for k, v in traffic.items() if k in _TRAFFIC_CLASS[kind].model_fields}
    traffic.update(draw(section(_TRAFFIC_CLASS[kind], hostile)))
    traffic["kind"] = (
        draw(st.sampled_from(["nope", 5])) if hostile and draw(st.booleans()) else kind
    )
    doc: dict[str, Any] = {"traffic": traffic}
    for name in draw(st.lists(st.sampled_from(sorted(_SECTION_CLASSES)), max_size=3, unique=True)):
        doc[name] = draw(section(_SECTION_CLASSES[name], hostile))
    if hostile and draw(st.integers(0, 9)) == 0:
        doc.pop("traffic")
    if hostile and draw(st.integers(0, 9)) == 0:
        doc[draw(st.text(min_size=1, max_size=5))] = draw(scalars)
    text = tomli_w.dumps(doc)
    if hostile and draw(st.integers(0, 9)) == 0:  # now and then, damage the text itself
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(hostile_text) + text[cut:]
    return text


@FUZZ
@given(text=scenarios())
def test_fuzz_scenario_toml(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("s") / "s.toml"
    path.write_text(text, encoding="utf-8")
    scenario = clean(lambda: load_scenario(path))
    if scenario is None:
        return
    # Whatever loads also renders to TOML that loads back to the same scenario (relative
    # trace paths are written absolute, so compare the rendered text).
    text = render_toml(scenario)
    again = path.with_name("again.toml")
    again.write_text(text, encoding="utf-8")
    assert render_toml(load_scenario(again)) == text


# --- counts and per-request CSV ------------------------------------------------------------------


def iso(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


timestamps = st.one_of(
    st.integers(0, 30).map(lambda k: iso(60 * k)),  # a minute grid: gets past the checks
    st.integers(0, 30).map(lambda k: str(int(T0_S) + 60 * k)),
    st.integers(0, 30).map(lambda k: str((int(T0_S) + 60 * k) * 1000)),  # milliseconds
    st.floats(-1e20, 1e20, allow_nan=False).map(repr),
    st.sampled_from(["9999-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2026-13-01", "nan"]),
    st.sampled_from(["2026-01-05T00:00:00", "2026-01-05 00:00:00+05:00", "inf", "-inf"]),
    hostile_text,
)
counts = st.one_of(
    st.integers(0, 50).map(str),
    st.sampled_from(["", "nan", "NA", "inf", "-inf", "1e300", "-1", "1.5", "2.0", "9" * 30]),
    hostile_text,
)
options = st.fixed_dictionaries(
    {
        "fill_gaps": st.sampled_from(["error", "zero", "zero"]),
        "duplicates": st.sampled_from(["error", "sum", "first"]),
        "unsorted": st.sampled_from(["error", "sort", "sort"]),
    }
)


def csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


@st.composite
def grid_rows(draw, fmt: st.SearchStrategy) -> list[int]:
    """Minutes of a plausible trace: a grid, sometimes with a gap, a repeat or a swap."""
    minutes = list(range(draw(st.integers(2, 12))))
    edit = draw(st.sampled_from(["none", "gap", "repeat", "swap"]))
    if edit == "gap" and len(minutes) > 2:
        minutes.pop(draw(st.integers(1, len(minutes) - 2)))
    elif edit == "repeat":
        minutes.insert(0, minutes[0])
    elif edit == "swap" and len(minutes) > 1:
        minutes[0], minutes[1] = minutes[1], minutes[0]
    write = draw(fmt)
    return [write(m) for m in minutes]


minute_formats = st.sampled_from(
    [lambda m: iso(60 * m), lambda m: str(int(T0_S) + 60 * m), lambda m: iso(60 * m)[:-1]]
)


@st.composite
def counts_rows(draw) -> list[tuple[str, str]]:
    if draw(st.integers(0, 3)) == 0:  # hostile: any cell anywhere
        return draw(st.lists(st.tuples(timestamps, counts), max_size=12))
    stamps = draw(grid_rows(minute_formats))
    rows = [(t, str(draw(st.integers(0, 50)))) for t in stamps]
    if draw(st.integers(0, 3)) == 0:  # one hostile cell in plausible data
        k = draw(st.integers(0, len(rows) - 1))
        t, c = rows[k]
        rows[k] = (draw(timestamps), c) if draw(st.booleans()) else (t, draw(counts))
    return rows


@FUZZ
@given(
    rows=counts_rows(),
    opts=options,
    header=st.sampled_from(
        ["timestamp,count"] * 3 + ["time,count", "Timestamp , Count", "count,x"]
    ),
)
def test_fuzz_counts_csv(tmp_path_factory, rows, opts, header):
    path = tmp_path_factory.mktemp("c") / "counts.csv"
    lines = [header] + [f"{csv_cell(t)},{csv_cell(c)}" for t, c in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    trace = clean(lambda: read_trace(path, **opts))
    if trace is not None:
        assert (trace.counts >= 0).all()
        assert 0 <= trace.start.timestamp() < 7258118400


second_formats = st.sampled_from(
    [lambda s: iso(s), lambda s: repr(T0_S + s), lambda s: iso(s).replace("Z", "+02:00")]
)


@st.composite
def request_rows(draw) -> list[str]:
    if draw(st.integers(0, 3)) == 0:
        return draw(st.lists(timestamps, max_size=12))
    seconds = sorted(draw(st.lists(st.floats(0, 7200, allow_nan=False), max_size=12)))
    if len(seconds) > 1 and draw(st.booleans()):
        seconds[0], seconds[-1] = seconds[-1], seconds[0]
    write = draw(second_formats)
    rows = [write(x) for x in seconds]
    if rows and draw(st.integers(0, 3)) == 0:
        rows[draw(st.integers(0, len(rows) - 1))] = draw(timestamps)
    return rows


@FUZZ
@given(
    rows=request_rows(),
    unsorted=st.sampled_from(["error", "sort", "sort"]),
    in_memory=st.sampled_from([None, True, False]),
)
def test_fuzz_request_csv(tmp_path_factory, rows, unsorted, in_memory):
    path = tmp_path_factory.mktemp("r") / "requests.csv"
    path.write_text("\n".join(["timestamp", *map(csv_cell, rows)]) + "\n", encoding="utf-8")
    trace = clean(lambda: read_trace(path, unsorted=unsorted, in_memory=in_memory))
    if trace is not None:
        assert trace.duration_s > 0
        assert 0 <= trace.start.timestamp() < 7258118400


# --- CloudWatch JSON -----------------------------------------------------------------------------

cw_times = st.one_of(
    st.integers(0, 20).map(lambda k: iso(60 * k)),
    st.integers(0, 20).map(lambda k: T0_S + 60 * k),
    st.integers(0, 20).map(lambda k: (T0_S + 60 * k) * 1000),
    json_values,
)
cw_values = st.one_of(st.integers(0, 50), st.floats(0, 50), json_values)


cw_formats = st.sampled_from(
    [lambda m: iso(60 * m), lambda m: T0_S + 60 * m, lambda m: iso(60 * m).replace("Z", "+00:00")]
)


@st.composite
def plausible_pages(draw) -> list[Any]:
    """An export as the AWS CLI writes it, split into pages, now and then one value off."""
    metrics = draw(
        st.sampled_from([["ProcessedImageCount"], ["SuccessfulRequestCount", "ThrottledCount"]])
    )
    series = {m: draw(grid_rows(cw_formats)) for m in metrics}
    values = {m: [draw(st.integers(0, 50)) for _ in t] for m, t in series.items()}
    if draw(st.integers(0, 3)) == 0:
        m = metrics[0]
        values[m][draw(st.integers(0, len(values[m]) - 1))] = draw(cw_values)
    n_pages = draw(st.integers(1, 3))
    pages = []
    for k in range(n_pages):
        results = []
        for j, m in enumerate(metrics):
            times, vals = series[m][k::n_pages], values[m][k::n_pages]
            status = "Complete" if k == n_pages - 1 else "PartialData"
            results.append(
                {
                    "Id": f"m{j}",
                    "Label": m,
                    "Timestamps": times,
                    "Values": vals,
                    "StatusCode": status,
                }
            )
        page: dict[str, Any] = {"MetricDataResults": results, "Messages": []}
        if k < n_pages - 1:
            page["NextToken"] = f"page-{k + 2}"
        pages.append(page)
    if len(pages) > 2 and draw(st.booleans()):
        pages.pop(1)  # a page lost
    return pages


@st.composite
def cloudwatch_pages(draw) -> list[Any]:
    """One to three pages of a get-metric-data or get-metric-statistics export."""
    if draw(st.integers(0, 2)):
        return draw(plausible_pages())
    pages = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            n = draw(st.integers(0, 6))
            result = {
                "Id": draw(st.sampled_from(["m1", "m2", 5, None])),
                "Label": draw(
                    st.sampled_from(
                        ["ProcessedImageCount", "SuccessfulRequestCount", "ThrottledCount", "x\ny"]
                    )
                ),
                "Timestamps": draw(
                    st.one_of(st.lists(cw_times, min_size=n, max_size=n), json_values)
                ),
                "Values": draw(st.one_of(st.lists(cw_values, min_size=n, max_size=n), json_values)),
                "StatusCode": draw(
                    st.sampled_from(["Complete", "PartialData", "InternalError", "Odd", 3])
                ),
            }
            page: Any = {
                "MetricDataResults": draw(st.sampled_from([[result], [result, result], result]))
            }
            if draw(st.booleans()):
                page["NextToken"] = draw(st.sampled_from(["t", "", None, 7]))
        else:
            points = draw(
                st.lists(
                    st.fixed_dictionaries(
                        {"Timestamp": cw_times, "Sum": cw_values},
                        optional={"Unit": st.just("Count")},
                    ),
                    max_size=6,
                )
            )
            page = {
                "Label": draw(st.sampled_from(["ProcessedImageCount", "", 4])),
                "Datapoints": points,
            }
        if draw(st.integers(0, 9)) == 0:
            page = draw(json_values)
        pages.append(page)
    return pages


@FUZZ
@given(
    pages=cloudwatch_pages(),
    metric=st.sampled_from(["auto", "offered", "ProcessedImageCount", "m1"]),
    fill_gaps=st.sampled_from(["error", "zero"]),
    duplicates=st.sampled_from(["error", "sum", "first"]),
    period_s=st.sampled_from([None, 60.0, 1.0]),
)
def test_fuzz_cloudwatch_json(tmp_path_factory, pages, metric, fill_gaps, duplicates, period_s):
    folder = tmp_path_factory.mktemp("cw")
    paths = []
    for k, page in enumerate(pages):
        path = folder / f"export-{k}.json"
        path.write_text(json.dumps(page), encoding="utf-8")
        paths.append(path)
    trace = clean(
        lambda: read_cloudwatch_export(
            paths, metric=metric, fill_gaps=fill_gaps, duplicates=duplicates, period_s=period_s
        )
    )
    if trace is not None:
        assert (trace.counts >= 0).all()


# --- DescribeModel JSON --------------------------------------------------------------------------

DESCRIBE = json.loads(
    (ROOT / "scenarios" / "data" / "circuit-boards-describe-model.json").read_text()
)
DESCRIBE_KEYS = [*DESCRIBE["ModelDescription"], "Performance.F1Score", "Performance"]


PLAUSIBLE_FIELDS = {
    "MinInferenceUnits": st.integers(1, 10),
    "MaxInferenceUnits": st.integers(1, 10),
    "Status": st.sampled_from(sorted(LFV_STATUSES)),
    "StatusMessage": st.text(max_size=30),
    "CreationTimestamp": st.floats(0, 4e9).map(lambda x: round(x, 3)),
    "ModelVersion": st.just("3"),
}


@st.composite
def descriptions(draw) -> Any:
    """The example DescribeModel output with some fields replaced, dropped or wrapped."""
    body = json.loads(json.dumps(DESCRIBE["ModelDescription"]))
    if draw(st.booleans()):  # plausible: documented fields with values of their type
        for key in draw(st.lists(st.sampled_from(sorted(PLAUSIBLE_FIELDS)), max_size=3)):
            body[key] = draw(PLAUSIBLE_FIELDS[key])
        return {"ModelDescription": body}
    for key in draw(st.lists(st.sampled_from(DESCRIBE_KEYS), max_size=3)):
        action = draw(st.sampled_from(["replace", "drop"]))
        target, _, sub = key.partition(".")
        holder = body.get(target) if sub else body
        if not isinstance(holder, dict):
            continue
        name = sub or target
        if action == "drop":
            holder.pop(name, None)
        else:
            holder[name] = draw(
                st.one_of(
                    json_values,
                    st.sampled_from(
                        ["TRAINED", "HOSTING_FAILED", "1e300", "2026-01-05T00:00:00Z", 1e12, 10**13]
                    ),
                )
            )
    shape = draw(st.sampled_from(["wrapped", "bare", "junk"]))
    if shape == "wrapped":
        return {"ModelDescription": body}
    return body if shape == "bare" else draw(json_values)


@FUZZ
@given(data=descriptions(), version=st.sampled_from([None, "3", "x"]))
def test_fuzz_describe_model_json(data, version):
    text = json.dumps(data)  # what a saved file holds
    description = clean(lambda: parse_model_description(json.loads(text), "d.json", version))
    if description is None:
        return
    scenario = clean(lambda: seed_scenario(description))
    if scenario is None:
        return
    seeded = render_seeded_scenario(description, scenario)
    tomllib.loads(seeded)  # whatever seeds, writes TOML that reads back
