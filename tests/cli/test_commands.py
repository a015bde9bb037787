"""The command line end to end at a tiny size: simulate -> train -> evaluate -> predict, fine-tuning, refusals."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys

import numpy as np
import pytest

import isingviz.cli.commands as cli
from isingviz.cli.commands import main
from isingviz.lattice import from_edges, save_lattice
from isingviz.learn.store import load_model

ROOT = pathlib.Path(__file__).resolve().parents[2]
TINY = {
    "dataset": {"L": 6, "M": 10, "n_lattices": 4, "n_train": 160, "n_test": 20, "n_general_lattices": 2,
                "n_general": 20, "family_params": {"n_edges": 5}},
    "model": {"channels": [4], "squeeze": 4, "hidden": 16},
    "train": {"epochs": 2, "batch_size": 32, "threads": 1},
}  # fmt: skip


def run(capsys: pytest.CaptureFixture, *argv: object) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    d = tmp_path_factory.mktemp("cli")
    (d / "tiny.json").write_text(json.dumps(TINY))
    return d


@pytest.fixture(scope="module")
def trained(workdir: pathlib.Path) -> tuple[pathlib.Path, dict]:
    """One tiny model trained through the CLI (shared: training is the slow step)."""
    path = workdir / "base.safetensors"
    assert main(["train", "--config", str(workdir / "tiny.json"), "--seed", "4", "--out", str(path), "--quiet"]) == 0
    return path, load_model(path).metadata


def test_simulate_writes_instances(capsys, tmp_path) -> None:
    out = tmp_path / "inst.npz"
    rc, text, _ = run(capsys, "simulate", "--L", 6, "--edges", 5, "--n", 30, "--M", 10, "--T", 0.8, "--out", out)
    assert rc == 0 and last_json(text)["shape"] == [30, 6, 10] and last_json(text)["n_edges"] == 5
    with np.load(out) as f:
        X, s0, A = f["X"], f["s0"], f["A"]
        assert (float(f["T"]), float(f["tau"]), int(f["M"])) == (0.8, 0.1, 10)
    assert X.shape == (30, 6, 10) and np.array_equal(X[:, :, 0], s0)
    assert len({r.tobytes() for r in s0}) == 30 and set(np.unique(s0)) == {-1, 1}
    assert np.array_equal(A, A.T) and A.sum() == 10


def test_simulate_from_lattice_file(capsys, tmp_path) -> None:
    A = from_edges(5, [[0, 1], [1, 2], [3, 4]])
    save_lattice(tmp_path / "lat.json", A)
    args = ("simulate", "--lattice", tmp_path / "lat.json", "--n", 8, "--M", 6, "--out", tmp_path / "x.npz")
    assert run(capsys, *args)[0] == 0
    with np.load(tmp_path / "x.npz") as f:
        assert np.array_equal(f["A"], A) and f["X"].shape == (8, 5, 6)


def test_train_writes_a_self_describing_model(trained) -> None:
    path, meta = trained
    assert meta["T"] == 0.4 and meta["name"] == "base" and len(meta["history"]) == 2
    assert len(meta["dataset"]["lattices"]) == 4 and meta["dataset"]["seed"] == 4
    m = meta["metrics"]
    for key in ("accuracy", "trivial_accuracy", "best_epoch", "stopped", "seconds", "n_parameters", "threads"):
        assert key in m
    assert 0 <= m["accuracy"] <= 1 and m["general"]["n_instances"] == 20 and m["threads"] == 1
    assert m["stopped"] == "completed" and m["n_parameters"] > 0


def test_evaluate_prints_and_writes_json(capsys, trained, tmp_path) -> None:
    out = tmp_path / "results.json"
    args = ("evaluate", trained[0], "--n-test", 40, "--n-general", 20, "--general-lattices", 2, "--out", out)
    rc, text, _ = run(capsys, *args)
    res = last_json(text)
    assert rc == 0 and res == json.loads(out.read_text())
    assert res["test"]["n_instances"] == 40 and res["general"]["n_lattices"] == 2
    assert 0 <= res["test"]["accuracy"] <= 1 and res["model"] == "base"


def test_predict_from_lattice_and_from_instance(capsys, trained, tmp_path) -> None:
    path, meta = trained
    A = from_edges(6, meta["dataset"]["lattices"][0])
    save_lattice(tmp_path / "lat.json", A)
    rc, text, _ = run(capsys, "predict", path, "--lattice", tmp_path / "lat.json", "--s0-seed", 3)
    res = last_json(text)
    assert rc == 0 and len(res["pairs"]) == 15 and res["T"] == 0.4
    assert res["trivial_accuracy"] == pytest.approx(10 / 15) and 0 <= res["accuracy"] <= 1
    assert sum(p["true"] for p in res["pairs"]) == 5
    rc, text, _ = run(capsys, "predict", path, "--lattice", tmp_path / "lat.json", "--s0=-+-+-+", "--T", 3)
    assert rc == 0 and last_json(text)["s0"] == [-1, 1, -1, 1, -1, 1] and last_json(text)["T"] == 3
    np.savez(tmp_path / "bare.npz", X=np.zeros((2, 6, 10)))  # no lattice stored: predictions only
    rc, text, _ = run(capsys, "predict", path, "--instance", tmp_path / "bare.npz", "--index", 1)
    res = last_json(text)
    assert rc == 0 and res["accuracy"] is None and all(p["true"] is None for p in res["pairs"])
    run(capsys, "simulate", "--L", 6, "--edges", 5, "--n", 4, "--M", 10, "--out", tmp_path / "inst.npz")
    rc, text, _ = run(capsys, "predict", path, "--instance", tmp_path / "inst.npz", "--index", 2)
    assert rc == 0 and last_json(text)["n_true_edges"] == 5  # the instance file's lattice is the truth


def test_fine_tune_reuses_the_base_lattices(capsys, trained, tmp_path) -> None:
    base, meta = trained
    out = tmp_path / "fine.safetensors"
    rc, text, _ = run(capsys, "train", "--init", base, "--T", 5, "--epochs", 1, "--threads", 1, "--out", out, "--quiet")
    assert rc == 0 and last_json(text)["metrics"]["init"] == "base"
    fine = load_model(out).metadata
    assert fine["T"] == 5 and fine["dataset"]["lattices"] == meta["dataset"]["lattices"]
    assert fine["model_config"] == meta["model_config"]
    new = tmp_path / "new.safetensors"
    args = ("train", "--init", base, "--new-lattices", "--seed", 9, "--epochs", 1, "--threads", 1, "--quiet")
    assert run(capsys, *args, "--out", new)[0] == 0
    assert load_model(new).metadata["dataset"]["lattices"] != meta["dataset"]["lattices"]
    rc, _, err = run(capsys, "train", "--init", base, "--hidden", 8, "--out", tmp_path / "bad.safetensors")
    assert rc == 2 and "error:" in err and "hidden" in err


def test_existing_out_is_refused(capsys, trained, workdir) -> None:
    path = trained[0]
    before = path.read_bytes()
    rc, _, err = run(capsys, "train", "--config", workdir / "tiny.json", "--out", path)
    assert rc == 2 and err.startswith("error:") and "already exists" in err and path.read_bytes() == before


@pytest.mark.parametrize(
    "argv, message",
    [
        (["simulate", "--L", "6", "--edges", "99", "--out", "{tmp}/x.npz"], "n_edges"),
        (["simulate", "--family", "ring", "--edges", "3", "--out", "{tmp}/x.npz"], "--edges"),
        (["train", "--epochs", "many", "--out", "{tmp}/m.safetensors"], "invalid int"),
        (["train", "--config", "{tmp}/missing.json", "--out", "{tmp}/m.safetensors"], "does not exist"),
        (["evaluate", "{tmp}/missing.safetensors"], "no model file"),
        (["predict", "{tmp}/missing.safetensors"], "required"),
    ],
)
def test_bad_input_is_an_error_not_a_traceback(capsys, tmp_path, argv, message) -> None:
    rc, _, err = run(capsys, *[a.format(tmp=tmp_path) for a in argv])
    assert rc == 2 and "error:" in err and message in err and "Traceback" not in err


def test_predict_needs_a_lattice_to_simulate(capsys, trained) -> None:
    rc, _, err = run(capsys, "predict", trained[0], "--s0-seed", 1)
    assert rc == 2 and err.startswith("error:") and "--lattice" in err


def test_ctrl_c_still_saves_the_best_model(capsys, workdir, tmp_path, monkeypatch) -> None:
    real_train = cli.train

    def interrupted_train(*args, progress, **kwargs):
        def on_progress(ev: dict) -> None:
            if ev["kind"] == "batch" and ev["batch"] == 1:
                signal.raise_signal(signal.SIGINT)  # what Ctrl-C does
            progress(ev)

        return real_train(*args, progress=on_progress, **kwargs)

    monkeypatch.setattr(cli, "train", interrupted_train)
    out = tmp_path / "stopped.safetensors"
    rc, text, err = run(capsys, "train", "--config", workdir / "tiny.json", "--epochs", 3, "--out", out, "--quiet")
    assert rc == 0 and "best model so far" in err
    assert last_json(text)["metrics"]["stopped"] == "stop flag"
    assert load_model(out).metadata["metrics"]["best_epoch"] == 1


GENERAL_TINY = ["--set", "L_min=6", "--set", "L_max=8", "--set", "M_min=20", "--set", "M_max=30",
                "--set", "batch_size=4", "--set", "n_eval=8", "--threads", 1, "--quiet"]  # fmt: skip


@pytest.fixture(scope="module")
def general(workdir: pathlib.Path) -> pathlib.Path:
    """A general model trained for 2 steps through the CLI."""
    path = workdir / "gen.safetensors"
    assert main(["train-general", "--steps", "2", "--seed", "3", *map(str, GENERAL_TINY), "--out", str(path)]) == 0
    return path


def test_train_general_writes_a_loadable_self_describing_model(capsys, general) -> None:
    m = load_model(general)
    assert m.is_general and m.name == "gen" and m.metadata["dataset"]["steps"] == 2
    assert m.metadata["dataset"]["L_max"] == 8 and m.metadata["dataset"]["seed"] == 3
    assert m.metadata["metrics"]["steps_done"] == 2 and m.metadata["metrics"]["stopped"] == "completed"
    notes = m.metadata["notes"]
    assert "python -m isingviz train-general --steps 2 --threads 1 --seed 3 --lr 0.002 --set L_min=6" in notes
    assert m.predict_proba(np.zeros((7, 15)) + 0.1, T=1.0).shape == (21, 2)  # any L


def test_train_general_refuses_overwrite_and_bad_settings(capsys, general, trained, tmp_path) -> None:
    before = general.read_bytes()
    rc, _, err = run(capsys, "train-general", "--steps", 2, *GENERAL_TINY, "--out", general)
    assert rc == 2 and "already exists" in err and "--overwrite" in err and general.read_bytes() == before
    out = tmp_path / "g.safetensors"
    for bad, message in ((["--set", "steps=3"], "--steps"), (["--set", "width=3"], "unknown field"),
                         (["--set", "L_max=big"], "number"), (["--set", "L_max=2"], "L_max must be")):  # fmt: skip
        rc, _, err = run(capsys, "train-general", "--steps", 2, *bad, "--out", out)
        assert rc == 2 and message in err and "Traceback" not in err and not out.exists()
    rc, _, err = run(capsys, "train-general", "--steps", 2, "--init", trained[0], "--out", out)  # a CNN
    assert rc == 2 and "must be a general model" in err and not out.exists()


def test_train_general_ctrl_c_saves_the_best_model(capsys, tmp_path, monkeypatch) -> None:
    real = cli.train_and_save_general

    def interrupted(*args, progress, **kwargs):
        def on_progress(ev: dict) -> None:
            if ev["kind"] == "batch":  # every 10 steps
                signal.raise_signal(signal.SIGINT)  # what Ctrl-C does
            progress(ev)

        return real(*args, progress=on_progress, **kwargs)

    monkeypatch.setattr(cli, "train_and_save_general", interrupted)
    out = tmp_path / "stopped.safetensors"
    rc, text, err = run(capsys, "train-general", "--steps", 40, *GENERAL_TINY, "--out", out)
    assert rc == 0 and "best model so far" in err
    assert last_json(text)["metrics"]["stopped"] == "stop flag" and last_json(text)["metrics"]["steps_done"] == 10
    assert "--stop-after-steps 10" in load_model(out).metadata["notes"]


def test_evaluate_a_general_model_on_unseen_lattices(capsys, general, trained) -> None:
    rc, text, _ = run(capsys, "evaluate", general, "--L", 8, "--n", 3, "--T", 2, "--family", "ring")
    res = last_json(text)
    assert rc == 0 and res["model"] == "gen" and (res["L"], res["n"], res["T"], res["family"]) == (8, 3, 2, "ring")
    assert 0 <= res["general"] <= 1 and 0 <= res["inversion"] <= 1 and res["trivial"] == pytest.approx(1 - 8 / 28)
    assert "coverage@0.1" in res and res["general_ms"] > 0
    rc, _, err = run(capsys, "evaluate", trained[0], "--L", 8)
    assert rc == 2 and "general model" in err


@pytest.mark.parametrize("command", [[], ["simulate"], ["train"], ["train-general"], ["evaluate"], ["predict"]])
def test_help_teaches(capsys, command) -> None:
    rc, text, _ = run(capsys, *command, "--help")
    assert rc == 0 and "usage: isingviz" in text and "isingviz " in text.split("usage:")[1]
    if command:
        assert "example" in text


def test_python_m_isingviz_help() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-m", "isingviz", "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    for command in ("simulate", "train", "train-general", "evaluate", "predict"):
        assert command in proc.stdout
