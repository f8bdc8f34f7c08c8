"""Forecast members behind one estimator-style protocol, and their registry.

Every member forecasts the four funnel drivers jointly or one by one:

* the constructor stores settings and an ``alias`` (no work);
* ``fit(y, X=None) -> self`` takes the driver history ``y`` (``(n, k)`` frame indexed by
  day) and the known regressors ``X`` (``log_spend``, ``dow``, ``holiday``; see
  :func:`simkit.forecast.drivers.calendar_features`) and sets fitted state ending in ``_``;
* ``predict(h, X_future=None) -> ndarray (h, k)`` returns point forecasts on the
  transformed scale.  Predictive distributions come from the backtest calibration
  (:mod:`simkit.forecast.ensemble`), the same way for every member, so that members are
  compared on equal terms.

Members that can use the spend plan (``uses_regressors = True``) take ``log_spend`` as a
regressor; the plan is known at forecast time.  ``min_history_days`` says how much history
a member needs to be worth fitting.

Every member is deterministic: the statistical ones have no randomness, the LSTM
(:mod:`simkit.forecast.neural`) seeds its own generator from ``seed``.

``MEMBERS`` maps names to classes; ``FALLBACK`` names the member that replaces a failing one.
"""

from __future__ import annotations

import logging
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any, Self

import numpy as np
import pandas as pd

from simkit._suggest import did_you_mean
from simkit.data.panel import dow_dummies
from simkit.errors import ParamsError
from simkit.forecast._member import (
    SEASON_DAYS,
    Forecaster,
    Member,
    _Member,
    _spend_slope,
)
from simkit.forecast.drivers import calendar_features
from simkit.forecast.llm_member import LLMMember  # off by default: costs tokens
from simkit.forecast.neural import LSTMMember  # imports torch lazily

__all__ = [
    "ENTRY_POINT_GROUP",
    "ETS",
    "FALLBACK",
    "MEMBERS",
    "Member",
    "SARIMAX",
    "Forecaster",
    "ProphetMember",
    "SeasonalNaive",
    "known_members",
    "load_entry_point_members",
    "make_member",
    "register_member",
]

log = logging.getLogger(__name__)


