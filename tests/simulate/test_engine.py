from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from simkit.simulate import (
    BudgetPlan,
    CompetitionFactor,
    DeliveryModel,
    EngineConfig,
    simulate_paths,
)
from simkit.simulate.engine import _driver_errors, _Workspace

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
    with np.errstate(divide="ignore", invalid="ignore"):
        daily = {
            "cpm": 1000 * p.spend / p.impressions,
            "ctr": p.clicks / p.impressions,
            "cpc": p.spend / p.clicks,
            "cvr": p.conversions / p.clicks,
            "cpa": p.spend / p.conversions,
            "roas": p.revenue / p.spend,
        }
    for name, expected in daily.items():
        assert np.array_equal(p.metric(name), expected, equal_nan=True), name
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
    # drivers are medians on the log/logit scale, and median_centre keeps the mean there
    assert p.conversions.mean() == pytest.approx(expected, rel=0.03)
    assert p.spend.mean() == pytest.approx(800.0, rel=1e-4)


@pytest.mark.parametrize("ar", [(0.7, 0.7, 0.7, 0.7), (0.8, 0.0, 0.0, 0.0), (0.5, 0.0, 0.3, 0.0)])
def test_driver_errors_match_driver_forecast_paths_from(ar):
    # all drivers autocorrelated, one only, or some: each way the same errors as the
    # forecast's own path model
    corr = np.full((4, 4), 0.3) + 0.7 * np.eye(4)
    fc = replace(make_forecast(horizon_days=10, corr=corr), ar_coef=np.array(ar))
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


@pytest.mark.parametrize("elasticity", [0.4, 1.0])
def test_more_spend_raises_cpm_by_the_elasticity(elasticity):
    fc = make_forecast(elasticity=(elasticity, 0.0, 0.0, 0.0))
    low = _run(fc, plan=BudgetPlan.from_daily(800.0, 28), delivery=DeliveryModel(1, 0))
    high = _run(fc, plan=BudgetPlan.from_daily(1600.0, 28), delivery=DeliveryModel(1, 0))
    ratio = high.totals()["cpm"].mean() / low.totals()["cpm"].mean()
    assert ratio == pytest.approx(2**elasticity, rel=0.02)
    conv = high.totals()["conversions"].mean() / low.totals()["conversions"].mean()
    assert conv == pytest.approx(2 ** (1 - elasticity), rel=0.03)


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


def _observed_drivers(p):
    """``(4, H, N)`` daily drivers as a forecaster sees them: log CPM, logit CTR and CVR,
    log revenue per conversion, from one path's counts."""
    spend, imp, clicks, conv, rev = (
        getattr(p, m).astype(float)
        for m in ("spend", "impressions", "clicks", "conversions", "revenue")
    )
    return np.stack(
        [
            np.log(1000 * spend / imp),
            np.log(clicks / (imp - clicks)),
            np.log(conv / (clicks - conv)),
            np.log(rev / conv),
        ]
    )


@pytest.mark.parametrize("ratio", [1.0, 0.25])
def test_observed_daily_spread_is_the_forecast_scale_whatever_the_delivery(ratio):
    # The forecaster's scale is the spread of the observed daily rates, sampling noise
    # included. Here half of each driver's variance is the counts' sampling noise at the
    # delivered volume (delta method: 1/n for a Poisson log rate, 1/(n p (1 - p)) for a
    # binomial logit, ov^2/conversions for the order values): the engine must give back
    # exactly the scale, neither the latent part alone nor latent plus sampling twice.
    # CTR 0.2 and CVR 0.6 keep p (1 - p) apart from p and from each other.
    spend, cpm, ctr, cvr, ov = 800.0 * ratio, 10.0, 0.2, 0.6, 0.35
    imp = 1000 * spend / cpm
    sampling = np.array(
        [
            1 / imp,
            1 / (imp * ctr * (1 - ctr)),
            1 / (imp * ctr * cvr * (1 - cvr)),
            ov**2 / (imp * ctr * cvr),
        ]
    )
    scale = np.sqrt(2 * sampling)
    fc = make_forecast(ctr=ctr, cvr=cvr, cpm=cpm, ar=0.0, elasticity=(0, 0, 0, 0))
    fc = replace(fc, scale=np.tile(scale, (fc.horizon_days, 1)))
    p = _run(
        fc,
        n=4000,
        seed=5,
        delivery=DeliveryModel(ratio, 0.0),
        config=EngineConfig(persistent_share=0.0, order_value_sd=ov),
    )
    assert p.spend.mean() == pytest.approx(spend, rel=1e-6)
    daily_var = _observed_drivers(p).var(axis=2, ddof=1).mean(axis=1)
    # 112,000 independent path-days: the variance's relative sampling error is 0.4%
    assert daily_var / scale**2 == pytest.approx(np.ones(4), rel=0.04)


