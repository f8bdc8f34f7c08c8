"""Budget plans, platform pacing rules and delivery: how much each path actually spends.

Spend is a decision, so the simulation takes a *budget plan* (a daily budget, a total budget
over the flight, or a plan file of ``date, campaign_id, spend``) and turns it into delivered
spend per path and day:

1. the day's budget ``B_t`` times the campaign's delivery ratio (its historical median of
   ``spend / budget`` when the data carry a ``budget`` column, else 1), with log-normal
   day-to-day delivery noise (historical log-sd of that ratio, or ``default_log_sd``);
2. capped by the platform's pacing rule (:data:`PACING_RULES`, chosen from the channel):
   the most a platform will spend in one day, and a cap per calendar period, *where the
   history shows the platform enforcing them* (:func:`fit_delivery`);
3. capped by the total budget when one is given: once the cumulative spend reaches it, the
   campaign stops (the budget is *exhausted*).

A campaign therefore never spends more than its budget allows, and the chance that it runs
out before the flight ends is a by-product of the paths.

Delivery believes the data.  A ``budget`` column is a statement about
the campaign; the spend is what happened.  When spend has run above the stated budget by
more than a platform's rule allows (a day above ``daily_max_factor`` x budget, a calendar
month above its period cap), the platform is evidently not enforcing that rule against this
budget (the column is stale, or the budget lives elsewhere), so the cap is not applied:
applying it would stop delivery for days at the end of every month, which nothing in the
data suggests.  The contradiction is written in :attr:`DeliveryModel.note`.  The default
plan (:func:`recent_spend_level`) is the campaign's recent delivery.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from simkit._suggest import did_you_mean
from simkit.errors import DataError, ParamsError

__all__ = [
    "CHANNEL_PLATFORM",
    "PACING_RULES",
    "PLAN_LOOKBACK_DAYS",
    "BudgetPlan",
    "DeliveryModel",
    "PacingRule",
    "Delivery",
    "deliver",
    "fit_delivery",
    "pacing_rule_for",
    "read_plan_file",
    "recent_spend_level",
]

#: Days of recent spend whose level is the default plan (the campaign's recent delivery).
PLAN_LOOKBACK_DAYS = 14
#: Days of history searched for evidence that the platform enforces its caps.
EVIDENCE_DAYS = 91
#: Slack when comparing spend with a cap (rounding, late conversions of the spend report).
CAP_TOLERANCE = 0.05
#: Months with at least this many days of data are checked against the period cap.
_MIN_PERIOD_DAYS = 14


def recent_spend_level(
    spend: pd.Series | np.ndarray,
    budget: pd.Series | np.ndarray | None = None,
    days: int = PLAN_LOOKBACK_DAYS,
) -> float:
    """The campaign's recent delivery: the daily spend level the default plan holds flat.

    Without a usable ``budget`` (one value per day, like ``spend``, oldest first), the mean
    spend of the last ``days`` data days.  With one (at least 7 of those days with a
    positive budget, and a positive budget on the last day), the budget in force times the
    mean ``spend / budget`` of those days: the same number while the budget is constant,
    and it follows a budget change inside the window instead of averaging over it.  Either
    way it continues what the campaign has actually been spending relative to its budget,
    whatever the budget column claims the budget to be (and it does not depend on how the
    budget was aggregated over breakdown rows, as long as that is the same every day).

    This is the default plan everywhere: the report, the dashboard and ``simkit simulate``.
    """
    values = np.asarray(spend, dtype=float)[-days:]
    if budget is not None:
        stated = pd.to_numeric(pd.Series(np.asarray(budget)[-days:]), errors="coerce")
        stated = stated.to_numpy(dtype=float)
        ok = np.isfinite(stated) & (stated > 0) & np.isfinite(values)
        if ok.sum() >= 7 and ok[-1]:
            return float(stated[-1] * np.mean(values[ok] / stated[ok]))
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else 0.0


@dataclass(frozen=True)
class PacingRule:
    """What a platform may spend against a daily budget.

    Attributes
    ----------
    name
        Registry name.
    daily_max_factor
        Most the platform spends in one day, as a multiple of that day's budget.
    period
        Calendar period of the period cap (a pandas period alias such as ``"M"``), or
        ``None`` for no period cap.
    period_cap_days
        Cap per *full* period, in days of average daily budget (pro-rated for periods the
        horizon covers only in part).
    source
        Where the rule comes from.
    """

    name: str
    daily_max_factor: float
    period: str | None = None
    period_cap_days: float | None = None
    source: str = ""


#: Platform pacing rules by name.  Add a platform by adding an entry.
PACING_RULES: dict[str, PacingRule] = {
    "google": PacingRule(
        "google",
        daily_max_factor=2.0,
        period="M",
        period_cap_days=30.4,
        source="Google Ads help 'About average daily budgets': up to 2x the daily budget "
        "on a day, at most 30.4x the average daily budget per month",
    ),
    "meta": PacingRule(
        "meta",
        daily_max_factor=1.25,
        source="Meta daily budgets: daily spend may run up to 25% above the daily budget",
    ),
    "none": PacingRule("none", daily_max_factor=1.0, source="spend never exceeds the budget"),
}

#: Which pacing rule applies to a channel or platform name (lower case).
CHANNEL_PLATFORM: dict[str, str] = {
    "google": "google",
    "google ads": "google",
    "search": "google",
    "display": "google",
    "youtube": "google",
    "video": "google",
    "shopping": "google",
    "meta": "meta",
    "facebook": "meta",
    "instagram": "meta",
    "social": "meta",
}


def pacing_rule_for(channel: str | None) -> PacingRule:
    """The pacing rule of a channel/platform name; ``none`` (never above budget) if unknown."""
    key = CHANNEL_PLATFORM.get(str(channel).strip().lower(), "none") if channel else "none"
    return PACING_RULES[key]


@dataclass(frozen=True)
class BudgetPlan:
    """Daily budgets over the horizon, and optionally a total budget for the flight.

    Attributes
    ----------
    daily
        ``(H,)`` budget for each horizon day.
    total
        Total budget over the horizon (cumulative spend stops there), or ``None``.
    kind
        ``"daily"``, ``"total"`` or ``"plan_file"``: how the plan was given.
    """

    daily: np.ndarray
    total: float | None = None
    kind: str = "daily"

    def __post_init__(self) -> None:
        daily = np.asarray(self.daily, dtype=float)
        if daily.ndim != 1 or not np.all(np.isfinite(daily)) or np.any(daily < 0):
            raise ParamsError("daily budgets must be finite and non-negative", field="budget")
        if self.total is not None and not (np.isfinite(self.total) and self.total >= 0):
            raise ParamsError("the total budget must be finite and non-negative", field="total")
        object.__setattr__(self, "daily", daily)

    @classmethod
    def from_daily(cls, budget_daily: float, horizon_days: int) -> BudgetPlan:
        """The same daily budget every day."""
        if not np.isfinite(budget_daily) or budget_daily < 0:
            raise ParamsError(f"daily budget {budget_daily} must be >= 0", field="daily_budget")
        return cls(np.full(horizon_days, float(budget_daily)), None, "daily")

    @classmethod
    def from_total(cls, budget_total: float, horizon_days: int) -> BudgetPlan:
        """A total budget for the flight, paced evenly (as platforms pace lifetime budgets)."""
        if not np.isfinite(budget_total) or budget_total < 0:
            raise ParamsError(f"total budget {budget_total} must be >= 0", field="total_budget")
        return cls(np.full(horizon_days, budget_total / horizon_days), float(budget_total), "total")

    def scaled(self, factor: float) -> BudgetPlan:
        """The plan with every budget multiplied by ``factor`` (a what-if helper)."""
        total = None if self.total is None else self.total * factor
        return BudgetPlan(self.daily * factor, total, self.kind)


def read_plan_file(path: str | Path, campaign_id: str, dates: pd.DatetimeIndex) -> BudgetPlan:
    """Read a plan file (CSV with ``date, campaign_id, spend``) for one campaign.

    Every horizon date must have exactly one row for the campaign; rows for other campaigns
    and dates outside the horizon are ignored.  Errors name the file, row and column.
    """
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise DataError("plan file not found", file=name)
    try:
        # header=None: pandas would rename a second 'spend' to 'spend.1' and read the first
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, header=None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(
            f"cannot read the plan as CSV: {' '.join(str(exc).split())}", file=name
        ) from None
    frame = frame.iloc[1:].set_axis([str(c).strip().lower() for c in frame.iloc[0]], axis=1)
    twice = frame.columns[frame.columns.duplicated()]
    if len(twice):
        raise DataError(f"column '{twice[0]}' appears twice", file=name, column=str(twice[0]))
    for column in ("date", "campaign_id", "spend"):
        if column not in frame.columns:
            hint = did_you_mean(column, frame.columns)
            raise DataError(
                f"missing column '{column}'{hint}; a plan needs date, campaign_id, spend",
                file=name,
                column=column,
            )
    frame["_row"] = np.arange(1, len(frame) + 1)
    mine = frame[frame["campaign_id"].str.strip() == str(campaign_id)]
    if mine.empty:
        known = sorted(set(frame["campaign_id"].str.strip()))
        raise DataError(
            f"no rows for campaign '{campaign_id}'{did_you_mean(str(campaign_id), known)}",
            file=name,
            column="campaign_id",
        )
    parsed_dates = pd.to_datetime(mine["date"].str.strip(), errors="coerce", format="mixed")
    for row, raw, value in zip(mine["_row"], mine["date"], parsed_dates, strict=True):
        if pd.isna(value):
            raise DataError(f"'{raw}' is not a date", file=name, row=int(row), column="date")
    spend = pd.to_numeric(mine["spend"].str.strip(), errors="coerce")
    for row, raw, value in zip(mine["_row"], mine["spend"], spend, strict=True):
        if pd.isna(value) or not np.isfinite(value):
            raise DataError(f"'{raw}' is not a number", file=name, row=int(row), column="spend")
        if value < 0:
            raise DataError(f"spend {value} is negative", file=name, row=int(row), column="spend")
    table = pd.DataFrame(
        {
            "date": parsed_dates.dt.normalize().to_numpy(),
            "spend": spend.to_numpy(),
            "row": mine["_row"].to_numpy(),
        }
    )
    duplicated = table["date"].duplicated()
    if duplicated.any():
        first = table[duplicated].iloc[0]
        raise DataError(
            f"second row for {first['date'].date()} and campaign '{campaign_id}'",
            file=name,
            row=int(first["row"]),
            column="date",
        )
    by_date = table.set_index("date")["spend"]
    missing = [d for d in dates if d not in by_date.index]
    if missing:
        shown = ", ".join(str(d.date()) for d in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise DataError(
            f"no plan row for campaign '{campaign_id}' on {shown}{more} "
            f"(the horizon is {dates[0].date()} to {dates[-1].date()})",
            file=name,
            column="date",
        )
    return BudgetPlan(by_date.loc[dates].to_numpy(dtype=float), None, "plan_file")


@dataclass(frozen=True)
class DeliveryModel:
    """How delivered spend relates to budget for one campaign.

    Attributes
    ----------
    ratio
        Delivered spend / budget (1 when unknown).
    log_sd
        Day-to-day log-sd of that ratio.
    rule
        The platform pacing rule of the channel.
    daily_cap, period_cap
        Whether the rule's daily maximum and its period cap are applied: ``False`` where
        the history shows the platform not enforcing them against the stated budget (or,
        for the default plan without a budget column, where there is no budget to hold
        them against).
    note
        What the history says against the stated budget, in words (``None``: nothing).
    """

    ratio: float = 1.0
    log_sd: float = 0.03
    rule: PacingRule = PACING_RULES["none"]
    daily_cap: bool = True
    period_cap: bool = True
    note: str | None = None

    @property
    def applied_rule(self) -> PacingRule:
        """The rule as applied: the caps the history contradicts removed."""
        if self.daily_cap and self.period_cap:
            return self.rule
        return replace(
            self.rule,
            daily_max_factor=self.rule.daily_max_factor if self.daily_cap else math.inf,
            period=self.rule.period if self.period_cap else None,
            period_cap_days=self.rule.period_cap_days if self.period_cap else None,
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "ratio": self.ratio,
            "log_sd": self.log_sd,
            "pacing_rule": self.rule.name,
            "daily_cap": self.daily_cap,
            "period_cap": self.period_cap and self.rule.period is not None,
            "note": self.note,
        }


def _cap_evidence(
    recent: pd.DataFrame, rule: PacingRule, tolerance: float
) -> tuple[bool, bool, list[str]]:
    """Whether the history is consistent with ``rule``'s daily and period caps.

    ``recent`` has ``date``, ``spend`` and a positive ``budget`` per row.  Returns
    ``(daily_ok, period_ok, what was broken, in words)``.
    """
    spend = recent["spend"].to_numpy(dtype=float)
    budget = recent["budget"].to_numpy(dtype=float)
    broken: list[str] = []
    daily_ok = True
    if math.isfinite(rule.daily_max_factor):
        over = spend > rule.daily_max_factor * budget * (1 + tolerance)
        if over.any():
            daily_ok = False
            broken.append(
                f"{int(over.sum())} of {len(spend)} days above the daily maximum of "
                f"{rule.daily_max_factor:g}x the budget"
            )
    period_ok = True
    if rule.period is not None and rule.period_cap_days is not None:
        periods = pd.DatetimeIndex(recent["date"]).to_period(rule.period)
        frame = pd.DataFrame({"period": periods, "spend": spend, "budget": budget})
        over_periods = []
        for period, rows in frame.groupby("period", sort=True):
            if len(rows) < _MIN_PERIOD_DAYS:
                continue
            days_in_period = (period.end_time.normalize() - period.start_time).days + 1
            cap = rule.period_cap_days * len(rows) / days_in_period * rows["budget"].mean()
            # a month that spent more than the cap at all shows the platform did not stop
            # it there, and keeping the cap would invent month-end days of zero spend; only
            # a clear excess (beyond ``tolerance``) is worth a note
            if rows["spend"].sum() > cap:
                period_ok = False
                if rows["spend"].sum() > cap * (1 + tolerance):
                    over_periods.append(str(period))
        if over_periods:
            broken.append(
                f"spend above the cap of {rule.period_cap_days:g} days of budget in "
                f"{', '.join(over_periods)}"
            )
    return daily_ok, period_ok, broken


def fit_delivery(
    history: pd.DataFrame,
    *,
    channel: str | None = None,
    window_days: int = 28,
    default_log_sd: float = 0.03,
    evidence_days: int = EVIDENCE_DAYS,
    tolerance: float = CAP_TOLERANCE,
) -> DeliveryModel:
    """Learn the delivery ratio and its noise, and which platform caps the history bears out.

    Uses ``spend / budget`` over the last ``window_days`` where the history has a
    ``budget`` column with positive values (the median ratio and the log-sd); otherwise the
    plan is taken to be the spend (ratio 1, ``default_log_sd``, the rule's caps kept for a
    budget the user gives).  Over the last ``evidence_days`` days, a day whose spend exceeds
    the rule's daily maximum, or a calendar period (with at least 14 days of data) whose
    spend exceeds its pro-rated period cap, by more than ``tolerance``, shows that the
    platform does not enforce that cap against this budget: the cap is switched off
    (:attr:`DeliveryModel.daily_cap`, :attr:`~DeliveryModel.period_cap`).  Spend above the
    stated budget (a ratio above ``1 + tolerance``) or a broken cap is written in
    :attr:`DeliveryModel.note`.
    """
    rule = pacing_rule_for(channel)
    ordered = history.sort_values("date")
    recent = ordered.tail(window_days)
    if "budget" not in recent.columns:
        return DeliveryModel(ratio=1.0, log_sd=default_log_sd, rule=rule)
    budget = pd.to_numeric(recent["budget"], errors="coerce").to_numpy(dtype=float)
    spend = recent["spend"].to_numpy(dtype=float)
    ok = np.isfinite(budget) & (budget > 0) & (spend > 0)
    if ok.sum() < 7:
        return DeliveryModel(ratio=1.0, log_sd=default_log_sd, rule=rule)
    log_ratio = np.log(spend[ok] / budget[ok])
    ratio = float(np.exp(np.median(log_ratio)))
    log_sd = float(max(np.std(log_ratio, ddof=1), 1e-3))
    evidence = ordered.tail(evidence_days)[["date", "spend"]].assign(
        budget=pd.to_numeric(ordered.tail(evidence_days)["budget"], errors="coerce")
    )
    evidence = evidence[
        np.isfinite(evidence["budget"]) & (evidence["budget"] > 0) & np.isfinite(evidence["spend"])
    ]
    daily_ok, period_ok, broken = _cap_evidence(evidence, rule, tolerance)
    note = None
    if broken or ratio > 1 + tolerance:
        above = int(np.sum(spend[ok] > budget[ok] * (1 + tolerance)))
        note = (
            f"spend contradicts the budget column: over the last {int(ok.sum())} days it ran "
            f"at {ratio:.0%} of the stated budget (median), more than {tolerance:.0%} above "
            f"it on {above} of those days"
        )
        if broken:
            dropped = [
                name
                for name, kept in (("daily maximum", daily_ok), ("period cap", period_ok))
                if not kept
            ]
            note += (
                f"; the platform is not enforcing the {rule.name} pacing rule against it "
                f"({'; '.join(broken)}), so its {' and '.join(dropped)} "
                f"{'is' if len(dropped) == 1 else 'are'} not applied and the simulation "
                "follows the recent delivery"
            )
        else:
            note += "; the simulation follows the recent delivery"
    return DeliveryModel(
        ratio=ratio,
        log_sd=log_sd,
        rule=rule,
        daily_cap=daily_ok,
        period_cap=period_ok,
        note=note,
    )


@dataclass(frozen=True)
class Delivery:
    """Delivered spend per path and day, and whether/when the budget ran out."""

    spend: np.ndarray  # (H, N)
    exhausted: np.ndarray  # (N,) bool: a cap stopped spend before the horizon's last day
    exhausted_day: np.ndarray  # (N,) int: first day index on which a cap bound, or -1
    log_spend: np.ndarray | None = None  # (H, N) log(spend) (-inf where 0), when asked for


def _capped(spend: np.ndarray, cap: float) -> tuple[np.ndarray, np.ndarray]:
    """Cap cumulative ``spend`` (days x paths) at ``cap`` in place.

    Returns the first day index where the cap binds per path (or -1) and the columns that
    changed.  Only paths whose uncapped sum reaches the cap are touched (usually few).
    """
    first = np.full(spend.shape[1], -1)
    over = np.flatnonzero(spend.sum(axis=0, dtype=np.float64) >= cap * (1 - 1e-12))
    if over.size == 0:
        return first, over
    cum = np.cumsum(spend[:, over], axis=0, dtype=np.float64)
    capped = np.minimum(cum, cap)
    spend[:, over] = np.diff(capped, axis=0, prepend=0.0)
    hit = cum >= cap * (1 - 1e-12)
    first[over] = np.argmax(hit, axis=0)
    return first, over


def cap_segments(
    plan: BudgetPlan, model: DeliveryModel, dates: pd.DatetimeIndex
) -> list[tuple[int, int, float]]:
    """``(start, stop, cap)`` of every cumulative cap: the rule's periods, then the total."""
    segments: list[tuple[int, int, float]] = []
    rule = model.applied_rule
    if rule.period == "M" and rule.period_cap_days is not None:
        # calendar months with NumPy: pandas periods cost ~1 ms a call, paid per campaign
        months = dates.to_numpy().astype("datetime64[M]")
        bounds = np.r_[0, np.flatnonzero(months[1:] != months[:-1]) + 1, len(months)]
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            month = months[lo : lo + 1]
            days_in_month = int(
                ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]"))[0]
                / np.timedelta64(1, "D")
            )
            cap = rule.period_cap_days * (hi - lo) / days_in_month * float(plan.daily[lo:hi].mean())
            segments.append((lo, hi, cap))
    elif rule.period is not None and rule.period_cap_days is not None:
        periods = dates.to_period(rule.period)
        for period in periods.unique():
            idx = np.flatnonzero(periods == period)
            lo, hi = int(idx[0]), int(idx[-1]) + 1
            share = (hi - lo) / period.days_in_month if rule.period == "M" else 1.0
            cap = rule.period_cap_days * share * float(plan.daily[lo:hi].mean())
            segments.append((lo, hi, cap))
    if plan.total is not None:
        segments.append((0, len(dates), float(plan.total)))
    return segments


