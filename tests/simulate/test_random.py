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


@pytest.mark.parametrize("shape", [(5,), (3, 7), (4, 20, 1001), (8192 * 4 * 2 + 3,)])
def test_fast_normals_are_the_table_at_the_raw_words_whatever_the_pieces(shape):
    # generated piece by piece: must equal one table lookup of all the 16-bit words, and
    # leave the generator where a single random_raw call would
    from simkit.simulate._random import _table

    size = int(np.prod(shape))
    ref_rng, rng = np.random.default_rng(11), np.random.default_rng(11)
    words = ref_rng.bit_generator.random_raw(-(-size // 4))
    expected = _table()[words.view(np.uint16)[:size]].reshape(shape)
    out = np.empty(shape, dtype=np.float32)
    assert np.array_equal(fast_normals(rng, shape, out=out), expected)
    assert rng.integers(1 << 40) == ref_rng.integers(1 << 40)


def test_scratch_arrays_do_not_change_counts():
    z = fast_normals(np.random.default_rng(4), (30, 50))
    n = np.full((30, 50), 400.0, dtype=np.float32)
    p = np.linspace(0.001, 0.9, 1500, dtype=np.float32).reshape(30, 50)
    scratch = (np.full_like(n, 7.0), np.full_like(n, -3.0), np.ones(n.shape, dtype=bool))
    got = binomial_from_normal(n, p, z, 10.0, out=np.empty_like(n), scratch=scratch)
    assert np.array_equal(got, binomial_from_normal(n, p, z, 10.0))
    lam = p * 40
    got = poisson_from_normal(lam, z, 10.0, out=np.empty_like(n), scratch=scratch[1:])
    assert np.array_equal(got, poisson_from_normal(lam, z, 10.0))


def test_exact_search_in_pieces_equals_one_search():
    # more small-variance cells than one piece of the search: the same quantiles as one
    # search over all cells (each cell is independent of the others)
    from simkit.simulate._random import _binomial_search, _in_pieces, _poisson_search

    rng = np.random.default_rng(6)
    u = rng.uniform(size=40_001)
    n, p = rng.integers(0, 80, u.size).astype(float), rng.uniform(0, 1, u.size)
    assert np.array_equal(_in_pieces(_binomial_search, n, p, u), _binomial_search(n, p, u))
    lam = rng.uniform(0, 10, u.size)
    assert np.array_equal(_in_pieces(_poisson_search, lam, u), _poisson_search(lam, u))
    z = np.linspace(-3.5, 3.5, 40_001)
    expected = stats.binom.ppf(stats.norm.cdf(z), 60, 0.05)
    assert np.array_equal(
        binomial_from_normal(np.full(z.size, 60), np.full(z.size, 0.05), z, 10), expected
    )
