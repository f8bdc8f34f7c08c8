"""From the daily contract table to funnel drivers on unbounded scales, and back.

One campaign's days in the campaign-day panel (:class:`simkit.data.panel.CampaignPanel`:
breakdown rows summed, missing days flagged) become a :class:`DriverHistory`: the daily spend (the plan, known in advance), the four drivers of
:data:`simkit.forecast.base.DRIVERS`, and the calendar regressors the members may use.

Zero counts are handled with small pseudo-counts so that every driver is finite:

* ``log_cpm = log(1000 * spend / (impressions + 0.5))``
* ``logit_ctr = logit((clicks + 0.5) / (impressions + 1))``
* ``logit_cvr = logit((conversions + 0.5) / (clicks + 1))``
* ``log_rpc = log((revenue + 0.5 * rbar) / (conversions + 0.5))``, where ``rbar`` is the
  trailing 28-day pooled revenue per conversion (sum of revenue / sum of conversions up to
  and including that day).  This is a shrinkage estimate: half a pseudo-conversion at the
  recent average value.  A day with zero conversions gets exactly ``rbar``, so the driver
  is defined every day and never uses the future.

Days with no spend or no impressions (campaign paused, or a gap in the data) carry no
information about CPM or CTR; their drivers are carried forward from the last informative
day (never interpolated from the future, so a backtest cutoff cannot see later days).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simkit._suggest import did_you_mean
from simkit.data.panel import CampaignPanel
from simkit.data.schema import METRIC_COLUMNS
from simkit.errors import DataError, ForecastError, ParamsError
from simkit.forecast.base import DRIVERS

__all__ = [
    "DriverHistory",
    "calendar_features",
    "driver_history",
    "funnel_from_drivers",
    "logit",
    "expit",
]

log = logging.getLogger(__name__)

_RPC_WINDOW_DAYS = 28


def logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of a probability."""
    p = np.asarray(p, dtype=float)
    return np.log(p) - np.log1p(-p)


def expit(x: np.ndarray) -> np.ndarray:
    """Inverse of :func:`logit`, stable for large ``|x|``."""
    x = np.asarray(x, dtype=float)
    return 0.5 * (1.0 + np.tanh(0.5 * x))


@dataclass(frozen=True)
class DriverHistory:
    """One campaign's daily history, on a complete daily calendar.

    Attributes
    ----------
    campaign_id
        The campaign.
    dates
        Consecutive days, first to last day of data.
    spend
        Daily spend (0 on days missing from the data).
    drivers
        ``(n, 4)`` frame of the drivers (columns :data:`DRIVERS`), indexed by ``dates``.
    counts
        The raw daily ``impressions, clicks, conversions, revenue`` (NaN on missing days).
    notes
        What was repaired or assumed, in words.
    """

    campaign_id: str
    dates: pd.DatetimeIndex
    spend: np.ndarray
    drivers: pd.DataFrame
    counts: pd.DataFrame
    notes: tuple[str, ...] = field(default=())

    @property
    def n_days(self) -> int:
        return len(self.dates)

    def log_spend(self) -> np.ndarray:
        """Log spend with a floor (1% of the median positive spend) on days without spend."""
        return _log_spend(self.spend, self.spend_floor)

    @property
    def spend_floor(self) -> float:
        positive = self.spend[self.spend > 0]
        return float(0.01 * np.median(positive)) if positive.size else 1.0

    def head(self, n: int) -> DriverHistory:
        """The first ``n`` days (what a forecaster at cutoff ``n - 1`` may see)."""
        return DriverHistory(
            campaign_id=self.campaign_id,
            dates=self.dates[:n],
            spend=self.spend[:n],
            drivers=self.drivers.iloc[:n],
            counts=self.counts.iloc[:n],
            notes=self.notes,
        )


def _log_spend(spend: np.ndarray, floor: float) -> np.ndarray:
    return np.log(np.maximum(np.asarray(spend, dtype=float), floor))


