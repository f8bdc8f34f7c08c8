"""A what-if session: prepare a campaign once, preview many pivots on common random numbers.

:func:`~simkit.simulate.what_if_campaign` prepares the campaign (history, state, plan,
delivery, driver forecast, fitted fatigue) for every call.  A :class:`WhatIfSession` does it
once and keeps the baseline paths, so a preview runs only the engine for the pivot, from a
generator in the baseline's state (path ``i`` of the pivot is path ``i`` of the baseline
with only the change applied; see :mod:`.whatif`).  It is what the dashboard, the pivot
engine (:func:`simkit.pivots.find_pivots`) and ``what_if_campaign`` share, so a
recommendation card and its preview come from one model.

A shorter horizon than the session's uses the first days of its forecast (the dashboard
forecasts once per horizon bucket).

Spend response
--------------
A budget pivot moves the driver centres with the forecaster's spend elasticities
(:meth:`~simkit.forecast.base.DriverForecast.with_plan`) unless a :class:`SpendResponse`
is given: then the expected conversions follow the response curve (the pivot stage's fitted
curve, :class:`simkit.pivots.CurveResponse`).  The curve's ratio of conversions at the
pivot's spend to those at the baseline's acts through the CPM (conversions are
``1000 spend / CPM x CTR x CVR``): ``log CPM`` moves by ``log(s1 / s0) - log r`` where
``log r`` is the curve's log ratio, normal across paths with the mean and sd of its
parameter draws (:class:`SpendResponseFactor`), so the curve's uncertainty reaches the
pivot's impact.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

import numpy as np
import pandas as pd
from pydantic import Field

from simkit._rng import make_rng
from simkit._types import AsOf, as_of_date
from simkit.errors import ParamsError
from simkit.forecast import FALLBACK, forecast_campaign
from simkit.forecast.base import DRIVERS, DriverForecast
from simkit.simulate._random import fast_normals
from simkit.simulate.budget import BudgetPlan
from simkit.simulate.campaign import ForecastFn, _notes, _plan_value, _prepare, _Prepared
from simkit.simulate.engine import EngineConfig, SimulationPaths, simulate_paths
from simkit.simulate.factors import MarketFactor
from simkit.simulate.summary import SimulationResult, summarise
from simkit.simulate.whatif import PairedDeltas, WhatIfResult, paired_deltas, what_if_from_paths

__all__ = [
    "SESSION_CUTOFFS",
    "SESSION_MEMBERS",
    "DriverShiftFactor",
    "SpendResponse",
    "SpendResponseFactor",
    "WhatIfPivot",
    "WhatIfSession",
]

log = logging.getLogger(__name__)

#: Forecast members of a session by default: the fast ones, so a first chart (and the
#: pivot engine's per-campaign forecasts) take seconds, not minutes.
SESSION_MEMBERS: tuple[str, ...] = ("seasonal_naive", "ets")
#: Rolling-origin backtest folds of a session's forecast by default (the dashboard's).
SESSION_CUTOFFS = 3


class SpendResponse(Protocol):
    """How a campaign's expected daily conversions respond to its daily spend."""

    def log_ratio(self, spend_from: float, spend_to: float) -> np.ndarray:
        """Draws of ``log(E conversions at spend_to / E conversions at spend_from)``."""
        ...


