"""``ModelConfig``: the frozen architecture-and-encoding record saved inside every model file.

``isingviz.learn.networks.build_model(config)`` rebuilds the network from it (a CNN of ``isingviz.learn.cnn`` or
the general model of ``isingviz.learn.general.net``); this module needs neither, so both can import it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..config import dataclass_from_dict

ENCODINGS = ("raw", "decay", "saturation")
ARCHITECTURES = ("spin_time_cnn", "conv2d")  # the CNNs: fixed L and M, trained by isingviz.learn.train
GENERAL_ARCHITECTURES = ("general",)  # any L and M, permutation equivariant (isingviz.learn.general.net)


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
