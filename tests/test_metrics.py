import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from isingviz.lattice import adjacency_to_pairs, random_lattice
from isingviz.metrics import (
    LN2,
    confusion,
    coverage_at,
    coverage_curve,
    entropy_stats,
    majority_accuracy,
    pair_accuracy,
    pair_entropy,
    predictions,
    summary,
    trivial_accuracy,
)

FAST = settings(max_examples=40, deadline=None)


def proba_of(p1):
    """Edge probabilities (..., K) -> proba (..., K, 2) with index 1 = edge."""
    p1 = np.asarray(p1, dtype=np.float64)
    return np.stack([1.0 - p1, p1], axis=-1)


def paper_labels(B=3, seed=0):
    """B instances of one paper-like lattice: L = 12, 25 of 66 pairs are edges."""
    return np.tile(adjacency_to_pairs(random_lattice(12, 25, seed=seed)), (B, 1))


p1_batches = st.integers(1, 4).flatmap(
    lambda B: st.integers(1, 10).flatmap(
        lambda K: st.tuples(
            arrays(np.float64, (B, K), elements=st.floats(0, 1)),
            arrays(np.int8, (B, K), elements=st.integers(0, 1)),
        )
    )
)


def test_perfect_prediction():
    y = paper_labels()
    p = proba_of(y)
    assert pair_accuracy(p, y) == 1.0
    c = confusion(p, y)
    assert (c["TP"], c["FN"], c["FP"], c["TN"]) == (3 * 25, 0, 0, 3 * 41)
    assert c["precision"] == c["recall"] == 1.0
    assert confusion(y, y) == c  # predictions work as well as probabilities
    e = entropy_stats(p, y)
    assert e == {"mean_entropy_correct": 0.0, "mean_entropy_incorrect": None, "n_correct": 198, "n_incorrect": 0}


def test_uniform_probabilities_have_max_entropy_and_predict_no_edge():
    p = np.full((2, 66, 2), 0.5)
    assert np.array_equal(pair_entropy(p), np.full((2, 66), LN2))
    assert predictions(p).dtype == np.int8 and not predictions(p).any()  # ties -> no edge
    y = paper_labels(2)
    assert pair_accuracy(p, y) == pytest.approx(41 / 66)
    cov, acc = coverage_at(p, y, LN2)  # S < ln 2 is strict: nothing is kept
    assert cov == 0.0 and math.isnan(acc)
    assert coverage_at(p, y, 0.7) == (1.0, pytest.approx(41 / 66))


def test_hand_computed_example():
    p1 = np.array([[0.9, 0.2, 0.6, 0.0], [0.4, 0.5, 1.0, 0.7]])
    y = np.array([[1, 0, 0, 0], [1, 0, 1, 1]])
    assert predictions(proba_of(p1)).tolist() == [[1, 0, 1, 0], [0, 0, 1, 1]]
    assert pair_accuracy(proba_of(p1), y) == 6 / 8
    c = confusion(proba_of(p1), y)
    assert (c["TP"], c["FP"], c["FN"], c["TN"]) == (3, 1, 1, 3)
    assert c["precision"] == c["recall"] == 0.75
    S = pair_entropy(proba_of(p1))
    assert S[0, 0] == pytest.approx(-(0.9 * math.log(0.9) + 0.1 * math.log(0.1)))
    assert S[0, 3] == 0.0 and S[1, 2] == 0.0 and S[1, 1] == pytest.approx(LN2)
    e = entropy_stats(proba_of(p1), y)
    assert e["n_correct"] == 6 and e["n_incorrect"] == 2
    assert e["mean_entropy_incorrect"] == pytest.approx((S[0, 2] + S[1, 0]) / 2)
    # S = 0 for p in {0, 1}; S(0.9) = S(0.1) ~ 0.325 < S(0.2) ~ 0.500 < S(0.3) ~ 0.611 < S(0.4) ~ 0.673
    cov, acc = coverage_at(proba_of(p1), y, 0.6)  # keeps 0.9, 0.2, 0.0, 1.0: all correct
    assert cov == 4 / 8 and acc == 1.0


def test_single_instance_form_matches_batch():
    y = paper_labels(1)
    p = proba_of(np.where(y == 1, 0.8, 0.3))
    assert pair_accuracy(p[0], y[0]) == pair_accuracy(p, y) == 1.0
    assert pair_entropy(p[0]).shape == (66,) and predictions(p[0]).shape == (66,)
    assert summary(p[0], y[0])["n_instances"] == 1


def test_confusion_undefined_ratios_are_none():
    y = np.zeros((2, 3), dtype=int)
    c = confusion(np.zeros((2, 3)), y)
    assert c["precision"] is None and c["recall"] is None and c["TN"] == 6


def test_trivial_accuracy_of_paper_labels():
    y = paper_labels(5, seed=3)
    assert trivial_accuracy(y) == pytest.approx(41 / 66)
    assert trivial_accuracy(y[0]) == pytest.approx(41 / 66)


def test_majority_accuracy_constructed():
    y_train = np.array([[1, 0, 1], [1, 0, 0], [0, 0, 1], [1, 1, 0]])  # edge counts 3, 1, 2 of 4
    y_eval = np.array([[1, 0, 0], [0, 1, 1]])  # majority [1, 0, 0] (pair 2 is a tie -> no edge)
    assert majority_accuracy(y_train, y_eval) == 3 / 6
    assert majority_accuracy(y_train, y_eval[0]) == 1.0