class SpendResponseFactor(MarketFactor):
    """The CPM shift that makes conversions follow a spend response curve (module docstring).

    ``log_shift`` is added to ``log_cpm`` on every day from ``start``, plus
    ``log_shift_sd`` x a standard normal per path (the curve's parameter uncertainty).
    """

    kind: ClassVar[str] = "spend_response"
    log_shift: float
    log_shift_sd: float = Field(default=0.0, ge=0)
    start: date | None = None

    def shift(self, dates: pd.DatetimeIndex, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        value = self.log_shift + self.log_shift_sd * fast_normals(rng, (n_paths,))
        out = np.zeros((len(dates), len(DRIVERS), n_paths), dtype=np.float32)
        mask = np.ones(len(dates), dtype=bool)
        if self.start is not None:
            mask = dates.date >= self.start
        out[mask, 0, :] = value
        return out


class DriverShiftFactor(MarketFactor):
    """A shift of one driver, given per horizon day: ``mean[t] + sd[t] x z`` with one
    standard normal ``z`` per path (the effect's uncertainty persists over the horizon).

    How another stage's fitted effect reaches the engine: the pivot stage's creative state
    (:class:`simkit.simulate.fatigue.CreativeState`) gives a refresh's CTR multipliers per
    path and day, whose log mean and sd per day become a ``logit_ctr`` shift (for small
    rates the logit shift is the log shift of the rate).  Days beyond ``mean`` get none.
    """

    kind: ClassVar[str] = "driver_shift"
    driver: Literal["log_cpm", "logit_ctr", "logit_cvr", "log_rpc"]
    mean: tuple[float, ...]
    sd: tuple[float, ...] = ()
    label: str = ""

    @property
    def key(self) -> str:
        return f"driver_shift:{self.driver}:{self.label}"

    def shift(self, dates: pd.DatetimeIndex, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        h = min(len(dates), len(self.mean))
        mean = np.asarray(self.mean[:h], dtype=np.float32)
        sd = np.asarray(self.sd[:h], dtype=np.float32) if self.sd else np.zeros(h, np.float32)
        z = fast_normals(rng, (n_paths,))
        out = np.zeros((len(dates), len(DRIVERS), n_paths), dtype=np.float32)
        out[:h, DRIVERS.index(self.driver), :] = mean[:, None] + sd[:, None] * z[None, :]
        return out


@dataclass(frozen=True)
class WhatIfPivot:
    """A change to the baseline: a budget (multiplier or plan) and market factors.

    Attributes
    ----------
    budget_factor
        Every daily budget (and the total, if any) times this.
    budget
        A whole budget plan instead (over the session's horizon or the preview's).
    add
        Factors added to the baseline's.
    replace
        Factors that replace the baseline's factor with the same key (or are added).
    refresh_on
        A creative refresh on this date: the campaign's fitted fatigue with a new creative.
    label
        The pivot in words (for notes).
    """

    budget_factor: float = 1.0
    budget: BudgetPlan | None = None
    add: tuple[MarketFactor, ...] = ()
    replace: tuple[MarketFactor, ...] = ()
    refresh_on: date | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if not (np.isfinite(self.budget_factor) and self.budget_factor >= 0):
            raise ParamsError(
                f"budget factor {self.budget_factor} must be finite and >= 0", field="budget"
            )
        if self.budget is not None and self.budget_factor != 1.0:
            raise ParamsError("give a budget plan or a budget factor, not both", field="budget")

    @property
    def changes_budget(self) -> bool:
        return self.budget is not None or self.budget_factor != 1.0


def _head(fc: DriverForecast, h: int) -> DriverForecast:
    """The first ``h`` days of a driver forecast."""
    if h == fc.horizon_days:
        return fc
    return replace(
        fc,
        dates=fc.dates[:h],
        spend_plan=fc.spend_plan[:h],
        center=fc.center[:h],
        scale=fc.scale[:h],
    )


class WhatIfSession:
    """One campaign prepared once: its baseline and any number of pivots previewed on it.

    Parameters
    ----------
    data, campaign_id, horizon_days
        Contract-shaped data, the campaign, and the longest horizon to preview.
    seed, n_paths
        Every simulation of the session starts from ``simkit.make_rng(seed)``: the
        baseline and each pivot share their random numbers, and the same seed gives the
        same numbers.
    as_of, budget, daily_budget, total_budget, plan_file, factors, fatigue
        The baseline, as in :func:`~simkit.simulate.simulate_campaign`.
    members, max_cutoffs, cache
        The forecaster's members, backtest folds and cache (default forecaster:
        :func:`simkit.forecast.forecast_campaign` with its declared fallback member).
    forecast_fn, drivers
        Another forecaster ``(history, campaign_id, horizon_days, spend_plan, seed)``, or a
        driver forecast already made.
    spend_response
        The response of conversions to spend for budget pivots (module docstring); default:
        the forecaster's spend elasticities.
    outcome, target_cpa, target_roas
        What the summaries measure.
    config
        Engine settings.

    Examples
    --------
    >>> s = WhatIfSession(data, "C001", 30, seed=7, n_paths=2000)  # doctest: +SKIP
    >>> s.preview(WhatIfPivot(budget_factor=1.2)).delta["conversions"]["p50"]  # doctest: +SKIP
    """

    def __init__(
        self,
        data: pd.DataFrame,
        campaign_id: str,
        horizon_days: int,
        *,
        seed: int = 0,
        n_paths: int = 10_000,
        as_of: AsOf = None,
        budget: BudgetPlan | None = None,
        daily_budget: float | None = None,
        total_budget: float | None = None,
        plan_file: str | Path | None = None,
        factors: Sequence[MarketFactor] = (),
        fatigue: bool = True,
        members: Sequence[str] = SESSION_MEMBERS,
        max_cutoffs: int = SESSION_CUTOFFS,
        cache: str | Path | bool | None = False,
        forecast_fn: ForecastFn | None = None,
        drivers: DriverForecast | None = None,
        spend_response: SpendResponse | None = None,
        outcome: Literal["conversions", "revenue", "roas"] = "conversions",
        target_cpa: float | None = None,
        target_roas: float | None = None,
        config: EngineConfig | None = None,
    ) -> None:
        if n_paths < 1:
            raise ParamsError(f"n_paths {n_paths} must be at least 1", field="n_paths")
        t0 = time.perf_counter()
        self.seed, self.n_paths = int(seed), int(n_paths)
        self.outcome, self.config = outcome, config
        self.target_cpa, self.target_roas = target_cpa, target_roas
        self.spend_response = spend_response
        self.forecast: Any = None  # the CampaignForecast, when the default forecaster ran
        self._as_of = as_of = as_of_date(as_of)

        def default_forecaster(
            history: pd.DataFrame, cid: str, h: int, plan: np.ndarray, seed_: int
        ) -> DriverForecast:
            self.forecast = forecast_campaign(
                history,
                cid,
                h,
                plan=plan,
                members=list(members),
                seed=seed_,
                max_cutoffs=max_cutoffs,
                cache=cache,
                fallback=FALLBACK,
            )
            return self.forecast.drivers

        self._prep: _Prepared = _prepare(
            data,
            campaign_id,
            horizon_days,
            as_of=as_of,
            budget=budget,
            daily_budget=daily_budget,
            total_budget=total_budget,
            plan_file=plan_file,
            factors=factors,
            fatigue=fatigue,
            seed=self.seed,
            forecast_fn=forecast_fn or default_forecaster,
            drivers=drivers,
        )
        self.campaign_id = str(campaign_id)
        self.horizon_days = int(horizon_days)
        # the baseline's paths by horizon, and their summaries once asked for (the pivot
        # engine reads only the paths of 1,000 campaigns' baselines: issue 21)
        self._baselines: dict[int, SimulationPaths] = {}
        self._baseline_summaries: dict[int, SimulationResult] = {}
        self.prepare_seconds = time.perf_counter() - t0

    # -- what was prepared --------------------------------------------------------------------

    @property
    def history(self) -> pd.DataFrame:
        return self._prep.history

    @property
    def state(self) -> Any:
        """The :class:`~simkit.simulate.CampaignState` (delivery, fatigue, run rates)."""
        return self._prep.state

    @property
    def dates(self) -> pd.DatetimeIndex:
        return self._prep.dates

    @property
    def plan(self) -> BudgetPlan:
        return self._prep.plan

    @property
    def delivery(self) -> Any:
        return self._prep.delivery

    @property
    def drivers(self) -> DriverForecast:
        return self._prep.drivers

    @property
    def factors(self) -> tuple[MarketFactor, ...]:
        return self._prep.factors

    @property
    def as_of(self) -> date:
        return self._prep.as_of

    @property
    def fallback(self) -> Any:
        """The forecast's :class:`~simkit.forecast.api.ForecastFallback`, if it used one."""
        return getattr(self.forecast, "fallback", None)

    def notes(self) -> list[str]:
        """What the numbers rest on: data after the as-of date, delivery, forecast fallback."""
        notes = _notes(self._prep, self._as_of)
        if self.fallback is not None:
            notes.append(self.fallback.message)
        return notes

    # -- simulation ---------------------------------------------------------------------------

    def _h(self, horizon_days: int | None) -> int:
        h = self.horizon_days if horizon_days is None else int(horizon_days)
        if not 1 <= h <= self.horizon_days:
            raise ParamsError(
                f"horizon {h} must be between 1 and the session's {self.horizon_days} days",
                field="horizon",
            )
        return h

    def _plan(self, h: int) -> BudgetPlan:
        p = self.plan
        if h == self.horizon_days:
            return p
        total = None if p.total is None else p.total * h / self.horizon_days
        return BudgetPlan(p.daily[:h], total, p.kind)

    def _summary(self, paths: SimulationPaths, h: int) -> SimulationResult:
        plan_value, plan_source = _plan_value(self.outcome, self.state, h, None)
        return summarise(
            paths,
            outcome=self.outcome,
            plan_value=plan_value,
            plan_source=plan_source,
            target_cpa=self.target_cpa,
            target_roas=self.target_roas,
            as_of=self.as_of,
            seed=self.seed,
            extra={"state": self.state.to_dict()},
        )

    def _simulate(
        self, drivers: DriverForecast, plan: BudgetPlan, factors: Sequence[MarketFactor]
    ) -> SimulationPaths:
        return simulate_paths(
            drivers,
            plan,
            self.n_paths,
            make_rng(self.seed),  # every run in the same state: common numbers
            delivery=self.delivery,
            factors=factors,
            config=self.config,
        )

    def baseline_paths(self, horizon_days: int | None = None) -> SimulationPaths:
        """The baseline's paths over ``horizon_days`` (simulated once and kept)."""
        h = self._h(horizon_days)
        if h not in self._baselines:
            self._baselines[h] = self._simulate(_head(self.drivers, h), self._plan(h), self.factors)
        return self._baselines[h]

    def baseline(self, horizon_days: int | None = None) -> SimulationResult:
        """The baseline's summary over ``horizon_days`` (default: the session's horizon),
        made from :meth:`baseline_paths` on first use and kept."""
        h = self._h(horizon_days)
        if h not in self._baseline_summaries:
            self._baseline_summaries[h] = self._summary(self.baseline_paths(h), h)
        return self._baseline_summaries[h]

    def pivot_inputs(
        self, pivot: WhatIfPivot, horizon_days: int | None = None
    ) -> tuple[DriverForecast, BudgetPlan, list[MarketFactor]]:
        """The driver forecast, plan and factors the engine runs for ``pivot``."""
        h = self._h(horizon_days)
        base_plan = self._plan(h)
        drivers = _head(self.drivers, h)
        if pivot.budget is not None:
            if pivot.budget.daily.shape != (h,):
                raise ParamsError(
                    f"the pivot's budget plan covers {pivot.budget.daily.size} days, not {h}",
                    field="budget",
                )
            plan = pivot.budget
        elif pivot.budget_factor != 1.0:
            f = pivot.budget_factor
            total = None if base_plan.total is None else base_plan.total * f
            plan = BudgetPlan(base_plan.daily * f, total, base_plan.kind)
        else:
            plan = base_plan
        factors = list(self.factors)
        for new in pivot.replace:
            factors = [x for x in factors if x.key != new.key] + [new]
        factors.extend(pivot.add)
        if pivot.refresh_on is not None:
            fatigue = self.state.fatigue
            if fatigue is None:
                raise ParamsError(
                    "a creative refresh needs a fatigue fit: the data have no creative_id "
                    "or too little history",
                    field="refresh_on",
                )
            fresh = fatigue.model_copy(update={"refresh_dates": (pivot.refresh_on,)})
            factors = [x for x in factors if x.kind != "fatigue"] + [fresh]
        if pivot.changes_budget:
            spend = plan.daily * self.delivery.ratio
            response = self._response_factor(base_plan, plan)
            if response is None:
                drivers = drivers.with_plan(spend)
            else:
                drivers = replace(drivers, spend_plan=spend)
                factors.append(response)
        return drivers, plan, factors

    def _response_factor(self, base: BudgetPlan, plan: BudgetPlan) -> SpendResponseFactor | None:
        if self.spend_response is None:
            return None
        s0 = float(np.mean(base.daily)) * self.delivery.ratio
        s1 = float(np.mean(plan.daily)) * self.delivery.ratio
        if not (s0 > 0 and s1 > 0):
            return None  # no spend: nothing for a curve to say (the engine spends nothing)
        lr = np.asarray(self.spend_response.log_ratio(s0, s1), dtype=float)
        lr = lr[np.isfinite(lr)]
        if lr.size == 0:
            return None
        return SpendResponseFactor(
            log_shift=float(np.log(s1 / s0) - lr.mean()),
            log_shift_sd=float(lr.std()) if lr.size > 1 else 0.0,
        )

    def preview_paths(
        self, pivot: WhatIfPivot, horizon_days: int | None = None
    ) -> tuple[SimulationPaths, SimulationPaths]:
        """The baseline's and the pivot's paths (common random numbers), without summaries."""
        h = self._h(horizon_days)
        drivers, plan, factors = self.pivot_inputs(pivot, h)
        return self.baseline_paths(h), self._simulate(drivers, plan, factors)

    def compare(
        self, pivot: WhatIfPivot, horizon_days: int | None = None
    ) -> tuple[PairedDeltas, SimulationPaths]:
        """The pivot's per-path deltas against the baseline and its paths, without its full
        summary (what an interactive preview needs, in half the time of :meth:`preview`)."""
        h = self._h(horizon_days)
        base_paths, pivot_paths = self.preview_paths(pivot, h)
        return paired_deltas(base_paths, pivot_paths, outcome=self.outcome), pivot_paths

    def preview(self, pivot: WhatIfPivot, horizon_days: int | None = None) -> WhatIfResult:
        """Baseline vs ``pivot`` over ``horizon_days``: both summaries and per-path deltas."""
        h = self._h(horizon_days)
        base_paths, pivot_paths = self.preview_paths(pivot, h)
        return what_if_from_paths(
            base_paths,
            pivot_paths,
            self.baseline(h),
            self._summary(pivot_paths, h),
            outcome=self.outcome,
        )
