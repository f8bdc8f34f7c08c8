"""Engine results computed by the batch worker and handed to the report's kernel.

A report's cost is the fitting (forecast ensemble, backtest, simulation, risk detectors)
and the import of the libraries that fit.  A batch worker imports them once and serves many
campaigns, while each report kernel is a new process.  So :func:`simkit.runner.execute_job`
runs :func:`~simkit.report.engines.run_engines` in the worker, writes the results to a
private file with :func:`save`, and names that file to the kernel in the environment
variable :data:`ENV_VAR`.  The notebook's own call, ``report.build_campaign_report(params)``,
reaches :func:`~simkit.report.engines.run_engines`, which asks :func:`load` first: when the
file is there and was made for the same campaign, parameters, data and simkit, the kernel
only builds and shows the sections; otherwise (a notebook run alone, by nbval, in Voila, or
any mismatch) it computes as before.  The numbers are the same either way: both paths call
the same function with the same inputs and seed: the fitting is done once per campaign,
in the warm worker, not in the kernel's cold start.

The file is a pickle: it is written by this user's own worker into a folder only that user
can read (:func:`tempfile.mkdtemp`), read by the kernel the worker started, and deleted when
the job ends.  It never lies in the output folder and is never published.
"""

from __future__ import annotations

import logging
import os
import pickle
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simkit import __version__

if TYPE_CHECKING:
    from simkit.report.context import CampaignContext
    from simkit.report.engines import EngineResults

__all__ = ["ENV_VAR", "handoff_key", "load", "save"]

log = logging.getLogger(__name__)

#: The environment variable naming the handed-over results file (set only for the kernel).
ENV_VAR = "SIMKIT_ENGINE_RESULTS"


def handoff_key(ctx: CampaignContext) -> dict[str, Any]:
    """What the results depend on: the campaign, the parameters and data (their hashes),
    the campaign's state, the day (the loader's "today") and the simkit version."""
    return {
        "campaign_id": ctx.campaign_id,
        "params_hash": ctx.params_hash,
        "data_hash": ctx.data_hash,
        "state": ctx.state,
        "last_date": None if ctx.last_date is None else str(ctx.last_date),
        "today": date.today().isoformat(),
        "simkit": __version__,
    }


def save(path: str | Path, ctx: CampaignContext, results: EngineResults) -> None:
    """Write ``results`` for ``ctx`` to ``path`` (a file in a private temporary folder)."""
    payload = {"key": handoff_key(ctx), "results": results}
    tmp = Path(f"{path}.tmp")
    with open(tmp, "wb") as fh:
        pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def load(ctx: CampaignContext) -> EngineResults | None:
    """The results handed over for ``ctx``, or ``None`` (no file named, unreadable, or made
    for other inputs: the caller then computes them)."""
    path = os.environ.get(ENV_VAR)
    if not path:
        return None
    try:
        with open(path, "rb") as fh:
            payload = pickle.load(fh)  # noqa: S301 - our own worker's private file
    except FileNotFoundError:
        return None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        log.info("engine results in %s not usable (%s); computing them", path, exc)
        return None
    if not isinstance(payload, dict) or payload.get("key") != handoff_key(ctx):
        log.info("engine results in %s were made for other inputs; computing them", path)
        return None
    return payload["results"]
