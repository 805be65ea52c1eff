"""The reports floor: what people read and look at, built from what the lower floors made.

It owns the readers of run folders and sweep tables (:mod:`~lfvsim.reports.readers`), the
figures (data preparation in :mod:`~lfvsim.reports.plotdata`, drawing in
:mod:`~lfvsim.reports.plots`, figures by name in :mod:`~lfvsim.reports.figures`), the
report's content (:mod:`~lfvsim.reports.content`) and layout
(:mod:`~lfvsim.reports.template`), and the wording of numbers and of the recommendation
that the report, the command line and the notebooks share
(:mod:`~lfvsim.reports.formatting`). It reads from the traces, engine and experiments
floors and is read only by the command line and notebooks.

>>> from lfvsim.reports import build_report, read_sweep
>>> build_report(scenario, sweep=read_sweep("sweep.parquet")).write("report.html")
"""

from lfvsim.reports.content import Report, build_report, report_format
from lfvsim.reports.figures import (
    FIGURE_KINDS,
    IMAGE_FORMATS,
    RUN_KINDS,
    SWEEP_KINDS,
    render_figure,
    save_figure,
)
from lfvsim.reports.readers import read_run, read_sweep

__all__ = [
    "FIGURE_KINDS",
    "IMAGE_FORMATS",
    "RUN_KINDS",
    "SWEEP_KINDS",
    "Report",
    "build_report",
    "read_run",
    "read_sweep",
    "render_figure",
    "report_format",
    "save_figure",
]
