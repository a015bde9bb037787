"""Command line: ``python -m isingviz {simulate,train,train-general,evaluate,predict,sweep} ...``; each prints one JSON
line.

Every expected failure (a library ``ValueError``, an unreadable file, a flag out of its range) ends as one line
``error: <sentence>`` on stderr with exit code 2, never a traceback; anything else is reported as an unexpected
error on one line too (``ISINGVIZ_DEBUG=1`` prints the traceback). Every file written is written atomically.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from tqdm import tqdm

from .. import __version__
from ..data import build_dataset, distinct_initial_states
from ..dynamics import simulate
from ..experiments.unseen import evaluate_unseen
from ..lattice import GENERATORS, edges_of, load_lattice, make_lattice
from ..learn.evaluate import dataset_metrics, evaluate_model, predict_pairs, simulate_for_model
from ..learn.general.recipe import recipe_config, train_and_save_general
from ..learn.general.train import FAMILIES
from ..learn.networks import n_parameters
from ..learn.store import LoadedModel, load_model, save_model
from ..learn.train import TrainConfig, default_threads, train
from ..limits import SEED_MAX, check_int
from ..threads import torch_threads
from .checks import (
    check_evaluate,
    check_instance_file,
    check_out,
    check_simulate,
    check_train_general,
    error_line,
    finite_float,
    parse_s0,
    read_instance,
    write_out,
)
from .help import DESCRIPTION, EVALUATE_HELP, PREDICT_HELP, SIMULATE_HELP, TRAIN_GENERAL_HELP, TRAIN_HELP
from .reconstruct import add_parser as add_reconstruct
from .settings import (
    _SECTIONS,
    _TRAIN_FLAGS,
    _family_params,
    _general_overrides,
    _layered_dataset,
    _layered_model,
    _read_json,
)
from .sweep import add_parser as add_sweep
from .train_head import add_parser as add_train_head


def _emit(doc: dict[str, Any]) -> None:
    print(json.dumps(doc, allow_nan=False))


def _cmd_simulate(a: argparse.Namespace) -> int:
    out = check_out(a.out, ".npz", a.overwrite)
    check_simulate(a)
    given = {"n_edges": a.edges, "p": a.p, "k": a.k}
    if a.lattice:
        if any(v is not None for v in given.values()):
            raise ValueError("--edges/--p/--k describe a generated lattice; they do not go with --lattice")
        A = load_lattice(a.lattice)
    else:
        A = make_lattice(a.family, a.L, a.lattice_seed, **_family_params(a.family, given))
    L = A.shape[0]
    check_instance_file(a.n, L, a.M)
    s0 = distinct_initial_states(L, a.n, a.seed)  # (B, L)
    X = simulate(A, s0, a.T, a.tau, a.M, mode=a.mode, replicas=a.replicas, noise=a.noise, seed=a.seed)  # (B, L, M)
    buf = io.BytesIO()
    np.savez(buf, X=X, s0=s0, A=A, T=a.T, tau=a.tau, M=a.M, noise=a.noise, mode=a.mode)
    write_out(out, buf.getvalue(), a.overwrite)
    info = {"out": str(out), "shape": list(X.shape), "L": L, "n_edges": len(edges_of(A))}
    _emit({**info, "T": a.T, "tau": a.tau, "M": a.M, "mode": a.mode, "noise": a.noise})
    return 0


@contextlib.contextmanager
def _sigint_sets(stop: threading.Event) -> Iterator[None]:
    """First Ctrl-C sets ``stop`` (training ends after the current batch and the best model is saved)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("\nstopping after this batch; the best model so far will be saved (Ctrl-C again aborts)", file=sys.stderr)

    old = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _cmd_train(a: argparse.Namespace) -> int:
    out = check_out(a.out, ".safetensors", a.overwrite)
    given: dict[str, dict[str, Any]] = {}
    for key, v in vars(a).items():
        if "." in key:  # a section.field flag given explicitly (the others are absent: SUPPRESS defaults)
            section, name = key.split(".")
            given.setdefault(section, {})[name] = v
    file = _read_json(a.config, "config file") if a.config else {}
    if not isinstance(file, dict) or set(file) - set(_SECTIONS) or not all(isinstance(v, dict) for v in file.values()):
        raise ValueError(f"a config file holds a JSON object with sections {', '.join(_SECTIONS)}, each an object")
    base = load_model(a.init) if a.init else None
    try:  # a config file's nested values of the wrong type (e.g. lattices that are not edge lists) raise TypeError
        spec = _layered_dataset(a, file, given, base)
        config = _layered_model(file, given, spec, base)
        tc = TrainConfig.from_dict({**file.get("train", {}), **given.get("train", {})})
        threads = tc.threads or default_threads()
        with torch_threads(threads):
            data = build_dataset(spec)
    except TypeError as e:
        raise ValueError(f"bad settings: {e}") from None
    test = (data.test.X, data.test.y) if len(data.test) else (None, None)
    init = {"init": base.model, "init_config": base.config} if base else {}
    steps, stop = math.ceil(len(data.train) / tc.batch_size), threading.Event()
    with tqdm(total=tc.epochs * steps, file=sys.stderr, disable=a.quiet, unit="batch", desc="train") as bar:

        def progress(ev: dict[str, Any]) -> None:
            done = (ev["epoch"] - 1) * steps + ev["batch"] if ev["kind"] == "batch" else ev["epoch"] * steps
            bar.update(done - bar.n)
            if ev["kind"] == "epoch":
                bar.set_postfix(epoch=ev["epoch"], loss=f"{ev['train_loss']:.4f}", test=ev.get("test_accuracy"))

        with _sigint_sets(stop):
            res = train(
                data.train.X, data.train.y, *test, config=config, train_config=tc, **init, progress=progress, stop=stop
            )
    trained = LoadedModel(metadata={"T": spec.T, "tau": spec.tau}, config=res.config, model=res.model)
    metrics = dataset_metrics(trained, data)
    seconds = res.history[-1]["seconds"] if res.history else 0.0
    metrics.update(best_epoch=res.best_epoch, stopped=res.stopped, seconds=seconds)
    metrics.update(n_parameters=n_parameters(res.model), threads=threads, device=res.device, init=base and base.name)
    meta = {"dataset": data.spec.to_dict(), "train_config": tc.to_dict(), "history": res.history, "metrics": metrics}
    meta.update(name=a.name or out.stem, notes=a.notes, overwrite=a.overwrite)
    path = save_model(out, res.model, res.config, T=spec.T, tau=spec.tau, **meta)
    _emit({"out": str(path), "metrics": metrics})
    return 0


