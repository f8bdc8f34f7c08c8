"""The one model of creative fatigue: CTR wear-out from a campaign's own history.

Used by the simulation (:func:`simkit.simulate.factors.fit_fatigue`: the decay rate of the
fatigue factor) and by the pivots (:class:`CreativeState`: the creative refresh pivot and
the creative state the optimiser prices; :func:`ctr_offset`: wear taken out of the
response curve fit).  It reads the campaign-day panel
(:class:`simkit.data.panel.CampaignPanel`), whose rule gives each day's *creative
generation* (the dominant ``creative_id`` by impressions, numbered in the order creatives
first became dominant) and its age in days; without ``creative_id`` the whole history is
one generation, started on its first day.  Daily ``log CTR`` on the days with data is
regressed (weighted least squares, weights ``1 / (1/clicks + 0.005)``: binomial variance
plus a day-level floor) on day-of-week (:func:`simkit.data.panel.dow_dummies`) plus a level
and a slope in creative age per generation.  With the day-of-week effect removed:

* **fresh level**: mean adjusted log CTR over the first :data:`FRESH_DAYS` days of every
  generation (pooled; the level a new creative starts at);
* **current level and recent slope**: a line through the adjusted log CTR of the last
  :data:`RECENT_DAYS` days of the current generation, evaluated at the last day;
* **natural slope**: the pooled within-generation slope over the first
  :data:`NATURAL_DAYS` days of age of the *finished* generations (how fast a new creative
  wears in normal times; the current one only when it is the first);
* **frequency elasticity**: the slope of adjusted log CTR on log frequency within
  generations (where reach/frequency exist).

The fatigue factor's rate (:func:`natural_wear`) is the same regression's common slope
over every generation's whole life (one level per generation): what a creative run on over
a simulation horizon of weeks is expected to lose a day.

Standard errors are OLS ones inflated by ``(1 + rho) / (1 - rho)`` for the lag-1
autocorrelation of the residuals (ad-data noise is autocorrelated).

Projections over a horizon (assumptions, in the rationale of the pivots that use them):

* *baseline*: the current creative keeps running; its CTR continues the recent trend,
  damped by :data:`TREND_DAMPING` per day (a damped trend, Gardner & McKenzie 1985), so
  the decline slows instead of running to zero;
* *refresh*: a new creative starts at the fresh level on the first horizon day and wears
  at the natural slope.

Rotation (:func:`creative_rotation`, issue 16): the campaign's usual refresh schedule,
learned from its ``creative_id`` changes (the days the dominant creative changes): the
lives of its finished creatives, their median (the usual interval) and the longest (the
usual refresh age: the campaign has never kept a creative longer).  A campaign that rotates
on a schedule is expected to go on doing so, so the simulation extends the current
creative's wear beyond today only when it is past that age
(:class:`simkit.simulate.factors.FatigueFactor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from simkit.data.panel import CampaignPanel, dow_dummies
from simkit.errors import DataError

__all__ = [
    "FRESH_DAYS",
    "MIN_CLICK_DAYS",
    "NATURAL_DAYS",
    "RECENT_DAYS",
    "TREND_DAMPING",
    "CreativeRotation",
    "CreativeState",
    "creative_analysis",
    "creative_rotation",
    "creative_state",
    "ctr_offset",
    "natural_wear",
]

FRESH_DAYS = 7
RECENT_DAYS = 14
NATURAL_DAYS = 28
TREND_DAMPING = 0.95
#: Fewest days with clicks and impressions from which the model is fitted.
MIN_CLICK_DAYS = 21
_DAY_VAR_FLOOR = 0.005


def _campaign_days(rows: pd.DataFrame) -> pd.DataFrame:
    """One campaign's panel days: ``rows`` as given when they are panel days
    (:meth:`CampaignPanel.campaign`), else the panel built from contract rows."""
    if "present" in rows.columns and isinstance(rows.index, pd.DatetimeIndex):
        return rows
    panel = CampaignPanel.from_data(rows)
    if len(panel.ids) != 1:
        raise DataError(f"expected one campaign, got {len(panel.ids)}", column="campaign_id")
    return panel.campaign(panel.ids[0])


def _generations(days: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Generation number and creative age (days) on every panel day.

    The panel's dominant-creative rule; a day without a creative keeps the generation of
    the day before and ages by its calendar days (the first generation starts on the
    first day).
    """
    t = (days.index - days.index[0]).days.to_numpy(dtype=float)
    if "creative_generation" not in days.columns or (days["creative_generation"] < 0).all():
        return np.zeros(len(days), dtype=int), t
    has = days["creative_generation"].to_numpy() >= 0
    gen = pd.Series(np.where(has, days["creative_generation"].to_numpy(), np.nan))
    gen = gen.ffill().fillna(0).to_numpy(dtype=int)
    # age where the creative is known; else the last known age plus the days since
    start = pd.Series(np.where(has, t - days["creative_age"].to_numpy(dtype=float), np.nan))
    start = start.ffill().fillna(0.0).to_numpy()
    return gen, t - start


