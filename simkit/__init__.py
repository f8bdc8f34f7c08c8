"""simkit: see where advertising campaigns are heading, what can go wrong, and which pivot
pays, before the money moves.

The public API is what ``__all__`` lists; notebooks import only these names.  The
engines (forecast, simulate, risk, pivots, market) are loaded on first use, so
``import simkit`` stays light::

    loaded = simkit.load("demo-data/campaigns.csv")
    fc = simkit.forecast_campaign(loaded.data, "C001", 28, seed=7)
    result = simkit.simulate_campaign(loaded.data, "C001", 28, seed=7)
    alerts = simkit.detect_risks(loaded.data, loaded.campaigns)
    pivots = simkit.find_pivots(loaded.data, loaded.campaigns, seed=7, horizon_days=28)

Each result shows itself in JupyterLab (a compact table and a small chart), and has
``.to_frame()`` (a tidy pandas frame) and ``.plot()`` (an Altair chart that renders
offline).  ``simkit.register_member`` adds your own forecast member.

Even the data and parameter names are served on first use: every ``simkit.<module>``
import runs this file first, and ``simkit runs list`` (which needs neither pandas nor
numpy) answers in a fraction of a second only if it does not load them (issue 21).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simkit import _resources
from simkit.errors import DataError, ForecastError, ParamsError, SimkitError

if TYPE_CHECKING:  # what the names served lazily (below) are, for type checkers
    from simkit._rng import make_rng
    from simkit.data import LoadedData, load, load_mapping, validate
    from simkit.data.synthetic import generate as generate_synthetic
    from simkit.params import RunParams, load_params

__version__ = "0.1.0"

#: The data and parameter names, served on first use (with pandas, numpy and pydantic):
#: name -> (module, its name there).
_CORE: dict[str, tuple[str, str]] = {
    "make_rng": ("simkit._rng", "make_rng"),
    "LoadedData": ("simkit.data", "LoadedData"),
    "load": ("simkit.data", "load"),
    "load_mapping": ("simkit.data", "load_mapping"),
    "validate": ("simkit.data", "validate"),
    "generate_synthetic": ("simkit.data.synthetic", "generate"),
    "RunParams": ("simkit.params", "RunParams"),
    "load_params": ("simkit.params", "load_params"),
}

#: Public names served lazily from the engine packages: name -> module.
_LAZY: dict[str, str] = {
    "forecast_campaign": "simkit.forecast",
    "backtest_campaign": "simkit.forecast",
    "backtest_all": "simkit.forecast",
    "DriverForecast": "simkit.forecast",
    "calibration_check": "simkit.forecast",
    "register_member": "simkit.forecast",
    "simulate_campaign": "simkit.simulate",
    "what_if_campaign": "simkit.simulate",
    "WhatIfSession": "simkit.simulate",
    "WhatIfPivot": "simkit.simulate",
    "BudgetPlan": "simkit.simulate",
    "make_factor": "simkit.simulate",
    "detect_risks": "simkit.risk",
    "find_pivots": "simkit.pivots",
    "optimize_budget": "simkit.pivots",
    "fit_portfolio": "simkit.pivots",
    "compare_campaigns": "simkit.market",
    "read_auction_insights": "simkit.market",
    "analyze_competitors": "simkit.market",
}

__all__ = [
    "DataError",
    "ForecastError",
    "LoadedData",
    "ParamsError",
    "RunParams",
    "SimkitError",
    "__version__",
    "generate_synthetic",
    "load",
    "load_mapping",
    "load_params",
    "make_rng",
    "sample_data",
    "validate",
    *sorted(_LAZY),
]


#: Subpackages reachable as attributes (``simkit.forecast.Member``), loaded on first use.
_SUBPACKAGES = frozenset(
    {"data", "params", "forecast", "simulate", "risk", "pivots", "market", "viz"}
)


def sample_data() -> Path:
    """The small sample file shipped with simkit (three campaigns, 70 days, with a metadata
    sidecar): what the notebooks and the dashboard show when given no data."""
    return _resources.dashboard_sample()


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"simkit.{name}")
    if name in _CORE or name in _LAZY:
        module, attr = _CORE[name] if name in _CORE else (_LAZY[name], name)
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'simkit' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_CORE) | set(_LAZY))
