"""Turning scan statistics into probabilities that mean what they say.

The history detectors share one classifier: a gradient-boosted tree ensemble
(scikit-learn's :class:`~sklearn.ensemble.HistGradientBoostingClassifier`) that reads the
scan features of one check (largest z-scores over candidate onsets, shape statistics, the
pacing z; see :mod:`simkit.risk._features`) and gives a probability for each class:
``none`` and each kind of event the bench injects.  A detector's probability is the sum of
its classes (:data:`DETECTOR_CLASSES`: a performance dip is a tracking outage *or* a demand
drop).  One multi-class model rather than one logistic curve per detector, because the
kinds compete for the same evidence: a fall in CTR is a demand drop when it is a step and
fatigue when it is a ramp, and the trees learn such "which shape" interactions that a
linear score cannot (on the bench's held-out worlds this lifted recall of subtle demand
drops within a week from 0.47 to 0.81 and of strong fatigue from 0.73 to 0.88 at the same
reliability).

The model was **fitted, not chosen**: ``python bench/risk_calibration.py --refit --write``
simulates the training worlds of both world families (:data:`simkit.data.worlds.FAMILIES`,
seed :data:`TRAINING_SEED`), computes the features on ``as_of`` cuts (daily around each
event, sparser elsewhere, each check weighted by the days it stands for), labels each check
with the kind of event that began 0-20 days before the cut (``none`` otherwise: event-free
campaigns, checks before an event), fits :func:`fit_risk_model` on both families together
and writes :data:`MODEL_PATH`.  The figures that say how well it does are cross-family:
the bench fits one model per family and scores it on the *other* family's held-out worlds
(seed + 1), in both directions; nothing is fitted on the family it is scored on.

What a probability means, therefore: "the chance that a change of this kind started in the
last three weeks", for campaigns like the synthetic ones and at the bench's mix of
event-free and event campaigns.  On data that differs (much noisier, far rarer events) the
ranking holds but the levels may not; refit on labelled history with :func:`fit_risk_model`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from simkit.errors import SimkitError

__all__ = [
    "DETECTOR_CLASSES",
    "FEATURES",
    "MODEL_PATH",
    "TRAINING_SEED",
    "RiskModel",
    "fit_risk_model",
    "history_probabilities",
    "risk_model",
]

_log = logging.getLogger(__name__)

#: Seed of the training worlds behind the shipped model (the bench evaluates on seed + 1).
TRAINING_SEED = 20260505

#: Where the fitted model ships (package data, written by the bench's ``--refit``).
MODEL_PATH = Path(__file__).with_name("risk_model.joblib")

#: The scan features the model reads, in column order (see :mod:`simkit.risk._features`).
FEATURES: tuple[str, ...] = (
    "cpm_up",
    "cpm_up_gls",
    "impression_share_down",
    "ctr_down",
    "ctr_ramp",
    "ctr_jump",
    "ctr_bend",
    "ctr_ramp_gls",
    "ctr_step_gls",
    "ctr_ramp_vs_step",
    "ctr_peak_drop",
    "ctr_peak_drop3",
    "cvr_down",
    "cvr_down_gls",
    "cvr_ramp",
    "cpc_up",
    "frequency_up",
    "frequency_ramp",
    "pace_over_2d",
    "pace_over_7d",
    "pace_over_daily_max",
)

#: Which model classes make up each history detector's probability.
DETECTOR_CLASSES: dict[str, tuple[str, ...]] = {
    "performance_dip": ("tracking_dip", "demand_drop"),
    "audience_fatigue": ("fatigue",),
    "competitor_pressure": ("competitor_entry",),
    "budget_pacing": ("overpacing",),
}

#: Tree settings: shallow trees, large leaves and a ridge on leaf values keep the
#: probabilities calibrated (deeper trees sharpened recall a little and broke reliability).
#: No early stopping: it would hold out a random tenth of the checks, and the model then
#: depended on that draw (strong-fatigue recall moved by 0.06 between seeds); 150 rounds
#: at this learning rate do not overfit 20,000 checks.
_TREE_OPTIONS: dict[str, Any] = {
    "early_stopping": False,
    "max_iter": 150,
    "learning_rate": 0.05,
    "max_leaf_nodes": 8,
    "min_samples_leaf": 100,
    "l2_regularization": 1.0,
}


@dataclass(frozen=True)
class RiskModel:
    """A fitted multi-class model over :data:`FEATURES`, with how it was trained."""

    classifier: Any
    features: tuple[str, ...] = FEATURES
    training: Mapping[str, Any] = field(default_factory=dict)

    @property
    def classes(self) -> tuple[str, ...]:
        """Class labels in the order of the classifier's probability columns."""
        return tuple(str(c) for c in self.classifier.classes_)

    def matrix(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Feature matrix of ``rows`` (a feature a row lacks is ``NaN``: not observed)."""
        return np.array(
            [[float(row.get(name, np.nan)) for name in self.features] for row in rows],
            dtype=float,
        ).reshape(len(rows), len(self.features))

    def predict(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Probability of each detector's risk for every row of ``X`` (columns: features)."""
        from threadpoolctl import threadpool_limits

        # one OpenMP thread: rows are few, and on a loaded machine (report workers, Dask)
        # OpenMP's spinning threads made each call take seconds instead of milliseconds
        with threadpool_limits(limits=1, user_api="openmp"):
            proba = self.classifier.predict_proba(np.asarray(X, dtype=float))
        index = {c: i for i, c in enumerate(self.classes)}
        none = np.zeros(len(proba))  # a class the model never saw has probability 0
        return {
            detector: np.clip(sum((proba[:, index[c]] for c in classes if c in index), none), 0, 1)
            for detector, classes in DETECTOR_CLASSES.items()
        }

    def probabilities(self, features: Mapping[str, float]) -> dict[str, float]:
        """Probability of each detector's risk for one check's features."""
        return {k: float(v[0]) for k, v in self.predict(self.matrix([features])).items()}

    def save(self, path: str | Path) -> Path:
        """Write the model with joblib (``compress=3``); returns the path."""
        import joblib
        import sklearn

        payload = {
            "classifier": self.classifier,
            "features": list(self.features),
            "training": {**self.training, "sklearn": sklearn.__version__},
        }
        joblib.dump(payload, path, compress=3)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> RiskModel:
        """Read a model written by :meth:`save`, saying clearly why when it cannot."""
        import warnings

        import joblib
        import sklearn

        path = Path(path)
        if not path.is_file():
            raise SimkitError(
                f"risk model not found at {path}: run `python bench/risk_calibration.py "
                "--refit` to fit it"
            )
        with warnings.catch_warnings():
            # a pickled estimator warns when read by another scikit-learn version; the
            # version check below says so once, in words
            warnings.simplefilter("ignore")
            try:
                payload = joblib.load(path)
            except Exception as exc:  # an unreadable pickle has many exception types
                raise SimkitError(
                    f"cannot read the risk model {path} with scikit-learn "
                    f"{sklearn.__version__} ({exc}); refit it with `python "
                    "bench/risk_calibration.py --refit`"
                ) from exc
        trained_with = payload.get("training", {}).get("sklearn")
        if trained_with != sklearn.__version__:
            _log.warning(
                "risk model %s was fitted with scikit-learn %s, running %s: its "
                "probabilities may differ slightly; refit with bench/risk_calibration.py",
                path,
                trained_with,
                sklearn.__version__,
            )
        return cls(
            classifier=payload["classifier"],
            features=tuple(payload["features"]),
            training=payload.get("training", {}),
        )


def fit_risk_model(
    X: np.ndarray,
    labels: Sequence[str] | np.ndarray,
    *,
    weights: np.ndarray | None = None,
    features: Sequence[str] = FEATURES,
    seed: int = 0,
    training: Mapping[str, Any] | None = None,
) -> RiskModel:
    """Fit the multi-class risk model.

    Parameters
    ----------
    X
        ``(n, len(features))`` feature matrix, one row per check (``NaN`` = not observed).
    labels
        ``(n,)`` class of each check: ``"none"`` or the kind of event that began within the
        label window (the kinds in :data:`DETECTOR_CLASSES`).
    weights
        Optional ``(n,)`` weights (the number of days a sampled check stands for).
    features
        Names of ``X``'s columns.
    seed
        Seeds the trees' tie-breaking (same data and seed, same model).
    training
        Facts about the training data to keep with the model (seed, campaign count, ...).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    X = np.asarray(X, dtype=float)
    labels = np.asarray(labels).astype(str)
    if X.shape != (len(labels), len(features)):
        raise ValueError(f"X has shape {X.shape}, expected ({len(labels)}, {len(features)})")
    known = {c for classes in DETECTOR_CLASSES.values() for c in classes} | {"none"}
    unknown = sorted(set(labels) - known)
    if unknown:
        raise ValueError(f"unknown labels {unknown}; expected some of {sorted(known)}")
    classifier = HistGradientBoostingClassifier(random_state=seed, **_TREE_OPTIONS)
    classifier.fit(X, labels, sample_weight=weights)
    return RiskModel(classifier, tuple(features), dict(training or {}))


def history_probabilities(features: Sequence[Mapping[str, float]]) -> list[dict[str, float]]:
    """Each detector's probability for many checks' features in one model call.

    ``budget_pacing`` is left out where no budget is known (no ``pace_over_*`` features).
    One call for a whole portfolio: the trees cost little per row but much per call.
    """
    if not features:
        return []
    model = risk_model()
    probs = model.predict(model.matrix(features))
    out = []
    for i, row in enumerate(features):
        p = {name: float(values[i]) for name, values in probs.items()}
        if "pace_over_7d" not in row:
            p.pop("budget_pacing", None)
        out.append(p)
    return out


@lru_cache(maxsize=1)
def risk_model() -> RiskModel:
    """The shipped model (:data:`MODEL_PATH`), read once per process."""
    return RiskModel.load(MODEL_PATH)
