"""The pivot engine: fit, optimise, generate every registered pivot, simulate, rank.

One model of a campaign for every what-if: the fitted response curves *choose* the budget
allocation (that is what they are for), and a budget pivot's *impact* is simulated by the
Monte Carlo engine of :mod:`simkit.simulate`, through one :class:`~simkit.simulate.
WhatIfSession` per campaign whose spend response is the campaign's fitted curve
(:func:`campaign_response`).  The dashboard's "Preview this" runs the same session (same
forecaster, curve, seed and paths), so a card and its preview give the same numbers.  Each
campaign's session is seeded with :func:`campaign_seed` of the run's simulation seed.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from simkit import _display
from simkit._rng import make_rng
from simkit._suggest import did_you_mean
from simkit._types import AsOf
from simkit.data.panel import CampaignPanel
from simkit.errors import ParamsError, SimkitError
from simkit.pivots.impact import CommonDraws, Scenario, simulate_scenario, summarise, totals
from simkit.pivots.optimize import Allocation, Objective, optimize_budget
from simkit.pivots.portfolio import Portfolio, fit_portfolio
from simkit.pivots.sessions import (
    CampaignEngine,
    CurveResponse,
    campaign_response,
    campaign_seed,
    refresh_shift,
)
from simkit.pivots.types import PIVOT_TYPES, Recommendation
from simkit.risk import detect_risks
from simkit.simulate.campaign import ForecastFn
from simkit.simulate.fatigue import CreativeState, creative_analysis
from simkit.simulate.session import SESSION_CUTOFFS, SESSION_MEMBERS, WhatIfSession

__all__ = [
    "CampaignEngine",
    "CurveResponse",
    "PivotContext",
    "PivotResult",
    "campaign_response",
    "campaign_seed",
    "find_pivots",
    "refresh_shift",
    "session_engine",
]

log = logging.getLogger(__name__)


@dataclass
class PivotContext:
    """Everything a pivot type needs: the fitted portfolio, the optimum, shared draws."""

    portfolio: Portfolio
    allocation: Allocation
    objective: str
    horizon_days: int
    draws: CommonDraws
    seed_base: np.ndarray
    creative_states: dict[str, CreativeState]
    fatigue_alerts: dict[str, float]
    baseline_multipliers: dict[str, np.ndarray]
    baseline_sim: dict[str, dict[str, np.ndarray]]
    channel_allocation: tuple[Portfolio, Allocation] | None = None
    channel_draws: CommonDraws | None = None
    engine: CampaignEngine | None = None
    notes: list[str] = field(default_factory=list)

    def stream(self, key: str) -> np.random.Generator:
        """A generator for one named use, derived from the run's seed (stable by name)."""
        tag = zlib.crc32(key.encode())
        return make_rng(*(int(b) for b in self.seed_base), tag)


@dataclass(frozen=True)
class PivotResult:
    """The allocation, what it is expected to give, and the ranked recommendations."""

    as_of: pd.Timestamp
    horizon_days: int
    objective: str
    allocation: Allocation
    expected: dict[str, dict[str, float]]
    status_quo_expected: dict[str, dict[str, float]]
    recommendations: tuple[Recommendation, ...]
    portfolio: Portfolio
    notes: tuple[str, ...] = field(default=())
    simulation_seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        a = self.allocation
        return {
            "as_of": self.as_of.date().isoformat(),
            "horizon_days": self.horizon_days,
            "objective": self.objective,
            "total_budget": float(a.total_budget),
            "allocation": {k: float(v) for k, v in a.allocation.items()},
            "status_quo": {k: float(v) for k, v in a.status_quo.items()},
            "expected": self.expected,
            "status_quo_expected": self.status_quo_expected,
            "optimizer": a.to_dict(),
            "recommendations": [r.to_dict() for r in self.recommendations],
            "curves": {k: self.portfolio.curves[k].to_dict() for k in self.portfolio.keys},
            "today_source": dict(self.portfolio.today_source),
            "notes": list(self.notes),
            "simulation_seed": self.simulation_seed,
        }

    # -- rich display (simkit._display: JupyterLab, exported HTML, the docs) --------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per recommendation, best first, with the change in the objective."""
        return _display.pivot_frame(self)

    def plot(self):  # noqa: ANN201 - an altair chart; altair is imported on use
        """The recommendations' simulated impact on the objective, p10-p90 (Altair)."""
        _display.ensure_offline_renderer()
        return _display.pivot_chart(self)

    def _repr_html_(self) -> str:
        return _display.to_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        _display.pretty(self, printer, cycle)


