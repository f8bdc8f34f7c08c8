from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.forecast.backtest import choose_cutoffs
from simkit.forecast.ensemble import _crps_samples, calibrate, combine, ensemble_weights


def _ar1(rng, J, H, phi, sd):
    z = np.empty((J, H))
    z[:, 0] = rng.standard_normal(J)
    for t in range(1, H):
        z[:, t] = phi * z[:, t - 1] + np.sqrt(1 - phi**2) * rng.standard_normal(J)
    return z * sd


def test_calibration_recovers_scale_and_day_to_day_correlation():
    rng = np.random.default_rng(0)
    J, H = 60, 14
    resid = np.stack([_ar1(rng, J, H, 0.7, sd) for sd in (0.1, 0.2, 0.05, 0.3)], axis=-1)
    cal = calibrate(resid, H)
    assert cal.scale.shape == (H, 4)
    assert np.allclose(cal.scale.mean(0), [0.1, 0.2, 0.05, 0.3], rtol=0.15)
    assert np.allclose(cal.ar_coef, 0.7, atol=0.12)
    assert np.allclose(np.diag(cal.driver_corr), 1.0)
    # fresh residuals from the same process: 80% intervals cover about 80%
    fresh = np.stack([_ar1(rng, 200, H, 0.7, sd) for sd in (0.1, 0.2, 0.05, 0.3)], axis=-1)
    inside = np.abs(fresh) <= 1.2816 * cal.scale[None]
    assert 0.76 <= inside.mean() <= 0.84


def test_few_windows_widen_the_intervals():
    rng = np.random.default_rng(1)
    resid = rng.normal(0, 0.1, (2, 14, 4))
    assert calibrate(resid, 14).widened
    assert not calibrate(rng.normal(0, 0.1, (6, 14, 4)), 14).widened


def test_weights_trim_bad_members_and_sum_to_one():
    rng = np.random.default_rng(2)
    actual = rng.normal(size=(4, 7, 4))
    preds = {
        "seasonal_naive": actual + rng.normal(0, 1.0, actual.shape),
        "good": actual + rng.normal(0, 0.3, actual.shape),
        "bad": actual + rng.normal(0, 3.0, actual.shape),
    }
    w = ensemble_weights(preds, actual)
    total = sum(w.values())
    assert np.allclose(total, 1.0)
    assert np.all(w["bad"] == 0) and np.all(w["good"] > 0.9)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.01, 5.0), min_size=3, max_size=3),
    st.integers(0, 2**31 - 1),
)
def test_weights_are_a_convex_combination(noise, seed):
    rng = np.random.default_rng(seed)
    actual = rng.normal(size=(3, 5, 4))
    preds = {
        name: actual + rng.normal(0, s, actual.shape)
        for name, s in zip(("seasonal_naive", "a", "b"), noise, strict=True)
    }
    w = np.stack(list(ensemble_weights(preds, actual).values()))
    assert np.all(w >= 0) and np.allclose(w.sum(0), 1.0)
    combined = combine(preds, dict(zip(preds, w, strict=True)))
    stack = np.stack(list(preds.values()))
    assert np.all(combined <= stack.max(0) + 1e-9) and np.all(combined >= stack.min(0) - 1e-9)


def test_combine_shares_the_weight_of_a_member_that_did_not_run():
    a = np.ones((2, 3, 4))
    b = np.full((2, 3, 4), 3.0)
    b[0] = np.nan
    out = combine({"a": a, "b": b}, {"a": np.full(4, 0.5), "b": np.full(4, 0.5)})
    assert np.allclose(out[0], 1.0) and np.allclose(out[1], 2.0)


def test_sample_crps_matches_the_gaussian_closed_form():
    rng = np.random.default_rng(3)
    samples = rng.standard_normal((20_000, 1))
    y = np.array([0.5])
    from scipy.stats import norm

    exact = 0.5 * (2 * norm.pdf(0.5) + 0.5 * (2 * norm.cdf(0.5) - 1)) * 2 - 1 / np.sqrt(np.pi)
    assert _crps_samples(samples, y)[0] == pytest.approx(exact, rel=0.03)


@pytest.mark.parametrize(
    ("n", "h", "expected"),
    [
        (120, 28, [63, 70, 77, 84, 91]),  # full windows, latest five
        (30, 14, [15, 22]),  # short: one full window, one truncated
        (13, 7, []),  # below the minimum history
    ],
)
def test_cutoffs(n, h, expected):
    assert choose_cutoffs(n, h, min_cutoffs=2) == expected
