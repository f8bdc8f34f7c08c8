"""Competitor analysis from auction insights: trends, new entrants, threat, market share,
and which competitor's presence goes with our costs.

Definitions (all rates are fractions; "our auctions" = the auctions our ads took part in):

``head_to_head``
    ``overlap_rate x position_above_rate``: the share of our impressions' auctions in which
    the competitor also showed *and* ranked above us.
``momentum``
    how fast the competitor's impression share grew over the analysed periods:
    ``clip((IS_last - IS_first) / max(IS_first, 0.10), 0, 1)``; the 0.10 floor keeps a
    move from 1% to 3% from counting as tripling.  A new entrant (absent in the first
    period) has momentum 1.
``threat score`` (0-100)
    ``100 x min(1, head_to_head x (1 + momentum))``, on the latest period a competitor was
    seen in.  A competitor that shows above us in 30% of our auctions scores 30; if its
    impression share is also growing fast, up to 60.  A competitor that never shows above
    us scores 0, however large it is elsewhere.
``market share``
    ``IS_i / sum_j IS_j`` over the domains listed for a period (``You`` included): the share
    of the listed advertisers' impressions in the auctions we entered.  Advertisers below
    Google's listing threshold are not in the export, so this overstates everyone's share
    of the whole auction a little; ``coverage`` (the sum of impression shares) is reported
    with it.

The regression (:func:`regress_on_competitor_pressure`) joins the auction insights with our
contract data by period, and for each competitor fits ``log(our CPM or CPC) = a + b x
pressure`` by OLS (statsmodels), where pressure is the competitor's impression share in
that period (0 when it is not listed).  ``b`` is the change in log cost per unit of
impression share: ``exp(0.1 b) - 1`` is the cost change for +10 points.  P-values are also
Holm-adjusted over the competitors tested.  With a handful of periods this is evidence of
association, not proof of cause.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from simkit._suggest import did_you_mean
from simkit.errors import DataError, ParamsError
from simkit.market.auction import AuctionInsights

__all__ = [
    "MOMENTUM_FLOOR",
    "PRESSURE_MEASURES",
    "CompetitorAnalysis",
    "CompetitorPressure",
    "CompetitorSummary",
    "PressureFit",
    "PressureRegression",
    "analyze_competitors",
    "attribute_cpm_pressure",
    "competitor_trends",
    "market_share",
    "regress_on_competitor_pressure",
    "threat_score",
]

MOMENTUM_FLOOR = 0.10
_MIN_PERIODS = 4


def threat_score(overlap_rate: float, position_above_rate: float, momentum: float = 0.0) -> float:
    """``100 x min(1, overlap x position_above x (1 + momentum))``; NaN inputs count as 0.

    Examples
    --------
    >>> threat_score(0.6, 0.5)
    30.0
    >>> threat_score(0.6, 0.5, momentum=1.0)
    60.0
    """
    o = 0.0 if not np.isfinite(overlap_rate) else overlap_rate
    p = 0.0 if not np.isfinite(position_above_rate) else position_above_rate
    m = float(np.clip(momentum if np.isfinite(momentum) else 0.0, 0.0, 1.0))
    return 100.0 * min(1.0, o * p * (1.0 + m))


def _momentum(first: float, last: float, new_entrant: bool) -> float:
    if new_entrant:
        return 1.0
    if not (np.isfinite(first) and np.isfinite(last)):
        return 0.0
    return float(np.clip((last - first) / max(first, MOMENTUM_FLOOR), 0.0, 1.0))


def competitor_trends(auction: AuctionInsights) -> pd.DataFrame:
    """One row per period x domain (``You`` included), with ``head_to_head``, in time order.

    Columns: ``period_start, period_end, domain, is_you``, the six rates, ``head_to_head``.
    """
    frame = auction.frame
    keep = [
        "period_start",
        "period_end",
        "domain",
        "is_you",
        "impression_share",
        "overlap_rate",
        "position_above_rate",
        "top_of_page_rate",
        "abs_top_of_page_rate",
        "outranking_share",
    ]
    trends = frame[keep].copy()
    trends["head_to_head"] = trends["overlap_rate"] * trends["position_above_rate"]
    return trends.sort_values(
        ["period_start", "is_you", "domain"], ascending=[True, False, True]
    ).reset_index(drop=True)


def market_share(auction: AuctionInsights) -> pd.DataFrame:
    """Estimated market share per period from impression share (see the module docstring).

    Columns: ``period_start, period_end, domain, is_you, impression_share, market_share,
    coverage`` (the period's sum of listed impression shares).
    """
    frame = auction.frame[
        ["period_start", "period_end", "domain", "is_you", "impression_share"]
    ].copy()
    key = frame["period_start"].fillna(pd.Timestamp(0))
    total = frame.groupby(key)["impression_share"].transform("sum")
    frame["market_share"] = frame["impression_share"] / total.where(total > 0)
    frame["coverage"] = total
    return frame.sort_values(
        ["period_start", "market_share"], ascending=[True, False], na_position="last"
    ).reset_index(drop=True)


@dataclass(frozen=True)
class CompetitorSummary:
    """One competitor over the analysed periods; rates are from its latest period."""

    domain: str
    first_seen: pd.Timestamp | None
    last_seen: pd.Timestamp | None
    n_periods: int
    impression_share: float
    impression_share_first: float
    impression_share_change: float
    impression_share_slope_per_week: float
    overlap_rate: float
    position_above_rate: float
    outranking_share: float
    head_to_head: float
    market_share: float
    momentum: float
    threat_score: float
    new_entrant: bool
    exited: bool

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in self.__dict__.items():
            if isinstance(value, pd.Timestamp):
                out[name] = value.date().isoformat()
            elif isinstance(value, float):
                out[name] = value if np.isfinite(value) else None
            else:
                out[name] = value
        return out


@dataclass(frozen=True)
class CompetitorAnalysis:
    """Trends, new entrants, threat scores and market shares from auction insights.

    ``competitors`` is sorted by threat score, highest first.  ``trends`` and
    ``market_shares`` are the per-period tables of :func:`competitor_trends` and
    :func:`market_share`; ``our_impression_share`` is the ``You`` row per period.
    """

    competitors: tuple[CompetitorSummary, ...]
    new_entrants: tuple[str, ...]
    exits: tuple[str, ...]
    periods: tuple[tuple[pd.Timestamp, pd.Timestamp], ...]
    trends: pd.DataFrame
    market_shares: pd.DataFrame
    our_impression_share: pd.Series
    explanation: str
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        def day(t: Any) -> str | None:
            return None if pd.isna(t) else pd.Timestamp(t).date().isoformat()

        def table(frame: pd.DataFrame) -> list[dict[str, Any]]:
            out = frame.copy()
            for column in ("period_start", "period_end"):
                out[column] = out[column].map(day)
            return out.astype(object).where(out.notna(), None).to_dict(orient="records")

        return {
            "periods": [{"start": day(a), "end": day(b)} for a, b in self.periods],
            "competitors": [c.to_dict() for c in self.competitors],
            "new_entrants": list(self.new_entrants),
            "exits": list(self.exits),
            "our_impression_share": [
                {"period_start": day(k), "impression_share": None if pd.isna(v) else float(v)}
                for k, v in self.our_impression_share.items()
            ],
            "market_share": table(self.market_shares),
            "trends": table(self.trends),
            "threat_score_formula": "100 * min(1, overlap_rate * position_above_rate * "
            "(1 + momentum)), momentum = clip((IS_last - IS_first) / max(IS_first, 0.10), "
            "0, 1), 1 for new entrants",
            "explanation": self.explanation,
            "notes": list(self.notes),
        }


def _slope_per_week(starts: pd.Series, values: pd.Series) -> float:
    ok = values.notna()
    if ok.sum() < 2:
        return float("nan")
    weeks = (starts[ok] - starts[ok].min()).dt.days.to_numpy(dtype=float) / 7.0
    if np.ptp(weeks) == 0:
        return float("nan")
    return float(np.polyfit(weeks, values[ok].to_numpy(dtype=float), 1)[0])


def analyze_competitors(auction: AuctionInsights) -> CompetitorAnalysis:
    """Summarise every competitor in the auction insights (see the module docstring).

    A competitor is a **new entrant** when it is not listed in the first period but is in a
    later one; it has **exited** when it is listed earlier but not in the last period.

    Examples
    --------
    >>> analysis = analyze_competitors(read_auction_insights("auction.csv"))  # doctest: +SKIP
    >>> analysis.competitors[0].domain, analysis.competitors[0].threat_score  # doctest: +SKIP
    """
    trends = competitor_trends(auction)
    shares = market_share(auction)
    periods = tuple(auction.periods)
    starts = [p[0] for p in periods]
    first_period, last_period = (starts[0], starts[-1]) if starts else (None, None)
    timed = len(periods) > 1 and not any(pd.isna(s) for s in starts)
    share_of = shares.set_index(["period_start", "domain"])["market_share"]
    summaries: list[CompetitorSummary] = []
    for domain, rows in trends[~trends["is_you"]].groupby("domain", sort=True):
        rows = rows.sort_values("period_start")
        listed = rows[rows["impression_share"].notna()]
        latest = rows.iloc[-1]
        seen_first = rows["period_start"].iloc[0]
        new_entrant = bool(timed and seen_first != first_period)
        exited = bool(timed and rows["period_start"].iloc[-1] != last_period)
        is_first = float(listed["impression_share"].iloc[0]) if len(listed) else float("nan")
        is_last = float(listed["impression_share"].iloc[-1]) if len(listed) else float("nan")
        momentum = _momentum(is_first, is_last, new_entrant) if timed else 0.0
        head = latest["overlap_rate"] * latest["position_above_rate"]
        summaries.append(
            CompetitorSummary(
                domain=str(domain),
                first_seen=None if pd.isna(seen_first) else seen_first,
                last_seen=None if pd.isna(latest["period_start"]) else latest["period_start"],
                n_periods=len(rows),
                impression_share=float(latest["impression_share"]),
                impression_share_first=is_first,
                impression_share_change=is_last - is_first,
                impression_share_slope_per_week=_slope_per_week(
                    rows["period_start"], rows["impression_share"]
                )
                if timed
                else float("nan"),
                overlap_rate=float(latest["overlap_rate"]),
                position_above_rate=float(latest["position_above_rate"]),
                outranking_share=float(latest["outranking_share"]),
                head_to_head=float(head),
                market_share=float(share_of.get((latest["period_start"], domain), np.nan))
                if not pd.isna(latest["period_start"])
                else float(shares.loc[shares["domain"] == domain, "market_share"].iloc[-1]),
                momentum=momentum,
                threat_score=threat_score(
                    float(latest["overlap_rate"]), float(latest["position_above_rate"]), momentum
                ),
                new_entrant=new_entrant,
                exited=exited,
            )
        )
    summaries.sort(key=lambda s: (-s.threat_score, s.domain))
    you = trends[trends["is_you"]].set_index("period_start")["impression_share"]
    entrants = tuple(s.domain for s in summaries if s.new_entrant)
    exits = tuple(s.domain for s in summaries if s.exited)
    return CompetitorAnalysis(
        competitors=tuple(summaries),
        new_entrants=entrants,
        exits=exits,
        periods=periods,
        trends=trends,
        market_shares=shares,
        our_impression_share=you,
        explanation=_explain(summaries, entrants, exits, you, periods),
        notes=auction.notes,
    )


def _pct(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{100 * value:.0f}%"


def _explain(
    summaries: list[CompetitorSummary],
    entrants: tuple[str, ...],
    exits: tuple[str, ...],
    you: pd.Series,
    periods: tuple[tuple[pd.Timestamp, pd.Timestamp], ...],
) -> str:
    if not summaries:
        return "The auction insights list no competitors."
    n = len(periods)
    span = (
        "one period"
        if n == 1
        else f"{n} periods from {periods[0][0].date()} to {periods[-1][1].date()}"
    )
    parts = [f"The auction insights list {len(summaries)} competitor(s) over {span}."]
    if len(you.dropna()):
        ours = you.dropna()
        trend = (
            "" if len(ours) < 2 else (f" (from {_pct(float(ours.iloc[0]))} in the first period)")
        )
        parts.append(f"Our impression share is {_pct(float(ours.iloc[-1]))}{trend}.")
    top = summaries[0]
    parts.append(
        f"The biggest threat is {top.domain} (threat score {top.threat_score:.0f} of 100): it "
        f"showed in {_pct(top.overlap_rate)} of our auctions and above us in "
        f"{_pct(top.position_above_rate)} of those, with {_pct(top.impression_share)} "
        f"impression share and an estimated {_pct(top.market_share)} share of the listed "
        "advertisers' impressions."
    )
    growing = [
        s
        for s in summaries
        if np.isfinite(s.impression_share_change)
        and s.impression_share_change > 0.05
        and not s.new_entrant
    ]
    if growing:
        parts.append(
            "Growing: "
            + ", ".join(
                f"{s.domain} ({_pct(s.impression_share_first)} to {_pct(s.impression_share)})"
                for s in growing
            )
            + "."
        )
    if entrants:
        entries = {s.domain: s for s in summaries}
        parts.append(
            "New in our auctions: "
            + ", ".join(
                f"{d} (from {entries[d].first_seen.date() if entries[d].first_seen else '?'}, "
                f"now {_pct(entries[d].impression_share)} impression share)"
                for d in entrants
            )
            + "."
        )
    if exits:
        parts.append("No longer listed: " + ", ".join(exits) + ".")
    return " ".join(parts)


# --- regression of our costs on competitor pressure -------------------------------------


def _pressure_impression_share(rows: pd.DataFrame) -> pd.Series:
    return rows["impression_share"]


def _pressure_head_to_head(rows: pd.DataFrame) -> pd.Series:
    return rows["overlap_rate"] * rows["position_above_rate"]


def _pressure_overlap(rows: pd.DataFrame) -> pd.Series:
    return rows["overlap_rate"]


#: How a competitor's pressure in a period is measured (name -> function of its rows).
PRESSURE_MEASURES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "impression_share": _pressure_impression_share,
    "head_to_head": _pressure_head_to_head,
    "overlap_rate": _pressure_overlap,
}

#: Our cost metrics: name -> (numerator, denominator, multiplier).
_COSTS: dict[str, tuple[str, str, float]] = {
    "cpm": ("spend", "impressions", 1000.0),
    "cpc": ("spend", "clicks", 1.0),
}


class CompetitorPressure(NamedTuple):
    """``(competitor, coefficient, p_value)``: the slope of log cost on the competitor's
    pressure, and its (unadjusted) p-value."""

    competitor: str
    coefficient: float
    p_value: float


@dataclass(frozen=True)
class PressureFit:
    """One competitor's regression: ``log(cost) = intercept + coefficient x pressure``."""

    competitor: str
    coefficient: float
    std_error: float
    p_value: float
    p_value_holm: float
    r_squared: float
    n_periods: int
    effect_pct_per_10pp: float

    def to_dict(self) -> dict[str, Any]:
        return {
            k: (v if not isinstance(v, float) or np.isfinite(v) else None)
            for k, v in self.__dict__.items()
        }


@dataclass(frozen=True)
class PressureRegression:
    """Per-competitor regressions of our CPM or CPC on competitor pressure.

    ``fits`` are sorted by p-value (strongest evidence first).  :meth:`named_competitor`
    is the competitor a ``competitor_pressure`` alert should name.
    """

    metric: str
    pressure: str
    campaign_id: str | None
    n_periods: int
    fits: tuple[PressureFit, ...]
    skipped: tuple[tuple[str, str], ...]
    periods: pd.DataFrame
    alpha: float = 0.05
    control_trend: bool = False

    def named_competitor(self, alpha: float | None = None) -> PressureFit | None:
        """The competitor with the strongest significant *positive* association (Holm-
        adjusted p below ``alpha``), or None."""
        level = self.alpha if alpha is None else alpha
        hits = [f for f in self.fits if f.coefficient > 0 and f.p_value_holm < level]
        return min(hits, key=lambda f: (f.p_value_holm, -f.coefficient)) if hits else None

    @property
    def explanation(self) -> str:
        cost = self.metric.upper()
        scope = f"campaign {self.campaign_id}" if self.campaign_id else "all campaigns"
        if not self.fits:
            return (
                f"Too little overlap between the auction insights and our data ({scope}) "
                f"to relate our {cost} to competitors: {self.n_periods} period(s), at "
                f"least {_MIN_PERIODS} needed."
            )
        named = self.named_competitor()
        head = (
            f"Over {self.n_periods} periods, our {cost} ({scope}) was compared with each "
            f"competitor's {self.pressure.replace('_', ' ')}."
        )
        if named is None:
            best = self.fits[0]
            return (
                f"{head} No competitor's presence is clearly associated with a higher "
                f"{cost} (smallest adjusted p-value {best.p_value_holm:.2f}, "
                f"{best.competitor})."
            )
        return (
            f"{head} {named.competitor} stands out: each 10 points of its "
            f"{self.pressure.replace('_', ' ')} went with a "
            f"{named.effect_pct_per_10pp:+.1f}% change in our {cost} (adjusted p-value "
            f"{named.p_value_holm:.3g}, R² {named.r_squared:.2f}). This is an association "
            "over a few periods, not proof of cause."
        )

    def to_dict(self) -> dict[str, Any]:
        named = self.named_competitor()
        periods = self.periods.copy()
        for column in ("period_start", "period_end"):
            periods[column] = periods[column].map(lambda t: t.date().isoformat())
        return {
            "metric": self.metric,
            "pressure": self.pressure,
            "campaign_id": self.campaign_id,
            "n_periods": self.n_periods,
            "alpha": self.alpha,
            "control_trend": self.control_trend,
            "named_competitor": named.competitor if named else None,
            "fits": [f.to_dict() for f in self.fits],
            "skipped": [{"competitor": c, "reason": r} for c, r in self.skipped],
            "periods": periods.astype(object)
            .where(periods.notna(), None)
            .to_dict(orient="records"),
            "explanation": self.explanation,
        }


def _period_costs(
    auction: AuctionInsights, data: Any, campaign_id: str | None, metric: str
) -> pd.DataFrame:
    frame = data.data if hasattr(data, "data") else data
    if not isinstance(frame, pd.DataFrame):
        raise DataError("data must be a contract DataFrame or LoadedData")
    if campaign_id is not None:
        ids = frame["campaign_id"].astype(str)
        if campaign_id not in set(ids):
            raise ParamsError(
                f"no data for campaign '{campaign_id}'{did_you_mean(campaign_id, set(ids))}",
                field="campaign_id",
            )
        frame = frame[ids == campaign_id]
    num, den, scale = _COSTS[metric]
    rows = []
    for start, end in auction.periods:
        if pd.isna(start):
            continue
        inside = frame[(frame["date"] >= start) & (frame["date"] <= end)]
        total_num, total_den = float(inside[num].sum()), float(inside[den].sum())
        span_days = (end - start).days + 1
        # a period our data covers for less than half its days is not comparable
        if inside["date"].nunique() * 2 >= span_days and total_den > 0 and total_num > 0:
            rows.append(
                {
                    "period_start": start,
                    "period_end": end,
                    "days": inside["date"].nunique(),
                    metric: scale * total_num / total_den,
                }
            )
    return pd.DataFrame(rows, columns=["period_start", "period_end", "days", metric])


def regress_on_competitor_pressure(
    auction: AuctionInsights,
    data: Any,
    campaign_id: str | None = None,
    *,
    metric: Literal["cpm", "cpc"] = "cpm",
    pressure: str = "impression_share",
    alpha: float = 0.05,
    control_trend: bool = False,
) -> PressureRegression:
    """Regress our log CPM (or CPC) on each competitor's pressure, period by period.

    Parameters
    ----------
    auction
        Auction insights with periods (a time column, or one file per date range).
    data
        Our contract data (:class:`simkit.data.LoadedData` or DataFrame); summed over each
        auction period.
    campaign_id
        The campaign the auction insights belong to; ``None`` sums all campaigns (an
        account-level export).
    metric
        ``"cpm"`` (cost per thousand impressions) or ``"cpc"``.
    pressure
        A name in :data:`PRESSURE_MEASURES`; a competitor not listed in a period has 0.
    alpha
        Level for :meth:`PressureRegression.named_competitor` (Holm-adjusted).
    control_trend
        Add a linear time trend to each regression, so that a competitor whose share merely
        drifts while our costs drift for other reasons is not credited with the change.

    Periods our data covers for fewer than half their days are left out.  Competitors
    listed in fewer than two periods, or whose pressure never varies, are skipped with the
    reason.  Fewer than 4 joined periods gives no fits.
    """
    if metric not in _COSTS:
        raise ParamsError(f"metric must be one of {', '.join(_COSTS)}", field="metric")
    if pressure not in PRESSURE_MEASURES:
        raise ParamsError(
            f"unknown pressure measure '{pressure}'{did_you_mean(pressure, PRESSURE_MEASURES)}",
            field="pressure",
        )
    costs = _period_costs(auction, data, campaign_id, metric)
    rivals = auction.frame[~auction.frame["is_you"] & auction.frame["period_start"].notna()]
    measured = rivals.assign(_pressure=PRESSURE_MEASURES[pressure](rivals))
    wide = measured.pivot_table(
        index="period_start", columns="domain", values="_pressure", aggfunc="mean"
    )
    wide = wide.reindex(costs["period_start"]).fillna(0.0)
    n = len(costs)
    fits: list[tuple[str, float, float, float, float]] = []
    skipped: list[tuple[str, str]] = []
    if n >= _MIN_PERIODS:
        # the OLS module alone: statsmodels.api imports every model and costs seconds
        from statsmodels.regression.linear_model import OLS

        y = np.log(costs[metric].to_numpy(dtype=float))
        weeks = (costs["period_start"] - costs["period_start"].min()).dt.days.to_numpy(
            dtype=float
        ) / 7.0
        for domain in sorted(wide.columns):
            x = wide[domain].to_numpy(dtype=float)
            if int((x > 0).sum()) < 2:
                skipped.append((str(domain), "listed in fewer than two of the joined periods"))
                continue
            if np.ptp(x) <= 1e-12:
                skipped.append((str(domain), "its pressure does not vary"))
                continue
            design = np.column_stack([x, weeks]) if control_trend else x
            result = OLS(y, np.column_stack([np.ones_like(y), design])).fit()
            fits.append(
                (
                    str(domain),
                    float(result.params[1]),
                    float(result.bse[1]),
                    float(result.pvalues[1]),
                    float(result.rsquared),
                )
            )
    else:
        skipped.extend((str(d), f"only {n} joined period(s)") for d in sorted(wide.columns))
    holm = _holm([f[3] for f in fits])
    out = tuple(
        sorted(
            (
                PressureFit(domain, b, se, p, ph, r2, n, float(100.0 * np.expm1(0.1 * b)))
                for (domain, b, se, p, r2), ph in zip(fits, holm, strict=True)
            ),
            key=lambda f: (f.p_value, f.competitor),
        )
    )
    joined = costs.merge(wide.reset_index(), on="period_start", how="left") if n else costs
    return PressureRegression(
        metric=metric,
        pressure=pressure,
        campaign_id=campaign_id,
        n_periods=n,
        fits=out,
        skipped=tuple(skipped),
        periods=joined,
        alpha=alpha,
        control_trend=control_trend,
    )


def _holm(p_values: list[float]) -> list[float]:
    if not p_values:
        return []
    from statsmodels.stats.multitest import multipletests

    return [float(p) for p in multipletests(p_values, method="holm")[1]]


def attribute_cpm_pressure(
    auction: AuctionInsights,
    data: Any,
    campaign_id: str | None = None,
    *,
    metric: Literal["cpm", "cpc"] = "cpm",
    pressure: str = "impression_share",
    control_trend: bool = False,
) -> list[CompetitorPressure]:
    """``[(competitor, coefficient, p_value), ...]``, strongest evidence first.

    The slope of our log CPM (or CPC) on each competitor's pressure, from
    :func:`regress_on_competitor_pressure` (which also gives Holm-adjusted p-values and an
    explanation).  A ``competitor_pressure`` alert names the first competitor with a
    positive coefficient and a small p-value.

    Examples
    --------
    >>> attribute_cpm_pressure(auction, loaded, "C001")[0]  # doctest: +SKIP
    CompetitorPressure(competitor='newrival.com', coefficient=0.94, p_value=1.2e-05)
    """
    fit = regress_on_competitor_pressure(
        auction, data, campaign_id, metric=metric, pressure=pressure, control_trend=control_trend
    )
    return [CompetitorPressure(f.competitor, f.coefficient, f.p_value) for f in fit.fits]