def driver_history(data: pd.DataFrame | CampaignPanel, campaign_id: str) -> DriverHistory:
    """Build the :class:`DriverHistory` of ``campaign_id`` from the campaign-day panel.

    Parameters
    ----------
    data
        The :class:`~simkit.data.panel.CampaignPanel` (its rules sum breakdown rows and
        flag missing days), or a daily contract table (``date, campaign_id, spend,
        impressions, clicks, conversions, revenue``) from which the panel is built.
    campaign_id
        Which campaign.

    Raises
    ------
    DataError
        When required columns are missing.
    ForecastError
        When the campaign is not in the data or never spent.
    """
    if isinstance(data, CampaignPanel):
        panel = data
    else:
        missing = [c for c in ("date", "campaign_id", *METRIC_COLUMNS) if c not in data.columns]
        if missing:
            raise DataError(f"missing required columns {missing}", column=missing[0])
        panel = CampaignPanel.from_data(data, campaign_ids=[str(campaign_id)])
    if str(campaign_id) not in panel:
        known = (
            panel.ids
            if isinstance(data, CampaignPanel)
            else data["campaign_id"].astype(str).unique()
        )
        hint = did_you_mean(str(campaign_id), sorted(known))
        raise ForecastError(f"campaign not in the data{hint}", campaign=str(campaign_id))
    daily = panel.campaign(str(campaign_id))
    dates = pd.DatetimeIndex(daily.index)
    notes: list[str] = []
    n_missing = int((~daily["present"]).sum())
    if n_missing:
        notes.append(f"{n_missing} day(s) missing from the data: treated as no spend")
    spend = daily["spend"].fillna(0.0).to_numpy()
    if not np.any(spend > 0):
        raise ForecastError("the campaign never spent: nothing to forecast", campaign=campaign_id)
    impressions = daily["impressions"].to_numpy()
    clicks = daily["clicks"].to_numpy()
    conversions = daily["conversions"].to_numpy()
    revenue = daily["revenue"].to_numpy()

    with np.errstate(divide="ignore", invalid="ignore"):
        log_cpm = np.log(1000.0 * spend / (impressions + 0.5))
        logit_ctr = logit((clicks + 0.5) / (impressions + 1.0))
        # conversions may exceed clicks in post-click attribution (view-through,
        # multi-conversion); cap the rate just below 1 rather than fail
        cvr = np.minimum((conversions + 0.5) / (clicks + 1.0), 1.0 - 1e-4)
        logit_cvr = logit(cvr)
    over = int(np.nansum(conversions > clicks))
    if over:
        notes.append(f"{over} day(s) with conversions > clicks: CVR capped below 1")

    log_rpc, rpc_note = _log_rpc(revenue, conversions)
    if rpc_note:
        notes.append(rpc_note)

    informative = (spend > 0) & (np.nan_to_num(impressions) > 0)
    frame = pd.DataFrame(
        {"log_cpm": log_cpm, "logit_ctr": logit_ctr, "logit_cvr": logit_cvr, "log_rpc": log_rpc},
        index=dates,
    )
    frame.loc[~informative, ["log_cpm", "logit_ctr"]] = np.nan
    frame.loc[~np.isfinite(np.nan_to_num(clicks, nan=np.inf)), "logit_cvr"] = np.nan
    n_carried = int((~informative).sum()) - n_missing
    if n_carried > 0:
        notes.append(f"{n_carried} day(s) without spend or impressions: drivers carried forward")
    frame = frame.ffill().bfill()
    if not np.all(np.isfinite(frame.to_numpy())):
        raise ForecastError("could not compute finite drivers", campaign=campaign_id)
    counts = pd.DataFrame(
        {
            "impressions": impressions,
            "clicks": clicks,
            "conversions": conversions,
            "revenue": revenue,
        },
        index=dates,
    )
    return DriverHistory(
        campaign_id=str(campaign_id),
        dates=dates,
        spend=spend,
        drivers=frame[list(DRIVERS)],
        counts=counts,
        notes=tuple(notes),
    )


