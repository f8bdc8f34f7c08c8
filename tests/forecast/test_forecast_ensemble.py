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


def _funnel_backtest(rng, J=5, H=7):
    """Backtest-shaped actuals, spend and counts whose conversions follow the drivers."""
    from simkit.forecast.drivers import funnel_from_drivers

    actual = np.stack(
        [
            rng.normal(np.log(10), 0.05, (J, H)),
            rng.normal(-4.0, 0.05, (J, H)),
            rng.normal(-2.5, 0.05, (J, H)),
            rng.normal(np.log(50), 0.05, (J, H)),
        ],
        axis=-1,
    )
    spend = np.full((J, H), 1000.0)
    counts = {"conversions": funnel_from_drivers(actual, spend)["conversions"]}
    return actual, spend, counts


def test_metric_weights_are_chosen_on_the_metric_and_shared_by_its_drivers():
    rng = np.random.default_rng(4)
    actual, spend, counts = _funnel_backtest(rng)
    # "offset" has large but mutually cancelling errors on CPM and CTR: worse on each
    # driver's squared error, exact on conversions; "noisy" is the reverse
    offset = actual.copy()
    offset[..., 0] += 0.3
    offset[..., 1] += 0.3 + (np.log1p(-np.exp(-4.0)) - np.log1p(-np.exp(-3.7)))
    preds = {
        "seasonal_naive": actual + rng.normal(0, 0.2, actual.shape),
        "offset": offset,
        "noisy": actual + rng.normal(0, 0.1, actual.shape),
    }
    by_driver = ensemble_weights(preds, actual)
    by_metric = ensemble_weights(preds, actual, metric="conversions", spend=spend, counts=counts)
    assert by_driver["offset"][0] == 0.0  # per-driver MSE trims it
    for name, w in by_metric.items():
        assert np.allclose(w[:3], w[0]), name  # CPM, CTR, CVR share one weight
        assert w[3] == pytest.approx(by_driver[name][3])  # revenue per conversion: unchanged
    assert by_metric["offset"][0] > 0.9  # best on conversions by far
    total = sum(by_metric.values())
    assert np.allclose(total, 1.0)


def test_metric_weights_drop_members_far_behind_the_best():
    rng = np.random.default_rng(5)
    actual, spend, counts = _funnel_backtest(rng)
    good = actual + rng.normal(0, 0.05, actual.shape)
    preds = {
        "seasonal_naive": actual + rng.normal(0, 0.3, actual.shape),
        "a": good,
        "b": good + rng.normal(0, 0.002, actual.shape),  # a near-tie with "a"
        "bad": actual + rng.normal(0, 0.25, actual.shape),
    }
    w = ensemble_weights(preds, actual, metric="conversions", spend=spend, counts=counts)
    assert w["bad"][2] == 0.0 and w["seasonal_naive"][2] == 0.0
    assert w["a"][2] > 0 and w["b"][2] > 0  # near-ties share


def test_metric_weights_fall_back_to_the_baseline_without_evidence():
    actual = np.full((2, 3, 4), np.nan)
    preds = {"seasonal_naive": np.zeros((2, 3, 4)), "a": np.zeros((2, 3, 4))}
    w = ensemble_weights(
        preds,
        actual,
        metric="conversions",
        spend=np.ones((2, 3)),
        counts={"conversions": np.full((2, 3), np.nan)},
    )
    assert np.all(w["seasonal_naive"] == 1.0) and np.all(w["a"] == 0.0)


def test_ar_theory_matches_the_definition():
    from simkit.forecast.ensemble import _ar_theory

    phis, ks = np.array([-0.3, 0.0, 0.5, 0.9]), np.array([1, 2, 7, 14])
    table = _ar_theory(phis, ks)
    for i, phi in enumerate(phis):
        for j, k in enumerate(ks):
            lags = np.arange(1, k)
            expected = 1 + 2 * np.sum((1 - lags / k) * phi**lags)
            assert table[i, j] == pytest.approx(expected)


def test_combine_falls_back_to_available_members_when_weighted_ones_are_missing():
    from simkit.forecast.ensemble import combine

    naive = np.full((3, 4), 1.0)
    prophet = np.full((3, 4), 3.0)
    prophet[:, 3] = np.nan  # prophet did not forecast this driver at this cutoff
    weights = {"seasonal_naive": np.array([0.0, 0.0, 0.0, 0.0]), "prophet": np.ones(4)}
    out = combine({"seasonal_naive": naive, "prophet": prophet}, weights)
    assert np.all(out[:, :3] == 3.0)  # the weighted member where it exists
    assert np.all(out[:, 3] == 1.0)  # the available member, not a hole
    assert np.isnan(combine({"a": np.full((2, 4), np.nan)}, {"a": np.ones(4)})).all()


@pytest.mark.parametrize("share", [0.0, 0.4])
def test_level_share_is_recovered_from_the_sums_of_backtest_errors(share):
    # errors sqrt(1 - s) AR(1) + sqrt(s) level (one level per window): calibrate finds s
    rng = np.random.default_rng(5)
    J, H = 300, 28
    level = rng.standard_normal((J, 1))
    err = np.sqrt(1 - share) * _ar1(rng, J, H, 0.3, 1.0) + np.sqrt(share) * level
    cal = calibrate(np.repeat(err[..., None], 4, axis=-1) * 0.2, H)
    assert np.allclose(cal.level_share, share, atol=0.1)
    assert np.allclose(cal.level_ar_coef, 0.3, atol=0.2)
    # the AR(1)-only fit still stands for what the backtest scores sample
    assert np.all(cal.ar_coef >= cal.level_ar_coef - 1e-9)