def _wls(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients, their covariance (residual-scaled) and residuals."""
    sw = np.sqrt(w)
    xw, yw = x * sw[:, None], y * sw
    beta, *_ = np.linalg.lstsq(xw, yw, rcond=None)
    resid = y - x @ beta
    dof = max(len(y) - x.shape[1], 1)
    s2 = float(np.sum(w * resid**2) / dof)
    cov = np.linalg.pinv(xw.T @ xw) * s2
    return beta, cov, resid


def _rho(resid: np.ndarray) -> float:
    if len(resid) < 8 or np.std(resid) == 0:
        return 0.0
    r = float(np.corrcoef(resid[:-1], resid[1:])[0, 1])
    return float(np.clip(r if np.isfinite(r) else 0.0, 0.0, 0.9))


@dataclass(frozen=True)
class CreativeState:
    """The CTR state of one campaign's creative (log scale, day-of-week adjusted).

    ``*_se`` are standard errors.  ``reference`` is the mean adjusted log CTR over the
    whole history (the level the response curve was fitted at).
    """

    campaign_id: str
    n_generations: int
    current_age_days: int
    fresh: float
    fresh_se: float
    current: float
    current_se: float
    recent_slope: float
    recent_slope_se: float
    natural_slope: float
    natural_slope_se: float
    reference: float
    freq_elasticity: float | None
    freq_elasticity_se: float | None
    freq_fresh: float | None
    freq_now: float | None
    has_creative_ids: bool = True

    def p_declining(self) -> float:
        """P(the recent CTR trend is downward) (normal approximation)."""
        se = max(self.recent_slope_se, 1e-12)
        return float(special.ndtr(-self.recent_slope / se))

    @property
    def deficit(self) -> float:
        """Relative CTR shortfall of the current creative against a fresh one."""
        return float(1.0 - np.exp(self.current - self.fresh))

    def p_deficit_above(self, threshold: float) -> float:
        """P(current CTR is more than ``threshold`` below the fresh level) (normal approx.)."""
        gap = self.fresh - self.current
        se = max(float(np.hypot(self.fresh_se, self.current_se)), 1e-9)
        return float(special.ndtr((gap + np.log1p(-threshold)) / se))

    def baseline_paths(self, horizon_days: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """``(n, H)`` CTR multipliers against ``reference`` if the creative keeps running."""
        cur = rng.normal(self.current, self.current_se, n)
        slope = np.minimum(rng.normal(self.recent_slope, self.recent_slope_se, n), 0.0)
        h = np.arange(1, horizon_days + 1)
        damped = TREND_DAMPING * (1 - TREND_DAMPING**h) / (1 - TREND_DAMPING)
        return np.exp(cur[:, None] + slope[:, None] * damped[None, :] - self.reference)

    def refresh_paths(self, horizon_days: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """``(n, H)`` CTR multipliers against ``reference`` after a refresh on day 1."""
        fresh = rng.normal(self.fresh, self.fresh_se, n)
        slope = np.minimum(rng.normal(self.natural_slope, self.natural_slope_se, n), 0.0)
        h = np.arange(horizon_days)
        return np.exp(fresh[:, None] + slope[:, None] * h[None, :] - self.reference)

    def to_dict(self) -> dict[str, Any]:
        return {
            k: (None if v is None else (v if isinstance(v, str | bool) else float(v)))
            for k, v in self.__dict__.items()
        }


@dataclass(frozen=True)
class CreativeRotation:
    """How a campaign refreshes its creatives, from its ``creative_id`` changes.

    Attributes
    ----------
    n_refreshes
        Changes of the dominant creative seen in the history.
    lifetimes_days
        Lives (calendar days) of the finished creatives: each run of one dominant creative
        that a change ended.  The first run started before the data may have, so it is
        counted only when it is the only finished one (then its life is a lower bound).
    current_age_days
        Days the current creative has run (0 on the day it became dominant).
    """

    n_refreshes: int
    lifetimes_days: tuple[int, ...]
    current_age_days: int

    @property
    def usual_interval_days(self) -> float:
        """The median life of a finished creative: the campaign's usual refresh interval."""
        return float(np.median(self.lifetimes_days))

    @property
    def refresh_age_days(self) -> int:
        """The usual refresh age: the longest life of a finished creative."""
        return int(max(self.lifetimes_days))

    @property
    def overdue(self) -> bool:
        """Whether the current creative has run longer than the campaign ever kept one."""
        return self.current_age_days > self.refresh_age_days

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_refreshes": self.n_refreshes,
            "lifetimes_days": list(self.lifetimes_days),
            "usual_interval_days": self.usual_interval_days,
            "refresh_age_days": self.refresh_age_days,
            "current_age_days": self.current_age_days,
            "overdue": self.overdue,
        }


