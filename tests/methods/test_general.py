"""The general model as a method on replica data: an instance a test cannot tell from no coupling says "no edge"."""

from __future__ import annotations

import numpy as np

from isingviz.experiments.unseen import evaluation_set
from isingviz.methods.general import QUIET_ALPHA, General
from isingviz.nocoupling import no_coupling_pvalue


def test_an_empty_lattice_of_replica_means_gets_no_edge_and_no_confidence():
    X, y = evaluation_set(10, 0.4, 0.0, 4, seed=2000, family="empty", replicas=1000)
    p_value = no_coupling_pvalue(X, 0.1)
    gm = General()
    p = gm.predict_proba(X, T=0.4, tau=0.1, replicas=1000)[..., 1]
    quiet = p_value > QUIET_ALPHA
    assert quiet.sum() >= 3  # a calibrated test at 1 %: the empty lattices are consistent with no coupling
    assert gm.results_["supported"] == (~quiet).tolist()
    assert (p[quiet] <= 0.3).all() and (p[quiet] >= 0.05).all()  # "no edge", at most the prior, never sure
    raw = General(gate=False).predict_proba(X, T=0.4, tau=0.1, replicas=1000)[..., 1]
    assert np.array_equal(p[~quiet], raw[~quiet])  # the others keep the head's answer


def test_coupled_replica_means_keep_the_heads_answer():
    X, y = evaluation_set(10, 1.0, 0.0, 4, seed=2001, replicas=1000)  # random lattices, strong couplings
    gm = General()
    p = gm.predict_proba(X, T=1.0, tau=0.1, replicas=1000)
    assert gm.results_["supported"] == [True] * 4
    assert np.array_equal(p, General(gate=False).predict_proba(X, T=1.0, tau=0.1, replicas=1000))
    assert ((p[..., 1] > 0.5) == y).mean() > (y == 0).mean()  # above the trivial guess


def test_dense_eq1_instances_are_answered_by_the_exact_posterior():
    from isingviz.methods.posterior import exact_posterior

    from .test_evidence import instances

    X, y = instances("complete", 12, 50.0, 1e-3, 4, 2)
    gm = General()
    p = gm.predict_proba(X, T=50.0, tau=0.1)[..., 1]
    assert gm.results_["answered_by"] == ["exact posterior"] * 4
    assert (((p > 0.5) == y).mean(1) == 1.0).all()
    assert np.allclose(p, np.clip(exact_posterior(X, 50.0, 0.1).p_edge, 0.05, 0.95))
    alone = General(use_head=False, gate=False).predict(X, T=50.0, tau=0.1)
    assert (alone == y).mean() < 0.8  # the network, trained on sparse lattices, misses edges of complete ones


def test_sparse_informative_instances_keep_the_networks_answer():
    from .test_evidence import instances

    X, y = instances("ring", 12, 1.0, 0.0, 3, 3)
    gm = General()
    p = gm.predict_proba(X, T=1.0, tau=0.1)
    assert gm.results_["answered_by"] == ["network"] * 3 and gm.results_["supported"] == [True] * 3
    assert ((p[..., 1] > 0.5) == y).mean() > 0.95
    X, _ = instances("ring", 16, 50.0, 1e-2, 2, 3)  # beyond the exact posterior's L: the gate's fallback
    gm.predict_proba(X, T=50.0, tau=0.1)
    assert "exact posterior" not in gm.results_["answered_by"]
    assert all(a in ("network", "prior posterior") for a in gm.results_["answered_by"])


def test_the_exact_posterior_can_be_left_out_and_its_threshold_moved():
    import pytest

    from .test_evidence import instances

    X, _ = instances("complete", 12, 50.0, 1e-3, 2, 2)
    gm = General(posterior=False)
    gm.predict_proba(X, T=50.0, tau=0.1)
    assert "exact posterior" not in gm.results_["answered_by"]  # the previous release: the gate's prior posterior
    never = General(dense=1.0, overrule=0.0)  # the density must reach 1: only the gate's rejections go to it
    never.predict_proba(X, T=50.0, tau=0.1)
    answered = [a == "exact posterior" for a in never.results_["answered_by"]]
    assert answered == [not kept for kept in never.results_["supported"]]
    with pytest.raises(ValueError, match="dense must be in"):
        General(dense=0.0)
    with pytest.raises(ValueError, match="overrule must be a probability"):
        General(overrule=0.5)


def test_overruled_flags_an_answer_with_a_pair_the_posterior_all_but_excludes():
    from isingviz.methods.general import overruled

    answer = np.array([[0.9, 0.2, 0.1], [0.9, 0.2, 0.1], [0.6, 0.4, 0.4]])
    post = np.array([[0.995, 0.5, 0.005], [0.5, 0.5, 0.995], [0.008, 0.5, 0.5]])
    # row 0: the posterior agrees at >= 99 %; row 1: sure of an edge the answer lacks; row 2: sure of no edge
    assert overruled(answer, post, 0.01).tolist() == [False, True, True]
    assert not overruled(answer, post, 0.0).any()  # 0: never


