"""From paths to answers: daily quantiles, totals, scenarios, outcome bands, probabilities.

* **Daily quantiles** p5, p10, p25, p50, p75, p90, p95 and the mean of every metric.
* **Totals** over the horizon per path (sums of counts; ratios of the path's sums for CPA,
  ROAS, CTR, CPC, CPM, CVR), with the same quantiles.
* **Scenarios** pessimistic / realistic / optimistic *partition* the paths by the chosen
  outcome's total (conversions by default; revenue or roas on request): below the p20,
  from the p20 to the p80, above the p80 (cut points configurable), so their probabilities
  are counts of paths and sum to 1.  Each carries its conditional mean totals and one
  representative simulated path (nearest the scenario's conditional median), so its days
  and its other metrics are a coherent trajectory, not a stack of marginal quantiles.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd

from simkit import _display
from simkit.errors import ParamsError
from simkit.simulate.engine import COUNT_METRICS, RATIO_METRICS, SimulationPaths

__all__ = [
    "OUTCOMES",
    "QUANTILES",
    "SCENARIO_CUTS",
    "Band",
    "Scenario",
    "SimulationResult",
    "check_scenario_cuts",
    "partition_scenarios",
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
_SCENARIO_NAMES: tuple[str, str, str] = ("pessimistic", "realistic", "optimistic")
#: Default cut points of the scenarios: quantiles of the outcome's total over the paths.
SCENARIO_CUTS: tuple[float, float] = (0.2, 0.8)
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
    """One block of the partition of the paths by the outcome, with what it looks like.

    Attributes
    ----------
    name
        ``pessimistic``, ``realistic`` or ``optimistic``.
    outcome
        The metric the paths are partitioned on (its horizon total, or ROAS over the
        horizon).
    quantile_low, quantile_high
        The block's cut points as quantiles (0 and 1 at the ends): pessimistic is
        ``(0, q_low)``, realistic ``(q_low, q_high)``, optimistic ``(q_high, 1)``.
    low, high
        The block's bounds as outcome values (``None`` at an open end): realistic holds
        the paths with ``low <= outcome <= high``, pessimistic those with
        ``outcome < high`` (``low`` is ``None``), optimistic those with ``outcome > low``
        (``high`` is ``None``).
    probability
        Share of the paths in the block; the three sum to 1 exactly.
    probability_of
        The block's condition in words.
    n_paths
        Paths in the block (0 when ties at a cut leave it empty).
    value
        The outcome on the block's conditional mean totals (``mean_totals[outcome]``).
    median
        The conditional median of the outcome in the block.
    mean_totals
        Conditional means of the count totals (spend, impressions, clicks, conversions,
        revenue) over the block's paths; the ratios (CPA, ROAS, CTR, CPC, CPM, CVR) are
        ratios of those conditional mean totals, *not* means of per-path ratios (a path
        with few conversions would otherwise dominate the mean CPA).
    path_index
        The representative path: one whose outcome *is* the block's conditional median
        (the lower median, an actual path value, so no two paths are averaged; the lowest
        path index among equal outcomes); ``-1`` for an empty block.
    totals, daily
        That path's totals and days (a coherent trajectory); empty for an empty block.
    """

    name: str
    outcome: str
    quantile_low: float
    quantile_high: float
    low: float | None
    high: float | None
    probability: float
    probability_of: str
    n_paths: int
    value: float
    median: float
    mean_totals: dict[str, float]
    path_index: int
    totals: dict[str, float]
    daily: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        daily = self.daily.copy()
        if len(daily):
            daily["date"] = daily["date"].dt.strftime("%Y-%m-%d")
        return {
            "name": self.name,
            "outcome": self.outcome,
            "quantile_low": self.quantile_low,
            "quantile_high": self.quantile_high,
            "low": None if self.low is None else _clean(self.low),
            "high": None if self.high is None else _clean(self.high),
            "probability": self.probability,
            "probability_of": self.probability_of,
            "n_paths": self.n_paths,
            "value": _clean(self.value),
            "median": _clean(self.median),
            "mean_totals": {k: _clean(v) for k, v in self.mean_totals.items()},
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

    # -- rich display (simkit._display: JupyterLab, exported HTML, the docs) --------------------
    def to_frame(self) -> pd.DataFrame:
        """Daily quantiles, one row per day and metric (``campaign_id, date, metric, mean, p5 ... p95``)."""
        return _display.simulation_frame(self)

    def plot(self, metric: str | None = None):  # noqa: ANN201 - an altair chart; altair is imported on use
        """A fan chart of ``metric`` (default: the outcome): p50, 50% and 80% bands (Altair)."""
        _display.ensure_offline_renderer()
        return _display.simulation_chart(self, metric)

    def _repr_html_(self) -> str:
        return _display.to_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        _display.pretty(self, printer, cycle)


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


def check_scenario_cuts(cuts: Any) -> tuple[float, float]:
    """``cuts`` as two floats ``0 < low < high < 1``, or a :class:`ParamsError` saying why."""
    try:
        low, high = (float(c) for c in cuts)
    except (TypeError, ValueError) as exc:
        raise ParamsError(
            f"scenario cut points must be two numbers (low, high), got {cuts!r}",
            field="scenario_cuts",
        ) from exc
    if not (math.isfinite(low) and math.isfinite(high) and 0.0 < low < high < 1.0):
        raise ParamsError(
            f"scenario cut points must satisfy 0 < low < high < 1, got ({low}, {high})",
            field="scenario_cuts",
        )
    return low, high


def _ratio(num: float, den: float, mult: float) -> float:
    if den == 0:
        return math.nan if num == 0 else math.inf
    return mult * num / den


def partition_scenarios(
    totals: dict[str, np.ndarray],
    outcome: str = "conversions",
    *,
    cuts: tuple[float, float] = SCENARIO_CUTS,
    path_daily: Callable[[int], pd.DataFrame] | None = None,
) -> tuple[Scenario, Scenario, Scenario]:
    """Partition the paths into pessimistic / realistic / optimistic by their outcome.

    With ``n`` paths, ``k = round(q n)`` for each cut ``q`` and ``x_(1) <= ... <= x_(n)``
    the sorted outcomes (non-finite ones, such as a ROAS over zero spend, ranked worst), the
    cut values are ``low = x_(k_low + 1)`` and ``high = x_(k_high)``: pessimistic holds the
    paths with ``x < low``, optimistic those with ``x > high``, realistic the rest.  Without
    ties that is exactly ``k_low``, ``k_high - k_low`` and ``n - k_high`` paths; a tie at a
    cut puts all the tied paths in the realistic block (never splitting equal outcomes
    between scenarios), so every path is in exactly one block and the probabilities, counts
    over ``n``, sum to 1.  ``k_high`` is at least ``k_low + 1``, so the realistic block is
    never empty (with few paths and close cuts); the other two may be.

    Parameters
    ----------
    totals
        ``{metric: (n,) array}`` per-path horizon totals; needs the count metrics
        (spend, impressions, clicks, conversions, revenue) and ``outcome``.
    outcome
        One of :data:`OUTCOMES`.
    cuts
        ``(q_low, q_high)`` with ``0 < q_low < q_high < 1``; default ``(0.2, 0.8)``.
    path_daily
        ``index -> DataFrame`` of one path's days (the representative path's ``daily``);
        ``None``: empty frames.

    Examples
    --------
    >>> t = {m: np.arange(10.0) for m in ("spend", "impressions", "clicks", "conversions",
    ...      "revenue")}
    >>> [s.n_paths for s in partition_scenarios(t)]
    [2, 6, 2]
    """
    if outcome not in OUTCOMES:
        raise ParamsError(f"outcome must be one of {sorted(OUTCOMES)}, got {outcome!r}")
    q_low, q_high = check_scenario_cuts(cuts)
    missing = [m for m in (*COUNT_METRICS, outcome) if m not in totals]
    if missing:
        raise ParamsError(f"path totals lack {missing}", field="totals")
    raw = np.asarray(totals[outcome], dtype=np.float64)
    n = raw.size
    if n == 0:
        raise ParamsError("no paths to partition into scenarios", field="n_paths")
    sign = 1.0 if OUTCOMES[outcome] else -1.0
    # rank on "goodness": more is better after the sign; non-finite outcomes are worst
    x = np.where(np.isfinite(raw), sign * raw, -np.inf)
    ordered = np.sort(x)
    k_low = min(max(int(round(q_low * n)), 0), n - 1)
    # at least one path between the cuts: the realistic block is never empty
    k_high = min(max(int(round(q_high * n)), k_low + 1), n)
    cut_low, cut_high = ordered[k_low], ordered[k_high - 1]
    pessimistic = x < cut_low
    optimistic = (x > cut_high) & ~pessimistic
    realistic = ~(pessimistic | optimistic)
    blocks = (
        (pessimistic, 0.0, q_low, None, cut_low),
        (realistic, q_low, q_high, cut_low, cut_high),
        (optimistic, q_high, 1.0, cut_high, None),
    )
    counts = {m: np.asarray(totals[m], dtype=np.float64) for m in COUNT_METRICS}
    out = []
    for name, (mask, qa, qb, lo, hi) in zip(_SCENARIO_NAMES, blocks, strict=True):
        members = np.flatnonzero(mask)
        size = int(members.size)
        lo_v = None if lo is None else float(sign * lo)
        hi_v = None if hi is None else float(sign * hi)
        if sign < 0:  # less is better: the value bounds swap sides
            lo_v, hi_v = hi_v, lo_v
        if size:
            means = {m: float(counts[m][members].mean()) for m in COUNT_METRICS}
            for ratio, (num, den, mult) in RATIO_METRICS.items():
                means[ratio] = _ratio(means[num], means[den], mult)
            inside = x[members]
            # the conditional median as an actual path value (lower median): no averaging
            # of two paths, so "nearest the median" is well defined on ties
            median_x = float(np.sort(inside)[(size - 1) // 2])
            index = int(members[np.flatnonzero(inside == median_x)[0]])
            path_totals = {m: float(totals[m][index]) for m in METRICS if m in totals}
            for ratio, (num, den, mult) in RATIO_METRICS.items():
                path_totals.setdefault(ratio, _ratio(path_totals[num], path_totals[den], mult))
            daily = path_daily(index) if path_daily is not None else pd.DataFrame()
            median = float(sign * median_x) if np.isfinite(median_x) else math.nan
            value = means[outcome]
        else:
            means = {m: math.nan for m in METRICS}
            index, path_totals, daily = -1, {}, pd.DataFrame()
            median = value = math.nan
        out.append(
            Scenario(
                name=name,
                outcome=outcome,
                quantile_low=qa,
                quantile_high=qb,
                low=lo_v,
                high=hi_v,
                probability=size / n,
                probability_of=_condition(outcome, lo_v, hi_v),
                n_paths=size,
                value=value,
                median=median,
                mean_totals=means,
                path_index=index,
                totals=path_totals,
                daily=daily,
            )
        )
    return out[0], out[1], out[2]


def _condition(outcome: str, low: float | None, high: float | None) -> str:
    def fmt(v: float) -> str:
        if not math.isfinite(v):
            return str(v)
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"

    if low is None and high is not None:
        return f"{outcome} < {fmt(high)}"
    if high is None and low is not None:
        return f"{outcome} > {fmt(low)}"
    return f"{fmt(low)} <= {outcome} <= {fmt(high)}"  # type: ignore[arg-type]


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
    scenario_cuts: tuple[float, float] = SCENARIO_CUTS,
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
    scenario_cuts
        The quantiles of the outcome that separate the pessimistic, realistic and
        optimistic scenarios (see :func:`partition_scenarios`).
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
    scenarios = partition_scenarios(
        totals, outcome, cuts=scenario_cuts, path_daily=lambda i: _path_daily(paths, i)
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
