"""Market factors: explicit, documented adjustments to the driver paths, each uncertain.

A factor adds a shift to one or more drivers on their transformed scale (see
:mod:`simkit.forecast.base`), with its own uncertainty drawn once per path, so a path that
gets strong competition keeps it for the whole horizon (as a real market would).

==============  ==========  ==========================================================
factor          driver      shift on horizon day ``t``
==============  ==========  ==========================================================
``seasonal``    any         ``log(1 + lift)`` from ``start`` to ``end``; ``lift`` ~ N(lift,
                            lift_sd) per path.  Holidays and weekly seasonality are
                            already in the forecast centre; this adds a *known extra*
                            event (a promotion, a sale period the history never saw).
``competition`` log_cpm     ``log(1 + inflation)`` from ``start``; ``inflation`` ~
                            N(inflation, inflation_sd) per path, floored at -0.9.
``fatigue``     logit_ctr   ``L(age_t) - L(age_0)`` with ``L(a) = max(-rate * a,
                            log(floor))``: CTR decays with creative age relative to today's
                            level; a refresh resets the age to 0 (CTR recovers to the
                            fresh level).  ``rate`` ~ N(rate, rate_se) per path, >= 0.
                            When the campaign rotates creatives on a schedule and today's
                            creative is not past its usual refresh age, ``age_t`` is
                            held at ``age_0``: the usual refreshes are expected.
==============  ==========  ==========================================================

Creative rotation (issue 16).  A campaign that refreshes its creatives every few weeks
keeps its CTR level over a month: each creative wears, and is replaced before it wears
far.  The forecast centre, fitted on that history, holds the level; extrapolating the
current creative's wear over the whole horizon put the baseline about 6% low on campaigns
that rotate every 2-3 weeks.  So :func:`fit_fatigue` learns the campaign's usual refresh
age from its ``creative_id`` changes (:func:`simkit.simulate.fatigue.creative_rotation`:
the longest life of a finished creative) and the factor extends the wear beyond today only
when today's creative is older than that (it has been left running); a campaign whose
dominant creative never changed has no schedule to expect, and its creative's wear is
extended as before.  A refresh the plan gives (``refresh_dates``, the refresh pivot)
starts a fresh creative on that date whatever the schedule; under an expected schedule
its age is then held at today's age once it reaches it (the usual rotation takes over).
Without ``creative_id`` there is no fatigue factor at all: nothing beyond what the
forecast centre holds.

For small rates the logit shift equals the log shift of the rate, so ``fatigue`` and
``seasonal`` act multiplicatively on CTR/CVR as documented.  The fatigue rate comes from
the campaign's own history through the one fatigue model (:mod:`simkit.simulate.fatigue`,
:func:`fit_fatigue`), and today's creative age from the campaign-day panel (days since the
current dominant ``creative_id`` first became dominant): the simulation starts from
today's state.

Each factor draws from its own random stream (keyed by :attr:`key`), so a what-if that
changes a factor's size keeps the same per-path draws (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from simkit._suggest import did_you_mean
from simkit.errors import ParamsError
from simkit.forecast.base import DRIVERS
from simkit.simulate._random import fast_normals
from simkit.simulate.fatigue import creative_rotation, natural_wear

__all__ = [
    "FACTORS",
    "CompetitionFactor",
    "FatigueFactor",
    "MarketFactor",
    "SeasonalFactor",
    "fit_fatigue",
    "make_factor",
]

_FLOOR = 0.4


class MarketFactor(BaseModel):
    """Base class: a frozen, validated adjustment with :meth:`shift`."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: ClassVar[str] = ""

    @property
    def key(self) -> str:
        """Names the factor's random stream: equal keys get equal draws."""
        return self.kind

    def shift(self, dates: pd.DatetimeIndex, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        """Additive shift broadcastable to ``(H, 4, n_paths)`` on the transformed scale."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.model_dump(mode="json")}


def _active(dates: pd.DatetimeIndex, start: date | None, end: date | None) -> np.ndarray:
    d = dates.date
    mask = np.ones(len(dates), dtype=bool)
    if start is not None:
        mask &= d >= start
    if end is not None:
        mask &= d < end
    return mask


class SeasonalFactor(MarketFactor):
    """An extra seasonal/holiday lift on one driver between ``start`` and ``end`` (exclusive).

    Example: a sale week where CPM is expected 30% +- 10% higher:
    ``SeasonalFactor(driver="log_cpm", start=..., end=..., lift=0.3, lift_sd=0.1)``.
    """

    kind: ClassVar[str] = "seasonal"
    driver: Literal["log_cpm", "logit_ctr", "logit_cvr", "log_rpc"]
    start: date
    end: date | None = None
    lift: float = Field(gt=-0.9)
    lift_sd: float = Field(default=0.0, ge=0)

    @property
    def key(self) -> str:
        return f"seasonal:{self.driver}:{self.start}:{self.end}"

    def shift(self, dates: pd.DatetimeIndex, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        lift = self.lift + self.lift_sd * fast_normals(rng, (n_paths,))
        out = np.zeros((len(dates), len(DRIVERS), n_paths), dtype=np.float32)
        mask = _active(dates, self.start, self.end)
        out[mask, DRIVERS.index(self.driver), :] = np.log1p(np.maximum(lift, -0.9))
        return out


class CompetitionFactor(MarketFactor):
    """Competition intensity: CPM inflated by ``inflation`` (e.g. 0.2 = +20%) from ``start``."""

    kind: ClassVar[str] = "competition"
    inflation: float = Field(gt=-0.9)
    inflation_sd: float = Field(default=0.0, ge=0)
    start: date | None = None

    def shift(self, dates: pd.DatetimeIndex, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        infl = self.inflation + self.inflation_sd * fast_normals(rng, (n_paths,))
        out = np.zeros((len(dates), len(DRIVERS), n_paths), dtype=np.float32)
        mask = _active(dates, self.start, None)
        out[mask, 0, :] = np.log1p(np.maximum(infl, -0.9))
        return out


class FatigueFactor(MarketFactor):
    """Audience fatigue: CTR decays with creative age; a refresh resets the age.

    Attributes
    ----------
    rate_per_day
        Log-CTR lost per day of creative age (from :func:`fit_fatigue`).
    rate_se
        Its standard error: the per-path uncertainty.
    creative_age_days
        Age of the current creative on the last day of history (today's state).
    refresh_dates
        Horizon days on which a new creative starts (age 0 that day).
    floor
        CTR never falls below ``floor`` x its fresh level.
    usual_refresh_age_days
        The campaign's usual refresh age (the longest life of its finished creatives), when
        it rotates creatives; ``None`` when no refresh was seen.  While
        ``creative_age_days`` is not past it, the usual refreshes are expected: the age the
        CTR answers to is held at today's (no wear beyond today's level).
    """

    kind: ClassVar[str] = "fatigue"
    rate_per_day: float = Field(ge=0)
    rate_se: float = Field(default=0.0, ge=0)
    creative_age_days: int = Field(ge=0)
    refresh_dates: tuple[date, ...] = ()
    floor: float = Field(default=_FLOOR, gt=0, le=1)
    usual_refresh_age_days: int | None = Field(default=None, ge=0)

    @property
    def rotation_expected(self) -> bool:
        """Whether the campaign's usual refreshes are expected over the horizon."""
        return (
            self.usual_refresh_age_days is not None
            and self.creative_age_days <= self.usual_refresh_age_days
        )

    def ages(self, dates: pd.DatetimeIndex) -> np.ndarray:
        """Creative age on each horizon day (the age the CTR level answers to)."""
        age = np.empty(len(dates))
        current = float(self.creative_age_days)
        hold = float(self.creative_age_days) if self.rotation_expected else np.inf
        refresh = set(self.refresh_dates)
        for t, d in enumerate(dates.date):
            current = 0.0 if d in refresh else current + 1.0
            age[t] = min(current, hold)
        return age

    def shift(self, dates: pd.DatetimeIndex, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        rate = np.maximum(self.rate_per_day + self.rate_se * fast_normals(rng, (n_paths,)), 0.0)
        log_floor = math.log(self.floor)
        age = self.ages(dates)
        level = np.maximum(-rate[None, :] * age[:, None], log_floor)
        today = np.maximum(-rate * self.creative_age_days, log_floor)
        out = np.zeros((len(dates), len(DRIVERS), n_paths), dtype=np.float32)
        out[:, 1, :] = level - today[None, :]
        return out


#: Factor classes by kind, for YAML/CLI/widget use via :func:`make_factor`.
FACTORS: dict[str, type[MarketFactor]] = {
    cls.kind: cls for cls in (SeasonalFactor, CompetitionFactor, FatigueFactor)
}


def make_factor(spec: Mapping[str, Any]) -> MarketFactor:
    """Build a factor from ``{"kind": ..., **fields}`` (validated; unknown keys rejected)."""
    from pydantic import ValidationError

    fields = dict(spec)
    kind = str(fields.pop("kind", ""))
    if kind not in FACTORS:
        raise ParamsError(
            f"unknown factor kind '{kind}'{did_you_mean(kind, FACTORS)}; "
            f"known: {', '.join(sorted(FACTORS))}",
            field="kind",
        )
    try:
        return FACTORS[kind](**fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        first = ".".join(str(x) for x in exc.errors()[0]["loc"])
        raise ParamsError(f"{kind} factor: {problems}", field=first) from exc


def fit_fatigue(history: pd.DataFrame) -> FatigueFactor | None:
    """The fatigue factor of one campaign, from the one fatigue model; ``None`` if not possible.

    ``history`` is the campaign's contract rows (any breakdown) or its panel days
    (:meth:`simkit.data.panel.CampaignPanel.campaign`).  The rate is the lifetime wear of
    the one fatigue model (:func:`simkit.simulate.fatigue.natural_wear`: the pooled
    within-creative slope of day-of-week adjusted log CTR on creative age, weighted, with
    its standard error inflated for autocorrelated residuals); today's creative age is the
    panel's age of the dominant creative on the last day.  A positive slope (no fatigue
    seen) gives rate 0 with its uncertainty kept.  The usual refresh age is the rotation's
    (:func:`simkit.simulate.fatigue.creative_rotation`; ``None`` when the dominant creative
    never changed).  ``None`` without ``creative_id`` values or with fewer than
    :data:`~simkit.simulate.fatigue.MIN_CLICK_DAYS` days with clicks.
    """
    if "creative_id" not in history.columns or history["creative_id"].isna().all():
        return None
    wear = natural_wear(history)
    if wear is None:
        return None
    slope, se, age_today = wear
    rotation = creative_rotation(history)
    return FatigueFactor(
        rate_per_day=float(max(-slope, 0.0)),
        rate_se=se,
        creative_age_days=max(age_today, 0),
        usual_refresh_age_days=None if rotation is None else rotation.refresh_age_days,
    )
