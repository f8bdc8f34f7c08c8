"""The estimator protocol of forecast members, and their shared base.

This is the public contract for adding a model (see :mod:`simkit.forecast.members` for the
registry and ``README.md``, "Your own forecast member").  A member forecasts the four funnel
drivers (``log_cpm``, ``logit_ctr``, ``logit_cvr``, ``log_rpc``: unbounded scales, see
:mod:`simkit.forecast.base`); the ensemble backtests it, weights it by its MASE on
conversions against the seasonal naive, and calibrates the combined intervals, the same way
for every member.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd

from simkit.data.panel import dow_dummies

SEASON_DAYS = 7


@runtime_checkable
class Forecaster(Protocol):
    """The estimator protocol every member follows.

    Attributes
    ----------
    alias
        Display name (set by the constructor).
    min_history_days
        Days of history the member needs; with less, the ensemble leaves it out and says so.
    uses_regressors
        Whether ``fit``/``predict`` use the regressors ``X`` (the spend plan is known at
        forecast time, so ``log_spend`` may be used).

    Construction takes keyword-only settings, all with defaults, and does no work: the
    ensemble builds a member with no arguments (plus ``seed`` and ``country`` when the
    class lists them in ``context_params``).  ``get_params()`` returns those settings: it is
    part of the forecast cache key, so a change of setting is never served an old fit.
    """

    alias: str
    min_history_days: int
    uses_regressors: bool

    def get_params(self) -> dict[str, Any]:
        """The constructor settings."""
        ...

    def fit(self, y: pd.DataFrame, X: pd.DataFrame | None = None) -> Self:
        """Fit on the driver history.

        Parameters
        ----------
        y
            ``(n, k)`` frame indexed by day, one column per driver (usually all four).
        X
            The known regressors on the same days: ``log_spend``, ``dow`` (0 = Monday)
            and ``holiday`` (0/1), see :func:`simkit.forecast.drivers.calendar_features`.

        Returns
        -------
        Self
            The member, with fitted state in attributes ending in ``_``.
        """
        ...

    def predict(self, h: int, X_future: pd.DataFrame | None = None) -> np.ndarray:
        """Point forecasts of the next ``h`` days, ``(h, k)``, on the drivers' scales.

        ``X_future`` holds the regressors of those days (``log_spend`` of the plan).  Values
        must be finite; a member that fails or returns the wrong shape is replaced by the
        fallback member with a recorded warning.
        """
        ...


class Member:
    """The base a member may subclass: settings in the constructor, ``get_params`` for the
    cache key, a ``repr``, and the defaults ``min_history_days = 14``,
    ``uses_regressors = False``, ``context_params = ()``.

    Examples
    --------
    A member in a few lines (a thin wrapper over statsforecast's ``AutoETS``)::

        import numpy as np
        import simkit
        from simkit.forecast import Member

        @simkit.register_member
        class AutoETSMember(Member):
            name = "auto_ets"

            def __init__(self, *, season_length: int = 7, alias: str = "auto_ets") -> None:
                self.season_length, self.alias = season_length, alias

            def fit(self, y, X=None):
                from statsforecast.models import AutoETS

                self.models_ = [AutoETS(season_length=self.season_length).fit(col)
                                for col in np.asarray(y, dtype=float).T]
                self.n_obs_ = len(y)
                return self

            def predict(self, h, X_future=None):
                return np.column_stack([m.predict(h)["mean"] for m in self.models_])

    then ``simkit.backtest_campaign(data, "C001", 14, members=["seasonal_naive", "auto_ets"])``.
    """

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


#: The former private name of :class:`Member`, kept for the members that subclass it.
_Member = Member


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
