"""Hostile flags and files given to the command line, one function per case, run in a limited child.

Each case calls ``isingviz.cli.main`` in the child's process (what ``python -m isingviz`` runs) with stdout and
stderr captured, and returns the exit code and what was printed; outputs go to ``<work>/out``, which must stay
empty (test_cli.py).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np

from isingviz.cli import main

from . import crafted as c
from .harness import ROOT

PAPER = ROOT / "models" / "paper_T0.4.safetensors"
GENERAL = ROOT / "models" / "general.safetensors"


def _run(*argv: object) -> dict:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return {"rc": rc, "stderr": err.getvalue(), "stdout": out.getvalue()}


def _out(w: Path, name: str) -> Path:
    (w / "out").mkdir(exist_ok=True)
    return w / "out" / name


def _file(w: Path, name: str, data: bytes) -> Path:
    path = w / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- simulate
def simulate_n_1e9(w: Path) -> dict:
    return _run("simulate", "--n", 10**9, "--L", 40, "--out", _out(w, "x.npz"))


def simulate_M_1e9(w: Path) -> dict:
    return _run("simulate", "--M", 10**9, "--out", _out(w, "x.npz"))


def simulate_replicas_1e9(w: Path) -> dict:  # used to be accepted silently (mean-field ignores replicas)
    return _run("simulate", "--replicas", 10**9, "--out", _out(w, "x.npz"))


def simulate_file_too_big(w: Path) -> dict:
    return _run("simulate", "--n", 10**7, "--L", 64, "--M", 2000, "--out", _out(w, "x.npz"))


def simulate_T_nan(w: Path) -> dict:  # argparse's own usage error: it keeps its usage line
    return _run("simulate", "--T", "nan", "--out", _out(w, "x.npz"))


def simulate_lattice_deep(w: Path) -> dict:
    lattice = _file(w, "deep.json", c.lattice_doc("[" * 100_000 + "]" * 100_000))
    return _run("simulate", "--lattice", lattice, "--out", _out(w, "x.npz"))


def simulate_lattice_infinity(w: Path) -> dict:
    lattice = _file(w, "inf.json", c.lattice_doc("[[0, Infinity]]"))
    return _run("simulate", "--lattice", lattice, "--out", _out(w, "x.npz"))


def simulate_lattice_edges_string(w: Path) -> dict:
    lattice = _file(w, "string.json", c.lattice_doc('"01"'))
    return _run("simulate", "--lattice", lattice, "--out", _out(w, "x.npz"))


# ---------------------------------------------------------------- train, train-general
def train_hidden_3e9(w: Path) -> dict:
    return _run("train", "--hidden", 3_000_000_000, "--out", _out(w, "m.safetensors"))


def train_channels_1e20(w: Path) -> dict:
    return _run("train", "--channels", 10**20, "--out", _out(w, "m.safetensors"))


def train_threads_negative(w: Path) -> dict:
    return _run("train", "--threads", -3, "--out", _out(w, "m.safetensors"))


def train_config_n_lattices_1e9(w: Path) -> dict:
    config = _file(w, "n_lattices.json", json.dumps({"dataset": {"n_lattices": 10**9}}).encode())
    return _run("train", "--config", config, "--out", _out(w, "m.safetensors"))


def train_config_float_1e9(w: Path) -> dict:
    config = _file(w, "float.json", b'{"dataset": {"n_lattices": 1e9}}')
    return _run("train", "--config", config, "--out", _out(w, "m.safetensors"))


def train_config_deep(w: Path) -> dict:
    config = _file(w, "deep.json", b'{"dataset": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    return _run("train", "--config", config, "--out", _out(w, "m.safetensors"))


def train_config_nan_with_bom(w: Path) -> dict:  # the BOM is read past; the NaN is what is refused
    config = _file(w, "nan.json", b'\xef\xbb\xbf{"dataset": {"T": NaN}}')
    return _run("train", "--config", config, "--out", _out(w, "m.safetensors"))


def train_init_hostile_model(w: Path) -> dict:
    model = _file(w, "hostile.safetensors", c.with_config(c.cnn_bytes(), channels=[1] * 40_000))
    return _run("train", "--init", model, "--out", _out(w, "m.safetensors"))


def train_general_batch_1e8(w: Path) -> dict:
    return _run("train-general", "--set", "batch_size=1e8", "--out", _out(w, "g.safetensors"))


def train_general_batch_int(w: Path) -> dict:
    return _run("train-general", "--set", "batch_size=100000000", "--out", _out(w, "g.safetensors"))


def train_general_batch_over_budget(w: Path) -> dict:
    return _run("train-general", "--set", "batch_size=65536", "--out", _out(w, "g.safetensors"))


def train_general_threads_negative(w: Path) -> dict:
    return _run("train-general", "--threads", -3, "--steps", 1, "--out", _out(w, "g.safetensors"))


# ---------------------------------------------------------------- evaluate, predict
def evaluate_hostile_general_model(w: Path) -> dict:
    model = _file(w, "general_M.safetensors", c.with_config(c.general_bytes(), M=10**7))
    return _run("evaluate", model, "--out", _out(w, "r.json"))


def evaluate_n_1e9(w: Path) -> dict:
    return _run("evaluate", GENERAL, "--n", 10**9, "--out", _out(w, "r.json"))


def _predict(w: Path, name: str, data: bytes, *more: object) -> dict:
    return _run("predict", PAPER, "--instance", _file(w, name, data), *more)


def predict_npz_bomb(w: Path) -> dict:
    return _predict(w, "bomb.npz", c.npz_bomb())


def predict_npz_0d(w: Path) -> dict:
    return _predict(w, "0d.npz", c.npz_of(X=np.float64(1.0)))


def predict_npz_complex(w: Path) -> dict:
    return _predict(w, "complex.npz", c.npz_of(X=np.ones((1, 12, 50), dtype=complex)))


def predict_npz_vector_T(w: Path) -> dict:
    return _predict(w, "vector_T.npz", c.npz_of(X=np.ones((1, 12, 50)), T=np.array([0.4, 0.5])))


def predict_npz_non_npy_member(w: Path) -> dict:
    return _predict(w, "non_npy.npz", c.npz_members({"X.npy": b"this is not an npy file"}))


def predict_npz_pickled_member(w: Path) -> dict:
    return _predict(w, "pickled.npz", c.npz_pickled_member())


def predict_npz_not_a_zip(w: Path) -> dict:
    return _predict(w, "pickle.npz", c.pickle_bytes(w / "pwned"))


def predict_npz_index_out_of_range(w: Path) -> dict:
    return _predict(w, "ok.npz", c.npz_of(X=np.zeros((2, 12, 50))), "--index", 10**6)


def predict_npz_nan_instance(w: Path) -> dict:
    return _predict(w, "nan.npz", c.npz_of(X=np.full((1, 12, 50), np.nan)))


def predict_s0_out_of_range(w: Path) -> dict:
    lattice = _file(w, "lattice.json", c.lattice_doc("[[0, 1]]", L="12"))
    return _run("predict", PAPER, "--lattice", lattice, "--s0", ",".join(["5"] * 12))
