"""The heat-bath replica likelihood: exact field laws, the closure, the prior, and the decoder on replica data."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from isingviz.dynamics import simulate
from isingviz.heatbath import (
    DENSITIES,
    EXACT_OBS_VAR,
    FALLBACK_PRIOR,
    aligned_steps,
    closure_costs,
    closure_mean,
    combine_rows,
    decode,
    density_rows,
    learned_density,
    set_marginals,
    subset_field_laws,
    subset_masks,
)
from isingviz.lattice import adjacency_to_pairs, complete, embed_rows, random_lattice


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 5), T=st.floats(0.2, 20.0), seed=st.integers(0, 2**32 - 1))
def test_field_laws_are_exact_for_independent_spins(n: int, T: float, seed: int) -> None:
    means = np.random.default_rng(seed).uniform(-1.0, 1.0, n)
    got = subset_field_laws(torch.from_numpy(means.reshape(1, n, 1)), T)[0, :, 0].numpy()  # (2^n,)
    for q, mask in enumerate(subset_masks(n)):
        want = 0.0
        for spins in itertools.product((-1.0, 1.0), repeat=n):  # every configuration and its probability
            s = np.array(spins)
            prob = np.prod(np.where(s > 0, (1 + means) / 2, (1 - means) / 2))
            want += prob * np.tanh(mask @ s / T)
        assert got[q] == pytest.approx(want, abs=1e-12)


def test_gaussian_closure_without_spread_is_tanh_and_averages_otherwise() -> None:
    mu = torch.tensor([0.0, 0.7, -2.0], dtype=torch.float64)
    assert closure_mean(mu, torch.zeros(3, dtype=torch.float64), 0.5).numpy() == pytest.approx(
        np.tanh(mu.numpy() / 0.5)
    )
    spread = closure_mean(mu, torch.full((3,), 4.0, dtype=torch.float64), 0.5).numpy()
    z = np.random.default_rng(0).standard_normal(400_000)
    mc = np.tanh((mu.numpy()[:, None] + 2.0 * z) / 0.5).mean(1)
    assert spread == pytest.approx(mc, abs=0.015)  # a near-step at this T: the hardest case for quadrature
    assert spread[0] == pytest.approx(0.0, abs=1e-12)  # symmetric field law, zero mean


def test_pairs_without_evidence_fall_back_to_the_prior() -> None:
    P = np.full((1, 4, 4), 0.3)
    assert combine_rows(P, 0.3) == pytest.approx(np.full((1, 6), 0.3))
    P[0, 0, 1] = P[0, 1, 0] = 0.9  # both rows say "edge": evidence adds up beyond either row
    assert combine_rows(P, 0.3)[0, 0] > 0.9


def _binomial_nll(k: int, R: int, q: float) -> float:
    return -float(np.log(math.comb(R, k)) + k * np.log(q) + (R - k) * np.log1p(-q))


@settings(max_examples=40, deadline=None)
@given(R=st.integers(1, 50), s=st.sampled_from([-1.0, 1.0]), tau=st.floats(0.05, 0.5), data=st.data())
def test_aligned_steps_are_scored_by_the_exact_flip_count(R: int, s: float, tau: float, data) -> None:
    """Every replica at s: the next mean says how many flipped, a binomial count whose cost differences between
    two drifts are exactly those of the binomial law (the choose term cancels)."""
    k = data.draw(st.integers(0, R))
    f1, f2 = data.draw(st.floats(-0.999, 0.999)), data.draw(st.floats(-0.999, 0.999))
    x_next = s * (1.0 - 2.0 * k / R)
    xi = torch.tensor([[s]], dtype=torch.float64)
    r = torch.tensor([[(x_next - (1.0 - tau) * s) / tau]], dtype=torch.float64)
    assert bool(aligned_steps(xi, r, tau, R, 0.0)[0, 0])
    f = torch.tensor([[[f1], [f2]]], dtype=torch.float64)  # (N = 1, Q = 2, S = 1)
    c = closure_costs(f, xi, r, tau, R, 0.0)[0].numpy()
    q1, q2 = tau * (1 - s * f1) / 2, tau * (1 - s * f2) / 2
    assert c[0] - c[1] == pytest.approx(_binomial_nll(k, R, q1) - _binomial_nll(k, R, q2), rel=1e-9, abs=1e-9)


def test_a_spin_that_stays_put_barely_prefers_a_stronger_field() -> None:
    """T = 0.4, R = 10, tau = 0.1: a settled spin for 49 steps, field 1 (tanh 2.5) against field 3 (tanh 7.5).
    The count's evidence is 49 R tau (tanh 7.5 - tanh 2.5) / 2 ~ 0.33 nats; the Gaussian alone gave ~137."""
    xi = torch.ones((1, 49), dtype=torch.float64)
    r = torch.ones((1, 49), dtype=torch.float64)  # x stays at 1: r = (1 - 0.9) / 0.1
    f = torch.tensor([np.tanh(2.5), np.tanh(7.5)], dtype=torch.float64).reshape(1, 2, 1).expand(1, 2, 49)
    c = closure_costs(f, xi, r, 0.1, 10, 0.0)[0].numpy()
    assert 0.2 < c[0] - c[1] < 0.5
    noisy = closure_costs(f, xi, r, 0.1, 10, EXACT_OBS_VAR)[0].numpy()  # observation noise: the Gaussian, as before
    assert noisy[0] - noisy[1] > 50