def creative_rotation(rows: pd.DataFrame) -> CreativeRotation | None:
    """The campaign's creative rotation (see :class:`CreativeRotation`).

    ``rows``: one campaign's panel days or contract rows.  A day without a creative (or
    missing from the data) keeps the creative of the day before.  ``None`` without
    ``creative_id`` values or when the dominant creative never changed (no refresh seen:
    nothing to learn a schedule from).
    """
    days = _campaign_days(rows)
    if "creative_generation" not in days.columns or (days["creative_generation"] < 0).all():
        return None
    gen, age = _generations(days)
    change = np.flatnonzero(gen[1:] != gen[:-1]) + 1
    if change.size == 0:
        return None
    starts = np.r_[0, change]
    lives = np.diff(np.r_[starts, len(gen)])[:-1]  # runs a change ended
    finished = lives[1:] if lives.size > 1 else lives
    return CreativeRotation(
        n_refreshes=int(change.size),
        lifetimes_days=tuple(int(x) for x in finished),
        current_age_days=int(len(gen) - starts[-1] - 1),
    )


def _components(rows: pd.DataFrame) -> dict[str, Any] | None:
    """Daily CTR pieces shared by :func:`creative_state`, :func:`ctr_offset` and
    :func:`natural_wear` (``rows``: one campaign's panel days or contract rows)."""
    days = _campaign_days(rows)
    gen_all, age_all = _generations(days)
    present = days["present"].to_numpy(dtype=bool)
    columns = ["impressions", "clicks", *(["reach"] if "reach" in days.columns else [])]
    daily = days.loc[present, columns].fillna(0.0)
    daily.insert(0, "date", daily.index)
    daily = daily.reset_index(drop=True)
    gen, age = gen_all[present], age_all[present]
    ok = (daily["clicks"].to_numpy() > 0) & (daily["impressions"].to_numpy() > 0)
    if ok.sum() < MIN_CLICK_DAYS:
        return None
    n_gen = int(gen.max()) + 1
    clicks = daily["clicks"].to_numpy(float)
    y = np.log(np.where(ok, clicks, 1.0) / np.maximum(daily["impressions"].to_numpy(float), 1.0))
    w = 1.0 / (1.0 / np.maximum(clicks, 1.0) + _DAY_VAR_FLOOR)
    dow = daily["date"].dt.day_of_week.to_numpy()
    d = dow_dummies(dow)
    g = (gen[:, None] == np.arange(n_gen)[None, :]).astype(float)
    x = np.concatenate([d, g, g * age[:, None]], axis=1)
    beta, _, resid = _wls(x[ok], y[ok], w[ok])
    gamma = np.concatenate([[0.0], beta[:6]])
    gamma = gamma - gamma.mean()
    adj = y - gamma[dow]
    return {
        "daily": daily,
        "gen": gen,
        "ok": ok,
        "n_gen": n_gen,
        "age": age,
        "w": w,
        "g": g,
        "adj": adj,
        "resid": resid,
        "reference": float(np.average(adj[ok], weights=w[ok])),
        "age_today": float(age_all[-1]),
        "has_creative_ids": bool(
            "creative_id" in days.columns and days["creative_id"].notna().any()
        ),
    }


