"""Unit and Availability Zone failures (what-if events).

Units are spread over Availability Zones: a new unit goes to the healthy zone with the
fewest units, so Min units start round-robin. A failed unit is replaced in its zone after
``replacement_delay_s``. During a zone outage that zone's units are out of service and
calls go to the rest; lost units are replaced in healthy zones after the same delay, and
when the zone comes back its units return and any surplus is released.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from lfvsim._schema import Section, assumed

__all__ = ["MIN_UNIT_MTBF_H", "Failures", "Outage"]

#: Smallest mean time between failures of a unit (h): six minutes.
MIN_UNIT_MTBF_H = 0.1


class Outage(Section):
    """A scheduled outage of one Availability Zone."""

    zone: int = Field(..., ge=0, description="zone index, 0-based")
    start_h: float = Field(..., ge=0, description="hours after the trace start")
    duration_h: float = Field(..., gt=0, description="length of the outage (h)")


class Failures(Section):
    """Zones, unit failures and zone outages."""

    # AWS regions have 2 to 6 zones; 10^9 of them hung before the run began.
    availability_zones: int = Field(3, ge=1, le=100, description="zones the units are spread over")
    # At least 6 minutes: a unit failing more often than that is no what-if of a hosted
    # model; each failure bills a metering interval whole and is a simulated event, so
    # 0.0001 h billed USD 2,600 for 2 h and 1e-9 h served nothing for a very long run.
    unit_mtbf_h: float | None = assumed(
        None,
        "mean time between failures of one unit (h, at least 0.1); unset: units do not fail",
        ge=MIN_UNIT_MTBF_H,
    )
    replacement_delay_s: float = assumed(
        600.0, "from a unit's loss until its replacement serves (s)", ge=0
    )
    outages: tuple[Outage, ...] = Field((), description="scheduled zone outages")

    @model_validator(mode="after")
    def _zones_exist(self) -> Failures:
        for outage in self.outages:
            if outage.zone >= self.availability_zones:
                raise ValueError(
                    f"outage zone {outage.zone} does not exist with "
                    f"availability_zones = {self.availability_zones}; zones are 0-based"
                )
        return self
