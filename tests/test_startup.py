"""`import lfvsim` is light: the heavy libraries load when a name that needs them is used."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import lfvsim

HEAVY = ("pandas", "numba", "matplotlib", "boto3", "pydantic", "pyarrow")


def loaded_after(code: str) -> list[str]:
    """The heavy modules a fresh interpreter holds after running ``code``."""
    probe = (
        f"{code}\nimport sys, json\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_lfvsim_loads_no_heavy_library():
    assert loaded_after("import lfvsim; lfvsim.__version__") == []


def test_a_public_name_loads_what_it_needs():
    assert {"pandas", "numba"} <= set(loaded_after("import lfvsim; lfvsim.simulate"))


def test_every_public_name_resolves_and_unknown_names_fail():
    for name in lfvsim.__all__:
        assert getattr(lfvsim, name) is not None
    assert set(lfvsim.__all__) <= set(dir(lfvsim))
    with pytest.raises(AttributeError, match="no_such_name"):
        lfvsim.no_such_name  # noqa: B018
