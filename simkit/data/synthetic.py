"""Synthetic campaigns with known ground truth.

The generator draws daily funnels from an explicit process, so every later stage can be
checked against the truth:

* **Spend** follows a daily budget that moves by 30-50% every two to four weeks (so the
  response to spend is identifiable), paced slightly under budget.
* **Impressions** ~ Poisson(1000 * spend / CPM), with CPM rising with spend
  (``CPM = base_cpm * (spend / reference_spend) ** cpm_spend_elasticity``): diminishing
  returns.  CPM also has a day-of-week pattern and AR(1) log-noise.
* **Clicks** ~ Binomial(impressions, CTR), CTR with day-of-week, AR(1) noise, and creative
  fatigue: ``exp(-fatigue_rate_per_day * creative_age)`` floored, reset by each refresh.
* **Conversions** ~ Binomial(clicks, CVR); **revenue** = conversions x revenue per
  conversion, with lognormal order-value noise.
* Social campaigns carry ``reach``/``frequency``; search campaigns ``impression_share``.

Injectable events (their dates and sizes are returned in the truth):

``fatigue``
    the current creative wears out: CTR falls by ``magnitude`` per day (log scale) from
    ``start``, to a floor of 40%, until the next refresh.
``competitor_entry``
    a competitor enters the auction: CPM is multiplied by ``1 + magnitude`` from ``start``
    (and impression share falls by the same factor).
``tracking_dip``
    conversion tracking breaks: recorded conversions (and revenue) fall by ``magnitude``
    (a fraction) between ``start`` and ``end``; clicks do not change.
``overpacing``
    delivery runs at ``magnitude`` x the daily budget from ``start`` to ``end``.

Everything random comes from the ``rng`` passed in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml

from simkit.sheets import write_csv

__all__ = [
    "EVENT_KINDS",
    "CampaignTruth",
    "InjectedEvent",
    "SyntheticData",
    "default_events",
    "generate",
    "sample_budget_schedule",
    "sample_truth",
    "simulate_campaign",
]

EventKind = Literal["fatigue", "competitor_entry", "tracking_dip", "overpacing"]
EVENT_KINDS: tuple[str, ...] = ("fatigue", "competitor_entry", "tracking_dip", "overpacing")

_CHANNELS = ("search", "social", "display")
_PLATFORM = {"search": "google", "social": "meta", "display": "google"}
_INDUSTRIES = ("Retail", "Education", "Finance & Insurance", "Health & Medical", "Travel")
_FATIGUE_FLOOR = 0.4


@dataclass(frozen=True)
class InjectedEvent:
    """One injected event; ``end`` is exclusive, ``None`` means until the end of the data."""

    kind: EventKind
    campaign_id: str
    start: date
    magnitude: float
    end: date | None = None

    def active(self, days: pd.DatetimeIndex) -> np.ndarray:
        """Boolean mask of the days on which the event is in force."""
        d = days.date if isinstance(days, pd.DatetimeIndex) else np.asarray(days)
        mask = d >= self.start
        if self.end is not None:
            mask &= d < self.end
        return np.asarray(mask, dtype=bool)


@dataclass(frozen=True)
class CampaignTruth:
    """The true parameters of one synthetic campaign."""

    campaign_id: str
    channel: str
    platform: str
    industry: str
    base_cpm: float
    reference_spend: float
    cpm_spend_elasticity: float
    base_ctr: float
    base_cvr: float
    revenue_per_conversion: float
    dow_cpm: tuple[float, ...]
    dow_ctr: tuple[float, ...]
    dow_cvr: tuple[float, ...]
    fatigue_rate_per_day: float
    refresh_dates: tuple[date, ...]
    noise_sd: float
    noise_phi: float
    events: tuple[InjectedEvent, ...] = ()
    #: The true process's daily centre: expected recorded conversions on each calendar day
    #: of the data (from the first), given the realised spend, the creatives, seasonality
    #: and events, with the day-to-day noise at its median (filled in by ``generate``).
    expected_conversions: tuple[float, ...] = ()

    def expected_daily_conversions(self, spend: np.ndarray | float) -> np.ndarray:
        """Expected conversions per day at a given daily spend, with fresh creative, an
        average weekday, no events: the true response curve (concave, zero at zero)."""
        s = np.asarray(spend, dtype=float)
        cpm = self.base_cpm * np.power(
            np.maximum(s, 1e-12) / self.reference_spend, self.cpm_spend_elasticity
        )
        impressions = 1000.0 * s / cpm
        dow = float(
            np.mean(np.array(self.dow_ctr) * np.array(self.dow_cvr) / np.array(self.dow_cpm))
        )
        return np.where(s > 0, impressions * self.base_ctr * self.base_cvr * dow, 0.0)


@dataclass(frozen=True)
class SyntheticData:
    """Generated data in the contract's shape, its campaign metadata, and the truth."""

    data: pd.DataFrame
    campaigns: pd.DataFrame
    truth: dict[str, CampaignTruth]
    events: tuple[InjectedEvent, ...] = field(default=())

    def write(self, directory: str | Path) -> tuple[Path, Path]:
        """Write ``campaigns.csv`` (daily data) and ``campaigns_meta.yaml`` (metadata)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        data_path, meta_path = out / "campaigns.csv", out / "campaigns_meta.yaml"
        frame = self.data.copy()
        frame["date"] = frame["date"].dt.strftime("%Y-%m-%d")
        write_csv(frame, data_path)  # text cells neutralised for spreadsheets
        meta = self.campaigns.copy()
        for column in ("flight_start", "flight_end"):
            meta[column] = meta[column].astype(str)
        records = meta.to_dict(orient="records")
        meta_path.write_text(yaml.safe_dump({"campaigns": records}, sort_keys=False))
        return data_path, meta_path


def sample_budget_schedule(
    n_days: int,
    base_budget: float,
    rng: np.random.Generator,
    *,
    min_days: int = 14,
    max_days: int = 28,
) -> np.ndarray:
    """A piecewise-constant daily budget that moves by 30-50% up or down every 2-4 weeks.

    The moves keep the budget within [0.4, 2.5] x ``base_budget`` so that the campaign
    stays in a plausible range while the spend response is identifiable.
    """
    budget = np.empty(n_days)
    level, t = base_budget, 0
    while t < n_days:
        length = int(rng.integers(min_days, max_days + 1))
        budget[t : t + length] = level
        t += length
        step = rng.uniform(0.3, 0.5)
        up = rng.random() < 0.5
        candidate = level * (1 + step) if up else level * (1 - step)
        if not 0.4 * base_budget <= candidate <= 2.5 * base_budget:
            candidate = level * (1 - step) if up else level * (1 + step)
        level = candidate
    return np.round(budget, 2)


def sample_truth(
    campaign_id: str,
    rng: np.random.Generator,
    *,
    channel: str | None = None,
    start: date,
    n_days: int,
    reference_spend: float | None = None,
) -> CampaignTruth:
    """Draw plausible true parameters for one campaign (no events)."""
    channel = channel or str(rng.choice(_CHANNELS))
    cpm_range = {"search": (25.0, 60.0), "social": (6.0, 14.0), "display": (2.0, 6.0)}[channel]
    ctr_range = {"search": (0.03, 0.07), "social": (0.008, 0.02), "display": (0.002, 0.006)}[
        channel
    ]
    cvr_range = {"search": (0.03, 0.08), "social": (0.02, 0.05), "display": (0.01, 0.03)}[channel]
    weekend = rng.uniform(0.75, 0.95)
    dow_ctr = np.array([1.0, 1.02, 1.03, 1.01, 0.98, weekend, weekend * 0.97])
    dow_cvr = np.array([1.03, 1.05, 1.04, 1.0, 0.95, weekend * 1.05, weekend])
    dow_cpm = np.array([1.05, 1.04, 1.02, 1.0, 0.98, 0.92, 0.94])
    refresh_every = int(rng.integers(35, 70))
    refreshes = tuple(
        start + timedelta(days=d) for d in range(refresh_every, n_days, refresh_every)
    )
    return CampaignTruth(
        campaign_id=campaign_id,
        channel=channel,
        platform=_PLATFORM[channel],
        industry=str(rng.choice(_INDUSTRIES)),
        base_cpm=float(rng.uniform(*cpm_range)),
        reference_spend=float(reference_spend or rng.uniform(300, 1500)),
        cpm_spend_elasticity=float(rng.uniform(0.25, 0.55)),
        base_ctr=float(rng.uniform(*ctr_range)),
        base_cvr=float(rng.uniform(*cvr_range)),
        revenue_per_conversion=float(rng.uniform(40, 160)),
        dow_cpm=tuple(float(x) for x in dow_cpm / dow_cpm.mean()),
        dow_ctr=tuple(float(x) for x in dow_ctr / dow_ctr.mean()),
        dow_cvr=tuple(float(x) for x in dow_cvr / dow_cvr.mean()),
        fatigue_rate_per_day=float(rng.uniform(0.001, 0.004)),
        refresh_dates=refreshes,
        noise_sd=float(rng.uniform(0.04, 0.09)),
        noise_phi=float(rng.uniform(0.5, 0.8)),
    )


def _ar1(n: int, sd: float, phi: float, rng: np.random.Generator) -> np.ndarray:
    shocks = rng.standard_normal(n) * sd * math.sqrt(1 - phi**2)
    out = np.empty(n)
    prev = rng.standard_normal() * sd
    for t in range(n):
        prev = phi * prev + shocks[t]
        out[t] = prev
    return out


def simulate_campaign(
    truth: CampaignTruth,
    budget: np.ndarray,
    days: pd.DatetimeIndex,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Draw one campaign's daily funnel under ``truth`` for the given daily ``budget``."""
    return _simulate(truth, budget, days, rng)[0]


