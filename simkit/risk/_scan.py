"""Changepoint scan of one daily log-metric: a step or a ramp starting k days ago.

For a metric on the log scale (log CPM, log CTR, log CVR, ...) the model is

    y_t = x_t' beta + e_t + u_t,

where ``x_t`` holds an intercept, day-of-week effects and drivers such as log spend or
creative age; ``e_t`` is campaign-level noise, AR(1) in days with variance ``sigma^2`` and
coefficient ``phi`` (markets drift, so neighbouring days are alike); and ``u_t`` is counting
noise whose variance ``v_t`` is known exactly from the counts (for a binomial rate
``log(k/n)``, ``v_t ~ 1/k``).  For every candidate onset ``k`` days ago (``k`` in
``windows``) the scan

1. fits ``beta`` by weighted ridge regression on the ``baseline_days`` before the onset
   (priors keep short baselines stable: day-of-week effects near 0, CPM elasticity to
   spend near 0.3),
2. estimates ``sigma`` (robustly, from the median absolute residual, minus the counting
   noise, with a degrees-of-freedom correction) and ``phi`` (lag-1 autocorrelation,
   corrected for its small-sample bias and shrunk towards 0.5) from the baseline
   residuals,
3. predicts the last ``k`` days from the baseline fit and summarises the residuals as a
   step (their mean) and a ramp (slope through zero at the onset), each with a z-score
   whose variance includes the AR(1) covariance of the window, the counting noise and the
   uncertainty of the baseline fit.

All windows are computed at once from prefix sums of the normal equations.  The maximum
z-score over windows is a generalised likelihood-ratio statistic; it is turned into a
probability by the calibration in :mod:`simkit.risk.calibration`, not by a normal table,
because the maximum over overlapping windows has no simple null distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WINDOWS: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 9, 11, 14, 17, 21)
BASELINE_DAYS = 70
MIN_BASELINE_DAYS = 14
_SIGMA0 = 0.06
_PHI_PRIOR, _PHI_PSEUDO = 0.5, 10.0


@dataclass(frozen=True)
class Scan:
    """Per-window results of :func:`scan_metric` (arrays aligned with ``windows``).

    ``delta`` is the mean log-residual of the last ``k`` days (the step size), ``slope`` the
    ramp's log-change per day; ``z_step`` / ``z_ramp`` their z-scores (``NaN`` where the
    window cannot be tested); ``jump`` / ``z_jump`` and ``z_bend`` the jump at the onset and
    the ramp after it when both are fitted together (the hockey stick), as z-scores, and
    ``z_step_gls`` / ``z_ramp_gls`` the step and ramp by GLS (all three on the window's full
    covariance, baseline error included); ``level`` the baseline prediction's mean over the window (log
    scale); ``beta`` the baseline coefficients; ``sigma``/``phi`` the noise estimates.
    """

    windows: np.ndarray
    delta: np.ndarray
    z_step: np.ndarray
    slope: np.ndarray
    z_ramp: np.ndarray
    jump: np.ndarray
    z_jump: np.ndarray
    z_step_gls: np.ndarray
    z_ramp_gls: np.ndarray
    z_bend: np.ndarray
    level: np.ndarray
    beta: np.ndarray
    sigma: np.ndarray
    phi: np.ndarray

    def best(self, statistic: str, sign: float) -> tuple[float, int]:
        """Largest ``sign * statistic`` over windows, and its window index (-1 if none)."""
        values = sign * getattr(self, statistic)
        if not np.isfinite(values).any():
            return float("nan"), -1
        i = int(np.nanargmax(values))
        return float(values[i]), i


def _nanmedian_rows(a: np.ndarray) -> np.ndarray:
    """Row medians ignoring ``NaN`` (``NaN`` for an all-``NaN`` row), by one sort.

    ``np.nanmedian`` goes through masked arrays and was half the cost of a scan.
    """
    s = np.sort(a, axis=1)  # NaN sort last
    count = np.isfinite(s).sum(axis=1)
    rows = np.arange(len(s))
    lo = np.maximum((count - 1) // 2, 0)
    hi = np.maximum(count // 2, 0)
    hi = np.minimum(hi, s.shape[1] - 1)
    med = 0.5 * (s[rows, lo] + s[rows, hi])
    return np.where(count > 0, med, np.nan)


def scan_metric(
    y: np.ndarray,
    v: np.ndarray,
    X: np.ndarray,
    prior_mean: np.ndarray,
    prior_sd: np.ndarray,
    *,
    windows: tuple[int, ...] = WINDOWS,
    baseline_days: int = BASELINE_DAYS,
    min_baseline_days: int = MIN_BASELINE_DAYS,
    sigma_floor: float = 0.01,
    exposure: np.ndarray | None = None,
    exposure_sign: float = 1.0,
) -> Scan:
    """Scan the end of ``y`` for a step or ramp starting ``k`` days ago, for each ``k``.

    Parameters
    ----------
    y
        ``(n,)`` daily metric on the log scale; ``NaN`` where undefined (no spend, no clicks).
    v
        ``(n,)`` counting-noise variance of each day's value.
    X
        ``(n, p)`` regressors (intercept first).
    prior_mean, prior_sd
        ``(p,)`` ridge prior on the coefficients (use a large sd for the intercept).
    windows
        Candidate onsets, in days before the end (1 = the last day alone).
    baseline_days, min_baseline_days
        Length of the fitting window before each onset, and the fewest valid days needed.
    sigma_floor
        Smallest campaign-level noise sd allowed (keeps near-deterministic series sane).
    exposure, exposure_sign
        When given, the counting variance of the post-onset days is taken from the count
        *expected under the baseline* (``exposure * exp(exposure_sign * prediction)``:
        clicks x predicted CVR for a rate; ``1000 spend / predicted CPM`` for CPM) rather than
        from the observed count, as a score test does: a real drop shrinks the observed
        count and would otherwise inflate its own variance and hide itself.
    """
    n, p = X.shape
    ks = np.asarray([k for k in windows if k < n], dtype=int)
    n_k = len(ks)
    valid = np.isfinite(y) & np.isfinite(v) & np.isfinite(X).all(axis=1)
    y0 = np.where(valid, y, 0.0)
    X0 = np.where(valid[:, None], X, 0.0)
    v0 = np.where(valid, v, 0.0)
    w = valid / (_SIGMA0**2 + v0)

    # prefix sums of the weighted normal equations: any baseline window in O(p^2)
    A_cum = np.zeros((n + 1, p, p))
    A_cum[1:] = np.cumsum(w[:, None, None] * X0[:, :, None] * X0[:, None, :], axis=0)
    b_cum = np.zeros((n + 1, p))
    b_cum[1:] = np.cumsum((w * y0)[:, None] * X0, axis=0)
    c_cum = np.concatenate([[0], np.cumsum(valid)])

    split = n - ks
    start = np.maximum(split - baseline_days, 0)
    prec = 1.0 / np.asarray(prior_sd, dtype=float) ** 2
    A = A_cum[split] - A_cum[start] + np.diag(prec)[None]
    b = b_cum[split] - b_cum[start] + (prec * prior_mean)[None]
    n_base = c_cum[split] - c_cum[start]
    A_inv = np.linalg.inv(A)
    beta = np.einsum("kij,kj->ki", A_inv, b)

    # baseline residuals -> noise scale and autocorrelation
    idx = start[:, None] + np.arange(baseline_days)[None]
    in_base = idx < split[:, None]
    idx = np.minimum(idx, n - 1)
    mask = in_base & valid[idx]
    resid = np.where(mask, y0[idx] - np.einsum("klp,kp->kl", X0[idx], beta), np.nan)
    ok = (n_base >= min_baseline_days) & (mask.sum(axis=1) >= 2)
    with np.errstate(all="ignore"):
        resid_ok = np.where(ok[:, None], resid, 0.0)
        centre = _nanmedian_rows(resid_ok)
        mad = _nanmedian_rows(np.abs(resid_ok - centre[:, None]))
        v_bar = np.nanmean(np.where(mask, v0[idx], np.nan), axis=1)
        v_bar = np.where(np.isfinite(v_bar), v_bar, 0.0)
        # residuals of a fit with p coefficients understate the noise by about p/n
        dof = np.maximum(n_base - p, 1) / np.maximum(n_base, 1)
        total = (1.4826 * mad) ** 2 / dof
        sigma2 = np.maximum(total - v_bar, sigma_floor**2)
        r = np.where(mask, resid - centre[:, None], 0.0)
        pair = mask[:, 1:] & mask[:, :-1]
        num = np.sum(np.where(pair, r[:, 1:] * r[:, :-1], 0.0), axis=1)
        den = np.sqrt(
            np.sum(np.where(pair, r[:, 1:] ** 2, 0.0), axis=1)
            * np.sum(np.where(pair, r[:, :-1] ** 2, 0.0), axis=1)
        )
        phi_r = np.where(den > 0, num / den, 0.0)
        # the lag-1 autocorrelation of regression residuals is biased towards zero by
        # about (1 + 3 phi) / n (Marriott and Pope) plus p / n for the fitted coefficients
        phi_r = phi_r + (1.0 + 3.0 * phi_r + p) / np.maximum(pair.sum(axis=1), 1)
    n_pairs = pair.sum(axis=1)
    phi = np.clip(phi_r * (sigma2 + v_bar) / sigma2, 0.0, 0.95)
    phi = np.clip((n_pairs * phi + _PHI_PSEUDO * _PHI_PRIOR) / (n_pairs + _PHI_PSEUDO), 0.0, 0.9)
    inflate = (sigma2 + v_bar) / (_SIGMA0**2 + v_bar) * (1 + phi) / (1 - phi)

    # the post-onset window
    k_max = int(ks.max()) if n_k else 0
    lag = np.arange(k_max)
    pidx = split[:, None] + lag[None]
    in_post = lag[None] < ks[:, None]
    pidx = np.minimum(pidx, n - 1)
    pmask = in_post & valid[pidx]
    Xp = X0[pidx]
    pred = np.einsum("klp,kp->kl", Xp, beta)
    r_post = np.where(pmask, y0[pidx] - pred, 0.0)
    m = pmask.sum(axis=1)
    gap = np.abs(lag[:, None] - lag[None, :])
    cov = sigma2[:, None, None] * phi[:, None, None] ** gap[None]
    cov = cov * (pmask[:, :, None] & pmask[:, None, :])
    if exposure is None:
        v_post = v0[pidx]
    else:
        with np.errstate(all="ignore"):
            expected = exposure[pidx] * np.exp(exposure_sign * pred)
            v_post = 1.0 / (expected + 0.5)
    cov = cov + np.eye(k_max)[None] * np.where(pmask, v_post, 0.0)[:, :, None]
    with np.errstate(all="ignore"):
        ones = pmask.astype(float)
        delta = r_post.sum(axis=1) / m
        level = np.sum(np.where(pmask, pred, 0.0), axis=1) / m
        x_bar = np.einsum("kl,klp->kp", ones, Xp) / m[:, None]
        var_pred = np.einsum("kp,kpq,kq->k", x_bar, A_inv, x_bar) * inflate
        var_step = np.einsum("ki,kij,kj->k", ones, cov, ones) / m**2 + var_pred
        z_step = delta / np.sqrt(var_step)

        h = np.where(pmask, lag[None].astype(float), 0.0)
        hh = np.sum(h**2, axis=1)
        slope = np.sum(h * r_post, axis=1) / hh
        g = np.einsum("kl,klp->kp", h, Xp) / hh[:, None]
        var_ramp = (
            np.einsum("ki,kij,kj->k", h, cov, h) / hh**2
            + np.einsum("kp,kpq,kq->k", g, A_inv, g) * inflate
        )
        z_ramp = slope / np.sqrt(var_ramp)
        # Shapes by generalised least squares on the window's full covariance (AR(1) noise,
        # counting noise, and the baseline prediction's error, which is common to all days
        # and so looks like a step): a step, a ramp from zero, and the hockey stick (a jump
        # at the onset plus a ramp after it, fitted jointly).  A fatigue ramp has no jump; a
        # demand drop is all jump and no ramp.
        base_cov = np.einsum("klp,kpq,kmq->klm", Xp, A_inv, Xp) * inflate[:, None, None]
        both = pmask[:, :, None] & pmask[:, None, :]
        c_tot = cov + np.where(both, base_cov, 0.0) + np.eye(k_max)[None] * (~pmask)[:, :, None]
        D = np.stack([ones, h, r_post], axis=2)  # (k, l, 3): step, ramp, residuals
        CiD = np.linalg.solve(c_tot, D) if n_k else D
        Q = np.einsum("kla,klb->kab", D, CiD)  # D' C^-1 D
        z_step_gls = Q[:, 0, 2] / np.sqrt(Q[:, 0, 0])
        z_ramp_gls = Q[:, 1, 2] / np.sqrt(Q[:, 1, 1])
        det = Q[:, 0, 0] * Q[:, 1, 1] - Q[:, 0, 1] ** 2
        jump = (Q[:, 1, 1] * Q[:, 0, 2] - Q[:, 0, 1] * Q[:, 1, 2]) / det
        bend = (Q[:, 0, 0] * Q[:, 1, 2] - Q[:, 0, 1] * Q[:, 0, 2]) / det
        z_jump = jump / np.sqrt(Q[:, 1, 1] / det)
        z_bend = bend / np.sqrt(Q[:, 0, 0] / det)
    testable = ok & (m >= 1)
    z_jump = np.where(testable & (ks >= 3) & (m >= 3), z_jump, np.nan)
    z_bend = np.where(np.isfinite(z_jump), z_bend, np.nan)
    z_step = np.where(testable, z_step, np.nan)
    z_ramp = np.where(testable & (ks >= 3) & (hh > 0), z_ramp, np.nan)
    return Scan(
        windows=ks,
        delta=np.where(testable, delta, np.nan),
        z_step=z_step,
        slope=np.where(np.isfinite(z_ramp), slope, np.nan),
        z_ramp=z_ramp,
        jump=np.where(np.isfinite(z_jump), jump, np.nan),
        z_jump=z_jump,
        z_step_gls=np.where(testable, z_step_gls, np.nan),
        z_ramp_gls=np.where(np.isfinite(z_ramp), z_ramp_gls, np.nan),
        z_bend=z_bend,
        level=np.where(testable, level, np.nan),
        beta=beta,
        sigma=np.sqrt(sigma2),
        phi=phi,
    )
