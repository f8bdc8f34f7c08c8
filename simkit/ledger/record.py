"""A forecast as issued: what the ledger keeps of a simulation, and how it is recorded.

A :class:`ForecastRecord` holds the forecast metric's daily quantiles (p5 ... p95 and the
mean), the horizon totals of every metric, the ensemble members and weights, the plan, the
parameters and data hashes, the seed, the simkit version and the model configuration
(``champion``, or a challenger's name).  Its id is a hash of that content, so the same
forecast issued twice (same inputs, same seed) is one record, and a report that shows a
forecast can name it before the ledger has stored it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simkit import __version__
from simkit.forecast.base import DriverForecast
from simkit.ledger.store import Ledger
from simkit.simulate import campaign as simulate_campaign_module
from simkit.simulate.summary import QUANTILES, SimulationResult

__all__ = [
    "CHAMPION",
    "LEVELS",
    "ForecastRecord",
    "capturing_forecaster",
    "files_hash",
    "record_simulation",
]

#: The model configuration whose forecast is shown; any other name is a challenger.
CHAMPION = "champion"
#: The stored quantiles and their levels, lowest first.
LEVELS: dict[str, float] = dict(QUANTILES)


def _clean(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _rounded(value: Any) -> Any:
    """``value`` with every float at 9 significant digits: the id names the forecast, not
    the last bits a platform's floating point leaves in it."""
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    if isinstance(value, float):
        return float(f"{value:.9g}")
    return value


@dataclass(frozen=True)
class ForecastRecord:
    """One issued forecast (see the module docstring).

    ``daily`` is ``{"date": [...], "mean": [...], "p5": [...], ...}`` of ``metric``;
    ``plan`` is ``{"kind", "spend": [...]}``; ``cache_keys`` the forecast cache entries of
    the fit it came from (removed when an alert asks for a refit).
    """

    campaign_id: str
    config: str
    source: str
    as_of: str
    start_date: str
    horizon_days: int
    metric: str
    daily: dict[str, list]
    totals: dict[str, dict[str, float | None]]
    members: list[str]
    weights: dict[str, dict[str, float]]
    plan: dict[str, Any]
    params_hash: str
    data_hash: str
    seed: int
    simkit_version: str = __version__
    run_id: str | None = None
    cache_keys: list[str] = field(default_factory=list)

    @property
    def role(self) -> str:
        return "champion" if self.config == CHAMPION else "challenger"

    def _fields(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @cached_property
    def forecast_id(self) -> str:
        """``f-`` and 20 hex digits of the SHA-256 of the content (not of when or by which
        run it was issued)."""
        content = _rounded(self._fields())
        for key in ("source", "run_id", "cache_keys"):
            content.pop(key)
        text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
        return "f-" + hashlib.sha256(text.encode()).hexdigest()[:20]

    def to_dict(self) -> dict[str, Any]:
        """The ledger row (JSON-able)."""
        return {"forecast_id": self.forecast_id, "role": self.role, **self._fields()}

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> ForecastRecord:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in row.items() if k in names})

    @classmethod
    def from_simulation(
        cls,
        sim: SimulationResult,
        *,
        forecast: Any | None = None,
        config: str = CHAMPION,
        source: str,
        params_hash: str,
        data_hash: str,
        metric: str = "conversions",
        run_id: str | None = None,
    ) -> ForecastRecord:
        """The record of simulation ``sim``; ``forecast`` (a
        :class:`~simkit.forecast.api.CampaignForecast`) gives members, weights and the
        cache keys, when the caller has it."""
        daily = sim.daily[sim.daily["metric"] == metric].sort_values("date")
        if daily.empty:
            raise ValueError(f"the simulation has no daily '{metric}'")
        quantiles = {
            name: [_clean(v) for v in daily[name].to_numpy(dtype=float)]
            for name in ("mean", *LEVELS)
        }
        spend_plan = np.asarray(sim.budget.get("daily", []), dtype=float)
        members: list[str] = list(getattr(forecast, "members", ()) or ())
        weights = dict(getattr(forecast, "weights", {}) or {})
        cache = getattr(forecast, "cache", {}) or {}
        keys = [str(cache[k]) for k in ("key", "fit_key") if cache.get(k)]
        dates = pd.DatetimeIndex(daily["date"])
        return cls(
            campaign_id=str(sim.campaign_id),
            config=config,
            source=source,
            as_of=(sim.as_of.isoformat() if sim.as_of else str(dates[0].date())),
            start_date=dates[0].date().isoformat(),
            horizon_days=len(dates),
            metric=metric,
            daily={"date": [d.date().isoformat() for d in dates], **quantiles},
            totals={m: {k: _clean(v) for k, v in t.items()} for m, t in sim.totals.items()},
            members=members,
            weights={m: {d: float(w) for d, w in ws.items()} for m, ws in weights.items()},
            plan={
                "kind": sim.budget.get("kind"),
                "spend": [_clean(v) for v in spend_plan.tolist()],
            },
            params_hash=params_hash,
            data_hash=data_hash,
            seed=int(sim.seed or 0),
            run_id=run_id,
            cache_keys=keys,
        )


def files_hash(*paths: str | Path | None) -> str:
    """SHA-256 over the names and bytes of the files given (``None`` and absent ones are
    skipped): the data hash of a forecast made from files."""
    digest = hashlib.sha256()
    for part in paths:
        if part is not None and Path(part).is_file():
            digest.update(Path(part).name.encode() + b"\0")
            digest.update(Path(part).read_bytes())
    return digest.hexdigest()


def record_simulation(
    sim: SimulationResult,
    *,
    url: str | None = None,
    ledger: Ledger | None = None,
    **kwargs: Any,
) -> str:
    """Record ``sim`` in the ledger (``url``: the run registry's); returns its forecast id.

    Keyword arguments are those of :meth:`ForecastRecord.from_simulation`.
    """
    record = ForecastRecord.from_simulation(sim, **kwargs)
    (ledger or Ledger(url)).add_forecast(record.to_dict())
    return record.forecast_id


def capturing_forecaster(
    **options: Any,
) -> tuple[Callable[[pd.DataFrame, str, int, np.ndarray, int], DriverForecast], list[Any]]:
    """A ``forecast_fn`` for :func:`~simkit.simulate.simulate_campaign` that forecasts as
    the simulation does by default (:func:`simkit.forecast.forecast_campaign`, with
    ``options``) and keeps the :class:`~simkit.forecast.api.CampaignForecast`, whose
    members, weights and cache keys the ledger records.  Returns ``(fn, kept)``."""
    kept: list[Any] = []

    def fn(
        history: pd.DataFrame, campaign_id: str, horizon_days: int, plan: np.ndarray, seed: int
    ) -> DriverForecast:
        # looked up where the simulation looks it up, so both always call the same forecaster
        result = simulate_campaign_module.forecast_campaign(
            history, campaign_id, horizon_days, plan=plan, seed=seed, **options
        )
        kept.append(result)
        return result.drivers

    return fn, kept
