"""What a campaign report works from: validated parameters, the campaign's data, hashes.

:func:`load_campaign` is the first call of ``notebooks/campaign_report.ipynb``.  It loads and
validates the whole data file (the same checks as ``simkit validate``), keeps the one
campaign the report is about, and refuses, with a clear message, a campaign whose own data
cannot support a report (too short).

The campaign's metadata is merged from every source the params and files offer, before any
fitting (:func:`simkit.metadata.resolve_for_run`; the precedence is in that module); none of
it is required.

A campaign that has stopped, whose data end before the file's last day or that has not spent
in the file's last :data:`STOPPED_AFTER_DAYS` days, is loaded with ``state="stopped"`` and
its last day; the report then shows its history, data quality and benchmarks, and skips the
forward-looking sections with a sentence (:mod:`simkit.report.engines`).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from simkit.data import load
from simkit.data.panel import CampaignPanel
from simkit.data.schema import MIN_HISTORY_DAYS
from simkit.data.validate import find_metadata
from simkit.errors import DataError, ParamsError
from simkit.metadata import ResolvedMetadata, resolve_for_run
from simkit.params import RunParams, params_hash
from simkit.simulate.budget import PLAN_LOOKBACK_DAYS, recent_spend_level

__all__ = [
    "PLAN_LOOKBACK_DAYS",
    "STOPPED_AFTER_DAYS",
    "CampaignContext",
    "campaign_state",
    "data_hash",
    "load_campaign",
]

#: A campaign with no spend in the file's last this-many days is reported as stopped.
STOPPED_AFTER_DAYS = PLAN_LOOKBACK_DAYS
CampaignState = Literal["active", "stopped"]
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
        Its metadata (name, channel, targets...) as a dict, merged from every source
        (:mod:`simkit.metadata`); empty when none was given.
    loaded
        The full :class:`~simkit.data.LoadedData` (validation report included).
    plan
        Planned daily spend over the horizon, indexed by date.
    data_hash
        SHA-256 over the data file, mapping and metadata bytes.
    started
        ``time.perf_counter()`` when loading started (for the run time in the footer).
    state
        ``"active"``, or ``"stopped"`` (see :func:`campaign_state`).
    last_date
        The campaign's last day: its last day with spend when stopped, else its last day.
    file_last_date
        The last day of the whole file.
    metadata
        Every campaign's merged metadata, with the source of each value.
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
    state: CampaignState = "active"
    last_date: pd.Timestamp | None = None
    file_last_date: pd.Timestamp | None = None
    metadata: ResolvedMetadata | None = None

    @property
    def stopped(self) -> bool:
        return self.state == "stopped"

    @property
    def name(self) -> str:
        name = self.meta.get("name")
        return str(name) if isinstance(name, str) and name else self.campaign_id

    @property
    def target_cpa(self) -> float | None:
        return _number(self.meta.get("target_cpa"))

    @property
    def target_roas(self) -> float | None:
        return _number(self.meta.get("target_roas"))

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


def data_hash(
    data: str | Path, mapping: str | Path | None = None, metadata: str | Path | None = None
) -> str:
    """SHA-256 over the bytes of the data file, its mapping and its metadata files (the
    sidecar beside the data and the file named in params)."""
    digest = hashlib.sha256()
    path = Path(data)
    parts = (path, Path(mapping) if mapping else None, find_metadata(path))
    for part in (*parts, Path(metadata) if metadata else None):
        if part is not None and part.is_file():
            digest.update(part.name.encode() + b"\0")
            digest.update(part.read_bytes())
    return digest.hexdigest()


def _daily(rows: pd.DataFrame) -> pd.DataFrame:
    """The campaign's days with data, by the campaign-day panel's rules
    (:mod:`simkit.data.panel`: volumes summed, the budget in force, impression share
    weighted by impressions), with a ``date`` column."""
    panel = CampaignPanel.from_data(rows)
    days = panel.campaign(panel.ids[0]) if panel.ids else panel.frame.set_index("date")
    columns = [c for c in (*_SUMMED, "impression_share") if c in days.columns]
    daily = days.loc[days["present"].to_numpy(dtype=bool), columns]
    return daily.rename_axis("date").reset_index()


def campaign_state(
    daily: pd.DataFrame, file_last: pd.Timestamp
) -> tuple[CampaignState, pd.Timestamp]:
    """Whether a campaign is still running at the file's last day, and its last day.

    It is ``"stopped"`` when its rows end before the file's last day (it was switched off
    or the export left it out), or when it has not spent in the file's last
    :data:`STOPPED_AFTER_DAYS` days.  Its last day is then its last day with spend (its
    last row's day if it never spent); an active campaign's is the file's last day.
    """
    rows_end = pd.Timestamp(daily["date"].max())
    spent = daily.loc[daily["spend"].fillna(0) > 0, "date"]
    last_spend = pd.Timestamp(spent.max()) if len(spent) else None
    quiet_since = file_last - pd.Timedelta(days=STOPPED_AFTER_DAYS)
    if rows_end < file_last or last_spend is None or last_spend <= quiet_since:
        return "stopped", last_spend if last_spend is not None else rows_end
    return "active", rows_end


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


def load_campaign(params: RunParams, *, today: Any = None, loaded: Any = None) -> CampaignContext:
    """Load the data and keep the report's one campaign (``params.campaigns == [id]``).

    ``loaded``: the data already loaded from ``params.data`` (:func:`simkit.data.load` with
    the same mapping and ``on_bad_rows``), so a batch worker reads a large file once for
    all its campaigns rather than once per campaign.

    Raises
    ------
    ParamsError
        when ``campaigns`` does not name exactly one campaign present in the data.
    DataError
        when the file fails validation, or this campaign's own data cannot support a
        report (fewer than ``MIN_HISTORY_DAYS`` days), or a metadata file cannot be read.

    A campaign that has stopped is not an error: it is loaded with ``state="stopped"``.
    """
    started = time.perf_counter()
    if params.campaigns == "all" or len(params.campaigns) != 1:
        raise ParamsError("a campaign report needs exactly one campaign id", field="campaigns")
    if loaded is None:
        loaded = load(
            params.data, mapping=params.mapping, today=today, on_bad_rows=params.on_bad_rows
        )
    campaign_id = params.campaign_list(loaded.campaign_ids)[0]
    loaded, resolved = resolve_for_run(params, loaded)  # before any fitting
    rows = loaded.data[loaded.data["campaign_id"] == campaign_id].reset_index(drop=True)
    daily = _daily(rows)
    if len(daily) < MIN_HISTORY_DAYS:
        raise DataError(
            f"campaign {campaign_id} has {len(daily)} day(s) of data; a report "
            f"needs at least {MIN_HISTORY_DAYS}",
            file=str(params.data),
        )
    file_last = pd.Timestamp(loaded.data["date"].max())
    state, last_date = campaign_state(daily, file_last)
    plan = (
        _plan(params, campaign_id, daily)
        if state == "active"
        else pd.Series([], index=pd.DatetimeIndex([]), dtype=float, name="spend")
    )
    return CampaignContext(
        params=params,
        campaign_id=campaign_id,
        daily=daily,
        rows=rows,
        meta=resolved.for_campaign(campaign_id),
        loaded=loaded,
        plan=plan,
        data_hash=data_hash(params.data, params.mapping, params.metadata),
        params_hash=params_hash(params),
        started=started,
        state=state,
        last_date=last_date,
        file_last_date=file_last,
        metadata=resolved,
    )
