"""The pivot stage's link to the simulate engine: one what-if session per campaign.

The fitted response curve of a campaign is the session's spend response
(:class:`CurveResponse`, :func:`campaign_response`), its creative state gives a refresh's
CTR shift (:func:`refresh_shift`), and every campaign's session is seeded with
:func:`campaign_seed` of the run's seed.  :func:`simkit.pivots.find_pivots` simulates its
pivots' impacts through :class:`CampaignEngine`; the dashboard builds its sessions with the
same functions, so its previews reproduce the cards.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simkit._rng import make_rng
from simkit.errors import DataError
from simkit.pivots.curves import ResponseCurve
from simkit.pivots.portfolio import fit_portfolio
from simkit.simulate.campaign import ForecastFn
from simkit.simulate.factors import MarketFactor
from simkit.simulate.fatigue import CreativeState, creative_analysis
from simkit.simulate.session import (
    SESSION_CUTOFFS,
    DriverShiftFactor,
    WhatIfPivot,
    WhatIfSession,
)

__all__ = [
    "CampaignEngine",
    "CurveResponse",
    "audience_shifts",
    "campaign_response",
    "campaign_seed",
    "refresh_shift",
]


@dataclass(frozen=True)
class CurveResponse:
    """A fitted response curve as the engine's spend response
    (:class:`simkit.simulate.SpendResponse`): the ratio of expected daily conversions at
    two spends, one value per parameter draw."""

    curve: ResponseCurve

    def log_ratio(self, spend_from: float, spend_to: float) -> np.ndarray:
        lo = np.maximum(self.curve.samples(float(spend_from)), 1e-300)
        hi = np.maximum(self.curve.samples(float(spend_to)), 1e-300)
        return np.log(hi) - np.log(lo)


def campaign_seed(seed: int, campaign_id: str) -> int:
    """The seed of one campaign's what-if session, from a run's seed (stable by name), so
    campaigns of one run do not share their random numbers."""
    tag = zlib.crc32(str(campaign_id).encode())
    return int(np.random.SeedSequence([int(seed), tag]).generate_state(1)[0])


def campaign_response(
    data: pd.DataFrame, campaign_id: str, *, seed: int, n_draws: int = 200
) -> CurveResponse | None:
    """The campaign's fitted response curve (as :func:`find_pivots` fits it: creative state
    taken out), with draws seeded by :func:`campaign_seed`; ``None`` when the campaign is
    paused or too short to fit."""
    rows = data[data["campaign_id"].astype(str) == str(campaign_id)]
    if rows.empty:
        return None
    offset, _ = creative_analysis(rows, str(campaign_id))
    try:
        pf = fit_portfolio(
            rows,
            rng=make_rng(campaign_seed(seed, campaign_id)),
            n_draws=n_draws,
            creative_offsets={str(campaign_id): offset} if offset is not None else {},
        )
    except DataError:  # paused or too little recent spend to fit a curve: none, as documented
        return None
    if str(campaign_id) not in pf.keys:
        return None
    return CurveResponse(pf.curves[str(campaign_id)])


def refresh_shift(
    state: CreativeState, horizon_days: int, n_paths: int, *, seed: int
) -> DriverShiftFactor:
    """A creative refresh on the first horizon day as the engine's CTR shift: the creative
    state's refreshed CTR multipliers over those of the creative that keeps running, per
    day (log mean and sd over ``n_paths`` draws), seeded by ``seed``, the campaign's
    session seed.  The pivot engine and the dashboard's refresh lever both use it."""
    rng = make_rng(seed, zlib.crc32(b"refresh"))
    keep = state.baseline_paths(horizon_days, n_paths, rng)
    fresh = state.refresh_paths(horizon_days, n_paths, rng)
    log_ratio = np.log(fresh) - np.log(keep)
    return DriverShiftFactor(
        driver="logit_ctr",
        mean=tuple(float(v) for v in log_ratio.mean(axis=0)),
        sd=tuple(float(v) for v in log_ratio.std(axis=0)),
        label=f"creative_refresh:{state.campaign_id}",
    )


