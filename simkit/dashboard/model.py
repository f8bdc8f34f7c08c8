"""The what-if view-model: campaigns, baseline, pivot preview on common random numbers, deltas.

Everything the Voila dashboard shows is computed here, without widgets, so it is unit-tested
without a browser; :mod:`simkit.dashboard.app` only builds widgets around it.  This module
keeps the *view* state (input parsing, options, cards, charts); preparing a campaign, the
forecast fallback, the simulations and the deltas belong to
:class:`simkit.simulate.WhatIfSession` (one per campaign and horizon bucket), the model
the pivot engine's cards are simulated with.

How a preview stays under a second
----------------------------------
The funnel drivers of a campaign are forecast **once** per horizon bucket
(:data:`FIT_HORIZONS`: 30, 60 or 90 days) when the campaign is first shown at such a
horizon (a :class:`~simkit.simulate.WhatIfSession`); shorter horizons use the first days
of that forecast, so moving the horizon within a bucket never refits.  The session keeps
the baseline paths per horizon.  A preview then runs only the Monte Carlo engine for the
pivot, from a generator in the *same state* as the baseline's, so baseline path ``i`` and
pivot path ``i`` share every random number (common random numbers, see
:mod:`simkit.simulate.whatif`) and the per-path difference measures the pivot's effect.

A campaign's session is seeded with :func:`simkit.pivots.campaign_seed` of the session's
seed and its spend response is the campaign's fitted curve
(:func:`simkit.pivots.campaign_response`), exactly as in the pivot engine, which is run
with the same seed, forecaster and paths: "Preview this" on a budget card reproduces the
card's numbers for that campaign.

Pivot levers (each a registry entry in :data:`LEVERS`)
------------------------------------------------------
``budget_change_pct``
    Every daily budget times ``1 + pct/100``; conversions follow the campaign's fitted
    response curve (diminishing returns, with the curve's uncertainty), through the CPM;
    without a curve (too short a history) the driver centres move with the forecaster's
    spend elasticities (:meth:`~simkit.forecast.base.DriverForecast.with_plan`).
``creative_refresh``
    A new creative on the first horizon day: the campaign's fitted fatigue factor with its
    age reset (:class:`~simkit.simulate.factors.FatigueFactor`).  Without creative history
    there is no fitted fatigue and the refresh has no modelled effect (a note says so).
``audience_expansion_pct``
    The audience grows by the factor ``r = 1 + pct/100``, so frequency falls by ``r``.
    Where the pivot engine's creative state has a CTR-frequency elasticity, its model (as
    on its cards, :func:`simkit.pivots.audience_shifts`): CTR recovers along that
    elasticity, the new reach converts at the assumed CVR multiplier
    (:data:`simkit.pivots.types.AUDIENCE_ASSUMPTIONS`) and pays the assumed CPM.  Otherwise
    a share ``s = 1 - 1/r`` of the impressions reaches new users.  They convert at the pivot engine's assumed multiplier
    (:data:`simkit.pivots.types.AUDIENCE_ASSUMPTIONS`, median 0.9), so CVR is multiplied by
    ``1 - s (1 - q)``; CPM by the engine's assumed multiplier (median 1); and where the
    campaign's CTR falls with spend (frequency), CTR recovers by ``r ** -elasticity``.
    Each with a per-path uncertainty; the assumptions are shown on the dashboard.
``competition_pct``
    CPM inflated by ``pct`` % (:class:`~simkit.simulate.factors.CompetitionFactor`), with a
    per-path uncertainty of :data:`COMPETITION_SD_SHARE` of its size.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simkit._suggest import did_you_mean
from simkit.dashboard.charts import whatif_chart
from simkit.data import load
from simkit.data.panel import CampaignPanel
from simkit.errors import DataError, ParamsError
from simkit.pivots import find_pivots
from simkit.pivots.sessions import (
    audience_shifts,
    campaign_response,
    campaign_seed,
    refresh_shift,
)
from simkit.pivots.types import AUDIENCE_ASSUMPTIONS
from simkit.simulate.campaign import ForecastFn
from simkit.simulate.engine import RATIO_METRICS, SimulationPaths
from simkit.simulate.factors import CompetitionFactor, MarketFactor, SeasonalFactor
from simkit.simulate.fatigue import creative_analysis
from simkit.simulate.session import WhatIfPivot, WhatIfSession
from simkit.simulate.summary import SimulationResult, quantile_summary
from simkit.simulate.whatif import PairedDeltas

__all__ = [
    "COMPETITION_SD_SHARE",
    "DELTA_METRICS",
    "FIT_HORIZONS",
    "LEVERS",
    "MAX_HORIZON_DAYS",
    "MAX_PATHS",
    "Baseline",
    "CampaignOption",
    "Card",
    "DashboardSettings",
    "Delta",
    "LeverEffect",
    "PivotInput",
    "Preview",
    "WhatIfModel",
    "parse_pivot",
]

log = logging.getLogger(__name__)

#: Longest horizon a widget may ask for (days).
MAX_HORIZON_DAYS = 90
#: Horizons the drivers are forecast for; a shorter horizon uses the next one's first days.
FIT_HORIZONS: tuple[int, ...] = (30, 60, 90)
MIN_HORIZON_DAYS = 7
#: Most Monte Carlo paths a dashboard session may simulate per run.
MAX_PATHS = 20_000
#: Per-path uncertainty of a competition change, as a share of its size.
COMPETITION_SD_SHARE = 0.3
#: Metrics of the delta panel and whether more is better.
DELTA_METRICS: dict[str, bool] = {
    "conversions": True,
    "cpa": False,
    "roas": True,
    "revenue": True,
    "spend": False,
}
CHART_METRICS: tuple[str, ...] = ("conversions", "revenue", "spend", "cpa", "roas")
_HISTORY_DAYS = 42
_CACHE_SIZE = 2


class PivotInput(BaseModel):
    """One pivot as set on the widgets (validated; see :func:`parse_pivot` for raw input)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    budget_change_pct: float = Field(0.0, ge=-90.0, le=200.0)
    creative_refresh: bool = False
    audience_expansion_pct: float = Field(0.0, ge=0.0, le=100.0)
    competition_pct: float = Field(0.0, ge=-50.0, le=100.0)
    horizon_days: int = Field(30, ge=MIN_HORIZON_DAYS, le=MAX_HORIZON_DAYS)

    @property
    def is_baseline(self) -> bool:
        """True when no lever is moved (the preview equals the baseline)."""
        return (
            self.budget_change_pct == 0
            and not self.creative_refresh
            and self.audience_expansion_pct == 0
            and self.competition_pct == 0
        )

    def describe(self) -> str:
        """The pivot in words, for the delta panel's heading."""
        parts = []
        if self.budget_change_pct:
            parts.append(f"budget {self.budget_change_pct:+.0f}%")
        if self.creative_refresh:
            parts.append("creative refresh")
        if self.audience_expansion_pct:
            parts.append(f"audience +{self.audience_expansion_pct:.0f}%")
        if self.competition_pct:
            parts.append(f"competition {self.competition_pct:+.0f}%")
        return ", ".join(parts) or "no change"


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(
        value, int | float | np.integer | np.floating | str
    ):
        raise ParamsError(f"{name} must be a number", field=name)
    try:
        number = float(value)
    except ValueError:
        raise ParamsError(f"{name} must be a number, not '{str(value)[:20]}'", field=name) from None
    if not math.isfinite(number):
        raise ParamsError(f"{name} must be a finite number", field=name)
    return number


