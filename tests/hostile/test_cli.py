"""The command line under attack: every hostile flag, config file, lattice, model or instance file ends with exit
status 2 and one line ``error: <sentence>`` on stderr (argparse's own usage errors keep their usage line), in a
child limited to 2 GB of address space, within the hang guard; nothing is written and nothing is executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import cli_cases
from .harness import HANG_GUARD_S, MAX_RSS_MB, cases_of, run_group

EXPECTED: dict[str, str] = {
    "simulate_n_1e9": "--n (instances) must be an integer from 1 to 10,000,000, got 1,000,000,000",
    "simulate_M_1e9": "--M (time points) must be an integer from 2 to 2,000, got 1,000,000,000",
    "simulate_replicas_1e9": "--replicas must be an integer from 1 to 100,000, got 1,000,000,000",
    "simulate_file_too_big": "would make a 10.2 TB instance file; at most 1.0 GB can be read back",
    "simulate_lattice_deep": "lattice file is nested 100,001 levels deep; at most 64 are allowed",
    "simulate_lattice_infinity": "Infinity is not a number JSON allows",
    "simulate_lattice_edges_string": "'edges' must be a list of [i, j] pairs, got '01'",
    "train_hidden_3e9": "model hidden (dense width) must be an integer from 1 to 4,096, got 3,000,000,000",
    "train_channels_1e20": "each entry of model channels must be an integer from 1 to 1,024",
    "train_threads_negative": "threads must be an integer from 1 to 64, got -3",
    "train_config_n_lattices_1e9": "dataset n_lattices must be an integer from 0 to 10,000, got 1,000,000,000",
    "train_config_float_1e9": "dataset field 'n_lattices' has a bad value 1000000000.0 (int wanted)",
    "train_config_deep": "config file is nested 100,001 levels deep",
    "train_config_nan_with_bom": "NaN is not a number JSON allows",
    "train_init_hostile_model": "model channels must be a list of 1 to 8 integers, got a list of 40,000 entries",
    "train_general_batch_1e8": "field 'batch_size' has a bad value 100000000.0 (int wanted)",
    "train_general_batch_int": "batch_size must be an integer from 1 to 65,536, got 100,000,000",
    "train_general_batch_over_budget": "general-model training with batch_size 65,536 would need about",
    "train_general_threads_negative": "--threads must be an integer from 1 to 64, got -3",
    "evaluate_hostile_general_model": "model M (time points) must be an integer from 2 to 2,000",
    "evaluate_n_1e9": "--n (unseen lattices) must be an integer from 1 to 100,000",
    "predict_npz_bomb": "member 'X' of shape (562036736,) expands to 4.5 GB, over the limit",
    "predict_npz_0d": "X must have shape (B, L, M) or (L, M)",
    "predict_npz_complex": "member 'X' has dtype complex128; only real numbers",
    "predict_npz_vector_T": "T must be one number",
    "predict_npz_non_npy_member": "member 'X' is not a readable .npy array",
    "predict_npz_pickled_member": "member 'X' holds objects or records",
    "predict_npz_not_a_zip": "not an .npz file",
    "predict_npz_index_out_of_range": "--index must be an integer from -2 to 1, got 1,000,000",
    "predict_npz_nan_instance": "contains NaN or infinite values",
    "predict_s0_out_of_range": "--s0 entries must be numbers in [-1, 1]",
}
USAGE_ERRORS = {"simulate_T_nan": "error: argument --T: expected a finite number, got 'nan'"}


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict]]:
    work = tmp_path_factory.mktemp("hostile_cli")
    return work, run_group("tests.hostile.cli_cases", [*EXPECTED, *USAGE_ERRORS], work)


def test_every_case_of_the_module_is_checked() -> None:
    assert cases_of(cli_cases) == set(EXPECTED) | set(USAGE_ERRORS)


@pytest.mark.parametrize("case", list(EXPECTED))
def test_one_error_line_and_exit_status_2(outcome: tuple[Path, dict[str, dict]], case: str) -> None:
    work, results = outcome
    r = results[case]
    assert "type" not in r, r  # main() itself never raises
    done = r["returned"]
    lines = done["stderr"].splitlines()
    assert done["rc"] == 2 and len(lines) == 1 and lines[0].startswith("error: "), done
    assert EXPECTED[case] in lines[0], (EXPECTED[case], lines[0])
    assert "Traceback" not in done["stderr"] and "unexpected" not in lines[0] and str(work) not in lines[0]
    assert done["stdout"] == "" and r["seconds"] < HANG_GUARD_S and r["max_rss_mb"] < MAX_RSS_MB


@pytest.mark.parametrize("case", list(USAGE_ERRORS))
def test_argparse_usage_errors_keep_their_usage_line(outcome: tuple[Path, dict[str, dict]], case: str) -> None:
    done = outcome[1][case]["returned"]
    assert done["rc"] == 2 and done["stderr"].startswith("usage: ") and USAGE_ERRORS[case] in done["stderr"]


def test_nothing_was_written_or_executed(outcome: tuple[Path, dict[str, dict]]) -> None:
    work, _ = outcome
    assert not (work / "pwned").exists()
    assert list((work / "out").iterdir()) == []  # no output, no temporary file
