"""Twins: spins whose trajectories differ, up to sign, only by white noise, made identical for the network."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isingviz.dynamics import simulate
from isingviz.lattice import adjacency_to_pairs, make_lattice
from isingviz.methods.general import General
from isingviz.methods.twins import merge_twins, twin_groups, unresolved_pairs


def instances(family, L, T, noise, n, seed, tau=0.1, M=50):
    rng = np.random.default_rng(seed)
    A = np.stack([make_lattice(family, L, rng) for _ in range(n)])
    s0 = rng.choice(np.array([-1.0, 1.0]), (n, L))
    X = simulate(A, s0, T, tau, M) + noise * rng.standard_normal((n, L, M))
    return X, np.stack([adjacency_to_pairs(a) for a in A]), s0


def test_clean_trajectories_of_a_random_lattice_are_left_exactly_as_they_are():
    X, _, _ = instances("random", 16, 2.0, 0.0, 5, 0)
    assert np.array_equal(merge_twins(X), X)


def test_an_empty_lattice_under_noise_is_one_group_signed_by_the_initial_state():
    X, _, s0 = instances("empty", 10, 0.4, 1e-3, 4, 1)  # every spin decays as s_j(0) 0.9^m, plus noise
    g = twin_groups(X)
    assert (np.abs(g) == 1).all()  # all twins of spin 0
    assert np.array_equal(np.sign(g), (s0 * s0[:, :1]).astype(int))
    merged = merge_twins(X)
    assert np.allclose(merged * s0[:, :, None], merged[:, :1] * s0[:, :1, None], atol=0.0)


def test_a_smooth_difference_far_below_the_noise_of_other_spins_is_not_a_twin():
    t = np.arange(50.0)
    a = np.exp(-0.1 * t)
    x = np.stack([a, a + 1e-6 * np.exp(-0.05 * t), -a])[None]  # a smooth offset; an exact mirror image
    g = twin_groups(x)
    assert g.tolist() == [[1, 2, -1]]
    assert np.array_equal(merge_twins(x)[0, :2], x[0, :2])  # spin 1 keeps its own trajectory


@settings(max_examples=25, deadline=None)
@given(L=st.integers(2, 12), M=st.integers(3, 40), seed=st.integers(0, 2**31))
def test_merged_groups_are_identical_up_to_sign_and_everything_else_is_untouched(L, M, seed):
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.standard_normal((2, L, M)), axis=2) * rng.integers(0, 2, (2, L, 1))  # walks, some at zero
    g = twin_groups(x)
    merged = merge_twins(x)
    for b in range(2):
        heads = np.abs(g[b]) - 1
        for j in range(L):
            assert heads[j] <= j and np.abs(g[b, heads[j]]) == heads[j] + 1  # a group is named by its first spin
            if (heads == j).sum() == 1 and heads[j] == j:
                assert np.array_equal(merged[b, j], x[b, j])  # alone: untouched
            else:
                assert np.allclose(merged[b, j], np.sign(g[b, j]) * merged[b, heads[j]], rtol=0, atol=1e-12)


def test_two_time_steps_have_no_step_power_to_compare_and_no_twins():
    x = np.array([[[1.0, 0.9], [1.0, 0.9], [-1.0, -0.8]]])
    assert twin_groups(x).tolist() == [[1, 2, 3]] and np.array_equal(merge_twins(x), x)


def test_the_general_model_no_longer_picks_a_twin_at_random_on_a_noisy_matching():
    X, y, _ = instances("matching", 12, 1.0, 1e-3, 20, 7)  # aligned matched pairs follow one curve
    p = General().predict_proba(X, T=1.0, tau=0.1)[..., 1]
    acc = ((p > 0.5) == y).mean()
    assert acc >= (1 - y.mean()) - 0.01  # at least the trivial guess (the unmerged network: 0.85 vs 0.91)


@pytest.mark.parametrize(
    ("x", "ratio", "match"),
    [
        (np.zeros((2, 3)), 0.7, "need instances"),
        (np.zeros((1, 2, 5)), 1.0, "ratio"),
        (np.zeros((1, 2, 5)), 0.0, "ratio"),
    ],
)
def test_bad_input_is_refused_with_what_was_expected(x, ratio, match):
    with pytest.raises(ValueError, match=match):
        twin_groups(x, ratio)


def test_pairs_inside_a_group_of_three_or_more_twins_are_unresolved():
    g = np.array([[1, 1, -1, 4, 4, 6]])  # spins 0, 1, 2 twins (2 mirrored); 3 and 4 a pair; 5 alone
    pairs = dict(zip(zip(*np.triu_indices(6, 1)), unresolved_pairs(g)[0]))
    assert {k for k, v in pairs.items() if v} == {(0, 1), (0, 2), (1, 2)}
    assert unresolved_pairs(np.zeros((0, 4), dtype=int)).shape == (0, 6)


def test_the_general_model_is_not_sure_which_twin_is_whose_partner():
    X, y, _ = instances("matching", 16, 0.4, 0.0, 6, 11)  # clean: aligned pairs are exact twins
    p = General().predict_proba(X, T=0.4, tau=0.1)[..., 1]
    unresolved = unresolved_pairs(twin_groups(X))
    assert unresolved.any() and (np.minimum(p, 1 - p)[unresolved] >= 0.05 - 1e-12).all()
    assert (np.minimum(p, 1 - p)[~unresolved] < 0.05).any()  # elsewhere it may be sure
