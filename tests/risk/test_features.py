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