def _cmd_train_general(a: argparse.Namespace) -> int:
    out = check_out(a.out, ".safetensors", a.overwrite)
    overrides = _general_overrides(a.set)
    steps = recipe_config(a.steps, a.seed, a.lr, overrides).steps  # checks the settings before the bar starts
    check_train_general(a)
    stop = threading.Event()
    with tqdm(total=steps, file=sys.stderr, disable=a.quiet or a.json_progress, unit="step", desc="train") as bar:

        def progress(ev: dict[str, Any]) -> None:
            bar.update(ev["step"] - bar.n)
            if ev["kind"] == "epoch":
                bar.set_postfix(loss=f"{ev['train_loss']:.4f}", held_out=f"{ev['test_accuracy']:.3f}")
                if a.json_progress:
                    print(json.dumps(ev), file=sys.stderr)

        with _sigint_sets(stop):
            _, path = train_and_save_general(
                out,
                steps=a.steps,
                threads=a.threads,
                seed=a.seed,
                lr=a.lr,
                init=a.init,
                overrides=overrides,
                stop_after_steps=a.stop_after_steps,
                max_seconds=a.max_seconds,
                stop=stop,
                progress=progress,
                overwrite=a.overwrite,
                name=a.name or out.stem,
            )
    meta = load_model(path).metadata  # what was written, read back
    _emit({"out": str(path), "metrics": meta["metrics"], "notes": meta["notes"]})
    return 0


_EVALUATE_KEYS = ("n_test", "n_general", "n_general_lattices", "seed", "T", "noise")
_GENERAL_ONLY = ("L", "n", "family")  # evaluate flags of the general model (None when not given)


