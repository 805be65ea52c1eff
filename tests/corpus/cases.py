"""The corpus of bad and extreme inputs: one table of cases across every command.

Each case is ``Case(name, argv, files)``: the command line after ``lfvsim`` and the files
to create in an empty folder before it runs (text, bytes, a copy of a file in
``tests/corpus/data`` as ``DATA / "name"``, or of a prepared output as
``FIXTURE / "name"``). Every case must be refused: exit status 2, one line on stderr,
nothing on stdout, every file in the folder byte-identical afterwards and no new file.

``KNOWN_OPEN`` lists cases that still fail that standard; the test checks that they do,
so a fix shows up as a failure asking to move the case into ``CASES``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath

DATA = PurePosixPath("@data")
FIXTURE = PurePosixPath("@fixture")

FileSpec = str | bytes | PurePosixPath


@dataclass(frozen=True)
class Case:
    """One bad input: ``lfvsim *argv`` run in a folder holding ``files``."""

    name: str
    argv: tuple[str, ...]
    files: dict[str, FileSpec] = field(default_factory=dict)
    dirs: tuple[str, ...] = ()


def case(name: str, *argv: str, files: dict[str, FileSpec] | None = None, dirs=()) -> Case:
    return Case(name, tuple(argv), dict(files or {}), tuple(dirs))


# --- scenarios -----------------------------------------------------------------------

BASE_SECTIONS: dict[str, dict[str, object]] = {
    "model": {"project": "line-7", "min_units": 1, "max_units": 2},
    "traffic": {"kind": "constant", "rate_tps": 2.0, "duration_h": 1},
    "simulation": {"seed": 5},
}


def _toml_value(value: object) -> str:
    if isinstance(value, _Raw):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


class _Raw:
    """A TOML value written as is (inf, nan, 1e300, a huge integer)."""

    def __init__(self, text: str) -> None:
        self.text = text


def raw(text: str) -> _Raw:
    return _Raw(text)


def scenario_toml(**changes: dict[str, object] | None) -> str:
    """The base scenario with sections replaced (None) or keys changed or added."""
    sections = {k: dict(v) for k, v in BASE_SECTIONS.items()}
    for section, keys in changes.items():
        if keys is None:
            sections.pop(section, None)
            continue
        target = sections.setdefault(section, {})
        for key, value in keys.items():
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value
    lines = []
    for section, keys in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in keys.items())
    return "\n".join(lines) + "\n"


GOOD = scenario_toml()

# (label, section, key, value) of a scenario that must be refused.
BAD_SCENARIO_VALUES: list[tuple[str, str, str, object]] = [
    ("min-gt-max", "model", "min_units", 3),
    ("min-zero", "model", "min_units", 0),
    ("min-negative", "model", "min_units", -1),
    ("max-1e13", "model", "max_units", raw("10000000000000")),
    ("min-huge-int", "model", "min_units", raw("99999999999999999999")),
    ("min-float", "model", "min_units", 1.5),
    ("min-string", "model", "min_units", "two"),
    ("max-zero", "model", "max_units", 0),
    ("region-unknown", "model", "region", "mars-north-1"),
    ("project-empty", "model", "project", ""),
    ("rate-inf", "traffic", "rate_tps", raw("inf")),
    ("rate-nan", "traffic", "rate_tps", raw("nan")),
    ("rate-1e300", "traffic", "rate_tps", raw("1e300")),
    ("rate-negative", "traffic", "rate_tps", -2.0),
    ("rate-1e9", "traffic", "rate_tps", raw("1e9")),
    ("duration-inf", "traffic", "duration_h", raw("inf")),
    ("duration-nan", "traffic", "duration_h", raw("nan")),
    ("duration-zero", "traffic", "duration_h", 0),
    ("duration-negative", "traffic", "duration_h", -1),
    ("duration-1e300", "traffic", "duration_h", raw("1e300")),
    ("duration-100-years", "traffic", "duration_h", 876000),
    ("duration-string", "traffic", "duration_h", "a day"),
    ("traffic-kind-unknown", "traffic", "kind", "tsunami"),
    ("traffic-unknown-key", "traffic", "rate", 2.0),
    ("scale-1e12", "traffic", "scale", raw("1e12")),
    ("slots-1e9", "unit", "slots", raw("1000000000")),
    ("slots-zero", "unit", "slots", 0),
    ("queue-limit-negative", "unit", "queue_limit", -5),
    ("latency-mean-inf", "unit", "latency_mean_s", raw("inf")),
    ("latency-mean-nan", "unit", "latency_mean_s", raw("nan")),
    ("latency-mean-zero", "unit", "latency_mean_s", 0),
    ("latency-p99-below-mean", "unit", "latency_p99_s", 0.1),
    ("latency-p99-1e9", "unit", "latency_p99_s", raw("1e9")),
    ("unit-unknown-key", "unit", "cores", 4),
    ("throttling-unknown", "unit", "throttling", "latency"),
    ("rate-model-zero-rate", "unit", "rate_tps", 0.0),
    ("rate-model-burst-below-one", "unit", "burst", 0.5),
    ("price-inf", "billing", "price_per_unit_hour_usd", raw("inf")),
    ("price-nan", "billing", "price_per_unit_hour_usd", raw("nan")),
    ("price-1e300", "billing", "price_per_unit_hour_usd", raw("1e300")),
    ("price-negative", "billing", "price_per_unit_hour_usd", -4.0),
    ("metering-zero", "billing", "metering_granularity_s", 0),
    ("metering-inf", "billing", "metering_granularity_s", raw("inf")),
    ("metering-1e12", "billing", "metering_granularity_s", raw("1e12")),
    ("metering-two-days", "billing", "metering_granularity_s", 172800),
    ("evaluation-period-1e10", "autoscaler", "evaluation_period_s", 60_000_000_000),
    ("evaluation-period-two-days", "autoscaler", "evaluation_period_s", 172800),
    ("scale-in-datapoints-1e9", "autoscaler", "scale_in_datapoints", 1_000_000_000),
    ("scale-out-datapoints-1441", "autoscaler", "scale_out_datapoints", 1441),
    ("billing-unknown-key", "billing", "currency", "EUR"),
    ("target-percent-200", "autoscaler", "target_percent", 200),
    ("evaluation-period-30", "autoscaler", "evaluation_period_s", 30),
    ("provisioning-delay-inf", "autoscaler", "provisioning_delay_s", raw("inf")),
    ("scale-in-ratio-2", "autoscaler", "scale_in_ratio", 2.0),
    ("autoscaler-unknown-key", "autoscaler", "policy", "aggressive"),
    ("seed-negative", "simulation", "seed", -1),
    ("seed-float", "simulation", "seed", 1.5),
    ("clients-1e9", "client", "clients", raw("1000000000")),
    ("availability-zones-1e9", "failures", "availability_zones", raw("1000000000")),
    ("unit-mtbf-1e-9", "failures", "unit_mtbf_h", raw("1e-9")),
    ("unit-mtbf-0.0001", "failures", "unit_mtbf_h", 0.0001),
    ("batch-check-1e-9", "hosting", "batch_check_s", raw("1e-9")),
    ("horizon-inf", "simulation", "horizon_h", raw("inf")),
    ("horizon-zero", "simulation", "horizon_h", 0),
    ("simulation-unknown-key", "simulation", "replications", 5),
    ("unknown-section", "speed", "fast", True),
    ("traffic-key-of-another-kind", "traffic", "mean_tps", 3.0),
    ("hosting-windows-without-schedule", "hosting", "windows", ["daily 06:00-22:00"]),
]


def _bad_scenarios() -> list[Case]:
    cases = []
    for label, section, key, value in BAD_SCENARIO_VALUES:
        text = scenario_toml(**{section: {key: value}})
        cases.append(case(f"run-scenario-{label}", "run", "s.toml", files={"s.toml": text}))
    structural = {
        "malformed-toml": "[model\nmin_units = 1\n",
        "not-toml-binary": b"\x00\x01\x02\xff\xfe binary",
        "utf16": GOOD.encode("utf-16"),
        "empty-file": "",
        "no-traffic": scenario_toml(traffic=None),
        "traffic-not-table": 'traffic = "constant"\n',
        "model-not-table": GOOD.replace("[model]", "model = 3\n[modelx]"),
        "rate-model-with-queue": scenario_toml(unit={"throttling": "rate", "when_busy": "queue"}),
        "latency-mean-1e9-exponential": scenario_toml(
            unit={"latency_distribution": "exponential", "latency_mean_s": 1e9}
        ),
        "duplicate-key": GOOD.replace("[simulation]", "[simulation]\nseed = 1"),
        "trace-missing-file": scenario_toml(
            traffic={"kind": "counts", "path": "nope.csv", "rate_tps": None, "duration_h": None}
        ),
        "trace-path-is-folder": scenario_toml(
            traffic={"kind": "counts", "path": "sub", "rate_tps": None, "duration_h": None}
        ),
        "cloudwatch-glob-matches-nothing": scenario_toml(
            traffic={
                "kind": "cloudwatch",
                "path": "none-*.json",
                "rate_tps": None,
                "duration_h": None,
            }
        ),
    }
    for label, text in structural.items():
        cases.append(
            case(f"run-scenario-{label}", "run", "s.toml", files={"s.toml": text}, dirs=("sub",))
        )
    return cases


# --- traces --------------------------------------------------------------------------

BAD_COUNTS: dict[str, FileSpec] = {
    "empty": "",
    "header-only": "timestamp,count\n",
    "no-time-column": "when,count\n2026-01-05T00:00:00Z,4\n",
    "unsorted": "timestamp,count\n2026-01-05T00:02:00Z,3\n2026-01-05T00:01:00Z,4\n",
    "negative-timestamps": "timestamp,count\n-120,3\n-60,4\n",
    "epoch-ms": "timestamp,count\n1767571200000,3\n1767571260000,4\n",
    "epoch-1e15": "timestamp,count\n1000000000000000,3\n1000000000000060,4\n",
    "year-9999": "timestamp,count\n9999-12-31T23:58:00Z,3\n9999-12-31T23:59:00Z,4\n",
    "year-1900": "timestamp,count\n1900-01-01T00:00:00Z,3\n1900-01-01T00:01:00Z,4\n",
    "count-inf": "timestamp,count\n2026-01-05T00:00:00Z,inf\n2026-01-05T00:01:00Z,4\n",
    "count-nan": "timestamp,count\n2026-01-05T00:00:00Z,nan\n2026-01-05T00:01:00Z,4\n",
    "count-1e300": "timestamp,count\n2026-01-05T00:00:00Z,1e300\n2026-01-05T00:01:00Z,4\n",
    "count-1e12": "timestamp,count\n2026-01-05T00:00:00Z,1000000000000\n2026-01-05T00:01:00Z,4\n",
    "count-negative": "timestamp,count\n2026-01-05T00:00:00Z,-3\n2026-01-05T00:01:00Z,4\n",
    "count-text": "timestamp,count\n2026-01-05T00:00:00Z,lots\n2026-01-05T00:01:00Z,4\n",
    "count-fraction": "timestamp,count\n2026-01-05T00:00:00Z,2.5\n2026-01-05T00:01:00Z,4\n",
    "duplicate-timestamp": "timestamp,count\n2026-01-05T00:00:00Z,3\n2026-01-05T00:00:00Z,4\n",
    "timestamp-garbage": "timestamp,count\nyesterday,3\ntoday,4\n",
    "span-100-years": "timestamp,count\n2000-01-01T00:00:00Z,3\n2099-01-01T00:00:00Z,4\n",
    "binary": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "ragged": "timestamp,count\n2026-01-05T00:00:00Z,3,9,9\n2026-01-05T00:01:00Z\n",
    "steps-1e-9-s": "timestamp,count\n0,3\n1e-9,4\n2e-9,4\n",
}

BAD_REQUESTS: dict[str, FileSpec] = {
    "requests-unsorted": "timestamp\n2026-01-05T00:00:02Z\n2026-01-05T00:00:01Z\n",
    "requests-nan": "timestamp\nnan\n2026-01-05T00:00:01Z\n",
    "requests-negative-epoch": "timestamp\n-5\n-4\n",
}

#: Files that are no trace at all, by name: garbage, truncated or compressed, of each suffix.
UNREADABLE_FILES: dict[str, FileSpec] = {
    "garbage.parquet": bytes(range(256)) * 4,
    "garbage.csv": bytes(range(256)) * 4,
    "garbage.json": bytes(range(256)) * 4,
    "garbage.bin": bytes(range(256)) * 4,
    "empty.parquet": b"",
    "empty.json": b"",
    "head-only.parquet": b"PAR1\x15\x04\x15\x80\x01",
    "gzipped.csv.gz": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
    "workbook.xlsx": b"PK\x03\x04\x14\x00\x06\x00",
}

BAD_CLOUDWATCH: dict[str, FileSpec] = {
    "cw-timestamps-5": json.dumps(
        {
            "MetricDataResults": [
                {"Id": "m1", "Label": "ProcessedImageCount", "Timestamps": 5, "Values": [1.0]}
            ]
        }
    ),
    "cw-values-string": json.dumps(
        {
            "MetricDataResults": [
                {
                    "Id": "m1",
                    "Label": "ProcessedImageCount",
                    "Timestamps": ["2026-01-05T00:00:00+00:00"],
                    "Values": "many",
                }
            ]
        }
    ),
    "cw-length-mismatch": json.dumps(
        {
            "MetricDataResults": [
                {
                    "Id": "m1",
                    "Label": "ProcessedImageCount",
                    "Timestamps": ["2026-01-05T00:00:00+00:00", "2026-01-05T00:01:00+00:00"],
                    "Values": [1.0],
                }
            ]
        }
    ),
    "cw-epoch-ms": json.dumps(
        {
            "MetricDataResults": [
                {
                    "Id": "m1",
                    "Label": "ProcessedImageCount",
                    "Timestamps": [1767571260000, 1767571200000],
                    "Values": [3.0, 4.0],
                    "StatusCode": "Complete",
                }
            ]
        }
    ),
    "cw-partial-data": json.dumps(
        {
            "MetricDataResults": [
                {
                    "Id": "m1",
                    "Label": "ProcessedImageCount",
                    "Timestamps": ["2026-01-05T00:01:00+00:00", "2026-01-05T00:00:00+00:00"],
                    "Values": [3.0, 4.0],
                    "StatusCode": "PartialData",
                }
            ],
            "NextToken": "abc",
        }
    ),
    "cw-value-inf": json.dumps(
        {
            "MetricDataResults": [
                {
                    "Id": "m1",
                    "Label": "ProcessedImageCount",
                    "Timestamps": ["2026-01-05T00:01:00+00:00", "2026-01-05T00:00:00+00:00"],
                    "Values": [3.0, 1e400],
                }
            ]
        }
    ).replace("Infinity", "1e400"),
    "cw-value-negative": json.dumps(
        {
            "MetricDataResults": [
                {
                    "Id": "m1",
                    "Label": "ProcessedImageCount",
                    "Timestamps": ["2026-01-05T00:01:00+00:00", "2026-01-05T00:00:00+00:00"],
                    "Values": [3.0, -4.0],
                }
            ]
        }
    ),
    "cw-not-json": "{ this is not json",
    # Files that are no JSON text at all: named for what they are.
    "cw-empty-file": b"",
    "cw-gzipped": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
    "cw-parquet": b"PAR1\x15\x04\x15\x80\x01",
    "cw-binary": bytes(range(256)) * 4,
    "cw-root-list": "[1, 2, 3]",
    "cw-empty-object": "{}",
    "cw-results-not-list": json.dumps({"MetricDataResults": {"Id": "m1"}}),
    "cw-no-results": json.dumps({"MetricDataResults": []}),
    "cw-timestamp-garbage": json.dumps(
        {
            "MetricDataResults": [
                {
                    "Id": "m1",
                    "Label": "ProcessedImageCount",
                    "Timestamps": ["soon"],
                    "Values": [3.0],
                }
            ]
        }
    ),
    "cw-year-9999": json.dumps(
        {
            "MetricDataResults": [
                {
                    "Id": "m1",
                    "Label": "ProcessedImageCount",
                    "Timestamps": ["9999-12-31T23:59:00+00:00", "9999-12-31T23:58:00+00:00"],
                    "Values": [3.0, 4.0],
                }
            ]
        }
    ),
}


def _bad_traces() -> list[Case]:
    cases = []
    for label, content in BAD_COUNTS.items():
        files = {"s.toml": GOOD, "t.csv": content}
        cases.append(case(f"run-trace-{label}", "run", "s.toml", "--trace", "t.csv", files=files))
        cases.append(case(f"inspect-{label}", "trace", "inspect", "t.csv", files=files))
    for label in ("unsorted", "count-inf", "epoch-ms", "empty", "year-9999"):
        files = {"s.toml": GOOD, "t.csv": BAD_COUNTS[label]}
        cases.append(
            case(f"convert-{label}", "trace", "convert", "t.csv", "-o", "o.csv", files=files)
        )
        cases.append(
            case(
                f"sweep-trace-{label}",
                "sweep",
                "s.toml",
                "--trace",
                "t.csv",
                "--max",
                "1..2",
                "--replications",
                "2",
                "--workers",
                "1",
                files=files,
            )
        )
    for label in ("count-nan", "negative-timestamps"):
        files = {"s.toml": GOOD, "t.csv": BAD_COUNTS[label]}
        cases.append(
            case(
                f"compare-trace-{label}",
                "compare",
                "s.toml",
                "--mode",
                "always-on",
                "--trace",
                "t.csv",
                files=files,
            )
        )
        cases.append(
            case(
                f"report-trace-{label}",
                "report",
                "s.toml",
                "--trace",
                "t.csv",
                "-o",
                "r.md",
                files=files,
            )
        )
        cases.append(
            case(
                f"compare-arrivals-trace-{label}",
                "trace",
                "compare-arrivals",
                "s.toml",
                "--trace",
                "t.csv",
                files=files,
            )
        )
    for label, content in BAD_REQUESTS.items():
        cases.append(
            case(f"inspect-{label}", "trace", "inspect", "r.csv", files={"r.csv": content})
        )
    for name, content in UNREADABLE_FILES.items():
        label = name.replace(".", "-")
        files = {"s.toml": GOOD, name: content}
        cases.append(case(f"inspect-unreadable-{label}", "trace", "inspect", name, files=files))
        cases.append(
            case(f"run-trace-unreadable-{label}", "run", "s.toml", "--trace", name, files=files)
        )
    for label, content in BAD_CLOUDWATCH.items():
        files = {"e.json": content, "s.toml": GOOD}
        cases.append(
            case(
                f"import-{label}",
                "trace",
                "import-cloudwatch",
                "e.json",
                "-o",
                "o.csv",
                files=files,
            )
        )
        cases.append(case(f"run-trace-{label}", "run", "s.toml", "--trace", "e.json", files=files))
    # A missing middle page: three pages of which the second is gone.
    cases.append(
        case(
            "import-cw-pages-not-adjacent",
            "trace",
            "import-cloudwatch",
            "e1.json",
            "e3.json",
            "-o",
            "o.csv",
            files={
                "e1.json": DATA / "cw-ok.json",
                "e3.json": json.dumps(
                    {
                        "MetricDataResults": [
                            {
                                "Id": "m1",
                                "Label": "ProcessedImageCount",
                                "Timestamps": ["2026-01-05T05:00:00+00:00"],
                                "Values": [3.0],
                            }
                        ]
                    }
                ),
            },
        )
    )
    cases.append(
        case(
            "import-cw-metric-unknown",
            "trace",
            "import-cloudwatch",
            "e.json",
            "--metric",
            "NoSuchMetric",
            "-o",
            "o.csv",
            files={"e.json": DATA / "cw-ok.json"},
        )
    )
    cases.append(
        case(
            "import-cw-period-zero",
            "trace",
            "import-cloudwatch",
            "e.json",
            "--period-s",
            "0",
            "-o",
            "o.csv",
            files={"e.json": DATA / "cw-ok.json"},
        )
    )
    cases.append(
        case(
            "import-cw-output-txt",
            "trace",
            "import-cloudwatch",
            "e.json",
            "-o",
            "o.txt",
            files={"e.json": DATA / "cw-ok.json"},
        )
    )
    cases.append(
        case(
            "import-cw-namespace-unknown",
            "trace",
            "import-cloudwatch",
            "e.json",
            "--namespace",
            "AWS/EC2",
            "-o",
            "o.csv",
            files={"e.json": DATA / "cw-ok.json"},
        )
    )
    return cases


# --- describe-model ------------------------------------------------------------------


def _describe(**changes: object) -> str:
    body = {
        "ModelVersion": "3",
        "ModelArn": "arn:aws:lookoutvision:eu-west-1:123456789012:model/circuit-boards/3",
        "Status": "TRAINED",
        "StatusMessage": "Training completed successfully.",
        "MinInferenceUnits": 2,
        "MaxInferenceUnits": 5,
    }
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return json.dumps({"ModelDescription": body})


BAD_DESCRIBE: dict[str, FileSpec] = {
    "min-gt-max": _describe(MinInferenceUnits=6),
    "min-1e20": _describe(MinInferenceUnits=10**20, MaxInferenceUnits=None),
    "min-zero": _describe(MinInferenceUnits=0),
    "min-string": _describe(MinInferenceUnits="two"),
    "arn-garbage": _describe(ModelArn="not-an-arn"),
    "no-description": json.dumps({"Something": {}}),
    "not-json": "ModelDescription: yes",
    "root-list": "[]",
}


def _bad_describe() -> list[Case]:
    cases = []
    for label, content in BAD_DESCRIBE.items():
        files = {"d.json": content, "s.toml": GOOD}
        cases.append(case(f"seed-describe-{label}", "seed", "d.json", files=files))
        cases.append(
            case(
                f"run-describe-{label}", "run", "s.toml", "--describe-model", "d.json", files=files
            )
        )
    for label in ("not-json", "min-gt-max"):
        files = {"d.json": BAD_DESCRIBE[label], "s.toml": GOOD}
        cases.append(
            case(
                f"start-model-input-describe-{label}",
                "start-model-input",
                "s.toml",
                "--describe-model",
                "d.json",
                files=files,
            )
        )
    return cases


# --- options -------------------------------------------------------------------------

S = {"s.toml": GOOD}
SWEEP = ("--workers", "1")


def _bad_options() -> list[Case]:
    c = []
    # run
    c += [
        case("run-min-units-zero", "run", "s.toml", "--min-units", "0", files=S),
        case(
            "run-min-gt-max-units", "run", "s.toml", "--min-units", "3", "--max-units", "2", files=S
        ),
        case("run-min-units-text", "run", "s.toml", "--min-units", "many", files=S),
        case("run-seed-negative", "run", "s.toml", "--seed", "-1", files=S),
        case("run-replications-one", "run", "s.toml", "--replications", "1", files=S),
        case("run-replications-1e9", "run", "s.toml", "--replications", "1000000000", files=S),
        case(
            "run-fill-gaps-bogus",
            "run",
            "s.toml",
            "--trace",
            "t.csv",
            "--fill-gaps",
            "guess",
            files={**S, "t.csv": DATA / "counts.csv"},
        ),
        case("run-unknown-option", "run", "s.toml", "--turbo", files=S),
        case("run-show-config-json", "run", "s.toml", "--show-config", "--json", files=S),
        case("run-show-config-out", "run", "s.toml", "--show-config", "--out", "o", files=S),
        case(
            "run-show-config-replications",
            "run",
            "s.toml",
            "--show-config",
            "--replications",
            "3",
            files=S,
        ),
        case(
            "run-show-config-cloudwatch-json",
            "run",
            "s.toml",
            "--show-config",
            "--cloudwatch-json",
            "o.json",
            files=S,
        ),
        case("run-no-scenario", "run"),
        case("run-missing-scenario", "run", "nope.toml"),
        case("run-scenario-is-folder", "run", "sub", dirs=("sub",)),
        case("run-trace-missing", "run", "s.toml", "--trace", "nope.csv", files=S),
        case("run-trace-is-folder", "run", "s.toml", "--trace", "sub", files=S, dirs=("sub",)),
        case("run-describe-missing", "run", "s.toml", "--describe-model", "nope.json", files=S),
        case(
            "run-trace-unknown-extension",
            "run",
            "s.toml",
            "--trace",
            "t.xlsx",
            files={**S, "t.xlsx": "timestamp,count\n"},
        ),
    ]
    # sweep / recommend
    sweep_bad = {
        "max-1e12": ("--max", "1..1000000000000"),
        "grid-2.5m": ("--min", "1..1000", "--max", "1..1000"),
        "replications-1e9": ("--replications", "1000000000"),
        "replications-zero": ("--replications", "0"),
        "max-backwards": ("--max", "5..2"),
        "max-garbage": ("--max", "one..two"),
        "max-empty": ("--max", ""),
        "min-above-max": ("--min", "5", "--max", "1..2"),
        "min-zero": ("--min", "0", "--max", "1..2"),
        "vary-unknown-key": ("--vary", "autoscaler.warp=1,2"),
        "vary-no-equals": ("--vary", "autoscaler.provisioning_delay_s"),
        "vary-bad-value": ("--vary", "autoscaler.provisioning_delay_s=soon,later"),
        "vary-inf": ("--vary", "traffic.rate_tps=inf"),
        "workers-zero": ("--workers", "0"),
        "workers-negative": ("--workers", "-3"),
        "output-txt": ("-o", "out.txt"),
        "dask-timeout-zero": ("--dask-timeout-s", "0"),
        "fill-gaps-bogus": ("--fill-gaps", "guess"),
        "minute-percentile-100": ("--minute-percentile", "100"),
        "minute-percentile-nan": ("--minute-percentile", "nan"),
        "worst-hour-without-throttle": ("--max-worst-hour-rate", "0.05"),
        "minute-rate-above-1": ("--max-throttle-rate", "0.01", "--max-minute-rate", "1.5"),
    }
    for label, opts in sweep_bad.items():
        extra = () if "workers" in label else SWEEP
        c.append(case(f"sweep-{label}", "sweep", "s.toml", *extra, *opts, files=S))
    rec = {
        "throttle-negative": ("--max-throttle-rate", "-0.1"),
        "throttle-nan": ("--max-throttle-rate", "nan"),
        "throttle-inf": ("--max-throttle-rate", "inf"),
        "throttle-missing": (),
        "confidence-1.5": ("--max-throttle-rate", "0.01", "--confidence", "1.5"),
        "confidence-zero": ("--max-throttle-rate", "0.01", "--confidence", "0"),
        "p99-negative": ("--max-throttle-rate", "0.01", "--max-p99-latency-s", "-1"),
        "replications-one": ("--max-throttle-rate", "0.01", "--replications", "1"),
        "max-1e12": ("--max-throttle-rate", "0.01", "--max", "1..1000000000000"),
        "minute-percentile-zero": ("--max-throttle-rate", "0.01", "--minute-percentile", "0"),
        "minute-percentile-negative": ("--max-throttle-rate", "0.01", "--minute-percentile", "-5"),
        "growth-overflows": ("--max-throttle-rate", "0.01", "--growth", "1e6", "--months", "1e6"),
        "months-nan": ("--max-throttle-rate", "0.01", "--growth", "10", "--months", "nan"),
        "months-inf": ("--max-throttle-rate", "0.01", "--growth", "10", "--months", "inf"),
        "busier-day-inf": ("--max-throttle-rate", "0.01", "--busier-day", "inf"),
        "months-without-growth": ("--max-throttle-rate", "0.01", "--months", "12"),
        # Given ranges, the command's own check must cost the grown traffic.
        "busier-day-1e6-with-ranges": (
            "--max-throttle-rate",
            "0.01",
            "--min",
            "1",
            "--max",
            "1..3",
            "--busier-day",
            "1e6",
        ),
    }
    for label, opts in rec.items():
        c.append(case(f"recommend-{label}", "recommend", "s.toml", *SWEEP, *opts, files=S))
    # compare
    c += [
        case("compare-mode-unknown", "compare", "s.toml", "--mode", "turbo", files=S),
        case("compare-mode-missing", "compare", "s.toml", files=S),
        case("compare-always-on-zero", "compare", "s.toml", "--mode", "always-on:0", files=S),
        case("compare-always-on-text", "compare", "s.toml", "--mode", "always-on:x", files=S),
        case(
            "compare-schedule-without-hosting",
            "compare",
            "s.toml",
            "--mode",
            "schedule:w.toml",
            files={**S, "w.toml": '[model]\nproject = "p"\n'},
        ),
    ]
    # start-model-input
    c += [
        case(
            "smi-start-date-bad",
            "start-model-input",
            "s.toml",
            "--start-date",
            "2026-13-45",
            files=S,
        ),
        case(
            "smi-token-suffix-bad",
            "start-model-input",
            "s.toml",
            "--token-suffix",
            "no spaces allowed!",
            files=S,
        ),
        case(
            "smi-token-suffix-long",
            "start-model-input",
            "s.toml",
            "--token-suffix",
            "x" * 40,
            files=S,
        ),
        case("smi-format-bad", "start-model-input", "s.toml", "--format", "yaml", files=S),
        case(
            "smi-min-gt-max",
            "start-model-input",
            "s.toml",
            "--min-units",
            "4",
            "--max-units",
            "2",
            files=S,
        ),
        case("smi-missing-scenario", "start-model-input", "nope.toml"),
        case(
            "smi-scenario-min-gt-max",
            "start-model-input",
            "s.toml",
            files={"s.toml": scenario_toml(model={"min_units": 3})},
        ),
    ]
    # seed
    c += [
        case("seed-missing-file", "seed", "nope.json"),
        case("seed-folder", "seed", "sub", dirs=("sub",)),
        case(
            "seed-service-bad",
            "seed",
            "d.json",
            "--service",
            "sagemaker",
            files={"d.json": DATA / "describe-ok.json"},
        ),
        case(
            "seed-price-negative",
            "seed",
            "d.json",
            "--price-per-unit-hour",
            "-4",
            files={"d.json": DATA / "describe-ok.json"},
        ),
        case(
            "seed-price-inf",
            "seed",
            "d.json",
            "--price-per-unit-hour",
            "inf",
            files={"d.json": DATA / "describe-ok.json"},
        ),
        case(
            "seed-traffic-missing",
            "seed",
            "d.json",
            "--traffic",
            "nope.csv",
            files={"d.json": DATA / "describe-ok.json"},
        ),
        case(
            "seed-traffic-unsorted",
            "seed",
            "d.json",
            "--traffic",
            "t.csv",
            files={"d.json": DATA / "describe-ok.json", "t.csv": BAD_COUNTS["unsorted"]},
        ),
        case(
            "seed-output-onto-foreign-file",
            "seed",
            "d.json",
            "-o",
            "mine.toml",
            files={"d.json": DATA / "describe-ok.json", "mine.toml": "# my own notes\n"},
        ),
        case(
            "seed-output-onto-its-input",
            "seed",
            "d.json",
            "-o",
            "d.json",
            files={"d.json": DATA / "describe-ok.json"},
        ),
    ]
    # trace synth
    synth_bad = {
        "kind-unknown": ("tsunami",),
        "duration-inf": ("constant", "--rate-tps", "1", "--duration-h", "inf"),
        "duration-nan": ("constant", "--rate-tps", "1", "--duration-h", "nan"),
        "duration-negative": ("constant", "--rate-tps", "1", "--duration-h", "-1"),
        "duration-1e300": ("constant", "--rate-tps", "1", "--duration-h", "1e300"),
        "duration-100-years": ("constant", "--rate-tps", "1", "--duration-h", "876000"),
        "rate-negative": ("constant", "--rate-tps", "-1"),
        "rate-inf": ("constant", "--rate-tps", "inf"),
        "rate-1e9": ("constant", "--rate-tps", "1e9"),
        "scale-1e12": ("constant", "--rate-tps", "1", "--scale", "1e12"),
        "spikes-1e9": ("diurnal", "--mean-tps", "1", "--spikes-per-day", "1e9"),
        "bin-1e-6": ("constant", "--rate-tps", "1", "--bin-s", "1e-6"),
        "bin-zero": ("constant", "--rate-tps", "1", "--bin-s", "0"),
        "pages-zero": ("constant", "--rate-tps", "1", "--pages", "0"),
        "start-garbage": ("constant", "--rate-tps", "1", "--start", "someday"),
        "start-year-9999": ("constant", "--rate-tps", "1", "--start", "9999-12-31T00:00Z"),
        "timezone-bad": ("factory", "--peak-tps", "1", "--timezone", "Mars/Olympus"),
        "shifts-bad": ("factory", "--peak-tps", "1", "--weekday-shifts", "25:00-26:00"),
        "holidays-bad": ("factory", "--peak-tps", "1", "--holidays", "2026-02-30"),
        "arrivals-bad": ("constant", "--rate-tps", "1", "--requests", "--arrivals", "psychic"),
        "on-fraction-2": (
            "constant",
            "--rate-tps",
            "1",
            "--requests",
            "--arrivals",
            "onoff",
            "--on-fraction",
            "2",
        ),
        "growth-1e300": ("constant", "--rate-tps", "1", "--growth-percent-per-month", "1e300"),
        "noise-negative": ("constant", "--rate-tps", "1", "--noise-cv", "-1"),
        "option-of-other-kind": ("constant", "--rate-tps", "1", "--peak-tps", "3"),
    }
    for label, args in synth_bad.items():
        c.append(case(f"synth-{label}", "trace", "synth", *args, "-o", "o.csv"))
    c += [
        case("synth-output-txt", "trace", "synth", "constant", "--rate-tps", "1", "-o", "o.txt"),
        case(
            "synth-output-onto-foreign-file",
            "trace",
            "synth",
            "constant",
            "--rate-tps",
            "1",
            "-o",
            "mine.csv",
            files={"mine.csv": "timestamp,count\nmy,data\n"},
        ),
        case(
            "synth-output-in-missing-folder",
            "trace",
            "synth",
            "constant",
            "--rate-tps",
            "1",
            "-o",
            "no/such/folder/o.csv",
        ),
        case(
            "synth-output-is-folder",
            "trace",
            "synth",
            "constant",
            "--rate-tps",
            "1",
            "-o",
            "sub",
            dirs=("sub",),
        ),
    ]
    # trace convert / inspect / compare-arrivals
    T = {"t.csv": DATA / "counts.csv", "s.toml": GOOD}
    c += [
        case(
            "convert-bin-1e-6",
            "trace",
            "convert",
            "t.csv",
            "--bin-s",
            "1e-6",
            "-o",
            "o.csv",
            files=T,
        ),
        case(
            "convert-bin-nan", "trace", "convert", "t.csv", "--bin-s", "nan", "-o", "o.csv", files=T
        ),
        case(
            "convert-bin-negative",
            "trace",
            "convert",
            "t.csv",
            "--bin-s",
            "-60",
            "-o",
            "o.csv",
            files=T,
        ),
        case("convert-onto-its-input", "trace", "convert", "t.csv", "-o", "t.csv", files=T),
        case(
            "convert-onto-foreign-file",
            "trace",
            "convert",
            "t.csv",
            "-o",
            "mine.csv",
            files={**T, "mine.csv": "precious\n"},
        ),
        case("convert-output-txt", "trace", "convert", "t.csv", "-o", "o.txt", files=T),
        case("convert-missing-input", "trace", "convert", "nope.csv", "-o", "o.csv"),
        case(
            "convert-unsorted-bogus",
            "trace",
            "convert",
            "t.csv",
            "--unsorted",
            "shuffle",
            "-o",
            "o.csv",
            files=T,
        ),
        case(
            "convert-duplicates-bogus",
            "trace",
            "convert",
            "t.csv",
            "--duplicates",
            "max",
            "-o",
            "o.csv",
            files=T,
        ),
        case(
            "convert-timezone-bogus",
            "trace",
            "convert",
            "t.csv",
            "--timezone",
            "Nowhere/X",
            "-o",
            "o.csv",
            files=T,
        ),
        case("inspect-missing", "trace", "inspect", "nope.csv"),
        case("inspect-folder", "trace", "inspect", "sub", dirs=("sub",)),
        case("inspect-width-small", "trace", "inspect", "t.csv", "--width", "2", files=T),
        case(
            "inspect-plot-onto-foreign-file",
            "trace",
            "inspect",
            "t.csv",
            "--plot",
            "mine.png",
            files={**T, "mine.png": b"\x89PNG not really"},
        ),
        case(
            "inspect-scenario-bad",
            "trace",
            "inspect",
            "s.toml",
            files={"s.toml": scenario_toml(traffic={"rate_tps": raw("inf")})},
        ),
        case(
            "compare-arrivals-on-fraction-2",
            "trace",
            "compare-arrivals",
            "s.toml",
            "--on-fraction",
            "2",
            files=T,
        ),
        case(
            "compare-arrivals-batch-size-zero",
            "trace",
            "compare-arrivals",
            "s.toml",
            "--batch-mean-size",
            "0",
            files=T,
        ),
        case(
            "compare-arrivals-spread-nan",
            "trace",
            "compare-arrivals",
            "s.toml",
            "--batch-spread-s",
            "nan",
            files=T,
        ),
        case("compare-arrivals-scenario-missing", "trace", "compare-arrivals", "nope.toml"),
    ]
    for option in ("--batch-mean-size", "--batch-spread-s", "--on-mean-s"):
        name = f"compare-arrivals-{option.lstrip('-')}-inf"
        c.append(case(name, "trace", "compare-arrivals", "s.toml", option, "inf", files=T))
    return c


# --- outputs and damaged inputs of plot and report -----------------------------------

RUN = "run"  # the prepared run folder in the fixtures
SWEEP_CSV = "sweep.csv"  # the prepared sweep table in the fixtures


def _run_folder(**damage: FileSpec | None) -> dict[str, FileSpec]:
    """A copy of the prepared run folder as ``r/``, with files replaced or (None) removed."""
    names = ("summary.json", "timeline.csv", "units.csv", "events.csv", "scenario.toml")
    files: dict[str, FileSpec] = {f"r/{n}": FIXTURE / RUN / n for n in names}
    for name, content in damage.items():
        key = f"r/{name.replace('__', '.')}"
        if content is None:
            files.pop(key, None)
        else:
            files[key] = content
    return files


def _outputs() -> list[Case]:
    c = []
    damaged = {
        "summary-missing": {"summary__json": None},
        "summary-garbage": {"summary__json": "{ not json"},
        "summary-list": {"summary__json": "[]"},
        "timeline-missing": {"timeline__csv": None},
        "timeline-garbage": {"timeline__csv": b"\x00\x01 not a table"},
        "timeline-wrong-columns": {"timeline__csv": "a,b\n1,2\n"},
        "units-garbage": {"units__csv": "nope\n"},
        "scenario-garbage": {"scenario__toml": "[model\n"},
    }
    for label, damage in damaged.items():
        files = _run_folder(**damage)
        c.append(case(f"plot-run-{label}", "plot", "timeline", "r", "-o", "p.png", files=files))
        c.append(case(f"report-run-{label}", "report", "r", "-o", "r.md", files=files))
    c.append(
        case(
            "plot-daily-cost-summary-garbage",
            "plot",
            "daily-cost",
            "r",
            "-o",
            "p.png",
            files=_run_folder(summary__json="{}"),
        )
    )
    sweeps: dict[str, FileSpec] = {
        "empty": "",
        "header-only": "min_units,max_units\n",
        "garbage": "a,b,c\n1,2,3\n",
        "binary": b"\x00\x01\x02\x03",
        "parquet-garbage": b"PAR1 not parquet PAR1",
    }
    for label, content in sweeps.items():
        name = "s.parquet" if "parquet" in label else "s.csv"
        files = {name: content, "sc.toml": GOOD}
        c.append(case(f"plot-sweep-{label}", "plot", "frontier", name, "-o", "p.png", files=files))
        c.append(
            case(
                f"report-sweep-{label}",
                "report",
                "sc.toml",
                "--sweep",
                name,
                "-o",
                "r.md",
                files=files,
            )
        )
    c.append(
        case(
            "plot-heatmap-sweep-garbage",
            "plot",
            "heatmap-cost",
            "s.csv",
            "-o",
            "p.png",
            files={"s.csv": sweeps["garbage"]},
        )
    )
    R = _run_folder()
    c += [
        case("plot-kind-unknown", "plot", "pie", "r", "-o", "p.png", files=R),
        case("plot-output-txt", "plot", "timeline", "r", "-o", "p.txt", files=R),
        case("plot-missing-input", "plot", "timeline", "nope", "-o", "p.png"),
        case("plot-output-in-missing-folder", "plot", "timeline", "r", "-o", "no/p.png", files=R),
        case(
            "plot-run-kind-on-sweep",
            "plot",
            "timeline",
            "s.csv",
            "-o",
            "p.png",
            files={"s.csv": FIXTURE / SWEEP_CSV},
        ),
        case("plot-sweep-kind-on-run", "plot", "frontier", "r", "-o", "p.png", files=R),
        case(
            "plot-onto-foreign-file",
            "plot",
            "timeline",
            "r",
            "-o",
            "mine.png",
            files={**R, "mine.png": b"my holiday photo"},
        ),
        case(
            "plot-throttle-nan",
            "plot",
            "frontier",
            "s.csv",
            "-o",
            "p.png",
            "--max-throttle-rate",
            "nan",
            files={"s.csv": FIXTURE / SWEEP_CSV},
        ),
        case(
            "plot-minute-percentile-150",
            "plot",
            "frontier",
            "s.csv",
            "-o",
            "p.png",
            "--minute-percentile",
            "150",
            files={"s.csv": FIXTURE / SWEEP_CSV},
        ),
        case(
            "plot-trace-without-scenario",
            "plot",
            "frontier",
            "s.csv",
            "-o",
            "p.png",
            "--trace",
            "s.csv",
            files={"s.csv": FIXTURE / SWEEP_CSV},
        ),
        case(
            "plot-confidence-2",
            "plot",
            "frontier",
            "s.csv",
            "-o",
            "p.png",
            "--confidence",
            "2",
            files={"s.csv": FIXTURE / SWEEP_CSV},
        ),
        case("report-format-bad", "report", "s.toml", "-o", "r.md", "--format", "pdf", files=S),
        case("report-output-txt", "report", "s.toml", "-o", "r.txt", files=S),
        case(
            "report-onto-foreign-file",
            "report",
            "s.toml",
            "-o",
            "mine.md",
            files={**S, "mine.md": "# my notes\n"},
        ),
        case("report-onto-scenario", "report", "s.toml", "-o", "s.toml", "--format", "md", files=S),
        case("report-missing-scenario", "report", "nope.toml", "-o", "r.md"),
        case("report-output-in-missing-folder", "report", "s.toml", "-o", "no/r.html", files=S),
        case(
            "report-sweep-missing", "report", "s.toml", "--sweep", "nope.csv", "-o", "r.md", files=S
        ),
        case(
            "report-confidence-nan",
            "report",
            "s.toml",
            "-o",
            "r.md",
            "--confidence",
            "nan",
            files=S,
        ),
        case(
            "report-year-9999-trace",
            "report",
            "s.toml",
            "--trace",
            "t.csv",
            "-o",
            "r.md",
            files={**S, "t.csv": BAD_COUNTS["year-9999"]},
        ),
        case(
            "sweep-output-onto-foreign-csv",
            "sweep",
            "s.toml",
            *SWEEP,
            "--max",
            "1",
            "--replications",
            "2",
            "-o",
            "mine.csv",
            files={**S, "mine.csv": "name,amount\nrent,900\n"},
        ),
        case(
            "sweep-output-onto-scenario",
            "sweep",
            "s.toml",
            *SWEEP,
            "--max",
            "1",
            "--replications",
            "2",
            "-o",
            "s.toml",
            files=S,
        ),
        case(
            "sweep-resume-other-scenario",
            "sweep",
            "s.toml",
            *SWEEP,
            "--max",
            "1",
            "--replications",
            "2",
            "-o",
            "s.csv",
            files={
                "s.toml": scenario_toml(traffic={"rate_tps": 3.0}),
                "s.csv": FIXTURE / SWEEP_CSV,
            },
        ),
        case(
            "run-out-onto-foreign-folder",
            "run",
            "s.toml",
            "--out",
            "mine",
            files={**S, "mine/notes.txt": "my notes\n", "mine/replications.csv": "a,b\n"},
        ),
        case(
            "run-out-onto-file",
            "run",
            "s.toml",
            "--out",
            "mine.txt",
            files={**S, "mine.txt": "precious\n"},
        ),
        case("run-out-onto-scenario", "run", "s.toml", "--out", "s.toml", files=S),
        case(
            "run-replications-out-onto-foreign-folder",
            "run",
            "s.toml",
            "--replications",
            "2",
            "--out",
            "mine",
            files={**S, "mine/replications.csv": "mine\n"},
        ),
    ]
    return c


def _busy_history(per_minute: int) -> str:
    """A CloudWatch export of one hour with ``per_minute`` requests each minute, 1 unit."""
    stamps = [f"2026-01-05T00:{m:02d}:00+00:00" for m in range(60)]
    metrics = {
        "SuccessfulRequestCount": per_minute,
        "ThrottledCount": 0,
        "InServiceInferenceUnits": 1,
    }
    results = [
        {"Id": f"m{i}", "Label": label, "Timestamps": stamps, "Values": [value] * 60}
        for i, (label, value) in enumerate(metrics.items())
    ]
    return json.dumps({"MetricDataResults": results, "Messages": []})


def _history() -> list[Case]:
    """backtest, calibrate and run --cloudwatch-json: CloudWatch history in and out."""
    H = {"s.toml": GOOD, "e.json": DATA / "cw-ok.json"}
    c = []
    for label in (
        "cw-timestamps-5",
        "cw-not-json",
        "cw-partial-data",
        "cw-epoch-ms",
        "cw-empty-object",
        "cw-empty-file",
        "cw-gzipped",
    ):
        files = {"s.toml": GOOD, "e.json": BAD_CLOUDWATCH[label]}
        c.append(
            case(f"backtest-{label}", "backtest", "s.toml", "--cloudwatch", "e.json", files=files)
        )
        c.append(
            case(
                f"calibrate-{label}",
                "calibrate",
                "s.toml",
                "--cloudwatch",
                "e.json",
                "-o",
                "c.toml",
                files=files,
            )
        )
    for label in ("cw-not-json", "cw-partial-data", "cw-empty-object"):
        files = {"s.toml": GOOD, "e.json": BAD_CLOUDWATCH[label]}
        c.append(
            case(
                f"report-{label}",
                "report",
                "s.toml",
                "--cloudwatch",
                "e.json",
                "-o",
                "r.html",
                files=files,
            )
        )
    c += [
        case(
            "report-missing-export",
            "report",
            "s.toml",
            "--cloudwatch",
            "nope.json",
            "-o",
            "r.md",
            files=S,
        ),
        case("backtest-missing-export", "backtest", "s.toml", "--cloudwatch", "nope.json", files=S),
        case(
            "backtest-no-replication",
            "backtest",
            "s.toml",
            "--cloudwatch",
            "e.json",
            "--replications",
            "0",
            files=H,
        ),
        case(
            "backtest-glob-matches-nothing",
            "backtest",
            "s.toml",
            "--cloudwatch",
            "none-*.json",
            files=S,
        ),
        case(
            "backtest-scenario-bad",
            "backtest",
            "s.toml",
            "--cloudwatch",
            "e.json",
            files={**H, "s.toml": scenario_toml(model={"min_units": 3})},
        ),
        case(
            "backtest-plot-onto-foreign-file",
            "backtest",
            "s.toml",
            "--cloudwatch",
            "e.json",
            "--plot",
            "mine.png",
            files={**H, "mine.png": b"my photo"},
        ),
        case(
            "calibrate-onto-foreign-file",
            "calibrate",
            "s.toml",
            "--cloudwatch",
            "e.json",
            "-o",
            "mine.toml",
            files={**H, "mine.toml": "# mine\n"},
        ),
        case(
            "backtest-replications-1e9",
            "backtest",
            "s.toml",
            "--cloudwatch",
            "h.json",
            "--replications",
            "1000000000",
            files={"s.toml": GOOD, "h.json": DATA / "cw-history.json"},
        ),
        case(
            "calibrate-onto-its-export-with-force",
            "calibrate",
            "s.toml",
            "--cloudwatch",
            "h.json",
            "-o",
            "h.json",
            "--force",
            files={"s.toml": GOOD, "h.json": DATA / "cw-history.json"},
        ),
        case(
            "calibrate-onto-its-export-by-glob",
            "calibrate",
            "s.toml",
            "--cloudwatch",
            "h*.json",
            "-o",
            "h.json",
            "--force",
            files={"s.toml": GOOD, "h.json": DATA / "cw-history.json"},
        ),
        case(
            "calibrate-onto-its-scenario",
            "calibrate",
            "s.toml",
            "--cloudwatch",
            "e.json",
            "-o",
            "s.toml",
            files=H,
        ),
        # 18 million requests in an hour: the burstiness fit alone would need about 4 GiB.
        case(
            "calibrate-history-past-memory-budget",
            "calibrate",
            "s.toml",
            "--cloudwatch",
            "e.json",
            "-o",
            "c.toml",
            files={"s.toml": GOOD, "e.json": _busy_history(300_000)},
        ),
        case(
            "calibrate-missing-scenario",
            "calibrate",
            "nope.toml",
            "--cloudwatch",
            "e.json",
            "-o",
            "c.toml",
            files=H,
        ),
        case(
            "run-cloudwatch-json-onto-foreign-file",
            "run",
            "s.toml",
            "--cloudwatch-json",
            "mine.json",
            files={**S, "mine.json": "{}"},
        ),
        case(
            "run-cloudwatch-json-onto-scenario",
            "run",
            "s.toml",
            "--cloudwatch-json",
            "s.toml",
            files=S,
        ),
    ]
    return c


def _budget_paths() -> list[Case]:
    """Counts, spans and periods read from a file or a scenario that would allocate without
    bound: each is costed or capped before anything is allocated."""
    per_second = "timestamp,count\n2026-01-05T00:00:00Z,3\n2026-01-05T00:00:01Z,4\n"
    requests = "timestamp\n2026-01-05T00:00:01Z\n2026-01-05T00:00:02Z\n2026-01-05T00:00:30Z\n"

    def file_traffic(path: str, hours: float) -> str:
        return scenario_toml(
            traffic={"kind": "csv", "path": path, "rate_tps": None, "duration_h": hours}
        )

    repeated = {"s.toml": file_traffic("c.csv", 1.5e6), "c.csv": per_second}
    repeated_requests = {"s.toml": file_traffic("r.csv", 876_000.0), "r.csv": requests}
    fast = {"s.toml": scenario_toml(traffic={"rate_tps": 1e9})}
    slow = {"s.toml": scenario_toml(traffic={"rate_tps": 2e4, "duration_h": 100})}
    return [
        case("run-repeat-past-max-intervals", "run", "s.toml", files=repeated),
        case("inspect-repeat-past-max-intervals", "trace", "inspect", "s.toml", files=repeated),
        case("run-repeat-requests-past-memory", "run", "s.toml", files=repeated_requests),
        case("inspect-scenario-rate-1e9", "trace", "inspect", "s.toml", files=fast),
        case("convert-scenario-rate-1e9", "trace", "convert", "s.toml", "-o", "o.csv", files=fast),
        # report simulates through the library, which checks the budget itself.
        case("report-scenario-rate-1e9", "report", "s.toml", "-o", "r.md", files=fast),
        # Over the time budget only (about 3 h, under 4 GiB): the refusal names the option.
        case("report-scenario-past-time-budget", "report", "s.toml", "-o", "r.md", files=slow),
        case(
            "convert-count-1e12-finer-bins",
            "trace",
            "convert",
            "t.csv",
            "--bin-s",
            "1",
            "-o",
            "o.csv",
            files={"t.csv": BAD_COUNTS["count-1e12"]},
        ),
        case(
            "synth-onoff-period-1e-9",
            "trace",
            "synth",
            "constant",
            "--rate-tps",
            "1",
            "--requests",
            "--arrivals",
            "onoff",
            "--on-mean-s",
            "1e-9",
            "-o",
            "o.csv",
        ),
        case(
            "synth-pages-1e9",
            "trace",
            "synth",
            "constant",
            "--rate-tps",
            "1",
            "--pages",
            "1000000000",
            "-o",
            "o.json",
        ),
    ]


def _fixed_late() -> list[Case]:
    """An output onto an input whatever --force says, and work costed as its heaviest
    mode or --vary value."""
    return [
        case(
            "run-cloudwatch-json-onto-scenario-with-force",
            "run",
            "s.toml",
            "--cloudwatch-json",
            "s.toml",
            "--force",
            files=S,
        ),
        case(
            "compare-always-on-1e9-units",
            "compare",
            "s.toml",
            "--mode",
            "always-on:1000000000",
            files=S,
        ),
        case(
            "sweep-vary-slots-1e9",
            "sweep",
            "s.toml",
            *SWEEP,
            "--max",
            "1..2",
            "--replications",
            "2",
            "--vary",
            "unit.slots=1000000000",
            files=S,
        ),
    ]


def _one_interval_and_unreachable() -> list[Case]:
    """Counts files no reader could read back, SLOs no run could meet, and outputs into a
    folder that takes no files (Linux's /proc)."""
    t = {"t.csv": DATA / "counts.csv"}
    one = {"one.csv": "timestamp\n2026-01-05T00:00:00Z\n"}
    return [
        case("convert-into-one-interval", "trace", "convert", "t.csv", "-o", "o.csv",
             "--bin-s", "1e12", files=t),
        case("convert-one-request-to-counts", "trace", "convert", "one.csv", "-o", "o.parquet",
             files=one),
        case("synth-one-interval-export", "trace", "synth", "constant", "--rate-tps", "1",
             "--duration-h", "1", "--bin-s", "3600", "-o", "o.json"),
        case("recommend-throttle-rate-zero", "recommend", "s.toml", "--max-throttle-rate", "0",
             files=S),
        case("sweep-throttle-rate-zero", "sweep", "s.toml", *SWEEP, "--min", "1", "--max", "1",
             "--max-throttle-rate", "0", files=S),
        case("synth-start-before-1970", "trace", "synth", "constant", "--rate-tps", "1",
             "--start", "1900-01-01", "-o", "o.csv"),
        case("synth-into-proc", "trace", "synth", "constant", "--rate-tps", "1", "-o",
             "/proc/lfvsim-o.csv"),
        case("convert-into-proc", "trace", "convert", "t.csv", "-o", "/proc/lfvsim-o.parquet",
             files=t),
        case("seed-into-proc", "seed", "d.json", "-o", "/proc/lfvsim-o.toml",
             files={"d.json": DATA / "describe-ok.json"}),
        case("recommend-busier-day-below-one", "recommend", "s.toml", "--max-throttle-rate",
             "0.01", "--busier-day", "0.5", files=S),
        case("compare-mode-given-twice", "compare", "s.toml", "--mode", "autoscaled",
             "--mode", "autoscaled", files=S),
        case("import-cloudwatch-same-page-twice", "trace", "import-cloudwatch", "cw.json",
             "./cw.json", "-o", "o.csv", files={"cw.json": DATA / "cw-ok.json"}),
    ]  # fmt: skip


def _outputs_as_traces() -> list[Case]:
    """lfvsim's own outputs, and a table of counts under another name, given as traces."""
    run = _run_folder()
    return [
        case("run-trace-is-timeline", "run", "s.toml", "--trace", "r/timeline.csv",
             files={"s.toml": GOOD, **run}),
        case("run-trace-is-summary", "run", "s.toml", "--trace", "r/summary.json",
             files={"s.toml": GOOD, **run}),
        case("inspect-units-table", "trace", "inspect", "r/units.csv", files=run),
        case("run-trace-is-sweep-table", "run", "s.toml", "--trace", "s.csv",
             files={"s.toml": GOOD, "s.csv": FIXTURE / SWEEP_CSV}),
        case("run-trace-requests-column", "run", "s.toml", "--trace", "t.csv",
             files={"s.toml": GOOD, "t.csv": "timestamp,requests\n2026-01-05T00:00:00Z,5\n"}),
        case("inspect-dev-null", "trace", "inspect", "/dev/null"),
        case("recommend-trace-without-requests", "recommend", "s.toml", "--trace", "z.csv",
             files={"s.toml": GOOD, "z.csv": "timestamp,count\n2026-01-05T00:00:00Z,0\n"
                    "2026-01-05T00:01:00Z,0\n"}),
    ]  # fmt: skip


CASES: list[Case] = [
    *_history(),
    *_bad_scenarios(),
    *_bad_traces(),
    *_bad_describe(),
    *_bad_options(),
    *_outputs(),
    *_budget_paths(),
    *_fixed_late(),
    *_one_interval_and_unreachable(),
    *_outputs_as_traces(),
]

# Cases that still fail the standard, each with what it does instead. The test checks
# that every one of them still fails, so a fix is noticed and the case moves to CASES.
KNOWN_OPEN: list[tuple[Case, str]] = []


def all_cases() -> list[Case]:
    """The corpus and the known-open cases: everything the runner runs."""
    return [*CASES, *(c for c, _ in KNOWN_OPEN)]
