"""Build the network a ``ModelConfig`` describes: a CNN (``cnn``) or the general model (``general.net``)."""

from __future__ import annotations

from torch import nn

from .cnn import Conv2dCNN, SpinTimeCNN
from .general.net import GeneralNet
from .model_config import GENERAL_ARCHITECTURES, ModelConfig


def build_model(cfg: ModelConfig) -> nn.Module:
    """Network for ``cfg`` (validated); its forward maps (B, C, L, M) to (B, K, 2) log-probabilities.

    ``arch="general"`` builds ``isingviz.learn.general.net.GeneralNet``, whose forward is (x (B, L, M), T, tau) instead.
    """
    cfg.validate()
    if cfg.arch in GENERAL_ARCHITECTURES:
        return GeneralNet(cfg)
    return SpinTimeCNN(cfg) if cfg.arch == "spin_time_cnn" else Conv2dCNN(cfg)


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
