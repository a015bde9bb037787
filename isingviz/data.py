"""Datasets as the paper builds them: N_L lattices, instances spread evenly over them, distinct initial states.

Three splits, all reproducible from one seed:
- train: N_train instances over the N_L training lattices;
- test: the same lattices, initial states disjoint from training (the paper's "testing set");
- general: lattices never seen in training, drawn by the same generator (the paper's "generalization set").

Arrays: instances X (B, L, M) float64, labels y (B, K) int8 in ``numpy.triu_indices(L, 1)`` order, 1 = edge.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .config import dataclass_from_dict
from .dynamics import simulate
from .lattice import GENERATORS, adjacency_to_pairs, edges_of, from_edges, make_lattice, n_pairs
from .limits import (
    L_MAX,
    L_MIN,
    M_MAX,
    M_MIN,
    N_INSTANCES_MAX,
    N_LATTICES_MAX,
    NOISE_MAX,
    REPLICAS_MAX,
    SEED_MAX,
    T_MAX,
    T_MIN,
    array_bytes,
    check_choice,
    check_float,
    check_int,
    check_memory,
    show,
)

EXACT_STATE_BITS = 24  # up to 2^24 states we sample without replacement exactly; above, draw and deduplicate


def states_from_integers(codes: np.ndarray, L: int) -> np.ndarray:
    """Integers in [0, 2^L) -> +/-1 states (n, L) int8; bit j of the code is spin j (1 -> +1)."""
    bits = (np.asarray(codes, dtype=np.int64)[:, None] >> np.arange(L)) & 1
    return (2 * bits - 1).astype(np.int8)


def distinct_initial_states(L: int, n: int, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """``n`` distinct initial states drawn uniformly from the 2^L states of {-1,+1}^L; shape (n, L) int8.

    s and -s count as distinct. Exact sampling without replacement for L <= 24; above, random draws with
    duplicates redrawn. Raises ``ValueError`` when n > 2^L.
    """
    L = check_int("L (spins)", L, L_MIN, L_MAX)
    n = check_int("number of initial states", n, 0, N_INSTANCES_MAX)
    check_memory(array_bytes(n, L, 3), f"drawing {n:,} initial states of L = {L} spins")  # codes, bits, states
    if n > 2**L:
        raise ValueError(f"asked for {n} distinct initial states but L={L} spins have only 2^{L} = {2**L}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if L <= EXACT_STATE_BITS:
        return states_from_integers(rng.choice(2**L, size=n, replace=False), L)
    states = np.empty((0, L), dtype=np.int8)
    while states.shape[0] < n:
        draw = rng.choice(np.array([-1, 1], dtype=np.int8), size=(n - states.shape[0], L))
        states = np.unique(np.concatenate([states, draw]), axis=0)
    return rng.permutation(states)[:n]


def spread(total: int, parts: int) -> np.ndarray:
    """Split ``total`` as evenly as possible over ``parts`` (the first ones get the remainder)."""
    base, extra = divmod(total, parts)
    return np.array([base + (i < extra) for i in range(parts)], dtype=np.int64)


@dataclass(frozen=True)
class DatasetSpec:
    """Recipe of a dataset. Defaults are the paper's setting (Fig. 2a at its largest N_train)."""

    L: int = 12  # spins
    family: str = "random"  # lattice generator, see isingviz.lattice.GENERATORS
    family_params: dict[str, Any] = field(default_factory=lambda: {"n_edges": 25})
    n_lattices: int = 10  # N_L training lattices
    n_train: int = 25_000  # instances spread evenly over the training lattices
    n_test: int = 3_000  # same lattices, unseen initial states
    n_general_lattices: int = 10  # unseen lattices for the generalization split (0: none)
    n_general: int = 3_000  # instances spread over the unseen lattices
    T: float = 0.4  # temperature
    tau: float = 0.1  # Euler time step (not stated in the paper)
    M: int = 50  # time points per instance (not stated in the paper)
    mode: str = "meanfield"  # "meanfield" (paper) or "stochastic"
    replicas: int = 100  # R, stochastic mode only
    noise: float = 0.0  # Gaussian observation noise sigma
    seed: int = 0  # one seed reproduces every split
    lattices: list[list[list[int]]] | None = None  # explicit training lattices (edge lists); None: drawn
    general_lattices: list[list[list[int]]] | None = None  # explicit unseen lattices; None: drawn

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (goes into model metadata)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Any) -> DatasetSpec:
        """Inverse of ``to_dict``; unknown keys and values of the wrong type are refused."""
        spec = dataclass_from_dict(cls, d, "dataset")
        spec.validate()
        return spec

    def validate(self) -> None:
        """Raise ``ValueError`` on an impossible recipe: every field's type and range (``isingviz.limits``), the
        family's parameters, explicit lattices (edge lists of L spins), and enough distinct initial states."""
        L = check_int("dataset L (spins)", self.L, L_MIN, L_MAX)
        check_choice("dataset family", self.family, list(GENERATORS))
        _check_family_params(self.family, self.family_params)
        for name in ("n_lattices", "n_general_lattices"):
            check_int(f"dataset {name}", getattr(self, name), 0, N_LATTICES_MAX)
        for name in ("n_train", "n_test", "n_general"):
            check_int(f"dataset {name}", getattr(self, name), 0, N_INSTANCES_MAX)
        check_float("dataset temperature T", self.T, T_MIN, T_MAX)
        check_float("dataset time step tau", self.tau, 0.0, 1.0, lo_open=True)
        check_int("dataset M (time points)", self.M, M_MIN, M_MAX)
        check_choice("dataset mode", self.mode, ("meanfield", "stochastic"))
        check_int("dataset replicas", self.replicas, 1, REPLICAS_MAX)
        check_float("dataset noise", self.noise, 0.0, NOISE_MAX)
        check_int("dataset seed", self.seed, 0, SEED_MAX)
        for name in ("lattices", "general_lattices"):
            v = getattr(self, name)
            if v is None:
                continue
            if not isinstance(v, list) or len(v) > N_LATTICES_MAX:
                raise ValueError(
                    f"dataset {name} must be a list of at most {N_LATTICES_MAX:,} edge lists, got {show(v)}"
                )
            for k, edges in enumerate(v):
                try:
                    from_edges(L, edges)
                except ValueError as e:
                    raise ValueError(f"dataset {name} #{k}: {e}") from None
        if self.n_lattices < 1 and self.lattices is None:
            raise ValueError("need at least one training lattice (n_lattices >= 1)")
        n_lat = len(self.lattices) if self.lattices is not None else self.n_lattices
        if n_lat < 1:
            raise ValueError("need at least one training lattice (lattices must not be empty)")
        per = int(np.ceil(self.n_train / n_lat)) + int(np.ceil(self.n_test / n_lat))
        if per > 2**self.L:
            raise ValueError(
                f"each of the {n_lat} lattices would need {per} distinct initial states (train + test), but L={self.L}"
                f" allows at most 2^{self.L} = {2**self.L}; use fewer instances or more lattices"
            )
        if self.n_general > 0 and self.n_general_lattices == 0 and self.general_lattices is None:
            raise ValueError("n_general > 0 needs n_general_lattices >= 1")

    def estimated_bytes(self) -> int:
        """Memory ``build_dataset`` needs, about: every split's instances (float64) twice (simulated, then
        concatenated), their labels, and one lattice's stochastic replicas at a time."""
        n = self.n_train + self.n_test + self.n_general
        K = n_pairs(self.L)
        per_lattice = max(self.n_train, self.n_test, self.n_general)  # at most, one lattice's share of a split
        replicas = array_bytes(per_lattice, self.replicas, self.L, 6) if self.mode == "stochastic" else 0
        return array_bytes(n, self.L, self.M, 2) + array_bytes(n, K, itemsize=2) + replicas


