"""The hand-over between forecasting and simulation: a driver forecast for one campaign.

The funnel drivers are forecast on unbounded scales:

==========  ======================================  =====================
driver      meaning                                 back-transform
==========  ======================================  =====================
log_cpm     cost per thousand impressions           ``exp``
logit_ctr   clicks / impressions                    ``expit``
logit_cvr   conversions / clicks                    ``expit``
log_rpc     revenue per conversion                  ``exp``
==========  ======================================  =====================

:class:`DriverForecast` holds, for each horizon day and driver, the predictive centre and
scale (already calibrated by the forecaster), the day-to-day correlation of its errors
(AR(1) coefficient per driver), the correlation between drivers, and each driver's
elasticity to spend, so that a what-if with another spend plan shifts the centre without a
refit.  :meth:`DriverForecast.sample` draws correlated driver paths; the simulation engine
turns them into funnel counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

__all__ = ["DRIVERS", "DriverForecast"]

DRIVERS: tuple[str, ...] = ("log_cpm", "logit_ctr", "logit_cvr", "log_rpc")


@dataclass(frozen=True)
class DriverForecast:
    """Predictive distribution of the funnel drivers over a horizon, for one campaign.

    Attributes
    ----------
    campaign_id
        The campaign.
    dates
        The ``H`` horizon days.
    spend_plan
        The daily spend plan (``H``) the centre was forecast for.
    center
        ``(H, 4)`` predictive median of each driver, on the transformed scale.
    scale
        ``(H, 4)`` predictive standard deviation of each driver's error at each step.
    ar_coef
        ``(4,)`` AR(1) coefficient of each driver's daily error (0 = independent days).
    driver_corr
        ``(4, 4)`` correlation between the drivers' innovations.
    spend_elasticity
        ``(4,)`` d driver / d log(spend): how the centre moves with the plan.
    df
        Degrees of freedom of the Student-t innovations (``inf`` = Gaussian).
    level_share
        ``(4,)`` share of each driver's error variance that persists over the whole horizon
        (one draw per path), fitted with ``level_ar_coef`` to the variance of the
        backtest errors' sums over 1..H days (see
        :func:`simkit.forecast.ensemble.calibrate`); the simulation engine uses the pair
        unless its config sets a ``persistent_share`` of its own.  Default: none.
    level_ar_coef
        ``(4,)`` AR(1) coefficient of the non-persistent part when ``level_share`` is used
        (default: ``ar_coef``).
    revenue_measured
        ``False`` when the history records no revenue at all (an export without a revenue
        column, mapped to 0): simulated revenue is then 0, never conversions x a made-up
        revenue per conversion.
    """

    campaign_id: str
    dates: pd.DatetimeIndex
    spend_plan: np.ndarray
    center: np.ndarray
    scale: np.ndarray
    ar_coef: np.ndarray = field(default_factory=lambda: np.zeros(len(DRIVERS)))
    driver_corr: np.ndarray = field(default_factory=lambda: np.eye(len(DRIVERS)))
    spend_elasticity: np.ndarray = field(default_factory=lambda: np.zeros(len(DRIVERS)))
    df: float = float("inf")
    revenue_measured: bool = True
    level_share: np.ndarray = field(default_factory=lambda: np.zeros(len(DRIVERS)))
    level_ar_coef: np.ndarray | None = None

    def __post_init__(self) -> None:
        h = len(self.dates)
        for name, expected in (
            ("spend_plan", (h,)),
            ("center", (h, len(DRIVERS))),
            ("scale", (h, len(DRIVERS))),
            ("ar_coef", (len(DRIVERS),)),
            ("driver_corr", (len(DRIVERS), len(DRIVERS))),
            ("spend_elasticity", (len(DRIVERS),)),
            ("level_share", (len(DRIVERS),)),
        ):
            value = np.asarray(getattr(self, name), dtype=float)
            if value.shape != expected:
                raise ValueError(f"{name} has shape {value.shape}, expected {expected}")
            object.__setattr__(self, name, value)
        if np.any(self.scale < 0) or not np.all(np.isfinite(self.center)):
            raise ValueError("scale must be non-negative and center finite")
        if self.level_ar_coef is None:
            object.__setattr__(self, "level_ar_coef", self.ar_coef.copy())
        level_ar = np.asarray(self.level_ar_coef, dtype=float)
        if level_ar.shape != (len(DRIVERS),):
            raise ValueError(f"level_ar_coef has shape {level_ar.shape}, expected (4,)")
        object.__setattr__(self, "level_ar_coef", level_ar)
        if np.any(np.abs(self.ar_coef) >= 1) or np.any(np.abs(level_ar) >= 1):
            raise ValueError("ar_coef must lie strictly inside (-1, 1)")
        if np.any(self.level_share < 0) or np.any(self.level_share >= 1):
            raise ValueError("level_share must lie in [0, 1)")

    @property
    def horizon_days(self) -> int:
        return len(self.dates)

    def with_plan(self, spend_plan: np.ndarray) -> DriverForecast:
        """The same forecast for another spend plan: the centre moves by the elasticities."""
        plan = np.asarray(spend_plan, dtype=float)
        if plan.shape != self.spend_plan.shape:
            raise ValueError(f"plan has shape {plan.shape}, expected {self.spend_plan.shape}")
        ratio = np.log(np.maximum(plan, 1e-9) / np.maximum(self.spend_plan, 1e-9))
        ratio = np.where((plan > 0) & (self.spend_plan > 0), ratio, 0.0)
        center = self.center + ratio[:, None] * self.spend_elasticity[None, :]
        return replace(self, spend_plan=plan, center=center)

    def standard_innovations(self, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        """``(n_paths, H, 4)`` unit-variance innovations, correlated across drivers.

        Exposed so that what-ifs can reuse the same random numbers (common random numbers).
        """
        h, d = self.horizon_days, len(DRIVERS)
        z = rng.standard_normal((n_paths, h, d))
        chol = np.linalg.cholesky(self.driver_corr + 1e-12 * np.eye(d))
        z = z @ chol.T
        if np.isfinite(self.df):
            chi = rng.chisquare(self.df, size=(n_paths, 1, 1))
            z = z * np.sqrt((self.df - 2) / chi) if self.df > 2 else z * np.sqrt(1 / chi)
        return z

    def paths_from(self, innovations: np.ndarray) -> np.ndarray:
        """Driver paths ``(n_paths, H, 4)`` on the transformed scale from innovations.

        Errors follow a unit-variance AR(1) per driver, then scaled by ``scale`` per step.
        """
        phi = self.ar_coef[None, :]
        err = np.empty_like(innovations)
        err[:, 0, :] = innovations[:, 0, :]
        root = np.sqrt(1.0 - phi**2)
        for t in range(1, innovations.shape[1]):
            err[:, t, :] = phi * err[:, t - 1, :] + root * innovations[:, t, :]
        return self.center[None, :, :] + err * self.scale[None, :, :]

    def sample(self, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``(n_paths, H, 4)`` driver paths on the transformed scale."""
        return self.paths_from(self.standard_innovations(n_paths, rng))