def test_steps_that_are_not_counts_stay_gaussian() -> None:
    xi = torch.tensor([[1.0, 0.6, 1.0]], dtype=torch.float64)
    r = torch.tensor([[1.0, 0.6, 0.95]], dtype=torch.float64)  # settled; replicas disagree; 0.5 of a replica flipped
    assert aligned_steps(xi, r, 0.1, 10, 0.0).tolist() == [[True, False, False]]
    assert not bool(aligned_steps(xi, r, 0.1, 10, 1e-6).any())


@pytest.fixture(scope="module")
def replica_data() -> tuple[np.ndarray, np.ndarray]:
    A = np.stack([random_lattice(8, 10, seed=s) for s in range(6)])
    s0 = np.random.default_rng(1).choice([-1.0, 1.0], (6, 8))
    X = simulate(A, s0, 1.0, 0.1, 50, mode="stochastic", replicas=1000, seed=2)
    return X, np.stack([adjacency_to_pairs(a) for a in A])


def test_decoder_reads_replica_means_far_above_the_trivial_guess(replica_data) -> None:
    X, y = replica_data
    p, info = decode(X, 1.0, 0.1, 1000)
    assert {k: info[k] for k in ("search", "sets_per_spin")} == {"search": "exhaustive", "sets_per_spin": 2**7}
    assert np.all(info["density"] == FALLBACK_PRIOR)
    trivial = np.mean(y == 0)
    assert np.mean((p > 0.5) == y) >= trivial + 0.1  # measured 0.87 vs trivial 0.64
    assert np.all((p > 0) & (p < 1))


def test_local_search_reads_the_lattice_with_its_gaussian_closure(replica_data) -> None:
    X, y = replica_data
    p_local, info = decode(X, 1.0, 0.1, 1000, exhaustive_max_L=4)
    assert info["search"] == "local" and info["sets_per_spin"] > 0
    # measured 0.79, the exhaustive search with the exact law of independent spins 0.88, trivial 0.64: the
    # Gaussian stands in for a law of a few +/-1 values, and is worst when few replicas have flipped
    assert np.mean((p_local > 0.5) == y) >= np.mean(y == 0) + 0.1


