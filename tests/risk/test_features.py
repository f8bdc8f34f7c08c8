from __future__ import annotations

import numpy as np

from simkit.risk.history import CampaignHistory


def _history(log_ctr: np.ndarray, age: np.ndarray, seed: int = 0) -> CampaignHistory:
    rng = np.random.default_rng(seed)
    n = len(log_ctr)
    imp = rng.poisson(20_000, n).astype(float)
    clicks = rng.binomial(imp.astype(int), np.exp(log_ctr)).astype(float)
    conv = rng.binomial(clicks.astype(int), 0.05).astype(float)
    return CampaignHistory(
        campaign_id="c",
        dates=np.datetime64("2025-01-01") + np.arange(n),
        spend=np.full(n, 100.0),
        impressions=imp,
        clicks=clicks,
        conversions=conv,
        revenue=conv * 50.0,
        creative_age=age,
    )


def test_fall_from_the_creative_peak_is_large_for_wear_and_small_without() -> None:
    n = 120
    flat = np.full(n, np.log(0.02))
    worn = flat.copy()
    worn[-10:] -= 0.06 * np.arange(1, 11)
    age = np.arange(n, dtype=float)
    quiet = _history(flat, age).scan.features
    tired = _history(worn, age).scan.features
    assert abs(quiet["ctr_peak_drop"]) < 3.0
    assert tired["ctr_peak_drop"] > 5.0
    assert tired["ctr_peak_drop3"] > 5.0


def test_peak_is_taken_within_the_current_creative_only() -> None:
    n = 120
    log_ctr = np.full(n, np.log(0.02))
    log_ctr[: n - 30] = np.log(0.03)  # the old creative did better; the new one is steady
    age = np.concatenate([np.arange(n - 30), np.arange(30)]).astype(float)
    features = _history(log_ctr, age).scan.features
    assert abs(features["ctr_peak_drop"]) < 3.0
    young = np.concatenate([np.arange(n - 5), np.arange(5)]).astype(float)
    assert _history(log_ctr, young).scan.features["ctr_peak_drop"] == 0.0


def _funnel(cvr: np.ndarray, cpc: np.ndarray, seed: int = 0) -> CampaignHistory:
    rng = np.random.default_rng(seed)
    n = len(cvr)
    clicks = rng.poisson(800, n).astype(float)
    conv = rng.binomial(clicks.astype(int), cvr).astype(float)
    return CampaignHistory(
        campaign_id="f",
        dates=np.datetime64("2025-01-01") + np.arange(n),
        spend=clicks * cpc,
        impressions=clicks * 50.0,
        clicks=clicks,
        conversions=conv,
        revenue=conv * 50.0,
    )


def test_a_cvr_fall_landing_over_days_reads_as_a_cvr_ramp() -> None:
    """Conversions attributed days after the click make a CVR drop arrive as a ramp."""
    n = 120
    flat = np.full(n, 0.05)
    landing = flat.copy()
    landing[-7:] = 0.05 - 0.03 * np.arange(1, 8) / 7  # the drop lands over a week
    quiet = _funnel(flat, np.full(n, 1.0)).scan.features
    dropped = _funnel(landing, np.full(n, 1.0)).scan.features
    assert quiet["cvr_ramp"] < 3.0
    assert dropped["cvr_ramp"] > 5.0


def test_a_cpc_jump_beyond_spend_is_seen_by_the_cpc_scan() -> None:
    n = 120
    rng = np.random.default_rng(4)
    price = np.exp(rng.normal(0.0, 0.03, n))
    quiet = _funnel(np.full(n, 0.05), price).scan.features
    jumped = price.copy()
    jumped[-5:] *= 1.3
    dearer = _funnel(np.full(n, 0.05), jumped).scan.features
    assert quiet["cpc_up"] < 3.0
    assert dearer["cpc_up"] > 5.0
