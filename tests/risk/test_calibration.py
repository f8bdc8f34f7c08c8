from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.risk.calibration import CALIBRATION, fit_logistic


def test_fit_logistic_recovers_known_coefficients() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 2))
    p = 1 / (1 + np.exp(-(-1.0 + 2.0 * X[:, 0] - 0.5 * X[:, 1])))
    y = rng.random(20_000) < p
    fit = fit_logistic(X, y, ("a", "b"), l2=0.0)
    assert abs(fit.intercept + 1.0) < 0.1
    np.testing.assert_allclose(fit.coef, [2.0, -0.5], atol=0.1)


def test_fit_logistic_stays_finite_on_separable_data() -> None:
    X = np.r_[np.zeros(50), np.ones(50) * 10][:, None]
    y = np.r_[np.zeros(50), np.ones(50)]
    fit = fit_logistic(X, y, ("x",))
    assert np.isfinite(fit.coef).all() and fit.probability({"x": 10}) > 0.9


def test_the_main_evidence_raises_each_probability() -> None:
    main = {
        "performance_dip": "cvr_down",
        "audience_fatigue": "ctr_ramp",
        "competitor_pressure": "cpm_up",
        "budget_pacing": "pace_over",
    }
    for name, feature in main.items():
        cal = CALIBRATION[name]
        assert cal.coef[cal.features.index(feature)] > 0, name


@settings(max_examples=50, deadline=None)
@given(z=st.floats(-3, 10), dz=st.floats(0.01, 5))
def test_competitor_probability_is_monotone_in_cpm_evidence(z: float, dz: float) -> None:
    cal = CALIBRATION["competitor_pressure"]
    assert cal.probability({"cpm_up": z + dz}) >= cal.probability({"cpm_up": z})


def test_weights_equal_repeated_rows() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 1))
    y = (rng.random(400) < 1 / (1 + np.exp(-X[:, 0]))).astype(float)
    w = rng.integers(1, 4, size=400)
    weighted = fit_logistic(X, y, ("x",), weights=w)
    repeated = fit_logistic(np.repeat(X, w, axis=0), np.repeat(y, w), ("x",))
    np.testing.assert_allclose(weighted.coef, repeated.coef, rtol=1e-6)
    assert abs(weighted.intercept - repeated.intercept) < 1e-6