# The parameters of each lattice family that a dataset may set. Their types and outer ranges are checked here; the
# generator checks them against the lattice's L when it draws (a recipe may never draw, e.g. explicit lattices).
_FAMILY_PARAMS = {
    "random": ("n_edges",),
    "erdos_renyi": ("p",),
    "ring": ("k",),
    "grid": (),
    "small_world": ("k", "p"),
}


def _check_family_params(family: str, params: Any) -> None:
    if not isinstance(params, dict):
        raise ValueError(f"dataset family_params must be an object, got {show(params)}")
    allowed = _FAMILY_PARAMS[family]
    for key, value in params.items():
        if key not in allowed:
            raise ValueError(
                f"dataset family_params: {show(key)} is not a parameter of family {family!r}"
                f" (it takes {', '.join(allowed) or 'none'})"
            )
        if key == "n_edges":
            check_int("family parameter n_edges", value, 0, n_pairs(L_MAX))
        elif key == "k":
            check_int("family parameter k", value, 2, L_MAX - 1)
        else:
            check_float("family parameter p", value, 0.0, 1.0)


@dataclass
class Split:
    """One split: instances X (B, L, M), labels y (B, K) int8, which lattice made each instance, s0 (B, L)."""

    X: np.ndarray
    y: np.ndarray
    lattice_index: np.ndarray
    s0: np.ndarray

    def __len__(self) -> int:
        return int(self.X.shape[0])


