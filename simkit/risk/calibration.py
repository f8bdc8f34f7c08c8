"""Turning scan statistics into probabilities that mean what they say.

Each history detector reads a few features from the changepoint scans (largest z-scores over
candidate onsets; see :mod:`simkit.risk._features`) and maps them to a probability with a
logistic model.  The coefficients below were **fitted, not chosen**: ``python
bench/risk_calibration.py --refit`` simulates the training worlds (seed
:data:`TRAINING_SEED`), runs every detector on daily ``as_of`` cuts, labels each check 1 when
an injected event of the detector's kind began 0-20 days before the cut (and 0 for event-free
campaigns, checks before an event, and other kinds of event), and fits
:func:`fit_logistic`.  The bench then scores the stored coefficients on *other* worlds (a
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
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    Z = np.hstack([np.ones((n, 1)), X])
    penalty = np.full(p + 1, l2 * n)
    penalty[0] = 0.0
    theta = np.zeros(p + 1)
    theta[0] = np.log((y.mean() + 1e-6) / (1 - y.mean() + 1e-6))
    for _ in range(n_iter):
        mu = expit(Z @ theta)
        grad = Z.T @ (y - mu) - penalty * theta
        hess = (Z * (mu * (1 - mu))[:, None]).T @ Z + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        theta = theta + step
        if np.max(np.abs(step)) < 1e-8:
            break
    return LogisticCalibration(
        features=tuple(features),
        coef=tuple(float(c) for c in theta[1:]),
        intercept=float(theta[0]),
    )


#: Fitted by ``python bench/risk_calibration.py --refit`` (training seed :data:`TRAINING_SEED`);
#: 150 training campaigns, 6,460 checks; see the module docstring.  Paste the refit's output
#: here whenever the scans or features change.
CALIBRATION: dict[str, LogisticCalibration] = {
    "performance_dip": LogisticCalibration(
        features=("cvr_down", "ctr_down", "ctr_ramp"),
        coef=(1.1242, 0.6964, -0.1513),
        intercept=-5.6388,
    ),
    "audience_fatigue": LogisticCalibration(
        features=("ctr_ramp", "ctr_down", "frequency_up", "cpm_up", "cvr_down"),
        coef=(1.6459, -1.3102, 0.1142, -0.1534, -0.0122),
        intercept=-3.4545,
    ),
    "competitor_pressure": LogisticCalibration(
        features=("cpm_up", "impression_share_down", "ctr_down"),
        coef=(1.3166, 0.6029, -0.2683),
        intercept=-6.2665,
    ),
    "budget_pacing": LogisticCalibration(
        features=("pace_over",),
        coef=(1.5131,),
        intercept=-6.6212,
    ),
}
