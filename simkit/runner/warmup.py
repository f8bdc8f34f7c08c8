"""Imports done ahead of time, so a report pays for them once, or outside its critical path.

* :func:`warm_worker` runs when a batch worker process starts: the libraries a campaign's
  engines use (the forecast members' included) are imported once per worker, which then
  serves many campaigns, instead of once per report kernel.
* :func:`warm_kernel` runs when a report kernel starts (``--IPKernelApp.exec_lines``, see
  :data:`KERNEL_STARTUP_LINE`), while the worker is still fitting that campaign's engines:
  simkit and the report's display libraries are imported, and the chart renderer draws one
  tiny chart (its first drawing starts a JavaScript engine, about a second).

Neither changes a number: they only import modules and draw a chart nobody sees.
"""

from __future__ import annotations

import importlib
import logging

__all__ = ["KERNEL_STARTUP_LINE", "WORKER_IMPORTS", "KERNEL_IMPORTS", "warm_kernel", "warm_worker"]

log = logging.getLogger(__name__)

#: What a report's engines import: once per worker process.
WORKER_IMPORTS = (
    "simkit.report",
    "simkit.report.engines",
    "simkit.forecast",
    "simkit.simulate",
    "simkit.risk",
    "simkit.market",
    "simkit.pivots",
    "statsmodels.tsa.holtwinters",
    "statsmodels.tsa.arima.model",
    "prophet",
    "papermill",
    "nbconvert",
)

#: What the report notebook's cells import: once per kernel, before its first cell.
KERNEL_IMPORTS = (
    "simkit",
    "simkit.report",
    "simkit.report.engines",
    "simkit.forecast",
    "simkit.simulate",
    "simkit.risk",
    "simkit.viz",
    "altair",
)

#: The kernel's start-up line: it leaves no name in the notebook's namespace.
KERNEL_STARTUP_LINE = "__import__('simkit.runner.warmup').runner.warmup.warm_kernel()"


def _import_all(names: tuple[str, ...]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:  # an optional library: the report says so when used
            log.info("could not import %s ahead of time: %s", name, exc)


#: What only a notebook-rendering worker needs (left out with ``publish: summary``).
RENDER_IMPORTS = ("papermill", "nbconvert")


def warm_worker(*, summary_only: bool = False) -> None:
    """Import what a campaign's engines use (batch worker start-up); with
    ``summary_only`` (``publish: summary``) not the notebook and HTML libraries."""
    names = tuple(n for n in WORKER_IMPORTS if not (summary_only and n in RENDER_IMPORTS))
    _import_all((*names, "simkit.report.campaign"))


def warm_kernel() -> None:
    """Import what the report's cells use and start the SVG chart renderer."""
    _import_all(KERNEL_IMPORTS)
    try:
        import vl_convert

        vl_convert.vegalite_to_svg({"mark": "point", "data": {"values": [{"x": 0}]}})
    except Exception as exc:  # noqa: BLE001 - a warm-up never fails a kernel
        log.info("could not start the chart renderer ahead of time: %s", exc)