def _log_rpc(revenue: np.ndarray, conversions: np.ndarray) -> tuple[np.ndarray, str]:
    rev = np.nan_to_num(revenue, nan=0.0)
    conv = np.nan_to_num(conversions, nan=0.0)
    if rev.sum() <= 0 or conv.sum() <= 0:
        return np.zeros(len(rev)), "no revenue or no conversions recorded: log_rpc set to 0"
    kernel = np.ones(_RPC_WINDOW_DAYS)
    rev_sum = np.convolve(rev, kernel)[: len(rev)]
    conv_sum = np.convolve(conv, kernel)[: len(conv)]
    with np.errstate(divide="ignore", invalid="ignore"):
        rbar = np.where(conv_sum > 0, rev_sum / conv_sum, np.nan)
    rbar = pd.Series(rbar).ffill().bfill().to_numpy()
    # a day with conversions but no revenue recorded pulls rpc down hard; the pseudo-count
    # keeps it finite, the floor keeps it from being absurd
    value = (rev + 0.5 * rbar) / (conv + 0.5)
    value = np.maximum(value, 1e-3 * rbar)
    note = ""
    n_zero = int(np.sum(conv == 0))
    if n_zero:
        note = (
            f"{n_zero} day(s) without conversions: revenue per conversion taken from the "
            f"trailing {_RPC_WINDOW_DAYS}-day pooled value"
        )
    return np.log(value), note


def calendar_features(
    dates: pd.DatetimeIndex, log_spend: np.ndarray, country: str | None = "US"
) -> pd.DataFrame:
    """Regressors known in advance: log spend (the plan), day of week and public holidays.

    Parameters
    ----------
    dates
        The days.
    log_spend
        Log of the (planned) spend on those days.
    country
        ISO country code for the ``holidays`` package; ``None`` for no holidays.
    """
    frame = pd.DataFrame(
        {
            "log_spend": np.asarray(log_spend, dtype=float),
            "dow": dates.day_of_week.to_numpy(),
            "holiday": _holiday_flags(dates, country),
        },
        index=dates,
    )
    return frame


def _holiday_flags(dates: pd.DatetimeIndex, country: str | None) -> np.ndarray:
    if country is None or len(dates) == 0:
        return np.zeros(len(dates))
    import holidays

    years = sorted({int(y) for y in dates.year})
    try:
        calendar = holidays.country_holidays(country, years=years)
    except NotImplementedError as exc:
        raise ParamsError(
            f"unknown holiday country {country!r} (an ISO 3166 code such as 'US', 'GB', 'DE')",
            field="country",
        ) from exc
    return np.array([d in calendar for d in dates.date], dtype=float)


def funnel_from_drivers(drivers: np.ndarray, spend: np.ndarray) -> dict[str, np.ndarray]:
    """Volumes implied by drivers (``(..., H, 4)``, transformed scale) and a spend plan ``(H,)``.

    ``impressions = 1000 * spend / cpm``, ``clicks = impressions * ctr``,
    ``conversions = clicks * cvr``, ``revenue = conversions * rpc``.
    """
    d = np.asarray(drivers, dtype=float)
    cpm = np.exp(d[..., 0])
    ctr = expit(d[..., 1])
    cvr = expit(d[..., 2])
    rpc = np.exp(d[..., 3])
    impressions = 1000.0 * np.asarray(spend, dtype=float) / cpm
    clicks = impressions * ctr
    conversions = clicks * cvr
    return {
        "impressions": impressions,
        "clicks": clicks,
        "conversions": conversions,
        "revenue": conversions * rpc,
        "cpm": cpm,
        "ctr": ctr,
        "cvr": cvr,
        "rpc": rpc,
    }
