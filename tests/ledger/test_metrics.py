"""The scoring maths on arrays: CRPS from quantiles, PIT, CUSUM."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.ledger.alerts import cusum
from simkit.ledger.metrics import pit_bins, pit_values, quantile_crps

LEVELS = {"p5": 0.05, "p10": 0.1, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95}


def test_quantile_crps_matches_the_pinball_definition():
    rng = np.random.default_rng(3)
    q = np.sort(rng.normal(10, 3, size=(50, 7)), axis=1)
    y = rng.normal(10, 3, size=50)
    levels = np.array(list(LEVELS.values()))
    by_hand = []
    for i in range(50):
        total = 0.0
        for k, a in enumerate(levels):
            total += a * (y[i] - q[i, k]) if y[i] >= q[i, k] else (1 - a) * (q[i, k] - y[i])
        by_hand.append(2 * total / len(levels))
    assert quantile_crps(y, q, levels) == pytest.approx(by_hand, rel=1e-12)


@pytest.mark.slow  # importing scoringrules compiles its kernels (about 9 s)
def test_quantile_crps_agrees_with_scoringrules():
    scoringrules = pytest.importorskip("scoringrules")
    rng = np.random.default_rng(4)
    q = np.sort(rng.gamma(3, 5, size=(30, 7)), axis=1)
    y = rng.gamma(3, 5, size=30)
    levels = np.array(list(LEVELS.values()))
    theirs = scoringrules.crps_quantile(y, q, levels, backend="numpy")
    assert quantile_crps(y, q, levels) == pytest.approx(np.asarray(theirs), rel=1e-9)


def test_pit_bins_and_values_follow_the_quantiles():
    q = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]] * 5)
    levels = np.array(list(LEVELS.values()))
    y = np.array([0.0, 1.5, 4.0, 6.5, 9.0])
    assert pit_bins(y, q).tolist() == [0, 1, 4, 6, 7]
    assert pit_values(y, q, levels) == pytest.approx([0.025, 0.075, 0.5, 0.925, 0.975])
    ties = np.array([[0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0]])
    assert pit_values(np.array([0.0]), ties, levels) == pytest.approx([0.15])


def test_cusum_finds_a_shift_and_not_noise():
    rng = np.random.default_rng(5)
    assert cusum(rng.normal(0, 1, 28) * 0.5) is None
    z = np.r_[np.zeros(10), np.full(10, -2.0)]
    found = cusum(z)
    assert found["direction"] == "below" and found["start"] == 10 and found["index"] == 16


_quantile_rows = st.lists(
    st.floats(min_value=0, max_value=1e4, allow_nan=False), min_size=7, max_size=7
).map(sorted)


@settings(max_examples=200, deadline=None)
@given(row=_quantile_rows, a=st.floats(0, 2e4), b=st.floats(0, 2e4))
def test_pit_is_a_cdf_and_crps_a_distance(row, a, b):
    q = np.array([row, row])
    levels = np.array(list(LEVELS.values()))
    y = np.array(sorted((a, b)))
    pit = pit_values(y, q, levels)
    assert np.all((pit > 0) & (pit < 1))
    assert pit[0] <= pit[1] + 1e-12  # a larger actual never has a smaller PIT
    crps = quantile_crps(y, q, levels)
    assert np.all(crps >= 0)
    bins = pit_bins(y, q)
    assert np.all((bins >= 0) & (bins <= 7)) and bins[0] <= bins[1]