def _offset_from(comp: dict[str, Any]) -> pd.Series:
    adj = np.where(comp["ok"], comp["adj"], np.nan)
    gen = comp["gen"]
    out = np.zeros(len(adj))
    kernel = np.ones(7)
    for g in np.unique(gen):
        idx = np.flatnonzero(gen == g)
        seg = adj[idx]
        have = np.isfinite(seg)
        n = len(seg)
        total = np.convolve(np.where(have, seg, 0.0), kernel, mode="full")[3 : 3 + n]
        count = np.convolve(have.astype(float), kernel, mode="full")[3 : 3 + n]
        smooth = np.where(count >= 3, total / np.maximum(count, 1.0), np.nan)
        out[idx] = np.nan_to_num(smooth - comp["reference"], nan=0.0)
    return pd.Series(out, index=pd.DatetimeIndex(comp["daily"]["date"]))


def ctr_offset(rows: pd.DataFrame) -> pd.Series | None:
    """Creative-state offset per day: smoothed, day-of-week adjusted log CTR minus its mean.

    A centred 7-day mean within each creative generation, so that wear-out and refreshes
    (driven by creative age, not spend) can be taken out of the spend response fit.  CTR
    variation within a creative is attributed to the creative, not to spend: spend acts
    through CPM (impressions per unit of spend) and CVR, which the curve keeps.
    """
    comp = _components(rows)
    return None if comp is None else _offset_from(comp)


def creative_analysis(
    rows: pd.DataFrame, campaign_id: str = ""
) -> tuple[pd.Series | None, CreativeState | None]:
    """:func:`ctr_offset` and :func:`creative_state` of one campaign, sharing the work."""
    comp = _components(rows)
    if comp is None:
        return None, None
    return _offset_from(comp), _state_from(comp, campaign_id)


def creative_state(rows: pd.DataFrame, campaign_id: str = "") -> CreativeState | None:
    """Estimate the creative's CTR state from one campaign's rows (any breakdown).

    Returns ``None`` when there are too few days with clicks (fewer than 21) or the
    current generation is younger than :data:`RECENT_DAYS` days.
    """
    comp = _components(rows)
    return None if comp is None else _state_from(comp, campaign_id)


def _natural_from(comp: dict[str, Any], infl: float) -> tuple[float, float]:
    """Pooled within-generation slope of adjusted log CTR on age (first NATURAL_DAYS days).

    From finished generations when there are any, so that a wear-out under way in the
    current one does not pass for the norm.
    """
    gen, ok, age, w, g, adj = (comp[k] for k in ("gen", "ok", "age", "w", "g", "adj"))
    young = ok & (age < NATURAL_DAYS) & ((gen < gen[-1]) if comp["n_gen"] > 1 else True)
    if young.sum() < FRESH_DAYS:
        young = ok & (age < NATURAL_DAYS)
    xn = np.concatenate([g[young], age[young, None]], axis=1)
    b_n, cov_n, _ = _wls(xn, adj[young], w[young])
    return float(b_n[-1]), float(np.sqrt(max(cov_n[-1, -1] * infl, 0.0)))


def _lifetime_from(comp: dict[str, Any], infl: float) -> tuple[float, float]:
    """Pooled within-generation slope of adjusted log CTR on age over every generation's
    whole life (one level per generation, one common slope)."""
    ok, age, w, g, adj = (comp[k] for k in ("ok", "age", "w", "g", "adj"))
    x = np.concatenate([g[ok], age[ok, None]], axis=1)
    beta, cov, _ = _wls(x, adj[ok], w[ok])
    return float(beta[-1]), float(np.sqrt(max(cov[-1, -1] * infl, 0.0)))


