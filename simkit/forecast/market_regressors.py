"""Market columns as candidate regressors: used by a member only where the backtest says so.

Enrichment (``simkit enrich``) adds market columns (``mkt_trend``, ``mkt_search_volume``,
...) to the campaign-day panel.  Each is a *candidate* regressor of the SARIMAX member
(log spend, day of week and holidays, plus the candidate, with AR(1) errors).  For each
campaign and candidate, the same rolling-origin backtest as the ensemble's
(:func:`simkit.forecast.backtest.choose_cutoffs`, refits at each cutoff on data up to it)
is run with and without the candidate, and conversions' mean absolute error over the
evaluation windows is compared.  The candidate is **used** only when it lowers that error
by at least ``min_improvement`` (default 2%) *and* wins at a majority of cutoffs; the
decision, both errors and the reason are recorded (:class:`RegressorDecision`).

The future of a market series is not known when forecasting, so the candidate's value
over the horizon is its last value at the cutoff (persistence), never the actual later
values: a backtest that fed the actual future index would flatter the regressor.  Days
before a series has a value take its first value (stated in ``notes``).

This module reads the columns from the panel only: it never imports the connectors.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
import pandas as pd

from simkit.data.panel import CampaignPanel
from simkit.forecast.backtest import choose_cutoffs
from simkit.forecast.drivers import calendar_features, driver_history, funnel_from_drivers
from simkit.forecast.members import SARIMAX

__all__ = [
    "MarketForecast",
    "MarketRegressorReport",
    "RegressorDecision",
    "choose_market_regressors",
    "forecast_with_market",
]

MIN_IMPROVEMENT = 0.02


class _SarimaxWithMarket(SARIMAX):
    """SARIMAX with market columns appended to its regressors (centred on the fit)."""

    def __init__(self, columns: Sequence[str], **kwargs: Any) -> None:
        super().__init__(alias="sarimax+market", **kwargs)
        self.columns = tuple(columns)

    def _exog(self, X: pd.DataFrame, n: int) -> np.ndarray:
        base = super()._exog(X, n)
        extra = X[list(self.columns)].to_numpy(dtype=float)[:n] - self.market_mean_
        return np.column_stack([base, extra])

    def fit(self, y: pd.DataFrame, X: pd.DataFrame | None = None) -> Self:
        assert X is not None
        self.market_mean_ = X[list(self.columns)].to_numpy(dtype=float).mean(axis=0)
        return super().fit(y, X)


@dataclass(frozen=True)
class RegressorDecision:
    """Whether one market column is used by the SARIMAX member of one campaign, and why."""

    campaign_id: str
    column: str
    member: str
    n_cutoffs: int
    mae_without: float | None
    mae_with: float | None
    wins: int
    used: bool
    reason: str

    @property
    def ratio(self) -> float | None:
        if self.mae_with is None or not self.mae_without:
            return None
        return self.mae_with / self.mae_without

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "column": self.column,
            "member": self.member,
            "n_cutoffs": self.n_cutoffs,
            "mae_without": self.mae_without,
            "mae_with": self.mae_with,
            "ratio": self.ratio,
            "wins": self.wins,
            "used": self.used,
            "reason": self.reason,
        }


@dataclass
class MarketRegressorReport:
    """Every decision, for the diagnostics."""

    horizon_days: int
    decisions: list[RegressorDecision]
    notes: list[str] = field(default_factory=list)

    def used(self, campaign_id: str) -> list[str]:
        return [d.column for d in self.decisions if d.campaign_id == campaign_id and d.used]

    def to_dict(self) -> dict[str, Any]:
        return {
            "horizon_days": self.horizon_days,
            "member": "sarimax",
            "rule": f"used when conversions MAE falls >= {MIN_IMPROVEMENT:.0%} and it wins "
            "at a majority of cutoffs",
            "future_values": "persistence: the last value known at the cutoff",
            "decisions": [d.to_dict() for d in self.decisions],
            "notes": list(self.notes),
        }


def _fit_predict(member: SARIMAX, y, X, X_future, h: int) -> np.ndarray | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = np.asarray(member.fit(y, X).predict(h, X_future), dtype=float)
    except (ValueError, np.linalg.LinAlgError):
        return None
    return out if out.shape == (h, y.shape[1]) and np.all(np.isfinite(out)) else None


def choose_market_regressors(
    panel: CampaignPanel,
    campaign_ids: Sequence[str],
    columns: Sequence[str],
    *,
    horizon_days: int = 14,
    country: str | None = "US",
    min_improvement: float = MIN_IMPROVEMENT,
) -> MarketRegressorReport:
    """Backtest each market column of ``panel`` as a SARIMAX regressor, per campaign.

    Parameters
    ----------
    panel
        A campaign-day panel whose frame also holds the market ``columns``.
    campaign_ids
        The campaigns to decide for.
    columns
        Candidate columns (numeric; a column with no variation is not identifiable and is
        recorded as not used).
    horizon_days
        The backtest horizon.
    """
    decisions: list[RegressorDecision] = []
    notes: list[str] = []
    for cid in campaign_ids:
        history = driver_history(panel, cid)
        market = panel.campaign(cid).reindex(history.dates)
        n, h = history.n_days, horizon_days
        cutoffs = choose_cutoffs(n, h)
        X_base = calendar_features(history.dates, history.log_spend(), country)
        actual = history.counts["conversions"].to_numpy(dtype=float)
        for column in columns:
            if column not in market.columns:
                decisions.append(
                    RegressorDecision(
                        cid, column, "sarimax", 0, None, None, 0, False, "no such column"
                    )
                )
                continue
            raw = pd.to_numeric(market[column], errors="coerce")
            if raw.notna().sum() == 0:
                decisions.append(
                    RegressorDecision(
                        cid,
                        column,
                        "sarimax",
                        0,
                        None,
                        None,
                        0,
                        False,
                        "no values for this campaign",
                    )
                )
                continue
            if raw.isna().any():
                notes.append(
                    f"{cid} {column}: {int(raw.isna().sum())} day(s) without a value filled"
                )
            values = raw.ffill().bfill().to_numpy(dtype=float)
            if np.ptp(values) == 0:
                decisions.append(
                    RegressorDecision(
                        cid,
                        column,
                        "sarimax",
                        len(cutoffs),
                        None,
                        None,
                        0,
                        False,
                        "constant over the history: not identifiable as a regressor",
                    )
                )
                continue
            if not cutoffs:
                decisions.append(
                    RegressorDecision(
                        cid, column, "sarimax", 0, None, None, 0, False, "history too short"
                    )
                )
                continue
            X_all = X_base.assign(**{column: values})
            err_without, err_with, wins = [], [], 0
            for c in cutoffs:
                start, stop = c + 1, min(c + 1 + h, n)
                length = stop - start
                y = history.drivers.iloc[: c + 1]
                future = X_all.iloc[start:stop].copy()
                future[column] = values[c]  # persistence: the future index is not known
                spend = history.spend[start:stop]
                truth = actual[start:stop]
                base = _fit_predict(SARIMAX(), y, X_base.iloc[: c + 1], future, length)
                withm = _fit_predict(
                    _SarimaxWithMarket([column]), y, X_all.iloc[: c + 1], future, length
                )
                if base is None or withm is None:
                    continue
                ok = np.isfinite(truth)
                e0 = float(
                    np.mean(np.abs(funnel_from_drivers(base, spend)["conversions"] - truth)[ok])
                )
                e1 = float(
                    np.mean(np.abs(funnel_from_drivers(withm, spend)["conversions"] - truth)[ok])
                )
                err_without.append(e0)
                err_with.append(e1)
                wins += int(e1 < e0)
            if not err_without:
                decisions.append(
                    RegressorDecision(
                        cid, column, "sarimax", len(cutoffs), None, None, 0, False, "fits failed"
                    )
                )
                continue
            m0, m1 = float(np.mean(err_without)), float(np.mean(err_with))
            helps = m1 <= (1 - min_improvement) * m0 and wins * 2 > len(err_without)
            reason = (
                f"conversions MAE {m1:.2f} with vs {m0:.2f} without ({m1 / m0 - 1:+.1%}), "
                f"better at {wins} of {len(err_without)} cutoffs: "
                + ("used" if helps else "not used")
            )
            decisions.append(
                RegressorDecision(
                    cid, column, "sarimax", len(err_without), m0, m1, wins, helps, reason
                )
            )
    return MarketRegressorReport(horizon_days, decisions, notes)


@dataclass(frozen=True)
class MarketForecast:
    """The SARIMAX member's driver forecast with the market columns the backtest chose."""

    campaign_id: str
    columns: tuple[str, ...]
    drivers: np.ndarray
    conversions: np.ndarray
    decisions: tuple[RegressorDecision, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "columns": list(self.columns),
            "conversions": self.conversions.tolist(),
            "decisions": [d.to_dict() for d in self.decisions],
        }


