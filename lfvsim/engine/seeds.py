"""The seed of a run or an experiment: given, else the scenario's, else a fallback."""

from __future__ import annotations

import numpy as np

from lfvsim.errors import InputError
from lfvsim.scenario import Scenario

__all__ = ["resolve_seed"]


def resolve_seed(seed: int | None, scenario: Scenario, fallback: int | None = None) -> int:
    """The seed to run with: ``seed``, else ``simulation.seed``, else ``fallback``.

    Parameters
    ----------
    seed : int, optional
        The seed asked for (``--seed``).
    scenario : Scenario
        Its ``simulation.seed`` is the default.
    fallback : int, optional
        The seed when neither is set; None draws fresh entropy (63 bits), which the caller
        records so the run can be repeated.

    Raises
    ------
    InputError
        A negative seed.
    """
    if seed is None:
        seed = scenario.simulation.seed
    if seed is None:
        seed = fallback
    if seed is None:
        entropy = np.random.SeedSequence().entropy
        assert isinstance(entropy, int)  # a SeedSequence made without entropy draws an int
        seed = entropy % (2**63)
    if seed < 0:
        raise InputError(f"seed {seed} is negative; use a seed >= 0")
    return seed
