"""Glauber dynamics of the kinetic Ising model.

Mean-field (the paper's Eq. 1, an Euler step of ds/dt = -s + tanh(A s / T)):

    s_i((m+1) tau) = s_i(m tau) + tau * (-s_i(m tau) + tanh(sum_j A_ij s_j(m tau) / T))

Stochastic extension: +/-1 spins; each step every spin is independently redrawn with probability tau by the
heat-bath rule P(s_i = +1) = (1 + tanh(h_i / T)) / 2, h_i = sum_j A_ij s_j. The momenta are the mean over R
replicas run from the same s(0). Given the current spins the expected next state is Eq. 1's right-hand side.

Both are batched on torch over instances (and replicas), looping only over time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch

from .lattice import validate_adjacency
from .limits import (
    M_MAX,
    M_MIN,
    N_INSTANCES_MAX,
    NOISE_MAX,
    REPLICAS_MAX,
    T_MAX,
    T_MIN,
    array_bytes,
    check_choice,
    check_float,
    check_int,
    check_memory,
)

Mode = Literal["meanfield", "stochastic"]
_TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def _prepare(
    A: Any, s0: Any, T: Any, tau: float, M: int, dtype: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, np.dtype]:
    """Validate the inputs; returns A (L,L) or (B,L,L), s0 (B,L), T (B,), whether s0 was one state, dtype."""
    dt = np.dtype(dtype)
    if dt not in _TORCH_DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    A_arr = np.asarray(A)
    if A_arr.ndim == 2:
        A_arr = validate_adjacency(A_arr)
    elif A_arr.ndim == 3:
        for b in range(A_arr.shape[0]):
            validate_adjacency(A_arr[b])
        A_arr = A_arr.astype(np.int8)
    else:
        raise ValueError(f"A must have shape (L, L) or (B, L, L), got {A_arr.shape}")
    L = A_arr.shape[-1]
    s = np.asarray(s0, dtype=np.float64)
    single = s.ndim == 1
    if single:
        s = s[None, :]
    if s.ndim != 2 or s.shape[1] != L:
        raise ValueError(f"s0 must have shape ({L},) or (B, {L}) to match L={L}, got {np.shape(s0)}")
    if not np.all(np.isfinite(s)):
        raise ValueError("s0 must be finite")
    if np.any(np.abs(s) > 1):
        raise ValueError("s0 entries must lie in [-1, 1]")
    B = s.shape[0]
    if A_arr.ndim == 3 and A_arr.shape[0] != B:
        raise ValueError(f"A has {A_arr.shape[0]} lattices but s0 has {B} instances; give one lattice per instance")
    T_arr = np.asarray(T)
    if T_arr.dtype.kind not in "biuf":  # strings, complex numbers, objects
        raise ValueError(f"temperature T must be a real number or one per instance, got dtype {T_arr.dtype}")
    T_arr = T_arr.astype(np.float64)
    if T_arr.ndim == 0:
        T_arr = np.full(B, float(T_arr))
    if T_arr.shape != (B,):
        raise ValueError(f"T must be a scalar or one value per instance (shape ({B},)), got shape {T_arr.shape}")
    if not np.all(np.isfinite(T_arr)) or np.any(T_arr < T_MIN) or np.any(T_arr > T_MAX):
        raise ValueError(f"temperature T must be finite and > 0 (from {T_MIN:g} to {T_MAX:g})")
    check_float("time step tau", tau, 0.0, 1.0, lo_open=True)
    check_int("number of time steps M", M, M_MIN, M_MAX)
    return A_arr, s, T_arr, single, dt


def _scaled_couplings(A: np.ndarray, T: np.ndarray, tdt: torch.dtype, dev: torch.device) -> torch.Tensor:
    """A / T as a torch tensor: (L, L) when one lattice and one T serve the batch, else (B, L, L)."""
    if A.ndim == 2 and np.all(T == T[0]):
        return torch.as_tensor(A / T[0], dtype=tdt, device=dev)
    A3 = np.broadcast_to(A, (T.shape[0], *A.shape[-2:])) if A.ndim == 2 else A
    return torch.as_tensor(A3 / T[:, None, None], dtype=tdt, device=dev)


def simulate(
    A: Any,
    s0: Any,
    T: Any,
    tau: float = 0.1,
    M: int = 50,
    *,
    dtype: Any = np.float64,
    device: str | torch.device | None = None,
    mode: Mode = "meanfield",
    replicas: int = 100,
    noise: float = 0.0,
    seed: int | None = None,
) -> np.ndarray:
    """Simulate instances: trajectories of the local magnetic momenta.

    Args:
        A: adjacency (L, L) shared by the batch, or (B, L, L), one lattice per instance.
        s0: initial states, shape (L,) or (B, L); entries in [-1, 1] (exactly +/-1 for ``mode="stochastic"``).
        T: temperature > 0, a scalar or shape (B,).
        tau: time step, 0 < tau <= 1 (our default 0.1; the paper does not state it).
        M: number of time points m = 0..M-1 (our default 50), M >= 2.
        dtype: float64 (default) or float32; the arithmetic is done in this precision.
        device: torch device; None means CPU.
        mode: "meanfield" (the paper's deterministic Eq. 1) or "stochastic" (heat-bath spins, R replicas).
        replicas: R, number of stochastic runs averaged into the momenta (stochastic mode only).
        noise: standard deviation sigma of Gaussian observation noise added to the returned momenta.
        seed: seeds the stochastic runs and the noise; same seed, same numbers.

    Returns:
        Instances of shape (B, L, M), or (L, M) for a single s0 of shape (L,). Column m is s(m tau); column 0
        is s0 (plus noise, if any).
    """
    A_arr, s, T_arr, single, dt = _prepare(A, s0, T, tau, M, dtype)
    check_float("observation noise sigma", noise, 0.0, NOISE_MAX)
    check_choice("mode", mode, ("meanfield", "stochastic"))
    R = check_int("replicas", replicas, 1, REPLICAS_MAX)
    B, L = s.shape
    check_int("number of instances", B, 0, N_INSTANCES_MAX)
    work = array_bytes(B, L, M, itemsize=dt.itemsize) * (3 if noise > 0 else 2)  # trajectories, output, noise
    if mode == "stochastic":
        work += array_bytes(B, R, L, 6, itemsize=dt.itemsize)  # spins, fields, two uniforms, draws per replica
    replica_text = f" with {R:,} replicas each" if mode == "stochastic" else ""
    check_memory(work, f"simulating {B:,} instances of L = {L}, M = {M}{replica_text}")
    dev = torch.device(device) if device is not None else torch.device("cpu")
    tdt = _TORCH_DTYPES[dt]
    J = _scaled_couplings(A_arr, T_arr, tdt, dev)
    if mode == "meanfield":
        out = _meanfield(J, torch.as_tensor(s, dtype=tdt, device=dev), tau, M)
    elif mode == "stochastic":
        if not np.all(np.abs(s) == 1):
            raise ValueError("stochastic mode needs s0 entries of exactly +1 or -1")
        gen = torch.Generator(device=dev)
        gen.manual_seed(int(np.random.SeedSequence(seed).generate_state(1)[0]))
        out = _stochastic(J, torch.as_tensor(s, dtype=tdt, device=dev), tau, M, R, gen)
    x = out.cpu().numpy()
    if noise > 0:
        x = add_observation_noise(x, noise, seed=None if seed is None else seed + 1)
    return x[0] if single else x


def _field(s: torch.Tensor, J: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """h/T for every spin: s (B, ..., L) times J (L, L) or (B, L, L)."""
    if J.ndim == 2:
        return torch.matmul(s, J, out=out)
    if s.ndim == 2:
        return torch.bmm(s.unsqueeze(1), J).squeeze(1)
    return torch.bmm(s, J)  # (B, R, L)


_CHUNK = 8192  # instances per block: keeps a block's working set in a core's L2 cache (measured best here)


def _meanfield(J: torch.Tensor, s0: torch.Tensor, tau: float, M: int) -> torch.Tensor:
    """Eq. 1 for a batch s0 (B, L) with J = A/T; returns (B, L, M).

    float64 evaluates Eq. 1 literally, s + tau * (tanh(J s) - s). float32 uses tanh(x) = 2 sigmoid(2x) - 1,
    which is ~3x faster on CPU; its error (~1e-7) is at float32's own resolution.
    """
    B, L = s0.shape
    out = torch.empty((B, L, M), dtype=s0.dtype, device=s0.device)
    C = min(B, _CHUNK) if s0.device.type == "cpu" else B
    traj = torch.empty((M, C, L), dtype=s0.dtype, device=s0.device)  # time-major: each step writes contiguously
    buf = torch.empty((C, L), dtype=s0.dtype, device=s0.device)
    fast = s0.dtype == torch.float32
    Jf = 2.0 * J if fast else J
    for c in range(0, B, C):
        b = min(C, B - c)
        t, h = traj[:, :b], buf[:b]
        t[0] = s0[c : c + b]
        Jc = Jf if Jf.ndim == 2 else Jf[c : c + b]
        for m in range(M - 1):
            s = t[m]  # (b, L)
            if Jc.ndim == 2:
                torch.mm(s, Jc, out=h)
            else:
                torch.bmm(s.unsqueeze(1), Jc, out=h.unsqueeze(1))
            if fast:
                h.sigmoid_().mul_(2.0 * tau).sub_(tau)
                torch.add(h, s, alpha=1.0 - tau, out=t[m + 1])
            else:
                h.tanh_().sub_(s)
                torch.add(s, h, alpha=tau, out=t[m + 1])  # s + tau * (tanh(A s / T) - s), Eq. 1 as written
        out[c : c + b] = t.permute(1, 2, 0)
    return out


def _stochastic(J: torch.Tensor, s0: torch.Tensor, tau: float, M: int, R: int, gen: torch.Generator) -> torch.Tensor:
    """Heat-bath dynamics of R replicas per instance; returns the replica means (B, L, M)."""
    B, L = s0.shape
    s = s0.unsqueeze(1).expand(B, R, L).clone()  # (B, R, L)
    traj = torch.empty((M, B, L), dtype=s0.dtype, device=s0.device)
    traj[0] = s0
    for m in range(M - 1):
        p_up = 0.5 * (1.0 + torch.tanh(_field(s, J)))  # (B, R, L)
        u = torch.rand((2, B, R, L), generator=gen, dtype=s.dtype, device=s.device)
        drawn = torch.where(u[0] < p_up, 1.0, -1.0).to(s.dtype)
        s = torch.where(u[1] < tau, drawn, s)
        traj[m + 1] = s.mean(dim=1)
    return traj.permute(1, 2, 0).contiguous()


def add_observation_noise(x: np.ndarray, sigma: float, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """Return x + N(0, sigma^2) noise of x's shape and dtype (a new array; x is not changed)."""
    check_float("observation noise sigma", sigma, 0.0, NOISE_MAX)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return (x + sigma * rng.standard_normal(x.shape)).astype(x.dtype, copy=False)


def free_decay(s0: Any, tau: float = 0.1, M: int = 50) -> np.ndarray:
    """Coupling-free solution s0 (1 - tau)^m: shape (..., L, M) for s0 of shape (..., L)."""
    s = np.asarray(s0, dtype=np.float64)
    return s[..., None] * (1.0 - tau) ** np.arange(M)


def decay_deviation(
    A: Any, s0: Any, Ts: Sequence[float], tau: float = 0.1, M: int = 50, stat: str = "max"
) -> np.ndarray:
    """How far the couplings pull one instance away from free decay, at each of several temperatures.

    For every T in ``Ts`` the mean-field Eq. 1 is run from the same ``s0`` and compared with the coupling-free
    solution ``free_decay``: d_i(m) = |s_i(m tau) - s0_i (1 - tau)^m|, then reduced over the spins i, by
    max_i d_i(m) (``stat="max"``) or sqrt(mean_i d_i(m)^2) (``stat="rms"``).

    The coupling adds tau * tanh(h_i / T) ~ tau h_i / T per step once T exceeds the local fields h_i, so at high
    T the deviation shrinks like 1/T; a lattice with no edges gives 0 (up to rounding) at every T.

    Args:
        A: adjacency (L, L).
        s0: one initial state, shape (L,), entries in [-1, 1].
        Ts: temperatures, shape (nT,), each > 0.
        tau: time step, 0 < tau <= 1.
        M: number of time points, M >= 2.
        stat: "max" or "rms", the reduction over spins.

    Returns:
        float64 array of shape (nT, M); row t is the deviation at temperature ``Ts[t]``, column 0 is 0.
    """
    if stat not in ("max", "rms"):
        raise ValueError(f"stat must be 'max' or 'rms', got {stat!r}")
    T = np.asarray(Ts, dtype=np.float64)
    if T.ndim != 1 or T.size == 0:
        raise ValueError("give at least one temperature")
    s = np.asarray(s0, dtype=np.float64)
    if s.ndim != 1:
        raise ValueError(f"s0 must be one initial state of shape (L,), got {s.shape}")
    X = simulate(A, np.tile(s, (T.size, 1)), T, tau, M)  # (nT, L, M)
    d = np.abs(X - free_decay(s, tau, M)[None])  # (nT, L, M)
    return d.max(axis=1) if stat == "max" else np.sqrt((d**2).mean(axis=1))  # (nT, M)
