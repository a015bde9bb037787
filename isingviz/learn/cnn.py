"""The paper-style CNNs: one instance (L x M) -> K = L(L-1)/2 two-way log-probabilities (index 1 = edge).

``encode`` turns float64 instances into the float32 network input of an encoding; ``SpinTimeCNN`` (kernels along
time only, the default) and ``Conv2dCNN`` (k x k kernels, for comparison) are built from a ``ModelConfig``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .model_config import ENCODINGS, ModelConfig


def encode(X: np.ndarray, encoding: str, tau: float) -> torch.Tensor:
    """Instances (B, L, M), float64 preferred -> network input (B, C, L, M) float32.

    - raw: the momenta as they are (the paper).
    - decay: s - s0 (1 - tau)^m, the part the couplings add to the free decay, divided by its per-instance RMS.
      Removes the dominant, coupling-independent signal that makes raw inputs plateau at high T.
    - saturation: two channels, s and -log10(1 - |s|) / 8 (clipped). At low T the momenta saturate and the
      coupling signal lives in 1 - |s| ~ 1e-2 .. 1e-9, invisible in float32; the log keeps it.
    Computed in float64 before the conversion.
    """
    x = np.asarray(X, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"instances must have shape (B, L, M), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("instances contain NaN or infinite values")
    if encoding == "raw":
        out = x[:, None]
    elif encoding == "decay":
        d = x - x[:, :, :1] * (1.0 - tau) ** np.arange(x.shape[2])
        rms = np.sqrt(np.mean(d**2, axis=(1, 2), keepdims=True)) + 1e-12
        out = (d / rms)[:, None]
    elif encoding == "saturation":
        gap = np.clip(1.0 - np.abs(x), 1e-16, 1.0)
        out = np.stack([x, -np.log10(gap) / 8.0], axis=1)
    else:
        raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
    return torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))


def activation_bytes(cfg: ModelConfig) -> int:
    """Float32 bytes of one instance's activations in the CNN of ``cfg`` (input, every layer's output before and
    after its GELU, the dense head): what a batch costs per instance in a forward pass (a backward pass doubles it)."""
    L, m = cfg.L, cfg.M
    floats = cfg.in_channels * L * m
    for c in cfg.channels:
        if cfg.arch == "spin_time_cnn":
            m = (m + 2 * (cfg.kernel // 2) - cfg.kernel) // 2 + 1
        floats += 2 * c * L * m
    last = cfg.squeeze or cfg.channels[-1]
    floats += 2 * last * L * m + 2 * cfg.hidden + 4 * cfg.K
    return 4 * floats


class SpinTimeCNN(nn.Module):
    """Convolutions along time only, shared by all spins, then a dense read-out over all spins.

    Spin order is arbitrary, so no kernel mixes neighbouring spin rows; spins meet only in the dense layers.
    (B, C, L, M) -> conv (1 x k) stride (1, 2) per layer -> flatten -> dense -> (B, K, 2) log-probabilities.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in, m = cfg.in_channels, cfg.M
        for c in cfg.channels:
            layers += [nn.Conv2d(c_in, c, (1, cfg.kernel), stride=(1, 2), padding=(0, cfg.kernel // 2)), nn.GELU()]
            c_in, m = c, (m + 2 * (cfg.kernel // 2) - cfg.kernel) // 2 + 1
        if cfg.squeeze:
            layers += [nn.Conv2d(c_in, cfg.squeeze, 1), nn.GELU()]
            c_in = cfg.squeeze
        if cfg.time_bins:
            m = min(m, cfg.time_bins)
            layers.append(nn.AdaptiveAvgPool2d((cfg.L, m)))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c_in * cfg.L * m, cfg.hidden),
            nn.GELU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, 2 * cfg.K),
        )
        self.K = cfg.K
        self.config = cfg  # read by ``train.predict_log_proba`` to size its batches

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.head(self.features(x)).view(-1, self.K, 2)  # (B, K, 2)
        return torch.log_softmax(logits, dim=-1)


class Conv2dCNN(nn.Module):
    """The plain 2-D CNN (k x k kernels over spins and time), kept for comparison with the paper's style."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = cfg.in_channels
        for c in cfg.channels:
            layers += [nn.Conv2d(c_in, c, cfg.kernel, padding=cfg.kernel // 2), nn.GELU()]
            c_in = c
        layers.append(nn.AdaptiveAvgPool2d((cfg.L, 8)))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c_in * cfg.L * 8, cfg.hidden),
            nn.GELU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, 2 * cfg.K),
        )
        self.K = cfg.K
        self.config = cfg  # read by ``train.predict_log_proba`` to size its batches

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.head(self.features(x)).view(-1, self.K, 2)
        return torch.log_softmax(logits, dim=-1)
