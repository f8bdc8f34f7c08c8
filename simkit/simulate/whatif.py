"""What-if: the same simulation with a modified plan or factor, on common random numbers.

The baseline and the pivot are simulated from two generators with the *same state*, so
they share every driver innovation, delivery draw, count variate and factor draw
(see :mod:`.engine`).  Path ``i`` of the pivot is path ``i`` of the baseline with only the
change applied, and the per-path difference (pivot minus baseline) has a much tighter
distribution than the difference of two independent runs: the pivot's *effect* is precise
even when each trajectory is uncertain.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from simkit import _display
from simkit.forecast.base import DriverForecast
from simkit.simulate.budget import BudgetPlan, DeliveryModel
from simkit.simulate.engine import EngineConfig, SimulationPaths, simulate_paths
from simkit.simulate.factors import MarketFactor
from simkit.simulate.summary import (
    METRICS,
    RATIO_METRICS,
    SimulationResult,
    _clean,
    quantile_summary,
)

__all__ = ["PairedDeltas", "WhatIfResult", "paired_deltas", "simulate_pair", "what_if_from_paths"]


@dataclass(frozen=True)
class WhatIfResult:
    """Baseline, pivot, and the distribution of their per-path difference.

    Attributes
    ----------
    baseline, pivot
        Full simulation results of each.
    delta
        ``{metric: {"mean", "p5", ..., "p95"}}`` of pivot minus baseline totals, per path.
    probabilities
        ``p_outcome_improves`` (pivot better than baseline on the same path) and
        ``p_outcome_worse``.
    p_higher, p_lower
        ``{metric: P(pivot total > / < baseline total on the same path)}``.
    baseline_paths, pivot_paths
        The paired paths themselves (for daily bands; not serialised).
    """

    baseline: SimulationResult
    pivot: SimulationResult
    outcome: str
    delta: dict[str, dict[str, float]]
    probabilities: dict[str, float]
    p_higher: dict[str, float] = field(default_factory=dict)
    p_lower: dict[str, float] = field(default_factory=dict)
    baseline_paths: SimulationPaths | None = field(default=None, repr=False, compare=False)
    pivot_paths: SimulationPaths | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "delta": {m: {k: _clean(v) for k, v in s.items()} for m, s in self.delta.items()},
            "probabilities": dict(self.probabilities),
            "baseline": self.baseline.to_dict(),
            "pivot": self.pivot.to_dict(),
        }

    # -- rich display (simkit._display: JupyterLab, exported HTML, the docs) --------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per metric: both medians, the per-path delta's quantiles, P(higher), P(lower)."""
        return _display.what_if_frame(self)

    def plot(self, metric: str | None = None):  # noqa: ANN201 - an altair chart; altair is imported on use
        """Baseline and pivot fans of ``metric`` (default: the outcome) on one chart (Altair)."""
        _display.ensure_offline_renderer()
        return _display.what_if_chart(self, metric)

    def _repr_html_(self) -> str:
        return _display.to_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        _display.pretty(self, printer, cycle)


def simulate_pair(
    drivers: DriverForecast,
    n_paths: int,
    rng: np.random.Generator,
    *,
    baseline_plan: BudgetPlan,
    pivot_plan: BudgetPlan | None = None,
    baseline_factors: Sequence[MarketFactor] = (),
    pivot_factors: Sequence[MarketFactor] | None = None,
    delivery: DeliveryModel | None = None,
    pivot_drivers: DriverForecast | None = None,
    config: EngineConfig | None = None,
) -> tuple[SimulationPaths, SimulationPaths]:
    """Simulate a baseline and a pivot on common random numbers.

    Anything not given for the pivot is the baseline's.  Both runs start from a copy of
    ``rng``'s state; ``rng`` is advanced once (as by one simulation).
    """
    twin = copy.deepcopy(rng)
    base = simulate_paths(
        drivers,
        baseline_plan,
        n_paths,
        rng,
        delivery=delivery,
        factors=baseline_factors,
        config=config,
    )
    pivot = simulate_paths(
        pivot_drivers or drivers,
        pivot_plan or baseline_plan,
        n_paths,
        twin,
        delivery=delivery,
        factors=baseline_factors if pivot_factors is None else pivot_factors,
        config=config,
    )
    return base, pivot


@dataclass(frozen=True)
class PairedDeltas:
    """The per-path comparison of two paired simulations, without their full summaries.

    Attributes
    ----------
    delta
        ``{metric: {"mean", "p5", ..., "p95"}}`` of pivot minus baseline totals, per path.
    p_higher, p_lower
        ``{metric: P(pivot total > / < baseline total on the same path)}``.
    baseline_p50, pivot_p50
        ``{metric: median total}`` of each run.
    probabilities
        ``p_outcome_improves`` and ``p_outcome_worse`` of ``outcome``.
    """

    outcome: str
    delta: dict[str, dict[str, float]]
    p_higher: dict[str, float]
    p_lower: dict[str, float]
    baseline_p50: dict[str, float]
    pivot_p50: dict[str, float]
    probabilities: dict[str, float]


def paired_deltas(
    baseline: SimulationPaths,
    pivot: SimulationPaths,
    *,
    outcome: Literal["conversions", "revenue", "roas"] = "conversions",
) -> PairedDeltas:
    """Per-path deltas of two paired simulations (see :func:`simulate_pair`)."""
    if baseline.n_paths != pivot.n_paths or baseline.horizon_days != pivot.horizon_days:
        raise ValueError("baseline and pivot must have the same paths and horizon")
    tb, tp = baseline.totals(), pivot.totals()
    delta, higher, lower, b50, p50 = {}, {}, {}, {}, {}
    for metric in METRICS:
        ratio = metric in RATIO_METRICS
        with np.errstate(invalid="ignore"):
            diff = tp[metric] - tb[metric]
        delta[metric] = {k: float(v) for k, v in quantile_summary(diff, ratio=ratio).items()}
        higher[metric] = float(np.mean(tp[metric] > tb[metric]))
        lower[metric] = float(np.mean(tp[metric] < tb[metric]))
        b50[metric] = float(quantile_summary(tb[metric], ratio=ratio)["p50"])
        p50[metric] = float(quantile_summary(tp[metric], ratio=ratio)["p50"])
    with np.errstate(invalid="ignore"):
        d = tp[outcome] - tb[outcome]
    probabilities = {
        "p_outcome_improves": float(np.mean(d > 0)),
        "p_outcome_worse": float(np.mean(d < 0)),
    }
    return PairedDeltas(outcome, delta, higher, lower, b50, p50, probabilities)


def what_if_from_paths(
    baseline: SimulationPaths,
    pivot: SimulationPaths,
    baseline_result: SimulationResult,
    pivot_result: SimulationResult,
    *,
    outcome: Literal["conversions", "revenue", "roas"] = "conversions",
) -> WhatIfResult:
    """Per-path deltas of two paired simulations (see :func:`simulate_pair`), with both
    runs' summaries."""
    d = paired_deltas(baseline, pivot, outcome=outcome)
    return WhatIfResult(
        baseline_result,
        pivot_result,
        outcome,
        d.delta,
        d.probabilities,
        p_higher=d.p_higher,
        p_lower=d.p_lower,
        baseline_paths=baseline,
        pivot_paths=pivot,
    )
