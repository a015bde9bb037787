"""Networks that map one instance (L x M) to K = L(L-1)/2 two-way log-probabilities (index 1 = edge).

``ModelConfig`` is a frozen dataclass saved inside every model file; ``build_model(config)`` rebuilds the
network from it. Input encodings (``encode``) turn float64 instances into float32 network inputs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from .config import dataclass_from_dict

ENCODINGS = ("raw", "decay", "saturation")
ARCHITECTURES = ("spin_time_cnn", "conv2d")  # the CNNs: fixed L and M, trained by isingviz.train
GENERAL_ARCHITECTURES = ("general",)  # any L and M, permutation equivariant (isingviz.general)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture and input encoding; everything needed to rebuild the network."""

    L: int = 12  # spins
    M: int = 50  # time points
    tau: float = 0.1  # time step the instances were made with (the decay encoding needs it)
    arch: str = "spin_time_cnn"  # "spin_time_cnn": convolutions along time only; "conv2d": 3x3 kernels
    encoding: str = "saturation"  # "raw" (paper), "decay" (minus free decay, rescaled), "saturation"
    channels: tuple[int, ...] = (32, 64)  # convolution channels
    kernel: int = 5  # kernel length along time (spin_time_cnn) or side (conv2d)
    hidden: int = 128  # dense layer width
    squeeze: int = 8  # spin_time_cnn: 1x1 convolution to this many channels before the dense head (0: none)
    time_bins: int = 0  # spin_time_cnn: average the conv features into this many time bins (0: keep all)
    dropout: float = 0.0  # dropout before the output layer
    rounds: int = 2  # general: refinement rounds of the pair network (CNNs ignore it)

    @property
    def K(self) -> int:
        return self.L * (self.L - 1) // 2

    @property
    def in_channels(self) -> int:
        return 2 if self.encoding == "saturation" else 1

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: Any) -> ModelConfig:
        """Inverse of ``to_dict``, with every field's type checked (model files are untrusted)."""
        cfg = dataclass_from_dict(cls, d, "model config")
        cfg.validate()
        return cfg

    def validate(self) -> None:
        if self.arch not in ARCHITECTURES + GENERAL_ARCHITECTURES:
            raise ValueError(f"arch must be one of {ARCHITECTURES + GENERAL_ARCHITECTURES}, got {self.arch!r}")
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, got {self.encoding!r}")
        if not 2 <= self.L <= 64 or self.M < 2:
            raise ValueError(f"need 2 <= L <= 64 and M >= 2, got L={self.L}, M={self.M}")
        if not self.channels or min(self.channels) < 1 or min(self.hidden, self.kernel) < 1:
            raise ValueError(
                f"channels, hidden and kernel must be positive, got {self.channels}, {self.hidden}, {self.kernel}"
            )
        if min(self.time_bins, self.squeeze) < 0:
            raise ValueError(f"squeeze and time_bins must be >= 0, got {self.squeeze}, {self.time_bins}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if not 0 <= self.rounds <= 16:
            raise ValueError(f"rounds must be in 0..16, got {self.rounds}")


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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.head(self.features(x)).view(-1, self.K, 2)
        return torch.log_softmax(logits, dim=-1)


def build_model(cfg: ModelConfig) -> nn.Module:
    """Network for ``cfg`` (validated); its forward maps (B, C, L, M) to (B, K, 2) log-probabilities.

    ``arch="general"`` builds ``isingviz.general.GeneralNet``, whose forward is (x (B, L, M), T, tau) instead.
    """
    cfg.validate()
    if cfg.arch in GENERAL_ARCHITECTURES:
        from .general import GeneralNet  # imported here: general imports ModelConfig from this module

        return GeneralNet(cfg)
    return SpinTimeCNN(cfg) if cfg.arch == "spin_time_cnn" else Conv2dCNN(cfg)


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
