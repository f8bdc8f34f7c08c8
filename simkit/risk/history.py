"""One campaign's daily history as plain arrays, on a gap-free calendar.

Detectors look at the same campaign many times (every detector, and in the bench every day
of a backtest), so the campaign-day panel (:class:`simkit.data.panel.CampaignPanel`, whose
rules sum breakdown rows, weight shares by impressions, pick the dominant creative and flag
missing days) is turned once into numpy arrays: one row per calendar day, missing days kept
as ``NaN`` so that day gaps keep their place in time (the noise model is autocorrelated in
days, not rows).
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

from simkit._types import AsOf, parse_as_of
from simkit.data.panel import CampaignPanel
from simkit.errors import DataError
from simkit.risk._features import scan_history
from simkit.risk.calibration import history_probabilities

__all__ = ["CampaignHistory", "campaign_histories"]


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
        Days since the day's dominant creative (by impressions) first became dominant (the
        panel's rule), or ``None`` without a ``creative_id`` column.
    metadata
        Campaign metadata (``budget_daily``, ``budget_total``, ``flight_start``,
        ``flight_end``, ...), possibly empty.
    channels
        The data's channel by day (the panel's dominant row; ``None`` without a
        ``channel`` column); see :attr:`channel`.
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
    channels: np.ndarray | None = None

    @property
    def n_days(self) -> int:
        """Number of calendar days held."""
        return len(self.dates)

    @property
    def last_date(self) -> date:
        """The last day held (the ``as_of`` of a cut history)."""
        return pd.Timestamp(self.dates[-1]).date()

    @property
    def channel(self) -> str | None:
        """The channel on the last day that names one, or ``None`` (budget pacing reads
        the platform's rules from it when the metadata name no platform)."""
        if self.channels is None:
            return None
        named = [c for c in self.channels if isinstance(c, str) and c.strip()]
        return named[-1] if named else None

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
            channels=cut(self.channels),
        )

    @cached_property
    def scan(self) -> Any:
        """The changepoint scans of every metric, computed once and shared by detectors."""
        return scan_history(self)

    @cached_property
    def risk_probabilities(self) -> dict[str, float]:
        """Calibrated probability of each history detector's risk, computed once.

        From the shipped model (:func:`simkit.risk.calibration.risk_model`) on
        :attr:`scan`'s features; ``budget_pacing`` only when a budget is known.
        :func:`~simkit.risk.detect.detect_risks` fills it for all campaigns in one call.
        """
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
        return cls.from_panel(CampaignPanel.from_data(frame), str(ids[0]), metadata)

    @classmethod
    def from_panel(
        cls,
        panel: CampaignPanel,
        campaign_id: str,
        metadata: Mapping[str, Any] | None = None,
    ) -> CampaignHistory:
        """The history of ``campaign_id`` read from the campaign-day panel.

        Missing days (``present`` false) are ``NaN`` in every array, so they keep their
        place in time.
        """
        daily = panel.campaign(campaign_id)

        def col(name: str) -> np.ndarray | None:
            if name not in daily or daily[name].isna().all():
                return None
            return daily[name].to_numpy(dtype=float)

        return cls(
            campaign_id=str(campaign_id),
            dates=daily.index.to_numpy().astype("datetime64[D]"),
            spend=daily["spend"].to_numpy(dtype=float),
            impressions=daily["impressions"].to_numpy(dtype=float),
            clicks=daily["clicks"].to_numpy(dtype=float),
            conversions=daily["conversions"].to_numpy(dtype=float),
            revenue=daily["revenue"].to_numpy(dtype=float),
            reach=col("reach"),
            frequency=col("frequency"),
            impression_share=col("impression_share"),
            budget=col("budget"),
            creative_age=(
                daily["creative_age"].to_numpy(dtype=float) if "creative_age" in daily else None
            ),
            metadata=dict(metadata or {}),
            channels=(daily["channel"].to_numpy(dtype=object) if "channel" in daily else None),
        )


def campaign_histories(
    data: pd.DataFrame | CampaignPanel,
    campaigns: pd.DataFrame | None = None,
    *,
    as_of: AsOf = None,
    campaign_ids: list[str] | None = None,
) -> list[CampaignHistory]:
    """Per-campaign histories from the campaign-day panel (built here from a contract
    frame), cut at ``as_of``.

    Rows after ``as_of`` are dropped before anything is computed (no peeking).  Metadata
    rows in ``campaigns`` are attached by ``campaign_id``.
    """
    meta: dict[str, dict[str, Any]] = {}
    if campaigns is not None and not campaigns.empty and "campaign_id" in campaigns:
        for record in campaigns.to_dict(orient="records"):
            meta[str(record["campaign_id"])] = {
                k: v for k, v in record.items() if not _is_missing(v)
            }
    if isinstance(data, CampaignPanel):
        panel = data if as_of is None else data.until(as_of)
    else:
        cut = parse_as_of(as_of)
        if cut is not None and not (pd.to_datetime(data["date"]) <= cut).any():
            return []
        panel = CampaignPanel.from_data(data, as_of=cut, campaign_ids=campaign_ids)
    wanted = None if campaign_ids is None else {str(c) for c in campaign_ids}
    return [
        CampaignHistory.from_panel(panel, cid, meta.get(cid))
        for cid in panel.ids
        if wanted is None or cid in wanted
    ]


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
