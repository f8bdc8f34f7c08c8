"""Score recorded forecasts against the actuals that have arrived since they were issued.

Per forecast and per horizon day: whether the actual lies in the 50%, 80% and 90% central
intervals (p25-p75, p10-p90, p5-p95: the widest the stored quantiles p5 ... p95 give), the
absolute error of the median scaled by the in-sample seasonal naive (weekly) error of the
history up to the forecast's ``as_of`` (MASE), the quantile CRPS, the signed error (bias)
and the PIT.  Then the same pooled per campaign, per model configuration and per horizon
bucket.  A day is scored when the campaign reported it (the panel's ``present``); a forecast
with no such day yet is left for later.

``bias`` is relative: ``(sum of medians - sum of actuals) / sum of actuals`` over the days
scored (positive: the forecast was too high).  ``mase`` pools absolute errors over days
before dividing (``mean |error| / scale``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from simkit.data.panel import CampaignPanel
from simkit.ledger.metrics import (
    INTERVALS,
    PIT_EDGES,
    covered,
    pit_bins,
    pit_values,
    quantile_crps,
    seasonal_naive,
    seasonal_naive_scale,
)
from simkit.ledger.record import LEVELS

__all__ = [
    "HORIZON_BUCKETS",
    "ForecastScore",
    "LedgerScores",
    "aggregate",
    "horizon_bucket",
    "score_forecast",
    "score_forecasts",
]

#: Horizon buckets (first day, last day or ``None``, label).
HORIZON_BUCKETS: tuple[tuple[int, int | None, str], ...] = (
    (1, 7, "days 1-7"),
    (8, 14, "days 8-14"),
    (15, 28, "days 15-28"),
    (29, None, "days 29+"),
)
_NAMES = tuple(LEVELS)
_LEVELS = np.array(list(LEVELS.values()))


def horizon_bucket(day: int) -> str:
    """The label of horizon day ``day`` (1 = the first forecast day)."""
    for first, last, label in HORIZON_BUCKETS:
        if day >= first and (last is None or day <= last):
            return label
    raise ValueError(f"horizon day {day} < 1")


def _none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


@dataclass(frozen=True)
class ForecastScore:
    """One forecast's scores over the days that have actuals.

    ``columns`` holds one array per column of the scored days (``per_day`` is the same as a
    table): ``date, horizon_day, actual, mean, p5 ... p95, naive, in_50, in_80, in_90,
    abs_error, scaled_error, naive_abs_error, crps, pit, pit_bin`` (``naive``: the seasonal
    naive forecast from the same ``as_of``).
    """

    forecast_id: str
    campaign_id: str
    config: str
    as_of: str
    metric: str
    days_scored: int
    coverage_50: float
    coverage_80: float
    coverage_90: float
    mase: float | None
    crps: float
    bias: float | None
    pit: tuple[int, ...]
    columns: dict[str, np.ndarray] = field(repr=False, default_factory=dict)

    @property
    def per_day(self) -> pd.DataFrame:
        return pd.DataFrame(self.columns)

    def to_dict(self, *, per_day: bool = False) -> dict[str, Any]:
        out = {
            "forecast_id": self.forecast_id,
            "campaign_id": self.campaign_id,
            "config": self.config,
            "as_of": self.as_of,
            "metric": self.metric,
            "days_scored": self.days_scored,
            "coverage_50": self.coverage_50,
            "coverage_80": self.coverage_80,
            "coverage_90": self.coverage_90,
            "mase": self.mase,
            "crps": self.crps,
            "bias": self.bias,
            "pit": {"edges": list(PIT_EDGES), "counts": list(self.pit)},
        }
        if per_day:
            out["per_day"] = _columns_json(self.columns)
        return out

    def ledger_row(self, scoring_id: str, data_hash: str) -> dict[str, Any]:
        """The ``scores`` row of this scoring (the scored days as JSON columns)."""
        return {
            "scoring_id": scoring_id,
            "forecast_id": self.forecast_id,
            "campaign_id": self.campaign_id,
            "config": self.config,
            "data_hash": data_hash,
            "days_scored": self.days_scored,
            "coverage_50": self.coverage_50,
            "coverage_80": self.coverage_80,
            "coverage_90": self.coverage_90,
            "mase": self.mase,
            "crps": self.crps,
            "bias": self.bias,
            "pit": {"edges": list(PIT_EDGES), "counts": list(self.pit)},
            "per_day": _columns_json(self.columns, STORED_COLUMNS),
        }


#: The scored days' columns kept in the ledger's ``scores`` rows (the rest follow from the
#: forecast's stored quantiles).
STORED_COLUMNS = (
    "date",
    "horizon_day",
    "actual",
    "in_50",
    "in_80",
    "in_90",
    "abs_error",
    "scaled_error",
    "naive_abs_error",
    "crps",
    "pit",
)


def _columns_json(columns: dict[str, np.ndarray], names: Iterable[str] | None = None) -> dict:
    out: dict[str, list] = {}
    for name in names or columns:
        values = columns[name]
        if name == "date":
            out[name] = np.datetime_as_string(np.asarray(values, dtype="datetime64[D]")).tolist()
        elif values.dtype.kind == "f" and not np.isfinite(values).all():
            out[name] = [v if np.isfinite(v) else None for v in values.tolist()]
        else:
            out[name] = values.tolist()
    return out


@dataclass(frozen=True)
class _Actuals:
    """One campaign's metric by calendar day from ``start`` (NaN where not reported)."""

    start: np.datetime64
    values: np.ndarray

    def at(self, dates: np.ndarray) -> np.ndarray:
        idx = (dates - self.start).astype(int)
        ok = (idx >= 0) & (idx < len(self.values))
        out = np.full(len(dates), np.nan)
        out[ok] = self.values[idx[ok]]
        return out

    def until(self, day: np.datetime64) -> np.ndarray:
        return self.values[: max(int((day - self.start).astype(int)) + 1, 0)]


