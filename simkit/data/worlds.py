"""World families: synthetic campaign panels from independent processes.

A model scored on the generator it was tuned on measures the generator.  So the benches
score simkit on more than one **family** of worlds, each written apart from the others in
the same data contract and returning its truth in the same shape
(:class:`~simkit.data.synthetic.SyntheticData`): family ``"a"`` is
:func:`simkit.data.synthetic.generate`; family ``"b"`` is :func:`generate` here.
:data:`FAMILIES` maps the names to the generators, and :func:`family` looks one up.

Family B is written from the contract and from how managed accounts behave, not from
family A's process:

* **Budgets** are set per calendar month (a random walk, rounded to 5 units), with an
  occasional mid-month edit that holds to the month's end.
* **Spend hugs the budget**: 88-103% of it on most days; Google channels (search,
  shopping, display, video) overdeliver on about 6% of days, up to 2x the daily budget, and
  are held to 30.4x the month's average daily budget per calendar month (the last days of a
  long month are throttled); Meta (social) overdelivers up to 1.25x.
* **Impressions saturate**: expected impressions ``I_sat * (1 - exp(-spend / S))``, so CPM
  rises with spend by a local elasticity of 0.14-0.38; gamma-Poisson counts.
* **Creatives rotate on a schedule** every 14-21 days (a day or two of jitter), each with
  its own quality and a mild *linear* wear of 0.2-0.6% of CTR a day.
* **Noise** on log CPM, CTR and CVR is AR(1) with Student-t innovations (3-5 degrees of
  freedom) and a slowly moving volatility (stochastic volatility: heteroscedastic), plus
  rare shock days.
* **Seasonality drifts**: a weekly pattern whose amplitude swells and fades over 2-4
  months and whose peak day moves by about half a day a month, and a yearly term.
* **Attribution lag**: conversions (and revenue) land 0-7 days after their clicks, with a
  per-campaign lag distribution (``lag_probs`` in the truth); the last days of the data are
  under-reported, as in a real export.  Order values are a lognormal mixture (rare large
  orders).
* **Missing days**: outages of 1-3 days remove 1-5% of a campaign's days (never the first
  or the last).
* **Missing columns**: some campaigns carry no ``creative_id`` and some no ``budget``
  (blank cells in a shared file: the validator accepts blank optional cells, the
  in-memory frame holds ``NaN``).  The process underneath still rotates and paces.
* Channels ``search``, ``social``, ``display``, ``video``, ``shopping``; search and
  shopping carry ``impression_share``.

Events (the same kinds as family A, plus ``demand_drop``; an :class:`InjectedEvent`
each, ``end`` exclusive):

``fatigue``
    the current creative wears out: CTR falls by ``magnitude`` a day (log scale) from
    ``start`` to a floor of 35%; no rotation from 3 days before to 30 days after.
``competitor_entry``
    CPM x ``1 + magnitude`` from ``start``; impression share / ``1 + magnitude``.
``tracking_dip``
    conversions (and revenue) *recorded* on the days in force fall by ``magnitude``.
``demand_drop``
    CVR x ``1 - magnitude`` for clicks from ``start``; clicks unchanged (conversions fall
    gradually, through the lag).
``overpacing``
    delivery at ``magnitude`` x the hugging ratio, above the platform's caps.

Everything random comes from the ``rng`` passed in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal, cast

import numpy as np
import pandas as pd

from simkit.data import synthetic
from simkit.data.synthetic import CampaignTruth, InjectedEvent, SyntheticData

__all__ = [
    "CHANNELS",
    "EVENT_KINDS",
    "FAMILIES",
    "WorldTruth",
    "default_events",
    "family",
    "generate",
    "sample_budget",
    "sample_truth",
    "simulate_campaign",
]

EventKindB = Literal["fatigue", "competitor_entry", "tracking_dip", "demand_drop", "overpacing"]
EVENT_KINDS: tuple[str, ...] = (
    "fatigue",
    "competitor_entry",
    "tracking_dip",
    "demand_drop",
    "overpacing",
)
CHANNELS: tuple[str, ...] = ("search", "social", "display", "video", "shopping")
_PLATFORM = {
    "search": "google",
    "shopping": "google",
    "display": "google",
    "video": "google",
    "social": "meta",
}
#: Most a platform spends in a day, as a multiple of the daily budget.
_DAILY_MAX = {"google": 2.0, "meta": 1.25}
#: Google's monthly charge cap, in average daily budgets (Google Ads help, "About average
#: daily budgets").
_MONTH_CAP_DAYS = 30.4
_INDUSTRIES = ("Retail", "Home & Garden", "Software", "Travel", "Education", "Automotive")
# channel -> (CPM range, CTR range, CVR range, average order value range)
_LEVELS = {
    "search": ((25.0, 60.0), (0.03, 0.07), (0.03, 0.08), (60.0, 180.0)),
    "shopping": ((8.0, 20.0), (0.008, 0.02), (0.02, 0.05), (40.0, 120.0)),
    "social": ((6.0, 14.0), (0.008, 0.016), (0.02, 0.05), (35.0, 90.0)),
    "display": ((2.0, 5.0), (0.002, 0.005), (0.02, 0.05), (40.0, 110.0)),
    "video": ((8.0, 18.0), (0.003, 0.008), (0.02, 0.05), (50.0, 140.0)),
}
_FATIGUE_FLOOR = 0.35
_LAG_DAYS = 8  # lags 0..7
_SHARE_WITHOUT_CREATIVE = 0.2
_SHARE_WITHOUT_BUDGET = 0.15


@dataclass(frozen=True)
class WorldTruth(CampaignTruth):
    """The truth of one family-B campaign: :class:`CampaignTruth`'s fields plus B's own.

    The inherited fields read as in family A where the process allows: ``base_cpm`` and
    ``cpm_spend_elasticity`` are the CPM and its local spend elasticity at
    ``reference_spend``; ``dow_*`` the weekly pattern at the first day (it drifts);
    ``fatigue_rate_per_day`` the linear wear of a creative; ``refresh_dates`` the
    rotations; ``noise_sd``/``noise_phi`` the scale and AR coefficient of the CTR noise.
    """

    saturation_spend: float = 1.0
    saturation_impressions: float = 1.0
    rotation_days: int = 14
    lag_probs: tuple[float, ...] = (1.0,)
    noise_df: float = 4.0
    cvr_noise_sd: float = 0.1
    cpm_noise_sd: float = 0.05
    weekly_amplitude: tuple[float, float, float] = (0.0, 0.0, 0.0)
    weekly_phase_days: float = 0.0
    weekly_phase_drift_days_per_month: float = 0.0
    yearly_amplitude: tuple[float, float, float] = (0.0, 0.0, 0.0)
    overdelivery_rate: float = 0.0
    budget: tuple[float, ...] = ()
    has_creative_id: bool = True
    has_budget: bool = True
    missing_dates: tuple[date, ...] = ()

    def expected_daily_conversions(self, spend: np.ndarray | float) -> np.ndarray:
        """Expected conversions per day at a daily spend, fresh creative, seasonality and
        noise left out, no events, all lags landed: the true response curve (concave, zero
        at zero)."""
        s = np.maximum(np.asarray(spend, dtype=float), 0.0)
        impressions = self.saturation_impressions * -np.expm1(-s / self.saturation_spend)
        return impressions * self.base_ctr * self.base_cvr


def _month_index(days: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(days.year * 12 + days.month, dtype=np.int64)


def sample_budget(
    days: pd.DatetimeIndex, reference_spend: float, rng: np.random.Generator
) -> np.ndarray:
    """Daily budgets set per calendar month (random walk), with rare mid-month edits.

    Always draws the same numbers for the same ``len(days)``, so a caller that overrides
    the budget keeps the rest of the random stream unchanged.
    """
    n = len(days)
    month = _month_index(days)
    new_month = np.r_[True, month[1:] != month[:-1]]
    steps = rng.normal(0.0, 0.18, n)
    edits = rng.random(n) < 1 / 40
    edit_size = rng.normal(0.0, 0.15, n)
    log_b = np.empty(n)
    level = math.log(reference_spend) + steps[0] * 0.5
    for t in range(n):
        if t > 0 and new_month[t]:
            # month budgets mean-revert slowly to the campaign's reference level
            level = 0.8 * level + 0.2 * math.log(reference_spend) + steps[t]
        elif edits[t]:
            level += edit_size[t]
        log_b[t] = level
    return np.maximum(5.0 * np.round(np.exp(log_b) / 5.0), 5.0)


def sample_truth(
    campaign_id: str,
    rng: np.random.Generator,
    *,
    channel: str | None = None,
    start: date,
    n_days: int,
) -> WorldTruth:
    """Draw one family-B campaign's parameters (budget and rotation included)."""
    channel = channel or str(rng.choice(CHANNELS))
    if channel not in _LEVELS:
        raise ValueError(f"unknown channel {channel!r} for family b; known: {list(CHANNELS)}")
    platform = _PLATFORM[channel]
    cpm_r, ctr_r, cvr_r, aov_r = _LEVELS[channel]
    reference_spend = float(np.exp(rng.uniform(np.log(150.0), np.log(4000.0))))
    base_cpm = float(rng.uniform(*cpm_r))
    x = float(rng.uniform(0.3, 0.9))  # reference spend / saturation spend
    saturation_spend = reference_spend / x
    saturation_impressions = 1000.0 * reference_spend / base_cpm / -math.expm1(-x)
    cpm_elasticity = 1.0 - x * math.exp(-x) / -math.expm1(-x)
    base_ctr = float(rng.uniform(*ctr_r))
    base_cvr = float(rng.uniform(*cvr_r))
    aov = float(rng.uniform(*aov_r))
    rotation = int(rng.integers(14, 22))
    jitter = rng.integers(-2, 3, size=n_days // 14 + 2)
    refresh, at = [], rotation
    for k in range(len(jitter)):
        day = at + int(jitter[k])
        if day >= n_days:
            break
        refresh.append(start + timedelta(days=day))
        at += rotation
    # a discretised gamma over 0-7 days, mode near 1-2 days after the click
    shape, scale = float(rng.uniform(1.8, 3.0)), float(rng.uniform(0.8, 1.6))
    mid = np.arange(_LAG_DAYS) + 0.5
    weight = mid ** (shape - 1) * np.exp(-mid / scale)
    lag = weight / weight.sum()
    amp = (
        float(rng.uniform(0.03, 0.08)),
        float(rng.uniform(0.05, 0.12)),
        float(rng.uniform(0.08, 0.2)),
    )
    phase0 = float(rng.uniform(0, 7))
    weekly = tuple(
        float(np.exp(a * np.cos(2 * np.pi * (d - phase0) / 7))) for a in amp for d in range(7)
    )
    dows = [np.array(weekly[7 * i : 7 * i + 7]) for i in range(3)]
    days = pd.date_range(start, periods=n_days, freq="D")
    budget = sample_budget(days, reference_spend, rng)
    return WorldTruth(
        campaign_id=campaign_id,
        channel=channel,
        platform=platform,
        industry=str(rng.choice(_INDUSTRIES)),
        base_cpm=base_cpm,
        reference_spend=reference_spend,
        cpm_spend_elasticity=cpm_elasticity,
        base_ctr=base_ctr,
        base_cvr=base_cvr,
        revenue_per_conversion=aov,
        dow_cpm=_dow_from_start(dows[0] / dows[0].mean(), start),
        dow_ctr=_dow_from_start(dows[1] / dows[1].mean(), start),
        dow_cvr=_dow_from_start(dows[2] / dows[2].mean(), start),
        fatigue_rate_per_day=float(rng.uniform(0.002, 0.006)),
        refresh_dates=tuple(refresh),
        noise_sd=float(rng.uniform(0.05, 0.1)),
        noise_phi=float(rng.uniform(0.3, 0.7)),
        saturation_spend=saturation_spend,
        saturation_impressions=saturation_impressions,
        rotation_days=rotation,
        lag_probs=tuple(float(p) for p in lag),
        noise_df=float(rng.uniform(3.0, 5.0)),
        cvr_noise_sd=float(rng.uniform(0.08, 0.16)),
        cpm_noise_sd=float(rng.uniform(0.04, 0.08)),
        weekly_amplitude=amp,
        weekly_phase_days=phase0,
        weekly_phase_drift_days_per_month=float(rng.uniform(0.3, 0.8) * rng.choice([-1, 1])),
        yearly_amplitude=(
            float(rng.uniform(0.05, 0.15)),
            float(rng.uniform(0.0, 0.05)),
            float(rng.uniform(0.05, 0.15)),
        ),
        overdelivery_rate=0.06 if platform == "google" else 0.04,
        budget=tuple(float(b) for b in budget),
    )


def _dow_from_start(pattern: np.ndarray, start: date) -> tuple[float, ...]:
    """A pattern indexed by days since ``start`` as a Monday-first day-of-week tuple."""
    first = start.weekday()
    return tuple(float(pattern[(d - first) % 7]) for d in range(7))


def _noise(
    n: int, sd: float, phi: float, df: float, vol: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """AR(1) with Student-t innovations of unit variance times ``sd * vol``, and rare
    shock days (4x the scale): heavy-tailed and heteroscedastic."""
    t = rng.standard_t(df, n) * math.sqrt((df - 2) / df)
    shock = np.where(rng.random(n) < 0.02, 4.0, 1.0)
    e = np.clip(t * shock, -8, 8) * sd * vol * math.sqrt(1 - phi**2)
    out = np.empty(n)
    level = e[0] / math.sqrt(1 - phi**2)
    for i in range(n):
        level = phi * level + e[i] if i else level
        out[i] = level
    return out


def simulate_campaign(
    truth: WorldTruth,
    budget: np.ndarray,
    days: pd.DatetimeIndex,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """One campaign's contract rows under the family-B process (see the module docstring).

    Every column is present (``budget`` and ``creative_id`` too); :func:`generate` blanks
    them for the campaigns that lack them, and drops the missing days.
    """
    return _simulate(truth, budget, days, rng)[0]


def _simulate(
    truth: WorldTruth,
    budget: np.ndarray,
    days: pd.DatetimeIndex,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`simulate_campaign`'s frame and the expected recorded conversions per day: the
    realised spend, creatives (their drawn quality) and seasonality (its drawn swell), the
    noise at its median (zero on the log scales), the clicks' conversions spread over the
    lag distribution; no random numbers are drawn for it."""
    n = len(days)
    budget = np.asarray(budget, dtype=float)
    if budget.shape != (n,):
        raise ValueError(f"budget has {budget.shape} values for {n} days ({truth.campaign_id})")
    t = np.arange(n, dtype=float)
    events = truth.events

    def mask(kind: str) -> list[tuple[np.ndarray, InjectedEvent]]:
        return [(e.active(days), e) for e in events if e.kind == kind]

    # ---- spend: hugs the budget, overdelivery days, platform caps
    hug = 0.88 + 0.15 * rng.beta(6.0, 3.0, n)
    over = rng.random(n) < truth.overdelivery_rate
    daily_max = _DAILY_MAX[truth.platform]
    over_size = rng.uniform(1.15, daily_max, n)
    ratio = np.where(over, over_size, hug)
    pacing = np.zeros(n, dtype=bool)
    for active, e in mask("overpacing"):
        ratio = np.where(active, e.magnitude * hug, ratio)
        pacing |= active
    raw = budget * ratio
    spend = raw.copy()
    if truth.platform == "google":
        month = _month_index(days)
        for m in np.unique(month):
            sel = np.flatnonzero(month == m)
            cap = _MONTH_CAP_DAYS * float(budget[sel].mean())
            used = 0.0
            for i in sel:
                if not pacing[i]:
                    spend[i] = min(raw[i], max(cap - used, 0.0))
                used += spend[i]
    spend = np.round(spend, 2)

    # ---- seasonality: drifting weekly pattern and a yearly term, on log CPM, CTR, CVR
    phase = truth.weekly_phase_days + truth.weekly_phase_drift_days_per_month * t / 30.0
    swell_period = rng.uniform(60, 120)
    swell = 1 + 0.6 * np.sin(2 * np.pi * t / swell_period + rng.uniform(0, 2 * np.pi))
    weekly = np.cos(2 * np.pi * (t - phase) / 7)
    doy = np.asarray(days.day_of_year, dtype=float)
    yearly = np.cos(2 * np.pi * (doy - 335) / 365.25)
    season = [
        truth.weekly_amplitude[i] * swell * weekly + truth.yearly_amplitude[i] * yearly
        for i in range(3)
    ]

    vol = np.exp(0.5 * _noise(n, 0.6, 0.97, 30.0, np.ones(n), rng))
    n_cpm = _noise(n, truth.cpm_noise_sd, 0.8, truth.noise_df, vol, rng)
    n_ctr = _noise(n, truth.noise_sd, truth.noise_phi, truth.noise_df, vol, rng)
    n_cvr = _noise(n, truth.cvr_noise_sd, 0.3, truth.noise_df, vol, rng)

    # ---- impressions: saturating in spend, CPM events, gamma-Poisson counts
    cpm_factor = np.exp(season[0] + n_cpm)
    competitor = np.ones(n)
    for active, e in mask("competitor_entry"):
        competitor = np.where(active, competitor * (1 + e.magnitude), competitor)
    mu_imp = (
        truth.saturation_impressions
        * -np.expm1(-spend / truth.saturation_spend)
        / (cpm_factor * competitor)
    )
    dispersion = 80.0
    impressions = rng.poisson(mu_imp * rng.gamma(dispersion, 1 / dispersion, n))

    # ---- creatives: scheduled rotation, own quality, mild linear wear
    refresh = set(truth.refresh_dates)
    generation = np.cumsum([d.date() in refresh for d in days])
    quality = np.exp(rng.normal(0.0, 0.1, int(generation.max()) + 1))
    first_day = np.zeros(n, dtype=int)
    for i in range(1, n):
        first_day[i] = i if generation[i] != generation[i - 1] else first_day[i - 1]
    age = t - first_day
    ctr = (
        truth.base_ctr * quality[generation] * np.maximum(1 - truth.fatigue_rate_per_day * age, 0.6)
    )
    for active, e in mask("fatigue"):
        onset = np.argmax(active) if active.any() else n
        wear = np.exp(-e.magnitude * np.maximum(t - onset, 0.0))
        same = generation == generation[min(onset, n - 1)]
        ctr = np.where(active & same, ctr * np.maximum(wear, _FATIGUE_FLOOR), ctr)
    ctr_centre = np.clip(ctr * np.exp(season[1]), 1e-5, 0.3)
    ctr = np.clip(ctr * np.exp(season[1] + n_ctr), 1e-5, 0.3)
    clicks = rng.binomial(impressions, ctr)

    # ---- conversions: CVR, demand drops, lagged attribution, tracking dips
    cvr = truth.base_cvr * np.exp(season[2] + n_cvr)
    cvr_centre = truth.base_cvr * np.exp(season[2])
    for active, e in mask("demand_drop"):
        cvr = np.where(active, cvr * (1 - e.magnitude), cvr)
        cvr_centre = np.where(active, cvr_centre * (1 - e.magnitude), cvr_centre)
    made_centre = (
        truth.saturation_impressions
        * -np.expm1(-spend / truth.saturation_spend)
        / (np.exp(season[0]) * competitor)
        * ctr_centre
        * np.clip(cvr_centre, 0.0, 0.5)
    )
    expected = np.zeros(n)
    for lag, p in enumerate(truth.lag_probs):
        expected[lag:] += p * made_centre[: n - lag]
    for active, e in mask("tracking_dip"):
        expected = np.where(active, expected * (1 - e.magnitude), expected)
    made = rng.binomial(clicks, np.clip(cvr, 0.0, 0.5))
    lagged = rng.multinomial(made, np.asarray(truth.lag_probs))  # (n, 8)
    landed = np.zeros(n, dtype=np.int64)
    for lag in range(lagged.shape[1]):
        landed[lag:] += lagged[: n - lag, lag]
    for active, e in mask("tracking_dip"):
        landed = np.where(active, rng.binomial(landed, 1 - e.magnitude), landed)
    conversions = np.minimum(landed, clicks)
    sigma = 0.6
    values = rng.lognormal(
        math.log(truth.revenue_per_conversion) - sigma**2 / 2, sigma, int(conversions.sum())
    )
    big = rng.random(values.size) < 0.02
    values = np.where(big, values * rng.uniform(4, 10, values.size), values)
    owner = np.repeat(np.arange(n), conversions)
    revenue = np.round(np.bincount(owner, weights=values, minlength=n), 2)

    frame = pd.DataFrame(
        {
            "date": days,
            "campaign_id": truth.campaign_id,
            "channel": truth.channel,
            "creative_id": [f"{truth.campaign_id}-K{g:02d}" for g in generation],
            "spend": spend,
            "impressions": impressions,
            "clicks": clicks,
            "conversions": conversions,
            "revenue": revenue,
            "budget": budget,
        }
    )
    if truth.channel in ("search", "shopping"):
        share = 0.7 / competitor * np.exp(rng.normal(0, 0.04, n) - 0.3 * n_cpm)
        frame["impression_share"] = np.round(np.clip(share, 0.05, 0.98), 4)
    return frame, expected


def _missing_days(n: int, rng: np.random.Generator) -> np.ndarray:
    """Row indices of the days an export lacks: outages of 1-3 days, 1-5% of the days."""
    rate = rng.uniform(0.01, 0.05)
    out = np.zeros(n, dtype=bool)
    starts = np.flatnonzero(rng.random(n) < rate / 2)
    lengths = rng.integers(1, 4, size=starts.size)
    for s, k in zip(starts, lengths, strict=True):
        out[s : s + k] = True
    out[0] = out[-1] = False
    return np.flatnonzero(out)


def default_events(campaign_ids: Sequence[str], start: date, n_days: int) -> list[InjectedEvent]:
    """One event of each kind on the first five campaigns, at 70% of the data."""
    at = start + timedelta(days=round(n_days * 0.7))
    kinds: list[tuple[str, float, date | None]] = [
        ("fatigue", 0.04, None),
        ("competitor_entry", 0.4, None),
        ("tracking_dip", 0.6, at + timedelta(days=10)),
        ("demand_drop", 0.5, None),
        ("overpacing", 1.35, None),
    ]
    return [
        InjectedEvent(
            kind=cast("synthetic.EventKind", k), campaign_id=cid, start=at, magnitude=m, end=end
        )
        for cid, (k, m, end) in zip(campaign_ids, kinds, strict=False)
    ]


def generate(
    n_campaigns: int = 5,
    n_days: int = 120,
    *,
    rng: np.random.Generator,
    start: date | str | None = None,
    end: date | str | None = None,
    events: Literal["default"] | Sequence[InjectedEvent] | None = "default",
    channels: Sequence[str] | None = None,
    budgets: Mapping[str, np.ndarray] | None = None,
    without_creative: Sequence[str] | None = None,
    without_budget: Sequence[str] | None = None,
    drop_missing: bool = True,
) -> SyntheticData:
    """Generate ``n_campaigns`` family-B campaigns of ``n_days`` with ground truth.

    Same call and return shape as :func:`simkit.data.synthetic.generate`, so a bench can
    take either from :data:`FAMILIES`.

    Parameters
    ----------
    n_campaigns, n_days
        Size of the panel (calendar days, before missing days are removed).
    rng
        The only source of randomness.
    start, end
        First or last date (give at most one; default: first date 2025-03-03).
    events
        ``"default"`` (one of each kind on the first five campaigns, see
        :func:`default_events`), ``None``, or the events.
    channels
        One channel per campaign (from :data:`CHANNELS`); cycled through them when omitted.
    budgets
        Daily budget arrays by campaign id, overriding the sampled schedule (the random
        stream is the same either way).
    without_creative, without_budget
        Campaigns whose ``creative_id`` / ``budget`` cells are blank; by default each
        campaign lacks one with probability 0.2 / 0.15.
    drop_missing
        Leave the missing days out of ``data`` (the default).  With ``False`` they stay
        in, still listed in each truth's ``missing_dates``: a bench that scores a future
        window keeps that window's truth whole and drops the history's missing days itself.

    Examples
    --------
    >>> world = generate(3, 60, rng=np.random.default_rng(1), events=None)
    >>> sorted(world.data["campaign_id"].unique())
    ['B001', 'B002', 'B003']
    """
    if n_campaigns < 1 or n_days < 1:
        raise ValueError(f"n_campaigns and n_days must be positive, got {n_campaigns}, {n_days}")
    if start is not None and end is not None:
        raise ValueError("give start or end, not both")
    if end is not None:
        last = date.fromisoformat(end) if isinstance(end, str) else end
        first = last - timedelta(days=n_days - 1)
    else:
        given = start or date(2025, 3, 3)
        first = date.fromisoformat(given) if isinstance(given, str) else given
    ids = [f"B{i + 1:03d}" for i in range(n_campaigns)]
    if channels is not None and len(channels) != n_campaigns:
        raise ValueError(f"got {len(channels)} channels for {n_campaigns} campaigns")
    chosen = (
        list(channels) if channels else [CHANNELS[i % len(CHANNELS)] for i in range(n_campaigns)]
    )
    event_list = default_events(ids, first, n_days) if events == "default" else list(events or [])
    unknown = {e.campaign_id for e in event_list} - set(ids)
    if unknown:
        raise ValueError(f"events name unknown campaigns: {sorted(unknown)}")
    bad = {e.kind for e in event_list} - set(EVENT_KINDS)
    if bad:
        raise ValueError(f"unknown event kind(s) {sorted(bad)}; known: {list(EVENT_KINDS)}")
    days = pd.date_range(first, periods=n_days, freq="D")

    frames, truths, meta = [], {}, []
    for cid, channel in zip(ids, chosen, strict=True):
        truth = sample_truth(cid, rng, channel=channel, start=first, n_days=n_days)
        no_creative = rng.random() < _SHARE_WITHOUT_CREATIVE
        no_budget = rng.random() < _SHARE_WITHOUT_BUDGET
        if without_creative is not None:
            no_creative = cid in without_creative
        if without_budget is not None:
            no_budget = cid in without_budget
        own = tuple(e for e in event_list if e.campaign_id == cid)
        # a fatigue event is a creative left running: the schedule pauses around it
        refreshes = tuple(
            r
            for r in truth.refresh_dates
            if not any(
                e.kind == "fatigue"
                and e.start - timedelta(days=3) <= r <= e.start + timedelta(days=30)
                for e in own
            )
        )
        budget = (
            np.asarray(budgets[cid], dtype=float)
            if budgets and cid in budgets
            else np.asarray(truth.budget)
        )
        missing = _missing_days(n_days, rng)
        truth = replace(
            truth,
            events=own,
            refresh_dates=refreshes,
            budget=tuple(float(b) for b in budget),
            has_creative_id=not no_creative,
            has_budget=not no_budget,
            missing_dates=tuple(days[i].date() for i in missing),
        )
        frame, expected = _simulate(truth, budget, days, rng)
        truth = replace(truth, expected_conversions=tuple(float(x) for x in expected))
        if drop_missing:
            frame = frame.drop(index=missing).reset_index(drop=True)
        if no_creative:
            frame["creative_id"] = np.nan
        if no_budget:
            frame["budget"] = np.nan
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
                "budget_daily": None if no_budget else float(budget[-1]),
                "flight_start": first,
                "flight_end": first + timedelta(days=n_days + 59),
                "target_cpa": round(expected_cpa, 2),
                "target_roas": round(truth.revenue_per_conversion / expected_cpa, 2),
            }
        )
    data = pd.concat(frames, ignore_index=True)
    data["creative_id"] = data["creative_id"].astype(object)
    return SyntheticData(
        data=data,
        campaigns=pd.DataFrame(meta),
        truth=truths,
        events=tuple(event_list),
    )


#: The world families by name: each a generator with :func:`generate`'s call.
FAMILIES: dict[str, Callable[..., SyntheticData]] = {"a": synthetic.generate, "b": generate}


def family(name: str) -> Callable[..., SyntheticData]:
    """The generator of world family ``name`` (``"a"`` or ``"b"``)."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown world family {name!r}; known: {sorted(FAMILIES)}") from None
