import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from isingviz.experiments.unseen import evaluation_set
from isingviz.methods.general import General
from isingviz.methods.underdetermined import UNDERDETERMINED_THRESHOLD, raise_threshold, underdetermined

probabilities = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=50)


@given(probabilities, st.floats(0.01, 0.99))
def test_raising_the_threshold_keeps_the_order_and_moves_the_decision(p, threshold):
    p = np.array(p)
    q = raise_threshold(p, threshold)
    assert ((q >= 0) & (q <= 1)).all()
    order = np.argsort(p, kind="stable")
    assert (np.diff(q[order]) >= -1e-12).all()  # monotone: the order of the pairs is kept
    interior = (p > 1e-6) & (p < 1 - 1e-6) & (np.abs(p - threshold) > 1e-9)
    assert np.array_equal((q > 0.5)[interior], (p > threshold)[interior])
    assert np.array_equal(q[p == 0.0], p[p == 0.0]) and np.array_equal(q[p == 1.0], p[p == 1.0])


def test_the_threshold_itself_becomes_one_half_and_one_half_changes_nothing():
    assert raise_threshold(np.array([0.65]), 0.65)[0] == pytest.approx(0.5)
    p = np.linspace(0.01, 0.99, 9)
    assert np.allclose(raise_threshold(p, 0.5), p)
    for bad in (0.0, 1.0, -0.2, 1.5):
        with pytest.raises(ValueError, match="threshold must be in"):
            raise_threshold(p, bad)


def test_rows_are_underdetermined_when_there_are_more_spins_than_time_points():
    assert underdetermined(64, 50) and underdetermined(24, 16)
    assert not underdetermined(48, 50) and not underdetermined(50, 50)


def test_noisy_underdetermined_instances_get_the_higher_threshold_and_others_do_not():
    X, y = evaluation_set(24, 1.0, 1e-3, 6, seed=2000, family="grid", M=16)  # 24 spins, 16 time points
    before = General(underdetermined_threshold=0.5)
    p0 = before.predict_proba(X, T=1.0, tau=0.1)[..., 1]
    shipped = General()
    p = shipped.predict_proba(X, T=1.0, tau=0.1)[..., 1]
    assert shipped.results_["underdetermined"] == before.results_["underdetermined"] == [True] * 6
    assert np.allclose(p, np.clip(raise_threshold(p0, UNDERDETERMINED_THRESHOLD), 0.05, 0.95))
    acc0, acc, trivial = ((p0 > 0.5) == y).mean(), ((p > 0.5) == y).mean(), (y == 0).mean()
    # measured on 8 held-out lattices: 0.760 -> 0.815, the trivial guess 0.826
    assert acc > acc0 + 0.02 and acc > trivial - 0.03
    clean, _ = evaluation_set(24, 1.0, 0.0, 2, seed=2000, family="grid", M=16)
    long, _ = evaluation_set(24, 1.0, 1e-3, 2, seed=2000, family="grid", M=50)
    for x in (clean, long):  # noise-free (read exactly), or as many time points as spins: untouched
        gm = General()
        assert np.array_equal(
            gm.predict_proba(x, T=1.0, tau=0.1), General(underdetermined_threshold=0.5).predict_proba(x, T=1.0, tau=0.1)
        )
        assert gm.results_["underdetermined"] == [False, False]


def test_the_threshold_is_checked():
    for bad in (0.4, 1.0, "0.7"):
        with pytest.raises(ValueError, match="underdetermined_threshold must be"):
            General(underdetermined_threshold=bad)
