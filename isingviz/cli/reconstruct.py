"""``python -m isingviz reconstruct FILE``: any reconstruction method on a user's own recording (``.npz`` or
``.csv``, see ``isingviz.recordings``), with the edge list and its probabilities as JSON on stdout or in ``--out``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..limits import L_MAX, show
from ..methods.edges import edge_rows, edges_csv, edges_json
from ..methods.registry import METHODS, reconstruct
from ..recordings import read_recording
from .checks import finite_float, write_out

HELP = """\
Reconstruct the lattice behind your own trajectories with any method: a .npz whose member X has shape (B, L, M) or
(L, M), or a .csv with one row per spin and one column per time step (numbers only, no header). Give the
temperature and time step they were recorded at, and --replicas R if each trajectory is the mean of R stochastic
(heat-bath) runs; --out writes every pair's p(edge), entropy and decision as .csv
or .json. The general model (default) reads any L; a CNN (--method cnn --model FILE) only its own L and M.
examples: isingviz reconstruct run.csv --T 1 --tau 0.1 --out edges.csv
          isingviz reconstruct runs.npz --index 2 --method binary_ml --T 0.4 --tau 0.1
          isingviz reconstruct replicas.csv --T 1 --tau 0.1 --replicas 1000 --method replica_ml"""
NEEDS_MODEL = ("cnn",)
TAKES_MODEL = ("cnn", "general")


def add_parser(cmd: Any) -> None:
    p = cmd("reconstruct", run, HELP)
    p.add_argument("file", metavar="FILE", help="the recording: .npz (member X) or .csv (a row per spin)")
    p.add_argument("--method", default="general", choices=list(METHODS), metavar="NAME",
                   help=f"one of: {', '.join(METHODS)}")  # fmt: skip
    p.add_argument("--T", type=finite_float, help="temperature of the recording (the physics methods need it)")
    p.add_argument("--tau", type=finite_float, default=0.1, help="time step of the recording")
    p.add_argument("--replicas", type=int, metavar="R",
                   help="R, if it is the mean of R heat-bath replicas (replica_ml needs it)")  # fmt: skip
    p.add_argument("--model", metavar="MODEL.safetensors", help="cnn: the model; general: another than the shipped")
    p.add_argument("--edges", type=int, help="the number of edges, if known (methods whose rule keeps the top E)")
    p.add_argument("--index", type=int, default=0, help="which instance of a .npz with several")
    p.add_argument("--out", metavar="EDGES.csv|EDGES.json", help="write every pair with its probability here")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")


def _out_path(out: str | None, overwrite: bool) -> Path | None:
    if out is None:
        return None
    p = Path(out)
    if p.suffix.lower() not in (".csv", ".json"):
        raise ValueError(f"--out must end in .csv or .json, got {show(p.name)}")
    if p.exists() and not overwrite:
        raise ValueError(f"{p.name} already exists; use --overwrite to replace it, or choose another --out")
    return p


def run(a: argparse.Namespace) -> int:
    out = _out_path(a.out, a.overwrite)
    if a.method in NEEDS_MODEL and not a.model:
        raise ValueError(f"--method {a.method} needs --model FILE.safetensors (a trained network)")
    if a.model and a.method not in TAKES_MODEL:
        raise ValueError(f"--model goes with --method {' or '.join(TAKES_MODEL)}, not {a.method}")
    if a.edges is not None and not 0 <= a.edges <= L_MAX * (L_MAX - 1) // 2:
        raise ValueError(f"--edges must be between 0 and {L_MAX * (L_MAX - 1) // 2}, got {a.edges}")
    cls = METHODS[a.method]
    flags = {"T": "--T", "tau": "--tau", "replicas": "--replicas"}
    missing = [flags.get(k, k) for k in cls.needs if k in flags and getattr(a, k) is None]
    if missing:
        raise ValueError(f"--method {a.method} needs {' and '.join(missing)} (the recording's temperature, time step,"
                         " replica count)")  # fmt: skip
    if "candidates" in cls.needs or "groups" in cls.needs:
        raise ValueError(f"--method {a.method} needs several instances of known lattices; it cannot read a recording")
    if cls.default_rule == "top_e" and a.edges is None:
        raise ValueError(f"--method {a.method} keeps the E most likely pairs: give --edges E (the known edge count)")
    X = read_recording(a.file)
    B, L, M = X.shape
    if not 0 <= a.index < B:
        raise ValueError(f"--index must be between 0 and {B - 1} (the file holds {B} instances), got {a.index}")
    x = X[a.index : a.index + 1]
    know: dict[str, Any] = {"tau": a.tau}
    if a.T is not None:
        know["T"] = a.T
    if a.edges is not None:
        know["n_edges"] = a.edges
    if a.replicas is not None:
        know["replicas"] = a.replicas
    settings = {"model": a.model} if a.model else {}
    rec = reconstruct(a.method, x, **know, **settings)
    rows = edge_rows(rec, L)
    about = {"file": Path(a.file).name, "method": a.method, "L": L, "M": M, "instance": a.index, "T": a.T,
             "tau": a.tau, "replicas": a.replicas, "rule": rec.rule, "seconds": rec.seconds}  # fmt: skip
    if out is not None:
        data = edges_csv(rows) if out.suffix.lower() == ".csv" else edges_json(rows, about)
        write_out(out, data, a.overwrite)
    entropies = [r["entropy"] for r in rows if r["entropy"] is not None]
    summary = {
        **about,
        "edges": [[r["i"], r["j"]] for r in rows if r["edge"]],
        "mean_entropy": sum(entropies) / len(entropies) if entropies else None,
        "out": str(out) if out is not None else None,
    }
    if "supported" in rec.results:  # the general model's gate: False = its fallback, or "no coupling" (R)
        summary["supported_by_the_recording"] = rec.results["supported"][0]
        summary["answered_by"] = rec.results["answered_by"][0]  # one of methods.general.ANSWERS
    if "underdetermined" in rec.results:  # noisy, L > M: edges only above methods.underdetermined's threshold
        summary["underdetermined"] = rec.results["underdetermined"][0]
    print(json.dumps(summary, allow_nan=False))
    return 0
