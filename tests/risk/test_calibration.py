from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.errors import SimkitError
from simkit.risk.calibration import (
    DETECTOR_CLASSES,
    FEATURES,
    TRAINING_SEED,
    RiskModel,
    fit_risk_model,
    risk_model,
)

PACING = ("pace_over_2d", "pace_over_7d", "pace_over_daily_max")
QUIET = {name: 0.5 for name in FEATURES} | dict.fromkeys(PACING, 0.0)


def _toy(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Checks where a CPM jump means a competitor and a CVR jump a tracking dip."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 1.0, size=(n, len(FEATURES)))
    labels = np.full(n, "none", dtype=object)
    cpm, cvr = FEATURES.index("cpm_up"), FEATURES.index("cvr_down")
    comp, dip = rng.random(n) < 0.15, rng.random(n) < 0.15
    X[comp, cpm] += 6.0
    labels[comp] = "competitor_entry"
    X[dip & ~comp, cvr] += 6.0
    labels[dip & ~comp] = "tracking_dip"
    return X, labels.astype(str)


def test_fit_learns_which_evidence_means_which_risk() -> None:
    X, labels = _toy()
    model = fit_risk_model(X, labels, seed=1)
    row = dict(zip(FEATURES, np.zeros(len(FEATURES)), strict=True))
    quiet = model.probabilities(row)
    assert quiet["competitor_pressure"] < 0.1 and quiet["performance_dip"] < 0.1
    assert model.probabilities(row | {"cpm_up": 6.0})["competitor_pressure"] > 0.8
    assert model.probabilities(row | {"cvr_down": 6.0})["performance_dip"] > 0.8
    assert model.probabilities(row | {"cvr_down": 6.0})["competitor_pressure"] < 0.2


def test_fit_is_deterministic_and_rejects_bad_input() -> None:
    X, labels = _toy(800)
    a, b = fit_risk_model(X, labels, seed=3), fit_risk_model(X, labels, seed=3)
    np.testing.assert_array_equal(a.classifier.predict_proba(X), b.classifier.predict_proba(X))
    with pytest.raises(ValueError, match="unknown labels"):
        fit_risk_model(X, np.where(labels == "none", "nothing", labels))
    with pytest.raises(ValueError, match="shape"):
        fit_risk_model(X[:, :3], labels)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    X, labels = _toy(800)
    model = fit_risk_model(X, labels, seed=2, training={"seed": 2})
    loaded = RiskModel.load(model.save(tmp_path / "m.joblib"))
    assert loaded.features == FEATURES and loaded.training["seed"] == 2
    assert "sklearn" in loaded.training
    np.testing.assert_allclose(
        loaded.predict(X[:50])["performance_dip"], model.predict(X[:50])["performance_dip"]
    )


def test_missing_or_broken_model_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SimkitError, match=r"risk model not found at .*nowhere.joblib.*--refit"):
        RiskModel.load(tmp_path / "nowhere.joblib")
    broken = tmp_path / "broken.joblib"
    broken.write_bytes(b"not a pickle")
    with pytest.raises(SimkitError, match="cannot read the risk model .*broken.joblib"):
        RiskModel.load(broken)


def test_shipped_model_is_the_documented_one() -> None:
    model = risk_model()
    assert model.features == FEATURES
    assert model.training["seed"] == TRAINING_SEED
    # fitted on both world families' training worlds (the figures quoted are cross-family)
    assert model.training["families"] == ["a", "b"]
    assert model.training["label_days"] == 20
    wanted = {c for classes in DETECTOR_CLASSES.values() for c in classes} | {"none"}
    assert set(model.classes) == wanted


def test_shipped_model_reads_the_main_evidence() -> None:
    model = risk_model()
    quiet = model.probabilities(QUIET)
    assert max(quiet.values()) < 0.2
    strong = {
        "competitor_pressure": {"cpm_up": 10.0, "cpm_up_gls": 10.0, "cpc_up": 10.0},
        "performance_dip": {"cvr_down": 10.0, "cvr_down_gls": 10.0, "cvr_ramp": 10.0},
        "budget_pacing": {"pace_over_2d": 0.3, "pace_over_7d": 0.3},
    }
    for detector, evidence in strong.items():
        assert model.probabilities(QUIET | evidence)[detector] > 0.8, detector


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.floats(-3, 10), min_size=len(FEATURES), max_size=len(FEATURES)))
def test_detector_probabilities_are_probabilities_of_disjoint_kinds(values: list[float]) -> None:
    probs = risk_model().probabilities(dict(zip(FEATURES, values, strict=True)))
    assert set(probs) == set(DETECTOR_CLASSES)
    assert all(0.0 <= p <= 1.0 for p in probs.values())
    # the kinds are exclusive classes of one model: their probabilities cannot add past 1
    assert sum(probs.values()) <= 1.0 + 1e-9