def natural_wear(rows: pd.DataFrame) -> tuple[float, float, int] | None:
    """Wear of a creative over its life: the pooled within-generation slope of the model's
    day-of-week adjusted log CTR on creative age (log CTR a day), its standard error, and
    the age of today's creative in days (on the last panel day).

    Unlike :attr:`CreativeState.natural_slope` (the first :data:`NATURAL_DAYS` days of
    finished generations: what a refresh starts), this pools every generation's whole
    life, which is what a simulation over a horizon of weeks needs and, on the
    generator's campaigns, the more accurate rate.  ``None`` when there are fewer than
    :data:`MIN_CLICK_DAYS` days with clicks.
    """
    comp = _components(rows)
    if comp is None:
        return None
    infl = (1 + _rho(comp["resid"])) / (1 - _rho(comp["resid"]))
    slope, se = _lifetime_from(comp, infl)
    return slope, se, int(comp["age_today"])


def _state_from(comp: dict[str, Any], campaign_id: str) -> CreativeState | None:
    if comp["age"][-1] + 1 < RECENT_DAYS:
        return None
    daily, gen, ok, n_gen = comp["daily"], comp["gen"], comp["ok"], comp["n_gen"]
    age, w, g, adj, resid = comp["age"], comp["w"], comp["g"], comp["adj"], comp["resid"]
    infl = (1 + _rho(resid)) / (1 - _rho(resid))

    first = ok & (age < FRESH_DAYS)
    fresh = float(np.average(adj[first], weights=w[first])) if first.any() else float("nan")
    resid_sd = float(np.sqrt(np.average(resid**2, weights=w[ok])))
    fresh_se = resid_sd * np.sqrt(infl / max(first.sum(), 1))

    cur_gen = gen == gen[-1]
    recent = ok & cur_gen & (np.arange(len(daily)) >= len(daily) - RECENT_DAYS)
    t_rel = np.arange(len(daily), dtype=float) - (len(daily) - 1)
    xr = np.stack([np.ones(recent.sum()), t_rel[recent]], axis=1)
    b_r, cov_r, _ = _wls(xr, adj[recent], w[recent])
    cov_r = cov_r * infl

    nat, nat_se = _natural_from(comp, infl)

    fe = fe_se = f_fresh = f_now = None
    if "reach" in daily.columns:
        reach = daily["reach"].to_numpy(float)
        freq = np.where(
            reach > 0, daily["impressions"].to_numpy(float) / np.maximum(reach, 1), np.nan
        )
        okf = ok & np.isfinite(freq) & (freq > 0)
        if okf.sum() >= 21 and np.std(np.log(freq[okf])) > 1e-6:
            xf = np.concatenate([g[okf], np.log(freq[okf])[:, None]], axis=1)
            b_f, cov_f, _ = _wls(xf, adj[okf], w[okf])
            fe, fe_se = float(b_f[-1]), float(np.sqrt(max(cov_f[-1, -1] * infl, 0.0)))
            fresh_f = okf & (age < FRESH_DAYS)
            f_fresh = float(np.median(freq[fresh_f])) if fresh_f.any() else None
            f_now = float(np.median(freq[okf][-7:]))
    return CreativeState(
        campaign_id=campaign_id,
        n_generations=n_gen,
        current_age_days=int(age[-1]),
        fresh=fresh,
        fresh_se=float(fresh_se),
        current=float(b_r[0]),
        current_se=float(np.sqrt(max(cov_r[0, 0], 0.0))),
        recent_slope=float(b_r[1]),
        recent_slope_se=float(np.sqrt(max(cov_r[1, 1], 0.0))),
        natural_slope=nat,
        natural_slope_se=nat_se,
        reference=comp["reference"],
        freq_elasticity=fe,
        freq_elasticity_se=fe_se,
        freq_fresh=f_fresh,
        freq_now=f_now,
        has_creative_ids=comp["has_creative_ids"],
    )