def _simulate(
    truth: CampaignTruth,
    budget: np.ndarray,
    days: pd.DatetimeIndex,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`simulate_campaign`'s frame and the expected recorded conversions per day (the
    noise at its median: the AR(1) log-noise at zero; no random numbers drawn for it)."""
    n = len(days)
    budget = np.asarray(budget, dtype=float)
    if budget.shape != (n,):
        raise ValueError(f"budget has {budget.shape} values, expected {n}")
    dow = days.day_of_week.to_numpy()
    d = days.date

    pacing = np.clip(rng.normal(0.95, 0.03, n), 0.85, 1.0)
    multiplier = {kind: np.ones(n) for kind in EVENT_KINDS}
    for event in truth.events:
        mask = event.active(days)
        if event.kind == "overpacing":
            pacing = np.where(mask, event.magnitude * rng.uniform(0.97, 1.03, n), pacing)
        elif event.kind == "competitor_entry":
            multiplier["competitor_entry"] = np.where(mask, 1 + event.magnitude, 1.0)
        elif event.kind == "tracking_dip":
            multiplier["tracking_dip"] = np.where(mask, 1 - event.magnitude, 1.0)
    spend = np.round(budget * pacing, 2)

    cpm_centre = (
        truth.base_cpm
        * np.power(np.maximum(spend, 1e-9) / truth.reference_spend, truth.cpm_spend_elasticity)
        * np.asarray(truth.dow_cpm)[dow]
        * multiplier["competitor_entry"]
    )
    cpm = cpm_centre * np.exp(_ar1(n, truth.noise_sd, truth.noise_phi, rng))
    impressions = rng.poisson(1000.0 * spend / cpm)

    # creative age and fatigue; a refresh resets both the age and any fatigue event
    refresh = np.zeros(n, dtype=int)
    for r in truth.refresh_dates:
        refresh += d >= r
    age = np.zeros(n)
    for t in range(1, n):
        age[t] = 0 if refresh[t] != refresh[t - 1] else age[t - 1] + 1
    fatigue = np.exp(-truth.fatigue_rate_per_day * age)
    for event in (e for e in truth.events if e.kind == "fatigue"):
        started = d >= event.start
        generation = refresh[np.argmax(started)] if started.any() else -1
        in_event = started & (refresh == generation)
        elapsed = np.array([(x - event.start).days for x in d], dtype=float)
        fatigue = np.where(in_event, fatigue * np.exp(-event.magnitude * elapsed), fatigue)
    fatigue = np.maximum(fatigue, _FATIGUE_FLOOR)
    ctr_centre = truth.base_ctr * np.asarray(truth.dow_ctr)[dow] * fatigue
    ctr = np.clip(ctr_centre * np.exp(_ar1(n, truth.noise_sd, truth.noise_phi, rng)), 0.0, 0.9)
    clicks = rng.binomial(impressions, ctr)
    cvr_centre = truth.base_cvr * np.asarray(truth.dow_cvr)[dow]
    cvr = np.clip(cvr_centre * np.exp(_ar1(n, truth.noise_sd, truth.noise_phi, rng)), 0.0, 0.9)
    expected = (
        1000.0
        * spend
        / cpm_centre
        * np.clip(ctr_centre, 0.0, 0.9)
        * np.clip(cvr_centre, 0.0, 0.9)
        * multiplier["tracking_dip"]
    )
    true_conversions = rng.binomial(clicks, cvr)
    conversions = rng.binomial(true_conversions, multiplier["tracking_dip"])
    aov_noise = np.exp(rng.normal(0, 0.35 / np.sqrt(np.maximum(conversions, 1))))
    revenue = np.round(conversions * truth.revenue_per_conversion * aov_noise, 2)

    frame = pd.DataFrame(
        {
            "date": days,
            "campaign_id": truth.campaign_id,
            "channel": truth.channel,
            "creative_id": [f"{truth.campaign_id}-cr{g + 1}" for g in refresh],
            "spend": spend,
            "impressions": impressions,
            "clicks": clicks,
            "conversions": conversions,
            "revenue": revenue,
            "budget": budget,
        }
    )
    if truth.channel == "social":
        frequency = 1.15 + 0.02 * age * (1 + 3 * (fatigue < 0.9))
        frame["reach"] = np.round(impressions / frequency).astype(int)
        frame["frequency"] = np.round(impressions / np.maximum(frame["reach"], 1), 4)
    if truth.channel == "search":
        share = (
            0.75 * np.power(spend / truth.reference_spend, 0.25) / multiplier["competitor_entry"]
        )
        frame["impression_share"] = np.round(np.clip(share, 0.05, 0.98), 4)
    return frame, expected


def default_events(campaign_ids: Sequence[str], start: date, n_days: int) -> list[InjectedEvent]:
    """The demo's events: one of each kind on the first four campaigns, in the last third."""
    at = start + timedelta(days=round(n_days * 0.7))
    kinds: list[tuple[EventKind, float, date | None]] = [
        ("fatigue", 0.03, None),
        ("competitor_entry", 0.4, None),
        ("tracking_dip", 0.6, at + timedelta(days=10)),
        ("overpacing", 1.35, None),
    ]
    return [
        InjectedEvent(kind=k, campaign_id=cid, start=at, magnitude=m, end=end)
        for cid, (k, m, end) in zip(campaign_ids, kinds, strict=False)
    ]