def _cmd_evaluate(a: argparse.Namespace) -> int:
    out = check_out(a.out, ".json", a.overwrite) if a.out else None
    check_evaluate(a)
    model = load_model(a.model)
    if model.is_general:
        t0 = time.perf_counter()
        cell = {"T": model.T if a.T is None else a.T, "noise": a.noise or 0.0, "seed": a.seed}
        cell |= {"L": a.L or 12, "n": a.n or 100, "family": a.family or "random"}
        res = {"model": model.name, **evaluate_unseen(model, **cell), "seconds": time.perf_counter() - t0}
    else:
        given = [f"--{k}" for k in _GENERAL_ONLY if getattr(a, k) is not None]
        if given:
            raise ValueError(f"{', '.join(given)} apply to a general model; {model.name} is a CNN (fixed L)")
        res = evaluate_model(model, **{k: getattr(a, k) for k in _EVALUATE_KEYS})
    if out is not None:
        write_out(out, (json.dumps(res, indent=2, allow_nan=False) + "\n").encode("utf-8"), a.overwrite)
    _emit(res)
    return 0


def _cmd_predict(a: argparse.Namespace) -> int:
    model = load_model(a.model)
    A = load_lattice(a.lattice) if a.lattice else None
    if a.instance:
        if a.T is not None or a.noise is not None:
            raise ValueError("--T and --noise apply when simulating (--s0 / --s0-seed), not to a stored --instance")
        x, A_file, T = read_instance(a.instance, a.index)
        A, s0 = A if A is not None else A_file, x[:, 0]
    else:
        if A is None:
            raise ValueError("--s0 / --s0-seed simulate the dynamics and need the lattice: add --lattice FILE.json")
        check_int("--s0-seed", a.s0_seed if a.s0 is None else 0, 0, SEED_MAX)
        L, T = model.config.L, model.T if a.T is None else a.T
        s0 = parse_s0(a.s0, L) if a.s0 is not None else distinct_initial_states(L, 1, a.s0_seed)[0]
        x = simulate_for_model(model, A, s0, T=T, noise=a.noise, seed=a.s0_seed)
    res = predict_pairs(model, x, A)
    _emit({"model": model.name, "T": T, "tau": model.tau, "M": model.config.M, "s0": np.asarray(s0).tolist(), **res})
    return 0


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows defaults (except None / False) and keeps the example command lines in descriptions as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return action.help if action.default in (None, False) else super()._get_help_string(action)


