"""The clean-instance test and the symmetric inversion (isingviz.methods.symmetric)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isingviz.dynamics import simulate
from isingviz.experiments.unseen import evaluation_set
from isingviz.lattice import adjacency_to_pairs, make_lattice
from isingviz.methods.general import General
from isingviz.methods.physics import Inversion
from isingviz.methods.symmetric import (
    CLEAN_FIT_MIN_L,
    DENSE_FIT,
    EXACT_RMS,
    answer_rms,
    clean_answer,
    symmetric_fit,
    symmetric_system,
    temper_inexact,
)


@settings(max_examples=20, deadline=None)
@given(L=st.integers(3, 9), T=st.sampled_from([1.0, 5.0, 50.0]), seed=st.integers(0, 10_000))
def test_the_true_couplings_solve_the_system_of_a_clean_instance(L, T, seed):
    rng = np.random.default_rng(seed)
    A = make_lattice("random", L, rng, n_edges=L)
    x = simulate(A, rng.choice([-1.0, 1.0], (1, L)), T, 0.1, 20)[0]
    design, y = symmetric_system(x, T, 0.1)
    assert design.shape == (L * 19, L * (L - 1) // 2) and y.shape == (L * 19,)
    assert np.abs(design @ adjacency_to_pairs(A) - y).max() < 1e-8 * T
    assert answer_rms(x[None], T, 0.1, adjacency_to_pairs(A)[None])[0] < EXACT_RMS


def test_clean_instances_are_told_from_noisy_ones():
    clean, _ = evaluation_set(24, 5.0, 0.0, 3, seed=2000)
    fit = symmetric_fit(clean, 5.0, 0.1)
    assert fit.clean.all() and (fit.rms < 1e-11).all() and (fit.spare >= 10).all()
    for T, noise in [(5.0, 1e-5), (50.0, 1e-3), (0.4, 1e-3)]:
        noisy, _ = evaluation_set(24, T, noise, 3, seed=2000)
        fit = symmetric_fit(noisy, T, 0.1)
        assert not fit.clean.any(), (T, noise)
    skipped = symmetric_fit(noisy, 0.4, 0.1)  # saturated steps pushed past |r| = 1: noisy without a fit
    assert np.isnan(skipped.w).all() and np.isinf(skipped.rms).all()


def test_the_symmetric_fit_reads_dense_clean_lattices_better_than_the_row_wise_inversion():
    X, y = evaluation_set(48, 5.0, 0.0, 3, seed=2000)  # random lattices, 35 % of pairs coupled; rows of 47
    fit = symmetric_fit(X, 5.0, 0.1)  # unknowns from 49 steps, the pairs of 1,128 from 2,352
    rows = Inversion().predict(X, T=5.0, tau=0.1)
    assert ((fit.w > 0.5) == y).mean() > (rows == y).mean() + 0.01  # measured on 4: 0.912 against 0.889


def test_an_exact_answer_stands_and_a_worse_dense_one_is_replaced():
    X, y = evaluation_set(32, 1.0, 0.0, 2, seed=2000)
    truth = y.astype(float)
    p, used, clean = clean_answer(X, 1.0, 0.1, np.clip(truth, 0.01, 0.99), cap=0.05)
    assert not used.any() and np.array_equal(p, np.clip(truth, 0.01, 0.99))  # it reproduces the instance: kept
    assert clean.all()
    empty = np.full_like(truth, 0.2)  # "no edge" everywhere: it does not reproduce a dense lattice
    p, used, clean = clean_answer(X, 1.0, 0.1, empty, cap=0.05)
    assert used.all() and clean.all() and p.min() >= 0.05 and p.max() <= 0.95
    assert ((p > 0.5) == y).mean() > 0.8
    noisy, _ = evaluation_set(32, 50.0, 1e-3, 2, seed=2000)
    p, used, clean = clean_answer(noisy, 50.0, 0.1, empty, cap=0.05)
    assert not (used.any() or clean.any()) and np.array_equal(p, empty)  # noisy instances: never


def test_the_general_model_answers_dense_clean_instances_with_the_symmetric_fit():
    X, y = evaluation_set(32, 50.0, 0.0, 3, seed=2000)
    gm = General()
    p = gm.predict_proba(X, T=50.0, tau=0.1)[..., 1]
    assert "symmetric inversion" in gm.results_["answered_by"]
    off = General(clean_fit=False)
    q = off.predict_proba(X, T=50.0, tau=0.1)[..., 1]
    assert "symmetric inversion" not in off.results_["answered_by"]
    assert ((p > 0.5) == y).mean() > ((q > 0.5) == y).mean()  # measured: 0.874 against 0.835 on ten lattices
    small, _ = evaluation_set(CLEAN_FIT_MIN_L - 4, 50.0, 0.0, 2, seed=2000)  # below CLEAN_FIT_MIN_L: the network
    gm.predict_proba(small, T=50.0, tau=0.1)
    assert "symmetric inversion" not in gm.results_["answered_by"]


def test_a_dense_lattice_whose_rounded_fit_reads_sparse_is_answered_by_the_fit():
    # Erdős–Rényi at T = 50: rounding at 1/2 loses the weak couplings, the mean coupling keeps the density
    X, y = evaluation_set(48, 50.0, 0.0, 2, seed=2000, family="erdos_renyi")
    fit = symmetric_fit(X, 50.0, 0.1)
    assert fit.clean.all()
    assert ((fit.w > 0.5).mean(axis=1) < DENSE_FIT).all()  # measured: 0.225, 0.208
    assert (np.abs(fit.w.mean(axis=1) - y.mean(axis=1)) < 0.01).all()  # 0.300, 0.279: the true densities
    gm = General()
    p = gm.predict_proba(X, T=50.0, tau=0.1)[..., 1]
    assert gm.results_["answered_by"] == ["symmetric inversion"] * 2
    q = General(clean_fit=False).predict_proba(X, T=50.0, tau=0.1)[..., 1]
    assert (((p > 0.5) == y).mean(axis=1) > ((q > 0.5) == y).mean(axis=1)).all()  # 0.842, 0.853 against 0.806, 0.816


def test_bad_instances_are_refused():
    with pytest.raises(ValueError, match="instances must have shape"):
        symmetric_fit(np.zeros((4, 5)), 1.0, 0.1)


def test_pairs_a_clean_answer_leaves_unexplained_are_tempered_and_no_others():
    X, y = evaluation_set(16, 5.0, 0.0, 2, seed=2000, family="ring")
    sure = np.where(y == 1, 0.99, 0.01)
    p, n = temper_inexact(X, 5.0, 0.1, sure, cap=0.05)
    assert np.array_equal(p, sure) and (n == 0).all()  # the truth explains every row
    wrong = sure.copy()
    k = int(np.flatnonzero(y[0] == 1)[0])
    wrong[0, k] = 0.01  # one edge missed: its two spins' rows are no longer explained
    p, n = temper_inexact(X, 5.0, 0.1, wrong, cap=0.05)
    assert p[0, k] == 0.05 and np.array_equal(p > 0.5, wrong > 0.5)  # unsure, same answer
    assert n[0] == 1 and n[1] == 0 and np.array_equal(p[1], wrong[1])
    noisy, _ = evaluation_set(16, 5.0, 1e-3, 2, seed=2000, family="ring")
    p, n = temper_inexact(noisy, 5.0, 0.1, wrong, cap=0.05)
    assert (n == 0).all() and np.array_equal(p, wrong)  # noise leaves no row exact: nothing is known to be wrong


def test_a_least_squares_that_fails_to_converge_skips_the_instance(monkeypatch):
    X, _ = evaluation_set(24, 50.0, 0.0, 2, seed=2000)
    real = np.linalg.lstsq
    calls = []

    def first_fails(a, b, rcond=None):
        calls.append(1)
        if len(calls) == 1:
            raise np.linalg.LinAlgError("SVD did not converge in Linear Least Squares")
        return real(a, b, rcond=rcond)

    monkeypatch.setattr(np.linalg, "lstsq", first_fails)
    fit = symmetric_fit(X, 50.0, 0.1)
    assert np.isnan(fit.w[0]).all() and not fit.clean[0] and np.isinf(fit.rms[0])
    assert fit.clean[1] and not np.isnan(fit.w[1]).any()
    p = General().predict_proba(X, T=50.0, tau=0.1)  # and the general model answers both
    assert np.isfinite(p).all()


def test_the_instance_whose_least_squares_failed_is_read():
    X, _ = evaluation_set(32, 50.0, 1e-3, 8, seed=2000, family="erdos_renyi", M=24)
    fit = symmetric_fit(X, 50.0, 0.1)  # LAPACK (numpy 2.4's OpenBLAS) did not converge on the second
    assert not fit.clean.any()