class SeasonalNaive(_Member):
    """Repeat the last week: the baseline every other member must beat (and the fallback).

    Parameters
    ----------
    season_days
        Season length; 7 for the weekly cycle of ad delivery.
    alias
        Display name.
    """

    name = "seasonal_naive"
    min_history_days = SEASON_DAYS

    def __init__(self, *, season_days: int = SEASON_DAYS, alias: str = "seasonal_naive") -> None:
        self.season_days = season_days
        self.alias = alias

    def fit(self, y: pd.DataFrame, X: pd.DataFrame | None = None) -> Self:
        values = np.asarray(y, dtype=float)
        if len(values) < self.season_days:
            raise ValueError(f"needs at least {self.season_days} days, got {len(values)}")
        self.last_season_ = values[-self.season_days :]
        self.n_obs_ = len(values)
        return self

    def predict(self, h: int, X_future: pd.DataFrame | None = None) -> np.ndarray:
        self._check_fitted()
        reps = -(-h // self.season_days)
        return np.tile(self.last_season_, (reps, 1))[:h]


class ETS(_Member):
    """Holt-Winters exponential smoothing per driver (statsmodels): additive level and weekly
    season (no trend by default: over 2-4 week horizons a trend extrapolated from a noisy
    driver hurt more than it helped), fixed settings and no brute-force start so each fit
    is cheap.

    ETS has no regressors, so the spend effect is handled outside it: each driver's slope on
    log spend (day of week and trend partialled out, shrunk toward 0) is removed before
    smoothing and added back with the plan.

    Parameters
    ----------
    trend
        ``None`` (default) or ``"add"`` for an additive damped trend.
    spend_adjust
        Remove and restore the spend effect as described above.
    spend_prior_sd
        Prior sd of the spend slope (shrinkage toward 0).
    """

    name = "ets"
    min_history_days = 14  # two weekly cycles
    uses_regressors = True

    def __init__(
        self,
        *,
        trend: str | None = None,
        spend_adjust: bool = True,
        spend_prior_sd: float = 0.5,
        alias: str = "ets",
    ) -> None:
        self.trend = trend
        self.spend_adjust = spend_adjust
        self.spend_prior_sd = spend_prior_sd
        self.alias = alias

    def fit(self, y: pd.DataFrame, X: pd.DataFrame | None = None) -> Self:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        values = np.asarray(y, dtype=float)
        n, k = values.shape
        use_spend = self.spend_adjust and X is not None
        self.beta_ = np.zeros(k)
        self.spend_mean_ = 0.0
        if use_spend:
            ls = X["log_spend"].to_numpy(dtype=float)
            self.spend_mean_ = float(ls.mean())
            for j in range(k):
                self.beta_[j] = _spend_slope(
                    values[:, j], ls, X["dow"].to_numpy(), self.spend_prior_sd
                )
            values = values - np.outer(ls - self.spend_mean_, self.beta_)
        self.models_ = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for j in range(k):
                model = ExponentialSmoothing(
                    values[:, j],
                    trend=self.trend,
                    damped_trend=self.trend is not None,
                    seasonal="add",
                    seasonal_periods=SEASON_DAYS,
                    initialization_method="estimated",
                )
                self.models_.append(model.fit(optimized=True, use_brute=False))
        self.n_obs_ = n
        return self

    def predict(self, h: int, X_future: pd.DataFrame | None = None) -> np.ndarray:
        self._check_fitted()
        out = np.column_stack([np.asarray(m.forecast(h), dtype=float) for m in self.models_])
        if X_future is not None and np.any(self.beta_):
            ls = X_future["log_spend"].to_numpy(dtype=float)[:h]
            out = out + np.outer(ls - self.spend_mean_, self.beta_)
        return out


class SARIMAX(_Member):
    """Regression with ARMA errors per driver (statsmodels ARIMA, the SARIMAX family): log
    spend, day-of-week dummies and a holiday flag as regressors, AR(1) errors.

    The default estimator is feasible GLS with Yule-Walker AR estimates, which is ~10x
    faster than exact maximum likelihood here and gave the same forecasts on the synthetic
    campaigns; when GLS meets a non-stationary AR root it falls back to exact state-space
    maximum likelihood.

    Parameters
    ----------
    order
        ARIMA(p, d, q) order of the errors.
    trend
        ``"c"`` for a constant, ``"ct"`` for constant and linear trend.
    method
        statsmodels ARIMA estimation method (``"yule_walker"``, ``"burg"``, ``"statespace"``).
    """

    name = "sarimax"
    min_history_days = 14
    uses_regressors = True

    def __init__(
        self,
        *,
        order: tuple[int, int, int] = (1, 0, 0),
        trend: str = "c",
        method: str = "yule_walker",
        alias: str = "sarimax",
    ) -> None:
        self.order = tuple(order)
        self.trend = trend
        self.method = method
        self.alias = alias

    def _exog(self, X: pd.DataFrame, n: int) -> np.ndarray:
        spend = X["log_spend"].to_numpy(dtype=float)[:n] - self.spend_mean_
        dummies = dow_dummies(X["dow"].to_numpy()[:n])
        holiday = X["holiday"].to_numpy(dtype=float)[:n]
        return np.column_stack([spend, dummies, holiday])

    def fit(self, y: pd.DataFrame, X: pd.DataFrame | None = None) -> Self:
        from statsmodels.tsa.arima.model import ARIMA

        values = np.asarray(y, dtype=float)
        n = len(values)
        exog = None
        self.has_exog_ = X is not None
        if X is not None:
            self.spend_mean_ = float(X["log_spend"].mean())
            full = self._exog(X, n)
            # a column that never varies in the history (no holiday yet) is not identifiable
            self.keep_ = np.ptp(full, axis=0) > 0
            exog = full[:, self.keep_] if self.keep_.any() else None
            self.has_exog_ = exog is not None
        self.results_ = []
        self.methods_ = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for j in range(values.shape[1]):
                model = ARIMA(values[:, j], exog=exog, order=self.order, trend=self.trend)
                try:
                    result = model.fit(method=self.method)
                    self.methods_.append(self.method)
                except (ValueError, np.linalg.LinAlgError):
                    result = model.fit(method="statespace")
                    self.methods_.append("statespace")
                self.results_.append(result)
        self.n_obs_ = n
        return self

    def predict(self, h: int, X_future: pd.DataFrame | None = None) -> np.ndarray:
        self._check_fitted()
        exog = None
        if self.has_exog_:
            if X_future is None:
                raise ValueError("fitted with regressors: predict needs X_future")
            exog = self._exog(X_future, h)[:, self.keep_]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.column_stack(
                [np.asarray(r.forecast(h, exog=exog), dtype=float) for r in self.results_]
            )


class ProphetMember(_Member):
    """Prophet per driver: piecewise-linear trend, weekly seasonality, and log spend and a
    public-holiday flag as extra regressors.  Yearly seasonality is off (histories are months,
    not years), ``uncertainty_samples=0`` because only the point is used, and holidays enter
    as one 0/1 regressor rather than Prophet's per-holiday columns (one holiday name rarely
    occurs twice in a few months of history, and the per-holiday features cost more time
    than the fit).

    Parameters
    ----------
    country
        Holiday country (``holidays`` package); ``None`` for none.  Used only when ``X``
        does not already carry the ``holiday`` flag.
    changepoint_prior_scale
        Trend flexibility.
    n_changepoints
        Potential trend changepoints (fewer than Prophet's 25: short series, faster fits).
    n_jobs
        Threads fitting the drivers' models at once (the Stan optimiser runs in a
        subprocess, so threads overlap; results are identical to ``n_jobs=1``).
    """

    name = "prophet"
    min_history_days = 28
    uses_regressors = True
    context_params = ("country",)

    def __init__(
        self,
        *,
        country: str | None = "US",
        changepoint_prior_scale: float = 0.05,
        n_changepoints: int = 10,
        n_jobs: int = 2,
        alias: str = "prophet",
    ) -> None:
        self.country = country
        self.changepoint_prior_scale = changepoint_prior_scale
        self.n_changepoints = n_changepoints
        self.n_jobs = n_jobs
        self.alias = alias

    def _regressors(self, X: pd.DataFrame | None, dates: pd.DatetimeIndex) -> pd.DataFrame:
        if X is None:
            X = calendar_features(dates, np.zeros(len(dates)), self.country)
        return X

    def fit(self, y: pd.DataFrame, X: pd.DataFrame | None = None) -> Self:
        Prophet = _prophet_class()  # noqa: N806 - the class, imported on first use

        values = np.asarray(y, dtype=float)
        dates = pd.DatetimeIndex(y.index)
        X = self._regressors(X, dates)
        frame = pd.DataFrame({"ds": dates})
        self.extra_ = [
            c for c in ("log_spend", "holiday") if np.ptp(X[c].to_numpy(dtype=float)) > 0
        ]
        for column in self.extra_:
            frame[column] = X[column].to_numpy(dtype=float)

        def fit_one(j: int) -> Any:
            model = Prophet(
                growth="linear",
                yearly_seasonality=False,
                weekly_seasonality=True,
                daily_seasonality=False,
                n_changepoints=min(self.n_changepoints, max(len(values) // 3, 1)),
                changepoint_prior_scale=self.changepoint_prior_scale,
                uncertainty_samples=0,
            )
            for column in self.extra_:
                model.add_regressor(column, standardize=column == "log_spend")
            model.make_all_seasonality_features = shared.wrap(model)
            try:
                # L-BFGS at every length: Prophet picks Newton below 100 days, about 3x
                # the Stan time on these series (the backtests' short folds), and still
                # falls back to Newton itself when L-BFGS fails (issue 21)
                return model.fit(frame.assign(y=values[:, j]), algorithm="LBFGS")
            finally:
                del model.make_all_seasonality_features  # the class's method again

        shared = _SharedFeatures()

        # each fit spends much of its time waiting on the CmdStan subprocess (which releases
        # the GIL), so two threads overlap one driver's Stan run with another's pandas
        # set-up; the fits are independent, so the result does not depend on the threads
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.n_jobs > 1:
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(max_workers=self.n_jobs) as pool:
                    self.models_ = list(pool.map(fit_one, range(values.shape[1])))
            else:
                self.models_ = [fit_one(j) for j in range(values.shape[1])]
        self.last_date_ = dates[-1]
        self.n_obs_ = len(values)
        return self

    def predict(self, h: int, X_future: pd.DataFrame | None = None) -> np.ndarray:
        self._check_fitted()
        dates = pd.date_range(self.last_date_ + pd.Timedelta(days=1), periods=h, freq="D")
        if self.extra_ and X_future is None:
            raise ValueError("fitted with regressors: predict needs X_future")
        future = pd.DataFrame({"ds": dates})
        for column in self.extra_:
            future[column] = X_future[column].to_numpy(dtype=float)[:h]
        return np.column_stack([_prophet_point(model, future) for model in self.models_])


class _SharedFeatures:
    """Prophet's feature matrix, built once for the drivers' models of one fit.

    ``Prophet.fit`` builds the seasonal and regressor features and their component table
    (a crosstab) from the dates and the regressors only, never from ``y``: the four
    drivers' models of one member fit have the same, and building them was half of each
    fit's Python time (issue 21).  The first model builds them; the others get copies
    when their dates and regressors are the same bytes (they always are here, the check
    keeps it honest).  Results are identical to separate fits (tested)."""

    def __init__(self) -> None:
        self._built: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self._lock = threading.Lock()

    def wrap(self, model: Any) -> Callable[[pd.DataFrame], tuple[Any, ...]]:
        build = model.make_all_seasonality_features
        names = tuple(model.extra_regressors)

        def features(df: pd.DataFrame) -> tuple[Any, ...]:
            key = (
                names,
                df["ds"].to_numpy().tobytes(),
                *(df[name].to_numpy(dtype=float).tobytes() for name in names),
            )
            with self._lock:
                if key not in self._built:
                    self._built[key] = build(df)
                seasonal, priors, components, modes = self._built[key]
            return (
                seasonal.copy(),
                list(priors),
                components.copy(),
                {mode: list(v) for mode, v in modes.items()},
            )

        return features


def _prophet_point(model: Any, future: pd.DataFrame) -> np.ndarray:
    """``model.predict(future)["yhat"]`` of a fitted Prophet, computed from its fitted
    parameters without the component frames ``predict`` builds (which took a third of a
    campaign's forecasting time: issue 21).  The same formula as Prophet's (trend from
    :meth:`Prophet.piecewise_linear`, features from :meth:`Prophet.fourier_series` and the
    standardised regressors, in Prophet's column order, times the point ``beta``), so the
    numbers agree to rounding (tested against ``predict``).  A model this member does not
    build (other growth, holidays, conditional seasonalities, sampled parameters) goes
    through ``predict`` itself."""
    if (
        model.growth != "linear"
        or model.holidays is not None
        or model.country_holidays is not None
        or model.logistic_floor
        or model.scaling != "absmax"
        or np.shape(model.params["beta"])[0] != 1
        or any(props["condition_name"] is not None for props in model.seasonalities.values())
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return model.predict(future)["yhat"].to_numpy(dtype=float)
    ds = pd.to_datetime(future["ds"]).reset_index(drop=True)
    t = ((ds - model.start) / model.t_scale).to_numpy(dtype=float)
    trend = model.piecewise_linear(
        t,
        np.nanmean(model.params["delta"], axis=0),
        np.nanmean(model.params["k"]),
        np.nanmean(model.params["m"]),
        model.changepoints_t,
    )
    columns = [
        model.fourier_series(ds, props["period"], props["fourier_order"])
        for props in model.seasonalities.values()
    ]
    for name, props in model.extra_regressors.items():
        values = future[name].to_numpy(dtype=float)
        columns.append(((values - props["mu"]) / props["std"])[:, None])
    if not columns:
        columns.append(np.zeros((len(ds), 1)))  # Prophet's dummy column
    X = np.column_stack(columns)
    beta = np.asarray(model.params["beta"], dtype=float)
    cols = model.train_component_cols
    additive = X @ (beta * cols["additive_terms"].to_numpy()).T * model.y_scale
    multiplicative = X @ (beta * cols["multiplicative_terms"].to_numpy()).T
    return trend * model.y_scale * (1 + multiplicative[:, 0]) + additive[:, 0]


def _prophet_class() -> Any:
    """``prophet.Prophet``, imported on first use (heavy: cmdstanpy; only this member
    needs it).

    ``prophet.forecaster`` imports ``prophet.plot``, which imports matplotlib if it can:
    half of Prophet's import time (about 0.5 s of a cold ``simkit simulate``, issue 21),
    for plotting simkit never does (simkit does not use matplotlib).  When matplotlib is
    not loaded yet, that optional import is made to fail (``None`` in ``sys.modules``
    for the duration of the import; prophet catches the ImportError), and matplotlib is
    importable again afterwards.  Prophet's own ``plot`` functions then do not work in
    this process; import matplotlib before the first Prophet fit to keep them."""
    _quiet_prophet()  # before the import: prophet logs its plotting ERRORs while importing
    if "prophet.forecaster" not in sys.modules and "matplotlib" not in sys.modules:
        sys.modules["matplotlib"] = None  # type: ignore[assignment]
        try:
            from prophet import Prophet
        finally:
            del sys.modules["matplotlib"]
    from prophet import Prophet

    return Prophet


def _quiet_prophet() -> None:
    """Prophet and cmdstanpy log at INFO on every fit, and prophet logs "Importing plotly
    failed" at ERROR when ``prophet.plot`` is imported (plotly is not a dependency); keep our
    logs readable.  Must run before ``prophet`` is first imported."""
    from cmdstanpy.utils.logging import get_logger

    get_logger().setLevel(logging.WARNING)  # creates cmdstanpy's handler first, then quiets it
    logging.getLogger("prophet").setLevel(logging.WARNING)
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)


MEMBERS: dict[str, type[Forecaster]] = {
    "seasonal_naive": SeasonalNaive,
    "ets": ETS,
    "sarimax": SARIMAX,
    "prophet": ProphetMember,
    "lstm": LSTMMember,
    "llm": LLMMember,
}
#: The member that stands in for one that fails to fit or predict.
FALLBACK = "seasonal_naive"


#: The entry-point group through which an installed package ships members.
ENTRY_POINT_GROUP = "simkit.members"
_entry_points_loaded = False


def register_member(
    cls: type[Forecaster] | None = None, *, name: str | None = None, replace: bool = False
) -> Any:
    """Register a forecast member under ``name`` (default: the class's ``name``).

    Use it as a decorator, bare or with arguments, or call it::

        @simkit.register_member
        class MyMember(simkit.forecast.Member):
            name = "my_member"
            ...

        simkit.register_member(OtherMember, name="other")

    A registered member is then used like the built-in ones: by name in ``members=[...]``
    of :func:`~simkit.forecast_campaign`, :func:`~simkit.backtest_campaign`, the run
    params and the CLI.  The class must follow the estimator protocol
    (:class:`~simkit.forecast.Forecaster`): construct with no arguments (keyword-only
    settings with defaults; the ensemble passes ``seed`` and ``country`` when they are in
    ``context_params``), ``get_params()``, ``fit(y, X=None) -> self`` and
    ``predict(h, X_future=None) -> (h, k) array``.  Subclassing
    :class:`~simkit.forecast.Member` gives ``get_params``, ``context_params`` and the
    defaults of ``min_history_days`` and ``uses_regressors``.

    Raises
    ------
    ParamsError
        The class misses part of the protocol, the name is empty or not an identifier, or
        it is taken by another class and ``replace`` is false.
    """

    def add(member: type[Forecaster]) -> type[Forecaster]:
        key = name or getattr(member, "name", "")
        where = f"{getattr(member, '__module__', '?')}.{getattr(member, '__qualname__', member)}"
        if not isinstance(key, str) or not key.isidentifier():
            raise ParamsError(
                f"member {where} needs a name (a class attribute `name` or "
                f"register_member(..., name=...)) made of letters, digits and _; got {key!r}",
                field="members",
            )
        missing = [
            attr
            for attr in ("fit", "predict", "get_params", "min_history_days", "uses_regressors")
            if not hasattr(member, attr)
        ]
        if missing:
            raise ParamsError(
                f"member {key!r} ({where}) does not follow the estimator protocol: it lacks "
                f"{', '.join(missing)} (subclass simkit.forecast.Member for the plumbing)",
                field="members",
            )
        known = MEMBERS.get(key)
        # the same class defined again (a notebook cell run twice) replaces itself
        redefined = known is not None and (known.__module__, known.__qualname__) == (
            member.__module__,
            member.__qualname__,
        )
        if known is not None and known is not member and not (replace or redefined):
            raise ParamsError(
                f"member name {key!r} is taken by {known.__module__}.{known.__qualname__}; "
                "choose another name or pass replace=True",
                field="members",
            )
        MEMBERS[key] = member
        return member

    return add if cls is None else add(cls)


def load_entry_point_members() -> list[str]:
    """Register the members that installed packages declare in the ``simkit.members``
    entry-point group (``name = "package.module:Class"``), once per process; returns the
    names registered by this call.

    Called on first use of the registry (:func:`known_members`), never at import.  An
    entry point whose name is taken by another class is an error, not a replacement.

    Raises
    ------
    ParamsError
        An entry point cannot be loaded or its class breaks the protocol (named, with the
        package that declared it).
    """
    global _entry_points_loaded
    if _entry_points_loaded:
        return []
    from importlib.metadata import entry_points

    added = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            member = point.load()
        except Exception as exc:  # noqa: BLE001 - any import failure is reported with its source
            raise ParamsError(
                f"forecast member {point.name!r} declared by the entry point {point.value!r} "
                f"({ENTRY_POINT_GROUP}) could not be loaded: {type(exc).__name__}: {exc}",
                field="members",
            ) from exc
        register_member(member, name=point.name)
        added.append(point.name)
    _entry_points_loaded = True
    return added


def known_members() -> dict[str, type[Forecaster]]:
    """The member registry, with the entry points' members loaded (on first call)."""
    load_entry_point_members()
    return MEMBERS


def make_member(name: str, *, seed: int = 0, country: str | None = "US") -> Forecaster:
    """Instantiate a registered member with the settings the ensemble uses."""
    registry = MEMBERS if name in MEMBERS else known_members()
    if name not in registry:
        raise ParamsError(
            f"unknown member {name!r}{did_you_mean(name, sorted(registry))}", field="members"
        )
    cls = registry[name]
    context = {"seed": seed, "country": country}
    return cls(**{k: context[k] for k in getattr(cls, "context_params", ())})
