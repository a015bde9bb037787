"""Build the network a ``ModelConfig`` describes: a CNN (``cnn``) or the general model (``general.net``)."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..limits import PARAMETERS_MAX, check_memory
from .cnn import Conv2dCNN, SpinTimeCNN
from .general.net import GeneralNet
from .model_config import GENERAL_ARCHITECTURES, ModelConfig


def expected_shapes(cfg: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Parameter names and shapes of ``build_model(cfg)``, computed on the meta device (no memory).

    ``cfg`` is validated first, so at most ``CHANNELS_COUNT_MAX`` layers are ever built here; then the parameter
    count is checked against ``PARAMETERS_MAX`` (``ValueError`` saying how many there would be)."""
    cfg.validate()
    with torch.device("meta"):
        model = _construct(cfg)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    n = sum(math.prod(s) for s in shapes.values())
    if n > PARAMETERS_MAX:
        raise ValueError(
            f"this network would have {n:,} parameters; at most {PARAMETERS_MAX:,} are allowed (use fewer or"
            " narrower layers, a smaller hidden width, or a squeeze)"
        )
    check_memory(4 * n, f"a network of {n:,} parameters")
    return shapes


def build_model(cfg: ModelConfig) -> nn.Module:
    """Network for ``cfg`` (validated, size checked by ``expected_shapes``); its forward maps (B, C, L, M) to
    (B, K, 2) log-probabilities.

    ``arch="general"`` builds ``isingviz.learn.general.net.GeneralNet``, whose forward is (x (B, L, M), T, tau) instead.
    """
    expected_shapes(cfg)  # validates and checks the size on the meta device before allocating any weight
    return _construct(cfg)


def _construct(cfg: ModelConfig) -> nn.Module:
    if cfg.arch in GENERAL_ARCHITECTURES:
        return GeneralNet(cfg)
    return SpinTimeCNN(cfg) if cfg.arch == "spin_time_cnn" else Conv2dCNN(cfg)


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
