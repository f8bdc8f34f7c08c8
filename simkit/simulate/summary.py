"""From paths to answers: daily quantiles, totals, scenarios, outcome bands, probabilities.

* **Daily quantiles** p5, p10, p25, p50, p75, p90, p95 and the mean of every metric.
* **Totals** over the horizon per path (sums of counts; ratios of the path's sums for CPA,
  ROAS, CTR, CPC, CPM, CVR), with the same quantiles.
* **Scenarios** pessimistic / realistic / optimistic: the p10 / p50 / p90 of the chosen
  outcome's total (conversions by default; revenue or roas on request), each with the one
  simulated path whose total is nearest that quantile, so its days and its other metrics
  are a coherent trajectory, not a stack of marginal quantiles.
* **Outcome bands**: below plan by more than 10%, on plan, above plan by more than 10%,
  where the plan is the user's goal or the recent run rate; the three probabilities are
  counts of paths, so they sum to 1.
* **Goal probabilities**: P(CPA <= target), P(ROAS >= target), P(conversions >= goal),
  P(budget exhausted before the flight ends).

Ratios with a zero denominator on a path are ``inf`` (or ``nan`` for 0/0); their quantiles
are taken without interpolation (inverse CDF) so an infinite value never poisons a
finite quantile, and their means are over the finite values.  ``to_dict`` maps non-finite
numbers to ``None`` (valid JSON).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd

from simkit.simulate.engine import COUNT_METRICS, RATIO_METRICS, SimulationPaths

__all__ = [
    "OUTCOMES",
    "QUANTILES",
    "Band",
    "Scenario",
    "SimulationResult",
    "quantile_summary",
    "summarise",
]

QUANTILES: dict[str, float] = {
    "p5": 0.05,
    "p10": 0.10,
    "p25": 0.25,
    "p50": 0.50,
    "p75": 0.75,
    "p90": 0.90,
    "p95": 0.95,
}
#: Outcomes a scenario can be defined on, and whether more is better.
OUTCOMES: dict[str, bool] = {"conversions": True, "revenue": True, "roas": True}
_SCENARIOS: tuple[tuple[str, str], ...] = (
    ("pessimistic", "p10"),
    ("realistic", "p50"),
    ("optimistic", "p90"),
)
METRICS: tuple[str, ...] = COUNT_METRICS + tuple(RATIO_METRICS)
_BAND_WIDTH = 0.10


def _clean(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def quantile_summary(values: np.ndarray, axis: int = -1, *, ratio: bool = False) -> dict:
    """Mean and :data:`QUANTILES` of ``values`` along ``axis`` (arrays when ``values`` is 2-D).

    One sort serves all seven quantiles (much faster than ``np.quantile``'s repeated
    partitions).  Counts use linear interpolation (NumPy's default); ratios the inverse
    CDF, with ``nan`` (0/0) ranked as ``inf``.
    """
    values = np.moveaxis(np.asarray(values), axis, -1)
    if ratio:
        values = np.where(np.isnan(values), np.inf, values)
    ordered = np.sort(values, axis=-1)
    n = ordered.shape[-1]
    out: dict = {}
    if ratio:
        finite = np.isfinite(values)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["mean"] = np.where(finite, values, 0.0).sum(axis=-1, dtype=np.float64) / finite.sum(
                axis=-1
            )
    else:
        out["mean"] = values.mean(axis=-1, dtype=np.float64)
    for name, q in QUANTILES.items():
        if ratio:
            idx = max(int(np.ceil(q * n)) - 1, 0)
            out[name] = ordered[..., idx].astype(np.float64)
        else:
            pos = q * (n - 1)
            lo = int(np.floor(pos))
            hi = min(lo + 1, n - 1)
            frac = pos - lo
            low = ordered[..., lo].astype(np.float64)
            out[name] = low + frac * (ordered[..., hi].astype(np.float64) - low)
    return out


@dataclass(frozen=True)
class Scenario:
    """A named scenario: the quantile of the outcome and the path that produces it."""

    name: str
    quantile: float
    outcome: str
    value: float
    probability: float
    probability_of: str
    path_index: int
    totals: dict[str, float]
    daily: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        daily = self.daily.copy()
        daily["date"] = daily["date"].dt.strftime("%Y-%m-%d")
        return {
            "name": self.name,
            "quantile": self.quantile,
            "outcome": self.outcome,
            "value": _clean(self.value),
            "probability": self.probability,
            "probability_of": self.probability_of,
            "path_index": self.path_index,
            "totals": {k: _clean(v) for k, v in self.totals.items()},
            "daily": [
                {k: (_clean(v) if isinstance(v, float) else v) for k, v in row.items()}
                for row in daily.to_dict(orient="records")
            ],
        }


@dataclass(frozen=True)
class Band:
    """An outcome band relative to the plan value, with its probability."""

    name: str
    low: float | None
    high: float | None
    probability: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "low": self.low,
            "high": self.high,
            "probability": self.probability,
        }


@dataclass(frozen=True)
class SimulationResult:
    """Everything a report needs about one campaign's simulation (full precision).

    Attributes
    ----------
    daily
        Long table: ``date, metric, mean, p5 ... p95``.
    totals
        ``{metric: {"mean", "p5", ..., "p95"}}`` over the horizon.
    scenarios
        Pessimistic / realistic / optimistic.
    bands
        Below / on / above plan; probabilities sum to 1.
    probabilities
        Goal probabilities by name (only those whose target was given, plus budget
        exhaustion and the bands).
    plan_value
        The outcome total the bands are measured against, and ``plan_source`` says where it
        came from (``goal`` or ``run_rate``).
    """

    campaign_id: str
    as_of: date | None
    dates: pd.DatetimeIndex
    n_paths: int
    seed: int | None
    outcome: str
    daily: pd.DataFrame
    totals: dict[str, dict[str, float]]
    scenarios: tuple[Scenario, ...]
    bands: tuple[Band, ...]
    probabilities: dict[str, float]
    plan_value: float | None
    plan_source: str | None
    targets: dict[str, float] = field(default_factory=dict)
    budget: dict[str, Any] = field(default_factory=dict)
    factors: tuple[dict[str, Any], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def horizon_days(self) -> int:
        return len(self.dates)

    def to_dict(self) -> dict[str, Any]:
        daily = self.daily.copy()
        daily["date"] = daily["date"].dt.strftime("%Y-%m-%d")
        records = [
            {k: (_clean(v) if k not in ("date", "metric") else v) for k, v in row.items()}
            for row in daily.to_dict(orient="records")
        ]
        return {
            "campaign_id": self.campaign_id,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "start": self.dates[0].strftime("%Y-%m-%d"),
            "end": self.dates[-1].strftime("%Y-%m-%d"),
            "horizon_days": self.horizon_days,
            "paths": self.n_paths,
            "seed": self.seed,
            "outcome": self.outcome,
            "plan_value": _clean(self.plan_value) if self.plan_value is not None else None,
            "plan_source": self.plan_source,
            "targets": dict(self.targets),
            "budget": _jsonable(self.budget),
            "factors": [_jsonable(f) for f in self.factors],
            "totals": {m: {k: _clean(v) for k, v in s.items()} for m, s in self.totals.items()},
            "scenarios": [s.to_dict() for s in self.scenarios],
            "bands": [b.to_dict() for b in self.bands],
            "probabilities": {k: _clean(v) for k, v in self.probabilities.items()},
            "daily": records,
            **{k: _jsonable(v) for k, v in self.extra.items()},
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (np.floating, float)):
        return _clean(float(value))
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (date, pd.Timestamp)):
        return value.isoformat()
    return value


def _daily_table(paths: SimulationPaths) -> pd.DataFrame:
    frames = []
    for metric in METRICS:
        summary = quantile_summary(paths.metric(metric), axis=1, ratio=metric in RATIO_METRICS)
        frame = pd.DataFrame({"date": paths.dates, "metric": metric, **summary})
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _path_daily(paths: SimulationPaths, index: int) -> pd.DataFrame:
    frame = pd.DataFrame({"date": paths.dates})
    for metric in METRICS:
        frame[metric] = paths.metric(metric)[:, index].astype(np.float64)
    return frame


def summarise(
    paths: SimulationPaths,
    *,
    outcome: Literal["conversions", "revenue", "roas"] = "conversions",
    plan_value: float | None = None,
    plan_source: str | None = None,
    target_cpa: float | None = None,
    target_roas: float | None = None,
    goal_conversions: float | None = None,
    as_of: date | None = None,
    seed: int | None = None,
    extra: dict[str, Any] | None = None,
) -> SimulationResult:
    """Summarise simulated paths into a :class:`SimulationResult`.

    Parameters
    ----------
    paths
        The simulated paths.
    outcome
        The outcome that defines scenarios and bands.
    plan_value
        The outcome's plan over the horizon (a total, or the ROAS level for ``roas``); the
        bands are measured against it.  ``None``: no bands.
    plan_source
        Where ``plan_value`` came from (``"goal"``, ``"run_rate"``).
    target_cpa, target_roas, goal_conversions
        Targets for the goal probabilities (each optional).
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {sorted(OUTCOMES)}, got {outcome!r}")
    totals = paths.totals()
    total_summary = {
        metric: {
            k: float(v)
            for k, v in quantile_summary(totals[metric], ratio=metric in RATIO_METRICS).items()
        }
        for metric in METRICS
    }

    x = totals[outcome]
    finite_x = np.where(np.isfinite(x), x, -np.inf if OUTCOMES[outcome] else np.inf)
    scenarios = []
    for name, qname in _SCENARIOS:
        q = QUANTILES[qname]
        value = float(np.quantile(finite_x, q, method="inverted_cdf"))
        distance = np.abs(finite_x - value)
        index = int(np.argmin(np.where(np.isfinite(distance), distance, np.inf)))
        if name == "optimistic":
            prob, meaning = float(np.mean(finite_x >= value)), f"{outcome} >= value"
        else:
            prob, meaning = float(np.mean(finite_x <= value)), f"{outcome} <= value"
        scenarios.append(
            Scenario(
                name=name,
                quantile=q,
                outcome=outcome,
                value=value,
                probability=prob,
                probability_of=meaning,
                path_index=index,
                totals={m: float(totals[m][index]) for m in METRICS},
                daily=_path_daily(paths, index),
            )
        )

    probabilities: dict[str, float] = {}
    bands: list[Band] = []
    if plan_value is not None and np.isfinite(plan_value):
        low, high = plan_value * (1 - _BAND_WIDTH), plan_value * (1 + _BAND_WIDTH)
        below = float(np.mean(finite_x < low))
        above = float(np.mean(finite_x > high))
        bands = [
            Band("below_plan", None, low, below),
            Band("on_plan", low, high, 1.0 - below - above),
            Band("above_plan", high, None, above),
        ]
        probabilities.update({f"p_{b.name}": b.probability for b in bands})
    if target_cpa is not None:
        probabilities["p_cpa_le_target"] = float(np.mean(totals["cpa"] <= target_cpa))
    if target_roas is not None:
        probabilities["p_roas_ge_target"] = float(np.mean(totals["roas"] >= target_roas))
    if goal_conversions is not None:
        probabilities["p_conversions_ge_goal"] = float(
            np.mean(totals["conversions"] >= goal_conversions)
        )
    probabilities["p_budget_exhausted"] = float(np.mean(paths.exhausted))

    targets = {
        k: float(v)
        for k, v in (
            ("target_cpa", target_cpa),
            ("target_roas", target_roas),
            ("goal_conversions", goal_conversions),
        )
        if v is not None
    }
    budget = {
        "kind": paths.plan.kind,
        "daily": paths.plan.daily,
        "total": paths.plan.total,
        **paths.info.get("delivery", {}),
    }
    exhausted_days = paths.exhausted_day[paths.exhausted]
    if exhausted_days.size:
        budget["median_exhaustion_date"] = paths.dates[int(np.median(exhausted_days))]
    return SimulationResult(
        campaign_id=paths.campaign_id,
        as_of=as_of,
        dates=paths.dates,
        n_paths=paths.n_paths,
        seed=seed,
        outcome=outcome,
        daily=_daily_table(paths),
        totals=total_summary,
        scenarios=tuple(scenarios),
        bands=tuple(bands),
        probabilities=probabilities,
        plan_value=plan_value,
        plan_source=plan_source,
        targets=targets,
        budget=budget,
        factors=tuple(f.to_dict() for f in paths.factors),
        extra=dict(extra or {}),
    )