def _family_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--edges", type=int, help="random family: exact number of edges (generator default 25)")
    p.add_argument("--p", type=finite_float, help="erdos_renyi: edge probability (0.3); small_world: rewiring (0.1)")
    p.add_argument("--k", type=int, help="ring / small_world: neighbours per spin, even (2 / 4)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="isingviz", formatter_class=_Formatter, description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"isingviz {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def cmd(name: str, func: Any, text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text.splitlines()[0], description=text, formatter_class=_Formatter)
        p.set_defaults(func=func)
        return p

    p = cmd("simulate", _cmd_simulate, SIMULATE_HELP)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--lattice", metavar="FILE.json", help="lattice file (isingviz.lattice format)")
    src.add_argument("--family", choices=list(GENERATORS), default="random", help="lattice generator")
    _family_flags(p)
    p.add_argument("--L", type=int, default=12, help="spins (with --family)")
    p.add_argument("--lattice-seed", type=int, default=0, help="seed of the generated lattice")
    p.add_argument("--n", type=int, default=100, help="instances, each from a distinct initial state")
    for flag, _, field, typ, choices, text in _TRAIN_FLAGS[7:13]:  # --T --tau --M --mode --replicas --noise
        p.add_argument(flag, type=typ, choices=choices, default=getattr(_SECTIONS["dataset"], field), help=text)
    p.add_argument("--seed", type=int, default=0, help="seed of the initial states, replicas and noise")
    p.add_argument("--out", required=True, metavar="FILE.npz", help="output: X (B,L,M), s0 (B,L), A (L,L), T, tau, M")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")

    p = cmd("train", _cmd_train, TRAIN_HELP)
    for flag, section, field, typ, choices, text in _TRAIN_FLAGS:
        default = getattr(_SECTIONS[section], field)
        default = ",".join(map(str, default)) if isinstance(default, tuple) else default
        kw = {"dest": f"{section}.{field}", "type": typ, "choices": choices, "default": argparse.SUPPRESS}
        kw["metavar"] = None if choices else field.upper()
        p.add_argument(flag, help=f"{text} (default: {default})", **kw)
    _family_flags(p)
    p.add_argument("--config", metavar="FILE.json", help='{"dataset": {...}, "model": {...}, "train": {...}}')
    p.add_argument("--init", metavar="MODEL.safetensors", help="fine-tune from this model (same lattices)")
    p.add_argument("--new-lattices", action="store_true", help="with --init: draw new lattices from --seed")
    p.add_argument("--out", required=True, metavar="PATH.safetensors", help="model file to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--name", help="model name stored in the file (default: the file's stem)")
    p.add_argument("--notes", help="free text stored in the file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = cmd("train-general", _cmd_train_general, TRAIN_GENERAL_HELP)
    p.add_argument("--steps", type=int, default=1800, help="Adam steps of the schedule")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (the weights depend on it)")
    p.add_argument("--seed", type=int, default=0, help="seed of lattices, instances and initialisation (default: 0)")
    p.add_argument("--lr", type=finite_float, default=2e-3, help="peak learning rate")
    p.add_argument("--init", metavar="MODEL.safetensors", help="continue from this general model (fresh schedule)")
    p.add_argument("--stop-after-steps", type=int, metavar="N", help="stop after N steps (keeps the best so far)")
    p.add_argument("--max-seconds", type=finite_float, metavar="S", help="stop after S seconds (keeps the best so far)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="another GeneralTrainConfig field (repeat)")
    p.add_argument("--out", required=True, metavar="PATH.safetensors", help="model file to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--name", help="model name stored in the file (default: the file's stem)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json-progress", action="store_true", help="one JSON line per history record on stderr")

    add_train_head(cmd)

    p = cmd("evaluate", _cmd_evaluate, EVALUATE_HELP)
    p.add_argument("model", metavar="MODEL.safetensors")
    p.add_argument("--n-test", type=int, default=3000, help="CNN: fresh instances of the training lattices")
    p.add_argument("--n-general", type=int, default=3000, help="CNN: instances of unseen lattices (0: skip)")
    p.add_argument("--general-lattices", dest="n_general_lattices", type=int, default=10, help="CNN: unseen lattices")
    p.add_argument("--L", type=int, help="general model: spins of the unseen lattices (default 12)")
    p.add_argument("--n", type=int, help="general model: unseen lattices, one instance each (default 100)")
    p.add_argument("--family", choices=list(FAMILIES), help="general model: lattice family (default random)")
    p.add_argument("--seed", type=int, default=1, help="seed of the fresh states and lattices")
    p.add_argument("--T", type=finite_float, help="simulate at this temperature (default: the model's; general: 1)")
    p.add_argument("--noise", type=finite_float, help="observation noise sigma (default: the model's; general: 0)")
    p.add_argument("--out", metavar="results.json", help="also write the result, indented, to this file")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")

    p = cmd("predict", _cmd_predict, PREDICT_HELP)
    p.add_argument("model", metavar="MODEL.safetensors")
    p.add_argument("--lattice", metavar="FILE.json", help="the true lattice: simulate on it and score against it")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--instance", metavar="FILE.npz", help="take a stored instance (from simulate)")
    src.add_argument("--s0", help="initial state: '+-+-...' or '1,-1,...' (write --s0=-+... when it starts with -)")
    src.add_argument("--s0-seed", type=int, help="draw a random initial state with this seed")
    p.add_argument("--index", type=int, default=0, help="which instance of --instance")
    p.add_argument("--T", type=finite_float, help="temperature when simulating (default: the model's)")
    p.add_argument("--noise", type=finite_float, help="observation noise when simulating (default: the model's)")

    add_reconstruct(cmd)

    add_sweep(cmd)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad input, 130 interrupted)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help, --version, or a usage error argparse already reported
        return e.code if isinstance(e.code, int) else 2 * (e.code is not None)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # expected failures are ValueError / OSError; anything else still gets one line
        print(f"error: {error_line(e)}", file=sys.stderr)
        return 2