def _as_actuals(actuals: pd.Series | _Actuals) -> _Actuals:
    if isinstance(actuals, _Actuals):
        return actuals
    series = actuals.sort_index()
    index = pd.DatetimeIndex(series.index)
    start = np.datetime64(index[0].date(), "D")
    full = pd.date_range(index[0], index[-1], freq="D")
    return _Actuals(start, series.reindex(full).to_numpy(dtype=float))


def score_forecast(forecast: dict[str, Any], actuals: pd.Series | _Actuals) -> ForecastScore | None:
    """Score one forecast (a full ledger row) against ``actuals`` (the campaign's metric by
    calendar day, NaN on days it did not report); ``None`` while no forecast day has one."""
    daily = forecast["daily"]
    series = _as_actuals(actuals)
    dates = np.array(daily["date"], dtype="datetime64[D]")
    observed = series.at(dates)
    q_all = np.array([daily[n] for n in _NAMES], dtype=float).T
    keep = np.isfinite(observed) & np.isfinite(q_all).all(axis=1)
    if not keep.any():
        return None
    history = series.until(np.datetime64(str(forecast["as_of"])[:10], "D"))
    scale = seasonal_naive_scale(history)
    y = observed[keep]
    q = np.sort(q_all[keep], axis=1)
    p50 = q[:, _NAMES.index("p50")]
    columns: dict[str, np.ndarray] = {
        "date": dates[keep],
        "horizon_day": np.arange(1, len(dates) + 1)[keep],
        "actual": y,
        "mean": np.array(daily["mean"], dtype=float)[keep],
        **{n: q[:, i] for i, n in enumerate(_NAMES)},
        "naive": seasonal_naive(history, len(dates))[keep],
    }
    for name, (lo, hi) in INTERVALS.items():
        columns["in_" + name.split("_")[1]] = covered(y, columns[lo], columns[hi])
    columns["abs_error"] = np.abs(p50 - y)
    columns["scaled_error"] = (p50 - y) / scale if scale else np.full(len(y), np.nan)
    columns["naive_abs_error"] = np.abs(columns["naive"] - y)
    columns["crps"] = quantile_crps(y, q, _LEVELS)
    columns["pit"] = pit_values(y, q, _LEVELS)
    columns["pit_bin"] = pit_bins(y, q)
    total = float(y.sum())
    counts = np.bincount(columns["pit_bin"], minlength=len(PIT_EDGES) - 1)
    return ForecastScore(
        forecast_id=forecast["forecast_id"],
        campaign_id=forecast["campaign_id"],
        config=forecast["config"],
        as_of=str(forecast["as_of"]),
        metric=forecast["metric"],
        days_scored=int(keep.sum()),
        coverage_50=float(columns["in_50"].mean()),
        coverage_80=float(columns["in_80"].mean()),
        coverage_90=float(columns["in_90"].mean()),
        mase=float(columns["abs_error"].mean()) / scale if scale else None,
        crps=float(columns["crps"].mean()),
        bias=(float(p50.sum()) - total) / total if total > 0 else None,
        pit=tuple(int(c) for c in counts),
        columns=columns,
    )


def actuals_by_campaign(
    panel: CampaignPanel, campaign_ids: Iterable[str], metric: str
) -> dict[str, _Actuals]:
    """Each campaign's ``metric`` by calendar day from the panel (NaN where not reported)."""
    wanted = {str(c) for c in campaign_ids}
    frame = panel.frame
    values = pd.to_numeric(frame[metric], errors="coerce").to_numpy(dtype=float)
    values = np.where(frame["present"].to_numpy(dtype=bool), values, np.nan)
    dates = frame["date"].to_numpy(dtype="datetime64[D]")
    out = {}
    for cid, rows in frame.groupby("campaign_id", sort=False).indices.items():
        if str(cid) in wanted:  # the panel's days of a campaign are consecutive, gap-free
            out[str(cid)] = _Actuals(dates[rows[0]], values[rows])
    return out


