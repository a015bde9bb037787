"""The general model on lattices never seen in training, side by side with the other methods, as JSON.

Usage:
    python benchmarks/bench_general.py --model models/general.safetensors [--n 20] [--Ls 8,12,16,24,32]
        [--Ts 0.4,1,5,10,50] [--noises 0,1e-3,1e-2] [--families random] [--methods general,general_r1,...]
    python benchmarks/bench_general.py --train-steps 2400 --threads 2 --out models/general.safetensors ...
        (trains the model first with ``isingviz.general_train.train_general``, saves it, then evaluates)

Every (L, T, noise, family) cell draws ``n`` unseen lattices (random: 25 (L/12)^2 edges; other families with their
default parameters), one instance each (tau = 0.1, M = 50), from seed 1000 (training draws from its own seed
sequences [seed, 1] and [seed, 2]). Methods: ``general``; ``general_r1`` (the same model stopped after one
refinement round: faster); ``inversion`` (physics least squares); ``binary_ml`` (exhaustive, L <= 12 only: 2^(L-1)
sets per spin); ``var`` (top-E rule, told the true E); ``cnn`` (models/paper_T0.4.safetensors, L = 12 only, trained
at T = 0.4 on 10 lattices); the trivial "no edge" accuracy is in every row. Also: the median wall time of one
instance through the general model on one thread (L = 12, 16, 32), a reliability diagram of its pair
probabilities and its entropy/coverage curve (pooled over the L = 12 cells).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from isingviz import metrics  # noqa: E402
from isingviz.baselines import CNN, VAR, BinaryML, Inversion  # noqa: E402
from isingviz.general_eval import General, evaluate_grid, evaluation_set, predict_edge_proba  # noqa: E402
from isingviz.general_train import GeneralTrainConfig, train_general  # noqa: E402
from isingviz.model import ModelConfig, n_parameters  # noqa: E402
from isingviz.store import load_model, save_model  # noqa: E402


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v]


def one_instance_ms(net: torch.nn.Module, L: int = 12, repeats: int = 50, rounds: int | None = None) -> float:
    """Median wall time (ms) of one instance through the model on one CPU thread (``rounds``: override)."""
    X, _ = evaluation_set(L, 1.0, 0.0, 1, seed=1000)
    rec = General(net, threads=1, rounds=rounds)
    times = []
    for _ in range(repeats + 3):
        t0 = time.perf_counter()
        rec.predict_proba(X, T=1.0, tau=0.1)
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times[3:]))


def calibration(net: torch.nn.Module, Ts: list[float], noises: list[float], n: int) -> dict:
    """Reliability diagram (10 bins of p(edge)) and entropy/coverage curve on unseen L = 12 lattices."""
    ps, ys = [], []
    for T in Ts:
        for noise in noises:
            X, y = evaluation_set(12, T, noise, n, seed=1000)
            ps.append(predict_edge_proba(net, X, T, 0.1, threads=1))
            ys.append(y)
    p, y = np.concatenate(ps), np.concatenate(ys)
    bins = np.minimum((p * 10).astype(int), 9)
    diagram = [
        {
            "bin": [b / 10, (b + 1) / 10],
            "count": int((bins == b).sum()),
            "mean_p": float(p[bins == b].mean()),
            "edge_frequency": float(y[bins == b].mean()),
        }
        for b in range(10)
        if (bins == b).any()
    ]
    proba = np.stack([1 - p, p], axis=-1)
    cov = metrics.coverage_curve(proba, y, thresholds=[0.01, 0.05, 0.1, 0.2, 0.4, 0.6, 0.7])
    curve = {k: [None if np.isnan(v) else float(v) for v in np.asarray(cov[k])] for k in cov}
    return {"reliability": diagram, "coverage": curve, "accuracy": float(((p > 0.5) == y).mean()), "pairs": int(y.size)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(ROOT / "models" / "general.safetensors"))
    ap.add_argument("--train-steps", type=int, default=0, help="train a model first (0: load --model)")
    ap.add_argument("--out", default=None, help="where to save the trained model")
    ap.add_argument("--init", default=None, help="continue training from this general model file")
    ap.add_argument("--lr", type=float, default=2e-3, help="peak learning rate of the training")
    ap.add_argument(
        "--train-overrides", default="{}", help='other GeneralTrainConfig fields as JSON, e.g. {"L_power": 2}'
    )
    ap.add_argument("--train-only", action="store_true", help="train and save, do not evaluate")
    ap.add_argument("--max-seconds", type=float, default=None, help="stop training after this long (keeps the best)")
    ap.add_argument("--stop-after-steps", type=int, default=None, help="stop training after this many steps")
    ap.add_argument("--threads", type=int, default=1, help="torch threads for training")
    ap.add_argument("--seed", type=int, default=0, help="training seed")
    ap.add_argument("--n", type=int, default=20, help="unseen lattices (one instance each) per cell")
    ap.add_argument("--Ls", default="8,12,16,24,32")
    ap.add_argument("--Ts", default="0.4,1,5,10,50")
    ap.add_argument("--noises", default="0,1e-3,1e-2")
    ap.add_argument("--families", default="random")
    ap.add_argument("--mean-degree", type=float, default=None, help="random lattices: E = mean degree L / 2 edges")
    ap.add_argument("--methods", default="general,general_r1,inversion,binary_ml,var,cnn")
    ap.add_argument("--no-calibration", action="store_true")
    ap.add_argument("--no-timing", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(1)
    out: dict = {}
    if a.train_steps:
        overrides = json.loads(a.train_overrides)
        tc = GeneralTrainConfig.from_dict(
            {"steps": a.train_steps, "steps_per_epoch": max(10, a.train_steps // 20), "seed": a.seed, "lr": a.lr}
            | overrides
        )
        cfg = ModelConfig(L=12, M=50, tau=tc.tau, arch="general", encoding="raw", hidden=64)
        init = load_model(a.init).model if a.init else None
        deadline = time.perf_counter() + (a.max_seconds or 0.0)
        checks = iter(range(10**9))  # stop() is called once before every step

        def stop() -> bool:
            late = a.max_seconds is not None and time.perf_counter() > deadline
            return late or (a.stop_after_steps is not None and next(checks) >= a.stop_after_steps)

        res = train_general(
            cfg,
            tc,
            init=init,
            threads=a.threads,
            stop=stop,
            progress=lambda r: print(json.dumps(r), file=sys.stderr) if r["kind"] == "epoch" else None,
        )
        notes = (
            f"general model: any L and M; trained on fresh lattices, T log-uniform in [{tc.T_min}, {tc.T_max}]"
            " (metadata T = 1 is nominal: pass each instance's T); reproduce with: python"
            f" benchmarks/bench_general.py --train-steps {a.train_steps} --threads {a.threads} --seed {a.seed}"
            f" --lr {a.lr} --out models/general.safetensors"
            + (f" --init {a.init}" if a.init else "")
            + (f" --train-overrides '{json.dumps(overrides)}'" if overrides else "")
        )
        if res.stopped != "completed":
            notes += f" --stop-after-steps {res.history[-1]['step']} (training was stopped there)"
        save_model(
            a.out or a.model,
            res.model,
            cfg,
            T=1.0,
            tau=tc.tau,
            dataset=tc.to_dict(),
            history=res.history,
            name="general",
            notes=notes,
            overwrite=True,
        )
        out["training"] = {
            "steps_done": res.history[-1]["step"],
            "stopped": res.stopped,
            "seconds": res.history[-1]["seconds"],
            "best_epoch": res.best_epoch,
            "held_out_accuracy": max(h["test_accuracy"] for h in res.history),
        }
        a.model = a.out or a.model
        if a.train_only:
            print(json.dumps(out, indent=1))
            return
    loaded = load_model(a.model)
    net = loaded.model
    out["model"] = {
        "path": str(a.model),
        "parameters": n_parameters(net),
        "config": loaded.config.to_dict(),
        "training_distribution": loaded.metadata.get("dataset"),
    }
    out["one_instance_ms"] = (
        {}
        if a.no_timing
        else {
            f"L={L}, rounds={r}": one_instance_ms(net, L, 50 if L <= 16 else 10, r)
            for L in (12, 16, 32)
            for r in (net.rounds, 1)
        }
    )
    wanted = a.methods.split(",")
    cnn_path = ROOT / "models" / "paper_T0.4.safetensors"
    factories = {
        "general": lambda L: General(net),
        "general_r1": lambda L: General(net, rounds=1),
        "inversion": lambda L: Inversion(),
        "binary_ml": lambda L: BinaryML() if L <= 12 else None,
        "var": lambda L: VAR(),
        "cnn": lambda L: CNN(str(cnn_path)) if L == 12 and cnn_path.exists() else None,
    }
    methods = {k: v for k, v in factories.items() if k in wanted}
    Ls, Ts, noises = [int(v) for v in a.Ls.split(",")], _floats(a.Ts), _floats(a.noises)
    rows = []
    for fam in a.families.split(","):
        rows += evaluate_grid(
            methods,
            Ls,
            Ts,
            noises,
            n=a.n,
            family=fam,
            mean_degree=a.mean_degree,
            progress=lambda r: print(json.dumps(r), file=sys.stderr),
        )
    out["rows"] = rows
    if not a.no_calibration:
        out["calibration_L12"] = calibration(net, Ts, noises, a.n)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
