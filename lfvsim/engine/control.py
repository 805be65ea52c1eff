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

from lfvsim.billing import billed_until_s
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
    (``scale_in``, ``surplus``, ``stop``, ``failure``, ``az_outage``, ``end``,
    ``unneeded``); ``billed_to`` is when billing ends
    (:func:`lfvsim.billing.billed_until_s`, cut at a later StopModel). A unit provisioned
    and then not needed has ``in_service_from = None``.
    """

    unit_id: int
    zone: int
    billed_from: float
    in_service_from: float | None
    retired_at: float | None = None
    drained_at: float | None = None
    ended_by: str = ""
    billed_to: float | None = None


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
        # Units in service by id, and per zone: constant-time lookups keep the bookkeeping
        # linear in the number of units.
        self.active: dict[int, UnitSession] = {}
        self._zone_units = [0] * zones
        # Scale-in units billed past their retirement, still draining (see _retire_all).
        self._draining: list[UnitSession] = []
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
        self._add_units(units, now if billed_from is None else billed_from)

    def stop_model(self, reason: str = "stop") -> None:
        """StopModel: every unit leaves, pending work is cancelled, waiting calls fail.

        Billing of every unit ends now, also of units still finishing in-flight calls
        after a scale-in: the model is no longer hosted.
        """
        now = self.env.now
        self.data.refuse_waiting()
        self._retire_all(list(self.active.values()), now, reason)
        for session in self._draining:
            # Draining units were retired, so their billed end is set.
            if session.billed_to is not None:
                session.billed_to = min(session.billed_to, now)
        self._draining = []
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

    def is_active(self, session: UnitSession) -> bool:
        """Whether ``session`` is a unit in service now."""
        return self.active.get(session.unit_id) is session

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
        missing = max(self.desired - len(self.active) - self.pending, 0)
        if delay_s > 0:
            for _ in range(missing):
                self.env.process(self._provision(delay_s, requested_at, zone))
        else:
            self._add_units(missing, requested_at, zone)

    def _release_surplus(self, now: float, reason: str) -> None:
        surplus = len(self.active) - self.desired
        if surplus <= 0:
            return
        ids = self.data.least_busy_units(surplus)
        self._retire_all([self.active[int(i)] for i in ids], now, reason)

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
            billed_to = billed_until_s("unneeded", now, now)
            self.sessions.append(
                UnitSession(
                    len(self.sessions), -1, requested_at, None, now, now, "unneeded", billed_to
                )
            )

    # --- failures -----------------------------------------------------------------------

    def fail_unit(self, session: UnitSession) -> None:
        """A unit fails now; a replacement in its zone serves after the replacement delay."""
        now = self.env.now
        self.data.advance(now)
        event = self._event("unit_failure", session.zone, 1)
        self._retire_all([session], now, "failure")
        self.env.process(self._replace(event, 1, session.zone))

    def zone_outage(self, zone: int, duration_s: float) -> Generator[simpy.Event, None, None]:
        """A zone goes down for ``duration_s``: its units leave and return afterwards."""
        now = self.env.now
        self.data.advance(now)
        self.zone_down[zone] = True
        lost = [s for s in self.active.values() if s.zone == zone]
        event = self._event("az_outage", zone, len(lost))
        self._retire_all(lost, now, "az_outage")
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
            crowded = max(len(self.active) + self.pending + returning - self.desired, 0)
            surplus = [r for r in event.replacements if self.is_active(r)][:crowded]
            self._retire_all(surplus, now, "surplus")
            self._add_units(
                min(returning, self.desired - len(self.active) - self.pending), now, zone
            )
            self.top_up()
        self._close_event(event)

    def top_up(self) -> None:
        """Bring units in service up to desired at once, in healthy zones.

        Units that could not be placed while every zone was down are placed here, when a
        zone comes back.
        """
        self._add_units(self.desired - len(self.active) - self.pending, self.env.now)

    def _replace(
        self, event: FailureEvent, count: int, zone: int | None, close_event: bool = True
    ) -> Generator[simpy.Event, None, None]:
        """Replace ``count`` lost units (in ``zone`` if it is up) after the delay."""
        generation = self.generation
        yield self.env.timeout(self.replacement_delay_s)
        now = self.env.now
        self.data.advance(now)
        if generation == self.generation and self.hosted:
            added = self._add_units(
                min(count, self.desired - len(self.active) - self.pending), now, zone
            )
            event.replacements += added
            event.replaced_at += [now] * len(added)
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
        return min(up, key=lambda z: (self._zone_units[z], z))

    def _add_unit(self, billed_from: float, zone: int | None = None) -> UnitSession | None:
        added = self._add_units(1, billed_from, zone)
        return added[0] if added else None

    def _add_units(
        self, count: int, billed_from: float, zone: int | None = None
    ) -> list[UnitSession]:
        """Put ``count`` units in service now, each in :meth:`_healthy_zone`.

        While every zone is down none is placed: :meth:`top_up` places them when one
        returns.
        """
        if count <= 0 or self._healthy_zone(zone) is None:
            return []
        now = self.env.now
        self._account_slots(now)
        added: list[UnitSession] = []
        for _ in range(count):
            where = self._healthy_zone(zone)
            if where is None:
                break
            session = UnitSession(len(self.sessions), where, billed_from, now)
            self.sessions.append(session)
            self.active[session.unit_id] = session
            self._zone_units[where] += 1
            added.append(session)
        if not added:
            return added
        self.data.add_units(np.array([s.unit_id for s in added], np.int64), now)
        self.peak_units = max(self.peak_units, len(self.active))
        if self.on_unit_added is not None:
            for session in added:
                self.on_unit_added(session)
        return added

    def _retire_all(self, sessions: list[UnitSession], now: float, reason: str) -> None:
        """Units leave now: they take no more requests; billing ends by ``reason``."""
        if not sessions:
            return
        # A drain over by now is billed in full by any later StopModel (the cut below is a
        # min): only units still draining are kept, so the list does not grow with time.
        self._draining = [d for d in self._draining if d.billed_to is None or d.billed_to > now]
        self._account_slots(now)
        ids = np.array([s.unit_id for s in sessions], np.int64)
        drained = self.data.remove_units(ids, now)
        for session, drained_at in zip(sessions, drained.tolist(), strict=True):
            session.retired_at = now
            session.drained_at = drained_at
            session.ended_by = reason
            session.billed_to = billed_until_s(reason, now, drained_at)
            if session.billed_to > now:
                self._draining.append(session)
            del self.active[session.unit_id]
            self._zone_units[session.zone] -= 1

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