def generate(
    n_campaigns: int = 4,
    n_days: int = 120,
    *,
    rng: np.random.Generator,
    start: date | str = date(2026, 1, 5),
    events: Literal["default"] | Sequence[InjectedEvent] | None = "default",
    channels: Sequence[str] | None = None,
    budgets: Mapping[str, np.ndarray] | None = None,
) -> SyntheticData:
    """Generate ``n_campaigns`` daily campaigns of ``n_days`` with ground truth.

    Parameters
    ----------
    n_campaigns, n_days
        Size of the panel.
    rng
        The only source of randomness.
    start
        First date.
    events
        ``"default"`` injects one event of each kind on the first four campaigns (see
        :func:`default_events`); ``None`` injects none; or give the events explicitly.
    channels
        One channel per campaign (``search``, ``social``, ``display``); drawn when omitted.
    budgets
        Daily budget arrays by campaign id, to override the sampled budget schedule
        (e.g. to impose a plan on the last weeks).

    Examples
    --------
    >>> world = generate(3, 90, rng=np.random.default_rng(1))
    >>> sorted(world.data["campaign_id"].unique())
    ['C001', 'C002', 'C003']
    """
    start = date.fromisoformat(start) if isinstance(start, str) else start
    if n_campaigns < 1 or n_days < 1:
        raise ValueError("n_campaigns and n_days must be positive")
    ids = [f"C{i + 1:03d}" for i in range(n_campaigns)]
    if channels is not None and len(channels) != n_campaigns:
        raise ValueError(f"got {len(channels)} channels for {n_campaigns} campaigns")
    chosen = list(channels) if channels else [_CHANNELS[i % 3] for i in range(n_campaigns)]
    event_list = default_events(ids, start, n_days) if events == "default" else list(events or [])
    unknown = {e.campaign_id for e in event_list} - set(ids)
    if unknown:
        raise ValueError(f"events name unknown campaigns: {sorted(unknown)}")
    days = pd.date_range(start, periods=n_days, freq="D")

    frames, truths, meta = [], {}, []
    for cid, channel in zip(ids, chosen, strict=True):
        truth = sample_truth(cid, rng, channel=channel, start=start, n_days=n_days)
        own = tuple(e for e in event_list if e.campaign_id == cid)
        # a fatigue event is the current creative wearing out: no scheduled refresh comes to
        # its rescue within four weeks (a refresh is what the pivot engine should propose)
        refreshes = tuple(
            r
            for r in truth.refresh_dates
            if not any(
                e.kind == "fatigue" and e.start <= r < e.start + timedelta(days=28) for e in own
            )
        )
        truth = replace(truth, events=own, refresh_dates=refreshes)
        budget = (
            np.asarray(budgets[cid], dtype=float)
            if budgets and cid in budgets
            else sample_budget_schedule(n_days, truth.reference_spend, rng)
        )
        frame, expected = _simulate(truth, budget, days, rng)
        truth = replace(truth, expected_conversions=tuple(float(x) for x in expected))
        frames.append(frame)
        truths[cid] = truth
        expected_cpa = truth.reference_spend / float(
            truth.expected_daily_conversions(truth.reference_spend)
        )
        meta.append(
            {
                "campaign_id": cid,
                "name": f"{truth.industry} {channel} {cid}",
                "channel": channel,
                "platform": truth.platform,
                "objective": "conversions",
                "industry": truth.industry,
                "budget_daily": float(budget[-1]),
                "flight_start": start,
                "flight_end": start + timedelta(days=n_days + 59),
                "target_cpa": round(expected_cpa, 2),
                "target_roas": round(truth.revenue_per_conversion / expected_cpa, 2),
            }
        )
    data = pd.concat(frames, ignore_index=True)
    return SyntheticData(
        data=data,
        campaigns=pd.DataFrame(meta),
        truth=truths,
        events=tuple(event_list),
    )
