"""The general model's training recipe: config <-> recipe arguments, the reproduction command the CLI parses back."""

from __future__ import annotations

import shlex

import pytest

from isingviz.cli.commands import build_parser
from isingviz.cli.settings import _general_overrides
from isingviz.learn.general.recipe import RECIPE_FIELDS, recipe_config, recipe_overrides, reproduce_command
from isingviz.learn.general.train import GeneralTrainConfig


def test_recipe_config_and_overrides_round_trip() -> None:
    tc = recipe_config(400, seed=3, lr=1e-3, overrides={"L_max": 16, "noise_fraction": 0.25})
    assert (tc.steps, tc.seed, tc.lr, tc.steps_per_epoch) == (400, 3, 1e-3, 20)  # a record every max(10, steps // 20)
    assert recipe_overrides(tc) == {"L_max": 16, "noise_fraction": 0.25}
    assert recipe_config(5).steps_per_epoch == 10 and recipe_overrides(recipe_config(5)) == {}
    assert not set(recipe_overrides(tc)) & set(RECIPE_FIELDS)


@pytest.mark.parametrize("steps", [0, -3, 2.5, True, 10**12])
def test_recipe_config_refuses_bad_steps(steps) -> None:
    with pytest.raises(ValueError, match=r"steps \(Adam steps in all\) must be an integer from 1 to 10,000,000"):
        recipe_config(steps)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"batch_size": 10**8}, "batch_size must be an integer from 1 to 65,536"),
        ({"batch_size": 65_536, "L_min": 3}, "over the budget"),  # within range, but one step would not fit
        ({"n_eval": 10**7}, "n_eval must be an integer"),
        ({"M_max": 10**7}, "M_max must be an integer from 3 to 2,000"),
        ({"T_max": 1e300}, "T_max must be a finite number"),
        ({"degree_max": -1.0}, "degree_max must be a finite number"),
        ({"families": ["random", "hexagonal"]}, "families must be a non-empty list of random, erdos_renyi"),
        ({"families": []}, "families must be a non-empty list"),
        ({"families": "random"}, r"'families' has a bad value 'random' \(a list of str wanted\)"),
    ],
)
def test_recipe_config_refuses_what_would_not_fit(overrides, message) -> None:
    with pytest.raises(ValueError, match=message):
        recipe_config(10, overrides=overrides)


def test_reproduce_command_parses_back_to_the_same_config() -> None:
    overrides = {"L_max": 16, "T_min": 0.5}
    cmd = reproduce_command("g.safetensors", 300, 2, 7, 5e-4, "base.safetensors", overrides, stopped_at=90)
    argv = cmd.split()[3:]  # after "python -m isingviz"
    a = build_parser().parse_args(argv)
    assert (a.steps, a.threads, a.seed, a.lr, a.init, a.stop_after_steps, a.out) == (
        300, 2, 7, 5e-4, "base.safetensors", 90, "g.safetensors"
    )  # fmt: skip
    again = recipe_config(a.steps, a.seed, a.lr, _general_overrides(a.set))
    assert again == recipe_config(300, 7, 5e-4, overrides) and isinstance(again, GeneralTrainConfig)


def test_a_family_mix_parses_back_from_the_quoted_command() -> None:
    mix = ["random", "random", "complete", "complete_bipartite", "empty"]
    overrides = {"degree_max": 25.0, "families": mix}
    cmd = reproduce_command("g.safetensors", 300, 2, 7, 5e-4, None, overrides)
    assert '\'families=["random","random","complete","complete_bipartite","empty"]\'' in cmd
    a = build_parser().parse_args(shlex.split(cmd)[3:])  # as a shell would split it
    again = recipe_config(a.steps, a.seed, a.lr, _general_overrides(a.set))
    assert again.families == tuple(mix) and again == recipe_config(300, 7, 5e-4, overrides)
    assert recipe_overrides(again) == {"degree_max": 25.0, "families": tuple(mix)}
    assert GeneralTrainConfig.from_dict(again.to_dict()) == again  # a model file's metadata reads back


def test_a_family_list_of_numbers_is_refused_with_its_type() -> None:
    with pytest.raises(ValueError, match=r"'families' has a bad value .* \(a list of str wanted\)"):
        GeneralTrainConfig.from_dict({"families": [1, 2]})