def deliver(
    plan: BudgetPlan,
    model: DeliveryModel,
    dates: pd.DatetimeIndex,
    z: np.ndarray,
    *,
    segments: list[tuple[int, int, float]] | None = None,
    with_log: bool = False,
) -> Delivery:
    """Delivered spend ``(H, N)`` from the plan, the delivery model and normals ``z (H, N)``.

    ``segments`` are :func:`cap_segments` (computed here when not given).  Spend is
    ``min(budget x ratio x exp(log_sd z - log_sd^2 / 2), daily max)``, computed on the log
    scale so that ``with_log`` (the engine's spend elasticity needs it) costs no extra
    logarithm except on paths a cumulative cap changed.
    """
    log_spend = np.empty(np.shape(z), dtype=np.float32)
    spend = np.empty_like(log_spend)
    if segments is None:
        segments = cap_segments(plan, model, dates)
    first = _deliver_into(plan, model, z, segments, log_spend, spend, with_log)
    return Delivery(
        spend=spend,
        exhausted=first >= 0,
        exhausted_day=first,
        log_spend=log_spend if with_log else None,
    )


def _deliver_into(
    plan: BudgetPlan,
    model: DeliveryModel,
    z: np.ndarray,
    segments: list[tuple[int, int, float]],
    log_spend: np.ndarray,
    spend: np.ndarray,
    with_log: bool,
) -> np.ndarray:
    """:func:`deliver` into given float32 arrays (``log_spend`` may be ``z`` itself).

    Returns the first day each path's budget ran out (-1: never).
    """
    budget = plan.daily
    factor = model.applied_rule.daily_max_factor
    with np.errstate(divide="ignore"):
        offset = np.log(budget * model.ratio) - 0.5 * model.log_sd**2
        log_max = np.log(factor * budget) if math.isfinite(factor) else None
    np.multiply(z, np.float32(model.log_sd), out=log_spend, dtype=np.float32)
    log_spend += offset.astype(np.float32)[:, None]
    if log_max is not None:
        np.minimum(log_spend, log_max.astype(np.float32)[:, None], out=log_spend)
    np.exp(log_spend, out=spend)
    first = np.full(spend.shape[1], -1)
    for lo, hi, cap in segments:
        seg_first, changed = _capped(spend[lo:hi], cap)
        if with_log and changed.size:
            with np.errstate(divide="ignore"):
                log_spend[lo:hi, changed] = np.log(spend[lo:hi, changed])
        # a cap that binds before its segment's last day stops delivery early: exhausted
        binds = (seg_first >= 0) & (seg_first + lo < hi - 1)
        newly = binds & ((first < 0) | (seg_first + lo < first))
        first[newly] = seg_first[newly] + lo
    return first
