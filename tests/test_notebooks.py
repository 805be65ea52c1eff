"""The notebooks in ``notebooks/``: stored clean, and run as reports through papermill.

Each notebook runs through papermill with small, non-default parameters, in a fresh kernel
of this interpreter (a kernel spec written to a temporary folder, so nothing is registered
and no other Python is picked up) and a temporary working folder; the outputs must show the
parameters given. Papermill must read every parameter of the ``parameters`` cell, with its
type, without a warning.
"""

from __future__ import annotations

import ast
import json
import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

nbformat = pytest.importorskip("nbformat")
papermill = pytest.importorskip("papermill")
pytest.importorskip("ipykernel")

NOTEBOOKS = ROOT / "notebooks"
NAMES = (
    "01_quickstart.ipynb",
    "02_choose_max_inference_units.ipynb",
    "03_seed_from_describe_model.ipynb",
    "04_calibrate_from_cloudwatch.ipynb",
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
        "seed": 7,
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
    "04_calibrate_from_cloudwatch.ipynb": {
        "scenario_path": str(ROOT / "scenarios" / "quickstart.toml"),
        "hours": 8.0,
        "mean_tps": 8.0,
        "true_target_percent": 45.0,
        "true_scale_out_datapoints": 2,
        "true_slots": 6,
        "seed": 3,
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


def _papermill_warnings(caplog) -> list[str]:
    """Papermill's own warnings (a parameter it cannot parse, an unknown one); the kernel's
    shutdown chatter is not about the notebook."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("papermill") and r.levelno >= logging.WARNING
    ]


def run_notebook(name: str, parameters: dict[str, Any], folder: Path, caplog):
    """Execute a notebook through papermill with ``parameters``; returns the executed notebook.

    Papermill must not warn (an unknown parameter, a line it cannot parse).
    """
    work = folder / "work"
    work.mkdir()
    with caplog.at_level(logging.WARNING, logger="papermill"):
        nb = papermill.execute_notebook(
            str(NOTEBOOKS / name),
            str(folder / name),
            parameters=parameters,
            cwd=str(work),
            progress_bar=False,
            km=_kernel_manager(folder),
            execution_timeout=120,
        )
    assert not _papermill_warnings(caplog)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1, "papermill injected no parameters"
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


def _assigned(source: str) -> list[str]:
    """Names the parameters cell assigns, in order."""
    names = []
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names += [t.id for t in targets]
    return names


@pytest.mark.parametrize("name", NAMES)
def test_papermill_reads_every_parameter_with_its_type(name, caplog):
    nb = _read(name)
    assigned = _assigned(nb.cells[_parameters_index(nb)].source)
    with caplog.at_level(logging.WARNING, logger="papermill"):
        inferred = papermill.inspect_notebook(str(NOTEBOOKS / name))
    assert not _papermill_warnings(caplog)
    assert list(inferred) == assigned
    for key, param in inferred.items():
        assert param["inferred_type_name"] not in ("None", ""), f"{key}: no type"
        assert param["help"], f"{key}: no help comment"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_has_parameters_imports_lfvsim_and_no_model_code(name):
    nb = _read(name)
    assigned = _assigned(nb.cells[_parameters_index(nb)].source)
    for key in SMALL[name]:
        assert key in assigned, f"parameter {key} missing from the parameters cell"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "import lfvsim" in code
    for model_code in ("def ", "class ", "import simpy", "import numba", "lambda "):
        assert model_code not in code, f"{model_code!r}: model code belongs in lfvsim"


# --- executed ------------------------------------------------------------------------------


def test_quickstart_runs_and_shows_the_timeline(tmp_path, caplog):
    nb = run_notebook("01_quickstart.ipynb", SMALL["01_quickstart.ipynb"], tmp_path, caplog)
    assert _images(nb) == 2  # the timeline and the cost
    text = _text(nb)
    assert "simulated 3 h with seed 4" in text  # hours and seed as given, not the defaults
    assert "factory-line-1 version 1" in text
    assert "InServiceInferenceUnits" in text
    assert "assumed:" in text
    assert not list(tmp_path.joinpath("work").iterdir()), "the notebook wrote files"


def test_choose_max_inference_units_recommends_and_draws_the_frontier(tmp_path, caplog):
    name = "02_choose_max_inference_units.ipynb"
    nb = run_notebook(name, SMALL[name], tmp_path, caplog)
    assert _images(nb) == 4  # frontier, two heatmaps, the chosen run's timeline
    text = _text(nb)
    assert "recommended: Min 1" in text
    assert '"ClientToken"' in text
    assert "10 runs" in text  # (Max 1, 2, 3, none, oracle) x 2 replications
    assert "seed 7" in text
    assert "target 5%" in text  # max_throttle_rate 0.05


def test_seed_from_describe_model_uses_the_described_model(tmp_path, caplog):
    name = "03_seed_from_describe_model.ipynb"
    nb = run_notebook(name, SMALL[name], tmp_path, caplog)
    assert _images(nb) == 2  # the described model's timeline and the frontier
    text = _text(nb)
    assert "circuit-boards" in text
    assert "eu-west-1" in text
    assert "Min 2, Max 5:" in text  # the units DescribeModel reported
    assert " over 2 h," in text  # hours 2, not the default 24
    assert '"ProjectName": "circuit-boards"' in text


def test_calibrate_from_cloudwatch_recovers_the_values_that_made_the_history(tmp_path, caplog):
    name = "04_calibrate_from_cloudwatch.ipynb"
    nb = run_notebook(name, SMALL[name], tmp_path, caplog)
    text = _text(nb)
    assert "history: 480 minutes" in text  # hours 8, not the default 12
    assert "target_percent = 4" in text  # the true 45 % comes back as 4x.x
    assert "scale_out_datapoints = 2  # calibrated from" in text
    assert "slots = 6  # calibrated from" in text
    assert "calibrated: unit.slots = 6" in text
    assert not list(tmp_path.joinpath("work").iterdir()), "the notebook wrote files"
