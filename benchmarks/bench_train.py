"""Time to accuracy at the paper's setting, as JSON.

Usage: python benchmarks/bench_train.py [--threads 2] [--epochs 14] [--small]
Paper setting (Fig. 2a, largest N_train): L=12, 25 edges, N_L=10 lattices, T=0.4, 25,000 training and 3,000 test
instances (test = same lattices, unseen initial states). Reports wall seconds of training until the test accuracy
first reaches 0.99 and 0.996 (evaluated after every epoch, so the figure is the end of that epoch), final
train/test accuracy, the trivial "no edge" accuracy, entropy of correct vs incorrect pairs, and coverage/accuracy
at S_c = 0.1 and 0.6. ``--small`` runs a tiny size for CI (its figures mean nothing).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from isingviz import metrics  # noqa: E402
from isingviz.data import build_dataset  # noqa: E402
from isingviz.learn.cnn import encode  # noqa: E402
from isingviz.learn.model_config import ModelConfig  # noqa: E402
from isingviz.learn.networks import n_parameters  # noqa: E402
from isingviz.learn.train import TrainConfig, predict_log_proba, train  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--small", action="store_true", help="tiny run for CI")
    args = ap.parse_args()
    n_train, n_test = (500, 100) if args.small else (25_000, 3_000)
    t0 = time.perf_counter()
    d = build_dataset(T=0.4, n_train=n_train, n_test=n_test, n_general=0, n_general_lattices=0, seed=args.seed)
    data_s = time.perf_counter() - t0
    cfg = ModelConfig()
    tc = TrainConfig(epochs=2 if args.small else args.epochs, threads=args.threads, seed=args.seed)
    r = train(d.train.X, d.train.y, d.test.X, d.test.y, config=cfg, train_config=tc)
    hist = r.history

    def time_to(level: float) -> float | None:
        return next((round(h["seconds"], 1) for h in hist if h["test_accuracy"] >= level), None)

    p_test = np.exp(predict_log_proba(r.model, encode(d.test.X, cfg.encoding, cfg.tau)).numpy())
    p_train = np.exp(predict_log_proba(r.model, encode(d.train.X, cfg.encoding, cfg.tau)).numpy())
    s = metrics.summary(p_test, d.test.y, y_train=d.train.y, thresholds=(0.1, 0.6))
    out = {
        "setting": {
            "L": 12,
            "edges": 25,
            "lattices": 10,
            "T": 0.4,
            "tau": cfg.tau,
            "M": cfg.M,
            "n_train": n_train,
            "n_test": n_test,
            "threads": args.threads,
        },
        "model": {**cfg.to_dict(), "n_parameters": n_parameters(r.model)},
        "train_config": tc.to_dict(),
        "dataset_seconds": round(data_s, 2),
        "seconds_to_0.99": time_to(0.99),
        "seconds_to_0.996": time_to(0.996),
        "train_seconds_total": round(hist[-1]["seconds"], 1),
        "best_epoch": r.best_epoch,
        "test_accuracy": s["accuracy"],
        "train_accuracy": metrics.pair_accuracy(p_train, d.train.y),
        "trivial_accuracy": s["trivial_accuracy"],
        "majority_accuracy": s["majority_accuracy"],
        "mean_entropy_correct": s["mean_entropy_correct"],
        "mean_entropy_incorrect": s["mean_entropy_incorrect"],
        **{k: s[k] for k in ("coverage@0.1", "accuracy@0.1", "coverage@0.6", "accuracy@0.6")},
        "test_accuracy_by_epoch": [round(h["test_accuracy"], 5) for h in hist],
        "seconds_by_epoch": [round(h["seconds"], 1) for h in hist],
        "goal": "test accuracy 0.996 within 180 s on 2 threads",
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
