from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from simkit.simulate import BudgetPlan, DeliveryModel, EngineConfig, simulate_paths
from simkit.simulate.engine import _driver_errors

from .conftest import make_forecast


def _run(fc, n=2000, seed=1, **kw):
    plan = kw.pop("plan", BudgetPlan.from_daily(800.0, fc.horizon_days))
    return simulate_paths(fc, plan, n, np.random.default_rng(seed), **kw)


def test_funnel_is_coherent_on_every_path(forecast):
    p = _run(forecast)
    assert p.conversions.shape == (28, 2000)
    assert np.all(p.clicks <= p.impressions)
    assert np.all(p.conversions <= p.clicks)
    assert np.all(p.conversions == np.round(p.conversions))
    t = p.totals()
    assert np.allclose(t["cpa"], t["spend"] / t["conversions"])
    assert np.allclose(t["roas"], t["revenue"] / t["spend"])


def test_same_seed_equal_other_seed_differs(forecast):
    a, b, c = _run(forecast, seed=3), _run(forecast, seed=3), _run(forecast, seed=4)
    assert np.array_equal(a.conversions, b.conversions)
    assert np.array_equal(a.revenue, b.revenue)
    assert not np.array_equal(a.conversions, c.conversions)


def test_result_does_not_depend_on_chunk_boundaries_in_distribution(forecast):
    small = _run(forecast, n=4000, config=EngineConfig(chunk_paths=100)).totals()["conversions"]
    big = _run(forecast, n=4000, config=EngineConfig(chunk_paths=4000)).totals()["conversions"]
    assert small.mean() == pytest.approx(big.mean(), rel=0.01)


def test_mean_matches_known_funnel():
    fc = make_forecast(scale=0.05, ar=0.0, elasticity=(0, 0, 0, 0))
    p = _run(fc, n=4000, delivery=DeliveryModel(1.0, 0.0))
    expected = 800 / 10 * 1000 * 0.015 * 0.03  # per day
    # drivers are medians on the log/logit scale: the mean is higher by ~exp(sd^2/2) each
    assert p.conversions.mean() == pytest.approx(expected, rel=0.03)
    assert p.spend.mean() == pytest.approx(800.0, rel=1e-4)


def test_driver_errors_match_driver_forecast_paths_from():
    corr = np.full((4, 4), 0.3) + 0.7 * np.eye(4)
    fc = make_forecast(horizon_days=10, corr=corr, ar=0.7)
    rng = np.random.default_rng(0)
    z = rng.standard_normal((10, 4, 50)).astype(np.float32)  # (H, 4, n)
    mine = _driver_errors(fc, np.ascontiguousarray(np.moveaxis(z, 1, 0)), rng)  # (4, H, n)
    chol = np.linalg.cholesky(corr + 1e-12 * np.eye(4))
    innov = np.moveaxis(z.astype(float), 2, 0) @ chol.T  # (n, H, 4)
    reference = (fc.paths_from(innov) - fc.center) / fc.scale  # unit-variance errors
    assert np.allclose(np.moveaxis(mine, (0, 1, 2), (2, 1, 0)), reference, atol=1e-4)


def test_days_are_correlated_not_independent():
    fc = make_forecast(scale=0.15, ar=0.8)
    p = _run(fc, n=4000, config=EngineConfig(deconvolve_sampling_noise=False))
    log_conv = np.log(p.conversions + 1)
    r = np.corrcoef(log_conv[10], log_conv[11])[0, 1]
    assert r > 0.5
    independent = _run(
        make_forecast(scale=0.15, ar=0.0), n=4000, config=EngineConfig(persistent_share=0.0)
    )
    r0 = np.corrcoef(
        np.log(independent.conversions[10] + 1), np.log(independent.conversions[11] + 1)
    )
    assert r0[0, 1] < 0.1


def test_more_spend_raises_cpm_by_the_elasticity(forecast):
    low = _run(forecast, plan=BudgetPlan.from_daily(800.0, 28), delivery=DeliveryModel(1, 0))
    high = _run(forecast, plan=BudgetPlan.from_daily(1600.0, 28), delivery=DeliveryModel(1, 0))
    ratio = high.totals()["cpm"].mean() / low.totals()["cpm"].mean()
    assert ratio == pytest.approx(2**0.4, rel=0.02)
    conv = high.totals()["conversions"].mean() / low.totals()["conversions"].mean()
    assert conv == pytest.approx(2**0.6, rel=0.03)


def test_deconvolution_keeps_count_noise_from_being_counted_twice():
    # drivers' scale = pure sampling noise at this volume: with deconvolution the daily
    # conversion spread should be close to the binomial-only spread
    fc = make_forecast(scale=0.0, ar=0.0, elasticity=(0, 0, 0, 0))
    base = _run(fc, n=4000, delivery=DeliveryModel(1.0, 0.0)).conversions
    mean = base.mean()
    samp = np.sqrt(1 / mean)  # logit-scale sampling sd of CVR at this volume
    scale = np.zeros((28, 4))
    scale[:, 2] = samp
    fc2 = replace(fc, scale=scale)
    with_dec = _run(fc2, n=4000, delivery=DeliveryModel(1.0, 0.0)).conversions
    without = _run(
        fc2,
        n=4000,
        delivery=DeliveryModel(1.0, 0.0),
        config=EngineConfig(deconvolve_sampling_noise=False),
    ).conversions
    assert with_dec.std() < without.std()
    assert with_dec.std() < 1.25 * base.std()


def test_zero_budget_gives_zero_funnel(forecast):
    p = _run(forecast, plan=BudgetPlan.from_daily(0.0, 28))
    assert p.impressions.sum() == 0 and p.conversions.sum() == 0 and p.revenue.sum() == 0
    assert np.all(np.isnan(p.totals()["cpa"]))


def test_small_campaign_uses_exact_counts_and_stays_valid():
    fc = make_forecast(spend=20.0, cvr=0.01)
    p = _run(fc, plan=BudgetPlan.from_daily(20.0, 28))
    assert p.conversions.mean() < 1
    assert np.all(p.conversions >= 0)


def test_threads_do_not_change_results(forecast):
    one = _run(forecast, n=1500, config=EngineConfig(n_threads=1, chunk_paths=256))
    two = _run(forecast, n=1500, config=EngineConfig(n_threads=2, chunk_paths=256))
    assert np.array_equal(one.conversions, two.conversions)
    assert np.array_equal(one.revenue, two.revenue)


def test_persistent_share_keeps_daily_spread_and_widens_totals(forecast):
    flat = _run(forecast, n=4000, config=EngineConfig(persistent_share=0.0))
    sticky = _run(forecast, n=4000, config=EngineConfig(persistent_share=0.8))
    assert np.std(np.log(sticky.conversions[5])) == pytest.approx(
        np.std(np.log(flat.conversions[5])), rel=0.1
    )
    assert sticky.totals()["conversions"].std() > 1.3 * flat.totals()["conversions"].std()


def test_reused_scratch_memory_does_not_leak_between_runs(forecast):
    # the engine keeps scratch arrays between calls: other shapes and plans in between must
    # not change a run
    first = _run(forecast, n=1500, seed=21)
    _run(forecast, n=700, seed=2, plan=BudgetPlan.from_total(5000.0, 28))
    _run(make_forecast(horizon_days=40), n=2600, seed=3)
    again = _run(forecast, n=1500, seed=21)
    for metric in ("spend", "impressions", "clicks", "conversions", "revenue"):
        assert np.array_equal(getattr(first, metric), getattr(again, metric))
    assert np.array_equal(first.exhausted_day, again.exhausted_day)
