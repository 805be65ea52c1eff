"""The control plane in SimPy: units coming into and out of service, and the autoscaler.

Control events are few (one evaluation a period, one event per provisioned unit). Before
any of them reads a metric or changes capacity at time ``t``, the data plane is advanced
to ``t``, so a batch of requests never straddles a capacity change.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import simpy

from lfvsim.engine.dataplane import DataPlane
from lfvsim.policies import Observation

__all__ = ["Cluster", "UnitSession", "autoscaler"]


@dataclass
class UnitSession:
    """The life of one inference unit, in seconds since the trace start.

    ``billed_from`` is the scale-out decision when provisioning is billed, else
    ``in_service_from``. ``retired_at`` is when it stopped taking requests and
    ``drained_at`` when its last request ended; both are ``None`` while it serves.
    A unit that was provisioned and then not needed has ``in_service_from = None``.
    """

    unit_id: int
    billed_from: float
    in_service_from: float | None
    retired_at: float | None = None
    drained_at: float | None = None


class Cluster:
    """The model's inference units: in service, being provisioned, and desired.

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
    """

    def __init__(
        self,
        env: simpy.Environment,
        data: DataPlane,
        min_units: int,
        max_units: int,
        provisioning_delay_s: float,
        bill_provisioning: bool,
    ) -> None:
        self.env = env
        self.data = data
        self.min_units = min_units
        self.max_units = max_units
        self.provisioning_delay_s = provisioning_delay_s
        self.bill_provisioning = bill_provisioning
        self.active: list[UnitSession] = []
        self.sessions: list[UnitSession] = []
        self.pending = 0
        self.desired = 0
        self.desired_log: list[tuple[float, int]] = []
        self.scale_out_events = 0
        self.scale_in_events = 0
        self.peak_units = 0
        self._slot_seconds = 0.0
        self._slot_seconds_t = 0.0

    def start(self, units: int) -> None:
        """Bring ``units`` into service at once (the model is already hosted)."""
        self.desired = units
        self.desired_log.append((self.env.now, units))
        for _ in range(units):
            self._add_unit(self.env.now)

    def set_desired(self, desired: int) -> None:
        """Move DesiredInferenceUnits; the data plane must be advanced to now."""
        desired = min(max(desired, self.min_units), self.max_units)
        if desired == self.desired:
            return
        now = self.env.now
        if desired > self.desired:
            self.scale_out_events += 1
            missing = desired - len(self.active) - self.pending
            for _ in range(max(missing, 0)):
                if self.provisioning_delay_s > 0:
                    self.env.process(self._provision(now))
                else:
                    self._add_unit(now)
        else:
            self.scale_in_events += 1
            for _ in range(len(self.active) - desired):
                self._retire_one(now)
        self.desired = desired
        self.desired_log.append((now, desired))

    def slot_seconds(self) -> float:
        """Integral of slots taking requests, from 0 to now (slot-seconds)."""
        now = self.env.now
        return self._slot_seconds + len(self.active) * self.data.spu * (now - self._slot_seconds_t)

    def close(self, horizon_s: float) -> None:
        """Stop the model at the end of the simulation."""
        for session in list(self.active):
            self._retire(session, horizon_s, drained=horizon_s)

    # --- internals ----------------------------------------------------------------------

    def _provision(self, requested_at: float) -> Generator[simpy.Event, None, None]:
        self.pending += 1
        yield self.env.timeout(self.provisioning_delay_s)
        self.pending -= 1
        now = self.env.now
        self.data.advance(now)
        if len(self.active) < self.desired:
            self._add_unit(requested_at if self.bill_provisioning else now)
        elif self.bill_provisioning:
            # Provisioned, then no longer wanted: it never served but it was paid for.
            self.sessions.append(UnitSession(len(self.sessions), requested_at, None, now, now))

    def _add_unit(self, billed_from: float) -> None:
        now = self.env.now
        self._account_slots(now)
        session = UnitSession(len(self.sessions), billed_from, now)
        self.sessions.append(session)
        self.active.append(session)
        self.data.add_unit(session.unit_id, now)
        self.peak_units = max(self.peak_units, len(self.active))

    def _retire_one(self, now: float) -> None:
        unit_id = self.data.least_busy_unit()
        session = next(s for s in self.active if s.unit_id == unit_id)
        self._retire(session, now, drained=self.data.remove_unit(unit_id, now))

    def _retire(self, session: UnitSession, now: float, drained: float) -> None:
        self._account_slots(now)
        session.retired_at = now
        session.drained_at = drained
        self.active.remove(session)

    def _account_slots(self, now: float) -> None:
        self._slot_seconds += len(self.active) * self.data.spu * (now - self._slot_seconds_t)
        self._slot_seconds_t = now


def autoscaler(
    env: simpy.Environment,
    cluster: Cluster,
    policy,
    metric: str,
    mean_service_s: float,
    horizon_s: float,
) -> Generator[simpy.Event, None, None]:
    """Evaluate ``policy`` every ``policy.period_s`` seconds and apply its answer."""
    period = policy.period_s
    data = cluster.data
    last_slot_seconds = 0.0
    while env.now + period < horizon_s:
        yield env.timeout(period)
        now = env.now
        data.advance(now)
        m1 = round(now / 60)
        m0 = m1 - period // 60
        slot_seconds = cluster.slot_seconds()
        capacity = slot_seconds - last_slot_seconds
        last_slot_seconds = slot_seconds
        if metric == "utilization":
            work = float(data.busy_s[m0:m1].sum())
        else:
            work = float(data.offered[m0:m1].sum()) * mean_service_s
        percent = 100.0 * work / capacity if capacity > 0 else 100.0
        obs = Observation(
            time_s=now,
            metric_percent=percent,
            in_service=len(cluster.active),
            desired=cluster.desired,
            pending=cluster.pending,
            min_units=cluster.min_units,
            max_units=cluster.max_units,
        )
        cluster.set_desired(policy.decide(obs))
