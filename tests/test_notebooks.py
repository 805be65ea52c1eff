"""The notebooks in ``notebooks/``: stored clean, and run top to bottom on small inputs.

Each notebook runs in a fresh kernel of this interpreter (a kernel spec written to a
temporary folder, so nothing is registered and no other Python is picked up), in a temporary
working folder, with small parameters injected after its ``parameters`` cell the way
papermill does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = ROOT / "notebooks"
NAMES = (
    "01_quickstart.ipynb",
    "02_choose_max_inference_units.ipynb",
    "03_seed_from_describe_model.ipynb",
)
SMALL: dict[str, dict[str, Any]] = {
    "01_quickstart.ipynb": {
        "scenario_path": str(ROOT / "scenarios" / "quickstart.toml"),
        "hours": 3.0,
        "seed": 4,
    },
    "02_choose_max_inference_units.ipynb": {
        "scenario_path": str(ROOT / "scenarios" / "quickstart.toml"),
        "hours": 2.0,
        "min_units": [1],
        "max_units": [1, 2, 3],
        "replications": 2,
        "max_throttle_rate": 0.05,
        "workers": 1,
    },
    "03_seed_from_describe_model.ipynb": {
        "describe_model_path": str(
            ROOT / "scenarios" / "data" / "circuit-boards-describe-model.json"
        ),
        "hours": 2.0,
        "extra_max_units": 0,
        "replications": 2,
        "workers": 1,
    },
}


def _read(name: str):
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def _parameters_index(nb) -> int:
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    return tagged[0]


def _kernel_manager(folder: Path):
    """A kernel manager for this interpreter's ipykernel, from a private kernel spec."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec = folder / "kernels" / "lfvsim-tests"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "lfvsim tests",
                "language": "python",
            }
        )
    )
    specs = KernelSpecManager(kernel_dirs=[str(folder / "kernels")], ensure_native_kernel=False)
    return KernelManager(kernel_name="lfvsim-tests", kernel_spec_manager=specs)


def run_notebook(name: str, parameters: dict[str, Any], folder: Path):
    """Execute a notebook with ``parameters`` injected; returns the executed notebook."""
    nb = _read(name)
    index = _parameters_index(nb)
    source = "\n".join(f"{key} = {value!r}" for key, value in parameters.items())
    injected = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(index + 1, injected)
    work = folder / "work"
    work.mkdir()
    client = nbclient.NotebookClient(
        nb,
        km=_kernel_manager(folder),
        timeout=120,
        resources={"metadata": {"path": str(work)}},
    )
    client.execute()
    return nb


def _outputs(nb, output_type: str | None = None) -> list[dict]:
    return [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if output_type is None or o.output_type == output_type
    ]


def _images(nb) -> int:
    return sum("image/png" in o.get("data", {}) for o in _outputs(nb))


def _text(nb) -> str:
    parts = []
    for o in _outputs(nb):
        parts.append(o.get("text", ""))
        parts.append(o.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


# --- stored clean --------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stored_without_outputs_and_valid(name):
    nb = _read(name)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], "stored with outputs"
            assert cell.execution_count is None, "stored with execution counts"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_has_parameters_imports_lfvsim_and_no_model_code(name):
    nb = _read(name)
    index = _parameters_index(nb)
    params = nb.cells[index].source
    for key in SMALL[name]:
        assert f"{key} = " in params, f"parameter {key} missing from the parameters cell"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "import lfvsim" in code
    for model_code in ("def ", "class ", "import simpy", "import numba", "lambda "):
        assert model_code not in code, f"{model_code!r}: model code belongs in lfvsim"


# --- executed ------------------------------------------------------------------------------


def test_quickstart_runs_and_shows_the_timeline(tmp_path):
    nb = run_notebook("01_quickstart.ipynb", SMALL["01_quickstart.ipynb"], tmp_path)
    assert _images(nb) == 2  # the timeline and the cost
    text = _text(nb)
    assert "factory-line-1 version 1" in text
    assert "InServiceInferenceUnits" in text
    assert "assumed:" in text
    assert not list(tmp_path.joinpath("work").iterdir()), "the notebook wrote files"


def test_choose_max_inference_units_recommends_and_draws_the_frontier(tmp_path):
    name = "02_choose_max_inference_units.ipynb"
    nb = run_notebook(name, SMALL[name], tmp_path)
    assert _images(nb) == 4  # frontier, two heatmaps, the chosen run's timeline
    text = _text(nb)
    assert "recommended: Min 1" in text
    assert '"ClientToken"' in text
    assert "10 runs" in text  # (Max 1, 2, 3, none, oracle) x 2 replications


def test_seed_from_describe_model_uses_the_described_model(tmp_path):
    name = "03_seed_from_describe_model.ipynb"
    nb = run_notebook(name, SMALL[name], tmp_path)
    assert _images(nb) == 2  # the described model's timeline and the frontier
    text = _text(nb)
    assert "circuit-boards" in text
    assert "eu-west-1" in text
    assert "Min 2, Max 5:" in text  # the units DescribeModel reported
    assert '"ProjectName": "circuit-boards"' in text
