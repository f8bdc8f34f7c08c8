"""From a contract frame to a fitted portfolio: daily series, today's budgets, curves.

This module is the edge between the data contract and the pure maths of
:mod:`simkit.pivots.curves` and :mod:`simkit.pivots.optimize`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd

from simkit.data.panel import CampaignPanel
from simkit.errors import DataError
from simkit.pivots.curves import ResponseCurve, fit_response_curve
from simkit.simulate.fatigue import ctr_offset

__all__ = ["Portfolio", "daily_panel", "fit_portfolio", "todays_budget"]

log = logging.getLogger(__name__)

_SUM_COLUMNS = ("spend", "impressions", "clicks", "conversions", "revenue")
#: Days of history used for revenue per conversion, delivery ratio and today's spend.
RECENT_DAYS = 28
TODAY_SPEND_DAYS = 7
#: A campaign with no spend in its last this-many days is treated as paused.
PAUSED_DAYS = 7


def daily_panel(
    data: pd.DataFrame | CampaignPanel,
    *,
    by: Literal["campaign", "channel"] = "campaign",
    as_of: date | str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """One row per ``date`` x ``key`` (campaign or channel) on the days with data.

    The campaign rows are the campaign-day panel's (:mod:`simkit.data.panel`: volumes
    summed over breakdowns, the budget in force, the dominant channel, reach and
    frequency); channel rows sum their campaigns' days (budgets too, since each campaign
    holds its own).  Days missing from the data are left out (the curves are fitted on
    reported days); rows after ``as_of`` are dropped first.
    """
    if isinstance(data, CampaignPanel):
        source = data if as_of is None else data.until(as_of)
    else:
        source = CampaignPanel.from_data(data, as_of=as_of)
    frame = source.frame[source.frame["present"].to_numpy(dtype=bool)]
    if by == "channel" and "channel" not in frame.columns:
        raise DataError("per-channel curves need a 'channel' column", column="channel")
    keep = ["campaign_id", "date", *_SUM_COLUMNS]
    keep += [c for c in ("budget", "reach", "frequency", "channel") if c in frame.columns]
    # a blank volume on a reported day counts as 0 (the curves need numbers)
    camp = frame[keep].fillna({c: 0.0 for c in _SUM_COLUMNS})
    if by == "campaign":
        camp = camp.rename(columns={"campaign_id": "key"})
    else:
        chan_agg: dict[str, Any] = {c: "sum" for c in _SUM_COLUMNS}
        if "budget" in camp.columns:
            chan_agg["budget"] = lambda s: s.sum(min_count=1)
        if "reach" in camp.columns:
            chan_agg["reach"] = "sum"
        camp = camp.groupby(["channel", "date"], as_index=False).agg(chan_agg)
        camp = camp.rename(columns={"channel": "key"})
        if "reach" in camp.columns:
            with np.errstate(divide="ignore", invalid="ignore"):
                camp["frequency"] = camp["impressions"] / camp["reach"].where(camp["reach"] > 0)
    camp = camp.assign(key=camp["key"].astype(str))
    return camp.sort_values(["key", "date"]).reset_index(drop=True)


def todays_budget(series: pd.DataFrame) -> tuple[float, str]:
    """Today's daily budget of one key's daily series, and where it came from.

    The last non-missing, positive ``budget`` when the column exists; else the mean spend of
    the last :data:`TODAY_SPEND_DAYS` days.
    """
    if "budget" in series.columns:
        b = pd.to_numeric(series["budget"], errors="coerce").to_numpy(dtype=float)
        ok = np.flatnonzero(np.isfinite(b) & (b > 0))
        if len(ok):
            return float(b[ok[-1]]), "budget column"
    recent = series["spend"].to_numpy(dtype=float)[-TODAY_SPEND_DAYS:]
    return float(np.mean(recent)), f"mean spend of the last {len(recent)} days"


@dataclass(frozen=True)
class Portfolio:
    """Fitted curves and the state of each key (campaign or channel) as of one day.

    Attributes
    ----------
    keys
        Active keys, in order (paused ones are listed in ``paused``).
    curves
        Conversions response curve per key.
    today
        Today's daily budget per key; ``today_source`` says where it came from.
    delivery
        Spend delivered per unit of budget (median of recent spend / budget; 1 without a
        budget column), so that curves in spend are evaluated at ``delivery x budget``.
    rpc_draws
        ``(n_draws,)`` revenue per conversion draws per key (recent ratio of sums, with a
        lognormal error of the daily ratios' standard error).
    as_of
        Last day of data used.
    panel
        The daily panel the curves were fitted on.
    state
        Optional multiplier per key for the creative state expected over the horizon
        (see :meth:`level`); the optimiser scales each curve by it.
    """

    by: str
    keys: tuple[str, ...]
    curves: dict[str, ResponseCurve]
    today: dict[str, float]
    today_source: dict[str, str]
    delivery: dict[str, float]
    rpc_draws: dict[str, np.ndarray]
    as_of: pd.Timestamp
    panel: pd.DataFrame
    channel_of: dict[str, str] = field(default_factory=dict)
    paused: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    state: dict[str, float] = field(default_factory=dict)

    def level(self, key: str) -> float:
        """Multiplier of ``key``'s curve for its expected creative state over the horizon
        (1 = the average state the curve was fitted at; set by the pivot engine)."""
        return float(self.state.get(key, 1.0))

    @property
    def n_draws(self) -> int:
        return min(len(self.curves[k].draws) or 1 for k in self.keys)

    def rpc(self, key: str) -> float:
        return float(np.mean(self.rpc_draws[key]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "as_of": self.as_of.date().isoformat(),
            "curves": {k: self.curves[k].to_dict() for k in self.keys},
            "today": {k: float(self.today[k]) for k in self.keys},
            "today_source": dict(self.today_source),
            "delivery": {k: float(self.delivery[k]) for k in self.keys},
            "revenue_per_conversion": {k: self.rpc(k) for k in self.keys},
            "state": {k: self.level(k) for k in self.keys},
            "paused": list(self.paused),
            "notes": list(self.notes),
        }


def _rpc_draws(series: pd.DataFrame, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    recent = series.iloc[-RECENT_DAYS:]
    conv, rev = recent["conversions"].to_numpy(float), recent["revenue"].to_numpy(float)
    if conv.sum() <= 0:
        conv, rev = series["conversions"].to_numpy(float), series["revenue"].to_numpy(float)
    if conv.sum() <= 0:
        return np.zeros(max(n_draws, 1))
    centre = rev.sum() / conv.sum()
    ok = (conv > 0) & (rev > 0)
    if ok.sum() >= 3:
        daily = np.log(rev[ok] / conv[ok])
        se = float(np.std(daily, ddof=1) / np.sqrt(ok.sum()))
    else:
        se = 0.25
    return centre * np.exp(rng.normal(-0.5 * se**2, se, size=max(n_draws, 1)))


def fit_portfolio(
    data: pd.DataFrame | CampaignPanel,
    *,
    rng: np.random.Generator,
    by: Literal["campaign", "channel"] = "campaign",
    as_of: date | str | pd.Timestamp | None = None,
    keys: Sequence[str] | None = None,
    n_draws: int = 200,
    history_days: int | None = None,
    creative_offsets: bool | Mapping[str, pd.Series] = True,
) -> Portfolio:
    """Fit a conversions response curve per campaign (or channel) from its own history.

    Parameters
    ----------
    data
        The campaign-day panel, or a contract frame it is built from.
    rng
        Source of the curves' parameter draws and revenue-per-conversion draws.
    by
        ``campaign`` or ``channel`` (channel curves sum the channel's campaigns per day).
    as_of
        Last day of data used (default: the last date in ``data``).
    keys
        Restrict to these campaigns/channels.
    n_draws
        Parameter draws per curve.
    history_days
        Fit on the last this-many days only (default: all).
    creative_offsets
        Take the creative's CTR state (wear-out, refreshes) out of the curve fit
        (:func:`simkit.simulate.fatigue.ctr_offset`), so that a creative wearing out while
        spend was high does not pass for saturation.  The curve is then the response at the
        campaign's average creative state.  A mapping gives precomputed offsets by
        campaign (dates as index).

    Examples
    --------
    >>> from simkit.data.synthetic import generate
    >>> world = generate(3, 90, rng=np.random.default_rng(1), events=None)
    >>> pf = fit_portfolio(world.data, rng=np.random.default_rng(2), n_draws=50)
    >>> pf.keys
    ('C001', 'C002', 'C003')
    """
    if isinstance(data, CampaignPanel):
        campaign_days = data if as_of is None else data.until(as_of)
    else:
        campaign_days = CampaignPanel.from_data(data, as_of=as_of)
    panel = daily_panel(campaign_days, by=by)
    last_day = pd.Timestamp(panel["date"].max())
    if keys is not None:
        unknown = set(keys) - set(panel["key"])
        if unknown:
            from simkit._suggest import did_you_mean

            bad = sorted(unknown)[0]
            raise DataError(
                f"unknown {by} '{bad}'{did_you_mean(bad, sorted(panel['key'].unique()))}",
                column="campaign_id" if by == "campaign" else "channel",
            )
        panel = panel[panel["key"].isin(list(keys))]
    curves: dict[str, ResponseCurve] = {}
    today: dict[str, float] = {}
    source: dict[str, str] = {}
    delivery: dict[str, float] = {}
    rpc: dict[str, np.ndarray] = {}
    channel_of: dict[str, str] = {}
    active: list[str] = []
    paused: list[str] = []
    notes: list[str] = []
    offsets: dict[str, pd.Series] = {}
    if by == "campaign" and isinstance(creative_offsets, Mapping):
        offsets = {str(k): v for k, v in creative_offsets.items()}
    elif by == "campaign" and creative_offsets:
        for key in sorted(set(panel["key"])):
            off = ctr_offset(campaign_days.campaign(key))
            if off is not None:
                offsets[key] = off
    for key, series in panel.groupby("key", sort=True):
        key = str(key)
        series = series.sort_values("date")
        if history_days is not None:
            series = series.iloc[-history_days:]
        recent = series[series["date"] > last_day - pd.Timedelta(days=PAUSED_DAYS)]
        if recent["spend"].sum() <= 0:
            paused.append(key)
            notes.append(f"{key}: no spend in the last {PAUSED_DAYS} days; left out as paused")
            continue
        if np.count_nonzero(series["spend"].to_numpy() > 0) < 14:
            paused.append(key)
            notes.append(f"{key}: fewer than 14 days with spend; too short to fit a curve")
            continue
        curves[key] = fit_response_curve(
            series["spend"].to_numpy(float),
            series["conversions"].to_numpy(float),
            series["date"].dt.day_of_week.to_numpy(),
            rng=rng,
            key=key,
            metric="conversions",
            n_draws=n_draws,
            offset=(
                offsets[key].reindex(pd.DatetimeIndex(series["date"])).fillna(0.0).to_numpy()
                if key in offsets
                else None
            ),
        )
        today[key], source[key] = todays_budget(series)
        if "budget" in series.columns and source[key] == "budget column":
            tail = series.iloc[-RECENT_DAYS:]
            b = pd.to_numeric(tail["budget"], errors="coerce").to_numpy(float)
            ok = np.isfinite(b) & (b > 0)
            ratio = tail["spend"].to_numpy(float)[ok] / b[ok]
            delivery[key] = float(np.clip(np.median(ratio), 0.3, 1.5)) if ok.any() else 1.0
        else:
            delivery[key] = 1.0
        rpc[key] = _rpc_draws(series, n_draws, rng)
        if "channel" in series.columns:
            channel_of[key] = str(series["channel"].iloc[-1])
        active.append(key)
    if not active:
        raise DataError("no campaign has enough recent spend to fit a response curve")
    log.info("fitted %d %s curves as of %s", len(active), by, last_day.date())
    return Portfolio(
        by=by,
        keys=tuple(active),
        curves=curves,
        today=today,
        today_source=source,
        delivery=delivery,
        rpc_draws=rpc,
        as_of=last_day,
        panel=panel,
        channel_of=channel_of,
        paused=tuple(paused),
        notes=tuple(notes),
    )
