"""The twin quotient: the exact posterior of Eq. 1 on the lattice of twin groups, at any L."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isingviz.dynamics import simulate
from isingviz.lattice import adjacency_to_pairs
from isingviz.methods.quotient import QUOTIENT_MAX_G, quotient_posterior
from isingviz.methods.twins import twin_groups

from .test_evidence import instances


def multipartite(parts: list[int]) -> np.ndarray:
    """The complete multipartite lattice: every pair of spins in different parts coupled, none within a part."""
    label = np.repeat(np.arange(len(parts)), parts)
    return (label[:, None] != label[None, :]).astype(np.float64)


def test_complete_lattices_under_noise_are_read_whole():
    # two groups (the spins that start up, those that start down), which the general network reads as "no edge"
    X, y = instances("complete", 24, 1.0, 1e-3, 3, seed=4)
    q = quotient_posterior(X, 1.0, 0.1)
    assert np.all(q.groups <= 3)
    assert np.all((q.p_edge > 0.5) == y.astype(bool))
    assert np.all(q.density > 0.9)
    assert np.all((q.misfit > 0.3) & (q.misfit < 3.0))  # the quotient holds: its fit is as good as the twins' spread


def test_a_complete_multipartite_lattice_is_its_quotient_and_accidental_twins_show_in_the_misfit():
    # spins of one part share their neighbours: those that start alike are twins, coupled to every other part
    A = multipartite([5, 5, 6])
    rng = np.random.default_rng(3)
    s0 = rng.choice(np.array([-1.0, 1.0]), (2, 16))
    X = simulate(A, s0, 5.0, 0.1, 50) + 1e-4 * rng.standard_normal((2, 16, 50))
    groups = twin_groups(X)
    q = quotient_posterior(X, 5.0, 0.1, groups)
    assert q.groups[0] == 6 and np.array_equal(q.p_edge[0] > 0.5, adjacency_to_pairs(A).astype(bool))
    assert 0.3 < q.misfit[0] < 3.0
    # in the second instance two parts' sums agree, so spins of different parts follow one trajectory: twins that
    # share no neighbours, whose group means no quotient explains
    head = np.abs(groups[1]) - 1
    assert any(len({p // 5 if p < 10 else 2 for p in np.flatnonzero(head == h)}) > 1 for h in np.unique(head))
    assert q.misfit[1] > 1e3


def test_instances_with_too_many_groups_get_no_quotient():
    X, _ = instances("random", 16, 1.0, 0.0, 2, seed=1)  # clean, no twins: 16 groups
    q = quotient_posterior(X, 1.0, 0.1)
    assert q.groups.tolist() == [16, 16]
    assert np.isnan(q.p_edge).all() and np.isnan(q.density).all() and np.isnan(q.misfit).all()
    few = quotient_posterior(X, 1.0, 0.1, groups=np.ones((2, 16), dtype=int))  # told: all one group
    assert few.groups.tolist() == [1, 1] and np.isfinite(few.p_edge).all()


@settings(max_examples=20, deadline=None)
@given(L=st.integers(3, 14), seed=st.integers(0, 2**31))
def test_twins_of_opposite_sign_are_two_groups(L, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (1, L, 8))
    g = np.where(rng.random(L) < 0.5, 1, -1)[None, :]  # spin 0 heads one group; the others join it, some flipped
    g[0, 0] = 1
    expected = 1 + int((g < 0).any())
    q = quotient_posterior(X, 1.0, 0.1, groups=g)
    assert q.groups.tolist() == [expected]
    assert q.p_edge.shape == (1, L * (L - 1) // 2) and np.all((q.p_edge >= 0.0) & (q.p_edge <= 1.0))


def test_the_groups_default_to_the_twin_test():
    X, _ = instances("star", 16, 1.0, 1e-3, 2, seed=2)
    assert np.array_equal(
        quotient_posterior(X, 1.0, 0.1).p_edge, quotient_posterior(X, 1.0, 0.1, twin_groups(X)).p_edge
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"x": np.zeros((2, 5))}, "instances"),
        ({"x": np.zeros((1, 5, 2))}, "M >= 3"),
        ({"x": np.full((1, 4, 6), np.nan)}, "finite"),
        ({"tau": 0.0}, "tau"),
        ({"T": -1.0}, "T must be positive"),
        ({"max_groups": QUOTIENT_MAX_G + 1}, "max_groups"),
        ({"kinds": ("thermal",)}, "kinds"),
        ({"groups": np.ones((1, 3), dtype=int)}, "groups must have shape"),
    ],
)
def test_bad_inputs_say_what_is_allowed(kwargs, match):
    args = {"x": np.zeros((1, 4, 6)), "T": 1.0, "tau": 0.1} | kwargs
    with pytest.raises(ValueError, match=match):
        quotient_posterior(**args)