def test_without_driver_uncertainty_the_funnel_has_the_exact_count_means():
    # scale 0: impressions ~ Poisson(1000 spend / CPM), clicks ~ Binomial(impressions,
    # CTR), conversions ~ Binomial(clicks, CVR), and the order-value noise preserves the
    # mean revenue per conversion; tolerances are about 6 standard errors of each mean
    fc = make_forecast(scale=0.0, ar=0.0, elasticity=(0, 0, 0, 0))
    p = _run(fc, n=4000, delivery=DeliveryModel(1.0, 0.0))
    total = {
        m: getattr(p, m).sum(dtype=np.float64)
        for m in ("impressions", "clicks", "conversions", "revenue")
    }
    cells = p.spend.size
    assert total["impressions"] / cells == pytest.approx(80_000.0, rel=1e-4)
    assert total["clicks"] / total["impressions"] == pytest.approx(0.015, rel=6e-4)
    assert total["conversions"] / total["clicks"] == pytest.approx(0.03, rel=3e-3)
    assert total["revenue"] / total["conversions"] == pytest.approx(80.0, rel=1.5e-3)
    # and the order values do vary: log-sd 0.35 / sqrt(conversions) per path-day
    per_conv = np.log(p.revenue / p.conversions)
    assert per_conv.std() == pytest.approx(0.35 / np.sqrt(36.0), rel=0.05)


def test_driver_correlation_reaches_the_days_and_the_persistent_level():
    corr = np.eye(4)
    corr[0, 1] = corr[1, 0] = 0.6
    fc = make_forecast(scale=0.2, ar=0.0, elasticity=(0, 0, 0, 0), corr=corr)
    p = _run(
        fc,
        n=4000,
        delivery=DeliveryModel(1.0, 0.0),
        config=EngineConfig(persistent_share=0.5, deconvolve_sampling_noise=False),
    )
    x = _observed_drivers(p)
    # CTR's sampling variance (1 / 1,182 impressions' clicks) dilutes 0.6 by about 1%
    daily = np.corrcoef(x[0].ravel(), x[1].ravel())[0, 1]
    level = np.corrcoef(x[0].mean(axis=0), x[1].mean(axis=0))[0, 1]
    assert daily == pytest.approx(0.6, abs=0.03)
    assert level == pytest.approx(0.6, abs=0.05)
    assert abs(np.corrcoef(x[0].ravel(), x[2].ravel())[0, 1]) < 0.03


def test_two_factors_with_the_same_key_draw_independent_shifts():
    # two competition factors, each +-10% CPM per path: their log shifts add up with twice
    # the variance of one (the same stream for both would give four times)
    fc = make_forecast(scale=0.0, ar=0.0, elasticity=(0, 0, 0, 0))
    one = [CompetitionFactor(inflation=0.0, inflation_sd=0.1)]
    var = [
        np.log(_run(fc, n=4000, delivery=DeliveryModel(1.0, 0.0), factors=f).totals()["cpm"]).var()
        for f in (one, one * 2)
    ]
    assert var[0] == pytest.approx(0.01, rel=0.1)
    assert var[1] / var[0] == pytest.approx(2.0, rel=0.1)


def test_a_total_spent_on_the_first_day_is_exhausted_on_day_zero():
    p = _run(make_forecast(), n=300, plan=BudgetPlan(daily=np.full(28, 800.0), total=500.0))
    assert np.all(p.exhausted) and np.all(p.exhausted_day == 0)
    assert np.allclose(p.spend[0], 500.0) and not p.spend[1:].any()


def test_one_path_is_a_simulation_and_none_is_an_error(forecast):
    assert _run(forecast, n=1).conversions.shape == (28, 1)
    with pytest.raises(ValueError, match="n_paths must be positive"):
        _run(forecast, n=0)


def test_workspace_arrays_have_the_shape_and_dtype_asked_for_and_reuse_memory():
    ws = _Workspace()
    a = ws.get("x", (3, 4))
    assert (a.shape, a.dtype, a.flags.c_contiguous) == ((3, 4), np.float32, True)
    assert np.shares_memory(ws.get("x", (4, 3)), a)  # same size: the same memory
    assert np.shares_memory(ws.get("x", (2, 2)), a)  # smaller: a view of it
    big = ws.get("x", (5, 5))
    assert big.shape == (5, 5) and not np.shares_memory(big, a)
    flags = ws.get("x", (5, 5), np.bool_)
    assert flags.dtype == np.bool_ and not np.shares_memory(flags, big)
    assert not np.shares_memory(ws.get("y", (5, 5)), big)  # names never share
    assert ws.nbytes == 25 + 4 * 25


