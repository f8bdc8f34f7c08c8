"""What a campaign report works from: validated parameters, the campaign's data, hashes.

:func:`load_campaign` is the first call of ``notebooks/campaign_report.ipynb``.  It loads and
validates the whole data file (the same checks as ``simkit validate``), keeps the one
campaign the report is about, and refuses, with a clear message, a campaign whose own data
cannot support a report (too short, or no spend at all).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simkit.data.schema import MIN_HISTORY_DAYS
from simkit.data.validate import find_metadata
from simkit.errors import DataError, ParamsError
from simkit.params import RunParams, params_hash
from simkit.simulate.budget import PLAN_LOOKBACK_DAYS, recent_spend_level

__all__ = ["PLAN_LOOKBACK_DAYS", "CampaignContext", "data_hash", "load_campaign"]

_SUMMED = ("spend", "impressions", "clicks", "conversions", "revenue", "budget", "reach")


@dataclass(frozen=True)
class CampaignContext:
    """One campaign's inputs, as every section builder sees them.

    Attributes
    ----------
    params
        The validated run parameters (``campaigns`` holds exactly this campaign).
    campaign_id
        The campaign.
    daily
        Its daily history, summed over breakdowns (creative, ad group), sorted by date.
    rows
        Its rows as loaded (with breakdowns), for engines that use them.
    meta
        Its metadata (name, channel, targets...) as a dict; empty when none was given.
    loaded
        The full :class:`~simkit.data.LoadedData` (validation report included).
    plan
        Planned daily spend over the horizon, indexed by date.
    data_hash
        SHA-256 over the data file, mapping and metadata bytes.
    started
        ``time.perf_counter()`` when loading started (for the run time in the footer).
    """

    params: RunParams
    campaign_id: str
    daily: pd.DataFrame
    rows: pd.DataFrame
    meta: dict[str, Any]
    loaded: Any
    plan: pd.Series
    data_hash: str
    params_hash: str
    started: float = field(default_factory=time.perf_counter)

    @property
    def name(self) -> str:
        name = self.meta.get("name")
        return str(name) if isinstance(name, str) and name else self.campaign_id

    @property
    def target_cpa(self) -> float | None:
        return self.params.target_cpa or _number(self.meta.get("target_cpa"))

    @property
    def target_roas(self) -> float | None:
        return self.params.target_roas or _number(self.meta.get("target_roas"))

    @property
    def rng_seed(self) -> np.random.SeedSequence:
        """The campaign's own seed sequence: the run seed plus a stable campaign key, so a
        campaign's numbers do not depend on which other campaigns run or in which order."""
        key = int.from_bytes(hashlib.sha256(self.campaign_id.encode()).digest()[:8], "big")
        return np.random.SeedSequence([self.params.seed, key])

    def rng(self, stream: int = 0) -> np.random.Generator:
        """A generator for one purpose (``stream``) of this campaign."""
        return np.random.default_rng(self.rng_seed.spawn(stream + 1)[stream])


def _number(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) and out > 0 else None


def data_hash(data: str | Path, mapping: str | Path | None = None) -> str:
    """SHA-256 over the bytes of the data file, its mapping and its metadata file."""
    digest = hashlib.sha256()
    path = Path(data)
    for part in (path, Path(mapping) if mapping else None, find_metadata(path)):
        if part is not None and part.is_file():
            digest.update(part.name.encode() + b"\0")
            digest.update(part.read_bytes())
    return digest.hexdigest()


def _daily(rows: pd.DataFrame) -> pd.DataFrame:
    summed = [c for c in _SUMMED if c in rows.columns]
    daily = rows.groupby("date", sort=True)[summed].sum(min_count=1).reset_index()
    if "impression_share" in rows.columns:
        daily["impression_share"] = (
            rows.groupby("date", sort=True)["impression_share"].mean().to_numpy()
        )
    return daily


def _plan(params: RunParams, campaign_id: str, daily: pd.DataFrame) -> pd.Series:
    last = daily["date"].max()
    dates = pd.date_range(last + pd.Timedelta(days=1), periods=params.horizon_days, freq="D")
    if params.plan is None:
        level = recent_spend_level(daily["spend"], daily.get("budget"))
        return pd.Series(np.full(len(dates), level), index=dates, name="spend")
    path = Path(params.plan)
    if not path.is_file():
        raise ParamsError("plan file not found", file=str(path), field="plan")
    plan = pd.read_csv(path)
    missing = {"date", "campaign_id", "spend"} - set(plan.columns)
    if missing:
        raise ParamsError(f"plan needs columns {sorted(missing)}", file=str(path), field="plan")
    plan = plan[plan["campaign_id"].astype(str) == campaign_id]
    series = pd.Series(plan["spend"].to_numpy(float), index=pd.to_datetime(plan["date"]))
    series = series.reindex(dates)
    if series.isna().any():
        gap = series[series.isna()].index[0].date()
        raise ParamsError(
            f"plan has no spend for campaign {campaign_id} on {gap} (the plan "
            f"must cover {dates[0].date()} to {dates[-1].date()})",
            file=str(path),
            field="plan",
        )
    if (series < 0).any():
        raise ParamsError("plan has negative spend", file=str(path), field="plan")
    return series.rename("spend")


def load_campaign(params: RunParams, *, today: Any = None) -> CampaignContext:
    """Load the data and keep the report's one campaign (``params.campaigns == [id]``).

    Raises
    ------
    ParamsError
        when ``campaigns`` does not name exactly one campaign present in the data.
    DataError
        when the file fails validation, or this campaign's own data cannot support a
        report (fewer than ``MIN_HISTORY_DAYS`` days, or no spend in the last weeks).
    """
    from simkit.data import load

    started = time.perf_counter()
    if params.campaigns == "all" or len(params.campaigns) != 1:
        raise ParamsError("a campaign report needs exactly one campaign id", field="campaigns")
    loaded = load(params.data, mapping=params.mapping, today=today)
    campaign_id = params.campaign_list(loaded.campaign_ids)[0]
    rows = loaded.data[loaded.data["campaign_id"] == campaign_id].reset_index(drop=True)
    daily = _daily(rows)
    if len(daily) < MIN_HISTORY_DAYS:
        raise DataError(
            f"campaign {campaign_id} has {len(daily)} day(s) of data; a report "
            f"needs at least {MIN_HISTORY_DAYS}",
            file=str(params.data),
        )
    if not daily["spend"].tail(PLAN_LOOKBACK_DAYS).gt(0).any():
        raise DataError(
            f"campaign {campaign_id} has no spend in its last {PLAN_LOOKBACK_DAYS} "
            "days: nothing to forecast",
            file=str(params.data),
            column="spend",
        )
    meta_rows = loaded.campaigns[loaded.campaigns["campaign_id"] == campaign_id]
    meta = (
        {k: v for k, v in meta_rows.iloc[0].to_dict().items() if not _isna(v)}
        if len(meta_rows)
        else {}
    )
    return CampaignContext(
        params=params,
        campaign_id=campaign_id,
        daily=daily,
        rows=rows,
        meta=meta,
        loaded=loaded,
        plan=_plan(params, campaign_id, daily),
        data_hash=data_hash(params.data, params.mapping),
        params_hash=params_hash(params),
        started=started,
    )


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
