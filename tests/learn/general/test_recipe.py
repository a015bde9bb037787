"""The general model's training recipe: config <-> recipe arguments, the reproduction command the CLI parses back."""

from __future__ import annotations

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


@pytest.mark.parametrize("steps", [0, -3, 2.5, True])
def test_recipe_config_refuses_bad_steps(steps) -> None:
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        recipe_config(steps)


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