def forecast_with_market(
    panel: CampaignPanel,
    campaign_id: str,
    report: MarketRegressorReport,
    spend_plan: np.ndarray,
    *,
    country: str | None = "US",
) -> MarketForecast:
    """Fit the SARIMAX member on the whole history, with the market columns ``report``
    says help this campaign (none: the plain member), and forecast ``len(spend_plan)``
    days; a market column's future is its last value (persistence)."""
    history = driver_history(panel, campaign_id)
    chosen = tuple(report.used(campaign_id))
    h = len(spend_plan)
    X = calendar_features(history.dates, history.log_spend(), country)
    future_dates = pd.date_range(history.dates[-1] + pd.Timedelta(days=1), periods=h)
    floor = history.spend_floor
    X_future = calendar_features(
        future_dates, np.log(np.maximum(np.asarray(spend_plan, dtype=float), floor)), country
    )
    member: SARIMAX = SARIMAX()
    if chosen:
        market = panel.campaign(campaign_id).reindex(history.dates)
        for column in chosen:
            values = pd.to_numeric(market[column], errors="coerce").ffill().bfill()
            X[column] = values.to_numpy(dtype=float)
            X_future[column] = float(values.iloc[-1])
        member = _SarimaxWithMarket(chosen)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        drivers = np.asarray(member.fit(history.drivers, X).predict(h, X_future), dtype=float)
    conversions = funnel_from_drivers(drivers, np.asarray(spend_plan, dtype=float))["conversions"]
    mine = tuple(d for d in report.decisions if d.campaign_id == campaign_id)
    return MarketForecast(campaign_id, chosen, drivers, conversions, mine)
