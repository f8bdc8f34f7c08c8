"""Spend response curves: conversions (or revenue) per day as a saturating function of spend.

Pure maths on arrays; :func:`fit_response_curves` in :mod:`simkit.pivots.history` wraps it
for a contract frame.

Model (one campaign or channel, days ``t``)::

    y_t ~ NegBin(mean mu_t, var mu_t + alpha mu_t^2)
    mu_t = exp(theta0 + log g(x_t) - log g(s_ref) + gamma_dow(t))
    x_t = (1 - lambda) * sum_k lambda^k s_{t-k}        (geometric carryover, lambda >= 0)

with ``g`` from a registry of *saturating* families, so that no curve rises without bound
and none is negative:

``hill``
    ``g(x) = x^a / (1 + (x / K)^a)``, ``0 < a < 1``: concave, bounded by ``K^a``; for
    ``K`` far above the data it is the power curve ``x^a`` within the data's range.
``exp_saturation``
    ``g(x) = 1 - exp(-x / K)``: concave, bounded by 1.

Both are concave in ``x`` (a concave increasing function of a concave one), so the budget
optimiser's marginal-return water-filling is exact.

Fitting is maximum a posteriori under weak priors (the regularisation that keeps short or
flat-spend histories sensible: the curvature falls back to the prior's elasticity of about
0.6), with an analytic gradient.  Day-of-week effects ``gamma`` (Monday = 0) have a
``N(0, 0.2^2)`` prior.  Uncertainty is a Laplace approximation: parameter draws from a
Gaussian at the mode whose covariance (inverse Hessian) is inflated by the variance factor
``c = (1 + rho) / (1 - rho)`` of the lag-1 autocorrelation ``rho`` of the Pearson
residuals, because daily noise in ad data is autocorrelated and the plain Laplace
covariance would be too narrow.  Every draw is a valid curve (the parameters are
unconstrained transforms), so every sampled curve is bounded, concave and non-negative.

Model choice is by quasi-AIC (``QAIC = -2 logL / c + 2 k``, Burnham & Anderson 2002, ch.
2.5), which is AIC corrected for overdispersion/autocorrelation: first the family among
those requested (at no carryover; default :data:`DEFAULT_FAMILIES`, Hill only), then
carryover ``lambda`` in ``CARRYOVER_GRID`` for that family (one extra parameter), so
carryover is kept only where the data support it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special

from simkit.data.panel import dow_dummies

__all__ = [
    "CARRYOVER_GRID",
    "DEFAULT_FAMILIES",
    "FAMILIES",
    "CurveFamily",
    "ResponseCurve",
    "adstock",
    "fit_response_curve",
]

CARRYOVER_GRID: tuple[float, ...] = (0.0, 0.3, 0.6)
#: Families tried by default.  ``exp_saturation`` stays in the registry and competes by
#: QAIC when listed, but is not a default: when the data cannot tell the two apart, QAIC
#: picks it for its one parameter less, and its elasticity then falls too fast beyond the
#: bulk of the data (on ``bench/pivot_regret.py`` it cost about 1 point of the optimum on
#: average and 5 points on one portfolio, against Hill alone).
DEFAULT_FAMILIES: tuple[str, ...] = ("hill",)
_DOW_PRIOR_SD = 0.2
_LOG_ALPHA_PRIOR = (np.log(0.02), 1.5)
_THETA0_PRIOR_SD = 3.0
_MIN_RHO, _MAX_RHO = 0.0, 0.9


@dataclass(frozen=True)
class CurveFamily:
    """A saturating family: its shape parameters, their priors, ``log g`` and derivatives.

    ``log_g(x, shape, s_ref)`` returns ``(log g (T,), d log g / d shape (k, T))``;
    ``log_g_batch(x (m,), shapes (n, k), s_ref)`` returns ``(n, m)`` values for many draws;
    ``dlog_g_dx(x, shape, s_ref)`` returns ``d log g / dx`` (used for marginal returns);
    ``log_sup(shapes (n, k), s_ref)`` the log of ``sup g`` (finite: the curve is bounded).
    Shape parameters are unconstrained; ``K`` is expressed relative to ``s_ref``.
    """

    name: str
    shape_names: tuple[str, ...]
    prior_mean: Callable[[float], np.ndarray]
    prior_sd: np.ndarray
    log_g: Callable[[np.ndarray, np.ndarray, float], tuple[np.ndarray, np.ndarray]]
    log_g_batch: Callable[[np.ndarray, np.ndarray, float], np.ndarray]
    dlog_g_dx: Callable[[np.ndarray, np.ndarray, float], np.ndarray]
    log_sup: Callable[[np.ndarray, float], np.ndarray]
    describe: Callable[[np.ndarray, float], dict[str, float]]

    @property
    def n_shape(self) -> int:
        return len(self.shape_names)


def _hill_log_g(x: np.ndarray, shape: np.ndarray, s_ref: float) -> tuple[np.ndarray, np.ndarray]:
    a = special.expit(shape[0])
    k = np.exp(shape[1]) * s_ref
    log_x = np.log(x)
    log_z = log_x - np.log(k)
    w = np.exp(np.clip(a * log_z, -700, 700))
    value = a * log_x - np.log1p(w)
    d_a = log_x - w * log_z / (1.0 + w)
    d_v = a * w / (1.0 + w)
    return value, np.stack([d_a * a * (1.0 - a), d_v])


def _hill_batch(x: np.ndarray, shape: np.ndarray, s_ref: float) -> np.ndarray:
    a = special.expit(shape[:, :1])
    log_k = shape[:, 1:2] + np.log(s_ref)
    log_x = np.log(x)[None, :]
    return a * log_x - np.log1p(np.exp(np.clip(a * (log_x - log_k), -700, 700)))


def _hill_dx(x: np.ndarray, shape: np.ndarray, s_ref: float) -> np.ndarray:
    a = special.expit(shape[..., 0])
    k = np.exp(shape[..., 1]) * s_ref
    w = np.exp(np.clip(a * np.log(x / k), -700, 700))
    return a / (x * (1.0 + w))


def _hill_describe(shape: np.ndarray, s_ref: float) -> dict[str, float]:
    return {"a": float(special.expit(shape[0])), "K": float(np.exp(shape[1]) * s_ref)}


def _exp_log_g(x: np.ndarray, shape: np.ndarray, s_ref: float) -> tuple[np.ndarray, np.ndarray]:
    z = x / (np.exp(shape[0]) * s_ref)
    value = np.log(-np.expm1(-z))
    d_v = -z / np.expm1(np.minimum(z, 700.0))
    return value, d_v[None, :]


def _exp_batch(x: np.ndarray, shape: np.ndarray, s_ref: float) -> np.ndarray:
    z = x[None, :] / (np.exp(shape[:, :1]) * s_ref)
    return np.log(-np.expm1(-z))


def _exp_dx(x: np.ndarray, shape: np.ndarray, s_ref: float) -> np.ndarray:
    k = np.exp(shape[..., 0]) * s_ref
    return 1.0 / (k * np.expm1(np.minimum(x / k, 700.0)))


def _exp_describe(shape: np.ndarray, s_ref: float) -> dict[str, float]:
    return {"K": float(np.exp(shape[0]) * s_ref)}


#: Saturating families by name.  Priors put the elasticity at the reference spend near 0.64
#: (diminishing returns close to a square root, the common prior belief): Hill ``a`` centred
#: at 0.75 (logit sd 1.2) with half-saturation ``K`` at 10x the reference spend (log sd
#: 1.5); exponential saturation ``K`` at 1.2x the reference spend (log sd 1.0).
FAMILIES: dict[str, CurveFamily] = {
    "hill": CurveFamily(
        name="hill",
        shape_names=("logit_a", "log_k_rel"),
        prior_mean=lambda smax_rel: np.array([np.log(0.75 / 0.25), np.log(10.0)]),
        prior_sd=np.array([1.2, 1.5]),
        log_g=_hill_log_g,
        log_g_batch=_hill_batch,
        dlog_g_dx=_hill_dx,
        log_sup=lambda shape, s_ref: special.expit(shape[:, 0]) * (shape[:, 1] + np.log(s_ref)),
        describe=_hill_describe,
    ),
    "exp_saturation": CurveFamily(
        name="exp_saturation",
        shape_names=("log_k_rel",),
        prior_mean=lambda smax_rel: np.array([np.log(1.2)]),
        prior_sd=np.array([1.0]),
        log_g=_exp_log_g,
        log_g_batch=_exp_batch,
        dlog_g_dx=_exp_dx,
        log_sup=lambda shape, s_ref: np.zeros(len(shape)),
        describe=_exp_describe,
    ),
}


def adstock(spend: np.ndarray, carryover: float) -> np.ndarray:
    """Geometric carryover normalised to keep the steady state: a constant spend ``s``
    gives ``x = s``.  The series starts in the steady state of its first day's spend."""
    s = np.asarray(spend, dtype=float)
    if carryover <= 0:
        return s.copy()
    out = np.empty_like(s)
    prev = s[0]
    for t, value in enumerate(s):
        prev = carryover * prev + (1.0 - carryover) * value
        out[t] = prev
    return out


