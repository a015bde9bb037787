"""The general model on lattices never seen in training, side by side with the other methods, as JSON.

Usage:
    python benchmarks/bench_general.py --model models/general.safetensors [--n 20] [--Ls 8,12,16,24,32]
        [--Ts 0.4,1,5,10,50] [--noises 0,1e-3,1e-2] [--families random] [--methods general,general_r1,...]
    python benchmarks/bench_general.py --train-steps 2400 --threads 2 --out models/general.safetensors ...
        (trains the model first with ``isingviz.learn.general.recipe.train_and_save_general``, the function behind
        ``python -m isingviz train-general``: same arguments, same model; saves it, then evaluates)

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
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from isingviz.experiments.unseen import calibration, comparison_methods, evaluate_grid, one_instance_ms  # noqa: E402
from isingviz.learn.general.recipe import train_and_save_general, training_summary  # noqa: E402
from isingviz.learn.networks import n_parameters  # noqa: E402
from isingviz.learn.store import load_model  # noqa: E402


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v]


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
        res, path = train_and_save_general(
            a.out or a.model,
            steps=a.train_steps,
            threads=a.threads,
            seed=a.seed,
            lr=a.lr,
            init=a.init,
            overrides=json.loads(a.train_overrides),
            stop_after_steps=a.stop_after_steps,
            max_seconds=a.max_seconds,
            progress=lambda r: print(json.dumps(r), file=sys.stderr) if r["kind"] == "epoch" else None,
            overwrite=True,  # a benchmark run replaces its own output (the CLI refuses without --overwrite)
        )
        out["training"] = training_summary(res)
        a.model = str(path)
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
    cnn_path = ROOT / "models" / "paper_T0.4.safetensors"
    methods = comparison_methods(net, cnn_path if cnn_path.exists() else None, a.methods.split(","))
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
