"""The shared base of forecast members (see :mod:`simkit.forecast.members`)."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd

from simkit.data.panel import dow_dummies

SEASON_DAYS = 7


@runtime_checkable
class Forecaster(Protocol):
    """The estimator protocol every member follows."""

    alias: str
    min_history_days: int
    uses_regressors: bool

    def fit(self, y: pd.DataFrame, X: pd.DataFrame | None = None) -> Self: ...

    def predict(self, h: int, X_future: pd.DataFrame | None = None) -> np.ndarray: ...


class _Member:
    """Shared plumbing: settings in the constructor, a ``get_params`` for cache keys."""

    alias: str
    min_history_days: ClassVar[int] = 14
    uses_regressors: ClassVar[bool] = False
    name: ClassVar[str] = ""
    #: Which ensemble-wide settings (``seed``, ``country``) the constructor accepts.
    context_params: ClassVar[tuple[str, ...]] = ()

    def get_params(self) -> dict[str, Any]:
        """The constructor settings (part of the cache key)."""
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_obs_"):
            raise RuntimeError(f"{self.alias}: call fit() before predict()")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def _spend_slope(y: np.ndarray, log_spend: np.ndarray, dow: np.ndarray, prior_sd: float) -> float:
    """Slope of ``y`` on log spend, with day of week and a linear trend partialled out, shrunk
    toward 0 with a Gaussian prior of sd ``prior_sd`` (the posterior mean)."""
    n = len(y)
    t = np.arange(n, dtype=float)
    Z = np.column_stack([np.ones(n), (t - t.mean()) / max(n, 1), dow_dummies(dow)])
    proj = Z @ np.linalg.lstsq(Z, np.column_stack([y, log_spend]), rcond=None)[0]
    ry, rx = y - proj[:, 0], log_spend - proj[:, 1]
    sxx = float(rx @ rx)
    if sxx <= 1e-12:
        return 0.0
    beta_ols = float(rx @ ry) / sxx
    resid = ry - beta_ols * rx
    sigma2 = float(resid @ resid) / max(n - Z.shape[1] - 1, 1)
    return float(rx @ ry) / (sxx + sigma2 / prior_sd**2)