def parse_pivot(raw: Mapping[str, Any]) -> PivotInput:
    """Validate untrusted widget values into a :class:`PivotInput`.

    Numbers outside a lever's range are clamped into it (a slider cannot leave its range,
    but a crafted message can); non-numbers, non-finite numbers and unknown keys are
    refused with a short :class:`~simkit.errors.ParamsError`.
    """
    if not isinstance(raw, Mapping):
        raise ParamsError("a pivot is a mapping of lever: value")
    fields = PivotInput.model_fields
    unknown = [k for k in raw if k not in fields]
    if unknown:
        raise ParamsError(
            f"unknown lever '{unknown[0]}'{did_you_mean(str(unknown[0]), list(fields))}",
            field=str(unknown[0]),
        )
    values: dict[str, Any] = {}
    for name, value in raw.items():
        info = fields[name]
        if info.annotation is bool:
            if not isinstance(value, bool | int | np.bool_):
                raise ParamsError(f"{name} must be on or off", field=name)
            values[name] = bool(value)
            continue
        number = _number(name, value)
        lo = next(m.ge for m in info.metadata if hasattr(m, "ge"))
        hi = next(m.le for m in info.metadata if hasattr(m, "le"))
        number = min(max(number, lo), hi)
        values[name] = int(round(number)) if info.annotation is int else number
    try:
        return PivotInput(**values)
    except ValidationError as exc:  # pragma: no cover - clamping makes this unreachable
        raise ParamsError(exc.errors()[0]["msg"]) from None


