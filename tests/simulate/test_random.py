from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from simkit.simulate._random import binomial_from_normal, fast_normals, poisson_from_normal


def test_fast_normals_moments_and_shape():
    z = fast_normals(np.random.default_rng(1), (200, 1000)).astype(float)
    assert z.shape == (200, 1000)
    assert abs(z.mean()) < 0.01
    assert abs(z.var() - 1) < 0.01
    assert stats.kstest(z.ravel()[:20000], "norm").pvalue > 1e-3
    assert np.abs(z).max() < 4.4


def test_fast_normals_same_seed_equal_other_seed_differs():
    a = fast_normals(np.random.default_rng(5), (3, 7))
    b = fast_normals(np.random.default_rng(5), (3, 7))
    c = fast_normals(np.random.default_rng(6), (3, 7))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(("n", "p"), [(20, 0.1), (40, 0.9), (5000, 0.02), (3, 0.5), (200, 0.03)])
def test_binomial_from_normal_matches_binomial(n, p):
    z = fast_normals(np.random.default_rng(2), (200_000,))
    k = binomial_from_normal(np.full(z.size, n), np.full(z.size, p), z, 10.0)
    assert k.min() >= 0 and k.max() <= n
    assert np.all(k == np.round(k))
    assert abs(k.mean() - n * p) < 4 * np.sqrt(n * p * (1 - p) / z.size) + 0.02
    assert k.var() == pytest.approx(n * p * (1 - p), rel=0.05)


def test_exact_region_is_the_exact_quantile():
    z = np.linspace(-3, 3, 101)
    k = binomial_from_normal(np.full(101, 50.0), np.full(101, 0.08), z, 10.0)
    expected = stats.binom.ppf(stats.norm.cdf(z), 50, 0.08)
    assert np.array_equal(k, expected)
    lam = np.full(101, 3.5)
    assert np.array_equal(
        poisson_from_normal(lam, z, 10.0), stats.poisson.ppf(stats.norm.cdf(z), 3.5)
    )


@pytest.mark.parametrize("lam", [0.0, 2.0, 30.0, 1e6])
def test_poisson_from_normal_moments(lam):
    z = fast_normals(np.random.default_rng(3), (200_000,))
    k = poisson_from_normal(np.full(z.size, lam), z, 10.0)
    assert k.min() >= 0
    assert k.mean() == pytest.approx(lam, rel=0.01, abs=0.02)
    assert k.var() == pytest.approx(lam, rel=0.05, abs=0.02)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 10_000),
    p=st.floats(0.0, 1.0),
    z1=st.floats(-4, 4),
    z2=st.floats(-4, 4),
)
def test_counts_monotone_in_z_and_bounded(n, p, z1, z2):
    lo, hi = sorted((z1, z2))
    args = (np.array([n, n], dtype=float), np.array([p, p]), np.array([lo, hi]))
    k = binomial_from_normal(*args, 10.0)
    assert 0 <= k[0] <= k[1] <= n
