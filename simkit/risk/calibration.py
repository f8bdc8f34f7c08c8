"""Turning scan statistics into probabilities that mean what they say.

Each history detector reads a few features from the changepoint scans (largest z-scores over
candidate onsets; see :mod:`simkit.risk._features`) and maps them to a probability with a
logistic model.  The coefficients below were **fitted, not chosen**: ``python
bench/risk_calibration.py --refit`` simulates the training worlds (seed
:data:`TRAINING_SEED`), runs every detector on ``as_of`` cuts (daily around each event,
sparser elsewhere, each check weighted by the days it stands for), labels each check 1 when
an injected event of the detector's kind began 0-20 days before the cut (and 0 for event-free
campaigns, checks before an event, and other kinds of event), and fits
:func:`fit_logistic` with those weights.  The bench then scores the stored coefficients on *other* worlds (a
different seed), which is where the reliability figures come from.

What the probability means, therefore: "the chance that a change of this kind started in the
last three weeks", for campaigns like the synthetic ones and at the bench's mix of
event-free and event campaigns.  On data that differs (much noisier, far rarer events) the
ranking holds but the levels may not; re-fit with :func:`fit_logistic` on labelled history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

__all__ = ["CALIBRATION", "TRAINING_SEED", "LogisticCalibration", "fit_logistic"]

#: Seed of the training worlds behind :data:`CALIBRATION` (the bench evaluates on seed + 1).
TRAINING_SEED = 20260505


@dataclass(frozen=True)
class LogisticCalibration:
    """``p = expit(intercept + sum(coef * features))`` over named features."""

    features: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float

    def probability(self, values: Mapping[str, float]) -> float:
        """Calibrated probability for one check's features (missing features count as 0)."""
        x = np.array([float(values.get(name, 0.0)) for name in self.features])
        return float(expit(self.intercept + float(np.dot(self.coef, x))))

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "features": list(self.features),
            "coef": list(self.coef),
            "intercept": self.intercept,
        }


def fit_logistic(
    X: np.ndarray,
    y: np.ndarray,
    features: Sequence[str],
    *,
    l2: float = 1e-3,
    n_iter: int = 50,
    weights: np.ndarray | None = None,
) -> LogisticCalibration:
    """Fit a logistic calibration by Newton's method with a small ridge penalty.

    Parameters
    ----------
    X
        ``(n, p)`` feature matrix (columns in the order of ``features``).
    y
        ``(n,)`` 0/1 labels.
    features
        Feature names.
    l2
        Ridge penalty per observation on the slopes (not the intercept): keeps the fit finite
        when a feature separates the classes perfectly (pacing does, on synthetic data).
    weights
        Optional ``(n,)`` observation weights (e.g. the number of days a sampled check stands
        for); the penalty scales with their sum.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    Z = np.hstack([np.ones((n, 1)), X])
    penalty = np.full(p + 1, l2 * w.sum())
    penalty[0] = 0.0
    theta = np.zeros(p + 1)
    base = float(np.average(y, weights=w))
    theta[0] = np.log((base + 1e-6) / (1 - base + 1e-6))

    def objective(t: np.ndarray) -> float:
        eta = Z @ t
        return float(np.sum(w * (y * eta - np.logaddexp(0.0, eta))) - 0.5 * penalty @ t**2)

    current = objective(theta)
    for _ in range(n_iter):
        mu = expit(Z @ theta)
        grad = Z.T @ (w * (y - mu)) - penalty * theta
        hess = (Z * (w * mu * (1 - mu))[:, None]).T @ Z + np.diag(penalty + 1e-9)
        step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        # Newton with step halving: never lets the penalised likelihood fall
        for _half in range(30):
            trial = objective(theta + step)
            if trial >= current - 1e-12:
                break
            step = step / 2
        theta, current = theta + step, trial
        if np.max(np.abs(step)) < 1e-8:
            break
    return LogisticCalibration(
        features=tuple(features),
        coef=tuple(float(c) for c in theta[1:]),
        intercept=float(theta[0]),
    )


#: Fitted by ``python bench/risk_calibration.py --refit`` (training seed :data:`TRAINING_SEED`
#: = 20260505): 220 training campaigns (75% with one event, kinds and sizes in turn), 5,511
#: weighted checks; see the module docstring and the bench's docstring.  Paste the refit's
#: output here whenever the scans or features change.
CALIBRATION: dict[str, LogisticCalibration] = {
    "performance_dip": LogisticCalibration(
        features=("cvr_down", "ctr_down", "ctr_ramp", "ctr_jump"),
        coef=(1.1979, 0.2843, 0.1933, 0.2624),
        intercept=-6.6401,
    ),
    "audience_fatigue": LogisticCalibration(
        features=(
            "ctr_ramp_gls",
            "ctr_ramp",
            "ctr_bend",
            "ctr_jump",
            "ctr_down",
            "ctr_step_gls",
            "ctr_ramp_vs_step",
            "frequency_up",
            "frequency_ramp",
            "cpm_up",
            "cvr_down",
            "ctr_peak_drop",
            "ctr_peak_drop3",
        ),
        coef=(
            1.0252,
            0.3284,
            -0.0794,
            -0.253,
            -0.4261,
            -0.4876,
            0.0562,
            0.0907,
            0.1496,
            -0.1394,
            -0.3314,
            -0.1003,
            0.3521,
        ),
        intercept=-4.422,
    ),
    "competitor_pressure": LogisticCalibration(
        features=("cpm_up", "impression_share_down", "ctr_down"),
        coef=(1.1461, 0.9696, -0.5848),
        intercept=-7.1089,
    ),
    "budget_pacing": LogisticCalibration(
        features=("pace_over",),
        coef=(1.3936,),
        intercept=-6.7595,
    ),
}