def _fatigue_alerts(
    data: pd.DataFrame, campaigns: pd.DataFrame | None, as_of: pd.Timestamp
) -> tuple[dict[str, float], list[str]]:
    """``{campaign: probability}`` of the risk package's audience_fatigue alerts, if any
    (older fatigue still in force included, as in reports)."""
    try:
        # also fatigue that began before the detectors' three weeks and still holds
        report = detect_risks(data, campaigns, as_of=as_of, detectors=["audience_fatigue"])
    except SimkitError as exc:
        return {}, [f"risk detection failed ({exc}); fatigue judged from CTR alone"]
    return {
        a.campaign_id: float(a.probability) for a in report.alerts if a.type == "audience_fatigue"
    }, []


def _cut(data: pd.DataFrame, panel: CampaignPanel) -> pd.DataFrame:
    """The rows of ``data`` up to the panel's last day (what the engine's sessions see)."""
    return data[pd.to_datetime(data["date"]) <= panel.last_date]


def session_engine(
    data: pd.DataFrame,
    *,
    seed: int,
    as_of: AsOf = None,
    horizon_days: int = 28,
    n_draws: int = 200,
    n_paths: int = 1000,
    members: Sequence[str] = SESSION_MEMBERS,
    forecast_fn: ForecastFn | None = None,
    forecast_cache: str | bool | None = False,
    backtest_cutoffs: int = SESSION_CUTOFFS,
) -> CampaignEngine:
    """The :class:`CampaignEngine` that :func:`find_pivots` builds for the same arguments,
    so a session made by its :meth:`~CampaignEngine.make_session` elsewhere (a batch's
    worker) is the one :func:`find_pivots` would make."""
    return CampaignEngine(
        _cut(data, CampaignPanel.from_data(data, as_of=as_of)),
        horizon_days,
        seed=int(seed),
        n_paths=n_paths,
        n_draws=n_draws,
        members=members,
        forecast_fn=forecast_fn,
        cache=forecast_cache,
        backtest_cutoffs=backtest_cutoffs,
    )


