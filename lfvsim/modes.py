"""The operating modes ``compare`` sets side by side, named once.

A module of its own, without imports, so that ``lfvsim compare --help`` shows the modes
without loading the experiments floor (pandas, numba) that runs them.
"""

from __future__ import annotations

__all__ = ["MODES_HELP"]

MODES_HELP = (
    "no-auto-scaling[:N] (N units, no MaxInferenceUnits; default: Max, else Min; "
    "always-on[:N] is the same), autoscaled "
    "(the scenario's Min/Max, hosted all the time), schedule:FILE (hosted in the windows "
    "of FILE's hosting section), batch, scenario (the file as it is)"
)
