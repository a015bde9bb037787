"""The high-T barren plateau: accuracy vs epoch at T=50 for scratch-raw, fine-tune-raw and scratch-decay, as JSON.

Usage: python benchmarks/bench_plateau.py [--T 50] [--epochs 20] [--pretrain-epochs 30] [--threads 2] [--small]
Same 10 lattices (L=12, 25 edges), 10,000 training and 3,000 test instances at each T. The fine-tuned run starts
from a raw-input model pre-trained at T=0.1 on the same lattices (the paper's Fig. 3 recipe); all three T=50
runs get the same number of epochs. ``--small`` runs a tiny size for CI (its figures mean nothing).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from isingviz import metrics  # noqa: E402
from isingviz.data import build_dataset  # noqa: E402
from isingviz.learn.model_config import ModelConfig  # noqa: E402
from isingviz.learn.train import TrainConfig, TrainResult, train  # noqa: E402


def curve(r: TrainResult) -> dict:
    h = r.history
    return {
        "test_accuracy": [round(x["test_accuracy"], 4) for x in h],
        "grad_norm": [round(x["grad_norm"], 4) for x in h],
        "seconds": round(h[-1]["seconds"], 1),
        "best_test_accuracy": round(max(x["test_accuracy"] for x in h), 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--T", type=float, default=50.0)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--pretrain-epochs", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--small", action="store_true")
    a = ap.parse_args()
    n_train, n_test = (300, 100) if a.small else (10_000, 3_000)
    epochs, pre_epochs = (2, 2) if a.small else (a.epochs, a.pretrain_epochs)
    sizes = dict(n_train=n_train, n_test=n_test, n_general=0, n_general_lattices=0, seed=0)
    low, high = build_dataset(T=0.1, **sizes), build_dataset(T=a.T, **sizes)

    def run(enc: str, data, n: int, base: TrainResult | None = None) -> TrainResult:
        cfg = ModelConfig(encoding=enc)
        tc = TrainConfig(epochs=n, threads=a.threads)
        init = (base.model, base.config) if base else (None, None)
        return train(
            data.train.X,
            data.train.y,
            data.test.X,
            data.test.y,
            config=cfg,
            train_config=tc,
            init=init[0],
            init_config=init[1],
        )

    pre = run("raw", low, pre_epochs)
    out = {
        "T": a.T,
        "n_train": n_train,
        "n_test": n_test,
        "epochs": epochs,
        "threads": a.threads,
        "trivial_accuracy": metrics.trivial_accuracy(high.test.y),
        "majority_accuracy": metrics.majority_accuracy(high.train.y, high.test.y),
        "pretrain_T0.1_raw": curve(pre),
        "finetune_raw": curve(run("raw", high, epochs, pre)),
        "scratch_raw": curve(run("raw", high, epochs)),
        "scratch_decay": curve(run("decay", high, epochs)),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
