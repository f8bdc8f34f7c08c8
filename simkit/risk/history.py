"""One campaign's daily history as plain arrays, on a gap-free calendar.

Detectors look at the same campaign many times (every detector, and in the bench every day
of a backtest), so the contract frame is turned once into numpy arrays: one row per calendar
day, breakdown rows (creative, ad group, channel) summed, missing days kept as ``NaN`` so that
day gaps keep their place in time (the noise model is autocorrelated in days, not rows).
:meth:`CampaignHistory.until` cuts the arrays at an ``as_of`` date without copying: a detector
can never see a day after the cut.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from simkit.errors import DataError

__all__ = ["CampaignHistory", "campaign_histories"]

_SUMMED = ("spend", "impressions", "clicks", "conversions", "revenue", "reach")


@dataclass(eq=False)
class CampaignHistory:
    """Daily arrays of one campaign up to (and including) its last day.

    Attributes
    ----------
    campaign_id
        The campaign.
    dates
        One entry per calendar day, gap-free (``datetime64[D]``).
    spend, impressions, clicks, conversions, revenue
        Daily totals over breakdown rows; ``NaN`` on days without a row.
    reach, frequency, impression_share, budget
        Optional columns (``None`` when the data has none for this campaign).
    creative_age
        Days since the day's dominant creative (by impressions) first appeared, or ``None``
        without a ``creative_id`` column.
    metadata
        Campaign metadata (``budget_daily``, ``budget_total``, ``flight_start``,
        ``flight_end``, ...), possibly empty.
    """

    campaign_id: str
    dates: np.ndarray
    spend: np.ndarray
    impressions: np.ndarray
    clicks: np.ndarray
    conversions: np.ndarray
    revenue: np.ndarray
    reach: np.ndarray | None = None
    frequency: np.ndarray | None = None
    impression_share: np.ndarray | None = None
    budget: np.ndarray | None = None
    creative_age: np.ndarray | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def n_days(self) -> int:
        """Number of calendar days held."""
        return len(self.dates)

    @property
    def last_date(self) -> date:
        """The last day held (the ``as_of`` of a cut history)."""
        return pd.Timestamp(self.dates[-1]).date()

    def date_at(self, index: int) -> date:
        """The calendar date of row ``index``."""
        return pd.Timestamp(self.dates[index]).date()

    def until(self, as_of: date | str | pd.Timestamp) -> CampaignHistory:
        """The history cut after ``as_of`` (views, no copies): nothing later is visible."""
        cut = np.datetime64(pd.Timestamp(as_of).date(), "D")
        n = int(np.searchsorted(self.dates, cut, side="right"))
        if n == self.n_days:
            return self
        return self.head(n)

    def head(self, n: int) -> CampaignHistory:
        """The first ``n`` days (views, no copies)."""

        def cut(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[:n]

        return CampaignHistory(
            campaign_id=self.campaign_id,
            dates=self.dates[:n],
            spend=self.spend[:n],
            impressions=self.impressions[:n],
            clicks=self.clicks[:n],
            conversions=self.conversions[:n],
            revenue=self.revenue[:n],
            reach=cut(self.reach),
            frequency=cut(self.frequency),
            impression_share=cut(self.impression_share),
            budget=cut(self.budget),
            creative_age=cut(self.creative_age),
            metadata=self.metadata,
        )

    @cached_property
    def scan(self) -> Any:
        """The changepoint scans of every metric, computed once and shared by detectors."""
        from simkit.risk._features import scan_history

        return scan_history(self)

    @cached_property
    def risk_probabilities(self) -> dict[str, float]:
        """Calibrated probability of each history detector's risk, computed once.

        From the shipped model (:func:`simkit.risk.calibration.risk_model`) on
        :attr:`scan`'s features; ``budget_pacing`` only when a budget is known.
        :func:`~simkit.risk.detect.detect_risks` fills it for all campaigns in one call.
        """
        from simkit.risk.calibration import history_probabilities

        return history_probabilities([self.scan.features])[0]

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        metadata: Mapping[str, Any] | None = None,
    ) -> CampaignHistory:
        """Build the history of the single campaign in ``frame`` (a contract frame)."""
        ids = frame["campaign_id"].astype(str).unique()
        if len(ids) != 1:
            raise DataError(f"expected one campaign, got {len(ids)}", column="campaign_id")
        if frame.empty:
            raise DataError(f"campaign {ids[0]} has no rows", column="date")
        dates = pd.to_datetime(frame["date"]).dt.normalize()
        frame = frame.assign(date=dates)
        optional = [c for c in ("frequency", "impression_share", "budget") if c in frame]
        creative_age = None
        if frame["date"].duplicated().any():
            creative = _dominant_creative(frame) if "creative_id" in frame else None
            summed = [c for c in _SUMMED if c in frame]
            daily = frame.groupby("date", sort=True)[summed].sum(min_count=1)
            for column in optional:
                daily[column] = _per_day(frame, column)
            if "frequency" in daily and "reach" in daily:
                daily["frequency"] = daily["impressions"] / daily["reach"].where(daily["reach"] > 0)
            if creative is not None:
                daily["creative_id"] = creative
        else:
            keep = ["date", *(c for c in _SUMMED if c in frame), *optional]
            if "creative_id" in frame:
                keep.append("creative_id")
            daily = frame[keep].set_index("date").sort_index()
        calendar = pd.date_range(daily.index[0], daily.index[-1], freq="D")
        daily = daily.reindex(calendar)
        if "creative_id" in daily:
            creative_age = _creative_age(daily["creative_id"])

        def col(name: str) -> np.ndarray | None:
            if name not in daily or daily[name].isna().all():
                return None
            return daily[name].to_numpy(dtype=float)

        return cls(
            campaign_id=str(ids[0]),
            dates=calendar.to_numpy().astype("datetime64[D]"),
            spend=daily["spend"].to_numpy(dtype=float),
            impressions=daily["impressions"].to_numpy(dtype=float),
            clicks=daily["clicks"].to_numpy(dtype=float),
            conversions=daily["conversions"].to_numpy(dtype=float),
            revenue=daily["revenue"].to_numpy(dtype=float),
            reach=col("reach"),
            frequency=col("frequency"),
            impression_share=col("impression_share"),
            budget=col("budget"),
            creative_age=creative_age,
            metadata=dict(metadata or {}),
        )


def _per_day(frame: pd.DataFrame, column: str) -> pd.Series:
    """One value per day of an optional column that breakdown rows may repeat or split.

    A value repeated on every breakdown row (a campaign budget on creative rows) is kept
    once; differing values are combined the way the column adds up: budgets sum,
    impression share and frequency are impression-weighted means.
    """
    grouped = frame.groupby("date", sort=True)[column]
    if column == "budget":
        same = grouped.nunique(dropna=True) <= 1
        return grouped.first().where(same, grouped.sum(min_count=1))
    weights = frame["impressions"].where(frame[column].notna(), 0.0)
    num = (frame[column].fillna(0.0) * weights).groupby(frame["date"]).sum()
    den = weights.groupby(frame["date"]).sum()
    return (num / den.where(den > 0)).sort_index()


def _dominant_creative(frame: pd.DataFrame) -> pd.Series:
    rows = frame.dropna(subset=["creative_id"])
    order = rows.sort_values(["date", "impressions"], ascending=[True, False])
    return order.groupby("date", sort=True)["creative_id"].first()


def _creative_age(creative: pd.Series) -> np.ndarray:
    """Days since each day's creative first appeared; ``NaN`` without a creative."""
    values = creative.to_numpy(dtype=object)
    first_seen: dict[Any, int] = {}
    age = np.full(len(values), np.nan)
    for t, value in enumerate(values):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        first_seen.setdefault(value, t)
        age[t] = t - first_seen[value]
    return age


