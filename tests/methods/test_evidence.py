"""The evidence gate: the one-step likelihood's verdict on a prediction, and the prior posterior it falls back on."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isingviz.dynamics import simulate
from isingviz.lattice import adjacency_to_pairs, make_lattice, others_index
from isingviz.methods import evidence
from isingviz.methods.general import General


def instances(family, L, T, noise, n, seed, tau=0.1, M=50):
    rng = np.random.default_rng(seed)
    A = np.stack([make_lattice(family, L, rng) for _ in range(n)])
    s0 = rng.choice(np.array([-1.0, 1.0]), (n, L))
    X = simulate(A, s0, T, tau, M) + noise * rng.standard_normal((n, L, M))
    return X, np.stack([adjacency_to_pairs(a) for a in A]).astype(np.float64)


@settings(max_examples=30, deadline=None)
@given(L=st.integers(2, 9), seed=st.integers(0, 2**31))
def test_pair_rows_are_the_adjacency_rows_without_the_diagonal(L, seed):
    rng = np.random.default_rng(seed)
    A = np.triu(rng.integers(0, 2, (2, L, L)), 1)
    A = A + np.swapaxes(A, 1, 2)
    rows = evidence.pair_rows(np.stack([adjacency_to_pairs(a) for a in A]), L)
    assert np.array_equal(rows.reshape(2, L, L - 1), A[:, np.arange(L)[:, None], others_index(L)])


def test_clean_data_scores_the_true_lattice_best_and_the_gate_keeps_it():
    X, y = instances("random", 10, 2.0, 0.0, 4, 0)
    s = evidence.scores(X, 2.0, 0.1, [y, np.zeros_like(y), 1.0 - y])
    assert (s[0] < s[1]).all() and (s[0] < s[2]).all()
    p = np.where(y == 1, 0.9, 0.1)
    out, kept = evidence.gate(X, 2.0, 0.1, p)
    assert kept.all() and np.array_equal(out, p)  # a supported prediction is returned unchanged


def test_the_prior_posterior_recovers_a_clean_lattice_from_nothing():
    X, y = instances("random", 10, 5.0, 0.0, 3, 1)
    p = evidence.prior_posterior(X, 5.0, 0.1, np.zeros_like(y))
    assert np.array_equal(p > 0.5, y == 1)
    assert (np.minimum(p, 1 - p) < 1e-6).all()  # clean data: certain


def test_an_information_free_instance_falls_back_to_no_edge_without_confidence():
    X, y = instances("ring", 12, 50.0, 1e-2, 6, 2)  # the coupling signal ~ tau / T = 0.002, the noise 0.01
    spurious = np.random.default_rng(3).random(y.shape)  # a confident-looking random answer, ~ half of it edges
    out, kept = evidence.gate(X, 50.0, 0.1, spurious)
    assert not kept.any()
    assert (out < 0.5).all()  # "no edge": the trivial guess's accuracy
    entropy = -(out * np.log(out) + (1 - out) * np.log(1 - out))
    assert (entropy[y == 1] > 0.1).mean() > 0.8  # the missed edges are not confident misses
    assert (np.minimum(out, 1 - out) >= evidence.FALLBACK_CAP).all()  # a fallen-back answer is never sure
    uncapped, _ = evidence.gate(X, 50.0, 0.1, spurious, cap=0.0)
    assert np.array_equal(uncapped > 0.5, out > 0.5)  # the cap changes the confidence, not the answer


def test_gate_takes_one_T_per_instance():
    Xa, ya = instances("random", 8, 1.0, 0.0, 2, 4)
    Xb, _ = instances("ring", 8, 50.0, 1e-2, 2, 5)
    X = np.concatenate([Xa, Xb])
    p = np.concatenate([np.where(ya == 1, 0.8, 0.2), np.full((2, ya.shape[1]), 0.9)])
    out, kept = evidence.gate(X, np.array([1.0, 1.0, 50.0, 50.0]), 0.1, p)
    assert kept.tolist() == [True, True, False, False]
    assert np.array_equal(out[:2], p[:2]) and (out[2:] < 0.5).all()


def test_general_gates_eq1_data_and_not_when_told_so():
    X, y = instances("tree", 12, 50.0, 1e-2, 8, 6)
    gated = General().predict(X, T=50.0, tau=0.1)
    alone = General(use_head=False, gate=False).predict(X, T=50.0, tau=0.1)
    trivial = (y == 0).mean()
    assert (gated == y).mean() >= trivial - 0.01
    assert (alone == y).mean() < trivial  # the network alone reads edges into the noise (why the gate exists)


def test_the_shipped_answer_is_the_same_from_every_entry_point():
    from isingviz.learn.evaluate import predict_pairs
    from isingviz.learn.store import load_model
    from isingviz.methods import reconstruct
    from isingviz.methods.general import general_proba, shipped_general_path

    X, y = instances("ring", 12, 50.0, 1e-2, 3, 8)
    model = load_model(shipped_general_path())
    p = general_proba(model, X, 50.0)
    assert np.allclose(p, reconstruct("general", X, T=50.0, tau=0.1).proba)
    assert np.allclose(general_proba(model, X[0], 50.0), p[0])  # one (L, M) instance
    A = np.zeros((12, 12), dtype=int)
    A[np.triu_indices(12, 1)] = y[0]
    table = predict_pairs(model, X[0], A + A.T, T=50.0, proba=p[0])
    assert [r["predicted"] for r in table["pairs"]] == (p[0, :, 1] > 0.5).astype(int).tolist()
    with pytest.raises(ValueError, match=r"proba must have shape \(L\(L-1\)/2, 2\) = \(66, 2\)"):
        predict_pairs(model, X[0], T=50.0, proba=p[0, :10])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"cap": 0.5}, "0 <= cap < 0.5"), ({"prior": 1.0}, "0 < prior < 1"), ({"p_edge": np.zeros((2, 3))}, "p_edge")],
)
def test_gate_refuses_what_it_cannot_read(kwargs, message):
    X, y = instances("ring", 6, 1.0, 0.0, 2, 9)
    args = {"p_edge": y} | kwargs
    with pytest.raises(ValueError, match=message):
        evidence.gate(X, 1.0, 0.1, **args)


def test_a_prediction_without_edges_stands_but_is_never_sure():
    X, y = instances("empty", 12, 0.4, 1e-3, 4, 5)  # spins decay alike: balanced spurious sets fit as well
    p = np.full(y.shape, 1e-4)
    out, kept = evidence.gate(X, 0.4, 0.1, p)
    assert kept.all() and np.allclose(out, evidence.FALLBACK_CAP)  # the network's answer, capped
    posterior = evidence.prior_posterior(X, 0.4, 0.1, np.zeros_like(y))
    assert (posterior > 0.5).any()  # what the fallback would have answered: spurious edges
