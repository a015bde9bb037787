"""``ModelConfig``: the frozen architecture-and-encoding record saved inside every model file.

``isingviz.learn.networks.build_model(config)`` rebuilds the network from it (a CNN of ``isingviz.learn.cnn`` or
the general model of ``isingviz.learn.general.net``); this module needs neither, so both can import it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..config import dataclass_from_dict
from ..limits import (
    CHANNEL_MAX,
    CHANNELS_COUNT_MAX,
    HIDDEN_MAX,
    KERNEL_MAX,
    L_MAX,
    L_MIN,
    M_MAX,
    M_MIN,
    ROUNDS_MAX,
    SQUEEZE_MAX,
    check_choice,
    check_float,
    check_int,
    check_ints,
)

ENCODINGS = ("raw", "decay", "saturation")
ARCHITECTURES = ("spin_time_cnn", "conv2d")  # the CNNs: fixed L and M, trained by isingviz.learn.train
GENERAL_ARCHITECTURES = ("general",)  # any L and M, permutation equivariant (isingviz.learn.general.net)


# the confidence head's inputs per pair (learn.general.head): before and since the replica decoder's learnt density
HEAD_INPUTS = (11, 13)


def check_head_inputs(name: str, value: Any) -> int:
    """``value`` when it is one of ``HEAD_INPUTS``; ``ValueError`` naming them otherwise."""
    check_int(name, value, min(HEAD_INPUTS), max(HEAD_INPUTS))
    if value not in HEAD_INPUTS:
        raise ValueError(
            f"{name}: a confidence head reads {' or '.join(map(str, HEAD_INPUTS))} inputs per pair, got {value}"
        )
    return value


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
    head: bool = False  # general: a confidence head on the logits (calibration, replica data; learn.general.head)
    head_L_max: int = 24  # general: largest L of Eq. 1 data the head corrects (its training range; beyond: the network)
    # general: the head's inputs per pair (one of HEAD_INPUTS): 11 in files made before the replica decoder's
    # learnt density, which the head of 13 also reads
    head_inputs: int = 11

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
        """Every field's type and range (``isingviz.limits``), checked before anything is built from it.

        Allowed: arch in ARCHITECTURES + GENERAL_ARCHITECTURES, encoding in ENCODINGS, 2 <= L <= 64,
        2 <= M <= M_MAX, 0 < tau <= 1, 1 to CHANNELS_COUNT_MAX channels of 1..CHANNEL_MAX, kernel 1..KERNEL_MAX,
        hidden 1..HIDDEN_MAX, squeeze 0..SQUEEZE_MAX, time_bins 0..M, dropout in [0, 1), rounds 0..ROUNDS_MAX,
        head a bool, L_MIN <= head_L_max <= L_MAX, head_inputs 11 or 13.
        The parameter count is checked by ``networks.check_size``.
        """
        check_choice("model arch", self.arch, ARCHITECTURES + GENERAL_ARCHITECTURES)
        check_choice("model encoding", self.encoding, ENCODINGS)
        check_int("model L (spins)", self.L, L_MIN, L_MAX)
        check_int("model M (time points)", self.M, M_MIN, M_MAX)
        check_float("model tau", self.tau, 0.0, 1.0, lo_open=True)
        check_ints("model channels", self.channels, 1, CHANNEL_MAX, 1, CHANNELS_COUNT_MAX)
        check_int("model kernel", self.kernel, 1, KERNEL_MAX)
        check_int("model hidden (dense width)", self.hidden, 1, HIDDEN_MAX)
        check_int("model squeeze", self.squeeze, 0, SQUEEZE_MAX)
        check_int("model time_bins", self.time_bins, 0, self.M)
        check_float("model dropout", self.dropout, 0.0, 1.0, hi_open=True)
        check_int("model rounds", self.rounds, 0, ROUNDS_MAX)
        if not isinstance(self.head, bool):
            raise ValueError(f"model head must be true or false, got {type(self.head).__name__}")
        check_int("model head_L_max", self.head_L_max, L_MIN, L_MAX)
        check_head_inputs("model head_inputs", self.head_inputs)