@dataclass
class Dataset:
    """Train / test / generalization splits plus the fully resolved recipe (lattices filled in)."""

    spec: DatasetSpec
    lattices: np.ndarray  # (N_L, L, L) training lattices
    general_lattices: np.ndarray  # (N_G, L, L) unseen lattices
    train: Split
    test: Split
    general: Split


def _seed_int(ss: np.random.SeedSequence) -> int:
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def _draw_lattices(spec: DatasetSpec, n: int, ss: np.random.SeedSequence, avoid: list[np.ndarray]) -> np.ndarray:
    rng = np.random.default_rng(ss)
    out: list[np.ndarray] = []
    seen = {a.tobytes() for a in avoid}
    tries = 0
    while len(out) < n:
        A = make_lattice(spec.family, spec.L, rng, **spec.family_params)
        tries += 1
        if A.tobytes() not in seen or tries > 100 * n:  # a family with few members may repeat
            out.append(A)
            seen.add(A.tobytes())
    return np.stack(out) if out else np.zeros((0, spec.L, spec.L), dtype=np.int8)


class Stopped(Exception):
    """The caller's stop flag was set while a dataset was being built (raised between lattices)."""


def simulate_split(
    lattices: np.ndarray,
    counts: np.ndarray,
    states: list[np.ndarray],
    spec: DatasetSpec,
    seed: int,
    stop: Callable[[], bool] | None = None,
) -> Split:
    """Simulate ``counts[i]`` instances of lattice i from ``states[i]``, grouped by lattice (fast path).

    ``stop`` (optional) is asked before each lattice; when it returns True, ``Stopped`` is raised."""
    L, K = spec.L, spec.L * (spec.L - 1) // 2
    xs, ys, idx = [], [], []
    for i, (A, n, s0) in enumerate(zip(lattices, counts, states)):
        if stop is not None and stop():
            raise Stopped("stopped while the dataset was being built")
        if n == 0:
            continue
        xs.append(
            simulate(
                A,
                s0,
                spec.T,
                spec.tau,
                spec.M,
                mode=spec.mode,
                replicas=spec.replicas,
                noise=spec.noise,
                seed=seed + 7919 * i,
            )
        )
        ys.append(np.broadcast_to(adjacency_to_pairs(A), (n, K)))
        idx.append(np.full(n, i, dtype=np.int32))
    if not xs:
        return Split(
            np.zeros((0, L, spec.M)), np.zeros((0, K), np.int8), np.zeros(0, np.int32), np.zeros((0, L), np.int8)
        )
    return Split(np.concatenate(xs), np.concatenate(ys).astype(np.int8), np.concatenate(idx), np.concatenate(states))


