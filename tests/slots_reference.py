"""The former replay through the slots, a min-heap of every admitted request: the
reference :func:`lfvsim.engine.loss_replay.slots_replay_busy` must equal."""

from __future__ import annotations

import numpy as np
from numba import njit

from lfvsim.engine.loss_replay import _pop, _push


@njit(cache=True, nogil=True)
def slots_replay(offsets, services, minute_first, units_start, units_end, change_s, slots,
                 throttled):  # fmt: skip
    """Throttles per minute of ``slots`` slots per unit in service, no retries.

    Minute ``m``'s arrivals come ``offsets[minute_first[m]:minute_first[m + 1]]`` seconds
    (sorted) after its start, and each takes ``services[j]`` seconds once admitted.
    ``units_start[m]`` units serve from the minute's start and ``units_end[m]`` from
    ``change_s[m]`` seconds into it; a unit removed lets its requests finish. ``throttled[m]``
    is set.
    """
    most = int(units_start.max()) if units_start.shape[0] else 0
    most = max(most, int(units_end.max()) if units_end.shape[0] else 0)
    heap = np.empty(most * slots + 1)
    n = 0
    for m in range(units_start.shape[0]):
        t0 = m * 60.0
        t_change = t0 + change_s[m]
        count = 0
        for j in range(minute_first[m], minute_first[m + 1]):
            t = t0 + offsets[j]
            units = units_end[m] if t >= t_change else units_start[m]
            while n > 0 and heap[0] <= t:
                n = _pop(heap, n)
            if n < units * slots:
                n = _push(heap, n, t + services[j])
            else:
                count += 1
        throttled[m] = count
    return throttled