class DashboardSettings(BaseModel):
    """Settings of one dashboard session (the notebook's parameters, validated).

    Attributes
    ----------
    data, mapping
        The campaign data file and optional column mapping (as for ``simkit.data.load``).
    horizon_days
        The horizon shown first.
    n_paths
        Monte Carlo paths per simulation (capped at :data:`MAX_PATHS`).
    seed
        The one seed of every draw: the same settings give the same numbers.
    members
        Forecast ensemble members used to fit the drivers (fast ones by default, so the
        first chart appears within seconds).
    target_cpa, target_roas
        Targets for the goal probabilities (default: each campaign's metadata, if any).
    backtest_cutoffs
        Rolling-origin backtest folds of the forecast (as ``RunParams.backtest_cutoffs``).
    cache_dir
        Forecast cache folder (``None``: no disk cache).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    data: str
    mapping: str | None = None
    horizon_days: int = Field(30, ge=MIN_HORIZON_DAYS, le=MAX_HORIZON_DAYS)
    n_paths: int = Field(10_000, ge=100, le=MAX_PATHS)
    seed: int = Field(7, ge=0)
    members: tuple[str, ...] = ("seasonal_naive", "ets")
    target_cpa: float | None = Field(None, gt=0)
    target_roas: float | None = Field(None, gt=0)
    backtest_cutoffs: int = Field(3, ge=1, le=20)
    cache_dir: str | None = None


@dataclass(frozen=True)
class CampaignOption:
    """A campaign as listed in the picker."""

    campaign_id: str
    label: str
    days: int
    first_date: pd.Timestamp
    last_date: pd.Timestamp
    spend_28d: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "label": self.label,
            "days": self.days,
            "first_date": self.first_date.date().isoformat(),
            "last_date": self.last_date.date().isoformat(),
            "spend_28d": self.spend_28d,
        }


@dataclass(frozen=True)
class Baseline:
    """The baseline of one campaign over one horizon.

    Attributes
    ----------
    result
        The full :class:`~simkit.simulate.summary.SimulationResult` (scenarios, bands,
        goal probabilities).
    history
        The last days of actual daily metrics (``date`` + metrics), for the chart.
    bands
        ``{metric: DataFrame(date, p10, p50, p90)}`` daily bands.
    notes
        What the numbers rest on, in words.
    """

    campaign_id: str
    horizon_days: int
    n_paths: int
    seed: int
    result: SimulationResult
    history: pd.DataFrame
    bands: dict[str, pd.DataFrame]
    notes: tuple[str, ...]
    seconds: float
    paths: SimulationPaths = field(repr=False)
    factors: tuple[MarketFactor, ...] = ()

    def scenario_rows(self) -> list[dict[str, Any]]:
        """Pessimistic / realistic / optimistic: the paths split by conversions (below the
        p20, p20 to p80, above the p80), each with its probability (they sum to 1) and its
        conditional mean totals; CPA and ROAS are ratios of those mean totals."""
        return [
            {
                "scenario": s.name,
                "outcome": s.outcome,
                "value": s.value,
                "probability": s.probability,
                "probability_of": s.probability_of,
                "conversions": s.mean_totals["conversions"],
                "spend": s.mean_totals["spend"],
                "revenue": s.mean_totals["revenue"],
                "cpa": s.mean_totals["cpa"],
                "roas": s.mean_totals["roas"],
                "path_index": s.path_index,
            }
            for s in self.result.scenarios
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "horizon_days": self.horizon_days,
            "n_paths": self.n_paths,
            "seed": self.seed,
            "scenarios": self.scenario_rows(),
            "probabilities": dict(self.result.probabilities),
            "totals": self.result.totals,
            "notes": list(self.notes),
            "seconds": self.seconds,
        }


@dataclass(frozen=True)
class Delta:
    """Pivot minus baseline on the same paths, for one metric over the horizon."""

    metric: str
    higher_is_better: bool
    baseline_p50: float
    pivot_p50: float
    p10: float
    p50: float
    p90: float
    mean: float
    p_better: float

    def to_dict(self) -> dict[str, Any]:
        return {k: _clean(getattr(self, k)) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Preview:
    """A pivot previewed against the baseline (see the module docstring)."""

    campaign_id: str
    pivot: PivotInput
    baseline: Baseline
    deltas: dict[str, Delta]
    probabilities: dict[str, float]
    notes: tuple[str, ...]
    seconds: float
    paths: SimulationPaths = field(repr=False)
    _bands: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def band(self, metric: str) -> pd.DataFrame:
        """Daily ``date, p10, p50, p90`` of the pivot for one metric (computed on demand)."""
        if metric not in self._bands:
            self._bands.update(_daily_bands(self.paths, [metric]))
        return self._bands[metric]

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "pivot": self.pivot.model_dump(),
            "deltas": {m: d.to_dict() for m, d in self.deltas.items()},
            "probabilities": dict(self.probabilities),
            "notes": list(self.notes),
            "seconds": self.seconds,
        }


def _clean(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


@dataclass(frozen=True)
class Card:
    """A recommendation of the pivot engine for one campaign, with the pivot to preview.

    ``pivot`` holds :class:`PivotInput` values reproducing the recommendation on this
    campaign (``None`` when the dashboard's levers cannot express it).
    """

    type: str
    action: str
    rationale: str
    confidence: float
    conversions: dict[str, float]
    campaign_ids: tuple[str, ...]
    pivot: dict[str, Any] | None
    pivot_note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "action": self.action,
            "rationale": self.rationale,
            "confidence": self.confidence,
            "conversions": dict(self.conversions),
            "campaign_ids": list(self.campaign_ids),
            "pivot": self.pivot,
            "pivot_note": self.pivot_note,
        }


def _card_pivot(
    rec: Any, result: Any, campaign_id: str, channel: str | None
) -> tuple[dict[str, Any] | None, str]:
    """The dashboard levers that reproduce a recommendation on one campaign."""
    details = rec.details or {}
    if rec.type == "creative_refresh":
        return {"creative_refresh": True}, "a new creative on the first day"
    if rec.type == "budget_reallocation":
        now = result.allocation.status_quo.get(campaign_id)
        move = details.get("moves", {}).get(campaign_id)
        if now and move is not None:
            return (
                {"budget_change_pct": 100.0 * move / now},
                f"this campaign's share: {move:+,.0f}/day on {now:,.0f}/day",
            )
    if rec.type == "channel_shift" and channel is not None:
        now = details.get("channel_budgets_now", {}).get(channel)
        after = details.get("channel_budgets_after", {}).get(channel)
        if now and after is not None:
            return (
                {"budget_change_pct": 100.0 * (after / now - 1.0)},
                f"the {channel} channel's change applied to this campaign",
            )
    if rec.type == "audience_expansion":
        now, target = details.get("frequency_now"), details.get("frequency_target")
        if now and target and now > target:
            return (
                {"audience_expansion_pct": 100.0 * (now / target - 1.0)},
                f"audience grown until frequency falls from {now:.2f} to {target:.2f}",
            )
    return None, "not expressible with the dashboard's levers"


# --- pivot levers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LeverEffect:
    """What one lever does to the simulation: a plan multiplier, factors, notes."""

    budget_factor: float = 1.0
    add: tuple[MarketFactor, ...] = ()
    replace: tuple[MarketFactor, ...] = ()
    notes: tuple[str, ...] = ()


def _budget_lever(p: PivotInput, fit: WhatIfSession, dates: pd.DatetimeIndex) -> LeverEffect:
    return LeverEffect(budget_factor=1.0 + p.budget_change_pct / 100.0)


def _refresh_lever(p: PivotInput, fit: WhatIfSession, dates: pd.DatetimeIndex) -> LeverEffect:
    if not p.creative_refresh:
        return LeverEffect()
    _, state = creative_analysis(fit.history, fit.campaign_id)
    if state is not None:  # the pivot engine's refresh (its cards), see simkit.pivots.sessions
        return LeverEffect(
            add=(refresh_shift(state, fit.horizon_days, fit.n_paths, seed=fit.seed),),
            notes=(
                f"creative refresh on {dates[0].date()}: CTR back from {np.exp(state.current):.3%} "
                f"(the current creative, {state.current_age_days} days old) to about "
                f"{np.exp(state.fresh):.3%}, as the pivot engine estimates",
            ),
        )
    fatigue = fit.state.fatigue
    if fatigue is None:
        return LeverEffect(
            notes=(
                "creative refresh: no creative history to fit fatigue on, so a refresh has "
                "no modelled effect",
            )
        )
    fresh = fatigue.model_copy(update={"refresh_dates": (dates[0].date(),)})
    return LeverEffect(
        replace=(fresh,),
        notes=(
            f"creative refresh on {dates[0].date()}: the current creative is "
            f"{fatigue.creative_age_days} days old and CTR loses "
            f"{fatigue.rate_per_day:.2%} a day with age (fitted)",
        ),
    )


def _audience_lever(p: PivotInput, fit: WhatIfSession, dates: pd.DatetimeIndex) -> LeverEffect:
    if p.audience_expansion_pct <= 0:
        return LeverEffect()
    cvr_median, cvr_log_sd = AUDIENCE_ASSUMPTIONS["cvr_multiplier"]
    cpm_median, cpm_log_sd = AUDIENCE_ASSUMPTIONS["cpm_multiplier"]
    r = 1.0 + p.audience_expansion_pct / 100.0
    _, state = creative_analysis(fit.history, fit.campaign_id)
    shifts = None
    if state is not None and state.freq_now is not None:
        shifts = audience_shifts(
            state,
            fit.horizon_days,
            seed=fit.seed,
            assumptions=AUDIENCE_ASSUMPTIONS,
            frequency_target=state.freq_now / r,
        )
    if shifts is not None:  # the pivot engine's model (its cards), see simkit.pivots.sessions
        return LeverEffect(
            add=shifts,
            notes=(
                f"audience +{p.audience_expansion_pct:.0f}%: frequency falls from "
                f"{state.freq_now:.2f} to {state.freq_now / r:.2f} and CTR recovers along its "
                f"fitted frequency elasticity ({state.freq_elasticity:+.2f}); the new reach is "
                f"assumed to convert at {cvr_median:.0%} of today's rate (log-sd {cvr_log_sd}), "
                f"CPM x{cpm_median:.2f} (log-sd {cpm_log_sd}), as the pivot engine assumes",
            ),
        )
    share_new = 1.0 - 1.0 / r
    start = dates[0].date()
    factors: list[MarketFactor] = [
        SeasonalFactor(
            driver="logit_cvr",
            start=start,
            lift=share_new * (cvr_median - 1.0),
            lift_sd=share_new * cvr_median * cvr_log_sd,
        ),
        SeasonalFactor(
            driver="log_cpm", start=start, lift=cpm_median - 1.0, lift_sd=cpm_median * cpm_log_sd
        ),
    ]
    e_ctr = min(float(fit.drivers.spend_elasticity[1]), 0.0)
    ctr_lift = r ** (-e_ctr) - 1.0
    if ctr_lift:
        factors.append(
            SeasonalFactor(driver="logit_ctr", start=start, lift=ctr_lift, lift_sd=0.5 * ctr_lift)
        )
    return LeverEffect(
        add=tuple(factors),
        notes=(
            f"audience +{p.audience_expansion_pct:.0f}%: new users ({share_new:.0%} of "
            f"impressions) assumed to convert at {cvr_median:.0%} of today's rate (log-sd "
            f"{cvr_log_sd}), CPM x{cpm_median:.2f} (log-sd {cpm_log_sd}), as the pivot "
            f"engine assumes; CTR {ctr_lift:+.1%} from lower frequency",
        ),
    )


def _competition_lever(p: PivotInput, fit: WhatIfSession, dates: pd.DatetimeIndex) -> LeverEffect:
    if p.competition_pct == 0:
        return LeverEffect()
    inflation = p.competition_pct / 100.0
    return LeverEffect(
        add=(
            CompetitionFactor(
                inflation=inflation,
                inflation_sd=COMPETITION_SD_SHARE * abs(inflation),
                start=dates[0].date(),
            ),
        ),
    )


#: Pivot levers by the :class:`PivotInput` field they read.
LEVERS: dict[str, Callable[[PivotInput, WhatIfSession, pd.DatetimeIndex], LeverEffect]] = {
    "budget_change_pct": _budget_lever,
    "creative_refresh": _refresh_lever,
    "audience_expansion_pct": _audience_lever,
    "competition_pct": _competition_lever,
}


# --- the view-model -------------------------------------------------------------------------


def _daily_bands(paths: SimulationPaths, metrics: Sequence[str]) -> dict[str, pd.DataFrame]:
    out = {}
    for metric in metrics:
        q = quantile_summary(paths.metric(metric), axis=1, ratio=metric in RATIO_METRICS)
        out[metric] = pd.DataFrame(
            {"date": paths.dates, "p10": q["p10"], "p50": q["p50"], "p90": q["p90"]}
        )
    return out


def _deltas(whatif: PairedDeltas) -> dict[str, Delta]:
    """The delta panel's rows from the session's per-path deltas."""
    out = {}
    for metric, higher in DELTA_METRICS.items():
        d = whatif.delta[metric]
        out[metric] = Delta(
            metric=metric,
            higher_is_better=higher,
            baseline_p50=whatif.baseline_p50[metric],
            pivot_p50=whatif.pivot_p50[metric],
            p10=float(d["p10"]),
            p50=float(d["p50"]),
            p90=float(d["p90"]),
            mean=float(d["mean"]),
            p_better=float((whatif.p_higher if higher else whatif.p_lower)[metric]),
        )
    return out


class WhatIfModel:
    """The dashboard's state and computations for one data set.

    Parameters
    ----------
    data
        Contract-shaped daily data.
    settings
        Session settings.
    campaigns
        Campaign metadata (names, channels, targets), may be empty.
    forecast_fn
        ``(history, campaign_id, horizon_days, spend_plan, seed) -> DriverForecast``;
        default: :func:`simkit.forecast.forecast_campaign` with ``settings.members`` (and
        its fallback member when the ensemble fails).

    Examples
    --------
    >>> model = WhatIfModel.from_settings(DashboardSettings(data="campaigns.csv"))  # doctest: +SKIP
    >>> base = model.baseline("C001", 30)  # doctest: +SKIP
    >>> model.preview("C001", {"budget_change_pct": 20}).deltas["conversions"].p50  # doctest: +SKIP
    """

    def __init__(
        self,
        data: pd.DataFrame,
        settings: DashboardSettings,
        *,
        campaigns: pd.DataFrame | None = None,
        forecast_fn: ForecastFn | None = None,
    ) -> None:
        if data.empty:
            raise DataError("the data have no rows", file=settings.data)
        self.data = data
        self.settings = settings
        self.campaign_meta = campaigns if campaigns is not None else pd.DataFrame()
        self._forecast_fn = forecast_fn
        self._fitted: dict[tuple[str, int], WhatIfSession] = {}
        self._options: list[CampaignOption] | None = None
        self._panel: CampaignPanel | None = None
        self._pivots: Any = None
        self._baselines: OrderedDict[tuple[str, int], Baseline] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: DashboardSettings, **kwargs: Any) -> WhatIfModel:
        """Load ``settings.data`` (validated by :func:`simkit.data.load`) and wrap it."""
        loaded = load(settings.data, mapping=settings.mapping)
        return cls(loaded.data, settings, campaigns=loaded.campaigns, **kwargs)

    # -- campaigns ---------------------------------------------------------------------------

    def campaigns(self) -> list[CampaignOption]:
        """Every campaign of the data, largest recent spend first."""
        if self._options is None:
            self._options = self._campaign_options()
        return list(self._options)

    def _campaign_options(self) -> list[CampaignOption]:
        frame = self.data
        last = pd.Timestamp(frame["date"].max())
        recent = frame[frame["date"] > last - pd.Timedelta(days=28)]
        spend = recent.groupby(recent["campaign_id"].astype(str))["spend"].sum()
        meta = self._meta_by_id()
        out = []
        for cid, rows in frame.groupby(frame["campaign_id"].astype(str)):
            info = meta.get(str(cid), {})
            name = info.get("name")
            channel = info.get("channel") or (
                rows["channel"].dropna().iloc[-1]
                if "channel" in rows and rows["channel"].notna().any()
                else None
            )
            label = " - ".join(str(x) for x in (cid, name or channel) if x)
            if self._stopped(str(cid)):
                label += " (stopped)"
            out.append(
                CampaignOption(
                    campaign_id=str(cid),
                    label=label,
                    days=int(rows["date"].nunique()),
                    first_date=pd.Timestamp(rows["date"].min()),
                    last_date=pd.Timestamp(rows["date"].max()),
                    spend_28d=float(spend.get(str(cid), 0.0)),
                )
            )
        return sorted(out, key=lambda c: (-c.spend_28d, c.campaign_id))

    def campaign_ids(self) -> list[str]:
        return [c.campaign_id for c in self.campaigns()]

    def _meta_by_id(self) -> dict[str, dict[str, Any]]:
        meta = self.campaign_meta
        if meta is None or meta.empty or "campaign_id" not in meta.columns:
            return {}
        return {
            str(r["campaign_id"]): {k: v for k, v in r.items() if pd.notna(v)}
            for r in meta.to_dict(orient="records")
        }

    def check_campaign(self, campaign_id: Any) -> str:
        """The campaign id if the data have it (untrusted input), else a short error."""
        ids = self.campaign_ids()
        if not isinstance(campaign_id, str) or campaign_id not in ids:
            shown = str(campaign_id)[:40]
            raise DataError(
                f"no campaign '{shown}'{did_you_mean(shown, ids)}", column="campaign_id"
            )
        return campaign_id

    # -- fitting -----------------------------------------------------------------------------

    def fit(self, campaign_id: str, horizon_days: int = FIT_HORIZONS[0]) -> WhatIfSession:
        """The campaign's what-if session for at least ``horizon_days`` (today's state and
        the driver forecast), prepared once per horizon bucket and kept."""
        campaign_id = self.check_campaign(campaign_id)
        self._refuse_stopped(campaign_id)
        fit_h = next((b for b in FIT_HORIZONS if b >= horizon_days), FIT_HORIZONS[-1])
        key = (campaign_id, fit_h)
        if key not in self._fitted:
            targets = self._targets(campaign_id)
            s = self.settings
            self._fitted[key] = WhatIfSession(
                self.data,
                campaign_id,
                fit_h,
                seed=campaign_seed(s.seed, campaign_id),
                n_paths=s.n_paths,
                members=s.members,
                max_cutoffs=s.backtest_cutoffs,
                cache=s.cache_dir if s.cache_dir else False,
                forecast_fn=self._forecast_fn,
                spend_response=campaign_response(self.data, campaign_id, seed=s.seed),
                target_cpa=targets.get("target_cpa"),
                target_roas=targets.get("target_roas"),
            )
        return self._fitted[key]

    def _stopped(self, campaign_id: str) -> bool:
        if self._panel is None:
            self._panel = CampaignPanel.from_data(self.data)
        return self._panel.is_stopped(campaign_id)

    def _refuse_stopped(self, campaign_id: str) -> None:
        """A stopped campaign has no "next days" to preview: its forecast would start on
        days the data show it did not run (the report skips it for the same reason)."""
        if not self._stopped(campaign_id):
            return
        panel = self._panel
        spent = panel.last_spend_date(campaign_id)
        last = panel.last_date.date()
        since = f"its last day with spend is {spent.date()}" if spent else "it never spent"
        raise DataError(
            f"campaign {campaign_id} has stopped ({since}; the data run to {last}): "
            "previews are for running campaigns",
            column="campaign_id",
        )

    def _targets(self, campaign_id: str) -> dict[str, float]:
        meta = self._meta_by_id().get(campaign_id, {})
        targets = {}
        for name in ("target_cpa", "target_roas"):
            value = getattr(self.settings, name) or meta.get(name)
            if value is not None and np.isfinite(float(value)) and float(value) > 0:
                targets[name] = float(value)
        return targets

    # -- baseline ----------------------------------------------------------------------------

    def _horizon(self, horizon_days: Any) -> int:
        h = int(round(_number("horizon_days", horizon_days)))
        return min(max(h, MIN_HORIZON_DAYS), MAX_HORIZON_DAYS)

    def baseline(self, campaign_id: str, horizon_days: int | None = None) -> Baseline:
        """The baseline paths and summary for a campaign and horizon (kept for previews)."""
        h = self._horizon(self.settings.horizon_days if horizon_days is None else horizon_days)
        campaign_id = self.check_campaign(campaign_id)
        key = (campaign_id, h)
        if key in self._baselines:
            self._baselines.move_to_end(key)
            return self._baselines[key]
        t0 = time.perf_counter()
        session = self.fit(campaign_id, h)
        paths = session.baseline_paths(h)
        result = session.baseline(h)
        days = CampaignPanel.from_data(session.history).campaign(campaign_id)
        hist = days.loc[
            days["present"], ["spend", "impressions", "clicks", "conversions", "revenue"]
        ]
        hist = hist.rename_axis("date").reset_index()
        with np.errstate(divide="ignore", invalid="ignore"):
            hist["cpa"] = hist["spend"] / hist["conversions"]
            hist["roas"] = hist["revenue"] / hist["spend"]
        hist = hist.replace([np.inf, -np.inf], np.nan).tail(_HISTORY_DAYS)
        plan = paths.plan
        delivery = session.delivery
        notes = [
            f"{self.settings.n_paths:,} paths, seed {self.settings.seed} (campaign stream "
            f"{session.seed}); drivers forecast once by {', '.join(self.settings.members)} "
            f"from {len(session.history)} rows up to {session.state.last_date.date()}",
            f"plan: {plan.daily.mean():,.2f} a day (delivery ratio "
            f"{delivery.ratio:.2f}, pacing rule '{delivery.rule.name}')",
        ]
        notes.extend(session.notes())  # delivery contradictions, the forecast's fallback
        plan_value = result.plan_value
        if plan_value is not None:
            notes.append(
                f"'on plan' = within 10% of the 28-day run rate x {h} days "
                f"({plan_value:,.0f} conversions)"
            )
        baseline = Baseline(
            campaign_id=campaign_id,
            horizon_days=h,
            n_paths=self.settings.n_paths,
            seed=self.settings.seed,
            result=result,
            history=hist,
            bands=_daily_bands(paths, CHART_METRICS),
            notes=tuple(notes),
            seconds=time.perf_counter() - t0,
            paths=paths,
            factors=session.factors,
        )
        self._baselines[key] = baseline
        while len(self._baselines) > _CACHE_SIZE:
            self._baselines.popitem(last=False)
        return baseline

    # -- preview -----------------------------------------------------------------------------

    def whatif_pivot(
        self, session: WhatIfSession, pivot: PivotInput
    ) -> tuple[WhatIfPivot, list[str]]:
        """The levers of ``pivot`` as the session's :class:`~simkit.simulate.WhatIfPivot`,
        and the notes they make."""
        dates = session.dates[: pivot.horizon_days]
        budget_factor = 1.0
        add: list[MarketFactor] = []
        replace_: list[MarketFactor] = []
        notes: list[str] = []
        for name in PivotInput.model_fields:
            lever = LEVERS.get(name)
            if lever is None:
                continue
            effect = lever(pivot, session, dates)
            budget_factor *= effect.budget_factor
            replace_.extend(effect.replace)
            add.extend(effect.add)
            notes.extend(effect.notes)
        return (
            WhatIfPivot(
                budget_factor=budget_factor,
                add=tuple(add),
                replace=tuple(replace_),
                label=pivot.describe(),
            ),
            notes,
        )

    def preview(self, campaign_id: str, pivot: PivotInput | Mapping[str, Any]) -> Preview:
        """Simulate a pivot on the baseline's random numbers and measure its deltas."""
        t0 = time.perf_counter()
        p = pivot if isinstance(pivot, PivotInput) else parse_pivot(pivot)
        base = self.baseline(campaign_id, p.horizon_days)
        h = base.horizon_days
        session = self.fit(base.campaign_id, h)
        change, notes = self.whatif_pivot(session, p)
        compared, pivot_paths = session.compare(change, h)
        deltas = _deltas(compared)
        probabilities = {
            "p_conversions_better": deltas["conversions"].p_better,
            "p_cpa_better": deltas["cpa"].p_better,
            "p_roas_better": deltas["roas"].p_better,
        }
        return Preview(
            campaign_id=base.campaign_id,
            pivot=p,
            baseline=base,
            deltas=deltas,
            probabilities=probabilities,
            notes=tuple(notes),
            seconds=time.perf_counter() - t0,
            paths=pivot_paths,
        )

    # -- recommendation cards ----------------------------------------------------------------

    def pivot_result(self) -> Any:
        """The pivot engine's ranked recommendations for the whole data set (computed once)."""
        if self._pivots is None:
            meta = self.campaign_meta if not self.campaign_meta.empty else None
            s = self.settings
            self._pivots = find_pivots(
                self.data,
                meta,
                # the previews' model: same seed, paths and forecaster (module docstring)
                seed=s.seed,
                horizon_days=s.horizon_days,
                n_paths=s.n_paths,
                members=s.members,
                forecast_fn=self._forecast_fn,
                forecast_cache=s.cache_dir if s.cache_dir else False,
                backtest_cutoffs=s.backtest_cutoffs,
            )
        return self._pivots

    def recommendations(self, campaign_id: str) -> list[Card]:
        """The pivot engine's recommendations touching a campaign, best first."""
        campaign_id = self.check_campaign(campaign_id)
        result = self.pivot_result()
        channel = None
        rows = self.data[self.data["campaign_id"].astype(str) == campaign_id]
        if "channel" in rows and rows["channel"].notna().any():
            channel = str(rows["channel"].dropna().iloc[-1])
        cards = []
        for rec in result.recommendations:
            if campaign_id not in rec.campaign_ids:
                continue
            pivot, note = _card_pivot(rec, result, campaign_id, channel)
            if pivot is not None:
                pivot = parse_pivot(pivot).model_dump(exclude={"horizon_days"})
            own = (rec.details or {}).get("impact_by_campaign", {}).get(campaign_id)
            if own is not None and pivot is not None:
                c = own["conversions"]
                note += (
                    f"; this campaign's part of the impact: conversions {c['p50']:+,.0f} "
                    f"(80%: {c['p10']:+,.0f} to {c['p90']:+,.0f}), what the preview shows "
                    f"over {result.horizon_days} days"
                )
            conv = rec.expected_impact.get("conversions", {})
            cards.append(
                Card(
                    type=rec.type,
                    action=rec.action,
                    rationale=rec.rationale,
                    confidence=float(rec.confidence),
                    conversions={k: float(conv[k]) for k in ("p10", "p50", "p90") if k in conv},
                    campaign_ids=tuple(rec.campaign_ids),
                    pivot=pivot,
                    pivot_note=note,
                )
            )
        return cards

    # -- chart -------------------------------------------------------------------------------

    def chart(
        self,
        baseline: Baseline,
        preview: Preview | None = None,
        metric: Literal["conversions", "revenue", "spend", "cpa", "roas"] = "conversions",
    ) -> Any:
        """The fan chart (a Vega-Lite spec): recent history, the baseline band and (if
        given) the pivot band."""
        if metric not in CHART_METRICS:
            raise ParamsError(f"metric must be one of {', '.join(CHART_METRICS)}", field="metric")
        pivot_bands = preview.band(metric) if preview is not None else None
        label = preview.pivot.describe() if preview is not None else None
        return whatif_chart(
            baseline.history, baseline.bands[metric], pivot_bands, metric=metric, pivot_label=label
        )


def resolve_path(value: str | None, base: Path) -> str | None:
    """An absolute path for ``value`` relative to ``base`` (``None`` stays ``None``)."""
    if value is None:
        return None
    path = Path(value)
    return str(path if path.is_absolute() else (base / path).resolve())
