"""``python -m lfvsim.cli``."""

from lfvsim.cli import entry_point

entry_point()
