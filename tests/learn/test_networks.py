import dataclasses
import math

import numpy as np
import pytest
import torch

from isingviz.dynamics import simulate
from isingviz.lattice import random_lattice
from isingviz.learn.cnn import encode
from isingviz.learn.model_config import ARCHITECTURES, ENCODINGS, ModelConfig
from isingviz.learn.networks import build_model


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_output_shape_and_normalisation(arch, encoding):
    cfg = ModelConfig(L=7, M=12, arch=arch, encoding=encoding, channels=(4, 6), hidden=16, squeeze=3)
    X = simulate(random_lattice(7, 8, 0), np.ones((5, 7)), 0.5, 0.1, 12)
    x = encode(X, encoding, 0.1)
    assert x.shape == (5, cfg.in_channels, 7, 12) and x.dtype == torch.float32
    logp = build_model(cfg)(x)
    assert logp.shape == (5, 21, 2)
    assert torch.allclose(logp.exp().sum(-1), torch.ones(5, 21), atol=1e-5)


def test_saturation_encoding_keeps_low_T_signal():
    """At low T, 1 - |s| falls to ~1e-9: float32 rounds it away, the log channel (computed in float64) keeps it."""
    A = random_lattice(12, 25, 0)
    X = simulate(A, np.random.default_rng(0).choice([-1.0, 1.0], (20, 12)), 0.4)
    gap = 1 - np.abs(X)
    tiny = (gap > 1e-15) & (gap < 1e-8)
    assert tiny.sum() > 10
    raw = encode(X, "raw", 0.1)[:, 0].numpy()
    sat = encode(X, "saturation", 0.1)[:, 1].numpy()
    assert np.all(np.abs(raw[tiny]) == 1.0)  # invisible in float32
    assert np.allclose(sat[tiny], -np.log10(gap[tiny]) / 8, rtol=1e-5)  # kept, and distinct levels
    assert len(np.unique(np.round(sat[tiny], 3))) > 3


def test_decay_encoding_removes_free_decay():
    X = simulate(np.zeros((5, 5)), np.ones((3, 5)), 1.0, 0.1, 20)
    x = encode(X + 1e-3 * np.arange(20), "decay", 0.1)
    assert torch.allclose(x[:, 0, :, 0], torch.zeros(3, 5), atol=1e-5)
    assert torch.allclose((x**2).mean(dim=(1, 2, 3)), torch.ones(3), atol=1e-4)


def test_config_roundtrip_and_refusals():
    cfg = ModelConfig(L=9, channels=(8, 16, 4))
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown model config fields"):
        ModelConfig.from_dict({"L": 5, "layers": 3})
    with pytest.raises(ValueError, match="bad value"):
        ModelConfig.from_dict({"L": "5"})
    with pytest.raises(ValueError, match="encoding"):
        ModelConfig.from_dict({"encoding": "fourier"})
    with pytest.raises(ValueError, match="shape"):
        encode(np.zeros((3, 4)), "raw", 0.1)
    with pytest.raises(ValueError, match="NaN"):
        encode(np.full((1, 3, 4), np.nan), "raw", 0.1)


def test_the_parameter_count_is_checked_on_the_meta_device_before_building() -> None:
    from isingviz.learn.networks import expected_shapes

    big = ModelConfig(L=64, M=2000, channels=(1024,), squeeze=0, hidden=4096)
    with pytest.raises(ValueError, match=r"this network would have [\d,]+ parameters; at most 12,000,000"):
        build_model(big)
    assert sum(math.prod(s) for s in expected_shapes(ModelConfig()).values()) == 188_076


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"channels": (1,) * 9}, "model channels must be a list of 1 to 8 integers"),
        ({"channels": (2**63,)}, "each entry of model channels must be an integer from 1 to 1,024"),
        ({"hidden": 3_000_000_000}, r"model hidden \(dense width\) must be an integer from 1 to 4,096"),
        ({"M": 10**7}, r"model M \(time points\) must be an integer from 2 to 2,000"),
        ({"time_bins": 51}, "model time_bins must be an integer from 0 to 50"),
        ({"dropout": float("nan")}, "model dropout must be a finite number"),
    ],
)
def test_model_config_ranges(changes, message) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(ModelConfig(), **changes).validate()
