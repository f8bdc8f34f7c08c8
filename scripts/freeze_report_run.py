"""Regenerate the frozen run in ``tests/data/report/run`` from the code.

The portfolio-report tests and the notebooks' default parameters read that folder as a
finished ``simkit run`` of ``tests/data/report/campaigns.csv``.  Its numbers come from the
engines, so ``tests/report/test_frozen_run.py`` rebuilds them with :func:`freeze` and
compares them with the committed files (numbers with a tolerance, STYLE.md 15); when an
engine changes on purpose, regenerate and commit the diff with the change::

    .venv/bin/python scripts/freeze_report_run.py            # writes tests/data/report/run
    .venv/bin/python scripts/freeze_report_run.py OUT_DIR    # elsewhere

The run uses ``params/demo.yaml``'s engine settings (seed 7, 30 days, seasonal_naive, ets
and prophet, 3 backtest cutoffs, 2,000 paths).  Each campaign's ``summary.json`` is what
the campaign notebook publishes (:func:`simkit.report.build_campaign_report`), built here
in process without Papermill; ``pivots.json`` is :func:`simkit.report.pivots.compute_run_pivots`;
``run.json`` is a manifest with fixed run id and no timings, so a rerun changes no byte
unless a number does.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "report" / "campaigns.csv"
DEFAULT_OUT = REPO / "tests" / "data" / "report" / "run"
CAMPAIGNS = ("C001", "C002", "C003")
RUN_ID = "frozen-report-run"
SETTINGS: dict[str, Any] = {
    "seed": 7,
    "horizon_days": 30,
    "members": ["seasonal_naive", "ets", "prophet"],
    "backtest_cutoffs": 3,
    "n_paths": 2000,
}


@contextlib.contextmanager
def _no_ledger(scratch: str) -> Iterator[None]:
    """A forecast ledger that holds nothing (a file that does not exist), so the frozen
    reports do not depend on the forecasts recorded in this folder's registry."""
    before = os.environ.get("SIMKIT_REGISTRY_URL")
    os.environ["SIMKIT_REGISTRY_URL"] = f"sqlite:///{Path(scratch) / 'no-ledger.sqlite'}"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SIMKIT_REGISTRY_URL", None)
        else:
            os.environ["SIMKIT_REGISTRY_URL"] = before


def freeze(out: Path) -> dict[str, Any]:
    """Build the run into ``out``; returns ``{relative path: parsed JSON}`` of what it wrote."""
    from simkit.data import load
    from simkit.params import params_hash
    from simkit.report import RunParams, build_campaign_report, data_hash
    from simkit.report.pivots import compute_run_pivots, write_run_pivots

    out.mkdir(parents=True, exist_ok=True)
    digest = data_hash(DATA)
    with tempfile.TemporaryDirectory() as scratch, _no_ledger(scratch):
        # a fixed folder name: the parameters' hash (provenance) covers it
        params = RunParams(data=str(DATA), output_dir=str(Path(scratch) / "run"), **SETTINGS)
        written: dict[str, Any] = {}
        for campaign_id in CAMPAIGNS:
            one = params.model_copy(update={"campaigns": [campaign_id]})
            summary = {**build_campaign_report(one).summary, "run_id": RUN_ID}
            summary = json.loads(json.dumps(summary, sort_keys=True, default=str))
            (out / campaign_id).mkdir(exist_ok=True)
            text = json.dumps(summary, indent=2, sort_keys=True)
            (out / campaign_id / "summary.json").write_text(text + "\n")
            written[f"{campaign_id}/summary.json"] = summary
        pivots = compute_run_pivots(params, load(DATA), digest)
        write_run_pivots(out, pivots)
        written["pivots.json"] = json.loads((out / "pivots.json").read_text())
    manifest = {
        "run_id": RUN_ID,
        "params_hash": params_hash(params),
        "data_hash": digest,
        "pivots": "pivots.json",
        "campaigns": [
            {
                "campaign_id": c,
                "folder": c,
                "status": "succeeded",
                "attempts": 1,
                "error": None,
                "kind": None,
                "report": f"{c}/report.html",
            }
            for c in CAMPAIGNS
        ],
    }
    (out / "run.json").write_text(json.dumps(manifest, indent=2) + "\n")
    written["run.json"] = manifest
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    for name in freeze(args.out):
        print(args.out / name)


if __name__ == "__main__":
    main()