def score_forecasts(
    forecasts: list[dict[str, Any]], data: pd.DataFrame | CampaignPanel
) -> list[ForecastScore]:
    """Score every forecast (full ledger rows) whose days have actuals in ``data``."""
    panel = data if isinstance(data, CampaignPanel) else CampaignPanel.from_data(data)
    by_metric: dict[str, dict[str, _Actuals]] = {}
    out = []
    for fc in forecasts:
        metric = fc["metric"]
        if metric not in by_metric:
            ids = {f["campaign_id"] for f in forecasts if f["metric"] == metric}
            by_metric[metric] = actuals_by_campaign(panel, sorted(ids), metric)
        actuals = by_metric[metric].get(fc["campaign_id"])
        if actuals is None:
            continue
        scored = score_forecast(fc, actuals)
        if scored is not None:
            out.append(scored)
    return out


def _pooled(days: pd.DataFrame) -> dict[str, Any]:
    total = float(days["actual"].sum())
    scaled = days["scaled_error"].abs()
    return {
        "forecasts": int(days["forecast_id"].nunique()),
        "days_scored": len(days),
        "coverage_50": float(days["in_50"].mean()),
        "coverage_80": float(days["in_80"].mean()),
        "coverage_90": float(days["in_90"].mean()),
        "mase": _none(scaled.mean()) if scaled.notna().any() else None,
        "crps": float(days["crps"].mean()),
        "bias": (float(days["p50"].sum()) - total) / total if total > 0 else None,
    }


def all_days(scored: list[ForecastScore]) -> pd.DataFrame:
    """Every scored day of ``scored`` in one frame, with the forecast's id, campaign,
    configuration, ``as_of`` and metric."""
    if not scored:
        return pd.DataFrame()
    names = list(scored[0].columns)
    frame = pd.DataFrame({n: np.concatenate([s.columns[n] for s in scored]) for n in names})
    frame["date"] = pd.to_datetime(frame["date"])
    lengths = [s.days_scored for s in scored]
    for key in ("forecast_id", "campaign_id", "config", "as_of", "metric"):
        frame[key] = np.repeat([getattr(s, key) for s in scored], lengths)
    return frame


def aggregate(
    scored: list[ForecastScore], days: pd.DataFrame | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Scores pooled over days: per campaign (the champion's), per model configuration,
    and per configuration and horizon bucket (``days``: :func:`all_days` of ``scored``,
    when the caller has it)."""
    days = all_days(scored) if days is None else days.copy()
    if days.empty:
        return {"campaigns": [], "models": [], "horizons": []}
    days["bucket"] = [horizon_bucket(int(h)) for h in days["horizon_day"]]
    champion = days[days["config"] == "champion"]
    campaigns = [
        {"campaign_id": cid, **_pooled(g)} for cid, g in champion.groupby("campaign_id", sort=True)
    ]
    models = [{"config": c, **_pooled(g)} for c, g in days.groupby("config", sort=True)]
    order = {label: i for i, (_, _, label) in enumerate(HORIZON_BUCKETS)}
    horizons = [
        {"config": c, "horizon": b, **_pooled(g)}
        for (c, b), g in sorted(
            days.groupby(["config", "bucket"]), key=lambda kv: (kv[0][0], order[kv[0][1]])
        )
    ]
    return {"campaigns": campaigns, "models": models, "horizons": horizons}


@dataclass(frozen=True)
class LedgerScores:
    """The result of scoring the ledger: per forecast, pooled, and the alerts raised.

    ``to_dict()`` is the JSON of ``simkit ledger score --format json``; ``to_frame()`` the
    per-forecast table.
    """

    scoring_id: str
    data_hash: str
    forecasts: tuple[ForecastScore, ...]
    campaigns: tuple[dict[str, Any], ...]
    models: tuple[dict[str, Any], ...]
    horizons: tuple[dict[str, Any], ...]
    alerts: tuple[dict[str, Any], ...]
    refits: tuple[dict[str, Any], ...] = ()
    unscored: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "scoring_id": self.scoring_id,
            "data_hash": self.data_hash,
            "forecasts": [s.to_dict() for s in self.forecasts],
            "campaigns": list(self.campaigns),
            "models": list(self.models),
            "horizons": list(self.horizons),
            "alerts": list(self.alerts),
            "refits": list(self.refits),
            "unscored": self.unscored,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per scored forecast (without the PIT counts)."""
        rows = [{k: v for k, v in s.to_dict().items() if k != "pit"} for s in self.forecasts]
        return pd.DataFrame(rows)


def new_scoring_id(data_hash: str) -> str:
    """An id for one scoring: when, and of which data."""
    now = datetime.now(UTC)
    digest = hashlib.sha256(f"{now.isoformat()}{data_hash}".encode()).hexdigest()[:8]
    return f"s-{now:%Y%m%dT%H%M%S}-{digest}"