def test_majority_beats_trivial_on_paper_like_lattices():
    y = np.concatenate([paper_labels(5, seed=s) for s in range(10)])  # 10 lattices, 5 instances each
    assert majority_accuracy(y, y) >= trivial_accuracy(y)
    one = paper_labels(4, seed=1)
    assert majority_accuracy(one, one) == 1.0  # one lattice: the majority is the lattice itself


def test_coverage_curve_defaults_and_brute_force():
    rng = np.random.default_rng(0)
    p = proba_of(rng.random((5, 66)))
    y = paper_labels(5)
    c = coverage_curve(p, y)
    assert set(c) == {"thresholds", "coverage", "accuracy", "n_kept"}
    assert np.array_equal(c["thresholds"], np.linspace(0, LN2, 50))
    S, ok = pair_entropy(p), predictions(p) == y
    for t, cov, acc in zip(c["thresholds"][::7], c["coverage"][::7], c["accuracy"][::7]):
        keep = S < t
        assert cov == keep.mean()
        assert (math.isnan(acc) and not keep.any()) or acc == pytest.approx(ok[keep].mean())


def test_summary_is_json_and_complete():
    rng = np.random.default_rng(1)
    y = paper_labels(4)
    p = proba_of(np.clip(y + rng.normal(0, 0.3, y.shape), 0, 1)).astype(np.float32)
    s = summary(p, y, y_train=paper_labels(6, seed=2))
    json.loads(json.dumps(s, allow_nan=False))
    for key in ("accuracy", "trivial_accuracy", "majority_accuracy", "TP", "FP", "FN", "TN", "precision"):
        assert key in s
    for key in ("coverage@0.1", "accuracy@0.1", "coverage@0.6", "accuracy@0.6", "mean_entropy_incorrect"):
        assert key in s
    assert s["n_instances"] == 4 and s["n_pairs"] == 66 and type(s["TP"]) is int
    assert all(type(v) in (int, float, type(None)) for v in s.values())
    perfect = summary(proba_of(y), y, thresholds=(0.0,))
    assert perfect["accuracy@0"] is None and perfect["coverage@0"] == 0.0  # nan -> None
    assert "majority_accuracy" not in perfect


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: pair_accuracy(np.full((2, 66, 2), 0.5), np.zeros((2, 65))), r"y must have shape \(2, 66\)"),
        (lambda: pair_accuracy(np.full((2, 66), 0.5), np.zeros((2, 66))), r"shape \(B, K, 2\)"),
        (lambda: pair_entropy(np.full((2, 66, 3), 1 / 3)), r"shape \(B, K, 2\), or \(K, 2\)"),
        (lambda: pair_entropy(np.full((2, 66, 2), 0.6)), "must be 1"),
        (lambda: pair_entropy(np.log(np.full((2, 66, 2), 0.5))), "log-probabilities"),
        (lambda: pair_entropy(np.full((0, 66, 2), 0.5)), "empty"),
        (lambda: pair_accuracy(np.full((1, 3, 2), 0.5), [[0, 2, 1]]), "0 \\(no edge\\) or 1"),
        (lambda: confusion(np.zeros((2, 5)), np.zeros((2, 6))), r"predictions must have shape \(2, 6\)"),
        (lambda: confusion(np.full((2, 5, 2), 0.5), np.zeros((2, 6))), r"proba must have shape \(2, 6, 2\)"),
        (lambda: majority_accuracy(np.zeros((3, 66)), np.zeros((2, 28))), "same pair count K, got 66 and 28"),
        (lambda: coverage_curve(np.full((1, 3, 2), 0.5), np.zeros((1, 3)), [[0.1]]), "1-D array"),
        (lambda: coverage_at(np.full((1, 3, 2), 0.5), np.zeros((1, 3)), float("nan")), "finite number"),
    ],
)
def test_bad_input_raises_helpful_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@FAST
@given(arrays(np.float64, (3, 7), elements=st.floats(0, 1)))
def test_entropy_bounds_and_symmetry(p1):
    S = pair_entropy(proba_of(p1))
    assert S.shape == (3, 7) and np.all(S >= 0) and np.all(S <= LN2)
    assert np.allclose(S, pair_entropy(proba_of(1 - p1)), atol=1e-12)


@FAST
@given(p1_batches, st.lists(st.floats(-1, 2), min_size=1, max_size=20))
def test_coverage_monotone_and_complete(data, thresholds):
    p1, y = data
    p = proba_of(p1)
    c = coverage_curve(p, y, np.sort(thresholds))
    assert np.all(np.diff(c["coverage"]) >= 0) and np.all((c["coverage"] >= 0) & (c["coverage"] <= 1))
    assert np.array_equal(np.isnan(c["accuracy"]), c["n_kept"] == 0)
    cov, acc = coverage_at(p, y, LN2 + 1e-9)
    assert cov == 1.0 and acc == pytest.approx(pair_accuracy(p, y))
    assert coverage_at(p, y, 0.0)[0] == 0.0


@FAST
@given(p1_batches)
def test_confusion_counts_add_up(data):
    p1, y = data
    c = confusion(proba_of(p1), y)
    assert c["TP"] + c["FP"] + c["FN"] + c["TN"] == y.size
    assert c["TP"] + c["FN"] == y.sum()
    assert (c["TP"] + c["TN"]) / y.size == pytest.approx(pair_accuracy(proba_of(p1), y))
    e = entropy_stats(proba_of(p1), y)
    assert e["n_correct"] == c["TP"] + c["TN"]
