import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isingviz.dynamics import add_observation_noise, decay_deviation, free_decay, simulate
from isingviz.lattice import random_lattice


def loop_reference(A, s0, T, tau, M):
    """Eq. 1 spin by spin, step by step, in plain Python."""
    L = len(s0)
    s = [float(x) for x in s0]
    out = np.zeros((L, M))
    out[:, 0] = s
    for m in range(M - 1):
        new = []
        for i in range(L):
            h = sum(A[i][j] * s[j] for j in range(L))
            new.append(s[i] + tau * (-s[i] + np.tanh(h / T)))
        s = new
        out[:, m + 1] = s
    return out


@pytest.mark.parametrize("T", [0.1, 0.4, 5.0, 100.0])
def test_matches_per_spin_loop(T):
    A = random_lattice(8, 10, 1)
    s0 = np.random.default_rng(0).choice([-1.0, 1.0], 8)
    assert np.allclose(simulate(A, s0, T, 0.1, 30), loop_reference(A, s0, T, 0.1, 30), atol=1e-13, rtol=0)


def test_float32_close_to_float64():
    A = random_lattice(12, 25, 0)
    s0 = np.random.default_rng(1).choice([-1.0, 1.0], (500, 12))
    # Not at T=0.1: there a spin whose field cancels sits on an unstable fixed point, and float32 rounding
    # alone (with numpy's own tanh too) sends a few trajectories to the other branch. float64 is the default.
    for T in (0.4, 1.0, 50.0):
        x32 = simulate(A, s0, T, dtype=np.float32)
        assert x32.dtype == np.float32
        assert np.abs(x32 - simulate(A, s0, T)).max() < 1e-4


@given(L=st.integers(2, 20), tau=st.floats(0.01, 1.0), M=st.integers(2, 60), seed=st.integers(0, 100))
@settings(max_examples=40, deadline=None)
def test_no_edges_is_free_decay(L, tau, M, seed):
    s0 = np.random.default_rng(seed).choice([-1.0, 1.0], (3, L))
    x = simulate(np.zeros((L, L)), s0, 1.0, tau, M)
    assert np.allclose(x, free_decay(s0, tau, M), atol=1e-12)


@given(seed=st.integers(0, 10_000), T=st.floats(0.05, 200))
@settings(max_examples=30, deadline=None)
def test_odd_symmetry_and_permutation(seed, T):
    rng = np.random.default_rng(seed)
    A = random_lattice(10, 15, rng)
    s0 = rng.choice([-1.0, 1.0], (4, 10))
    x = simulate(A, s0, T)
    assert np.allclose(simulate(A, -s0, T), -x, atol=1e-13)
    p = rng.permutation(10)
    xp = simulate(A[np.ix_(p, p)], s0[:, p], T)
    assert np.allclose(xp, x[:, p, :], atol=1e-12)


def test_shapes_batch_lattices_and_temperatures():
    rng = np.random.default_rng(2)
    As = np.stack([random_lattice(6, 5, s) for s in range(5)])
    s0 = rng.choice([-1.0, 1.0], (5, 6))
    Ts = np.array([0.2, 1, 3, 10, 100.0])
    x = simulate(As, s0, Ts, 0.2, 20)
    assert x.shape == (5, 6, 20)
    for b in range(5):
        assert np.allclose(x[b], simulate(As[b], s0[b], Ts[b], 0.2, 20), atol=1e-13)
    assert simulate(As[0], s0[0], 1.0).shape == (6, 50)
    assert np.array_equal(simulate(As[0], s0, 1.0)[:, :, 0], s0)


def test_stochastic_one_step_mean_matches_eq1():
    A = random_lattice(10, 20, 4)
    s0 = np.random.default_rng(5).choice([-1.0, 1.0], 10)
    R, T, tau = 20000, 1.0, 0.3
    x = simulate(A, s0, T, tau, 2, mode="stochastic", replicas=R, seed=11)
    expected = simulate(A, s0, T, tau, 2)[:, 1]
    # one spin's next value is s0 with prob 1-tau, else +/-1; its standard deviation is at most 1
    var = 1 - expected**2
    assert np.all(np.abs(x[:, 1] - expected) <= 4 * np.sqrt(var / R) + 1e-12)


def test_stochastic_edgeless_matches_decay_every_step():
    L, R, tau, M = 8, 5000, 0.1, 30
    s0 = np.random.default_rng(6).choice([-1.0, 1.0], (2, L))
    x = simulate(np.zeros((L, L)), s0, 2.0, tau, M, mode="stochastic", replicas=R, seed=3)
    mean = free_decay(s0, tau, M)
    se = np.sqrt((1 - mean**2) / R)
    assert np.all(np.abs(x - mean) <= 4 * se + 1e-12)


