"""The general model: symmetry of the problem, any L and M with one set of weights, training, model files."""

import dataclasses
import functools
import math

import numpy as np
import pytest
import torch

from isingviz.dynamics import simulate
from isingviz.experiments.unseen import (
    CALIBRATION_THRESHOLDS,
    General,
    calibration,
    calibration_counts,
    evaluate_unseen,
    evaluation_set,
    merge_calibration,
    one_instance_ms,
)
from isingviz.lattice import adjacency_to_pairs, pairs_to_adjacency, random_lattice, validate_adjacency
from isingviz.learn.general import features as gf
from isingviz.learn.general.train import (
    TRAINABLE,
    GeneralTrainConfig,
    draw_lattice,
    sample_batch,
    train_general,
)
from isingviz.learn.model_config import ModelConfig
from isingviz.learn.networks import build_model
from isingviz.learn.store import load_model, model_to_bytes
from isingviz.methods.general import predict_edge_proba
from isingviz.metrics import coverage_curve

CFG = ModelConfig(L=8, M=30, arch="general", encoding="raw", hidden=16, rounds=2)


def _net(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model(CFG).eval()


def _instances(L: int, M: int, n: int, T: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    A = np.stack([random_lattice(L, 2 * L, rng) for _ in range(n)])
    return simulate(A, rng.choice([-1.0, 1.0], (n, L)), T, 0.1, M), A


def _sym(p: np.ndarray, L: int) -> np.ndarray:
    """Pair values (K,) -> symmetric (L, L) matrix with zero diagonal."""
    P = np.zeros((L, L))
    P[np.triu_indices(L, 1)] = p
    return P + P.T


def test_relabelling_spins_permutes_the_output_pairs():
    X, _ = _instances(9, 30, 3, T=0.7)
    perm = np.random.default_rng(1).permutation(9)
    net = _net()
    with torch.no_grad():
        p = net(X, 0.7, 0.1)[..., 1].exp().numpy()  # (3, K)
        q = net(X[:, perm], 0.7, 0.1)[..., 1].exp().numpy()
    for b in range(3):
        P, Q = _sym(p[b], 9), _sym(q[b], 9)
        np.testing.assert_allclose(Q, P[np.ix_(perm, perm)], atol=1e-5)


def test_scores_are_symmetric_and_probabilities_normalised():
    X, _ = _instances(7, 25, 4)
    net = _net()
    with torch.no_grad():
        zs = net.pair_logits(X, np.array([0.5, 1.0, 5.0, 20.0]), 0.1)
        logp = net(X, 1.0, 0.1)
    for z in zs:
        assert torch.equal(z, z.transpose(1, 2)) and torch.all(torch.diagonal(z, dim1=1, dim2=2) == 0)
    assert logp.shape == (4, 21, 2)
    assert torch.allclose(logp.exp().sum(-1), torch.ones(4, 21), atol=1e-6)


@pytest.mark.parametrize("L,M", [(5, 10), (8, 30), (13, 50), (20, 64)])
def test_one_set_of_weights_serves_any_L_and_M(L, M):
    X, _ = _instances(L, M, 2)
    with torch.no_grad():
        logp = _net()(X, 1.0, 0.1)
    assert logp.shape == (2, L * (L - 1) // 2, 2) and torch.isfinite(logp).all()


def test_bad_inputs_are_refused():
    net = _net()
    with pytest.raises(ValueError, match="shape"):
        net(np.zeros((4, 5)), 1.0, 0.1)
    with pytest.raises(ValueError, match="T must"):
        net(np.zeros((1, 4, 5)), -1.0, 0.1)
    with pytest.raises(ValueError, match="NaN"):
        net(np.full((1, 4, 5), np.nan), 1.0, 0.1)


def test_training_lattices_are_fresh_valid_and_varied():
    rng = np.random.default_rng(0)
    for fam in TRAINABLE:
        A = draw_lattice(fam, 11, rng)
        assert validate_adjacency(A).shape == (11, 11)
    assert draw_lattice("complete", 9, rng).sum() == 72 and draw_lattice("empty", 9, rng).sum() == 0
    sides = set()
    for _ in range(40):  # K_{a, L-a} with a uniform in 1..L // 2: the degrees are a and L - a
        sides.add(int(draw_lattice("complete_bipartite", 9, rng).sum(1).min()))
    assert sides == {1, 2, 3, 4}
    with pytest.raises(ValueError, match="unknown family 'hexagonal'; allowed: random"):
        draw_lattice("hexagonal", 9, rng)
    tc = GeneralTrainConfig(batch_size=6)
    X, T, sigma, y = sample_batch(tc, rng, L=9, M=20, B=6)
    assert X.shape == (6, 9, 20) and y.shape == (6, 36) and T.shape == sigma.shape == (6,)
    assert tc.T_min <= T.min() and T.max() <= tc.T_max
    X2, *_ = sample_batch(tc, np.random.default_rng(0), L=9, M=20)
    X3, *_ = sample_batch(tc, np.random.default_rng(0), L=9, M=20)
    assert np.array_equal(X2, X3)  # a seed reproduces
    pairs_to_adjacency(y[0], 9)  # labels are a lattice
    mix = GeneralTrainConfig(batch_size=6, families=("complete", "empty"))
    _, _, _, y = sample_batch(mix, rng, L=9, M=20, B=12)
    assert set(y.sum(1).tolist()) == {0, 36}  # every instance from the named families, both drawn


def test_a_tiny_training_run_lowers_the_loss_and_records_the_history():
    tc = GeneralTrainConfig(
        L_min=6, L_max=8, M_min=20, M_max=30, steps=30, steps_per_epoch=10, batch_size=8, n_eval=16, lr=5e-3
    )
    seen = []
    cfg = ModelConfig(L=8, M=30, arch="general", encoding="raw", hidden=16, rounds=1)
    res = train_general(cfg, tc, progress=seen.append, threads=1)
    h = res.history
    assert len(h) == 3 and {"train_loss", "test_accuracy", "grad_norm", "seconds"} <= set(h[0])
    assert h[-1]["train_loss"] < h[0]["train_loss"]
    assert any(r["kind"] == "epoch" for r in seen)
    assert res.model.training is False


def test_keep_last_returns_the_last_epochs_weights(monkeypatch):
    import isingviz.learn.general.train as train_module

    def scripted(scores):  # held-out figures by epoch: which epoch is best must not hang on float rounding
        it = iter(scores)
        return lambda model, ev, tau: next(it)

    tc = GeneralTrainConfig(L_min=6, L_max=6, M_min=20, M_max=20, steps=30, steps_per_epoch=10, batch_size=4,
                            n_eval=8)  # fmt: skip
    held_out = [(0.69, 0.57), (0.40, 0.886), (0.45, 0.856)]  # (loss, accuracy): epoch 2 is the best
    monkeypatch.setattr(train_module, "_evaluate", scripted(held_out))
    best = train_general(CFG, tc, threads=1)
    monkeypatch.setattr(train_module, "_evaluate", scripted(held_out))
    last = train_general(CFG, dataclasses.replace(tc, keep="last"), threads=1)
    assert best.best_epoch == 2 and last.best_epoch == 3 == len(last.history)
    same = [[{k: v for k, v in r.items() if k != "seconds"} for r in h] for h in (best.history, last.history)]
    assert same[0] == same[1]  # the same run, other weights returned
    w_best, w_last = best.model.state_dict(), last.model.state_dict()
    assert any(not torch.equal(w_best[k], w_last[k]) for k in w_best)
    with pytest.raises(ValueError, match="keep must be 'best' \\(held-out epoch\\) or 'last', got 'first'"):
        GeneralTrainConfig(keep="first").validate()


def test_stop_flag_returns_a_model():
    tc = GeneralTrainConfig(L_min=6, L_max=6, M_min=20, M_max=20, steps=50, batch_size=4, n_eval=4)
    res = train_general(CFG, tc, stop=lambda: True)
    assert res.stopped == "stop flag" and res.model is not None


def test_model_file_round_trip_through_the_store():
    net = _net(3)
    data = model_to_bytes(net, CFG, T=1.0, tau=0.1, dataset=GeneralTrainConfig().to_dict(), name="general")
    loaded = load_model(data)
    assert loaded.config == CFG
    X, _ = _instances(10, 40, 2)
    with torch.no_grad():
        a, b = net(X, 2.0, 0.1), loaded.model(X, 2.0, 0.1)
    torch.testing.assert_close(a, b)
    rec = General(loaded)
    p = rec.predict_proba(X, T=2.0, tau=0.1)
    assert p.shape == (2, 45, 2) and np.allclose(p.sum(-1), 1.0)
    with pytest.raises(ValueError, match="needs T"):
        rec.predict(X, tau=0.1)
    # LoadedModel serves the general family too: any L, T given per call
    q = loaded.predict_proba(np.asarray(X), T=2.0)  # the network as stored: no gate, no exact posterior
    alone = General(loaded, use_head=False, gate=False).predict_proba(X, T=2.0, tau=0.1)
    np.testing.assert_allclose(q, alone, atol=1e-6)  # the network computes in float32
    assert loaded.is_general and loaded.predict_proba(np.asarray(X)[0], T=[2.0]).shape == (45, 2)
    with pytest.raises(ValueError, match="needs the temperature"):
        loaded.predict_proba(np.asarray(X))


def test_evaluation_set_is_reproducible_and_unseen_lattices():
    X, y = evaluation_set(12, 1.0, 0.0, 3, seed=5)
    X2, y2 = evaluation_set(12, 1.0, 0.0, 3, seed=5)
    assert np.array_equal(X, X2) and np.array_equal(y, y2) and np.all(y.sum(1) == 25)
    assert adjacency_to_pairs(pairs_to_adjacency(y[0], 12)).shape == (66,)


def test_fewer_rounds_at_prediction_time_and_the_contract():
    X, _ = _instances(8, 30, 2)
    net = _net()
    full = General(net).predict_proba(X, T=1.0, tau=0.1)
    fast = General(net, rounds=0).predict_proba(X, T=1.0, tau=0.1)
    with torch.no_grad():
        first = net.pair_logits(X, 1.0, 0.1)[0]
    assert net.rounds == CFG.rounds  # restored
    iu = np.triu_indices(8, 1)
    np.testing.assert_allclose(fast[..., 1], torch.sigmoid(first[:, iu[0], iu[1]]).numpy(), atol=1e-6)
    assert full.shape == fast.shape == (2, 28, 2)
    with pytest.raises(ValueError, match="rounds"):
        General(net, rounds=-1)
    with pytest.raises(ValueError, match="GeneralNet"):
        General(torch.nn.Linear(2, 2))


def test_calibration_counts_of_a_known_example():
    p = np.array([[0.02, 0.97, 0.55, 0.45], [0.0, 1.0, 0.31, 0.5]])
    y = np.array([[0, 1, 0, 1], [0, 1, 1, 0]])
    c = calibration_counts(p, y, thresholds=[0.1, 0.7])
    assert c["pairs"] == 8 and c["correct"] == 5  # wrong: 0.55 (no edge), 0.45 and 0.31 (edges); 0.5 means no edge
    assert c["count"] == [2, 0, 0, 1, 1, 2, 0, 0, 0, 2] and c["sum_edge"] == [0, 0, 0, 1, 1, 0, 0, 0, 0, 2]
    assert c["sum_p"][5] == pytest.approx(1.05) and c["sum_p"][9] == pytest.approx(1.97)
    # S(0.02) = 0.098, S(0.97) = 0.135, S(0) = S(1) = 0: three pairs below 0.1, all right; 0.7 > ln 2 keeps all
    assert c["n_kept"] == [3, 8] and c["n_correct"] == [3, 5]
    m = merge_calibration([c])
    assert m["pairs"] == 8 and m["accuracy"] == 5 / 8
    assert [r["bin"] for r in m["reliability"]] == [[0.0, 0.1], [0.3, 0.4], [0.4, 0.5], [0.5, 0.6], [0.9, 1.0]]
    assert m["reliability"][3] == {"bin": [0.5, 0.6], "count": 2, "mean_p": pytest.approx(0.525), "edge_frequency": 0}
    curve = {"thresholds": [0.1, 0.7], "coverage": [3 / 8, 1.0], "accuracy": [1.0, 5 / 8], "n_kept": [3, 8]}
    assert m["coverage"] == curve
    none_kept = merge_calibration([calibration_counts(p, y, thresholds=[0.0])])
    assert none_kept["coverage"]["accuracy"] == [None] and none_kept["coverage"]["coverage"] == [0.0]


def test_merged_calibration_of_split_counts_equals_the_whole():
    rng = np.random.default_rng(0)
    p, y = rng.random((30, 28)), (rng.random((30, 28)) < 0.4).astype(int)
    whole = merge_calibration([calibration_counts(p, y)])
    parts = merge_calibration([calibration_counts(p[:7], y[:7]), calibration_counts(p[7:], y[7:])])
    assert parts["pairs"] == whole["pairs"] == 840 and parts["coverage"]["thresholds"] == list(CALIBRATION_THRESHOLDS)
    assert parts["coverage"]["n_kept"] == whole["coverage"]["n_kept"] and parts["coverage"]["n_kept"][-1] == 840
    np.testing.assert_allclose(parts["coverage"]["accuracy"], whole["coverage"]["accuracy"])
    assert [r["count"] for r in parts["reliability"]] == [r["count"] for r in whole["reliability"]]
    np.testing.assert_allclose([r["mean_p"] for r in parts["reliability"]], [r["mean_p"] for r in whole["reliability"]])
    # the same numbers as metrics.coverage_curve on the pooled pairs
    curve = coverage_curve(np.stack([1 - p, p], -1), y, thresholds=CALIBRATION_THRESHOLDS)
    np.testing.assert_allclose(parts["coverage"]["coverage"], curve["coverage"])
    np.testing.assert_allclose(parts["coverage"]["accuracy"], curve["accuracy"])
    assert parts["accuracy"] == pytest.approx(np.mean((p > 0.5) == y))


def test_calibration_refuses_bad_input():
    with pytest.raises(ValueError, match="shape of p_edge"):
        calibration_counts(np.full((2, 3), 0.5), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="0 \\(no edge\\) or 1"):
        calibration_counts(np.full(3, 0.5), np.array([0, 2, 1]))
    with pytest.raises(ValueError, match="\\[0, 1\\]"):
        calibration_counts(np.array([0.2, 1.5]), np.array([0, 1]))
    with pytest.raises(ValueError, match="at least one"):
        merge_calibration([])
    a, b = calibration_counts(np.full(3, 0.5), np.zeros(3)), calibration_counts(np.full(3, 0.5), np.zeros(3), [0.2])
    with pytest.raises(ValueError, match="share their thresholds"):
        merge_calibration([a, b])


def test_calibration_and_timing_of_a_model():
    net = _net()
    cal = calibration(net, [1.0], [0.0, 1e-3], n=2, L=8)
    assert cal["pairs"] == 2 * 2 * 28 and sum(r["count"] for r in cal["reliability"]) == cal["pairs"]
    assert cal["coverage"]["coverage"][-1] == 1.0 and 0 <= cal["accuracy"] <= 1
    assert one_instance_ms(net, L=8, repeats=2) > 0


def test_evaluate_unseen_puts_general_beside_inversion_and_trivial():
    res = evaluate_unseen(_net(), L=8, T=1.0, n=2)
    assert {"general", "general_ms", "inversion", "trivial", "edges", "coverage@0.1", "accuracy@0.1"} <= set(res)
    assert 0 <= res["general"] <= 1 and res["n"] == 2 and res["L"] == 8
    with pytest.raises(ValueError, match="family"):
        evaluate_unseen(_net(), L=8, family="torus")
    with pytest.raises(ValueError, match="n must"):
        evaluate_unseen(_net(), L=8, n=0)


# --- the physics features (isingviz.learn.general.features, numpy) against their definitions, recomputed naively ---


def _feature_case(B: int = 2, L: int = 7, S: int = 20, seed: int = 0):
    """Random 0/1 sets a (B, L, L) (zero diagonal), states s (B, L, S), increments r in (-1, 1), T (B,)."""
    rng = np.random.default_rng(seed)
    a = (rng.random((B, L, L)) < 0.4) * (1.0 - np.eye(L))
    return a, rng.uniform(-1, 1, (B, L, S)), np.tanh(rng.normal(0, 1, (B, L, S))), rng.uniform(0.5, 3.0, B)


def _row_cost(a_row, s, r_row, T):
    """The binary decoder's objective c_i(a) = sum_m (r_i(m) - tanh(a . s(m) / T))^2 of one row."""
    return float(((np.tanh(a_row @ s / T) - r_row) ** 2).sum())


def _toggled(a_row, *js):
    out = a_row.copy()
    for j in js:
        out[j] = 1.0 - out[j]
    return out


def test_residual_cost_is_the_squared_tanh_residual_of_doubled_fields():
    rng = np.random.default_rng(1)
    h, r = rng.normal(0, 3, (3, 4, 5, 30)), np.tanh(rng.normal(0, 1, (3, 4, 1, 30)))
    want = ((np.tanh(h) - r) ** 2).sum(-1)
    np.testing.assert_allclose(gf.residual_cost(2.0 * h, r), want, rtol=1e-12, atol=1e-13)


def test_move_costs_are_the_objective_after_one_or_two_toggles():
    a, s, r, T = _feature_case()
    c, C1, C2, comp = gf.move_costs(a, s, r, T, kappa=3)
    B, L, _ = a.shape
    assert C1.shape == (B, L, L) and C2.shape == (B, L, L, 3) and comp.shape == (B, L, 3)
    for b in range(B):
        for i in range(L):
            cost = functools.partial(lambda row, b, i: _row_cost(row, s[b], r[b, i], T[b]), b=b, i=i)
            assert c[b, i] == pytest.approx(cost(a[b, i]), rel=1e-12)
            want1 = [math.inf if j == i else cost(_toggled(a[b, i], j)) for j in range(L)]
            np.testing.assert_allclose(C1[b, i], want1, rtol=1e-12)
            assert list(comp[b, i]) == list(np.argsort(C1[b, i])[:3])  # the cheapest single toggles, in order
            for q, k in enumerate(comp[b, i]):
                want2 = [math.inf if j in (i, k) else cost(_toggled(a[b, i], j, k)) for j in range(L)]
                np.testing.assert_allclose(C2[b, i, :, q], want2, rtol=1e-12)


def test_max_marginal_llr_follows_its_definition():
    a, s, r, T = _feature_case(seed=2)
    tau, (B, L, S) = 0.1, s.shape
    costs = gf.move_costs(a, s, r, T, kappa=3)
    llr, llr1, best, sigma2 = gf.max_marginal_llr(a, s, r, T, tau, 3, costs)
    c, C1, C2, _ = costs
    F = np.minimum(C1, C2.min(-1))  # least cost with a_ij toggled, alone or with a compensating toggle
    np.testing.assert_allclose(best, np.minimum(c, F.min(-1)), rtol=1e-12)
    np.testing.assert_allclose(sigma2, np.maximum(best.sum(1) / (L * S), gf.noise_floor(tau)), rtol=1e-12)
    for b in range(B):
        for i in range(L):
            for j in range(L):
                if j == i:
                    assert llr[b, i, j] == llr1[b, i, j] == 0.0
                    continue
                K = min(c[b, i], min(C1[b, i, k] for k in range(L) if k not in (i, j)))  # a_ij kept
                sign = (2.0 * a[b, i, j] - 1.0) / (2.0 * sigma2[b])
                assert llr[b, i, j] == pytest.approx(sign * (F[b, i, j] - K), rel=1e-12, abs=1e-9)
                assert llr1[b, i, j] == pytest.approx(sign * (C1[b, i, j] - c[b, i]), rel=1e-12, abs=1e-9)
    again = gf.max_marginal_llr(a, s, r, T, tau, 3)  # computing the costs itself gives the same
    np.testing.assert_array_equal(again[0], llr)


def test_block_marginals_enumerate_each_rows_block_exactly():
    a, s, r, T = _feature_case(B=2, L=6, S=15, seed=3)
    tau, size, (B, L, S) = 0.1, 3, s.shape
    u = np.random.default_rng(4).random((B, L, L))
    logit, member, a_map = gf.block_marginals(a, u, s, r, T, tau, size)
    settings = [np.array([(k >> q) & 1 for q in range(size)], dtype=float) for k in range(2**size)]
    for b in range(B):
        blocks = [np.argsort(np.where(np.arange(L) == i, np.inf, u[b, i]))[:size] for i in range(L)]
        costs = []
        for i, blk in enumerate(blocks):
            row = a[b, i].copy()
            costs_i = []
            for v in settings:
                row[blk] = v
                costs_i.append(_row_cost(row, s[b], r[b, i], T[b]))
            costs.append(np.array(costs_i))
        sigma2 = max(sum(ci.min() for ci in costs) / (L * S), gf.noise_floor(tau))
        for i, blk in enumerate(blocks):
            np.testing.assert_array_equal(np.flatnonzero(member[b, i]), np.sort(blk))
            w = np.exp(-(costs[i] - costs[i].min()) / (2.0 * sigma2))
            on = np.array([[v[q] for v in settings] for q in range(size)])  # (size, 2^size)
            want = np.log(on @ w) - np.log((1.0 - on) @ w)
            np.testing.assert_allclose(logit[b, i, blk], want, rtol=1e-9, atol=1e-9)
            outside = np.setdiff1d(np.arange(L), blk)
            assert np.all(logit[b, i, outside] == 0.0) and np.array_equal(a_map[b, i, outside], a[b, i, outside])
            np.testing.assert_array_equal(a_map[b, i, blk], settings[int(np.argmin(costs[i]))])


def test_ridge_levels_solve_their_normal_equations():
    rng = np.random.default_rng(5)  # trajectories with increments r = tanh(noise), a few of them saturated
    x = np.empty((2, 6, 30))
    x[..., 0] = rng.uniform(-1, 1, (2, 6))
    for m in range(29):
        x[..., m + 1] = 0.1 * np.tanh(rng.normal(0, 1.5, (2, 6))) + 0.9 * x[..., m]
        if 4 <= m < 8:  # r = 1: saturated steps carry no weight
            x[0, 2, m + 1] = 0.1 + 0.9 * x[0, 2, m]
    x, T = gf.check_inputs(x, [2.0, 0.7], 0.1)
    r = gf.increments(x, 0.1)
    R = gf.ridge_rows(x, r, T)
    B, L, M = x.shape
    for n, name in enumerate(["plain", "eb0", "eb1", "fix0", "fix1"]):
        np.testing.assert_array_equal(R["levels"][..., n], R[name])
    keep = np.abs(r) <= 1.0 - gf.EPS
    rc = np.clip(r, -1.0 + gf.EPS, 1.0 - gf.EPS)
    w = np.where(keep, 1.0 - rc**2, 0.0)
    assert keep.sum() == keep.size - 4 and R["kept"][0, 2] == 1.0 - 4 / 29
    for b in range(B):
        for i in range(L):
            others = np.arange(L) != i
            D = w[b, i][:, None] * x[b, others, :-1].T  # (S, L - 1): weighted states of the other spins
            y = w[b, i] * T[b] * np.arctanh(rc[b, i])
            lams = {"eb0": R["sigma2"][b, i] / gf.PRIOR_VARS[0], "eb1": R["sigma2"][b, i] / gf.PRIOR_VARS[1]}
            lams |= {"fix0": gf.LAMBDAS[0], "fix1": gf.LAMBDAS[1]}
            for name, lam in lams.items():
                want = np.linalg.solve(D.T @ D + lam * np.eye(L - 1), D.T @ y)
                np.testing.assert_allclose(R[name][b, i, others], want, rtol=1e-8, atol=1e-10)
                assert R[name][b, i, i] == 0.0
            plain = np.linalg.lstsq(D, y, rcond=None)[0]
            np.testing.assert_allclose(R["plain"][b, i, others], plain, rtol=1e-7, atol=1e-9)
            dof = keep[b, i].sum() - (L - 1)
            resid = y - D @ plain
            assert R["sigma2"][b, i] == pytest.approx(max(resid @ resid / dof, gf.SIGMA2_FLOOR), rel=1e-8)


def test_a_batch_gives_what_its_instances_give_alone_and_torch_input_is_accepted():
    X, _ = _instances(9, 30, 3)
    T = np.array([0.5, 1.0, 4.0])
    net = _net()
    with torch.no_grad():
        whole = net(X, T, 0.1)
        alone = torch.cat([net(X[b : b + 1], T[b], 0.1) for b in range(3)])
        from_torch = net(torch.from_numpy(X), torch.from_numpy(T), 0.1)
    torch.testing.assert_close(whole, alone, rtol=0, atol=1e-6)
    torch.testing.assert_close(whole, from_torch, rtol=0, atol=0)


def test_feature_matmul_equals_numpys_on_both_routes():
    rng = np.random.default_rng(6)
    P = gf.subset_masks(7)  # read-only, as the block's products use it
    for S in (20, 2 * gf.NUMPY_MATMUL_MAX // (2**7 * 7)):  # numpy's route, then torch's
        v = rng.normal(size=(2, 3, 7, S))
        np.testing.assert_allclose(gf.matmul(P, v), np.matmul(P, v), rtol=1e-13, atol=1e-13)
        out = np.empty((2, 3, 2**7, S))
        assert gf.matmul(P, v, out=out) is out
        np.testing.assert_allclose(out, np.matmul(P, v), rtol=1e-13, atol=1e-13)


def test_training_after_a_prediction_of_the_same_size_works() -> None:
    """Cached index tensors first made during an inference-mode prediction must not break a later training step."""
    import isingviz.learn.general.net as G

    G._pair_index_t.cache_clear()
    gf._subset_masks_t.cache_clear()
    cfg = ModelConfig(L=7, M=20, arch="general", hidden=8, rounds=1)
    net = build_model(cfg)
    x = simulate(random_lattice(7, 6, seed=3), np.ones((2, 7)), 1.0, 0.1, 20)
    predict_edge_proba(net, x, 1.0, 0.1)  # fills the caches inside torch.inference_mode
    net.train()
    loss = -net(x, 1.0, 0.1)[..., 0].mean()
    loss.backward()  # raised "Inference tensors cannot be saved for backward" when the cache held them
    assert all(p.grad is not None for p in net.parameters() if p.requires_grad)
