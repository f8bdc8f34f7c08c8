from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.risk._scan import scan_metric


def _series(rng: np.random.Generator, n: int = 90, sd: float = 0.05, phi: float = 0.6):
    e = np.empty(n)
    prev = 0.0
    for t in range(n):
        prev = phi * prev + rng.normal(0, sd * np.sqrt(1 - phi**2))
        e[t] = prev
    X = np.ones((n, 1))
    return e, X


def _scan(y, X):
    return scan_metric(y, np.zeros(len(y)), X, np.zeros(1), np.array([1e3]))


def test_step_is_found_with_its_onset_and_size() -> None:
    y, X = _scan_input = _series(np.random.default_rng(0))
    y = y.copy()
    y[-5:] -= 0.4
    scan = _scan(y, X)
    z, i = scan.best("z_step", -1.0)
    assert z > 5
    assert scan.windows[i] in (4, 5, 6)
    assert abs(scan.delta[i] + 0.4) < 0.15


def test_ramp_scores_higher_as_a_ramp_than_noise() -> None:
    rng = np.random.default_rng(1)
    y, X = _series(rng)
    y = y.copy()
    y[-14:] -= 0.04 * np.arange(14)
    z_ramp, _ = _scan(y, X).best("z_ramp", -1.0)
    null, _ = _scan(_series(rng)[0], X).best("z_ramp", -1.0)
    assert z_ramp > 4 > null


def test_null_z_scores_are_roughly_standard() -> None:
    rng = np.random.default_rng(2)
    last = []
    for _ in range(200):
        y, X = _series(rng)
        scan = _scan(y, X)
        last.append(scan.z_step[list(scan.windows).index(7)])
    last = np.array(last)
    assert abs(last.mean()) < 0.3
    assert 0.7 < last.std() < 1.4


def test_noise_estimates_are_unbiased_for_persistent_noise() -> None:
    # slow AR(1) noise (phi 0.75) is what makes naive residual estimates too small: the
    # fitted level soaks up part of it and the lag-1 autocorrelation is biased to zero,
    # which inflates every z-score.  The scan corrects both.
    rng = np.random.default_rng(5)
    z, phi, sigma = [], [], []
    for _ in range(200):
        y, X = _series(rng, n=100, sd=0.07, phi=0.75)
        scan = _scan(y, X)
        j = list(scan.windows).index(7)
        z.append(scan.z_step[j])
        phi.append(scan.phi[j])
        sigma.append(scan.sigma[j])
    assert abs(np.mean(phi) - 0.75) < 0.06
    assert abs(np.mean(sigma) / 0.07 - 1) < 0.1
    assert np.std(z) < 1.2


def test_counting_variance_under_the_baseline_not_the_drop() -> None:
    # a Poisson count that drops 60%: with the observed count's variance the drop hides itself
    rng = np.random.default_rng(3)
    n = 70
    exposure = np.full(n, 1000.0)
    rate = np.where(np.arange(n) >= n - 7, 0.002, 0.005)
    k = rng.poisson(exposure * rate).astype(float)
    y = np.log((k + 0.5) / (exposure + 0.5))
    v = 1 / (k + 0.5)
    X = np.ones((n, 1))
    plain = scan_metric(y, v, X, np.zeros(1), np.array([1e3]))
    score = scan_metric(y, v, X, np.zeros(1), np.array([1e3]), exposure=exposure)
    assert score.best("z_step", -1.0)[0] > plain.best("z_step", -1.0)[0]


def test_short_history_is_not_testable() -> None:
    y, X = _series(np.random.default_rng(4), n=12)
    scan = _scan(y, X)
    assert np.isnan(scan.z_step).all()
    value, window = scan.best("z_step", 1.0)
    assert np.isnan(value) and window == -1  # no window: no index to read a window from


@settings(max_examples=25, deadline=None)
@given(shift=st.floats(-5, 5), seed=st.integers(0, 10_000))
def test_scan_ignores_a_constant_level(shift: float, seed: int) -> None:
    y, X = _series(np.random.default_rng(seed), n=60)
    a, b = _scan(y, X), _scan(y + shift, X)
    np.testing.assert_allclose(a.z_step, b.z_step, atol=1e-6)
    np.testing.assert_allclose(a.delta, b.delta, atol=1e-6)


def _shape_scan(shape: str, seed: int):
    rng = np.random.default_rng(seed)
    y, X = _series(rng, sd=0.04)
    y = y.copy()
    if shape == "ramp":
        y[-9:] -= 0.06 * np.arange(9)
    else:
        y[-9:] -= 0.3
    scan = _scan(y, X)
    i = list(scan.windows).index(9)
    return scan, i


def test_hockey_stick_tells_a_ramp_from_a_step() -> None:
    # at the true onset a ramp has no jump and a clear slope, a step the reverse
    jumps = {"ramp": [], "step": []}
    bends = {"ramp": [], "step": []}
    for seed in range(20):
        for shape in ("ramp", "step"):
            scan, i = _shape_scan(shape, seed)
            jumps[shape].append(-scan.z_jump[i])
            bends[shape].append(-scan.z_bend[i])
    assert np.median(jumps["step"]) > 2 > np.median(jumps["ramp"])
    assert np.median(bends["ramp"]) > np.median(bends["step"])


def test_gls_statistics_find_the_same_events() -> None:
    scan, _ = _shape_scan("step", 0)
    assert scan.best("z_step_gls", -1.0)[0] > 4
    scan, _ = _shape_scan("ramp", 0)
    assert scan.best("z_ramp_gls", -1.0)[0] > 4