def test_noisy_low_t_instances_the_network_misreads_are_answered_by_the_exact_posterior():
    from isingviz.methods.general import OVERRULE, overruled
    from isingviz.methods.posterior import exact_posterior

    X, y = evaluation_set(12, 1.0, 1e-3, 8, seed=2000)  # random lattices, noise at low T: the network misreads some
    never = General(overrule=0.0)
    p_net = never.predict_proba(X, T=1.0, tau=0.1)[..., 1]
    post = exact_posterior(X, 1.0, 0.1)
    flagged = overruled(p_net, post.p_edge, OVERRULE) & np.array(never.results_["supported"])
    assert flagged.sum() >= 2
    gm = General()
    p = gm.predict_proba(X, T=1.0, tau=0.1)[..., 1]
    assert [a == "exact posterior" for a in gm.results_["answered_by"]] == (
        flagged | (np.array(never.results_["answered_by"]) == "exact posterior")
    ).tolist()
    assert np.allclose(p[flagged], np.clip(post.p_edge[flagged], 0.05, 0.95))
    assert np.array_equal(p[~flagged], p_net[~flagged])  # the others keep their answer
    acc = lambda q: ((q > 0.5) == y).mean(1)  # noqa: E731
    assert acc(p)[flagged].mean() > acc(p_net)[flagged].mean()  # where it overrules, it reads more pairs right


def test_replica_answers_beyond_the_exhaustive_decoder_are_tempered_not_reordered():
    import pytest
    import torch

    from isingviz.methods.general import REPLICA_TEMPERATURE

    X, y = evaluation_set(13, 1.0, 0.0, 3, seed=2002, replicas=1000)  # L 13: the replica decoder's local search
    hot = General().predict_proba(X, T=1.0, tau=0.1, replicas=1000)[..., 1]
    raw = General(replica_temperature=1.0).predict_proba(X, T=1.0, tau=0.1, replicas=1000)[..., 1]
    assert np.array_equal(hot > 0.5, raw > 0.5)  # the same answer: a temperature keeps every argmax
    z = torch.logit(torch.from_numpy(raw).clamp(1e-12, 1 - 1e-12)).numpy()
    # p is float32: near 1 its spacing is 6e-8, so 1 - p, and the logit inverted from it, is off by 6e-8 / (1 - p)
    # relative; below |z| = 8 (1 - p >= 3e-4) that moves the tempered value by < 5e-6 (at |z| = 12.9 by 2e-4)
    inside = np.abs(z) < 8
    assert np.allclose(hot[inside], 1 / (1 + np.exp(-z[inside] / REPLICA_TEMPERATURE)), atol=1e-5)
    assert np.abs(hot - 0.5).max() < np.abs(raw - 0.5).max()  # less sure
    small, _ = evaluation_set(12, 1.0, 0.0, 2, seed=2002, replicas=1000)  # the exhaustive decoder: as trained
    plain = General(replica_temperature=1.0)
    assert np.array_equal(General().predict_proba(small, T=1.0, tau=0.1, replicas=1000),
                          plain.predict_proba(small, T=1.0, tau=0.1, replicas=1000))  # fmt: skip
    eq1, _ = evaluation_set(13, 1.0, 0.0, 2, seed=2002)  # Eq. 1 data: no temperature
    assert np.array_equal(General().predict_proba(eq1, T=1.0, tau=0.1),
                          General(replica_temperature=5.0).predict_proba(eq1, T=1.0, tau=0.1))  # fmt: skip
    for bad in (0.5, 0.0, float("nan"), "2", 101.0):
        with pytest.raises(ValueError, match="replica_temperature must be"):
            General(replica_temperature=bad)


def test_twins_the_exact_posterior_answers_get_their_rows_mean_not_their_evidence_multiplied():
    from isingviz.methods.posterior import exact_posterior
    from isingviz.methods.twins import twin_groups, unresolved_pairs

    X, y = evaluation_set(12, 10.0, 1e-2, 6, seed=2000, family="matching")  # aligned pairs: groups of twins
    gm = General()
    p = gm.predict_proba(X, T=10.0, tau=0.1)[..., 1]
    post = exact_posterior(X, 10.0, 0.1)
    twins = unresolved_pairs(twin_groups(X))
    by_post = np.array(gm.results_["answered_by"]) == "exact posterior"
    assert (twins[by_post].any(axis=1)).sum() >= 2
    for b in np.flatnonzero(by_post):
        assert np.allclose(p[b, twins[b]], np.clip(post.p_rows[b, twins[b]], 0.05, 0.95))
        assert np.allclose(p[b, ~twins[b]], np.clip(post.p_edge[b, ~twins[b]], 0.05, 0.95))
    multiplied = np.where(by_post[:, None], post.p_edge, p)  # the release before, on the same instances
    edges = lambda q: ((q > 0.5) & twins).sum()  # noqa: E731
    assert edges(p) < edges(multiplied)  # fewer "edges" among twins, which are mostly not partners
    assert ((p > 0.5) == y).mean() > ((multiplied > 0.5) == y).mean()


def test_complete_lattices_above_the_exact_posteriors_l_are_answered_by_the_twin_quotient():
    import pytest

    from isingviz.methods.quotient import quotient_posterior

    from .test_evidence import instances

    X, y = instances("complete", 24, 1.0, 1e-3, 3, 4)
    gm = General()
    p = gm.predict_proba(X, T=1.0, tau=0.1)[..., 1]
    assert gm.results_["answered_by"] == ["twin quotient"] * 3
    assert (((p > 0.5) == y).mean(1) == 1.0).all()
    assert np.allclose(p, np.clip(quotient_posterior(X, 1.0, 0.1).p_edge, 0.05, 0.95))
    never = General(quotient_dense=None)
    before = never.predict(X, T=1.0, tau=0.1)
    assert "twin quotient" not in never.results_["answered_by"] and (before == y).mean() < 0.5  # the network: sparse
    X, _ = instances("ring", 24, 1.0, 0.0, 2, 3)  # clean and sparse: no twins, no quotient
    gm.predict_proba(X, T=1.0, tau=0.1)
    assert "twin quotient" not in gm.results_["answered_by"]
    for bad in (0.0, 1.5, "high"):
        with pytest.raises(ValueError, match="quotient_dense must be"):
            General(quotient_dense=bad)
