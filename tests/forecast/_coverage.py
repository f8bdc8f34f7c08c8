"""Checks that a backtest's coverage figures are what they claim to be (issue 23)."""

from __future__ import annotations

import pytest
from scipy.stats import binom


def assert_coverage_is_a_backtest_proportion(scores: dict, n_points: int) -> None:
    assert scores["n_points"] == n_points
    hits = scores["coverage_80"] * n_points
    assert hits == pytest.approx(round(hits), abs=1e-9)
    assert 0 <= scores["coverage_50"] <= scores["coverage_80"] <= scores["coverage_95"] <= 1


def assert_coverage_near_nominal(scores: dict) -> None:
    """Binomial 99.9% range of the share of n independent points inside an 80% interval.

    Points of one cutoff are autocorrelated, so this treats them as more independent than
    they are; a correct forecaster still lands inside on the seeded campaigns used here.
    """
    n = scores["n_points"]
    lo, hi = binom.ppf(0.0005, n, 0.8) / n, binom.isf(0.0005, n, 0.8) / n
    assert lo <= scores["coverage_80"] <= hi
