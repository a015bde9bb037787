"""Architecture and input-encoding comparison at the paper's setting (T=0.4, N_train 25,000), as JSON.

Usage: python benchmarks/compare_architectures.py [--epochs 8] [--threads 2] [--variants NAME,...] [--small]
Each variant trains for the same number of epochs with the same data and seed; reports best test accuracy,
parameters and wall seconds. The results behind docs/architecture.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from isingviz.data import build_dataset  # noqa: E402
from isingviz.learn.model_config import ModelConfig  # noqa: E402
from isingviz.learn.networks import n_parameters  # noqa: E402
from isingviz.learn.train import TrainConfig, train  # noqa: E402

VARIANTS = {
    "time_conv_saturation": ModelConfig(),
    "time_conv_raw": ModelConfig(encoding="raw"),
    "time_conv_decay": ModelConfig(encoding="decay"),
    "time_conv_no_squeeze": ModelConfig(squeeze=0, hidden=256),
    "conv2d_3x3_saturation": ModelConfig(arch="conv2d", kernel=3, channels=(32, 64), hidden=128),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--small", action="store_true")
    a = ap.parse_args()
    n_train, n_test = (300, 100) if a.small else (25_000, 3_000)
    d = build_dataset(T=0.4, n_train=n_train, n_test=n_test, n_general=0, n_general_lattices=0, seed=0)
    out = {"T": 0.4, "n_train": n_train, "n_test": n_test, "epochs": a.epochs, "threads": a.threads, "variants": {}}
    for name in a.variants.split(","):
        cfg = VARIANTS[name]
        tc = TrainConfig(epochs=1 if a.small else a.epochs, threads=a.threads)
        r = train(d.train.X, d.train.y, d.test.X, d.test.y, config=cfg, train_config=tc)
        out["variants"][name] = {
            "config": cfg.to_dict(),
            "n_parameters": n_parameters(r.model),
            "best_test_accuracy": round(max(h["test_accuracy"] for h in r.history), 4),
            "test_accuracy_by_epoch": [round(h["test_accuracy"], 4) for h in r.history],
            "seconds": round(r.history[-1]["seconds"], 1),
        }
        print(json.dumps({name: out["variants"][name]["best_test_accuracy"]}), file=sys.stderr, flush=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