def test_stochastic_seed_reproduces():
    A = random_lattice(6, 6, 0)
    s0 = np.ones(6)
    a = simulate(A, s0, 1.0, mode="stochastic", replicas=10, seed=1)
    assert np.array_equal(a, simulate(A, s0, 1.0, mode="stochastic", replicas=10, seed=1))
    assert not np.array_equal(a, simulate(A, s0, 1.0, mode="stochastic", replicas=10, seed=2))
    assert set(np.unique(a * 10)) <= set(range(-10, 11))


def test_observation_noise_seeded():
    A = random_lattice(6, 6, 0)
    clean = simulate(A, np.ones(6), 1.0)
    a = simulate(A, np.ones(6), 1.0, noise=0.01, seed=4)
    assert np.array_equal(a, simulate(A, np.ones(6), 1.0, noise=0.01, seed=4))
    assert 0.005 < np.std(a - clean) < 0.02
    with pytest.raises(ValueError, match="sigma"):
        add_observation_noise(clean, -1.0)


@pytest.mark.parametrize(
    "kwargs, msg",
    [
        ({"T": 0.0}, "T must be finite and > 0"),
        ({"T": -1.0}, "T must be finite and > 0"),
        ({"T": np.nan}, "T must be finite"),
        ({"T": 1e9}, "T must be finite and > 0"),
        ({"T": "hot"}, "T must be a real number"),
        ({"tau": 0.0}, r"tau must be a finite number in \(0, 1\]"),
        ({"tau": 1.5}, r"tau must be a finite number in \(0, 1\]"),
        ({"M": 1}, "M must be an integer from 2 to 2,000"),
        ({"M": 10**7}, "M must be an integer from 2 to 2,000"),
        ({"M": 50.0}, "M must be an integer"),
        ({"s0": np.full(6, 2.0)}, r"\[-1, 1\]"),
        ({"s0": np.full(6, np.inf)}, "finite"),
        ({"s0": np.ones(5)}, "shape"),
        ({"T": np.ones(3)}, "one value per instance"),
        ({"mode": "quantum"}, "mode"),
        ({"s0": np.full(6, 0.5), "mode": "stochastic"}, "exactly"),
        ({"mode": "stochastic", "replicas": 0}, "replicas"),
        ({"replicas": 5 * 10**7}, "replicas must be an integer from 1 to 100,000"),
        ({"noise": -0.1}, "noise"),
        ({"noise": "0.1"}, "noise sigma must be a finite number"),
        ({"s0": np.ones((10**6, 6)), "M": 2000}, "over the budget"),
        ({"dtype": np.int32}, "dtype"),
        ({"A": np.ones((6, 6))}, "diagonal"),
    ],
)
def test_validation_errors(kwargs, msg):
    args = {"A": random_lattice(6, 5, 0), "s0": np.ones(6), "T": 1.0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=msg):
        simulate(**args)


def test_decay_deviation_zero_without_edges():
    s0 = np.where(np.arange(8) % 3, 1.0, -1.0)
    dev = decay_deviation(np.zeros((8, 8), int), s0, [0.1, 1.0, 100.0], tau=0.1, M=30)
    assert dev.shape == (3, 30) and dev.dtype == np.float64
    np.testing.assert_allclose(dev, 0.0, atol=1e-12)


@pytest.mark.parametrize("stat", ["max", "rms"])
def test_decay_deviation_shrinks_like_one_over_T(stat):
    A = random_lattice(8, 10, seed=1)
    s0 = np.where(np.arange(8) % 3, 1.0, -1.0)
    dev = decay_deviation(A, s0, [50.0, 100.0, 200.0], tau=0.1, M=30, stat=stat)  # (3, 30)
    assert dev.shape == (3, 30)
    np.testing.assert_allclose(dev[:, 0], 0.0, atol=1e-15)  # column 0 is s0 itself
    peak = dev.max(axis=1)  # (3,)
    assert np.all(peak > 0)
    np.testing.assert_allclose(peak[:-1] / peak[1:], 2.0, rtol=0.05)  # T doubles, deviation halves


def test_decay_deviation_matches_its_definition_and_checks_inputs():
    A = random_lattice(6, 7, seed=2)
    s0 = np.array([1.0, -1.0, 1.0, 1.0, -1.0, 1.0])
    d = np.abs(simulate(A, s0, 0.7, 0.1, 20) - free_decay(s0, 0.1, 20))  # (L, M)
    np.testing.assert_allclose(decay_deviation(A, s0, [0.7], 0.1, 20)[0], d.max(axis=0), atol=1e-15)
    np.testing.assert_allclose(
        decay_deviation(A, s0, [0.7], 0.1, 20, stat="rms")[0], np.sqrt((d**2).mean(axis=0)), atol=1e-15
    )
    with pytest.raises(ValueError, match="stat"):
        decay_deviation(A, s0, [1.0], stat="mean")
    with pytest.raises(ValueError, match="temperature"):
        decay_deviation(A, s0, [])
    with pytest.raises(ValueError, match="one initial state"):
        decay_deviation(A, np.ones((2, 6)), [1.0])
