"""The library under attack: every crafted file or request of the issue (and the class it stands for) ends in one
clear ``ValueError`` sentence, in a child limited to 2 GB of address space, within the hang guard, and nothing it
carries is executed. One child runs the whole group (``harness.run_group``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import library_cases
from .harness import HANG_GUARD_S, assert_refused, cases_of, run_group

EXPECTED: dict[str, tuple[str, ...]] = {
    "model_channels_40k": ("model channels must be a list of 1 to 8 integers", "40,000 entries"),
    "model_channels_16mb": ("model channels must be a list of 1 to 8 integers", "4,000,000 entries"),
    "model_channel_2_63": ("each entry of model channels must be an integer from 1 to 1,024",),
    "model_hidden_3e9": ("model hidden (dense width) must be an integer from 1 to 4,096", "3,000,000,000"),
    "model_kernel_huge": ("model kernel must be an integer from 1 to 63",),
    "model_parameters_over_limit": ("parameters; at most 12,000,000 are allowed",),
    "general_M_1e7": ("model M (time points) must be an integer from 2 to 2,000", "10,000,000"),
    "general_dataset_replicas": ("not a general model's dataset", "unknown general train config fields 'replicas'"),
    "general_dataset_L_max": ("L_max must be an integer from 3 to 64",),
    "cnn_dataset_replicas": ("dataset replicas must be an integer from 1 to 100,000", "50,000,000"),
    "cnn_dataset_noise_string": ("field 'noise' has a bad value '0.1' (a finite number wanted)",),
    "cnn_dataset_L_1e12": ("dataset L (spins) must be an integer from 2 to 64", "1,000,000,000,000"),
    "cnn_dataset_lattice_strings": ("dataset lattices #0: edge #0 must be a pair [i, j] of integer spin indices",),
    "model_T_string": ("metadata 'T' must be a finite number > 0, got 'hot'",),
    "model_history_strings": ("'history' record #0 has 'test_accuracy' = '0.99'; numbers only",),
    "model_metrics_string": ("metric 'trivial_accuracy' must be a finite number, got 'high'",),
    "model_metadata_deep": ("metadata is nested 100,000 levels deep; at most 64 are allowed",),
    "model_header_deep": ("header is nested 100,001 levels deep; at most 64 are allowed",),
    "model_metadata_duplicate": ("the key 'T' appears twice",),
    "model_metadata_nan": ("NaN is not a number JSON allows",),
    "model_metadata_1e400": ("the number 1e400 is out of range",),
    "model_metadata_bigint": ("an integer with 4,000 digits is too long",),
    "model_tensor_table_200k": ("lists 200,008 tensors; a model has at most 1,000",),
    "model_pickle": ("pickle / torch.save file; only .safetensors model files are accepted",),
    "model_torch_save": ("pickle / torch.save file; only .safetensors model files are accepted",),
    "model_header_length_huge": ("header length", "is absurd"),
    "model_dev_zero_symlink": ("no model file named 'zero.safetensors'",),
    "lattice_deep": ("lattice file is nested 100,001 levels deep",),
    "lattice_infinity": ("Infinity is not a number JSON allows",),
    "lattice_1e400": ("the number 1e400 is out of range",),
    "lattice_4000_digits": ("an integer with 4,000 digits is too long",),
    "lattice_edges_string": ("'edges' must be a list of [i, j] pairs, got '01'",),
    "lattice_edges_object": ("'edges' must be a list of [i, j] pairs, got an object of 1 entry",),
    "lattice_index_strings": ("edge #0 must be a pair [i, j] of integer spin indices",),
    "lattice_index_bools": ("edge #0 must be a pair [i, j] of integer spin indices",),
    "lattice_duplicate_keys": ("the key 'L' appears twice",),
    "lattice_too_big": ("over the limit of 1.0 MB",),
    "simulate_n_1e9": ("number of initial states must be an integer from 0 to 10,000,000",),
    "simulate_M_1e9": ("number of time steps M must be an integer from 2 to 2,000",),
    "simulate_replicas_1e9": ("replicas must be an integer from 1 to 100,000",),
    "simulate_over_budget": ("simulating 200,000 instances of L = 12, M = 2000 would need about", "over the budget"),
    "dataset_n_lattices_1e9": ("dataset n_lattices must be an integer from 0 to 10,000",),
    "dataset_over_budget": ("a dataset of 5,000,000 instances of L = 40, M = 2000 would need about",),
    "npz_bomb": ("member 'X' of shape (562036736,) expands to 4.5 GB, over the limit",),
}
SUCCEEDS = ("general_M_2000_is_usable", "lattice_bom")


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict]]:
    work = tmp_path_factory.mktemp("hostile_library")
    return work, run_group("tests.hostile.library_cases", [*EXPECTED, *SUCCEEDS], work)


def test_every_case_of_the_module_is_checked() -> None:
    assert cases_of(library_cases) == set(EXPECTED) | set(SUCCEEDS)


@pytest.mark.parametrize("case", list(EXPECTED))
def test_refused_with_one_sentence(outcome: tuple[Path, dict[str, dict]], case: str) -> None:
    work, results = outcome
    assert_refused(results[case], *EXPECTED[case])
    assert str(work) not in results[case]["message"], "no server path in a message"
    assert results[case]["seconds"] < HANG_GUARD_S


def test_nothing_was_executed(outcome: tuple[Path, dict[str, dict]]) -> None:
    work, results = outcome
    assert results["model_pickle"]["type"] == "ValueError" and results["model_torch_save"]["type"] == "ValueError"
    assert not (work / "pwned").exists()


def test_a_model_at_the_edge_of_every_range_loads_and_is_usable(outcome: tuple[Path, dict[str, dict]]) -> None:
    _, results = outcome
    r = results["general_M_2000_is_usable"]
    assert "type" not in r, r
    assert 0.0 <= r["returned"] <= 1.0 and r["seconds"] < HANG_GUARD_S


def test_a_utf8_bom_is_tolerated(outcome: tuple[Path, dict[str, dict]]) -> None:
    assert outcome[1]["lattice_bom"]["returned"] == [[0, 2]]