@dataclass(frozen=True)
class ResponseCurve:
    """A fitted spend response with parameter draws.

    ``expected(s)`` is the expected response per day (an average weekday) at a constant
    daily spend ``s`` (the steady state, so carryover does not change it), averaged over
    the parameter draws; ``samples(s)`` gives one curve per draw.

    Attributes
    ----------
    key
        Campaign or channel id.
    metric
        ``conversions`` or ``revenue``.
    family
        Registry name in :data:`FAMILIES`.
    carryover
        Geometric carryover ``lambda`` chosen by QAIC.
    s_ref
        Reference spend (median daily spend of the fit window).
    params
        Mode: ``[theta0, *shape, gamma_1..gamma_6, log_alpha]``.
    draws
        ``(n_draws, n_params)`` Laplace draws (empty when none were requested).
    dispersion_inflation
        ``c`` from the residual autocorrelation (>= 1).
    residual_rho
        Lag-1 autocorrelation of the Pearson residuals.
    qaic
        QAIC of the chosen model; ``candidates`` holds every candidate's QAIC.
    n_days, spend_min, spend_max
        The fit window's size and observed spend range.
    """

    key: str
    metric: str
    family: str
    carryover: float
    s_ref: float
    params: np.ndarray
    cov: np.ndarray
    draws: np.ndarray
    dispersion_inflation: float
    residual_rho: float
    qaic: float
    n_days: int
    spend_min: float
    spend_max: float
    candidates: dict[str, float] = field(default_factory=dict)

    @property
    def _family(self) -> CurveFamily:
        return FAMILIES[self.family]

    def _split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        k = self._family.n_shape
        theta = np.atleast_2d(theta)
        return theta[:, 0], theta[:, 1 : 1 + k], theta[:, 1 + k : 7 + k]

    def _level(self, theta: np.ndarray) -> np.ndarray:
        """Response at ``s_ref`` on an average weekday, ``(n,)``."""
        theta0, _, gamma = self._split(theta)
        dow = np.concatenate([np.ones((len(theta0), 1)), np.exp(gamma)], axis=1).mean(axis=1)
        return np.exp(theta0) * dow

    def _curve(self, theta: np.ndarray, spend: np.ndarray) -> np.ndarray:
        fam = self._family
        _, shape, _ = self._split(theta)
        s = np.maximum(np.asarray(spend, dtype=float), 0.0)
        pos = np.maximum(s.ravel(), 1e-12)
        log_g = fam.log_g_batch(pos, shape, self.s_ref)
        log_ref = fam.log_g_batch(np.array([self.s_ref]), shape, self.s_ref)
        out = np.exp(log_g - log_ref) * self._level(theta)[:, None]
        return np.where(s.ravel()[None, :] > 0, out, 0.0)

    def mode(self, spend: np.ndarray | float) -> np.ndarray:
        """Response per day at the posterior mode (shape of ``spend``)."""
        s = np.asarray(spend, dtype=float)
        return self._curve(self.params, s)[0].reshape(s.shape)

    def samples(self, spend: np.ndarray | float) -> np.ndarray:
        """``(n_draws, *spend.shape)`` responses per day, one row per parameter draw."""
        s = np.asarray(spend, dtype=float)
        theta = self.draws if len(self.draws) else self.params[None, :]
        return self._curve(theta, s).reshape((len(theta), *s.shape))

    def expected(self, spend: np.ndarray | float) -> np.ndarray:
        """Expected response per day (mean over draws), shape of ``spend``."""
        return self.samples(spend).mean(axis=0)

    def sample_marginal(self, spend: np.ndarray) -> np.ndarray:
        """``(n_draws, n)`` d response / d spend for a vector of spends."""
        s = np.maximum(np.atleast_1d(np.asarray(spend, dtype=float)), 1e-9)
        theta = self.draws if len(self.draws) else self.params[None, :]
        _, shape, _ = self._split(theta)
        value = self._curve(theta, s)
        dlog = self._family.dlog_g_dx(s[None, :], shape[:, None, :], self.s_ref)
        return value * dlog

    def marginal(self, spend: np.ndarray | float) -> np.ndarray:
        """Expected marginal response d E[response] / d spend."""
        s = np.asarray(spend, dtype=float)
        return self.sample_marginal(s.ravel()).mean(axis=0).reshape(s.shape)

    def ceiling(self) -> np.ndarray:
        """``(n_draws,)`` supremum of each drawn curve: the response it saturates towards."""
        theta = self.draws if len(self.draws) else self.params[None, :]
        _, shape, _ = self._split(theta)
        log_ref = self._family.log_g_batch(np.array([self.s_ref]), shape, self.s_ref)[:, 0]
        return np.exp(self._family.log_sup(shape, self.s_ref) - log_ref) * self._level(theta)

    def dow_effects(self) -> np.ndarray:
        """``(n_draws, 7)`` multiplicative day-of-week effects (Monday first), mean 1."""
        theta = self.draws if len(self.draws) else self.params[None, :]
        _, _, gamma = self._split(theta)
        eff = np.exp(np.concatenate([np.zeros((len(gamma), 1)), gamma], axis=1))
        return eff / eff.mean(axis=1, keepdims=True)

    def dispersion(self) -> float:
        """Negative-binomial ``alpha`` at the mode (var = mu + alpha mu^2)."""
        return float(np.exp(self.params[-1]))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no draws)."""
        shape = self.params[1 : 1 + self._family.n_shape]
        grid = np.array([self.spend_min, self.s_ref, self.spend_max])
        return {
            "key": self.key,
            "metric": self.metric,
            "family": self.family,
            "shape": self._family.describe(shape, self.s_ref),
            "carryover": float(self.carryover),
            "s_ref": float(self.s_ref),
            "response_at_s_ref": float(self.expected(self.s_ref)),
            "elasticity_at_s_ref": float(
                self.marginal(self.s_ref)
                * self.s_ref
                / max(float(self.expected(self.s_ref)), 1e-12)
            ),
            "observed_spend_range": [float(self.spend_min), float(self.spend_max)],
            "expected_at_range": [float(v) for v in self.expected(grid)],
            "dispersion_alpha": self.dispersion(),
            "residual_rho": float(self.residual_rho),
            "dispersion_inflation": float(self.dispersion_inflation),
            "qaic": float(self.qaic),
            "candidates": {k: float(v) for k, v in self.candidates.items()},
            "n_days": int(self.n_days),
            "n_draws": len(self.draws),
        }


def _dow_design(dow: np.ndarray) -> np.ndarray:
    """``(6, T)`` indicators of Tuesday..Sunday (Monday is the baseline): the one encoding,
    :func:`simkit.data.panel.dow_dummies`, transposed."""
    return dow_dummies(np.asarray(dow)).T


def _objective(
    theta: np.ndarray,
    fam: CurveFamily,
    x: np.ndarray,
    y: np.ndarray,
    d: np.ndarray,
    s_ref: float,
    prior_mean: np.ndarray,
    prior_sd: np.ndarray,
    offset: np.ndarray | float = 0.0,
) -> tuple[float, np.ndarray, float]:
    """Negative log posterior, its gradient, and the log-likelihood up to a constant."""
    k = fam.n_shape
    shape = theta[1 : 1 + k]
    gamma = theta[1 + k : 7 + k]
    log_alpha = theta[-1]
    log_g, d_shape = fam.log_g(x, shape, s_ref)
    log_ref, d_ref = fam.log_g(np.array([s_ref]), shape, s_ref)
    eta = theta[0] + log_g - log_ref[0] + gamma @ d + offset
    eta = np.clip(eta, -50, 50)
    mu = np.exp(eta)
    r = np.exp(-log_alpha)
    rm = r + mu
    ll_t = (
        special.gammaln(y + r)
        - special.gammaln(r)
        + r * (np.log(r) - np.log(rm))
        + y * (eta - np.log(rm))
    )
    ll = float(ll_t.sum())
    score = r * (y - mu) / rm
    grad = np.empty_like(theta)
    grad[0] = score.sum()
    grad[1 : 1 + k] = d_shape @ score - d_ref[:, 0] * score.sum()
    grad[1 + k : 7 + k] = d @ score
    d_r = special.digamma(y + r) - special.digamma(r) + np.log(r / rm) + 1.0 - (y + r) / rm
    grad[-1] = float((d_r * -r).sum())
    z = (theta - prior_mean) / prior_sd
    neg_post = -ll + 0.5 * float(z @ z)
    neg_grad = -grad + z / prior_sd
    return neg_post, neg_grad, ll


def _fit_mode(
    fam: CurveFamily,
    x: np.ndarray,
    y: np.ndarray,
    d: np.ndarray,
    s_ref: float,
    prior_mean: np.ndarray,
    prior_sd: np.ndarray,
    start: np.ndarray | None = None,
    offset: np.ndarray | float = 0.0,
) -> tuple[np.ndarray, float]:
    def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad, _ = _objective(theta, fam, x, y, d, s_ref, prior_mean, prior_sd, offset)
        return value, grad

    x0 = prior_mean.copy() if start is None else start.copy()
    res = optimize.minimize(fun, x0, jac=True, method="BFGS", options={"gtol": 1e-5})
    # the log-likelihood without the constant -sum(log y!), identical across candidates
    ll = _objective(res.x, fam, x, y, d, s_ref, prior_mean, prior_sd, offset)[2]
    return res.x, ll


def _hessian(
    theta: np.ndarray,
    fam: CurveFamily,
    x: np.ndarray,
    y: np.ndarray,
    d: np.ndarray,
    s_ref: float,
    prior_mean: np.ndarray,
    prior_sd: np.ndarray,
    offset: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Central finite differences of the analytic gradient, symmetrised."""
    p = len(theta)
    h = np.empty((p, p))
    for i in range(p):
        step = 1e-5 * max(1.0, abs(theta[i]))
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        g_up = _objective(up, fam, x, y, d, s_ref, prior_mean, prior_sd, offset)[1]
        g_down = _objective(down, fam, x, y, d, s_ref, prior_mean, prior_sd, offset)[1]
        h[i] = (g_up - g_down) / (2 * step)
    return 0.5 * (h + h.T)


