"""Operating modes and what-ifs: hosting schedules, batches, client retries, failures."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import lfvsim
from lfvsim.engine.kernel import jitter
from lfvsim.errors import InputError
from lfvsim.hosting import Hosting, parse_window, schedule_intervals
from lfvsim.reports.formatting import percent
from lfvsim.reports.text import format_modes
from tests.conftest import ROOT, scenario
from tests.test_invariants import accepting_units_at, check_invariants

# --- hosting schedules -------------------------------------------------------------------


def test_window_crossing_midnight_and_a_daylight_saving_change():
    # Europe/Berlin springs forward on Sunday 2026-03-29 at 02:00 and falls back on
    # Sunday 2026-10-25 at 03:00.
    hosting = Hosting(mode="schedule", timezone="Europe/Berlin", windows=("daily 22:00-06:00",))
    for start, short_night, lengths_h in (
        ("2026-03-26", 2, [8, 8, 7, 8]),  # the night into the 29th lasts 7 h
        ("2026-10-22", 2, [8, 8, 9, 8]),  # the night into the 25th lasts 9 h
    ):
        t0 = pd.Timestamp(start, tz="UTC")
        windows = schedule_intervals(hosting, t0, 5 * 86400)
        full = windows[(windows[:, 0] > 0) & (windows[:, 1] < 5 * 86400)]
        np.testing.assert_allclose((full[:, 1] - full[:, 0]) / 3600, lengths_h)
        # Each opens at 22:00 and closes at 06:00 Berlin time, whatever the UTC offset.
        for a, b in full:
            local_a = (t0 + pd.Timedelta(seconds=a)).tz_convert("Europe/Berlin")
            local_b = (t0 + pd.Timedelta(seconds=b)).tz_convert("Europe/Berlin")
            assert (local_a.hour, local_a.minute) == (22, 0)
            assert (local_b.hour, local_b.minute) == (6, 0)
        assert short_night == 2


def test_window_parsing_names_the_problem():
    assert parse_window("Sat,Sun 08:00-12:00")[0] == (5, 6)
    assert parse_window("Fri-Mon 20:00-24:00")[0] == (0, 4, 5, 6)
    for bad, needle in (
        ("Mon-Fri 6-22", "DAYS HH:MM-HH:MM"),
        ("Mon-Frx 06:00-22:00", "unknown day"),
        ("Mon 25:00-26:00", "not a time of day"),
        ("Mon 06:00-06:00", "empty"),
    ):
        with pytest.raises(ValueError, match=needle):
            parse_window(bad)
    with pytest.raises(InputError, match=r"hosting\.windows"):
        scenario().with_overrides({"hosting.mode": "schedule", "hosting.windows": ["Mon 6-22"]})
    with pytest.raises(InputError, match="unknown time zone"):
        scenario().with_overrides({"hosting.timezone": "Mars/Olympus"})
    with pytest.raises(InputError, match="needs windows"):
        scenario().with_overrides({"hosting.mode": "schedule"})


def scheduled(**hosting) -> lfvsim.Scenario:
    return scenario(
        model={"min_units": 2},
        hosting={
            "mode": "schedule",
            "timezone": "UTC",
            "windows": ["daily 08:00-12:00", "daily 20:00-02:00"],
            "start_delay_s": 600,
            **hosting,
        },
        traffic={"kind": "constant", "rate_tps": 2, "duration_h": 48},
    )


def test_nothing_is_served_while_the_model_is_not_hosted():
    r = lfvsim.simulate(scheduled(), seed=1, record_requests=True)
    check_invariants(r)
    s, tl, req = r.summary, r.timeline, r.requests

    # Hosted from open + 10 min (start delay) to close, each day; the first window of the
    # trace (00:00-02:00, opened before the start) counts as already hosted.
    def hosted_at(minute_of_day):
        return (
            ((minute_of_day >= 490) & (minute_of_day < 720))
            | (minute_of_day >= 1210)
            | (minute_of_day < 120)
        )

    expect = hosted_at(np.arange(48 * 60) % 1440)
    np.testing.assert_array_equal(tl["hosted"].to_numpy() > 0, expect)
    assert s.hosted_h == pytest.approx(expect.sum() / 60)
    assert (tl.loc[tl["hosted"] == 0, "SuccessfulRequestCount"] == 0).all()
    # No unit takes requests outside the windows (a stopped unit may finish in-flight work).
    down = np.flatnonzero(tl["hosted"].to_numpy() == 0) * 60.0 + 30.0
    assert (accepting_units_at(r.units, down) == 0).all()
    served = req[~req["throttled"] & ~req["unavailable"]]
    assert hosted_at((served["start_s"].to_numpy() // 60) % 1440).all()
    # Everything that arrived while not hosted was refused, nothing else was.
    outside = ~hosted_at((req["arrival_s"].to_numpy() // 60) % 1440)
    np.testing.assert_array_equal(req["unavailable"].to_numpy(), outside)
    assert s.unavailable == outside.sum() > 0


def test_starting_time_is_billed_only_when_the_parameter_says_so():
    free = lfvsim.simulate(scheduled(bill_starting=False), seed=2)
    paid = lfvsim.simulate(scheduled(bill_starting=True), seed=2)
    # Same traffic, same service: only the bill differs, by 2 units x 10 min per start.
    # Starts: 08:00 and 20:00 on both days; the 00:00-02:00 window was open at the start.
    assert paid.summary.served == free.summary.served
    extra_h = paid.summary.unit_hours - free.summary.unit_hours
    assert extra_h == pytest.approx(4 * 2 * 600 / 3600)
    # Not billed: the bill is exactly the hosted time. Units finishing in-flight calls
    # after a StopModel are not billed for it (they used to be, up to a minute each).
    assert free.summary.unit_hours == pytest.approx(2 * free.summary.hosted_h, rel=1e-12)


def test_start_early_makes_the_model_hosted_when_the_window_opens():
    r = lfvsim.simulate(scheduled(start_early=True), seed=3)
    hod = (np.arange(48 * 60) / 60) % 24
    expect = ((hod >= 8) & (hod < 12)) | (hod >= 20) | (hod < 2)
    np.testing.assert_array_equal(r.timeline["hosted"].to_numpy() > 0, expect)


def test_batch_mode_serves_everything_and_runs_only_when_work_waits():
    sc = scenario(
        model={"min_units": 2},
        hosting={"mode": "batch", "batch_start_queue": 3000, "start_delay_s": 300},
        traffic={"kind": "constant", "rate_tps": 1, "duration_h": 24},
    )
    r = lfvsim.simulate(sc, seed=4, record_requests=True)
    check_invariants(r)
    s, req = r.summary, r.requests
    assert s.throttled == 0
    assert 0 < s.hosted_h < 0.5 * s.duration_h
    # Only requests still waiting for a batch when the run ends are left unserved, and
    # they are reported as waiting, not as refused or failed.
    assert s.unavailable == 0 and s.failure_rate == 0
    waiting = req[req["waiting"]]
    assert len(waiting) == s.waiting_at_end == r.timeline["waiting_requests"].sum()
    assert 0 < s.waiting_at_end < 3000 + 300 * 2
    assert s.served + s.waiting_at_end == s.requests
    served = req[~req["waiting"]]
    assert served["arrival_s"].max() < waiting["arrival_s"].min()
    assert any("waiting for a batch" in note for note in r.notes)
    # Batches start when 3000 are waiting (checked each minute), then the start delay.
    assert s.latency_p99_s > 300
    always = lfvsim.simulate(sc.with_overrides({"hosting.mode": "always_on"}), seed=4)
    assert s.unit_hours < 0.5 * always.summary.unit_hours


# --- client retries ----------------------------------------------------------------------


def overloaded(client: dict, hours: float = 2.0) -> lfvsim.Scenario:
    return scenario(
        model={"min_units": 1},
        unit={"slots": 2, "latency_distribution": "exponential", "latency_mean_s": 1.0},
        client=client,
        traffic={"kind": "constant", "rate_tps": 2.5, "duration_h": hours},
    )


@pytest.mark.parametrize("mode", ["standard", "legacy"])
def test_retries_conserve_requests_and_add_load(mode):
    none = lfvsim.simulate(overloaded({}), seed=5, record_requests=True)
    r = lfvsim.simulate(overloaded({"retry_mode": mode}), seed=5, record_requests=True)
    check_invariants(r)
    s, req = r.summary, r.requests
    assert s.requests == none.summary.requests  # same callers
    assert s.retries > 0 and s.attempts == s.requests + s.retries
    # Every attempt is counted once: per request, attempts recorded add up.
    assert req["attempts"].sum() == s.attempts - 0  # pending retries never happened
    assert req["attempts"].max() == (3 if mode == "standard" else 5)
    # Without retries the first attempt is the only one: same first-attempt rate shape.
    assert s.first_attempt_throttle_rate >= none.summary.throttle_rate * 0.9
    # Retries rescue some requests: fewer fail in the end than were throttled at first.
    assert s.failure_rate < s.first_attempt_throttle_rate
    # Requests whose last attempt was throttled: failed for good, or retrying at the end.
    last_throttled = req["throttled"].sum()
    assert last_throttled == round(s.failure_rate * s.requests) + s.retrying_at_end


def test_backoff_follows_its_definition():
    # Jitter: uniform on [0, 1) and independent of request and attempt.
    u = np.array([jitter(123, i, a) for i in range(20_000) for a in (1, 2)])
    assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / len(u))
    counts = np.histogram(u, bins=20, range=(0, 1))[0]
    chi2 = ((counts - len(u) / 20) ** 2 / (len(u) / 20)).sum()
    assert chi2 < 43.8  # chi-square, 19 degrees of freedom, 0.999 quantile
    assert abs(np.corrcoef(u[0::2], u[1::2])[0, 1]) < 0.03
    # End to end: with one slot held for the whole run every attempt is throttled, so the
    # last attempt comes U1 + 2 U2 + 4 U3 + 8 U4 s (legacy) after the arrival, and
    # min(U1, cap) + min(2, cap) U2 with a 1.5 s cap (standard).
    blocked = {"slots": 1, "latency_distribution": "constant", "latency_mean_s": 1e4}
    for client, mean, top in (
        ({"retry_mode": "legacy"}, 0.5 + 1 + 2 + 4, 15.0),
        ({"retry_mode": "standard", "max_backoff_s": 1.5, "retry_quota": False}, 0.5 + 0.75, 2.5),
    ):
        sc = scenario(
            unit=blocked,
            client=client,
            traffic={"kind": "constant", "rate_tps": 2, "duration_h": 1},
        )
        req = lfvsim.simulate(sc, seed=6, record_requests=True).requests.iloc[1:-100]
        gap = (req["last_attempt_s"] - req["arrival_s"]).to_numpy()
        assert gap.min() >= 0 and gap.max() <= top
        assert abs(gap.mean() - mean) < 4 * gap.std() / np.sqrt(len(gap))


def test_standard_retry_quota_stops_retries_under_persistent_throttling():
    with_quota = lfvsim.simulate(overloaded({"retry_mode": "standard"}, hours=4), seed=7)
    no_quota = lfvsim.simulate(
        overloaded({"retry_mode": "standard", "retry_quota": False}, hours=4), seed=7
    )
    assert with_quota.summary.retries < no_quota.summary.retries


# --- failures ----------------------------------------------------------------------------


def failing(min_units: int, zones: int, **failures) -> lfvsim.Scenario:
    return scenario(
        model={"min_units": min_units},
        failures={"availability_zones": zones, "replacement_delay_s": 600, **failures},
        traffic={"kind": "constant", "rate_tps": 2, "duration_h": 6},
    )


def test_an_outage_removes_exactly_that_zones_units_and_they_return():
    sc = failing(3, 3, outages=[{"zone": 1, "start_h": 1.0, "duration_h": 2.0}])
    r = lfvsim.simulate(sc, seed=8)
    check_invariants_loose(r)
    u = r.units
    lost = u[u["ended_by"] == "az_outage"]
    assert list(lost["zone"]) == [1] and (lost["retired_at_s"] == 3600).all()
    assert (u.loc[u["in_service_from_s"] < 3600, "zone"].sort_values().tolist()) == [0, 1, 2]
    # A replacement comes up in a healthy zone after the delay, and the zone's unit comes
    # back when the outage ends; the replacement is then released.
    replacement = u[(u["in_service_from_s"] == 3600 + 600)]
    assert len(replacement) == 1 and replacement["zone"].iloc[0] != 1
    back = u[(u["in_service_from_s"] == 3 * 3600) & (u["zone"] == 1)]
    assert len(back) == 1
    assert replacement["ended_by"].iloc[0] == "surplus"
    assert replacement["retired_at_s"].iloc[0] == 3 * 3600
    tl = r.timeline["InServiceInferenceUnits"].to_numpy()
    # Minute 60 still holds the lost unit's last seconds of draining.
    assert (tl[61:70] == 2).all() and (tl[70:180] == 3).all() and (tl[181:] == 3).all()
    ev = r.events.iloc[0]
    assert (ev["kind"], ev["zone"], ev["units_lost"]) == ("az_outage", 1, 1)
    assert (ev["start_s"], ev["end_s"]) == (3600, 3 * 3600)
    # Capacity was lost only until the replacement served, not for the whole outage.
    assert ev["capacity_lost_unit_s"] == pytest.approx(600)


def check_invariants_loose(result: lfvsim.Result) -> None:
    """Invariants, minus the lower unit bound, which failures may break by design."""
    s = result.summary
    assert s.served + s.throttled + s.unavailable == s.attempts
    assert s.unit_hours * 60 == pytest.approx(result.timeline["billed_units"].sum())


def test_with_one_unit_an_outage_of_its_zone_leaves_no_capacity_until_replacement():
    outage = [{"zone": 0, "start_h": 1, "duration_h": 2}]
    one = lfvsim.simulate(failing(1, 2, outages=outage), seed=9)
    tl = one.timeline
    window = tl.iloc[61:70]  # from the outage (and drain) until the replacement serves
    assert (window["InServiceInferenceUnits"] == 0).all()
    assert (window["ThrottledCount"] == window["offered_requests"]).all()
    assert (tl.iloc[70:180]["InServiceInferenceUnits"] == 1).all()
    assert one.events["throttled_during"].iloc[0] >= window["offered_requests"].sum()
    two = lfvsim.simulate(failing(2, 2, outages=outage), seed=9)
    assert (two.timeline.iloc[60:180]["InServiceInferenceUnits"] >= 1).all()
    assert two.timeline.iloc[60:70]["ThrottledCount"].sum() < window["ThrottledCount"].sum()


def test_failed_units_are_replaced_in_their_zone_after_the_delay():
    r = lfvsim.simulate(failing(3, 3, unit_mtbf_h=3.0), seed=10)
    check_invariants_loose(r)
    u, ev = r.units, r.events
    failed = u[u["ended_by"] == "failure"]
    assert len(failed) >= 2 and len(ev) == len(failed)
    for _, unit in failed.iterrows():
        t = unit["retired_at_s"]
        if t + 600 >= 6 * 3600:
            continue
        repl = u[np.isclose(u["in_service_from_s"], t + 600) & (u["zone"] == unit["zone"])]
        assert len(repl) == 1
    assert (ev["kind"] == "unit_failure").all()
    replaced = ev["end_s"].notna()
    np.testing.assert_allclose(ev.loc[replaced, "capacity_lost_unit_s"], 600)
    done = ev[ev["end_s"].notna()]
    np.testing.assert_allclose(done["end_s"] - done["start_s"], 600)


def test_outage_zone_must_exist():
    with pytest.raises(InputError, match="zone 3 does not exist"):
        failing(1, 3).with_overrides(
            {"failures.outages": [{"zone": 3, "start_h": 1, "duration_h": 1}]}
        )


# --- compare -----------------------------------------------------------------------------


def test_compare_puts_the_modes_side_by_side(cli, tmp_path):
    schedule = tmp_path / "shift.toml"
    schedule.write_text('[hosting]\nwindows = ["daily 06:00-22:00"]\n')
    path = ROOT / "scenarios" / "quickstart.toml"
    code, out, err = cli(
        "compare", path, "--mode", "always-on", "--mode", "autoscaled", "--mode",
        f"schedule:{schedule}", "--mode", "batch", "--json",
    )  # fmt: skip
    assert code == 0, err
    rows = {row["mode"]: row for row in json.loads(out)}
    assert list(rows) == ["always-on", "autoscaled", f"schedule:{schedule}", "batch"]
    assert rows["always-on"]["min_units"] == 4 and rows["always-on"]["max_units"] is None
    assert rows["always-on"]["unit_hours"] == pytest.approx(96.0)
    assert rows["autoscaled"]["unit_hours"] < rows["always-on"]["unit_hours"]
    assert rows[f"schedule:{schedule}"]["hosted_h"] < 24
    assert rows[f"schedule:{schedule}"]["unavailable"] > 0
    assert len({row["seed"] for row in rows.values()}) == 1
    code, out, _ = cli("compare", path, "--mode", "always-on", "--mode", "autoscaled")
    assert code == 0 and "monthly_cost_usd" in out


def test_compare_text_reads_counts_and_rates_as_everywhere_else(cli, tmp_path):
    schedule = tmp_path / "shift.toml"
    schedule.write_text('[hosting]\nwindows = ["daily 06:00-22:00"]\n')
    path = ROOT / "scenarios" / "quickstart.toml"
    modes = ["--mode", f"schedule:{schedule}", "--mode", "batch"]
    code, out, err = cli("compare", path, *modes, "--json")
    assert code == 0, err
    rows = json.loads(out)
    code, text, err = cli("compare", path, *modes)
    assert code == 0, err
    lines = {line.split()[0]: line.split() for line in text.splitlines()[1:3]}
    scheduled_row, batch_row = rows
    assert scheduled_row["unavailable"] >= 1000  # so that the separator shows
    assert f"{scheduled_row['unavailable']:,}" in lines[scheduled_row["mode"]]
    for row in rows:
        cells = lines[row["mode"]]
        assert percent(row["throttle_rate"]) in cells
        assert percent(row["failure_rate"]) in cells
    assert batch_row["throttle_rate"] == 0 and "0%" in lines["batch"]
    assert "0.000%" not in text


def test_format_modes_separates_thousands_and_reads_tiny_rates():
    table = pd.DataFrame(
        {
            "mode": ["always-on"], "min_units": [2], "max_units": [pd.NA],
            "monthly_cost_usd": [12345.6], "cost_usd": [400.0], "unit_hours": [1234.5],
            "hosted_h": [1500.0], "throttle_rate": [2e-8], "unavailable": [1234567],
            "failure_rate": [0.0123], "latency_p99_s": [12345.678], "seed": [7],
        }
    )  # fmt: skip
    cells = format_modes(table).splitlines()[1].split()
    assert cells == [
        "always-on", "2", "-", "12,346", "1,234.50", "1,500.00", "<", "0.001%", "1,234,567",
        "1.23%", "12,345.68",
    ]  # fmt: skip
    # A run of minutes: its unit-hours read at lfvsim run's precision, not 0.0.
    short = table.assign(unit_hours=[0.02], hosted_h=[0.01])
    assert format_modes(short).splitlines()[1].split()[4:6] == ["0.02", "0.01"]


def test_compare_schedule_takes_the_hosting_section_of_a_whole_scenario(cli, tmp_path):
    # A scenario with a schedule used to be refused as a schedule file, though the help
    # and README say schedule:FILE takes FILE's [hosting] section.
    bundled = ROOT / "scenarios" / "scheduled-business-hours.toml"
    section = tmp_path / "hosting.toml"
    section.write_text(
        '[hosting]\nmode = "schedule"\ntimezone = "Europe/Berlin"\n'
        'windows = ["Mon-Fri 06:00-22:00"]\nstart_early = true\n'
    )
    path = ROOT / "scenarios" / "quickstart.toml"
    rows = []
    for schedule in (bundled, section):
        code, out, err = cli("compare", path, "--mode", f"schedule:{schedule}", "--json")
        assert code == 0, err
        (row,) = json.loads(out)
        rows.append({k: v for k, v in row.items() if k != "mode"})
    assert rows[0] == rows[1]
    # Only the hosting section: the model stays the compared scenario's (Max 4, not 3).
    assert 0 < rows[0]["hosted_h"] < 24 and rows[0]["max_units"] == 4


def test_compare_schedule_file_without_hosting_is_refused(cli, tmp_path):
    schedule = tmp_path / "model-only.toml"
    schedule.write_text('[model]\nproject = "p"\nversion = "1"\n')
    path = ROOT / "scenarios" / "quickstart.toml"
    code, out, err = cli("compare", path, "--mode", f"schedule:{schedule}")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "no [hosting] section" in err


@pytest.mark.parametrize(
    ("mode", "needle"),
    [("sometimes", "unknown mode"), ("always-on:x", "whole number"),
     ("schedule:/nope.toml", "does not exist")],
)  # fmt: skip
def test_compare_bad_mode_fails_cleanly(cli, mode, needle):
    code, out, err = cli("compare", ROOT / "scenarios" / "quickstart.toml", "--mode", mode)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert needle in err


def test_requests_before_the_first_window_are_unavailable_not_throttled():
    sc = scheduled().with_overrides({"hosting.windows": ["daily 08:00-12:00"]})
    r = lfvsim.simulate(sc, seed=12)
    before = r.timeline.iloc[: 8 * 60 + 10]
    assert (before["hosted"] == 0).all()
    assert (before["ThrottledCount"] == 0).all()
    assert (before["unavailable_requests"] == before["offered_requests"]).all()
    assert before["offered_requests"].sum() > 0


# --- edge cases found in review ----------------------------------------------------------


def test_units_lost_while_every_zone_is_down_come_back_with_the_zone():
    sc = scenario(
        model={"min_units": 2},
        hosting={"mode": "schedule", "windows": ["daily 00:10-01:00"], "start_delay_s": 0},
        failures={"availability_zones": 1, "outages": [{"zone": 0, "start_h": 5 / 60,
                                                        "duration_h": 10 / 60}]},
        traffic={"kind": "constant", "rate_tps": 2.0, "duration_h": 1},
    )  # fmt: skip
    r = lfvsim.simulate(sc, seed=1)
    tl = r.timeline
    # StartModel at 00:10 finds no zone up; the units come when the zone returns at 00:15.
    assert (tl.iloc[10:15]["InServiceInferenceUnits"] == 0).all()
    assert (tl.iloc[15:60]["InServiceInferenceUnits"] == 2).all()
    assert r.summary.served > 0.9 * tl.iloc[15:60]["offered_requests"].sum()


def test_a_zone_returning_releases_the_replacement_not_its_own_unit():
    sc = scenario(
        model={"min_units": 2},
        unit={"latency_distribution": "constant", "latency_mean_s": 5.0},
        failures={"availability_zones": 2, "replacement_delay_s": 60,
                  "outages": [{"zone": 0, "start_h": 0.1, "duration_h": 0.2}]},
        traffic={"kind": "constant", "rate_tps": 1.5, "duration_h": 0.5},
    )  # fmt: skip
    r = lfvsim.simulate(sc, seed=1)
    u = r.units
    assert r.summary.peak_units == 2
    serving_at_end = u[u["ended_by"] == "end"]
    assert sorted(serving_at_end["zone"]) == [0, 1]
    replacement = u[u["in_service_from_s"] == 0.1 * 3600 + 60]
    assert list(replacement["ended_by"]) == ["surplus"]
    assert replacement["retired_at_s"].iloc[0] == pytest.approx(0.3 * 3600)


def test_a_horizon_that_ends_inside_a_minute():
    sc = scenario(
        model={"min_units": 2},
        unit={"latency_distribution": "constant", "latency_mean_s": 20.0, "slots": 50},
        traffic={"kind": "constant", "rate_tps": 1.0, "duration_h": 1},
        simulation={"horizon_h": 90 / 3600},
    )
    r = lfvsim.simulate(sc, seed=1)
    tl = r.timeline
    assert len(tl) == 2
    np.testing.assert_allclose(tl["InServiceInferenceUnits"], 2.0)
    assert (tl["DesiredInferenceUnits"] == 2).all()
    assert r.summary.mean_units == pytest.approx(2.0)
    # The run stops 30 s into its second metering minute, which is billed whole (it used
    # to be billed pro rata, 2 x 90 s): 2 units x 2 minutes.
    assert r.summary.unit_hours == pytest.approx(2 * 2 / 60)


def test_a_whole_day_window():
    hosting = Hosting(mode="schedule", windows=("Mon-Fri 00:00-24:00",))
    windows = schedule_intervals(hosting, pd.Timestamp("2026-01-05", tz="UTC"), 7 * 86400)
    np.testing.assert_allclose(windows / 3600, [[0, 5 * 24]])


def test_the_oracle_starts_each_window_with_the_units_that_window_needs():
    sc = scenario(
        model={"min_units": 1, "max_units": 10},
        autoscaler={"policy": "oracle"},
        hosting={"mode": "schedule", "windows": ["daily 01:00-03:00"], "start_delay_s": 0},
        traffic={"kind": "constant", "rate_tps": 20.0, "duration_h": 3},
    )
    scheduled_run = lfvsim.simulate(sc, seed=1)
    assert scheduled_run.summary.throttled == 0
    assert scheduled_run.timeline["InServiceInferenceUnits"].iloc[60] > 1
