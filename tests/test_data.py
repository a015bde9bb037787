import dataclasses

import numpy as np
import pytest

from isingviz.data import (
    DatasetSpec,
    build_dataset,
    distinct_initial_states,
    fresh_general_split,
    fresh_test_split,
    spread,
    training_states,
)
from isingviz.dynamics import simulate
from isingviz.lattice import adjacency_to_pairs, from_edges

SMALL = dict(
    L=8,
    family_params={"n_edges": 10},
    n_lattices=3,
    n_train=100,
    n_test=40,
    n_general_lattices=2,
    n_general=30,
    T=1.0,
    M=20,
    seed=5,
)


def test_distinct_initial_states_exact_and_large():
    s = distinct_initial_states(6, 64, seed=0)
    assert len(np.unique(s, axis=0)) == 64 and set(np.unique(s)) == {-1, 1}
    big = distinct_initial_states(30, 500, seed=1)
    assert big.shape == (500, 30) and len(np.unique(big, axis=0)) == 500
    with pytest.raises(ValueError, match="only 2\\^6 = 64"):
        distinct_initial_states(6, 65, seed=0)


def test_spread_is_even():
    assert spread(25, 10).tolist() == [3] * 5 + [2] * 5
    assert spread(25_000, 10).sum() == 25_000


def test_splits_shapes_labels_and_disjoint_states():
    d = build_dataset(**SMALL)
    K = 8 * 7 // 2
    assert d.train.X.shape == (100, 8, 20) and d.train.y.shape == (100, K) and d.train.y.dtype == np.int8
    assert len(d.test) == 40 and len(d.general) == 30
    for split, lats in ((d.train, d.lattices), (d.test, d.lattices), (d.general, d.general_lattices)):
        for b in range(0, len(split), 7):
            A = lats[split.lattice_index[b]]
            assert np.array_equal(split.y[b], adjacency_to_pairs(A))
            assert np.allclose(split.X[b], simulate(A, split.s0[b], 1.0, 0.1, 20))
    for i in range(3):
        tr = {r.tobytes() for r in d.train.s0[d.train.lattice_index == i]}
        te = {r.tobytes() for r in d.test.s0[d.test.lattice_index == i]}
        assert len(tr) == np.sum(d.train.lattice_index == i) and not tr & te
    train_lats = {A.tobytes() for A in d.lattices}
    assert not any(A.tobytes() in train_lats for A in d.general_lattices)


def test_seed_reproduces_and_spec_roundtrip():
    d = build_dataset(**SMALL)
    again = build_dataset(DatasetSpec.from_dict(d.spec.to_dict()))
    assert np.array_equal(d.train.X, again.train.X) and np.array_equal(d.general.X, again.general.X)
    assert np.array_equal(from_edges(8, d.spec.lattices[0]), d.lattices[0])
    other = build_dataset(**{**SMALL, "seed": 6})
    assert not np.array_equal(d.lattices, other.lattices)


def test_too_many_states_per_lattice_refused():
    with pytest.raises(ValueError, match="at most 2\\^4 = 16"):
        build_dataset(
            L=4, family_params={"n_edges": 2}, n_lattices=1, n_train=15, n_test=5, n_general=0, n_general_lattices=0
        )


def test_unknown_spec_field_refused():
    with pytest.raises(ValueError, match="unknown dataset fields"):
        DatasetSpec.from_dict({"L": 12, "bogus": 1})


def test_stochastic_and_noise_dataset():
    d = build_dataset(**{**SMALL, "mode": "stochastic", "replicas": 8, "noise": 1e-3})
    assert d.train.X.shape == (100, 8, 20)
    assert not np.allclose(d.train.X[:, :, 0], d.train.s0)


def test_fresh_splits_avoid_training_states_and_lattices():
    d = build_dataset(**SMALL)
    used = training_states(d.spec)
    for i in range(3):
        assert np.array_equal(used[i][: np.sum(d.train.lattice_index == i)], d.train.s0[d.train.lattice_index == i])
    fresh = fresh_test_split(d.spec, 60, seed=9, T=2.0)
    assert len(fresh) == 60
    for i in range(3):
        seen = {r.tobytes() for r in used[i]}
        assert not any(r.tobytes() in seen for r in fresh.s0[fresh.lattice_index == i])
    A = d.lattices[fresh.lattice_index[0]]
    assert np.allclose(fresh.X[0], simulate(A, fresh.s0[0], 2.0, 0.1, 20))
    lats, gen = fresh_general_split(d.spec, 4, 40, seed=2)
    assert lats.shape == (4, 8, 8) and len(gen) == 40
    assert not {A.tobytes() for A in lats} & {A.tobytes() for A in d.lattices}


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"L": 10**12}, r"dataset L \(spins\) must be an integer from 2 to 64"),
        ({"n_lattices": 10**9}, "dataset n_lattices must be an integer from 0 to 10,000"),
        ({"n_train": -1}, "dataset n_train must be an integer from 0 to 10,000,000"),
        ({"noise": "0.1"}, "dataset noise must be a finite number"),
        ({"replicas": 5 * 10**7}, "dataset replicas must be an integer from 1 to 100,000"),
        ({"family_params": {"p": 0.3}}, "'p' is not a parameter of family 'random'"),
        ({"family_params": {"n_edges": True}}, "family parameter n_edges must be an integer"),
        ({"lattices": [[["0", "1"]]]}, "dataset lattices #0: edge #0 must be a pair"),
        ({"lattices": []}, "need at least one training lattice"),
    ],
)
def test_dataset_spec_refuses_out_of_range_and_mistyped_fields(changes, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(DatasetSpec(L=6, family_params={"n_edges": 5}), **changes).validate()


def test_build_dataset_checks_its_memory_before_simulating(monkeypatch):
    monkeypatch.setenv("ISINGVIZ_MAX_BYTES", "1000000")
    with pytest.raises(ValueError, match="a dataset of 28,000 instances of L = 12, M = 50 would need about"):
        build_dataset(DatasetSpec(n_train=25_000, n_test=3_000, n_general=0, n_general_lattices=0))


def test_a_stop_flag_ends_the_build_between_lattices():
    from isingviz.data import Stopped

    asked = []

    def stop_after_two() -> bool:
        asked.append(1)
        return len(asked) > 2

    with pytest.raises(Stopped, match="while the dataset was being built"):
        build_dataset(**SMALL, stop=stop_after_two)
    assert len(asked) == 3  # two lattices simulated, the third never started
    assert build_dataset(**SMALL, stop=lambda: False).spec.n_lattices == SMALL["n_lattices"]