def campaign_histories(
    data: pd.DataFrame,
    campaigns: pd.DataFrame | None = None,
    *,
    as_of: date | str | pd.Timestamp | None = None,
    campaign_ids: list[str] | None = None,
) -> list[CampaignHistory]:
    """Split a contract frame into per-campaign histories, cut at ``as_of``.

    Rows after ``as_of`` are dropped before anything is computed (no peeking).  Metadata
    rows in ``campaigns`` are attached by ``campaign_id``.
    """
    frame = data
    if as_of is not None:
        cut = pd.Timestamp(as_of).normalize()
        frame = frame[pd.to_datetime(frame["date"]) <= cut]
    meta: dict[str, dict[str, Any]] = {}
    if campaigns is not None and not campaigns.empty and "campaign_id" in campaigns:
        for record in campaigns.to_dict(orient="records"):
            meta[str(record["campaign_id"])] = {
                k: v for k, v in record.items() if not _is_missing(v)
            }
    ids = frame["campaign_id"].astype(str)
    wanted = None if campaign_ids is None else {str(c) for c in campaign_ids}
    if wanted is not None:
        keep = ids.isin(wanted)
        frame, ids = frame[keep], ids[keep]
    dates = pd.to_datetime(frame["date"]).dt.normalize()
    if not frame.empty and not pd.DataFrame({"c": ids, "d": dates}).duplicated().any():
        return _histories_one_row_per_day(frame, ids, dates, meta)
    out = []
    for cid, group in frame.groupby(ids, sort=True):
        if wanted is not None and cid not in wanted:
            continue
        out.append(CampaignHistory.from_frame(group, meta.get(str(cid))))
    return out


