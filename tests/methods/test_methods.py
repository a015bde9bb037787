"""Reconstruction methods: one contract for all, and each recovers known lattices where it should."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from isingviz.dynamics import simulate
from isingviz.lattice import adjacency_to_pairs, random_lattice
from isingviz.learn.model_config import ModelConfig
from isingviz.learn.networks import build_model
from isingviz.learn.store import load_model, model_to_bytes
from isingviz.methods import (
    METHODS,
    BinaryML,
    Inversion,
    Reconstructor,
    apply_rule,
    make_method,
    method_info,
    one_hot,
    reconstruct,
)

L, M, E, TAU = 8, 40, 10, 0.1
K = L * (L - 1) // 2


def states(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).choice([-1.0, 1.0], size=(n, L))


def instances(A: np.ndarray, n: int, T: float, seed: int = 0, **kw) -> np.ndarray:
    return simulate(A, states(n, seed), T, TAU, M, seed=seed, **kw)  # (n, L, M)


def accuracy(pred: np.ndarray, A: np.ndarray) -> float:
    return float(np.mean(pred == adjacency_to_pairs(A)))


@pytest.fixture(scope="module")
def lattices() -> np.ndarray:
    return np.stack([random_lattice(L, E, seed=s) for s in range(4)])  # (4, L, L)


@pytest.fixture(scope="module")
def cnn_model():
    cfg = ModelConfig(L=L, M=M, channels=(4,), hidden=8)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = build_model(cfg).eval()
    return load_model(model_to_bytes(net, cfg, T=1.0, tau=TAU))


@pytest.fixture(scope="module")
def general_net():
    cfg = ModelConfig(L=L, M=M, arch="general", hidden=8, rounds=1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build_model(cfg).eval()


def test_registry_has_every_method() -> None:
    want = {"inversion", "binary_ml", "template", "var", "correlation", "correlation_diff"}
    want |= {"naive_mf", "tap", "ml_kinetic", "trivial", "cnn", "general", "replica_ml"}
    assert set(METHODS) == want
    info = {row["name"]: row for row in method_info()}
    assert info["template"]["needs"] == ["candidates", "T", "tau"] and info["var"]["default_rule"] == "top_e"
    assert all(row["summary"] for row in info.values())


@pytest.mark.parametrize("name", sorted(METHODS))
def test_contract(name: str, lattices: np.ndarray, cnn_model, general_net) -> None:
    X = instances(lattices[0], 3, T=1.0)  # (3, L, M)
    know = dict(T=1.0, tau=TAU, candidates=lattices, groups=[0, 0, 1], noise=0.0, replicas=1000)
    params = {"model": cnn_model} if name == "cnn" else {"model": general_net} if name == "general" else {}
    method = make_method(name, **params)
    assert isinstance(method, Reconstructor) and method.name == name

    scores = method.scores(X, **know)
    assert scores.shape == (3, K) and np.all(np.isfinite(scores))
    assert method.results_["seconds"] >= 0 and method.last_seconds >= 0
    if method.has_proba:
        p = method.predict_proba(X, **know)
        assert p.shape == (3, K, 2) and np.all((p >= 0) & (p <= 1))
        np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=1e-9)
    else:
        with pytest.raises(ValueError, match="not probabilities"):
            method.predict_proba(X, **know)

    n_edges = np.array([E, 3, 0])
    top = method.predict(X, rule="top_e", n_edges=n_edges, **know)
    assert top.dtype == np.int8 and top.shape == (3, K) and set(np.unique(top)) <= {0, 1}
    np.testing.assert_array_equal(top.sum(axis=1), n_edges)
    thr = method.predict(X, rule="threshold", **know)
    assert thr.dtype == np.int8 and thr.shape == (3, K) and set(np.unique(thr)) <= {0, 1}

    rec = reconstruct(name, X, n_edges=E, **params, **know)
    assert rec.pred.shape == (3, K) and rec.rule and rec.seconds >= 0
    assert rec.proba_or_one_hot().shape == (3, K, 2)
    assert method.scores(X[0], **{**know, "groups": None}).shape == (K,)  # one (L, M) instance -> (K,)


@pytest.mark.parametrize("T", [1.0, 5.0, 50.0])
def test_inversion_recovers_clean_lattices_exactly(T: float, lattices: np.ndarray) -> None:
    for A in lattices:
        pred = Inversion().predict(instances(A, 2, T, seed=5), T=T, tau=TAU)
        np.testing.assert_array_equal(pred, np.broadcast_to(adjacency_to_pairs(A), pred.shape))
    plain = Inversion(ridge=0.0, weighted=False).predict(instances(lattices[0], 2, T, seed=5), T=T, tau=TAU)
    assert accuracy(plain, lattices[0]) == 1.0


@pytest.mark.parametrize("method", [Inversion(), BinaryML()], ids=["inversion", "binary_ml"])
def test_pairs_an_instance_cannot_tell_apart_are_undecided(method: Reconstructor, lattices: np.ndarray) -> None:
    """Some initial states leave spins indistinguishable: those pairs score 1/2, never a confident error."""
    A = lattices[1]
    X = instances(A, 4, 1.0, seed=6)  # 3 of these 4 instances do not identify every pair
    scores = method.scores(X, T=1.0, tau=TAU)
    wrong = (scores > 0.5) != adjacency_to_pairs(A)
    assert wrong.any()
    np.testing.assert_allclose(scores[wrong], 0.5, atol=1e-4)


def test_inversion_degrades_with_noise_at_high_T(lattices: np.ndarray) -> None:
    A = lattices[0]
    clean = Inversion().predict(instances(A, 4, 50.0, seed=5), T=50.0, tau=TAU)
    noisy = Inversion().predict(instances(A, 4, 50.0, seed=5, noise=1e-2), T=50.0, tau=TAU)
    assert accuracy(clean, A) == 1.0
    assert accuracy(noisy, A) < 0.85


@pytest.mark.parametrize(("T", "noise"), [(0.4, 0.0), (5.0, 1e-4)])
def test_binary_ml_recovers_lattices(T: float, noise: float, lattices: np.ndarray) -> None:
    for A in lattices:
        method = BinaryML()
        p = method.predict_proba(instances(A, 2, T, seed=5, noise=noise), T=T, tau=TAU)
        np.testing.assert_array_equal(p[..., 1] > 0.5, np.broadcast_to(adjacency_to_pairs(A), (2, K)))
        assert method.results_["search"] == "exhaustive" and method.results_["sets_per_spin"] == 2 ** (L - 1)


def test_binary_ml_local_search_above_the_exhaustive_limit(lattices: np.ndarray) -> None:
    A = lattices[2]
    method = BinaryML(exhaustive_max_L=4)
    pred = method.predict(instances(A, 2, 1.0, seed=5), T=1.0, tau=TAU)
    assert method.results_["search"] == "local" and accuracy(pred, A) == 1.0


def test_binary_ml_beats_inversion_at_low_T_with_noise(lattices: np.ndarray) -> None:
    X = np.concatenate([instances(A, 2, 0.4, seed=7, noise=1e-3) for A in lattices])
    y = np.repeat(np.stack([adjacency_to_pairs(A) for A in lattices]), 2, axis=0)
    binary = np.mean(BinaryML().predict(X, T=0.4, tau=TAU) == y)
    assert binary > np.mean(Inversion().predict(X, T=0.4, tau=TAU) == y)


def test_template_picks_the_right_candidate(lattices: np.ndarray) -> None:
    X = instances(lattices[3], 3, 5.0, seed=8, noise=1e-2)
    rec = reconstruct("template", X, T=5.0, tau=TAU, candidates=lattices)
    np.testing.assert_array_equal(rec.results["chosen"], [3, 3, 3])
    assert rec.accuracy(np.broadcast_to(adjacency_to_pairs(lattices[3]), (3, K))) == 1.0
    assert np.all(rec.proba[..., 1][:, adjacency_to_pairs(lattices[3]) == 1] > 0.9)


@pytest.mark.parametrize(("name", "params", "margin"), [("correlation", {}, 0.1), ("var", {"pooled": True}, 0.3)])
def test_pooled_model_free_methods_beat_trivial(name: str, params: dict, margin: float, lattices: np.ndarray) -> None:
    A = lattices[0]
    X = instances(A, 40, 1.0, seed=9)
    y = np.broadcast_to(adjacency_to_pairs(A), (40, K))
    acc = reconstruct(name, X, n_edges=E, **params).accuracy(y)
    assert acc > reconstruct("trivial", X).accuracy(y) + margin


@pytest.fixture(scope="module")
def stochastic(lattices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """20 stochastic instances (100 replicas each) of each of two lattices: X (40, L, M), labels y, groups."""
    X = np.concatenate(
        [instances(A, 20, 1.0, seed=10 + i, mode="stochastic", replicas=100) for i, A in enumerate(lattices[:2])]
    )
    y = np.repeat(np.stack([adjacency_to_pairs(A) for A in lattices[:2]]), 20, axis=0)
    return X, y, np.repeat([0, 1], 20)


@pytest.mark.parametrize("name", ["naive_mf", "tap", "ml_kinetic"])
def test_kinetic_estimators_beat_trivial_on_stochastic_data(name: str, stochastic) -> None:
    X, y, groups = stochastic
    acc = reconstruct(name, X, T=1.0, tau=TAU, n_edges=E, groups=groups, pooled=True).accuracy(y)
    assert acc > reconstruct("trivial", X).accuracy(y) + 0.25


def test_replica_decoder_with_a_learnt_density_reports_it(stochastic) -> None:
    X, y, _ = stochastic
    rec = reconstruct("replica_ml", X[:4], T=1.0, tau=TAU, replicas=100, prior=None)
    density = rec.results["density"]
    assert len(density) == 4 and all(0.0 < d < 1.0 for d in density)
    assert "p_fixed_prior" not in rec.results
    fixed = reconstruct("replica_ml", X[:4], T=1.0, tau=TAU, replicas=100)
    assert fixed.results["density"] == [0.3] * 4


def test_scores_respect_spin_relabelling_and_the_sign_flip(lattices: np.ndarray) -> None:
    A = lattices[1]
    X = instances(A, 1, 1.0, seed=11)
    perm = np.random.default_rng(0).permutation(L)
    i, j = np.triu_indices(L, 1)
    for method in (Inversion(), BinaryML()):
        W = np.zeros((L, L))
        W[i, j] = method.scores(X, T=1.0, tau=TAU)[0]
        W = W + W.T
        Wp = np.zeros((L, L))
        Wp[i, j] = method.scores(X[:, perm], T=1.0, tau=TAU)[0]
        np.testing.assert_allclose(Wp + Wp.T, W[np.ix_(perm, perm)], atol=1e-8)
        np.testing.assert_allclose(method.scores(-X, T=1.0, tau=TAU), method.scores(X, T=1.0, tau=TAU), atol=1e-8)


def test_apply_rule_and_one_hot() -> None:
    s = np.array([[0.2, 0.9, 0.5, 0.5], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(apply_rule(s, "threshold", 0.5), [[0, 1, 0, 0], [1, 1, 1, 1]])
    np.testing.assert_array_equal(apply_rule(s, "top_e", n_edges=2), [[0, 1, 1, 0], [1, 1, 0, 0]])  # ties: lower pair
    np.testing.assert_array_equal(one_hot([[0, 1]]), [[[1.0, 0.0], [0.0, 1.0]]])


def test_trivial_is_no_edge_anywhere(lattices: np.ndarray) -> None:
    X = instances(lattices[0], 2, 1.0)
    rec = reconstruct("trivial", X)
    assert rec.pred.sum() == 0 and np.all(rec.proba[..., 0] == 1.0)
    assert rec.accuracy(np.broadcast_to(adjacency_to_pairs(lattices[0]), (2, K))) == pytest.approx(1 - E / K)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda X: reconstruct("inversion", X[0, 0], T=1.0, tau=TAU), r"shape \(B, L, M\)"),
        (lambda X: reconstruct("inversion", X[None], T=1.0, tau=TAU), r"shape \(B, L, M\)"),
        (lambda X: reconstruct("inversion", np.where(X > 0.5, np.nan, X), T=1.0, tau=TAU), "NaN"),
        (lambda X: reconstruct("inversion", X, T=0.0, tau=TAU), "T must be a finite number > 0"),
        (lambda X: reconstruct("binary_ml", X, T=-1.0, tau=TAU), "T must be a finite number > 0"),
        (lambda X: reconstruct("inversion", X, tau=TAU), "needs T"),
        (lambda X: reconstruct("inversion", X, T=1.0, tau=1.5), "0 < tau <= 1"),
        (lambda X: reconstruct("template", X, T=1.0, tau=TAU), "needs candidates"),
        (lambda X: reconstruct("template", X, T=1.0, tau=TAU, candidates=np.zeros((2, 3, 3))), "candidates must"),
        (lambda X: reconstruct("nope", X), "unknown method"),
        (lambda X: reconstruct("inversion", X, T=1.0, tau=TAU, temperature=1.0), "unknown argument"),
        (lambda X: reconstruct("var", X), "pass n_edges"),
        (lambda X: reconstruct("var", X, n_edges=K + 1), "n_edges must lie between"),
        (lambda X: reconstruct("var", X, rule="vote"), "rule must be one of"),
        (lambda X: reconstruct("correlation", X, n_edges=E, groups=[0]), "one label per instance"),
        (lambda X: reconstruct("binary_ml", X, T=1.0, tau=TAU, combine="xor"), "combine must be"),
        (lambda X: reconstruct("cnn", X, model=object()), "needs a LoadedModel"),
        (lambda X: reconstruct("replica_ml", X, T=1.0, tau=TAU), "needs replicas"),
        (lambda X: reconstruct("replica_ml", X, T=1.0, tau=TAU, replicas=0), "replicas R must be"),
        (lambda X: reconstruct("replica_ml", X, T=1.0, tau=TAU, replicas=2.5), "replicas R must be"),
        (lambda X: reconstruct("replica_ml", X, T=1.0, tau=TAU, replicas=10, prior=1.0), "prior"),
        (lambda X: reconstruct("inversion", X, T=1.0, tau=TAU, noise=-1.0), "noise sigma"),
    ],
)
def test_bad_inputs_are_refused(call, match: str, lattices: np.ndarray) -> None:
    with pytest.raises(ValueError, match=match):
        call(instances(lattices[0], 2, 1.0))


def test_cnn_refuses_instances_of_another_size(cnn_model) -> None:
    with pytest.raises(ValueError, match="shape"):
        reconstruct("cnn", np.zeros((2, L, M + 1)), model=cnn_model)
    with pytest.warns(UserWarning, match="trained at T=1"):
        reconstruct("cnn", np.zeros((2, L, M)), model=cnn_model, T=5.0)


def test_general_defaults_to_the_shipped_model_and_reads_unseen_lattices(lattices: np.ndarray) -> None:
    if not (Path(__file__).resolve().parents[2] / "models" / "general.safetensors").is_file():
        pytest.skip("models/general.safetensors is not shipped")
    for A in lattices:  # lattices it never saw, L = 8 (the shipped model was not trained for one L)
        X, y = instances(A, 2, T=1.0, seed=3), np.broadcast_to(adjacency_to_pairs(A), (2, K))
        rec = reconstruct("general", X, T=1.0, tau=TAU)
        assert rec.proba.shape == (2, K, 2)
        # one of these instances does not pin its lattice down (the exact decoders miss 2-3 pairs too)
        assert rec.accuracy(y) >= max(reconstruct(m, X, T=1.0, tau=TAU).accuracy(y) for m in ("inversion", "binary_ml"))
        assert rec.accuracy(y) > 0.95


def test_general_without_a_shipped_model_says_how_to_make_one(tmp_path, monkeypatch, lattices) -> None:
    monkeypatch.setenv("ISINGVIZ_MODELS", str(tmp_path))
    with pytest.raises(ValueError, match="train-general"):
        reconstruct("general", instances(lattices[0], 1, T=1.0), T=1.0, tau=TAU)
    with pytest.raises(ValueError, match="not found"):
        make_method("general", model=tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="rounds"):
        make_method("general", model=build_model(ModelConfig(L=L, M=M, arch="general", hidden=8)), rounds=-1)


def test_general_rounds_override_leaves_the_shared_network_alone(general_net, lattices) -> None:
    X = instances(lattices[0], 2, T=1.0)
    p_default = make_method("general", model=general_net).predict_proba(X, T=1.0, tau=TAU)
    p0 = make_method("general", model=general_net, rounds=0).predict_proba(X, T=1.0, tau=TAU)
    assert general_net.rounds == 1 and not np.allclose(p0, p_default)
    np.testing.assert_allclose(make_method("general", model=general_net).predict_proba(X, T=1.0, tau=TAU), p_default)


def test_pair_matrices_inverts_pair_values():
    from isingviz.methods.base import pair_matrices, pair_values

    rng = np.random.default_rng(3)
    v = rng.normal(size=(4, 15))  # L = 6
    W = pair_matrices(v, 6)
    assert W.shape == (4, 6, 6) and np.array_equal(W, np.swapaxes(W, 1, 2))
    assert (np.diagonal(W, axis1=1, axis2=2) == 0).all() and np.array_equal(pair_values(W), v)
