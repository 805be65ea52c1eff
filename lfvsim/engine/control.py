"""The control plane in SimPy: hosting, units coming and going, failures, the autoscaler.

Control events are few (one evaluation a period, one event per unit change). Before any
of them reads a metric or changes capacity at time ``t``, the data plane is advanced to
``t``, so a batch of requests never straddles a capacity change.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import numpy as np
import simpy

from lfvsim.engine import kernel as k
from lfvsim.engine.dataplane import DataPlane
from lfvsim.engine.policies import Observation, Policy

__all__ = ["Cluster", "FailureEvent", "UnitSession", "autoscaler"]


@dataclass
class UnitSession:
    """The life of one inference unit, in seconds since the trace start.

    ``billed_from`` is when billing starts (the scale-out decision or StartModel call when
    those are billed, else ``in_service_from``). ``retired_at`` is when it stopped taking
    requests, ``drained_at`` when its last request ended; ``ended_by`` says why
    (``scale_in``, ``stop``, ``failure``, ``az_outage``, ``end``). A unit provisioned and
    then not needed has ``in_service_from = None``.
    """

    unit_id: int
    zone: int
    billed_from: float
    in_service_from: float | None
    retired_at: float | None = None
    drained_at: float | None = None
    ended_by: str = ""


@dataclass
class FailureEvent:
    """A unit failure or a zone outage, and what it cost in capacity and throttling."""

    def capacity_lost_unit_s(self, horizon_s: float) -> float:
        """Unit-seconds out of service: each lost unit until its replacement serves, or
        until the event ends (the zone returns) when it was not replaced."""
        end = horizon_s if self.end_s is None else self.end_s
        unreplaced = self.units_lost - len(self.replaced_at)
        return sum(t - self.start_s for t in self.replaced_at) + unreplaced * (end - self.start_s)

    kind: str
    zone: int
    start_s: float
    units_lost: int = 0
    end_s: float | None = None
    replaced_at: list[float] = field(default_factory=list)
    replacements: list[UnitSession] = field(default_factory=list)
    offered_before: int = 0
    throttled_before: int = 0
    offered: int = 0
    throttled: int = 0


@dataclass
class _Ledger:
    """Slot-seconds of capacity taking requests, integrated as units come and go."""

    slot_seconds: float = 0.0
    since: float = 0.0
    history: list[tuple[float, int]] = field(default_factory=list)


class Cluster:
    """The model's inference units: hosting state, units in service, pending and desired.

    Parameters
    ----------
    env : simpy.Environment
    data : DataPlane
    min_units, max_units : int
        Bounds on desired units (``max_units == min_units`` without auto-scaling).
    provisioning_delay_s : float
        From the scale-out decision until a new unit serves.
    bill_provisioning : bool
        Bill a new unit from the decision rather than from when it serves.
    zones : int
        Availability Zones the units are spread over.
    replacement_delay_s : float
        From the loss of a unit until its replacement serves.
    """

    def __init__(
        self,
        env: simpy.Environment,
        data: DataPlane,
        min_units: int,
        max_units: int,
        provisioning_delay_s: float,
        bill_provisioning: bool,
        zones: int = 1,
        replacement_delay_s: float = 0.0,
    ) -> None:
        self.env = env
        self.data = data
        self.min_units = min_units
        self.max_units = max_units
        self.provisioning_delay_s = provisioning_delay_s
        self.bill_provisioning = bill_provisioning
        self.replacement_delay_s = replacement_delay_s
        self.zone_down = [False] * zones
        self.active: list[UnitSession] = []
        self.sessions: list[UnitSession] = []
        self.events: list[FailureEvent] = []
        self.pending = 0
        self.desired = 0
        self.hosted = False
        self.generation = 0  # bumped by StopModel: cancels pending provisioning
        self.desired_log: list[tuple[float, int]] = [(0.0, 0)]
        self.hosted_log: list[tuple[float, bool]] = []
        self.scale_out_events = 0
        self.scale_in_events = 0
        self.peak_units = 0
        # Set by the failure process to watch new units.
        self.on_unit_added: Callable[[UnitSession], object] | None = None
        self._ledger = _Ledger()
        # Set by the autoscaler: its last evaluation counted a datapoint above target.
        self.alarm = False
        self._open_events = 0  # failures and outages not yet over
        data.throttle_cause = self.throttle_cause

    # --- why requests are throttled -------------------------------------------------------

    def throttle_cause(self) -> int:
        """Why a request throttled now is throttled: a kernel ``CAUSE_*`` code.

        From the control state, which holds until the next control event. In order of
        precedence: ``capacity_lost`` while a failure or outage is not over and fewer units
        serve than desired; ``scaling`` while fewer units serve than desired (provisioning)
        or while the autoscaler alarm accumulates datapoints above target below Max;
        ``at_max`` while that alarm is on at Max (a higher Max would be used); else
        ``burst`` (steady state: the autoscaler wants no change).
        """
        serving = len(self.active)
        if serving < self.desired:
            return k.CAUSE_CAPACITY_LOST if self._open_events else k.CAUSE_SCALING
        if self.alarm:
            return k.CAUSE_SCALING if self.desired < self.max_units else k.CAUSE_AT_MAX
        return k.CAUSE_BURST

    # --- hosting ------------------------------------------------------------------------

    def start_model(self, units: int, billed_from: float | None = None) -> None:
        """The model is HOSTED now, with ``units`` in service."""
        now = self.env.now
        self.hosted = True
        self.hosted_log.append((now, True))
        self.data.set_hosted(True)
        self.desired = units
        self.desired_log.append((now, units))
        for _ in range(units):
            self._add_unit(now if billed_from is None else billed_from)

    def stop_model(self, reason: str = "stop") -> None:
        """StopModel: every unit leaves, pending work is cancelled, waiting calls fail."""
        now = self.env.now
        self.data.refuse_waiting()
        for session in list(self.active):
            self._retire(session, now, self.data.remove_unit(session.unit_id, now), reason)
        self.generation += 1
        self.pending = 0
        self.hosted = False
        self.hosted_log.append((now, False))
        self.data.set_hosted(False)
        self.desired = 0
        self.desired_log.append((now, 0))

    def close(self) -> None:
        """End of the simulation: the model is stopped now (at the horizon)."""
        if self.hosted:
            self.stop_model(reason="end")

    # --- scaling ------------------------------------------------------------------------

    def set_desired(self, desired: int) -> None:
        """Move DesiredInferenceUnits; the data plane must be advanced to now."""
        if not self.hosted:
            return
        desired = min(max(desired, self.min_units), self.max_units)
        if desired == self.desired:
            return
        now = self.env.now
        if desired > self.desired:
            self.scale_out_events += 1
            self.desired = desired
            self._fill(self.provisioning_delay_s, now)
        else:
            self.scale_in_events += 1
            self.desired = desired
            self._release_surplus(now, "scale_in")
        self.desired_log.append((now, desired))

    def slot_seconds(self) -> float:
        """Integral of slots taking requests, from 0 to now (slot-seconds)."""
        ledger = self._ledger
        now = self.env.now
        return ledger.slot_seconds + len(self.active) * self.data.spu * (now - ledger.since)

    def _fill(self, delay_s: float, requested_at: float, zone: int | None = None) -> None:
        """Provision units until in service plus pending reaches desired."""
        missing = self.desired - len(self.active) - self.pending
        for _ in range(max(missing, 0)):
            if delay_s > 0:
                self.env.process(self._provision(delay_s, requested_at, zone))
            else:
                self._add_unit(requested_at, zone)

    def _release_surplus(self, now: float, reason: str) -> None:
        for _ in range(len(self.active) - self.desired):
            unit_id = self.data.least_busy_unit()
            session = next(s for s in self.active if s.unit_id == unit_id)
            self._retire(session, now, self.data.remove_unit(unit_id, now), reason)

    def _provision(
        self, delay_s: float, requested_at: float, zone: int | None
    ) -> Generator[simpy.Event, None, None]:
        generation = self.generation
        self.pending += 1
        yield self.env.timeout(delay_s)
        if generation != self.generation:
            return  # the model was stopped meanwhile
        self.pending -= 1
        now = self.env.now
        self.data.advance(now)
        billed_from = requested_at if self.bill_provisioning else now
        if len(self.active) < self.desired and self._healthy_zone(zone) is not None:
            self._add_unit(billed_from, zone)
        elif self.bill_provisioning:
            # Provisioned, then no longer wanted: it never served but it was paid for.
            self.sessions.append(
                UnitSession(len(self.sessions), -1, requested_at, None, now, now, "unneeded")
            )

    # --- failures -----------------------------------------------------------------------

    def fail_unit(self, session: UnitSession) -> None:
        """A unit fails now; a replacement in its zone serves after the replacement delay."""
        now = self.env.now
        self.data.advance(now)
        event = self._event("unit_failure", session.zone, 1)
        self._retire(session, now, self.data.remove_unit(session.unit_id, now), "failure")
        self.env.process(self._replace(event, 1, session.zone))

    def zone_outage(self, zone: int, duration_s: float) -> Generator[simpy.Event, None, None]:
        """A zone goes down for ``duration_s``: its units leave and return afterwards."""
        now = self.env.now
        self.data.advance(now)
        self.zone_down[zone] = True
        lost = [s for s in self.active if s.zone == zone]
        event = self._event("az_outage", zone, len(lost))
        for session in lost:
            self._retire(session, now, self.data.remove_unit(session.unit_id, now), "az_outage")
        generation = self.generation
        if lost:
            self.env.process(self._replace(event, len(lost), None, close_event=False))
        yield self.env.timeout(duration_s)
        now = self.env.now
        self.data.advance(now)
        self.zone_down[zone] = False
        if self.hosted and generation == self.generation:
            # The zone's units return; the replacements started elsewhere make room first,
            # so the model never holds more than desired units.
            returning = len(lost)
            crowded = len(self.active) + self.pending + returning - self.desired
            for session in [r for r in event.replacements if r in self.active][:crowded]:
                self._retire(session, now, self.data.remove_unit(session.unit_id, now), "surplus")
            for _ in range(min(returning, self.desired - len(self.active) - self.pending)):
                self._add_unit(now, zone)
            self.top_up()
        self._close_event(event)

    def top_up(self) -> None:
        """Bring units in service up to desired at once, in healthy zones.

        Units that could not be placed while every zone was down are placed here, when a
        zone comes back.
        """
        now = self.env.now
        for _ in range(self.desired - len(self.active) - self.pending):
            if self._healthy_zone(None) is None:
                return
            self._add_unit(now)

    def _replace(
        self, event: FailureEvent, count: int, zone: int | None, close_event: bool = True
    ) -> Generator[simpy.Event, None, None]:
        """Replace ``count`` lost units (in ``zone`` if it is up) after the delay."""
        generation = self.generation
        yield self.env.timeout(self.replacement_delay_s)
        now = self.env.now
        self.data.advance(now)
        if generation == self.generation and self.hosted:
            for _ in range(min(count, self.desired - len(self.active) - self.pending)):
                if self._healthy_zone(zone) is None:
                    break
                session = self._add_unit(now, zone)
                if session is None:  # cannot happen: a healthy zone was found just above
                    break
                event.replacements.append(session)
                event.replaced_at.append(now)
        if close_event:
            self._close_event(event)

    def _event(self, kind: str, zone: int, units_lost: int) -> FailureEvent:
        offered, throttled = self._totals()
        event = FailureEvent(kind, zone, self.env.now, units_lost)
        event.offered_before, event.throttled_before = offered, throttled
        self.events.append(event)
        self._open_events += 1
        return event

    def _close_event(self, event: FailureEvent) -> None:
        offered, throttled = self._totals()
        self._open_events -= 1
        event.end_s = self.env.now
        event.offered = offered - event.offered_before
        event.throttled = throttled - event.throttled_before

    def _totals(self) -> tuple[int, int]:
        return int(self.data.offered.sum()), int(self.data.throttled.sum())

    # --- units --------------------------------------------------------------------------

    def _healthy_zone(self, preferred: int | None) -> int | None:
        """The zone for a new unit: the preferred one if up, else the least used one up."""
        if preferred is not None and not self.zone_down[preferred]:
            return preferred
        up = [z for z, down in enumerate(self.zone_down) if not down]
        if not up:
            return None
        used = np.bincount([s.zone for s in self.active], minlength=len(self.zone_down))
        return min(up, key=lambda z: (used[z], z))

    def _add_unit(self, billed_from: float, zone: int | None = None) -> UnitSession | None:
        zone = self._healthy_zone(zone)
        if zone is None:
            return None  # every zone is down: top_up() places it when one returns
        now = self.env.now
        self._account_slots(now)
        session = UnitSession(len(self.sessions), zone, billed_from, now)
        self.sessions.append(session)
        self.active.append(session)
        self.data.add_unit(session.unit_id, now)
        self.peak_units = max(self.peak_units, len(self.active))
        if self.on_unit_added is not None:
            self.on_unit_added(session)
        return session

    def _retire(self, session: UnitSession, now: float, drained: float, reason: str) -> None:
        self._account_slots(now)
        session.retired_at = now
        session.drained_at = drained
        session.ended_by = reason
        self.active.remove(session)

    def _account_slots(self, now: float) -> None:
        ledger = self._ledger
        ledger.slot_seconds += len(self.active) * self.data.spu * (now - ledger.since)
        ledger.since = now


def autoscaler(
    env: simpy.Environment,
    cluster: Cluster,
    policy: Policy,
    metric: str,
    mean_service_s: float,
    horizon_s: float,
) -> Generator[simpy.Event, None, None]:
    """Evaluate ``policy`` every ``policy.period_s`` seconds and apply its answer."""
    period = policy.period_s
    data = cluster.data
    last_slot_seconds = 0.0
    generation = cluster.generation
    while env.now + period < horizon_s:
        yield env.timeout(period)
        now = env.now
        data.advance(now)
        if cluster.generation != generation:  # stopped and started since: start afresh
            generation = cluster.generation
            policy.reset()
        m1 = round(now / 60)
        m0 = m1 - period // 60
        slot_seconds = cluster.slot_seconds()
        capacity = slot_seconds - last_slot_seconds
        last_slot_seconds = slot_seconds
        if not cluster.hosted or capacity <= 0:
            policy.reset()
            cluster.alarm = False
            continue
        if metric == "utilization":
            work = float(data.busy_s[m0:m1].sum())
        else:
            work = float(data.offered[m0:m1].sum()) * mean_service_s
        obs = Observation(
            time_s=now,
            metric_percent=100.0 * work / capacity,
            in_service=len(cluster.active),
            mean_in_service=capacity / (data.spu * period),
            desired=cluster.desired,
            pending=cluster.pending,
            min_units=cluster.min_units,
            max_units=cluster.max_units,
        )
        cluster.set_desired(policy.decide(obs))
        cluster.alarm = policy.breaching()