def build_dataset(
    spec: DatasetSpec | None = None, *, stop: Callable[[], bool] | None = None, **overrides: Any
) -> Dataset:
    """Build the three splits of ``spec`` (defaults: the paper's setting); keyword overrides replace fields.

    ``stop`` (optional, e.g. ``threading.Event().is_set``) is asked before each lattice is simulated; when it returns
    True the build ends with ``Stopped``, so a background job can be stopped while its dataset is being made."""
    spec = dataclasses.replace(spec or DatasetSpec(), **overrides)
    spec.validate()
    n = spec.n_train + spec.n_test + spec.n_general
    check_memory(spec.estimated_bytes(), f"a dataset of {n:,} instances of L = {spec.L}, M = {spec.M}")
    ss_lat, ss_states, ss_gen_lat, ss_gen_states, ss_sim = np.random.SeedSequence(spec.seed).spawn(5)
    if spec.lattices is not None:
        lattices = np.stack([from_edges(spec.L, e) for e in spec.lattices])
    else:
        lattices = _draw_lattices(spec, spec.n_lattices, ss_lat, [])
    if spec.general_lattices is not None:
        general = (
            np.stack([from_edges(spec.L, e) for e in spec.general_lattices])
            if spec.general_lattices
            else (np.zeros((0, spec.L, spec.L), np.int8))
        )
    else:
        general = _draw_lattices(spec, spec.n_general_lattices, ss_gen_lat, list(lattices))
    n_lat = lattices.shape[0]
    n_tr, n_te = spread(spec.n_train, n_lat), spread(spec.n_test, n_lat)
    rng = np.random.default_rng(ss_states)
    both = [distinct_initial_states(spec.L, int(a + b), rng) for a, b in zip(n_tr, n_te)]
    sim_seed = _seed_int(ss_sim)
    train = simulate_split(lattices, n_tr, [s[:a] for s, a in zip(both, n_tr)], spec, sim_seed, stop)
    test = simulate_split(lattices, n_te, [s[a:] for s, a in zip(both, n_tr)], spec, sim_seed + 1, stop)
    n_ge = spread(spec.n_general, general.shape[0]) if general.shape[0] else np.zeros(0, np.int64)
    rng_g = np.random.default_rng(ss_gen_states)
    gen_states = [distinct_initial_states(spec.L, int(n), rng_g) for n in n_ge]
    gen = simulate_split(general, n_ge, gen_states, spec, sim_seed + 2, stop)
    resolved = dataclasses.replace(
        spec,
        n_lattices=n_lat,
        lattices=[edges_of(A) for A in lattices],
        n_general_lattices=general.shape[0],
        general_lattices=[edges_of(A) for A in general],
    )
    return Dataset(resolved, lattices, general, train, test, gen)


def training_states(spec: DatasetSpec) -> list[np.ndarray]:
    """The initial states (train and test, per lattice) that ``build_dataset(spec)`` uses, without simulating."""
    if spec.lattices is None:
        raise ValueError("training_states needs a resolved spec (with explicit lattices), e.g. Dataset.spec")
    n_lat = len(spec.lattices)
    _, ss_states, _, _, _ = np.random.SeedSequence(spec.seed).spawn(5)
    rng = np.random.default_rng(ss_states)
    n_tr, n_te = spread(spec.n_train, n_lat), spread(spec.n_test, n_lat)
    return [distinct_initial_states(spec.L, int(a + b), rng) for a, b in zip(n_tr, n_te)]


def fresh_test_split(spec: DatasetSpec, n: int, seed: int, **changes: Any) -> Split:
    """``n`` new instances of the spec's own training lattices, from initial states it never used.

    ``changes`` override simulation settings (T, noise, mode, ...), e.g. to test a model away from its T.
    """
    used = training_states(spec)
    s = dataclasses.replace(spec, **changes)
    lattices = np.stack([from_edges(spec.L, e) for e in spec.lattices or []])
    counts = spread(n, lattices.shape[0])
    rng = np.random.default_rng(seed)
    states = []
    for u, c in zip(used, counts):
        if c + len(u) > 2**spec.L:
            raise ValueError(f"a lattice has only {2**spec.L - len(u)} unused initial states, {c} asked for")
        seen = {r.tobytes() for r in u}
        pick: list[np.ndarray] = []
        while len(pick) < c:
            for r in distinct_initial_states(spec.L, min(2**spec.L, int(c) + len(u)), rng):
                if r.tobytes() not in seen and len(pick) < c:
                    seen.add(r.tobytes())
                    pick.append(r)
        states.append(np.array(pick, dtype=np.int8).reshape(-1, spec.L))
    return simulate_split(lattices, counts, states, s, seed)


def fresh_general_split(
    spec: DatasetSpec, n_lattices: int, n: int, seed: int, **changes: Any
) -> tuple[np.ndarray, Split]:
    """``n`` instances over ``n_lattices`` new lattices of the spec's family, none equal to a training lattice."""
    s = dataclasses.replace(spec, **changes)
    train = [from_edges(spec.L, e) for e in spec.lattices or []]
    ss_lat, ss_states = np.random.SeedSequence(seed).spawn(2)
    lattices = _draw_lattices(s, n_lattices, ss_lat, train)
    counts = spread(n, n_lattices)
    rng = np.random.default_rng(ss_states)
    states = [distinct_initial_states(spec.L, int(c), rng) for c in counts]
    return lattices, simulate_split(lattices, counts, states, s, seed)