def audience_shifts(
    state: CreativeState,
    horizon_days: int,
    *,
    seed: int,
    assumptions: Mapping[str, tuple[float, float]],
    frequency_target: float | None = None,
    n_draws: int = 2000,
) -> tuple[DriverShiftFactor, ...] | None:
    """A wider audience as the engine's driver shifts: CTR recovers along the campaign's
    CTR-frequency elasticity as frequency falls from ``state.freq_now`` to
    ``frequency_target`` (default: the fresh creative's frequency); the new reach's CVR and
    CPM multipliers are the stated ``assumptions`` (``{"cvr_multiplier": (median,
    log_sd), "cpm_multiplier": ...}``).  ``None`` without a frequency elasticity."""
    if state.freq_elasticity is None or state.freq_now is None or state.freq_fresh is None:
        return None
    target = state.freq_fresh if frequency_target is None else float(frequency_target)
    rng = make_rng(seed, zlib.crc32(b"audience"))
    eta = np.minimum(
        rng.normal(state.freq_elasticity, state.freq_elasticity_se or 0.0, n_draws), 0.0
    )
    log_ctr = eta * np.log(target / state.freq_now)
    cvr_med, cvr_sd = assumptions["cvr_multiplier"]
    cpm_med, cpm_sd = assumptions["cpm_multiplier"]
    h = int(horizon_days)
    label = f"audience:{state.campaign_id}"

    def flat(driver: str, mean: float, sd: float) -> DriverShiftFactor:
        return DriverShiftFactor(
            driver=driver, mean=(float(mean),) * h, sd=(float(sd),) * h, label=label
        )

    return (
        flat("logit_ctr", log_ctr.mean(), log_ctr.std()),
        flat("logit_cvr", np.log(cvr_med), cvr_sd),
        flat("log_cpm", np.log(cpm_med), cpm_sd),
    )


class CampaignEngine:
    """The simulate engine for the campaigns of one pivot run: one what-if session per
    campaign (prepared on first use), with the campaign's fitted curve as spend response.

    ``provider(key)``, when given, is asked first for a session made elsewhere with this
    engine's settings (a batch's workers prepare them in parallel:
    :func:`simkit.report.pivots.pivot_session`); ``None`` from it means "make it here"
    (which also raises the real error of a session that cannot be made)."""

    def __init__(
        self,
        data: pd.DataFrame,
        horizon_days: int,
        *,
        seed: int,
        n_paths: int,
        n_draws: int,
        members: Sequence[str],
        forecast_fn: ForecastFn | None,
        cache: str | bool | None,
        backtest_cutoffs: int = SESSION_CUTOFFS,
        provider: Callable[[str], WhatIfSession | None] | None = None,
    ) -> None:
        self.data, self.horizon_days, self.seed = data, horizon_days, int(seed)
        self.n_paths, self.n_draws = n_paths, n_draws
        self.members, self.forecast_fn, self.cache = tuple(members), forecast_fn, cache
        self.backtest_cutoffs = backtest_cutoffs
        self.provider = provider
        self._sessions: dict[str, WhatIfSession] = {}

    def session(self, key: str) -> WhatIfSession:
        """Campaign ``key``'s session (raises :class:`SimkitError` if it cannot be made)."""
        if key not in self._sessions:
            made = self.provider(key) if self.provider is not None else None
            self._sessions[key] = made if made is not None else self.make_session(key)
        return self._sessions[key]

    def make_session(self, key: str) -> WhatIfSession:
        """A new session of campaign ``key``, not kept by the engine (what a provider
        returns: the engine keeps the session it is given)."""
        return WhatIfSession(
            self.data,
            key,
            self.horizon_days,
            seed=campaign_seed(self.seed, key),
            n_paths=self.n_paths,
            members=self.members,
            max_cutoffs=self.backtest_cutoffs,
            cache=self.cache,
            forecast_fn=self.forecast_fn,
            spend_response=campaign_response(self.data, key, seed=self.seed, n_draws=self.n_draws),
        )

    def shift_sims(
        self, key: str, factors: Sequence[MarketFactor]
    ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, np.ndarray]]]:
        """Campaign ``key``'s baseline and the baseline with ``factors`` added."""
        b, a = self.session(key).preview_paths(WhatIfPivot(add=tuple(factors)))
        tb, ta = b.totals(), a.totals()
        metrics = ("conversions", "revenue", "spend")
        return {key: {m: tb[m] for m in metrics}}, {key: {m: ta[m] for m in metrics}}

    def budget_sims(
        self, factors: Mapping[str, float]
    ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, np.ndarray]]]:
        """Per campaign, ``(n_paths,)`` totals of the baseline and of its budget times
        ``factors[key]`` (the format of :func:`simkit.pivots.impact.simulate_scenario`)."""
        base: dict[str, dict[str, np.ndarray]] = {}
        alt: dict[str, dict[str, np.ndarray]] = {}
        for key, factor in factors.items():
            b, a = self.session(key).preview_paths(WhatIfPivot(budget_factor=float(factor)))
            tb, ta = b.totals(), a.totals()
            base[key] = {m: tb[m] for m in ("conversions", "revenue", "spend")}
            alt[key] = {m: ta[m] for m in ("conversions", "revenue", "spend")}
        return base, alt