def find_pivots(
    data: pd.DataFrame,
    campaigns: pd.DataFrame | None = None,
    *,
    seed: int = 0,
    as_of: AsOf = None,
    horizon_days: int = 28,
    total_budget: float | None = None,
    max_change: float = 0.5,
    objective: Objective = "conversions",
    min_spend: float | Mapping[str, float] | None = None,
    target_cpa: float | Mapping[str, float] | None = None,
    target_roas: float | Mapping[str, float] | None = None,
    pivot_types: Sequence[str] | None = None,
    n_draws: int = 200,
    n_paths: int = 1000,
    use_risk_alerts: bool = True,
    members: Sequence[str] = SESSION_MEMBERS,
    forecast_fn: ForecastFn | None = None,
    forecast_cache: str | bool | None = False,
    backtest_cutoffs: int = SESSION_CUTOFFS,
    session_provider: Callable[[str], WhatIfSession | None] | None = None,
) -> PivotResult:
    """Fit response curves, optimise the budget, and rank simulated pivots.

    Parameters
    ----------
    data
        Contract frame (``simkit.load(...).data`` or a synthetic world's ``data``).
    campaigns
        Optional campaign metadata (passed to the risk detectors).
    seed
        The run's only source of randomness: the curve draws, the shared draws and the
        pivot streams come from :func:`simkit.make_rng` of it, and it seeds the engine's
        what-if sessions (each campaign's is :func:`campaign_seed` of it), so the
        dashboard, which passes its own seed, previews the same numbers as its cards.
    as_of
        Last day of data used (default: the last date).
    horizon_days
        Days over which pivots are simulated.
    total_budget
        Total daily budget (default: the sum of today's budgets).
    max_change
        Largest relative move of any campaign's budget (0.5 = +-50%).
    objective
        ``conversions``, ``revenue`` or ``profit``.
    min_spend, target_cpa, target_roas
        Optimiser constraints (see :func:`simkit.pivots.optimize_budget`).
    pivot_types
        Registry names to run (default: all of :data:`PIVOT_TYPES`).
    n_draws, n_paths
        Curve draws and simulation paths.
    use_risk_alerts
        Also let the risk package's ``audience_fatigue`` alerts trigger a creative refresh.
    members, forecast_fn, forecast_cache, backtest_cutoffs
        The forecaster of the engine's sessions (default: :mod:`simkit.forecast` with
        :data:`~simkit.simulate.SESSION_MEMBERS`, no disk cache, 3 backtest folds: the
        dashboard's defaults).
    session_provider
        Where the engine asks first for a campaign's what-if session made elsewhere with
        the same settings (:class:`~simkit.pivots.sessions.CampaignEngine`'s
        ``provider``; a batch's workers prepare them in parallel); the results are the
        same either way.

    Examples
    --------
    >>> from simkit.data.synthetic import generate
    >>> world = generate(4, 120, rng=np.random.default_rng(7))
    >>> result = find_pivots(world.data, seed=1, n_draws=50, n_paths=200)  # doctest: +SKIP
    """
    names = list(pivot_types) if pivot_types is not None else list(PIVOT_TYPES)
    for name in names:
        if name not in PIVOT_TYPES:
            raise ParamsError(
                f"unknown pivot type '{name}'{did_you_mean(name, list(PIVOT_TYPES))}",
                field="pivot_types",
            )
    if horizon_days < 1:
        raise ParamsError(f"horizon {horizon_days} must be at least 1 day", field="horizon")
    seed_base = make_rng(seed).integers(0, 2**63 - 1, size=2)
    simulation_seed = int(seed)

    def stream(key: str) -> np.random.Generator:
        tag = zlib.crc32(key.encode())
        return make_rng(*(int(b) for b in seed_base), tag)

    # built once (validates columns and the as_of cut); every stage below reads it
    panel = CampaignPanel.from_data(data, as_of=as_of)
    frame = _cut(data, panel)
    states: dict[str, CreativeState] = {}
    offsets: dict[str, pd.Series] = {}
    for key in panel.ids:
        offset, st = creative_analysis(panel.campaign(key), key)
        if offset is not None:
            offsets[key] = offset
        if st is not None:
            states[key] = st
    portfolio = fit_portfolio(
        panel, rng=stream("curves"), n_draws=n_draws, creative_offsets=offsets
    )
    states = {k: v for k, v in states.items() if k in portfolio.keys}
    notes = list(portfolio.notes)
    draws = CommonDraws.make(portfolio, horizon_days, n_paths, stream("draws"))
    multipliers = {
        key: st.baseline_paths(horizon_days, n_paths, stream(f"baseline:{key}"))
        for key, st in states.items()
    }
    # the optimiser prices each campaign at its expected creative state over the horizon
    portfolio = replace(portfolio, state={key: float(np.mean(m)) for key, m in multipliers.items()})
    allocation = optimize_budget(
        portfolio,
        total_budget=total_budget,
        max_change=max_change,
        objective=objective,
        min_spend=min_spend,
        target_cpa=target_cpa,
        target_roas=target_roas,
    )
    notes.extend(allocation.notes)
    alerts: dict[str, float] = {}
    if use_risk_alerts and "creative_refresh" in names:
        alerts, extra = _fatigue_alerts(frame, campaigns, portfolio.as_of)
        notes.extend(extra)

    base_scn = Scenario(budgets=allocation.status_quo, multipliers=multipliers)
    alloc_scn = Scenario(budgets=allocation.allocation, multipliers=multipliers)
    base_sim = simulate_scenario(portfolio, base_scn, draws)
    alloc_sim = simulate_scenario(portfolio, alloc_scn, draws)

    channel = None
    channel_draws = None
    if "channel_shift" in names and len(set(portfolio.channel_of.values())) >= 2:
        chan_pf = fit_portfolio(
            frame[frame["campaign_id"].astype(str).isin(portfolio.keys)],
            rng=stream("channel_curves"),
            by="channel",
            n_draws=n_draws,
        )
        if len(chan_pf.keys) >= 2:
            chan_total = sum(chan_pf.today.values())
            chan_alloc = optimize_budget(
                chan_pf, total_budget=chan_total, max_change=max_change, objective=objective
            )
            channel = (chan_pf, chan_alloc)
            channel_draws = CommonDraws.make(
                chan_pf, horizon_days, n_paths, stream("channel_draws")
            )

    ctx = PivotContext(
        portfolio=portfolio,
        allocation=allocation,
        objective=objective,
        horizon_days=horizon_days,
        draws=draws,
        seed_base=seed_base,
        creative_states=states,
        fatigue_alerts=alerts,
        baseline_multipliers=multipliers,
        baseline_sim=base_sim,
        channel_allocation=channel,
        channel_draws=channel_draws,
        # built as session_engine builds it, so sessions made by it elsewhere fit in
        engine=CampaignEngine(
            frame,
            horizon_days,
            seed=simulation_seed,
            n_paths=n_paths,
            n_draws=n_draws,
            members=members,
            forecast_fn=forecast_fn,
            cache=forecast_cache,
            backtest_cutoffs=backtest_cutoffs,
            provider=session_provider,
        ),
        notes=notes,
    )
    recs: list[Recommendation] = []
    for name in names:
        recs.extend(PIVOT_TYPES[name](ctx))
    recs.sort(key=lambda r: -r.score)
    keys = list(portfolio.keys)
    return PivotResult(
        as_of=portfolio.as_of,
        horizon_days=horizon_days,
        objective=objective,
        allocation=allocation,
        expected=summarise(totals(alloc_sim, keys)),
        status_quo_expected=summarise(totals(base_sim, keys)),
        recommendations=tuple(recs),
        portfolio=portfolio,
        notes=tuple(notes),
        simulation_seed=simulation_seed,
    )
