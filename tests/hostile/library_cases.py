"""Hostile inputs to the library, one function per case, run in a limited child by ``harness.run_group``.

Each case builds its crafted file in the work folder and hands it to the library the way the app or the command
line would; the parent checks how it ended (``EXPECTED`` in test_library.py). Cases that must succeed return
something small to compare.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from isingviz.data import DatasetSpec, build_dataset, distinct_initial_states
from isingviz.dynamics import simulate
from isingviz.files import read_npz
from isingviz.lattice import edges_of, load_lattice, random_lattice
from isingviz.learn.evaluate import predict_pairs, simulate_for_model
from isingviz.learn.store import load_model

from . import crafted as c


def _load(workdir: Path, name: str, data: bytes) -> None:
    path = workdir / f"{name}.safetensors"
    path.write_bytes(data)
    load_model(path)


# ---------------------------------------------------------------- model files: resource bombs that pass JSON
def model_channels_40k(w: Path) -> None:
    _load(w, "channels_40k", c.with_config(c.cnn_bytes(), channels=[1] * 40_000))


def model_channels_16mb(w: Path) -> None:  # ~100x more entries, as the 16 MB header cap allowed
    _load(w, "channels_4m", c.with_config(c.cnn_bytes(), channels=[1] * 4_000_000))


def model_channel_2_63(w: Path) -> None:
    _load(w, "channel_2_63", c.with_config(c.cnn_bytes(), channels=[2**63]))


def model_hidden_3e9(w: Path) -> None:
    _load(w, "hidden", c.with_config(c.cnn_bytes(), hidden=3_000_000_000))


def model_kernel_huge(w: Path) -> None:
    _load(w, "kernel", c.with_config(c.cnn_bytes(), kernel=10**9))


def model_parameters_over_limit(w: Path) -> None:  # every field in range, the product is not
    _load(w, "params", c.with_config(c.cnn_bytes(), channels=[1024, 1024], squeeze=0, hidden=4096, M=2000))


def general_M_1e7(w: Path) -> None:  # its weights do not depend on M: only the config says so
    _load(w, "general_M", c.with_config(c.general_bytes(), M=10**7))


def general_dataset_replicas(w: Path) -> None:
    _load(w, "general_replicas", c.with_dataset(c.general_bytes(), replicas=5 * 10**7))


def general_dataset_L_max(w: Path) -> None:
    _load(w, "general_L", c.with_dataset(c.general_bytes(), L_max=10**12))


def cnn_dataset_replicas(w: Path) -> None:
    _load(w, "cnn_replicas", c.with_dataset(c.cnn_bytes(), replicas=5 * 10**7, mode="stochastic"))


def cnn_dataset_noise_string(w: Path) -> None:
    _load(w, "cnn_noise", c.with_dataset(c.cnn_bytes(), noise="0.1"))


def cnn_dataset_L_1e12(w: Path) -> None:
    _load(w, "cnn_L", c.with_dataset(c.cnn_bytes(), L=10**12))


def cnn_dataset_lattice_strings(w: Path) -> None:
    _load(w, "cnn_lattices", c.with_dataset(c.cnn_bytes(), lattices=[[["0", "1"]]]))


def model_T_string(w: Path) -> None:
    _load(w, "T_string", c.with_doc(c.cnn_bytes(), T="hot"))


def model_history_strings(w: Path) -> None:
    _load(w, "history", c.with_doc(c.cnn_bytes(), history=[{"test_accuracy": "0.99"}]))


def model_metrics_string(w: Path) -> None:
    _load(w, "metrics", c.with_doc(c.cnn_bytes(), metrics={"trivial_accuracy": "high"}))


# ---------------------------------------------------------------- model files: JSON attacks
def model_metadata_deep(w: Path) -> None:
    _load(w, "deep", c.with_metadata_text(c.cnn_bytes(), "[" * 100_000 + "]" * 100_000))


def model_header_deep(w: Path) -> None:
    _load(w, "header_deep", c.with_raw_header(c.cnn_bytes(), b'{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"))


def model_metadata_duplicate(w: Path) -> None:
    text = json.dumps(c.parts(c.cnn_bytes())[0])
    _load(w, "dup", c.with_metadata_text(c.cnn_bytes(), text[:-1] + ', "T": 50.0}'))


def model_metadata_nan(w: Path) -> None:
    text = json.dumps(c.parts(c.cnn_bytes())[0]).replace('"T": 0.4', '"T": NaN')
    _load(w, "nan", c.with_metadata_text(c.cnn_bytes(), text))


def model_metadata_1e400(w: Path) -> None:
    text = json.dumps(c.parts(c.cnn_bytes())[0]).replace('"T": 0.4', '"T": 1e400')
    _load(w, "1e400", c.with_metadata_text(c.cnn_bytes(), text))


def model_metadata_bigint(w: Path) -> None:
    text = json.dumps(c.parts(c.cnn_bytes())[0]).replace('"T": 0.4', '"T": ' + "9" * 4000)
    _load(w, "bigint", c.with_metadata_text(c.cnn_bytes(), text))


def model_tensor_table_200k(w: Path) -> None:
    data = c.cnn_bytes()
    header = c.header_of(data)
    header.update({f"t{i}": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]} for i in range(200_000)})
    _load(w, "table", c.with_raw_header(data, json.dumps(header).encode()))


# ---------------------------------------------------------------- model files: not safetensors at all
def model_pickle(w: Path) -> None:
    _load(w, "pickle", c.pickle_bytes(w / "pwned"))


def model_torch_save(w: Path) -> None:
    _load(w, "torch_save", c.torch_save_bytes(w / "pwned"))


def model_header_length_huge(w: Path) -> None:
    _load(w, "huge_length", b"\xff" * 8 + b"{}" + b"\0" * 100)


def model_dev_zero_symlink(w: Path) -> None:
    link = w / "zero.safetensors"
    os.symlink("/dev/zero", link)
    load_model(link)


# ---------------------------------------------------------------- a model at the edge of every range can be used
def general_M_2000_is_usable(w: Path) -> float:
    path = w / "general_M_2000.safetensors"
    path.write_bytes(c.with_config(c.general_bytes(), M=2000))
    model = load_model(path)
    A = random_lattice(12, 20, seed=0)
    x = simulate_for_model(model, A, np.ones(12), T=1.0)  # (12, 2000): the model's own M
    return predict_pairs(model, x, A, T=1.0)["accuracy"]


# ---------------------------------------------------------------- lattice files
def _lattice(w: Path, name: str, data: bytes) -> list:
    path = w / f"{name}.json"
    path.write_bytes(data)
    return edges_of(load_lattice(path))


def lattice_deep(w: Path) -> None:
    _lattice(w, "deep", c.lattice_doc("[" * 100_000 + "]" * 100_000))


def lattice_infinity(w: Path) -> None:
    _lattice(w, "inf", c.lattice_doc("[[0, Infinity]]"))


def lattice_1e400(w: Path) -> None:
    _lattice(w, "1e400", c.lattice_doc("[[0, 1e400]]"))


def lattice_4000_digits(w: Path) -> None:
    _lattice(w, "digits", c.lattice_doc(f"[[0, {'9' * 4000}]]"))


def lattice_edges_string(w: Path) -> None:
    _lattice(w, "edges_string", c.lattice_doc('"01"'))


def lattice_edges_object(w: Path) -> None:
    _lattice(w, "edges_object", c.lattice_doc('{"0": 1}'))


def lattice_index_strings(w: Path) -> None:
    _lattice(w, "index_strings", c.lattice_doc('[["0", "1"]]'))


def lattice_index_bools(w: Path) -> None:
    _lattice(w, "index_bools", c.lattice_doc("[[false, true]]"))


def lattice_duplicate_keys(w: Path) -> None:
    _lattice(w, "dup", c.lattice_doc("[[0, 1]]", extra=', "L": 2'))


def lattice_too_big(w: Path) -> None:
    _lattice(w, "big", c.lattice_doc("[[0, 1]]", extra=', "pad": "' + "x" * 2_000_000 + '"'))


def lattice_bom(w: Path) -> list:  # tolerated
    return _lattice(w, "bom", b"\xef\xbb\xbf" + c.lattice_doc("[[0, 2]]"))


# ---------------------------------------------------------------- requests too large for memory or time
def simulate_n_1e9(w: Path) -> None:
    distinct_initial_states(40, 10**9, 0)


def simulate_M_1e9(w: Path) -> None:
    simulate(random_lattice(12, 25, 0), np.ones(12), 0.4, 0.1, 10**9)


def simulate_replicas_1e9(w: Path) -> None:
    simulate(random_lattice(12, 25, 0), np.ones(12), 0.4, 0.1, 50, mode="stochastic", replicas=10**9)


def simulate_over_budget(w: Path) -> None:  # every range respected, the product is not
    simulate(random_lattice(12, 25, 0), np.ones((200_000, 12)), 0.4, 0.1, 2000)


def dataset_n_lattices_1e9(w: Path) -> None:
    build_dataset(DatasetSpec(n_lattices=10**9))


def dataset_over_budget(w: Path) -> None:
    build_dataset(DatasetSpec(L=40, n_lattices=1000, n_train=5_000_000, n_test=0, n_general=0, M=2000))


def npz_bomb(w: Path) -> None:
    read_npz(c.npz_bomb(), ["X"])