def test_few_replicas_or_hot_data_leave_pairs_near_the_prior() -> None:
    A = random_lattice(8, 10, seed=3)
    s0 = np.random.default_rng(4).choice([-1.0, 1.0], (4, 8))
    X = simulate(A, s0, 50.0, 0.1, 50, mode="stochastic", replicas=3, seed=5)
    p, _ = decode(X, 50.0, 0.1, 3, prior=0.3)
    assert np.all(p < 0.5)  # no pair has the evidence to beat the prior
    assert np.abs(p - 0.3).mean() < 0.1


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 5), seed=st.integers(0, 2**31 - 1))
def test_density_rows_sum_every_set_under_each_density(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    sets = torch.from_numpy(subset_masks(n))
    cost = torch.from_numpy(rng.uniform(0.0, 20.0, (3, 2**n)))
    evidence, marg = density_rows(cost, sets)
    k = sets.sum(1).numpy()
    for g, pi in enumerate(DENSITIES):
        w = np.exp(-cost.numpy()) * pi**k * (1.0 - pi) ** (n - k)
        np.testing.assert_allclose(evidence[:, g].numpy(), np.log(w.sum(1)), rtol=1e-10)
        np.testing.assert_allclose(marg[:, g].numpy(), (w / w.sum(1, keepdims=True)) @ sets.numpy(), atol=1e-12)
    g = DENSITIES.index(FALLBACK_PRIOR)  # a fixed prior is one grid point
    np.testing.assert_allclose(marg[:, g].numpy(), set_marginals(cost, sets, FALLBACK_PRIOR).numpy(), atol=1e-12)


def test_learned_density_weighs_the_grid_by_the_rows_evidence() -> None:
    G, L = len(DENSITIES), 4
    evidence = np.full((1, L, G), -50.0)
    evidence[0, :, DENSITIES.index(0.9)] = 0.0  # every row: only pi = 0.9 explains it
    marg = np.broadcast_to(np.asarray(DENSITIES)[None, None, :, None], (1, L, G, L - 1)).copy()
    p, density, per_g = learned_density(evidence, marg)
    assert density[0] == pytest.approx(0.9) and per_g.shape == (1, G, L * (L - 1) // 2)
    np.testing.assert_allclose(p, per_g[:, DENSITIES.index(0.9)], atol=1e-12)
    np.testing.assert_allclose(p, 0.9, atol=1e-9)  # two rows at 0.9, the prior 0.9 counted once


def test_a_learnt_density_reads_a_complete_lattice_that_the_fixed_prior_misses() -> None:
    # hot and well averaged: every pair's evidence is weak, but the total field is that of a complete lattice
    A = np.broadcast_to(complete(8), (4, 8, 8))
    s0 = np.random.default_rng(6).choice([-1.0, 1.0], (4, 8))
    X = simulate(A, s0, 10.0, 0.1, 50, mode="stochastic", replicas=1000, seed=7)
    fixed, _ = decode(X, 10.0, 0.1, 1000)
    learnt, info = decode(X, 10.0, 0.1, 1000, prior=None)
    assert np.all(info["density"] > 0.6)
    np.testing.assert_allclose(info["p_fixed_prior"], fixed, atol=1e-9)  # the same costs
    assert np.mean(learnt > 0.5) > np.mean(fixed > 0.5) + 0.2


def test_a_learnt_density_stays_low_on_a_sparse_lattice(replica_data) -> None:
    X, y = replica_data
    p, info = decode(X, 1.0, 0.1, 1000, prior=None)
    assert np.all(info["density"] < 0.5)  # true 10 / 28 = 0.36
    assert np.mean((p > 0.5) == y) >= np.mean(y == 0) + 0.1
    _, local = decode(X, 1.0, 0.1, 1000, prior=None, exhaustive_max_L=4)
    assert np.all(local["density"] == FALLBACK_PRIOR) and "p_fixed_prior" not in local  # nothing to weigh
    with pytest.raises(ValueError, match="prior must be in"):
        decode(X, 1.0, 0.1, 1000, prior=1.0)


def test_embed_rows_puts_row_coefficients_off_the_diagonal() -> None:
    W = embed_rows(np.arange(6.0).reshape(1, 3, 2))
    assert W.tolist() == [[[0, 0, 1], [2, 0, 3], [4, 5, 0]]]
