"""The no-coupling tests of replica data: their size on empty lattices, their power, and where they cannot run."""

from __future__ import annotations

import numpy as np
import pytest

from isingviz.dynamics import simulate
from isingviz.lattice import complete, random_lattice
from isingviz.nocoupling import f_tail, mean_field_pvalue, mean_field_slope, no_coupling_pvalue, regression_pvalue


@pytest.mark.parametrize(("F", "d1", "d2"), [(1.367703, 132, 456), (2.066646, 20, 100), (2.754851, 11, 38)])
def test_f_tail_matches_the_exact_one_percent_points(F: float, d1: int, d2: int) -> None:
    # the F distribution's upper 1 % points for these degrees of freedom (tables; scipy.stats.f.isf)
    tail = f_tail(np.array([F]), np.array([float(d1)]), np.array([float(d2)]))[0]
    assert tail == pytest.approx(0.01, abs=1e-3)


def _replica_means(family_edges: int, T: float, R: int, n: int, seed: int, L: int = 12) -> np.ndarray:
    rng = np.random.default_rng(seed)
    A = np.stack([random_lattice(L, family_edges, rng) for _ in range(n)])
    s0 = rng.choice(np.array([-1.0, 1.0]), (n, L))
    return simulate(A, s0, T, 0.1, 50, mode="stochastic", replicas=R, seed=seed)


@pytest.mark.parametrize("R", [1, 10, 1000])
def test_no_coupling_pvalues_are_uniform_on_empty_lattices_and_small_on_coupled_ones(R: int) -> None:
    # calibrated: about 1 % and 10 % below 0.01 and 0.1; a single run's jumps are heavy-tailed (about 5 % and 17 %)
    level = 0.03 if R > 1 else 0.08
    p = no_coupling_pvalue(_replica_means(0, 1.0, R, 300, seed=R), 0.1)
    assert 0.0 <= p.min() and p.max() <= 1.0
    assert (p < 0.01).mean() <= level and 0.05 <= (p < 0.1).mean() <= 0.16 + 2 * level
    noisy = _replica_means(0, 1.0, R, 300, seed=R + 1) + 1e-2 * np.random.default_rng(R).standard_normal((300, 12, 50))
    assert (no_coupling_pvalue(noisy, 0.1) < 0.01).mean() <= level  # the variance is estimated: noise is no coupling
    coupled = no_coupling_pvalue(_replica_means(25, 1.0, R, 40, seed=R + 2), 0.1)
    assert (coupled < 0.01).mean() >= (0.9 if R >= 10 else 0.5)
    mf = mean_field_pvalue(_replica_means(0, 1.0, R, 300, seed=R + 3), 0.1)  # one of the two tests, alone
    assert 0.0 <= mf.min() and mf.max() <= 1.0 and (mf < 0.01).mean() <= level


def test_the_mean_field_test_finds_a_complete_lattice_that_the_regression_cannot_tell_from_no_coupling() -> None:
    # T = 50: every coupling is weak, but all 11 of each spin push the same way; the regression spreads that over
    # 132 directions, the mean-field test has one
    rng = np.random.default_rng(7)
    A = np.broadcast_to(complete(12), (40, 12, 12)).copy()
    s0 = rng.choice(np.array([-1.0, 1.0]), (40, 12))
    x = simulate(A, s0, 50.0, 0.1, 50, mode="stochastic", replicas=1000, seed=7)
    found, regression = (mean_field_pvalue(x, 0.1) < 0.01).mean(), (regression_pvalue(x, 0.1) < 0.01).mean()
    assert found >= 0.6 and regression <= 0.3
    assert (no_coupling_pvalue(x, 0.1) < 0.01).mean() >= found - 0.1  # Bonferroni costs little


def test_the_mean_field_test_is_one_sided_and_says_nan_where_it_cannot_run() -> None:
    # increments that follow the sum of the other spins, with the sign of a ferromagnet and against it
    rng = np.random.default_rng(3)
    x = np.empty((2, 8, 40))
    x[:, :, 0] = rng.choice(np.array([-1.0, 1.0]), (2, 8))
    for m in range(39):
        u = x[:, :, m].sum(1, keepdims=True) - x[:, :, m]
        x[:, :, m + 1] = 0.9 * x[:, :, m] + np.array([[0.02], [-0.02]]) * u + 0.01 * rng.standard_normal((2, 8))
    p = mean_field_pvalue(x, 0.1)
    assert p[0] < 1e-6 and p[1] > 1.0 - 1e-6
    assert mean_field_slope(x, 0.1) == pytest.approx([0.02, -0.02], abs=2e-3)  # the increments' own slope
    assert mean_field_slope(np.zeros((1, 5, 10)), 0.1).tolist() == [0.0]
    assert np.isnan(mean_field_pvalue(np.zeros((2, 5, 10)), 0.1)).all()
    with pytest.raises(ValueError, match=r"need replica means \(B, L, M\)"):
        mean_field_pvalue(x[0], 0.1)


def test_no_coupling_test_needs_the_regressions_residual_degrees_of_freedom() -> None:
    x = _replica_means(10, 1.0, 100, 2, seed=5, L=12)
    assert np.isnan(regression_pvalue(x[:, :, :12], 0.1)).all()  # 11 steps, 11 other spins: nothing left over
    assert np.isfinite(regression_pvalue(x, 0.1)).all()
    # the one-slope test still runs there, but alone it has no power against sparse lattices: no verdict
    short = x[:, :, :12]
    assert np.isfinite(mean_field_pvalue(short, 0.1)).all() and np.isnan(no_coupling_pvalue(short, 0.1)).all()
    assert np.isfinite(no_coupling_pvalue(x, 0.1)).all()
    with pytest.raises(ValueError, match=r"need replica means \(B, L, M\)"):
        no_coupling_pvalue(x[0], 0.1)