def _histories_one_row_per_day(
    frame: pd.DataFrame, ids: pd.Series, dates: pd.Series, meta: dict[str, dict[str, Any]]
) -> list[CampaignHistory]:
    """Fast path of :func:`campaign_histories` for data without breakdown rows.

    One sort and one conversion to numpy for all campaigns, then array slicing: the same
    histories as :meth:`CampaignHistory.from_frame` campaign by campaign, without a pandas
    group-by, reindex and set-index per campaign (which cost more than the scans).
    """
    day = dates.to_numpy().astype("datetime64[D]").astype(np.int64)
    order = np.lexsort((day, ids.to_numpy()))
    cid = ids.to_numpy()[order]
    day = day[order]
    columns: dict[str, np.ndarray] = {}
    for name in (*_SUMMED, "frequency", "impression_share", "budget"):
        if name in frame:
            columns[name] = pd.to_numeric(frame[name], errors="coerce").to_numpy(float)[order]
    codes = None
    if "creative_id" in frame:
        creative = frame["creative_id"].to_numpy(dtype=object)[order]
        codes, _ = pd.factorize(creative, use_na_sentinel=True)
    bounds = np.flatnonzero(np.r_[True, cid[1:] != cid[:-1], True])
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=False):
        offset = day[lo:hi] - day[lo]
        span = int(offset[-1]) + 1

        def spread(values: np.ndarray, lo: int = lo, hi: int = hi, offset=offset, span=span):
            full = np.full(span, np.nan)
            full[offset] = values[lo:hi]
            return full

        def optional(name: str) -> np.ndarray | None:
            if name not in columns:
                return None
            full = spread(columns[name])
            return None if np.isnan(full).all() else full

        creative_age = None
        if codes is not None:
            c = codes[lo:hi]
            seen = c >= 0
            if seen.any():
                first = np.full(int(c.max()) + 1, -1, dtype=np.int64)
                # offsets ascend, so the reversed assignment leaves each code's first day
                first[c[seen][::-1]] = offset[seen][::-1]
                age = np.where(seen, offset - first[np.maximum(c, 0)], np.nan)
                creative_age = np.full(span, np.nan)
                creative_age[offset] = age
            else:
                creative_age = np.full(span, np.nan)
        start = np.datetime64(int(day[lo]), "D")
        campaign = str(cid[lo])
        out.append(
            CampaignHistory(
                campaign_id=campaign,
                dates=start + np.arange(span).astype("timedelta64[D]"),
                spend=spread(columns["spend"]),
                impressions=spread(columns["impressions"]),
                clicks=spread(columns["clicks"]),
                conversions=spread(columns["conversions"]),
                revenue=spread(columns["revenue"]),
                reach=optional("reach"),
                frequency=optional("frequency"),
                impression_share=optional("impression_share"),
                budget=optional("budget"),
                creative_age=creative_age,
                metadata=dict(meta.get(campaign) or {}),
            )
        )
    return out


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