def test_the_funnel_stages_draw_independent_sampling_noise():
    # without driver uncertainty only the counts' own draws vary: impressions around
    # 1000 spend / CPM, clicks around CTR x impressions, conversions around CVR x clicks,
    # the order values around RPC; each stage's draw is independent of the others'
    fc = make_forecast(scale=0.0, ar=0.0, elasticity=(0, 0, 0, 0))
    p = _run(fc, n=4000, delivery=DeliveryModel(1.0, 0.0))
    imp, clicks, conv, rev = (
        getattr(p, m).astype(float).ravel()
        for m in ("impressions", "clicks", "conversions", "revenue")
    )
    noise = np.stack(
        [imp - 80_000, clicks - 0.015 * imp, conv - 0.03 * clicks, np.log(rev / conv / 80)]
    )
    # 112,000 path-days: a correlation's standard error is 0.003
    assert np.allclose(np.corrcoef(noise), np.eye(4), atol=0.02)


def test_student_t_drivers_have_unit_variance_and_heavy_tails():
    fc = make_forecast(scale=0.2, ar=0.0, elasticity=(0, 0, 0, 0), df=5.0)
    p = _run(
        fc,
        n=4000,
        delivery=DeliveryModel(1.0, 0.0),
        config=EngineConfig(persistent_share=0.0, deconvolve_sampling_noise=False),
    )
    z = (np.log(p.metric("cpm").astype(float)) - np.log(10.0)) / 0.2
    assert z.var() == pytest.approx(1.0, rel=0.1)  # (df - 2) / chi2: unit variance
    # one mixing draw per path: the days of a path share it, so the spread differs
    # between paths (a normal driver gives every path the same spread)
    spread = z.std(axis=0)
    assert spread.std() > 0.3
    normal = _run(
        replace(fc, df=float("inf")),
        n=4000,
        delivery=DeliveryModel(1.0, 0.0),
        config=EngineConfig(persistent_share=0.0, deconvolve_sampling_noise=False),
    )
    z_normal = (np.log(normal.metric("cpm").astype(float)) - np.log(10.0)) / 0.2
    assert z_normal.std(axis=0).std() < 0.2


def test_revenue_is_simulated_only_when_the_history_measures_it(forecast):
    measured = _run(forecast, n=500)
    assert measured.campaign_id == forecast.campaign_id
    assert measured.revenue.sum() > 0
    unmeasured = _run(replace(forecast, revenue_measured=False), n=500)
    assert not unmeasured.revenue.any()
    assert np.array_equal(unmeasured.conversions, measured.conversions)


def test_a_capped_day_pays_the_cpm_of_the_spend_it_delivered():
    # the total runs out half-way through day 10: that day spends 400 of its 800, so with
    # elasticity 0.4 its CPM is 10 x (400 / 800)^0.4 (the spend delivered, not the budget)
    fc = make_forecast(scale=0.0, ar=0.0, elasticity=(0.4, 0, 0, 0))
    plan = BudgetPlan(daily=np.full(28, 800.0), total=800.0 * 10.5)
    p = _run(fc, n=4000, plan=plan, delivery=DeliveryModel(1.0, 0.0))
    assert np.allclose(p.spend[10], 400.0) and np.all(p.exhausted_day == 10)
    expected = 1000 * 400 / (10 * 0.5**0.4)  # Poisson mean impressions on day 10
    assert p.impressions[10].mean() == pytest.approx(expected, rel=2e-3)
    assert p.impressions[9].mean() == pytest.approx(80_000, rel=2e-3)


def test_forecast_level_share_is_used_unless_the_config_sets_one():
    fc = make_forecast(scale=0.15, ar=0.3)
    sticky = replace(fc, level_share=np.full(4, 0.8), level_ar_coef=np.full(4, 0.3))
    own = _run(sticky, n=4000).totals()["conversions"]
    flat = _run(fc, n=4000).totals()["conversions"]
    assert own.std() > 1.3 * flat.std()
    # a configured share overrides the forecast's, with the forecast's AR(1)
    override = _run(sticky, n=4000, config=EngineConfig(persistent_share=0.0))
    assert np.array_equal(override.conversions, _run(fc, n=4000).conversions)


def test_median_centre_keeps_the_expected_rate_at_the_centre():
    # a wide CVR scale with independent days: its convexity lifts the mean ~exp(sd^2 / 2)
    fc = make_forecast(scale=0.6, ar=0.0, elasticity=(0, 0, 0, 0), cvr=0.02)
    expected = 800 / 10 * 1000 * 0.015 * 0.02 * 28
    kw = dict(n=4000, delivery=DeliveryModel(1.0, 0.0))
    centred = _run(fc, config=EngineConfig(persistent_share=0.0), **kw).totals()["conversions"]
    lifted = _run(
        fc, config=EngineConfig(persistent_share=0.0, median_centre=False), **kw
    ).totals()["conversions"]
    assert centred.mean() == pytest.approx(expected, rel=0.04)
    assert lifted.mean() > 1.1 * expected


def test_level_share_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match="level_share"):
        replace(make_forecast(), level_share=np.full(4, 1.0))