def _residual_rho(
    theta: np.ndarray,
    fam: CurveFamily,
    x: np.ndarray,
    y: np.ndarray,
    d: np.ndarray,
    s_ref: float,
    offset: np.ndarray | float = 0.0,
) -> float:
    k = fam.n_shape
    log_g, _ = fam.log_g(x, theta[1 : 1 + k], s_ref)
    log_ref, _ = fam.log_g(np.array([s_ref]), theta[1 : 1 + k], s_ref)
    mu = np.exp(np.clip(theta[0] + log_g - log_ref[0] + theta[1 + k : 7 + k] @ d + offset, -50, 50))
    alpha = np.exp(theta[-1])
    resid = (y - mu) / np.sqrt(mu + alpha * mu**2)
    if len(resid) < 8 or np.std(resid) == 0:
        return 0.0
    rho = float(np.corrcoef(resid[:-1], resid[1:])[0, 1])
    return float(np.clip(rho if np.isfinite(rho) else 0.0, _MIN_RHO, _MAX_RHO))


def fit_response_curve(
    spend: np.ndarray,
    response: np.ndarray,
    dow: np.ndarray,
    *,
    rng: np.random.Generator,
    key: str = "",
    metric: str = "conversions",
    n_draws: int = 200,
    families: tuple[str, ...] = DEFAULT_FAMILIES,
    carryover_grid: tuple[float, ...] = CARRYOVER_GRID,
    offset: np.ndarray | None = None,
) -> ResponseCurve:
    """Fit a saturating spend response to daily ``spend`` and ``response`` (counts).

    Parameters
    ----------
    spend, response
        Daily spend and conversions (or revenue; treated as a count-like positive series).
    dow
        Day of week of each day (Monday = 0).
    rng
        Source of the Laplace draws (the fit itself is deterministic).
    key, metric
        Labels kept on the result.
    n_draws
        Number of parameter draws for uncertainty.
    families, carryover_grid
        Candidates (see the module docstring for the QAIC choice).
    offset
        Known log-scale shift of each day's response (e.g. the creative's CTR state, see
        :func:`simkit.simulate.fatigue.ctr_offset`); the curve is then the response at
        offset 0.

    Returns
    -------
    ResponseCurve

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = np.repeat([400.0, 800.0, 600.0, 1000.0], 21)
    >>> y = rng.poisson(2.0 * s**0.6)
    >>> curve = fit_response_curve(s, y, np.arange(84) % 7, rng=rng)
    >>> bool(curve.expected(1600.0) < 2 * curve.expected(800.0))
    True
    """
    s = np.asarray(spend, dtype=float)
    y = np.asarray(response, dtype=float)
    dow = np.asarray(dow, dtype=int)
    if not (s.shape == y.shape == dow.shape) or s.ndim != 1:
        raise ValueError("spend, response and dow must be 1-d arrays of equal length")
    if np.any(s < 0) or np.any(y < 0) or not np.all(np.isfinite(s)) or not np.all(np.isfinite(y)):
        raise ValueError("spend and response must be finite and non-negative")
    if np.count_nonzero(s > 0) < 7:
        raise ValueError(f"{key or 'series'}: fewer than 7 days with spend")
    pos = s[s > 0]
    s_ref = float(np.median(pos))
    d_all = _dow_design(dow)
    off_all = np.zeros_like(s) if offset is None else np.asarray(offset, dtype=float)
    if off_all.shape != s.shape or not np.all(np.isfinite(off_all)):
        raise ValueError("offset must be finite and as long as spend")

    def prepare(lam: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        x = adstock(s, lam)
        keep = x > 0
        return x[keep], y[keep], d_all[:, keep], off_all[keep]

    def priors(fam: CurveFamily) -> tuple[np.ndarray, np.ndarray]:
        y_ref = y[s > 0]
        theta0 = np.log(max(float(np.mean(y_ref)), 0.5))
        mean = np.concatenate(
            [[theta0], fam.prior_mean(float(pos.max() / s_ref)), np.zeros(6), [_LOG_ALPHA_PRIOR[0]]]
        )
        sd = np.concatenate(
            [[_THETA0_PRIOR_SD], fam.prior_sd, np.full(6, _DOW_PRIOR_SD), [_LOG_ALPHA_PRIOR[1]]]
        )
        return mean, sd

    fits: dict[tuple[str, float], tuple[np.ndarray, float]] = {}
    x0, y0, d0, o0 = prepare(0.0)
    start: np.ndarray | None = None
    for name in families:
        fam = FAMILIES[name]
        mean, sd = priors(fam)
        if start is not None:
            # warm start: level, day-of-week and dispersion carry over between families
            mean_start = mean.copy()
            mean_start[0], mean_start[-7:] = start[0], start[-7:]
            fits[(name, 0.0)] = _fit_mode(fam, x0, y0, d0, s_ref, mean, sd, mean_start, o0)
        else:
            fits[(name, 0.0)] = _fit_mode(fam, x0, y0, d0, s_ref, mean, sd, None, o0)
        start = fits[(name, 0.0)][0]

    # the inflation factor c from the richest base fit, shared by all comparisons
    base_name = min(families, key=lambda n: -fits[(n, 0.0)][1])
    rho = _residual_rho(fits[(base_name, 0.0)][0], FAMILIES[base_name], x0, y0, d0, s_ref, o0)
    c = (1.0 + rho) / (1.0 - rho)

    def qaic(name: str, lam: float) -> float:
        k = len(fits[(name, lam)][0]) + (1 if lam > 0 else 0)
        return -2.0 * fits[(name, lam)][1] / c + 2.0 * k

    family = min(families, key=lambda n: qaic(n, 0.0))
    for lam in carryover_grid:
        if lam > 0:
            fam = FAMILIES[family]
            xl, yl, dl, ol = prepare(lam)
            fits[(family, lam)] = _fit_mode(
                fam, xl, yl, dl, s_ref, *priors(fam), fits[(family, 0.0)][0], ol
            )
    carry = min((lam for (n, lam) in fits if n == family), key=lambda lam: qaic(family, lam))
    candidates = {f"{n}@{lam:g}": qaic(n, lam) for (n, lam) in fits}

    fam = FAMILIES[family]
    theta, _ = fits[(family, carry)]
    x, yk, dk, ok_ = prepare(carry)
    mean, sd = priors(fam)
    h = _hessian(theta, fam, x, yk, dk, s_ref, mean, sd, ok_)
    try:
        cov = np.linalg.inv(h)
        cov = 0.5 * (cov + cov.T)
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        # not positive definite (flat direction): fall back to the prior's scale there
        w, v = np.linalg.eigh(h)
        w = np.maximum(w, 1.0 / np.max(sd) ** 2)
        cov = (v / w) @ v.T
    cov = cov * c
    draws = (
        rng.multivariate_normal(theta, cov, size=n_draws, method="cholesky")
        if n_draws > 0
        else np.empty((0, len(theta)))
    )
    return ResponseCurve(
        key=key,
        metric=metric,
        family=family,
        carryover=float(carry),
        s_ref=s_ref,
        params=theta,
        cov=cov,
        draws=draws,
        dispersion_inflation=float(c),
        residual_rho=float(rho),
        qaic=float(qaic(family, carry)),
        n_days=len(yk),
        spend_min=float(pos.min()),
        spend_max=float(pos.max()),
        candidates=candidates,
    )
