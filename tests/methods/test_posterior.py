"""The exact posterior of Eq. 1 at small L: every neighbour set, with the density and the kind of noise learnt."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isingviz.dynamics import simulate
from isingviz.lattice import from_edges, others_index
from isingviz.methods.base import increments
from isingviz.methods.binary import exhaustive_costs
from isingviz.methods.posterior import POSTERIOR_MAX_L, exact_posterior, increment_whitener
from isingviz.methods.twins import twin_groups, unresolved_pairs

from .test_evidence import instances


def accuracy(p, y):
    return ((p > 0.5) == y).mean(1)


@settings(max_examples=25, deadline=None)
@given(S=st.integers(1, 40), tau=st.floats(0.05, 1.0))
def test_the_whitener_inverts_the_covariance_of_observation_noise_increments(S, tau):
    W, logdet = increment_whitener(S, tau, "observation")
    D = np.zeros((S, S + 1))
    D[np.arange(S), np.arange(S) + 1] = 1.0 / tau
    D[np.arange(S), np.arange(S)] = -(1.0 - tau) / tau
    C = D @ D.T
    assert np.allclose(W @ C @ W.T, np.eye(S), atol=1e-8)
    assert logdet == pytest.approx(np.linalg.slogdet(C)[1], rel=1e-9, abs=1e-9)
    identity, zero = increment_whitener(S, tau, "dynamics")
    assert np.array_equal(identity, np.eye(S)) and zero == 0.0


def test_white_noise_on_the_momenta_gives_white_whitened_increments():
    rng = np.random.default_rng(0)
    tau, sigma, S = 0.1, 0.01, 6
    e = sigma * rng.standard_normal((40_000, 1, S + 1))
    r = increments(e, tau)[:, 0]  # what observation noise adds to the increments
    W, _ = increment_whitener(S, tau, "observation")
    raw, white = np.cov(r.T), np.cov((r @ W.T).T)
    assert raw[0, 1] / raw[0, 0] < -0.45  # successive increments anti-correlated: -(1 - tau) / (1 + (1 - tau)^2)
    assert np.allclose(white, sigma**2 * np.eye(S), atol=0.05 * sigma**2)


def test_an_unknown_noise_kind_is_refused():
    with pytest.raises(ValueError, match="unknown noise kind"):
        increment_whitener(5, 0.1, "thermal")
    X, _ = instances("ring", 6, 1.0, 0.0, 1, 0)
    with pytest.raises(ValueError, match="kinds must name"):
        exact_posterior(X, 1.0, 0.1, kinds=("thermal",))


def test_exhaustive_costs_with_the_identity_whitener_are_the_plain_costs():
    X, _ = instances("random", 8, 1.0, 1e-3, 1, 1)
    r = increments(X, 0.1)[0]
    xo = X[0][others_index(8), :-1]
    (plain,), masks = exhaustive_costs(xo, r, 1.0)
    (same,), _ = exhaustive_costs(xo, r, 1.0, whitens=(np.eye(r.shape[1]),))
    assert np.allclose(plain, same, rtol=1e-12, atol=1e-15)
    a = masks[37]
    assert plain[2, 37] == pytest.approx(((r[2] - np.tanh(a @ xo[2] / 1.0)) ** 2).sum())


def test_a_complete_lattice_is_read_whole_and_its_density_learnt():
    X, y = instances("complete", 8, 5.0, 0.0, 4, 2)
    post = exact_posterior(X, 5.0, 0.1)
    assert (accuracy(post.p_edge, y) == 1.0).all()
    assert (post.density > 0.85).all()
    X, y = instances("matching", 8, 5.0, 0.0, 4, 2)
    assert (exact_posterior(X, 5.0, 0.1).density < 0.4).all()


def test_twins_rows_give_each_twin_its_share_where_multiplied_evidence_counts_it_twice():
    # two aligned matched pairs follow one curve: each of the four spins has one partner among three twins
    L = 6
    A = from_edges(L, [(0, 1), (2, 3), (4, 5)])
    X = simulate(A[None], np.array([[1.0, 1.0, 1.0, 1.0, -1.0, 1.0]]), 5.0, 0.1, 50)
    post = exact_posterior(X, 5.0, 0.1)
    twins = unresolved_pairs(twin_groups(X))[0]
    assert twins.sum() == 6  # the pairs among spins 0-3
    assert np.allclose(post.p_rows[0, twins], 1.0 / 3.0, atol=1e-6)
    assert (post.p_edge[0, twins] > post.p_rows[0, twins] + 0.05).all()
    assert ((post.p_rows[0, ~twins] > 0.5) == (post.p_edge[0, ~twins] > 0.5)).all()  # elsewhere the same answer
    assert (post.p_edge[0, ~twins] > 0.5).sum() == 1  # the anti-aligned pair (4, 5)


def test_the_kind_of_noise_is_recognised():
    clean, _ = instances("random", 8, 1.0, 0.0, 4, 3)
    noisy, _ = instances("random", 8, 1.0, 1e-2, 4, 3)
    assert (exact_posterior(clean, 1.0, 0.1).observation < 0.1).all()
    assert (exact_posterior(noisy, 1.0, 0.1).observation > 0.9).all()


def test_the_observation_noise_likelihood_reads_what_the_independent_one_misses():
    X, y = instances("random", 10, 50.0, 1e-2, 16, 4)
    white = accuracy(exact_posterior(X, 50.0, 0.1, kinds=("observation",)).p_edge, y).mean()
    independent = accuracy(exact_posterior(X, 50.0, 0.1, kinds=("dynamics",)).p_edge, y).mean()
    assert white > independent + 0.02


def test_an_information_free_sparse_instance_gets_no_edge():
    X, y = instances("tree", 12, 50.0, 1e-2, 8, 6)
    acc = accuracy(exact_posterior(X, 50.0, 0.1).p_edge, y)
    trivial = (y == 0).mean()
    assert acc.mean() >= trivial - 0.02 and acc.min() >= trivial - 0.1


def test_one_T_per_instance_is_the_same_as_one_call_each():
    Xa, _ = instances("ring", 6, 1.0, 0.0, 1, 5)
    Xb, _ = instances("ring", 6, 5.0, 1e-3, 1, 6)
    both = exact_posterior(np.concatenate([Xa, Xb]), np.array([1.0, 5.0]), 0.1)
    assert np.allclose(both.p_edge[0], exact_posterior(Xa, 1.0, 0.1).p_edge[0])
    assert np.allclose(both.p_edge[1], exact_posterior(Xb, 5.0, 0.1).p_edge[0])


@pytest.mark.parametrize(
    ("shape", "T", "tau", "match"),
    [
        ((1, POSTERIOR_MAX_L + 1, 10), 1.0, 0.1, "2 <= L <= 12"),
        ((1, 1, 10), 1.0, 0.1, "2 <= L"),
        ((5, 10), 1.0, 0.1, r"\(B, L, M\)"),
        ((1, 5, 1), 1.0, 0.1, "M >= 2"),
        ((1, 5, 10), 1.0, 0.0, "tau"),
        ((1, 5, 10), -1.0, 0.1, "T must be positive"),
        ((2, 5, 10), [1.0, 2.0, 3.0], 0.1, "one per instance"),
    ],
)
def test_bad_inputs_are_refused_with_what_is_allowed(shape, T, tau, match):
    with pytest.raises(ValueError, match=match):
        exact_posterior(np.zeros(shape), T, tau)


def test_non_finite_instances_are_refused():
    X = np.zeros((1, 5, 10))
    X[0, 2, 3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        exact_posterior(X, 1.0, 0.1)


def test_the_smallest_instances_are_read_without_warnings():
    import warnings

    rng = np.random.default_rng(9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a read-only whitener handed to torch warned once (one step: S = 1)
        for L, M in ((2, 2), (3, 2), (4, 3)):
            post = exact_posterior(rng.uniform(-1, 1, (2, L, M)), 1.0, 0.1)
            assert post.p_edge.shape == (2, L * (L - 1) // 2) and np.isfinite(post.p_edge).all()
            assert ((post.density > 0) & (post.density < 1)).all()
