"""``python -m isingviz reconstruct``: a user's recording in, the edge list with probabilities out."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from isingviz.cli.commands import main
from isingviz.dynamics import simulate
from isingviz.lattice import adjacency_to_pairs, random_lattice


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rec")
    A = random_lattice(10, 14, seed=5)
    s0 = np.where(np.random.default_rng(1).random((2, 10)) < 0.5, -1.0, 1.0)
    X = simulate(A, s0, T=1.0, tau=0.1, M=50)
    np.savez(folder / "runs.npz", X=X)
    np.savetxt(folder / "one.csv", X[1], delimiter=",")
    return folder, A


def run(capsys, *args):
    rc = main(["reconstruct", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def test_a_csv_recording_is_reconstructed_by_the_general_model(capsys, recording):
    folder, A = recording
    out = folder / "edges.csv"
    rc, text, err = run(capsys, folder / "one.csv", "--T", 1, "--tau", 0.1, "--out", out)
    assert rc == 0, err
    doc = json.loads(text)
    assert doc["method"] == "general" and doc["L"] == 10 and doc["M"] == 50
    rows = list(csv.DictReader(out.open()))
    pred = np.array([int(r["edge"]) for r in rows])
    assert np.mean(pred == adjacency_to_pairs(A)) >= 0.95
    rc, _, err = run(capsys, folder / "one.csv", "--T", 1, "--out", out)
    assert rc == 2 and err.startswith("error: edges.csv already exists") and "--overwrite" in err


def test_the_summary_says_whether_the_recording_supports_the_general_model(capsys, recording, tmp_path):
    folder, _ = recording
    rc, text, err = run(capsys, folder / "one.csv", "--T", 1)
    assert rc == 0, err
    doc = json.loads(text)
    assert doc["supported_by_the_recording"] is True and doc["answered_by"] == "network"
    rng = np.random.default_rng(7)
    A = random_lattice(10, 12, seed=4)
    X = simulate(A, rng.choice([-1.0, 1.0], (1, 10)), T=50.0, tau=0.1, M=50)[0]
    np.savetxt(tmp_path / "hot.csv", X + 1e-2 * rng.standard_normal(X.shape), delimiter=",")  # signal ~ 0.002
    rc, text, err = run(capsys, tmp_path / "hot.csv", "--T", 50)
    doc = json.loads(text)
    assert rc == 0 and doc["supported_by_the_recording"] is False and doc["answered_by"] == "exact posterior"
    assert doc["mean_entropy"] > 0.3  # a hot, noisy recording: the answer says it is unsure
    true = {tuple(e) for e in np.argwhere(np.triu(A, 1))}
    assert len(true & {tuple(e[:2]) for e in doc["edges"]}) >= len(doc["edges"]) / 2  # what it reads is mostly there
    rc, text, err = run(capsys, tmp_path / "hot.csv", "--T", 50, "--method", "binary_ml")
    assert rc == 0 and "supported_by_the_recording" not in json.loads(text)  # the gate is the general model's


def test_the_summary_says_when_a_noisy_recording_is_underdetermined(capsys, tmp_path):
    rng = np.random.default_rng(8)
    A = random_lattice(24, 30, seed=6)
    X = simulate(A, rng.choice([-1.0, 1.0], (1, 24)), T=1.0, tau=0.1, M=16)[0]  # 24 spins, 16 time points
    np.savetxt(tmp_path / "short.csv", X + 1e-3 * rng.standard_normal(X.shape), delimiter=",")
    rc, text, err = run(capsys, tmp_path / "short.csv", "--T", 1)
    assert rc == 0, err
    assert json.loads(text)["underdetermined"] is True
    np.savetxt(tmp_path / "clean.csv", X, delimiter=",")  # noise-free: Eq. 1 holds exactly, nothing to raise
    rc, text, err = run(capsys, tmp_path / "clean.csv", "--T", 1)
    assert rc == 0 and json.loads(text)["underdetermined"] is False


def test_any_method_on_an_npz_instance_with_a_json_edge_list(capsys, recording):
    folder, A = recording
    out = folder / "edges.json"
    rc, text, err = run(capsys, folder / "runs.npz", "--index", 1, "--method", "binary_ml", "--T", 1, "--out", out)
    assert rc == 0, err
    doc = json.loads(out.read_text())
    assert sorted(map(tuple, doc["edges"])) == sorted(zip(*np.nonzero(np.triu(A))))
    assert doc["about"]["instance"] == 1 and len(doc["pairs"]) == 45


def test_a_replica_recording_with_its_replica_count(capsys, tmp_path):
    A = random_lattice(8, 10, seed=2)
    s0 = np.random.default_rng(3).choice([-1.0, 1.0], 8)
    np.savetxt(tmp_path / "replicas.csv", simulate(A, s0, 1.0, 0.1, 50, mode="stochastic", replicas=1000, seed=4),
               delimiter=",")  # fmt: skip
    out = tmp_path / "edges.json"
    rc, text, err = run(capsys, tmp_path / "replicas.csv", "--method", "replica_ml", "--T", 1, "--replicas", 1000,
                        "--out", out)  # fmt: skip
    assert rc == 0, err
    doc = json.loads(out.read_text())
    assert doc["about"]["replicas"] == 1000 and doc["about"]["method"] == "replica_ml"
    pred = np.array([p["edge"] for p in doc["pairs"]])
    assert np.mean(pred == adjacency_to_pairs(A)) > np.mean(adjacency_to_pairs(A) == 0)  # reads more than "no edge"
    rc, _, err = run(capsys, tmp_path / "replicas.csv", "--method", "replica_ml", "--T", 1)
    assert rc == 2 and "needs --replicas" in err
    rc, _, err = run(capsys, tmp_path / "replicas.csv", "--T", 1, "--replicas", 0)
    assert rc == 2 and "replicas R must be" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "var"], "give --edges E"),
        (["--method", "binary_ml"], "needs --T"),
        (["--method", "cnn", "--T", "1"], "needs --model"),
        (["--method", "inversion", "--T", "1", "--model", "x.safetensors"], "--model goes with"),
        (["--T", "1", "--index", "5"], "between 0 and 1"),
        (["--T", "1", "--out", "edges.txt"], "must end in .csv or .json"),
        (["--method", "template", "--T", "1"], "known lattices"),
    ],
)
def test_bad_requests_get_one_error_line(capsys, recording, args, message):
    folder, _ = recording
    rc, _, err = run(capsys, folder / "runs.npz", *args)
    assert rc == 2 and message in err and err.count("\n") == 1 and err.startswith("error: ")
